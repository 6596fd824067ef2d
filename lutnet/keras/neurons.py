"""Neuron functions of the Keras LUT layer: the families of :mod:`lutnet.core.neurons` (options,
parameter list, forward function, written once) with TensorFlow for training.

* inference and table extraction run the core's exact forward in **numpy** (:data:`NUMPY_OPS`):
  only element-wise float32 multiplies and adds in a fixed order, the same IEEE-754 computation as
  the Brevitas layers.  It is numpy, not TensorFlow, because inside a ``tf.function`` (``predict``,
  ``evaluate``) Grappler's arithmetic optimizer reassociates chains of element-wise ops (e.g.
  ``(a * b) * w`` → ``a * (b * w)``, ``1 / sqrt(v)`` → ``rsqrt(v)``) and changes last bits;
* training runs the same forward over :data:`TF_OPS` (TensorFlow, fused reductions).
"""
from __future__ import annotations

import tensorflow as tf

from ..core.neurons import KINDS, NUMPY_OPS, ParamSpec, make_family, monomials  # noqa: F401  (re-exported)


class TfOps:
    """The core's ops adapter over TensorFlow tensors (training path)."""
    name = "tensorflow"

    @staticmethod
    def linear(h, w, b):
        y = tf.einsum("...oa,oab->...ob", h, w)
        return y if b is None else y + b

    relu = staticmethod(tf.nn.relu)
    stack = staticmethod(tf.stack)
    reduce_sum = staticmethod(tf.reduce_sum)


TF_OPS = TfOps()


def initializer(spec: ParamSpec, seed: int):
    """The Keras initializer of a core parameter (seeded with the layer seed + the spec's offset)."""
    i = spec.init
    if i.dist == "uniform":
        return tf.keras.initializers.RandomUniform(-i.bound, i.bound, seed=seed + i.seed_offset)
    if i.dist == "normal":
        return tf.keras.initializers.RandomNormal(0.0, i.std, seed=seed + i.seed_offset)
    return tf.keras.initializers.Zeros()
