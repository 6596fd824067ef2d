"""``lutnet verilog | simulate | build`` subcommands (registered by ``lutnet/cli.py``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .._cli import MISMATCH, OK, add_force, add_output, add_quiet, check_output, count, identifier, load_ir, positive_int
from .._files import atomic_write
from ..errors import InputError, LutnetError


def _pipeline_arg(s: str):
    if s in ("none", "off", "0"):
        return 0
    if s in ("layer", "every"):
        return 1
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--pipeline takes none, layer or an integer k; got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError("--pipeline must be >= 0")
    return v


def _add_emit_args(p):
    p.add_argument("--pipeline", type=_pipeline_arg, default=1,
                   help="registers after every k layers (k=1: every layer; none/0: combinational between "
                        "layers) [1]")
    p.add_argument("--input-reg", action="store_true", help="register the input bus")
    p.add_argument("--no-output-reg", dest="output_reg", action="store_false",
                   help="no register on the last layer's output")
    p.add_argument("--table-style", choices=("rom", "case"), default="rom",
                   help="tables as $readmemb ROM files (fast to compile/simulate) or case statements [rom]")
    p.add_argument("--top", type=identifier, default="lutnet_top", help="top module name [lutnet_top]")


def _emit_opts(a) -> dict:
    return {"pipeline": a.pipeline, "input_reg": a.input_reg, "output_reg": a.output_reg,
            "table_style": a.table_style, "top": a.top}


def register(subparsers) -> None:
    """Add ``verilog``, ``simulate`` and ``build`` to an argparse subparsers object."""
    p = subparsers.add_parser("verilog", help="IR file -> Verilog directory",
                              description="Emit the Verilog of a LUT IR file (one module per unique table, "
                                          "per layer and a top; testbench and manifest).")
    p.add_argument("ir", help="IR file (written by lutnet export / NetworkIR.save)")
    add_output(p, required=True, aliases=("--out",), help="output directory (new or empty; --force to reuse)")
    add_force(p)
    add_quiet(p)
    p.add_argument("--lint", action="store_true", help="run verilator --lint-only -Wall afterwards")
    _add_emit_args(p)
    p.set_defaults(func=cmd_verilog)

    p = subparsers.add_parser("simulate", help="simulate the RTL of an IR bit-exactly (Verilator/Icarus)",
                              description="Simulate the emitted RTL on input codes (.npy, integers, shape "
                                          "(N, n_inputs)) and write the output codes (.npy), or check N random "
                                          "vectors against the IR evaluator with --random N.")
    p.add_argument("ir", help="IR file")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--codes", help="input codes .npy (N, n_inputs), integers in the input quantizer's range")
    g.add_argument("--random", type=count, metavar="N", help="simulate N random vectors and compare with the IR")
    add_output(p, aliases=("--out",), help="output codes .npy (with --codes)")
    add_force(p)
    add_quiet(p)
    p.add_argument("--simulator", choices=("verilator", "icarus"), default="verilator")
    p.add_argument("--work-dir", help="simulator build cache [$LUTNET_CACHE_DIR/sim]")
    p.add_argument("--seed", type=int, default=0)
    _add_emit_args(p)
    p.set_defaults(func=cmd_simulate)

    p = subparsers.add_parser("build", help="resource/latency report (estimator, Yosys or Vivado)",
                              description="Report LUTs (by size), MUXF7/F8, FFs, logic levels per layer, "
                                          "latency and an Fmax estimate, as JSON plus a table.")
    p.add_argument("source", help="IR file, or a directory written by `lutnet verilog`")
    from .report import METHOD_HELP, METHODS
    p.add_argument("--method", choices=METHODS, default="estimate",
                   help="; ".join(f"{m}: {h}" for m, h in METHOD_HELP.items()) + " [estimate]")
    p.add_argument("--jobs", type=positive_int, default=2, help="parallel Yosys runs [2]")
    p.add_argument("--executor", choices=("threads", "ray"), default="threads",
                   help="where Yosys runs: a local thread pool of --jobs, or Ray tasks (embedded local Ray, "
                        "or the cluster in $RAY_ADDRESS) [threads]")
    p.add_argument("--cache-dir", help="Yosys result cache [$LUTNET_CACHE_DIR/yosys]")
    add_output(p, aliases=("--out",),
               help="report path prefix: writes <PATH>.json and <PATH>.txt (with --tcl-only: a directory)")
    add_force(p)
    add_quiet(p)
    p.add_argument("--care-codes", help="input codes .npy (e.g. training set): also report LUTs with "
                                        "unseen table rows as don't-cares")
    p.add_argument("--dont-care", metavar="CARE",
                   help="rewrite the table rows no training input reaches to shrink the logic (ReducedLUT idea) "
                        "and report the rewritten design: CARE is a care file (.npz with 'split' and 'X' or 'codes' "
                        "of the training split; lutnet.transforms.write_care_file) or a `lutnet train` output "
                        "directory (its dataset's training split). The test split is refused. Outside the care set "
                        "the circuit may differ from the model")
    p.add_argument("--dont-care-rule", choices=("support", "cofactor", "zero"), default="support",
                   help="how unreached rows are rewritten (lutnet.transforms.dontcare) [support]")
    p.add_argument("--dont-care-ir", metavar="PATH",
                   help="with --dont-care: also write the rewritten IR (for lutnet verilog / simulate)")
    p.add_argument("--pipeline", type=_pipeline_arg, default=1)
    p.add_argument("--input-reg", action="store_true")
    p.add_argument("--no-output-reg", dest="output_reg", action="store_false")
    p.add_argument("--part", default=None, help="Vivado part [xcvu9p-flgb2104-2-i]")
    p.add_argument("--clock-ns", type=float, default=None, help="Vivado clock period [1.0]")
    p.add_argument("--tcl-only", action="store_true",
                   help="with --method vivado: write the design and TCL script to -o DIR and stop")
    p.set_defaults(func=cmd_build)


def _load_ir(path, command):
    return load_ir(path, command)


def _int_codes(path, ir, option="--codes") -> np.ndarray:
    """Input codes from a .npy file: integers, shape (N, n_inputs), inside the input encoding."""
    q = ir.input_quant
    want = (f"{option} takes integer input codes, shape (N, {ir.n_inputs}), in [{q.code_min}, {q.code_max}] "
            f"({q.bits}-bit {'signed' if q.signed else 'unsigned'})")
    try:
        codes = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable .npy file ({e}); {want}") from None
    if codes.dtype.kind not in "iu":
        raise InputError(f"{path} holds {codes.dtype} values; {want}: features must be quantized first "
                         f"(NetworkIR.quantize_input)")
    if codes.ndim != 2 or codes.shape[1] != ir.n_inputs:
        raise InputError(f"{path} has shape {codes.shape}; {want}")
    if codes.size and (codes.min() < q.code_min or codes.max() > q.code_max):
        raise InputError(f"{path} holds codes from {codes.min()} to {codes.max()}; {want}")
    return codes.astype(np.int64)


def cmd_verilog(a) -> int:
    from .emit import write_verilog
    out = check_output(a.output, a.force)
    ir = _load_ir(a.ir, "verilog")
    info = write_verilog(ir, out, overwrite=a.force, **_emit_opts(a))
    print(f"wrote {len(info.files)} Verilog files to {info.out_dir} (top {info.top}, latency "
          f"{info.latency_cycles} cycles, x[{info.input_width - 1}:0], y[{info.output_width - 1}:0])")
    if a.lint:
        from .lint import lint
        r = lint(info)
        print("lint: clean" if r.ok else "lint:\n" + r.output)
        return OK if r.ok else MISMATCH
    return OK


def cmd_simulate(a) -> int:
    from .simulate import compare, simulate_detailed
    out = check_output(a.output, a.force) if a.output else None
    ir = _load_ir(a.ir, "simulate")
    if a.random is not None:
        from ..vectors import random_input_codes
        codes = random_input_codes(ir, a.random, seed=a.seed)
    else:
        codes = _int_codes(a.codes, ir)
    res = simulate_detailed(ir, codes, simulator=a.simulator, work_dir=a.work_dir, **_emit_opts(a))
    lat_ok = len(codes) == 0 or res.latency_observed == res.info.latency_cycles
    print(f"{a.simulator}: {len(codes)} vectors, build {res.build_seconds:.1f} s"
          f"{' (cached)' if res.cached else ''}, run {res.run_seconds:.2f} s, latency "
          f"{res.latency_observed} cycles (design: {res.info.latency_cycles})")
    if out is not None:
        def save(tmp):
            with open(tmp, "wb") as f:  # a file object: np.save would append .npy to a name
                np.save(f, res.outputs)
        atomic_write(out, save, overwrite=a.force)
        print(f"wrote {out}")
    if a.random is not None or out is None:
        c = compare(ir, codes, res.outputs)
        print(f"mismatches against the IR evaluator: {c['mismatches']} of {c['vectors']}")
        return OK if (c["mismatches"] == 0 and lat_ok) else MISMATCH
    return OK if lat_ok else MISMATCH


def report_paths(prefix) -> tuple[Path, Path]:
    """The two files ``write_report(report, prefix)`` writes."""
    out = Path(prefix)
    if out.is_dir() or str(prefix).endswith("/"):
        out = out / "build_report"
    out = out.with_suffix("") if out.suffix in (".json", ".txt") else out
    return out.with_suffix(".json"), out.with_suffix(".txt")


def cmd_build(a) -> int:
    from .report import build_report, format_report, write_report
    if a.dont_care_ir and not a.dont_care:
        raise LutnetError("--dont-care-ir writes the rewritten IR of --dont-care: give --dont-care CARE too")
    if a.dont_care_ir:
        check_output(a.dont_care_ir, a.force)
    if a.dont_care:
        return _build_dont_care(a)
    if a.method == "vivado" and a.tcl_only:
        from .emit import write_verilog
        from .vivado import DEFAULT_CLOCK_NS, DEFAULT_PART, write_tcl
        if not a.output:
            raise LutnetError("--tcl-only writes the design and its TCL script: give the directory with -o DIR")
        out = check_output(a.output, a.force)
        info = write_verilog(_load_ir(a.source, "build"), out, pipeline=a.pipeline, input_reg=a.input_reg,
                             output_reg=a.output_reg, overwrite=a.force)
        tcl = write_tcl(info, part=a.part or DEFAULT_PART, clock_ns=a.clock_ns or DEFAULT_CLOCK_NS)
        print(f"wrote {tcl}; run: cd {info.out_dir} && vivado -mode batch -source {tcl.name}")
        return OK
    if a.output:
        for path in report_paths(a.output):
            check_output(path, a.force)
    if Path(a.source).is_dir():  # a `lutnet verilog` directory: its pipeline options are used
        source, ir = a.source, _load_ir_of_dir(a.source)
    else:
        source = ir = _load_ir(a.source, "build")
    care = _int_codes(a.care_codes, ir, "--care-codes") if a.care_codes else None
    rep = build_report(source, method=a.method, jobs=a.jobs, cache_dir=a.cache_dir, pipeline=a.pipeline,
                       input_reg=a.input_reg, output_reg=a.output_reg, care_codes=care,
                       progress=not a.quiet, part=a.part, clock_ns=a.clock_ns, executor=a.executor)
    print(format_report(rep))
    if a.output:
        j, t = write_report(rep, a.output)
        print(f"wrote {j} and {t}")
    return OK


def _build_dont_care(a) -> int:
    """``lutnet build SOURCE --dont-care CARE``: rewrite the unreached rows (lutnet.transforms.DontCareMinimize),
    report the rewritten design with the LUTs before and after, the rows rewritten and the care-set caveat."""
    from ..transforms import from_care_file
    from .report import _resolve, build_report, format_report, write_report
    if a.output:
        for path in report_paths(a.output):
            check_output(path, a.force)
    ir, opts = _resolve(a.source) if Path(a.source).is_dir() else (_load_ir(a.source, "build"), {})
    new_ir, dc = from_care_file(a.dont_care, a.dont_care_rule).apply(ir)
    if a.dont_care_ir:
        new_ir.save(a.dont_care_ir, overwrite=a.force)
    emit = {"pipeline": opts.get("pipeline", a.pipeline), "input_reg": opts.get("input_reg", a.input_reg),
            "output_reg": opts.get("output_reg", a.output_reg)}
    if a.method == "vivado" and a.tcl_only:
        from .emit import write_verilog
        from .vivado import DEFAULT_CLOCK_NS, DEFAULT_PART, write_tcl
        if not a.output:
            raise LutnetError("--tcl-only writes the design and its TCL script: give the directory with -o DIR")
        info = write_verilog(new_ir, check_output(a.output, a.force), overwrite=a.force, **emit)
        tcl = write_tcl(info, part=a.part or DEFAULT_PART, clock_ns=a.clock_ns or DEFAULT_CLOCK_NS)
        print("\n".join(dc.lines()))
        print(f"wrote {tcl}; run: cd {info.out_dir} && vivado -mode batch -source {tcl.name}")
        return OK
    care = _int_codes(a.care_codes, ir, "--care-codes") if a.care_codes else None
    kw = dict(method=a.method, jobs=a.jobs, cache_dir=a.cache_dir, care_codes=care, progress=not a.quiet, part=a.part,
              clock_ns=a.clock_ns, executor=a.executor, **emit)
    before = build_report(ir, **kw)
    rep = build_report(new_ir, **kw)
    lb, la = before["total"]["luts"], rep["total"]["luts"]
    rep["dont_care_rewrite"] = {**dc.to_dict(), "luts_before": lb, "luts_after": la}
    lines = dc.lines() + [f"LUTs ({a.method}): {lb:,} before, {la:,} after the rewrite"]
    print(format_report(rep))
    print("\n".join(lines))
    if a.dont_care_ir:
        print(f"wrote the rewritten IR to {a.dont_care_ir}")
    if a.output:
        j, t = write_report(rep, a.output)
        with open(t, "a") as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {j} and {t}")
    return OK


def _load_ir_of_dir(out_dir):
    from .report import _resolve  # the IR saved beside the Verilog
    return _resolve(out_dir)[0]


def main(argv=None) -> int:  # standalone entry point: python -m lutnet.rtl.cli (same grammar as lutnet)
    from ..cli import main as lutnet_main
    return lutnet_main(argv)


if __name__ == "__main__":
    sys.exit(main())
