"""Plots shared by the tutorials (training curves, confusion matrix, saving a figure); matplotlib only.

The tutorials import this file from their own folder (``python tutorials/<name>.py``, or a notebook
opened in ``tutorials/``)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator


def save(fig, path, dpi: int = 120):
    """Lay out, write and close ``fig``; say where it went."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"wrote {path}")


def training_curves(history: list, title: str, path, val_label: str = "validation"):
    """Loss, training accuracy and validation accuracy per epoch (``fit(...).history``)."""
    epochs = [h["epoch"] + 1 for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["loss"] for h in history], "o-")
    ax1.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax2.plot(epochs, [h["train_acc"] for h in history], "o-", label="training")
    ax2.plot(epochs, [h["val_acc"] for h in history], "s-", label=val_label)
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax2.legend()
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    save(fig, path)


def confusion(y_true, y_pred, n: int) -> np.ndarray:
    """(n, n) confusion matrix, each row normalised to its true class."""
    m = np.zeros((n, n))
    np.add.at(m, (y_true, y_pred), 1)
    return m / np.maximum(m.sum(1, keepdims=True), 1)


def plot_confusion(m, classes, title: str, path, figsize=(5, 4.5), fontsize=None):
    fig, ax = plt.subplots(figsize=figsize)
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=fontsize,
                    color="white" if m[i, j] > 0.5 else "black")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes, yticklabels=classes,
           xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(im, ax=ax)
    save(fig, path)
