"""Neuron functions of the Keras LUT layer, mirroring :mod:`lutnet.nn.neurons`.

Same kinds (``linear``, ``poly``, ``subnet``), same parameter shapes and names, and two paths:

* :meth:`NeuronFn.exact` (inference and table extraction) is **numpy**: only element-wise float32
  multiplies and adds (and ReLU) in the very order of the PyTorch neurons' exact path, so a Keras
  and a Brevitas layer with the same parameters compute the same IEEE-754 values and hence the same
  tables.  It is numpy, not TensorFlow, because inside a ``tf.function`` (``predict``,
  ``evaluate``) Grappler's arithmetic optimizer reassociates chains of element-wise ops (e.g.
  ``(a * b) * w`` → ``a * (b * w)``, ``1 / sqrt(v)`` → ``rsqrt(v)``) and changes last bits;
* :meth:`NeuronFn.__call__` (training) is TensorFlow with fused reductions.

Inputs ``x`` have shape ``(..., out, F)`` (or ``(..., 1, F)``); results ``(..., out)``.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import tensorflow as tf

KINDS = ("linear", "poly", "subnet")


def monomials(fan_in: int, degree: int) -> list[tuple[int, ...]]:
    """All monomials of degree 1..D in F variables (as lutnet.nn.neurons.monomials)."""
    return [m for d in range(1, degree + 1) for m in itertools.combinations_with_replacement(range(fan_in), d)]


def _sum_products(terms, weight):
    """``sum_j terms[j] * weight[..., j]`` accumulated left to right (numpy, float32)."""
    w = np.ascontiguousarray(np.moveaxis(weight, -1, 0))
    acc = terms[0] * w[0]
    for j in range(1, len(terms)):
        acc = acc + terms[j] * w[j]
    return acc


class NeuronFn:
    """Parameter list and forward function of one neuron kind (weights live in the Keras layer)."""

    def __init__(self, kind: str, out: int, fan_in: int, degree: int = 2, width: int = 16, depth: int = 2,
                 skip: int = 0, where: str = "LUTLayer"):
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown neuron kind {kind!r}; known kinds: {', '.join(KINDS)}")
        if kind == "poly" and degree < 1:
            raise ValueError(f"{where}: poly neuron degree must be >= 1, got {degree}")
        if kind == "subnet" and (width < 1 or depth < 0 or skip < 0):
            raise ValueError(f"{where}: subnet neuron needs width >= 1, depth >= 0, skip >= 0; got "
                             f"width={width}, depth={depth}, skip={skip}")
        self.kind, self.out, self.fan_in = kind, out, fan_in
        self.degree, self.width, self.depth, self.skip = degree, width, depth, skip
        self.terms = monomials(fan_in, degree) if kind == "poly" else None
        self.dims = [fan_in] + [width] * depth + [1]
        n_lin = depth + 1  # linear layers; blocks of ``skip`` of them (the last may be shorter)
        self.blocks = [(s, min(s + skip, n_lin)) for s in range(0, n_lin, skip)] if kind == "subnet" and skip else []

    @property
    def attrs(self) -> dict:
        """The options the IR records (as lutnet.export does for Brevitas neurons)."""
        if self.kind == "poly":
            return {"degree": self.degree}
        if self.kind == "subnet":
            return {"width": self.width, "depth": self.depth, "skip": self.skip}
        return {}

    def params(self, seed: int):
        """(name, shape, initializer) of every parameter, initialised as the PyTorch neurons."""
        uni = lambda n, s: tf.keras.initializers.RandomUniform(-1 / math.sqrt(n), 1 / math.sqrt(n), seed=s)
        zeros = tf.keras.initializers.Zeros()
        if self.kind in ("linear", "poly"):
            n = self.fan_in if self.kind == "linear" else len(self.terms)
            return [("weight", (self.out, n), uni(n, seed)), ("bias", (self.out,), zeros)]
        out = []
        for i, (a, b) in enumerate(zip(self.dims[:-1], self.dims[1:])):
            out.append((f"weights_{i}", (self.out, a, b),
                        tf.keras.initializers.RandomNormal(0.0, math.sqrt(2.0 / a), seed=seed + i)))
            out.append((f"biases_{i}", (self.out, b), zeros))
        for s, e in self.blocks:
            if self.dims[s] != self.dims[e]:
                out.append((f"proj_{s}", (self.out, self.dims[s], self.dims[e]),
                            tf.keras.initializers.RandomNormal(0.0, 1 / math.sqrt(self.dims[s]), seed=seed + 100 + s)))
        return out

    # ------------------------------------------------------------ forward
    def _features(self, x):
        cache, out = {}, []
        for m in self.terms:
            v = x[..., m[0]] if len(m) == 1 else cache[m[:-1]] * x[..., m[-1]]
            cache[m] = v
            out.append(v)
        return out

    @staticmethod
    def _linear_exact(h, w, b):
        """h (..., out, a), w (out, a, b): accumulate over a in order (numpy)."""
        wt = np.ascontiguousarray(np.swapaxes(w, 0, 1))  # (a, out, b)
        acc = h[..., 0:1] * wt[0]
        for i in range(1, w.shape[1]):
            acc = acc + h[..., i:i + 1] * wt[i]
        return acc if b is None else acc + b

    @staticmethod
    def _linear(h, w, b):
        y = tf.einsum("...oa,oab->...ob", h, w)
        return y if b is None else y + b

    def _subnet(self, x, w, linear, relu):
        ends = {e: s for s, e in self.blocks}
        starts = {s for s, _ in self.blocks}
        h, block_in, n_lin = x, x, self.depth + 1
        for i in range(n_lin):  # a block's input joins the pre-activation of its last layer (NeuraLUT)
            if i in starts:
                block_in = h
            z = linear(h, w[f"weights_{i}"], w[f"biases_{i}"])
            if i + 1 in ends:
                key = f"proj_{ends[i + 1]}"
                z = z + (linear(block_in, w[key], None) if key in w else block_in)
            h = relu(z) if i < n_lin - 1 else z
        return h[..., 0]

    def exact(self, x: np.ndarray, w: dict) -> np.ndarray:
        """The batch-invariant path in numpy float32 (``w``: parameter name → numpy array)."""
        if self.kind == "linear":
            return _sum_products([x[..., j] for j in range(self.fan_in)], w["weight"]) + w["bias"]
        if self.kind == "poly":
            return _sum_products(self._features(x), w["weight"]) + w["bias"]
        return self._subnet(x, w, self._linear_exact, lambda z: np.maximum(z, np.float32(0)))

    def __call__(self, x, w: dict):
        """The training path in TensorFlow."""
        if self.kind == "linear":
            return tf.reduce_sum(x * w["weight"], -1) + w["bias"]
        if self.kind == "poly":
            return tf.reduce_sum(tf.stack(self._features(x), -1) * w["weight"], -1) + w["bias"]
        return self._subnet(x, w, self._linear, tf.nn.relu)
