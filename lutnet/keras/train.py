"""Training Keras LUT models with ``fit``: the counterpart of :func:`lutnet.train.fit`.

Same rules: a stratified ``cfg.val_fraction`` of the *training* set is held out for validation
(:func:`lutnet.data.train_val_split`, never the test set), Adam with a cosine schedule over all
steps, batches of one sample skipped (batch norm), seeded, and the weights of the epoch with the
best validation accuracy (measured on the bit-exact inference path) restored at the end.
Difference: Keras' Adam ``weight_decay`` is decoupled (AdamW-style), PyTorch's is an L2 term.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import TrainConfig
from ..data import train_val_split
from ..train import TrainResult


def accuracy(model, X, y, batch_size: int = 4096) -> float:
    """Accuracy in inference mode (codes → tables path)."""
    X = np.asarray(X, np.float32)
    if not len(X):
        return float("nan")
    pred = np.concatenate([np.argmax(model(X[i:i + batch_size], training=False).numpy(), 1)
                           for i in range(0, len(X), batch_size)])
    return float((pred == np.asarray(y)).mean())


class _BestEpoch(tf.keras.callbacks.Callback):
    def __init__(self, X_val, y_val, result: TrainResult, progress: bool, log):
        super().__init__()
        self.X_val, self.y_val, self.result, self.progress, self.log = X_val, y_val, result, progress, log
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        val_acc = accuracy(self.model, self.X_val, self.y_val)
        rec = {"epoch": epoch, "loss": float(logs.get("loss", float("nan"))),
               "train_acc": float(logs.get("accuracy", float("nan"))), "val_acc": val_acc}
        self.result.history.append(rec)
        if val_acc > self.result.best_val_acc:
            self.result.best_val_acc, self.result.best_epoch = val_acc, epoch
            self.best_weights = self.model.get_weights()
        if self.progress:
            self.log(f"epoch {epoch}: loss {rec['loss']:.3f}, val {val_acc:.3f}, best {self.result.best_val_acc:.3f}")


def fit(model, X_train, y_train, cfg: TrainConfig, progress: bool = True, log=print) -> TrainResult:
    """Train a Keras LUT model on (X_train, y_train) with ``model.fit``; see the module docstring."""
    X_tr, y_tr, X_val, y_val = train_val_split(np.asarray(X_train, np.float32), np.asarray(y_train),
                                               cfg.val_fraction, cfg.seed)
    tf.keras.utils.set_random_seed(cfg.seed)
    n = len(X_tr)
    steps = max(1, n // cfg.batch_size) * cfg.epochs
    schedule = tf.keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=steps)
    opt = tf.keras.optimizers.Adam(schedule, weight_decay=cfg.weight_decay or None)
    model.compile(opt, tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    data = (tf.data.Dataset.from_tensor_slices((X_tr, y_tr.astype(np.int64)))
            .shuffle(n, seed=cfg.seed, reshuffle_each_iteration=True).batch(cfg.batch_size)
            .filter(lambda x, y: tf.shape(x)[0] >= 2))  # a batch of one sample would break batch norm
    result = TrainResult(best_epoch=-1, best_val_acc=-1.0)
    best = _BestEpoch(X_val, y_val, result, progress, log)
    model.fit(data, epochs=cfg.epochs, verbose=0, callbacks=[best])
    if best.best_weights is not None:
        model.set_weights(best.best_weights)
    return result
