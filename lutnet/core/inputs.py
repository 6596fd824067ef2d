"""One input check for every entry point that takes data: the PyTorch/QKeras models in eval mode,
``NetworkIR.quantize_input/predict/evaluate``, the hls4ml backend's ``predict`` (C simulation and
Verilog simulation), ``lutnet.rtl.simulate`` and ``lutnet.onnx_export.run_onnx``.

The rules follow hls4ml's ``ModelGraph.predict``:

* a batch is ``(N, n_features)`` (higher-rank arrays are flattened per sample when the trailing
  dimensions hold exactly ``n_features`` values);
* a 1-D array of ``n_features`` values is one sample (callers return that sample's result without
  the batch dimension);
* an empty batch gives an empty result of shape ``(0, n_out)``;
* any other shape is refused with one message naming the expected and the given feature count.

Features (floats for the input quantizer) must not be NaN.  Codes (integers a quantizer produced)
must be integers (floats holding whole numbers are accepted, fractional ones refused: they are
features passed as codes) inside the input encoding's range.  Every refusal is an
:class:`lutnet.errors.InputError` with the same text whichever entry point raised it.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def _as_array(x) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # tf.Tensor
        x = x.numpy()
    return np.asarray(x)


def nan_error(sample: int, feature: int) -> InputError:
    return InputError(f"input features contain NaN (first at sample {sample}, feature {feature}); a quantizer "
                      f"has no code for NaN: replace missing values before calling the model")


def batch_shape(x, n_features: int, what: str = "features") -> tuple[np.ndarray, bool]:
    """``(x as an (N, n_features) array, single)``; ``single`` is True for one 1-D sample."""
    a = _as_array(x)
    if a.dtype == object:
        raise InputError(f"input {what} must be a numeric array; got an array of Python objects "
                         f"(ragged rows?) of shape {a.shape}")
    if a.size == 0:
        return a.reshape(0, n_features), False
    if a.ndim == 0:
        raise InputError(f"input {what}: expected {n_features} features per sample, got a scalar")
    if a.ndim == 1:
        if a.shape[0] != n_features:
            raise InputError(f"input {what}: expected {n_features} features per sample, got {a.shape[0]} "
                             f"(a 1-D array is one sample)")
        return a.reshape(1, n_features), True
    per_sample = int(np.prod(a.shape[1:]))
    if per_sample != n_features:
        raise InputError(f"input {what}: expected {n_features} features per sample, got {per_sample} "
                         f"(input shape {tuple(a.shape)})")
    return a.reshape(a.shape[0], n_features), False


def check_features(x, n_features: int) -> tuple[np.ndarray, bool]:
    """Float features, validated: ``(array (N, n_features) float32, single)``."""
    a, single = batch_shape(x, n_features, "features")
    if a.dtype.kind not in "biuf":
        raise InputError(f"input features must be numbers; got dtype {a.dtype}")
    a = a.astype(np.float32, copy=False)
    if a.size and np.isnan(a).any():
        i, j = (int(v) for v in np.argwhere(np.isnan(a))[0])
        raise nan_error(i, j)
    return a, single


def check_codes(codes, n_inputs: int, code_min: int, code_max: int, bits: int | None = None,
                signed: bool | None = None) -> tuple[np.ndarray, bool]:
    """Integer input codes, validated: ``(array (N, n_inputs) int64, single)``."""
    a, single = batch_shape(codes, n_inputs, "codes")
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.round(a)) if a.size else np.zeros(a.shape, bool)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise InputError(f"input codes must be integers; got {a[i, j]!r} at sample {i}, feature {j}. "
                             f"These look like features: quantize them first (or pass them as features, "
                             f"not as codes)")
    elif a.dtype.kind not in "iu":
        raise InputError(f"input codes must be integers; got dtype {a.dtype}")
    a = a.astype(np.int64, copy=False)
    if a.size and (a.min() < code_min or a.max() > code_max):
        bad = (a < code_min) | (a > code_max)
        i, j = (int(v) for v in np.argwhere(bad)[0])
        enc = f" ({bits}-bit {'signed' if signed else 'unsigned'})" if bits is not None else ""
        raise InputError(f"input codes must lie in [{code_min}, {code_max}]{enc}; got {int(a[i, j])} at "
                         f"sample {i}, feature {j}")
    return a, single


def check_quant_codes(codes, n_inputs: int, quant) -> tuple[np.ndarray, bool]:
    """:func:`check_codes` against a :class:`lutnet.ir.QuantSpec` (the network's input quantizer)."""
    return check_codes(codes, n_inputs, quant.code_min, quant.code_max, quant.bits, quant.signed)


def check_torch_features(x, n_features: int):
    """The eval-mode check of a PyTorch model's float input: NaN and the feature count (the model
    keeps its own batch semantics, so shapes are checked, not changed).  Returns ``x``."""
    import torch
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        return x
    if x.dim() == 0 or x.shape[-1] != n_features:
        got = "a scalar" if x.dim() == 0 else str(x.shape[-1])
        raise InputError(f"input features: expected {n_features} features per sample, got {got} "
                         f"(input shape {tuple(x.shape)})")
    nan = torch.isnan(x)
    if bool(nan.any()):
        i, j = torch.nonzero(nan.reshape(-1, n_features))[0].tolist()
        raise nan_error(i, j)
    return x
