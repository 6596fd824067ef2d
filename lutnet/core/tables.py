"""Truth-table enumeration, written once for every framework.

All input codes of all neurons of a layer are enumerated at once with integer arithmetic: row r of
every table is the address r split into F fields of b bits (input 0 in the low bits).  Rows are
processed in chunks sized to stay in cache, neurons together (broadcast, never a Python loop), and
each chunk goes through a frontend callable ``codes chunk (rows, 1, F) -> output codes (rows, out)``
that must be the very function the model uses in inference.  Pruned inputs are compacted away.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import TableTooLargeError
from ..ir import LayerIR, NetworkIR

DEFAULT_MAX_ROWS = 1 << 20
DEFAULT_CHUNK_ELEMS = 1 << 20  # rows x neurons x work width per chunk: a few MB


def check_table_size(li: int, name: str, active_fan_in: int, bits: int, max_rows: int) -> None:
    addr_bits = active_fan_in * bits
    if (1 << addr_bits) > max_rows:
        raise TableTooLargeError(
            f"layer {li} ({name!r}): each neuron's table would have 2**{addr_bits} = {1 << addr_bits:,} rows "
            f"(fan_in={active_fan_in} inputs x {bits} bits), more than max_rows={max_rows:,} "
            f"(2**{max_rows.bit_length() - 1}). Reduce fan_in or the input bit width, or raise max_rows.")


def address_fields(addr: np.ndarray, fan_in: int, bits: int, signed: bool) -> np.ndarray:
    """(rows,) addresses -> (rows, F) codes: field j = bits [j*b, (j+1)*b), two's complement if signed."""
    pat = (np.asarray(addr, np.int64)[:, None] >> (np.arange(fan_in, dtype=np.int64) * bits)) & ((1 << bits) - 1)
    if signed:
        pat = pat - ((pat >> (bits - 1)) & 1) * (1 << bits)
    return pat


def chunk_rows(n_rows: int, out_features: int, width: float, chunk_elems: int = DEFAULT_CHUNK_ELEMS) -> int:
    """Rows per chunk so that one chunk holds about ``chunk_elems`` live floats."""
    return max(1, min(n_rows, int(chunk_elems // max(1.0, out_features * width))))


def compact_tables(full: np.ndarray, mask: np.ndarray, bits: int):
    """Flat tables and offsets keeping, per neuron, the rows of the full ``(out, 2**(F*b))`` tables
    that its active inputs address (pruned inputs read as 0, so any of their codes gives the same
    row: take pattern 0).  One vectorized pass per distinct pruning pattern (at most 2**F)."""
    out = mask.shape[0]
    if mask.all():
        return full.reshape(-1), np.arange(out + 1, dtype=np.int64) * full.shape[1]
    lengths = np.left_shift(1, mask.sum(1).astype(np.int64) * bits)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.empty(offsets[-1], full.dtype)
    patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        neurons = np.flatnonzero(inverse.reshape(-1) == p)
        active = np.flatnonzero(pattern)
        fields = address_fields(np.arange(1 << (len(active) * bits)), len(active), bits, False)
        rows = (fields << (active * bits)).sum(1) if len(active) else np.zeros(1, np.int64)
        flat[offsets[neurons][:, None] + np.arange(len(rows))] = full[neurons][:, rows]
    return flat, offsets


@dataclass
class LayerJob:
    """What table extraction needs from one frontend layer.  ``codes_fn`` maps a chunk of input
    codes ``(rows, 1, F)`` (int64) to the layer's output codes ``(rows, out)`` through the layer's
    own inference function."""
    name: str
    fan_in: int
    out_features: int
    in_bits: int
    in_signed: bool
    out_bits: int
    out_signed: bool
    mask: np.ndarray
    connectivity: np.ndarray
    kind: str
    attrs: dict
    codes_fn: Callable
    work_width: Callable = lambda shared_input: 1.0  # family.work_width

    @property
    def active_fan_in(self) -> int:
        return int(self.mask.sum(1).max()) if self.out_features else 0

    @property
    def entries(self) -> int:
        return (1 << (self.fan_in * self.in_bits)) * self.out_features


def extract_layer(job: LayerJob, li: int = 0, max_rows: int = DEFAULT_MAX_ROWS,
                  chunk_elems: int = DEFAULT_CHUNK_ELEMS, progress: Callable | None = None) -> LayerIR:
    """Tables of one layer as a LayerIR (``progress(n)`` is told of every ``n`` entries made)."""
    check_table_size(li, job.name, job.active_fan_in, job.in_bits, max_rows)
    fan_in, bits, out = job.fan_in, job.in_bits, job.out_features
    n_rows = 1 << (fan_in * bits)
    chunk = chunk_rows(n_rows, out, job.work_width(bool(np.all(job.mask))), chunk_elems)
    full = np.empty((out, n_rows), np.int16 if job.out_bits <= 15 else np.int32)
    for r0 in range(0, n_rows, chunk):
        r1 = min(r0 + chunk, n_rows)
        codes = address_fields(np.arange(r0, r1), fan_in, bits, job.in_signed)[:, None, :]  # (rows, 1, F)
        full[:, r0:r1] = np.asarray(job.codes_fn(codes)).T
        if progress is not None:
            progress((r1 - r0) * out)
    mask = np.asarray(job.mask, bool)
    flat, offsets = compact_tables(full, mask, bits)
    return LayerIR(job.name, np.where(mask, job.connectivity, -1), np.where(mask, bits, 0), mask & job.in_signed,
                   np.full(out, job.out_bits), np.full(out, job.out_signed), flat, offsets,
                   kind=job.kind, attrs=dict(job.attrs))


def extract_network(jobs: list[LayerJob], in_spec, n_inputs: int, out_spec, metadata: dict | None = None,
                    max_rows: int = DEFAULT_MAX_ROWS, chunk_elems: int = DEFAULT_CHUNK_ELEMS,
                    progress: bool = False) -> NetworkIR:
    """Every layer's tables (sizes checked for all layers before any is made) as a NetworkIR."""
    from tqdm.auto import tqdm
    for li, job in enumerate(jobs):
        check_table_size(li, job.name, job.active_fan_in, job.in_bits, max_rows)
    total = sum(job.entries for job in jobs)
    with tqdm(total=total, disable=not progress, unit="entry", unit_scale=True, desc="tables") as bar:
        layers = [extract_layer(job, li, max_rows, chunk_elems, bar.update) for li, job in enumerate(jobs)]
    ir = NetworkIR(in_spec, n_inputs, layers, out_spec, dict(metadata or {})).validate()
    if any(L.kind == "add" for L in layers):
        # PolyLUT-Add's adder neurons: an adder + a table on the sum where the IR cost model says it is
        # smaller (wide sub-neuron codes), the concatenated table otherwise (exact either way)
        from ..transforms.sum_address import SumAddress
        ir = SumAddress(kinds=("add",), mode="auto").apply(ir)[0]
    return ir
