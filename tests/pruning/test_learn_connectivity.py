"""Learned connectivity through knapsack pruning (lutnet.pruning.learn), PyTorch frontend."""
import dataclasses

import numpy as np
import pytest
import torch

from lutnet.checkpoint import load_checkpoint, save_checkpoint
from lutnet.config import ConfigError, LearnConnectivityConfig, ModelConfig, RunConfig, TrainConfig, from_dict
from lutnet.errors import LayerConfigError
from lutnet.export import to_ir
from lutnet.frontend import get_frontend
from lutnet.nn import LUTLayer, LUTNet
from lutnet.pruning import InfeasibleBudgetError
from lutnet.pruning.learn import fit_learned, learn_connectivity
from lutnet.pruning.torch_prune import TorchLutTarget, learn_lut_connectivity, lut_network_cost
from lutnet.quant import SignedActQuant, UnsignedActQuant
from lutnet.train import fit

F = 3
QUICK = TrainConfig(epochs=1, batch_size=64)


def wide_net(kind="linear", start=8, widths=(16, 8, 3), n_in=12, seed=0, **opts):
    torch.manual_seed(seed)
    layers, src = [], n_in
    for i, w in enumerate(widths):
        last = i == len(widths) - 1
        layers.append(LUTLayer(src, w, min(start, src), kind, input_quant=SignedActQuant if i == 0 else None,
                               input_bit_width=2 if i == 0 else None,
                               output_quant=SignedActQuant if last else UnsignedActQuant, output_bit_width=2,
                               seed=seed * 10 + i, name=f"l{i}", **opts))
        src = w
    return LUTNet(layers)


def data(n=300, n_in=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, n_in, generator=g) * 2 - 1
    return X, (X[:, :3] * torch.arange(1, 4)).argmax(1)


def full_cost(model, fan_in=F):
    """LUTCost with every neuron at ``fan_in`` (the default budget)."""
    from lutnet.ir import lut_cost
    infos = [model.layers[0].input_info()] + [l.output_info() for l in model.layers]
    return sum(float(lut_cost(fan_in * infos[i].bits, infos[i + 1].bits)) * l.out_features
               for i, l in enumerate(model.layers))


def assert_bit_exact(model, X):
    model.eval()
    ir = to_ir(model)
    assert np.array_equal(model.output_codes(X).numpy(), ir.evaluate(model.input_codes(X).numpy()))
    return ir


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}), ("subnet", {"width": 4, "depth": 1})])
def test_knapsack_learned_connectivity_has_the_target_fan_in_and_a_bit_exact_ir(kind, opts):
    X, y = data()
    model = wide_net(kind, **opts)
    fit(model, X, y, QUICK, progress=False, log=lambda *a: None)
    budget = full_cost(model)
    result = learn_lut_connectivity(model, X.numpy(), y.numpy(), F, steps=2, finetune=QUICK)
    for layer in model.layers:
        assert layer.fan_in == F and tuple(layer.connectivity.shape) == (layer.out_features, F)
        assert tuple(layer.input_mask.shape) == (layer.out_features, F)
        assert all(len(set(r)) == F for r in layer.connectivity.tolist())
    assert [h["fan_in"] for h in result.history] == [[5, 5, 5], [F, F, F]]  # geometric caps 8 -> 5 -> 3
    ir = assert_bit_exact(model, X)
    assert all(int((L.indices >= 0).sum(1).max()) <= F for L in ir.layers)
    assert result.budget == budget and ir.lut_cost() == result.lut_cost <= budget


def test_budget_is_respected_and_the_knapsack_chooses_how_many_inputs_each_neuron_keeps():
    X, y = data()
    model = wide_net()
    fit(model, X, y, QUICK, progress=False, log=lambda *a: None)
    budget = 0.5 * full_cost(model)
    result = learn_lut_connectivity(model, X.numpy(), y.numpy(), F, steps=2, budget=budget, finetune=QUICK)
    ir = assert_bit_exact(model, X)
    assert ir.lut_cost() == lut_network_cost(model) == result.lut_cost <= budget
    kept = np.concatenate([l.input_mask.sum(1).numpy() for l in model.layers])
    assert kept.max() == F and kept.min() < F  # some neurons keep all F inputs, some fewer
    assert all(h["lut_cost"] <= h["budget"] for h in result.history)


def test_infeasible_budget_is_refused_before_any_pruning():
    model = wide_net()
    X, y = data()
    conn = [l.connectivity.clone() for l in model.layers]
    with pytest.raises(InfeasibleBudgetError) as e:
        learn_lut_connectivity(model, X.numpy(), y.numpy(), F, budget=1.0)
    assert str(e.value) == ("learned connectivity: budget_luts=1 is below 6 LUTs, the least the network can cost "
                            "(every last-layer neuron keeps 1 input(s)); raise budget_luts to >= 6")
    assert all(torch.equal(a, l.connectivity) for a, l in zip(conn, model.layers))


def test_learned_connectivity_is_saved_and_reloaded_with_the_weights(tmp_path):
    X, y = data()
    model = wide_net()
    learn_lut_connectivity(model, X.numpy(), y.numpy(), F, steps=1)
    model.eval()
    path = model.save(tmp_path / "m.pt")
    again = LUTNet.load(path)
    for a, b in zip(model.layers, again.layers):
        assert a.fan_in == b.fan_in == F
        assert torch.equal(a.connectivity, b.connectivity) and torch.equal(a.input_mask, b.input_mask)
    assert torch.equal(model.output_codes(X), again.output_codes(X))
    for a, b in zip(to_ir(model).layers, to_ir(again).layers):
        assert np.array_equal(a.indices, b.indices) and np.array_equal(a.tables, b.tables)


def yaml_cfg(**learn):
    return from_dict(RunConfig, {"name": "t", "model": {
        "layers": [16, 3], "fan_in": F, "input_bits": 2, "input_signed": True, "output_bits": 2,
        "learn_connectivity": {"start_fan_in": 6, "steps": 2, "finetune_epochs": 1, **learn}},
        "train": {"epochs": 1, "batch_size": 64}}, "t.yaml")


@pytest.mark.parametrize("kind", ["knapsack", "group_lasso"])
def test_config_run_checkpoint_loads_with_the_target_fan_in(tmp_path, kind):
    """``lutnet train``'s path: fit_learned builds at the start fan-in, learns, and the checkpoint
    rebuilds from the config (target fan-in) with the learned connectivity from the state dict."""
    X, y = data()
    cfg = yaml_cfg(kind=kind, **({"start_fan_in": None} if kind == "group_lasso" else {}))
    model, result, learned = fit_learned(get_frontend("torch"), cfg.model, cfg.train, X.numpy(), y.numpy(),
                                         log=lambda *a: None)
    assert result.best_val_acc == result.best_val_acc  # a fine-tuning ran
    assert [len(h["fan_in"]) for h in learned.history] == [2] * (2 if kind == "knapsack" else 1)
    assert [l.fan_in for l in model.layers] == [F, F]
    path = save_checkpoint(tmp_path / "c.pt", model, cfg, 12)
    again, cfg2, _ = load_checkpoint(path)
    assert cfg2.model.learn_connectivity.kind == kind
    assert torch.equal(again.output_codes(X), model.output_codes(X))
    assert all(torch.equal(a.connectivity, b.connectivity) for a, b in zip(model.layers, again.layers))
    assert_bit_exact(again, X)


def test_group_lasso_adds_the_penalty_gradient_only_while_active():
    X, y = data(64)
    model = wide_net(widths=(4, 3))
    target = TorchLutTarget(model)
    w = model.layers[0].neuron.weight

    def grad():
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        return w.grad.clone()

    model.train()
    plain = grad()
    with target.group_lasso(0.5):
        with_penalty = grad()
    assert torch.allclose(with_penalty - plain, 0.5 * torch.sign(w.detach()), atol=1e-5)  # linear: 0.5 d|w|/dw
    assert torch.equal(grad(), plain)  # hooks removed


def test_pinned_errors_for_bad_parameters():
    X, y = data()
    model = wide_net(start=2)
    with pytest.raises(LayerConfigError) as e:
        learn_lut_connectivity(model, X.numpy(), y.numpy(), F)
    assert str(e.value) == ("LUT layer 'l0': start_fan_in=2 is smaller than the target fan_in=3; learned "
                            "connectivity trains with more inputs than it keeps: use start_fan_in > 3 (or none: dense)")
    with pytest.raises(LayerConfigError, match=r"^LUT layer 'l0': steps must be >= 1, got 0$"):
        learn_lut_connectivity(wide_net(), X.numpy(), y.numpy(), F, steps=0)
    mapped = LUTNet([LUTLayer(12, 4, 6, input_quant=SignedActQuant, input_bit_width=2, name="m0", mapping="learnable"),
                     LUTLayer(4, 3, 2, output_quant=SignedActQuant, name="m1")])
    with pytest.raises(LayerConfigError) as e:
        learn_lut_connectivity(mapped, X.numpy(), y.numpy(), 2)
    assert str(e.value) == ("LUT layer 'm0': learned connectivity (knapsack/group lasso) and a learnable mapping both "
                            "choose the layer's inputs; use one of them (mapping: fixed)")
    with pytest.raises(Exception, match="cost_model='lutcost'"):
        learn_connectivity(TorchLutTarget(wide_net()), X.numpy(), y.numpy(), F, cost_model="estimate")


@pytest.mark.parametrize("learn,extra,message", [
    ({"start_fan_in": 2}, {}, "t.yaml: model.learn_connectivity.start_fan_in=2 is smaller than model.fan_in=3; learned "
                              "connectivity trains with more inputs than it keeps: use start_fan_in > 3 (or leave it "
                              "out: dense)"),
    ({"kind": "magnitude"}, {}, "t.yaml: model.learn_connectivity.kind must be one of knapsack, group_lasso, got "
                                "'magnitude'"),
    ({"steps": 0}, {}, "t.yaml: model.learn_connectivity.steps must be >= 1, got 0"),
    ({"finetune_epochs": 0}, {}, "t.yaml: model.learn_connectivity.finetune_epochs must be >= 1, got 0"),
    ({"budget_luts": -5}, {}, "t.yaml: model.learn_connectivity.budget_luts must be > 0 (LUTs of the whole network), "
                              "got -5.0"),
    ({"metric": "l3"}, {}, "t.yaml: model.learn_connectivity.metric must be one of l1, l2, taylor, got 'l3'"),
    ({}, {"mapping": "learnable"}, "t.yaml: model.learn_connectivity and model.mapping: learnable both choose layer "
                                   "0's inputs; use one of them"),
    ({"start_fan_in": 4}, {"layers": [16, {"out_features": 3, "fan_in": 5}]},
     "t.yaml: model.learn_connectivity.start_fan_in=4 is smaller than model.layers[1].fan_in=5; learned connectivity "
     "trains with more inputs than it keeps: use start_fan_in > 5 (or leave it out: dense)"),
])
def test_config_errors_name_the_key(learn, extra, message):
    doc = {"layers": [16, 3], "fan_in": F, "learn_connectivity": {"start_fan_in": 6, **learn}, **extra}
    with pytest.raises(ConfigError) as e:
        from_dict(ModelConfig, doc, "t.yaml")
    assert str(e.value) == message


def test_learn_connectivity_config_defaults():
    lc = from_dict(ModelConfig, {"layers": [4], "learn_connectivity": {}}, "t.yaml").learn_connectivity
    assert dataclasses.asdict(lc) == dataclasses.asdict(LearnConnectivityConfig())
    assert (lc.kind, lc.start_fan_in, lc.steps, lc.budget_luts) == ("knapsack", None, 3, None)
