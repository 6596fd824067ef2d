"""Bit-exactness on real data: trained digits models and >= 10,000 MNIST samples, every neuron kind."""
import numpy as np
import pytest

from lutnet.builder import build_model
from lutnet.config import ModelConfig, NeuronConfig, TrainConfig
from lutnet.data import load_dataset
from lutnet.export import to_ir
from lutnet.train import fit
from lutnet.verify import verify

NEURONS = [NeuronConfig("linear"), NeuronConfig("poly", degree=2), NeuronConfig("subnet", width=8, depth=2, skip=1)]


@pytest.mark.parametrize("neuron", NEURONS, ids=lambda n: n.kind)
def test_trained_digits_model_bit_exact(neuron):
    ds = load_dataset("digits")
    cfg = ModelConfig(layers=[48, 10], fan_in=4, input_bits=2, hidden_bits=2, output_bits=3, neuron=neuron)
    model = build_model(cfg, ds.n_features)
    result = fit(model, ds.X_train, ds.y_train, TrainConfig(epochs=8, batch_size=128, lr=0.02), progress=False)
    assert result.best_val_acc > 0.5, result.history  # it learned something: the tables are not trivial
    X = np.concatenate([ds.X_train, ds.X_test])
    report = verify(model, to_ir(model), X, np.concatenate([ds.y_train, ds.y_test]))
    assert report.ok, str(report)
    assert report.model_accuracy == report.ir_accuracy


@pytest.mark.parametrize("neuron", NEURONS, ids=lambda n: n.kind)
def test_mnist_10k_bit_exact(mnist_dir, neuron):
    ds = load_dataset("mnist", path=mnist_dir)
    cfg = ModelConfig(layers=[64, 10], fan_in=5, input_fan_in=6, input_bits=1, hidden_bits=2, output_bits=3,
                      neuron=neuron)
    model = build_model(cfg, ds.n_features)
    fit(model, ds.X_train[:3000], ds.y_train[:3000], TrainConfig(epochs=1, batch_size=100, lr=0.02), progress=False)
    report = verify(model, to_ir(model), ds.X_test, ds.y_test, batch_size=3333)
    assert report.samples == 10_000
    assert report.ok, str(report)
