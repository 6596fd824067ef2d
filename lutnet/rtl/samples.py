"""Trained-like LUT networks in the IR, for validating the LUT estimator against Yosys.

Uniformly random tables are the worst case for logic synthesis; tables of trained LUT neurons are
smooth functions of their (quantized) inputs.  ``trained_like_network_ir`` builds tables the way the
three neuron kinds compute them (dequantize the inputs, apply the neuron's function, requantize):

* ``linear`` (LogicNets): ``y = q(relu(w . x + b))``
* ``poly`` (PolyLUT, degree 2): ``y = q(relu(w . [x, x_i x_j] + b))``
* ``subnet`` (NeuraLUT): ``y = q(relu(MLP(x)))`` with a small 2-hidden-layer MLP

with random Gaussian weights and an output scale set from the pre-activation range, so every
output code is used.  The last layer has no ReLU and signed outputs (class scores)."""
from __future__ import annotations

import numpy as np

from ..ir import LayerIR, NetworkIR, QuantSpec, code_range

KINDS = ("linear", "poly", "subnet")


def _input_values(fan_in: int, bits: int, signed: bool) -> np.ndarray:
    """(rows, fan_in) dequantized input values of every table address (input 0 in the LSBs)."""
    rows = 1 << (fan_in * bits)
    addr = np.arange(rows, dtype=np.int64)
    pats = (addr[:, None] >> (bits * np.arange(fan_in))) & ((1 << bits) - 1)
    half = 1 << (bits - 1)
    codes = np.where(signed & (pats >= half), pats - (1 << bits), pats)
    return codes.astype(np.float64) / (1 << (bits - 1))


def _neuron_function(x: np.ndarray, kind: str, rng) -> np.ndarray:
    f = x.shape[1]
    if kind == "linear":
        return x @ rng.normal(size=f) + rng.normal(scale=0.3)
    if kind == "poly":
        i, j = np.triu_indices(f)
        feats = np.concatenate([x, x[:, i] * x[:, j]], axis=1)
        return feats @ rng.normal(size=feats.shape[1]) + rng.normal(scale=0.3)
    if kind == "subnet":
        h = np.maximum(x @ rng.normal(size=(f, 8)) + rng.normal(scale=0.3, size=8), 0)
        h = np.maximum(h @ rng.normal(size=(8, 8)) / np.sqrt(8) + rng.normal(scale=0.3, size=8), 0)
        return h @ rng.normal(size=8) / np.sqrt(8) + rng.normal(scale=0.3)
    raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")


def trained_like_table(fan_in: int, in_bits: int, in_signed: bool, out_bits: int, out_signed: bool,
                       kind: str, rng, relu: bool = True) -> np.ndarray:
    pre = _neuron_function(_input_values(fan_in, in_bits, in_signed), kind, rng)
    if relu:
        pre = np.maximum(pre, 0)
    lo, hi = code_range(out_bits, out_signed)
    span = np.percentile(np.abs(pre), 99) + 1e-9
    scale = span / max(hi, 1)
    return np.clip(np.round(pre / scale), lo, hi).astype(np.int64)


def trained_like_network_ir(seed: int = 0, n_inputs: int = 16, widths=(64, 32, 32, 32, 5), fan_in=4,
                            bits: int = 3, kind: str = "linear", input_signed: bool = True) -> NetworkIR:
    """A JSC-M-shaped network by default (16 inputs, 64/32/32/32/5 neurons, fan-in 4, 3 bits)."""
    rng = np.random.default_rng(seed)
    kinds = list(kind) if isinstance(kind, (list, tuple)) else [kind] * len(widths)
    in_q = QuantSpec(bits, input_signed, np.float32(1.0 / (1 << (bits - 1))), np.float32(0))
    layers, src, s_signed = [], n_inputs, input_signed
    for l, w in enumerate(widths):
        last = l == len(widths) - 1
        f = min(fan_in, src)
        idx = np.argsort(rng.random((w, src)), axis=1)[:, :f]
        o_signed = bool(last)
        tables = np.stack([trained_like_table(f, bits, s_signed, bits, o_signed, kinds[l], rng,
                                              relu=not last) for _ in range(w)])
        layers.append(LayerIR.from_dense(f"layer{l}", idx, bits, s_signed, bits, o_signed, tables,
                                         kind=kinds[l]))
        src, s_signed = w, o_signed
    out_q = QuantSpec(bits, True, np.float32(1.0), np.float32(0))
    return NetworkIR(in_q, n_inputs, layers, out_q, {"name": f"trained-like-{kind}-{seed}"}).validate()
