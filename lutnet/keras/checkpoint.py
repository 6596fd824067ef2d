"""Keras checkpoints: the model (``model.keras``: weights, connectivity, quantizers) and a JSON file
with the run config, input width and metrics, side by side in one directory."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from ..config import RunConfig, from_dict
from ..errors import LutnetError, OutputExistsError

FORMAT = "lutnet-keras-checkpoint"
VERSION = 1


def save_checkpoint(path, model, cfg: RunConfig, in_features: int, metrics: dict | None = None,
                    overwrite: bool = False) -> Path:
    """Write directory ``path`` (``model.keras`` + ``run.json``), replacing it only with ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".lutnet-", dir=path.parent))
    try:
        model.save(tmp / "model.keras")
        meta = {"format": FORMAT, "version": VERSION, "config": cfg.to_dict(), "in_features": int(in_features),
                "metrics": dict(metrics or {})}
        (tmp / "run.json").write_text(json.dumps(meta, indent=1))
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def load_checkpoint(path):
    """``(model, config, metrics)`` from a directory written by :func:`save_checkpoint`."""
    path = Path(path)
    try:
        meta = json.loads((path / "run.json").read_text())
    except (OSError, ValueError) as e:
        raise LutnetError(f"{path} is not a readable lutnet Keras checkpoint: {e}") from None
    if meta.get("format") != FORMAT:
        raise LutnetError(f"{path} is not a lutnet Keras checkpoint (written by lutnet.keras.checkpoint)")
    if meta.get("version") != VERSION:
        raise LutnetError(f"{path}: checkpoint version {meta.get('version')} is not supported (this lutnet reads {VERSION})")
    cfg = from_dict(RunConfig, meta["config"], str(path / "run.json"))
    model = tf.keras.models.load_model(path / "model.keras")
    return model, cfg, meta.get("metrics", {})
