"""Don't-care logic minimisation (the ReducedLUT idea): table rows that no training input reaches
are rewritten so that the synthesized logic shrinks.

* :func:`care_set` pushes the inputs of the **training split** through the IR and records, per
  table, which address rows they reach (:func:`lutnet.rtl.estimate.care_masks`, vectorized).  A care
  set from the test split is refused (choosing circuit logic on test inputs leaks the test set into
  the design), and so is an empty one.
* :class:`DontCareMinimize` is the transformation (one class, qonnx style):
  ``new_ir, report = DontCareMinimize(X_train, split="train").apply(ir)``.  The new IR is identical
  to ``ir`` on every care row, hence on every care input at every layer (checked before it is
  returned); on an input outside the care set the model and the circuit **may differ**
  (:func:`disagreement` measures how often, e.g. on the test set).
* Rules (``rule=``), per output bit of every table, vectorized over neurons and rows:

  ``support`` (default): greedily drop the address variables the bit does not depend on over the
  care set (a variable is dropped when, with the variables dropped so far, no two care rows that
  differ only in dropped variables disagree; most-evidence variables first), fill every unreached
  row whose class (the rows equal on the kept variables) holds a care row with that class's value,
  so the bit no longer depends on the dropped variables, and every class without a care row the
  majority of the original values in it (the model's function, projected onto the kept
  variables); a bit whose determined rows agree with an earlier output bit of the same neuron
  then takes that bit's function (one shared function).
  ``cofactor``: the estimator's 6-variable cofactor rule (:func:`lutnet.rtl.estimate.fill_dont_cares`).
  ``zero``: unreached rows become code 0 (the baseline).

  ``benchmarks/bench_dontcare.py`` measures the rules with Yosys; ``support`` gives the fewest LUTs
  (trained digits-s, whole design, Yosys 0.70: 982 -> 734 LUTs, cofactor 839, zero 918; digits-lut6:
  232 -> 213, cofactor 231, zero 242; per-table Yosys 0.23 sum on digits-lut6: 407 -> 389, 406, 412).
* :func:`check_care_set` is the harness check: the framework model against the rewritten IR (and
  optionally the rewritten design's RTL) on the care inputs, through :func:`lutnet.harness.check_levels`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, LutnetError
from ..ir import LayerIR, NetworkIR, pattern_to_code

RULES = ("support", "cofactor", "zero")
CARE_SPLITS = ("train", "val")  # the training split, or the validation part carved from it
TEST_SPLITS = ("test", "testing", "holdout", "eval")
CAVEAT = ("on inputs outside the care set the model and the circuit may differ: a rewritten row holds a "
          "value the model would not compute; measure how often with lutnet.transforms.disagreement "
          "(e.g. on the test set)")
_CHUNK = 1 << 22  # functions x rows processed at once (memory of the greedy pass: ~10 bytes each)


# --------------------------------------------------------------------------- care sets
@dataclass
class CareSet:
    """The care set of a network: ``masks[l]`` is parallel to ``ir.layers[l].tables``, True where the
    row is reached by one of the ``n_samples`` input ``codes`` of the ``split``."""

    split: str
    n_samples: int
    codes: np.ndarray
    masks: list
    source: str = ""

    def fractions(self) -> list:
        return [float(m.mean()) if m.size else 1.0 for m in self.masks]


def check_split(split) -> str:
    """The care-set split name, refused unless it is the training split (or its validation part)."""
    s = str(split).strip().lower()
    if s in TEST_SPLITS or s.startswith("test"):
        raise InputError(f"care set: split {split!r} is the test split; the care set must come from the "
                         f"training split (split='train'): choosing which rows to rewrite on test inputs "
                         f"leaks the test set into the circuit. Measure the test set afterwards with "
                         f"lutnet.transforms.disagreement")
    if s not in CARE_SPLITS:
        raise InputError(f"care set: unknown split {split!r}; use split='train' (the training split; 'val' "
                         f"for the validation part carved from it)")
    return s


def care_set(ir: NetworkIR, X, split: str = "train", *, codes: bool = False, source: str = "") -> CareSet:
    """The rows of every table reached by the training inputs ``X`` (float features, quantized by
    the IR's input quantizer; with ``codes=True``, integer input codes).  ``split`` names where
    ``X`` comes from: ``"train"`` (or ``"val"``); ``"test"`` is refused, and so is an empty ``X``."""
    split = check_split(split)
    from ..core.inputs import check_features, check_quant_codes
    n = int(np.shape(X)[0]) if np.ndim(X) >= 1 else 1
    if n == 0:
        raise InputError(f"care set: no samples (0 inputs from split {split!r}); the care set is empty, so every "
                         f"row would be a don't-care: give the training inputs (X_train)")
    if codes:
        c, _ = check_quant_codes(X, ir.n_inputs, ir.input_quant)
    else:
        x, _ = check_features(X, ir.n_inputs)
        c = ir.input_quant.to_codes(x)
    from ..rtl.estimate import care_masks
    return CareSet(split, int(len(c)), c, care_masks(ir, c), source)


# --------------------------------------------------------------------------- rules
def _bit_planes(t: np.ndarray, obits: int) -> np.ndarray:
    """(K, R) codes -> (K, obits, R) bool bits of their patterns."""
    p = t & ((1 << obits) - 1)
    return ((p[:, None, :] >> np.arange(obits)[None, :, None]) & 1).astype(bool)


def _support_rule(f: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """New bits for functions ``f`` (M, R=2**n) specified on ``c`` (M, R): greedy variable dropping
    over the care set, then per class (rows equal on the kept variables) the care value, or for a
    class without care rows the majority of the original values in it (the model's own function,
    projected).  Loops over the n address variables only."""
    M, R = f.shape
    rows = np.arange(R)
    a1, a0 = c & f, c & ~f
    ones, size = f.astype(np.int32), np.ones((M, R), np.int32)
    if n:
        # evidence: care pairs across each variable that agree; a conflicting pair blocks the variable
        ev = np.zeros((M, n), np.int64)
        for i in range(n):
            p = rows ^ (1 << i)
            both = c & c[:, p]
            ev[:, i] = np.where((both & (f != f[:, p])).any(axis=1), -1, both.sum(axis=1))
        order = np.argsort(-ev, axis=1, kind="stable")  # most agreeing evidence first, blocked last
        for step in range(n):
            var = order[:, step]
            part = rows[None, :] ^ np.left_shift(1, var)[:, None]
            b1 = a1 | np.take_along_axis(a1, part, axis=1)
            b0 = a0 | np.take_along_axis(a0, part, axis=1)
            ok = (~(b1 & b0).any(axis=1) & (ev[np.arange(M), var] >= 0))[:, None]
            a1 = np.where(ok, b1, a1)
            a0 = np.where(ok, b0, a0)
            ones = np.where(ok, ones + np.take_along_axis(ones, part, axis=1), ones)
            size = np.where(ok, size * 2, size)
    spec = a1 | a0   # rows whose class holds a care row: the care value
    return np.where(spec, a1, ones * 2 > size), spec


def _fill_support(bits: np.ndarray, care: np.ndarray, n: int) -> np.ndarray:
    """(K, obits, R) bits, (K, R) care -> new (K, obits, R) bits (the ``support`` rule)."""
    K, ob, R = bits.shape
    f = bits.reshape(K * ob, R)
    c = np.repeat(care, ob, axis=0)
    full = np.empty_like(f)
    spec = np.empty_like(f)
    step = max(1, _CHUNK // max(R, 1))
    for s in range(0, len(f), step):  # chunks of functions (memory), not rows
        full[s:s + step], spec[s:s + step] = _support_rule(f[s:s + step], c[s:s + step], n)
    full = full.reshape(K, ob, R)
    spec = spec.reshape(K, ob, R)
    val = full.copy()
    # a bit whose determined rows agree with an earlier output bit's (final) function takes that function
    done = np.zeros(K, bool)
    for b in range(1, ob):  # output bits (<= 16), vectorized over neurons and rows
        done[:] = False
        for b2 in range(b):
            ok = ~done & ~((full[:, b2] != val[:, b]) & spec[:, b]).any(axis=1)
            full[ok, b] = full[ok, b2]
            done |= ok
    return full


def _fill_group(tables: np.ndarray, care: np.ndarray, n: int, obits: int, signed: np.ndarray, rule: str):
    """New tables (K, R) for one group of same-shaped tables (K, R) with care masks (K, R)."""
    if rule == "zero":
        return np.where(care, tables, 0)
    if rule == "cofactor":
        from ..rtl.estimate import fill_dont_cares
        return np.stack([fill_dont_cares(t, m, n, obits, bool(s)) for t, m, s in zip(tables, care, signed)])
    bits = _fill_support(_bit_planes(tables, obits), care, n)
    pat = (bits.astype(np.int64) << np.arange(obits)[None, :, None]).sum(axis=1)
    return pattern_to_code(pat, obits, signed[:, None])


def rewrite_layer(L: LayerIR, care: np.ndarray, rule: str = "support") -> np.ndarray:
    """The layer's table array with the rows outside ``care`` rewritten by ``rule``; tables of one
    shape (address bits, output bits) are processed together."""
    t = L.tables.astype(np.int64)
    out = t.copy()
    if not L.out_features:
        return out
    key = L.address_bits * 32 + L.out_bits
    for k in np.unique(key):  # loop over table shapes, vectorized over the neurons of each
        ks = np.flatnonzero(key == k)
        n, ob = int(L.address_bits[ks[0]]), int(L.out_bits[ks[0]])
        pos = L.offsets[ks][:, None] + np.arange(1 << n)[None, :]
        out[pos] = _fill_group(t[pos], care[pos], n, ob, L.out_signed[ks], rule)
    return out


# --------------------------------------------------------------------------- the transformation
@dataclass
class DontCareReport:
    """What :class:`DontCareMinimize` did: per layer, rows, unreached rows and rewritten rows (rows
    whose code changed), the care set's split and size, the mismatches on the care inputs (always
    0: checked) and the caveat for inputs outside the care set."""

    rule: str
    care_split: str
    care_samples: int
    layers: list = field(default_factory=list)
    care_mismatches: int = 0
    care_source: str = ""
    caveat: str = CAVEAT

    @property
    def rows_rewritten(self) -> int:
        return int(sum(r["rewritten"] for r in self.layers))

    @property
    def rows_unreached(self) -> int:
        return int(sum(r["unreached"] for r in self.layers))

    @property
    def rows(self) -> int:
        return int(sum(r["rows"] for r in self.layers))

    def to_dict(self) -> dict:
        return {"rule": self.rule, "care_split": self.care_split, "care_samples": self.care_samples,
                "care_source": self.care_source, "rows": self.rows, "rows_unreached": self.rows_unreached,
                "rows_rewritten": self.rows_rewritten, "care_mismatches": self.care_mismatches,
                "layers": self.layers, "caveat": self.caveat}

    def lines(self) -> list:
        src = f", {self.care_source}" if self.care_source else ""
        out = [f"don't-care rewrite ({self.rule}): care set = {self.care_samples} inputs of the "
               f"{self.care_split!r} split{src}; {self.rows_rewritten:,} of {self.rows:,} table rows rewritten "
               f"({self.rows_unreached:,} unreached); mismatches on the care set: {self.care_mismatches}"]
        out += [f"  {r['layer']}: {r['rewritten']:,} rewritten, {r['unreached']:,} unreached of {r['rows']:,} rows"
                for r in self.layers]
        out.append(f"  caveat: {self.caveat}")
        return out

    def __str__(self):
        return "\n".join(self.lines())


class DontCareMinimize:
    """Rewrite the table rows no care input reaches so that the synthesized logic shrinks.

    ``X``: the care inputs (float features of the training split; integer input codes with
    ``codes=True``), ``split``: their split (``"train"``; ``"test"`` is refused), ``rule``: one of
    :data:`RULES`, ``source``: a free-text name of the data (e.g. ``"digits X_train"``).
    ``apply(ir)`` returns ``(new_ir, DontCareReport)``; ``ir`` is not modified.  The new IR's
    metadata ``dont_care`` holds the report (rows rewritten per layer, care split and sample count)."""

    def __init__(self, X, split: str = "train", *, codes: bool = False, rule: str = "support", source: str = ""):
        if rule not in RULES:
            raise LutnetError(f"DontCareMinimize: rule {rule!r} is not one of {', '.join(RULES)}")
        self.split = check_split(split)
        self.X, self.codes, self.rule, self.source = X, codes, rule, source

    def apply(self, ir: NetworkIR) -> tuple[NetworkIR, DontCareReport]:
        ir.validate()
        care = care_set(ir, self.X, self.split, codes=self.codes, source=self.source)
        layers, rows = [], []
        for L, m in zip(ir.layers, care.masks):
            t = rewrite_layer(L, m, self.rule)
            n_rw = int((t != L.tables).sum())
            rows.append({"layer": L.name, "rows": int(L.tables.size), "unreached": int((~m).sum()),
                         "rewritten": n_rw})
            layers.append(dataclasses.replace(L, tables=t.astype(L.tables.dtype),
                                              attrs=dict(L.attrs, dont_care_rows_rewritten=n_rw)))
        rep = DontCareReport(self.rule, care.split, care.n_samples, rows, 0, self.source)
        new = NetworkIR(ir.input_quant, ir.n_inputs, layers, ir.output_quant, dict(ir.metadata),
                        ir.encoder, ir.head, ir.argmax)
        mism = care_mismatches(ir, new, care.codes)
        if mism:  # cannot happen: care rows are kept; a failure here is a lutnet bug, never returned silently
            raise LutnetError(f"DontCareMinimize: the rewritten IR differs from the original on {mism} care inputs "
                              f"(a lutnet bug; please report it)")
        rep.care_mismatches = mism
        new.metadata["dont_care"] = rep.to_dict()
        return new.validate(), rep


# --------------------------------------------------------------------------- checks and measurements
def care_mismatches(ir: NetworkIR, new_ir: NetworkIR, codes, chunk: int = 8192) -> int:
    """Care inputs on which any stage output (every layer, head, argmax) of the two IRs differs."""
    codes = np.asarray(codes, np.int64)
    bad = 0
    for s in range(0, len(codes), chunk):
        a = ir.evaluate(codes[s:s + chunk], return_all=True)
        b = new_ir.evaluate(codes[s:s + chunk], return_all=True)
        diff = np.zeros(len(a[0]), bool)
        for x, y in zip(a, b):
            diff |= (np.asarray(x) != np.asarray(y)).any(axis=1)
        bad += int(diff.sum())
    return bad


def disagreement(ir: NetworkIR, new_ir: NetworkIR, X, y=None, *, codes: bool = False) -> dict:
    """How often the original and the rewritten network differ on ``X`` (e.g. the test set: this
    measures, it chooses nothing): samples whose network output differs, whose predicted class
    differs, and the accuracies of both when labels ``y`` are given."""
    from ..core.inputs import check_features, check_quant_codes
    if codes:
        c, _ = check_quant_codes(X, ir.n_inputs, ir.input_quant)
    else:
        c = ir.input_quant.to_codes(check_features(X, ir.n_inputs)[0])
    a, b = ir.evaluate(c), new_ir.evaluate(c)
    pa = a[:, 0] if ir.argmax else np.argmax(a, axis=1)
    pb = b[:, 0] if new_ir.argmax else np.argmax(b, axis=1)
    n = len(c)
    out_diff = int((a != b).any(axis=1).sum()) if n else 0
    cls_diff = int((pa != pb).sum())
    res = {"samples": n, "outputs_differ": out_diff, "classes_differ": cls_diff,
           "outputs_differ_rate": out_diff / n if n else 0.0, "classes_differ_rate": cls_diff / n if n else 0.0}
    if y is not None:
        y = np.asarray(y)
        res.update({"accuracy_before": float((pa == y).mean()) if n else 0.0,
                    "accuracy_after": float((pb == y).mean()) if n else 0.0})
    return res


def check_care_set(model, new_ir: NetworkIR, care_codes, *, levels=("model",), rtl_levels=(), work_dir=None,
                   **level_opts):
    """The harness check of a rewritten IR: the framework ``model`` (a Brevitas/QKeras LUT model or a
    DWN model; or the original NetworkIR) and the rewritten IR's evaluator, compared with the model's
    IR at every layer on the care inputs (``care_codes`` (N, n_inputs), e.g. ``CareSet.codes``),
    through :func:`lutnet.harness.check_levels`; ``rtl_levels`` (e.g. ``("verilog",)``) also
    simulate the rewritten design and compare it with the rewritten IR on the same inputs.
    Returns the list of harness reports; every one must be ``ok`` (0 mismatches)."""
    from ..harness import check_levels
    from ..harness.levels import Level, LevelOutput
    codes = np.asarray(care_codes, np.int64)

    def run(c):
        ls = new_ir.evaluate(c, return_all=True)
        return LevelOutput(ls[-1], ls)
    lv = [x for x in levels if x != "model"] if isinstance(model, NetworkIR) else list(levels)
    reports = [check_levels(model, codes, lv, work_dir=work_dir, extra_levels=[Level("dontcare-ir", run)],
                            name="dont-care rewrite on the care set")]
    if rtl_levels:
        reports.append(check_levels(new_ir, codes, tuple(rtl_levels), work_dir=work_dir,
                                    name="rewritten design on the care set", **level_opts))
    return reports


# --------------------------------------------------------------------------- care files (CLI)
def write_care_file(path, X=None, *, codes=None, split: str = "train", source: str = "", overwrite: bool = False):
    """Write a care file for ``lutnet build --dont-care``: the training inputs (float features ``X``
    or integer input ``codes``), the split they come from and a free-text source."""
    from .._files import atomic_write
    split = check_split(split)
    if (X is None) == (codes is None):
        raise InputError("write_care_file: give the care inputs as X (float features) or codes (input codes), "
                         "one of them")
    arrays = {"split": np.array(split), "source": np.array(str(source))}
    if X is not None:
        arrays["X"] = np.asarray(X, np.float32)
    else:
        arrays["codes"] = np.asarray(codes, np.int64)

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return atomic_write(Path(path), write, overwrite)


def load_care_file(path) -> dict:
    """``{"X" or "codes": array, "split": str, "source": str}`` of a care file (see :func:`write_care_file`)."""
    p = Path(path)
    how = ("a care file is an .npz with 'split' (e.g. 'train') and 'X' (float features) or 'codes' (input "
           "codes) of the training split; write it with lutnet.transforms.write_care_file")
    try:
        with np.load(p, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as e:
        raise InputError(f"{p}: not a readable care file ({e}); {how}") from None
    if "split" not in d:
        raise InputError(f"{p}: no 'split' array, so the care inputs' split is unknown; {how}")
    if ("X" in d) == ("codes" in d):
        raise InputError(f"{p}: needs exactly one of 'X' and 'codes'; {how}")
    out = {"split": str(d["split"]), "source": str(d.get("source", np.array(""))) or p.name}
    out.update({k: d[k] for k in ("X", "codes") if k in d})
    return out


def load_run_care_inputs(run_dir) -> dict:
    """``{"X", "split": "train", "source"}``: the training split of the dataset a ``lutnet train``
    output directory (its checkpoint's config) was trained on."""
    from .._cli import is_checkpoint
    from ..data import load_config_data
    from ..frontend import load_any_checkpoint
    d = Path(run_dir)
    ckpts = [c for c in sorted(d.iterdir()) if is_checkpoint(c)] if d.is_dir() else []
    if not ckpts:
        raise InputError(f"{d}: no checkpoint in this directory; --dont-care takes a care file (.npz, "
                         f"lutnet.transforms.write_care_file) or a `lutnet train` output directory")
    _, _, cfg = load_any_checkpoint(ckpts[0])
    ds = load_config_data(cfg.data)
    return {"X": ds.X_train, "split": "train", "source": f"{cfg.data.name} training split ({ckpts[0]})"}


def from_care_file(path, rule: str = "support") -> DontCareMinimize:
    """The transformation for a care file, or for the training split of a ``lutnet train`` output
    directory (its split is checked when the file is read)."""
    d = load_run_care_inputs(path) if Path(path).is_dir() else load_care_file(path)
    if "codes" in d:
        return DontCareMinimize(d["codes"], d["split"], codes=True, rule=rule, source=d["source"])
    return DontCareMinimize(d["X"], d["split"], rule=rule, source=d["source"])
