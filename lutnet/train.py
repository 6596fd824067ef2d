"""A generic trainer for LUT networks: Adam + cosine schedule, validation split carved from the
training set (never the test set), best checkpoint by validation accuracy, seeded.  The rules are
shared with the Keras trainer (:mod:`lutnet.core.training`)."""
from __future__ import annotations

import copy
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import TrainConfig
from .core.augment import augment_from_config, augment_rng
from .core.training import BestEpoch, TrainResult, batched_accuracy, split, steps_total

__all__ = ["TrainResult", "accuracy", "fit"]


@torch.no_grad()
def accuracy(model, X, y, batch_size: int = 4096) -> float:
    """Accuracy of the model in eval mode (the bit-exact inference path)."""
    was = model.training
    model.eval()
    try:
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        return batched_accuracy(lambda xb: model(xb).numpy(), X, y, batch_size)
    finally:
        model.train(was)


def fit(model, X_train, y_train, cfg: TrainConfig, progress: bool = True, log=print, on_epoch=None,
        param_groups=None, augment=None, loss_fn=None) -> TrainResult:
    """Train ``model`` on (X_train, y_train); a stratified ``cfg.val_fraction`` of it is held out for
    validation.  The weights of the epoch with the best validation accuracy are restored at the end.
    ``on_epoch(record)`` is called after every epoch with its loss, accuracies and seconds (e.g. to
    report to a sweep scheduler that may stop the trial).  ``param_groups``: Adam parameter groups
    (e.g. another learning rate for some parameters) instead of ``model.parameters()``.  ``augment``: a
    :class:`lutnet.core.augment.BatchAugment` for the training batches (default: ``cfg.augment``'s).
    ``loss_fn(logits, x_batch, y_batch)``: the training loss (default: cross-entropy, or
    :mod:`lutnet.distill`'s when ``cfg.distill`` is set: its teacher is trained first, here)."""
    if loss_fn is None and getattr(cfg, "distill", None) is not None:
        from .distill import distill_loss, train_teacher
        loss_fn = distill_loss(train_teacher(X_train, y_train, cfg, log=log), cfg.distill.temperature,
                               cfg.distill.alpha)
    X_tr, y_tr, X_val, y_val = split(X_train, y_train, cfg)
    if augment is None:
        augment = augment_from_config(cfg, X_tr.shape[1])
    aug_rng = augment_rng(cfg)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    X_tr = torch.as_tensor(X_tr, dtype=torch.float32)
    y_tr = torch.as_tensor(y_tr, dtype=torch.long)
    n = len(X_tr)
    steps = steps_total(n, cfg)
    opt = torch.optim.Adam(model.parameters() if param_groups is None else param_groups, lr=cfg.lr,
                           weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    best = BestEpoch()
    best_state = None
    bar = tqdm(range(cfg.epochs), disable=not progress, desc="train", unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        aug_on = augment is not None and augment.active(epoch, cfg.epochs)
        total, correct, seen = 0.0, 0, 0
        for i in range(0, n - 1, cfg.batch_size):  # a last batch of 1 sample would break batch norm
            idx = perm[i:i + cfg.batch_size]
            if len(idx) < 2:
                continue
            xb = X_tr[idx] if not aug_on else torch.from_numpy(augment(X_tr[idx].numpy(), aug_rng))
            out = model(xb)
            if loss_fn is None:
                loss = torch.nn.functional.cross_entropy(out, y_tr[idx])
            else:
                loss = loss_fn(out, xb, y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched.last_epoch < steps:
                sched.step()
            total += float(loss.detach()) * len(idx)
            correct += int((out.argmax(1) == y_tr[idx]).sum())
            seen += len(idx)
        if best.record(epoch, total / max(seen, 1), correct / max(seen, 1), accuracy(model, X_val, y_val)):
            best_state = copy.deepcopy(model.state_dict())
        best.last["seconds"] = round(time.perf_counter() - t0, 2)
        bar.set_postfix_str(best.describe())
        if on_epoch is not None:
            on_epoch(best.last)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return best.result
