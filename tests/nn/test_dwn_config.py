"""DWN-style models from configs (model.encoder / model.head / neuron kind table / mapping) through
the PyTorch frontend: build, train with the generic trainer, checkpoint, export."""
import numpy as np
import pytest

from lutnet.config import ConfigError, RunConfig, from_dict

DWN = {"name": "dwn-digits", "data": {"name": "digits"},
       "model": {"layers": [200, 100], "fan_in": 6, "input_bits": 8, "neuron": {"kind": "table"},
                 "encoder": {"kind": "thermometer", "bits_per_feature": 3, "fit": "quantile"},
                 "head": {"kind": "groupsum", "classes": 10, "tau": 3.33, "argmax": True},
                 "mapping": "learnable", "mapping_candidates": 16},
       "train": {"epochs": 6, "batch_size": 32, "lr": 0.03}}


def _cfg(**model):
    d = {**DWN, "model": {**DWN["model"], **model}}
    return from_dict(RunConfig, d, "dwn.yaml")


def test_config_trains_exports_and_checkpoints_a_dwn_model(tmp_path):
    from lutnet.config import check_model
    from lutnet.data import load_dataset
    from lutnet.frontend import get_frontend
    from lutnet.nn.dwn import DWNNet
    cfg = _cfg()
    ds = load_dataset("digits")
    check_model(cfg.model, ds.n_features, "dwn.yaml")
    fe = get_frontend("torch")
    model = fe.build(cfg.model, ds.n_features, ds.X_train)
    assert isinstance(model, DWNNet) and model.layers[0].mapping is not None and model.encoder.fitted
    res = fe.fit(model, ds.X_train, ds.y_train, cfg.train, progress=False)
    acc = fe.accuracy(model, ds.X_test, ds.y_test)
    assert res.best_val_acc > 0.6 and acc > 0.6
    ckpt = fe.save_checkpoint(tmp_path / "checkpoint.pt", model, cfg, ds.n_features, {"test_acc": acc})
    back, cfg2, _ = fe.load_checkpoint(ckpt)
    ir = fe.to_ir(back, metadata={"name": cfg2.name})
    assert ir.stages == ["encoder", "layer0", "layer1", "head", "argmax"]
    codes = ir.quantize_input(ds.X_test)
    assert np.array_equal(ir.evaluate(codes), fe.output_codes(model, ds.X_test))
    assert np.array_equal(fe.input_codes(back, ds.X_test), codes)


def test_learnable_mapping_key_builds_lut_layers_that_learn_their_wiring():
    from lutnet.builder import build_model
    d = {"layers": [8, 10], "fan_in": 3, "neuron": {"kind": "poly", "degree": 2}, "mapping": "learnable"}
    cfg = from_dict(RunConfig, {"name": "x", "model": d}, "x.yaml")
    net = build_model(cfg.model, 12)
    assert all(layer.mapping is not None for layer in net.layers)


@pytest.mark.parametrize("model,match", [
    ({"fan_in": 17, "layers": [170, 10], "mapping_candidates": 32},
     r"model.fan_in=17: a table neuron of layer 0 would have 17 address bits"),
    ({"encoder": {"kind": "thermometer", "fit": "median"}}, r"model.encoder.fit must be one of quantile, uniform"),
    ({"head": {"kind": "groupsum", "classes": 3}}, r"model.head.classes=3 must divide the last layer's 100 outputs"),
    ({"head": {"kind": "groupsum", "tau": 0}}, r"model.head.tau must be > 0"),
    ({"mapping": "soft"}, r"model.mapping must be 'learnable' or 'fixed'"),
    ({"neuron": {"kind": "linear"}}, r"model.neuron.kind: a model with an encoder/head is built of table neurons"),
    ({"encoder": None}, r"model.neuron.kind: table neurons read bits: give model.encoder"),
    ({"mapping_grad": "pm1"}, r"model.mapping_grad must be one of binary, signed, got 'pm1'$"),
    ({"mapping_tau": 0}, r"model.mapping_tau must be > 0, got 0.0$"),
    ({"efd_beta": 1.5}, r"model.efd_beta must lie in \[0, 1\] \(the weight beta\*\*d of the table entries at Hamming "
                        r"distance d in a table's input gradient\), got 1.5$"),
    ({"encoder": None, "head": None, "neuron": {"kind": "linear"}, "efd_beta": 0.2},
     r"model.efd_beta applies to table-neuron models \(model.encoder, neuron: \{kind: table\}\), whose neurons read "
     r"bits; remove it for LUT layers of 'linear' neurons$"),
    ({"head": {"kind": "groupsum", "tiebreak": 10}},
     r"model.head.tiebreak=10 must lie in 0..9: the outputs per class that count half \(10 per class here; at "
     r"least one must count in full\)$"),
    ({"encoder": None, "head": None, "neuron": {"kind": "linear"}, "mapping_tau": 0.1},
     r"model.mapping_tau applies to table-neuron models .*; remove it for LUT layers of 'linear' neurons$"),
    ({"encoder": None, "head": None, "neuron": {"kind": "linear"}, "clamp_tables": True},
     r"model.clamp_tables applies to table-neuron models .*; remove it for LUT layers of 'linear' neurons$"),
])
def test_bad_dwn_configs_name_the_key(model, match):
    from lutnet.config import check_model
    with pytest.raises(ConfigError, match=match):
        check_model(_cfg(**model).model, 64, "dwn.yaml")


def test_dwn_training_rules_reach_the_layers_of_both_frameworks():
    from lutnet.core import table_neuron as tn
    from lutnet.frontend import get_frontend
    cfg = _cfg(clamp_tables=True, mapping_grad="signed", mapping_tau=0.1, efd_beta=0.2)
    want_m = tn.efd_matrices(6, beta=0.2)[0]
    assert not np.allclose(want_m, tn.efd_matrices(6)[0])
    net = get_frontend("torch").build(cfg.model, 64)
    assert all(lay.clamp and lay.mapping_grad == "signed" for lay in net.layers)
    assert all(np.array_equal(lay.efd_m.numpy(), want_m) for lay in net.layers)
    assert net.layers[0].mapping.signed and net.layers[0].mapping.tau == pytest.approx(0.1)
    pytest.importorskip("tensorflow")
    X = np.random.default_rng(0).random((40, 64)).astype(np.float32)
    km = get_frontend("keras").build(cfg.model, 64, X)
    km(X[:2])
    assert all(t.clamp and t.mapping_grad == "signed" for t in km.tables)
    assert all(np.array_equal(t.efd_m.numpy(), want_m) for t in km.tables)
    assert km.tables[0].mapping.signed and km.tables[0].mapping.tau == pytest.approx(0.1)


def test_tiebreak_head_counts_half_in_both_frameworks_and_the_ir():
    """head.tiebreak: 1 -> the last output of each class has weight 1, the others 2 (the IR's power-of-two
    weights); logits scores / (2 tau); model = IR bit for bit, in PyTorch and in Keras."""
    from lutnet.frontend import get_frontend
    from lutnet.nn.dwn import DWNNet
    cfg = _cfg(layers=[40, 20], head={"kind": "groupsum", "classes": 10, "tau": 1.0, "argmax": True, "tiebreak": 1})
    X = np.random.default_rng(0).random((300, 64)).astype(np.float32)
    fe = get_frontend("torch")
    net = fe.build(cfg.model, 64, X)
    assert isinstance(net, DWNNet)
    want = np.tile([2, 1], 10)
    ir = fe.to_ir(net)
    np.testing.assert_array_equal(ir.head.weights, want)
    assert float(ir.output_quant.scale) == pytest.approx(0.5)
    codes = ir.quantize_input(X)
    np.testing.assert_array_equal(ir.evaluate(codes), fe.output_codes(net, X))
    bits = net.forward_bits(X[:50]).detach().numpy()
    scores = net.head.scores(net.forward_bits(X[:50])).detach().numpy()
    np.testing.assert_array_equal(scores, bits.reshape(50, 10, 2) @ np.array([2.0, 1.0]))
    np.testing.assert_allclose(net(X[:50]).detach().numpy(), scores / 2.0)
    pytest.importorskip("tensorflow")
    fk = get_frontend("keras")
    km = fk.build(cfg.model, 64, X)
    kir = fk.to_ir(km)
    np.testing.assert_array_equal(kir.head.weights, want)
    np.testing.assert_array_equal(kir.evaluate(kir.quantize_input(X)), fk.output_codes(km, X))
