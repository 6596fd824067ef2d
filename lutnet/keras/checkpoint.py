"""Keras checkpoints: the model (``model.keras``: weights, connectivity, quantizers) and ``run.json``
with the checkpoint header (run config, input width, metrics; the rules of
:mod:`lutnet.core.checkpoint`, shared with PyTorch), side by side in one directory."""
from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from .._files import atomic_write_dir
from ..core.checkpoint import check_header, header
from ..errors import LutnetError


def save_checkpoint(path, model, cfg, in_features: int, metrics: dict | None = None,
                    overwrite: bool = False) -> Path:
    """Write directory ``path`` (``model.keras`` + ``run.json``), replacing it only with ``overwrite``."""
    def write(d: Path):
        model.save(d / "model.keras")
        (d / "run.json").write_text(json.dumps(header("keras", cfg, in_features, metrics), indent=1))
    return atomic_write_dir(path, write, overwrite)


def load_checkpoint(path):
    """``(model, config, metrics)`` from a directory written by :func:`save_checkpoint`."""
    path = Path(path)
    try:
        meta = json.loads((path / "run.json").read_text())
    except (OSError, ValueError) as e:
        raise LutnetError(f"{path} is not a readable lutnet Keras checkpoint: {e}") from None
    cfg, _, metrics = check_header(meta, path, "keras", path / "run.json")
    try:
        model = tf.keras.models.load_model(path / "model.keras")
    except Exception as e:  # Keras raises ValueError/OSError/TypeError for damaged or foreign files
        raise LutnetError(f"{path / 'model.keras'} is not a readable Keras model: {e}") from None
    return model, cfg, metrics
