"""Model configs → LUTNet models."""
from __future__ import annotations

import dataclasses

import torch

from .config import ModelConfig
from .nn import LUTLayer, LUTNet, NeuronSpec
from .quant import SignedActQuant, UnsignedActQuant, make_act_quant


def build_model(cfg: ModelConfig, in_features: int) -> LUTNet:
    """The LUTNet a ModelConfig describes: hidden layers have unsigned (ReLU-like) ``hidden_bits``
    outputs, the last layer signed ``output_bits`` class scores; layer 0 quantizes the float input
    to ``input_bits`` codes initialised for the range ``[-input_range, input_range]`` (signed) or
    ``[0, input_range]`` (unsigned)."""
    with torch.random.fork_rng():  # weights drawn from cfg.seed, the caller's RNG untouched
        torch.manual_seed(cfg.seed)
        return _build(cfg, in_features)


def _build(cfg: ModelConfig, in_features: int) -> LUTNet:
    r = cfg.input_range
    in_quant = (make_act_quant(SignedActQuant, cfg.input_bits, "input_quant", min_val=-r, max_val=r)
                if cfg.input_signed else make_act_quant(UnsignedActQuant, cfg.input_bits, "input_quant", max_val=r))
    layers, src = [], in_features
    for i, lc in enumerate(cfg.layers):
        last = i == len(cfg.layers) - 1
        fan_in = lc.fan_in or (cfg.input_fan_in if i == 0 and cfg.input_fan_in else cfg.fan_in)
        neuron = NeuronSpec(**dataclasses.asdict(lc.neuron or cfg.neuron))
        layers.append(LUTLayer(
            src, lc.out_features, fan_in,
            neuron, input_quant=in_quant if i == 0 else None,
            output_quant=SignedActQuant if last else UnsignedActQuant,
            output_bit_width=lc.bits or (cfg.output_bits if last else cfg.hidden_bits),
            batch_norm=cfg.batch_norm, seed=cfg.seed * 1000 + i, name=f"layer{i}"))
        src = lc.out_features
    return LUTNet(layers)
