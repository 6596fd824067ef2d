"""``mapping: learnable`` with PolyLUT-Add (``add:``) and NeuraLUT-Assemble (``assemble:``) tree
layers, in both frameworks, from one config: the leaves learn their wiring (the upper tree levels
keep their fixed tree wiring), training moves it, and the trained model, its checkpoint and its IR
agree bit for bit (harness model level)."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytest.importorskip("tensorflow")

from lutnet.config import RunConfig, check_model, from_dict  # noqa: E402
from lutnet.errors import LayerConfigError  # noqa: E402

TREES = {"add": {"add": 2}, "assemble": {"assemble": [2]}}


def _cfg(mode):
    tree = TREES[mode]
    d = {"name": f"learnable-{mode}", "data": {"name": "digits"},
         "model": {"layers": [dict(out_features=24, **tree), dict(out_features=10, **tree)], "fan_in": 3,
                   "input_bits": 2, "hidden_bits": 2, "output_bits": 3, "neuron": {"kind": "linear"},
                   "mapping": "learnable", "mapping_candidates": 8},
         "train": {"epochs": 2, "batch_size": 32, "lr": 0.05}}
    return from_dict(RunConfig, d, f"{mode}.yaml")


def _conn(fe, model):
    """Each LUT level's (name, connectivity, learns) in order."""
    if fe.name == "torch":
        return [(l.name, l.connectivity.numpy().copy(), l.mapping is not None) for l in model.layers]
    from lutnet.keras import lut_layers
    return [(l.name, l.connectivity.numpy().copy(), l.mapping is not None) for l in lut_layers(model)]


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("mode", ["add", "assemble"])
def test_learnable_mapping_on_tree_leaves_trains_and_is_bit_exact(framework, mode, tmp_path):
    from lutnet.data import load_dataset
    from lutnet.frontend import frontend_of, get_frontend
    from lutnet.harness.check import check_levels
    cfg = _cfg(mode)
    ds = load_dataset("digits")
    check_model(cfg.model, ds.n_features, "t.yaml")
    fe = get_frontend(framework)
    model = fe.build(cfg.model, ds.n_features, ds.X_train)
    before = _conn(fe, model)
    assert [(n, learn) for n, _, learn in before] == [("layer0_t0", True), ("layer0", False), ("layer1_t0", True),
                                                       ("layer1", False)]
    res = fe.fit(model, ds.X_train, ds.y_train, cfg.train, progress=False)
    assert res.best_val_acc > 0.2  # 10 classes: chance is 0.1
    after = _conn(fe, model)
    assert any((a[1] != b[1]).any() for a, b in zip(before, after) if a[2])  # the leaves' wiring moved
    assert all((a[1] == b[1]).all() for a, b in zip(before, after) if not a[2])  # the tree wiring did not
    ckpt = fe.save_checkpoint(tmp_path / fe.checkpoint_name, model, cfg, ds.n_features)
    back, _, _ = frontend_of(ckpt).load_checkpoint(ckpt)
    for a, b in zip(after, _conn(fe, back)):
        np.testing.assert_array_equal(a[1], b[1])
    codes = fe.to_ir(model).quantize_input(ds.X_test)
    for m in (model, back):
        rep = check_levels(m, codes, levels=("model", "ir"), name=f"{framework}-{mode}")
        assert rep.ok, str(rep)


def test_keras_lut_layer_refuses_an_unknown_mapping():
    from lutnet.keras import LUTLayer
    with pytest.raises(LayerConfigError) as e:
        LUTLayer(4, 2, input_quantizer="quantized_relu(2,0)", mapping="soft", name="l0")
    assert str(e.value) == "LUTLayer 'l0': mapping must be 'learnable' or None (fixed connectivity), got 'soft'"


def test_keras_learnable_lut_layer_gradients_reach_the_scores_and_inputs():
    """The mapping's softmax backward in a Keras LUT layer (any neuron kind): scores and inputs get
    gradients; the forward reads the selected wiring."""
    import tensorflow as tf

    from lutnet.keras import LUTLayer
    layer = LUTLayer(5, 3, "poly", input_quantizer="quantized_relu(3,0)", mapping="learnable",
                     mapping_candidates=4, degree=2, seed=3, name="poly")
    x = tf.constant(np.random.default_rng(0).random((16, 12)).astype(np.float32) * 0.9)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * tf.range(5, dtype=tf.float32))
    gx, gs = tape.gradient(loss, [x, layer.mapping.scores])
    assert gs is not None and float(tf.reduce_sum(tf.abs(gs))) > 0
    assert gx is not None and float(tf.reduce_sum(tf.abs(gx))) > 0
    np.testing.assert_array_equal(layer.connectivity.numpy(), layer.mapping.indices())
    cand = layer.mapping.candidates.numpy()
    assert all(layer.connectivity.numpy()[o, f] in cand[o, f] for o in range(5) for f in range(3))
