"""QKeras LUT layers: bit-exact with their LUT IR, serialization, Brevitas parity, bad quantizers."""
import os
import subprocess
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")
qkeras = pytest.importorskip("qkeras")

from lutnet.keras import LUTLayer, UnsupportedQuantizerError, input_codes, output_codes, quant_spec, quantizer_for, to_ir  # noqa: E402
from lutnet.keras.quant import to_codes, to_values  # noqa: E402

KINDS = [("linear", {}), ("poly", {"degree": 3}), ("subnet", {"width": 8, "depth": 3, "skip": 2})]


def make_model(kind, opts, in_q="quantized_bits(3,1,alpha=1)", hidden="quantized_relu(2,0)",
               out_q="quantized_bits(4,2,alpha=1)", n_in=12, seed=0):
    return tf.keras.Sequential([
        tf.keras.Input((n_in,)),
        LUTLayer(10, 3, kind, input_quantizer=in_q, output_quantizer=hidden, seed=seed, name="l0", **opts),
        LUTLayer(8, 2, kind, input_quantizer=hidden, output_quantizer=hidden, seed=seed + 1, name="l1", **opts),
        LUTLayer(5, 3, kind, input_quantizer=hidden, output_quantizer=out_q, seed=seed + 2, name="l2", **opts),
    ])


def data(n=2000, n_in=12, seed=0):
    X = np.random.default_rng(seed).normal(0, 1.2, (n, n_in)).astype(np.float32)
    return X, X[:, :5].argmax(1)


def train_briefly(model, X, y, epochs=2):
    tf.keras.utils.set_random_seed(0)
    model.compile(tf.keras.optimizers.Adam(3e-2), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)  # a few steps: tracing would cost more than it saves
    model.fit(X, y, epochs=epochs, batch_size=256, verbose=0)
    return model


def assert_bit_exact(model, X, ir=None):
    ir = ir or to_ir(model)
    got, want = output_codes(model, X), ir.evaluate(input_codes(model, X))
    assert got.shape == want.shape
    assert int((got != want).sum()) == 0
    assert len(np.unique(want)) > 2  # not a degenerate constant network
    return ir


@pytest.mark.parametrize("kind,opts", KINDS, ids=[k for k, _ in KINDS])
def test_keras_model_matches_its_tables(kind, opts):
    X, y = data()
    model = train_briefly(make_model(kind, opts), X, y)
    model.layers[1].prune_mask.assign(np.array([[1, 0]] * 4 + [[1, 1]] * 4, np.float32))  # pruned inputs
    ir = assert_bit_exact(model, X)
    assert ir.layers[0].kind == kind and ir.layers[1].fan_in.tolist() == [1] * 4 + [2] * 4
    assert ir.layers[1].table_rows.tolist() == [4] * 4 + [16] * 4
    assert ir.metadata["framework"] == "keras"
    if kind == "linear":  # and the ONNX export of those tables, from float inputs, in onnxruntime
        pytest.importorskip("onnxruntime")
        from lutnet.onnx_export import run_onnx, to_onnx
        np.testing.assert_array_equal(run_onnx(to_onnx(ir, float_input=True), X), output_codes(model, X))
    assert ir.input_quant.to_json() == {"bits": 3, "signed": True, "scale": 0.5, "zero_point": 0.0,
                                        "code_min": -4, "code_max": 3}


QUANTIZER_SETS = [  # (input, hidden, output)
    ("quantized_bits(4,1,alpha=1)", "quantized_relu(3,0)", "quantized_bits(8,2,alpha=1)"),
    ("quantized_relu(2,1)", "quantized_bits(3,0,symmetric=1,alpha=1)", "quantized_bits(6,3,keep_negative=False)"),
    ("quantized_bits(2,0,alpha=1)", "quantized_bits(2,0,keep_negative=False)", "quantized_relu(7,1)"),
]


@pytest.mark.parametrize("quantizers", QUANTIZER_SETS, ids=["bits-relu-bits", "relu-sym-unsigned", "bits-unsigned-relu"])
@pytest.mark.parametrize("kind,opts", KINDS, ids=[k for k, _ in KINDS])
def test_random_models_bit_exact_in_graph_and_eager_mode(kind, opts, quantizers):
    """Untrained models with random batch norm; ``predict`` runs the inference path inside a
    tf.function (where Grappler rewrites float arithmetic), ``output_codes`` eagerly."""
    rng = np.random.default_rng(3)
    model = make_model(kind, opts, *quantizers)
    for layer in model.layers:
        u = layer.units
        layer.moving_mean.assign(rng.normal(0, 0.3, u))
        layer.moving_variance.assign(rng.uniform(0.01, 3, u))
        layer.gamma.assign(rng.normal(1, 0.5, u))
        layer.beta.assign(rng.normal(0, 0.3, u))
    X, _ = data(20000, seed=1)
    ir = to_ir(model)
    want = ir.evaluate(input_codes(model, X))
    graph = model.layers[-1].output_encoding.to_codes(model.predict(X, batch_size=4096, verbose=0))
    np.testing.assert_array_equal(graph, want)
    np.testing.assert_array_equal(output_codes(model, X), want)
    assert len(np.unique(want)) > 2


def test_mnist_10k_bit_exact(mnist_dir):
    from lutnet.data import load_dataset
    ds = load_dataset("mnist", path=mnist_dir)
    relu = "quantized_relu(2,0)"
    model = tf.keras.Sequential([
        tf.keras.Input((784,)),
        LUTLayer(64, 6, "linear", input_quantizer="quantized_relu(1,0)", output_quantizer=relu, seed=0),
        LUTLayer(32, 4, "poly", input_quantizer=relu, output_quantizer=relu, seed=1, degree=2),
        LUTLayer(10, 4, "linear", input_quantizer=relu, output_quantizer="quantized_bits(3,0,alpha=1)", seed=2)])
    train_briefly(model, ds.X_train[:10000], ds.y_train[:10000], epochs=1)
    assert len(ds.X_test) >= 10000
    assert_bit_exact(model, ds.X_test)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ""], ids=["keras", "h5", "savedmodel"])
def test_save_load_round_trip_keeps_tables(tmp_path, suffix):
    X, y = data(1000)
    model = train_briefly(make_model("subnet", {"width": 4, "depth": 2, "skip": 1}), X, y, epochs=1)
    model.layers[2].moving_mean.assign(np.linspace(-0.5, 0.5, 5))
    model.layers[0].prune_mask.assign(np.array([[1, 1, 0]] + [[1, 1, 1]] * 9, np.float32))
    before = to_ir(model)
    model.save(tmp_path / f"m{suffix}")
    loaded = tf.keras.models.load_model(tmp_path / f"m{suffix}")  # the layer is registered
    after = to_ir(loaded)
    for a, b in zip(before.layers, after.layers):
        for field in ("indices", "in_bits", "tables", "offsets", "out_bits", "out_signed"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert (a.kind, a.attrs) == (b.kind, b.attrs)
    np.testing.assert_array_equal(output_codes(loaded, X), output_codes(model, X))
    assert str(loaded.layers[2].output_quantizer) == str(model.layers[2].output_quantizer)


@pytest.mark.parametrize("kind,pool", [("random", None), ("balanced", None), ("random", [0, 2, 3, 5, 8, 9, 11]),
                                       ("balanced", [1, 2, 4, 6, 7, 10])])
def test_drawn_connectivity_and_input_pool_match_brevitas(kind, pool):
    from lutnet.nn import LUTLayer as BrevitasLUTLayer
    from lutnet.quant import UnsignedActQuant
    layer = LUTLayer(8, 3, input_quantizer="quantized_relu(2,0)", seed=7, connectivity=kind, input_pool=pool,
                     name="drawn")
    layer.build((None, 12))
    brevitas = BrevitasLUTLayer(12, 8, 3, input_quant=UnsignedActQuant, input_bit_width=2, seed=7,
                                connectivity=kind, input_pool=pool)
    np.testing.assert_array_equal(layer.connectivity.numpy(), brevitas.connectivity.numpy())
    if pool is not None:
        assert set(layer.connectivity.numpy().reshape(-1).tolist()) <= set(pool)
    assert LUTLayer.from_config(layer.get_config()).get_config()["connectivity"] == kind
    with pytest.raises(ValueError, match=r"LUTLayer 'p': input_pool has 2 inputs but fan_in=3"):
        LUTLayer(2, 3, input_quantizer="quantized_relu(2,0)", input_pool=[0, 1], name="p").build((None, 12))


def test_to_ir_progress_and_device():
    from lutnet.errors import LutnetError
    model = make_model("subnet", {"width": 4, "depth": 1})
    ir = to_ir(model)
    with_bar = to_ir(model, progress=True, chunk_elems=1 << 8)  # many chunks: same tables
    for a, b in zip(ir.layers, with_bar.layers):
        np.testing.assert_array_equal(a.tables, b.tables)
    with pytest.raises(LutnetError, match=r"lutnet.keras.to_ir: device='cuda' is for PyTorch models only"):
        to_ir(model, device="cuda")


def test_connectivity_is_the_brevitas_draw_and_is_validated():
    from lutnet.nn import random_connectivity
    layer = LUTLayer(6, 3, input_quantizer="quantized_relu(2,0)", seed=11)
    layer.build((None, 9))
    np.testing.assert_array_equal(layer.connectivity.numpy(), random_connectivity(9, 6, 3, 11).numpy())
    bad = LUTLayer(2, 2, input_quantizer="quantized_relu(2,0)", connectivity=[[0, 0], [1, 2]], name="dup")
    with pytest.raises(ValueError, match="LUTLayer 'dup': a neuron lists the same input twice in connectivity"):
        bad.build((None, 4))
    with pytest.raises(ValueError, match=r"^LUTLayer 'first': input_quantizer is required \(a layer fed by another "
                                         r"LUT layer takes that layer's output_quantizer\)$"):
        LUTLayer(2, 2, name="first")
    with pytest.raises(ValueError, match="LUTLayer 'odd': unknown neuron kind 'conv'; known kinds: linear, poly, subnet"):
        LUTLayer(2, 2, "conv", input_quantizer="quantized_relu(2,0)", name="odd")
    with pytest.raises(ValueError, match=r"LUTLayer 'wide': fan_in=5 is larger than in_features=4"):
        LUTLayer(2, 5, input_quantizer="quantized_relu(2,0)", name="wide").build((None, 4))


def test_quantizer_code_mapping_equals_qkeras():
    """The explicit code mapping gives QKeras' values wherever QKeras' straight-through form is exact."""
    x = np.concatenate([np.linspace(-3, 3, 20001), np.arange(-24, 25) / 8.0]).astype(np.float32)
    for q in [qkeras.quantized_bits(4, 1, alpha=1), qkeras.quantized_bits(3, 0, symmetric=1, alpha=1),
              qkeras.quantized_bits(5, 2, keep_negative=False), qkeras.quantized_bits(6, 0),
              qkeras.quantized_relu(3, 1), qkeras.quantized_relu(2, 0), qkeras.quantized_relu(4, 2)]:
        spec = quant_spec(q, "test")
        ours = to_values(to_codes(tf.constant(x), spec), spec).numpy()
        np.testing.assert_array_equal(ours, q(tf.constant(x)).numpy(), err_msg=str(q))
        np.testing.assert_array_equal(spec.to_values(spec.to_codes(x)), ours, err_msg=str(q))
        assert quant_spec(quantizer_for(spec), "test") == spec
    assert quant_spec(qkeras.quantized_bits(3, 0, symmetric=1, alpha=1), "t").code_min == -3


SUPPORTED_MSG = ("Supported quantizers: quantized_bits(bits, integer, symmetric=0|1, keep_negative=True|False, "
                 "alpha=None|1) with bits - keep_negative >= 1, and quantized_relu(bits, integer) with "
                 "use_sigmoid=0 and negative_slope=0; both with use_stochastic_rounding=False and qnoise_factor=1")


@pytest.mark.parametrize("quantizer,reason", [
    ("quantized_bits(4,0,alpha='auto')", "alpha='auto' gives a data-dependent scale"),
    ("quantized_bits(4,0,alpha='auto_po2')", "alpha='auto_po2' gives a data-dependent scale"),
    ("quantized_bits(4,0,alpha=0.3)", "alpha=0.3 is a float scale that a power-of-two fixed-point code cannot represent"),
    ("quantized_bits(1,0)", "a 1-bit signed quantized_bits is a sign function, not a uniform code"),
    ("quantized_relu(3,0,negative_slope=0.25)", "negative_slope=0.25 is not a uniform code"),
    ("quantized_relu(3,0,use_stochastic_rounding=True)", "use_stochastic_rounding makes codes random"),
])
def test_unsupported_quantizer_is_a_clear_error(quantizer, reason):
    q = qkeras.quantizers.get_quantizer(quantizer)
    with pytest.raises(UnsupportedQuantizerError) as e:
        LUTLayer(4, 2, input_quantizer="quantized_relu(2,0)", output_quantizer=quantizer, name="dense_lut")
    assert str(e.value) == f"LUTLayer 'dense_lut' output_quantizer: {q} is not supported: {reason}. {SUPPORTED_MSG}"
    with pytest.raises(UnsupportedQuantizerError,
                       match=r"^LUTLayer 'x' input_quantizer: <function binary_tanh .*> is not a supported quantizer"):
        LUTLayer(4, 2, input_quantizer=qkeras.quantizers.binary_tanh, name="x")


def test_brevitas_and_qkeras_give_identical_tables():
    torch = pytest.importorskip("torch")
    from lutnet.export import to_ir as brevitas_to_ir
    from lutnet.keras.convert import from_brevitas
    from lutnet.nn import LUTLayer as BrevitasLUTLayer
    from lutnet.nn import LUTNet
    from lutnet.quant import SignedActFixedPoint, UnsignedActFixedPoint
    for kind, opts in KINDS:
        torch.manual_seed(0)
        net = LUTNet([
            BrevitasLUTLayer(12, 10, 3, kind, input_quant=SignedActFixedPoint, input_bit_width=3,
                             output_quant=UnsignedActFixedPoint, output_bit_width=2, seed=0, **opts),
            BrevitasLUTLayer(10, 5, 3, kind, output_quant=SignedActFixedPoint, output_bit_width=3, seed=1, **opts)])
        with torch.no_grad():
            for layer in net.layers:  # non-trivial batch norm
                layer.bn.running_mean.normal_(0, 0.3)
                layer.bn.running_var.uniform_(0.2, 2.0)
                layer.bn.weight.normal_(1, 0.3)
                layer.bn.bias.normal_(0, 0.3)
            net.layers[1].input_mask[0, 1] = False
        a, b = brevitas_to_ir(net), to_ir(from_brevitas(net))
        assert a.input_quant == b.input_quant and a.output_quant == b.output_quant
        for la, lb in zip(a.layers, b.layers):
            for field in ("indices", "in_bits", "in_signed", "out_bits", "out_signed", "offsets", "tables"):
                np.testing.assert_array_equal(getattr(la, field), getattr(lb, field), err_msg=f"{kind} {field}")
            assert (la.kind, la.attrs) == (lb.kind, lb.attrs)
        assert len(np.unique(a.layers[-1].tables)) > 2


def test_float_scale_brevitas_model_has_no_qkeras_twin():
    pytest.importorskip("torch")
    from lutnet.keras.convert import from_brevitas
    from lutnet.nn import LUTLayer as BrevitasLUTLayer
    from lutnet.nn import LUTNet
    from lutnet.quant import SignedActQuant
    net = LUTNet([BrevitasLUTLayer(6, 3, 2, input_quant=SignedActQuant, input_bit_width=2)])
    with pytest.raises(UnsupportedQuantizerError, match="has no QKeras quantizer: QKeras quantizers have one "
                                                        "power-of-two scale and zero point 0"):
        from_brevitas(net)


def test_non_lut_layer_is_rejected():
    model = tf.keras.Sequential([tf.keras.Input((6,)), tf.keras.layers.Dense(6, name="dense"),
                                 LUTLayer(3, 2, input_quantizer="quantized_relu(2,0)")])
    with pytest.raises(TypeError, match="layer 'dense' is a Dense; a LUT network holds only lutnet.keras.LUTLayer"):
        to_ir(model)


def test_import_lutnet_does_not_import_tensorflow():
    code = ("import sys, lutnet, lutnet.ir, lutnet.onnx_export, lutnet.export, lutnet.nn;"
            "bad = [m for m in ('tensorflow', 'qkeras', 'keras') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
