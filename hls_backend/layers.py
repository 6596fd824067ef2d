"""hls4ml IR layers of the LUTNet backend.  They carry the LUT IR (tables made by lutnet's
extraction, never re-derived here) and declare their attributes hls4ml style.

* ``LUTQuantizer``: the network's input quantizer (a :class:`lutnet.ir.QuantSpec`); a pass folds it
  into the input layer, whose variable then carries input *codes*.
* ``LUTDense``: one layer of LUT neurons (a :class:`lutnet.ir.LayerIR`), one lookup per neuron.
* ``LUTArgmax``: the index of the first maximum output code (the predicted class).
* ``LUTDequantize``: codes -> values at the end of the graph (folded into predict()).
"""
from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute
from hls4ml.model.layers import Layer, register_layer
from hls4ml.model.types import IntegerPrecisionType

from lutnet.ir import LayerIR, QuantSpec

OptionalQuant = (QuantSpec, type(None))


def code_precision(bits, signed) -> IntegerPrecisionType:
    """The integer type holding codes of the given (per-feature) widths and signedness."""
    bits, signed = np.atleast_1d(bits), np.atleast_1d(signed)
    width = int(bits.max())
    if signed.any() and not signed.all():
        return IntegerPrecisionType(width + 1, signed=True)
    return IntegerPrecisionType(max(width, 1), signed=bool(signed.all()))


class LUTQuantizer(Layer):
    _expected_attributes = [
        Attribute('quant', value_type=QuantSpec),
        Attribute('n_in'),
    ]

    def initialize(self):
        q = self.get_attr('quant')
        self.add_output_variable([self.get_attr('n_in')], precision=code_precision(q.bits, q.signed))


class LUTDense(Layer):
    _expected_attributes = [
        Attribute('lut', value_type=LayerIR),
        Attribute('input_quant', value_type=OptionalQuant),
        Attribute('output_quant', value_type=OptionalQuant),
        Attribute('n_in'),
        Attribute('n_out'),
        Attribute('fan_in'),
        Attribute('addr_bits'),
    ]

    def initialize(self):
        lut: LayerIR = self.get_attr('lut')
        n_in = self.get_input_variable().size()
        if lut.indices.size and lut.indices.max() >= n_in:
            raise ValueError(f"LUT layer {self.name!r}: a neuron reads input {int(lut.indices.max())}, but its "
                             f"input {self.inputs[0]!r} has only {n_in} features")
        self.set_attr('n_in', int(n_in))
        self.set_attr('n_out', lut.out_features)
        self.set_attr('fan_in', int(lut.indices.shape[1]))
        self.set_attr('addr_bits', int(lut.address_bits.max()) if lut.out_features else 0)
        self.add_output_variable([lut.out_features], precision=code_precision(lut.out_bits, lut.out_signed))


class LUTArgmax(Layer):
    _expected_attributes = [Attribute('n_in')]

    def initialize(self):
        n_in = int(self.get_input_variable().size())
        self.set_attr('n_in', n_in)
        self.add_output_variable([1], precision=IntegerPrecisionType(max(1, int(n_in - 1).bit_length()), signed=False))


class LUTDequantize(Layer):
    """Codes -> real values (a QuantTensor's ``.value``).  The firmware keeps codes; a pass drops this
    node when it ends the graph and predict() dequantizes with the last LUT layer's output_quant."""

    _expected_attributes = [Attribute('n_in')]

    def initialize(self):
        inp = self.get_input_variable()
        self.set_attr('n_in', int(inp.size()))
        self.add_output_variable(list(inp.shape), precision=inp.type.precision)


LAYERS = {'LUTQuantizer': LUTQuantizer, 'LUTDense': LUTDense, 'LUTArgmax': LUTArgmax, 'LUTDequantize': LUTDequantize}


def register_layers():
    from hls4ml.model.layers import layer_map
    for name, cls in LAYERS.items():
        if layer_map.get(name) is not cls:
            register_layer(name, cls)
