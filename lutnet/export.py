"""Truth-table extraction of a Brevitas LUTNet: a thin frontend over :mod:`lutnet.core.tables`.

Each chunk of enumerated input codes goes through the very function the model uses in eval mode
(:meth:`LUTLayer.function_of_codes`) and the layer's own output quantizer.  Extraction runs with
one PyTorch thread: the element-wise work is cache-sized and two threads only stall on a busy machine.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager

import numpy as np
import torch

from .core.tables import DEFAULT_CHUNK_ELEMS, DEFAULT_MAX_ROWS, LayerJob, extract_network
from .core.tables import extract_layer as _extract
from .ir import LayerIR, NetworkIR
from .nn.layer import LUTLayer, LUTNet
from .quant import int_codes

__all__ = ["DEFAULT_MAX_ROWS", "extract_layer", "layer_job", "to_ir"]


@contextmanager
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def layer_job(layer: LUTLayer, src) -> LayerJob:
    """The core's view of a layer whose inputs are encoded as ``src`` (a QuantInfo)."""
    device = layer.connectivity.device
    scale, zp = src.scale.to(device), src.zero_point.to(device)

    @torch.no_grad()
    def codes_fn(codes: np.ndarray) -> np.ndarray:
        y = layer.function_of_codes(torch.from_numpy(codes).to(device), scale, zp)  # (rows, out)
        return int_codes(layer.output_quant(y)).to(torch.int32).cpu().numpy()

    out_info = layer.output_info()
    family = layer.neuron.family
    return LayerJob(layer.name, layer.fan_in, layer.out_features, src.bits, src.signed, out_info.bits,
                    out_info.signed, layer.input_mask.cpu().numpy(), layer.connectivity.cpu().numpy(),
                    family.kind, family.options, codes_fn, family.work_width)


@torch.no_grad()
def extract_layer(layer: LUTLayer, src, li: int = 0, max_rows: int = DEFAULT_MAX_ROWS,
                  chunk_elems: int = DEFAULT_CHUNK_ELEMS, pbar=None) -> LayerIR:
    """Tables of one layer whose inputs are encoded as ``src`` (a QuantInfo); the layer must be in eval mode."""
    with _one_thread():
        return _extract(layer_job(layer, src), li, max_rows, chunk_elems, None if pbar is None else pbar.update)


@torch.no_grad()
def to_ir(model: LUTNet, max_rows: int = DEFAULT_MAX_ROWS, progress: bool = False, device=None,
          chunk_elems: int = DEFAULT_CHUNK_ELEMS, metadata: dict | None = None) -> NetworkIR:
    """Extract every neuron's truth table.

    ``max_rows`` bounds the rows of one neuron's table; ``device`` (e.g. ``"cuda"``) runs the
    enumeration there on a copy of the model; ``progress`` shows a bar over all table entries."""
    from .nn.dwn import DWNNet
    if isinstance(model, DWNNet):  # encoder, table layers, GroupSum head, argmax: the model's own read-out
        return model.to_ir(metadata=metadata)
    if not isinstance(model, LUTNet):
        raise TypeError(f"to_ir expects a lutnet.nn.LUTNet, got {type(model).__name__}")
    if device is not None:
        model = copy.deepcopy(model).to(device)
    was = model.training
    model.eval()
    try:
        in_info = model.layers[0].input_info()
        infos = [in_info] + [layer.output_info() for layer in model.layers]
        jobs = [layer_job(layer, infos[i]) for i, layer in enumerate(model.layers)]
        with _one_thread():
            return extract_network(jobs, in_info.spec(), model.in_features, infos[-1].spec(), metadata,
                                   max_rows, chunk_elems, progress)
    finally:
        model.train(was)
