"""Checkpoints: weights, connectivity (a buffer in the state dict) and the run config, in one file."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from .builder import build_model
from .config import RunConfig, from_dict
from ._files import atomic_write
from .errors import LutnetError

FORMAT = "lutnet-checkpoint"
VERSION = 1


def save_checkpoint(path, model, cfg: RunConfig, in_features: int, metrics: dict | None = None,
                    overwrite: bool = False) -> Path:
    blob = {"format": FORMAT, "version": VERSION, "config": cfg.to_dict(), "in_features": int(in_features),
            "state_dict": model.state_dict(), "metrics": dict(metrics or {})}
    return atomic_write(path, lambda tmp: torch.save(blob, tmp), overwrite)


def load_checkpoint(path):
    """Returns ``(model, config, metrics)``; the model is rebuilt from the stored config and its
    weights and connectivity are loaded strictly."""
    path = Path(path)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise LutnetError(f"{path}: no such checkpoint file") from None
    except Exception as e:
        raise LutnetError(f"{path} is not a readable lutnet checkpoint: {e}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise LutnetError(f"{path} is not a lutnet checkpoint (written by lutnet train / save_checkpoint)")
    if blob.get("version") != VERSION:
        raise LutnetError(f"{path}: checkpoint version {blob.get('version')} is not supported (this lutnet reads {VERSION})")
    cfg = from_dict(RunConfig, blob["config"], str(path))
    # connectivity (and layer 0's input pool) come from the saved buffers, not from data
    model = build_model(dataclasses.replace(cfg.model, input_min_active=0.0), blob["in_features"])
    try:
        model.load_state_dict(blob["state_dict"], strict=True)
    except RuntimeError as e:
        raise LutnetError(f"{path}: the weights do not fit the model its config describes "
                          f"(checkpoint from another model?): {str(e).splitlines()[0]}") from None
    model.eval()
    return model, cfg, blob.get("metrics", {})
