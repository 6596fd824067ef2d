"""The jet-tagging MLP in Brevitas, built for a bit-exact hls4ml conversion: power-of-two scales
(``*FixedPoint`` quantizers), 6-bit weights, 16-bit quantized biases (``Int16Bias``), 6-bit
unsigned ReLU outputs, a 16-bit fixed-point input quantizer.  It reaches hls4ml through
``export_qonnx(dynamo=False)`` → qonnx cleanup → ``convert_from_onnx_model``; the hls4ml input type
is set to the input quantizer's format so the quantized inputs enter the C simulation unchanged."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from brevitas.nn import QuantIdentity, QuantLinear, QuantReLU
from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int16Bias, Uint8ActPerTensorFixedPoint
from torch import nn

from .common import JET_MLP_WIDTHS


def brevitas_jet_mlp(n_inputs: int = 16, n_classes: int = 5, widths=JET_MLP_WIDTHS, weight_bits: int = 6,
                     act_bits: int = 6, input_bits: int = 16, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    lin = lambda a, b, qt: QuantLinear(a, b, bias=True, weight_quant=Int8WeightPerTensorFixedPoint,
                                       weight_bit_width=weight_bits, bias_quant=Int16Bias, return_quant_tensor=qt)
    layers = [QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, bit_width=input_bits, return_quant_tensor=True)]
    dims = [n_inputs, *widths]
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [lin(a, b, True),
                   QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=act_bits, return_quant_tensor=True)]
    layers.append(lin(dims[-1], n_classes, False))
    return nn.Sequential(*layers)


def train(model, X, y, epochs: int = 5, batch_size: int = 256, lr: float = 3e-3, seed: int = 0):
    torch.manual_seed(seed)
    X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=g)
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def quantize_input(model, X) -> np.ndarray:
    """Inputs as the model's input quantizer sees them (on its power-of-two grid)."""
    model.eval()
    return model[0](torch.as_tensor(X, dtype=torch.float32)).value.numpy()


@torch.no_grad()
def predict(model, X) -> np.ndarray:
    model.eval()
    return model(torch.as_tensor(X, dtype=torch.float32)).numpy()


def input_precision(model) -> str:
    """``fixed<W,I>`` holding every code of the input quantizer exactly (power-of-two scale)."""
    model.eval()
    qt = model[0](torch.zeros(1, 1))
    bits, exp = int(qt.bit_width), math.log2(float(qt.scale))
    if exp != int(exp):
        raise ValueError(f"the input quantizer's scale {float(qt.scale)} is not a power of two")
    return f"fixed<{bits},{bits + int(exp)}>"


def to_qonnx(model, path, n_inputs: int = 16):
    """Export to QONNX and clean it for hls4ml (returns the qonnx ModelWrapper)."""
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model
    model.eval()
    export_qonnx(model, torch.zeros(1, n_inputs), export_path=str(path), dynamo=False)
    wrapped = cleanup_model(ModelWrapper(str(path)))
    wrapped = wrapped.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul())
    return cleanup_model(wrapped)


def to_hls(model, output_dir, backend: str = "Vitis", n_inputs: int = 16, compile: bool = True):
    """The hls4ml ModelGraph of ``model`` via QONNX (compiled for C simulation unless ``compile=False``)."""
    import hls4ml
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    wrapped = to_qonnx(model, output_dir / "model.onnx", n_inputs)
    cfg = hls4ml.utils.config.config_from_onnx_model(wrapped, granularity="name", backend=backend,
                                                     default_precision="fixed<16,6>")
    cfg["LayerName"][wrapped.graph.input[0].name]["Precision"]["result"] = input_precision(model)
    hls = hls4ml.converters.convert_from_onnx_model(wrapped, hls_config=cfg, backend=backend,
                                                    output_dir=str(output_dir / "hls"), io_type="io_parallel")
    if compile:
        hls.compile()
    return hls
