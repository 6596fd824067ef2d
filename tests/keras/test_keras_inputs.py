"""QKeras LUT models check their float input like every other entry point (lutnet.core.inputs)."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
qkeras = pytest.importorskip("qkeras")

from lutnet.errors import InputError  # noqa: E402
from lutnet.keras import LUTLayer, input_codes, output_codes  # noqa: E402


@pytest.fixture(scope="module")
def model():
    q = qkeras.quantized_relu(2, 0)
    return tf.keras.Sequential([tf.keras.Input((8,)),
                                LUTLayer(4, fan_in=2, input_quantizer=q, output_quantizer=q, seed=0)])


def test_nan_features_are_refused(model):
    x = np.zeros((3, 8), np.float32)
    x[1, 5] = np.nan
    for fn in (input_codes, output_codes):
        with pytest.raises(InputError, match=r"input features contain NaN \(first at sample 1, feature 5\)"):
            fn(model, x)


def test_wrong_feature_count_is_refused(model):
    with pytest.raises(InputError, match="expected 8 features per sample, got 7"):
        output_codes(model, np.zeros((2, 7), np.float32))


def test_empty_batch_gives_empty_codes(model):
    assert output_codes(model, np.zeros((0, 8), np.float32)).shape == (0, 4)
