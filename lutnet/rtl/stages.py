"""Build-report rows of the IR's non-table stages (thermometer encoder, GroupSum head, argmax), so
every LUT count of a design includes them.

* ``method="estimate"``: a cost model (not a synthesis result): one comparator per threshold inside
  the code range, 1 LUT up to 6 input bits, else a chain of ``ceil((bits - 1) / 5)`` LUT6s
  (:func:`lutnet.ir.comparator_luts`); a class score over unsigned codes one LUT per output bit of
  its LUT6 bit counters plus one per bit of its final carry-chain adder (:func:`lutnet.ir.compressor_tree`,
  exactly the emitted structure), over signed codes one LUT per result bit of a balanced adder tree;
  argmax ``n - 1`` compare-select nodes of ``2 * bits + index bits`` LUTs.
  Against Yosys 0.23 on a DWN-sm-like design (784 8-bit features x 2 thresholds, 1,000 one-bit
  outputs in 10 classes): encoder 3,136 vs 2,428 LUTs (+1,985 MUXF7), head 2,910 vs 2,116 LUTs
  (+562 MUXF7), argmax 162 vs 127 LUTs.
* ``method="yosys"`` (``stage_stats``; the build report's ``"yosys-tables"`` method): each stage module
  exactly as ``write_verilog`` emits it, synthesized as a whole module with the same Yosys
  ``synth_xilinx`` options as the tables, cached by module text and Yosys version.  The build
  report's ``"yosys"`` method synthesizes the whole design instead (:func:`lutnet.rtl.synth.synth_design`)
  and uses the estimate rows here only as its per-stage breakdown.
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..ir import NetworkIR, adder_tree, compressor_tree
from . import emit

STAGES = ("encoder", "head", "argmax")
KINDS = {"encoder": "thermometer", "head": "groupsum", "argmax": "argmax"}
YOSYS_SCRIPT = "synth_xilinx -nobram -nolutram -nodsp -noiopad -noclkbuf -top {top}"


def stage_modules(ir: NetworkIR) -> dict:
    """``{stage: (module name, Verilog text)}`` of the stages of ``ir``, as ``write_verilog`` emits them."""
    d = emit._Design("lutnet_top", "case")
    out = {}
    makers = {"encoder": emit._emit_encoder, "head": emit._emit_head, "argmax": emit._emit_argmax}
    for st in present(ir):
        name, _ = makers[st](ir, d)
        out[st] = (name, d.files[f"{name}.v"].decode())
    return out


def present(ir: NetworkIR) -> list:
    return [s for s in STAGES if (s == "encoder" and ir.encoder is not None) or (s == "head" and ir.head is not None)
            or (s == "argmax" and ir.argmax)]


def _zero_luts() -> dict:
    return {f"LUT{i}": 0 for i in range(1, 7)}


def _estimate(ir: NetworkIR, stage: str) -> dict:
    luts = _zero_luts()
    q = ir.input_quant
    if stage == "encoder":
        n = int(ir.encoder.comparators(q).sum())
        per = ir.encoder.lut_cost(q) / n if n else 0.0
        total = int(round(ir.encoder.lut_cost(q)))
        luts["LUT6" if q.bits >= 6 else f"LUT{q.bits}"] = total
        levels = 0 if n == 0 else (1 if q.bits <= 6 else math.ceil(math.log(q.bits) / math.log(6)))
        info = {"comparators": n, "luts_per_comparator": per}
    elif stage == "head":
        last = ir.layers[-1]
        total = int(round(ir.head.lut_cost(last.out_bits, last.out_signed)))
        luts["LUT2"] = total
        adders = counters = levels = 0
        for c in range(ir.n_scores):
            m = ir.head.members(c)
            ob, sg, sh = last.out_bits[m], last.out_signed[m], ir.head.shifts[m]
            if sg.any():
                rng = [((-(1 << (b - 1)) if s else 0) << h, ((1 << (b - 1)) - 1 if s else (1 << b) - 1) << h)
                       for b, s, h in zip(ob, sg, sh)]
                adders += adder_tree(rng)[1]
                levels = max(levels, math.ceil(math.log2(len(m))) if len(m) > 1 else 0)
            else:
                tree = compressor_tree(ob.tolist(), sh.tolist())
                counters += len(tree.counters)
                adders += int(any(i >= 0 for i in tree.rows[1]))
                levels = max(levels, tree.passes + 1)
        info = {"adders": adders, "bit_counters": counters, "score_bits": int(ir.score_encoding()[0][0])}
    else:
        total = int(round(ir.argmax_cost()))
        luts["LUT3"] = total
        levels = 2 * math.ceil(math.log2(ir.n_scores)) if ir.n_scores > 1 else 0
        info = {"compare_select_nodes": max(0, ir.n_scores - 1)}
    return {"luts": total, "luts_by_size": luts, "muxf7": 0, "muxf8": 0, "ffs": 0, "lut_levels": levels,
            "logic_levels": levels, "source": "estimate (cost model)", **info}


def _yosys(name: str, text: str, cache_dir) -> dict:
    from .synth import SCRIPT_VERSION, _cache_dir, _module_stats
    from .tools import find_tool, tool_version
    yosys = find_tool("yosys")
    version = tool_version(yosys)
    script = YOSYS_SCRIPT.format(top=name)
    key = hashlib.sha256(f"{text}|{version}|{script}|{SCRIPT_VERSION}".encode()).hexdigest()
    cache = _cache_dir(cache_dir) / "stages"
    hit = cache / f"{key}.json"
    if hit.is_file():
        return dict(json.loads(hit.read_text()), cached=True)
    td = Path(tempfile.mkdtemp(prefix="lutnet-yosys-stage-"))
    try:
        (td / f"{name}.v").write_text(text)
        (td / "run.ys").write_text(f"read_verilog {name}.v\nhierarchy -check -top {name}\n{script}\n"
                                   f"write_json netlist.json\n")
        r = subprocess.run([yosys, "-q", "run.ys"], cwd=td, capture_output=True, text=True)
        if r.returncode != 0 or not (td / "netlist.json").is_file():
            raise RuntimeError(f"Yosys failed (exit {r.returncode}) on stage module {name}:\n"
                               f"{(r.stdout + r.stderr)[-3000:]}")
        stats = _module_stats(json.loads((td / "netlist.json").read_text())["modules"][name])
    finally:
        shutil.rmtree(td, ignore_errors=True)
    stats["source"] = f"{version}: {script} (whole module)"
    cache.mkdir(parents=True, exist_ok=True)
    hit.write_text(json.dumps(stats))
    return dict(stats, cached=False)


def stage_stats(ir: NetworkIR, method: str, cache_dir=None) -> dict:
    """``{stage: stats}`` (LUTs by size, MUXF7/F8, levels, ``source``) for each stage of ``ir``;
    ``method`` is ``"estimate"`` or ``"yosys"``."""
    if method == "yosys":
        return {st: _yosys(name, text, cache_dir) for st, (name, text) in stage_modules(ir).items()}
    return {st: _estimate(ir, st) for st in present(ir)}


def stage_row(ir: NetworkIR, stage: str, stats: dict) -> dict:
    """The report row of one stage (the columns of a layer row; ``stage`` marks it)."""
    q = ir.input_quant
    if stage == "encoder":
        neurons, abits, obits = ir.encoder.n_outputs, q.bits, 1
    elif stage == "head":
        neurons, abits, obits = ir.n_scores, int(ir.layers[-1].out_bits.max()), int(ir.score_encoding()[0][0])
    else:
        neurons, abits, obits = 1, int(ir.score_encoding()[0].max()), ir.argmax_bits
    row = {"layer": stage, "kind": KINDS[stage], "neurons": int(neurons), "unique_tables": 0,
           "address_bits": int(abits), "out_bits": int(obits), "stage": True,
           "lut_cost_logicnets": float(ir.stage_costs()[stage])}
    row.update({k: v for k, v in stats.items() if k != "ffs"})
    return row
