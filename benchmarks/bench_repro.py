"""Reproduction benchmark: train the MNIST zoo models on the real MNIST with a CPU-feasible epoch
budget, extract their truth tables, build open-flow reports and print one table beside the
published numbers.

For every model (a zoo name or a YAML file):

1. train with :func:`lutnet.train.fit` for ``--epochs`` epochs (the zoo's published runs use 500;
   the budget used is printed with the table).  Validation is carved from the training split; the
   checkpoint of the best validation epoch is kept;
2. export the LUT IR (``lutnet.export.to_ir``), check the model and the IR agree bit for bit on the
   test set, and measure the test accuracy **once**, on the IR;
3. build reports: ``lutnet.rtl.build_report(ir, method="estimate")`` always, and
   ``method="yosys"`` (Yosys LUT mapping per unique neuron table, cached by table hash; tables of
   at most 6 address bits go many to a Yosys run) unless ``--no-yosys``.  ``--yosys-sample K``
   synthesizes only K random neurons per layer and scales each layer's LUTs by neurons / K (marked ``~``
   in the table) for models too large to map in full.

Every step is checkpointed in ``--out/<model>/`` (``checkpoint.pt``, ``model.lutir.npz``,
``report_estimate.json``, ``report_yosys.json``, ``result.json``); a re-run skips what is done
(delete the directory, or pass ``--force``, to redo a model).  Results of a run with another epoch
budget or training subset are kept apart (the directory name records them).

Usage::

    .venv/bin/python benchmarks/bench_repro.py                       # all MNIST zoo models, 5 epochs
    .venv/bin/python benchmarks/bench_repro.py --models lutnet-mnist-s --epochs 30
    .venv/bin/python benchmarks/bench_repro.py --quick               # smoke run: 2,000 samples, 1 epoch

LUT numbers are not comparable one to one: the published ones are Vivado post-place-and-route on
xcvu9p; lutnet's are the LogicNets LUTCost formula, lutnet's estimator and Yosys ``synth_xilinx``
(synthesis only, per neuron, no cross-neuron optimisation, no place and route).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lutnet.config import load_config, resolve_config, zoo_names  # noqa: E402
from lutnet.data import load_dataset  # noqa: E402

# Reference point of issue item 4: PolyLUT-Add HDR (Lou et al., 2024), as quoted in the issue.
POLYLUT_ADD = {"model": "PolyLUT-Add HDR-Add2 (ref)", "acc": "96 %", "luts": "14,810", "ffs": "-",
               "latency": "-", "note": "Vivado post-place-and-route, as quoted in the issue; not rebuilt here"}


SHARED_MNIST = Path(os.environ.get("LUTNET_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "mnist"


def default_models() -> list[str]:
    """The MNIST zoo models: the published HDR architectures first, then lutnet's own."""
    names = []
    for n in zoo_names():
        try:
            cfg = load_config(n)
        except Exception:  # a zoo file another tool cannot read must not stop the benchmark
            continue
        if cfg.data.name == "mnist":
            names.append(n)
    return sorted(names, key=lambda n: (n.startswith("lutnet-"), n))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=None,
                   help="comma-separated zoo names or YAML files (default: every MNIST zoo model)")
    p.add_argument("--epochs", default="5",
                   help="training epochs per model (published: 500): N, or N,model=M,... for per-model values")
    p.add_argument("--train-limit", default=None,
                   help="first N MNIST training samples (N, or N,model=M,...; 0 = all)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "repro"), help="results directory")
    p.add_argument("--mnist-dir", default=str(SHARED_MNIST))
    p.add_argument("--yosys", dest="yosys", action="store_true", default=True, help="Yosys reports (default)")
    p.add_argument("--no-yosys", dest="yosys", action="store_false", help="estimator only")
    p.add_argument("--yosys-sample", default="0",
                   help="synthesize K random neurons per layer and scale (0 = every neuron): K, or "
                        "K,model=M,... for per-model values")
    p.add_argument("--jobs", type=int, default=2, help="parallel Yosys processes")
    p.add_argument("--cache-dir", default=None, help="Yosys per-table cache (default: lutnet's cache)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny layers: 1 is fastest)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 2,000 training / 1,000 test samples, 1 epoch, Yosys on 4 neurons per layer")
    p.add_argument("--force", action="store_true", help="redo models whose results exist")
    p.add_argument("--json", default=None, help="also write the table rows to this JSON file")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = "1"
        args.train_limit = args.train_limit or "2000"
        args.yosys_sample = args.yosys_sample if args.yosys_sample != "0" else "4"
    return args


def per_model(spec, name: str, default=None):
    """``"N"`` or ``"N,model=M,..."`` -> the value for ``name`` (int; 0 or None -> ``default``)."""
    if spec is None:
        return default
    val = default
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            if k.strip() == name:
                return int(v) or default
        else:
            val = int(part) or default
    return val


# ---------------------------------------------------------------------- published numbers
def published(cfg_path: Path) -> dict:
    """Published numbers from the YAML's ``# Published:`` header (accuracy, LUTs, FFs, latency)."""
    text, on = [], False
    for line in cfg_path.read_text().splitlines():
        if not line.startswith("#"):
            if on:
                break
            continue
        body = line[1:].strip()
        if body.startswith("Published:"):
            on, body = True, body[len("Published:"):]
        elif on and re.match(r"^[A-Z][A-Za-z /()-]*:", body):
            break
        if on:
            text.append(body)
    s = " ".join(text)
    out = {"text": s}
    if not s:
        return out

    def grab(pat):
        m = re.search(pat, s)
        return m.group(1) if m else None

    out["acc"] = grab(r"([\d.]+)\s*%\s*test accuracy")
    out["luts"] = grab(r"([\d,]+)\s*LUTs")
    out["ffs"] = grab(r"([\d,]+)\s*FFs")
    out["latency_ns"] = grab(r"latency\s*([\d.]+)\s*ns")
    out["fmax"] = grab(r"Fmax\s*([\d.]+)\s*MHz")
    return out


# ---------------------------------------------------------------------- one model
# Config keys added after runs were cached, left out of the hash while at their default: a config
# that does not use them means what it meant before, so its cached run is still its run.
HASH_OMIT_AT_DEFAULT = {("model", "mapping_grad"): "binary", ("model", "clamp_tables"): False,
                        ("train", "augment"): None}
# Keys added later still: each is left out of the hash while at its default (whatever the others do);
# a key is its path in the config dict.
HASH_OMIT_EACH_AT_DEFAULT = {("model", "mapping_tau"): 1.0, ("model", "head", "tiebreak"): 0,
                             ("train", "distill"): None, ("train", "augment", "plain_last"): 0,
                             ("model", "efd_beta"): None, ("train", "augment", "rotate"): 0.0}


def config_hash(cfg) -> str:
    """Hash of the parsed config (model, data, training): comments and formatting do not count, nor
    the keys of :data:`HASH_OMIT_AT_DEFAULT` when the config leaves all of them at their defaults, nor
    a key of :data:`HASH_OMIT_EACH_AT_DEFAULT` at its default."""
    d = cfg.to_dict()
    for path, default in HASH_OMIT_EACH_AT_DEFAULT.items():
        parent = d
        for k in path[:-1]:
            parent = parent.get(k) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent and parent[path[-1]] == default:
            del parent[path[-1]]
    new = [(part, key) for part, key in HASH_OMIT_AT_DEFAULT if key in d.get(part, {})]
    if all(d[part][key] == HASH_OMIT_AT_DEFAULT[part, key] for part, key in new):  # uses none of them
        for part, key in new:
            del d[part][key]
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:8]


def run_dir(out: Path, cfg, epochs: int, limit) -> Path:
    h = config_hash(cfg)
    tag = f"e{epochs}" + (f"-n{limit}" if limit else "") + f"-{h}"
    return out / f"{cfg.name}-{tag}"


def _save_json(path: Path, obj):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    tmp.replace(path)


def sampled_yosys(ir, k: int, seed: int, jobs: int, cache_dir, log) -> dict:
    """Yosys on ``k`` random neurons per layer; per-layer LUTs scaled by neurons / k."""
    from lutnet.rtl import synth
    rng = np.random.default_rng(seed)
    layers, total, levels = [], 0.0, 0
    for L in ir.layers:
        n = L.out_features
        pick = np.sort(rng.choice(n, size=min(k, n), replace=False))
        items = [(L.table(int(j)), int(L.address_bits[j]), int(L.out_bits[j])) for j in pick]
        res = synth.synth_tables(items, jobs=jobs, cache_dir=cache_dir, progress=True)
        luts = sum(r["luts"] for r in res) * n / len(pick)
        lvl = max((r["lut_levels"] for r in res), default=0)
        layers.append({"layer": L.name, "neurons": n, "sampled": int(len(pick)), "luts_scaled": luts,
                       "lut_levels": lvl})
        total += luts
        levels += lvl
        log(f"    {L.name}: {len(pick)}/{n} neurons synthesized, ~{luts:,.0f} LUTs")
    return {"method": "yosys-sampled", "sample_per_layer": k, "layers": layers,
            "total": {"luts": total, "lut_levels": levels}}


def run_model(name: str, args, ds, log) -> dict:
    from lutnet.checkpoint import load_checkpoint, save_checkpoint
    from lutnet.export import to_ir
    from lutnet.frontend import get_frontend
    from lutnet.ir import NetworkIR
    from lutnet.rtl import build_report, format_report

    cfg_file = resolve_config(name)
    cfg = load_config(cfg_file)
    epochs = per_model(args.epochs, cfg.name)
    limit = per_model(args.train_limit, cfg.name)
    if limit:
        ds = dataclasses.replace(ds, X_train=ds.X_train[:limit], y_train=ds.y_train[:limit])
    d = run_dir(Path(args.out), cfg, epochs, limit)
    d.mkdir(parents=True, exist_ok=True)
    res_file = d / "result.json"
    sample = per_model(args.yosys_sample, cfg.name, 0)
    want_yosys = ("sampled" if sample else "full") if args.yosys else "none"
    if res_file.is_file() and not args.force:
        res = json.loads(res_file.read_text())
        if res.get("yosys_mode") == want_yosys or (want_yosys == "none") or res.get("yosys_mode") == "full":
            log(f"[{cfg.name}] done before ({d}); skipped")
            return res
    res = {"model": cfg.name, "config": str(cfg_file), "epochs": epochs, "published_epochs": cfg.train.epochs,
           "train_limit": limit, "train_samples": int(len(ds.X_train)), "dir": str(d), "published": published(cfg_file)}

    # 1. train (or resume from the checkpoint)
    ckpt = d / "checkpoint.pt"
    if ckpt.is_file() and not args.force:
        model, _, metrics = load_checkpoint(ckpt)
        log(f"[{cfg.name}] trained model loaded from {ckpt}")
    else:
        cfg.train.epochs = epochs
        torch.manual_seed(cfg.model.seed)
        log(f"[{cfg.name}] training {epochs} epoch(s) on {len(ds.X_train):,} samples "
            f"(validation {cfg.train.val_fraction:.0%} of them) ...")
        t0 = time.time()
        # model.learn_connectivity runs as in lutnet train (Frontend.build_and_fit)
        model, tr = get_frontend("torch").build_and_fit(cfg.model, cfg.train, ds.X_train, ds.y_train, progress=True,
                                                        log=log)
        metrics = {"train_seconds": round(time.time() - t0, 1), "best_epoch": tr.best_epoch,
                   "val_acc": tr.best_val_acc, "history": tr.history}
        save_checkpoint(ckpt, model, cfg, ds.X_train.shape[1], metrics, overwrite=True)
        log(f"[{cfg.name}] trained in {metrics['train_seconds']:.0f} s: best epoch {tr.best_epoch}, "
            f"validation accuracy {tr.best_val_acc:.4f}")
    res.update({k: metrics.get(k) for k in ("train_seconds", "best_epoch", "val_acc")})

    # 2. tables, bit-exactness, test accuracy (once)
    ir_file = d / "model.lutir.npz"
    if ir_file.is_file() and not args.force:
        ir = NetworkIR.load(ir_file)
    else:
        t0 = time.time()
        ir = to_ir(model)
        ir.save(ir_file, overwrite=True)
        log(f"[{cfg.name}] {sum(L.out_features for L in ir.layers)} tables extracted in {time.time() - t0:.0f} s")
    X_test = torch.as_tensor(ds.X_test, dtype=torch.float32)
    codes = model.input_codes(X_test).numpy()
    res["bit_exact"] = bool(np.array_equal(model.output_codes(X_test).numpy(), ir.evaluate(codes)))
    res["test_acc"] = float((ir.predict(ds.X_test) == ds.y_test).mean())
    res["test_samples"] = int(len(ds.y_test))
    res["lut_cost"] = float(ir.lut_cost())
    res["table_rows"] = int(sum(len(L.tables) for L in ir.layers))

    # 3. reports
    est = build_report(ir, method="estimate", progress=False)
    write = lambda n, r: _save_json(d / n, r)
    write("report_estimate.json", est)
    res["est_luts"] = est["total"]["luts"]
    res["ffs"] = est["total"]["ffs"]
    res["lut_levels"] = est["total"]["lut_levels"]
    res["latency_cycles"] = est["pipeline"]["latency_cycles"]
    res["fmax_mhz_est"] = est["timing"].get("fmax_mhz_est")
    res["yosys_mode"] = "none"
    if want_yosys == "full":
        log(f"[{cfg.name}] Yosys on every neuron table ({res['table_rows']:,} table rows; cached per table) ...")
        yr = build_report(ir, method="yosys-tables", jobs=args.jobs, cache_dir=args.cache_dir, progress=True)
        write("report_yosys.json", yr)
        (d / "report_yosys.txt").write_text(format_report(yr) + "\n")
        res.update(yosys_luts=yr["total"]["luts"], lut_levels=yr["total"]["lut_levels"], ffs=yr["total"]["ffs"],
                   yosys_mode="full", yosys_seconds=yr["seconds"], yosys_flow=yr["flow"],
                   muxf=yr["total"]["muxf7"] + yr["total"]["muxf8"])
    elif want_yosys == "sampled":
        log(f"[{cfg.name}] Yosys on {sample} random neurons per layer ...")
        yr = sampled_yosys(ir, sample, 0, args.jobs, args.cache_dir, log)
        write("report_yosys_sampled.json", yr)
        res.update(yosys_luts=yr["total"]["luts"], yosys_mode="sampled", yosys_sample=sample,
                   yosys_layers=yr["layers"])
    _save_json(res_file, res)
    log(f"[{cfg.name}] test accuracy {res['test_acc']:.4f}, LUTCost {res['lut_cost']:,.0f}, "
        f"estimator {res['est_luts']:,} LUTs" + (f", Yosys {res['yosys_luts']:,.0f} LUTs" if "yosys_luts" in res else ""))
    return res


# ---------------------------------------------------------------------- table
def fmt_int(v, approx=False):
    if v is None:
        return "-"
    return ("~" if approx else "") + f"{v:,.0f}"


def table(results: list) -> str:
    cols = ["model", "epochs", "train n", "test acc", "LUTCost", "LUTs est", "LUTs Yosys", "FFs", "levels", "cycles",
            "exact", "| pub acc", "pub LUTs", "pub FFs", "pub latency"]
    rows = []
    for r in results:
        p = r.get("published", {})
        rows.append([r["model"], f"{r['epochs']}/{r['published_epochs']}", f"{r['train_samples']:,}",
                     f"{100 * r['test_acc']:.2f} %",
                     fmt_int(r["lut_cost"]), fmt_int(r["est_luts"]),
                     fmt_int(r.get("yosys_luts"), r.get("yosys_mode") == "sampled"),
                     fmt_int(r["ffs"]), str(r["lut_levels"]), str(r["latency_cycles"]),
                     "yes" if r["bit_exact"] else "NO",
                     "| " + (f"{p['acc']} %" if p.get("acc") else "-"), p.get("luts") or "-", p.get("ffs") or "-",
                     (f"{p['latency_ns']} ns" if p.get("latency_ns") else "-")])
    ref = POLYLUT_ADD
    rows.append([ref["model"], "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "| " + ref["acc"], ref["luts"],
                 ref["ffs"], ref["latency"]])
    widths = [max(len(c), *(len(x[i]) for x in rows)) for i, c in enumerate(cols)]
    line = lambda xs: "  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(xs, widths)))
    out = [line(cols), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]
    return "\n".join(out)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    log = lambda *a: print(*a, flush=True)
    models = args.models.split(",") if args.models else default_models()
    kw = {"path": args.mnist_dir} if args.mnist_dir and Path(args.mnist_dir).is_dir() else {}
    ds = load_dataset("mnist", **kw)
    if args.quick:
        ds = dataclasses.replace(ds, X_test=ds.X_test[:1000], y_test=ds.y_test[:1000])
    log(f"MNIST: {len(ds.X_train):,} training samples (validation carved from them), {len(ds.X_test):,} test; "
        f"epoch budget {args.epochs}, training-sample limit {args.train_limit or 'none'}; models: {', '.join(models)}")
    t0 = time.time()
    results = []
    for m in models:
        results.append(run_model(m, args, ds, log))
    print()
    print(f"MNIST reproduction on a CPU budget: epochs = trained/published, 'train n' = MNIST training "
          f"samples used (validation carved from them); test accuracy on {len(ds.y_test):,} test images, "
          f"measured once on the extracted tables")
    print(table(results))
    print("LUTCost = LogicNets formula; LUTs est = lutnet.rtl estimator; LUTs Yosys = Yosys synth_xilinx per "
          "neuron table, summed (~ = sampled neurons per layer, scaled); FFs/levels from the same report "
          "(levels = LUT levels summed over layers); cycles = latency with a register after every layer.")
    print("pub = published, Vivado post-place-and-route on xcvu9p (see each YAML's '# Published:' header); "
          "open-flow LUTs are synthesis-only and not directly comparable.")
    print(f"total time {time.time() - t0:.0f} s; results in {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
