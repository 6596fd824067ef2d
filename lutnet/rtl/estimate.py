"""Fast LUT-count and depth estimator for LUT tables (milliseconds per network).

Model (a Shannon decomposition onto the Xilinx slice, close to what Yosys' ``synth_xilinx`` makes of
a table):

* Each output bit is a Boolean function of the table's address bits; bits it does not depend on are
  dropped.  A function of <= 6 variables is one LUT (none if constant or a single literal).
* Otherwise 6 *leaf* variables are chosen (the bits of a group of whole inputs, the best of the
  candidate groupings) and the function is split into ``2**m`` cofactors of those 6 variables over
  the ``m`` remaining *select* variables.  Each distinct non-constant cofactor is one LUT6 (shared
  between output bits of the neuron: 64-bit truth tables are compared as ``uint64``).
* The cofactors are combined by a mux tree over the select variables in which a mux whose inputs
  are identical disappears and identical sub-trees are shared.  Its levels map onto the slice as
  MUXF7, MUXF8, then a LUT6 per 4:1 mux node (two levels), then MUXF7, MUXF8 again, and so on.

The raw LUT count is scaled by ``LUT_CALIBRATION``, fitted against Yosys 0.23 on trained-like
tables (``samples.py``); ``VALIDATION`` holds the measured error (see ``validate_against_yosys`` and
tests/rtl/test_rtl_estimate.py).  Depth (LUT levels) is the model's and is exact for most tables.

``fill_dont_cares`` implements the ReducedLUT idea: rows whose address never occurs in the training
data are assigned values that make cofactors constant or equal to others, shrinking the logic.
"""
from __future__ import annotations

import itertools
import time

import numpy as np

from ..ir import NetworkIR, pattern_to_code

# Fitted on the Yosys 0.23 sample (see VALIDATION); LUTs = round(raw * LUT_CALIBRATION).
LUT_CALIBRATION = 1.404
MUXF7_CALIBRATION = 1.236
MUXF8_CALIBRATION = 0.818
DEEP_RAW_LUTS = 100  # above this raw size ABC's area recovery adds a LUT level (tables of >= 11 bits)
# Measured error of the calibrated estimator (per-table relative errors over tables >= 20 LUTs);
# reproduced by tests/rtl/test_rtl_estimate.py from tests/rtl/yosys_sample.json.
VALIDATION: dict = {
    "reference": "Yosys 0.23 synth_xilinx -nobram -nolutram -nodsp (one run per table)",
    "sample": {"what": "81 trained-like tables (linear/poly/subnet, 6-12 address bits), fit set",
               "n_tables": 81, "mean_abs_rel_err_pct": 18.6, "median_abs_rel_err_pct": 13.1,
               "max_abs_rel_err_pct": 85.0, "total_rel_err_pct": -0.3, "lut_levels_exact_pct": 84.0},
    "heldout": {"what": "165 tables of a JSC-M-size trained-like network (64/32/32/32/5, 12-bit "
                "tables), not used for fitting", "n_tables": 165, "mean_abs_rel_err_pct": 16.5,
                "median_abs_rel_err_pct": 11.7, "max_abs_rel_err_pct": 146.4, "total_rel_err_pct": -4.7,
                "lut_levels_exact_pct": 68.5},
    # Yosys' own spread: the same 165 tables synthesized next to 7 others instead of alone differ by
    # 7.0 % on average (max 32 %), so per-table errors below ~10 % are not meaningful.
    "yosys_context_noise_pct": {"mean": 7.0, "median": 5.6, "max": 32.4},
    # headline figures (held-out set)
    "mean_abs_rel_err_pct": 16.5, "max_abs_rel_err_pct": 146.4, "total_rel_err_pct": -4.7, "n_tables": 165,
}

_U64 = np.uint64
# masks of the 6 variables of a 64-bit truth table: bit p of the table is row p; var i = bit i of p
_VAR_MASK = np.array([sum(1 << p for p in range(64) if not (p >> i) & 1) for i in range(6)], dtype=np.uint64)
_LITERALS = np.concatenate([~_VAR_MASK, _VAR_MASK]).astype(np.uint64)  # x_i and ~x_i


def _bits_matrix(table, obits: int) -> np.ndarray:
    """(obits, rows) bool matrix of the output bit patterns."""
    t = np.asarray(table, dtype=np.int64) & ((1 << obits) - 1)
    return ((t[None, :] >> np.arange(obits)[:, None]) & 1).astype(bool)


def _support(f: np.ndarray, n: int) -> np.ndarray:
    """Variables (0..n-1) each row of f (k, 2**n) depends on: (k, n) bool."""
    k = f.shape[0]
    dep = np.zeros((k, n), bool)
    for i in range(n):  # loop over address bits (<= 16), vectorized over rows
        v = f.reshape(k, -1, 2, 1 << i)
        dep[:, i] = (v[:, :, 0, :] != v[:, :, 1, :]).any(axis=(1, 2))
    return dep


def _pack64(leaf: np.ndarray) -> np.ndarray:
    """(..., 64) bool -> (...) uint64 truth tables."""
    w = (np.uint64(1) << np.arange(64, dtype=np.uint64))
    return (leaf.astype(np.uint64) * w).sum(axis=-1, dtype=np.uint64)


def _leaf_support_size(c: np.ndarray) -> np.ndarray:
    size = np.zeros(c.shape, np.int64)
    for i in range(6):
        m = _VAR_MASK[i]
        lo = c & m
        hi = (c >> _U64(1 << i)) & m
        size += (lo != hi)
    return size


def _mux_tree(ids: np.ndarray) -> tuple[list, int]:
    """Count mux nodes per level of a mux tree whose leaves are ``ids`` (k, 2**m) int64, select
    variable 0 at the bottom.  Identical children collapse, identical nodes are shared across rows.
    Returns (nodes per stage, lut count) with stages F7, F8, LUT(4:1), F7, F8, LUT, ..."""
    stages = []
    next_id = int(ids.max()) + 1 if ids.size else 0
    level = 0
    while ids.shape[1] > 1:
        kind = ("F7", "F8", "LUT")[level % 3]
        width = 4 if kind == "LUT" and ids.shape[1] >= 4 else 2
        g = ids.reshape(ids.shape[0], -1, width)
        same = (g == g[:, :, :1]).all(axis=2)
        flat = g.reshape(-1, width)
        diff = ~same.reshape(-1)
        new = flat[:, 0].copy()
        n_nodes = 0
        if diff.any():
            rows = np.ascontiguousarray(flat[diff])
            uniq, inv = np.unique(rows.view(np.dtype((np.void, rows.itemsize * width))).reshape(-1),
                                  return_inverse=True)
            new[diff] = next_id + inv.reshape(-1)
            next_id += len(uniq)
            n_nodes = len(uniq)
        stages.append((kind, n_nodes))
        ids = new.reshape(ids.shape[0], -1)
        level += 1
    return stages


def _decompose(f: np.ndarray, n: int, leaf_vars, select_vars) -> dict:
    """Cost of functions f (k, 2**n) with the given leaf (6) and select variables."""
    k = f.shape[0]
    # axes: variable i is axis (n-1-i) of f.reshape((2,)*n)
    t = f.reshape((k,) + (2,) * n)
    order = [0] + [1 + (n - 1 - v) for v in select_vars[::-1]] + [1 + (n - 1 - v) for v in leaf_vars[::-1]]
    cof = np.transpose(t, order).reshape(k, 1 << len(select_vars), 1 << len(leaf_vars))
    if len(leaf_vars) < 6:
        rep = 64 >> len(leaf_vars)
        cof = np.tile(cof, (1, 1, rep))
    c = _pack64(cof)  # (k, 2**m) uint64
    const0 = c == _U64(0)
    const1 = c == _U64(0xFFFFFFFFFFFFFFFF)
    uniq, inv = np.unique(c, return_inverse=True)
    inv = inv.reshape(c.shape)
    nontriv = (uniq != _U64(0)) & (uniq != _U64(0xFFFFFFFFFFFFFFFF))
    leaf_luts = int(nontriv.sum())
    sizes = _leaf_support_size(uniq[nontriv])
    ids = inv.astype(np.int64)
    stages = _mux_tree(ids)
    mux_luts = sum(nn for kind, nn in stages if kind == "LUT")
    f7 = sum(nn for kind, nn in stages if kind == "F7")
    f8 = sum(nn for kind, nn in stages if kind == "F8")
    lut_levels = (1 if leaf_luts else 0) + sum(1 for kind, nn in stages if kind == "LUT" and nn)
    logic_levels = (1 if leaf_luts else 0) + sum(1 for kind, nn in stages if nn)
    if not (const0 | const1).all() and leaf_luts == 0:
        lut_levels = logic_levels = 0
    by_size = np.bincount(sizes, minlength=7)[1:7] if leaf_luts else np.zeros(6, np.int64)
    by_size = by_size.copy()
    by_size[5] += mux_luts
    return {"luts": leaf_luts + mux_luts, "leaf_luts": leaf_luts, "mux_luts": mux_luts, "muxf7": f7,
            "muxf8": f8, "lut_levels": lut_levels, "logic_levels": logic_levels, "by_size": by_size}


def _candidate_leaf_sets(var_groups: list, n_vars: int, max_candidates: int = 24) -> list:
    """Leaf-variable sets of <= 6 variables made of whole inputs (groups of address bits)."""
    sets = []
    g = [grp for grp in var_groups if grp]
    for r in range(len(g), 0, -1):
        for combo in itertools.combinations(range(len(g)), r):
            vs = [v for j in combo for v in g[j]]
            if len(vs) <= 6:
                sets.append(sorted(vs))
        if sets:
            break
    if not sets:  # inputs wider than 6 bits: the low 6 bits of each input
        sets = [sorted(grp[:6]) for grp in g]
    if len(sets) > max_candidates:
        rng = np.random.default_rng(0)
        pick = rng.choice(len(sets), max_candidates, replace=False)
        sets = [sets[i] for i in sorted(pick)]
    return sets


def _depth(n: int, any_logic: bool) -> tuple[int, int]:
    """(LUT levels, logic levels) of an ``n``-variable table as Yosys/ABC map it: ABC covers the
    table's low 8 variables with LUT8 units (4 LUT6 + 2 MUXF7 + MUXF8: 1 LUT level, 3 cells deep)
    and every further 2 variables with another LUT8-style 4:1 stage (+1 LUT level, +3 cells)."""
    if not any_logic or n == 0:
        return 0, 0
    if n <= 6:
        return 1, 1
    if n <= 8:
        return 1, n - 5
    extra = n - 8
    lut = 1 + (extra + 1) // 2
    return lut, 3 + 3 * (extra // 2) + 2 * (extra % 2)


def estimate_table(table, in_bits, out_bits: int, search: bool = False) -> dict:
    """Estimated LUTs (by size), MUXF7/F8 and LUT/logic levels of one neuron table, as Yosys 0.23
    ``synth_xilinx`` would map it (calibrated).  ``in_bits``: the widths of the neuron's inputs
    (address = input 0 in the LSBs) or their total.  ``search``: choose the leaf variables that
    minimize the count (a better mapping than Yosys finds; off by default)."""
    in_bits = [int(b) for b in np.atleast_1d(in_bits) if int(b) > 0]
    n = int(sum(in_bits))
    f = _bits_matrix(table, out_bits)
    dep = _support(f, n) if n else np.zeros((out_bits, 0), bool)
    keep = np.flatnonzero(dep.any(axis=0))  # drop address bits no output depends on
    offs = np.cumsum([0] + in_bits)
    if len(keep) < n:
        sub = np.zeros(1 << len(keep), np.int64)
        for j, v in enumerate(keep):
            sub |= ((np.arange(1 << len(keep)) >> j) & 1) << v
        f = f[:, sub]
        groups = [[j for j, v in enumerate(keep) if offs[g] <= v < offs[g + 1]] for g in range(len(in_bits))]
        n = len(keep)
    else:
        groups = [list(range(offs[g], offs[g + 1])) for g in range(len(in_bits))]
    if n == 0:
        best = {"luts": 0, "leaf_luts": 0, "mux_luts": 0, "muxf7": 0, "muxf8": 0,
                "by_size": np.zeros(6, np.int64)}
    elif n <= 6:
        best = _decompose(f, n, list(range(n)), [])
        c = _pack64(np.tile(f, (1, 64 >> n)))
        u = np.unique(c)
        u = u[(u != _U64(0)) & (u != _U64(0xFFFFFFFFFFFFFFFF))]
        lits = int(np.isin(u, _LITERALS).sum())  # a single literal needs no LUT
        if lits:
            best["luts"] -= lits
            best["leaf_luts"] -= lits
            best["by_size"][0] = max(0, best["by_size"][0] - lits)
    else:
        cands = _candidate_leaf_sets(groups, n) if search else [list(range(6))]
        best = None
        for leaf in cands:
            sel = [v for v in range(n) if v not in leaf]
            r = _decompose(f, n, leaf, sel)
            if best is None or r["luts"] < best["luts"]:
                best = r
    raw = best["luts"]
    scale = LUT_CALIBRATION if n > 6 else 1.0
    luts = int(round(raw * scale))
    by_size = best["by_size"].astype(np.float64)
    if by_size.sum() > 0:
        by_size = np.floor(by_size * luts / by_size.sum()).astype(np.int64)
        by_size[5 if n > 6 else int(np.argmax(by_size))] += luts - by_size.sum()
    else:
        by_size = np.zeros(6, np.int64)
    lut_levels, logic_levels = _depth(n, raw > 0)
    if n >= 11 and raw >= DEEP_RAW_LUTS:
        lut_levels += 1
    return {"luts": luts, "luts_raw": int(raw),
            "luts_by_size": {f"LUT{i + 1}": int(by_size[i]) for i in range(6)},
            "muxf7": int(round(best["muxf7"] * MUXF7_CALIBRATION)),
            "muxf8": int(round(best["muxf8"] * MUXF8_CALIBRATION)), "ffs": 0,
            "lut_levels": lut_levels, "logic_levels": logic_levels,
            "address_bits": int(sum(in_bits)), "support_bits": int(n), "out_bits": int(out_bits)}


# --------------------------------------------------------------------------- don't-cares
def care_masks(ir: NetworkIR, codes) -> list:
    """Per layer, a bool array parallel to ``layer.tables``: True where the row's address occurs
    when the network runs on ``codes`` (N, n_inputs)."""
    acts = [np.asarray(codes, np.int64)] + ir.evaluate(codes, return_all=True)[:-1]
    masks = []
    for L, x in zip(ir.layers, acts):
        idx = np.where(L.indices >= 0, L.indices, 0)
        mask = np.left_shift(1, L.in_bits) - 1
        shifts = L.shifts()
        addr = np.zeros((x.shape[0], L.out_features), np.int64)
        for j in range(idx.shape[1]):
            addr |= np.left_shift(np.bitwise_and(x[:, idx[:, j]], mask[:, j]), shifts[:, j])
        care = np.zeros(L.tables.size, bool)
        care[(L.offsets[:-1][None, :] + addr).reshape(-1)] = True
        masks.append(care)
    return masks


def fill_dont_cares(table, care, in_bits, out_bits: int, out_signed: bool = False) -> np.ndarray:
    """A table equal to ``table`` on every ``care`` row, whose other rows are chosen to shrink the
    logic (the ReducedLUT idea).  Per output bit, the table is cut into 6-variable cofactors (the
    estimator's and Yosys' leaf variables); a cofactor with don't-cares becomes

    * a copy of the neighbouring cofactor if it has no care row at all (its mux input collapses),
    * constant if its care rows agree,
    * else equal to a compatible cofactor seen before (shared LUT),
    * else keeps its original values."""
    table = np.asarray(table, np.int64)
    care = np.asarray(care, bool)
    n = int(np.sum(in_bits))
    if care.all() or n == 0:
        return table.copy()
    if not care.any():
        return np.full_like(table, table[0])
    obits = int(out_bits)
    pat = table & ((1 << obits) - 1)
    out = pat.copy()
    g = 1 << min(n, 6)
    cm = care.reshape(-1, g)
    anycare = cm.any(axis=1)
    # entirely don't-care cofactors copy the nearest cofactor (preceding, else following) with care rows
    src = np.where(anycare, np.arange(len(cm)), -1)
    src = np.maximum.accumulate(src)
    src[src < 0] = int(np.flatnonzero(anycare)[0])
    for b in range(obits):  # loop over output bits, vectorized over rows
        bit = ((pat >> b) & 1).astype(bool).reshape(-1, g)
        ones = (bit & cm).any(axis=1)
        zeros = (~bit & cm).any(axis=1)
        newbit = bit.copy()
        newbit[anycare & ~ones] = False   # care rows all 0: constant 0
        newbit[anycare & ~zeros] = True   # care rows all 1: constant 1
        mixed = ones & zeros
        partial = np.flatnonzero(mixed & ~cm.all(axis=1))
        if partial.size:
            pool = [newbit[r] for r in np.flatnonzero(mixed & cm.all(axis=1))]
            pool = np.array(pool) if pool else np.zeros((0, g), bool)
            for r in partial:  # loop over partially specified cofactors only
                ok = ((pool == bit[r]) | ~cm[r]).all(axis=1) if len(pool) else np.zeros(0, bool)
                hit = np.flatnonzero(ok)
                if hit.size:
                    newbit[r] = pool[hit[0]]
                else:
                    pool = np.vstack([pool, bit[r][None]])
        newbit[~anycare] = newbit[src[~anycare]]
        out = (out & ~(1 << b)) | (newbit.reshape(-1).astype(np.int64) << b)
    return pattern_to_code(out, obits, out_signed)


# --------------------------------------------------------------------------- networks
def estimate_network(ir: NetworkIR, search: bool = False) -> list:
    """One estimate dict per neuron, per layer (a list of lists); identical tables estimated once."""
    out = []
    memo: dict = {}
    from .emit import table_key
    for L in ir.layers:
        res = []
        for k in range(L.out_features):
            ab = int(L.address_bits[k])
            ob = int(L.out_bits[k])
            t = L.table(k)
            key = table_key(t, ab, ob)
            if key not in memo:
                memo[key] = estimate_table(t, L.in_bits[k][L.indices[k] >= 0], ob, search=search)
            res.append(memo[key])
        out.append(res)
    return out


def timed_estimate(ir: NetworkIR) -> tuple[list, float]:
    t0 = time.perf_counter()
    r = estimate_network(ir)
    return r, time.perf_counter() - t0


def validate_against_yosys(items, min_luts: int = 20) -> dict:
    """Error statistics of the estimator against Yosys results.  ``items``: iterable of
    ``(table, in_bits, out_bits, yosys_stats)``.  Relative errors are over tables Yosys maps to at
    least ``min_luts`` LUTs (smaller ones: absolute error)."""
    est, ref, small_abs, lvl_ok, n = [], [], [], 0, 0
    for table, in_bits, out_bits, y in items:
        e = estimate_table(table, in_bits, out_bits)
        n += 1
        lvl_ok += int(e["lut_levels"] == y["lut_levels"])
        if y["luts"] >= min_luts:
            est.append(e["luts"])
            ref.append(y["luts"])
        else:
            small_abs.append(abs(e["luts"] - y["luts"]))
    est, ref = np.array(est, float), np.array(ref, float)
    rel = np.abs(est - ref) / ref if len(ref) else np.zeros(0)
    return {"reference": "Yosys 0.23 synth_xilinx", "n_tables": n, "n_large": int(len(ref)),
            "mean_abs_rel_err_pct": round(100 * float(rel.mean()), 1) if len(rel) else 0.0,
            "median_abs_rel_err_pct": round(100 * float(np.median(rel)), 1) if len(rel) else 0.0,
            "max_abs_rel_err_pct": round(100 * float(rel.max()), 1) if len(rel) else 0.0,
            "total_rel_err_pct": round(100 * float((est.sum() - ref.sum()) / ref.sum()), 1) if len(ref) else 0.0,
            "small_tables_max_abs_err": int(max(small_abs, default=0)),
            "lut_levels_exact_pct": round(100 * lvl_ok / max(n, 1), 1)}
