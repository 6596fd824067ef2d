"""scikit-learn digits loader, plus the shared pieces: Dataset, train_val_split, load_dataset."""

import os
from pathlib import Path

import numpy as np
import pytest

from lutnet.data import LOADERS, Dataset, UnknownDatasetError, load_dataset, load_digits, train_val_split
from lutnet.errors import ConfigError, LutnetError

SHARED = Path(os.environ.get("LUTNET_SHARED_DATA",
                             Path(__file__).resolve().parents[2].parent / "shared" / "data"))
DIGITS_NPZ = SHARED / "sklearn_digits" / "digits.npz"


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_shape_and_scaling(digits):
    assert (digits.name, digits.n_features, digits.n_classes) == ("digits", 64, 10)
    assert digits.X_train.shape == (1437, 64) and digits.X_test.shape == (360, 64)
    assert digits.X_train.dtype == np.float32 and digits.y_test.dtype == np.int64
    assert digits.X_train.min() == 0.0 and digits.X_train.max() == 1.0
    assert np.all((digits.X_train * 16) == np.round(digits.X_train * 16))  # k/16 exactly
    counts = np.bincount(np.concatenate([digits.y_train, digits.y_test]))
    assert counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert digits.feature_names[:2] == ("pixel_0_0", "pixel_0_1")


@pytest.mark.skipif(not DIGITS_NPZ.is_file(), reason=f"{DIGITS_NPZ} absent")
def test_digits_split_equals_shared_npz(digits):
    with np.load(DIGITS_NPZ) as ref:
        for part in ("train", "test"):
            np.testing.assert_array_equal(getattr(digits, f"X_{part}") * 16, ref[f"X_{part}"])
            np.testing.assert_array_equal(getattr(digits, f"y_{part}"), ref[f"y_{part}"])


def test_registry(digits):
    assert set(LOADERS) == {"mnist", "digits", "jets", "jets-synthetic"}
    again = load_dataset(" Digits ")
    np.testing.assert_array_equal(again.X_test, digits.X_test)
    with pytest.raises(UnknownDatasetError, match=r"^unknown dataset 'cifar10'; known datasets: "
                                                  r"digits, jets, jets-synthetic, mnist$"):
        load_dataset("cifar10")
    assert issubclass(UnknownDatasetError, LutnetError)
    with pytest.raises(ConfigError, match=r"^dataset 'digits' does not take argument\(s\) path; "
                                          r"it takes: test_size, seed$"):
        load_dataset("digits", path="/x")


def test_subset(digits):
    small = digits.subset(100)
    assert (len(small.y_train), len(small.y_test)) == (100, 100)
    np.testing.assert_array_equal(small.X_train, digits.X_train[:100])
    assert small.info["limit"] == 100 and small.classes == digits.classes
    assert len(digits.subset(10_000).y_test) == 360
    with pytest.raises(ValueError, match="limit must be >= 1, got 0"):
        digits.subset(0)


def test_train_val_split_stratified_deterministic(digits):
    X, y = digits.X_train, digits.y_train
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.25, seed=7)
    assert len(y_val) == round(0.25 * len(y)) and len(y_tr) + len(y_val) == len(y)
    # each class within one sample of its proportional share
    assert np.abs(np.bincount(y_val, minlength=10) - 0.25 * np.bincount(y)).max() < 1
    # disjoint and together exactly the training set (rows are distinct images + labels)
    rows = lambda A, b: {a.tobytes() + bytes([int(c)]) for a, c in zip(A, b)}
    assert rows(X_tr, y_tr) | rows(X_val, y_val) == rows(X, y)
    assert not rows(X_tr, y_tr) & rows(X_val, y_val)
    same = train_val_split(X, y, 0.25, seed=7)
    other = train_val_split(X, y, 0.25, seed=8)
    np.testing.assert_array_equal(same[3], y_val)
    np.testing.assert_array_equal(same[2], X_val)
    assert not np.array_equal(other[2], X_val)


def test_split_validation_uses_training_set_only(digits):
    X_tr, y_tr, X_val, y_val = digits.split_validation(0.1, seed=0)
    train_rows = {r.tobytes() for r in digits.X_train}
    assert all(r.tobytes() in train_rows for r in X_val)
    assert len(y_val) == 144 and len(y_tr) == 1293


def test_train_val_split_order_and_edge_cases():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2])
    X = np.arange(len(y))[:, None]
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.5, seed=0)
    assert np.all(np.diff(X_tr[:, 0]) > 0) and np.all(np.diff(X_val[:, 0]) > 0)  # order kept
    assert 2 in y_tr and 2 not in y_val  # a singleton class stays in training
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\), got 1\.0"):
        train_val_split(X, y, 1.0)
    with pytest.raises(ValueError, match="X has 9 samples but y has 3"):
        train_val_split(X, y[:3])
    with pytest.raises(ValueError, match="val_fraction=0.01 leaves no validation sample for 9"):
        train_val_split(X, y, 0.01)


def test_dataset_validates_and_normalises():
    ds = Dataset("t", [[1, 2]], [1], np.zeros((0, 2)), np.zeros(0), ["a", "b"], ["f0", "f1"])
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.classes == ("a", "b") and "train=1, test=0" in repr(ds)
    with pytest.raises(ValueError, match=r"t: X_train has shape \(1, 3\), expected \(n, 2\)"):
        Dataset("t", [[1, 2, 3]], [1], np.zeros((0, 2)), [], ["a"], ["f0", "f1"])
    with pytest.raises(ValueError, match=r"t: y_test has labels outside 0\.\.1"):
        Dataset("t", [[1, 2]], [1], [[0, 0]], [2], ["a", "b"], ["f0", "f1"])
    with pytest.raises(ValueError, match=r"t: y_train has shape \(2,\), expected \(1,\)"):
        Dataset("t", [[1, 2]], [1, 0], [[0, 0]], [0], ["a", "b"], ["f0", "f1"])
