"""Training Keras LUT models with ``fit``: the counterpart of :func:`lutnet.train.fit`.

Same rules: a stratified ``cfg.val_fraction`` of the *training* set is held out for validation
(:func:`lutnet.data.train_val_split`, never the test set), Adam with a cosine schedule over all
steps, batches of one sample skipped (batch norm), seeded, and the weights of the epoch with the
best validation accuracy (measured on the bit-exact inference path) restored at the end.
Difference: Keras' Adam ``weight_decay`` is decoupled (AdamW-style), PyTorch's is an L2 term.
Learned wiring (a learnable mapping): the current selection of every such layer is written into its
``connectivity`` before each batch (a callback, as the PyTorch layer does at each forward) and frozen
at the end.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import TrainConfig
from ..core.augment import augment_from_config, augment_rng
from ..core.training import BestEpoch, TrainResult, batched_accuracy, split, steps_total
from ..errors import ConfigError


def accuracy(model, X, y, batch_size: int = 4096) -> float:
    """Accuracy in inference mode (codes → tables path)."""
    return batched_accuracy(lambda xb: model(xb, training=False).numpy(), np.asarray(X, np.float32), y, batch_size)


class _BestEpoch(tf.keras.callbacks.Callback):
    def __init__(self, X_val, y_val, progress: bool, log, on_epoch=None):
        super().__init__()
        self.X_val, self.y_val, self.progress, self.log, self.on_epoch = X_val, y_val, progress, log, on_epoch
        self.best, self.best_weights = BestEpoch(), None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.best.record(epoch, logs.get("loss", float("nan")), logs.get("accuracy", float("nan")),
                            accuracy(self.model, self.X_val, self.y_val)):
            self.best_weights = self.model.get_weights()
        if self.progress:
            self.log(f"epoch {epoch}: {self.best.describe()}")
        if self.on_epoch is not None:
            self.on_epoch(self.best.last)


def fit(model, X_train, y_train, cfg: TrainConfig, progress: bool = True, log=print, on_epoch=None) -> TrainResult:
    """Train a Keras LUT model on (X_train, y_train) with ``model.fit``; see the module docstring.
    ``on_epoch(record)`` is called after every epoch, as by :func:`lutnet.train.fit`."""
    if getattr(cfg, "distill", None) is not None:
        raise ConfigError("train.distill: the Keras trainer does not distil (the teacher and its loss are "
                          "PyTorch only); remove train.distill, or train with the PyTorch frontend (--framework torch)")
    X_tr, y_tr, X_val, y_val = split(X_train, y_train, cfg)
    tf.keras.utils.set_random_seed(cfg.seed)
    n = len(X_tr)
    schedule = tf.keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=steps_total(n, cfg))
    opt = tf.keras.optimizers.Adam(schedule, weight_decay=cfg.weight_decay or None)
    model.compile(opt, tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    data = (tf.data.Dataset.from_tensor_slices((X_tr, y_tr))
            .shuffle(n, seed=cfg.seed, reshuffle_each_iteration=True).batch(cfg.batch_size)
            .filter(lambda x, y: tf.shape(x)[0] >= 2))  # a batch of one sample would break batch norm
    augment = augment_from_config(cfg, X_tr.shape[1])
    phases = [(data, cfg.epochs)]  # (batches, the epoch this phase ends at)
    if augment is not None:  # the core's numpy rule, one seeded draw per batch, in order
        aug_rng = augment_rng(cfg)

        def _aug(x, y):
            out = tf.numpy_function(lambda a: augment(a, aug_rng), [x], tf.float32, stateful=True)
            out.set_shape(x.shape)
            return out, y
        n_aug = sum(augment.active(e, cfg.epochs) for e in range(cfg.epochs))  # then plain_last epochs
        phases = [(data.map(_aug), n_aug), (data, cfg.epochs)]  # map: sequential, the draws follow the batch order
    best = _BestEpoch(X_val, y_val, progress, log, on_epoch)
    start = 0
    for batches, end in phases:  # the optimizer's step count, hence the cosine schedule, runs on across phases
        if end > start:
            model.fit(batches, initial_epoch=start, epochs=end, verbose=0, callbacks=[_FreezeMapping(model), best])
        start = max(start, end)
    if best.best_weights is not None:
        model.set_weights(best.best_weights)
    _FreezeMapping(model).on_train_batch_begin(None)
    return best.best.result


class _FreezeMapping(tf.keras.callbacks.Callback):
    """Before each batch: every learnable-mapping layer's current selection into its ``connectivity``."""

    def __init__(self, model):
        super().__init__()
        self.layers = [m for m in model.submodules if getattr(m, "learn", False) and hasattr(m, "freeze")]

    def on_train_batch_begin(self, batch, logs=None):
        for layer in self.layers:
            layer.freeze()
