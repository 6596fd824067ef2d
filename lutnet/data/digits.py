"""scikit-learn's bundled 8x8 digits (1,797 images, 10 classes): always available, no download.

The split is ``train_test_split(test_size=0.2, random_state=42, stratify=y)`` (1,437 / 360),
features are the 64 pixel values 0..16 scaled to [0, 1] by /16.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset


def load_digits(test_size: float = 0.2, seed: int = 42) -> Dataset:
    """Load scikit-learn's digits as a :class:`Dataset` (64 float32 features in [0, 1])."""
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    X = bunch.data.astype(np.float32) / np.float32(16)
    X_train, X_test, y_train, y_test = train_test_split(
        X, bunch.target, test_size=test_size, random_state=seed, stratify=bunch.target)
    return Dataset(name="digits", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                   classes=tuple(str(c) for c in bunch.target_names),
                   feature_names=tuple(bunch.feature_names))
