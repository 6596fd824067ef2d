"""Checkpoint rules shared by every framework (no framework import).

A run checkpoint holds the model's weights and connectivity plus a header: format name, version,
the run config (:class:`lutnet.config.RunConfig`), the input width and the metrics.  The PyTorch
checkpoint is one file (``torch.save`` of the header with the state dict); the Keras one a directory
(``model.keras`` + ``run.json`` holding the header).  Both are checked here, with the same messages.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import LutnetError

VERSION = 1
FORMATS = {"torch": "lutnet-checkpoint", "keras": "lutnet-keras-checkpoint"}
WRITERS = {"torch": "lutnet train / save_checkpoint",
           "keras": "lutnet train --framework keras / lutnet.keras.checkpoint.save_checkpoint"}
MODEL_FORMAT = "lutnet-model"  # LUTNet.save: layer arguments + weights, no run config


def header(framework: str, cfg, in_features: int, metrics: dict | None = None) -> dict:
    """The header every checkpoint of ``framework`` carries."""
    return {"format": FORMATS[framework], "version": VERSION, "config": cfg.to_dict(),
            "in_features": int(in_features), "metrics": dict(metrics or {})}


def check_format(blob, path, fmt: str, what: str, writer: str):
    """A :class:`LutnetError` unless ``blob`` is a dict of format ``fmt`` and this version."""
    if not isinstance(blob, dict) or blob.get("format") != fmt:
        raise LutnetError(f"{path} is not a lutnet {what} (written by {writer})")
    if blob.get("version") != VERSION:
        raise LutnetError(f"{path}: {what.split()[-1]} version {blob.get('version')} is not supported "
                          f"(this lutnet reads {VERSION})")


def check_header(blob, path, framework: str, config_where=None):
    """``(config, in_features, metrics)`` of a checkpoint header, or a :class:`LutnetError` naming
    ``path`` and what it is instead."""
    from ..config import RunConfig, from_dict
    kind = "Keras checkpoint" if framework == "keras" else "checkpoint"
    if isinstance(blob, dict) and blob.get("format") == MODEL_FORMAT:
        raise LutnetError(f"{path} is a model saved with LUTNet.save, not a training checkpoint: load it with "
                          f"lutnet.nn.LUTNet.load({str(path)!r})")
    check_format(blob, path, FORMATS[framework], kind, WRITERS[framework])
    for key in ("config", "in_features"):
        if key not in blob:
            raise LutnetError(f"{path}: the checkpoint header has no {key!r}; the file is damaged, retrain it")
    cfg = from_dict(RunConfig, blob["config"], str(config_where or path))
    return cfg, int(blob["in_features"]), blob.get("metrics", {})


def sniff(path) -> str:
    """``"torch"`` or ``"keras"``: which framework wrote the checkpoint at ``path`` (read without
    importing either).  A missing path or a file that is neither is a :class:`LutnetError` naming it."""
    import zipfile
    p = Path(path)
    if not p.exists():
        raise LutnetError(f"{p}: no such checkpoint file or directory (lutnet train writes "
                          f"runs/<name>/checkpoint.pt, or runs/<name>/checkpoint_keras/ with --framework keras)")
    if p.is_dir():
        if (p / "run.json").is_file() and ((p / "model.keras").exists() or (p / "dwn_state.npz").is_file()):
            return "keras"
        raise LutnetError(f"{p} is a directory but not a lutnet Keras checkpoint (it needs run.json and "
                          f"model.keras, or dwn_state.npz for a DWN model, as lutnet train --framework keras "
                          f"writes them)")
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        names = []
    if any(n.endswith("data.pkl") for n in names):
        return "torch"
    if any(n.startswith("header") or n.endswith(".npy") for n in names):
        raise LutnetError(f"{p} looks like a LUT IR file, not a checkpoint: the IR is what lutnet export writes "
                          f"from a checkpoint; use it with lutnet info/verilog/simulate/build")
    raise LutnetError(f"{p} is not a lutnet checkpoint (a PyTorch checkpoint file written by lutnet train, or a "
                      f"Keras checkpoint directory)")
