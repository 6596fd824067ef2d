"""LUT IR -> hls4ml layer list -> ModelGraph (the path every frontend ends in)."""
from __future__ import annotations


def lut_dense_dict(name, inputs, lut, input_quant=None, output_quant=None) -> dict:
    """The hls4ml layer dict of one LUT layer (every frontend's handler returns this): ``lut`` is the
    layer's ``lutnet.ir.LayerIR`` as lutnet's extraction made it; ``input_quant`` only for a first
    layer that quantizes the network input; ``output_quant`` dequantizes its codes."""
    layer = {'class_name': 'LUTDense', 'name': name, 'lut': lut, 'input_quant': input_quant,
             'output_quant': output_quant}
    if inputs is not None:  # None: the previous layer (hls4ml's Keras frontend, Sequential models)
        layer['inputs'] = list(inputs)
    return layer


def ir_layer_list(ir, argmax=False, input_name='x'):
    """The layer list of ``ir``: input, the IR's stages (thermometer encoder, LUT layers, GroupSum head,
    argmax) in order; ``argmax=True`` adds an argmax to an IR without one."""
    layers = [{'class_name': 'InputLayer', 'name': input_name, 'input_shape': [ir.n_inputs]}]
    prev = input_name
    if ir.encoder is not None:
        layers.append({'class_name': 'LUTThermometer', 'name': 'encoder', 'inputs': [prev], 'encoder': ir.encoder,
                       'input_quant': ir.input_quant})
        prev = 'encoder'
    for i, L in enumerate(ir.layers):
        name = f'lut{i}'
        last = i == len(ir.layers) - 1 and ir.head is None
        layers.append(lut_dense_dict(name, [prev], L, ir.input_quant if i == 0 and ir.encoder is None else None,
                                     ir.output_quant if last else None))
        prev = name
    if ir.head is not None:
        layers.append({'class_name': 'LUTGroupSum', 'name': 'head', 'inputs': [prev], 'head': ir.head,
                       'output_quant': ir.output_quant})
        prev = 'head'
    if argmax or ir.argmax:
        layers.append({'class_name': 'LUTArgmax', 'name': 'argmax', 'inputs': [prev]})
    return layers


def convert_ir(ir, output_dir, project_name, output, argmax, **kwargs):
    import hls4ml
    from hls4ml.model import ModelGraph

    from .. import NAME
    ir.validate()
    config = hls4ml.utils.config.create_config(output_dir=str(output_dir), project_name=project_name, backend=NAME,
                                               output=output, **kwargs)
    config['HLSConfig'] = {'Model': {'Precision': 'fixed<16,6>', 'ReuseFactor': 1}}
    layers = ir_layer_list(ir, argmax)
    return ModelGraph.from_layer_list(config, layers, inputs=[layers[0]['name']], outputs=[layers[-1]['name']])
