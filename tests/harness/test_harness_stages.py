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
