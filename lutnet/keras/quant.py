"""QKeras quantizers of LUT layers and their explicit code mapping.

A LUT layer needs every quantizer as an integer encoding (a :class:`lutnet.ir.QuantSpec`).  The
supported QKeras quantizers are fixed point with a power-of-two scale, zero point 0:

* ``quantized_bits(bits, integer, symmetric, keep_negative, alpha=None|1)`` with
  ``bits - keep_negative >= 1``: ``code = clip(round(x / 2**(integer - bits + keep_negative)),
  lo, hi)``, two's complement ``[-2**(bits-1) + symmetric, 2**(bits-1) - 1]`` if ``keep_negative``,
  else unsigned ``[0, 2**bits - 1]``;
* ``quantized_relu(bits, integer)`` (``use_sigmoid=0``, ``negative_slope=0``):
  ``code = clip(round(x / 2**(integer - bits)), 0, 2**bits - 1)``;

both with ``use_stochastic_rounding=False`` and ``qnoise_factor=1``.  Rounding is half to even
(``tf.round``), as in QKeras, Brevitas and the IR.  Dividing by a power of two is exact, so this
equals QKeras' ``x * m / m_i``.  In eval mode and for table extraction the layer uses this mapping
(not the QKeras call, whose straight-through form ``x + (xq - x)`` can be off by an ulp when ``x``
is far outside the range); training uses the QKeras quantizer itself.
"""
from __future__ import annotations

import numpy as np
import qkeras
import tensorflow as tf

from ..errors import UnsupportedQuantizerError  # noqa: F401  (a LutnetError; re-exported here)
from ..ir import QuantSpec

SUPPORTED = ("quantized_bits(bits, integer, symmetric=0|1, keep_negative=True|False, alpha=None|1) "
             "with bits - keep_negative >= 1, and quantized_relu(bits, integer) with use_sigmoid=0 and "
             "negative_slope=0; both with use_stochastic_rounding=False and qnoise_factor=1")




def resolve(quantizer):
    """A QKeras quantizer object from an object, a string (``"quantized_relu(2,0)"``) or a config dict."""
    if quantizer is None or isinstance(quantizer, qkeras.quantizers.BaseQuantizer):
        return quantizer
    if isinstance(quantizer, (str, dict)):
        return qkeras.quantizers.get_quantizer(quantizer)
    return quantizer


def serialize(quantizer):
    if quantizer is None:
        return None
    return {"class_name": type(quantizer).__name__, "config": quantizer.get_config()}


def _one_int(v) -> int | None:
    """``v`` (int, array or tf.Variable) as one Python int, or None if it is not one integer."""
    v = np.asarray(v.numpy() if isinstance(v, tf.Variable) else v)
    return int(v) if v.size == 1 and float(v) == int(v) else None


def quant_spec(quantizer, where: str) -> QuantSpec:
    """The integer encoding of a supported QKeras quantizer; otherwise an error naming ``where``."""
    q = quantizer

    def fail(reason):
        raise UnsupportedQuantizerError(f"{where}: {q} is not supported: {reason}. Supported quantizers: {SUPPORTED}")

    if isinstance(q, qkeras.quantized_bits) and type(q) is qkeras.quantized_bits:
        if isinstance(q.alpha, str):
            fail(f"alpha={q.alpha!r} gives a data-dependent scale")
        if q.alpha is not None and not (np.size(q.alpha) == 1 and float(np.asarray(q.alpha)) == 1.0):
            fail(f"alpha={q.alpha!r} is a float scale that a power-of-two fixed-point code cannot represent")
        unsigned_bits = int(q.bits) - int(bool(q.keep_negative))
        if unsigned_bits < 1:
            fail("a 1-bit signed quantized_bits is a sign function, not a uniform code")
        signed = bool(q.keep_negative)
        lo = -(1 << unsigned_bits) + int(bool(q.symmetric)) if signed else 0
        hi = (1 << unsigned_bits) - 1
    elif isinstance(q, qkeras.quantized_relu) and type(q) is qkeras.quantized_relu:
        if q.use_sigmoid:
            fail("use_sigmoid is not a uniform code")
        if q.negative_slope:
            fail(f"negative_slope={q.negative_slope} is not a uniform code")
        unsigned_bits, signed, lo, hi = int(q.bits), False, 0, (1 << int(q.bits)) - 1
    else:
        raise UnsupportedQuantizerError(f"{where}: {q!r} is not a supported quantizer. Supported quantizers: {SUPPORTED}")
    if q.use_stochastic_rounding:
        fail("use_stochastic_rounding makes codes random")
    if float(np.asarray(q.qnoise_factor)) != 1.0:
        fail(f"qnoise_factor={float(np.asarray(q.qnoise_factor))} mixes float and quantized values")
    integer = _one_int(q.integer)
    if integer is None:
        fail(f"integer={q.integer!r} must be one integer")
    scale = np.float32(2.0) ** np.float32(integer - unsigned_bits)
    return QuantSpec(int(q.bits), signed, scale, np.float32(0.0), lo, hi)


def to_codes(x, spec: QuantSpec):
    """Float codes (exact integers) of ``x``: the IR's ``QuantSpec.to_codes`` sequence in float32."""
    y = x / tf.constant(spec.scale, tf.float32) + tf.constant(spec.zero_point, tf.float32)
    return tf.clip_by_value(tf.round(y), float(spec.code_min), float(spec.code_max))


def to_values(codes, spec: QuantSpec):
    return (codes - tf.constant(spec.zero_point, tf.float32)) * tf.constant(spec.scale, tf.float32)


def quantizer_for(spec: QuantSpec):
    """A QKeras quantizer with the encoding ``spec`` (power-of-two scale, zero point 0), e.g. to
    mirror a Brevitas fixed-point quantizer; raises if no QKeras quantizer has that encoding."""
    scale = float(np.asarray(spec.scale).reshape(-1)[0]) if np.size(spec.scale) == 1 else None
    exp = None if not scale or scale <= 0 else np.log2(scale)
    if exp is None or exp != int(exp) or float(np.asarray(spec.zero_point)) != 0.0:
        raise UnsupportedQuantizerError(
            f"encoding {spec.to_json()} has no QKeras quantizer: QKeras quantizers have one power-of-two "
            f"scale and zero point 0")
    if spec.signed:
        q = qkeras.quantized_bits(spec.bits, int(exp) + spec.bits - 1, keep_negative=True, alpha=1,
                                  symmetric=int(spec.code_min == -(1 << (spec.bits - 1)) + 1))
    else:
        q = qkeras.quantized_relu(spec.bits, int(exp) + spec.bits)
    if quant_spec(q, "quantizer_for") != spec:
        raise UnsupportedQuantizerError(f"encoding {spec.to_json()} has a code range no QKeras quantizer has")
    return q
