"""Connectivity: fixed (random, balanced) vs learnable mapping vs knapsack-learned vs group lasso, on real data.

Every variant has the same layer widths, bit widths, neuron kind and final fan-in; they differ only in
how each neuron's inputs are chosen:

* ``random`` / ``balanced``: drawn once, fixed (``model.connectivity``);
* ``mapping``: DWN-style learnable mapping (``mapping: learnable``), frozen at export;
* ``knapsack``: ``learn_connectivity: {kind: knapsack, start_fan_in: S}``: trained at fan-in S, then
  ``steps`` knapsack steps down to the fan-in (budget: every neuron at its fan-in), fine-tuning after each;
* ``knapsack@r``: the same under a LUT budget of ``r`` x that cost (the knapsack also decides how many
  inputs each neuron keeps);
* ``group_lasso``: dense pre-training (every neuron reads all its layer's inputs) with the group-lasso
  penalty, then the top inputs by group norm (NeuraLUT-Assemble style).

All variants get the same number of epochs in total (the fixed ones: pre-training + steps x fine-tuning).
The validation split is carved from the training set (best epoch chosen on it, never on test); the test
set is only evaluated at the end.  LUTs: ``ir.lut_cost()`` (LogicNets' LUTCost) and the Yosys-calibrated
estimator (:mod:`lutnet.rtl.estimate`) on the exported IR; every model is checked bit-exact against its IR
on the test set.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_connectivity.py --dataset digits
    nice -n 10 .venv/bin/python benchmarks/bench_connectivity.py --dataset mnist --train-limit 20000

Measured on this project's 2-core machine (2026-12-02, linear neurons, one torch thread; means over seeds):

* digits (``--dataset digits --seeds 0,1,2``; 64-32-10, fan-in 4, 45 epochs): test accuracy random 79.2 %,
  balanced 85.7 %, mapping 74.9 %, knapsack 88.9 % (validation 92.6 %, LUTCost 990 vs 1,110, estimated 653 vs
  685), knapsack@0.6 88.1 % at LUTCost 665 / estimated 450, group lasso 88.1 % at LUTCost 713 / estimated 432.
* MNIST (``--dataset mnist --seeds 0`` and ``--seeds 1``; 256-100-10, fan-in 6, 1-bit pixels, 9 epochs):
  random 87.4 %, balanced 88.9 %, knapsack 91.0 % (LUTCost 3,712 vs 3,856), knapsack@0.6 90.9 % at LUTCost
  2,155 / estimated 1,710 (vs ~2,980); seed 0 only: learnable mapping 78.9 %, group lasso (dense, lasso 0.1,
  chosen on digits) 82.4 % at LUTCost 3,460 (47 min of training).

``--quick``: a tiny smoke run.  Writes ``<out>/connectivity_<dataset>.json``; with several seeds it also
prints the mean (and worst test accuracy) per variant.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from lutnet.builder import build_model
from lutnet.config import LearnConnectivityConfig, ModelConfig, NeuronConfig, TrainConfig
from lutnet.data import load_dataset
from lutnet.export import to_ir
from lutnet.frontend import get_frontend
from lutnet.pruning.learn import fit_learned
from lutnet.train import accuracy, fit

SHARED = Path(os.environ.get("LUTNET_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

VARIANTS = ("random", "balanced", "mapping", "knapsack", "knapsack@0.6", "group_lasso")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    p.add_argument("--train-limit", type=int, default=None, help="first N training samples (MNIST)")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--seeds", default="0", help="comma-separated model/training seeds")
    p.add_argument("--pretrain-epochs", type=int, default=None)
    p.add_argument("--finetune-epochs", type=int, default=None)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--start-fan-in", type=int, default=None)
    p.add_argument("--lasso", type=float, default=None)
    p.add_argument("--metric", default="l2", choices=["l1", "l2", "taylor"], help="knapsack importance")
    p.add_argument("--neuron", default="linear", choices=["linear", "poly", "subnet"])
    p.add_argument("--out", default="benchmarks/out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    return p.parse_args(argv)


def setup(args):
    """(dataset, base ModelConfig, pretrain epochs, finetune epochs, start fan-in, lasso)."""
    neuron = NeuronConfig(kind=args.neuron, width=8, depth=1)
    if args.dataset == "digits":
        ds = load_dataset("digits")
        cfg = ModelConfig(layers=[64, 32, 10], fan_in=4, input_bits=2, hidden_bits=2, output_bits=3, neuron=neuron)
        pre, ft, start, lasso = 30, 5, 16, 0.1
    else:
        ds = load_dataset("mnist", path=str(SHARED / "mnist"))
        cfg = ModelConfig(layers=[{"out_features": 256, "bits": 1}, {"out_features": 100, "bits": 2}, 10], fan_in=6,
                          input_bits=1, hidden_bits=2, output_bits=4, input_min_active=0.05, neuron=neuron)
        pre, ft, start, lasso = 6, 1, 24, 0.1
    if args.quick:
        pre, ft = 2, 1
    pre = args.pretrain_epochs if args.pretrain_epochs is not None else pre
    ft = args.finetune_epochs if args.finetune_epochs is not None else ft
    return ds, cfg, pre, ft, args.start_fan_in or start, args.lasso if args.lasso is not None else lasso


def subset_train(ds, limit):
    if not limit or limit >= len(ds.X_train):
        return ds.X_train, ds.y_train
    return ds.X_train[:limit], ds.y_train[:limit]


def run_variant(name, cfg, ds, X, y, pre, ft, steps, start, lasso, seed, metric="l2"):
    cfg = dataclasses.replace(cfg, seed=seed)
    total = pre + steps * ft
    train = TrainConfig(epochs=total, batch_size=128, lr=0.01, seed=seed)
    t0 = time.time()
    if name in ("random", "balanced", "mapping"):
        c = dataclasses.replace(cfg, connectivity="balanced" if name == "balanced" else "random",
                                mapping="learnable" if name == "mapping" else None)
        model = build_model(c, ds.n_features, X)
        res = fit(model, X, y, train, progress=False, log=lambda *a: None)
    else:
        if name.startswith("knapsack"):
            lc = LearnConnectivityConfig(kind="knapsack", start_fan_in=start, steps=steps, pretrain_epochs=pre,
                                         finetune_epochs=ft, metric=metric)
        else:
            lc = LearnConnectivityConfig(kind="group_lasso", start_fan_in=None, steps=1, pretrain_epochs=total - ft,
                                         finetune_epochs=ft, lasso=lasso)
        c = dataclasses.replace(cfg, learn_connectivity=lc)
        if "@" in name:
            ratio = float(name.split("@")[1])
            full = _full_budget(c, ds, X, y)
            c = dataclasses.replace(c, learn_connectivity=dataclasses.replace(lc, budget_luts=ratio * full))
        model, res, _ = fit_learned(get_frontend("torch"), c, train, X, y, log=lambda *a: None)
    seconds = time.time() - t0
    model.eval()
    ir = to_ir(model)
    Xt = torch.as_tensor(ds.X_test, dtype=torch.float32)
    exact = bool(np.array_equal(model.output_codes(Xt).numpy(), ir.evaluate(model.input_codes(Xt).numpy())))
    from lutnet.rtl.estimate import estimate_network
    est = float(sum(e["luts"] for layer in estimate_network(ir) for e in layer))
    fan = [int((L.indices >= 0).sum(1).max()) for L in ir.layers]
    return {"variant": name, "seed": seed, "val_acc": round(res.best_val_acc, 4),
            "test_acc": round(accuracy(model, ds.X_test, ds.y_test), 4), "lutcost": ir.lut_cost(),
            "est_luts": round(est), "max_fan_in": fan, "bit_exact": exact, "train_s": round(seconds)}


def _full_budget(cfg, ds, X, y) -> float:
    """LUTCost with every neuron at its final fan-in (the default knapsack budget)."""
    model = build_model(dataclasses.replace(cfg, learn_connectivity=None), ds.n_features, X)
    return to_ir(model).lut_cost()


def table(rows, cols):
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    out = [" | ".join(c.ljust(w) for c, w in zip(cols, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(out)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    ds, cfg, pre, ft, start, lasso = setup(args)
    X, y = subset_train(ds, 400 if args.quick else args.train_limit)
    steps = args.steps
    print(f"{args.dataset}: {len(X)} training samples ({len(ds.X_test)} test), widths "
          f"{[lc.out_features for lc in cfg.layers]}, fan-in {cfg.fan_in}, {cfg.neuron.kind} neurons; epochs: "
          f"{pre} pre-training + {steps} x {ft} fine-tuning (fixed connectivity: {pre + steps * ft}); knapsack "
          f"start fan-in {start}, importance {args.metric}; group lasso: dense, lasso {lasso}", flush=True)
    rows = []
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in args.variants.split(","):
            rows.append(run_variant(name, cfg, ds, X, y, pre, ft, steps, start, lasso, seed, args.metric))
            print(json.dumps(rows[-1]), flush=True)
            (out / f"connectivity_{args.dataset}.json").write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows, ["variant", "seed", "val_acc", "test_acc", "lutcost", "est_luts", "max_fan_in", "bit_exact",
                       "train_s"]))
    if len({r["seed"] for r in rows}) > 1:
        print()
        print(table(summary(rows), ["variant", "seeds", "val_acc mean", "test_acc mean", "test_acc min",
                                    "lutcost mean", "est_luts mean"]))
    return rows


def summary(rows) -> list[dict]:
    """Per variant over the seeds: mean validation/test accuracy, the worst test accuracy, mean LUTs."""
    out = []
    for name in dict.fromkeys(r["variant"] for r in rows):
        rs = [r for r in rows if r["variant"] == name]
        out.append({"variant": name, "seeds": len(rs),
                    "val_acc mean": f"{np.mean([r['val_acc'] for r in rs]):.4f}",
                    "test_acc mean": f"{np.mean([r['test_acc'] for r in rs]):.4f}",
                    "test_acc min": f"{min(r['test_acc'] for r in rs):.4f}",
                    "lutcost mean": f"{np.mean([r['lutcost'] for r in rs]):.0f}",
                    "est_luts mean": f"{np.mean([r['est_luts'] for r in rs]):.0f}"})
    return out


if __name__ == "__main__":
    main()
