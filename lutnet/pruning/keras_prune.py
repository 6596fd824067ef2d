"""Resource-aware pruning for Keras/QKeras: lutnet.keras LUT layers under a LUT budget and
``Dense``/``QDense`` layers under hls4ml DSP/BRAM/LUT budgets.  Importing this module imports
TensorFlow.

* LUT layers: the same knapsack as the PyTorch loop (:mod:`.lut_structures`); the chosen masks go to
  each layer's ``prune_mask`` weight, so :func:`lutnet.keras.to_ir` emits the smaller tables.
* Dense layers: hls4ml patterns/blocks of the kernel (Keras kernels are (in, out); hls4ml's
  Resource strategy walks the transposed kernel, which is the (out, in) layout
  :class:`~lutnet.pruning.resources.DenseResourceModel` indexes).  Pruned weights are zeroed and
  :class:`PruneMaskCallback` keeps them zero during fine-tuning.
* :func:`keras_finetune` fits on the training data with a validation split carved from it
  (:func:`lutnet.data.train_val_split`), never the test set; pass it to the iterative loops.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..data import train_val_split
from ..keras.layers import lut_layers
from ..nn.neurons import monomials
from .errors import PruningError
from .importance import METRICS, default_normalize
from .knapsack import solve
from .lut_structures import LayerSpec, LutPruneResult, network_cost, solve_masks
from .resources import DenseResourceModel, dense_pruning_problem
from .torch_prune import DensePruneResult, _cost_fn, iterative_prune


def _check_metric(metric):
    if metric not in METRICS:
        raise PruningError(f"unknown importance metric {metric!r}; known: {', '.join(METRICS)}")


# ---------------------------------------------------------------------- importance
def _taylor_scores(model, variables, data, batches, batch_size):
    """``sum_b |w * dL/dw|`` per variable; batch-norm moving statistics are restored afterwards."""
    if data is None:
        raise PruningError("metric 'taylor' needs data=(X, y) to compute gradients")
    X, y = np.asarray(data[0], np.float32), np.asarray(data[1])
    state = [(v, v.numpy()) for v in model.non_trainable_variables]
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = [np.zeros(v.shape, np.float32) for v in variables]
    perm = np.random.default_rng(0).permutation(len(X))
    try:
        for b in range(batches):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            if len(idx) == 0:
                break
            with tf.GradientTape() as tape:
                loss = loss_fn(y[idx], model(X[idx], training=True))
            for a, v, g in zip(acc, variables, tape.gradient(loss, variables)):
                if g is not None:
                    a += np.abs(v.numpy() * g.numpy())
    finally:
        for v, val in state:
            v.assign(val)
    return acc


def _scores(model, variables, metric, data, batches, batch_size):
    if metric == "taylor":
        return _taylor_scores(model, variables, data, batches, batch_size)
    return [np.abs(v.numpy()) if metric == "l1" else v.numpy() ** 2 for v in variables]


def _input_variables(layer):
    """[(variable, reduce to (out, F))] of the weights attached to each input of a LUT layer."""
    n = layer.neuron
    if n.kind == "linear":
        return [(layer.w["weight"], lambda s: s)]
    if n.kind == "poly":
        inc = np.zeros((n.fan_in, len(monomials(n.fan_in, n.degree))), np.float32)
        for t, m in enumerate(monomials(n.fan_in, n.degree)):
            inc[list(set(m)), t] = 1.0
        return [(layer.w["weight"], lambda s: s @ inc.T)]
    pairs = [(layer.w["weights_0"], lambda s: s.sum(-1))]
    if "proj_0" in layer.w:
        pairs.append((layer.w["proj_0"], lambda s: s.sum(-1)))
    return pairs


def keras_lut_importance(model, metric: str = "l1", data=None, batches: int = 4, batch_size: int = 256) -> list:
    """(out, F) importance of every input connection of every LUT layer (pruned ones: 0)."""
    _check_metric(metric)
    layers = lut_layers(model)
    pairs = [_input_variables(l) for l in layers]
    scores = iter(_scores(model, [v for ps in pairs for v, _ in ps], metric, data, batches, batch_size))
    out = []
    for layer, ps in zip(layers, pairs):
        total = sum(reduce(next(scores)) for _, reduce in ps)
        total = np.sqrt(total) if metric == "l2" else total
        out.append(np.where(layer.prune_mask.numpy() > 0, total, 0.0))
    return out


# ---------------------------------------------------------------------- LUT layers
def keras_lut_specs(model) -> list[LayerSpec]:
    return [LayerSpec(l.prune_mask.numpy() > 0, l.connectivity.numpy().astype(np.int64), l.input_encoding.bits,
                      l.output_encoding.bits) for l in lut_layers(model)]


def keras_lut_cost(model, cost_model="lutcost") -> float:
    """LUTs of the Keras LUT network's current masks (== ``lutnet.keras.to_ir(model).lut_cost()``)."""
    return network_cost(keras_lut_specs(model), _cost_fn(cost_model))


def prune_keras_lut(model, budget: float, metric: str = "l1", method: str = "auto", data=None,
                    cost_model="lutcost", min_inputs_last: int = 1, importance=None) -> LutPruneResult:
    """Prune a Keras LUT network in place to ``budget`` LUTs (see ``prune_lut_network``)."""
    imp = importance if importance is not None else keras_lut_importance(model, metric, data)
    fn = _cost_fn(cost_model)
    masks, sol, rounds = solve_masks(keras_lut_specs(model), [np.asarray(i, np.float64) for i in imp], budget,
                                     fn, method, min_inputs_last, normalize=default_normalize(metric))
    for layer, m in zip(lut_layers(model), masks):
        layer.prune_mask.assign(m.astype(np.float32))
    return LutPruneResult.of(sol, masks, keras_lut_cost(model, fn), budget, rounds)


# ---------------------------------------------------------------------- dense layers
def keras_dense_layers(model) -> list:
    """Every ``Dense`` (and QKeras ``QDense``, a subclass) layer, in order."""
    return [l for l in model.layers if isinstance(l, tf.keras.layers.Dense)]


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
    total = {"dsp": 0.0, "lut": 0.0, "bram": 0.0}
    for l in keras_dense_layers(model):
        if l.name in resource_models:
            for r, v in resource_models[l.name].usage(l.kernel.numpy().T).items():
                total[r] += v
    return total


def _apply_kernel_mask(layer, mask_out_in: np.ndarray):
    layer._lutnet_prune_mask = mask_out_in.T.astype(np.float32)
    layer.kernel.assign(layer.kernel.numpy() * layer._lutnet_prune_mask)


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
    :func:`lutnet.pruning.torch_prune.prune_dense`)."""
    _check_metric(metric)
    normalize = default_normalize(metric) if normalize is None else normalize
    layers = [l for l in keras_dense_layers(model) if l.name in resource_models]
    missing = set(resource_models) - {l.name for l in layers}
    if missing:
        raise PruningError(f"no Dense layer named {sorted(missing)} in the model; Dense layers are: "
                           f"{[l.name for l in keras_dense_layers(model)]}")
    scores = _scores(model, [l.kernel for l in layers], metric, data, 4, 256)
    values, idxs = [], []
    for l, sc in zip(layers, scores):
        idx = resource_models[l.name].structure_index()
        flat = np.concatenate([sc.T.reshape(-1), [0.0]])  # (out, in) order, padding reads 0
        v = flat[np.where(idx >= 0, idx, flat.size - 1)].sum(1)
        values.append(np.sqrt(v) if metric == "l2" else v)
        idxs.append(idx)
    problem = dense_pruning_problem(values, [resource_models[l.name] for l in layers], normalize, min_keep)
    sol = solve(problem, budgets, method=method)
    start, per_layer = 0, {}
    for l, idx in zip(layers, idxs):
        keep = sol.selected[start:start + len(idx)]
        start += len(idx)
        n = int(np.prod(l.kernel.shape))
        flat = np.zeros(n + 1, bool)
        flat[np.where(idx[keep] >= 0, idx[keep], n)] = True
        _apply_kernel_mask(l, flat[:-1].reshape(l.kernel.shape[1], l.kernel.shape[0]))
        per_layer[l.name] = resource_models[l.name].usage(l.kernel.numpy().T)
    return DensePruneResult(sol, keras_dense_usage(model, resource_models), dict(budgets), per_layer)


# ---------------------------------------------------------------------- fine-tuning + schedules
def keras_finetune(epochs: int = 2, batch_size: int = 256, val_fraction: float = 0.1, seed: int = 0):
    """A fine-tune callable for the iterative loops: ``model.fit`` (the model must be compiled with
    an accuracy metric or not at all) on a split of the training data; returns validation accuracy."""
    def run(model, X, y):
        X_tr, y_tr, X_val, y_val = train_val_split(np.asarray(X), np.asarray(y), val_fraction, seed)
        model.fit(X_tr, y_tr, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[PruneMaskCallback()])
        pred = np.concatenate([model(X_val[i:i + 8192], training=False).numpy().argmax(1)
                               for i in range(0, len(X_val), 8192)])
        return float((pred == y_val).mean())
    return run


def prune_keras_lut_iteratively(model, X_train, y_train, budget: float, schedule=None, finetune=None,
                                metric: str = "l1", method: str = "auto", cost_model="lutcost", log=None):
    """LUT-budget pruning of a Keras LUT network with a schedule and fine-tuning between steps."""
    def step(m, b):
        return prune_keras_lut(m, b["lut"], metric, method, (X_train, y_train), cost_model)

    return iterative_prune(model, X_train, y_train, {"lut": float(budget)}, step,
                           lambda m: {"lut": keras_lut_cost(m, cost_model)}, schedule, finetune, log)


def prune_keras_dense_iteratively(model, X_train, y_train, budgets: dict, resource_models: dict, schedule=None,
                                  finetune=None, metric: str = "l1", method: str = "auto", log=None):
    """hls4ml-resource pruning of Keras Dense layers with a schedule and fine-tuning between steps."""
    def step(m, b):
        return prune_keras_dense(m, b, resource_models, metric, method, (X_train, y_train))

    return iterative_prune(model, X_train, y_train, dict(budgets), step,
                           lambda m: keras_dense_usage(m, resource_models), schedule, finetune, log)
