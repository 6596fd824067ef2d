"""Truth-table extraction: a trained LUTNet → the LUT IR.

All input codes of all neurons of a layer are enumerated at once with integer arithmetic: row r of
every table is the address r split into F fields of b bits (input 0 in the low bits).  The rows are
processed in chunks bounded in memory; neurons are processed together (broadcast), never in a
Python loop, and each chunk goes through the very function the model uses in eval mode
(:meth:`LUTLayer.function_of_codes`) and the layer's own output quantizer.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from tqdm.auto import tqdm

from .errors import TableTooLargeError
from .ir import LayerIR, NetworkIR
from .nn.layer import LUTLayer, LUTNet
from .quant import int_codes

DEFAULT_MAX_ROWS = 1 << 20


def _check_size(li: int, layer: LUTLayer, bits: int, max_rows: int):
    active = int(layer.input_mask.sum(1).max()) if layer.out_features else 0
    addr_bits = active * bits
    if (1 << addr_bits) > max_rows:
        raise TableTooLargeError(
            f"layer {li} ({layer.name!r}): each neuron's table would have 2**{addr_bits} = {1 << addr_bits:,} rows "
            f"(fan_in={active} inputs x {bits} bits), more than max_rows={max_rows:,} (2**{max_rows.bit_length() - 1}). "
            f"Reduce fan_in or the input bit width, or raise max_rows.")


def _address_fields(addr: torch.Tensor, fan_in: int, bits: int, signed: bool) -> torch.Tensor:
    """(rows,) addresses → (rows, F) codes: field j = bits [j*b, (j+1)*b), two's complement if signed."""
    shifts = torch.arange(fan_in, device=addr.device) * bits
    pat = (addr[:, None] >> shifts) & ((1 << bits) - 1)
    if signed:
        pat = pat - ((pat >> (bits - 1)) & 1) * (1 << bits)
    return pat


def _compact(full: torch.Tensor, mask: torch.Tensor, bits: int) -> list[torch.Tensor]:
    """Per neuron, keep the rows of the full (out, 2**(F*b)) tables that its active inputs address
    (pruned inputs read as 0, so any of their codes gives the same row; take pattern 0)."""
    out, fan_in = mask.shape
    tables = [None] * out
    patterns, inverse = torch.unique(mask, dim=0, return_inverse=True)
    for p, pattern in enumerate(patterns):  # one pass per distinct pruning pattern (at most 2**F)
        neurons = torch.nonzero(inverse == p).reshape(-1)
        active = torch.nonzero(pattern).reshape(-1)
        compact = torch.arange(1 << (len(active) * bits), device=full.device)
        fields = _address_fields(compact, len(active), bits, signed=False)
        rows = (fields << (active * bits)).sum(1) if len(active) else torch.zeros(1, dtype=torch.long)
        sub = full[neurons][:, rows]
        for i, n in enumerate(neurons.tolist()):
            tables[n] = sub[i]
    return tables


@torch.no_grad()
def extract_layer(layer: LUTLayer, src, li: int = 0, max_rows: int = DEFAULT_MAX_ROWS,
                  chunk_elems: int = 1 << 22, pbar=None) -> LayerIR:
    """Tables of one layer whose inputs are encoded as ``src`` (a QuantInfo)."""
    _check_size(li, layer, src.bits, max_rows)
    out_info = layer.output_info()
    fan_in, bits, out = layer.fan_in, src.bits, layer.out_features
    device = layer.connectivity.device
    n_rows = 1 << (fan_in * bits)
    width = max(getattr(layer.neuron, "width", 1), len(getattr(layer.neuron, "terms", ())) // 8, 1)
    chunk = max(1, chunk_elems // max(1, out * width))
    dtype = torch.int16 if out_info.bits <= 15 else torch.int32
    full = torch.empty(out, n_rows, dtype=dtype, device=device)
    scale, zp = src.scale.to(device), src.zero_point.to(device)
    for r0 in range(0, n_rows, chunk):
        addr = torch.arange(r0, min(r0 + chunk, n_rows), device=device)
        codes = _address_fields(addr, fan_in, bits, src.signed)[:, None, :]  # (rows, 1, F)
        y = layer.function_of_codes(codes, scale, zp)  # (rows, out)
        full[:, r0:r0 + len(addr)] = int_codes(layer.output_quant(y)).to(dtype).T
        if pbar is not None:
            pbar.update(len(addr) * out)
    mask = layer.input_mask
    if bool(mask.all()):
        tables = full.cpu().numpy()
        flat, offsets = tables.reshape(-1), np.arange(out + 1, dtype=np.int64) * n_rows
    else:
        per = [t.cpu().numpy() for t in _compact(full, mask, bits)]
        flat = np.concatenate(per)
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in per])]).astype(np.int64)
    m = mask.cpu().numpy()
    indices = np.where(m, layer.connectivity.cpu().numpy(), -1)
    neuron = layer.neuron
    attrs = {k: getattr(neuron, k) for k in ("degree", "width", "depth", "skip") if hasattr(neuron, k)}
    return LayerIR(layer.name, indices, np.where(m, bits, 0), m & src.signed,
                   np.full(out, out_info.bits), np.full(out, out_info.signed), flat, offsets,
                   kind=neuron.kind, attrs=attrs)


@torch.no_grad()
def to_ir(model: LUTNet, max_rows: int = DEFAULT_MAX_ROWS, progress: bool = False, device=None,
          chunk_elems: int = 1 << 22, metadata: dict | None = None) -> NetworkIR:
    """Extract every neuron's truth table; the only place lutnet makes tables.

    ``max_rows`` bounds the rows of one neuron's table; ``device`` (e.g. ``"cuda"``) runs the
    enumeration there on a copy of the model; ``progress`` shows a bar over all table entries."""
    if not isinstance(model, LUTNet):
        raise TypeError(f"to_ir expects a lutnet.nn.LUTNet, got {type(model).__name__}")
    if device is not None:
        model = copy.deepcopy(model).to(device)
    was = model.training
    model.eval()
    try:
        in_info = model.layers[0].input_info()
        infos = [in_info] + [l.output_info() for l in model.layers]
        for li, layer in enumerate(model.layers):
            _check_size(li, layer, infos[li].bits, max_rows)
        total = sum((1 << (l.fan_in * infos[i].bits)) * l.out_features for i, l in enumerate(model.layers))
        with tqdm(total=total, disable=not progress, unit="entry", unit_scale=True, desc="tables") as bar:
            layers = [extract_layer(l, infos[i], i, max_rows, chunk_elems, bar) for i, l in enumerate(model.layers)]
    finally:
        model.train(was)
    in_spec = in_info.spec()
    return NetworkIR(in_spec, model.in_features, layers, infos[-1].spec(), dict(metadata or {})).validate()
