"""Test generators: random LUT networks straight in the IR (no training), for tests and benchmarks
of emitters, simulators and estimators.  Production code never imports this module (input vectors
for testbenches come from ``lutnet.vectors``)."""
from __future__ import annotations

import numpy as np

from .ir import LayerIR, NetworkIR, QuantSpec, code_range


def random_network_ir(seed: int = 0, n_inputs: int = 8, widths=(6, 4), fan_in=3, bits=2,
                      signed=False, input_bits=None, input_signed=None, out_bits=None,
                      out_signed=None, kind: str = "random") -> NetworkIR:
    """A network whose layer ``l`` has ``widths[l]`` neurons, each reading ``fan_in`` distinct
    inputs of the previous layer and holding a uniformly random table.

    ``fan_in``, ``bits`` and ``signed`` are an int/bool or one per layer; ``bits``/``signed`` give
    each layer's *output* encoding; the network input uses ``input_bits``/``input_signed``
    (default: layer 0's). ``out_bits``/``out_signed`` override the last layer's encoding."""
    rng = np.random.default_rng(seed)
    n = len(widths)
    per = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * n
    fan_in, bits, signed = per(fan_in), per(bits), per(signed)
    if out_bits is not None:
        bits[-1] = out_bits
    if out_signed is not None:
        signed[-1] = out_signed
    ib = bits[0] if input_bits is None else input_bits
    isg = signed[0] if input_signed is None else input_signed
    in_q = QuantSpec(ib, isg, np.float32(1.0 / (1 << ib)), np.float32(0))
    layers, src, src_bits, src_signed = [], n_inputs, ib, isg
    for l, w in enumerate(widths):
        f = min(fan_in[l], src)
        idx = np.argsort(rng.random((w, src)), axis=1)[:, :f]
        lo, hi = code_range(bits[l], signed[l])
        tables = rng.integers(lo, hi + 1, size=(w, 1 << (f * src_bits)))
        layers.append(LayerIR.from_dense(f"layer{l}", idx, src_bits, src_signed, bits[l], signed[l],
                                         tables, kind=kind))
        src, src_bits, src_signed = w, bits[l], signed[l]
    out_q = QuantSpec(bits[-1], signed[-1], np.float32(1.0), np.float32(0))
    return NetworkIR(in_q, n_inputs, layers, out_q, {"name": f"random-{seed}"}).validate()
