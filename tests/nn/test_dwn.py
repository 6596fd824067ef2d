"""DWN-style networks in PyTorch (lutnet.nn.dwn): EFD and learnable-mapping gradients against the
core's numpy rules, the model against its IR (encoder, table layers, GroupSum head, argmax) bit for
bit, and the emitted C++ / Verilog through the verification harness."""
import numpy as np
import pytest
import torch

from lutnet.core import table_neuron as tn
from lutnet.errors import LayerConfigError
from lutnet.ir import NetworkIR
from lutnet.nn.dwn import DWNNet, GroupSumHead, TableLayer, Thermometer, _Select, accuracy, fit_dwn


def _random_net(seed, n_in=10, z=3, widths=(24, 12), fan_in=4, argmax=True, mapping="learnable", candidates=None):
    enc = Thermometer(n_in, bits_per_feature=z, fit="uniform", input_bits=6, scale=1 / 63)
    layers, src = [], enc.out_features
    for i, w in enumerate(widths):
        layers.append(TableLayer(src, w, fan_in=fan_in, mapping=mapping if i == 0 else "random", seed=seed * 10 + i,
                                 name=f"layer{i}", mapping_candidates=candidates))
        src = w
    return DWNNet(enc, layers, n_classes=4, tau=2.0, argmax=argmax)


def test_table_layer_backward_is_the_core_efd_rule():
    torch.manual_seed(0)
    layer = TableLayer(9, 5, fan_in=3, mapping="random", seed=3)
    x = torch.randint(0, 2, (11, 9)).float().requires_grad_(True)
    y = layer(x)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    conn, w = layer.connectivity.numpy(), layer.table.detach().numpy()
    m, hi, lo = tn.efd_matrices(3)
    want = tn.efd_input_grad(x.detach().numpy(), conn, w, m, hi, lo, gy.numpy())
    assert np.allclose(x.grad.numpy(), want, atol=1e-5)
    addr = tn.addresses(x.detach().numpy(), conn)
    want_w = np.zeros_like(w)
    np.add.at(want_w, (np.broadcast_to(np.arange(5), addr.shape), addr), gy.numpy())
    assert np.allclose(layer.table.grad.numpy(), want_w, atol=1e-6)
    assert np.array_equal(y.detach().numpy(), tn.read_out(x.detach().numpy(), conn, layer.table_bits()))


@pytest.mark.parametrize("tau", [1.0, 0.01], ids=["tau1", "tau0.01"])  # 0.01: weights below float32's range
@pytest.mark.parametrize("n", [12, 400], ids=["dense", "gather"])  # candidates: both backward paths (n <= 64 K)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("candidates", [None, 5])
def test_learnable_mapping_gradients(candidates, signed, n, tau):
    rng = np.random.default_rng(1)
    b, o, f = 6, 4, 3
    x = torch.tensor(rng.integers(0, 2, (b, n)).astype(np.float32), requires_grad=True)
    conn = np.arange(12).reshape(4, 3)
    cand_np = tn.draw_candidates(n, conn, candidates, 0)
    k = n if cand_np is None else candidates
    cand = None if cand_np is None else torch.from_numpy(cand_np)
    sc = torch.randn(o, f, k, requires_grad=True)
    idx = torch.from_numpy(tn.distinct_argmax(sc.detach().numpy(), cand_np))
    y = _Select.apply(x, sc, idx, cand, tau, signed)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    cn = np.broadcast_to(np.arange(n), (o, f, n)) if cand_np is None else cand_np
    xs, gn, sm = x.detach().numpy(), g.numpy(), tn.softmax(sc.detach().numpy(), tau)
    xread = 2 * xs - 1 if signed else xs  # MAPPING_GRADS: DWN reads the bits as -1/+1
    assert np.allclose(sc.grad.numpy(), np.einsum("bof,bofk->ofk", gn, xread[:, cn]), atol=1e-5)
    want_x = np.zeros((b, n))
    np.add.at(want_x, (np.arange(b)[:, None, None, None], np.broadcast_to(cn, (b, o, f, k))), gn[..., None] * sm[None])
    assert np.allclose(x.grad.numpy(), want_x, atol=1e-5)
    assert np.array_equal(y.detach().numpy(), xs[:, idx.numpy()])


def test_learned_mapping_is_frozen_into_the_connectivity_and_the_ir():
    model = _random_net(0, candidates=6)
    X = np.random.default_rng(0).random((64, 10)).astype(np.float32)
    y = np.arange(64) % 4
    opt = torch.optim.Adam(model.parameters(), lr=0.5)
    model.train()
    before = model.layers[0].connectivity.clone()
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(model(X), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.layers[0].mapping.scores.grad is not None
    ir = model.to_ir()  # eval(): connectivity = the mapping's selection after the last step
    lay = model.layers[0]
    sel = tn.distinct_argmax(lay.mapping.scores.detach().numpy(), lay.mapping.candidates.numpy())
    assert np.array_equal(lay.connectivity.numpy(), sel)
    assert np.array_equal(ir.layers[0].indices, sel)
    assert not np.array_equal(before.numpy(), sel)  # the wiring moved
    assert all(len(set(r)) == len(r) for r in sel.tolist())
    state = model.state_dict()
    other = _random_net(0, candidates=6)
    other.load_state_dict(state)
    other.eval()
    assert np.array_equal(other.output_codes(X), model.output_codes(X))


@pytest.mark.parametrize("seed,argmax,widths", [(0, True, (24, 12)), (1, False, (16,)), (2, True, (20, 8, 8))])
def test_random_models_match_their_ir_bit_for_bit(seed, argmax, widths, tmp_path):
    model = _random_net(seed, widths=widths, argmax=argmax)
    X = np.random.default_rng(seed).random((500, 10)).astype(np.float32)
    X[:5] = 0.0
    X[5:10] = 1.0
    ir = model.to_ir()
    assert ir.stages[0] == "encoder" and ir.stages[-2 if argmax else -1] == "head"
    assert ir.argmax == argmax and all(layer.kind == "table" for layer in ir.layers)
    codes = ir.quantize_input(X)
    assert np.array_equal(codes, model.input_codes(X))
    assert np.array_equal(ir.evaluate(codes), model.output_codes(X))
    ir.save(tmp_path / "dwn.lutir.npz")
    back = NetworkIR.load(tmp_path / "dwn.lutir.npz")
    assert np.array_equal(back.evaluate(codes), model.output_codes(X))
    # the IR tables are the model's parameters' signs, bit for bit
    for lay, lir in zip(model.layers, ir.layers):
        assert np.array_equal(lir.tables.reshape(lay.out_features, -1), (lay.table.detach().numpy() > 0))


@pytest.fixture(scope="module")
def trained_digits():
    from lutnet.data import load_dataset
    torch.manual_seed(0)
    ds = load_dataset("digits")
    enc = Thermometer(64, bits_per_feature=3, fit="quantile", input_bits=8, scale=1 / 255)
    model = DWNNet(enc, [TableLayer(enc.out_features, 300, fan_in=6, mapping="learnable", mapping_candidates=16,
                                    seed=1, name="layer0"),
                         TableLayer(300, 100, fan_in=6, seed=2, name="layer1")], n_classes=10, tau=1 / 0.3)
    res = fit_dwn(model, ds.X_train, ds.y_train, epochs=6, batch_size=64, lr=3e-2, log=None)
    return model, ds, res


def test_trained_digits_model_is_bit_exact_at_every_level(trained_digits, tmp_path):
    from lutnet.harness.check import check_levels
    model, ds, res = trained_digits
    assert res.best_val_acc > 0.8
    assert accuracy(model, ds.X_test, ds.y_test) > 0.8
    ir = model.to_ir()
    codes = ir.quantize_input(ds.X_test)
    assert np.array_equal(ir.evaluate(codes), model.output_codes(ds.X_test))  # the framework model level
    rep = check_levels(ir, codes, levels=("ir", "onnx", "cpp", "verilog"), work_dir=tmp_path, name="dwn-digits")
    assert rep.ok, str(rep)
    # thresholds were fitted on the training split: every one is a real comparator on 8-bit codes
    thr = np.stack(ir.encoder.thresholds)
    assert thr.shape == (64, 3) and np.all(np.diff(thr, axis=1) > 0) and thr.min() >= 1 and thr.max() <= 255


def test_hls4ml_backend_converts_a_dwn_ir_to_verilog(trained_digits, tmp_path):
    from lutnet import hls_backend
    model, ds, _ = trained_digits
    ir = model.to_ir()
    codes = ir.quantize_input(ds.X_test[:200])
    hm = hls_backend.convert_ir(ir, output_dir=str(tmp_path / "v"), output="verilog")
    hm.compile()
    out = np.asarray(hm.predict(codes, codes=True)).reshape(len(codes), -1)
    assert np.array_equal(out, ir.evaluate(codes))


def test_bad_inputs_name_the_layer_and_parameter():
    with pytest.raises(LayerConfigError, match=r"Thermometer 'enc'.*thresholds of feature 0 are not strictly"):
        Thermometer(2, bits_per_feature=2, thresholds=[[3, 3], [1, 2]], name="enc")
    with pytest.raises(LayerConfigError, match=r"TableLayer 'big'.*fan_in=17.*max_address_bits=16"):
        TableLayer(40, 3, fan_in=17, name="big")
    with pytest.raises(LayerConfigError, match=r"GroupSumHead 'head'.*groups has 5 entries.*6 outputs"):
        GroupSumHead(6, 3, groups=[0, 0, 1, 1, 2])
    with pytest.raises(LayerConfigError, match=r"tau must be > 0"):
        GroupSumHead(6, 3, tau=0)
    enc = Thermometer(3, bits_per_feature=2, fit="quantile")
    with pytest.raises(LayerConfigError, match=r"not fitted"):
        enc(np.zeros((1, 3), np.float32))
    with pytest.raises(LayerConfigError, match=r"layer 0 .*in_features=5"):
        DWNNet(enc, [TableLayer(5, 4, fan_in=2)], n_classes=2)


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}), ("subnet", {"width": 4, "depth": 1})])
def test_learnable_mapping_works_for_every_lut_neuron_kind(kind, opts):
    from lutnet.export import to_ir
    from lutnet.nn import LUTLayer, LUTNet
    from lutnet.quant import SignedActQuant, UnsignedActQuant
    torch.manual_seed(0)
    model = LUTNet([
        LUTLayer(12, 8, fan_in=3, neuron=kind, input_quant=UnsignedActQuant, input_bit_width=2,
                 output_quant=UnsignedActQuant, output_bit_width=2, seed=0, mapping="learnable",
                 mapping_candidates=None if kind == "linear" else 5, **opts),
        LUTLayer(8, 3, fan_in=3, neuron=kind, output_quant=SignedActQuant, output_bit_width=3, seed=1,
                 mapping="learnable", **opts)])
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((128, 12)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 3, 128))
    opt = torch.optim.Adam(model.parameters(), lr=0.3)
    model.train()
    for _ in range(8):
        loss = torch.nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.layers[0].mapping.scores.grad is not None and model.layers[1].mapping.scores.grad.abs().sum() > 0
    ir = to_ir(model)  # eval(): the learned wiring is frozen into connectivity, the IR stays a sparse table net
    for layer, lir in zip(model.layers, ir.layers):
        m = layer.mapping
        sel = tn.distinct_argmax(m.scores.detach().numpy(), None if m.candidates is None else m.candidates.numpy())
        assert np.array_equal(layer.connectivity.numpy(), sel) and np.array_equal(lir.indices, sel)
    codes = model.input_codes(X).numpy()
    assert np.array_equal(ir.evaluate(codes), model.output_codes(X).numpy())
    with pytest.raises(LayerConfigError, match=r"LUTLayer 'x'.*mapping must be 'learnable'"):
        LUTLayer(4, 2, fan_in=2, input_quant=UnsignedActQuant, input_bit_width=2, name="x", mapping="soft")


def test_a_lut_net_with_learned_mapping_saves_frozen(tmp_path):
    from lutnet.nn import LUTLayer, LUTNet
    from lutnet.quant import SignedActQuant, UnsignedActQuant
    model = LUTNet([LUTLayer(10, 6, fan_in=3, input_quant=UnsignedActQuant, input_bit_width=2, seed=0,
                             mapping="learnable", mapping_candidates=4),
                    LUTLayer(6, 3, fan_in=2, output_quant=SignedActQuant, output_bit_width=3, seed=1)])
    X = torch.from_numpy(np.random.default_rng(0).random((64, 10)).astype(np.float32))
    with torch.no_grad():
        model.layers[0].mapping.scores.add_(torch.randn_like(model.layers[0].mapping.scores))
    model.eval()
    model.save(tmp_path / "m.pt")
    back = LUTNet.load(tmp_path / "m.pt")
    assert back.layers[0].mapping is None
    assert np.array_equal(back.layers[0].connectivity.numpy(), model.layers[0].connectivity.numpy())
    assert np.array_equal(back.output_codes(X).numpy(), model.output_codes(X).numpy())


def test_frontend_to_ir_exports_the_stages():
    from lutnet.export import to_ir
    from lutnet.frontend import frontend_of
    model = _random_net(5)
    fe = frontend_of(model)
    assert fe.name == "torch"
    ir = fe.to_ir(model, metadata={"name": "dwn"})
    assert ir.stages[0] == "encoder" and ir.stages[-2:] == ["head", "argmax"] and ir.metadata["name"] == "dwn"
    assert to_ir(model).stages == ir.stages


def test_trained_digits_model_at_the_model_icarus_and_netlist_levels(trained_digits, tmp_path):
    """The harness's framework-model level (every stage's codes: table layers, head scores, argmax),
    Icarus and the post-synthesis netlist, on the trained digits model."""
    from lutnet.harness.check import check_levels
    model, ds, _ = trained_digits
    codes = model.to_ir().quantize_input(ds.X_test[:100])
    rep = check_levels(model, codes, levels=("model", "ir", "icarus", "postsynth"), work_dir=tmp_path,
                       name="dwn-digits")
    assert rep.ok, str(rep)
    assert rep.levels == ["model", "ir", "icarus", "postsynth"]


def test_clamp_keeps_the_tables_in_the_unit_interval_and_the_bits_of_their_signs():
    layer = TableLayer(12, 5, fan_in=3, mapping="learnable", seed=1, clamp=True, mapping_grad="signed")
    with torch.no_grad():
        layer.table.mul_(4.0)  # parameters outside [-1, 1], as Adam leaves them without the clamp
    bits = layer.table_bits()
    layer.train()
    layer(torch.randint(0, 2, (3, 12)).float())
    assert float(layer.table.detach().abs().max()) <= 1.0
    assert np.array_equal(layer.table_bits(), bits)  # clipping keeps every sign: the same circuit
    assert "clamp=True" in repr(layer) and "mapping_grad='signed'" in repr(layer)


def test_mapping_grad_error_names_the_layer_and_the_choices():
    with pytest.raises(LayerConfigError, match=r"^TableLayer 'l0': mapping_grad must be one of binary, signed, "
                                               r"got 'pm1'$"):
        TableLayer(12, 5, fan_in=3, mapping="learnable", name="l0", mapping_grad="pm1")


def test_mapping_tau_error_names_the_layer():
    with pytest.raises(LayerConfigError, match=r"^TableLayer 'l0': mapping_tau must be > 0, got 0$"):
        TableLayer(12, 5, fan_in=3, mapping="learnable", name="l0", mapping_tau=0)


def test_tiebreak_error_names_the_head():
    with pytest.raises(LayerConfigError, match=r"^GroupSumHead 'head': tiebreak=4 must lie in 0\.\.3 \(class 0 has 4 "
                                               r"outputs; at least one must count in full\)$"):
        GroupSumHead(12, 3, tiebreak=4)
    assert GroupSumHead(12, 3, tiebreak=0).to_ir().weights is None
