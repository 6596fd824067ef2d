"""RTL benchmark: emission, Verilator compile + 10k/100k-vector simulation, Icarus simulation,
Yosys build (cold and cached), estimator time and error against Yosys.

    .venv/bin/python benchmarks/bench_rtl.py                 # JSC-M-size network, all steps
    .venv/bin/python benchmarks/bench_rtl.py --yosys cached  # Yosys only if the cache is warm
    .venv/bin/python benchmarks/bench_rtl.py --small         # 8 inputs, 6/4 neurons (quick)

The network is JSC-M-shaped (16 inputs, 64/32/32/32/5 neurons, fan-in 4, 3-bit codes) with
trained-like tables (lutnet.rtl.samples).  Times are wall-clock on this machine; CPU time is shown
where other load could distort wall time."""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lutnet.rtl import estimate  # noqa: E402
from lutnet.rtl.emit import write_verilog  # noqa: E402
from lutnet.rtl.report import build_report  # noqa: E402
from lutnet.rtl.samples import trained_like_network_ir  # noqa: E402
from lutnet.rtl.simulate import compare, prepare_simulator, run_simulator  # noqa: E402
from lutnet.rtl.tools import cache_root  # noqa: E402
from lutnet.testing import random_network_ir  # noqa: E402
from lutnet.vectors import random_input_codes  # noqa: E402


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="small network instead of JSC-M size")
    ap.add_argument("--kind", default="linear", choices=("linear", "poly", "subnet"))
    ap.add_argument("--yosys", default="both", choices=("both", "cached", "skip"),
                    help="both: cold (fresh cache) then cached; cached: only with the shared cache")
    ap.add_argument("--yosys-cache", default=None, help="Yosys cache dir [$LUTNET_CACHE_DIR/yosys-bench]")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-sim", action="store_true")
    a = ap.parse_args(argv)

    if a.small:
        ir = random_network_ir(0, n_inputs=8, widths=(6, 4), fan_in=3, bits=2, signed=True)
        name = "random 8-in 6/4, F=3, 2-bit"
    else:
        ir = trained_like_network_ir(0, kind=a.kind)
        name = f"JSC-M size 16-in 64/32/32/32/5, F=4, 3-bit ({a.kind})"
    rows = []

    def add(step, seconds, note="", cpu=None):
        rows.append((step, seconds, cpu, note))
        cpu_s = f" (cpu {cpu:.1f} s)" if cpu is not None else ""
        print(f"  {step}: {seconds:.2f} s{cpu_s} {note}", file=sys.stderr, flush=True)

    print(f"network: {name}", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="lutnet-bench-"))
    try:
        for style in ("rom", "case"):
            t0 = time.perf_counter()
            info = write_verilog(ir, tmp / f"v_{style}", table_style=style)
            size = sum((tmp / f"v_{style}" / f).stat().st_size for f in info.files + info.mem_files)
            add(f"emit Verilog ({style})", time.perf_counter() - t0,
                f"{len(info.files)} files, {size / 1e6:.1f} MB, latency {info.latency_cycles}")

        if not a.no_sim:
            x100 = random_input_codes(ir, 100_000, seed=1)
            for sim, sizes in (("verilator", (10_000, 100_000)), ("icarus", (10_000,))):
                if shutil.which("verilator" if sim == "verilator" else "iverilog") is None:
                    add(f"{sim}", float("nan"), "not installed (make tools)")
                    continue
                c0, t0 = child_cpu(), time.perf_counter()
                sim_dir, info, build_s, cached = prepare_simulator(ir, simulator=sim, work_dir=tmp / "sim",
                                                                   table_style="rom")
                add(f"{sim} compile (rom)", time.perf_counter() - t0, "", child_cpu() - c0)
                for n in sizes:
                    out, lat, secs = run_simulator(sim_dir, info, ir, x100[:n], sim)
                    mm = compare(ir, x100[:n], out)["mismatches"]
                    add(f"{sim} sim {n // 1000}k vectors", secs,
                        f"{mm} mismatches, latency {lat}/{info.latency_cycles}")
            if shutil.which("verilator"):
                c0, t0 = child_cpu(), time.perf_counter()
                prepare_simulator(ir, simulator="verilator", work_dir=tmp / "sim", table_style="case")
                add("verilator compile (case)", time.perf_counter() - t0, "", child_cpu() - c0)
                sd, inf, _, _ = prepare_simulator(ir, simulator="verilator", work_dir=tmp / "sim",
                                                  table_style="case")
                out, lat, secs = run_simulator(sd, inf, ir, x100[:10_000], "verilator")
                add("verilator sim 10k (case)", secs, f"{compare(ir, x100[:10_000], out)['mismatches']} mismatches")

        t0 = time.process_time()
        est = build_report(ir, method="estimate", progress=False)
        add("estimator (build_report)", time.process_time() - t0, f"{est['total']['luts']} LUTs (cpu time)")

        yrep = None
        if a.yosys != "skip" and shutil.which("yosys"):
            shared = Path(a.yosys_cache) if a.yosys_cache else cache_root() / "yosys-bench"
            if a.yosys == "both":
                cold = tmp / "ycold"
                c0, t0 = child_cpu(), time.perf_counter()
                yrep = build_report(ir, method="yosys-tables", jobs=a.jobs, cache_dir=cold, progress=True)
                add(f"yosys build cold (jobs={a.jobs})", time.perf_counter() - t0,
                    f"{yrep['total']['luts']} LUTs", child_cpu() - c0)
                shared.mkdir(parents=True, exist_ok=True)
                for f in cold.glob("*.json"):
                    shutil.copy(f, shared / f.name)
            c0, t0 = child_cpu(), time.perf_counter()
            yrep = build_report(ir, method="yosys-tables", jobs=a.jobs, cache_dir=shared, progress=True)
            n_cached = sum(r["cached_tables"] for r in yrep["layers"])
            add("yosys build cached", time.perf_counter() - t0,
                f"{yrep['total']['luts']} LUTs, {n_cached}/{sum(r['neurons'] for r in yrep['layers'])} "
                f"tables from cache", child_cpu() - c0)
        if yrep is not None:
            e, y = est["total"]["luts"], yrep["total"]["luts"]
            per = []
            for le, ly in zip(est["layers"], yrep["layers"]):
                per.append(f"{le['luts']}/{ly['luts']}")
            add("estimator error vs Yosys (total LUTs)", 0.0,
                f"{100 * (e - y) / y:+.1f}% (est {e} vs yosys {y}; per layer est/yosys {' '.join(per)}); "
                f"levels est {est['total']['lut_levels']} vs yosys {yrep['total']['lut_levels']}")
            from lutnet.rtl import synth
            items = []
            flat = [(L, k) for L in ir.layers for k in range(L.out_features)]
            res = synth.synth_tables([(L.table(k), int(L.address_bits[k]), int(L.out_bits[k])) for L, k in flat],
                                     cache_dir=shared, progress=False)
            for (L, k), r in zip(flat, res):
                items.append((L.table(k), L.in_bits[k][L.indices[k] >= 0], int(L.out_bits[k]), r))
            v = estimate.validate_against_yosys(items)
            add("estimator error per table", 0.0,
                f"mean |err| {v['mean_abs_rel_err_pct']}%, median {v['median_abs_rel_err_pct']}%, max "
                f"{v['max_abs_rel_err_pct']}% over {v['n_large']} tables; LUT levels exact "
                f"{v['lut_levels_exact_pct']}%")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nlutnet RTL benchmark: {name}  (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")
    w = max(len(r[0]) for r in rows)
    print(f"{'step'.ljust(w)}  {'seconds':>9}  {'cpu s':>7}  notes")
    print(f"{'-' * w}  {'-' * 9}  {'-' * 7}  -----")
    for step, secs, cpu, note in rows:
        s = "" if step.startswith("estimator error") else f"{secs:9.2f}"
        c = f"{cpu:7.1f}" if cpu is not None else ""
        print(f"{step.ljust(w)}  {s:>9}  {c:>7}  {note}")


if __name__ == "__main__":
    main()
