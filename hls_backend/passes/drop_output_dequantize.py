import numpy as np
from hls4ml.model.optimizer import OptimizerPass

from ..layers import LUTArgmax, LUTDense, LUTDequantize


class DropOutputDequantize(OptimizerPass):
    """A ``LUTDequantize`` that ends the graph or feeds the final argmax: the firmware keeps codes.
    predict() dequantizes the outputs with the last LUT layer's output_quant (the class scores the
    PyTorch model returns); before an argmax the dequantization is monotonic (positive scale), so the
    argmax of the codes is the argmax of the scores."""

    def match(self, node):
        if not isinstance(node, LUTDequantize):
            return False
        users = [n for n in node.model.get_layers() if node.outputs[0] in n.inputs]
        return node.outputs[0] in node.model.outputs or (len(users) == 1 and isinstance(users[0], LUTArgmax))

    def transform(self, model, node):
        src = node.get_input_node()
        if not isinstance(src, LUTDense):
            raise ValueError(f"{node.name!r} dequantizes {src.name!r} ({src.class_name}), not a LUT layer's output")
        quant = src.get_attr('output_quant')
        if quant is None or np.any(quant.scale <= 0):
            raise ValueError(f"{node.name!r}: the output scale of {src.name!r} must be positive for the firmware to "
                             f"return codes")
        model.remove_node(node)
        return True
