"""``verilator --lint-only -Wall`` on an emitted design (and optionally its testbench)."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

from . import emit
from .tools import find_tool


@dataclass
class LintResult:
    ok: bool
    warnings: list
    command: list
    output: str


def lint(design, *, testbench: bool = False, extra_flags=()) -> LintResult:
    """Lint a directory written by ``write_verilog`` (or its ``VerilogInfo``) with
    ``verilator --lint-only -Wall``; ``ok`` is True when Verilator reports nothing."""
    info = design if isinstance(design, emit.VerilogInfo) else emit.load_info(design)
    exe = find_tool("verilator")
    files = list(info.files)
    top = info.top
    flags = ["--lint-only", "-Wall", *extra_flags]
    if testbench:
        files.append(info.testbench)
        top = f"{info.top}_tb"
        flags.append("--timing")
    cmd = [exe, *flags, "--top-module", top, *files]
    r = subprocess.run(cmd, cwd=info.out_dir, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    warnings = [ln for ln in out.splitlines() if ln.startswith("%Warning") or ln.startswith("%Error")]
    return LintResult(r.returncode == 0 and not warnings, warnings, cmd, out)
