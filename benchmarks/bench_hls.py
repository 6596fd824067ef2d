"""Benchmark of the LUTNet hls4ml backend: convert, write, compile and predict times, and the
throughput of the batched C simulation, for a JSC-M-size and an MNIST-HDR-size network (random
LUT IRs: the times depend on the sizes, not on trained tables).

    .venv/bin/python benchmarks/bench_hls.py [--verilog] [--samples 100000] [--out DIR]

Every prediction is checked against the LUT IR evaluator (bit for bit)."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from lutnet import hls_backend
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes

NETWORKS = {
    'JSC-M': dict(n_inputs=16, widths=(64, 32, 32, 32, 5), fan_in=4, bits=3),
    'MNIST-HDR': dict(n_inputs=784, widths=(256, 100, 100, 100, 100, 10), fan_in=6, bits=2),
}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench(name, spec, output, samples, root: Path):
    ir = random_network_ir(seed=0, **spec)
    codes = random_input_codes(ir, samples, seed=1)
    model, t_convert = timed(lambda: hls_backend.convert_ir(ir, output_dir=root / f'{name}-{output}', output=output))
    _, t_write = timed(model.write)
    _, t_compile = timed(model._compile)  # ModelGraph.compile() = write() + _compile()
    got, t_predict = timed(lambda: model.predict(codes, codes=True))
    want, t_eval = timed(lambda: ir.evaluate(codes))
    if not np.array_equal(got, want):
        raise SystemExit(f"{name} ({output}): predict() differs from the IR evaluator")
    return {'network': name, 'output': output, 'neurons': sum(spec['widths']),
            'table_entries': int(sum(L.tables.size for L in ir.layers)), 'convert_s': t_convert,
            'write_s': t_write, 'compile_s': t_compile, 'predict_s': t_predict, 'samples': samples,
            'throughput': samples / t_predict, 'ir_eval_s': t_eval}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--samples', type=int, default=100_000)
    ap.add_argument('--verilog', action='store_true', help='also the Verilog output (Verilator; slow builds)')
    ap.add_argument('--out', default=None, help='project directory root (default: a temporary directory)')
    args = ap.parse_args(argv)
    outputs = ['cpp'] + (['verilog'] if args.verilog else [])
    with tempfile.TemporaryDirectory(prefix='bench-hls-') as tmp:
        root = Path(args.out or tmp)
        hls_backend.convert_ir(random_network_ir(), output_dir=root / 'warm-up')  # first-use imports
        rows = [bench(name, spec, out, args.samples, root) for name, spec in NETWORKS.items() for out in outputs]
    head = (f"{'network':10} {'output':8} {'neurons':>7} {'table entries':>13} {'convert s':>9} {'write s':>8} "
            f"{'compile s':>9} {'predict s':>9} {'samples/s':>11} {'IR eval s':>9}")
    print(head)
    print('-' * len(head))
    for r in rows:
        print(f"{r['network']:10} {r['output']:8} {r['neurons']:>7} {r['table_entries']:>13,} {r['convert_s']:>9.3f} "
              f"{r['write_s']:>8.2f} {r['compile_s']:>9.2f} {r['predict_s']:>9.3f} {r['throughput']:>11,.0f} "
              f"{r['ir_eval_s']:>9.3f}")
    print(f"(predict: {args.samples:,} samples, one batched call; equal to the IR evaluator bit for bit)")
    return rows


if __name__ == '__main__':
    main()
