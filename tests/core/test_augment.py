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


def test_augment_config_keys_and_errors():
    d = {"name": "m", "model": {"layers": [10]}, "train": {"augment": {"shift": 1, "image_shape": [28, 28]}}}
    cfg = from_dict(RunConfig, d, "m.yaml")
    assert augment_from_config(cfg.train, 784).shift == 1
    assert augment_from_config(TrainConfig(), 784) is None
    with pytest.raises(ConfigError, match=r"^train.augment.image_shape=\[28, 28\] holds 784 pixels but the data has "
                                          r"64 features; give the images' shape \(MNIST: \[28, 28\]\) or remove "
                                          r"train.augment$"):
        augment_from_config(cfg.train, 64)
    for aug, match in [({"shift": -1}, r"^m.yaml: train.augment.shift must be >= 0 \(pixels\), got -1$"),
                       ({"shift": 1}, r"^m.yaml: train.augment.image_shape must list the images' \[height, width\]"),
                       ({"shift": 1, "image_shape": [784]}, r"train.augment.image_shape must list"),
                       ({"shift": 8, "image_shape": [8, 8]}, r"^m.yaml: train.augment.shift=8 must be smaller than the "
                                                             r"image \(8 x 8 pixels\)$")]:
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
    for name, aug in [("plain", None), ("shift", {"shift": 1, "image_shape": [8, 8]}), ("again", None)]:
        aug = aug or ({"shift": 1, "image_shape": [8, 8]} if name == "again" else None)
        train = {"epochs": 5, "batch_size": 32, "lr": 0.03, **({"augment": aug} if aug else {})}
        cfg = from_dict(RunConfig, {"name": "d", "model": model, "train": train}, "d.yaml")
        m = fe.build(cfg.model, ds.n_features, ds.X_train)
        res = fe.fit(m, ds.X_train, ds.y_train, cfg.train, progress=False, log=None)
        runs[name] = (res, fe.output_codes(m, ds.X_test))
    assert np.array_equal(runs["shift"][1], runs["again"][1])  # seeded: the same draws, the same model
    assert [h["val_acc"] for h in runs["shift"][0].history] == [h["val_acc"] for h in runs["again"][0].history]
    assert not np.array_equal(runs["shift"][1], runs["plain"][1])  # the batches did change
    # a 1-pixel shift is large on 8 x 8 digits: it learns slower, but learns (chance: 0.1)
    assert runs["plain"][0].best_val_acc > 0.6 and runs["shift"][0].best_val_acc > 0.3
