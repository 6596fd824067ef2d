"""Simulate a trained DWN-style MNIST IR (benchmarks/train_dwn_mnist.py output) with Verilator on all
10,000 test images and compare with the IR evaluator and the PyTorch model.

    .venv/bin/python benchmarks/sim_dwn_mnist.py runs/dwn-mnist-sm
"""
import sys
import time
from pathlib import Path

import numpy as np
import torch


def main(run_dir, data="../shared/data/mnist"):
    from lutnet.data import load_dataset
    from lutnet.ir import NetworkIR
    from lutnet.rtl import simulate
    out = Path(run_dir).resolve()
    ir = NetworkIR.load(out / "dwn.lutir.npz")
    ds = load_dataset("mnist", path=data)
    X = ds.X_test.reshape(len(ds.X_test), -1).astype(np.float32)
    codes = ir.quantize_input(X)
    ref = ir.evaluate(codes)
    t0 = time.perf_counter()
    rtl = np.asarray(simulate(ir, codes, simulator="verilator", work_dir=str(out / "sim")))
    print(f"Verilator, {len(codes)} MNIST test images: {int((rtl != ref).sum())} mismatches vs the IR; RTL accuracy "
          f"{float((rtl[:, 0] == ds.y_test).mean()):.4f}, IR accuracy {float((ref[:, 0] == ds.y_test).mean()):.4f} "
          f"({time.perf_counter() - t0:.0f} s incl. build)", flush=True)
    blob = torch.load(out / "dwn.pt", weights_only=False)
    print("model args:", blob["args"])


if __name__ == "__main__":
    main(*sys.argv[1:])
