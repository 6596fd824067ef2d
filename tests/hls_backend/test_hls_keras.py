"""QKeras LUT models (lutnet.keras.LUTLayer) through hls4ml's Keras frontend with the LUTNet backend:
bit-exact with the Keras model and the LUT IR."""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip('tensorflow')
pytest.importorskip('qkeras')

import hls4ml  # noqa: E402

from lutnet.keras import LUTLayer, input_codes, to_ir  # noqa: E402

N = 1500


def keras_model(kinds=('linear', 'poly', 'subnet')):
    hidden = 'quantized_relu(2,0)'
    model = tf.keras.Sequential([
        tf.keras.Input((12,), name='x'),
        LUTLayer(10, 3, kinds[0], input_quantizer='quantized_bits(3,1,alpha=1)', output_quantizer=hidden, seed=1,
                 name='l0'),
        LUTLayer(8, 3, kinds[1], input_quantizer=hidden, output_quantizer=hidden, seed=2, name='l1', degree=2),
        LUTLayer(5, 3, kinds[2], input_quantizer=hidden, output_quantizer='quantized_bits(4,2,alpha=1)', seed=3,
                 name='l2', width=8, depth=2),
    ])
    rng = np.random.default_rng(0)
    for layer in model.layers:  # random batch-norm affine parameters: every layer's codes vary
        layer.gamma.assign(rng.uniform(1, 5, layer.units).astype(np.float32))
        layer.beta.assign(rng.uniform(0, 1, layer.units).astype(np.float32))
    model.layers[1].prune_mask.assign(np.array([[1, 0, 1]] * 4 + [[1, 1, 1]] * 4, np.float32))
    return model


@pytest.mark.parametrize('output', ['cpp', pytest.param('verilog', marks=pytest.mark.slow)])
def test_qkeras_lut_model_matches_keras_and_ir(tmp_path, output):
    model = keras_model()
    config = hls4ml.utils.config_from_keras_model(model, granularity='name', backend='LUTNet')
    hmodel = hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / 'prj'), backend='LUTNet',
                                                        hls_config=config, output=output, cflags='-O1')
    assert [n.class_name for n in hmodel.get_layers()] == ['Input', 'LUTDense', 'LUTDense', 'LUTDense']
    hmodel.compile()
    x = np.random.default_rng(1).normal(0, 1.2, (N, 12)).astype(np.float32)
    want = model(x, training=False).numpy()
    np.testing.assert_array_equal(hmodel.predict(x), want)  # the Keras model's class scores, bit for bit
    ir = to_ir(model)
    codes = input_codes(model, x)
    assert len(np.unique(ir.evaluate(codes), axis=0)) > 10
    np.testing.assert_array_equal(hmodel.predict(codes, codes=True), ir.evaluate(codes))


def test_keras_unsupported_layers_named_in_one_error(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((8,)),
        LUTLayer(6, 2, input_quantizer='quantized_relu(2,0)', name='lut'),
        tf.keras.layers.Dense(4, name='dense'),
        tf.keras.layers.Activation('relu', name='act'),
    ])
    with pytest.raises(ValueError) as e:
        hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / 'p'), backend='LUTNet')
    msg = str(e.value)
    assert "cannot implement 2 layer(s)" in msg and "'dense' (Dense)" in msg and "'act' (Activation)" in msg


def test_qkeras_conversion_saves_loads_and_traces(tmp_path):
    """save/load_saved_model and trace() of a QKeras conversion: every layer's codes and values."""
    model = keras_model()
    hmodel = hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / 'prj'), backend='LUTNet',
                                                        hls_config={'Model': {}}, cflags='-O1')
    x = np.random.default_rng(2).normal(0, 1.2, (300, 12)).astype(np.float32)
    y, trace = hmodel.trace(x)
    assert list(trace) == list(trace.codes) == ['l0', 'l1', 'l2']
    h = x
    for layer in model.layers:
        h = layer(h, training=False)
        np.testing.assert_array_equal(trace[layer.name], h.numpy())  # the QKeras layer's outputs, bit for bit
    hmodel.save(str(tmp_path / 'm.fml'))
    loaded = hls4ml.converters.load_saved_model(str(tmp_path / 'm.fml'))
    loaded.compile()
    np.testing.assert_array_equal(loaded.predict(x), y)
