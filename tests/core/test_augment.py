"""Training-batch augmentation (lutnet.core.augment): the shift rule against a direct reference,
the config keys and their pinned errors, and both trainers (augmented training batches only,
seeded: a run repeats exactly)."""
import numpy as np
import pytest

from lutnet.config import ConfigError, RunConfig, TrainConfig, from_dict
from lutnet.core.augment import BatchAugment, augment_from_config


def _reference_shift(img, dy, dx):
    """Move ``img`` by (dy, dx) pixels (positive: up/left, as the padded crop reads), zero fill."""
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    for r in range(h):
        for c in range(w):
            rr, cc = r + dy, c + dx
            if 0 <= rr < h and 0 <= cc < w:
                out[r, c] = img[rr, cc]
    return out


@pytest.mark.parametrize("shape", [(5, 7), (4, 6, 2)])
def test_shift_equals_the_reference_for_every_drawn_offset(shape):
    rng_x = np.random.default_rng(0)
    X = rng_x.random((40,) + shape).astype(np.float32)
    aug = BatchAugment(2, shape)
    out = aug(X.reshape(40, -1), np.random.default_rng(3))
    rng = np.random.default_rng(3)  # the same draw: dy then dx, in 0..2*shift
    dy, dx = rng.integers(0, 5, 40) - 2, rng.integers(0, 5, 40) - 2
    assert {int(v) for v in dy} == {-2, -1, 0, 1, 2}
    for i in range(40):
        assert np.array_equal(out[i].reshape(shape), _reference_shift(X[i], dy[i], dx[i]))


def _reference_rotate(img, theta):
    """Bilinear rotation by ``theta`` radians about the centre, pixel by pixel: output (r, c) reads the
    source point at angle -theta from the image padded with zeros."""
    h, w = img.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    out = np.zeros(img.shape, np.float64)
    for r in range(h):
        for c in range(w):
            y = cy + (r - cy) * np.cos(theta) - (c - cx) * np.sin(theta)
            x = cx + (r - cy) * np.sin(theta) + (c - cx) * np.cos(theta)
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            for yy, wy in ((y0, y0 + 1 - y), (y0 + 1, y - y0)):
                for xx, wx in ((x0, x0 + 1 - x), (x0 + 1, x - x0)):
                    if 0 <= yy < h and 0 <= xx < w:
                        out[r, c] += wy * wx * img[yy, xx]
    return out


def test_rotate_equals_the_reference_for_every_drawn_angle():
    X = np.random.default_rng(1).random((12, 9, 9)).astype(np.float32)
    out = BatchAugment(0, (9, 9), rotate=30)(X.reshape(12, -1), np.random.default_rng(4))
    theta = np.deg2rad(np.random.default_rng(4).uniform(-30, 30, 12)).astype(np.float32)  # the same draw (no shift)
    assert theta.min() < -0.2 and theta.max() > 0.2
    for i in range(12):
        np.testing.assert_allclose(out[i].reshape(9, 9), _reference_rotate(X[i], theta[i]), atol=2e-5)
    # a quarter turn moves every pixel onto another one: np.rot90, clockwise on the screen
    from lutnet.core.augment import _rotate
    quarter = _rotate(X[:2], np.full(2, np.pi / 2, np.float32))
    np.testing.assert_allclose(quarter, np.rot90(X[:2], k=-1, axes=(1, 2)), atol=1e-5)
    # channels last: each channel turns alike
    two = _rotate(np.stack([X[:3], 2 * X[:3]], axis=-1), np.full(3, 0.3, np.float32))
    np.testing.assert_allclose(two[..., 1], 2 * two[..., 0], rtol=1e-6, atol=1e-6)


def test_shift_then_rotate_draws_in_order():
    """With both, the shift's offsets are drawn first, then the angles (one generator, one batch)."""
    X = np.random.default_rng(2).random((6, 64)).astype(np.float32)
    both = BatchAugment(1, (8, 8), rotate=20)(X, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    shifted = BatchAugment(1, (8, 8))(X, rng)
    theta = np.deg2rad(rng.uniform(-20, 20, 6)).astype(np.float32)
    for i in range(6):
        np.testing.assert_allclose(both[i].reshape(8, 8), _reference_rotate(shifted[i].reshape(8, 8), theta[i]),
                                   atol=2e-5)


def test_augment_config_keys_and_errors():
    d = {"name": "m", "model": {"layers": [10]}, "train": {"augment": {"shift": 1, "image_shape": [28, 28]}}}
    cfg = from_dict(RunConfig, d, "m.yaml")
    assert augment_from_config(cfg.train, 784).shift == 1
    assert augment_from_config(cfg.train, 784).plain_last == 0
    aug = augment_from_config(from_dict(RunConfig, {**d, "train": {"augment": {"shift": 1, "image_shape": [28, 28],
                                                                              "plain_last": 3}}}, "m.yaml").train, 784)
    assert [aug.active(e, 10) for e in range(10)] == [True] * 7 + [False] * 3
    assert augment_from_config(TrainConfig(), 784) is None
    rot = augment_from_config(from_dict(RunConfig, {**d, "train": {"augment": {"image_shape": [28, 28], "rotate": 8}}},
                                        "m.yaml").train, 784)
    assert (rot.shift, rot.rotate) == (0, 8.0)  # rotations alone are an augmentation
    with pytest.raises(ConfigError, match=r"^train.augment.image_shape=\[28, 28\] holds 784 pixels but the data has "
                                          r"64 features; give the images' shape \(MNIST: \[28, 28\]\) or remove "
                                          r"train.augment$"):
        augment_from_config(cfg.train, 64)
    for aug, match in [({"shift": -1}, r"^m.yaml: train.augment.shift must be >= 0 \(pixels\), got -1$"),
                       ({"shift": 1}, r"^m.yaml: train.augment.image_shape must list the images' \[height, width\]"),
                       ({"shift": 1, "image_shape": [784]}, r"train.augment.image_shape must list"),
                       ({"shift": 8, "image_shape": [8, 8]}, r"^m.yaml: train.augment.shift=8 must be smaller than the "
                                                             r"image \(8 x 8 pixels\)$"),
                       ({"shift": 1, "image_shape": [28, 28], "plain_last": -1},
                        r"^m.yaml: train.augment.plain_last must be a whole number of epochs >= 0 \(the last epochs "
                        r"train on the original images\), got -1$"),
                       ({"shift": 1, "image_shape": [28, 28], "rotate": 180},
                        r"^m.yaml: train.augment.rotate must be an angle in degrees in \[0, 180\) \(random turns of "
                        r"up to \+-rotate\), got 180.0$"),
                       ({"shift": 1, "image_shape": [28, 28], "rotate": -5}, r"train.augment.rotate must be an angle"),
                       ({"rotate": 5}, r"^m.yaml: train.augment.image_shape must list the images' \[height, width\]")]:
        with pytest.raises(ConfigError, match=match):
            from_dict(RunConfig, {**d, "train": {"augment": aug}}, "m.yaml")


def _digits_dwn():
    from lutnet.data import load_dataset
    ds = load_dataset("digits")
    model = {"layers": [60], "fan_in": 6, "input_bits": 8, "neuron": {"kind": "table"},
             "encoder": {"kind": "thermometer", "bits_per_feature": 1, "fit": "uniform"},
             "head": {"kind": "groupsum", "classes": 10, "tau": 2.0, "argmax": True}, "mapping": "learnable",
             "mapping_candidates": 8}
    return ds, model


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_trainers_augment_training_batches_only_and_repeat_exactly(framework):
    if framework == "keras":
        pytest.importorskip("tensorflow")
    from lutnet.frontend import get_frontend
    ds, model = _digits_dwn()
    fe = get_frontend(framework)
    runs = {}
    for name, aug in [("plain", None), ("shift", {"shift": 1, "image_shape": [8, 8]}), ("again", None),
                      ("rotate", {"image_shape": [8, 8], "rotate": 15})]:
        aug = aug or ({"shift": 1, "image_shape": [8, 8]} if name == "again" else None)
        train = {"epochs": 5, "batch_size": 32, "lr": 0.03, **({"augment": aug} if aug else {})}
        cfg = from_dict(RunConfig, {"name": "d", "model": model, "train": train}, "d.yaml")
        m = fe.build(cfg.model, ds.n_features, ds.X_train)
        res = fe.fit(m, ds.X_train, ds.y_train, cfg.train, progress=False, log=None)
        runs[name] = (res, fe.output_codes(m, ds.X_test))
    assert np.array_equal(runs["shift"][1], runs["again"][1])  # seeded: the same draws, the same model
    assert [h["val_acc"] for h in runs["shift"][0].history] == [h["val_acc"] for h in runs["again"][0].history]
    assert not np.array_equal(runs["shift"][1], runs["plain"][1])  # the batches did change
    assert not np.array_equal(runs["rotate"][1], runs["plain"][1])  # rotations alone reach the trainer
    # a 1-pixel shift is large on 8 x 8 digits: it learns slower, but learns (chance: 0.1)
    assert runs["plain"][0].best_val_acc > 0.6 and runs["shift"][0].best_val_acc > 0.3


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_plain_last_epochs_train_on_the_original_images(framework, monkeypatch):
    """``plain_last``: the augmentation runs on the first epochs' batches only; with every epoch plain
    the run equals the run without augmentation, bit for bit."""
    if framework == "keras":
        pytest.importorskip("tensorflow")
    from lutnet.core import augment as core_augment
    from lutnet.frontend import get_frontend
    calls = []

    class Spy(core_augment.BatchAugment):
        def __call__(self, X, rng):
            calls.append(len(X))
            return super().__call__(X, rng)

    def spy_from_config(cfg, n_features, src="train.augment"):
        a = core_augment.augment_from_config(cfg, n_features, src)
        return None if a is None else Spy(a.shift, a.image_shape, a.plain_last)

    monkeypatch.setattr("lutnet.train.augment_from_config", spy_from_config)
    if framework == "keras":
        monkeypatch.setattr("lutnet.keras.train.augment_from_config", spy_from_config)
    ds, model = _digits_dwn()
    fe = get_frontend(framework)
    runs = {}
    for name, aug in [("none", None), ("last2", 2), ("all", 4)]:
        augment = {} if aug is None else {"augment": {"shift": 1, "image_shape": [8, 8], "plain_last": aug}}
        cfg = from_dict(RunConfig, {"name": "d", "model": model, "train": {"epochs": 4, "batch_size": 32, "lr": 0.03,
                                                                          **augment}}, "d.yaml")
        m = fe.build(cfg.model, ds.n_features, ds.X_train)
        calls.clear()
        res = fe.fit(m, ds.X_train, ds.y_train, cfg.train, progress=False, log=None)
        runs[name] = (res, fe.output_codes(m, ds.X_test), list(calls))
    from lutnet.core.training import split
    n_train = len(split(ds.X_train, ds.y_train, cfg.train)[0])
    assert n_train % 32 > 1  # no 1-sample batch is skipped: every epoch passes every training image
    assert runs["none"][2] == [] and runs["all"][2] == []
    assert sum(runs["last2"][2]) == 2 * n_train  # the first 2 of 4 epochs, every batch
    assert len(runs["last2"][0].history) == 4
    assert np.array_equal(runs["all"][1], runs["none"][1])  # every epoch plain: the run without augmentation
    assert not np.array_equal(runs["last2"][1], runs["none"][1])
