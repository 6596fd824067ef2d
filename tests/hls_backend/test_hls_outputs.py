"""Both outputs of the LUTNet hls4ml backend (C++ with g++, Verilog with Verilator) against the LUT IR
evaluator and the PyTorch model, bit for bit, on >= 1,000 vectors."""
import time

import hls4ml
import numpy as np
import pytest
import torch

from lutnet import hls_backend
from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes

OUTPUTS = ['cpp', 'verilog']
N = 1500
CFLAGS = '-O1'  # faster g++ builds for the small test networks
# Verilator builds take ~15 s on a busy 2-core machine: the default run covers Verilog with one
# random IR, one model mixing the three neuron kinds and the argmax model; the rest is `slow`.


def cases(values, fast_verilog):
    """(output, value) pairs: C++ for every value; Verilog by default only for ``fast_verilog``."""
    out = [('cpp', v) for v in values]
    out += [pytest.param('verilog', v, marks=() if v in fast_verilog else pytest.mark.slow) for v in values]
    return out



def excite(net, seed=0, bias=(0.0, 1.0)):
    """Random batch-norm affine parameters so that every layer's codes vary (random init is too quiet)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.layers if hasattr(net, 'layers') else [m for m in net if isinstance(m, LUTLayer)]:
            layer.bn.weight.copy_(torch.rand(layer.bn.weight.shape, generator=g) * 4 + 1)
            layer.bn.bias.copy_(torch.rand(layer.bn.bias.shape, generator=g) * (bias[1] - bias[0]) + bias[0])
    return net.eval()


def lutnet_model(kinds, n_in=12):
    kinds = kinds.split('+') * 3 if '+' not in kinds else kinds.split('+')
    torch.manual_seed(0)
    return excite(LUTNet([
        LUTLayer(n_in, 10, 3, neuron=kinds[0], input_quant='signed', input_bit_width=2, output_bit_width=2, seed=1),
        LUTLayer(10, 8, 3, neuron=kinds[1], output_bit_width=2, seed=2),
        LUTLayer(8, 5, 3, neuron=kinds[2], output_quant='signed', output_bit_width=3, seed=3)]))


def assert_varied(codes):
    assert len(np.unique(codes, axis=0)) > 10, "test vectors do not exercise the network"


def pruned(ir, every=3):
    """``ir`` with input 1 of every ``every``-th neuron pruned (index -1, 0 bits): those neurons get
    tables of the rows where that input's field is 0 (smaller tables, padded in C++)."""
    from lutnet.ir import LayerIR, NetworkIR
    layers = []
    for L in ir.layers:
        idx, ib, isg = L.indices.copy(), L.in_bits.copy(), L.in_signed.copy()
        tables = []
        for k in range(L.out_features):
            t = L.table(k)
            if k % every == 0 and idx.shape[1] > 1:
                field = (np.arange(len(t)) >> L.shifts()[k, 1]) & ((1 << ib[k, 1]) - 1)
                t = t[field == 0]
                idx[k, 1], ib[k, 1], isg[k, 1] = -1, 0, False
            tables.append(t)
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in tables])])
        layers.append(LayerIR(L.name, idx, ib, isg, L.out_bits, L.out_signed, np.concatenate(tables), offsets, L.kind))
    return NetworkIR(ir.input_quant, ir.n_inputs, layers, ir.output_quant).validate()


RANDOM_IRS = {
    'unsigned-2bit': dict(seed=1, n_inputs=16, widths=(12, 8, 5), fan_in=3, bits=2),
    'signed-mixed': dict(seed=2, n_inputs=9, widths=(10, 7, 4), fan_in=[2, 3, 4], bits=[3, 2, 2],
                         signed=[True, False, True]),
    'wide-fanin-1bit-out': dict(seed=3, n_inputs=20, widths=(16, 6), fan_in=6, bits=[2, 1], input_bits=2),
    'pruned-signed': dict(seed=4, n_inputs=12, widths=(9, 6, 4), fan_in=3, bits=[2, 3, 2], signed=True),
}


@pytest.mark.parametrize('output,case', cases(sorted(RANDOM_IRS), ['pruned-signed']))
def test_random_ir_matches_evaluator(tmp_path, output, case):
    ir = random_network_ir(**RANDOM_IRS[case])
    if case.startswith('pruned'):
        ir = pruned(ir)
        assert len(set(ir.layers[1].table_rows.tolist())) == 2
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj', output=output, cflags=CFLAGS)
    model.compile()
    codes = random_input_codes(ir, N, seed=7)
    got = model.predict(codes, codes=True)
    want = ir.evaluate(codes)
    assert_varied(want)
    assert got.dtype.kind == 'i' and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('output,kind', cases(['linear', 'poly', 'subnet', 'linear+poly+subnet'],
                                              ['linear+poly+subnet']))
def test_lutnet_model_matches_pytorch_and_ir(tmp_path, output, kind):
    net = lutnet_model(kind)
    config = hls4ml.utils.config_from_pytorch_model(net, (12,), backend='LUTNet')
    model = hls4ml.converters.convert_from_pytorch_model(net, output_dir=str(tmp_path / 'prj'), backend='LUTNet',
                                                         hls_config=config, output=output, cflags=CFLAGS)
    model.compile()
    x = torch.rand(N, 12) * 2.4 - 1.2
    with torch.no_grad():
        scores = net(x).numpy()
    got = model.predict(x.numpy())
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, scores)  # bit for bit, incl. the input quantizer
    ir = to_ir(net)
    codes = ir.quantize_input(x.numpy())
    assert_varied(ir.evaluate(codes))
    np.testing.assert_array_equal(model.predict(codes, codes=True), ir.evaluate(codes))


class ArgMax(torch.nn.Module):
    def forward(self, x):
        return x.argmax(dim=1)


class Scores(torch.nn.Module):
    def forward(self, qt):
        return qt.value


@pytest.mark.parametrize('output', OUTPUTS)
def test_input_quantizer_luts_argmax(tmp_path, output):
    """Mixed model: a Brevitas QuantIdentity input quantizer, pruned LUT layers (variable fan-in
    tables) and an argmax converts; predictions equal the PyTorch model's."""
    from brevitas.nn import QuantIdentity

    from lutnet.quant import SignedActQuant
    torch.manual_seed(0)
    quant = QuantIdentity(act_quant=SignedActQuant, bit_width=3, return_quant_tensor=True)
    l1 = LUTLayer(10, 12, 3, neuron='linear', output_bit_width=2, seed=4)
    l2 = LUTLayer(12, 6, 4, neuron='linear', output_quant='signed', output_bit_width=3, seed=5)
    with torch.no_grad():
        l1.input_mask[::3, 1] = False  # pruned inputs: those neurons get smaller tables
        l2.input_mask[1::2, 0] = False
    net = excite(torch.nn.Sequential(quant, l1, l2, Scores(), ArgMax()), bias=(-1.0, 1.0))
    model = hls4ml.converters.convert_from_pytorch_model(net, output_dir=str(tmp_path / 'prj'), backend='LUTNet',
                                                         hls_config={'InputShape': (10,)}, output=output,
                                                         cflags=CFLAGS)
    assert [n.class_name for n in model.get_layers()] == ['Input', 'LUTDense', 'LUTDense', 'LUTArgmax']
    assert list(model.get_layers())[1].get_attr('lut').table_rows.min() < 2 ** (3 * 3)
    model.compile()
    x = torch.rand(N, 10) * 2 - 1
    with torch.no_grad():
        want = net(x).numpy()
    assert len(np.unique(want)) > 2
    got = model.predict(x.numpy())
    np.testing.assert_array_equal(got, want)


def test_batched_cpp_predict_throughput(tmp_path):
    """100k samples of a JSC-M-size network through the C simulation well under a second."""
    ir = random_network_ir(seed=5, n_inputs=16, widths=(64, 32, 32, 32, 5), fan_in=4, bits=3)
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj', output='cpp')
    model.compile()
    codes = random_input_codes(ir, 100_000, seed=1)
    model.predict(codes[:10], codes=True)
    t0 = time.perf_counter()
    got = model.predict(codes, codes=True)
    seconds = time.perf_counter() - t0
    np.testing.assert_array_equal(got, ir.evaluate(codes))
    assert seconds < 0.8, f"100k samples took {seconds:.2f} s"


@pytest.mark.parametrize('synth_types', [False, True])
def test_vendor_testbench_passes_with_gxx(tmp_path, synth_types):
    """The project's C simulation testbench (what Vitis/Vivado HLS run as csim) built with g++, with
    the C-simulation types and with the synthesis types (ap_uint tables and addresses)."""
    import subprocess
    ir = pruned(random_network_ir(seed=6, n_inputs=10, widths=(8, 5), fan_in=3, bits=2, signed=True))
    prj = tmp_path / 'prj'
    hls_backend.convert_ir(ir, output_dir=prj, argmax=True).write()
    flags = ['-DLUTNET_SYNTH_TYPES'] if synth_types else []
    subprocess.run(['g++', '-O1', '-std=c++14', *flags, '-Ifirmware', '-Ifirmware/ap_types', 'myproject_test.cpp',
                    'firmware/myproject.cpp', '-o', 'tb'], cwd=prj, check=True)
    r = subprocess.run(['./tb'], cwd=prj, capture_output=True, text=True)
    assert r.returncode == 0 and '64 samples, 0 mismatches' in r.stdout, r.stdout + r.stderr
    got = np.loadtxt(prj / 'tb_data' / 'csim_results.log', dtype=np.int64)
    codes = np.loadtxt(prj / 'tb_data' / 'tb_input_codes.dat', dtype=np.int64)
    np.testing.assert_array_equal(got, np.argmax(ir.evaluate(codes), axis=1))
