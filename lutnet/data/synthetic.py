"""SYNTHETIC stand-in for the jet-tagging dataset, in its exact schema (16 features in the
canonical order, 5 classes g, q, t, w, z). For tutorials and CI when the real data is absent;
numbers obtained on it say nothing about real jet-tagging accuracy."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .jets import FEATURES, split_and_scale

# Per-class means (rows g, q, t, w, z) for the 16 features, loosely shaped after the real
# distributions: tops heavy with many constituents, W/Z near their masses, gluons broad.
_MEANS = np.array([
    # zlogz c1b0  c1b1  c1b2   c2b1  c2b2  d2b1 d2b2 d2a1b1 d2a1b2 m2b1  m2b2   n2b1  n2b2 mass mult
    [-2.9, 0.35, 0.12, 0.050, 0.20, 0.10, 2.2, 1.4, 1.8, 1.2, 0.040, 0.020, 0.30, 0.22, 25., 55.],
    [-2.6, 0.28, 0.08, 0.030, 0.18, 0.08, 2.0, 1.3, 1.7, 1.1, 0.030, 0.015, 0.28, 0.20, 15., 35.],
    [-3.4, 0.40, 0.14, 0.060, 0.16, 0.08, 1.6, 1.2, 1.3, 1.0, 0.050, 0.030, 0.25, 0.18, 140., 65.],
    [-2.8, 0.30, 0.07, 0.025, 0.12, 0.05, 1.2, 0.8, 1.0, 0.7, 0.020, 0.010, 0.20, 0.15, 78., 42.],
    [-2.8, 0.30, 0.07, 0.025, 0.12, 0.05, 1.2, 0.8, 1.0, 0.7, 0.020, 0.010, 0.20, 0.15, 88., 44.],
])
_STDS = np.array([0.6, 0.07, 0.05, 0.03, 0.06, 0.04, 0.8, 0.6, 0.6, 0.5, 0.02, 0.01, 0.08, 0.07,
                  0.0, 10.0])
_MASS_STDS = np.array([20.0, 12.0, 30.0, 12.0, 12.0])  # mass_mmdt spread per class


def synthetic_jets_arrays(n: int = 10_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC raw (unscaled) jets: ``X`` float64 ``(n, 16)`` in the canonical feature order,
    ``y`` int64 canonical labels (g=0, q=1, t=2, w=3, z=4), classes roughly balanced.

    Gaussian per-class features (zlogz <= 0, others >= 0, integer multiplicity >= 1).
    Not real physics data."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(_MEANS), n).astype(np.int64)
    stds = np.broadcast_to(_STDS, (n, len(FEATURES))).copy()
    stds[:, FEATURES.index("mass_mmdt")] = _MASS_STDS[y]
    X = _MEANS[y] + stds * rng.standard_normal((n, len(FEATURES)))
    X[:, 0] = np.minimum(X[:, 0], 0.0)
    X[:, 1:] = np.maximum(X[:, 1:], 0.0)
    X[:, -1] = np.maximum(np.rint(X[:, -1]), 1.0)
    return X, y


def make_synthetic_jets(n: int = 10_000, seed: int = 0, test_size: float = 0.2) -> Dataset:
    """SYNTHETIC jet dataset (NOT the real hls4ml data) with the real loader's schema and
    preprocessing: :func:`synthetic_jets_arrays`, then the 80/20 split and StandardScaler fit on
    train. Named ``"jets-synthetic"`` so results are never mistaken for real ones."""
    X, y = synthetic_jets_arrays(n, seed)
    return split_and_scale(X, y, "jets-synthetic", test_size, seed=42,
                           info={"source": f"synthetic(n={n}, seed={seed})", "synthetic": True})
