"""Brevitas LUTNet → Keras LUT model with the same parameters (and therefore the same tables).

Possible when every quantizer of the Brevitas model is fixed point (power-of-two scale, zero point
0, e.g. the ``*_fixed`` recipes of :mod:`lutnet.quant`): QKeras quantizers cannot express a float
scale (``SignedActQuant``/``UnsignedActQuant`` learn one), and :func:`quantizer_for` says so.
"""
from __future__ import annotations

import re

import numpy as np
import tensorflow as tf

from .layers import LUTLayer
from .quant import quantizer_for


def _keras_weights(layer) -> dict:
    """Brevitas LUTLayer parameters under the Keras layer's weight names."""
    sd = {k: v.detach().cpu().numpy() for k, v in layer.state_dict().items()}
    out = {"connectivity": sd["connectivity"].astype(np.int32), "input_mask": sd["input_mask"].astype(np.float32)}
    for k, v in sd.items():
        parts = k.split(".")
        if parts[0] == "neuron":
            out["_".join(parts[1:])] = v
    if layer.bn is not None:
        out.update(gamma=sd["bn.weight"], beta=sd["bn.bias"], moving_mean=sd["bn.running_mean"],
                   moving_variance=sd["bn.running_var"])
    return out


def _keras_name(name: str, i: int) -> str:
    """A valid Keras layer name for a Brevitas layer name (``LUTLayer(12->10)`` → ``LUTLayer_12_10``)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.-")
    return name if name and name[0].isalnum() else f"layer{i}"


def from_brevitas(net, name: str = "lutnet") -> tf.keras.Model:
    """A Keras Sequential model of :class:`LUTLayer` equal, parameter for parameter, to ``net``."""
    infos = [net.layers[0].input_info()] + [l.output_info() for l in net.layers]
    layers = []
    for i, bl in enumerate(net.layers):
        n = bl.neuron
        opts = {k: getattr(n, k) for k in ("degree", "width", "depth", "skip") if hasattr(n, k)}
        layers.append(LUTLayer(
            bl.out_features, bl.fan_in, n.kind, input_quantizer=quantizer_for(infos[i].spec()),
            output_quantizer=quantizer_for(infos[i + 1].spec()), batch_norm=bl.bn is not None,
            bn_epsilon=bl.bn.eps if bl.bn is not None else 1e-5,
            bn_momentum=bl.bn.momentum if bl.bn is not None else 0.1,
            connectivity=bl.connectivity.cpu().numpy(), name=_keras_name(bl.name, i), **opts))
    model = tf.keras.Sequential([tf.keras.Input((net.in_features,))] + layers, name=name)
    for kl, bl in zip(layers, net.layers):
        values = _keras_weights(bl)
        for w in kl.weights:
            key = w.name.split("/")[-1].split(":")[0]
            w.assign(values[key])
    return model
