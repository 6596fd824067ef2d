# %% [markdown]
# # Tutorial 1: jet tagging with LUT neurons, from training to bit-exact firmware
#
# This tutorial follows the path of the classic hls4ml jet-tagging tutorial, but instead of a dense
# network with multipliers we train a **LUT network**: every neuron sees only a few inputs (its
# *fan-in*) at a few bits each, so the whole neuron, weights, batch norm and activation included,
# is one small truth table.  On an FPGA such a neuron is a handful of LUTs and no DSPs; the network
# runs at hundreds of MHz with a latency of a few clock cycles.
#
# What we do, step by step:
#
# 1. load the hls4ml jet dataset (16 high-level features, 5 classes: g, q, t, W, Z);
# 2. train a LogicNets-style network (the zoo config `logicnets-jsc-s`) in Brevitas;
# 3. extract every neuron's truth table into lutnet's LUT IR and check it against the model;
# 4. prune it to a LUT budget (a knapsack problem over the neurons' inputs) and fine-tune;
# 5. convert with hls4ml (backend `LUTNet`) to C++ HLS and to Verilog, run the C simulation and
#    the RTL simulation (Verilator), and check that all four agree **bit for bit**;
# 6. build a resource report and put our points on an accuracy-vs-LUTs plot next to the published
#    LogicNets/PolyLUT/NeuraLUT results and the dense hls4ml baseline;
# 7. (optional) the same network written with QKeras.
#
# Run it as a script (`python tutorials/jet_tagging.py`) or cell by cell in an editor that
# understands `# %%` cells (VS Code, PyCharm, Spyder, or Jupyter via jupytext).

# %% [markdown]
# ## Settings
#
# Everything you might want to change is read from environment variables here:
#
# | variable | meaning |
# |---|---|
# | `LUTNET_TUTORIAL_QUICK=1` | tiny run (a few epochs on a few thousand jets): what CI runs |
# | `LUTNET_TUTORIAL_OUT` | where plots and hls4ml projects go (default `tutorials/out/jet_tagging/`) |
# | `LUTNET_JETS_PATH` | the jet data: the LogicNets HDF5 file, or a directory holding it |
# | `LUTNET_JETS_DOWNLOAD=1` | fetch the dataset from OpenML (needs network; cached afterwards) |
# | `LUTNET_TUTORIAL_EPOCHS` | training epochs (overrides the default of the mode) |
# | `LUTNET_TUTORIAL_QKERAS=0` | skip the QKeras section |

# %%
import dataclasses
import os
import shutil
import time
from pathlib import Path

QUICK = os.environ.get("LUTNET_TUTORIAL_QUICK", "0") == "1"
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # script, or notebook
OUT = Path(os.environ.get("LUTNET_TUTORIAL_OUT") or HERE / "out" / "jet_tagging")
JETS_PATH = os.environ.get("LUTNET_JETS_PATH")  # None: look in $LUTNET_DATA_DIR/jets_hlf and the cache
JETS_DOWNLOAD = os.environ.get("LUTNET_JETS_DOWNLOAD", "0") == "1"
RUN_QKERAS = os.environ.get("LUTNET_TUTORIAL_QKERAS", "1") == "1"

CONFIG = "logicnets-jsc-s"                         # the zoo model we train (models/logicnets-jsc-s.yaml)
EPOCHS = int(os.environ.get("LUTNET_TUTORIAL_EPOCHS", 3 if QUICK else 10))
FINETUNE_EPOCHS = 1 if QUICK else 2                # after each pruning step
TRAIN_LIMIT = 4000 if QUICK else 200_000           # training jets used (None: all 664,000)
TEST_LIMIT = 2000 if QUICK else None               # test jets used for accuracy and the simulations
RTL_SAMPLES = 1000 if QUICK else 20000             # jets pushed through the Verilator simulation
PRUNE_FRACTIONS = [0.6] if QUICK else [0.8, 0.6, 0.45]  # LUT budgets, fractions of the unpruned cost
REPORT_METHOD = "estimate" if QUICK else "yosys"   # "yosys" synthesises every table (needs yosys on PATH)
CFLAGS = "-O1" if QUICK else "-O3"                 # g++ flags for the C simulation library

OUT.mkdir(parents=True, exist_ok=True)
print(f"mode: {'QUICK (tiny settings)' if QUICK else 'full'}; outputs in {OUT}")

# %%
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter TensorFlow, should the QKeras part run
import matplotlib

matplotlib.use("Agg")  # write PNG files; no display needed
import hls4ml
import matplotlib.pyplot as plt
import numpy as np
import torch
from plots import confusion, plot_confusion, save, training_curves  # tutorials/plots.py, beside this file

from lutnet.builder import build_model
from lutnet.cli import format_table
from lutnet.config import TrainConfig, load_config
from lutnet.data import DataNotFoundError, load_jets, make_synthetic_jets
from lutnet.export import to_ir
from lutnet.pruning.torch_prune import lut_network_cost, prune_lut_network
from lutnet.rtl import build_report, format_report
from lutnet.train import accuracy, fit
from lutnet.verify import verify

torch.set_num_threads(min(2, os.cpu_count() or 1))
T_START = time.time()

# %% [markdown]
# ## 1. The data
#
# `load_jets` reads the LogicNets HDF5 file (`processed-pythia82-lhc13-all-pt1-50k-r1_h022_e0175_t220_nonu_truth.z`)
# or the OpenML copy (dataset 42468, what the hls4ml tutorial uses) and applies the standard
# preprocessing: an 80/20 train/test split with `random_state=42` and a `StandardScaler` fit on the
# training part.  Labels are in alphabetical order g=0, q=1, t=2, w=3, z=4.
#
# If the data is not on this machine, the tutorial falls back to **synthetic jets** with the same
# schema (16 features, 5 classes).  Everything below runs the same way on them, but the accuracies
# then say nothing about jet physics.

# %%
SYNTHETIC = False
try:
    data = load_jets(JETS_PATH, download=JETS_DOWNLOAD)
except DataNotFoundError as err:
    print(f"real jet data not found:\n{err}")
    print("Set LUTNET_JETS_PATH=<file or dir> or LUTNET_JETS_DOWNLOAD=1 to use the real dataset.")
    SYNTHETIC = True
    data = make_synthetic_jets(n=10_000 if QUICK else 100_000, seed=0)
    print("=" * 78)
    print("USING SYNTHETIC DATA (same schema) — accuracies are not physics results")
    print("=" * 78)

X_train, y_train = data.X_train[:TRAIN_LIMIT], data.y_train[:TRAIN_LIMIT]
X_test, y_test = data.X_test[:TEST_LIMIT], data.y_test[:TEST_LIMIT]
CLASSES = list(data.classes)
print(f"dataset {data.name} ({data.info.get('source')}): {len(X_train)} training / {len(X_test)} test jets, "
      f"{X_train.shape[1]} features, classes {CLASSES}")

# %% [markdown]
# ## 2. The model and its training
#
# The zoo config `logicnets-jsc-s` is LogicNets' smallest jet tagger: 64, 32, 32, 32 hidden neurons
# and 5 outputs; each neuron has fan-in 3; inputs, hidden activations and outputs have 2 bits.
# (Quick mode keeps the neuron type and bit widths but shrinks the layers to 32, 16, 5.)
# A neuron therefore has 3 x 2 = 6 address bits: a 64-row truth table, exactly one 6-input LUT
# per output bit.  `build_model` turns the config into a Brevitas `LUTNet`; the first layer
# quantizes the standardised features to signed 2-bit codes.
#
# `fit` trains with Adam and a cosine learning-rate decay, holds out 10 % of the *training* jets for
# validation (never the test set), and restores the epoch with the best validation accuracy.

# %%
cfg = load_config(CONFIG)
cfg.train.epochs = EPOCHS
cfg.train.lr = 0.01  # the zoo's 1e-3 is for LogicNets' 1000 epochs; we train for far fewer
if QUICK:  # a smaller network, smaller batches: something sensible in a few seconds
    cfg.model = dataclasses.replace(cfg.model, layers=[32, 16, 5])
    cfg.train.batch_size, cfg.train.lr = 128, 0.02
widths = [lc.out_features for lc in cfg.model.layers]
print(cfg.description if not QUICK else f"{CONFIG}, shrunk for quick mode: layers {widths}")
model = build_model(cfg.model, X_train.shape[1], X_train)
for layer in model.layers:
    print(f"  {layer.name}: {layer.in_features} -> {layer.out_features} neurons, fan-in {layer.fan_in}, "
          f"{layer.output_info().bits}-bit outputs")

# %%
t0 = time.time()
result = fit(model, X_train, y_train, cfg.train, progress=not QUICK)
test_acc = accuracy(model, X_test, y_test)
print(f"trained {EPOCHS} epochs in {time.time() - t0:.0f} s: best epoch {result.best_epoch}, "
      f"validation accuracy {result.best_val_acc:.4f}, test accuracy {test_acc:.4f}")

# %% [markdown]
# The training curves: loss and accuracy on the training batches (with the fast training path)
# and accuracy on the validation split (with the exact inference path the tables are made from).

# %%
training_curves(result.history, f"{CONFIG} on {data.name}", OUT / "training_curves.png")

# %% [markdown]
# ## 3. Truth tables: the LUT IR
#
# `to_ir` enumerates every possible input of every neuron and records the output code: the
# network *is* now a list of truth tables.  `ir.summary()` lists them per layer; `lut_cost` is
# LogicNets' analytic LUT count for tables of that size.  `verify` pushes jets through the PyTorch
# model and through the IR evaluator and counts the jets whose output codes differ: it must be 0.

# %%
ir = to_ir(model, metadata={"name": CONFIG})
print(format_table(ir.summary(), ["layer", "kind", "neurons", "fan_in", "in_bits", "out_bits", "address_bits",
                                  "table_rows", "lut_cost"]))
print(f"LUT cost (LogicNets formula): {ir.lut_cost():,.0f}")
check = verify(model, ir, X_test, y_test)
print(f"bit-exact [brevitas] python model vs LUT IR: {check}")
assert check.ok, check

# %% [markdown]
# The confusion matrix of the (unpruned) network on the test jets, computed from the truth
# tables.  Each row is normalised to the true class.

# %%
ir_pred = ir.predict(X_test)
plot_confusion(confusion(y_test, ir_pred, len(CLASSES)), CLASSES,
               f"{CONFIG}, test accuracy {np.mean(ir_pred == y_test):.3f}", OUT / "confusion_matrix.png")

# %% [markdown]
# ## 4. Pruning to a LUT budget
#
# A neuron's table has 2^(fan-in x bits) rows, so every input a neuron drops halves (here: quarters)
# its table.  `prune_lut_network` decides, for every neuron, how many of its most important inputs
# to keep, such that the total LUT cost stays within a budget and the summed importance of the kept
# inputs is maximal: a multiple-choice **knapsack** problem, solved exactly.  After each cut we
# fine-tune for a few epochs, then record test accuracy and LUTs; each budget is a point on the
# accuracy-vs-LUTs plot below.
#
# A caveat you will see in the numbers: with 6 address bits (3 inputs x 2 bits) a table is one LUT6
# per output bit whether it has 3 inputs or 2, so LogicNets' cost formula only drops when a neuron
# loses *all* its inputs (it becomes a constant) — and then the neurons reading only from it die
# too.  The knapsack therefore removes whole neurons here.  It then re-solves with those orphaned
# neurons fixed as constants, so the budget they freed goes back to other neurons and the cost lands
# within a neuron or two of the budget.  Wider tables (the MNIST tutorial: 12 address bits) prune
# input by input.
#
# The LUT numbers on the plot come from lutnet's build report (`estimate`: a LUT-mapping estimator
# calibrated against Yosys, in milliseconds; `yosys`: Yosys `synth_xilinx` of every table).

# %%
def report_luts(ir_):
    return build_report(ir_, method="estimate", progress=False)["total"]["luts"]


points = [{"label": "unpruned", "acc": float(np.mean(ir_pred == y_test)), "luts": report_luts(ir),
           "lut_cost": ir.lut_cost()}]
initial_cost = lut_network_cost(model)
finetune = TrainConfig(epochs=FINETUNE_EPOCHS, batch_size=cfg.train.batch_size, lr=cfg.train.lr / 4, seed=1)
for frac in PRUNE_FRACTIONS:
    budget = frac * initial_cost
    step = prune_lut_network(model, budget, metric="l1")
    assert step.lut_cost <= budget, (step.lut_cost, budget)
    fit(model, X_train, y_train, finetune, progress=False)
    ir_p = to_ir(model, metadata={"name": f"{CONFIG}-pruned-{frac:g}"})
    assert ir_p.lut_cost() <= budget + 1e-9  # the exported tables respect the budget too
    acc_p = float(np.mean(ir_p.predict(X_test) == y_test))
    points.append({"label": f"budget {frac:.0%}", "acc": acc_p, "luts": report_luts(ir_p),
                   "lut_cost": ir_p.lut_cost()})
    print(f"budget {budget:,.0f} ({frac:.0%}): LUT cost {step.lut_cost:,.0f}, "
          f"{step.kept_connections} connections kept, test accuracy {acc_p:.4f}")

# %% [markdown]
# We continue with the most heavily pruned model, `ir_p`.  Pruning changes the tables, so we
# check bit-exactness again.

# %%
check = verify(model, ir_p, X_test, y_test)
print(f"bit-exact [brevitas, pruned] python model vs LUT IR: {check}")
assert check.ok, check
print(f"pruned LUT cost {ir_p.lut_cost():,.0f} <= budget {PRUNE_FRACTIONS[-1] * initial_cost:,.0f}")

# %% [markdown]
# ## 5. hls4ml: C++ HLS and its C simulation
#
# The `LUTNet` backend plugs into hls4ml like any other backend: the PyTorch model goes through
# `config_from_pytorch_model` and `convert_from_pytorch_model`.  Each LUT layer becomes a
# `LUTDense` layer that carries the truth tables; the C++ writes one table per neuron.
# `compile()` builds the C simulation with g++, and `predict()` runs it.  The project directory is
# a normal hls4ml project (`build_prj.tcl` for Vitis HLS included).
#
# Bit-exact here means: the float32 class scores from the C simulation equal the PyTorch model's
# scores exactly (`np.array_equal`, not `allclose`), and the output codes equal the IR evaluator's.

# %%
config = hls4ml.utils.config_from_pytorch_model(model, (X_train.shape[1],), backend="LUTNet")
hls_cpp = hls4ml.converters.convert_from_pytorch_model(
    model, output_dir=str(OUT / "hls4ml_cpp"), backend="LUTNet", hls_config=config, output="cpp", cflags=CFLAGS)
t0 = time.time()
hls_cpp.compile()
print(f"C simulation compiled in {time.time() - t0:.0f} s")

# %%
with torch.no_grad():
    torch_scores = model.eval()(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
csim_scores = hls_cpp.predict(np.ascontiguousarray(X_test, dtype=np.float32))
codes = ir_p.quantize_input(X_test)
ir_out = ir_p.evaluate(codes)
csim_codes = hls_cpp.predict(codes, codes=True)
bad_scores = int((csim_scores != torch_scores).any(1).sum())
bad_codes = int((csim_codes != ir_out).any(1).sum())
print(f"bit-exact [brevitas] C simulation vs python model: {len(X_test)} samples, {bad_scores} mismatches")
print(f"bit-exact [brevitas] C simulation vs LUT IR: {len(X_test)} samples, {bad_codes} mismatches")
assert bad_scores == 0 and bad_codes == 0

# %% [markdown]
# ## 6. hls4ml: Verilog and its RTL simulation
#
# With `output="verilog"` the same backend writes plain Verilog instead (one ROM per neuron, a
# register stage after every layer) — no HLS tool needed.  `compile()` builds a Verilator model
# and `predict()` runs the RTL simulation, clock cycle by clock cycle.

# %%
hls_v = hls4ml.converters.convert_from_pytorch_model(
    model, output_dir=str(OUT / "hls4ml_verilog"), backend="LUTNet", hls_config=config, output="verilog")
t0 = time.time()
hls_v.compile()
print(f"Verilator model compiled in {time.time() - t0:.0f} s")
n_rtl = min(RTL_SAMPLES, len(codes))
rtl_codes = hls_v.predict(codes[:n_rtl], codes=True)
bad_rtl = int((rtl_codes != ir_out[:n_rtl]).any(1).sum())
print(f"bit-exact [brevitas] RTL simulation vs LUT IR: {n_rtl} samples, {bad_rtl} mismatches")
assert bad_rtl == 0
print(f"BIT-EXACT: python model == LUT IR == C simulation == RTL simulation ({n_rtl} jets through all four)")

# %% [markdown]
# ## 7. The build report
#
# `build()` on an hls4ml project runs the vendor flow when Vivado/Vitis is on your PATH, and the
# open flow otherwise (`vendor=False` forces it): here lutnet's LUT estimator, or Yosys
# (`synth_xilinx`, per unique table, cached).  The report lists LUTs by size, flip-flops, logic
# levels, the pipeline latency and a rough Fmax estimate.  Treat LUT counts from the open flow as
# estimates: Vivado's numbers for the published designs include its own optimisations.

# %%
method = REPORT_METHOD if REPORT_METHOD != "yosys" or shutil.which("yosys") else "estimate"
build = hls_v.build(vendor=False, method=method, verbose=True)
report = build["report"]
print(format_report(report))
report_luts_final = report["total"]["luts"]
points[-1]["luts"] = report_luts_final  # the final (pruned) point with the chosen method's numbers

# %% [markdown]
# ## 8. Variant: the same network in QKeras
#
# `lutnet.keras` has the same LUT layers for Keras/QKeras, and `lutnet.frontend` the same verbs for
# both frameworks: `get_frontend("keras")` builds from the same config, trains, prunes (the same
# knapsack code as above), exports and checkpoints; `frontend_of(model_or_checkpoint)` tells which
# framework a model or a checkpoint path belongs to.  QKeras quantizers have fixed power-of-two ranges
# instead of learned scales, so accuracies differ.  The model converts through hls4ml's Keras frontend
# to the same backend, and its C simulation matches the Keras model bit for bit.

# %%
if RUN_QKERAS:
    try:
        import qkeras  # noqa: F401
        import tensorflow  # noqa: F401 -- fails here, with a clear message, if TensorFlow is missing

        from lutnet.frontend import frontend_of, get_frontend
        keras_fe = get_frontend("keras")
    except ImportError as err:
        print(f"QKeras variant skipped: {err}")
        RUN_QKERAS = False

# %%
if RUN_QKERAS:
    kmodel = keras_fe.build(cfg.model, X_train.shape[1])
    assert frontend_of(kmodel) is keras_fe and frontend_of(model).name == "torch"
    t0 = time.time()
    kres = keras_fe.fit(kmodel, X_train, y_train, cfg.train, progress=False)
    kacc = keras_fe.accuracy(kmodel, X_test, y_test)
    print(f"QKeras: trained {EPOCHS} epochs in {time.time() - t0:.0f} s, test accuracy {kacc:.4f}")
    kbudget = PRUNE_FRACTIONS[0] * keras_fe.lut_cost(kmodel)  # the gentlest of the budgets above
    kstep = keras_fe.prune(kmodel, kbudget, metric="l1")
    assert kstep.lut_cost <= kbudget
    print(f"QKeras: pruned to LUT cost {kstep.lut_cost:,.0f} (budget {kbudget:,.0f}), "
          f"{kstep.constant_neurons} constant neurons")
    keras_fe.fit(kmodel, X_train, y_train, finetune, progress=False)  # the pruned inputs stay pruned
    kir = keras_fe.to_ir(kmodel)
    kcodes = keras_fe.input_codes(kmodel, X_test)
    bad = int((keras_fe.output_codes(kmodel, X_test) != kir.evaluate(kcodes)).any(1).sum())
    print(f"bit-exact [qkeras, pruned] keras model vs LUT IR: {len(X_test)} samples, {bad} mismatches")
    assert bad == 0

# %%
if RUN_QKERAS:
    kconfig = hls4ml.utils.config_from_keras_model(kmodel, granularity="name", backend="LUTNet")
    hls_k = hls4ml.converters.convert_from_keras_model(
        kmodel, output_dir=str(OUT / "hls4ml_qkeras_cpp"), backend="LUTNet", hls_config=kconfig, output="cpp",
        cflags=CFLAGS)
    hls_k.compile()
    X32 = np.ascontiguousarray(X_test, dtype=np.float32)
    bad = int((hls_k.predict(X32) != kmodel(X32, training=False).numpy()).any(1).sum())
    print(f"bit-exact [qkeras] C simulation vs keras model: {len(X_test)} samples, {bad} mismatches")
    assert bad == 0
    kacc_p = float(np.mean(kir.predict(X_test) == y_test))
    print(f"QKeras pruned: test accuracy {kacc_p:.4f}, LUT cost {kir.lut_cost():,.0f}")
    points.append({"label": "QKeras, pruned", "acc": kacc_p, "luts": report_luts(kir), "lut_cost": kir.lut_cost()})

# %% [markdown]
# ## 9. Accuracy versus LUTs
#
# Our unpruned and pruned networks against published results on the same dataset.  The published
# numbers are Vivado post-implementation LUTs on a VU9P and real-data accuracies; they are copied
# from the `# Published:` header comments of the zoo files named in the comments below.  The dense
# hls4ml baseline (red star) is the quantized dense jet-tagging MLP of Fahim et al. (hls4ml, 2021)
# as quoted in PolyLUT's comparison (ICFPT 2023): 76 % at 63,251 LUTs.  LUT networks trade a few
# percent of accuracy for one to two orders of magnitude fewer LUTs and no DSPs.

# %%
PUBLISHED = [  # (family, model, accuracy, LUTs)
    ("LogicNets", "JSC-S", 0.688, 232),       # models/logicnets-jsc-s.yaml
    ("LogicNets", "JSC-M", 0.715, 14_576),    # models/logicnets-jsc-m.yaml
    ("LogicNets", "JSC-L", 0.726, 38_925),    # models/logicnets-jsc-l.yaml
    ("PolyLUT", "JSC-M Lite", 0.72, 12_436),  # models/polylut-jsc-m-lite.yaml
    ("PolyLUT", "JSC-XL", 0.75, 236_541),     # models/polylut-jsc-xl.yaml
    ("NeuraLUT", "JSC-2L", 0.72, 4_684),      # models/neuralut-jsc-2l.yaml
    ("NeuraLUT", "JSC-5L", 0.75, 92_357),     # models/neuralut-jsc-5l.yaml
]
# Not in a zoo file: Fahim et al. 2021 as quoted by PolyLUT (ICFPT 2023), numbers given in the lutnet issue.
DENSE_BASELINE = ("dense hls4ml MLP (Fahim et al., via PolyLUT)", 0.76, 63_251)


def pareto_plot(points, published, dense, title, path):
    fig, ax = plt.subplots(figsize=(8, 5))
    markers = {"LogicNets": "^", "PolyLUT": "s", "NeuraLUT": "v"}
    for family in dict.fromkeys(f for f, *_ in published):
        rows = [r for r in published if r[0] == family]
        ax.scatter([r[3] for r in rows], [r[2] for r in rows], marker=markers.get(family, "o"), color="tab:gray",
                   label=f"{family} (published)")
        for _, name, acc, luts in rows:
            ax.annotate(name, (luts, acc), textcoords="offset points", xytext=(3, -11), fontsize=7, color="dimgray")
    if dense is not None:
        ax.scatter(dense[2], dense[1], marker="*", s=150, color="tab:red", label=dense[0])
    ours = sorted((p for p in points if not p["label"].startswith("QKeras")), key=lambda p: p["luts"])
    ax.plot([p["luts"] for p in ours], [p["acc"] for p in ours], "o-", color="tab:blue", label="this tutorial (Brevitas)")
    for p in points:
        if p["label"].startswith("QKeras"):
            ax.scatter(p["luts"], p["acc"], marker="D", color="tab:orange", label="this tutorial (QKeras)")
            ours = ours + [p]
    for p in ours:
        ax.annotate(p["label"], (p["luts"], p["acc"]), textcoords="offset points", xytext=(4, -10), fontsize=8,
                    color="tab:blue")
    ax.set_xscale("log")
    ax.set(xlabel="LUTs (published: Vivado; ours: open-flow report)", ylabel="test accuracy", title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    save(fig, path)


title = "jet tagging: accuracy vs LUTs" + (" — OURS ON SYNTHETIC DATA, not comparable" if SYNTHETIC else "")
pareto_plot(points, PUBLISHED, DENSE_BASELINE, title, OUT / "pareto.png")
for p in points:
    print(f"  {p['label']:>12}: accuracy {p['acc']:.4f}, {p['luts']:,} LUTs (LogicNets cost {p['lut_cost']:,.0f})")

# %% [markdown]
# ## Summary
#
# The assertions above are the tutorial's own tests; CI runs this script with
# `LUTNET_TUTORIAL_QUICK=1`.  The floor on accuracy is loose on purpose: 5 balanced classes give
# 20 % by chance.  In quick mode (3 epochs, one short fine-tune) a 60 % budget can leave the pruned
# network near chance, so there the floor applies to the unpruned network; in full mode to the pruned.

# %%
final_acc = float(np.mean(ir_p.predict(X_test) == y_test))  # the pruned Brevitas network
floor_acc = points[0]["acc"] if QUICK else final_acc
assert floor_acc > (0.35 if QUICK else 0.45), f"accuracy {floor_acc:.3f} below the floor"
print(f"data: {'SYNTHETIC (not physics results)' if SYNTHETIC else data.info.get('source')}")
print(f"final pruned network: test accuracy {final_acc:.4f}, {report_luts_final:,} LUTs ({method}), "
      f"latency {report['pipeline']['latency_cycles']} cycles")
print(f"plots: {', '.join(sorted(p.name for p in OUT.glob('*.png')))} in {OUT}")
print(f"tutorial finished in {time.time() - T_START:.0f} s")
