"""A network pruned under a LUT budget stays bit-exact through the IR, the C simulation (hls4ml
backend, g++) and the RTL simulation (Verilator), and its tables shrink as the solver promised."""
import shutil

import numpy as np
import pytest
import torch

from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet
from lutnet.pruning.torch_prune import lut_network_cost, prune_lut_network
from lutnet.quant import SignedActQuant, UnsignedActQuant

pytestmark = pytest.mark.skipif(shutil.which("g++") is None or shutil.which("verilator") is None,
                                reason="needs g++ and verilator (make tools)")


def test_pruned_network_bit_exact_in_c_and_rtl(tmp_path):
    hls_backend = pytest.importorskip("lutnet.hls_backend")
    torch.manual_seed(0)
    net = LUTNet([LUTLayer(16, 12, 4, "poly", degree=2, input_quant=SignedActQuant, input_bit_width=2,
                           output_quant=UnsignedActQuant, output_bit_width=2, seed=1),
                  LUTLayer(12, 4, 4, "poly", degree=2, output_quant=SignedActQuant, output_bit_width=3, seed=2)])
    with torch.no_grad():
        for layer in net.layers:
            layer.bn.running_mean.uniform_(-0.2, 0.2)
            layer.bn.running_var.uniform_(0.1, 0.5)
    full = lut_network_cost(net)
    budget = int(full * 0.4)
    prune_lut_network(net, budget, metric="l1")
    ir = to_ir(net.eval())
    assert ir.lut_cost() <= budget < full
    assert (ir.layers[0].fan_in < 4).any()

    X = torch.randn(2000, 16)
    codes = net.input_codes(X).numpy()
    want = net.output_codes(X).numpy()
    np.testing.assert_array_equal(ir.evaluate(codes), want)
    for output in ("cpp", "verilog"):
        model = hls_backend.convert_ir(ir, output_dir=str(tmp_path / output), output=output)
        model.compile()
        got = np.asarray(model.predict(codes, codes=True))
        assert int((got != want).any(1).sum()) == 0, output
