"""Table-enumeration and IR-inference throughput for three published network shapes.

    .venv/bin/python benchmarks/bench_tables.py [--quick] [--repeat N]

Models are untrained (random weights, BN at init): enumeration cost does not depend on the weights.
``extract s`` is the median of ``--repeat`` extractions (after one untimed warm-up extraction
when N > 1: the first one in a process also imports and loads the compiled kernels).  The last
column times a LogicNets-style enumeration (one table row per call) on a few hundred rows
of the first layer, extrapolated to the whole network, for comparison."""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lutnet._table import format_table
from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet
from lutnet.quant import SignedActQuant, UnsignedActQuant


def net(n_in, widths, fan_ins, in_bits, hidden_bits, kind, **opts):
    layers, src = [], n_in
    bits = [in_bits] + [hidden_bits] * len(widths)
    for i, (w, f) in enumerate(zip(widths, fan_ins)):
        last = i == len(widths) - 1
        layers.append(LUTLayer(src, w, f, kind, input_quant=SignedActQuant if i == 0 else None,
                               input_bit_width=in_bits if i == 0 else None,
                               output_quant=SignedActQuant if last else UnsignedActQuant,
                               output_bit_width=bits[i + 1], seed=i, name=f"layer{i}", **opts))
        src = w
    return LUTNet(layers).eval()


SHAPES = {
    "LogicNets JSC-M (64,32,32,32,5; F=4; 3b)":
        lambda: net(16, [64, 32, 32, 32, 5], [4] * 5, 3, 3, "linear"),
    "PolyLUT MNIST-HDR (256,100x4,10; F=6; 2b; D=4)":
        lambda: net(784, [256, 100, 100, 100, 100, 10], [6] * 6, 2, 2, "poly", degree=4),
    "NeuraLUT JSC-5L (128,128,128,64,5; F=2/3; 7b in, 4b; N=16, L=4 (depth=3), S=2)":
        lambda: net(16, [128, 128, 128, 64, 5], [2, 3, 3, 3, 3], 7, 4, "subnet", width=16, depth=3, skip=2),
}


def row_at_a_time(model, n_rows=200):
    """rows/s of enumerating one neuron's table one row per call (how the research code does it)."""
    layer = model.layers[0]
    info = layer.input_info()
    F = layer.fan_in
    t = time.perf_counter()
    with torch.no_grad():
        for r in range(n_rows):
            codes = torch.tensor([[[(r >> (info.bits * j)) & ((1 << info.bits) - 1) for j in range(F)]]])
            y = layer.function_of_codes(codes, info.scale, info.zero_point)
            layer.output_quant(y[:, :1]).int()
    return n_rows / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the first shape")
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1, help="extractions per shape (median); > 1 adds a warm-up")
    args = ap.parse_args()
    torch.manual_seed(0)
    rows = []
    for name, make in list(SHAPES.items())[: 1 if args.quick else None]:
        model = make()
        if args.repeat > 1:
            to_ir(model)
        times = []
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            ir = to_ir(model)
            times.append(time.perf_counter() - t)
        te = float(np.median(times))
        n_rows = sum(int(L.table_rows.sum()) for L in ir.layers)
        x = np.random.default_rng(0).integers(ir.input_quant.code_min, ir.input_quant.code_max + 1,
                                              size=(args.samples, ir.n_inputs))
        t = time.perf_counter()
        ir.evaluate(x)
        ti = time.perf_counter() - t
        slow = row_at_a_time(model)
        rows.append({"network": name, "table rows": n_rows, "extract s": f"{te:.3f}",
                     "rows/s": f"{n_rows / te:,.0f}", f"IR eval samples/s ({args.samples:,})": f"{args.samples / ti:,.0f}",
                     "row-at-a-time rows/s": f"{slow:,.0f}", "speed-up": f"{n_rows / te / slow:,.0f}x"})
        print(format_table(rows[-1:]), flush=True)
    print()
    print(format_table(rows))
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()
