"""PyTorch checkpoints and saved models.

* A **run checkpoint** (:func:`save_checkpoint` / :func:`load_checkpoint`, what ``lutnet train``
  writes): weights, connectivity and masks (buffers in the state dict), and the run config, in one
  file; the model is rebuilt from the config.  The header rules are shared with Keras
  (:mod:`lutnet.core.checkpoint`).
* A **saved model** (:func:`save_model` / :func:`load_model`, also ``LUTNet.save`` / ``LUTNet.load``):
  any :class:`lutnet.nn.LUTNet` built in Python, no config needed.  ``torch.save(model)`` fails on
  Brevitas' quantizer injectors, so the file stores each layer's constructor arguments instead
  (sizes, fan-in, neuron kind and options, batch norm, quantizer recipe classes by import path with
  their bit widths and range arguments, connectivity) beside the state dict (weights, learned scales,
  batch-norm statistics, pruning masks).  A user-defined quantizer recipe must be importable when
  loading (define it in a module, not in ``__main__`` of another script).
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import torch

from ._files import atomic_write
from .builder import build_model
from .core.checkpoint import FORMATS, MODEL_FORMAT, VERSION, check_format, check_header, header
from .errors import LutnetError


def save_checkpoint(path, model, cfg, in_features: int, metrics: dict | None = None,
                    overwrite: bool = False) -> Path:
    blob = {**header("torch", cfg, in_features, metrics), "state_dict": model.state_dict()}
    return atomic_write(path, lambda tmp: torch.save(blob, tmp), overwrite)


def _read(path, what: str):
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise LutnetError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise LutnetError(f"{path} is a directory, not a {what} file") from None
    except Exception as e:
        raise LutnetError(f"{path} is not a readable lutnet {what}: {e}") from None


def _load_state(path, model, state_dict, what: str):
    from brevitas import config as brevitas_config
    # A quantizer with runtime-statistics scaling has no ``value`` entry until it has seen data; the
    # saved model then had none either, and Brevitas may skip exactly that key (nothing else).
    ignore = brevitas_config.IGNORE_MISSING_KEYS
    brevitas_config.IGNORE_MISSING_KEYS = True
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as e:
        source = "its config describes" if what == "checkpoint" else "its layer arguments describe"
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        raise LutnetError(f"{path}: the weights do not fit the model {source} ({what} from another model?): "
                          f"{' '.join(lines[:2])}") from None
    finally:
        brevitas_config.IGNORE_MISSING_KEYS = ignore
    model.eval()
    return model


def load_checkpoint(path):
    """Returns ``(model, config, metrics)``; the model is rebuilt from the stored config and its
    weights and connectivity are loaded strictly."""
    blob = _read(path, "checkpoint")
    cfg, in_features, metrics = check_header(blob, Path(path), "torch")
    # connectivity (and layer 0's input pool) come from the saved buffers, not from data
    model = build_model(dataclasses.replace(cfg.model, input_min_active=0.0), in_features)
    return _load_state(path, model, blob["state_dict"], "checkpoint"), cfg, metrics


# ---------------------------------------------------------------------- models built in Python
_RANGE_ARGS = ("min_val", "max_val", "signed", "narrow_range")


def _dotted(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _import(dotted: str, path, what: str):
    mod, _, name = dotted.partition(":")
    try:
        obj = importlib.import_module(mod)
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj
    except (ImportError, AttributeError) as e:
        raise LutnetError(f"{path}: cannot import the {what} {dotted.replace(':', '.')} the model was saved with "
                          f"({e}); import or define it in an importable module before loading") from None


_MISSING = object()


def _attr(injector, name):
    """An injector's attribute, or _MISSING (Brevitas raises DependencyError, not AttributeError)."""
    try:
        return getattr(injector, name)
    except Exception:
        return _MISSING


def _quantizer_args(q, where: str) -> dict | None:
    """The constructor arguments of a Brevitas activation quantizer module built from a recipe."""
    if q is None:
        return None
    inj = q.act_quant.quant_injector
    recipe = next((c for c in inj.__mro__ if c.__module__ != "brevitas.inject"), None)
    if recipe is None or "<locals>" in recipe.__qualname__ or recipe.__module__ == "__main__":
        name = getattr(recipe, "__qualname__", type(q).__name__)
        raise LutnetError(f"{where}: quantizer recipe {name} is defined inside a function or in __main__: a saved model "
                          f"names its recipes by import path, so define {name} in an importable module")
    extra = {}
    for k in _RANGE_ARGS:
        v = _attr(inj, k)
        if v is not _MISSING and (_attr(recipe, k) is _MISSING or v != _attr(recipe, k)):
            extra[k] = v.item() if hasattr(v, "item") else v
    return {"module": _dotted(type(q)), "recipe": _dotted(recipe), "bit_width": int(inj.bit_width), "kwargs": extra}


def layer_arguments(layer) -> dict:
    """A LUTLayer's constructor arguments (connectivity as an index list; weights not included)."""
    n = layer.neuron
    options = {k: getattr(n, k) for k in ("degree", "width", "depth", "skip") if hasattr(n, k)}
    return {"in_features": layer.in_features, "out_features": layer.out_features, "fan_in": layer.fan_in,
            "neuron": n.kind, "neuron_options": options, "batch_norm": layer.bn is not None,
            "bn": None if layer.bn is None else {"eps": layer.bn.eps, "momentum": layer.bn.momentum},
            "input_quant": _quantizer_args(layer.input_quant, f"LUTLayer {layer.name!r} input_quant"),
            "output_quant": _quantizer_args(layer.output_quant, f"LUTLayer {layer.name!r} output_quant"),
            "name": layer.name, "connectivity": layer.connectivity.cpu().tolist()}


def _build_quantizer(spec, path):
    if spec is None:
        return None
    module = _import(spec["module"], path, "quantizer module")
    recipe = _import(spec["recipe"], path, "quantizer recipe")
    return module(act_quant=recipe, bit_width=spec["bit_width"], return_quant_tensor=True, **spec["kwargs"])


def _build_layer(a: dict, path):
    from .nn import LUTLayer
    layer = LUTLayer(a["in_features"], a["out_features"], a["fan_in"], a["neuron"],
                     input_quant=_build_quantizer(a["input_quant"], path),
                     output_quant=_build_quantizer(a["output_quant"], path), input_bit_width=None,
                     output_bit_width=None, batch_norm=a["batch_norm"],
                     connectivity=a["connectivity"], name=a["name"], **a["neuron_options"])
    if layer.bn is not None and a.get("bn"):
        layer.bn.eps, layer.bn.momentum = a["bn"]["eps"], a["bn"]["momentum"]
    return layer


def save_model(model, path, overwrite: bool = False) -> Path:
    """Write a :class:`lutnet.nn.LUTNet` (layer arguments + state dict) to ``path``; refuses an
    existing file unless ``overwrite``.  :func:`load_model` gives back an equal model."""
    from .nn import LUTNet
    if not isinstance(model, LUTNet):
        raise LutnetError(f"save_model saves a lutnet.nn.LUTNet, got {type(model).__name__} (a Keras model saves "
                          f"with model.save('name.keras'))")
    blob = {"format": MODEL_FORMAT, "version": VERSION, "layers": [layer_arguments(l) for l in model.layers],
            "state_dict": {k: v for k, v in model.state_dict().items() if ".mapping." not in k}}  # learned
    # wiring is saved frozen (connectivity); the mapping scores are training state
    return atomic_write(path, lambda tmp: torch.save(blob, tmp), overwrite)


def load_model(path):
    """The :class:`lutnet.nn.LUTNet` saved at ``path`` by :func:`save_model`, in eval mode."""
    from .nn import LUTNet
    blob = _read(path, "saved model")
    if isinstance(blob, dict) and blob.get("format") == FORMATS["torch"]:
        raise LutnetError(f"{path} is a training checkpoint, not a saved model: load it with "
                          f"lutnet.checkpoint.load_checkpoint({str(path)!r})")
    check_format(blob, path, MODEL_FORMAT, "saved model", "LUTNet.save / lutnet.checkpoint.save_model")
    model = LUTNet([_build_layer(a, path) for a in blob["layers"]])
    return _load_state(path, model, blob["state_dict"], "saved model")
