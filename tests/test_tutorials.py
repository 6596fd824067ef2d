"""The tutorials (tutorials/*.py, percent-format scripts) run end to end in quick mode: tiny data,
few epochs.  Each runs in its own process, as a user would run it; its own assertions (0 mismatches
between the Python model, the LUT IR, the C simulation and the RTL simulation; accuracy floor;
pruned cost within budget) must hold, and its plots must be written."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = REPO / "tutorials"
SHARED_DATA = Path(os.environ.get("LUTNET_SHARED_DATA", REPO.parent / "shared" / "data"))
TIMEOUT = 900  # seconds; a quick run takes ~1-2 min on 2 idle cores (g++ and Verilator builds included)

pytest.importorskip("hls4ml")
pytest.importorskip("matplotlib")
needs_tools = pytest.mark.skipif(not (shutil.which("g++") and shutil.which("verilator")),
                                 reason="the tutorials need g++ (C simulation) and verilator (RTL simulation)")

BIT_EXACT_LINE = re.compile(r"^bit-exact \[[^\]]+\] .*$", re.M)
NONZERO = re.compile(r"\b[1-9][0-9,]* (output |input-code )?mismatches")


def run_tutorial(name: str, out: Path, **env_extra) -> str:
    env = dict(os.environ, LUTNET_TUTORIAL_QUICK="1", LUTNET_TUTORIAL_OUT=str(out), MPLBACKEND="Agg",
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", **env_extra)
    r = subprocess.run([sys.executable, str(TUTORIALS / name)], env=env, cwd=out, capture_output=True,
                       text=True, timeout=TIMEOUT)
    text = r.stdout + r.stderr
    assert r.returncode == 0, f"{name} failed (exit {r.returncode}):\n{text[-6000:]}"
    return r.stdout


def check_bit_exact(stdout: str, min_lines: int):
    lines = BIT_EXACT_LINE.findall(stdout)
    assert len(lines) >= min_lines, f"expected >= {min_lines} bit-exact summary lines, got:\n" + "\n".join(lines)
    for line in lines:
        assert not NONZERO.search(line), line
        assert re.search(r"\b0 (output )?mismatches", line), line
    assert "BIT-EXACT: python model == LUT IR == C simulation == RTL simulation" in stdout


@needs_tools
def test_jet_tagging_tutorial_quick(tmp_path):
    empty = tmp_path / "no-jets-here"
    empty.mkdir()
    # an empty LUTNET_JETS_PATH: the tutorial must fall back to synthetic jets and say so
    out = run_tutorial("jet_tagging.py", tmp_path, LUTNET_JETS_PATH=str(empty))
    assert "USING SYNTHETIC DATA (same schema) — accuracies are not physics results" in out
    check_bit_exact(out, min_lines=5)
    assert "bit-exact [brevitas] RTL simulation vs LUT IR" in out
    for png in ("training_curves.png", "confusion_matrix.png", "pareto.png"):
        assert (tmp_path / png).stat().st_size > 5000, png
    assert (tmp_path / "hls4ml_cpp").is_dir() and (tmp_path / "hls4ml_verilog" / "build_report.json").is_file()


@needs_tools
def test_mnist_tutorial_quick(tmp_path):
    env = {}
    if "LUTNET_DATA_DIR" not in os.environ and (SHARED_DATA / "mnist").is_dir():
        env["LUTNET_DATA_DIR"] = str(SHARED_DATA)  # the machine's MNIST copy; else the tutorial uses digits
    out = run_tutorial("mnist.py", tmp_path, **env)
    check_bit_exact(out, min_lines=4)
    for png in ("examples.png", "training_curves.png", "confusion_matrix.png", "pareto.png"):
        assert (tmp_path / png).stat().st_size > 5000, png
