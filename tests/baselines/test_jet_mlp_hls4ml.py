"""Dense jet-tagging baselines through hls4ml (Vitis backend, C simulation), bit-exact against
QKeras and Brevitas.  One hls4ml compile per framework (g++, ~10-30 s each)."""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("hls4ml")

from lutnet.baselines import fixed_grid, mismatches  # noqa: E402
from lutnet.data import make_synthetic_jets  # noqa: E402


@pytest.fixture(scope="module")
def jets():
    return make_synthetic_jets(3000, seed=0)


def test_fixed_grid_and_mismatches():
    x = np.array([0.1, -0.3, 100.0, -100.0, 2 ** -11, 3 * 2 ** -11], np.float32)
    np.testing.assert_array_equal(fixed_grid(x, 16, 6),
                                  np.float32([102 / 1024, -307 / 1024, 32 - 2 ** -10, -32, 0, 2 * 2 ** -10]))
    assert mismatches(np.zeros((2, 3)), np.zeros(6).reshape(2, 3)) == 0
    assert mismatches(np.float32([[1, 2]]), np.float64([[1, 2.0000001]])) == 1


def test_qkeras_jet_mlp_bit_exact_through_hls4ml(jets, tmp_path):
    pytest.importorskip("qkeras")
    from lutnet.baselines import qkeras_mlp
    X_train, X_test = fixed_grid(jets.X_train, 16, 6), fixed_grid(jets.X_test, 16, 6)
    model = qkeras_mlp.train(qkeras_mlp.qkeras_jet_mlp(), X_train, jets.y_train, epochs=3)
    assert [l.units for l in model.layers if hasattr(l, "units")] == [64, 32, 32, 5]
    ref = qkeras_mlp.predict(model, X_test)
    assert (ref.argmax(1) == jets.y_test).mean() > 0.4  # learned something (5 classes)
    hls = qkeras_mlp.to_hls(model, tmp_path / "qkeras_prj")
    assert mismatches(hls.predict(X_test), ref) == 0
    assert mismatches(hls.predict(X_test), ref + np.float32(2 ** -9)) == ref.size  # the check can fail


def test_brevitas_jet_mlp_bit_exact_through_hls4ml(jets, tmp_path):
    pytest.importorskip("brevitas")
    pytest.importorskip("qonnx")
    from lutnet.baselines import brevitas_mlp
    model = brevitas_mlp.train(brevitas_mlp.brevitas_jet_mlp(), jets.X_train, jets.y_train, epochs=3)
    X_test = brevitas_mlp.quantize_input(model, jets.X_test)
    ref = brevitas_mlp.predict(model, X_test)
    assert (ref.argmax(1) == jets.y_test).mean() > 0.4
    assert brevitas_mlp.input_precision(model).startswith("fixed<16,")
    hls = brevitas_mlp.to_hls(model, tmp_path / "brevitas_prj")
    assert mismatches(hls.predict(np.ascontiguousarray(X_test)), ref) == 0
