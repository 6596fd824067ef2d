"""``lutnet demo``: the main job on data that ships with scikit-learn, in a few minutes on 2 cores.

Train the zoo model ``digits-lut6`` (every neuron one 6-input table) on the 8x8 digits, extract
every truth table, convert the trained PyTorch model through the hls4ml ``LUTNet`` backend to HLS
C++ firmware, compile its C simulation with g++ and check it bit for bit against the Python model,
write the Verilog and simulate it with Verilator (when installed), print build reports from
lutnet's estimator and from Yosys, and say where every artifact is."""
from __future__ import annotations

import contextlib
import io
import shutil
import time
from pathlib import Path

import numpy as np

from ._files import check_output
from ._table import format_table
from .errors import LutnetError

DEMO_MODEL = "digits-lut6"
DEFAULT_OUT = "runs/demo"
STEPS = 7
SUMMARY_COLUMNS = ["layer", "kind", "neurons", "fan_in", "in_bits", "out_bits", "address_bits", "table_rows",
                   "lut_cost"]


def _mismatches(a, b) -> int:
    """Samples (rows) on which two output arrays differ anywhere."""
    return int((np.asarray(a) != np.asarray(b)).reshape(len(a), -1).any(1).sum())


def _quiet():
    """hls4ml's converter prints its topology walk; the demo prints its own summary instead."""
    return contextlib.redirect_stdout(io.StringIO())


def _step(i: int, text: str):
    print(f"[{i}/{STEPS}] {text}", flush=True)


def run_demo(epochs: int | None = None, out=None, force: bool = False, progress: bool = True,
             yosys: str = "all") -> int:
    """Run the demo into ``out`` (default ``runs/demo``; an existing non-empty directory needs
    ``force``).  ``yosys``: ``"all"`` (synthesize every unique table), ``"none"``.  Returns the exit
    status: 0 when every check is bit-exact, 1 otherwise."""
    out = check_output(Path(out or DEFAULT_OUT), force)  # before any work
    if yosys not in ("all", "none"):
        raise LutnetError(f"lutnet demo: yosys={yosys!r} is not one of all, none")
    try:
        import hls4ml
    except ImportError:
        raise LutnetError("lutnet demo converts through hls4ml, which is not installed: run `make demo`, or "
                          "`pip install -r requirements/full.txt`") from None
    import torch

    from .builder import build_model
    from .checkpoint import save_checkpoint
    from .config import check_model, load_config
    from .data import load_dataset
    from .export import to_ir
    from .rtl.report import format_report
    from .train import accuracy, fit
    from .verify import verify

    t_start = time.time()
    cfg = load_config(DEMO_MODEL)
    if epochs is not None:
        cfg.train.epochs = epochs
    ds = load_dataset(cfg.data.name)
    check_model(cfg.model, ds.n_features, DEMO_MODEL)
    X = np.ascontiguousarray(np.concatenate([ds.X_train, ds.X_test]), dtype=np.float32)
    y = np.concatenate([ds.y_train, ds.y_test])
    _step(1, f"data: {ds.name}, {len(ds.X_train)} train / {len(ds.X_test)} test samples, {ds.n_features} "
             f"features, {ds.n_classes} classes (validation carved from train)")

    model = build_model(cfg.model, ds.n_features, ds.X_train)
    t0 = time.time()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small model: one thread trains fastest, above all on a busy machine
    try:
        result = fit(model, ds.X_train, ds.y_train, cfg.train, progress=progress)
    finally:
        torch.set_num_threads(threads)
    test_acc = accuracy(model, ds.X_test, ds.y_test)
    _step(2, f"trained {cfg.name} for {cfg.train.epochs} epochs in {time.time() - t0:.0f} s: best epoch "
             f"{result.best_epoch}, validation accuracy {result.best_val_acc:.4f}, test accuracy {test_acc:.4f}")

    t0 = time.time()
    ir = to_ir(model, progress=progress, metadata={"name": cfg.name})
    report = verify(model, ir, X, y)
    _step(3, f"extracted {sum(int(l.table_rows.sum()) for l in ir.layers):,} table rows in "
             f"{time.time() - t0:.2f} s; bit-exactness, Python model vs truth tables: {report}")
    print(format_table(ir.summary(), SUMMARY_COLUMNS))
    ckpt = save_checkpoint(out / "checkpoint.pt", model, cfg, ds.n_features, {"test_acc": test_acc},
                           overwrite=force)
    ir_file = ir.save(out / "model.lutir.npz", overwrite=force)
    ok = report.ok

    codes = ir.quantize_input(X)
    ir_out = ir.evaluate(codes)
    with torch.no_grad():
        torch_scores = model.eval()(torch.as_tensor(X)).numpy()
    config = hls4ml.utils.config_from_pytorch_model(model, (ds.n_features,), backend="LUTNet")
    project = cfg.name.replace("-", "_")  # hls4ml project names are C identifiers

    t0 = time.time()
    with _quiet():
        hls_cpp = hls4ml.converters.convert_from_pytorch_model(
            model, output_dir=str(out / "hls4ml_cpp"), project_name=project, backend="LUTNet", hls_config=config,
            output="cpp")
    hls_cpp.compile()
    t_compile = time.time() - t0
    bad_scores = _mismatches(hls_cpp.predict(X), torch_scores)
    bad_codes = _mismatches(hls_cpp.predict(codes, codes=True), ir_out)
    ok &= bad_scores == 0 and bad_codes == 0
    _step(4, f"hls4ml LUTNet backend -> HLS C++, C simulation compiled with g++ in {t_compile:.0f} s; "
             f"bit-exactness, C simulation vs Python model: {len(X)} samples, {bad_scores} mismatches "
             f"(class scores); vs truth tables: {bad_codes} mismatches (output codes)")

    t0 = time.time()
    with _quiet():
        hls_v = hls4ml.converters.convert_from_pytorch_model(
            model, output_dir=str(out / "hls4ml_verilog"), project_name=project, backend="LUTNet", hls_config=config,
            output="verilog")
    hls_v.write()
    stages = "Python model == truth tables == C simulation"
    if shutil.which("verilator"):
        stages += " == RTL simulation"
        hls_v.compile()
        t_compile = time.time() - t0
        bad_rtl = _mismatches(hls_v.predict(codes, codes=True), ir_out)
        bad_rtl_scores = _mismatches(hls_v.predict(X), torch_scores)
        ok &= bad_rtl == 0 and bad_rtl_scores == 0
        _step(5, f"hls4ml LUTNet backend -> Verilog, Verilator model built in {t_compile:.0f} s; bit-exactness, "
                 f"RTL simulation vs Python model: {len(X)} samples, {bad_rtl_scores} mismatches (class scores); "
                 f"vs truth tables: {bad_rtl} mismatches (output codes)")
    else:
        _step(5, "hls4ml LUTNet backend -> Verilog written; RTL simulation skipped: verilator is not on PATH "
                 "(`make tools` or `apt-get install verilator` installs it)")

    est = hls_v.build(vendor=False, method="estimate", verbose=False)
    _step(6, f"build report, lutnet estimator ({est['seconds']:.2f} s):")
    print(format_report(est["report"]))
    if yosys == "none":
        _step(7, "build report, Yosys: skipped (--yosys none)")
    elif not shutil.which("yosys"):
        _step(7, "build report, Yosys: skipped: yosys is not on PATH (`make tools` or `apt-get install yosys`)")
    else:
        t0 = time.time()
        rep = hls_v.build(vendor=False, method="yosys", verbose=False)
        _step(7, f"build report, Yosys synth_xilinx ({time.time() - t0:.0f} s; the whole design in one run, cached):")
        print(format_report(rep["report"]))

    print(f"\nartifacts in {out}/:\n"
          f"  checkpoint        {ckpt}\n"
          f"  truth tables (IR) {ir_file}\n"
          f"  HLS C++ project   {out / 'hls4ml_cpp'}  (firmware/, C simulation library; `hls4ml build -p` it)\n"
          f"  Verilog project   {out / 'hls4ml_verilog'}  (rtl/ holds the Verilog; build_report.json)\n"
          f"total {time.time() - t_start:.0f} s | test accuracy {test_acc:.4f} | "
          f"{'BIT-EXACT: ' + stages if ok else 'MISMATCH (see above)'}")
    return 0 if ok else 1
