"""Sum-address neurons: an adder followed by a table on the sum, instead of a table on the
concatenated inputs (PolyLUT-Add's adder, Lou et al., FPL 2024).

A neuron whose table is a function of the *sum* of its input codes (PolyLUT-Add's adder neuron:
the sub-neurons' codes are added, batch-normalized and re-quantized) can read its table at row
``sum mod 2**bits``, one row per possible sum.  Its table then has ``2**bit_length(hi - lo)`` rows instead of
``2**(b_0 + ... + b_{F-1})``: with two 6-bit codes, 128 rows instead of 4,096.  Whether that is
smaller depends on the code widths (an adder costs one LUT per result bit): with two 3-bit codes
the 6-input table is one LUT per output bit and the adder only adds.  :class:`SumAddress` checks,
on every row of the table, that the table *is* a function of the sum (so the rewrite is exact by
construction: the new IR gives the same outputs for every input), then rewrites the neurons where
the IR's LUT cost model says the adder form is cheaper (``mode="auto"``) or every such neuron
(``mode="always"``).

    new_ir, report = SumAddress(kinds=("add",)).apply(ir)
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import LutnetError
from ..ir import LayerIR, NetworkIR, adder_tree, lut_cost

MODES = ("auto", "always")


@dataclass
class SumAddressReport:
    """Per layer: neurons looked at, neurons whose table is a function of the input sum, neurons
    rewritten, and the IR cost model's LUTs before and after."""
    layers: list = field(default_factory=list)

    @property
    def rewritten(self) -> int:
        return sum(r["rewritten"] for r in self.layers)

    def lines(self) -> list[str]:
        return [f"{r['layer']}: {r['rewritten']}/{r['neurons']} neurons as adder + table "
                f"({r['sum_functions']} are functions of their input sum); cost model "
                f"{r['cost_before']:,.0f} -> {r['cost_after']:,.0f} LUTs" for r in self.layers]


def _row_sums(in_bits: np.ndarray, in_signed: np.ndarray) -> np.ndarray:
    """Sum of the input codes at every row of a concatenated-address table (one input signature)."""
    n_rows = 1 << int(in_bits.sum())
    rows = np.arange(n_rows, dtype=np.int64)
    total = np.zeros(n_rows, np.int64)
    shift = 0
    for b, s in zip(in_bits.tolist(), in_signed.tolist()):
        if b == 0:
            continue
        f = (rows >> shift) & ((1 << b) - 1)
        if s:
            f = np.where(f >= (1 << (b - 1)), f - (1 << b), f)
        total += f
        shift += b
    return total


def _sum_tables(tables: np.ndarray, sums: np.ndarray):
    """For (n, rows) tables and the rows' input sums: which tables are functions of the sum, and
    their (n, 2**bits) tables indexed by ``sum mod 2**bits`` (rows no sum reaches repeat the value of the
    largest sum)."""
    order = np.argsort(sums, kind="stable")
    s_sorted = sums[order]
    t = tables[:, order]
    same = s_sorted[1:] == s_sorted[:-1]
    ok = ~np.any((t[:, 1:] != t[:, :-1]) & same[None, :], axis=1)
    lo, hi = int(s_sorted[0]), int(s_sorted[-1])
    bits = (hi - lo).bit_length()
    first = np.concatenate([[True], ~same])
    values = t[:, first]  # one column per sum value lo..hi (every value in between occurs)
    pad = (1 << bits) - values.shape[1]
    if pad:
        values = np.concatenate([values, np.repeat(values[:, -1:], pad, axis=1)], axis=1)
    return ok, np.roll(values, lo % (1 << bits), axis=1), bits  # column i held sum lo + i


class SumAddress:
    """Rewrite table neurons that are functions of their input sum into sum-address neurons.

    ``kinds``: only layers of these ``LayerIR.kind`` values (None: every layer).  ``mode``:
    ``"auto"`` rewrites a neuron when ``adder + table on the sum`` costs fewer LUTs in the IR's cost
    model, ``"always"`` rewrites every neuron whose table is a function of its input sum."""

    def __init__(self, kinds=None, mode: str = "auto"):
        if mode not in MODES:
            raise LutnetError(f"SumAddress: mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.kinds = None if kinds is None else tuple(kinds)
        self.mode = mode

    def apply(self, ir: NetworkIR) -> tuple[NetworkIR, SumAddressReport]:
        report = SumAddressReport()
        layers = []
        for L in ir.layers:
            if self.kinds is not None and L.kind not in self.kinds:
                layers.append(L)
                continue
            new, row = self._layer(L)
            layers.append(new)
            report.layers.append(row)
        out = replace(ir, layers=layers, metadata=dict(ir.metadata))
        if report.rewritten:
            out.metadata["sum_address"] = {r["layer"]: r["rewritten"] for r in report.layers if r["rewritten"]}
        return out.validate(), report

    def _layer(self, L: LayerIR) -> tuple[LayerIR, dict]:
        before = L.lut_cost()
        cand = np.flatnonzero(~L.sum_address & (L.fan_in >= 2))
        new_tables = {}
        n_fun = 0
        # neurons with one input signature share the row sums: group them
        sig = np.concatenate([L.in_bits, L.in_signed.astype(np.int64)], axis=1)[cand]
        if cand.size:
            keys, inv = np.unique(sig, axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            for g in range(len(keys)):
                members = cand[inv == g]
                k0 = members[0]
                sums = _row_sums(L.in_bits[k0], L.in_signed[k0])
                tabs = np.stack([L.table(k) for k in members])  # one row per neuron (<= out_features)
                ok, values, bits = _sum_tables(tabs, sums)
                n_fun += int(ok.sum())
                lo, hi = L.input_ranges()
                for m, k in enumerate(members):
                    if not ok[m]:
                        continue
                    valid = L.indices[k] >= 0
                    adder = adder_tree(list(zip(lo[k][valid].tolist(), hi[k][valid].tolist())))[0]
                    cost_sum = adder + float(lut_cost(bits, L.out_bits[k]))
                    cost_cat = float(lut_cost(int(L.in_bits[k].sum()), L.out_bits[k]))
                    if self.mode == "always" or cost_sum < cost_cat:
                        new_tables[int(k)] = values[m]
        if not new_tables:
            return L, {"layer": L.name, "neurons": L.out_features, "sum_functions": n_fun, "rewritten": 0,
                       "cost_before": before, "cost_after": before}
        parts = [new_tables.get(k, L.table(k)) for k in range(L.out_features)]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
        sa = L.sum_address.copy()
        sa[list(new_tables)] = True
        new = LayerIR(L.name, L.indices.copy(), L.in_bits.copy(), L.in_signed.copy(), L.out_bits.copy(),
                      L.out_signed.copy(), np.concatenate(parts).astype(L.tables.dtype), offsets, L.kind,
                      dict(L.attrs), sa)
        return new, {"layer": L.name, "neurons": L.out_features, "sum_functions": n_fun,
                     "rewritten": len(new_tables), "cost_before": before, "cost_after": new.lut_cost()}


def expand_sum_address(ir: NetworkIR) -> NetworkIR:
    """The inverse rewrite: every sum-address neuron back to a table on its concatenated inputs
    (the same outputs for every input; for comparisons of the two forms)."""
    layers = []
    for L in ir.layers:
        if not L.sum_address.any():
            layers.append(L)
            continue
        parts = []
        for k in range(L.out_features):
            if not L.sum_address[k]:
                parts.append(L.table(k))
                continue
            valid = L.indices[k] >= 0
            sums = _row_sums(L.in_bits[k][valid], L.in_signed[k][valid])
            parts.append(L.table(k)[sums & ((1 << int(L.address_bits[k])) - 1)])
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
        layers.append(LayerIR(L.name, L.indices.copy(), L.in_bits.copy(), L.in_signed.copy(), L.out_bits.copy(),
                              L.out_signed.copy(), np.concatenate(parts).astype(L.tables.dtype), offsets, L.kind,
                              dict(L.attrs)))
    out = replace(ir, layers=layers, metadata={k: v for k, v in ir.metadata.items() if k != "sum_address"})
    return out.validate()
