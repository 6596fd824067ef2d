"""Sweep results: a table of every trial, the Pareto front (validation accuracy vs LUTs), test
accuracy for the front's points only (after the search, from their exported tables), JSON/CSV and a
plot."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np

from .spec import SweepSpec

COLUMNS = ("trial", "status", "val_acc", "luts", "lut_cost", "lut_levels", "epoch", "train_seconds", "front",
           "test_acc", "luts_yosys", "error")


def pareto_front(points: list[tuple[float, float]], modes=("max", "min")) -> list[int]:
    """Indices of the non-dominated points (first objective ``modes[0]``, second ``modes[1]``).
    Ties: identical points are all on the front."""
    sign = np.array([1.0 if m == "max" else -1.0 for m in modes])
    p = np.asarray(points, dtype=float) * sign if len(points) else np.zeros((0, 2))
    front = []
    for i in range(len(p)):
        dominated = np.any(np.all(p >= p[i], axis=1) & np.any(p > p[i], axis=1))
        if not dominated:
            front.append(i)
    return front


def _status(r) -> str:
    if r.error is not None:
        return "error"
    m = r.metrics or {}
    if not m.get("final"):
        return "stopped"  # early-stopped by the scheduler
    return "ok"


def collect(results, spec: SweepSpec) -> list[dict]:
    """One row per trial of a Ray Tune ResultGrid (params flattened)."""
    rows = []
    for r in results:
        m = dict(r.metrics or {})
        row = {"trial": m.get("trial_id") or Path(r.path).name, "status": _status(r)}
        row.update({k: (r.config or {}).get(k) for k in spec.space})
        for k in ("val_acc", "luts", "lut_cost", "lut_levels", "epoch", "train_seconds"):
            row[k] = m.get(k)
        if r.error is not None:
            msg = str(r.error).strip().splitlines()
            row["error"] = next((ln for ln in reversed(msg) if "Error" in ln), msg[-1] if msg else "error")[:300]
        row["_checkpoint"] = r.checkpoint.path if (r.checkpoint is not None and row["status"] == "ok") else None
        rows.append(row)
    return rows


def mark_front(rows: list[dict], spec: SweepSpec) -> list[dict]:
    objs = list(spec.objectives)
    if len(objs) == 1:
        objs, modes = [objs[0], "luts"], [spec.objectives[objs[0]], "min"]
    else:
        modes = [spec.objectives[o] for o in objs]
    ok = [r for r in rows if r["status"] == "ok" and all(r.get(o) is not None for o in objs)]
    idx = pareto_front([(r[objs[0]], r[objs[1]]) for r in ok], modes)
    for r in rows:
        r["front"] = False
    for i in idx:
        ok[i]["front"] = True
    return [ok[i] for i in idx]


def evaluate_front(front: list[dict], spec: SweepSpec, out: Path, yosys: bool = False, jobs: int = 2):
    """Test accuracy (from each front design's tables: bit-exact with its model) and, with
    ``yosys``, Yosys LUTs; copies each front design's checkpoint and IR under ``out/front``."""
    from ..config import load_config
    from ..data import load_dataset
    from ..ir import NetworkIR
    cfg = load_config(spec.base)
    kwargs = {"path": cfg.data.path} if cfg.data.path else {}
    ds = load_dataset(cfg.data.name, **kwargs)
    if spec.limit:
        ds = ds.subset(int(spec.limit))
    for r in front:
        src = Path(r["_checkpoint"])
        dst = out / "front" / str(r["trial"])
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst)
        ir = NetworkIR.load(dst / "model.lutir.npz")
        r["test_acc"] = float((ir.predict(ds.X_test) == np.asarray(ds.y_test)).mean())
        r["design"] = str(dst)
        if yosys:
            from ..rtl.report import build_report
            rep = build_report(ir, method="yosys-tables", jobs=jobs, progress=False)
            r["luts_yosys"] = int(rep["total"]["luts"])


def write_results(rows: list[dict], spec: SweepSpec, out: Path, info: dict) -> dict:
    """``out/results.json``, ``out/trials.csv`` and ``out/pareto.png``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    params = list(spec.space)
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    (out / "results.json").write_text(json.dumps({"spec": spec.name, "objectives": spec.objectives,
                                                   "engine": info, "trials": clean}, indent=1, default=str))
    cols = ["trial", "status", *params, *[c for c in COLUMNS if c not in ("trial", "status")], "design"]
    with open(out / "trials.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(clean)
    paths = {"json": str(out / "results.json"), "csv": str(out / "trials.csv")}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return paths
    ok = [r for r in rows if r["status"] == "ok" and r.get("luts") is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([r["luts"] for r in ok], [r["val_acc"] for r in ok], c="0.6", label="trials")
    fr = sorted([r for r in ok if r.get("front")], key=lambda r: r["luts"])
    ax.plot([r["luts"] for r in fr], [r["val_acc"] for r in fr], "o-", c="C3", label="Pareto front (validation)")
    ax.set_xlabel("LUTs (lutnet estimator, whole network)")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"lutnet sweep {spec.name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=120)
    plt.close(fig)
    paths["plot"] = str(out / "pareto.png")
    return paths


def table_rows(rows: list[dict], spec: SweepSpec) -> list[dict]:
    """Rows for printing (parameters, metrics, front mark, test accuracy of front points)."""
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4f}" if v <= 1.0 else f"{v:,.1f}"
        return v
    out = []
    for r in sorted(rows, key=lambda r: (r["status"] != "ok", -(r.get("val_acc") or 0))):
        d = {"trial": r["trial"], "status": r["status"]}
        d.update({k.split(".")[-1] if sum(p.split(".")[-1] == k.split(".")[-1] for p in spec.space) == 1 else k:
                  f"{r.get(k):.4g}" if isinstance(r.get(k), float) else str(r.get(k)) for k in spec.space})
        d.update({"val acc": fmt(r.get("val_acc")), "LUTs (est)": fmt(r.get("luts")), "epochs": fmt(r.get("epoch")),
                  "front": "*" if r.get("front") else "", "test acc": fmt(r.get("test_acc"))})
        if any(x.get("luts_yosys") is not None for x in rows):
            d["LUTs (Yosys)"] = fmt(r.get("luts_yosys"))
        if r.get("error"):
            d["error"] = r["error"][:60]
        out.append(d)
    return out
