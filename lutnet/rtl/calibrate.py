"""Calibration set of the LUT estimator: tables across every regime lutnet makes, with their Yosys
0.23 results, stored as ``tests/rtl/yosys_calibration.json``.

Regimes: address bits 1-14 x output bits 1-8, three sources:

* ``random``: uniformly random tables (the worst case for logic synthesis), rebuilt from a seed;
* ``synthetic``: trained-like tables (``samples.trained_like_table``: linear/poly/subnet functions of
  quantized inputs, random weights), rebuilt from their spec;
* ``trained``: tables of lutnet models trained briefly on sklearn digits (several neuron kinds,
  fan-ins and bit widths), stored packed (zlib + base64 of the output bit patterns).

Every entry carries a deterministic ``split`` (``fit`` or ``heldout``: 2 of every 5 tables of each
regime in table-hash order, ``assign_splits``); ``lutnet.rtl.estimate`` is fitted on ``fit`` and its
stated error is measured on ``heldout`` only (``python -m lutnet.rtl.calibrate --fit`` prints both).

Regenerate (about 25-35 min of Yosys CPU on 2 jobs; results are cached by table hash under
``~/.cache/lutnet/yosys``, so a rerun costs seconds)::

    python -m lutnet.rtl.calibrate --out tests/rtl/yosys_calibration.json --jobs 2
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from . import samples

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "tests" / "rtl" / "yosys_calibration.json"
HELDOUT_FRACTION = 0.4  # assign_splits: 2 of every 5 tables of a regime
PER_LAYER = 10  # trained tables taken per layer (Yosys time budget)

# (fan_in, bits per input) pairs giving each address width; kinds cycle linear/poly/subnet
_SYNTH_SHAPES = {7: [(7, 1)], 8: [(4, 2), (2, 4)], 9: [(3, 3), (9, 1)], 10: [(5, 2), (2, 5)],
                 11: [(11, 1)], 12: [(4, 3), (6, 2), (3, 4)], 13: [(13, 1)], 14: [(7, 2)]}
_SMALL_SHAPES = {1: [(1, 1)], 2: [(2, 1), (1, 2)], 3: [(3, 1), (1, 3)], 4: [(2, 2), (4, 1)],
                 5: [(5, 1)], 6: [(3, 2), (2, 3), (6, 1)]}

# small digits models trained for a few epochs: (name, ModelConfig fields)
TRAINED_MODELS = [
    ("lin-f4-b2", dict(layers=[16, 10], fan_in=4, input_bits=2, hidden_bits=2, output_bits=3)),
    ("lin-f3-b3", dict(layers=[16, 10], fan_in=3, input_bits=3, hidden_bits=3, output_bits=4)),
    ("poly-f5-b2", dict(layers=[16, 10], fan_in=5, input_bits=2, hidden_bits=2, output_bits=3,
                        neuron={"kind": "poly", "degree": 2})),
    ("sub-f4-b3", dict(layers=[16, 10], fan_in=4, input_bits=3, hidden_bits=3, output_bits=3,
                       neuron={"kind": "subnet", "width": 8, "depth": 2})),
    ("lin-f6-b2", dict(layers=[12, 10], fan_in=6, input_bits=2, hidden_bits=1, output_bits=2)),
    ("lin-i11-b1", dict(layers=[12, 10], input_fan_in=11, fan_in=2, input_bits=1, hidden_bits=4,
                        output_bits=8)),
    ("sub-i13-b1", dict(layers=[10, 10], input_fan_in=13, fan_in=3, input_bits=1, hidden_bits=2,
                        output_bits=5, neuron={"kind": "subnet", "width": 8, "depth": 2})),
    ("poly-i2-b4", dict(layers=[16, 10], input_fan_in=2, fan_in=2, input_bits=4, hidden_bits=5,
                        output_bits=6, neuron={"kind": "poly", "degree": 2})),
    ("lin-i5-b1", dict(layers=[16, 10], input_fan_in=5, fan_in=2, input_bits=1, hidden_bits=3,
                       output_bits=6)),
    ("poly-i7-b1", dict(layers=[16, 10], input_fan_in=7, fan_in=3, input_bits=1, hidden_bits=2,
                        output_bits=3, neuron={"kind": "poly", "degree": 2})),
]


# --------------------------------------------------------------------------- table encoding
def pack_table(table, obits: int) -> str:
    pat = (np.asarray(table, np.int64) & ((1 << obits) - 1)).astype(np.uint8)
    return base64.b64encode(zlib.compress(pat.tobytes(), 9)).decode()


def unpack_table(text: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), np.uint8).astype(np.int64)


def random_table(abits: int, obits: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1 << obits, 1 << abits)


def synthetic_table(spec: dict) -> np.ndarray:
    rng = np.random.default_rng(spec["seed"])
    return samples.trained_like_table(spec["fan_in"], spec["in_bits"], spec["in_signed"], spec["obits"],
                                      spec["out_signed"], spec["kind"], rng, relu=spec["relu"])


def entry_table(e: dict) -> np.ndarray:
    """The table (output bit patterns) of a calibration entry."""
    if e["source"] == "random":
        return random_table(e["abits"], e["obits"], e["seed"])
    if e["source"] == "synthetic":
        return synthetic_table(e["spec"]) & ((1 << e["obits"]) - 1)
    return unpack_table(e["table"])


def entry_in_bits(e: dict) -> list:
    return list(e["in_bits"])


def _table_digest(table, abits: int, obits: int) -> bytes:
    return hashlib.sha256(f"{abits},{obits};".encode()
                          + np.ascontiguousarray(np.asarray(table, np.int64)).tobytes()).digest()


def assign_splits(entries: list, tables: list) -> None:
    """Set every entry's ``split``, stratified: within each regime (address-bit band, output-bit
    band, random or trained) the tables in table-hash order go fit, heldout, fit, heldout, fit, ...
    (2 of every 5 held out), so every regime with two or more tables has held-out tables."""
    from .estimate import ABITS_BANDS, OBITS_BANDS, _band
    groups: dict = {}
    for i, (e, t) in enumerate(zip(entries, tables)):
        cls = "random" if e["source"] == "random" else "trained"
        key = (_band(e["abits"], ABITS_BANDS), _band(e["obits"], OBITS_BANDS), cls)
        groups.setdefault(key, []).append((_table_digest(t, e["abits"], e["obits"]), i))
    for members in groups.values():
        for j, (_, i) in enumerate(sorted(members)):
            entries[i]["split"] = "heldout" if j % 5 in (1, 3) else "fit"


# --------------------------------------------------------------------------- the sample
def random_entries() -> list:
    out = []
    for a in range(1, 15):
        for o in (1, 2, 3, 4, 6, 8):
            if a >= 13 and o > (2 if a == 14 else 4):
                continue  # Yosys time: a 14-bit random table takes ~17 s per 2 output bits
            n = 6 if a <= 6 else (1 if a <= 11 else (3 if a == 12 else 2))
            for r in range(n):
                seed = 1000 * a + 10 * o + r
                out.append({"source": "random", "abits": a, "obits": o, "seed": seed,
                            "in_bits": [a], "kind": "random"})
    return out


def synthetic_entries() -> list:
    out, i = [], 0
    kinds = samples.KINDS
    for a, shapes in {**_SMALL_SHAPES, **_SYNTH_SHAPES}.items():
        for fan_in, b in shapes:
            for o in (1, 2, 3, 4, 6, 8):
                kind = kinds[i % 3]
                i += 1
                relu = (i % 4) != 0
                if 7 <= a <= 11 and o in (3, 6):
                    continue  # Yosys time budget (the seed counter still advances)
                spec = {"fan_in": fan_in, "in_bits": b, "in_signed": bool(i % 2), "obits": o,
                        "out_signed": not relu, "kind": kind, "relu": relu, "seed": 7000 + i}
                out.append({"source": "synthetic", "abits": a, "obits": o, "spec": spec,
                            "in_bits": [b] * fan_in, "kind": kind})
    return out


def trained_entries(epochs: int = 3, log=print) -> list:
    """Tables of small digits models trained for ``epochs`` epochs (torch needed)."""
    from ..builder import build_model
    from ..config import ModelConfig, TrainConfig, from_dict
    from ..data import load_dataset
    from ..export import to_ir
    from ..train import fit
    ds = load_dataset("digits")
    out = []
    for name, mc in TRAINED_MODELS:
        t0 = time.perf_counter()
        cfg = from_dict(ModelConfig, dict(mc, seed=3))
        model = build_model(cfg, ds.X_train.shape[1], ds.X_train)
        fit(model, ds.X_train, ds.y_train, TrainConfig(epochs=epochs, lr=0.02, batch_size=128, seed=3),
            progress=False, log=lambda *a, **k: None)
        ir = to_ir(model)
        seen = set()
        for L in ir.layers:
            for k in range(min(L.out_features, PER_LAYER)):
                ab, ob = int(L.address_bits[k]), int(L.out_bits[k])
                t = L.table(k) & ((1 << ob) - 1)
                key = (ab, ob, t.tobytes())
                if key in seen:
                    continue
                seen.add(key)
                ib = [int(x) for x, s in zip(L.in_bits[k], L.indices[k]) if s >= 0 and x > 0]
                out.append({"source": "trained", "abits": ab, "obits": ob, "in_bits": ib,
                            "kind": L.kind or cfg.neuron.kind, "model": name, "layer": L.name,
                            "table": pack_table(t, ob)})
        log(f"trained {name}: {len(seen)} unique tables ({time.perf_counter() - t0:.1f} s)")
    return out


def _cached_only(entries: list, tables: list, cache_dir) -> tuple[list, list]:
    """The entries whose Yosys result is already in the cache (a run cut short by the time budget)."""
    from . import synth
    from .tools import find_tool, tool_version
    yid = tool_version(find_tool("yosys"))
    cache = synth._cache_dir(cache_dir)
    keep = [i for i, (e, t) in enumerate(zip(entries, tables))
            if e["abits"] == 0 or (cache / f"{synth.table_hash(t, e['abits'], e['obits'], yid)}.json").is_file()]
    return [entries[i] for i in keep], [tables[i] for i in keep]


def collect(epochs: int = 3, jobs: int = 2, cache_dir=None, log=print, cached_only: bool = False) -> dict:
    """Build every entry, synthesize its table with Yosys (cached) and attach the results.
    ``cached_only``: keep only the entries already synthesized (no Yosys run)."""
    from . import synth
    from .tools import find_tool, tool_version
    entries = random_entries() + synthetic_entries() + trained_entries(epochs, log=log)
    tables = [entry_table(e) for e in entries]
    if cached_only:
        entries, tables = _cached_only(entries, tables, cache_dir)
    assign_splits(entries, tables)
    log(f"{len(entries)} tables; synthesizing with Yosys ({jobs} jobs)")
    t0 = time.perf_counter()
    res = [None] * len(entries)
    for lo, hi in ((0, 8), (9, 10), (11, 99)):  # narrow tables first: a run cut short keeps every band
        idx = [i for i, e in enumerate(entries) if lo <= e["abits"] <= hi]
        out = synth.synth_tables([(tables[i], entries[i]["abits"], entries[i]["obits"]) for i in idx],
                                 jobs=jobs, cache_dir=cache_dir, progress=True)
        for i, r in zip(idx, out):
            res[i] = r
    for e, r in zip(entries, res):
        e["yosys"] = {"luts": r["luts"], "lut_levels": r["lut_levels"], "logic_levels": r["logic_levels"],
                      "muxf7": r["muxf7"], "muxf8": r["muxf8"],
                      "seconds": round(float(r.get("yosys_seconds", 0.0)), 3)}
    return {"about": "Estimator calibration set: tables across address bits 1-14, output bits 1-8, "
                     "random / synthetic trained-like / trained on digits; Yosys results per table "
                     "(tables of <= 6 address bits batched). Regenerate: python -m lutnet.rtl.calibrate",
            "yosys": tool_version(find_tool("yosys")), "script_version": synth.SCRIPT_VERSION,
            "heldout_fraction": HELDOUT_FRACTION, "wall_seconds": round(time.perf_counter() - t0, 1),
            "entries": entries}


def load(path=DEFAULT_OUT) -> list:
    """``(entry, table)`` pairs of a stored calibration set."""
    d = json.loads(Path(path).read_text())
    return [(e, entry_table(e)) for e in d["entries"]]


def legacy_validation() -> dict:
    """``estimate.VALIDATION``: the estimator on the two earlier Yosys sets (tests/rtl/yosys_sample.json:
    81 trained-like 6-12-bit tables; yosys_jscm.json: 165 12-bit tables of a JSC-M-size network)."""
    from . import estimate
    d = json.loads((DEFAULT_OUT.parent / "yosys_sample.json").read_text())
    items = []
    for (f, b, kind, seed, relu, sg), r in zip(d["specs"], d["results"]):
        t = samples.trained_like_table(f, b, sg, b, not relu, kind, np.random.default_rng(seed), relu=relu)
        items.append((t, [b] * f, b, r))
    out = {"sample": estimate.validate_against_yosys(items)}
    d = json.loads((DEFAULT_OUT.parent / "yosys_jscm.json").read_text())
    ir = samples.trained_like_network_ir(0)
    items, i = [], 0
    for L in ir.layers:
        for k in range(L.out_features):
            items.append((L.table(k), [3] * 4, 3, {"luts": d["luts"][i], "lut_levels": d["lut_levels"][i]}))
            i += 1
    out["heldout"] = estimate.validate_against_yosys(items)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m lutnet.rtl.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--fit", action="store_true", help="only fit and print the error table of --out")
    ap.add_argument("--cached-only", action="store_true", help="keep only tables already in the Yosys cache")
    a = ap.parse_args(argv)
    if not a.fit:
        d = collect(a.epochs, a.jobs, a.cache_dir, log=lambda m: print(m, file=sys.stderr),
                    cached_only=a.cached_only)
        Path(a.out).write_text(json.dumps(d, separators=(",", ":")) + "\n")
        print(f"wrote {a.out}: {len(d['entries'])} tables", file=sys.stderr)
    from . import estimate, synth
    pairs = load(a.out)
    fit = estimate.fit_calibration(pairs)
    estimate.LUT_SCALE.update(fit)
    print(f"LUT_SCALE = {fit!r}")
    print(f"REGIME_ERRORS = {estimate.error_by_regime(pairs, split='heldout')!r}")
    print(f"VALIDATION (earlier sets) = {legacy_validation()!r}")
    secs = {}
    for e, _ in pairs:
        secs.setdefault((e["abits"], e["obits"]), []).append(e["yosys"]["seconds"])
    print("Yosys seconds per table (this run, machine load included) vs synth.table_seconds (idle):")
    for (ab, ob), v in sorted(secs.items()):
        if ab >= 8 and ob in (1, 3, 8):
            print(f"  {ab:2d} x {ob}: measured {np.mean(v):5.1f} s, model {synth.table_seconds(ab, ob):5.1f} s")
    for split in ("fit", "heldout"):
        print(f"\n{split} split (vs {json.loads(Path(a.out).read_text())['yosys']}):")
        print(estimate.format_error_table(estimate.error_by_regime(pairs, split=split)))


if __name__ == "__main__":
    main()
