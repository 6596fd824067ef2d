"""IR stages in Verilog: thermometer encoder (comparators on the raw codes), GroupSum adder trees and
argmax (first index on ties), bit-exact in Verilator and Icarus, pipelined like layers, lint-clean."""
import shutil

import numpy as np
import pytest

from lutnet.ir import GroupSum
from lutnet.rtl.emit import write_verilog
from lutnet.rtl.simulate import simulate
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes

has_verilator = shutil.which("verilator") is not None
has_icarus = shutil.which("iverilog") is not None and shutil.which("vvp") is not None


def staged(seed, signed, argmax=True, n_classes=3, thermometer=3, **kw):
    return random_network_ir(seed, n_inputs=4, input_bits=5, input_signed=signed, widths=(7, 6), fan_in=3,
                             bits=2, signed=signed, thermometer=thermometer, n_classes=n_classes, argmax=argmax, **kw)


def codes_for(ir, n=3000, seed=0):
    q = ir.input_quant
    rng = np.random.default_rng(seed)
    c = rng.integers(q.code_min, q.code_max + 1, (n, ir.n_inputs))
    c[:32] = q.code_min  # every encoder bit at both ends of the range
    c[32:64] = q.code_max
    return c


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("stagesim")


def test_stage_modules_and_latency(tmp_path):
    ir = staged(1, True)
    info = write_verilog(ir, tmp_path / "v", pipeline=1)
    assert info.files[-4:] == ["lutnet_top_l1.v", "lutnet_top_head.v", "lutnet_top_argmax.v", "lutnet_top.v"]
    assert "lutnet_top_enc.v" in info.files
    assert info.latency_cycles == 5  # encoder, two layers, head, argmax: one register after each
    assert info.output_width == ir.argmax_bits and info.output_ports[0]["bits"] == 2
    assert info.input_width == 4 * 5  # the top takes the raw 5-bit features
    assert info.options["stage_modules"] == {"encoder": "lutnet_top_enc", "head": "lutnet_top_head",
                                             "argmax": "lutnet_top_argmax"}
    assert write_verilog(ir, tmp_path / "c", pipeline=0, output_reg=False).latency_cycles == 0
    assert write_verilog(ir, tmp_path / "p2", pipeline=2).latency_cycles == 3
    enc = (tmp_path / "v" / "lutnet_top_enc.v").read_text()
    assert enc.count(">=") + enc.count("1'b1;") + enc.count("1'b0;") >= ir.encoder.n_outputs
    head = (tmp_path / "v" / "lutnet_top_head.v").read_text()
    assert head.count("assign") == ir.head.n_classes


@pytest.mark.skipif(not has_verilator, reason="verilator not installed")
@pytest.mark.parametrize("signed,opts", [(True, dict(pipeline=1, table_style="rom")),
                                         (False, dict(pipeline=0, output_reg=False, table_style="case"))])
def test_verilator_bit_exact(work, signed, opts):
    ir = staged(3 if signed else 4, signed)
    codes = codes_for(ir)
    out = simulate(ir, codes, simulator="verilator", work_dir=work, **opts)
    np.testing.assert_array_equal(out, ir.evaluate(codes))


@pytest.mark.skipif(not has_icarus, reason="icarus not installed")
@pytest.mark.parametrize("stages", [dict(), dict(argmax=False), dict(thermometer=None), dict(n_classes=None),
                                    dict(n_classes=1), dict(thermometer=None, n_classes=None)])
@pytest.mark.parametrize("signed", [False, True])
def test_icarus_bit_exact_each_stage(work, stages, signed):
    kw = dict(argmax=True, n_classes=3, thermometer=[1, 2, 3, 4])
    kw.update(stages)
    ir = staged(5 + signed, signed, **kw)
    codes = codes_for(ir, 800)
    out = simulate(ir, codes, simulator="icarus", work_dir=work, pipeline=2, input_reg=True)
    np.testing.assert_array_equal(out, ir.evaluate(codes))


@pytest.mark.skipif(not has_icarus, reason="icarus not installed")
@pytest.mark.parametrize("signed", [False, True])
def test_icarus_bit_exact_weighted_head(work, signed):
    """GroupSum weights 1, 2, 4 (shifts): counters over weighted columns (unsigned codes) or shifted
    operands of the adder tree (signed), bit-exact with the IR; the estimator counts the same tree."""
    ir = staged(8 + signed, signed, head_weights=2)
    assert ir.head.weights is not None and len(set(ir.head.weights.tolist())) >= 2
    codes = codes_for(ir, 800)
    out = simulate(ir, codes, simulator="icarus", work_dir=work, pipeline=1)
    np.testing.assert_array_equal(out, ir.evaluate(codes))
    plain = GroupSum(ir.head.groups)
    assert ir.head.lut_cost(ir.layers[-1].out_bits, ir.layers[-1].out_signed) != \
        plain.lut_cost(ir.layers[-1].out_bits, ir.layers[-1].out_signed)


@pytest.mark.skipif(not has_icarus, reason="icarus not installed")
def test_argmax_ties_keep_the_first_index(work):
    ir = random_network_ir(2, n_inputs=3, widths=(8,), fan_in=2, bits=1, n_classes=4, argmax=True)
    ir.head = GroupSum(np.repeat(np.arange(4), 2))
    ir.layers[0].tables[:] = np.random.default_rng(0).integers(0, 2, ir.layers[0].tables.size)
    ir.validate()
    codes = random_input_codes(ir, 400, seed=3)
    ref = ir.evaluate(codes)
    scores = ir.evaluate(codes, return_all=True)[-2]
    ties = (scores == scores.max(1, keepdims=True)).sum(1) > 1
    assert ties.sum() > 50  # many ties: the first index must win each
    np.testing.assert_array_equal(ref[:, 0], np.argmax(scores, axis=1))
    np.testing.assert_array_equal(simulate(ir, codes, simulator="icarus", work_dir=work), ref)


@pytest.mark.skipif(not has_verilator, reason="verilator not installed")
@pytest.mark.parametrize("opts", [dict(pipeline=1), dict(pipeline=0, output_reg=False)])
def test_lint_clean_with_stages(tmp_path, opts):
    from lutnet.rtl.lint import lint
    for i, kw in enumerate([dict(), dict(n_classes=1), dict(argmax=False, thermometer=[1, 1, 2, 1])]):
        ir = staged(7, True, **kw)
        # a feature whose thresholds all lie above the code range: constant bits, its input bits unused
        n0 = len(ir.encoder.thresholds[0])
        ir.encoder.thresholds[0] = ir.input_quant.code_max + 1 + np.arange(n0)
        ir.validate()
        info = write_verilog(ir, tmp_path / f"v{i}", **opts)
        r = lint(info)
        assert r.ok, r.output


def test_estimate_report_counts_the_stages():
    from lutnet.rtl.report import build_report, format_report
    ir = staged(2, True)
    r = build_report(ir, method="estimate", progress=False, pipeline=1)
    rows = {row["layer"]: row for row in r["layers"]}
    assert [row["layer"] for row in r["layers"]] == ["encoder", "layer0", "layer1", "head", "argmax"]
    costs = ir.stage_costs()
    for st in ("encoder", "head", "argmax"):
        assert rows[st]["stage"] and rows[st]["luts"] == round(costs[st]) > 0
        assert rows[st]["registered"]
    assert r["total"]["luts"] == sum(row["luts"] for row in r["layers"])
    assert r["pipeline"]["latency_cycles"] == 5
    assert rows["encoder"]["ffs"] == ir.n_encoded and rows["argmax"]["ffs"] == ir.argmax_bits
    text = format_report(r)
    assert "stage encoder (thermometer)" in text and "stage head (groupsum)" in text
    care = codes_for(ir, 200)
    dc = build_report(ir, method="estimate", progress=False, care_codes=care)["dont_care"]
    assert dc["identical_on_care_set"] and dc["luts_with"] <= dc["luts_without"]


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")
def test_yosys_report_synthesizes_each_stage_module(tmp_path):
    from lutnet.rtl.report import build_report
    ir = random_network_ir(4, n_inputs=2, input_bits=5, widths=(4,), fan_in=2, bits=2, thermometer=2, n_classes=2,
                           argmax=True)
    r = build_report(ir, method="yosys-tables", progress=False, cache_dir=tmp_path / "cache", jobs=1)
    rows = {row["layer"]: row for row in r["layers"]}
    for st in ("encoder", "head", "argmax"):
        assert "whole module" in rows[st]["source"] and rows[st]["luts"] > 0 and not rows[st]["cached"]
    again = build_report(ir, method="yosys-tables", progress=False, cache_dir=tmp_path / "cache", jobs=1)
    assert [row["luts"] for row in again["layers"]] == [row["luts"] for row in r["layers"]]
    assert all(row["cached"] for row in again["layers"] if row.get("stage"))
