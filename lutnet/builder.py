"""Model configs → LUTNet models."""
from __future__ import annotations

import numpy as np
import torch

from .config import ModelConfig
from .core.plan import layer_fan_in, plan_layers
from .errors import ConfigError
from .nn import LUTLayer, LUTNet
from .nn.layer import CONNECTIVITY
from .quant import SignedActQuant, UnsignedActQuant, int_codes, make_act_quant


def build_model(cfg: ModelConfig, in_features: int, X_train=None) -> LUTNet:
    """The LUTNet a ModelConfig describes: hidden layers have unsigned (ReLU-like) ``hidden_bits``
    outputs, the last layer signed ``output_bits`` class scores; layer 0 quantizes the float input
    to ``input_bits`` codes initialised for the range ``[-input_range, input_range]`` (signed) or
    ``[0, input_range]`` (unsigned).  ``X_train`` (training inputs, never test data) is needed only
    when ``cfg.input_min_active`` > 0."""
    with torch.random.fork_rng():  # weights drawn from cfg.seed, the caller's RNG untouched
        torch.manual_seed(cfg.seed)
        if getattr(cfg, "encoder", None) is not None:  # DWN-style: thermometer, table layers, groupsum head
            from .nn.dwn import build_dwn
            return build_dwn(cfg, in_features, X_train)
        return _build(cfg, in_features, X_train)


def input_quantizer(cfg: ModelConfig):
    r = cfg.input_range
    return (make_act_quant(SignedActQuant, cfg.input_bits, "input_quant", min_val=-r, max_val=r)
            if cfg.input_signed else make_act_quant(UnsignedActQuant, cfg.input_bits, "input_quant", max_val=r))


def active_inputs(cfg: ModelConfig, X_train) -> np.ndarray:
    """Indices of the inputs whose code (under the untrained input quantizer) differs from its most
    common value in at least ``cfg.input_min_active`` of the samples of ``X_train``."""
    X = torch.as_tensor(np.asarray(X_train), dtype=torch.float32)
    q = input_quantizer(cfg).eval()
    with torch.no_grad():
        codes = torch.cat([int_codes(q(X[i:i + 8192])).to(torch.int64) for i in range(0, len(X), 8192)])
    mode = torch.mode(codes, dim=0).values
    active = (codes != mode).to(torch.float64).mean(0).numpy()
    return np.nonzero(active >= cfg.input_min_active)[0]


def model_plan(cfg: ModelConfig, in_features: int, X_train=None):
    """The per-layer plan (:func:`lutnet.core.plan.plan_layers`) both builders create layers from:
    connectivity drawn with :data:`lutnet.nn.layer.CONNECTIVITY`, layer 0 from its input pool."""
    return plan_layers(cfg, in_features, CONNECTIVITY, input_pool(cfg, in_features, X_train))


def input_pool(cfg: ModelConfig, in_features: int, X_train):
    """Layer 0's input pool (None: all inputs)."""
    if not cfg.input_min_active:
        return None
    if X_train is None:
        raise ConfigError("model.input_min_active is set, so the model needs the training inputs to choose "
                          "layer 0's inputs: build_model(cfg, n_features, X_train)")
    if np.shape(X_train)[-1] != in_features:
        raise ConfigError(f"build_model: X_train has {np.shape(X_train)[-1]} features but in_features={in_features}")
    pool = active_inputs(cfg, X_train)
    fan_in = layer_fan_in(cfg, 0)
    if len(pool) < fan_in:
        raise ConfigError(f"model.input_min_active={cfg.input_min_active}: only {len(pool)} inputs are active in "
                          f"the training data, fewer than layer 0's fan_in={fan_in}; lower input_min_active")
    return pool


def _build(cfg: ModelConfig, in_features: int, X_train) -> LUTNet:
    in_quant = input_quantizer(cfg)
    return LUTNet([LUTLayer(
        p.in_features, p.out_features, p.fan_in, p.neuron["kind"], input_quant=in_quant if p.first else None,
        output_quant=SignedActQuant if p.out_signed else UnsignedActQuant, output_bit_width=p.out_bits,
        batch_norm=p.batch_norm, seed=p.seed, name=p.name, connectivity=torch.as_tensor(p.connectivity),
        mapping=_mapping(cfg, p), mapping_candidates=getattr(cfg, "mapping_candidates", None),
        **p.neuron_options) for p in model_plan(cfg, in_features, X_train)])


def _mapping(cfg: ModelConfig, p):
    """``"learnable"`` for the layers whose wiring is learned (the layer's ``mapping``, else the
    model's); the upper levels of a table tree keep their fixed tree wiring."""
    if p.level != 0:
        return None
    m = getattr(cfg.layers[p.index], "mapping", None) or getattr(cfg, "mapping", None)
    return m if m == "learnable" else None
