"""LUTs of the IR's non-table stages (thermometer encoder, GroupSum head, argmax): the estimator's
cost model against Yosys 0.23 synthesizing each stage module whole, on a DWN-sm-like design
(MNIST-size: 784 8-bit features, thresholds per feature, 1,000 one-bit LUT6 nodes, 10 classes).

    .venv/bin/python benchmarks/bench_stages.py [--features 784] [--thresholds 2] [--nodes 1000] [--no-yosys]

Prints one row per stage: estimate LUTs, Yosys LUTs, MUXF7/F8, carry cells, LUT levels, seconds."""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from lutnet._table import format_table
from lutnet.ir import GroupSum, LayerIR, NetworkIR, QuantSpec, ThermometerEncoder
from lutnet.rtl import stages


def design(features: int, thresholds: int, nodes: int, classes: int, bits: int, seed: int = 0) -> NetworkIR:
    rng = np.random.default_rng(seed)
    hi = (1 << bits) - 1
    enc = ThermometerEncoder([np.sort(rng.choice(np.arange(1, hi + 1), thresholds, replace=False))
                              for _ in range(features)])
    idx = np.argsort(rng.random((nodes, enc.n_outputs)), axis=1)[:, :6]
    layer = LayerIR.from_dense("l0", idx, 1, False, 1, False, rng.integers(0, 2, (nodes, 64)))
    head = GroupSum(np.arange(nodes) % classes)
    b, s = head.score_encoding(layer.out_bits, layer.out_signed)
    return NetworkIR(QuantSpec(bits, False, 1.0 / hi, 0), features, [layer], QuantSpec(b, s, 1.0, 0),
                     {"name": "dwn-sm-like"}, enc, head, True).validate()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", type=int, default=784)
    ap.add_argument("--thresholds", type=int, default=2)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--no-yosys", action="store_true", help="estimate only")
    a = ap.parse_args()
    ir = design(a.features, a.thresholds, a.nodes, a.classes, a.bits)
    est = stages.stage_stats(ir, "estimate")
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        mods = stages.stage_modules(ir)
        for st in stages.present(ir):
            row = [st, est[st]["luts"]]
            if not a.no_yosys:
                t0 = time.perf_counter()
                y = stages._yosys(*mods[st], cache)
                carry = sum(v for k, v in y["other_cells"].items() if k.startswith("CARRY"))
                row += [y["luts"], y["muxf7"], y["muxf8"], carry, y["lut_levels"], f"{time.perf_counter() - t0:.1f}"]
            rows.append(row)
    hdr = ["stage", "estimate LUTs"] + ([] if a.no_yosys else ["Yosys LUTs", "MUXF7", "MUXF8", "CARRY", "LUT lvl", "s"])
    print(f"{a.features} features x {a.bits} bits, {a.thresholds} thresholds each ({ir.n_encoded} comparators), "
          f"{a.nodes} one-bit outputs in {a.classes} classes")
    print(format_table([dict(zip(hdr, r)) for r in rows], hdr))


if __name__ == "__main__":
    main()
