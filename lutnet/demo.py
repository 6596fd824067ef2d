"""``lutnet demo``: the whole path on data that ships with scikit-learn, in a couple of minutes.

Train the zoo model ``digits-s`` on the 8x8 digits, extract every truth table, check that the model
and the table evaluator agree bit for bit on every sample, and print accuracy, table sizes and a
LUT-cost estimate."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

DEMO_MODEL = "digits-s"


def run_demo(epochs: int | None = None, out=None, force: bool = False, progress: bool = True) -> int:
    from .builder import build_model
    from .checkpoint import save_checkpoint
    from .cli import format_table
    from .config import load_config
    from .data import load_dataset
    from .export import to_ir
    from .train import accuracy, fit
    from .verify import verify

    cfg = load_config(DEMO_MODEL)
    if epochs is not None:
        cfg.train.epochs = epochs
    ds = load_dataset(cfg.data.name)
    print(f"[1/4] data: {ds.name}, {len(ds.X_train)} train / {len(ds.X_test)} test samples, "
          f"{ds.n_features} features, {ds.n_classes} classes (validation carved from train)")
    model = build_model(cfg.model, ds.n_features, ds.X_train)
    t0 = time.time()
    result = fit(model, ds.X_train, ds.y_train, cfg.train, progress=progress)
    test_acc = accuracy(model, ds.X_test, ds.y_test)
    print(f"[2/4] trained {cfg.name} for {cfg.train.epochs} epochs in {time.time() - t0:.0f} s: best epoch "
          f"{result.best_epoch}, validation accuracy {result.best_val_acc:.4f}, test accuracy {test_acc:.4f}")
    t0 = time.time()
    ir = to_ir(model, progress=progress, metadata={"name": cfg.name})
    print(f"[3/4] extracted {sum(int(l.table_rows.sum()) for l in ir.layers):,} table rows in {time.time() - t0:.2f} s")
    print(format_table(ir.summary(), ["layer", "kind", "neurons", "fan_in", "in_bits", "out_bits",
                                      "address_bits", "table_rows", "lut_cost"]))
    X = np.concatenate([ds.X_train, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    report = verify(model, ir, X, y)
    print(f"[4/4] bit-exactness, Python model vs truth tables: {report}")
    ir_test_acc = float((np.argmax(ir.scores(ir.evaluate(ir.quantize_input(ds.X_test))), 1) == ds.y_test).mean())
    print(f"\ntest accuracy {ir_test_acc:.4f} (truth tables) | LUT-cost estimate {ir.lut_cost():,.0f} LUT6 "
          f"(LogicNets LUTCost) | {'BIT-EXACT' if report.ok else 'MISMATCH'}")
    if out is not None:
        out = Path(out)
        save_checkpoint(out / "checkpoint.pt", model, cfg, ds.n_features, {"test_acc": test_acc}, overwrite=force)
        ir.save(out / "model.lutir.npz", overwrite=force)
        print(f"wrote {out / 'checkpoint.pt'} and {out / 'model.lutir.npz'}")
    return 0 if report.ok else 1
