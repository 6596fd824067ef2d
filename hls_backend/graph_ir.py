"""The LUT IR of an hls4ml graph built by this backend (the layers' own LayerIR objects and stages)."""
from __future__ import annotations

from hls4ml.model.layers import Input

from lutnet.errors import IRFormatError
from lutnet.ir import NetworkIR

from .layers import LUTArgmax, LUTDense, LUTGroupSum, LUTQuantizer, LUTThermometer

SUPPORTED = (Input, LUTThermometer, LUTDense, LUTGroupSum, LUTArgmax)


def _describe(node):
    if isinstance(node, LUTQuantizer):
        return f"{node.name!r} (a quantizer that is not the network's input quantizer)"
    return f"{node.name!r} ({node.class_name})"


def _unsupported_error(bad):
    listed = '; '.join(_describe(n) for n in bad)
    return ValueError(
        f"the LUTNet backend cannot implement {len(bad)} layer(s): {listed}. It implements an input "
        f"quantizer, LUT layers and an optional final argmax; ordinary (quantized) dense, convolution and "
        f"activation layers must be trained as LUT layers (lutnet.nn.LUTLayer) or left out of the model")


def lut_stages(model) -> dict:
    """The graph's chain ``{"input", "encoder", "luts", "head", "argmax"}`` (encoder/head/argmax None
    when absent): input -> optional thermometer encoder -> LUT layers -> optional GroupSum head ->
    optional argmax; raises naming every layer the backend cannot implement."""
    nodes = list(model.get_layers())
    bad = [n for n in nodes if not isinstance(n, SUPPORTED) or isinstance(n, LUTQuantizer)]
    inputs = [n for n in nodes if isinstance(n, Input)]
    if len(inputs) != 1:
        bad += inputs[1:]
    if bad:
        raise _unsupported_error(bad)
    luts = [n for n in nodes if isinstance(n, LUTDense)]
    one = lambda cls: [n for n in nodes if isinstance(n, cls)]
    encoder, head, argmax = one(LUTThermometer), one(LUTGroupSum), one(LUTArgmax)
    if not luts:
        raise ValueError("the model has no LUT layers: the LUTNet backend needs at least one lutnet LUT layer")
    chain = [inputs[0]] + encoder + luts + head + argmax
    if len(argmax) > 1 or len(encoder) > 1 or len(head) > 1 or nodes != chain:
        raise ValueError("the LUTNet backend needs a chain: input -> optional thermometer encoder -> LUT layers -> "
                         "optional GroupSum head -> optional argmax; got "
                         + ' -> '.join(f"{n.name} ({n.class_name})" for n in nodes))
    for prev, node in zip(chain, chain[1:]):
        if node.inputs[0] != prev.outputs[0]:
            raise ValueError(f"layer {node.name!r} reads {node.inputs[0]!r}, not the previous layer {prev.name!r}: "
                             f"the LUTNet backend only handles a chain of layers")
    first = lambda v: v[0] if v else None
    return {'input': inputs[0], 'encoder': first(encoder), 'luts': luts, 'head': first(head), 'argmax': first(argmax)}


def lut_structure(model):
    """(input node, [LUTDense nodes in order], argmax node or None); raises naming every layer the
    backend cannot implement (see :func:`lut_stages` for the encoder and head)."""
    st = lut_stages(model)
    return st['input'], st['luts'], st['argmax']


def stage_nodes(model) -> list:
    """Every node after the input, in chain order (encoder, LUT layers, head, argmax)."""
    st = lut_stages(model)
    return [n for n in [st['encoder'], *st['luts'], st['head'], st['argmax']] if n is not None]


def network_ir(model) -> NetworkIR:
    st = lut_stages(model)
    inp, luts = st['input'], st['luts']
    quant = inp.get_attr('lut_quant')
    if quant is None:
        raise ValueError(f"the network input {inp.name!r} has no input quantizer: give the first LUT layer an "
                         f"input_quant, or put a quantizer (e.g. brevitas QuantIdentity) before it")
    last = st['head'] if st['head'] is not None else luts[-1]
    out_quant = last.get_attr('output_quant')
    if out_quant is None:
        what = 'GroupSum head' if st['head'] is not None else 'last LUT layer'
        raise ValueError(f"the {what} {last.name!r} has no output quantizer spec (output_quant)")
    n_inputs = int(inp.get_output_variable().size())
    ir = NetworkIR(quant, n_inputs, [n.get_attr('lut') for n in luts], out_quant, {},
                   st['encoder'].get_attr('encoder') if st['encoder'] is not None else None,
                   st['head'].get_attr('head') if st['head'] is not None else None,
                   st['argmax'] is not None)
    try:
        return ir.validate()
    except IRFormatError as e:
        raise IRFormatError(f"LUT layers {[n.name for n in luts]}: {e}") from None
