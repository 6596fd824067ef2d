"""One answer, everywhere, to "which framework is this model or checkpoint, and how do I build, train,
export, checkpoint and prune it": a :class:`Frontend` per framework.

>>> from lutnet.frontend import frontend_of, get_frontend
>>> fe = frontend_of("runs/digits-s/checkpoint.pt")       # or a model object, or a Keras checkpoint dir
>>> model, cfg, metrics = fe.load_checkpoint("runs/digits-s/checkpoint.pt")
>>> ir = fe.to_ir(model)
>>> get_frontend("keras").build(cfg.model, 64)            # "torch"/"brevitas" or "keras"/"qkeras"

Each frontend imports its framework only when used: asking which framework a model object belongs
to never imports TensorFlow (a Keras model can only exist once TensorFlow is loaded) nor, for a
Keras model, Brevitas.  Used by the CLI, :func:`lutnet.verify.verify`, the verification harness and
the pruning API (:func:`prune`).
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

from .errors import LutnetError

__all__ = ["FRONTENDS", "Frontend", "KerasFrontend", "TorchFrontend", "frontend_of", "get_frontend", "is_stage_model"]


class Frontend:
    """What lutnet does with a framework's LUT networks.  Subclasses: :class:`TorchFrontend`
    (Brevitas ``lutnet.nn.LUTNet``) and :class:`KerasFrontend` (Keras models of
    ``lutnet.keras.LUTLayer``).  Each names, in ``implementation``, the function behind every role
    (``"module:attribute"``), imported on first use."""
    name: str = ""               # the CLI's --framework value
    framework: str = ""          # what the model is written in
    aliases: tuple = ()
    checkpoint_name: str = ""    # what lutnet train writes inside --output
    implementation: dict = {}

    def __repr__(self):
        return f"<lutnet frontend {self.name!r} ({self.framework})>"

    def _impl(self, role: str):
        module, _, attr = self.implementation[role].partition(":")
        return getattr(importlib.import_module(module), attr)

    # ------------------------------------------------------------ detection
    def is_model(self, model) -> bool:
        raise NotImplementedError

    # ------------------------------------------------------------ build, train
    def build(self, cfg, in_features: int, X_train=None):
        """The model a :class:`lutnet.config.ModelConfig` describes (untrained, seeded by the config)."""
        return self._impl("build")(cfg, in_features, X_train)

    def fit(self, model, X_train, y_train, cfg, progress: bool = True, log=print, **kwargs):
        """Train with a :class:`~lutnet.config.TrainConfig`; returns a ``TrainResult``."""
        return self._impl("fit")(model, X_train, y_train, cfg, progress=progress, log=log, **kwargs)

    def build_and_fit(self, model_cfg, train_cfg, X_train, y_train, progress: bool = True, log=print,
                      on_epoch=None):
        """``(model, TrainResult)`` of a config, the way ``lutnet train`` does it: with
        ``model.learn_connectivity`` a wider pre-training then knapsack / group-lasso input selection
        and fine-tuning (:func:`lutnet.pruning.learn.fit_learned`; ``on_epoch`` sees the pre-training
        epochs), else :meth:`build` and :meth:`fit`."""
        if model_cfg.learn_connectivity is not None:
            from .pruning.learn import fit_learned
            model, result, _ = fit_learned(self, model_cfg, train_cfg, X_train, y_train, log=log, progress=progress,
                                           on_epoch=on_epoch)
            return model, result
        model = self.build(model_cfg, np.shape(X_train)[-1], X_train)
        kw = {} if on_epoch is None else {"on_epoch": on_epoch}
        return model, self.fit(model, X_train, y_train, train_cfg, progress=progress, log=log, **kw)

    def accuracy(self, model, X, y) -> float:
        return self._impl("accuracy")(model, X, y)

    # ------------------------------------------------------------ export, codes
    def to_ir(self, model, **kwargs):
        """The model's :class:`~lutnet.ir.NetworkIR` (``max_rows``, ``metadata``, ``progress``, ...)."""
        return self._impl("to_ir")(model, **kwargs)

    def input_codes(self, model, X) -> np.ndarray:
        """(N, n_inputs) int64 codes the model's input quantizer gives float features."""
        if is_stage_model(model):
            return np.asarray(model.input_codes(X))
        return self._input_codes(model, X)

    def output_codes(self, model, X, batch_size: int = 8192) -> np.ndarray:
        """(N, n_outputs) int64 output codes of the model in inference mode."""
        if is_stage_model(model):
            return np.asarray(model.output_codes(X, batch_size=batch_size))
        return self._output_codes(model, X, batch_size)

    def layer_codes(self, model, X) -> list:
        """Every LUT layer's (N, out) int64 output codes for float inputs, in inference mode; for a
        stage model (DWN-style) every stage's codes, as ``NetworkIR.evaluate(return_all=True)``."""
        if is_stage_model(model):
            return [np.asarray(c) for c in model.layer_codes(X)]
        return self._layer_codes(model, X)

    def _input_codes(self, model, X):
        raise NotImplementedError

    def _output_codes(self, model, X, batch_size):
        raise NotImplementedError

    def _layer_codes(self, model, X):
        raise NotImplementedError

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path, model, cfg, in_features: int, metrics: dict | None = None,
                        overwrite: bool = False) -> Path:
        return self._impl("save_checkpoint")(path, model, cfg, in_features, metrics, overwrite)

    def load_checkpoint(self, path):
        """``(model, run config, metrics)``."""
        return self._impl("load_checkpoint")(path)

    def save_model(self, model, path, overwrite: bool = False) -> Path:
        """Save a model built in Python (no run config): ``LUTNet.save`` / a ``.keras`` file."""
        return self._impl("save_model")(model, path, overwrite)

    def load_model(self, path):
        return self._impl("load_model")(path)

    # ------------------------------------------------------------ pruning
    def prune_target(self, model):
        """The model as :mod:`lutnet.pruning.loop` sees it (a ``LutPruneTarget``)."""
        return self._impl("prune_target")(model)

    def prune(self, model, budget: float, **kwargs):
        """Prune to a LUT budget in place: the options of :func:`lutnet.pruning.prune_lut_network`
        (``metric``, ``method``, ``data``, ``cost_model`` incl. ``"estimate"``, ...)."""
        from .pruning.loop import prune_lut
        return prune_lut(self.prune_target(model), budget, **kwargs)

    def lut_cost(self, model, cost_model="lutcost") -> float:
        from .pruning.loop import lut_cost
        return lut_cost(self.prune_target(model), cost_model)


class TorchFrontend(Frontend):
    name, framework, aliases, checkpoint_name = "torch", "brevitas", ("brevitas", "pytorch"), "checkpoint.pt"
    implementation = {"build": "lutnet.builder:build_model", "fit": "lutnet.train:fit",
                      "accuracy": "lutnet.train:accuracy", "to_ir": "lutnet.export:to_ir",
                      "save_checkpoint": "lutnet.checkpoint:save_checkpoint",
                      "load_checkpoint": "lutnet.checkpoint:load_checkpoint",
                      "save_model": "lutnet.checkpoint:save_model", "load_model": "lutnet.checkpoint:load_model",
                      "prune_target": "lutnet.pruning.torch_prune:TorchLutTarget"}

    def is_model(self, model) -> bool:
        if "torch" not in sys.modules:  # no torch object can exist yet
            return False
        from .nn import LUTNet
        from .nn.dwn import DWNNet
        return isinstance(model, (LUTNet, DWNNet))

    def _input_codes(self, model, X):
        import torch
        return model.input_codes(torch.as_tensor(np.asarray(X), dtype=torch.float32)).numpy()

    def _output_codes(self, model, X, batch_size):
        import torch
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        return model.output_codes(X, batch_size=batch_size).numpy()

    def _layer_codes(self, model, X):
        import torch

        from .quant import int_codes
        x = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        was = model.training
        model.eval()
        try:
            with torch.no_grad():
                qt, layers = x, []
                for layer in model.layers:
                    qt = layer(qt)
                    layers.append(int_codes(qt).to(torch.int64).numpy())
        finally:
            model.train(was)
        return layers


class KerasFrontend(Frontend):
    name, framework, aliases, checkpoint_name = "keras", "qkeras", ("qkeras", "tensorflow"), "checkpoint_keras"
    implementation = {"build": "lutnet.keras.builder:build_keras_model", "fit": "lutnet.keras.train:fit",
                      "accuracy": "lutnet.keras.train:accuracy", "to_ir": "lutnet.keras.export:to_ir",
                      "save_checkpoint": "lutnet.keras.checkpoint:save_checkpoint",
                      "load_checkpoint": "lutnet.keras.checkpoint:load_checkpoint",
                      "save_model": "lutnet.keras.checkpoint:save_model",
                      "load_model": "lutnet.keras.checkpoint:load_model",
                      "prune_target": "lutnet.pruning.keras_prune:KerasLutTarget"}

    def is_model(self, model) -> bool:
        if not any(m in sys.modules for m in ("tensorflow", "keras", "tf_keras")):
            return False
        import tensorflow as tf
        return isinstance(model, tf.keras.Model)

    def _input_codes(self, model, X):
        from .keras.layers import input_codes
        return np.asarray(input_codes(model, np.asarray(X, np.float32)))

    def _output_codes(self, model, X, batch_size):
        from .keras.layers import output_codes
        return np.asarray(output_codes(model, np.asarray(X, np.float32), batch_size=batch_size))

    def _layer_codes(self, model, X):
        from .keras import lut_layers
        v, layers = np.asarray(X, np.float32), []
        for layer in lut_layers(model):
            v = layer(v, training=False)
            layers.append(layer.output_encoding.to_codes(np.asarray(v)))
        return layers


def is_stage_model(model) -> bool:
    """A model that computes its own stage codes and whole IR (DWN-style: thermometer encoder, table
    layers, GroupSum head, argmax; ``lutnet.nn.dwn.DWNNet``, ``lutnet.keras.dwn.DWNModel``): it has
    ``input_codes``, ``output_codes``, ``layer_codes`` and ``to_ir``.  Every frontend role that reads
    codes, the harness's ``model`` level and the hls4ml converters go through these methods."""
    return all(callable(getattr(model, m, None)) for m in ("input_codes", "output_codes", "layer_codes", "to_ir"))


FRONTENDS = {"torch": TorchFrontend(), "keras": KerasFrontend()}


def get_frontend(name: str) -> Frontend:
    """The frontend called ``name`` (``torch``/``brevitas``/``pytorch`` or ``keras``/``qkeras``)."""
    if isinstance(name, Frontend):
        return name
    key = str(name).lower()
    for fe in FRONTENDS.values():
        if key == fe.name or key in fe.aliases:
            return fe
    known = ", ".join(n for fe in FRONTENDS.values() for n in (fe.name, *fe.aliases))
    raise LutnetError(f"unknown framework {name!r}; known: {known}")


def frontend_of(model_or_path) -> Frontend:
    """The frontend of a model object (a ``lutnet.nn.LUTNet``, a Keras model of
    ``lutnet.keras.LUTLayer``) or of a checkpoint path (a PyTorch checkpoint file or a Keras
    checkpoint directory, told apart without importing either framework).  Anything else is a
    :class:`~lutnet.errors.LutnetError` naming it."""
    if isinstance(model_or_path, (str, Path)):
        from .core.checkpoint import sniff
        return FRONTENDS[sniff(model_or_path)]
    for fe in FRONTENDS.values():
        if fe.is_model(model_or_path):
            return fe
    raise LutnetError(f"expected a lutnet.nn.LUTNet, a Keras model of lutnet.keras.LUTLayer layers or a checkpoint "
                      f"path; got a {type(model_or_path).__module__}.{type(model_or_path).__qualname__}")


def load_any_checkpoint(path):
    """``(frontend, model, config)`` of a PyTorch (file) or Keras (directory) checkpoint."""
    fe = frontend_of(path)
    model, cfg, _ = fe.load_checkpoint(path)
    return fe, model, cfg
