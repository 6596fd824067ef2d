"""Scale-out figures: Ray start-up, sweep throughput with 1 and 2 workers, and Yosys fan-out
(thread pool vs Ray tasks on the same cores, cold cache).

    .venv/bin/python benchmarks/bench_sweep.py [--trials 8] [--epochs 3] [--yosys-tables 0]

Sweep: the digits-s network family (fan-in, hidden bits, neuron kind, widths), random search, no
early stopping, ``--trials`` trials of ``--epochs`` epochs, one CPU per trial; "workers" is the number
of CPUs the embedded Ray gets (1: trials run one after another; 2: two at a time).
Yosys: the unique tables of a JSC-M-size network (LogicNets JSC-M: 16 inputs x 3 bits, 64-32-32-32-5,
fan-in 4, 12-bit tables; random weights), synthesized into an empty cache with 2 thread-pool jobs and
with Ray tasks on a 2-CPU embedded Ray.  ``--yosys-tables N`` keeps the first N unique tables
(0: all of them, about 25 min per method on 2 idle cores)."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def ray_startup(runs: int = 3) -> list[float]:
    import ray
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)

        @ray.remote
        def one():
            return 1
        ray.get(one.remote())  # a first task: a worker process has started
        times.append(time.perf_counter() - t)
        ray.shutdown()
    return times


def sweep_throughput(workers: int, trials: int, epochs: int) -> dict:
    import ray

    from lutnet.sweep import parse_spec, sweep
    spec = parse_spec({"name": f"bench-{workers}", "base": "digits-s", "search": "random", "num_samples": trials,
                       "seed": 0, "space": {"model.fan_in": {"choice": [3, 4]},
                                            "model.hidden_bits": {"choice": [1, 2]},
                                            "model.neuron.kind": {"choice": ["linear", "poly"]},
                                            "model.layers": {"choice": [[64, 10], [128, 48, 10]]},
                                            "train.epochs": epochs}}, "bench")
    out = Path(tempfile.mkdtemp(prefix="lutnet-bench-sweep-"))
    try:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        t = time.perf_counter()
        res = sweep(spec, out / "s", verbose=0)
        secs = time.perf_counter() - t
    finally:
        ray.shutdown()
        shutil.rmtree(out, ignore_errors=True)
    ok = sum(r["status"] == "ok" for r in res["trials"])
    return {"workers": workers, "trials": len(res["trials"]), "finished": ok, "seconds": round(secs, 1),
            "trials/min": round(60 * ok / secs, 2)}


def jscm_tables(limit: int):
    import torch
    from bench_tables import SHAPES

    from lutnet.export import to_ir
    from lutnet.rtl import emit
    torch.manual_seed(0)
    ir = to_ir(SHAPES["LogicNets JSC-M (64,32,32,32,5; F=4; 3b)"]())
    seen, tables = set(), []
    for L in ir.layers:
        for k in range(L.out_features):
            t, a, o = L.table(k), int(L.address_bits[k]), int(L.out_bits[k])
            key = emit.table_key(t, a, o)
            if key not in seen:
                seen.add(key)
                tables.append((t, a, o))
    return tables[:limit] if limit else tables


def yosys_fanout(limit: int) -> list[dict]:
    import ray

    from lutnet.rtl.synth import synth_tables
    tables = jscm_tables(limit)
    rows = []
    for executor in ("threads", "ray"):
        cache = Path(tempfile.mkdtemp(prefix="lutnet-bench-yosys-"))
        try:
            if executor == "ray":
                t = time.perf_counter()
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
                start = time.perf_counter() - t
            else:
                start = 0.0
            t = time.perf_counter()
            res = synth_tables(tables, jobs=2, cache_dir=cache, progress=False, executor=executor)
            secs = time.perf_counter() - t
        finally:
            if executor == "ray":
                ray.shutdown()
            shutil.rmtree(cache, ignore_errors=True)
        rows.append({"executor": executor, "tables": len(tables), "LUTs": sum(r["luts"] for r in res),
                     "wall s": round(secs, 1), "Ray start s": round(start, 1) if executor == "ray" else "-"})
    return rows


def main():
    from lutnet._table import format_table
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--yosys-tables", type=int, default=0, help="first N unique JSC-M tables (0: all)")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: startup,sweep,yosys")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start", flush=True)
    if "startup" not in skip:
        t = ray_startup()
        print(format_table([{"Ray embedded start-up (init + first task)": "seconds", "min": round(min(t), 2),
                             "median": round(sorted(t)[len(t) // 2], 2), "max": round(max(t), 2)}]), "\n", flush=True)
    if "sweep" not in skip:
        rows = [sweep_throughput(w, args.trials, args.epochs) for w in (1, 2)]
        print(format_table(rows), "\n", flush=True)
    if "yosys" not in skip:
        print(format_table(yosys_fanout(args.yosys_tables)), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
