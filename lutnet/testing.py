"""Test generators: random LUT networks straight in the IR (no training), for tests and benchmarks
of emitters, simulators and estimators.  Production code never imports this module (input vectors
for testbenches come from ``lutnet.vectors``)."""
from __future__ import annotations

import numpy as np

from .ir import GroupSum, LayerIR, NetworkIR, QuantSpec, ThermometerEncoder, code_range


def random_thresholds(rng, n_features: int, per_feature, code_min: int, code_max: int) -> list:
    """Strictly increasing thresholds for each feature, drawn from ``[code_min, code_max + 1]`` (the
    two ends give constant bits: always 1 / always 0, which emitters must handle too)."""
    per = list(per_feature) if isinstance(per_feature, (list, tuple)) else [per_feature] * n_features
    span = np.arange(code_min, code_max + 2, dtype=np.int64)
    return [np.sort(rng.choice(span, size=min(max(1, int(k)), len(span)), replace=False)) for k in per]


def random_groups(rng, n_out: int, n_classes: int) -> np.ndarray:
    """A class for each of ``n_out`` outputs, every class 0..n_classes-1 non-empty."""
    if not 1 <= n_classes <= n_out:
        raise ValueError(f"n_classes={n_classes} must lie in 1..n_out={n_out}")
    g = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n_out - n_classes)])
    return rng.permutation(g).astype(np.int64)


def _with_adders(layer: LayerIR, adders, rng, lo: int, hi: int) -> LayerIR:
    """``layer`` with the neurons in ``adders`` made sum-address neurons with random tables on the sum."""
    probe = LayerIR(layer.name, layer.indices, layer.in_bits, layer.in_signed, layer.out_bits, layer.out_signed,
                    layer.tables, layer.offsets, layer.kind, layer.attrs, adders)
    rows = np.left_shift(1, probe.address_bits)
    parts = [rng.integers(lo, hi + 1, size=int(rows[k])) if adders[k] else layer.table(k)
             for k in range(layer.out_features)]
    offsets = np.concatenate([[0], np.cumsum(rows)])
    return LayerIR(layer.name, layer.indices, layer.in_bits, layer.in_signed, layer.out_bits, layer.out_signed,
                   np.concatenate(parts), offsets, layer.kind, dict(layer.attrs), adders)


def random_network_ir(seed: int = 0, n_inputs: int = 8, widths=(6, 4), fan_in=3, bits=2,
                      signed=False, input_bits=None, input_signed=None, out_bits=None,
                      out_signed=None, kind: str = "random", thermometer=None, n_classes=None,
                      argmax: bool = False, sum_address=0.0, head_weights: int = 0) -> NetworkIR:
    """A network whose layer ``l`` has ``widths[l]`` neurons, each reading ``fan_in`` distinct
    inputs of the previous layer and holding a uniformly random table.

    ``fan_in``, ``bits`` and ``signed`` are an int/bool or one per layer; ``bits``/``signed`` give
    each layer's *output* encoding; the network input uses ``input_bits``/``input_signed``
    (default: layer 0's). ``out_bits``/``out_signed`` override the last layer's encoding.

    Stages: ``thermometer`` (an int or one int per feature: thresholds per raw feature) adds a
    :class:`~lutnet.ir.ThermometerEncoder` with random thresholds; ``n_classes`` adds a
    :class:`~lutnet.ir.GroupSum` head over the last layer's outputs (``head_weights=k``: random
    power-of-two weights 1..2**k, drawn after everything else); ``argmax`` adds the argmax.
    ``sum_address``: the fraction of neurons (a float, or one per layer) made sum-address (adder)
    neurons, each with a random table on the sum of its input codes."""
    rng = np.random.default_rng(seed)
    n = len(widths)
    per = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * n
    fan_in, bits, signed, sum_frac = per(fan_in), per(bits), per(signed), per(sum_address)
    if out_bits is not None:
        bits[-1] = out_bits
    if out_signed is not None:
        signed[-1] = out_signed
    ib = bits[0] if input_bits is None else input_bits
    isg = signed[0] if input_signed is None else input_signed
    in_q = QuantSpec(ib, isg, np.float32(1.0 / (1 << ib)), np.float32(0))
    encoder = None
    src, src_bits, src_signed = n_inputs, ib, isg
    if thermometer is not None:
        encoder = ThermometerEncoder(random_thresholds(rng, n_inputs, thermometer, in_q.code_min, in_q.code_max))
        src, src_bits, src_signed = encoder.n_outputs, 1, False
    layers = []
    for l, w in enumerate(widths):
        f = min(fan_in[l], src)
        idx = np.argsort(rng.random((w, src)), axis=1)[:, :f]
        lo, hi = code_range(bits[l], signed[l])
        tables = rng.integers(lo, hi + 1, size=(w, 1 << (f * src_bits)))
        layer = LayerIR.from_dense(f"layer{l}", idx, src_bits, src_signed, bits[l], signed[l], tables, kind=kind)
        adders = (rng.random(w) < sum_frac[l]) & (f >= 2)
        if adders.any():
            layer = _with_adders(layer, adders, rng, lo, hi)
        layers.append(layer)
        src, src_bits, src_signed = w, bits[l], signed[l]
    head = None
    ob, osg = bits[-1], signed[-1]
    if n_classes is not None:
        head = GroupSum(random_groups(rng, widths[-1], n_classes))
        if head_weights:
            head = GroupSum(head.groups, weights=1 << rng.integers(0, head_weights + 1, size=head.groups.size))
        ob, osg = head.score_encoding(layers[-1].out_bits, layers[-1].out_signed)
    out_q = QuantSpec(ob, osg, np.float32(1.0), np.float32(0))
    return NetworkIR(in_q, n_inputs, layers, out_q, {"name": f"random-{seed}"}, encoder, head,
                     bool(argmax)).validate()
