"""QKeras tree layers: PolyLUT-Add neurons and NeuraLUT-Assemble trees as chains of LUT layers.

The Keras counterpart of :mod:`lutnet.nn.assemble`, over the same core plan
(:mod:`lutnet.core.assemble`): :func:`tree_layers` returns the :class:`~lutnet.keras.LUTLayer`
levels of one tree layer, leaves first, for a ``Sequential`` model.  Hidden codes use QKeras
quantizers with power-of-two ranges: ``quantized_bits(add_bits, 0, alpha=1)`` (signed, PolyLUT-Add's
sub-neurons) or ``quantized_relu(assemble_bits, 0)``.
"""
from __future__ import annotations

import qkeras

from ..core import connectivity as _conn
from ..core.assemble import check_tree, level_name, tree_levels, tree_spec
from . import quant as Q
from .layers import LUTLayer

__all__ = ["tree_layers"]


def tree_layers(in_features: int, units: int, fan_in: int, neuron: str = "linear", *, add=None, add_bits=None,
                assemble=None, assemble_bits=None, hidden_bits: int = 2, input_quantizer=None,
                output_quantizer="quantized_relu(2,0)", batch_norm: bool = True, connectivity="random",
                seed: int = 0, name: str = "tree", input_pool=None, **neuron_options) -> list[LUTLayer]:
    """The levels of a tree layer of ``units`` neurons reading ``in_features`` inputs (``add=A`` or
    ``assemble=[A, ...]``, as :func:`lutnet.nn.assemble.tree_layers`).  ``input_quantizer`` is the
    quantizer of the layer's inputs (the previous layer's output quantizer, or the input quantizer)."""
    where = f"tree layer {name!r}"
    out_q = Q.resolve(output_quantizer)
    out_bits = Q.quant_spec(out_q, where + " output_quantizer").bits
    spec = tree_spec(where, add, add_bits, assemble, assemble_bits, out_bits, hidden_bits)
    if spec is None:
        raise TypeError(f"{where}: give add=A (PolyLUT-Add) or assemble=[A, ...] (NeuraLUT-Assemble); for a "
                        f"plain layer use LUTLayer")
    eff = check_tree(where, spec, in_features, fan_in)
    conn = _conn.resolve_connectivity(where, connectivity, in_features, units, eff, seed, input_pool)
    levels = tree_levels(spec, units, fan_in, conn)
    layers, src_q = [], input_quantizer
    for lv in levels:
        q = out_q if lv.top else (qkeras.quantized_bits(lv.bits, 0, alpha=1) if lv.signed
                                  else qkeras.quantized_relu(lv.bits, 0))
        layers.append(LUTLayer(lv.count, lv.fan_in, lv.kind or neuron, input_quantizer=src_q, output_quantizer=q,
                               batch_norm=batch_norm, connectivity=lv.connectivity, seed=seed + 500 * lv.level,
                               name=level_name(name, lv, len(levels)), **({} if lv.kind else neuron_options)))
        src_q = q
    return layers
