"""The C simulation under ASan + UBSan, and lint-clean Verilog for mixed-width generated networks."""
import shutil

import numpy as np
import pytest

from lutnet.harness import random_input_codes
from lutnet.harness.strategies import prune_ir
from lutnet.testing import random_network_ir

# signed and unsigned, 1..8-bit codes, fan-in 1..4, pruned inputs (incl. constant neurons), 4 layers
MIXED = dict(seed=21, n_inputs=9, widths=(8, 6, 5, 4), fan_in=[3, 2, 1, 4], bits=[3, 8, 1, 2],
             signed=[True, False, False, True], input_bits=3, input_signed=True)


def mixed_ir():
    return prune_ir(random_network_ir(**MIXED), 0.3, 2)


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("synth_types", [False, True], ids=["csim-types", "synth-types"])
def test_c_simulation_is_sanitizer_clean(tmp_path, synth_types):
    """C-simulation types on the mixed network; the ap_uint synthesis types on a small one (g++ needs
    minutes for thousands of ap_uint table constants under the sanitizers)."""
    from lutnet.harness.sanitize import build_and_run
    ir = mixed_ir() if not synth_types else prune_ir(random_network_ir(
        seed=5, n_inputs=5, widths=(4, 3), fan_in=2, bits=[2, 3], signed=[False, True]), 0.3, 1)
    assert (ir.layers[0].fan_in < 3).any() or (ir.layers[1].fan_in < 2).any()  # pruning happened
    codes = random_input_codes(ir, 1000, seed=4)
    run = build_and_run(ir, codes, tmp_path / "prj", synth_types=synth_types)
    assert "-fsanitize=address,undefined" in run.command
    assert not run.sanitizer_report, run.stderr[-3000:]
    assert run.returncode == 0 and f"{len(codes)} samples, 0 mismatches" in run.stdout, run.stdout + run.stderr[-2000:]
    np.testing.assert_array_equal(run.outputs, ir.evaluate(codes))


@pytest.mark.skipif(shutil.which("verilator") is None, reason="needs verilator")
@pytest.mark.parametrize("opts", [dict(pipeline=0, output_reg=False), dict(pipeline=2, input_reg=True, table_style="case")],
                         ids=["combinational", "pipelined-case"])
def test_generated_verilog_is_lint_clean(tmp_path, opts):
    from lutnet.rtl import lint, write_verilog
    info = write_verilog(mixed_ir(), tmp_path / "rtl", **opts)
    res = lint(info)
    assert res.ok, res.output
    assert res.command[1:3] == ["--lint-only", "-Wall"]
