"""Keras LUT models from config files, trained with fit, checkpointed, bit-exact after training."""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")

from lutnet.config import load_config  # noqa: E402
from lutnet.core import training as core_training  # noqa: E402
from lutnet.data import load_dataset  # noqa: E402
from lutnet.errors import OutputExistsError  # noqa: E402
from lutnet.keras import input_codes, output_codes, to_ir  # noqa: E402
from lutnet.keras import train as keras_train  # noqa: E402
from lutnet.keras.builder import build_keras_model  # noqa: E402
from lutnet.keras.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def run():
    cfg = load_config("digits-s")
    cfg.train = dataclasses.replace(cfg.train, epochs=10)
    return cfg, load_dataset("digits")


def test_builder_mirrors_the_brevitas_builder(run):
    cfg, ds = run
    model = build_keras_model(cfg.model, ds.n_features)
    assert [l.units for l in model.layers] == [128, 48, 10]
    assert [str(l.output_quantizer) for l in model.layers] == ["quantized_relu(2,0)"] * 2 + ["quantized_bits(3,3,0,alpha=1)"]
    assert str(model.layers[0].input_quantizer) == "quantized_relu(2,0)"
    from lutnet.builder import build_model
    torch_model = build_model(cfg.model, ds.n_features)
    for kl, tl in zip(model.layers, torch_model.layers):
        np.testing.assert_array_equal(kl.connectivity.numpy(), tl.connectivity.numpy())
        assert kl.w["weight"].shape == tuple(tl.neuron.weight.shape)


def test_fit_validates_on_training_data_and_stays_bit_exact(run, tmp_path, monkeypatch):
    cfg, ds = run
    calls = []
    real_split = core_training.train_val_split  # the split rule both trainers share

    def spy(X, y, frac, seed):
        calls.append((len(X), frac, seed))
        return real_split(X, y, frac, seed)

    monkeypatch.setattr(core_training, "train_val_split", spy)
    model = build_keras_model(cfg.model, ds.n_features)
    logs = []
    result = keras_train.fit(model, ds.X_train, ds.y_train, cfg.train, log=logs.append)
    assert calls == [(len(ds.X_train), cfg.train.val_fraction, cfg.train.seed)]
    assert [h["epoch"] for h in result.history] == list(range(10)) and len(logs) == 10
    assert result.best_val_acc > 0.5  # 10 classes: it learned
    _, _, X_val, y_val = real_split(ds.X_train, ds.y_train, cfg.train.val_fraction, cfg.train.seed)
    assert keras_train.accuracy(model, X_val, y_val) == result.best_val_acc  # best weights restored
    ir = to_ir(model)
    np.testing.assert_array_equal(output_codes(model, ds.X_test), ir.evaluate(input_codes(model, ds.X_test)))
    assert (ir.predict(ds.X_test) == ds.y_test).mean() == keras_train.accuracy(model, ds.X_test, ds.y_test)

    path = save_checkpoint(tmp_path / "ckpt", model, cfg, ds.n_features, {"val_acc": result.best_val_acc})
    with pytest.raises(OutputExistsError, match="ckpt exists; pass overwrite=True"):
        save_checkpoint(path, model, cfg, ds.n_features)
    loaded, cfg2, metrics = load_checkpoint(path)
    assert cfg2 == cfg and metrics == {"val_acc": result.best_val_acc}
    np.testing.assert_array_equal(to_ir(loaded).layers[1].tables, ir.layers[1].tables)
