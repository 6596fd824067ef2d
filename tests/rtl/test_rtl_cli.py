"""``lutnet verilog | simulate | build`` through lutnet.rtl.cli.register."""
import argparse
import json
import shutil

import numpy as np
import pytest

from lutnet.rtl import cli
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes


def run(argv):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    cli.register(sub)
    a = ap.parse_args(argv)
    return a.func(a)


@pytest.fixture()
def ir_file(tmp_path):
    ir = random_network_ir(2, n_inputs=8, widths=(6, 4), fan_in=3, bits=2, signed=True)
    return ir, ir.save(tmp_path / "net.lutir")


def test_verilog_command(ir_file, tmp_path, capsys):
    ir, path = ir_file
    assert run(["verilog", str(path), "-o", str(tmp_path / "v"), "--pipeline", "none", "--no-output-reg",
                "--table-style", "case"]) == 0
    assert "latency 0 cycles" in capsys.readouterr().out
    (tmp_path / "v" / "mine.txt").write_text("x")
    from lutnet.errors import OutputExistsError
    with pytest.raises(OutputExistsError):
        run(["verilog", str(path), "-o", str(tmp_path / "v")])
    assert run(["verilog", str(path), "-o", str(tmp_path / "v"), "--force"]) == 0


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed")
def test_verilog_lint_flag(ir_file, tmp_path, capsys):
    _, path = ir_file
    assert run(["verilog", str(path), "-o", str(tmp_path / "v"), "--lint"]) == 0
    assert "lint: clean" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not installed")
def test_simulate_command(ir_file, tmp_path, capsys):
    ir, path = ir_file
    x = random_input_codes(ir, 500, seed=1)
    np.save(tmp_path / "x.npy", x)
    work = str(tmp_path / "w")
    assert run(["simulate", str(path), "--codes", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                "--simulator", "icarus", "--work-dir", work]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), ir.evaluate(x))
    assert run(["simulate", str(path), "--random", "1000", "--simulator", "icarus", "--work-dir", work]) == 0
    assert "mismatches against the IR evaluator: 0 of 1000" in capsys.readouterr().out


def test_build_command(ir_file, tmp_path, capsys):
    _, path = ir_file
    assert run(["build", str(path), "--out", str(tmp_path / "rep"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "lutnet build report" in out and "estimator error" in out
    rep = json.loads((tmp_path / "rep.json").read_text())
    assert rep["method"] == "estimate" and rep["pipeline"]["latency_cycles"] == 2
    assert (tmp_path / "rep.txt").read_text().startswith("lutnet build report")


def test_build_vivado_tcl_only(ir_file, tmp_path, capsys):
    _, path = ir_file
    assert run(["build", str(path), "--method", "vivado", "--tcl-only", "--out", str(tmp_path / "viv"),
                "--clock-ns", "2"]) == 0
    assert (tmp_path / "viv" / "vivado_ooc.tcl").is_file()


def test_bad_pipeline_argument(ir_file, tmp_path):
    _, path = ir_file
    with pytest.raises(SystemExit):
        run(["verilog", str(path), "-o", str(tmp_path / "v"), "--pipeline", "sometimes"])
