"""Keras/QKeras pruning: LUT layers under a LUT budget (bit-exact through the IR) and Dense layers
under an hls4ml DSP budget.  Skipped without TensorFlow/QKeras."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")

from lutnet.keras import LUTLayer, input_codes, output_codes, to_ir  # noqa: E402
from lutnet.pruning import InfeasibleBudgetError  # noqa: E402
from lutnet.pruning.keras_prune import (  # noqa: E402
    keras_dense_usage,
    keras_finetune,
    keras_lut_cost,
    keras_lut_importance,
    keras_resource_model,
    prune_keras_dense,
    prune_keras_dense_iteratively,
    prune_keras_lut,
)
from lutnet.pruning.schedule import PolynomialSchedule  # noqa: E402


def lut_model(kind="linear", **opts):
    hidden = "quantized_relu(2,0)"
    return tf.keras.Sequential([
        tf.keras.Input((12,)),
        LUTLayer(10, 4, kind, input_quantizer="quantized_bits(2,1,alpha=1)", output_quantizer=hidden, seed=0,
                 name="l0", **opts),
        LUTLayer(8, 4, kind, input_quantizer=hidden, output_quantizer=hidden, seed=1, name="l1", **opts),
        LUTLayer(3, 4, kind, input_quantizer=hidden, output_quantizer="quantized_bits(3,2,alpha=1)", seed=2,
                 name="l2", **opts)])


def data(n=400, n_in=12, seed=0):
    X = np.random.default_rng(seed).normal(0, 1.0, (n, n_in)).astype(np.float32)
    return X, X[:, :3].argmax(1)


@pytest.mark.parametrize("kind,opts,metric", [("linear", {}, "l1"), ("poly", {"degree": 2}, "l2"),
                                              ("subnet", {"width": 4, "depth": 1}, "taylor")])
def test_keras_lut_pruning_fits_budget_and_stays_bit_exact(kind, opts, metric):
    model = lut_model(kind, **opts)
    X, y = data()
    model(X[:2])
    for layer in model.layers:  # non-trivial batch-norm statistics
        layer.moving_mean.assign(np.random.default_rng(1).uniform(-0.2, 0.2, layer.units).astype(np.float32))
    full = keras_lut_cost(model)
    assert full == to_ir(model).lut_cost() == 10 * 10 + 8 * 10 + 3 * 15
    stats = [v.numpy().copy() for v in model.non_trainable_variables]
    imp = keras_lut_importance(model, metric, (X, y))
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(stats, model.non_trainable_variables))
    assert all(i.shape == (l.units, 4) and (i >= 0).all() for i, l in zip(imp, model.layers))
    res = prune_keras_lut(model, 120, importance=imp)
    ir = to_ir(model)
    assert ir.lut_cost() == res.lut_cost == keras_lut_cost(model) <= 120
    assert np.array_equal(output_codes(model, X), ir.evaluate(input_codes(model, X)))
    with pytest.raises(InfeasibleBudgetError, match=r"^budget 8 for 'lut' is infeasible: the structures that "
                                                    r"must be kept cost at least 9; raise the budget to >= 9$"):
        prune_keras_lut(lut_model(kind, **opts), 8)


def test_keras_dense_pruning_dsp_budget_and_finetune_keeps_zeros():
    import qkeras
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        tf.keras.Input((12,)),
        qkeras.QDense(8, kernel_quantizer=qkeras.quantized_bits(12, 2, alpha=1), name="d0"),
        tf.keras.layers.ReLU(),
        qkeras.QDense(3, kernel_quantizer=qkeras.quantized_bits(12, 2, alpha=1), name="d1")])
    model.compile(tf.keras.optimizers.Adam(1e-2), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    models = {"d0": keras_resource_model(model.layers[0], reuse_factor=4),
              "d1": keras_resource_model(model.layers[2], reuse_factor=2)}
    assert models["d0"].weight_bits == 12 and (models["d0"].n_in, models["d0"].n_out) == (12, 8)
    assert keras_dense_usage(model, models)["dsp"] == 24 + 12
    X, y = data()
    res = prune_keras_dense(model, {"dsp": 14}, models)
    assert res.usage["dsp"] <= 14
    hist = prune_keras_dense_iteratively(model, X, y, {"dsp": 8}, models, PolynomialSchedule(2),
                                         keras_finetune(epochs=1, batch_size=64), metric="taylor")
    assert [h["usage"]["dsp"] <= h["budgets"]["dsp"] for h in hist] == [True, True]
    assert keras_dense_usage(model, models)["dsp"] <= 8 and 0 <= hist[-1]["val_acc"] <= 1
    k = model.layers[0].kernel.numpy().T.reshape(-1, 4)  # (out, in) patterns of RF=4 weights
    assert (k != 0).any(1).sum() <= 8 and (k == 0).all(1).sum() >= 24 - 8  # whole patterns stayed zero
