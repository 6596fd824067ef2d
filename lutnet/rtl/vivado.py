"""Vivado out-of-context synthesis + implementation (when ``vivado`` is on PATH).

``write_tcl`` renders ``firmware_templates/verilog/vivado_ooc.tcl.j2`` for an emitted design;
``run_vivado`` runs it in batch mode; ``parse_utilization`` / ``parse_timing`` read Vivado's text
reports into the build-report format.  Defaults follow the LUT-network literature (LogicNets,
PolyLUT, NeuraLUT): part xcvu9p-flgb2104-2-i."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ..errors import ToolNotFoundError
from . import emit

DEFAULT_PART = "xcvu9p-flgb2104-2-i"
DEFAULT_CLOCK_NS = 1.0  # an aggressive target; Fmax is derived from the slack


def find_vivado() -> str:
    path = shutil.which(os.environ.get("LUTNET_VIVADO", "vivado"))
    if path is None:
        raise ToolNotFoundError(
            "Vivado is not on PATH (source <Vivado install>/settings64.sh first), so the Vivado build "
            "cannot run. Without Vivado use the open flow: `lutnet build --method yosys` (Yosys 0.23, "
            "`make tools` or `apt-get install yosys`) or the estimator `--method estimate`. The TCL script "
            "can still be written with `lutnet build --method vivado --tcl-only` and run elsewhere.")
    return path


def write_tcl(info: emit.VerilogInfo, *, part: str = DEFAULT_PART, clock_ns: float = DEFAULT_CLOCK_NS,
              implement: bool = True, report_dir: str = "reports", name: str = "vivado_ooc.tcl") -> Path:
    """Write the out-of-context TCL script into the design directory; returns its path."""
    if clock_ns <= 0:
        raise ValueError(f"clock_ns must be positive; got {clock_ns}")
    text = emit.render("vivado_ooc.tcl.j2", top=info.top, part=part, clock_ns=f"{clock_ns:.3f}",
                       files=info.files, mem_files=info.mem_files, implement=implement,
                       report_dir=report_dir, latency=info.latency_cycles)
    path = Path(info.out_dir) / name
    path.write_text(text)
    return path


# Vivado log lines that start a phase, printed as progress with the elapsed time
_PHASES = (("Starting synth_design", "synthesis"), ("Starting opt_design", "logic optimization"),
           ("Starting place_design", "placement"), ("Starting Placer", "placement"),
           ("Starting route_design", "routing"), ("Starting Routing", "routing"),
           ("report_utilization", "reports"), ("report_timing_summary", "reports"))


def run_vivado(info: emit.VerilogInfo, *, part: str = DEFAULT_PART, clock_ns: float = DEFAULT_CLOCK_NS,
               implement: bool = True, timeout=None, progress: bool = False, stream=None) -> dict:
    """Run the out-of-context TCL in Vivado batch mode.  ``progress``: a line per phase reached
    (synthesis, optimization, placement, routing, reports) with the elapsed time on ``stream``."""
    exe = find_vivado()
    tcl = write_tcl(info, part=part, clock_ns=clock_ns, implement=implement)
    out = stream if stream is not None else sys.stderr
    if progress:
        print(f"vivado: out-of-context {'synthesis + implementation' if implement else 'synthesis'} of "
              f"{info.n_neurons} neurons on {part} (one run; phases are reported as they start; "
              f"method='estimate' gives a result in milliseconds)", file=out, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "-mode", "batch", "-nojournal", "-nolog", "-source", tcl.name],
                            cwd=info.out_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail, seen = [], set()
    try:
        for line in proc.stdout:
            tail = (tail + [line])[-200:]
            if timeout is not None and time.perf_counter() - t0 > timeout:
                proc.kill()
                raise subprocess.TimeoutExpired(exe, timeout)
            for marker, phase in _PHASES:
                if progress and marker in line and phase not in seen:
                    seen.add(phase)
                    print(f"vivado: {phase} ({time.perf_counter() - t0:.0f} s elapsed)", file=out, flush=True)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"Vivado failed (exit {proc.returncode}):\n{''.join(tail)[-3000:]}")
    if progress:
        print(f"vivado: done in {secs:.0f} s", file=out, flush=True)
    rep = Path(info.out_dir) / "reports"
    util = parse_utilization((rep / "utilization.rpt").read_text())
    timing = parse_timing((rep / "timing_summary.rpt").read_text(), clock_ns)
    return {"utilization": util, "timing": timing, "seconds": secs}


_UTIL_ROWS = {"CLB LUTs": "luts", "LUT as Logic": "luts_logic", "CLB Registers": "ffs",
              "F7 Muxes": "muxf7", "F8 Muxes": "muxf8", "Slice LUTs": "luts", "Slice Registers": "ffs"}


def parse_utilization(text: str) -> dict:
    """Utilization figures from ``report_utilization`` (table rows and the primitives section)."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        name = cells[0].rstrip("*").strip()
        if name in _UTIL_ROWS and _UTIL_ROWS[name] not in out:
            try:
                out[_UTIL_ROWS[name]] = int(float(cells[1]))
            except ValueError:
                pass
        m = re.fullmatch(r"(LUT[1-6]|FDRE|FDSE|FDCE|FDPE|MUXF7|MUXF8)", name)
        if m:
            try:
                out.setdefault("primitives", {})[name] = int(float(cells[1]))
            except ValueError:
                pass
    prim = out.get("primitives", {})
    out["luts_by_size"] = {f"LUT{i}": prim.get(f"LUT{i}", 0) for i in range(1, 7)}
    return out


def parse_timing(text: str, clock_ns: float) -> dict:
    """WNS, Fmax and the worst path's logic levels from ``report_timing_summary``."""
    out = {"clock_ns": clock_ns}
    m = re.search(r"WNS\(ns\)\s+TNS\(ns\).*?\n[-\s]+\n\s*(-?[\d.]+)", text)
    if m:
        wns = float(m.group(1))
        out["wns_ns"] = wns
        out["fmax_mhz"] = round(1000.0 / (clock_ns - wns), 1) if clock_ns - wns > 0 else None
    m = re.search(r"Logic Levels:\s+(\d+)\s*(\(([^)]*)\))?", text)
    if m:
        out["logic_levels"] = int(m.group(1))
        if m.group(3):
            out["logic_levels_detail"] = m.group(3).strip()
    m = re.search(r"Data Path Delay:\s+([\d.]+)ns", text)
    if m:
        out["data_path_ns"] = float(m.group(1))
    return out


def vivado_report(ir, *, pipeline=1, input_reg=False, output_reg=True, part=DEFAULT_PART,
                  clock_ns=DEFAULT_CLOCK_NS, work_dir=None, progress: bool = False) -> dict:
    """Emit, run Vivado out of context and return a report in the build-report format."""
    find_vivado()  # fail fast, before emitting
    import tempfile
    wd = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="lutnet-vivado-"))
    info = emit.write_verilog(ir, wd / "rtl", pipeline=pipeline, input_reg=input_reg,
                              output_reg=output_reg, table_style="rom", overwrite=True)
    res = run_vivado(info, part=part, clock_ns=clock_ns, progress=progress)
    u, t = res["utilization"], res["timing"]
    total = {"luts": u.get("luts", 0), "luts_by_size": u["luts_by_size"], "muxf7": u.get("muxf7", 0),
             "muxf8": u.get("muxf8", 0), "ffs": u.get("ffs", 0), "lut_levels": None,
             "logic_levels": t.get("logic_levels")}
    period = clock_ns - t["wns_ns"] if "wns_ns" in t else None
    timing = dict(t, model=f"Vivado post-route timing, part {part}")
    if period:
        timing["latency_ns"] = round(info.latency_cycles * period, 3)
    return {"network": ir.metadata.get("name", ""), "method": "vivado",
            "flow": f"Vivado out-of-context synth + place + route, part {part}, clock {clock_ns} ns",
            "layers": [], "total": total,
            "pipeline": {"latency_cycles": info.latency_cycles, "registered_layers": info.registered_layers,
                         "input_reg": info.input_reg, "output_reg": info.output_reg, "pipeline": info.pipeline},
            "timing": timing, "seconds": round(res["seconds"], 1), "work_dir": str(wd)}
