"""Long profile of the verification harness (issue 9): random networks through every level.

    .venv/bin/python benchmarks/bench_harness.py --models 200 --vectors 10000 [--budget 900]

* ``--models`` Brevitas models (every neuron kind, float and power-of-two scales, pruning; the
  fixed-point half also as QKeras twins) checked at model / IR / ONNX, and as many IR networks
  (random tables: widths 1..8, both encodings, fan-in up to the layer width, depth 1..6, pruning,
  pipelining) checked at IR / ONNX;
* then, until ``--budget`` seconds have passed, IR networks through C++ (g++), Verilator (with
  ``verilator --lint-only -Wall``), Icarus and, every ``--synth-every``-th, the Yosys netlist.

Every model gets ``--vectors`` input vectors (the corner codes first, then random ones).  Prints a table (level, models,
vectors, mismatches, errors) and each failure's report (minimized vector, first differing neuron).
Exit status 1 when any level disagrees.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from lutnet.harness import check_levels, random_input_codes  # noqa: E402
from lutnet.harness.strategies import brevitas_models, ir_networks  # noqa: E402


class Tally:
    def __init__(self):
        self.models = defaultdict(int)
        self.vectors = defaultdict(int)
        self.mismatches = defaultdict(int)
        self.errors = defaultdict(int)
        self.failures = []

    def add(self, report, label):
        for lv in report.levels:
            self.models[lv] += 1
            self.vectors[lv] += report.n_vectors
        for m in report.mismatches:
            self.mismatches[m.level] += m.n_samples
        for lv in report.errors:
            self.errors[lv] += 1
        if not report.ok:
            self.failures.append(f"[{label}] {report}")

    def table(self) -> str:
        rows = [("level", "models", "vectors", "mismatches", "errors")]
        for lv in self.models:
            rows.append((lv, f"{self.models[lv]:,}", f"{self.vectors[lv]:,}", f"{self.mismatches[lv]:,}",
                         f"{self.errors[lv]:,}"))
        w = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join("  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r)) for r in rows)


def run_hypothesis(strategy, n, fn, seed):
    """Call ``fn(case)`` on ``n`` generated cases (no shrinking: failures are tallied, not raised)."""
    s = settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
                 suppress_health_check=list(HealthCheck), derandomize=False)
    from hypothesis import seed as hseed
    hseed(seed)(s(given(strategy)(fn)))()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=200)
    ap.add_argument("--vectors", type=int, default=10_000)
    ap.add_argument("--budget", type=float, default=900.0, help="seconds for the whole run (C++/RTL levels stop first)")
    ap.add_argument("--synth-every", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-qkeras", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tally = Tally()
    n_vec = args.vectors
    import torch
    torch.set_num_threads(1)

    def brevitas(case):
        codes = random_input_codes(case.ir, n_vec, seed=case.spec["seed"])
        tally.add(check_levels(case.model, codes, levels=("model", "ir", "onnx")), f"brevitas {case.spec}")
        fixed = case.spec["input"][0].endswith("_fixed")
        if not args.no_qkeras and fixed and tally.models["model(qkeras)"] < args.models // 2:
            from lutnet.keras.convert import from_brevitas
            km = from_brevitas(case.model)
            r = check_levels(km, codes, levels=("model",))
            r.levels = ["model(qkeras)"]
            for m in r.mismatches:
                m.level = "model(qkeras)"
            r.errors = {"model(qkeras)": v for v in r.errors.values()}  # noqa: B035 - at most one error per level
            tally.add(r, f"qkeras {case.spec}")
    run_hypothesis(brevitas_models(), args.models, brevitas, args.seed)
    print(f"framework models done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    def ir_onnx(case):
        tally.add(check_levels(case.ir, random_input_codes(case.ir, n_vec, seed=case.spec["seed"]), levels=("ir", "onnx")),
                  f"ir {case.spec}")
    run_hypothesis(ir_networks(), args.models, ir_onnx, args.seed + 1)
    print(f"IR/ONNX done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="bench-harness-"))
    count = [0]

    def hardware(case):
        if time.perf_counter() - t0 > args.budget:
            raise _Stop
        count[0] += 1
        levels = ["ir", "cpp", "verilog", "icarus"]
        if count[0] % args.synth_every == 1 and case.ir.lut_cost() < 400:
            levels.append("postsynth")
        r = check_levels(case.ir, random_input_codes(case.ir, n_vec, seed=case.spec["seed"]), levels=levels,
                         work_dir=work / str(count[0]), lint=True, **case.emit)
        tally.add(r, f"hw {case.spec} emit={case.emit}")
        print(f"  hardware network {count[0]}: widths {case.spec['widths']}, levels {levels}: "
              f"{'ok' if r.ok else 'MISMATCH'} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    try:
        run_hypothesis(ir_networks(max_depth=6, min_width=2), 10_000, hardware, args.seed + 2)
    except _Stop:
        pass

    print(f"\nharness long profile: {args.models} framework models, {args.models} IR networks, "
          f"{count[0]} through C++/RTL; {n_vec:,} vectors each (corner codes + random); "
          f"{time.perf_counter() - t0:.0f} s\n")
    print(tally.table())
    for f in tally.failures:
        print("\n" + f)
    return 1 if tally.failures else 0


class _Stop(Exception):
    """The time budget is spent: ends the Hypothesis loop of the C++/RTL levels."""


if __name__ == "__main__":
    sys.exit(main())
