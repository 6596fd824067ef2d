"""Brevitas quantizer recipes for LUT layers, and the glue that turns a recipe into a module.

Pass a recipe Brevitas-style, ``LUTLayer(..., output_quant=UnsignedActQuant, output_bit_width=2)``,
or an already-built Brevitas activation module (``QuantIdentity``/``QuantReLU``/``QuantHardTanh``).
The recipes learn their scale as a parameter initialised from a fixed range (no runtime statistics),
so a model gives the same codes before and after training and in any batch size.  The ``*FixedPoint``
recipes restrict the scale to powers of two (what hls4ml's arithmetic backends need).
"""
from __future__ import annotations

import torch
from brevitas.inject import ExtendedInjector
from brevitas.nn import QuantIdentity
from brevitas.quant.fixed_point import Int8ActPerTensorFixedPointMinMaxInit, Uint8ActPerTensorFixedPointMaxInit
from brevitas.quant.scaled_int import Int8ActPerTensorFloatMinMaxInit, Uint8ActPerTensorFloatMaxInit
from brevitas.quant_tensor import QuantTensor
from torch import nn


class SignedActQuant(Int8ActPerTensorFloatMinMaxInit):
    """Signed (two's complement) codes, learned float scale initialised for the range [-1, 1]."""
    min_val = -1.0
    max_val = 1.0


class UnsignedActQuant(Uint8ActPerTensorFloatMaxInit):
    """Unsigned codes (negative inputs clamp to 0, i.e. a quantized ReLU), learned float scale
    initialised for the range [0, 1]."""
    max_val = 1.0


class SignedActFixedPoint(Int8ActPerTensorFixedPointMinMaxInit):
    """As SignedActQuant with a power-of-two scale."""
    min_val = -1.0
    max_val = 1.0


class UnsignedActFixedPoint(Uint8ActPerTensorFixedPointMaxInit):
    """As UnsignedActQuant with a power-of-two scale."""
    max_val = 1.0


RECIPES = {
    "signed": SignedActQuant,
    "unsigned": UnsignedActQuant,
    "signed_fixed": SignedActFixedPoint,
    "unsigned_fixed": UnsignedActFixedPoint,
}


def make_act_quant(quant, bit_width: int | None, where: str, **kwargs) -> nn.Module | None:
    """Build the activation quantizer module of a LUT layer.

    ``quant`` is None, a recipe name (``"signed"``, ``"unsigned"``, ``"signed_fixed"``,
    ``"unsigned_fixed"``), a Brevitas quantizer injector class, or a Brevitas activation module."""
    if quant is None:
        return None
    if isinstance(quant, str):
        if quant not in RECIPES:
            raise ValueError(f"{where}: unknown quantizer recipe {quant!r}; known: {sorted(RECIPES)}")
        quant = RECIPES[quant]
    if isinstance(quant, nn.Module):
        if bit_width is not None or kwargs:
            raise ValueError(f"{where}: a quantizer module was given; set its bit width on the module itself")
        quant.return_quant_tensor = True
        return quant
    if isinstance(quant, type) and issubclass(quant, ExtendedInjector):
        if bit_width is None:
            raise ValueError(f"{where}: a bit width is required with quantizer {quant.__name__}")
        return QuantIdentity(act_quant=quant, bit_width=int(bit_width), return_quant_tensor=True, **kwargs)
    raise TypeError(f"{where}: expected a Brevitas quantizer class, a recipe name or a module, got {quant!r}")


def int_codes(qt: QuantTensor) -> torch.Tensor:
    """The integer codes of a QuantTensor, ``round(value / scale + zero_point)`` (what
    ``QuantTensor.int()`` computes, without its validity check, which rejects a 1-bit tensor
    whose values happen to be constant over the batch)."""
    return torch.round(qt.value / qt.scale + qt.zero_point)


class QuantInfo:
    """The integer encoding a quantizer module produces in eval mode: bits, signedness, scale,
    zero point and the code range (read by quantizing a probe tensor, which works for any
    Brevitas activation quantizer)."""

    def __init__(self, quant: nn.Module, where: str):
        was_training = quant.training
        quant.eval()
        try:
            with torch.no_grad():
                probe = torch.tensor([[-1e30, 0.0, 1e30]])
                qt = quant(probe)
        finally:
            quant.train(was_training)
        if not isinstance(qt, QuantTensor):
            raise TypeError(f"{where}: the quantizer must return a QuantTensor (return_quant_tensor=True)")
        if qt.scale.numel() != 1 or qt.zero_point.numel() != 1:
            raise ValueError(f"{where}: only per-tensor activation quantizers are supported "
                             f"(scale has {qt.scale.numel()} entries)")
        codes = int_codes(qt).reshape(-1)
        self.bits = int(qt.bit_width.item())
        self.signed = bool(qt.signed)
        self.scale = qt.scale.detach().reshape(())
        self.zero_point = qt.zero_point.detach().reshape(()).to(torch.float32)
        self.code_min = int(codes[0])
        self.code_max = int(codes[2])

    def spec(self):
        from .ir import QuantSpec
        return QuantSpec(self.bits, self.signed, self.scale.cpu().numpy(), self.zero_point.cpu().numpy(),
                         self.code_min, self.code_max)
