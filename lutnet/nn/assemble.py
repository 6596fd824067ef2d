"""Brevitas tree layers: PolyLUT-Add neurons and NeuraLUT-Assemble trees as chains of LUT layers.

A thin frontend over :mod:`lutnet.core.assemble` (the tree plan and the adder neuron live there):
:func:`tree_layers` returns the :class:`~lutnet.nn.LUTLayer` levels of one tree layer, leaves first,
to splice into a :class:`~lutnet.nn.LUTNet`; they train jointly like any layers (the hidden codes
pass Brevitas' straight-through quantizers) and export as one table layer each::

    LUTNet([*tree_layers(784, 256, 4, "poly", degree=3, add=2, input_quant=UnsignedActQuant,
                         input_bit_width=2, output_bit_width=2, name="layer0"),
            *tree_layers(256, 10, 4, "poly", degree=3, add=2, output_quant=SignedActQuant,
                         output_bit_width=2, seed=1, name="layer1")])
"""
from __future__ import annotations

import torch

from ..core import connectivity as _conn
from ..core.assemble import check_tree, level_name, tree_levels, tree_spec
from ..quant import SignedActQuant, UnsignedActQuant
from .layer import LUTLayer

__all__ = ["tree_layers"]


def tree_layers(in_features: int, out_features: int, fan_in: int, neuron="linear", *, add=None, add_bits=None,
                assemble=None, assemble_bits=None, hidden_bits: int = 2, input_quant=None,
                input_bit_width: int | None = None, output_quant=UnsignedActQuant, output_bit_width: int = 2,
                batch_norm: bool = True, connectivity="random", seed: int = 0, name: str = "tree",
                input_pool=None, **neuron_options) -> list[LUTLayer]:
    """The levels of a tree layer of ``out_features`` neurons (``add=A``: PolyLUT-Add, ``assemble=[A,
    ...]``: NeuraLUT-Assemble; see :mod:`lutnet.core.assemble`).  ``connectivity``: a kind drawn with
    ``seed`` and fan-in ``fan_in x A_1 x ...`` (each neuron's leaves read disjoint input groups), or an
    explicit ``(out_features, fan_in x A_1 x ...)`` index array.  Hidden codes: signed ``add_bits``
    (default ``output_bit_width + 1``) or unsigned ``assemble_bits`` (default ``hidden_bits``)."""
    where = f"tree layer {name!r}"
    spec = tree_spec(where, add, add_bits, assemble, assemble_bits, output_bit_width, hidden_bits)
    if spec is None:
        raise TypeError(f"{where}: give add=A (PolyLUT-Add) or assemble=[A, ...] (NeuraLUT-Assemble); for a "
                        f"plain layer use LUTLayer")
    eff = check_tree(where, spec, in_features, fan_in)
    conn = _conn.resolve_connectivity(where, connectivity, in_features, out_features, eff, seed, input_pool)
    levels = tree_levels(spec, out_features, fan_in, conn)
    layers, src = [], in_features
    for lv in levels:
        first = lv.level == 0
        layers.append(LUTLayer(
            src, lv.count, lv.fan_in, lv.kind or neuron, input_quant=input_quant if first else None,
            input_bit_width=input_bit_width if first else None,
            output_quant=output_quant if lv.top else (SignedActQuant if lv.signed else UnsignedActQuant),
            output_bit_width=output_bit_width if lv.top else lv.bits, batch_norm=batch_norm,
            connectivity=torch.from_numpy(lv.connectivity), seed=seed + 500 * lv.level,
            name=level_name(name, lv, len(levels)), **({} if lv.kind else neuron_options)))
        src = lv.count
    return layers
