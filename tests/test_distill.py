"""Knowledge distillation (train.distill, lutnet.distill): the loss against a direct reference, the
config keys and their pinned errors, the teacher trained on the student's training split, and the
trainer using it (a run repeats exactly; the Keras trainer says it does not distil)."""
import math

import numpy as np
import pytest
import torch

from lutnet.config import ConfigError, RunConfig, TrainConfig, from_dict
from lutnet.distill import distill_loss, teacher_config, teacher_net, train_teacher


def _reference_loss(out, t, y, T, a):
    """(1 - a) CE + a T^2 KL(p_t || p_s), sample by sample with math only."""
    total = 0.0
    for o, tt, yy in zip(out.tolist(), t.tolist(), y.tolist()):
        ls = [v - math.log(sum(math.exp(u) for u in o)) for v in o]
        ce = -ls[yy]
        st = [v / T for v in o]
        lst = [v - math.log(sum(math.exp(u) for u in st)) for v in st]
        tt = [v / T for v in tt]
        zt = sum(math.exp(u) for u in tt)
        pt = [math.exp(u) / zt for u in tt]
        kl = sum(p * (math.log(p) - q) for p, q in zip(pt, lst))
        total += (1 - a) * ce + a * T * T * kl
    return total / len(y)


class _Fixed(torch.nn.Module):
    def __init__(self, t):
        super().__init__()
        self.t = t

    def forward(self, x):
        return self.t[x[:, 0].long()]


@pytest.mark.parametrize("T,a", [(1.0, 0.0), (2.0, 0.5), (4.0, 1.0)])
def test_loss_equals_the_reference(T, a):
    g = torch.Generator().manual_seed(0)
    out = torch.randn(6, 4, generator=g) * 3
    t = torch.randn(6, 4, generator=g) * 5
    y = torch.tensor([0, 1, 2, 3, 1, 0])
    x = torch.arange(6, dtype=torch.float32)[:, None]  # the fixed teacher looks its scores up by row
    got = float(distill_loss(_Fixed(t), T, a)(out, x, y))
    assert got == pytest.approx(_reference_loss(out, t, y, T, a), rel=1e-5)
    if a == 0.0:
        assert got == pytest.approx(float(torch.nn.functional.cross_entropy(out, y)), rel=1e-6)
    # the student matching the teacher exactly leaves only the label term
    same = float(distill_loss(_Fixed(t), T, a)(t.clone(), x, y))
    assert same == pytest.approx((1 - a) * float(torch.nn.functional.cross_entropy(t, y)), abs=1e-5)


def test_loss_names_a_shape_mismatch():
    loss = distill_loss(_Fixed(torch.zeros(3, 5)), 2.0, 0.5)
    with pytest.raises(ConfigError, match=r"^train.distill: the teacher gives \(5,\) scores per sample, the model "
                                          r"\(4,\)$"):
        loss(torch.zeros(3, 4), torch.zeros(3, 1), torch.zeros(3, dtype=torch.long))


def test_config_keys_and_errors():
    base = {"name": "m", "model": {"layers": [10]}}
    cfg = from_dict(RunConfig, {**base, "train": {"distill": {"teacher": "cnn", "image_shape": [28, 28]}}}, "m.yaml")
    d = cfg.train.distill
    assert (d.teacher, d.epochs, d.lr, d.temperature, d.alpha) == ("cnn", 6, 0.001, 2.0, 0.5)
    assert TrainConfig().distill is None
    # the cnn teacher may take the image shape from train.augment
    from_dict(RunConfig, {**base, "train": {"augment": {"shift": 1, "image_shape": [8, 8]}, "distill": {}}}, "m.yaml")
    for dist, match in [
            ({"teacher": "resnet"}, r"^m.yaml: train.distill.teacher must be one of cnn, mlp, got 'resnet'$"),
            ({"teacher": "mlp", "epochs": 0}, r"^m.yaml: train.distill.epochs must be >= 1, got 0$"),
            ({"teacher": "mlp", "temperature": 0}, r"^m.yaml: train.distill.temperature must be > 0, got 0.0$"),
            ({"teacher": "mlp", "lr": -1}, r"^m.yaml: train.distill.lr must be > 0, got -1.0$"),
            ({"teacher": "mlp", "alpha": 1.5}, r"^m.yaml: train.distill.alpha must lie in 0..1 \(the distillation "
                                               r"term's weight\), got 1.5$"),
            ({}, r"^m.yaml: train.distill.teacher 'cnn' needs the images' \[height, width\] \(or \[height, width, "
                 r"channels\]\) in train.distill.image_shape or train.augment.image_shape, got None; MNIST: \[28, 28\]; "
                 r"or use teacher: mlp$"),
            ({"temprature": 2}, r"^m.yaml: unknown key 'train.distill.temprature'; known keys of train.distill: ")]:
        with pytest.raises(ConfigError, match=match):
            from_dict(RunConfig, {**base, "train": {"distill": dist}}, "m.yaml")


def test_cnn_teacher_checks_the_image_shape():
    assert teacher_net("cnn", 64, 10, [8, 8])(torch.zeros(2, 64)).shape == (2, 10)
    assert teacher_net("cnn", 128, 3, [8, 8, 2])(torch.zeros(2, 128)).shape == (2, 3)
    with pytest.raises(ConfigError, match=r"^train.distill: the cnn teacher's image shape \[28, 28\] has 784 values, "
                                          r"but the data has 64 features per sample; set train.distill.image_shape$"):
        teacher_net("cnn", 64, 10, [28, 28])


def _digits_cfg(distill, epochs=4):
    model = {"layers": [60], "fan_in": 6, "input_bits": 8, "neuron": {"kind": "table"},
             "encoder": {"kind": "thermometer", "bits_per_feature": 1, "fit": "uniform"},
             "head": {"kind": "groupsum", "classes": 10, "tau": 2.0, "argmax": True}, "mapping": "learnable",
             "mapping_candidates": 8}
    train = {"epochs": epochs, "batch_size": 32, "lr": 0.03, **({"distill": distill} if distill else {})}
    return from_dict(RunConfig, {"name": "d", "model": model, "train": train}, "d.yaml")


def test_teacher_learns_on_the_training_split():
    from lutnet.data import load_dataset
    ds = load_dataset("digits")
    cfg = _digits_cfg({"teacher": "cnn", "image_shape": [8, 8], "epochs": 8, "lr": 0.01})
    logs = []
    teacher = train_teacher(ds.X_train, ds.y_train, cfg.train, log=logs.append)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    acc = float((teacher(torch.as_tensor(ds.X_test, dtype=torch.float32)).argmax(1).numpy() == ds.y_test).mean())
    assert acc > 0.9, acc  # a float CNN on 8 x 8 digits
    assert logs and logs[0].startswith("distillation teacher (cnn, 8 epochs): validation accuracy 0.")
    # the same seed gives the same teacher (it is trained by lutnet.train.fit on the student's split)
    again = train_teacher(ds.X_train, ds.y_train, cfg.train, log=None)
    assert all(torch.equal(p, q) for p, q in zip(teacher.parameters(), again.parameters()))


def test_trainer_distils_and_repeats_exactly():
    from lutnet.data import load_dataset
    from lutnet.frontend import get_frontend
    ds = load_dataset("digits")
    fe = get_frontend("torch")
    runs = {}
    for name, dist in [("plain", None), ("kd", {"teacher": "mlp", "epochs": 5, "lr": 0.01, "alpha": 1.0}),
                       ("again", {"teacher": "mlp", "epochs": 5, "lr": 0.01, "alpha": 1.0})]:
        cfg = _digits_cfg(dist)
        m = fe.build(cfg.model, ds.n_features, ds.X_train)
        logs = []
        res = fe.fit(m, ds.X_train, ds.y_train, cfg.train, progress=False, log=logs.append)
        runs[name] = (res, np.asarray(fe.output_codes(m, ds.X_test)), logs)
    assert np.array_equal(runs["kd"][1], runs["again"][1])  # seeded: the same teacher, the same model
    assert not np.array_equal(runs["kd"][1], runs["plain"][1])  # the loss did change
    assert any(s.startswith("distillation teacher (mlp, 5 epochs)") for s in runs["kd"][2])
    assert runs["kd"][0].best_val_acc > 0.6  # alpha 1: it learns from the teacher alone (chance: 0.1)


def test_keras_trainer_says_it_does_not_distil():
    pytest.importorskip("tensorflow")
    from lutnet.keras.train import fit
    cfg = _digits_cfg({"teacher": "mlp"})
    with pytest.raises(ConfigError, match=r"^train.distill: the Keras trainer does not distil \(the teacher and its "
                                          r"loss are PyTorch only\); remove train.distill, or train with the PyTorch "
                                          r"frontend \(--framework torch\)$"):
        fit(None, np.zeros((4, 64), np.float32), np.zeros(4, np.int64), cfg.train, progress=False)


def test_teacher_config_is_the_students_with_the_teachers_epochs_and_every_epoch_shifted():
    cfg = from_dict(RunConfig, {"name": "m", "model": {"layers": [10]}, "train": {
        "epochs": 100, "lr": 0.02, "weight_decay": 0.001, "seed": 3,
        "augment": {"shift": 1, "image_shape": [28, 28], "plain_last": 20},
        "distill": {"teacher": "mlp", "epochs": 6, "lr": 0.001}}}, "m.yaml").train
    t = teacher_config(cfg)
    assert (t.epochs, t.lr, t.weight_decay, t.seed, t.distill) == (6, 0.001, 0.0, 3, None)
    assert (t.augment.shift, t.augment.image_shape, t.augment.plain_last) == (1, [28, 28], 0)
    assert cfg.augment.plain_last == 20  # the student's config is not changed
