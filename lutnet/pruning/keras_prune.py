"""Resource-aware pruning for Keras/QKeras: lutnet.keras LUT layers under a LUT budget and
``Dense``/``QDense`` layers under hls4ml DSP/BRAM/LUT budgets.  Importing this module imports
TensorFlow.

The loops are the framework-neutral ones of :mod:`.loop` (shared with PyTorch: the same importance
rule, knapsack, dead-neuron rounds, cost models including ``cost_model="estimate"``, schedules);
this module is the Keras side:

* :class:`KerasLutTarget`: the chosen masks go to each LUT layer's ``prune_mask`` weight, so
  :func:`lutnet.keras.to_ir` emits the smaller tables.
* :class:`KerasDenseTarget`: hls4ml patterns/blocks of the kernel (Keras kernels are (in, out);
  hls4ml's Resource strategy walks the transposed kernel, which is the (out, in) layout
  :class:`~lutnet.pruning.resources.DenseResourceModel` indexes).  Pruned weights are zeroed and
  :class:`PruneMaskCallback` keeps them zero during fine-tuning.
* :func:`keras_finetune` fits on the training data with a validation split carved from it
  (:func:`lutnet.data.train_val_split`), never the test set; pass it (or a ``TrainConfig``, which
  runs :func:`lutnet.keras.train.fit`) to the iterative loops.
"""
from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf

from ..data import train_val_split
from ..keras.layers import lut_layers
from . import loop
from .loop import DensePruneResult, iterative_prune
from .lut_structures import LayerSpec, LutPruneResult
from .resources import DenseResourceModel


# ---------------------------------------------------------------------- scores
def _taylor_scores(model, variables, data, batches, batch_size):
    """``sum_b |w * dL/dw|`` per variable; batch-norm moving statistics are restored afterwards."""
    X, y, index = loop.taylor_batches(data, batches, batch_size)
    state = [(v, v.numpy()) for v in model.non_trainable_variables]
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = [np.zeros(v.shape, np.float32) for v in variables]
    try:
        for idx in index:
            with tf.GradientTape() as tape:
                loss = loss_fn(y[idx], model(X[idx], training=True))
            for a, v, g in zip(acc, variables, tape.gradient(loss, variables)):
                if g is not None:
                    a += np.abs(v.numpy() * g.numpy())
    finally:
        for v, val in state:
            v.assign(val)
    return acc


def keras_scores(model, variables, metric, data=None, batches: int = 4, batch_size: int = 256) -> list:
    """Element-wise scores (numpy) of Keras variables."""
    loop.check_metric(metric)
    if metric == "taylor":
        return _taylor_scores(model, variables, data, batches, batch_size)
    return loop.elementwise_scores([v.numpy() for v in variables], metric)


# ---------------------------------------------------------------------- LUT layers
class KerasLutTarget(loop.LutPruneTarget):
    """A Keras model of :class:`lutnet.keras.LUTLayer` as the shared LUT pruning loop sees it."""

    def __init__(self, model):
        self.model = model
        self.layers = lut_layers(model)

    def specs(self):
        return [LayerSpec(l.prune_mask.numpy() > 0, l.connectivity.numpy().astype(np.int64), l.input_encoding.bits,
                          l.output_encoding.bits) for l in self.layers]

    def neuron_kinds(self):
        return [l.neuron for l in self.layers]

    def named_params(self, li):
        return dict(self.layers[li].w)

    def param_scores(self, params, metric, data, batches, batch_size):
        return keras_scores(self.model, params, metric, data, batches, batch_size)

    def get_mask(self, li):
        return self.layers[li].prune_mask.numpy() > 0

    def set_mask(self, li, mask):
        self.layers[li].prune_mask.assign(np.asarray(mask, np.float32))

    def extract_layer(self, li):
        from ..keras.export import extract_layer
        return extract_layer(self.layers[li], li)

    def to_ir(self):
        from ..keras.export import to_ir
        return to_ir(self.model)

    # ------------------------------------------------ learned connectivity
    def layer_name(self, li):
        return self.layers[li].name

    def in_features(self, li):
        return int(self.layers[li].in_features)

    def learns_mapping(self, li):
        return getattr(self.layers[li], "mapping", None) is not None

    def refan(self, li, positions, mask):
        """Replace layer ``li`` by a layer of fan-in F (its config with the kept inputs as explicit
        ``connectivity``; mapped parameters, batch norm and mask copied) in a new Sequential model of
        the same layers (``self.model``; Keras weights cannot change shape in place)."""
        from ..core.learned import narrower, slice_params
        old = self.layers[li]
        P = np.asarray(positions, np.int64)
        F = P.shape[1]
        conn = np.take_along_axis(old.connectivity.numpy().astype(np.int64), P, 1)
        cfg = dict(old.get_config(), fan_in=F, connectivity=conn.tolist())
        new = type(old).from_config(cfg)
        new.build((None, old.in_features))
        values = slice_params(old.neuron, narrower(old.neuron, F), {k: v.numpy() for k, v in old.w.items()}, P)
        for name, var in new.w.items():
            var.assign(values[name])
        new.prune_mask.assign(np.asarray(mask, np.float32))
        if old.batch_norm:
            for name in ("gamma", "beta", "moving_mean", "moving_variance"):
                getattr(new, name).assign(getattr(old, name).numpy())
        self.layers[li] = new
        inputs = tf.keras.Input((int(self.layers[0].in_features),), name=self.model.inputs[0].name.split(":")[0])
        self.model = tf.keras.Sequential([inputs, *self.layers], name=self.model.name)

    @contextlib.contextmanager
    def group_lasso(self, strength: float):
        """Adds ``strength x`` each layer's group-lasso penalty to the model's losses while active
        (a zero-argument loss scaled by a variable that is set to 0 on exit)."""
        from ..core.learned import group_norms
        scale = tf.Variable(float(strength), trainable=False, dtype=tf.float32)
        layers = list(self.layers)

        def penalty():
            total = tf.constant(0.0)
            for layer in layers:
                norms = group_norms(TF_ARRAYS, layer.neuron, dict(layer.w))
                total = total + tf.reduce_sum(norms * layer.prune_mask)
            return scale * total

        if strength > 0:
            self.model.add_loss(penalty)
        try:
            yield self
        finally:
            scale.assign(0.0)


class TFArrays:
    """The array adapter of :func:`lutnet.core.learned.group_norms` over TensorFlow tensors."""

    @staticmethod
    def sum(x, axis):
        return tf.reduce_sum(x, axis)

    sqrt = staticmethod(tf.sqrt)

    @staticmethod
    def matmul(x, m):
        return tf.matmul(x, tf.constant(m, x.dtype))


TF_ARRAYS = TFArrays()


def learn_keras_lut_connectivity(model, X_train, y_train, fan_in, steps: int = 3, budget: float | None = None,
                                 finetune=None, metric: str = "l2", method: str = "auto", cost_model="lutcost",
                                 min_inputs_last: int = 1, log=None):
    """Learned connectivity of a Keras LUT model trained at a larger fan-in (see
    :func:`lutnet.pruning.learn.learn_connectivity`); returns the result, whose ``model`` is the new
    Keras model of fan-in ``fan_in`` (the layers that keep their fan-in are shared with ``model``)."""
    from ..keras.train import fit
    from .learn import learn_connectivity
    return learn_connectivity(KerasLutTarget(model), X_train, y_train, fan_in, steps, budget, metric, method,
                              cost_model, finetune, fit, min_inputs_last, log)


def keras_lut_importance(model, metric: str = "l1", data=None, batches: int = 4, batch_size: int = 256) -> list:
    """(out, F) importance of every input connection of every LUT layer (pruned ones: 0)."""
    return loop.input_importance(KerasLutTarget(model), metric, data, batches, batch_size)


def keras_lut_specs(model) -> list[LayerSpec]:
    return KerasLutTarget(model).specs()


def keras_lut_cost(model, cost_model="lutcost") -> float:
    """LUTs of the Keras LUT network's current masks (``"lutcost"``: equals
    ``lutnet.keras.to_ir(model).lut_cost()``; ``"estimate"``: the estimator on the exported tables)."""
    return loop.lut_cost(KerasLutTarget(model), cost_model)


def prune_keras_lut(model, budget: float, metric: str = "l1", method: str = "auto", data=None,
                    cost_model="lutcost", min_inputs_last: int = 1, importance=None, max_rounds: int = 8,
                    normalize: bool | None = None) -> LutPruneResult:
    """Prune a Keras LUT network in place to ``budget`` LUTs (the options of
    :func:`lutnet.pruning.prune_lut_network`, ``cost_model="estimate"`` included)."""
    return loop.prune_lut(KerasLutTarget(model), budget, metric, method, data, cost_model, min_inputs_last,
                          importance, max_rounds, normalize)


def prune_keras_lut_iteratively(model, X_train, y_train, budget: float, schedule=None, finetune=None,
                                metric: str = "l1", method: str = "auto", cost_model="lutcost",
                                min_inputs_last: int = 1, normalize: bool | None = None, log=None):
    """LUT-budget pruning of a Keras LUT network with a schedule and fine-tuning between steps
    (``finetune``: a callable such as :func:`keras_finetune`, or a ``TrainConfig``)."""
    from ..keras.train import fit

    def step(m, b):
        return prune_keras_lut(m, b["lut"], metric, method, (X_train, y_train), cost_model, min_inputs_last,
                               normalize=normalize)

    return iterative_prune(model, X_train, y_train, {"lut": float(budget)}, step,
                           lambda m: {"lut": keras_lut_cost(m, cost_model)}, schedule, finetune, log, fit)


# ---------------------------------------------------------------------- dense layers
def keras_dense_layers(model) -> list:
    """Every ``Dense`` (and QKeras ``QDense``, a subclass) layer, in order."""
    return [l for l in model.layers if isinstance(l, tf.keras.layers.Dense)]


class KerasDenseTarget(loop.DenseTarget):
    """The Dense/QDense layers of a Keras model, in hls4ml's (out, in) layout."""

    def __init__(self, model):
        self.model = model
        self.layers = {l.name: l for l in keras_dense_layers(model)}

    def layer_names(self):
        return list(self.layers)

    def weight(self, name):
        return self.layers[name].kernel.numpy().T

    def weight_scores(self, names, metric, data, batches, batch_size):
        scores = keras_scores(self.model, [self.layers[n].kernel for n in names], metric, data, batches, batch_size)
        return [s.T for s in scores]

    def apply_mask(self, name, mask_out_in):
        layer = self.layers[name]
        layer._lutnet_prune_mask = np.asarray(mask_out_in).T.astype(np.float32)
        layer.kernel.assign(layer.kernel.numpy() * layer._lutnet_prune_mask)


def keras_resource_model(layer, reuse_factor: int = 1, strategy: str = "resource", weight_bits: int | None = None,
                         input_bits: int = 16, structure: str = "pattern") -> DenseResourceModel:
    """The hls4ml model of a Dense/QDense layer; ``weight_bits`` defaults to the QDense kernel
    quantizer's bits, else 16 (hls4ml's default ``ap_fixed<16,6>``)."""
    n_in, n_out = (int(d) for d in layer.kernel.shape)
    if weight_bits is None:
        q = getattr(layer, "kernel_quantizer_internal", None)
        weight_bits = int(getattr(q, "bits", 16)) if q is not None else 16
    return DenseResourceModel(n_in, n_out, weight_bits, input_bits, reuse_factor, strategy, structure)


def keras_dense_usage(model, resource_models: dict) -> dict:
    return loop.dense_usage(KerasDenseTarget(model), resource_models)


class PruneMaskCallback(tf.keras.callbacks.Callback):
    """Re-zero pruned kernel weights after every training batch."""

    def on_train_batch_end(self, batch, logs=None):
        for l in keras_dense_layers(self.model):
            m = getattr(l, "_lutnet_prune_mask", None)
            if m is not None:
                l.kernel.assign(l.kernel * m)


def prune_keras_dense(model, budgets: dict, resource_models: dict, metric: str = "l1", method: str = "auto",
                      data=None, normalize: bool | None = None, min_keep: int = 1) -> DensePruneResult:
    """Zero hls4ml structures of the named Dense layers so the estimate fits ``budgets`` (see
    :func:`lutnet.pruning.loop.prune_dense`)."""
    return loop.prune_dense(KerasDenseTarget(model), budgets, resource_models, metric, method, data, normalize,
                            min_keep, kind="Dense layer")


# ---------------------------------------------------------------------- fine-tuning + schedules
def keras_finetune(epochs: int = 2, batch_size: int = 256, val_fraction: float = 0.1, seed: int = 0):
    """A fine-tune callable for the iterative loops: ``model.fit`` (the model must be compiled with
    an accuracy metric or not at all) on a split of the training data; returns validation accuracy."""
    from ..keras.train import accuracy

    def run(model, X, y):
        X_tr, y_tr, X_val, y_val = train_val_split(np.asarray(X), np.asarray(y), val_fraction, seed)
        model.fit(X_tr, y_tr, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[PruneMaskCallback()])
        return accuracy(model, X_val, y_val, batch_size=8192)
    return run


def prune_keras_dense_iteratively(model, X_train, y_train, budgets: dict, resource_models: dict, schedule=None,
                                  finetune=None, metric: str = "l1", method: str = "auto", log=None):
    """hls4ml-resource pruning of Keras Dense layers with a schedule and fine-tuning between steps."""
    def step(m, b):
        return prune_keras_dense(m, b, resource_models, metric, method, (X_train, y_train))

    return iterative_prune(model, X_train, y_train, dict(budgets), step,
                           lambda m: keras_dense_usage(m, resource_models), schedule, finetune, log)
