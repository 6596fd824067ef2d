from hls4ml.model.layers import Input
from hls4ml.model.optimizer import OptimizerPass

from ..layers import LUTQuantizer, LUTQuantSpec, code_precision


def set_input_quant(model, input_node, quant, where):
    """Make ``input_node``'s variable carry the codes of ``quant``."""
    if input_node.get_attr('lut_quant') is not None:
        raise ValueError(f"{where}: the network input {input_node.name!r} is already quantized by another "
                         f"quantizer; a LUT network has exactly one input quantizer")
    input_node.set_attr('lut_quant', LUTQuantSpec.of(quant))
    input_node.get_output_variable().type.precision = code_precision(quant.bits, quant.signed)


class FoldInputQuantizer(OptimizerPass):
    """A ``LUTQuantizer`` right after the input: the input variable carries its codes instead."""

    def match(self, node):
        return isinstance(node, LUTQuantizer) and isinstance(node.get_input_node(), Input)

    def transform(self, model, node):
        set_input_quant(model, node.get_input_node(), node.get_attr('quant'), f"quantizer {node.name!r}")
        model.remove_node(node)
        return True
