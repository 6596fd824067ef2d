"""Resource-aware pruning on real MNIST: accuracy vs LUT budget (LUT network) and accuracy vs the
hls4ml DSP estimate (dense Brevitas MLP).

For every budget the trained base model is copied, pruned with a polynomial schedule (knapsack
per step, fine-tuning with ``lutnet.train.fit`` between steps; its validation split comes from the
training subset, the test set is only used for the final numbers), then:

* LUT network: exported with ``lutnet.export.to_ir``; the table reports ``ir.lut_cost()`` (must be
  <= budget), test accuracy of the IR, and whether model output codes == IR codes on all of the
  test set;
* dense MLP: 12-bit weights, hls4ml Resource strategy, DSPs = multipliers with a non-zero pattern.

Usage::

    .venv/bin/python benchmarks/bench_pruning.py [--out benchmarks/out] [--train-limit 20000] [--quick]

Runs in a few minutes on 2 cores (one torch thread: tiny layers run fastest single-threaded).
"""
from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import numpy as np
import torch

from lutnet.builder import build_model
from lutnet.config import ModelConfig, TrainConfig
from lutnet.data import load_dataset
from lutnet.export import to_ir
from lutnet.pruning import solve
from lutnet.pruning.importance import default_normalize, lut_input_importance
from lutnet.pruning.resources import DenseResourceModel
from lutnet.pruning.schedule import PolynomialSchedule
from lutnet.pruning.torch_prune import (
    dense_usage,
    lut_network_cost,
    lut_pruning_problem,
    prune_dense_iteratively,
    prune_lut_iteratively,
    prune_lut_network,
)
from lutnet.train import accuracy, fit

SHARED_MNIST = Path(os.environ.get("LUTNET_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "mnist"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="benchmarks/out", help="directory for the PNG plot")
    p.add_argument("--mnist-dir", default=str(SHARED_MNIST))
    p.add_argument("--train-limit", type=int, default=20000, help="first N MNIST training samples")
    p.add_argument("--epochs", type=int, default=8, help="training epochs of the base models")
    p.add_argument("--finetune-epochs", type=int, default=2, help="fine-tuning epochs after each step")
    p.add_argument("--steps", type=int, default=2, help="polynomial schedule steps per budget")
    p.add_argument("--lut-fractions", default="0.5,0.25,0.1,0.05,0.025")
    p.add_argument("--dsp-fractions", default="0.5,0.25,0.1,0.05,0.02")
    p.add_argument("--lut-metric", default="taylor", choices=["l1", "l2", "taylor"])
    p.add_argument("--dense-metric", default="taylor", choices=["l1", "l2", "taylor"])
    p.add_argument("--skip-dense", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="tiny smoke run (2k samples, 1 epoch)")
    return p.parse_args(argv)


def table(rows, cols):
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    line = " | ".join(c.ljust(w) for c, w in zip(cols, widths))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------------- LUT network
def estimated_luts(ir) -> float:
    """Yosys-calibrated estimate of the IR's LUTs (lutnet.rtl.estimate), NaN if unavailable."""
    try:
        from lutnet.rtl.estimate import estimate_network
    except ImportError:
        return float("nan")
    return float(sum(e["luts"] for layer in estimate_network(ir) for e in layer))


def lut_benchmark(ds, args, log):
    cfg = ModelConfig(layers=[128, 64, 10], fan_in=6, input_bits=2, hidden_bits=2, output_bits=2)
    train = TrainConfig(epochs=args.epochs, batch_size=256, lr=0.02)
    tune = TrainConfig(epochs=args.finetune_epochs, batch_size=256, lr=0.005)
    torch.manual_seed(0)  # the neuron weights' initialisation
    base = build_model(cfg, ds.X_train.shape[1])
    t0 = time.time()
    fit(base, ds.X_train, ds.y_train, train, progress=False)
    full = lut_network_cost(base)
    log(f"LUT net 784-128-64-10 fan_in={cfg.fan_in}, 2-bit activations: trained in {time.time() - t0:.0f}s, "
        f"LUTCost {full:.0f}")
    X_test = torch.as_tensor(ds.X_test)
    rows = []
    imp = lut_input_importance(base, args.lut_metric, (ds.X_train, ds.y_train))
    norm = default_normalize(args.lut_metric)
    for frac in [1.0] + [float(f) for f in args.lut_fractions.split(",")]:
        budget = float(np.floor(full * frac))
        model = copy.deepcopy(base)
        t = time.time()
        oneshot = greedy_gap = float("nan")
        if frac < 1.0:
            plan = lut_pruning_problem(model, imp, normalize=norm)
            exact, greedy = (solve(plan.problem, {"lut": budget}, method=m) for m in ("auto", "greedy"))
            greedy_gap = 100 * (1 - greedy.value / exact.value)
            probe = copy.deepcopy(model)
            prune_lut_network(probe, budget, metric=args.lut_metric, importance=imp)
            oneshot = accuracy(probe, ds.X_test, ds.y_test)
            prune_lut_iteratively(model, ds.X_train, ds.y_train, budget, PolynomialSchedule(args.steps), tune,
                                  metric=args.lut_metric)
        ir = to_ir(model)
        codes = model.input_codes(X_test).numpy()
        exact_ok = np.array_equal(model.output_codes(X_test).numpy(), ir.evaluate(codes))
        acc = float((ir.predict(ds.X_test) == ds.y_test).mean())
        est = estimated_luts(ir)
        rows.append({"budget": f"{frac:.3f}x = {budget:.0f}", "ir.lut_cost": f"{ir.lut_cost():.0f}",
                     "yosys_est": f"{est:.0f}",
                     "within": ir.lut_cost() <= budget, "conns": int(sum(l.input_mask.sum() for l in model.layers)),
                     "const": int(sum((~l.input_mask.any(1)).sum() for l in model.layers)),
                     "oneshot_acc": f"{oneshot:.4f}", "test_acc": f"{acc:.4f}",
                     "greedy_gap%": f"{greedy_gap:.2f}", "bit_exact": exact_ok, "s": f"{time.time() - t:.0f}",
                     "_cost": ir.lut_cost(), "_acc": acc})
        log(f"  budget {budget:.0f}: LUTs {ir.lut_cost():.0f}, test acc {acc:.4f}, bit-exact {exact_ok}")
    return rows


# ---------------------------------------------------------------------- dense MLP
def dense_mlp(n_in, bits=12):
    from brevitas.nn import QuantIdentity, QuantLinear, QuantReLU
    return torch.nn.Sequential(QuantIdentity(bit_width=8), QuantLinear(n_in, 64, bias=True, weight_bit_width=bits),
                               QuantReLU(bit_width=8), QuantLinear(64, 32, bias=True, weight_bit_width=bits),
                               QuantReLU(bit_width=8), QuantLinear(32, 10, bias=True, weight_bit_width=bits))


def dense_benchmark(ds, args, log):
    bits = 12
    torch.manual_seed(0)
    base = dense_mlp(ds.X_train.shape[1], bits)
    n_in = ds.X_train.shape[1]
    models = {"1": DenseResourceModel(n_in, 64, bits, 8, reuse_factor=32),
              "3": DenseResourceModel(64, 32, bits, 8, reuse_factor=8),
              "5": DenseResourceModel(32, 10, bits, 8, reuse_factor=4)}
    t0 = time.time()
    fit(base, ds.X_train, ds.y_train, TrainConfig(epochs=args.epochs, batch_size=256, lr=0.003), progress=False)
    full = dense_usage(base, models)
    log(f"dense MLP {n_in}-64-32-10, {bits}-bit weights, hls4ml Resource RF=32/8/4: trained in "
        f"{time.time() - t0:.0f}s, estimate {full}")
    tune = TrainConfig(epochs=args.finetune_epochs, batch_size=256, lr=0.003)
    rows = []
    for frac in [1.0] + [float(f) for f in args.dsp_fractions.split(",")]:
        budget = float(np.floor(full["dsp"] * frac))
        model = copy.deepcopy(base)
        t = time.time()
        if frac < 1.0:
            prune_dense_iteratively(model, ds.X_train, ds.y_train, {"dsp": budget}, models,
                                    PolynomialSchedule(args.steps), tune, metric=args.dense_metric)
        use = dense_usage(model, models)
        acc = accuracy(model, ds.X_test, ds.y_test)
        rows.append({"dsp_budget": f"{frac:.3f}x = {budget:.0f}", "dsp": f"{use['dsp']:.0f}",
                     "bram": f"{use['bram']:.0f}", "within": use["dsp"] <= budget, "test_acc": f"{acc:.4f}",
                     "s": f"{time.time() - t:.0f}", "_cost": use["dsp"], "_acc": acc})
        log(f"  DSP budget {budget:.0f}: DSP {use['dsp']:.0f}, BRAM {use['bram']:.0f}, test acc {acc:.4f}")
    return rows


def plot(lut_rows, dense_rows, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = 1 + bool(dense_rows)
    fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 4))
    axes = np.atleast_1d(axes)
    axes[0].plot([r["_cost"] for r in lut_rows], [r["_acc"] for r in lut_rows], "o-")
    axes[0].set(xscale="log", xlabel="LUTs (LUTCost of the exported IR)", ylabel="MNIST test accuracy",
                title="LUT network: accuracy vs LUT budget")
    if dense_rows:
        axes[1].plot([r["_cost"] for r in dense_rows], [r["_acc"] for r in dense_rows], "s-", color="C1")
        axes[1].set(xscale="log", xlabel="DSPs (hls4ml Resource-strategy estimate)", ylabel="MNIST test accuracy",
                    title="dense 12-bit MLP: accuracy vs DSP budget")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.train_limit, args.epochs, args.finetune_epochs, args.steps = 2000, 1, 1, 1
        args.lut_fractions, args.dsp_fractions = "0.25,0.05", "0.25,0.05"
    ds = load_dataset("mnist", path=args.mnist_dir, limit=None)
    n_test = len(ds.y_test)
    X, y = ds.X_train[:args.train_limit], ds.y_train[:args.train_limit]
    ds = type(ds)(ds.name, X, y, ds.X_test, ds.y_test, ds.classes, ds.feature_names, ds.info)
    print(f"MNIST: training subset of the first {len(y)} of 60000 training samples (10% held out for "
          f"validation by fit); all {n_test} test samples for accuracy. importance: {args.lut_metric} (LUT), "
          f"{args.dense_metric} (dense), "
          f"schedule=polynomial({args.steps} steps), fine-tune {args.finetune_epochs} epoch(s)/step")
    t0 = time.time()
    lut_rows = lut_benchmark(ds, args, print)
    dense_rows = [] if args.skip_dense else dense_benchmark(ds, args, print)
    print("\nLUT network (784-128-64-10, fan-in 6, 2-bit): accuracy vs LUT budget")
    print(table(lut_rows, ["budget", "ir.lut_cost", "yosys_est", "within", "conns", "const", "oneshot_acc", "test_acc",
                           "greedy_gap%", "bit_exact", "s"]))
    if dense_rows:
        print("\nDense MLP (784-64-32-10, 12-bit weights, hls4ml Resource strategy): accuracy vs DSP budget")
        print(table(dense_rows, ["dsp_budget", "dsp", "bram", "within", "test_acc", "s"]))
    path = Path(args.out) / "pruning_mnist.png"
    plot(lut_rows, dense_rows, path)
    print(f"\nplot: {path}   total time {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
