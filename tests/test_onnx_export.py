"""LUT IR → ONNX: bit-exact against the IR evaluator in onnxruntime."""
import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from lutnet.errors import OutputExistsError  # noqa: E402
from lutnet.ir import LayerIR, NetworkIR, QuantSpec  # noqa: E402
from lutnet.onnx_export import run_onnx, save_onnx, to_onnx  # noqa: E402
from lutnet.testing import random_network_ir  # noqa: E402
from lutnet.vectors import random_input_codes  # noqa: E402

CASES = [
    dict(seed=0),
    dict(seed=1, n_inputs=10, widths=(7, 5, 3), fan_in=(3, 2, 4), bits=(2, 3, 4), signed=True),
    dict(seed=2, n_inputs=6, widths=(4, 3), fan_in=2, bits=(3, 2), signed=(True, False),
         input_bits=4, input_signed=True, out_bits=8, out_signed=True),
    dict(seed=3, n_inputs=5, widths=(6, 2), fan_in=(1, 1), bits=1, signed=False, out_bits=16),
]


@pytest.mark.parametrize("kw", CASES)
def test_onnx_matches_ir_evaluator(kw):
    ir = random_network_ir(**kw)
    codes = random_input_codes(ir, 3000, seed=kw["seed"])
    model = to_onnx(ir)
    np.testing.assert_array_equal(run_onnx(model, codes), ir.evaluate(codes))
    np.testing.assert_array_equal(run_onnx(model, codes, "scores"), ir.scores(ir.evaluate(codes)))
    np.testing.assert_array_equal(run_onnx(model, codes, "prediction"), np.argmax(ir.evaluate(codes), 1))


def _pruned_ir():
    """Variable fan-in: neuron 0 reads 3 inputs, neuron 1 one input (padded with -1), neuron 2 none."""
    rng = np.random.default_rng(5)
    in_q = QuantSpec(2, True, np.float32(0.5), np.float32(0))
    idx = np.array([[0, 3, 1], [2, -1, -1], [-1, -1, -1]])
    in_bits = np.where(idx >= 0, 2, 0)
    tables = [rng.integers(-4, 4, 1 << int(b)) for b in in_bits.sum(1)]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in tables])])
    l0 = LayerIR("pruned", idx, in_bits, idx >= 0, [3, 3, 3], [True] * 3, np.concatenate(tables), offsets)
    l1 = LayerIR.from_dense("dense", [[0, 1, 2]], 3, True, 4, False, rng.integers(0, 16, (1, 512)))
    return NetworkIR(in_q, 4, [l0, l1], QuantSpec(4, False, np.float32(1), np.float32(0))).validate()


def test_onnx_variable_fan_in():
    ir = _pruned_ir()
    codes = np.stack(np.meshgrid(*[np.arange(-2, 2)] * 4), -1).reshape(-1, 4)  # every input vector
    np.testing.assert_array_equal(run_onnx(to_onnx(ir), codes), ir.evaluate(codes))


def test_onnx_float_input_quantizes_like_ir(tmp_path):
    ir = random_network_ir(seed=7, n_inputs=8, widths=(6, 4), bits=3, signed=True)
    ir.input_quant = QuantSpec(3, True, np.linspace(0.1, 0.9, 8).astype(np.float32), np.float32(0.0))
    x = np.random.default_rng(0).normal(0, 0.6, (4000, 8)).astype(np.float32)
    x[:8] = ir.input_quant.scale * np.float32(0.5)  # exact ties: half to even
    path = save_onnx(ir, tmp_path / "net.onnx", float_input=True)
    np.testing.assert_array_equal(run_onnx(path, x), ir.evaluate(ir.quantize_input(x)))
    np.testing.assert_array_equal(run_onnx(path, x, "prediction"), ir.predict(x))
    with pytest.raises(OutputExistsError, match="net.onnx exists; pass overwrite=True"):
        save_onnx(ir, path)
    save_onnx(ir, path, overwrite=True)


def test_onnx_detects_a_changed_table():
    ir = random_network_ir(seed=4)
    model = to_onnx(ir)
    ir.layers[-1].tables[0] ^= 1  # a test that can fail: the ONNX copy no longer matches
    codes = random_input_codes(ir, 20000, seed=1)
    assert (run_onnx(model, codes) != ir.evaluate(codes)).any()
