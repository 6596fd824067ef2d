"""Learned connectivity (lutnet.pruning.learn), Keras/QKeras frontend: the same core freeze path."""
import numpy as np
import pytest

pytest.importorskip("qkeras")

import tensorflow as tf  # noqa: E402

from lutnet.config import ModelConfig, NeuronConfig, TrainConfig  # noqa: E402
from lutnet.keras.builder import build_keras_model  # noqa: E402
from lutnet.keras.export import to_ir  # noqa: E402
from lutnet.keras.layers import input_codes, output_codes  # noqa: E402
from lutnet.pruning.keras_prune import KerasLutTarget, learn_keras_lut_connectivity  # noqa: E402

F = 3


def data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 12)).astype(np.float32)
    return X, (X[:, :3] * np.arange(1, 4)).argmax(1)


def test_keras_knapsack_learned_connectivity_fan_in_budget_bit_exact_and_reload(tmp_path):
    X, y = data()
    cfg = ModelConfig(layers=[16, 8, 3], fan_in=8, input_signed=True, neuron=NeuronConfig(kind="poly", degree=1))
    model = build_keras_model(cfg, 12)
    target = KerasLutTarget(model)
    with target.group_lasso(1e-2):  # the penalty is a model loss while active, scaled to 0 afterwards
        assert len(model.losses) == 1 and float(model.losses[0]) > 0
    assert float(model.losses[0]) == 0.0
    budget = 40.0
    result = learn_keras_lut_connectivity(model, X, y, F, steps=1, budget=budget,
                                          finetune=TrainConfig(epochs=1, batch_size=64))
    new = result.model
    for layer in new.layers:
        assert layer.fan_in == F and tuple(layer.connectivity.shape) == (layer.units, F)
        assert all(len(set(r)) == F for r in layer.connectivity.numpy().tolist())
    ir = to_ir(new)
    assert ir.lut_cost() == result.lut_cost <= budget
    assert all(int((L.indices >= 0).sum(1).max()) <= F for L in ir.layers)
    assert np.array_equal(ir.evaluate(input_codes(new, X)), output_codes(new, X))
    new.save(tmp_path / "m.keras")
    again = tf.keras.models.load_model(tmp_path / "m.keras")
    assert np.array_equal(output_codes(again, X), output_codes(new, X))
    assert all(np.array_equal(a.connectivity.numpy(), b.connectivity.numpy()) for a, b in zip(new.layers, again.layers))
