"""Bit-exact RTL simulation of emitted designs with Verilator (primary) and Icarus Verilog.

The testbench (``<top>_tb.sv``) streams every input vector from a file and writes every output
vector to a file, so one simulator run handles N vectors with no Python round trip.  Built
simulators are cached by design hash (``<cache>/sim/<simulator>-<hash>``), so re-simulating the same
design only pays for the run."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.inputs import check_quant_codes
from ..errors import SimulationError  # noqa: F401  (a LutnetError; re-exported here)
from ..ir import NetworkIR, pattern_to_code
from . import emit
from .tools import cache_root, find_tool, tool_version

SIMULATORS = ("verilator", "icarus")
# --timing for the SV testbench's delays; light C++ optimization: compile time dominates (the
# testbench streams 100k vectors in well under a second either way).
VERILATOR_FLAGS = ["--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                   "-MAKEFLAGS", "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O0"]
ICARUS_FLAGS = ["-g2012"]




@dataclass
class SimResult:
    outputs: np.ndarray          # (N, n_outputs) output codes
    latency_observed: int        # cycles from an input to its output, measured by the testbench
    info: emit.VerilogInfo
    simulator: str
    build_seconds: float         # 0 when the cached simulator was reused
    run_seconds: float
    cached: bool
    sim_dir: str
    timings: dict = field(default_factory=dict)


def _run(cmd, cwd, what, timeout=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SimulationError(f"{what} timed out after {timeout} s: {' '.join(map(str, cmd))}") from None
    if r.returncode != 0:
        tail = "\n".join((r.stdout + "\n" + r.stderr).strip().splitlines()[-30:])
        raise SimulationError(f"{what} failed (exit {r.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    return r


def _build(simulator: str, rtl: Path, info: emit.VerilogInfo, jobs: int) -> Path:
    srcs = info.files + [info.testbench]
    tb_top = f"{info.top}_tb"
    if simulator == "verilator":
        exe = find_tool("verilator")
        obj = rtl.parent / "obj"
        _run([exe, *VERILATOR_FLAGS, "-j", str(max(1, jobs)), "--top-module", tb_top,
              "--Mdir", str(obj), "-o", "sim", *srcs], rtl, "Verilator build")
        for f in obj.iterdir():  # keep only the binary in the cache (objects and sources: ~10x larger)
            if f.name != "sim" and f.is_file():
                f.unlink()
        return obj / "sim"
    exe = find_tool("icarus")
    find_tool("vvp")
    out = rtl.parent / "sim.vvp"
    _run([exe, *ICARUS_FLAGS, "-s", tb_top, "-o", str(out), *srcs], rtl, "Icarus Verilog compile")
    return out


def prepare_simulator(ir: NetworkIR, *, simulator: str = "verilator", work_dir=None, jobs: int = 2,
                      **emit_opts):
    """Emit and build (or reuse from the cache) a simulator of ``ir``.
    Returns ``(sim_dir, info, build_seconds, cached)``."""
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {SIMULATORS}; got {simulator!r}")
    exe = find_tool("verilator" if simulator == "verilator" else "icarus")
    if simulator == "icarus":
        find_tool("vvp")
    work = Path(work_dir) if work_dir is not None else cache_root() / "sim"
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=work))
    try:
        info = emit.write_verilog(ir, tmp / "rtl", **emit_opts)
        flags = VERILATOR_FLAGS if simulator == "verilator" else ICARUS_FLAGS
        key = hashlib.sha256("|".join([info.design_hash, simulator, tool_version(exe), *flags]).encode())
        final = work / f"{simulator}-{key.hexdigest()[:20]}"
        binary = final / ("obj/sim" if simulator == "verilator" else "sim.vvp")
        if binary.exists():
            return final, emit.load_info(final / "rtl"), 0.0, True
        t0 = time.perf_counter()
        _build(simulator, tmp / "rtl", info, jobs)
        build_s = time.perf_counter() - t0
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished the same build first
            if not binary.exists():
                raise
        else:
            tmp = None
        return final, emit.load_info(final / "rtl"), build_s, False
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run_simulator(sim_dir, info: emit.VerilogInfo, ir: NetworkIR, codes, simulator: str,
                  timeout=None) -> tuple[np.ndarray, int, float]:
    """Run a built simulator on ``codes``; returns (output codes, observed latency, seconds)."""
    sim_dir = Path(sim_dir)
    codes, _ = check_quant_codes(codes, ir.n_inputs, ir.input_quant)  # the one input check (lutnet.core.inputs)
    n = len(codes)
    if n == 0:  # an empty batch: an empty result, as hls4ml's predict
        return np.zeros((0, ir.n_outputs), np.int64), -1, 0.0
    with tempfile.TemporaryDirectory(prefix="lutnet-sim-") as td:
        fin, fout = Path(td) / "in.hex", Path(td) / "out.hex"
        bits = emit.pack_inputs(ir, codes)
        fin.write_bytes(f"{n}\n".encode() + emit.bits_to_hex_lines(bits))
        if simulator == "verilator":
            cmd = [str(sim_dir / "obj" / "sim"), f"+in={fin}", f"+out={fout}"]
        else:
            cmd = [find_tool("vvp"), "-n", str(sim_dir / "sim.vvp"), f"+in={fin}", f"+out={fout}"]
        t0 = time.perf_counter()
        r = _run(cmd, sim_dir / "rtl", f"{simulator} simulation", timeout=timeout)
        secs = time.perf_counter() - t0
        log = r.stdout + r.stderr
        if "LUTNET_ERROR" in log:
            raise SimulationError(f"testbench error: {re.search(r'LUTNET_ERROR.*', log).group(0)}")
        m_done = re.search(r"LUTNET_DONE (-?\d+)", log)
        m_lat = re.search(r"LUTNET_LATENCY (-?\d+)", log)
        if not m_done or int(m_done.group(1)) != n:
            raise SimulationError(f"the testbench produced {m_done.group(1) if m_done else 'no'} of {n} "
                                  f"outputs (is out_valid stuck?)\n{log[-2000:]}")
        data = fout.read_bytes()
    ob = np.array([p["bits"] for p in info.output_ports])
    osg = np.array([p["signed"] for p in info.output_ports])
    try:
        obits = emit.hex_lines_to_bits(data, info.output_width, n)
    except ValueError as e:
        raise SimulationError(str(e)) from None
    pats = emit.unpack_bits(obits, ob)
    return pattern_to_code(pats, ob, osg), int(m_lat.group(1)) if m_lat else -1, secs


def simulate_detailed(ir: NetworkIR, codes, *, simulator: str = "verilator", work_dir=None,
                      jobs: int = 2, timeout=None, **emit_opts) -> SimResult:
    """Like ``simulate`` but returns a ``SimResult`` (outputs, observed latency, timings)."""
    sim_dir, info, build_s, cached = prepare_simulator(ir, simulator=simulator, work_dir=work_dir,
                                                       jobs=jobs, **emit_opts)
    out, lat, run_s = run_simulator(sim_dir, info, ir, codes, simulator, timeout=timeout)
    return SimResult(out, lat, info, simulator, build_s, run_s, cached, str(sim_dir))


def simulate(ir: NetworkIR, codes, *, simulator: str = "verilator", work_dir=None, **emit_opts) -> np.ndarray:
    """Output codes (N, n_outputs) of the emitted RTL of ``ir`` for input codes (N, n_inputs),
    simulated with Verilator or Icarus.  ``emit_opts`` go to ``write_verilog`` (pipeline,
    input_reg, output_reg, table_style, top).  Raises SimulationError if the measured latency
    differs from the emitted one."""
    codes, single = check_quant_codes(codes, ir.n_inputs, ir.input_quant)  # one 1-D sample: 1-D result
    res = simulate_detailed(ir, codes, simulator=simulator, work_dir=work_dir, **emit_opts)
    if len(codes) and res.latency_observed != res.info.latency_cycles:
        raise SimulationError(f"the testbench measured a latency of {res.latency_observed} cycles; "
                              f"the design reports {res.info.latency_cycles}")
    return res.outputs[0] if single else res.outputs


def compare(ir: NetworkIR, codes, outputs) -> dict:
    """Mismatch count of ``outputs`` against ``ir.evaluate(codes)``."""
    ref = ir.evaluate(codes)
    bad = np.any(ref != outputs, axis=1)
    first = int(np.argmax(bad)) if bad.any() else -1
    return {"vectors": int(len(ref)), "mismatches": int(bad.sum()), "first_mismatch": first}
