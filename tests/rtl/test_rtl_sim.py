"""Bit-exact RTL simulation: Verilator (>= 10k vectors) and Icarus (>= 1k), signed and unsigned,
pipelined and combinational, both table styles; the measured latency equals the reported one."""
import shutil

import numpy as np
import pytest

from lutnet.errors import ToolNotFoundError
from lutnet.rtl.simulate import compare, simulate, simulate_detailed
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes

has_verilator = shutil.which("verilator") is not None
has_icarus = shutil.which("iverilog") is not None and shutil.which("vvp") is not None

VARIANTS = [  # (signed, emit options)
    (False, dict(pipeline=1, table_style="rom")),
    (True, dict(pipeline=0, output_reg=False, table_style="case")),
    (True, dict(pipeline=1, input_reg=True, table_style="case")),
    (False, dict(pipeline=0, output_reg=False, table_style="rom")),
]
IDS = ["unsigned-pipelined-rom", "signed-comb-case", "signed-pipelined-inreg-case", "unsigned-comb-rom"]
# Verilator builds take ~10 s of CPU each: the default run builds the first two variants (signed and
# unsigned, pipelined and combinational, both table styles) plus the pruned network below; the
# other two run with -m slow.  Icarus (cheap to build) runs all four.
VERILATOR_VARIANTS = [pytest.param(*v, id=i, marks=[pytest.mark.slow] if n >= 2 else [])
                      for n, (v, i) in enumerate(zip(VARIANTS, IDS))]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("simcache")


def net(signed):
    return random_network_ir(11 if signed else 7, n_inputs=8, widths=(6, 4), fan_in=3, bits=2, signed=signed)


@pytest.mark.skipif(not has_verilator, reason="verilator not installed (make tools)")
@pytest.mark.parametrize("signed,opts", VERILATOR_VARIANTS)
def test_verilator_bit_exact_10k(work, signed, opts):
    ir = net(signed)
    x = random_input_codes(ir, 10_000, seed=3)
    r = simulate_detailed(ir, x, simulator="verilator", work_dir=work, **opts)
    assert compare(ir, x, r.outputs)["mismatches"] == 0
    assert r.outputs.shape == (10_000, ir.n_outputs)
    assert r.latency_observed == r.info.latency_cycles
    expected = int(opts.get("input_reg", False)) + (2 if opts["pipeline"] else 0)
    assert r.info.latency_cycles == expected
    if signed:
        assert (r.outputs < 0).any()


@pytest.mark.skipif(not has_icarus, reason="iverilog not installed (make tools)")
@pytest.mark.parametrize("signed,opts", VARIANTS, ids=IDS)
def test_icarus_bit_exact_2k(work, signed, opts):
    ir = net(signed)
    x = random_input_codes(ir, 2_000, seed=4)
    r = simulate_detailed(ir, x, simulator="icarus", work_dir=work, **opts)
    assert compare(ir, x, r.outputs)["mismatches"] == 0
    assert r.latency_observed == r.info.latency_cycles


@pytest.mark.skipif(not has_verilator, reason="verilator not installed")
def test_simulator_cache_and_api(work):
    ir = net(False)
    x = random_input_codes(ir, 300, seed=5)
    r1 = simulate_detailed(ir, x, simulator="verilator", work_dir=work, pipeline=1, table_style="rom")
    r2 = simulate_detailed(ir, x[:100], simulator="verilator", work_dir=work, pipeline=1, table_style="rom")
    assert r2.cached and r2.build_seconds == 0 and r1.sim_dir == r2.sim_dir
    out = simulate(ir, x, work_dir=work, pipeline=1, table_style="rom")
    np.testing.assert_array_equal(out, ir.evaluate(x))


@pytest.mark.skipif(not (has_verilator and has_icarus), reason="simulators not installed")
def test_pruned_mixed_width_network(work):
    """Pruned inputs (-1), a constant neuron, unsigned hidden / signed output codes of other widths."""
    from lutnet.ir import LayerIR, NetworkIR, QuantSpec
    rng = np.random.default_rng(0)
    iq = QuantSpec(2, True, 0.5, 0)
    l0 = LayerIR.from_dense("l0", [[0, 1], [2, 3], [1, 2]], 2, True, 3, False, rng.integers(0, 8, (3, 16)))
    idx = np.array([[0, 2], [1, -1], [-1, -1]])
    ib = np.where(idx >= 0, 3, 0)
    tabs = [rng.integers(-2, 2, 64), rng.integers(-2, 2, 8), np.array([-1])]
    offs = np.cumsum([0] + [len(t) for t in tabs])
    l1 = LayerIR("l1", idx, ib, np.zeros_like(idx, bool), [2, 2, 2], [True] * 3, np.concatenate(tabs), offs)
    ir = NetworkIR(iq, 4, [l0, l1], QuantSpec(2, True, 1.0, 0)).validate()
    x = random_input_codes(ir, 10_000, seed=1)
    for sim, n in (("verilator", 10_000), ("icarus", 1_000)):
        r = simulate_detailed(ir, x[:n], simulator=sim, work_dir=work, pipeline=2, input_reg=True)
        np.testing.assert_array_equal(r.outputs, ir.evaluate(x[:n]))
        assert r.latency_observed == r.info.latency_cycles == 2


def test_missing_simulator_names_install_step(monkeypatch, tmp_path):
    monkeypatch.setenv("LUTNET_VERILATOR", "/nonexistent/verilator")
    monkeypatch.setenv("LUTNET_ICARUS", "/nonexistent/iverilog")
    ir = net(False)
    x = random_input_codes(ir, 10)
    for sim in ("verilator", "icarus"):
        with pytest.raises(ToolNotFoundError, match="make tools") as e:
            simulate(ir, x, simulator=sim, work_dir=tmp_path)
        assert "apt-get install verilator iverilog yosys" in str(e.value)


def test_bad_codes_rejected(work):
    ir = net(False)
    with pytest.raises(ValueError, match="shape"):
        simulate(ir, np.zeros((4, 3), int), work_dir=work, simulator="icarus")
    with pytest.raises(ValueError, match="simulator"):
        simulate(ir, np.zeros((4, 8), int), simulator="modelsim")
