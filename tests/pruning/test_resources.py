import math

import numpy as np
import pytest

from lutnet.ir import lut_cost
from lutnet.pruning import PruningError
from lutnet.pruning.resources import DenseResourceModel, lut_cost_model, lut_neuron_cost
from lutnet.pruning.schedule import ConstantSchedule, PolynomialSchedule, schedule_budgets


def test_lutcost_is_the_ir_formula_and_integral():
    x, y = np.meshgrid(np.arange(0, 17), np.arange(1, 9))
    c = lut_neuron_cost(x, y)
    assert np.array_equal(c, lut_cost(x, y))
    assert np.array_equal(c, np.rint(c))  # Y/3 * (2**(X-4) -+ 1) is always whole: DP works on it
    assert lut_neuron_cost(8, 2) == 10 and lut_neuron_cost(12, 2) == 170 and lut_neuron_cost(0, 3) == 0
    assert lut_cost_model("lutcost") is lut_neuron_cost


def test_unknown_cost_model():
    with pytest.raises(PruningError, match=r"^unknown LUT cost model 'yosys'; known: lutcost, estimate$"):
        lut_cost_model("yosys")


def test_estimate_is_not_a_size_function():
    with pytest.raises(PruningError, match=r"^cost model 'estimate' depends on the tables' contents; pass "
                                           r"cost_model='estimate' to prune_lut_network"):
        lut_cost_model("estimate")


@pytest.mark.parametrize("n_in,n_out,bits,rf,strategy", [
    (16, 8, 16, 1, "latency"), (16, 8, 16, 4, "resource"), (64, 32, 12, 32, "resource"),
    (10, 6, 18, 5, "resource"), (16, 8, 6, 8, "resource"), (16, 8, 16, 8, "latency")])
def test_dense_full_usage_follows_hls4ml(n_in, n_out, bits, rf, strategy):
    m = DenseResourceModel(n_in, n_out, bits, 8, rf, strategy)
    u = m.full_usage()
    n_w = n_in * n_out
    assert u["dsp"] == (n_w // rf if bits >= 9 else 0)
    assert u["lut"] == (0 if bits >= 9 else n_w // rf * math.ceil(bits * 8 / 2))
    assert u["bram"] == (math.ceil(n_w * bits / (rf * 36)) if strategy == "resource" and rf > 1 else 0)


def test_patterns_are_consecutive_weights_of_one_multiplier():
    m = DenseResourceModel(6, 4, 16, 16, reuse_factor=3)
    idx = m.pattern_index()
    assert idx.shape == (8, 3) and idx[1].tolist() == [3, 4, 5]
    w = np.ones((4, 6))
    w.reshape(-1)[3:6] = 0  # one whole pattern: one DSP fewer
    assert m.usage(w)["dsp"] == 7
    w.reshape(-1)[6:8] = 0  # part of the next pattern: that multiplier is still needed
    assert m.usage(w)["dsp"] == 7


def test_blocks_share_a_bram_word():
    m = DenseResourceModel(12, 6, 12, 8, reuse_factor=4, structure="block")
    assert m.patterns_per_block == 3 and m.n_patterns == 18
    idx = m.structure_index()
    assert idx.shape == (6, 12) and idx[1].tolist() == list(range(12, 24))
    c = m.structure_costs()
    assert c["dsp"].tolist() == [3.0] * 6 and c["bram"].tolist() == [1.0] * 6
    assert m.full_usage()["bram"] == 6  # ceil(72 * 12 / (4 * 36))
    w = np.ones((6, 12))
    w.reshape(-1)[12:24] = 0
    assert m.usage(w) == {"dsp": 15.0, "lut": 0.0, "bram": 5.0}
    # 16-bit weights: 36 is no multiple, so ceil(72/16) = 5 patterns form a block (a partial last one padded)
    m16 = DenseResourceModel(10, 3, 16, 8, reuse_factor=2, structure="block")
    assert m16.patterns_per_block == 5 and m16.structure_index().shape == (3, 10)
    assert (m16.structure_index()[-1] == -1).sum() == 0
    assert m.pattern_cost() == {"dsp": 1.0, "lut": 0.0, "bram": 0.0}


def test_dense_model_errors():
    with pytest.raises(PruningError, match=r"^reuse_factor=7 must divide n_in\*n_out=24; valid values include "
                                           r"\[1, 2, 3, 4, 6, 8, 12, 24\]$"):
        DenseResourceModel(6, 4, reuse_factor=7)
    with pytest.raises(PruningError, match=r"^unknown hls4ml strategy 'fast'; known: resource, latency$"):
        DenseResourceModel(6, 4, strategy="fast")
    with pytest.raises(PruningError, match="weight has 10 entries, the layer model expects 24"):
        DenseResourceModel(6, 4).usage(np.ones(10))


def test_schedules():
    assert ConstantSchedule().budgets(1000, 200) == [200.0]
    b = PolynomialSchedule(steps=4, power=3).budgets(1000, 200)
    assert b[-1] == 200.0 and len(b) == 4
    assert b[0] == pytest.approx(200 + 800 * 0.75 ** 3)
    assert all(x > y for x, y in zip(b, b[1:]))
    assert PolynomialSchedule(2, 1).budgets(100, 0) == [50.0, 0.0]
    assert schedule_budgets(PolynomialSchedule(2, 1), {"dsp": 100, "bram": 10}, {"dsp": 0, "bram": 4}) == [
        {"dsp": 50.0, "bram": 7.0}, {"dsp": 0.0, "bram": 4.0}]
    with pytest.raises(PruningError, match="PolynomialSchedule needs steps >= 1, got 0"):
        PolynomialSchedule(steps=0)


@pytest.mark.parametrize("n_in,n_out,bits,rf", [(16, 8, 12, 4), (64, 32, 18, 8), (10, 6, 16, 5), (784, 64, 12, 32)])
def test_dense_model_agrees_with_hls4ml_estimators(n_in, n_out, bits, rf):
    """Cross-check against hls4ml's own dsp_aware_pruning objectives (when hls4ml is installed)."""
    attrs_mod = pytest.importorskip("hls4ml.optimization.dsp_aware_pruning.attributes")
    objectives = pytest.importorskip("hls4ml.optimization.dsp_aware_pruning.objectives.vivado_objectives")
    from hls4ml.model.types import FixedPrecisionType
    prec = FixedPrecisionType(width=bits, integer=4)
    hls = attrs_mod.hls4mlAttributes(n_in, n_out, "io_parallel", "resource", prec, prec, rf)
    layer = attrs_mod.LayerAttributes("d", "Dense", [], (n_in, n_out), (n_in,), (n_out,), True, None,
                                      {"hls4ml_attributes": hls})
    ok, opt = objectives.VivadoMultiObjectiveEstimator.is_layer_optimizable(layer)
    layer.optimization_attributes = opt
    dsp, bram = objectives.VivadoMultiObjectiveEstimator.layer_resources(layer)
    m = DenseResourceModel(n_in, n_out, bits, 8, rf, "resource", structure="block")
    assert m.full_usage()["dsp"] == dsp and m.full_usage()["bram"] == bram
    assert m.patterns_per_block == opt.consecutive_patterns and m.n_patterns == opt.pattern_offset
    assert objectives.VivadoDSPEstimator.layer_resources(layer) == [m.n_patterns]
