"""hls4ml IR layers of the LUTNet backend.  They carry the LUT IR (tables made by lutnet's
extraction, never re-derived here) and declare their attributes hls4ml style.

* ``LUTQuantizer``: the network's input quantizer (a :class:`lutnet.ir.QuantSpec`); a pass folds it
  into the input layer, whose variable then carries input *codes*.
* ``LUTDense``: one layer of LUT neurons (a :class:`lutnet.ir.LayerIR`), one lookup per neuron.
* ``LUTThermometer``: the IR's thermometer encoder (a :class:`lutnet.ir.ThermometerEncoder`): raw
  input codes -> one bit per threshold.
* ``LUTGroupSum``: the IR's GroupSum head (a :class:`lutnet.ir.GroupSum`): per class, the sum of its
  outputs' codes.
* ``LUTArgmax``: the index of the first maximum output code (the predicted class).
* ``LUTDequantize``: codes -> values at the end of the graph (folded into predict()).
"""
from __future__ import annotations

import json

import numpy as np
from hls4ml.model.attributes import Attribute
from hls4ml.model.layers import Layer, register_layer
from hls4ml.model.types import IntegerPrecisionType, Serializable

from lutnet.ir import GroupSum, LayerIR, QuantSpec, ThermometerEncoder

OptionalQuant = (QuantSpec, type(None))


# ---------------------------------------------------------------- hls4ml save/load (ModelGraph.save)
class LUTQuantSpec(QuantSpec, Serializable):
    """A :class:`lutnet.ir.QuantSpec` that hls4ml's ``ModelGraph.save`` / ``load_saved_model`` can
    store (hls4ml serializes attributes that are ``Serializable``)."""

    def serialize_state(self):
        return self.to_json()

    @classmethod
    def deserialize(cls, state):
        return cls(**state)

    @classmethod
    def of(cls, q):
        return q if q is None or isinstance(q, cls) else cls(**q.to_json())


class LayerIRState(Serializable):
    """Save/load of a LUT layer's :class:`lutnet.ir.LayerIR` (its arrays become .npy files in the .fml)."""

    ARRAYS = ('indices', 'in_bits', 'in_signed', 'out_bits', 'out_signed', 'tables', 'offsets')

    @classmethod
    def state_of(cls, lut: LayerIR) -> dict:
        state = {k: np.array(getattr(lut, k)) for k in cls.ARRAYS}
        state.update(name=lut.name, kind=lut.kind, attrs=json.loads(json.dumps(lut.attrs)))
        return {'class_name': f'{cls.__module__}.{cls.__qualname__}', 'state': state}

    @classmethod
    def deserialize(cls, state):
        return LayerIR(state['name'], *(np.asarray(state[k]) for k in cls.ARRAYS), kind=state.get('kind', ''),
                       attrs=state.get('attrs', {}))


def serial_quant(node, *names):
    for name in names:
        node.set_attr(name, LUTQuantSpec.of(node.get_attr(name)))


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
        serial_quant(self, 'quant')
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

    def __init__(self, *args, **kwargs):
        # hls4ml.model.graph is still initializing when the plugin loads; every graph of this backend
        # holds a LUTDense, so route ModelGraph.trace to the backend here (once).
        import sys

        from .hooks import install_trace
        install_trace(sys.modules['hls4ml.model.graph'])
        super().__init__(*args, **kwargs)

    def serialize_state(self):
        state = super().serialize_state()
        state['attributes']['lut'] = LayerIRState.state_of(self.get_attr('lut'))
        return state

    def initialize(self):
        serial_quant(self, 'input_quant', 'output_quant')
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


class StageState(Serializable):
    """Save/load (hls4ml ``ModelGraph.save``) of an encoder or head stage."""

    @staticmethod
    def state_of(stage) -> dict:
        if isinstance(stage, ThermometerEncoder):
            state = {'kind': stage.kind, 'counts': stage.counts, 'thresholds': stage.flat()[1]}
        else:
            state = {'kind': stage.kind, 'groups': np.array(stage.groups)}
            if stage.weights is not None:
                state['weights'] = np.array(stage.weights)
        return {'class_name': f'{StageState.__module__}.{StageState.__qualname__}', 'state': state}

    @classmethod
    def deserialize(cls, state):
        if 'groups' in state:
            w = state.get('weights')
            return GroupSum(np.asarray(state['groups']), state.get('kind', 'groupsum'),
                            None if w is None else np.asarray(w))
        bounds = np.concatenate([[0], np.cumsum(np.asarray(state['counts'], np.int64))])
        thr = np.asarray(state['thresholds'], np.int64)
        return ThermometerEncoder([thr[a:b] for a, b in zip(bounds[:-1], bounds[1:])], state.get('kind', 'thermometer'))


class LUTThermometer(Layer):
    """Raw input codes -> thermometer bits (``encoder``: a :class:`lutnet.ir.ThermometerEncoder`)."""

    _expected_attributes = [
        Attribute('encoder', value_type=ThermometerEncoder),
        Attribute('input_quant', value_type=OptionalQuant),
        Attribute('n_in'),
        Attribute('n_out'),
    ]

    def serialize_state(self):
        state = super().serialize_state()
        state['attributes']['encoder'] = StageState.state_of(self.get_attr('encoder'))
        return state

    def initialize(self):
        serial_quant(self, 'input_quant')
        enc: ThermometerEncoder = self.get_attr('encoder')
        n_in = int(self.get_input_variable().size())
        enc.validate(n_in)
        self.set_attr('n_in', n_in)
        self.set_attr('n_out', enc.n_outputs)
        self.add_output_variable([enc.n_outputs], precision=IntegerPrecisionType(1, signed=False))


class LUTGroupSum(Layer):
    """Class scores = per-class sums of the previous layer's codes (``head``: a :class:`lutnet.ir.GroupSum`;
    ``output_quant``: the scores' quantizer)."""

    _expected_attributes = [
        Attribute('head', value_type=GroupSum),
        Attribute('output_quant', value_type=OptionalQuant),
        Attribute('n_in'),
        Attribute('n_out'),
    ]

    def serialize_state(self):
        state = super().serialize_state()
        state['attributes']['head'] = StageState.state_of(self.get_attr('head'))
        return state

    def initialize(self):
        serial_quant(self, 'output_quant')
        head: GroupSum = self.get_attr('head')
        n_in = int(self.get_input_variable().size())
        head.validate(n_in)
        self.set_attr('n_in', n_in)
        self.set_attr('n_out', head.n_classes)
        q = self.get_attr('output_quant')
        if q is not None:
            precision = IntegerPrecisionType(q.bits, signed=q.signed)
        else:  # the widest encoding of the inputs' code type
            p = self.get_input_variable().type.precision
            ob, osg = np.full(n_in, p.width), np.full(n_in, p.signed)
            b, sg = head.score_encoding(ob, osg)
            precision = IntegerPrecisionType(b, signed=sg)
        self.add_output_variable([head.n_classes], precision=precision)


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


LAYERS = {'LUTQuantizer': LUTQuantizer, 'LUTDense': LUTDense, 'LUTThermometer': LUTThermometer,
          'LUTGroupSum': LUTGroupSum, 'LUTArgmax': LUTArgmax, 'LUTDequantize': LUTDequantize}


def register_layers():
    from hls4ml.model.layers import layer_map
    for name, cls in LAYERS.items():
        if layer_map.get(name) is not cls:
            register_layer(name, cls)
