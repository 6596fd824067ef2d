"""QKeras tree layers (PolyLUT-Add, NeuraLUT-Assemble) over the same core arithmetic as Brevitas:
trained jointly, bit-exact at every harness level, through the hls4ml LUTNet backend."""
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")

from lutnet.config import ModelConfig, TrainConfig, from_dict  # noqa: E402
from lutnet.data import load_dataset  # noqa: E402
from lutnet.harness import check_levels, random_input_codes  # noqa: E402
from lutnet.keras import input_codes, output_codes, to_ir  # noqa: E402
from lutnet.keras.assemble import tree_layers  # noqa: E402
from lutnet.keras.builder import build_keras_model  # noqa: E402
from lutnet.keras.train import fit  # noqa: E402

TOOLS = ("g++", "verilator", "iverilog", "yosys")
HIDDEN = "quantized_relu(2,0)"


def keras_tree_model(kind):
    if kind == "add":
        layers = [*tree_layers(12, 6, 2, "poly", degree=2, add=2, input_quantizer="quantized_bits(3,1,alpha=1)",
                               output_quantizer=HIDDEN, seed=1, name="a0"),
                  *tree_layers(6, 3, 3, "subnet", width=4, depth=1, add=2, input_quantizer=HIDDEN,
                               output_quantizer="quantized_bits(4,2,alpha=1)", seed=2, name="a1")]
    else:
        layers = [*tree_layers(12, 4, 2, "subnet", width=8, depth=2, skip=1, assemble=[2, 2],
                               input_quantizer="quantized_bits(3,1,alpha=1)", output_quantizer=HIDDEN, seed=3,
                               name="t0"),
                  *tree_layers(4, 3, 2, "linear", assemble=[2], input_quantizer=HIDDEN,
                               output_quantizer="quantized_bits(4,2,alpha=1)", seed=4, name="t1")]
    model = tf.keras.Sequential([tf.keras.Input((12,), name="x"), *layers])
    rng = np.random.default_rng(0)
    for layer in model.layers:  # random affine batch norm, statistics of random inputs: codes vary
        layer.gamma.assign(rng.uniform(0.5, 1.0, layer.units).astype(np.float32))
        layer.beta.assign(rng.uniform(0.25, 0.75, layer.units).astype(np.float32))
    x = rng.normal(0, 1.2, (512, 12)).astype(np.float32)
    for _ in range(40):  # moving statistics (momentum 0.1) converge to the batch statistics
        model(x, training=True)
    return model


@pytest.mark.parametrize("kind", ["add", "assemble"])
def test_keras_tree_model_matches_brevitas_plan_and_ir(kind):
    model = keras_tree_model(kind)
    ir = to_ir(model)
    names = [l.name for l in ir.layers]
    assert names == (["a0_t0", "a0", "a1_t0", "a1"] if kind == "add" else ["t0_t0", "t0_t1", "t0", "t1_t0", "t1"])
    if kind == "add":
        assert ir.layers[1].kind == "add" and ir.layers[0].out_signed.all()
    x = np.random.default_rng(1).normal(0, 1.2, (800, 12)).astype(np.float32)
    codes = input_codes(model, x)
    want = output_codes(model, x)
    assert len(np.unique(want, axis=0)) > 10
    np.testing.assert_array_equal(ir.evaluate(codes), want)


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}")
@pytest.mark.parametrize("kind", ["add", "assemble"])
def test_keras_tree_model_bit_exact_at_every_level(tmp_path, kind):
    model = keras_tree_model(kind)
    ir = to_ir(model)
    levels = ("model", "ir", "onnx", "cpp", "verilog", "icarus", "postsynth")
    r = check_levels(model, random_input_codes(ir, 300, seed=3), levels=levels, work_dir=tmp_path)
    assert r.ok, str(r)
    assert set(r.levels) == set(levels) and not r.mismatches


TRAINED = {
    "polylut-add": [{"out_features": 32, "add": 2, "neuron": {"kind": "poly", "degree": 2}},
                    {"out_features": 10, "add": 2}],
    "assemble": [{"out_features": 32, "assemble": [2], "neuron": {"kind": "subnet", "width": 8, "depth": 1}},
                 {"out_features": 10, "assemble": [2], "assemble_bits": 3,
                  "neuron": {"kind": "subnet", "width": 8, "depth": 1}}],
}


@pytest.mark.parametrize("name", list(TRAINED))
def test_keras_trained_digits_tree_model_bit_exact(tmp_path, name):
    ds = load_dataset("digits")
    cfg = from_dict(ModelConfig, dict(layers=TRAINED[name], fan_in=3, input_bits=2, hidden_bits=2, output_bits=3),
                    "<test>")
    model = build_keras_model(cfg, ds.n_features)
    result = fit(model, ds.X_train, ds.y_train, TrainConfig(epochs=6, batch_size=128, lr=0.02), progress=False)
    assert result.best_val_acc > 0.3, result.history  # trained jointly (chance: 0.1)
    ir = to_ir(model)
    X = np.concatenate([ds.X_train, ds.X_test])
    np.testing.assert_array_equal(ir.evaluate(input_codes(model, X)), output_codes(model, X))
    r = check_levels(model, input_codes(model, ds.X_test[:200]), levels=("model", "ir", "onnx", "cpp"),
                     work_dir=tmp_path)
    assert r.ok, str(r)


@pytest.mark.parametrize("output", ["cpp", pytest.param("verilog", marks=pytest.mark.skipif(
    shutil.which("verilator") is None, reason="needs verilator"))])
def test_keras_tree_model_through_hls4ml(tmp_path, output):
    hls4ml = pytest.importorskip("hls4ml")
    model = keras_tree_model("add" if output == "cpp" else "assemble")
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="LUTNet")
    hm = hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), backend="LUTNet",
                                                    hls_config=config, output=output, cflags="-O1")
    hm.compile()
    x = np.random.default_rng(2).normal(0, 1.2, (600, 12)).astype(np.float32)
    np.testing.assert_array_equal(hm.predict(x), model(x, training=False).numpy())
