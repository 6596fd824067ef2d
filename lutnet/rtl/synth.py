"""Open-flow synthesis of LUT tables with Yosys (``synth_xilinx -nobram -nolutram -nodsp``).

A flattened network takes Yosys far too long (a 12-bit 64/32/5 network: > 10 minutes), so tables
are synthesized *out of context, one module per unique table*, one Yosys run per table (results
of ABC depend on the rest of the design, so this is what makes them reproducible; each run costs
~5 s of fixed synth_xilinx overhead plus ~2-4 s for a 12-bit table), runs in parallel, and every
result is cached as JSON keyed by sha256(table, widths, Yosys version, script version).  The network's figures are the
sums over its neurons (a neuron instance per table use), which ignores cross-neuron optimization —
the same hierarchical view the estimator takes.

Numbers depend on the Yosys version: the figures in lutnet were measured with Debian's Yosys 0.23
(``YOSYS_PINNED``); another version is used but flagged in the report."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from .._files import atomic_write
from . import emit
from .tools import cache_root, find_tool, tool_version

YOSYS_PINNED = "0.23"
SCRIPT_VERSION = 2  # 2: one table per Yosys run (deterministic)
SMALL_ABITS = 6  # tables with at most this many address bits are batched (see synth_tables)
SMALL_BATCH = 256
LUT_TYPES = [f"LUT{i}" for i in range(1, 7)]
FF_TYPES = ("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1")


def table_hash(table, abits: int, obits: int, yosys_id: str = "") -> str:
    h = hashlib.sha256(emit.table_key(table, abits, obits))
    h.update(f"|yosys={yosys_id}|script={SCRIPT_VERSION}".encode())
    return h.hexdigest()


def _module_stats(mod: dict) -> dict:
    """LUT counts by size, MUXF7/F8, FFs and the longest LUT / cell path of one netlist module."""
    cells = mod.get("cells", {})
    counts: dict = {}
    driver = {}
    for name, c in cells.items():
        t = c["type"]
        counts[t] = counts.get(t, 0) + 1
        dirs = c.get("port_directions", {})
        for port, bits in c.get("connections", {}).items():
            if dirs.get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        driver[b] = name
    memo_l: dict = {}

    def depth(name):  # (LUT levels, LUT+MUXF levels) ending at cell ``name``
        if name in memo_l:
            return memo_l[name]
        memo_l[name] = (0, 0)  # cycle guard (cannot happen in mapped combinational logic)
        c = cells[name]
        t = c["type"]
        dirs = c.get("port_directions", {})
        best = (0, 0)
        if not t.startswith("FD"):
            for port, bits in c.get("connections", {}).items():
                if dirs.get(port) == "input":
                    for b in bits:
                        d = driver.get(b) if isinstance(b, int) else None
                        if d is not None and not cells[d]["type"].startswith("FD"):
                            dd = depth(d)
                            best = (max(best[0], dd[0]), max(best[1], dd[1]))
        is_lut = t.startswith("LUT")
        is_logic = is_lut or t.startswith("MUXF")
        memo_l[name] = (best[0] + is_lut, best[1] + is_logic)
        return memo_l[name]

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    lut_levels = logic_levels = 0
    for name in cells:
        d = depth(name)
        lut_levels, logic_levels = max(lut_levels, d[0]), max(logic_levels, d[1])
    luts = {t: counts.get(t, 0) for t in LUT_TYPES}
    return {"luts_by_size": luts, "luts": int(sum(luts.values())), "muxf7": counts.get("MUXF7", 0),
            "muxf8": counts.get("MUXF8", 0), "ffs": int(sum(counts.get(t, 0) for t in FF_TYPES)),
            "lut_levels": int(lut_levels), "logic_levels": int(logic_levels),
            "other_cells": {t: n for t, n in counts.items()
                            if not (t.startswith("LUT") or t.startswith("MUXF") or t in FF_TYPES)}}


def _constant_stats() -> dict:
    return {"luts_by_size": {t: 0 for t in LUT_TYPES}, "luts": 0, "muxf7": 0, "muxf8": 0, "ffs": 0,
            "lut_levels": 0, "logic_levels": 0, "other_cells": {}}


def _run_batch(yosys: str, items: list, yosys_id: str, timeout) -> dict:
    """Synthesize a batch of (hash, table, abits, obits) in one Yosys run; returns {hash: stats}."""
    td = Path(tempfile.mkdtemp(prefix="lutnet-yosys-"))
    try:
        mods, files = [], []
        for i, (h, tab, abits, obits) in enumerate(items):
            name = f"t_{h[:16]}"
            mem = f"{name}.mem"
            (td / mem).write_bytes(emit.mem_text(tab, obits))
            (td / f"{name}.v").write_text(emit.render(
                "neuron_rom.v.j2", name=name, abits=abits, obits=obits, rows=len(tab), rom_style="logic",
                const_bits="", mem_file=mem, mem_path=mem))
            files.append(f"{name}.v")
            mods.append({"name": name, "abits": abits, "obits": obits, "hash": h})
        (td / "lutnet_batch.v").write_text(emit.render("yosys_batch_top.v.j2", modules=mods))
        files.append("lutnet_batch.v")
        (td / "run.ys").write_text(emit.render("yosys_batch.ys.j2", n=len(mods), files=files,
                                               yosys_version=yosys_id))
        t0 = time.perf_counter()
        r = subprocess.run([yosys, "-q", "run.ys"], cwd=td, capture_output=True, text=True, timeout=timeout)
        secs = time.perf_counter() - t0
        if r.returncode != 0 or not (td / "netlist.json").exists():
            raise RuntimeError(f"Yosys failed (exit {r.returncode}) in {td}:\n{(r.stdout + r.stderr)[-3000:]}")
        net = json.loads((td / "netlist.json").read_text())["modules"]
        out = {}
        for m in mods:
            mod = net.get(m["name"])
            if mod is None:  # a module Yosys removed or renamed: should not happen with -check
                raise RuntimeError(f"Yosys netlist lacks module {m['name']}")
            s = _module_stats(mod)
            s["yosys_seconds"] = secs / len(mods)
            s["address_bits"], s["out_bits"] = m["abits"], m["obits"]
            out[m["hash"]] = s
        return out
    finally:
        shutil.rmtree(td, ignore_errors=True)


def synth_tables(tables: list, *, jobs: int = 2, cache_dir=None, batch_rows: int = 0,
                 progress: bool = True, timeout=None, small_batch: int = SMALL_BATCH) -> list:
    """Yosys results for a list of ``(table, address_bits, out_bits)``; one dict per entry (see
    ``_module_stats``), each with ``cached``.  Unique tables are synthesized once.

    ``batch_rows`` = 0 (default): one table per Yosys run.  ABC's result for a module depends on what
    else is in the design (synthesizing the same 12-bit table alone or next to 4 others gave 94, 104
    or 128 LUTs), so only per-table runs are reproducible and safe to cache by table hash; batching
    (``batch_rows`` > 0: about that many table rows per run) saves Yosys' start-up but is not
    deterministic.

    Tables of at most ``SMALL_ABITS`` (6) address bits are the exception: every output bit is a
    function of at most 6 inputs, which ABC maps to one LUT (or none: a constant or a wire), whatever
    else is in the design; they are synthesized ``small_batch`` tables per Yosys run (0: one per run),
    which makes networks of thousands of LUT6 neurons measurable (~0.2 s per table instead of ~5 s)."""
    yosys = find_tool("yosys")
    yosys_id = tool_version(yosys)
    cache = Path(cache_dir) if cache_dir is not None else cache_root() / "yosys"
    cache.mkdir(parents=True, exist_ok=True)
    keys = [table_hash(t, a, o, yosys_id) for t, a, o in tables]
    results: dict = {}
    todo = {}
    for k, (t, a, o) in zip(keys, tables):
        if k in results or k in todo:
            continue
        if a == 0:
            results[k] = dict(_constant_stats(), address_bits=0, out_bits=o, yosys_seconds=0.0)
            continue
        f = cache / f"{k}.json"
        if f.is_file():
            try:
                results[k] = json.loads(f.read_text())
                results[k]["cached"] = True
                continue
            except ValueError:
                pass
        todo[k] = (np.asarray(t), int(a), int(o))
    n_cached = len(results)
    items = sorted(todo.items(), key=lambda kv: -len(kv[1][0]))
    batches = []
    if small_batch > 0:  # <= 6 address bits: many to a run (see the docstring)
        small = [(k, t, a, o) for k, (t, a, o) in items if a <= SMALL_ABITS]
        items = [kv for kv in items if kv[1][1] > SMALL_ABITS]
        n_b = -(-len(small) // small_batch)
        batches += [small[i::n_b] for i in range(n_b)]
    # the rest: batches of about ``batch_rows`` table rows, at least ``jobs`` batches when there is work
    total_rows = sum(len(v[0]) for _, v in items)
    target = max(1, min(batch_rows, -(-total_rows // max(1, jobs)))) if (items and batch_rows > 0) else 1
    cur, rows = [], 0
    for k, (t, a, o) in items:
        cur.append((k, t, a, o))
        rows += len(t)
        if rows >= target:
            batches.append(cur)
            cur, rows = [], 0
    if cur:
        batches.append(cur)
    bar = None
    if progress and batches:
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), desc=f"yosys ({n_cached} cached)", unit="table", file=sys.stderr)
        except ImportError:
            bar = None
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        futs = [ex.submit(_run_batch, yosys, b, yosys_id, timeout) for b in batches]
        done = 0
        for fut in as_completed(futs):
            res = fut.result()
            for k, s in res.items():
                atomic_write(cache / f"{k}.json", json.dumps(s), overwrite=True)
                s["cached"] = False
                results[k] = s
            done += len(res)
            if bar is not None:
                bar.update(len(res))
            elif progress:
                print(f"yosys: {done}/{len(todo)} tables synthesized ({time.perf_counter() - t0:.0f} s)",
                      file=sys.stderr)
    if bar is not None:
        bar.close()
    return [dict(results[k]) for k in keys]
