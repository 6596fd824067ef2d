"""Model config -> per-layer plan, shared by the Brevitas and Keras builders (no framework import).

A :class:`LayerPlan` holds everything a framework needs to create one LUT layer of a
:class:`lutnet.config.ModelConfig`: sizes, the fan-in rule (the layer's own, else ``input_fan_in``
for layer 0, else the model's), neuron kind and options, output bits (hidden layers unsigned
``hidden_bits``, the last layer signed ``output_bits`` class scores), batch norm, the seed
``cfg.seed * 1000 + i`` and the connectivity drawn with it (layer 0 from its input pool).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


@dataclass
class LayerPlan:
    index: int
    name: str
    in_features: int
    out_features: int
    fan_in: int
    neuron: dict              # {"kind": ..., options}
    out_bits: int
    last: bool                # the class-score layer: signed outputs
    batch_norm: bool
    seed: int
    connectivity: np.ndarray  # (out_features, fan_in) int64 source indices
    level: int = 0            # tree layers (lutnet.core.assemble): 0 = leaves, ..., the top level has the
    signed: bool | None = None  # layer's name; hidden tree codes are signed (PolyLUT-Add) or not

    @property
    def neuron_options(self) -> dict:
        return {k: v for k, v in self.neuron.items() if k != "kind"}

    @property
    def out_signed(self) -> bool:
        """Signed output codes: the class-score layer, or PolyLUT-Add's hidden sub-neuron codes."""
        return self.last if self.signed is None else self.signed

    @property
    def first(self) -> bool:
        """The plan that quantizes the network input (layer 0, its leaves if it is a tree)."""
        return self.index == 0 and self.level == 0


def layer_fan_in(cfg, i: int) -> int:
    """Layer ``i``'s fan-in: its own, else ``input_fan_in`` for layer 0, else the model's."""
    return cfg.layers[i].fan_in or (cfg.input_fan_in if i == 0 and cfg.input_fan_in else cfg.fan_in)


def layer_out_bits(cfg, i: int) -> int:
    """Layer ``i``'s output bits: its own, else ``output_bits`` (last layer) or ``hidden_bits``."""
    return cfg.layers[i].bits or (cfg.output_bits if i == len(cfg.layers) - 1 else cfg.hidden_bits)


def layer_seed(cfg, i: int) -> int:
    return cfg.seed * 1000 + i


def plan_layers(cfg, in_features: int, draw, pool=None) -> list[LayerPlan]:
    """The layers of ``cfg``; ``draw`` maps a connectivity kind to
    ``(in_features, out_features, fan_in, seed, pool) -> indices`` (the kinds of
    :mod:`lutnet.nn.layer`); ``pool`` restricts layer 0's inputs."""
    plans, src = [], in_features
    for i, lc in enumerate(cfg.layers):
        last = i == len(cfg.layers) - 1
        fan_in = layer_fan_in(cfg, i)
        kind = lc.connectivity or cfg.connectivity
        tree = layer_tree(cfg, i)
        if tree is not None:
            plans += tree_plans(cfg, i, src, fan_in, tree, draw[kind], pool if i == 0 else None)
            src = lc.out_features
            continue
        conn = np.asarray(draw[kind](src, lc.out_features, fan_in, layer_seed(cfg, i), pool if i == 0 else None),
                          dtype=np.int64)
        plans.append(LayerPlan(i, f"layer{i}", src, lc.out_features, fan_in,
                               dataclasses.asdict(lc.neuron or cfg.neuron),
                               layer_out_bits(cfg, i), last, cfg.batch_norm,
                               layer_seed(cfg, i), conn))
        src = lc.out_features
    return plans


def layer_tree(cfg, i: int):
    """Layer ``i``'s tree of small tables (:class:`lutnet.core.assemble.TreeSpec`) or None."""
    lc = cfg.layers[i]
    if getattr(lc, "add", None) is None and getattr(lc, "assemble", None) is None:
        return None
    from .assemble import tree_spec
    return tree_spec(f"model.layers[{i}]", lc.add, lc.add_bits, lc.assemble, lc.assemble_bits,
                     layer_out_bits(cfg, i), cfg.hidden_bits)


def tree_plans(cfg, i: int, in_features: int, fan_in: int, tree, draw, pool) -> list[LayerPlan]:
    """The table levels of tree layer ``i`` as plans, leaves first: the leaves' connectivity is drawn
    with fan-in ``fan_in x A_1 x ...`` (seed ``layer_seed``) and cut into disjoint groups; level j's
    parameters are seeded ``layer_seed + 500 * j``; the top level keeps the name ``layer{i}``."""
    from .assemble import check_tree, level_name, tree_levels
    lc, last = cfg.layers[i], i == len(cfg.layers) - 1
    eff = check_tree(f"model.layers[{i}]", tree, in_features, fan_in)
    conn = np.asarray(draw(in_features, lc.out_features, eff, layer_seed(cfg, i), pool), dtype=np.int64)
    levels = tree_levels(tree, lc.out_features, fan_in, conn)
    neuron = dataclasses.asdict(lc.neuron or cfg.neuron)
    plans, src = [], in_features
    for lv in levels:
        kind = dict(neuron, kind=lv.kind) if lv.kind else neuron
        plans.append(LayerPlan(i, level_name(f"layer{i}", lv, len(levels)), src, lv.count, lv.fan_in, kind,
                               layer_out_bits(cfg, i) if lv.top else lv.bits, last and lv.top, cfg.batch_norm,
                               layer_seed(cfg, i) + 500 * lv.level, lv.connectivity, lv.level,
                               None if lv.top else lv.signed))
        src = lv.count
    return plans
