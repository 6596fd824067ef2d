from hls4ml.model.layers import Input
from hls4ml.model.optimizer import OptimizerPass

from ..layers import LUTDense, LUTThermometer
from .fold_input_quantizer import set_input_quant


class FoldLayerInputQuant(OptimizerPass):
    """A first LUT layer (or thermometer encoder) with its own input quantizer: the input variable
    carries its codes."""

    def match(self, node):
        return (isinstance(node, (LUTDense, LUTThermometer)) and node.get_attr('input_quant') is not None
                and isinstance(node.get_input_node(), Input))

    def transform(self, model, node):
        what = 'encoder' if isinstance(node, LUTThermometer) else 'LUT layer'
        set_input_quant(model, node.get_input_node(), node.get_attr('input_quant'), f"{what} {node.name!r}")
        node.set_attr('input_quant', None)
        return False
