"""Training rules shared by the PyTorch and Keras trainers (no framework import).

* the validation split is a stratified ``cfg.val_fraction`` of the *training* data
  (:func:`lutnet.data.train_val_split`), never the test set;
* the learning rate follows a cosine schedule over all ``steps_total`` optimizer steps;
* the epoch with the best validation accuracy, measured on the bit-exact inference path, wins
  (ties keep the earlier epoch) and its weights are restored at the end (:class:`BestEpoch`);
* accuracy is the first argmax of the class scores, in batches.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import train_val_split


@dataclass
class TrainResult:
    best_epoch: int
    best_val_acc: float
    history: list = field(default_factory=list)


def split(X_train, y_train, cfg):
    """(X_tr float32, y_tr int64, X_val, y_val): the training data minus its validation split."""
    X_tr, y_tr, X_val, y_val = train_val_split(np.asarray(X_train, np.float32), np.asarray(y_train),
                                               cfg.val_fraction, cfg.seed)
    return X_tr, y_tr.astype(np.int64), X_val, y_val


def steps_total(n_train: int, cfg) -> int:
    """Optimizer steps over the whole run (the cosine schedule's length)."""
    return max(1, n_train // cfg.batch_size) * cfg.epochs


def batched_accuracy(scores_of, X, y, batch_size: int = 4096) -> float:
    """Accuracy of ``scores_of(X_batch) -> (n, classes)`` scores (first argmax); NaN without samples."""
    if not len(X):
        return float("nan")
    pred = np.concatenate([np.argmax(np.asarray(scores_of(X[i:i + batch_size])), 1)
                           for i in range(0, len(X), batch_size)])
    return float((pred == np.asarray(y)).mean())


class BestEpoch:
    """Records every epoch and keeps the one with the best validation accuracy.  ``record`` returns
    True when the epoch is the new best: the trainer then snapshots its weights."""

    def __init__(self):
        self.result = TrainResult(best_epoch=-1, best_val_acc=-1.0)

    def record(self, epoch: int, loss: float, train_acc: float, val_acc: float) -> bool:
        rec = {"epoch": epoch, "loss": float(loss), "train_acc": float(train_acc), "val_acc": float(val_acc)}
        self.result.history.append(rec)
        if val_acc > self.result.best_val_acc:
            self.result.best_val_acc, self.result.best_epoch = val_acc, epoch
            return True
        return False

    @property
    def last(self) -> dict:
        return self.result.history[-1]

    def describe(self) -> str:
        r = self.last
        return f"loss {r['loss']:.3f}, val {r['val_acc']:.3f}, best {self.result.best_val_acc:.3f}"
