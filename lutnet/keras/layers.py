"""QKeras LUT layers: the Keras counterpart of :class:`lutnet.nn.LUTLayer`.

Neuron k of a :class:`LUTLayer` reads the ``fan_in`` inputs in row k of its ``connectivity`` weight
(drawn ``"random"`` or ``"balanced"`` with ``seed`` from all inputs or ``input_pool``, the same draw
as the Brevitas layer: :mod:`lutnet.core.connectivity`; or given); the ``input_mask`` weight
(attribute ``prune_mask``) marks pruned inputs (read as 0).  Output:
``output_quantizer(batch_norm(neuron(input_quantizer(x)[conn])))``.  Both quantizers are QKeras
quantizers (see :mod:`lutnet.keras.quant`); every layer has an ``input_quantizer`` (a layer fed by
another LUT layer uses that layer's output quantizer, which leaves quantized values unchanged).

In training the QKeras quantizers (straight-through) and batch statistics are used.  In inference
(``training=False``: ``predict``, ``evaluate``, ``model(x)``) the layer computes on codes: the
explicit code mapping of its input quantizer, then, in numpy (``tf.numpy_function``, so that no
graph optimizer reorders float operations), the core's exact function
(:func:`lutnet.core.neurons.exact_function`: dequantization, the neuron's exact path, batch norm)
and the output code mapping.
Table extraction (:func:`lutnet.keras.export.to_ir`) calls the same :meth:`LUTLayer.codes_of`.
(The inference graph therefore calls Python: to run a trained network outside Python, export its
tables, e.g. to ONNX with :mod:`lutnet.onnx_export`.)
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core import connectivity as _conn
from ..core.connectivity import random_connectivity  # noqa: F401  (re-exported)
from ..core.inputs import check_features
from ..core.neurons import NUMPY_OPS, exact_function, make_family
from ..errors import LayerConfigError
from . import quant as Q
from .mapping import LearnableMapping, check_mapping
from .neurons import TF_OPS, initializer


@tf.keras.utils.register_keras_serializable(package="lutnet")
class LUTLayer(tf.keras.layers.Layer):
    def __init__(self, units: int, fan_in: int, neuron: str = "linear", input_quantizer=None,
                 output_quantizer="quantized_relu(2,0)", batch_norm: bool = True, bn_epsilon: float = 1e-5,
                 bn_momentum: float = 0.1, connectivity=None, seed: int = 0, degree: int = 2,
                 width: int = 16, depth: int = 2, skip: int = 0, input_pool=None, mapping=None,
                 mapping_candidates: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.where = f"LUTLayer {self.name!r}"
        _conn.check_fan_in(self.where, int(fan_in), max(int(fan_in), 1))  # fan_in >= 1; the width is checked in build
        if input_quantizer is None:
            raise LayerConfigError(f"{self.where}: input_quantizer is required (a layer fed by another LUT layer "
                                   f"takes that layer's output_quantizer)")
        self.units, self.fan_in, self.seed = int(units), int(fan_in), int(seed)
        self.batch_norm, self.bn_epsilon, self.bn_momentum = bool(batch_norm), float(bn_epsilon), float(bn_momentum)
        self.neuron_options = {"degree": int(degree), "width": int(width), "depth": int(depth), "skip": int(skip)}
        self.neuron = make_family(neuron, self.units, self.fan_in, self.where, **self.neuron_options)
        self.input_quantizer = Q.resolve(input_quantizer)
        self.output_quantizer = Q.resolve(output_quantizer)
        self.input_encoding = Q.quant_spec(self.input_quantizer, self.where + " input_quantizer")
        self.output_encoding = Q.quant_spec(self.output_quantizer, self.where + " output_quantizer")
        self._connectivity_arg = (connectivity if connectivity is None or isinstance(connectivity, str)
                                  else np.asarray(connectivity, np.int64))
        self._input_pool = None if input_pool is None else np.asarray(input_pool, np.int64)
        self.learn = check_mapping(self.where, mapping)
        self.mapping_kind = mapping
        self.mapping_candidates = None if mapping_candidates is None else int(mapping_candidates)

    # ------------------------------------------------------------ weights
    def build(self, input_shape):
        self.in_features = int(input_shape[-1])
        conn = _conn.resolve_connectivity(self.where, self._connectivity_arg, self.in_features, self.units,
                                          self.fan_in, self.seed, self._input_pool)
        shape = (self.units, self.fan_in)
        self.mapping = None
        if self.learn:  # learned wiring, starting from the drawn one; frozen into connectivity
            self.mapping = LearnableMapping(self, self.in_features, conn, self.seed, self.mapping_candidates)
            conn = self.mapping.indices()
        self.connectivity = self.add_weight("connectivity", shape, tf.int32, tf.constant_initializer(conn),
                                            trainable=False)
        self.prune_mask = self.add_weight("input_mask", shape, tf.float32, "ones", trainable=False)
        self.w = {spec.name: self.add_weight(spec.name, spec.shape, tf.float32, initializer(spec, self.seed))
                  for spec in self.neuron.params()}
        if self.batch_norm:
            u = (self.units,)
            self.gamma = self.add_weight("gamma", u, tf.float32, "ones")
            self.beta = self.add_weight("beta", u, tf.float32, "zeros")
            self.moving_mean = self.add_weight("moving_mean", u, tf.float32, "zeros", trainable=False)
            self.moving_variance = self.add_weight("moving_variance", u, tf.float32, "ones", trainable=False)
        super().build(input_shape)

    # ------------------------------------------------------------ the neuron function
    def _bn_train(self, y):
        mean = tf.reduce_mean(y, 0)
        var = tf.reduce_mean(tf.square(y - mean), 0)
        n = tf.cast(tf.shape(y)[0], tf.float32)
        unbiased = var * n / tf.maximum(n - 1.0, 1.0)
        m = self.bn_momentum
        self.moving_mean.assign(self.moving_mean * (1.0 - m) + mean * m)
        self.moving_variance.assign(self.moving_variance * (1.0 - m) + unbiased * m)
        return (y - mean) / tf.sqrt(var + self.bn_epsilon) * self.gamma + self.beta

    def numpy_params(self) -> dict:
        """The current parameter values as numpy float32 arrays, by weight name."""
        p = {name: w.numpy() for name, w in self.w.items()}
        p["input_mask"] = self.prune_mask.numpy()
        if self.batch_norm:
            p.update(gamma=self.gamma.numpy(), beta=self.beta.numpy(), moving_mean=self.moving_mean.numpy(),
                     moving_variance=self.moving_variance.numpy())
        return p

    def function_of_codes(self, codes, params: dict | None = None) -> np.ndarray:
        """Pre-quantization outputs (..., units) from input codes (..., units, F) or (..., 1, F), in
        numpy float32: dequantize, zero pruned inputs, exact neuron path, batch norm."""
        p = self.numpy_params() if params is None else params
        q = self.input_encoding
        bn = ((p["moving_mean"], p["moving_variance"], np.float32(self.bn_epsilon), p["gamma"], p["beta"])
              if self.batch_norm else None)
        return exact_function(NUMPY_OPS, self.neuron, codes, q.scale, q.zero_point, p, p["input_mask"] > 0, bn)

    def codes_of(self, codes, params: dict | None = None) -> np.ndarray:
        """Output codes (float32 integers) from input codes (..., units|1, F): the inference path."""
        return self.output_encoding.to_codes(self.function_of_codes(codes, params)).astype(np.float32)

    def call(self, inputs, training=None):
        inputs = tf.convert_to_tensor(inputs, tf.float32)
        if training:
            # forward: the quantizer; backward: identity (already-quantized codes from a previous
            # LUT layer pass gradients through, as Brevitas QuantTensors do)
            q = inputs + tf.stop_gradient(self.input_quantizer(inputs) - inputs)
            if self.mapping is not None:  # learnable mapping: the current selection, softmax gradients
                if tf.executing_eagerly():  # in a compiled train step lutnet.keras.train.fit freezes per batch
                    self.freeze()
                v = self.mapping.select(q, tf.convert_to_tensor(self.connectivity)) * self.prune_mask
            else:
                v = tf.gather(q, self.connectivity, axis=1) * self.prune_mask
            y = self.neuron.forward(TF_OPS, v, self.w, exact=False)
            return self.output_quantizer(self._bn_train(y) if self.batch_norm else y)
        if tf.executing_eagerly():
            self.freeze()
        codes = tf.gather(Q.to_codes(inputs, self.input_encoding), self.connectivity, axis=1)
        out = tf.numpy_function(self.codes_of, [codes], tf.float32, stateful=True)  # exact, in numpy
        out.set_shape(codes.shape[:-1])
        return Q.to_values(out, self.output_encoding)

    def freeze(self):
        """Write the learned mapping's current selection into ``connectivity`` (what inference and the IR read)."""
        if self.mapping is not None:
            self.connectivity.assign(self.mapping.indices().astype(np.int32))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    # ------------------------------------------------------------ serialization
    def get_config(self):
        conn = self._connectivity_arg
        conn = conn if conn is None or isinstance(conn, str) else conn.tolist()
        cfg = super().get_config()
        cfg.update(units=self.units, fan_in=self.fan_in, neuron=self.neuron.kind,
                   input_quantizer=Q.serialize(self.input_quantizer),
                   output_quantizer=Q.serialize(self.output_quantizer), batch_norm=self.batch_norm,
                   bn_epsilon=self.bn_epsilon, bn_momentum=self.bn_momentum,
                   connectivity=conn, seed=self.seed,
                   input_pool=None if self._input_pool is None else self._input_pool.tolist(),
                   mapping=self.mapping_kind, mapping_candidates=self.mapping_candidates, **self.neuron_options)
        return cfg


def custom_objects() -> dict:
    """Objects to pass to ``tf.keras.models.load_model`` (the layer is also registered as
    ``lutnet>LUTLayer``, so loading works without them)."""
    import qkeras
    return {"LUTLayer": LUTLayer, "quantized_bits": qkeras.quantized_bits, "quantized_relu": qkeras.quantized_relu}


def lut_layers(model) -> list:
    """The LUT layers of a Keras model in order; only an input layer may sit among them."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, LUTLayer):
            layers.append(layer)
        elif not isinstance(layer, tf.keras.layers.InputLayer):
            raise TypeError(f"model {model.name!r}: layer {layer.name!r} is a {type(layer).__name__}; a LUT "
                            f"network holds only lutnet.keras.LUTLayer layers")
    if not layers:
        raise ValueError(f"model {model.name!r} has no LUTLayer")
    for prev, layer in zip(layers[:-1], layers[1:]):
        if layer.input_encoding != prev.output_encoding:
            raise ValueError(f"{layer.where}: input_quantizer {layer.input_quantizer} has another encoding than "
                             f"the output_quantizer {prev.output_quantizer} of the previous layer {prev.name!r}")
    return layers


def input_codes(model, x) -> np.ndarray:
    """The codes the first layer's input quantizer gives float inputs (int64)."""
    layers = lut_layers(model)
    x, _ = check_features(x, layers[0].in_features)  # NaN, feature count: one InputError, as every entry point
    return layers[0].input_encoding.to_codes(x.astype(np.float32))


def output_codes(model, x, batch_size: int = 8192) -> np.ndarray:
    """The last LUT layer's output codes (int64) for float inputs, in inference mode (eager calls)."""
    layers = lut_layers(model)
    spec = layers[-1].output_encoding
    x = check_features(x, layers[0].in_features)[0].astype(np.float32)
    values = [model(x[i:i + batch_size], training=False).numpy() for i in range(0, len(x), batch_size)]
    return spec.to_codes(np.concatenate(values)) if values else np.zeros((0, model.output_shape[-1]), np.int64)
