"""End to end for every neuron kind: a briefly trained Brevitas model -> tables -> Verilog ->
Verilator (10k vectors) and Icarus (1k), pipelined and combinational, equal to model and IR."""
import shutil

import numpy as np
import pytest
import torch

from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet
from lutnet.quant import SignedActQuant
from lutnet.rtl import lint, simulate, write_verilog

pytestmark = pytest.mark.skipif(shutil.which("verilator") is None or shutil.which("iverilog") is None,
                                reason="verilator/iverilog not installed (make tools)")

KINDS = {"linear": {}, "poly": {"degree": 2}, "subnet": {"width": 6, "depth": 3, "skip": 2}}


def trained(kind, seed=0):
    torch.manual_seed(seed)
    opts = KINDS[kind]
    net = LUTNet([LUTLayer(10, 8, 3, kind, input_quant=SignedActQuant, input_bit_width=2, output_bit_width=2,
                           seed=seed, **opts),
                  LUTLayer(8, 4, 3, kind, output_quant=SignedActQuant, output_bit_width=3, seed=seed + 1, **opts)])
    X = torch.randn(512, 10)
    y = X[:, :4].argmax(1)
    opt = torch.optim.Adam(net.parameters(), 3e-2)
    for _ in range(10):
        loss = torch.nn.functional.cross_entropy(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@pytest.mark.parametrize("kind,pipeline", [("linear", 1), ("poly", 0), ("subnet", 1)])
def test_trained_model_rtl_bit_exact(kind, pipeline, tmp_path):
    net = trained(kind)
    ir = to_ir(net)
    X = torch.randn(10_000, 10) * 1.3
    codes = net.input_codes(X).numpy()
    want = net.output_codes(X).numpy()
    np.testing.assert_array_equal(ir.evaluate(codes), want)
    opts = dict(pipeline=pipeline, output_reg=bool(pipeline))
    got = simulate(ir, codes, simulator="verilator", work_dir=tmp_path / "v", **opts)
    assert int((got != want).any(1).sum()) == 0
    got = simulate(ir, codes[:1000], simulator="icarus", work_dir=tmp_path / "i", **opts)
    assert int((got != want[:1000]).any(1).sum()) == 0
    info = write_verilog(ir, tmp_path / "lint", **opts)
    assert lint(info).ok
