"""`lutnet demo` end to end (slow: trains, compiles the C simulation and the Verilator model)."""
import shutil

import pytest

from lutnet.cli import main

pytestmark = pytest.mark.slow


def test_demo_is_bit_exact_and_lists_its_artifacts(tmp_path, capsys):
    pytest.importorskip("hls4ml")
    out = tmp_path / "demo"
    assert main(["demo", "--epochs", "3", "-o", str(out), "--yosys", "none", "-q"]) == 0
    text = capsys.readouterr().out
    assert "C simulation vs Python model: 1797 samples, 0 mismatches (class scores); vs truth tables: 0 " \
           "mismatches (output codes)" in text
    if shutil.which("verilator"):
        assert "RTL simulation vs Python model: 1797 samples, 0 mismatches (class scores); vs truth tables: 0 " \
               "mismatches (output codes)" in text
    assert "lutnet build report: digits_lut6  [method: estimate]" in text
    for f in ("checkpoint.pt", "model.lutir.npz", "hls4ml_cpp", "hls4ml_verilog"):
        assert (out / f).exists() and f"{out / f}" in text
    # a second run refuses the directory at once, and replaces it with --force
    assert main(["demo", "-o", str(out), "-q"]) == 2
    assert capsys.readouterr().err == (f"lutnet demo: error: {out} directory is not empty; pass --force to "
                                       f"replace it, or choose another output\n")
