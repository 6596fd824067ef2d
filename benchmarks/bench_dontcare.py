"""Don't-care logic minimisation (``lutnet.transforms.DontCareMinimize``) on trained models: LUTs
before/after (estimator and Yosys per-table synthesis, cached), rows rewritten, mismatches on the
care set (must be 0: the framework model against the rewritten IR through the harness), and how
often the original and the rewritten network differ outside the care set.

The care set is always the training split.  Two disagreement figures are measured:

* ``val``: the rule applied with the care set of the training split minus a validation part carved
  from it (``train_val_split``, 15 %, seed 0), disagreement measured on that validation part: the
  figure a design decision may look at;
* ``test``: the rule applied with the care set of the whole training split, disagreement and
  accuracy measured on the test set (reported, never used to choose).

Usage::

    .venv/bin/python benchmarks/bench_dontcare.py [--yosys] [--models digits-s,digits-lut6] \\
        [--dwn runs/dwn-mnist] [--rules support,cofactor,zero] [--json benchmarks/out/dontcare.json]

``--models``: zoo configs trained with ``lutnet train NAME -o <runs>/NAME`` when their checkpoint is
missing (about a minute each on 2 cores).  ``--dwn DIR``: an output directory of
``benchmarks/train_dwn_mnist.py`` (``dwn.pt`` + ``dwn.lutir.npz``; MNIST).  ``--yosys``: per-table
Yosys synthesis (Yosys 0.23 ``synth_xilinx``, cached by table hash; minutes for 8-bit tables).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUTNET_SHARED_DATA", ROOT.parent / "shared" / "data"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="digits-s,digits-lut6", help="zoo configs (comma list; '' for none)")
    p.add_argument("--runs", default="runs/dontcare", help="where the zoo models are (or get) trained")
    p.add_argument("--dwn", default="", help="output directory of benchmarks/train_dwn_mnist.py (MNIST DWN)")
    p.add_argument("--rules", default="support,cofactor,zero")
    p.add_argument("--yosys", action="store_true", help="also Yosys per-table synthesis of the tables (cached)")
    p.add_argument("--yosys-design", action="store_true",
                   help="also Yosys on the whole design (build method 'yosys', when this lutnet has it)")
    p.add_argument("--yosys-rules", default="", help="rules synthesized per table (default: all of --rules)")
    p.add_argument("--yosys-bin", default=None, help="Yosys executable of the per-table runs [lutnet's find_tool]")
    p.add_argument("--rtl", default="", help="also simulate the rewritten design on every care input at these harness "
                                             "levels (e.g. verilog,cpp) for the first rule")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--json", default="", help="write the rows as JSON")
    return p.parse_args(argv)


def _zoo_model(name: str, runs: Path):
    """(model, ir, X_train, y_train, X_test, y_test) of a zoo config, trained if its checkpoint is missing."""
    from lutnet.cli import main as lutnet_main
    from lutnet.data import load_config_data
    from lutnet.frontend import load_any_checkpoint
    ckpt = runs / name / "checkpoint.pt"
    if not ckpt.is_file():
        rc = lutnet_main(["train", name, "-o", str(runs / name), "-q"])
        if rc:
            sys.exit(f"lutnet train {name} failed ({rc})")
    fe, model, cfg = load_any_checkpoint(ckpt)
    ir = fe.to_ir(model, metadata={"name": name})
    ds = load_config_data(cfg.data)
    return model, ir, ds.X_train, ds.y_train, ds.X_test, ds.y_test, cfg.train.val_fraction


def _dwn_model(path: Path):
    """The DWN model (rebuilt from ``dwn.pt`` with train_dwn_mnist's ``build``; None if that fails),
    its IR and MNIST."""
    import torch

    from lutnet.data import load_dataset
    from lutnet.ir import NetworkIR
    ir = NetworkIR.load(path / "dwn.lutir.npz")
    ck = torch.load(path / "dwn.pt", weights_only=False)
    args = argparse.Namespace(**ck["args"])
    ds = load_dataset("mnist", path=getattr(args, "data", str(SHARED / "mnist")))
    X_train = ds.X_train.reshape(len(ds.X_train), -1).astype(np.float32)
    X_test = ds.X_test.reshape(len(ds.X_test), -1).astype(np.float32)
    model = None
    try:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from train_dwn_mnist import build, parse_args  # options added since the run get their defaults
        model = build(argparse.Namespace(**{**vars(parse_args([])), **ck["args"]}), X_train.shape[1])
        model.load_state_dict(ck["state"])
        model.eval()
    except Exception as e:  # noqa: BLE001 - reported: the care-set check then runs IR against IR
        print(f"DWN model not rebuilt ({type(e).__name__}: {e}); care-set check: saved IR vs rewritten IR")
        model = None
    lim = getattr(args, "train_limit", 0) or len(X_train)
    return model, ir, X_train[:lim], ds.y_train[:lim], X_test, ds.y_test, 0.1


def _luts(ir, a) -> int:
    """Estimated LUTs of the whole design (tables and stages)."""
    from lutnet.rtl.report import build_report
    return int(build_report(ir, method="estimate", progress=False)["total"]["luts"])


def _yosys_tables(ir, a):
    """Sum of per-table Yosys LUTs over the neurons (lutnet.rtl.synth.synth_tables, cached by table hash)."""
    from lutnet.rtl import synth
    tables = [(L.table(k), int(L.address_bits[k]), int(L.out_bits[k])) for L in ir.layers for k in range(L.out_features)]
    return int(sum(s["luts"] for s in synth.synth_tables(tables, jobs=a.jobs, cache_dir=a.cache_dir, progress=True,
                                                                 yosys=a.yosys_bin)))


def _yosys_design(ir, a):
    """LUTs of the whole emitted design synthesized in one Yosys run (build method 'yosys' where it
    synthesizes the whole design; None where this lutnet's 'yosys' method is per table)."""
    from lutnet.rtl.report import build_report
    rep = build_report(ir, method="yosys", jobs=a.jobs, cache_dir=a.cache_dir, progress=True)
    if (rep.get("synthesis") or {}).get("method") != "yosys" or "whole" not in str(rep.get("flow", "")).lower() + str(
            (rep.get("synthesis") or {}).get("flow", "")).lower():
        return None
    return int(rep["total"]["luts"])


def _yosys_versions(a) -> str:
    from lutnet.rtl.tools import find_tool, tool_version
    out = []
    if a.yosys:
        out.append(f"tables: {tool_version(a.yosys_bin or find_tool('yosys'))}")
    if a.yosys_design:
        out.append(f"design: {tool_version(find_tool('yosys'))}")
    return "; ".join(out) or "-"


def run_model(name, model, ir, X_tr, y_tr, X_te, y_te, val_fraction, a) -> list:
    from lutnet.data.dataset import train_val_split
    from lutnet.transforms import DontCareMinimize, check_care_set, disagreement
    rules = [r for r in a.rules.split(",") if r]
    yrules = [r for r in (a.yosys_rules or a.rules).split(",") if r]
    X_fit, _, X_val, y_val = train_val_split(X_tr, y_tr, val_fraction=val_fraction, seed=0)
    base_est = _luts(ir, a)
    base_yt = _yosys_tables(ir, a) if a.yosys else None
    base_yd = _yosys_design(ir, a) if a.yosys_design else None
    rows = []
    for rule in rules:
        t0 = time.perf_counter()
        new, rep = DontCareMinimize(X_tr, "train", rule=rule, source=f"{name} X_train").apply(ir)
        secs = time.perf_counter() - t0
        care_codes = new.quantize_input(X_tr)
        rtl = tuple(x for x in a.rtl.split(",") if x) if rule == rules[0] else ()
        checks = check_care_set(model if model is not None else ir, new, care_codes, rtl_levels=rtl,
                                work_dir=str((Path(a.runs) / "sim").resolve()))
        harness_bad = sum(sum(r.mismatch_counts().values()) + len(r.errors) for r in checks)
        for r in checks:
            if not r.ok:
                print(r, r.errors)
        val_new, _ = DontCareMinimize(X_fit, "train", rule=rule).apply(ir)
        dv = disagreement(ir, val_new, X_val, y_val)
        dt = disagreement(ir, new, X_te, y_te)
        row = {"model": name, "rule": rule, "care_samples": rep.care_samples, "rows": rep.rows,
               "unreached": rep.rows_unreached, "rewritten": rep.rows_rewritten, "care_mismatches": rep.care_mismatches,
               "harness_mismatches": int(harness_bad),
               "harness_levels": ",".join(["model" if model is not None else "ir", *rtl]),
               "est_before": base_est, "est_after": _luts(new, a),
               "yosys_tables_before": base_yt,
               "yosys_tables_after": _yosys_tables(new, a) if a.yosys and rule in yrules else None,
               "yosys_design_before": base_yd,
               "yosys_design_after": _yosys_design(new, a) if a.yosys_design else None,
               "val_outputs_differ_pct": 100 * dv["outputs_differ_rate"],
               "val_classes_differ_pct": 100 * dv["classes_differ_rate"],
               "test_outputs_differ_pct": 100 * dt["outputs_differ_rate"],
               "test_classes_differ_pct": 100 * dt["classes_differ_rate"],
               "test_acc_before": 100 * dt["accuracy_before"], "test_acc_after": 100 * dt["accuracy_after"],
               "seconds": round(secs, 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


COLS = [("model", "model", "{}"), ("rule", "rule", "{}"), ("care", "care_samples", "{:,}"), ("rows", "rows", "{:,}"),
        ("unreached", "unreached", "{:,}"), ("rewritten", "rewritten", "{:,}"),
        ("care mism.", "harness_mismatches", "{}"), ("levels", "harness_levels", "{}"), ("est LUTs", None, None),
        ("Yosys tables LUTs", None, None),
        ("Yosys design LUTs", None, None),
        ("val out/cls diff %", None, None), ("test out/cls diff %", None, None), ("test acc %", None, None),
        ("s", "seconds", "{:.2f}")]


def _cell(r, head):
    pct = lambda x: f"{x:.2f}"
    if head == "est LUTs":
        return f"{r['est_before']:,} -> {r['est_after']:,} ({100 * (r['est_after'] / r['est_before'] - 1):+.1f}%)"
    if head.startswith("Yosys"):
        k = "yosys_tables" if "tables" in head else "yosys_design"
        b, x = r[k + "_before"], r[k + "_after"]
        return "-" if b is None or x is None else f"{b:,} -> {x:,} ({100 * (x / b - 1):+.1f}%)"
    if head == "val out/cls diff %":
        return f"{pct(r['val_outputs_differ_pct'])} / {pct(r['val_classes_differ_pct'])}"
    if head == "test out/cls diff %":
        return f"{pct(r['test_outputs_differ_pct'])} / {pct(r['test_classes_differ_pct'])}"
    if head == "test acc %":
        return f"{r['test_acc_before']:.2f} -> {r['test_acc_after']:.2f}"
    return None


def format_rows(rows) -> str:
    cells = [[c[0] for c in COLS]]
    for r in rows:
        cells.append([_cell(r, h) or fmt.format(r[k]) for h, k, fmt in COLS])
    w = [max(len(row[i]) for row in cells) for i in range(len(COLS))]
    line = lambda row: "  ".join(x.rjust(w[i]) if i > 1 else x.ljust(w[i]) for i, x in enumerate(row))
    return "\n".join([line(cells[0]), "  ".join("-" * x for x in w)] + [line(r) for r in cells[1:]])


def main(argv=None):
    a = parse_args(argv)
    import torch
    torch.set_num_threads(1)
    os.chdir(ROOT)
    rows = []
    runs = Path(a.runs)
    for name in [m for m in a.models.split(",") if m]:
        rows += run_model(name, *_zoo_model(name, runs), a)
    if a.dwn:
        rows += run_model(f"dwn-mnist ({Path(a.dwn).name})", *_dwn_model(Path(a.dwn)), a)
    print()
    print(format_rows(rows))
    print("care mism.: harness mismatches on all care inputs at the listed levels (must be 0): the framework model "
          "('ir': the saved IR) vs the rewritten IR at every layer, RTL levels: the rewritten design vs the rewritten IR; "
          "val: care set = training split minus a 15 % validation part, disagreement on that part; test: care set = "
          "whole training split, disagreement and accuracy on the test set (measured, not used to choose); "
          "out/cls diff: samples whose network output / predicted class differs. est: lutnet estimator, whole design; "
          "Yosys tables: sum of per-table synth_xilinx runs over the neurons (stages not included); Yosys design: "
          f"the whole emitted design in one run. Yosys {_yosys_versions(a)}")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(rows, indent=1))
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
