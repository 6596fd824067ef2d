"""Model configs → Keras LUT models (the counterpart of :func:`lutnet.builder.build_model`).

Same layers, widths, fan-ins, neuron kinds, bit widths and connectivity seeds
(``seed * 1000 + i``, the same draw as Brevitas).  QKeras quantizers have power-of-two scales
that are not learned, so where Brevitas learns a float scale initialised for a range, the Keras
model uses the smallest power-of-two range covering it:

* input, signed: ``quantized_bits(input_bits, ceil(log2(input_range)), alpha=1)`` (range ``[-2**i, 2**i)``),
  unsigned: ``quantized_relu(input_bits, ceil(log2(input_range)))`` (range ``[0, 2**i)``);
* hidden layers: ``quantized_relu(hidden_bits, 0)`` (``[0, 1)``);
* last layer: ``quantized_bits(output_bits, output_integer=3, alpha=1)`` (``[-8, 8)``; ``output_bits >= 2``):
  the class scores' range is not learned, and ``[-1, 1)`` is too narrow for the softmax loss
  (digits-s, 60 epochs, test accuracy: 77 % with [-2, 2), 79 % with [-4, 4), 86 % with [-8, 8), 83 % with
  [-16, 16); the Brevitas model, which learns its scales: ~89 %).
"""
from __future__ import annotations

import math

import qkeras
import tensorflow as tf

from ..builder import _mapping, model_plan
from ..config import ModelConfig
from ..core.plan import layer_out_bits
from .layers import LUTLayer

OUTPUT_INTEGER = 3  # class scores in [-8, 8): the range is fixed, and [-1, 1) trains poorly through softmax


def config_quantizers(cfg: ModelConfig, output_integer: int = OUTPUT_INTEGER):
    """(input quantizer, per-layer output quantizers) of a ModelConfig."""
    integer = max(0, math.ceil(math.log2(cfg.input_range))) if cfg.input_range > 0 else 0
    in_q = (qkeras.quantized_bits(cfg.input_bits, integer, alpha=1) if cfg.input_signed
            else qkeras.quantized_relu(cfg.input_bits, integer))
    last = len(cfg.layers) - 1
    outs = [qkeras.quantized_bits(layer_out_bits(cfg, i), output_integer, alpha=1) if i == last
            else qkeras.quantized_relu(layer_out_bits(cfg, i), 0) for i in range(len(cfg.layers))]
    return in_q, outs


def build_keras_model(cfg: ModelConfig, in_features: int, X_train=None, name: str = "lutnet",
                      output_integer: int = OUTPUT_INTEGER) -> tf.keras.Model:
    """The Keras Sequential model of :class:`LUTLayer` a ModelConfig describes; connectivity is
    drawn exactly as :func:`lutnet.builder.build_model` draws it (``X_train``: as there, needed only
    for ``input_min_active``, whose pool is chosen with the Brevitas input quantizer's codes)."""
    if getattr(cfg, "encoder", None) is not None:  # DWN-style: thermometer, table layers, groupsum head
        from .dwn import build_dwn
        return build_dwn(cfg, in_features, X_train)
    in_q, out_qs = config_quantizers(cfg, output_integer)
    layers, src_q = [tf.keras.Input((in_features,), name="x")], in_q
    for p in model_plan(cfg, in_features, X_train):
        out_q = (out_qs[p.index] if p.signed is None else  # hidden tree codes (lutnet.core.assemble)
                 qkeras.quantized_bits(p.out_bits, 0, alpha=1) if p.signed else qkeras.quantized_relu(p.out_bits, 0))
        layers.append(LUTLayer(p.out_features, p.fan_in, p.neuron["kind"], input_quantizer=src_q,
                               output_quantizer=out_q, batch_norm=p.batch_norm, seed=p.seed, name=p.name,
                               connectivity=p.connectivity, mapping=_mapping(cfg, p),
                               mapping_candidates=getattr(cfg, "mapping_candidates", None), **p.neuron_options))
        src_q = out_q
    return tf.keras.Sequential(layers, name=name)
