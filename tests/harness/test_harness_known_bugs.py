"""Regression tests for bugs the harness found."""
import pytest
import torch

from lutnet.nn import LUTLayer, LUTNet


# Brevitas QuantTensor.int() rejected a constant 1-bit tensor ("QuantTensor not valid"); lutnet now
# computes codes with lutnet.quant.int_codes.
@pytest.mark.parametrize("what", ["output_codes", "to_ir"])
def test_one_bit_unsigned_layer_with_constant_outputs(what):
    from lutnet.export import to_ir
    torch.manual_seed(0)
    net = LUTNet([LUTLayer(3, 2, 2, input_quant="signed", input_bit_width=2, output_quant="unsigned",
                           output_bit_width=1, seed=0)]).eval()
    with torch.no_grad():
        net.layers[0].bn.bias.fill_(-100.0)  # every output code is 0: a valid (constant) 1-bit layer
    if what == "output_codes":
        assert net.output_codes(torch.zeros(4, 3)).eq(0).all()
    else:
        assert (to_ir(net).layers[0].tables == 0).all()
