"""QKeras LUT layers and their table extraction into the LUT IR.

Importing this package imports TensorFlow and QKeras; ``import lutnet`` never does.
"""
from .export import extract_layer, to_ir
from .layers import LUTLayer, custom_objects, input_codes, lut_layers, output_codes, random_connectivity
from .quant import SUPPORTED, UnsupportedQuantizerError, quant_spec, quantizer_for

__all__ = ["LUTLayer", "SUPPORTED", "UnsupportedQuantizerError", "custom_objects", "extract_layer",
           "input_codes", "lut_layers", "output_codes", "quant_spec", "quantizer_for", "random_connectivity",
           "to_ir"]
