"""Keras checkpoints: the model (``model.keras``: weights, connectivity, quantizers) and ``run.json``
with the checkpoint header (run config, input width, metrics; the rules of
:mod:`lutnet.core.checkpoint`, shared with PyTorch), side by side in one directory.

A DWN-style model (:class:`lutnet.keras.dwn.DWNModel`, a subclassed Keras model) is saved as its
state instead of ``model.keras``: ``dwn_state.npz`` holds the encoder's thresholds and every table
layer's table parameters, frozen ``connectivity`` (the learned mapping) and mapping scores; loading
rebuilds the model from the run config and sets that state (as the PyTorch checkpoint does)."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from .._files import atomic_write, atomic_write_dir
from ..core.checkpoint import check_header, header
from ..errors import LutnetError


def save_checkpoint(path, model, cfg, in_features: int, metrics: dict | None = None,
                    overwrite: bool = False) -> Path:
    """Write directory ``path`` (``model.keras`` + ``run.json``), replacing it only with ``overwrite``."""
    def write(d: Path):
        if _is_dwn(model):
            np.savez(d / DWN_STATE, **model.state())
        else:
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
    cfg, in_features, metrics = check_header(meta, path, "keras", path / "run.json")
    if (path / DWN_STATE).is_file():
        return _load_dwn(path / DWN_STATE, cfg, in_features), cfg, metrics
    try:
        model = tf.keras.models.load_model(path / "model.keras")
    except Exception as e:  # Keras raises ValueError/OSError/TypeError for damaged or foreign files
        raise LutnetError(f"{path / 'model.keras'} is not a readable Keras model: {e}") from None
    return model, cfg, metrics


DWN_STATE = "dwn_state.npz"


def _is_dwn(model) -> bool:
    return bool(getattr(model, "_lutnet_dwn", False))


def _load_dwn(file: Path, cfg, in_features: int):
    from .builder import build_keras_model
    try:
        with np.load(file) as z:
            state = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise LutnetError(f"{file} is not a readable DWN model state: {e}") from None
    model = build_keras_model(cfg.model, in_features)  # thresholds, wiring and tables come from the state
    return model.load_state(state, str(file))


# ---------------------------------------------------------------------- models built in Python
def save_model(model, path, overwrite: bool = False) -> Path:
    """Write a Keras LUT model to ``path`` (a ``.keras`` file: layers, quantizers, weights, masks);
    refuses an existing file unless ``overwrite``.  :func:`load_model` reads it back."""
    path = Path(path)
    if _is_dwn(model):
        raise LutnetError(f"{path}: a lutnet.keras.dwn.DWNModel is not a .keras model file (a subclassed model); "
                          f"save it as a run checkpoint (lutnet train, or get_frontend('keras').save_checkpoint with "
                          f"its config)")
    if path.suffix != ".keras":
        raise LutnetError(f"{path}: a Keras model file must end in .keras (Keras' own format)")

    def write(tmp):
        with tempfile.TemporaryDirectory(dir=Path(tmp).parent) as d:
            model.save(Path(d) / path.name)
            os.replace(Path(d) / path.name, tmp)
    return atomic_write(path, write, overwrite)


def load_model(path):
    """The Keras LUT model saved at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise LutnetError(f"{path}: no such saved Keras model file")
    try:
        return tf.keras.models.load_model(path)
    except Exception as e:  # Keras raises ValueError/OSError/TypeError for damaged or foreign files
        raise LutnetError(f"{path} is not a readable Keras model: {e}") from None
