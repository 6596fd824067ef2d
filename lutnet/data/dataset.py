"""The common return type of all loaders and the stratified train/validation split."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


def train_val_split(X: np.ndarray, y: np.ndarray, val_fraction: float = 0.1, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified, deterministic split of a *training* set into ``(X_tr, y_tr, X_val, y_val)``.

    The validation set has ``round(n * val_fraction)`` samples, shared among classes in
    proportion to their counts (largest remainder; a class gives at most ``count - 1``, so it keeps
    a training sample), chosen by a permutation drawn from ``numpy.random.default_rng(seed)``.
    Both parts keep the original sample order. Never apply this to a test set: validation data
    must come from the training data.
    """
    y = np.asarray(y)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    perm = np.random.default_rng(seed).permutation(len(y))
    order = perm[np.argsort(y[perm], kind="stable")]          # grouped by class, random within
    _, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
    quota = counts * val_fraction                               # largest-remainder allocation
    n_val = np.floor(quota).astype(np.int64)
    extra = int(round(len(y) * val_fraction)) - int(n_val.sum())
    n_val[np.argsort(n_val - quota, kind="stable")[:max(extra, 0)]] += 1
    n_val = np.minimum(n_val, counts - 1)
    rank = np.arange(len(y)) - np.repeat(starts, counts)      # position within its class group
    in_val = rank < np.repeat(n_val, counts)
    if not in_val.any():
        raise ValueError(f"val_fraction={val_fraction} leaves no validation sample "
                         f"for {len(y)} training samples")
    val_idx, tr_idx = np.sort(order[in_val]), np.sort(order[~in_val])
    return X[tr_idx], y[tr_idx], X[val_idx], y[val_idx]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification dataset with a fixed train/test split.

    ``X_*`` are float32 ``(n, n_features)`` arrays, ``y_*`` int64 ``(n,)`` class indices into
    ``classes``. Carve a validation set with :meth:`split_validation` (from train, never test).
    ``info`` holds loader metadata (source file, preprocessing constants such as the
    standardisation ``scaler_mean``/``scaler_scale`` that hardware inputs must reproduce).
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def set_(attr: str, value: Any) -> None:  # frozen dataclass: normalise once, here
            object.__setattr__(self, attr, value)

        set_("classes", tuple(str(c) for c in self.classes))
        set_("feature_names", tuple(str(f) for f in self.feature_names))
        for part in ("train", "test"):
            X = np.asarray(getattr(self, f"X_{part}"), dtype=np.float32)
            y = np.asarray(getattr(self, f"y_{part}"), dtype=np.int64)
            if X.ndim != 2 or X.shape[1] != len(self.feature_names):
                raise ValueError(f"{self.name}: X_{part} has shape {X.shape}, expected "
                                 f"(n, {len(self.feature_names)})")
            if y.shape != (X.shape[0],):
                raise ValueError(f"{self.name}: y_{part} has shape {y.shape}, expected "
                                 f"({X.shape[0]},)")
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValueError(f"{self.name}: y_{part} has labels outside "
                                 f"0..{len(self.classes) - 1}")
            set_(f"X_{part}", X)
            set_(f"y_{part}", y)

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def split_validation(self, val_fraction: float = 0.1, seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``train_val_split`` of the training set: ``(X_tr, y_tr, X_val, y_val)``."""
        return train_val_split(self.X_train, self.y_train, val_fraction, seed)

    def subset(self, limit: int) -> Dataset:
        """A copy keeping only the first ``limit`` samples of each split (for quick runs)."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        return replace(self, X_train=self.X_train[:limit], y_train=self.y_train[:limit],
                       X_test=self.X_test[:limit], y_test=self.y_test[:limit],
                       info=dict(self.info, limit=limit))

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
                f"features={self.n_features}, classes={self.n_classes})")
