"""Train a DWN-style model on MNIST (thermometer encoder, table neurons with learnable mapping,
GroupSum head, argmax), export the IR, check it against the model on all 10,000 test images, emit
Verilog and simulate it with Verilator on all 10,000 test images, and print the LUT estimate.

    .venv/bin/python benchmarks/train_dwn_mnist.py --epochs 8 --nodes 1000 --out runs/dwn-mnist
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/mnist")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--nodes", type=int, default=1000, help="table neurons of layer 0 (comma list: several layers)")
    ap.add_argument("--fan-in", type=int, default=6)
    ap.add_argument("--candidates", type=int, default=16, help="learnable mapping: candidate inputs per slot (0: all)")
    ap.add_argument("--bits-per-feature", type=int, default=3)
    ap.add_argument("--tau", type=float, default=1 / 0.3)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/dwn-mnist")
    ap.add_argument("--simulate", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from lutnet.data import load_dataset
    from lutnet.nn.dwn import DWNNet, TableLayer, Thermometer, accuracy, fit_dwn
    ds = load_dataset("mnist", path=a.data)
    X_train = ds.X_train.reshape(len(ds.X_train), -1).astype(np.float32)
    X_test = ds.X_test.reshape(len(ds.X_test), -1).astype(np.float32)
    print("data", X_train.shape, float(X_train.min()), float(X_train.max()), flush=True)
    enc = Thermometer(X_train.shape[1], bits_per_feature=a.bits_per_feature, fit="quantile", input_bits=8,
                      scale=1 / 255)
    nodes = [int(n) for n in str(a.nodes).split(",")]
    layers, src = [], enc.out_features
    for i, n in enumerate(nodes):
        layers.append(TableLayer(src, n, fan_in=a.fan_in, mapping="learnable" if i == 0 else "random", seed=i,
                                 name=f"layer{i}", mapping_candidates=a.candidates or None))
        src = n
    model = DWNNet(enc, layers, n_classes=10, tau=a.tau, argmax=True)
    t0 = time.perf_counter()
    res = fit_dwn(model, X_train, ds.y_train, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr,
                  log=lambda s: print(s, flush=True))
    train_s = time.perf_counter() - t0
    secs = [h["seconds"] for h in res.history]
    test_acc = accuracy(model, X_test, ds.y_test)
    print(f"trained {a.epochs} epochs in {train_s:.0f} s ({np.mean(secs):.1f} s/epoch); best epoch "
          f"{res.best_epoch + 1}, validation {res.best_val_acc:.4f}, model test accuracy {test_acc:.4f}", flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"state": model.state_dict(), "args": vars(a)}, out / "dwn.pt")
    t0 = time.perf_counter()
    ir = model.to_ir(metadata={"model": "dwn-mnist", "epochs": a.epochs})
    print(f"IR in {time.perf_counter() - t0:.2f} s; stages {ir.stages}", flush=True)
    ir.save(out / "dwn.lutir.npz", overwrite=True)
    codes = ir.quantize_input(X_test)
    ir_out = ir.evaluate(codes)
    mo = model.output_codes(X_test)
    ir_acc = float((ir_out[:, 0] == ds.y_test).mean())
    print(f"model vs IR on {len(X_test)} test images: {int((ir_out != mo).sum())} mismatches; IR accuracy {ir_acc:.4f}",
          flush=True)
    from lutnet.rtl import build_report, format_report
    rep = build_report(ir, method="estimate", progress=False)
    print(format_report(rep), flush=True)
    summary = {"epochs": a.epochs, "seconds_per_epoch": float(np.mean(secs)), "best_epoch": res.best_epoch + 1,
               "val_acc": res.best_val_acc, "test_acc_model": test_acc, "test_acc_ir": ir_acc,
               "ir_mismatches": int((ir_out != mo).sum()),
               "luts_estimate": rep.get("total", {}).get("luts") if isinstance(rep.get("total"), dict) else None}
    if a.simulate:
        from lutnet.rtl import simulate
        t0 = time.perf_counter()
        rtl = simulate(ir, codes, simulator="verilator", work_dir=str((out / "sim").resolve()))
        mism = int((np.asarray(rtl) != ir_out).sum())
        print(f"Verilator on {len(codes)} test images: {mism} mismatches vs IR, {int((np.asarray(rtl) != mo).sum())} vs "
              f"model, RTL accuracy {float((np.asarray(rtl)[:, 0] == ds.y_test).mean()):.4f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        summary["rtl_mismatches"] = mism
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
