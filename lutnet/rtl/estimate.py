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

import numpy as np

from ..ir import NetworkIR, adder_tree, pattern_to_code

# LUTs = round(raw * (a + b * density)) for tables of n > 6 support bits, (a, b) = LUT_SCALE[n]
# (n > 14: LUT_SCALE[14]); ``density`` = distinct non-constant leaf cofactors / their maximum
# (1.0 for a uniformly random table).  Fitted on the ``fit`` split of the calibration set
# (tests/rtl/yosys_calibration.json, ``fit_calibration``); tables of <= 6 bits are exact.
LUT_SCALE: dict = {7: (0.983, 0.0), 8: (0.926, 0.0), 9: (0.999, 0.0), 10: (1.21, 0.0), 11: (1.645, -0.4),
                   12: (1.719, -0.523), 13: (1.737, -0.526), 14: (2.21, -0.976)}
MUXF7_CALIBRATION = 1.236
MUXF8_CALIBRATION = 0.818
DEEP_RAW_LUTS = 100  # above this raw size ABC's area recovery adds a LUT level (tables of >= 11 bits)
DENSITY_MIN_BITS = 11  # below this the leaf density does not separate trained from random tables
RANDOM_DENSITY = 0.9  # a table whose leaf density is at least this is classed random-like

# Regimes of the error table: address-bit bands x output-bit bands x table class.
ABITS_BANDS = ((1, 6), (7, 8), (9, 10), (11, 12), (13, 99))
OBITS_BANDS = ((1, 2), (3, 4), (5, 8))
TABLE_CLASSES = ("trained", "random", "any")  # "any": tables of < DENSITY_MIN_BITS address bits
# Held-out error of the calibrated estimator per regime against Yosys 0.23 (``error_by_regime`` on
# the ``heldout`` split of tests/rtl/yosys_calibration.json; test_rtl_estimate.py recomputes it).
# Row: [abits band, obits band, class, n held-out tables, mean |per-table err| %, network-total err %,
# max |per-table err| %, % of them whose class the estimator recognizes, their Yosys LUTs].  No row:
# not measured (13+ address bits x 5-8 output bits, random: Yosys time); reports say so.
REGIME_ERRORS: list = [
    ['1-6', '1-2', 'any', 42, 0.0, 0.0, 0.0, 100.0, 53],
    ['1-6', '3-4', 'any', 46, 0.0, 0.0, 0.0, 100.0, 108],
    ['1-6', '5-8', 'any', 46, 0.0, 0.0, 0.0, 100.0, 226],
    ['7-8', '1-2', 'any', 12, 40.9, 25.0, 100.0, 100.0, 44],
    ['7-8', '3-4', 'any', 7, 6.4, -1.2, 11.1, 100.0, 80],
    ['7-8', '5-8', 'any', 11, 16.5, -11.3, 35.0, 100.0, 231],
    ['9-10', '1-2', 'any', 9, 35.8, 9.7, 220.0, 100.0, 206],
    ['9-10', '3-4', 'any', 16, 16.2, -3.1, 120.0, 100.0, 748],
    ['9-10', '5-8', 'any', 8, 7.1, 1.7, 15.4, 100.0, 805],
    ['11-12', '1-2', 'random', 3, 3.2, -4.0, 7.9, 100.0, 424],
    ['11-12', '1-2', 'trained', 7, 16.8, -9.2, 45.5, 100.0, 315],
    ['11-12', '3-4', 'random', 3, 6.4, 6.3, 6.7, 100.0, 655],
    ['11-12', '3-4', 'trained', 15, 9.8, -1.6, 28.8, 87.0, 2641],
    ['11-12', '5-8', 'random', 3, 2.3, 2.4, 3.4, 100.0, 1444],
    ['11-12', '5-8', 'trained', 3, 12.8, -0.9, 20.5, 100.0, 864],
    ['13+', '1-2', 'random', 3, 2.5, 2.7, 4.5, 100.0, 1303],
    ['13+', '1-2', 'trained', 6, 5.3, -2.6, 11.1, 67.0, 1412],
    ['13+', '3-4', 'random', 2, 2.0, 2.0, 2.3, 100.0, 1139],
    ['13+', '3-4', 'trained', 2, 17.7, -21.9, 26.4, 100.0, 1244],
    ['13+', '5-8', 'trained', 2, 17.9, 5.7, 23.1, 100.0, 2066],
]
# The estimator on the two earlier Yosys 0.23 sets (``calibrate.legacy_validation``): "sample", 81
# trained-like 6-12-bit tables (tests/rtl/yosys_sample.json); "heldout", 165 12-bit tables of a
# JSC-M-size network (tests/rtl/yosys_jscm.json).  Neither is used for fitting.
VALIDATION: dict = {'sample': {'reference': 'Yosys 0.23 synth_xilinx',
                'n_tables': 81,
                'n_large': 53,
                'mean_abs_rel_err_pct': 14.7,
                'median_abs_rel_err_pct': 10.0,
                'max_abs_rel_err_pct': 65.9,
                'total_rel_err_pct': -3.0,
                'small_tables_max_abs_err': 4,
                'lut_levels_exact_pct': 84.0},
     'heldout': {'reference': 'Yosys 0.23 synth_xilinx',
                 'n_tables': 165,
                 'n_large': 155,
                 'mean_abs_rel_err_pct': 18.2,
                 'median_abs_rel_err_pct': 11.8,
                 'max_abs_rel_err_pct': 178.6,
                 'total_rel_err_pct': -2.0,
                 'small_tables_max_abs_err': 9,
                 'lut_levels_exact_pct': 68.5}}
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


def estimate_table(table, in_bits, out_bits: int) -> dict:
    """Estimated LUTs (by size), MUXF7/F8 and LUT/logic levels of one neuron table, as Yosys 0.23
    ``synth_xilinx`` would map it (calibrated, ``LUT_SCALE``).  ``in_bits``: the widths of the
    neuron's inputs (address = input 0 in the LSBs) or their total.  Also returns the table's
    ``regime`` (see ``regime_of``) whose held-out error ``REGIME_ERRORS`` states."""
    in_bits = [int(b) for b in np.atleast_1d(in_bits) if int(b) > 0]
    n = int(sum(in_bits))
    f = _bits_matrix(table, out_bits)
    dep = _support(f, n) if n else np.zeros((out_bits, 0), bool)
    keep = np.flatnonzero(dep.any(axis=0))  # drop address bits no output depends on
    if len(keep) < n:
        sub = np.zeros(1 << len(keep), np.int64)
        for j, v in enumerate(keep):
            sub |= ((np.arange(1 << len(keep)) >> j) & 1) << v
        f = f[:, sub]
        n = len(keep)
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
        best = _decompose(f, n, list(range(6)), [v for v in range(n) if v > 5])
    raw = best["luts"]
    live_bits = int(dep.any(axis=1).sum()) if dep.size else 0
    density = raw_density(best["leaf_luts"], live_bits, n)
    luts = int(round(raw * lut_scale(n, density)))
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
            "address_bits": int(sum(in_bits)), "support_bits": int(n), "out_bits": int(out_bits),
            "density": round(density, 4), "regime": regime_of(int(sum(in_bits)), int(out_bits), density)}


def raw_density(leaf_luts: int, live_bits: int, n: int) -> float:
    """Distinct non-constant leaf cofactors over their maximum (``live_bits * 2**(n-6)``): ~1.0 for a
    uniformly random table, lower for the smooth functions trained neurons compute."""
    if n <= 6 or live_bits == 0:
        return 0.0
    return min(1.0, leaf_luts / (live_bits * 2.0 ** (n - 6)))


def lut_scale(n: int, density: float) -> float:
    """Calibration factor Yosys LUTs / raw model LUTs of a table with ``n`` support bits."""
    if n <= 6:
        return 1.0
    a, b = LUT_SCALE[min(n, max(LUT_SCALE))]
    return a + b * density


def _band(v: int, bands) -> str:
    for lo, hi in bands:
        if lo <= v <= hi:
            return f"{lo}-{hi}" if hi < 99 else f"{lo}+"
    lo, hi = bands[-1]
    return f"{lo}+" if hi >= 99 else f"{lo}-{hi}"


def regime_of(abits: int, obits: int, density: float) -> tuple:
    """(address-bit band, output-bit band, class) of a table; from ``DENSITY_MIN_BITS`` address bits
    on, class ``random`` when its leaf density is at least ``RANDOM_DENSITY``, else ``trained``;
    narrower tables: ``any`` (<= 6 bits are exact; at 7-10 bits the density does not tell trained
    from random tables apart, so their held-out errors are pooled)."""
    if abits < DENSITY_MIN_BITS:
        return (_band(abits, ABITS_BANDS), _band(obits, OBITS_BANDS), "any")
    cls = "random" if density >= RANDOM_DENSITY else "trained"
    return (_band(abits, ABITS_BANDS), _band(obits, OBITS_BANDS), cls)


# --------------------------------------------------------------------------- don't-cares
def care_masks(ir: NetworkIR, codes, chunk: int = 8192) -> list:
    """Per layer, a bool array parallel to ``layer.tables``: True where the row's address occurs
    when the network runs on input ``codes`` (N, n_inputs).  Layer 0 reads the encoder's bits when
    the network has a thermometer encoder.  Samples are processed ``chunk`` at a time (memory stays
    ``chunk x neurons``); the loops are over chunks and fan-in positions, never over table rows."""
    codes = np.asarray(codes, np.int64).reshape(-1, ir.n_inputs)
    masks = [np.zeros(L.tables.size, bool) for L in ir.layers]
    for s in range(0, len(codes), chunk):
        st = ir.evaluate_stages(codes[s:s + chunk])
        first = st["encoder"] if st["encoder"] is not None else codes[s:s + chunk]
        for L, x, care in zip(ir.layers, [first] + st["layers"][:-1], masks):
            addr = _row_addresses(L, x) + L.offsets[:-1][None, :]
            care[addr.reshape(-1)] = True
    return masks


def _row_addresses(L, x) -> np.ndarray:
    """(N, out) row of each neuron's table read on source codes ``x`` (N, n_src): the layer's own
    address rule (``LayerIR.addresses_t``) where the IR has one, else the concatenated input patterns."""
    if hasattr(L, "addresses_t"):
        return L.addresses_t(np.ascontiguousarray(x.T)).T
    idx = np.where(L.indices >= 0, L.indices, 0)
    mask = np.left_shift(1, L.in_bits) - 1  # 0 for padded inputs
    shifts = L.shifts()
    addr = np.zeros((x.shape[0], L.out_features), np.int64)
    for j in range(idx.shape[1]):  # fan-in positions, vectorized over samples x neurons
        addr += np.left_shift(np.bitwise_and(x[:, idx[:, j]], mask[:, j]), shifts[:, j])
    return addr


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
def estimate_network(ir: NetworkIR) -> list:
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
                memo[key] = estimate_table(t, [ab] if L.sum_address[k] else L.in_bits[k][L.indices[k] >= 0], ob)
            e = memo[key]
            if L.sum_address[k]:  # an adder neuron: the adder tree's carry-chain LUTs + the table on the sum
                lo, hi = L.input_ranges()
                valid = L.indices[k] >= 0
                add = int(round(adder_tree(list(zip(lo[k][valid].tolist(), hi[k][valid].tolist())))[0]))
                e = dict(e, luts=e["luts"] + add, adder_luts=add, lut_levels=e["lut_levels"] + 1)
            res.append(e)
        out.append(res)
    return out


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


# --------------------------------------------------------------------------- calibration and error
def _calibration_rows(pairs) -> list:
    """(entry, estimate) for ``(entry, table)`` pairs of ``calibrate.load``."""
    return [(e, estimate_table(t, e["in_bits"], e["obits"])) for e, t in pairs]


def fit_calibration(pairs) -> dict:
    """Fit ``LUT_SCALE`` on the ``fit`` split: per support-bit count ``n`` > 6, (a, b) minimizing
    sum((yosys - raw * (a + b * density))**2 / yosys), i.e. relative errors weighted by size; b = 0
    (a plain ratio) below ``DENSITY_MIN_BITS`` or when the two-term fit is not positive."""
    by_n: dict = {}
    for e, t in pairs:
        if e["split"] != "fit":
            continue
        est = estimate_table(t, e["in_bits"], e["obits"])
        n, y = est["support_bits"], e["yosys"]["luts"]
        if n > 6 and est["luts_raw"] > 0 and y > 0:
            by_n.setdefault(min(n, 14), []).append((est["luts_raw"], est["density"], y))
    out = {}
    for n, rows in sorted(by_n.items()):
        r = np.array(rows, float)
        w = 1.0 / np.sqrt(r[:, 2])
        A = np.stack([r[:, 0], r[:, 0] * r[:, 1]], axis=1) * w[:, None]
        a, b = float((r[:, 2] * w * A[:, 0]).sum() / (A[:, 0] ** 2).sum()), 0.0  # ratio only
        if n >= DENSITY_MIN_BITS and len(r) >= 6 and np.ptp(r[:, 1]) > 0.2:
            a2, b2 = np.linalg.lstsq(A, r[:, 2] * w, rcond=None)[0]
            if a2 > 0 and a2 + b2 > 0:  # a positive factor over the whole density range
                a, b = a2, b2
        out[n] = (round(float(a), 3), round(float(b), 3))
    return out


def error_stats(est, ref) -> dict:
    """Mean |per-table error| (relative to max(Yosys LUTs, 1)) and the total's error, in %."""
    est, ref = np.asarray(est, float), np.asarray(ref, float)
    rel = np.abs(est - ref) / np.maximum(ref, 1.0)
    return {"n": int(len(ref)), "mean_abs_pct": round(100 * float(rel.mean()), 1) if len(ref) else 0.0,
            "max_abs_pct": round(100 * float(rel.max()), 1) if len(ref) else 0.0,
            "total_pct": round(100 * float((est.sum() - ref.sum()) / max(ref.sum(), 1.0)), 1) if len(ref) else 0.0}


def error_by_regime(pairs, split: str = "heldout") -> list:
    """Error of the estimator against the stored Yosys results, per regime (address-bit band x
    output-bit band x class, the class being the table's true source: ``random`` or ``trained``
    (trained digits models and synthetic trained-like tables); ``any`` below ``DENSITY_MIN_BITS``
    address bits, as ``regime_of`` does), over the entries of ``split``.  Row: [abits band, obits
    band, class, n, mean |err| %, total err %, max |err| %, % of tables whose class the estimator
    recognizes, Yosys LUTs]."""
    groups: dict = {}
    for e, t in pairs:
        if split and e["split"] != split:
            continue
        est = estimate_table(t, e["in_bits"], e["obits"])
        cls = ("any" if e["abits"] < DENSITY_MIN_BITS
               else "random" if e["source"] == "random" else "trained")
        key = (_band(e["abits"], ABITS_BANDS), _band(e["obits"], OBITS_BANDS), cls)
        groups.setdefault(key, ([], [], []))
        groups[key][0].append(est["luts"])
        groups[key][1].append(e["yosys"]["luts"])
        groups[key][2].append(est["regime"][2] == cls)
    order = {b: i for i, b in enumerate(_band(lo, ABITS_BANDS) for lo, _ in ABITS_BANDS)}
    rows = []
    for key in sorted(groups, key=lambda k: (order[k[0]], k[1], k[2])):
        est, ref, ok = groups[key]
        st = error_stats(est, ref)
        rows.append([key[0], key[1], key[2], st["n"], st["mean_abs_pct"], st["total_pct"], st["max_abs_pct"],
                     round(100 * float(np.mean(ok)), 0), int(sum(ref))])
    return rows


def format_error_table(rows) -> str:
    """A readable table of ``error_by_regime`` rows."""
    hdr = ["addr bits", "out bits", "tables", "n", "mean |err| %", "total err %", "max |err| %",
           "class found %", "Yosys LUTs"]
    lines = ["  ".join(f"{h:>12}" for h in hdr)]
    lines += ["  ".join(f"{str(x):>12}" for x in r) for r in rows]
    return "\n".join(lines)


def design_error(stats: list) -> dict:
    """The held-out error that applies to a design: its tables' regimes (from their estimates,
    ``stats`` as ``estimate_network`` returns), each regime's ``REGIME_ERRORS`` row weighted by the
    design's estimated LUTs in it.  ``total_pct_bound``: the LUT-weighted mean of the regimes'
    |network-total error|; ``mean_abs_pct``: the weighted mean per-table error."""
    table = {(r[0], r[1], r[2]): r for r in REGIME_ERRORS}
    luts: dict = {}
    neurons: dict = {}
    for layer in stats:
        for s in layer:
            key = tuple(s["regime"])
            luts[key] = luts.get(key, 0) + s["luts"]
            neurons[key] = neurons.get(key, 0) + 1
    rows, wsum, tot, mean, missing = [], 0.0, 0.0, 0.0, []
    for key in sorted(luts, key=lambda k: -luts[k]):
        r = table.get(key)
        if r is None:
            missing.append(key)
            continue
        w = max(luts[key], 1e-9) if sum(luts.values()) else 1.0
        rows.append({"regime": {"address_bits": key[0], "out_bits": key[1], "class": key[2]},
                     "neurons": neurons[key], "est_luts": luts[key], "heldout_tables": r[3],
                     "mean_abs_pct": r[4], "total_pct": r[5]})
        wsum += w
        tot += w * abs(r[5])
        mean += w * r[4]
    return {"reference": "Yosys 0.23 synth_xilinx -nobram -nolutram -nodsp, one run per table",
            "source": "held-out tables of tests/rtl/yosys_calibration.json in this design's regimes",
            "total_pct_bound": round(tot / wsum, 1) if wsum else None,
            "mean_abs_pct": round(mean / wsum, 1) if wsum else None,
            "regimes": rows, "uncalibrated_regimes": [list(k) for k in missing]}
