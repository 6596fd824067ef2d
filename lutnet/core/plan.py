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

    @property
    def neuron_options(self) -> dict:
        return {k: v for k, v in self.neuron.items() if k != "kind"}


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
        conn = np.asarray(draw[kind](src, lc.out_features, fan_in, layer_seed(cfg, i), pool if i == 0 else None),
                          dtype=np.int64)
        plans.append(LayerPlan(i, f"layer{i}", src, lc.out_features, fan_in,
                               dataclasses.asdict(lc.neuron or cfg.neuron),
                               layer_out_bits(cfg, i), last, cfg.batch_norm,
                               layer_seed(cfg, i), conn))
        src = lc.out_features
    return plans
