"""A generic trainer for LUT networks: Adam + cosine schedule, validation split carved from the
training set (never the test set), best checkpoint by validation accuracy, seeded."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import TrainConfig
from .data import train_val_split


@dataclass
class TrainResult:
    best_epoch: int
    best_val_acc: float
    history: list = field(default_factory=list)


@torch.no_grad()
def accuracy(model, X, y, batch_size: int = 4096) -> float:
    """Accuracy of the model in eval mode (the bit-exact inference path)."""
    was = model.training
    model.eval()
    try:
        X = torch.as_tensor(X, dtype=torch.float32)
        pred = torch.cat([model(X[i:i + batch_size]).argmax(1) for i in range(0, len(X), batch_size)])
    finally:
        model.train(was)
    return float((pred.numpy() == np.asarray(y)).mean()) if len(X) else float("nan")


def fit(model, X_train, y_train, cfg: TrainConfig, progress: bool = True, log=print, on_epoch=None) -> TrainResult:
    """Train ``model`` on (X_train, y_train); a stratified ``cfg.val_fraction`` of it is held out for
    validation.  The weights of the epoch with the best validation accuracy are restored at the end.
    ``on_epoch(record)`` is called after every epoch with its loss and accuracies (e.g. to report to
    a sweep scheduler that may stop the trial)."""
    X_tr, y_tr, X_val, y_val = train_val_split(np.asarray(X_train), np.asarray(y_train), cfg.val_fraction, cfg.seed)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    X_tr = torch.as_tensor(X_tr, dtype=torch.float32)
    y_tr = torch.as_tensor(y_tr, dtype=torch.long)
    n = len(X_tr)
    steps = max(1, n // cfg.batch_size) * cfg.epochs
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    best = TrainResult(best_epoch=-1, best_val_acc=-1.0)
    best_state = None
    bar = tqdm(range(cfg.epochs), disable=not progress, desc="train", unit="epoch")
    for epoch in bar:
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, correct, seen = 0.0, 0, 0
        for i in range(0, n - 1, cfg.batch_size):  # a last batch of 1 sample would break batch norm
            idx = perm[i:i + cfg.batch_size]
            if len(idx) < 2:
                continue
            out = model(X_tr[idx])
            loss = torch.nn.functional.cross_entropy(out, y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched.last_epoch < steps:
                sched.step()
            total += float(loss.detach()) * len(idx)
            correct += int((out.argmax(1) == y_tr[idx]).sum())
            seen += len(idx)
        val_acc = accuracy(model, X_val, y_val)
        rec = {"epoch": epoch, "loss": total / max(seen, 1), "train_acc": correct / max(seen, 1), "val_acc": val_acc}
        best.history.append(rec)
        if val_acc > best.best_val_acc:
            best.best_val_acc, best.best_epoch = val_acc, epoch
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{rec['loss']:.3f}", val=f"{val_acc:.3f}", best=f"{best.best_val_acc:.3f}")
        if on_epoch is not None:
            on_epoch(rec)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return best
