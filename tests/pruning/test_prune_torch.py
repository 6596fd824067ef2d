import copy

import numpy as np
import pytest
import torch
from brevitas.nn import QuantLinear, QuantReLU

from lutnet.config import TrainConfig
from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet
from lutnet.pruning import InfeasibleBudgetError, PruningError, UnknownResourceError, solve
from lutnet.pruning.importance import lut_input_importance
from lutnet.pruning.resources import DenseResourceModel
from lutnet.pruning.schedule import PolynomialSchedule
from lutnet.pruning.torch_prune import (
    dense_usage,
    lut_network_cost,
    lut_pruning_problem,
    prune_dense,
    prune_dense_iteratively,
    prune_lut_iteratively,
    prune_lut_network,
)
from lutnet.quant import SignedActQuant, UnsignedActQuant


def tiny_net(kind="linear", seed=0, n_in=12, widths=(10, 6, 3), fan_in=3, bits=2, **opts):
    torch.manual_seed(seed)
    layers, src = [], n_in
    for i, w in enumerate(widths):
        last = i == len(widths) - 1
        layers.append(LUTLayer(src, w, fan_in, kind, input_quant=SignedActQuant if i == 0 else None,
                               input_bit_width=bits if i == 0 else None,
                               output_quant=SignedActQuant if last else UnsignedActQuant,
                               output_bit_width=bits, seed=seed * 10 + i, name=f"l{i}", **opts))
        src = w
    net = LUTNet(layers)
    with torch.no_grad():  # give batch norms non-trivial statistics so tables are not constant
        for layer in net.layers:
            layer.bn.running_mean.uniform_(-0.2, 0.2)
            layer.bn.running_var.uniform_(0.1, 0.5)
    return net


def data(n=256, n_in=12, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, n_in, generator=g) * 2 - 1
    return X, (X[:, :classes] * torch.arange(1, classes + 1)).argmax(1)


def assert_bit_exact(net, X):
    ir = to_ir(net)
    codes = net.input_codes(X).numpy()
    assert np.array_equal(net.output_codes(X).numpy(), ir.evaluate(codes))
    return ir


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}), ("subnet", {"width": 4, "depth": 1})])
@pytest.mark.parametrize("metric", ["l1", "l2", "taylor"])
def test_pruned_network_fits_budget_and_stays_bit_exact(kind, opts, metric):
    net = tiny_net(kind, **opts)
    X, y = data()
    full = lut_network_cost(net)
    assert full == to_ir(net).lut_cost() == (10 + 6 + 3) * 2  # 6 address bits: one LUT per output bit
    before = [l.input_mask.clone() for l in net.layers]
    for frac in (0.8, 0.5, 0.3):
        budget = np.floor(full * frac)
        res = prune_lut_network(net, budget, metric=metric, data=(X, y))
        ir = assert_bit_exact(net, X)
        assert ir.lut_cost() == res.lut_cost == lut_network_cost(net) <= budget
        assert all(l.input_mask.sum(1)[k] >= 1 for l in net.layers[-1:] for k in range(3))
        for l, b in zip(net.layers, before):  # only ever removes connections
            assert not (l.input_mask & ~b).any()
        before = [l.input_mask.clone() for l in net.layers]


def test_wider_inputs_shrink_tables_and_no_dead_neurons():
    net = tiny_net(n_in=16, widths=(12, 8, 4), fan_in=4, bits=2)  # 8 address bits: LUTCost(8, 2) = 10
    X, _ = data(n_in=16)
    full = lut_network_cost(net)
    assert full == 12 * 10 + 8 * 10 + 4 * 10
    res = prune_lut_network(net, 150)
    ir = assert_bit_exact(net, X)
    assert ir.lut_cost() <= 150 and res.lut_cost == ir.lut_cost()
    assert any(L.table_rows.min() < 2 ** 8 for L in ir.layers)  # tables really shrank
    for prev, layer in zip(net.layers[:-1], net.layers[1:]):  # every live neuron is read by someone
        read = set(layer.connectivity[layer.input_mask].tolist())
        live = set(torch.nonzero(prev.input_mask.any(1)).reshape(-1).tolist())
        assert live <= read


def test_lut_problem_dp_equals_milp_and_brute_force_small():
    net = tiny_net(widths=(3, 2), n_in=6, fan_in=2)
    imp = lut_input_importance(net, "l1")
    plan = lut_pruning_problem(net, imp)
    for budget in (4, 5, 7, 9):
        a, b, c = (solve(plan.problem, {"lut": budget}, method=m) for m in ("dp", "milp", "brute_force"))
        assert a.value == pytest.approx(c.value) and b.value == pytest.approx(c.value)
        assert a.cost["lut"] <= budget and b.cost["lut"] <= budget


def test_importance_rules():
    net = tiny_net("linear")
    with torch.no_grad():
        net.layers[0].input_mask[0, 1] = False
    imp = lut_input_importance(net, "l1")
    w = net.layers[0].neuron.weight.detach().abs()
    assert imp[0][0, 1] == 0 and torch.equal(imp[0][1], w[1])
    poly = tiny_net("poly", degree=2)
    n = poly.layers[0].neuron  # terms (0,) (1,) (2,) (0,0) (0,1) (0,2) (1,1) (1,2) (2,2)
    w = n.weight.detach().abs()
    imp = lut_input_importance(poly, "l1")[0]
    assert torch.allclose(imp[:, 0], w[:, 0] + w[:, 3] + w[:, 4] + w[:, 5])
    l2 = lut_input_importance(poly, "l2")[0]
    assert torch.allclose(l2[:, 2], (n.weight.detach()[:, [2, 5, 7, 8]] ** 2).sum(1).sqrt())
    with pytest.raises(PruningError, match=r"^metric 'taylor' needs data=\(X, y\) to compute gradients$"):
        lut_input_importance(net, "taylor")
    with pytest.raises(PruningError, match=r"^unknown importance metric 'l3'; known: l1, l2, taylor$"):
        lut_input_importance(net, "l3")


def test_taylor_leaves_model_untouched():
    net = tiny_net()
    X, y = data()
    state = copy.deepcopy(net.state_dict())
    net.eval()
    imp = lut_input_importance(net, "taylor", (X, y), batches=2, batch_size=64)
    assert not net.training and all(p.grad is None for p in net.parameters())
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    assert all((i >= 0).all() for i in imp) and imp[0].sum() > 0


def test_infeasible_budget_states_minimum():
    net = tiny_net()  # the 3 output neurons must keep >= 1 input: 3 x LUTCost(2, 2) = 6 LUTs
    with pytest.raises(InfeasibleBudgetError, match=r"^budget 5 for 'lut' is infeasible: the structures that "
                                                    r"must be kept cost at least 6; raise the budget to >= 6$"):
        prune_lut_network(net, 5)
    assert net.layers[0].input_mask.all()  # untouched
    res = prune_lut_network(net, 6)
    assert res.lut_cost == 6 and to_ir(net).lut_cost() == 6
    with pytest.raises(PruningError, match=r"^budget for 'lut' must be a finite number >= 0, got -1$"):
        prune_lut_network(tiny_net(), -1)
    assert prune_lut_network(tiny_net(), 0, min_inputs_last=0).lut_cost == 0


def test_iterative_schedule_with_finetuning():
    net = tiny_net()
    X, y = data(n=300)
    budget = 20
    hist = prune_lut_iteratively(net, X.numpy(), y.numpy(), budget, PolynomialSchedule(steps=3),
                                 TrainConfig(epochs=1, batch_size=64), metric="taylor")
    costs = [h["usage"]["lut"] for h in hist]
    assert len(hist) == 3 and costs == sorted(costs, reverse=True) and costs[-1] <= budget
    assert all(h["usage"]["lut"] <= h["budgets"]["lut"] for h in hist)
    assert all(0 <= h["val_acc"] <= 1 for h in hist)
    assert_bit_exact(net, X)


def dense_mlp(bits=10):
    torch.manual_seed(0)
    return torch.nn.Sequential(QuantLinear(12, 8, bias=True, weight_bit_width=bits), QuantReLU(bit_width=4),
                               QuantLinear(8, 3, bias=True, weight_bit_width=bits))


def test_dense_pruning_meets_dsp_budget_and_stays_pruned():
    mlp = dense_mlp()
    models = {"0": DenseResourceModel(12, 8, 10, 4, reuse_factor=4), "2": DenseResourceModel(8, 3, 10, 4, reuse_factor=2)}
    assert dense_usage(mlp, models)["dsp"] == 24 + 12
    res = prune_dense(mlp, {"dsp": 15}, models)
    assert res.usage["dsp"] <= 15 and res.solution.cost["dsp"] <= 15
    w0 = mlp[0].weight.detach().reshape(-1, 4)
    assert ((w0 == 0).all(1) | (w0 != 0).all(1)).all()  # whole patterns pruned
    X, y = data(n=200)
    prune_dense_iteratively(mlp, X.numpy(), y.numpy(), {"dsp": 10}, models, PolynomialSchedule(2),
                            TrainConfig(epochs=1, batch_size=32, weight_decay=1e-4))
    assert dense_usage(mlp, models)["dsp"] <= 10
    with pytest.raises(PruningError, match=r"no nn.Linear named \['5'\] in the model"):
        prune_dense(mlp, {"dsp": 1}, {"5": models["0"]})
    with pytest.raises(InfeasibleBudgetError, match=r"^budget 1 for 'dsp' is infeasible: the structures that must "
                                                    r"be kept cost at least 2; raise the budget to >= 2$"):
        prune_dense(dense_mlp(), {"dsp": 1}, models)  # min_keep=1: one pattern per layer
    lone = dense_mlp()
    assert prune_dense(lone, {"dsp": 1}, models, min_keep=0).usage["dsp"] == 1
    with pytest.raises(PruningError, match=r"^budget for 'bram' must be a finite number >= 0, got -1$"):
        prune_dense(dense_mlp(), {"dsp": 3, "bram": -1}, models)
    with pytest.raises(UnknownResourceError, match=r"^unknown resource 'uram' in budgets; this problem's "
                                                   r"resources are: dsp, lut, bram$"):
        prune_dense(dense_mlp(), {"uram": 3}, models)


def test_dense_multi_resource_blocks():
    mlp = dense_mlp(bits=12)
    models = {"0": DenseResourceModel(12, 8, 12, 4, reuse_factor=4, structure="block"),
              "2": DenseResourceModel(8, 3, 12, 4, reuse_factor=2, structure="block")}
    full = dense_usage(mlp, models)
    assert full == {"dsp": 36.0, "lut": 0.0, "bram": 8.0 + 4.0}  # ceil(96*12/(4*36)) + ceil(24*12/(2*36))
    for method in ("milp", "greedy"):
        m = copy.deepcopy(mlp)
        res = prune_dense(m, {"dsp": 20, "bram": 6}, models, method=method)
        assert res.usage["dsp"] <= 20 and res.usage["bram"] <= 6 and res.usage == dense_usage(m, models)


def test_estimator_cost_model():
    """The Yosys-calibrated table estimator as the cost model: the budget binds its estimate of the
    exported tables, and the model stays bit-exact."""
    pytest.importorskip("lutnet.rtl.estimate")
    net = tiny_net(n_in=16, widths=(12, 8, 4), fan_in=4, bits=2)
    X, _ = data(n_in=16)
    full = lut_network_cost(net, "estimate")
    res = prune_lut_network(net, full // 2, cost_model="estimate")
    assert res.lut_cost == lut_network_cost(net, "estimate") <= full // 2
    assert_bit_exact(net, X)
    with pytest.raises(InfeasibleBudgetError, match=r"^budget 1 for 'lut' is infeasible"):
        prune_lut_network(net, 1, cost_model="estimate")
