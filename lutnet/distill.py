"""Knowledge distillation for the PyTorch trainer (``train.distill``, :class:`lutnet.config.DistillConfig`).

A small floating-point teacher is trained first by :func:`lutnet.train.fit` itself, on the same
training split minus the same validation split and with the same augmentation; the LUT network then
trains on ``(1 - alpha) * CE(labels) + alpha * T**2 * KL(softmax(teacher / T) || softmax(student / T))``
(Hinton et al., 2015), the teacher run on each (augmented) training batch.  Training only: the
teacher is not part of the circuit, and it never sees the validation split or the test set.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from .errors import ConfigError

__all__ = ["distill_loss", "teacher_config", "teacher_net", "train_teacher"]


def teacher_net(kind: str, n_features: int, n_classes: int, image_shape=None) -> torch.nn.Module:
    """The teacher of ``kind``: ``cnn`` (conv 5x5 16 - pool - conv 5x5 32 - pool - linear) on flattened
    images of ``image_shape`` ([H, W] or [H, W, C], channels last), or ``mlp`` (one hidden layer of 256)."""
    if kind == "mlp":
        return torch.nn.Sequential(torch.nn.Linear(n_features, 256), torch.nn.ReLU(), torch.nn.Linear(256, n_classes))
    if kind != "cnn":
        raise ConfigError(f"train.distill.teacher must be cnn or mlp, got {kind!r}")
    h, w = int(image_shape[0]), int(image_shape[1])
    c = int(image_shape[2]) if len(image_shape) > 2 else 1
    if h * w * c != n_features:
        raise ConfigError(f"train.distill: the cnn teacher's image shape {list(image_shape)} has {h * w * c} values, "
                          f"but the data has {n_features} features per sample; set train.distill.image_shape")
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (h, w, c)), _ChannelsFirst(),
        torch.nn.Conv2d(c, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(32 * (h // 4) * (w // 4), n_classes))


class _ChannelsFirst(torch.nn.Module):
    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def teacher_config(cfg):
    """The teacher's ``TrainConfig``: the student's, with ``cfg.distill``'s epochs and learning rate, no
    weight decay, and the augmentation (shifts, rotations) in every epoch (``augment.plain_last`` counts
    the student's last epochs)."""
    d = cfg.distill
    aug = None if cfg.augment is None else dataclasses.replace(cfg.augment, plain_last=0)
    return dataclasses.replace(cfg, epochs=d.epochs, lr=d.lr, weight_decay=0.0, distill=None, augment=aug)


def train_teacher(X_train, y_train, cfg, log=print) -> torch.nn.Module:
    """Train ``cfg.distill``'s teacher with :func:`lutnet.train.fit` on (X_train, y_train): the same
    seed, validation split and augmentation as the student, the teacher's epochs and learning rate,
    no weight decay (:func:`teacher_config`).  Returns it in eval mode (its best validation epoch)."""
    from .train import fit
    d = cfg.distill
    X = np.asarray(X_train)
    n_classes = int(np.max(y_train)) + 1
    shape = d.image_shape or (cfg.augment.image_shape if cfg.augment is not None else None)
    torch.manual_seed(cfg.seed)
    net = teacher_net(d.teacher, X.reshape(len(X), -1).shape[1], n_classes, shape)
    tcfg = teacher_config(cfg)
    res = fit(net, X_train, y_train, tcfg, progress=False)
    if log:
        log(f"distillation teacher ({d.teacher}, {d.epochs} epochs): validation accuracy {res.best_val_acc:.4f}")
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def distill_loss(teacher: torch.nn.Module, temperature: float, alpha: float):
    """``loss(student_logits, x_batch, y_batch)`` for :func:`lutnet.train.fit`'s ``loss_fn``."""
    T, a = float(temperature), float(alpha)

    def loss(out, xb, yb):
        with torch.no_grad():
            t = teacher(xb)
        if t.shape != out.shape:
            raise ConfigError(f"train.distill: the teacher gives {tuple(t.shape)[1:]} scores per sample, the model "
                              f"{tuple(out.shape)[1:]}")
        kd = F.kl_div(F.log_softmax(out / T, 1), F.softmax(t / T, 1), reduction="batchmean") * (T * T)
        return (1 - a) * F.cross_entropy(out, yb) + a * kd
    return loss
