"""Truth-table extraction: a Keras model of :class:`LUTLayer` layers → the LUT IR.

As :mod:`lutnet.export`: every table row of every neuron of a layer is enumerated at once (rows in
bounded chunks, neurons broadcast, no Python loop over rows or neurons), and each chunk goes through
the very function the layer uses in inference (:meth:`LUTLayer.codes_of`).
"""
from __future__ import annotations

import numpy as np
from ..errors import TableTooLargeError
from ..ir import LayerIR, NetworkIR
from .layers import LUTLayer, lut_layers

DEFAULT_MAX_ROWS = 1 << 20


def _fields(addr: np.ndarray, fan_in: int, bits: int, signed: bool) -> np.ndarray:
    """(rows,) addresses → (rows, F) codes: field j = bits [j*b, (j+1)*b), two's complement if signed."""
    pat = (addr[:, None] >> (np.arange(fan_in) * bits)) & ((1 << bits) - 1)
    if signed:
        pat = pat - ((pat >> (bits - 1)) & 1) * (1 << bits)
    return pat


def _compact(full: np.ndarray, mask: np.ndarray, bits: int):
    """Flat tables and offsets keeping, per neuron, the rows its active inputs address (pruned inputs
    read as 0: take their pattern 0).  One vectorized pass per distinct pruning pattern."""
    out, fan_in = mask.shape
    lengths = np.left_shift(1, mask.sum(1) * bits)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.empty(offsets[-1], full.dtype)
    patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):  # at most 2**F patterns
        neurons = np.flatnonzero(inverse.reshape(-1) == p)
        active = np.flatnonzero(pattern)
        compact = _fields(np.arange(1 << (len(active) * bits)), len(active), bits, False)
        rows = (compact << (active * bits)).sum(1)
        flat[offsets[neurons][:, None] + np.arange(len(rows))] = full[neurons][:, rows]
    return flat, offsets


def extract_layer(layer: LUTLayer, li: int = 0, max_rows: int = DEFAULT_MAX_ROWS,
                  chunk_elems: int = 1 << 22) -> LayerIR:
    src, dst = layer.input_encoding, layer.output_encoding
    mask = layer.prune_mask.numpy() > 0
    fan_in, bits, out = layer.fan_in, src.bits, layer.units
    active = int(mask.sum(1).max()) if out else 0
    if (1 << (active * bits)) > max_rows:
        raise TableTooLargeError(
            f"layer {li} ({layer.name!r}): each neuron's table would have 2**{active * bits} = "
            f"{1 << (active * bits):,} rows (fan_in={active} inputs x {bits} bits), more than max_rows="
            f"{max_rows:,} (2**{max_rows.bit_length() - 1}). Reduce fan_in or the input bit width, or raise max_rows.")
    n_rows = 1 << (fan_in * bits)
    width = max(layer.neuron.width if layer.neuron.kind == "subnet" else 1,
                len(layer.neuron.terms or ()) // 8, 1)
    chunk = max(1, chunk_elems // max(1, out * width))
    dtype = np.int16 if dst.bits <= 15 else np.int32
    full = np.empty((out, n_rows), dtype)
    params = layer.numpy_params()
    for r0 in range(0, n_rows, chunk):
        addr = np.arange(r0, min(r0 + chunk, n_rows))
        codes = _fields(addr, fan_in, bits, src.signed)[:, None, :].astype(np.float32)  # (rows, 1, F)
        full[:, r0:r0 + len(addr)] = layer.codes_of(codes, params).astype(dtype).T
    if mask.all():
        flat, offsets = full.reshape(-1), np.arange(out + 1, dtype=np.int64) * n_rows
    else:
        flat, offsets = _compact(full, mask, bits)
    conn = layer.connectivity.numpy()
    return LayerIR(layer.name, np.where(mask, conn, -1), np.where(mask, bits, 0), mask & src.signed,
                   np.full(out, dst.bits), np.full(out, dst.signed), flat, offsets,
                   kind=layer.neuron.kind, attrs=layer.neuron.attrs)


def to_ir(model, max_rows: int = DEFAULT_MAX_ROWS, chunk_elems: int = 1 << 22,
          metadata: dict | None = None) -> NetworkIR:
    """Extract every neuron's truth table of a Keras LUT model (a chain of :class:`LUTLayer`)."""
    layers = lut_layers(model)
    irs = [extract_layer(l, i, max_rows, chunk_elems) for i, l in enumerate(layers)]
    meta = {"framework": "keras", **dict(metadata or {})}
    return NetworkIR(layers[0].input_encoding, layers[0].in_features, irs, layers[-1].output_encoding,
                     meta).validate()
