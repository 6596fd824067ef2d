"""The IR's stages (thermometer encoder, GroupSum head, argmax) at every harness level, and the
Hypothesis strategy drawing them."""
import shutil

import pytest
from hypothesis import given, settings

from lutnet.harness import check_levels, random_input_codes
from lutnet.harness.strategies import ir_networks
from lutnet.testing import random_network_ir

TOOLS = ("g++", "verilator", "iverilog", "yosys")


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}")
@pytest.mark.parametrize("signed,stages,emit", [
    (True, dict(thermometer=[1, 2, 3], n_classes=3, argmax=True), dict(pipeline=1)),
    (False, dict(thermometer=2, n_classes=2), dict(pipeline=0, output_reg=False, table_style="case")),
])
def test_every_level_agrees_with_stages(tmp_path, signed, stages, emit):
    ir = random_network_ir(8, n_inputs=3, input_bits=4, input_signed=signed, widths=(5, 4), fan_in=2, bits=2,
                           signed=signed, **stages)
    r = check_levels(ir, random_input_codes(ir, 500, seed=2),
                     levels=("ir", "onnx", "cpp", "verilog", "icarus", "postsynth"), work_dir=tmp_path, lint=True,
                     **emit)
    assert r.ok, str(r)
    assert set(r.levels) == {"ir", "onnx", "cpp", "verilog", "icarus", "postsynth"} and not r.mismatches


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}")
@pytest.mark.parametrize("bits,widths", [(1, (40,)), (2, (6, 23))])
def test_popcount_head_with_bit_counters_is_exact(tmp_path, bits, widths):
    """Wide unsigned groups: the head is built from several passes of LUT6 bit counters."""
    from lutnet.ir import compressor_tree
    ir = random_network_ir(3, n_inputs=6, widths=widths, fan_in=3, bits=bits, n_classes=2, argmax=True)
    m = ir.head.members(1)
    assert compressor_tree(ir.layers[-1].out_bits[m].tolist()).passes >= 2
    r = check_levels(ir, random_input_codes(ir, 400, seed=5), levels=("ir", "cpp", "verilog", "icarus", "postsynth"),
                     work_dir=tmp_path, lint=True)
    assert r.ok and not r.mismatches, str(r)


def test_strategy_draws_every_stage():
    seen = {"encoder": 0, "head": 0, "argmax": 0, "none": 0}

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(ir_networks())
    def draw(case):
        ir = case.ir
        seen["encoder"] += ir.encoder is not None
        seen["head"] += ir.head is not None
        seen["argmax"] += bool(ir.argmax)
        seen["none"] += ir.encoder is None and ir.head is None and not ir.argmax
        assert ("thermometer" in case.spec) == (ir.encoder is not None)
    draw()
    assert min(seen.values()) >= 3, seen


def test_a_wrong_head_is_located_at_the_head_stage():
    import numpy as np

    from lutnet.harness.levels import Level, LevelOutput, onnx_level
    from lutnet.ir import GroupSum, NetworkIR
    ir = random_network_ir(9, n_inputs=3, widths=(6,), bits=2, thermometer=2, n_classes=3, argmax=True)
    g = ir.head.groups.copy()
    a, b = int(np.flatnonzero(g == 0)[0]), int(np.flatnonzero(g == 1)[0])
    g[a], g[b] = 1, 0  # two outputs in each other's class
    bad = NetworkIR(ir.input_quant, ir.n_inputs, ir.layers, ir.output_quant, {}, ir.encoder, GroupSum(g), True)
    lv = onnx_level(bad.validate())
    r = check_levels(ir, random_input_codes(ir, 300), levels=("ir",), extra_levels=[Level("onnx-bad", lv.run)])
    m = r.mismatches[0]
    assert m.layer == "head" and m.per_layer and m.neuron in (0, 1)
    assert "first at stage head, neuron" in str(r)
    final = check_levels(ir, random_input_codes(ir, 300), levels=("ir",),
                         extra_levels=[Level("final-bad", lambda c: LevelOutput(lv.run(c).final))])
    if final.mismatches:  # the swap may never change the argmax on these vectors
        assert final.mismatches[0].layer == "argmax" and "stage argmax" in str(final)
