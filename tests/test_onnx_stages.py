"""ONNX export of the IR stages: encoder (GreaterOrEqual), GroupSum (ReduceSum per class), ArgMax
(first index), bit-exact with NetworkIR.evaluate in onnxruntime."""
import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from lutnet.ir import GroupSum  # noqa: E402
from lutnet.onnx_export import run_onnx, stage_outputs, to_onnx  # noqa: E402
from lutnet.testing import random_network_ir  # noqa: E402


@pytest.mark.parametrize("stages", [dict(thermometer=2), dict(n_classes=3), dict(argmax=True),
                                    dict(n_classes=1, argmax=True),
                                    dict(thermometer=[1, 3, 2], n_classes=2, argmax=True),
                                    dict(n_classes=3, head_weights=2)])
@pytest.mark.parametrize("signed", [False, True])
def test_stages_bit_exact(stages, signed):
    ir = random_network_ir(3 + signed, n_inputs=3, input_bits=4, input_signed=signed, widths=(5, 6), signed=signed,
                           **stages)
    q = ir.input_quant
    codes = np.random.default_rng(0).integers(q.code_min, q.code_max + 1, (3000, 3))
    m = to_onnx(ir)
    np.testing.assert_array_equal(run_onnx(m, codes), ir.evaluate(codes))
    assert run_onnx(m, codes).shape == (3000, ir.n_outputs)
    x = q.to_values(codes)
    np.testing.assert_array_equal(run_onnx(to_onnx(ir, float_input=True), x, "prediction"), ir.predict(x))
    ops = {n.op_type for n in m.graph.node}
    if ir.encoder is not None:
        assert "GreaterOrEqual" in ops
    if ir.head is not None:
        assert "Pad" in ops and "head_scores" in [o for n in m.graph.node for o in n.output]
    assert run_onnx(m, codes[:0]).shape == (0, ir.n_outputs)
    assert [n for n, _ in stage_outputs(ir)][-1] == ("argmax_index" if ir.argmax else
                                                     "head_scores" if ir.head is not None else "l1_codes")


def test_argmax_ties_first_index():
    ir = random_network_ir(2, n_inputs=3, widths=(8,), fan_in=2, bits=1, n_classes=4, argmax=True)
    ir.head = GroupSum(np.repeat(np.arange(4), 2))
    ir.validate()
    codes = np.random.default_rng(1).integers(0, 2, (500, 3))
    np.testing.assert_array_equal(run_onnx(to_onnx(ir), codes), ir.evaluate(codes))
