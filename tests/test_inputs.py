"""One input check at every entry point (lutnet.core.inputs): the PyTorch model, the IR, the C and
Verilog simulations of the hls4ml backend, RTL simulation and the ONNX runner refuse the same bad
inputs with the same message, and treat empty batches and single 1-D samples as hls4ml does."""
import re
import shutil

import numpy as np
import pytest
import torch

from lutnet.errors import InputError
from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet

N_IN = 64
NAN = r"input features contain NaN \(first at sample 1, feature 5\); a quantizer has no code for NaN"
COUNT = r"input (features|codes): expected 64 features per sample, got 63"
FLOAT_CODES = r"input codes must be integers; got 0\.5 at sample 0, feature 0\. These look like features"
RANGE = r"input codes must lie in \[0, 3\] \(2-bit unsigned\); got 4 at sample 0, feature 0"


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return LUTNet([LUTLayer(N_IN, 12, 3, input_quant="unsigned", input_bit_width=2, output_bit_width=2, seed=0),
                   LUTLayer(12, 10, 3, output_bit_width=2, seed=1)]).eval()


@pytest.fixture(scope="module")
def ir(net):
    return to_ir(net)


@pytest.fixture(scope="module")
def hls_cpp(net, tmp_path_factory):
    import hls4ml
    model = hls4ml.converters.convert_from_pytorch_model(
        net, output_dir=str(tmp_path_factory.mktemp("inputs") / "prj"), backend="LUTNet",
        hls_config={"InputShape": (N_IN,)}, cflags="-O1")
    model.compile()
    return model


def _x(n=4):
    return np.random.default_rng(0).random((n, N_IN), dtype=np.float32)


def _nan():
    x = _x()
    x[1, 5] = np.nan
    return x


def feature_entry_points(net, ir, hls_cpp):
    from lutnet.onnx_export import run_onnx, to_onnx
    onnx_float = to_onnx(ir, float_input=True)
    return {
        "torch forward": lambda x: net(torch.from_numpy(np.asarray(x, np.float32))).detach().numpy(),
        "torch output_codes": lambda x: net.output_codes(torch.from_numpy(np.asarray(x, np.float32))).numpy(),
        "IR predict": ir.predict,
        "IR quantize_input": ir.quantize_input,
        "hls4ml C simulation predict": hls_cpp.predict,
        "ONNX run_onnx": lambda x: run_onnx(onnx_float, x),
    }


def codes_entry_points(ir, hls_cpp):
    from lutnet.onnx_export import run_onnx, to_onnx
    onnx_codes = to_onnx(ir)
    return {
        "IR evaluate": ir.evaluate,
        "hls4ml C simulation predict(codes=True)": lambda c: hls_cpp.predict(c, codes=True),
        "ONNX run_onnx": lambda c: run_onnx(onnx_codes, c),
    }


def test_bad_features_refused_with_one_message_everywhere(net, ir, hls_cpp):
    for name, fn in feature_entry_points(net, ir, hls_cpp).items():
        for bad, pattern in ((_nan(), NAN), (_x()[:, :63], COUNT)):
            with pytest.raises(InputError) as e:
                fn(bad)
            assert re.search(pattern, str(e.value)), f"{name}: {e.value}"
    with pytest.raises(InputError, match=NAN):  # a NaN was code -9223372036854775808 before
        net(torch.from_numpy(_nan()))


def test_bad_codes_refused_with_one_message_everywhere(ir, hls_cpp):
    codes = ir.quantize_input(_x())
    for name, fn in codes_entry_points(ir, hls_cpp).items():
        for bad, pattern in ((codes * 0 + 0.5, FLOAT_CODES), (np.where(np.arange(N_IN) == 0, 4, codes), RANGE),
                             (codes[:, :63], COUNT)):
            with pytest.raises(InputError) as e:
                fn(bad)
            assert re.search(pattern, str(e.value)), f"{name}: {e.value}"


def test_empty_batch_and_single_sample_as_hls4ml(net, ir, hls_cpp):
    x = _x(3)
    for name, fn in feature_entry_points(net, ir, hls_cpp).items():
        if name.startswith("torch"):
            continue  # the PyTorch model keeps torch's batch semantics
        full = fn(x)
        one = fn(x[0])
        np.testing.assert_array_equal(one, full[0], err_msg=name)
        empty = fn(np.zeros((0, N_IN), np.float32))
        assert empty.shape == (0,) + full.shape[1:], name
    codes = ir.quantize_input(x)
    for name, fn in codes_entry_points(ir, hls_cpp).items():
        full = fn(codes)
        np.testing.assert_array_equal(fn(codes[0]), full[0], err_msg=name)
        assert fn(codes[:0]).shape == (0, ir.n_outputs), name


def test_rtl_simulate_uses_the_same_check(ir):
    if not shutil.which("iverilog"):
        pytest.skip("Icarus Verilog is not installed (make tools)")
    from lutnet.rtl import simulate
    codes = ir.quantize_input(_x(20))
    for bad, pattern in ((codes * 0 + 0.5, FLOAT_CODES), (codes[:, :63], COUNT)):
        with pytest.raises(InputError, match=pattern):
            simulate(ir, bad, simulator="icarus")
    got = simulate(ir, codes, simulator="icarus")
    np.testing.assert_array_equal(got, ir.evaluate(codes))
    np.testing.assert_array_equal(simulate(ir, codes[3], simulator="icarus"), got[3])
    assert simulate(ir, codes[:0], simulator="icarus").shape == (0, ir.n_outputs)
