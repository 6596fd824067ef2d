"""The jet-tagging MLP in QKeras (``quantized_bits(6,0,alpha=1)`` weights and biases,
``quantized_relu(6)`` activations, logits out), trained with Keras ``fit`` and converted with
hls4ml (Vitis backend, ``io_parallel``).  Bit-exact when the inputs lie on the input type's grid
(:func:`lutnet.baselines.fixed_grid`); hls4ml infers the accumulator and result widths from the
quantizers (``'auto'``)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from qkeras import QActivation, QDense, quantized_bits, quantized_relu

from .common import JET_MLP_WIDTHS

INPUT_PRECISION = (16, 6)  # ap_fixed<16,6>: hls4ml's default type, enough range for standardized inputs


def qkeras_jet_mlp(n_inputs: int = 16, n_classes: int = 5, widths=JET_MLP_WIDTHS, weight_bits: int = 6,
                   act_bits: int = 6, seed: int = 0) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    wq = lambda: quantized_bits(weight_bits, 0, alpha=1)
    layers = [tf.keras.Input((n_inputs,), name="x")]
    for i, units in enumerate(widths):
        layers += [QDense(units, kernel_quantizer=wq(), bias_quantizer=wq(), name=f"fc{i + 1}"),
                   QActivation(quantized_relu(act_bits), name=f"relu{i + 1}")]
    layers.append(QDense(n_classes, kernel_quantizer=wq(), bias_quantizer=wq(), name="output"))
    return tf.keras.Sequential(layers, name="jet_mlp_qkeras")


def train(model, X, y, epochs: int = 5, batch_size: int = 256, lr: float = 3e-3, seed: int = 0):
    tf.keras.utils.set_random_seed(seed)
    model.compile(tf.keras.optimizers.Adam(lr), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def to_hls(model, output_dir, backend: str = "Vitis", input_precision=INPUT_PRECISION, compile: bool = True):
    """The hls4ml ModelGraph of ``model`` (compiled for C simulation unless ``compile=False``)."""
    import hls4ml
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)
    cfg["LayerName"][model.layers[0].input.name.split(":")[0]]["Precision"]["result"] = \
        "fixed<{},{}>".format(*input_precision)
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, backend=backend,
                                                     output_dir=str(output_dir), io_type="io_parallel")
    if compile:
        hls.compile()
    return hls


def predict(model, X) -> np.ndarray:
    return model.predict(np.asarray(X, np.float32), batch_size=4096, verbose=0)
