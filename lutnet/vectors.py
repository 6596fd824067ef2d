"""Input code vectors for checking a LUT network (simulation testbenches, bit-exactness checks).

One generator for every caller (RTL simulation, hls4ml testbench data, the verification harness,
tests): ``random_input_codes`` puts the encoding's corner cases (``corner_codes``) first and fills
the rest with uniformly random codes."""
from __future__ import annotations

import numpy as np

from .ir import NetworkIR


def corner_codes(ir: NetworkIR) -> np.ndarray:
    """Distinct corner vectors of the input encoding: all-zeros, all-ones (-1 for signed / pattern
    1..1), all-min, all-max, alternating min/max (both phases) and all-one (code 1)."""
    q = ir.input_quant
    ones = -1 if q.signed else q.code_max
    rows = [np.full(ir.n_inputs, v) for v in (0, ones, q.code_min, q.code_max)]
    alt = np.where(np.arange(ir.n_inputs) % 2 == 0, q.code_min, q.code_max)
    rows += [alt, alt[::-1].copy(), np.full(ir.n_inputs, 1 if q.code_max >= 1 else 0)]
    rows = np.clip(np.array(rows, np.int64), q.code_min, q.code_max)
    return np.unique(rows, axis=0)


def random_input_codes(ir: NetworkIR, n: int, seed: int = 0, corners: bool = True) -> np.ndarray:
    """``n`` input code vectors (N, n_inputs): uniformly random codes of the input encoding; with
    ``corners`` the first rows are ``corner_codes(ir)`` (as many as fit in ``n``)."""
    rng = np.random.default_rng(seed)
    q = ir.input_quant
    x = rng.integers(q.code_min, q.code_max + 1, size=(n, ir.n_inputs))
    if corners:
        c = corner_codes(ir)[:n]
        x[:len(c)] = c
    return x
