"""Frontier benchmark (issue 17): accuracy vs LUTs on real MNIST for lutnet's frontier points
and the anchors' architectures rebuilt in lutnet, every design trained, extracted, checked and
synthesized with the same flow in the same run, the whole circuit counted.

Designs (zoo names; ``--designs`` picks a subset, a YAML path works too):

* ``lutnet-mnist-frontier-l`` / ``-m`` / ``-s``: lutnet's points (targets: L >= 98 % at <= 4,000 LUTs,
  S >= 97 % at <= 700 LUTs; M, between them, has none), trained with every seed of ``--seeds``;
* ``dwn-mnist-sm``, ``dwn-mnist-lg``, ``neuralut-assemble-mnist``, ``polylut-add-mnist-hdr-add2``,
  ``polylut-mnist-hdr``: the anchors rebuilt from their zoo YAMLs (the config's own seed).

For every (design, seed):

1. train with ``lutnet.train.fit`` (what ``lutnet train NAME`` runs) for the design's CPU epoch
   budget (:data:`EPOCHS`, else the YAML's ``train.epochs``, or ``--epochs``); validation is carved
   from the training split and the best validation epoch is kept.  No step looks at the test set;
2. export the IR, drop the logic nothing reads (:class:`lutnet.core.table_neuron.PruneUnused`:
   unread thermometer bits and hidden neurons, outputs unchanged), and check bit-exactness on all
   10,000 test images: the model's outputs vs the IR, the IR vs the pruned IR (and the emitted
   Verilog under Verilator with ``--verilator``); the test accuracy is measured once, on the IR;
   With ``--hls4ml`` each of lutnet's points also goes through hls4ml's own converter with
   ``backend="LUTNet"`` (``convert_from_pytorch_model``): the C++ firmware compiled with g++ (C
   simulation) and the Verilog under Verilator each predict all test images, compared with the model;
3. synthesize the pruned IR with ``--synth`` (``lutnet.rtl.build_report`` method: ``yosys`` = one
   Yosys ``synth_xilinx -flatten`` run on the whole design; ``yosys-tables`` = the per-table sum plus
   stage modules; ``estimate`` = lutnet's estimator; any other method ``build_report`` knows).  The LUT count is the whole
   circuit: thermometer encoder, tables, popcount head and argmax where the design has them (the
   LogicNets-family anchors take 1- or 2-bit input codes quantized in software: no encoder).

Every step is checkpointed in ``--out/<design>-s<seed>-e<epochs>[-n<limit>]-<config hash>/``; a
re-run skips what is done (``--force`` redoes).  The table is printed, written as JSON
(``--out/frontier.json``) and drawn (``--out/frontier.png``: test accuracy vs LUTs, log x, the
published figures as open markers).

    .venv/bin/python benchmarks/bench_frontier.py                          # everything, stated budgets
    .venv/bin/python benchmarks/bench_frontier.py --designs dwn-mnist-sm --epochs 2 --synth estimate
    .venv/bin/python benchmarks/bench_frontier.py --quick                  # smoke run, estimator only
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POINTS = ("lutnet-mnist-frontier-l", "lutnet-mnist-frontier-m", "lutnet-mnist-frontier-s")
ANCHORS = ("dwn-mnist-sm", "dwn-mnist-lg", "neuralut-assemble-mnist", "polylut-add-mnist-hdr-add2",
           "polylut-mnist-hdr")
# CPU epoch budgets (the published runs use 100-500 epochs on GPUs; 2 CPU cores here): ``--epochs`` /
# ``--train-limit`` override. A design trains its YAML's ``train.epochs`` (lutnet's points and the DWN anchors;
# the README's "Budgets" line lists them) unless it is listed here with a shorter CPU budget: PolyLUT HDR 8 (140 s each),
# PolyLUT-Add HDR-Add2 2, the NeuraLUT-Assemble demo (5,110 sub-network tables, ~17 min per epoch) one pass
EPOCHS = {"neuralut-assemble-mnist": 1, "polylut-add-mnist-hdr-add2": 2, "polylut-mnist-hdr": 8}
TRAIN_LIMIT: dict = {}  # e.g. {"neuralut-assemble-mnist": 20000} for a shorter run
TARGETS = {"L": (0.98, 4000), "S": (0.97, 700)}


def _bench_repro():
    spec = importlib.util.spec_from_file_location("bench_repro", ROOT / "benchmarks" / "bench_repro.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_repro = _bench_repro()
SHARED_MNIST, per_model, config_hash, save_json = (_repro.SHARED_MNIST, _repro.per_model, _repro.config_hash,
                                                   _repro._save_json)


def published(cfg_path: Path) -> dict:
    """The YAML's ``# Published:`` figures (bench_repro's reader; also '97.1 % MNIST test accuracy').
    Every MNIST anchor of ``../shared/notes/anchors.md`` leaves its input encoder out of its LUTs."""
    import re
    out = _repro.published(cfg_path)
    if out.get("text") and not out.get("acc"):
        m = re.search(r"([\d.]+)\s*%\s*(?:MNIST\s+)?test accuracy", out["text"])
        out["acc"] = m.group(1) if m else None
    if out.get("text"):
        out["encoder"] = "excl"
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--designs", default=None, help="comma-separated zoo names or YAML files (default: all)")
    p.add_argument("--seeds", default="0,1", help="seeds of lutnet's points (anchors use their config's seed)")
    p.add_argument("--epochs", default=None, help="N, or N,design=M,... (default: EPOCHS, else train.epochs)")
    p.add_argument("--train-limit", default=None,
                   help="first N training images (N, or N,design=M; unset/0: TRAIN_LIMIT, else all 60,000)")
    p.add_argument("--test-limit", type=int, default=0, help="first N test images (0 = all 10,000)")
    p.add_argument("--synth", default="yosys",
                   help="lutnet.rtl.build_report method (yosys = the whole design in one run, yosys-tables, "
                        "estimate, ...): METHOD, or METHOD,design=METHOD2,... (the table names each design's flow)")
    p.add_argument("--yosys-sample", default="0",
                   help="with yosys-tables: K random neurons per layer, scaled (0 = every neuron): K or K,design=M")
    p.add_argument("--jobs", type=int, default=2, help="parallel Yosys processes")
    p.add_argument("--cache-dir", default=None, help="Yosys cache (default: lutnet's cache)")
    p.add_argument("--verilator", action="store_true", help="also simulate the emitted Verilog on the test images")
    p.add_argument("--hls4ml", action="store_true",
                   help="also convert lutnet's points with hls4ml (backend LUTNet): C simulation and Verilator on the test "
                        "images")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--mnist-dir", default=str(SHARED_MNIST))
    p.add_argument("--out", default=str(ROOT / "runs" / "frontier"))
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 2,000 training / 1,000 test images, 1 epoch, estimator only, one seed")
    p.add_argument("--force", action="store_true", help="redo designs whose results exist")
    p.add_argument("--resynth", action="store_true",
                   help="keep the trained models and tables, redo the checks and the synthesis (after an emitter "
                        "change)")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    a = p.parse_args(argv)
    if a.quick:
        a.epochs = a.epochs or "1"
        a.train_limit = a.train_limit or "2000"
        a.test_limit = a.test_limit or 1000
        a.synth = "estimate"
        a.seeds = "0"
    return a


# ---------------------------------------------------------------------- one design
def run_dir(out: Path, cfg, seed: int, epochs: int, limit, test_limit) -> Path:
    tag = f"s{seed}-e{epochs}" + (f"-n{limit}" if limit else "") + (f"-t{test_limit}" if test_limit else "")
    return out / f"{cfg.name}-{tag}-{config_hash(cfg)}"


def per_design_str(spec: str, name: str) -> str:
    """``"A"`` or ``"A,design=B,..."`` -> the string for ``name``."""
    val = None
    for part in str(spec).split(","):
        part = part.strip()
        if "=" in part:
            k, v = part.split("=", 1)
            if k.strip() == name:
                return v.strip()
        elif part:
            val = part
    return val


def synth_mode(args, name) -> str:
    method = per_design_str(args.synth, name)
    k = per_model(args.yosys_sample, name, 0)
    return f"{method}-sample{k}" if (k and method == "yosys-tables") else method


def run_design(name: str, seed, args, ds, log) -> dict:
    from lutnet.checkpoint import load_checkpoint, save_checkpoint
    from lutnet.config import load_config, resolve_config
    from lutnet.core.table_neuron import PruneUnused
    from lutnet.frontend import get_frontend
    from lutnet.ir import NetworkIR

    cfg_file = resolve_config(name)
    cfg = load_config(cfg_file)
    if seed is not None:  # lutnet's points: the seed drives the weights, the wiring and the validation split
        cfg.model.seed = cfg.train.seed = int(seed)
    seed = cfg.model.seed
    pub_epochs = cfg.train.epochs
    epochs = per_model(args.epochs, cfg.name, EPOCHS.get(cfg.name, cfg.train.epochs))
    limit = per_model(args.train_limit, cfg.name, TRAIN_LIMIT.get(cfg.name))
    if limit:
        ds = dataclasses.replace(ds, X_train=ds.X_train[:limit], y_train=ds.y_train[:limit])
    cfg.train.epochs = epochs
    d = run_dir(Path(args.out), cfg, seed, epochs, limit, args.test_limit)
    d.mkdir(parents=True, exist_ok=True)
    res_file, mode = d / "result.json", synth_mode(args, cfg.name)
    if res_file.is_file() and not args.force and not args.resynth:
        res = json.loads(res_file.read_text())
        if (res.get("synth_mode") == mode and (res.get("rtl_mismatches") is not None or not args.verilator)
                and (res.get("hls4ml") is not None or not args.hls4ml or not res.get("lutnet_point"))):
            log(f"[{cfg.name} seed {seed}] done before ({d}); skipped")
            return res
    fe = get_frontend("torch")
    res = {"design": cfg.name, "lutnet_point": cfg.name in POINTS, "seed": seed, "config": str(cfg_file),
           "epochs": epochs, "published_epochs": pub_epochs,
           "train_samples": int(len(ds.X_train)), "val_fraction": cfg.train.val_fraction, "dir": str(d),
           "published": published(Path(cfg_file)),
           "command": f"lutnet train {cfg.name}" + (f" (model.seed = train.seed = {seed})" if cfg.name in POINTS
                                                    else "") + f" --epochs {epochs}"}

    # 1. train (or resume from the checkpoint)
    ckpt = d / "checkpoint.pt"
    if ckpt.is_file() and not args.force:
        model, _, metrics = load_checkpoint(ckpt)
        log(f"[{cfg.name} seed {seed}] trained model loaded from {ckpt}")
    else:
        log(f"[{cfg.name} seed {seed}] training {epochs} epoch(s) on {len(ds.X_train):,} images "
            f"(validation {cfg.train.val_fraction:.0%} of them) ...")
        t0 = time.time()
        hist = []

        def on_epoch(rec):
            hist.append(rec)
            log(f"    epoch {rec['epoch'] + 1}/{epochs}: loss {rec['loss']:.3f}, train {rec['train_acc']:.4f}, "
                f"val {rec['val_acc']:.4f}, {time.time() - t0:.0f} s")
        # model.learn_connectivity runs as in lutnet train (Frontend.build_and_fit)
        model, tr = fe.build_and_fit(cfg.model, cfg.train, ds.X_train, ds.y_train, progress=False, log=log,
                                     on_epoch=on_epoch)
        metrics = {"train_seconds": round(time.time() - t0, 1), "best_epoch": tr.best_epoch,
                   "val_acc": tr.best_val_acc, "history": tr.history}
        save_checkpoint(ckpt, model, cfg, ds.X_train.shape[1], metrics, overwrite=True)
        log(f"[{cfg.name} seed {seed}] trained in {metrics['train_seconds']:.0f} s: best epoch "
            f"{tr.best_epoch + 1}, validation accuracy {tr.best_val_acc:.4f}")
    res.update({k: metrics.get(k) for k in ("train_seconds", "best_epoch", "val_acc")})
    res["seconds_per_epoch"] = round(float(metrics.get("train_seconds") or 0) / max(1, epochs), 1)

    # 2. tables, dead-logic removal, bit-exactness, test accuracy (once, on the IR)
    ir_file, full_file = d / "model.lutir.npz", d / "model_full.lutir.npz"
    if ir_file.is_file() and full_file.is_file() and not args.force:
        full, ir = NetworkIR.load(full_file), NetworkIR.load(ir_file)
    else:
        t0 = time.time()
        full = fe.to_ir(model, metadata={"name": cfg.name})
        res["extract_seconds"] = round(time.time() - t0, 2)
        ir = PruneUnused()(full)
        full.save(full_file, overwrite=True)
        ir.save(ir_file, overwrite=True)
    X_test = np.asarray(ds.X_test, np.float32)
    codes = fe.input_codes(model, X_test)
    ir_out = ir.evaluate(codes)
    res["mismatches_model_ir"] = int((fe.output_codes(model, X_test) != full.evaluate(codes)).sum())
    res["mismatches_ir_pruned"] = int((full.evaluate(codes) != ir_out).sum())
    res["bit_exact"] = res["mismatches_model_ir"] == 0 and res["mismatches_ir_pruned"] == 0
    pred = ir_out[:, 0] if ir.argmax else np.argmax(ir_out, 1)
    res["test_acc"] = float((pred == ds.y_test).mean())
    res["test_samples"] = int(len(ds.y_test))
    res["pruned"] = ir.metadata.get("pruned", {})
    res["encoder"] = (f"thermometer, {int(ir.encoder.comparators(ir.input_quant).sum())} comparators in hardware"
                      if ir.encoder is not None else f"none: {ir.input_quant.bits}-bit input codes from software")
    res["head"] = ("popcount + argmax" if ir.argmax else "popcount") if ir.head is not None else \
        "last table layer's codes" + (" + argmax" if ir.argmax else "")
    if args.verilator:
        from lutnet.rtl import simulate
        t0 = time.time()
        rtl = np.asarray(simulate(ir, codes, simulator="verilator", work_dir=str((d / "sim").resolve())))
        res["rtl_mismatches"] = int((rtl != ir_out).sum())
        log(f"[{cfg.name} seed {seed}] Verilator on {len(codes):,} test images: {res['rtl_mismatches']} mismatches "
            f"({time.time() - t0:.0f} s)")

    if args.hls4ml and res["lutnet_point"]:
        res["hls4ml"] = hls4ml_check(model, X_test, d, log, f"[{cfg.name} seed {seed}]")

    # 3. synthesis of the whole circuit (pruned IR)
    from lutnet.rtl import build_report
    t0 = time.time()
    k = per_model(args.yosys_sample, cfg.name, 0)
    method = per_design_str(args.synth, cfg.name)
    if k and method == "yosys-tables":
        rep = _repro.sampled_yosys(ir, k, 0, args.jobs, args.cache_dir, log)
        stage_rep = build_report(ir, method="estimate", progress=False)  # FFs, cycles; stage rows from Yosys below
        from lutnet.rtl import stages
        st = stages.stage_stats(ir, "yosys", args.cache_dir)
        stage_luts = {s: v["luts"] for s, v in st.items()}
        rep["total"]["luts"] += sum(stage_luts.values())
        rep.update(pipeline=stage_rep["pipeline"], flow="Yosys per table (sampled, scaled) + stage modules")
        rep["total"]["ffs"] = stage_rep["total"]["ffs"]
    else:
        rep = build_report(ir, method=method, jobs=args.jobs, cache_dir=args.cache_dir, progress=False)
        stage_luts = {r["layer"]: r["luts"] for r in rep.get("layers", []) if r.get("stage")}
    save_json(d / f"report_{mode}.json", rep)
    tot = rep["total"]
    res.update(synth_mode=mode, synth_seconds=round(time.time() - t0, 1), flow=rep.get("flow", method),
               luts=float(tot["luts"]), ffs=tot.get("ffs"), lut_levels=tot.get("lut_levels"),
               cycles=rep.get("pipeline", {}).get("latency_cycles"), stage_luts=stage_luts)
    save_json(res_file, res)
    log(f"[{cfg.name} seed {seed}] test {res['test_acc']:.4f} (val {res['val_acc']:.4f}), {res['luts']:,.0f} LUTs "
        f"({mode}; stages {stage_luts}), bit-exact {res['bit_exact']}")
    return res


def hls4ml_check(model, X, d: Path, log, tag: str) -> dict:
    """The user's hls4ml path on the trained model: ``convert_from_pytorch_model(model,
    backend="LUTNet")`` to C++ (compiled with g++: the C simulation) and to Verilog (Verilator), each
    predicting every image of ``X``; mismatches are counted against the model's own outputs."""
    import hls4ml

    from lutnet.frontend import frontend_of
    want = frontend_of(model).output_codes(model, X)
    out = {"images": int(len(X))}
    for output, key in (("cpp", "csim"), ("verilog", "verilator")):
        t0 = time.time()
        kw = {"simulator": "verilator"} if output == "verilog" else {}
        hm = hls4ml.converters.convert_from_pytorch_model(model, output_dir=str((d / f"hls4ml-{output}").resolve()),
                                                          backend="LUTNet", output=output, overwrite=True, **kw)
        hm.compile()
        got = np.asarray(hm.predict(X)).reshape(want.shape)
        out[f"{key}_mismatches"] = int((got != want).sum())
        out[f"{key}_seconds"] = round(time.time() - t0, 1)
        log(f"{tag} hls4ml LUTNet {output} ({'g++ C simulation' if output == 'cpp' else 'Verilator'}) on "
            f"{len(X):,} test images: {out[f'{key}_mismatches']} mismatches vs the model ({out[f'{key}_seconds']:.0f} s)")
    return out


# ---------------------------------------------------------------------- table, plot
def _pub_float(v):
    try:
        return float(str(v).replace(",", ""))
    except (TypeError, ValueError):
        return None


def nearest_anchor(r, results):
    """The rebuilt anchor nearest in test accuracy to a lutnet point, and the LUT ratio."""
    anchors = [a for a in results if not a["lutnet_point"]]
    if not anchors:
        return None
    a = min(anchors, key=lambda a: abs(a["test_acc"] - r["test_acc"]))
    return a["design"], r["luts"] / a["luts"] if a["luts"] else float("nan")


def table(results: list) -> str:
    cols = ["design", "seed", "epochs", "val acc", "test acc", "LUTs", "flow", "FFs", "levels", "cycles", "encoder LUTs",
            "head LUTs", "exact", "vs nearest anchor", "| pub acc", "pub LUTs", "pub encoder"]
    rows = []
    for r in results:
        p, st = ({} if r["lutnet_point"] else r.get("published", {})), r.get("stage_luts", {})
        near = nearest_anchor(r, results) if r["lutnet_point"] else None
        h = r.get("hls4ml") or {}
        exact = "yes" if (r["bit_exact"] and not r.get("rtl_mismatches") and not h.get("csim_mismatches")
                          and not h.get("verilator_mismatches")) else "NO"
        if r.get("rtl_mismatches") is not None:
            exact += "+RTL"
        if h:
            exact += "+C+RTL"
        pub_enc = "-" if r["lutnet_point"] else p.get("encoder", "-")
        mark = "~" if r.get("synth_mode") == "yosys" else ""  # one netlist: the stage split is the estimator's
        rows.append([r["design"], str(r["seed"]), f"{r['epochs']}/{r['published_epochs']}",
                     f"{100 * r['val_acc']:.2f} %", f"{100 * r['test_acc']:.2f} %", f"{r['luts']:,.0f}",
                     r.get("synth_mode", "-"),
                     "-" if r.get("ffs") is None else f"{r['ffs']:,}", str(r.get("lut_levels", "-")),
                     str(r.get("cycles", "-")),
                     f"{mark}{st['encoder']:,.0f}" if "encoder" in st else "sw",
                     f"{mark}{st.get('head', 0) + st.get('argmax', 0):,.0f}" if ("head" in st or "argmax" in st) else "-",
                     exact, f"{near[1]:.2f}x {near[0]}" if near else "-",
                     "| " + (f"{p['acc']} %" if p.get("acc") else "-"), p.get("luts") or "-", pub_enc])
    widths = [max(len(c), *(len(x[i]) for x in rows)) for i, c in enumerate(cols)] if rows else [len(c) for c in cols]
    line = lambda xs: "  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(xs, widths)))
    return "\n".join([line(cols), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def targets(results: list) -> list:
    """Per target: the lutnet point's worst seed (test acc, LUTs) and whether it meets the target."""
    out = []
    for key, (acc, luts) in TARGETS.items():
        rs = [r for r in results if r["design"].endswith(f"frontier-{key.lower()}")]
        if rs:
            worst = min(rs, key=lambda r: r["test_acc"])
            most = max(r["luts"] for r in rs)
            out.append({"target": key, "acc": acc, "luts": luts, "worst_test_acc": worst["test_acc"],
                        "max_luts": most, "met": worst["test_acc"] >= acc and most <= luts})
    return out


def plot(results: list, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5.5))
    colors = {}
    for r in results:
        new = r["design"] not in colors
        c = colors.setdefault(r["design"], f"C{len(colors) % 10}")
        ax.scatter(r["luts"], 100 * r["test_acc"], color=c, marker="o" if r["lutnet_point"] else "s", s=40,
                   label=r["design"] if new else None)
        ax.annotate(f"{r['design']} s{r['seed']}", (r["luts"], 100 * r["test_acc"]), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
        p = {} if r["lutnet_point"] else r.get("published", {})
        pa, pl = _pub_float(p.get("acc")), _pub_float(p.get("luts"))
        if pa and pl:
            ax.scatter(pl, pa, facecolors="none", edgecolors=c, marker="s", s=40)
    for key, (acc, luts) in TARGETS.items():
        ax.plot([0, luts, luts], [100 * acc, 100 * acc, 100], color="k", ls=":", lw=0.8)
        ax.annotate(f"target {key}", (luts, 100 * acc), fontsize=7, xytext=(-40, -10), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("LUTs, whole circuit (encoder + tables + head + argmax); open markers: published (encoder excl.)")
    ax.set_ylabel("MNIST test accuracy (%)")
    ax.set_title("lutnet frontier on MNIST (same flow, same run)")
    lo = min([r["test_acc"] for r in results] + [0.9]) * 100
    ax.set_ylim(max(lo - 1, 0), 100)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    import torch

    from lutnet.data import load_dataset
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    log = lambda *a: print(*a, flush=True)
    designs = args.designs.split(",") if args.designs else list(POINTS + ANCHORS)
    kw = {"path": args.mnist_dir} if args.mnist_dir and Path(args.mnist_dir).is_dir() else {}
    ds = load_dataset("mnist", **kw)
    ds = dataclasses.replace(ds, X_train=ds.X_train.reshape(len(ds.X_train), -1),
                             X_test=ds.X_test.reshape(len(ds.X_test), -1))
    if args.test_limit:
        ds = dataclasses.replace(ds, X_test=ds.X_test[:args.test_limit], y_test=ds.y_test[:args.test_limit])
    seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    log(f"MNIST: {len(ds.X_train):,} training images (validation carved from them), {len(ds.X_test):,} test; "
        f"designs {', '.join(designs)}; seeds of lutnet's points {seeds}; synthesis {args.synth}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    results = []
    for name in designs:
        is_point = Path(name).stem in POINTS or name in POINTS
        for s in (seeds if is_point else [None]):
            results.append(run_design(name, s, args, ds, log))
    print()
    print(f"MNIST frontier: {len(ds.y_test):,} test images (accuracy measured once, on the extracted tables), "
          f"validation carved from {len(ds.X_train):,} training images; epochs = trained/published; LUTs = "
          f"the whole circuit after dead-logic removal, flow per row (yosys = one Yosys synth_xilinx run on the "
          f"whole design)")
    print(table(results))
    for flow in sorted({str(r.get("flow")) for r in results}):
        print(f"flow: {flow}")
    print("encoder LUTs: the thermometer comparators in hardware ('sw': the design takes 1-2-bit input codes "
          "quantized in software; '~': the estimator's split of a whole-design netlist, which has no stages; the "
          "LUTs column is the netlist's); head LUTs: popcount adders + argmax; exact: model = IR = pruned IR on every test "
          "image (+RTL: Verilator too; +C+RTL: hls4ml LUTNet C simulation and Verilator vs the model); "
          "vs nearest anchor: LUT ratio to the rebuilt anchor nearest in test accuracy; "
          "pub = published (Vivado on xcvu9p; encoder excluded), from each YAML's '# Published:' header.")
    for t in targets(results):
        print(f"target {t['target']}: >= {100 * t['acc']:.1f} % at <= {t['luts']:,} LUTs: worst seed "
              f"{100 * t['worst_test_acc']:.2f} %, most LUTs {t['max_luts']:,.0f} -> {'MET' if t['met'] else 'not met'}")
    (out / "frontier.json").write_text(json.dumps({"args": vars(args), "results": results,
                                                   "targets": targets(results)}, indent=1))
    if args.plot and results:
        plot(results, out / "frontier.png")
        print(f"plot: {out / 'frontier.png'}")
    print(f"total time {time.time() - t0:.0f} s; results in {out}")
    return results


if __name__ == "__main__":
    main()
