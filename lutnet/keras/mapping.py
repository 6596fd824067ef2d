"""Learnable mapping in Keras: the counterpart of :class:`lutnet.nn.dwn.LearnableMapping`, used by
every Keras layer that learns which inputs its neurons read (:class:`lutnet.keras.LUTLayer` of any
neuron kind, :class:`lutnet.keras.dwn.TableLayer`).

The rules are the core's (:mod:`lutnet.core.table_neuron`: candidate draw, initial scores, the
distinct-argmax selection); here only the TensorFlow forward (``x[:, idx]``) and DWN's backward
(softmax weights to the inputs, inputs to the scores) live.  :meth:`LearnableMapping.indices` is the
frozen ``(out, F)`` selection a layer writes into its ``connectivity`` weight (what inference, the
IR and the checkpoint read).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core import table_neuron as tn
from ..errors import LayerConfigError

__all__ = ["MAPPING_KINDS", "LearnableMapping", "check_mapping"]

MAPPING_KINDS = (None, "fixed", "learnable")


def check_mapping(where: str, mapping) -> bool:
    """True for ``"learnable"``, False for fixed wiring (None / ``"fixed"``); anything else is an error."""
    if mapping not in MAPPING_KINDS:
        raise LayerConfigError(f"{where}: mapping must be 'learnable' or None (fixed connectivity), got {mapping!r}")
    return mapping == "learnable"


class LearnableMapping:
    """Scores ``(out, F, K)`` (a trainable weight of ``layer``) over all inputs (``candidates=None``)
    or over ``K`` candidates per slot drawn around the initial wiring ``init``."""

    def __init__(self, layer: tf.keras.layers.Layer, in_features: int, init, seed: int, candidates: int | None = None,
                 tau: float = 1.0, grad: str = "binary"):
        init = np.asarray(init, np.int64)
        self.signed = tn.check_mapping_grad("LearnableMapping", grad)
        out, fan_in = init.shape
        cand = tn.draw_candidates(in_features, init, candidates, seed)
        self.candidates = None if cand is None else tf.constant(cand.astype(np.int32))
        self._cand_np = cand
        s = tn.init_mapping_scores(out, fan_in, in_features, seed, init, cand)
        self.scores = layer.add_weight("mapping_scores", s.shape, tf.float32, tf.constant_initializer(s))
        self.tau = tn.check_mapping_tau("LearnableMapping", tau)

    def indices(self) -> np.ndarray:
        return tn.distinct_argmax(self.scores.numpy(), self._cand_np)

    def select(self, x, idx):
        """``x[:, idx]`` (B, out, F); gradients: softmax(scores / tau) to ``x``, ``x`` (``signed``:
        ``2x - 1``) to the scores."""
        scores, cand, tau, signed = self.scores, self.candidates, self.tau, self.signed

        @tf.custom_gradient
        def select(x, scores):
            y = tf.gather(x, idx, axis=1)  # (B, O, F)

            def grad(g):
                o, f, k = scores.shape
                sm = tf.nn.softmax(scores / tau, axis=-1)
                gt = tf.transpose(tf.reshape(g, (-1, o * f)))  # (OF, B)
                if cand is None:
                    g2 = tf.reshape(g, (-1, o * f))
                    gs = tf.transpose(g2) @ x
                    if signed:  # (2x - 1)^T g
                        gs = 2 * gs - tf.reduce_sum(g2, 0)[:, None]
                    return g2 @ tf.reshape(sm, (o * f, k)), tf.reshape(gs, (o, f, k))
                cf = tf.reshape(cand, (-1,))
                xt = tf.gather(tf.transpose(x), cf)  # (OFK, B)
                gs = tf.reduce_sum(tf.reshape(xt, (o * f, k, -1)) * gt[:, None, :], -1)
                if signed:
                    gs = 2 * gs - tf.reduce_sum(gt, 1)[:, None]
                contrib = tf.reshape(sm, (o * f, k, 1)) * gt[:, None, :]  # (OF, K, B)
                gx = tf.math.unsorted_segment_sum(tf.reshape(contrib, (o * f * k, -1)), cf, x.shape[1])
                return tf.transpose(gx), tf.reshape(gs, (o, f, k))
            return y, grad
        return select(x, scores)
