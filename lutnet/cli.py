"""The ``lutnet`` command: train, export, verify, info, onnx, demo, and the RTL commands (verilog,
simulate, build).  The grammar (exit codes, ``-o/--output``, ``--force``, ``-q/--quiet``, one-line
errors) is :mod:`lutnet._cli`'s."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._cli import USER_ERROR, add_force, add_output, add_quiet, check_output, load_ir, positive_int, run_command
from ._table import format_table  # noqa: F401  (re-exported: `from lutnet.cli import format_table`)
from .data import load_config_data
from .frontend import load_any_checkpoint

PROG = "lutnet"


def cmd_train(args):
    from .config import check_model, load_config, resolve_config
    from .frontend import get_frontend
    fe = get_frontend(args.framework)
    cfg = load_config(args.config)
    if args.epochs is not None:
        cfg.train.epochs = args.epochs
    if args.data_path:
        cfg.data.path = args.data_path
    out = Path(args.output or f"runs/{cfg.name}")
    ckpt = check_output(out / fe.checkpoint_name, args.force)
    ds = load_config_data(cfg.data, args.limit)
    check_model(cfg.model, ds.n_features, str(resolve_config(args.config)), max_rows=args.max_rows)
    # learn_connectivity: wider pre-training, knapsack/group lasso, frozen fan-in (Frontend.build_and_fit)
    model, result = fe.build_and_fit(cfg.model, cfg.train, ds.X_train, ds.y_train, progress=not args.quiet,
                                     log=(lambda *a: None) if args.quiet else print)
    test_acc = fe.accuracy(model, ds.X_test, ds.y_test)
    metrics = {"best_epoch": result.best_epoch, "val_acc": result.best_val_acc, "test_acc": test_acc,
               "history": result.history}
    fe.save_checkpoint(ckpt, model, cfg, ds.n_features, metrics, overwrite=args.force)
    print(f"{cfg.name}: best epoch {result.best_epoch}, validation accuracy {result.best_val_acc:.4f}, "
          f"test accuracy {test_acc:.4f}\ncheckpoint: {ckpt}")


def cmd_export(args):
    out = check_output(args.output, args.force)
    fe, model, cfg = load_any_checkpoint(args.checkpoint)
    ir = fe.to_ir(model, max_rows=args.max_rows, metadata={"name": cfg.name}, progress=not args.quiet)
    ir.save(out, overwrite=args.force)
    print(format_table(ir.summary()))
    print(f"IR written to {out}")


def cmd_verify(args):
    import numpy as np

    from .verify import verify
    fe, model, cfg = load_any_checkpoint(args.checkpoint)
    ir = load_ir(args.ir, "verify") if args.ir else fe.to_ir(model)
    ds = load_config_data(cfg.data, args.limit)
    parts = {"test": [(ds.X_test, ds.y_test)], "train": [(ds.X_train, ds.y_train)],
             "all": [(ds.X_train, ds.y_train), (ds.X_test, ds.y_test)]}[args.split]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    report = verify(model, ir, X, y)
    print(f"{cfg.name} ({args.split}): {report}")
    return 0 if report.ok else 1


def cmd_info(args):
    ir = load_ir(args.ir, "info")
    print(f"network: {ir.metadata['name']}")
    print(format_table(ir.summary()))
    print(f"inputs {ir.n_inputs} x {ir.input_quant.bits} bits; outputs {ir.n_outputs} x "
          f"{ir.output_quant.bits} bits; LUT-cost estimate {ir.lut_cost():,.0f}")


def cmd_onnx(args):
    from .onnx_export import save_onnx
    out = check_output(args.output, args.force)
    save_onnx(load_ir(args.ir, "onnx"), out, float_input=not args.codes, overwrite=args.force)
    print(f"ONNX model written to {out} (input: {'int64 codes' if args.codes else 'float32 features'})")


def cmd_demo(args):
    from .demo import run_demo
    return run_demo(epochs=args.epochs, out=args.output, force=args.force, progress=not args.quiet,
                    yosys=args.yosys)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Train LUT networks and turn them into bit-exact logic.",
        epilog="exit status: 0 ok, 1 a check found a mismatch, 2 a user error. Outputs: a command that "
               "writes checks its outputs before any work and refuses an output file that exists or an "
               "output directory that is not empty; --force replaces them.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from a config file or zoo name")
    t.add_argument("config", help="a YAML config, or a zoo name (models/<name>.yaml)")
    add_output(t, aliases=("--out",), help="output directory (default runs/<name>)")
    t.add_argument("--epochs", type=positive_int, help="override train.epochs")
    t.add_argument("--limit", type=positive_int, help="use at most this many training samples")
    t.add_argument("--data-path", help="local dataset path (overrides data.path)")
    t.add_argument("--framework", choices=["torch", "keras"], default="torch",
                   help="Brevitas/PyTorch (default) or QKeras/Keras layers")
    t.add_argument("--max-rows", type=positive_int, default=1 << 20,
                   help="largest table allowed per neuron (rows); larger configs are refused before training")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("export", help="extract truth tables: checkpoint -> IR file")
    e.add_argument("checkpoint", help="checkpoint.pt (PyTorch) or checkpoint_keras/ (Keras)")
    add_output(e, required=True, help="IR file to write (.npz)")
    e.add_argument("--max-rows", type=positive_int, default=1 << 20, help="largest table allowed per neuron (rows)")
    e.set_defaults(func=cmd_export)

    v = sub.add_parser("verify", help="check IR against the model on a dataset (exit 1 on any mismatch)")
    v.add_argument("checkpoint")
    v.add_argument("--ir", help="IR file (default: extract from the checkpoint)")
    v.add_argument("--split", choices=["test", "train", "all"], default="all")
    v.add_argument("--limit", type=positive_int, help="use at most this many samples per split")
    v.set_defaults(func=cmd_verify)

    i = sub.add_parser("info", help="print the layers and table sizes of an IR file")
    i.add_argument("ir")
    i.set_defaults(func=cmd_info)

    o = sub.add_parser("onnx", help="IR file -> ONNX graph (runs in onnxruntime, bit-exact)")
    o.add_argument("ir")
    add_output(o, required=True, help="ONNX file to write")
    o.add_argument("--codes", action="store_true", help="take int64 input codes instead of float features")
    o.set_defaults(func=cmd_onnx)

    d = sub.add_parser("demo", help="train on sklearn digits, then hls4ml C++ and Verilog firmware, "
                                    "bit-exact C and RTL simulation, build reports")
    d.add_argument("--epochs", type=positive_int, help="override the demo's epochs")
    add_output(d, aliases=("--out",), help="directory for every artifact [runs/demo]")
    d.add_argument("--yosys", choices=("all", "none"), default="all",
                   help="Yosys build report of every table (cached by table), or none [all]")
    d.set_defaults(func=cmd_demo)

    for parser in (t, e, o, d):  # the commands that write
        add_force(parser)
    for parser in (t, e, v, i, o, d):
        add_quiet(parser)
    from .rtl import cli as rtl_cli  # verilog, simulate, build
    rtl_cli.register(sub)
    from .sweep import cli as sweep_cli  # sweep (Ray Tune)
    sweep_cli.register(sub)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(f"{PROG} {args.command}", args.func, args)


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "build_parser", "format_table", "USER_ERROR"]
