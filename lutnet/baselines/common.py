"""Helpers shared by the dense baselines (numpy only)."""
from __future__ import annotations

import numpy as np

JET_MLP_WIDTHS = (64, 32, 32)  # hidden layers of the hls4ml jet-tagging MLP: 16 → 64 → 32 → 32 → 5


def fixed_grid(x, bits: int, integer: int) -> np.ndarray:
    """Round float inputs (half to even) onto the grid of ``ap_fixed<bits, integer>`` (``integer``
    counts the sign bit) and saturate, so an hls4ml input of that type holds them exactly."""
    step = np.float32(2.0) ** np.float32(integer - bits)
    lo, hi = -(2.0 ** (integer - 1)), 2.0 ** (integer - 1) - float(step)
    return np.clip(np.round(np.asarray(x, np.float32) / step) * step, lo, hi).astype(np.float32)


def mismatches(hls_out, reference) -> int:
    """Number of output elements where the hls4ml C simulation differs from the reference model."""
    reference = np.asarray(reference, np.float64)
    hls_out = np.asarray(hls_out, np.float64).reshape(reference.shape)
    return int((hls_out != reference).sum())
