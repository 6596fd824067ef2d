"""DWN-style networks in Keras (lutnet.keras.dwn): the same gradients and outputs as the PyTorch
frontend (one core rule), the model against its IR bit for bit, and the emitted C++ / Verilog."""
import numpy as np
import pytest
import tensorflow as tf
import torch

from lutnet.errors import LayerConfigError
from lutnet.keras import dwn as kd
from lutnet.nn import dwn as td


def _pair(seed=0, candidates=6, widths=(16, 8), **opts):
    enc_t = td.Thermometer(8, bits_per_feature=3, fit="uniform", input_bits=6, scale=1 / 63)
    enc_k = kd.Thermometer(8, bits_per_feature=3, fit="uniform", input_bits=6, scale=1 / 63)
    lt, lk, src = [], [], enc_t.out_features
    for i, w in enumerate(widths):
        mp = "learnable" if i == 0 else "random"
        lt.append(td.TableLayer(src, w, fan_in=4, mapping=mp, seed=seed + i, name=f"layer{i}",
                                mapping_candidates=candidates, **opts))
        lk.append(kd.TableLayer(w, fan_in=4, mapping=mp, seed=seed + i, name=f"layer{i}", mapping_candidates=candidates,
                                **opts))
        src = w
    mt = td.DWNNet(enc_t, lt, n_classes=4, tau=2.0)
    mk = kd.DWNModel(enc_k, lk, n_classes=4, tau=2.0)
    for a, b in zip(mt.layers, mk.tables):  # same parameters and wiring
        b.table.assign(a.table.detach().numpy())
        b.connectivity.assign(a.connectivity.numpy().astype(np.int32))
        if a.mapping is not None:
            b.scores.assign(a.mapping.scores.detach().numpy())
            if candidates is None:
                assert b.candidates is None and a.mapping.candidates is None
            else:  # the same core draw
                assert np.array_equal(b.candidates.numpy(), a.mapping.candidates.numpy())
    return mt, mk


@pytest.mark.parametrize("opts", [{}, {"clamp": True, "mapping_grad": "signed"}], ids=["default", "dwn-rules"])
@pytest.mark.parametrize("candidates", [6, None])
def test_keras_gradients_and_outputs_equal_the_pytorch_ones(candidates, opts):
    mt, mk = _pair(candidates=candidates, **opts)
    if opts.get("clamp"):  # parameters outside [-1, 1]: both frontends clip them before the step's forward
        for a, b in zip(mt.layers, mk.tables):
            with torch.no_grad():
                a.table.mul_(3.0)
            b.table.assign(a.table.detach().numpy())
    rng = np.random.default_rng(0)
    X = rng.random((32, 8)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    mt.train()
    lt = torch.nn.functional.cross_entropy(mt(X), torch.from_numpy(y))
    lt.backward()
    with tf.GradientTape() as tape:
        logits = mk(X, training=True)
        lk = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
    params = [mk.tables[0].table, mk.tables[0].scores, mk.tables[1].table]
    gk = tape.gradient(lk, params)
    gt = [mt.layers[0].table.grad, mt.layers[0].mapping.scores.grad, mt.layers[1].table.grad]
    assert float(lk) == pytest.approx(float(lt.detach()), rel=1e-6)
    for a, b in zip(gt, gk):
        assert np.allclose(a.numpy(), np.asarray(b), atol=1e-6)
    if opts.get("clamp"):
        for a, b in zip(mt.layers, mk.tables):
            assert np.array_equal(a.table.detach().numpy(), b.table.numpy())
            assert float(np.abs(b.table.numpy()).max()) <= 1.0
    X2 = rng.random((300, 8)).astype(np.float32)
    assert np.array_equal(mt.output_codes(X2), mk.output_codes(X2))
    assert np.array_equal(mt.to_ir().evaluate(mt.input_codes(X2)), mk.output_codes(X2))


@pytest.fixture(scope="module")
def trained_keras_digits():
    from lutnet.data import load_dataset
    ds = load_dataset("digits")
    enc = kd.Thermometer(64, bits_per_feature=3, fit="quantile", input_bits=8, scale=1 / 255)
    model = kd.DWNModel(enc, [kd.TableLayer(300, 6, mapping="learnable", mapping_candidates=16, seed=1, name="layer0"),
                              kd.TableLayer(100, 6, seed=2, name="layer1")], n_classes=10, tau=1 / 0.3)
    res = kd.fit_dwn(model, ds.X_train, ds.y_train, epochs=6, batch_size=64, lr=3e-2, log=None)
    return model, ds, res


def test_trained_keras_digits_model_is_bit_exact_at_every_level(trained_keras_digits, tmp_path):
    from lutnet.harness.check import check_levels
    model, ds, res = trained_keras_digits
    assert res.best_val_acc > 0.7
    ir = model.to_ir()
    codes = ir.quantize_input(ds.X_test)
    assert np.array_equal(ir.evaluate(codes), model.output_codes(ds.X_test))
    rep = check_levels(ir, codes, levels=("ir", "onnx", "cpp", "verilog"), work_dir=tmp_path, name="dwn-keras")
    assert rep.ok, str(rep)


def test_keras_and_pytorch_thermometers_share_one_fit():
    """One encoder class body (lutnet.core.table_neuron.ThermometerBase): the same thresholds, bits and
    IR encoder in both frameworks, quantile fit with cheap (``threshold_bits``) comparators included."""
    X = np.random.default_rng(0).random((200, 12)).astype(np.float32)
    for opts in ({"fit": "quantile"}, {"fit": "quantile", "threshold_bits": 2}, {"fit": "uniform"}):
        t = td.Thermometer(12, bits_per_feature=3, input_bits=8, scale=1 / 255, **opts).fit(X)
        k = kd.Thermometer(12, bits_per_feature=3, input_bits=8, scale=1 / 255, **opts).fit(X)
        assert np.array_equal(t.thresholds.numpy(), k.thresholds)
        assert np.array_equal(t(X).numpy(), k(X).numpy())
        assert np.array_equal(np.stack(t.to_ir().thresholds), np.stack(k.to_ir().thresholds))
        if "threshold_bits" in opts:  # thresholds among 64, 128, 192: comparators on the top 2 bits
            assert np.all(k.thresholds % 64 == 0)
    with pytest.raises(LayerConfigError, match=r"Thermometer 'encoder': thresholds are not fitted"):
        kd.Thermometer(4, bits_per_feature=2)(np.zeros((1, 4), np.float32))
    with pytest.raises(LayerConfigError, match=r"Thermometer 'enc': threshold_bits=9 must lie in 1..8"):
        kd.Thermometer(4, bits_per_feature=2, threshold_bits=9, name="enc").fit(np.zeros((3, 4), np.float32))


def test_keras_bad_inputs_name_the_layer_and_parameter():
    with pytest.raises(LayerConfigError, match=r"Thermometer 'enc'.*not strictly increasing"):
        kd.Thermometer(2, bits_per_feature=2, thresholds=[[1, 2], [5, 4]], name="enc")
    with pytest.raises(LayerConfigError, match=r"TableLayer 'big'.*fan_in=7.*max_address_bits=6"):
        kd.TableLayer(3, fan_in=7, max_address_bits=6, name="big")
    with pytest.raises(LayerConfigError, match=r"GroupSumHead 'head'.*groups has 3 entries.*4 outputs"):
        kd.GroupSumHead(4, 2, groups=[0, 1, 1])


def test_keras_frontend_to_ir_exports_the_stages():
    from lutnet.frontend import frontend_of
    _, mk = _pair()
    fe = frontend_of(mk)
    assert fe.name == "keras"
    ir = fe.to_ir(mk)
    assert ir.stages == ["encoder", "layer0", "layer1", "head", "argmax"] and ir.metadata["framework"] == "keras"
