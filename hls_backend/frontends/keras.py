"""Keras (QKeras) frontend: ``lutnet.keras.LUTLayer`` -> ``LUTDense`` carrying the tables that
``lutnet.keras.extract_layer`` makes (the function ``lutnet.keras.to_ir`` uses).

Each Keras LUT layer quantizes its own input (``input_quantizer``); the first one becomes the
network's input quantizer, the others must repeat the previous layer's output encoding.  A Keras
model holding LUT layers is checked before parsing: one error names every layer the LUTNet backend
cannot implement."""
from __future__ import annotations

import functools

from lutnet.errors import UnsupportedModelError

from .ir import lut_dense_dict

CLASS = 'LUTLayer'
SUPPORTED = ('InputLayer', CLASS, 'Dropout')


def parse_keras_lut_layer(keras_layer, input_names, input_shapes, data_reader):
    from lutnet.keras import LUTLayer
    from lutnet.keras.export import extract_layer
    name = keras_layer['config']['name']
    model = getattr(data_reader, 'model', None)
    if model is None:
        raise ValueError(f"LUT layer {name!r}: convert the Keras model object (convert_from_keras_model), "
                         f"not a file: the tables are extracted from the live layer")
    luts = [l for l in model.layers if isinstance(l, LUTLayer)]
    layer = model.get_layer(name)
    li = luts.index(layer)
    if li > 0 and layer.input_encoding != luts[li - 1].output_encoding:
        raise ValueError(f"LUT layer {name!r}: its input_quantizer {layer.input_quantizer} encodes codes differently "
                         f"from the output_quantizer {luts[li - 1].output_quantizer} of {luts[li - 1].name!r}")
    lut = extract_layer(layer, li)
    lut.name = name
    out = lut_dense_dict(name, input_names, lut, layer.input_encoding if li == 0 else None, layer.output_encoding)
    return out, [input_shapes[0][0], layer.units]


def check_model_arch(model_arch):
    layers = model_arch.get('config', {}).get('layers', [])
    if not any(l.get('class_name') == CLASS for l in layers):
        return
    bad = [f"{l['config'].get('name')!r} ({l['class_name']})" for l in layers if l.get('class_name') not in SUPPORTED]
    if bad:
        raise UnsupportedModelError(f"the LUTNet backend cannot implement {len(bad)} layer(s) of this model: "
                                    f"{'; '.join(bad)}. "
                         f"It implements lutnet.keras.LUTLayer layers; train the other layers as LUT layers or "
                         f"leave them out of the model")


def _wrap(parse):
    @functools.wraps(parse)
    def parse_keras_model(model_arch, reader):
        check_model_arch(model_arch)
        return parse(model_arch, reader)

    parse_keras_model._lutnet = True
    return parse_keras_model


def install(k2, converters):
    """Register the handler and the model check with hls4ml's Keras v2 frontend (``k2``:
    ``hls4ml.converters.keras_v2_to_hls``; ``converters``: the package, which re-exports
    ``parse_keras_model``)."""
    if CLASS not in k2.layer_handlers:
        k2.register_keras_v2_layer_handler(CLASS, parse_keras_lut_layer)
    if not getattr(k2.parse_keras_model, '_lutnet', False):
        k2.parse_keras_model = _wrap(k2.parse_keras_model)
    if not getattr(getattr(converters, 'parse_keras_model', None), '_lutnet', False):
        converters.parse_keras_model = k2.parse_keras_model
