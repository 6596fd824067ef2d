"""Locating the external tools (Verilator, Icarus Verilog, Yosys, Vivado) and the cache directory."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import ToolNotFoundError

INSTALL_HINT = ("install it with `make tools` (or `sudo apt-get install verilator iverilog yosys` "
                "on Debian/Ubuntu)")

_TOOLS = {
    "verilator": ("verilator", "Verilator (RTL simulator, primary)"),
    "icarus": ("iverilog", "Icarus Verilog (RTL simulator, cross-check)"),
    "vvp": ("vvp", "Icarus Verilog's vvp runtime"),
    "yosys": ("yosys", "Yosys (open synthesis)"),
}


def find_tool(name: str) -> str:
    """Absolute path of ``name`` (verilator, icarus, vvp, yosys) or ToolNotFoundError naming the
    install step.  ``LUTNET_<NAME>`` (e.g. ``LUTNET_YOSYS``) overrides the executable."""
    exe, desc = _TOOLS[name]
    override = os.environ.get(f"LUTNET_{name.upper()}")
    path = shutil.which(override or exe)
    if path is None:
        raise ToolNotFoundError(f"{desc}: `{override or exe}` is not on PATH; {INSTALL_HINT}")
    return path


@functools.cache
def tool_version(path: str) -> str:
    flag = "-V" if os.path.basename(path).startswith("iverilog") else "--version"
    if os.path.basename(path).startswith("yosys"):
        flag = "-V"
    try:
        r = subprocess.run([path, flag], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    out = (r.stdout or r.stderr).strip().splitlines()
    return out[0].strip() if out else "unknown"


def cache_root() -> Path:
    """``$LUTNET_CACHE_DIR`` or ``~/.cache/lutnet``."""
    env = os.environ.get("LUTNET_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "lutnet"
