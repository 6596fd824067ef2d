"""Build reports: LUTs (by size), MUXF7/F8, FFs, logic levels per layer, latency and an
Fmax/latency estimate, from the fast estimator, Yosys (open flow) or Vivado, as JSON plus a table.
The IR's stages (thermometer encoder, GroupSum head, argmax) have rows of their own (``stage: True``;
see :mod:`lutnet.rtl.stages`), so every total includes them.

Build methods (:data:`METHODS`):

* ``"estimate"``: lutnet's estimator, milliseconds; every figure is an estimate.
* ``"yosys"`` (the open flow's reported figure): the whole emitted design (encoder, tables, adders,
  head, argmax, registers) in one Yosys ``synth_xilinx -flatten`` run (:func:`lutnet.rtl.synth.synth_design`);
  the ``total`` row (LUTs, FFs, LUT levels) is that netlist's, the per-layer rows are the
  estimator's breakdown (a flattened netlist has no layers), each row says so in ``source``.
* ``"yosys-tables"``: one Yosys run per unique table (cached, parallel; for large designs), stage
  modules synthesized whole, summed per neuron; FFs counted from the registered widths.
* ``"vivado"``: out-of-context synthesis + implementation (needs ``vivado``).

``report["synthesis"]`` says which method, flow, tool version and package produced the figures and
what they include."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..errors import ConfigError, IRFormatError
from ..ir import NetworkIR
from . import emit, estimate

METHODS = ("estimate", "yosys", "yosys-tables", "vivado")
METHOD_HELP = {
    "estimate": "lutnet's estimator, milliseconds (calibrated model, error stated in the report)",
    "yosys": "Yosys synth_xilinx on the whole design (encoder, tables, head, argmax, registers), "
             "one flattened run: the open flow's reported figure",
    "yosys-tables": "Yosys per unique table (cached, parallel runs), summed per neuron: for designs too "
                    "large for one run",
    "vivado": "Vivado out-of-context synthesis + place + route (needs vivado on PATH)"}


def check_method(method) -> str:
    """``method`` if it is a build method, else one ConfigError listing them."""
    if method not in METHODS:
        raise ConfigError(f"build method must be one of {', '.join(METHODS)}; got {method!r} "
                          f"(the per-table Yosys sum is 'yosys-tables')")
    return method

# Rough UltraScale+ (-2) delay model for the Fmax estimate: a LUT level including its routing,
# a MUXF7/F8 hop, and the register overhead (clock-to-Q + setup + clock skew).
T_LUT_NS = 0.45
T_MUXF_NS = 0.10
T_REG_NS = 0.30
TIMING_MODEL = (f"estimate: per stage {T_REG_NS} ns + {T_LUT_NS} ns per LUT level + {T_MUXF_NS} ns per "
                f"MUXF7/F8 level (UltraScale+ -2, routing averaged; not a timing analysis)")


def _resolve(source):
    """(ir, emit options) from a NetworkIR, an IR file, or a directory written by write_verilog."""
    if isinstance(source, NetworkIR):
        return source, {}
    p = Path(source)
    if p.is_dir():
        mans = [p / emit.MANIFEST] if (p / emit.MANIFEST).is_file() else sorted(p.rglob(emit.MANIFEST))
        if not mans:
            raise IRFormatError(f"{p} holds no {emit.MANIFEST} (not a directory written by lutnet verilog)")
        info = emit.load_info(mans[0].parent)
        ir_file = mans[0].parent / info.options.get("ir_file", "")
        if not info.options.get("ir_file") or not ir_file.is_file():
            raise IRFormatError(f"{mans[0].parent} has no saved IR; pass the NetworkIR or its file")
        return NetworkIR.load(ir_file), {"pipeline": info.pipeline, "input_reg": info.input_reg,
                                         "output_reg": info.output_reg}
    return NetworkIR.load(p), {}


def _sum_stats(stats: list) -> dict:
    luts = {f"LUT{i}": 0 for i in range(1, 7)}
    for s in stats:
        for k, v in s["luts_by_size"].items():
            luts[k] += int(v)
    return {"luts": int(sum(s["luts"] for s in stats)), "luts_by_size": luts,
            "muxf7": int(sum(s["muxf7"] for s in stats)), "muxf8": int(sum(s["muxf8"] for s in stats)),
            "lut_levels": int(max((s["lut_levels"] for s in stats), default=0)),
            "logic_levels": int(max((s["logic_levels"] for s in stats), default=0))}


def _flat_tables(ir: NetworkIR) -> list:
    return [(L.table(k), int(L.address_bits[k]), int(L.out_bits[k]))
            for L in ir.layers for k in range(L.out_features)]


def build_plan(source, *, method: str = "yosys", jobs: int = 2, cache_dir=None) -> dict:
    """What ``build_report(source, method=method)`` will run and roughly how long it takes, known
    before it starts: ``{"method", "message", "seconds", "tables", "tables_to_run"}``.

    ``message`` is one line for the user: the method, the tables to synthesize (cached ones are
    free), the expected time (per-table Yosys costs measured with Yosys 0.23 on an idle core,
    ``synth.table_seconds``; a loaded machine is slower) and how to get the estimate instead.
    ``build_report(..., progress=True)`` prints it before a Yosys run, then progress lines."""
    check_method(method)
    ir, opts = _resolve(source)
    n = sum(L.out_features for L in ir.layers)
    if method == "estimate":
        return {"method": method, "tables": n, "tables_to_run": 0, "seconds": 0.01 + 2e-6 * sum(
                int(L.tables.size) for L in ir.layers),
                "message": f"build method 'estimate': {n} neuron tables, milliseconds to a second "
                           f"(error vs Yosys 0.23 stated in the report); method='yosys' synthesizes the design"}
    if method == "vivado":
        return {"method": method, "tables": n, "tables_to_run": None, "seconds": None,
                "message": "build method 'vivado': one out-of-context synthesis + place + route run "
                           "(time not estimated: no Vivado runs were measured for lutnet); "
                           "method='estimate' gives a result in milliseconds"}
    from . import synth
    if method == "yosys":
        p = synth.plan_design(ir, cache_dir=cache_dir, **opts)
        return {"method": method, "tables": n, "tables_to_run": 0 if p["cached"] else n,
                "seconds": p["seconds"], "message": p["message"]}
    plan = synth.plan_synthesis(_flat_tables(ir), jobs=jobs, cache_dir=cache_dir)
    return {"method": method, "tables": plan.n_tables, "tables_to_run": plan.n_to_run,
            "seconds": round(plan.seconds, 1), "message": plan.message}


def _neuron_stats(ir: NetworkIR, method: str, jobs: int, cache_dir, progress: bool, executor: str = "threads") -> list:
    if method in ("estimate", "yosys"):  # "yosys": the estimator's per-layer breakdown beside the whole design
        return estimate.estimate_network(ir)
    from . import synth
    res = synth.synth_tables(_flat_tables(ir), jobs=jobs, cache_dir=cache_dir, progress=progress, executor=executor)
    out, i = [], 0
    for L in ir.layers:
        out.append(res[i:i + L.out_features])
        i += L.out_features
    return out


def _stage_delays(layer_rows, regs, input_reg):
    """Critical path of every register-to-register stage (ns) from per-layer levels."""
    stages, cur = [], 0.0
    for li, row in enumerate(layer_rows):
        cur += T_LUT_NS * row["lut_levels"] + T_MUXF_NS * (row["logic_levels"] - row["lut_levels"])
        if li in regs:
            stages.append(cur)
            cur = 0.0
    if cur > 0 or not stages:
        stages.append(cur)
    return stages


def build_report(source, *, method: str = "estimate", jobs: int = 2, cache_dir=None, pipeline=1,
                 input_reg: bool = False, output_reg: bool = True, care_codes=None,
                 progress: bool = True, part: str | None = None, clock_ns: float | None = None,
                 work_dir=None, executor: str = "threads", timeout: float | None = None) -> dict:
    """Resource/timing report of a network: ``source`` is a NetworkIR, an IR file, or a directory
    written by ``write_verilog`` (its pipeline options are used).

    ``method``: ``"estimate"`` (milliseconds; calibrated against Yosys, the held-out error of the
    design's table regimes in ``estimator_error``), ``"yosys"`` (the whole design in one Yosys
    ``synth_xilinx -flatten`` run, cached by design; ``timeout`` seconds at most), ``"yosys-tables"``
    (Yosys per unique table, cached, ``jobs`` parallel runs; see ``build_plan``) or ``"vivado"``
    (out-of-context synthesis + implementation; needs ``vivado``).
    ``progress``: Yosys prints its plan (tables, expected time, how to get the estimate instead)
    and ``done/total, elapsed, ETA`` lines on stderr; Vivado prints its phases.
    ``care_codes``: input codes (e.g. the training set) whose unseen table rows may be don't-cares;
    the report then also gives the LUTs with don't-cares filled (ReducedLUT idea).
    ``executor``: where Yosys runs, ``"threads"`` (a local pool of ``jobs``) or ``"ray"`` (Ray tasks
    on the connected cluster; see :func:`lutnet.rtl.synth.synth_tables`)."""
    check_method(method)
    if method == "yosys" and executor != "threads":
        raise ConfigError(f"executor={executor!r} distributes per-table Yosys runs; the whole design (method 'yosys') "
                          f"is one run on this machine: use method 'yosys-tables' to run tables on {executor}")
    t0 = time.perf_counter()
    ir, opts = _resolve(source)
    ir.validate()
    pipeline = opts.get("pipeline", pipeline)
    input_reg = opts.get("input_reg", input_reg)
    output_reg = opts.get("output_reg", output_reg)
    if method == "vivado":
        from . import vivado
        return vivado.vivado_report(ir, pipeline=pipeline, input_reg=input_reg, output_reg=output_reg,
                                    part=part or vivado.DEFAULT_PART, clock_ns=clock_ns or vivado.DEFAULT_CLOCK_NS,
                                    work_dir=work_dir, progress=progress)
    stats = _neuron_stats(ir, method, jobs, cache_dir, progress, executor)
    regs = emit.registered_layers(ir.n_stages, pipeline, output_reg)  # stage indices (layers without stages)
    latency = int(bool(input_reg)) + len(regs)
    layers = []
    ffs_total = ir.n_inputs * ir.input_quant.bits if input_reg else 0
    off = 1 if ir.encoder is not None else 0
    for li, (L, st) in enumerate(zip(ir.layers, stats)):
        row = {"layer": L.name, "kind": L.kind, "neurons": L.out_features,
               "unique_tables": len({emit.table_key(L.table(k), int(L.address_bits[k]), int(L.out_bits[k]))
                                     for k in range(L.out_features)}),
               "address_bits": int(L.address_bits.max()) if L.out_features else 0,
               "out_bits": int(L.out_bits.max()), "registered": li + off in regs}
        row.update(_sum_stats(st))
        row["ffs"] = int(L.out_bits.sum()) if li + off in regs else 0
        row["lut_cost_logicnets"] = float(L.lut_cost())
        row["source"] = _row_source(method)
        if method == "yosys-tables":
            row["cached_tables"] = int(sum(1 for s in st if s.get("cached")))
        ffs_total += row["ffs"]
        layers.append(row)
    ffs_total += _add_stage_rows(ir, layers, regs, method, cache_dir)
    ffs_total += latency  # the in_valid -> out_valid shift register
    total = _sum_stats([{**r, "luts_by_size": r["luts_by_size"]} for r in layers])
    total["ffs"] = ffs_total
    total["lut_levels"] = int(sum(r["lut_levels"] for r in layers))
    total["logic_levels"] = int(sum(r["logic_levels"] for r in layers))
    total["critical_lut_levels"] = _critical_levels(layers, regs)
    total["source"] = _row_source(method, total=True)
    delays = _stage_delays(layers, regs, input_reg)
    crit = max(delays)
    timing = {"model": TIMING_MODEL, "stage_delays_ns": [round(d + T_REG_NS, 3) for d in delays]}
    synthesis = {"method": method, "flow": _flow_description(method)}
    if method == "yosys":
        from . import synth
        d = synth.synth_design(ir, pipeline=pipeline, input_reg=input_reg, output_reg=output_reg,
                               cache_dir=cache_dir, timeout=timeout, progress=progress)
        estimated = {k: total[k] for k in ("luts", "ffs", "lut_levels", "logic_levels")}
        total = {k: d[k] for k in ("luts", "luts_by_size", "muxf7", "muxf8", "ffs", "lut_levels", "logic_levels",
                                   "other_cells")}
        total["srls"] = int(d.get("srls", 0))
        total["critical_lut_levels"] = d["lut_levels"]
        total["source"] = _row_source(method, total=True)
        total["estimate"] = estimated
        crit = T_LUT_NS * d["lut_levels"] + T_MUXF_NS * (d["logic_levels"] - d["lut_levels"])
        timing["stage_delays_ns"] = None  # one flattened netlist: its critical register-to-register path only
        timing["critical_path"] = "Yosys netlist: LUT/MUXF levels of the longest register-to-register path"
        synthesis.update({k: d[k] for k in ("yosys", "yosys_package", "script", "includes", "yosys_seconds",
                                            "netlist_sha256", "design_hash", "cached")})
        synthesis["pinned"] = _pinned(d["yosys"])
    elif method == "yosys-tables":
        from .tools import find_tool, tool_version, yosys_package
        y = find_tool("yosys")
        synthesis.update(yosys=tool_version(y), yosys_package=yosys_package(y), pinned=_pinned(tool_version(y)),
                         includes=_tables_includes(ir))
    else:
        synthesis["includes"] = _tables_includes(ir)
    if latency > 0:
        period = crit + T_REG_NS
        timing.update({"fmax_mhz_est": round(1000.0 / period, 1), "period_ns_est": round(period, 3),
                       "latency_ns_est": round(latency * period, 3)})
    else:
        timing.update({"fmax_mhz_est": None, "period_ns_est": None,
                       "latency_ns_est": round(sum(delays), 3)})
    report = {
        "network": ir.metadata.get("name", ""), "method": method,
        "flow": synthesis["flow"], "synthesis": synthesis,
        "layers": layers, "total": total,
        "pipeline": {"latency_cycles": latency, "registered_layers": regs,
                     "input_reg": bool(input_reg), "output_reg": bool(output_reg),
                     "pipeline": emit._normalize_pipeline(pipeline)},
        "timing": timing,
        "seconds": None,
    }
    if method == "estimate":
        report["estimator_error"] = estimate.design_error(stats)
    if care_codes is not None:
        report["dont_care"] = _dont_care_section(ir, care_codes, method, jobs, cache_dir, progress, total, executor,
                                                 pipeline, input_reg, output_reg)
    report["seconds"] = round(time.perf_counter() - t0, 3)
    return report


def _pinned(version: str) -> bool:
    from .synth import YOSYS_PINNED
    return version.startswith(f"Yosys {YOSYS_PINNED} ")


def _row_source(method: str, total: bool = False) -> str:
    """What produced a row's figures."""
    if method == "estimate":
        return "estimate (lutnet cost model)"
    if method == "yosys":
        return ("Yosys, whole design, one synth_xilinx -flatten run (netlist counts)" if total
                else "estimate (breakdown only: the whole-design netlist has no layers; the total is Yosys')")
    if method == "yosys-tables":
        return ("sum of the rows: Yosys per unique table and per stage module; FFs from the registered widths"
                if total else "Yosys per unique table (out of context), summed per neuron")
    return method


def _tables_includes(ir: NetworkIR) -> list:
    from .synth import design_includes
    return design_includes(ir)


def _critical_levels(layers: list, regs: list) -> int:
    """LUT levels of the deepest register-to-register stage, from per-row levels (rows in stage order)."""
    best = cur = 0
    for i, r in enumerate(layers):
        cur += int(r["lut_levels"])
        if i in regs:
            best, cur = max(best, cur), 0
    return int(max(best, cur))


def _add_stage_rows(ir: NetworkIR, layers: list, regs: list, method: str, cache_dir) -> int:
    """Insert the rows of the IR's stages (encoder first, head and argmax last) into ``layers``;
    returns their flip-flops."""
    from . import stages
    if not stages.present(ir):
        return 0
    stats = stages.stage_stats(ir, "yosys" if method == "yosys-tables" else "estimate", cache_dir)
    width = {"encoder": ir.n_encoded, "head": ir.n_scores * int(ir.score_encoding()[0][0]),
             "argmax": ir.argmax_bits}
    ffs = 0
    for st, s in stats.items():
        idx = ir.stages.index(st)
        row = stages.stage_row(ir, st, s)
        row["registered"] = idx in regs
        row["ffs"] = int(width[st]) if idx in regs else 0
        if method != "yosys-tables":  # yosys-tables: the stage's own source (Yosys version, script, whole module)
            row["source"] = _row_source(method)
        ffs += row["ffs"]
        layers.insert(0 if st == "encoder" else len(layers), row)
    return ffs


def _flow_description(method: str) -> str:
    if method == "estimate":
        return ("lutnet estimator (Shannon decomposition onto LUT6/MUXF7/MUXF8, calibrated against "
                "Yosys 0.23 synth_xilinx; see estimator_error)")
    from .synth import DESIGN_SCRIPT, SYNTH_OPTIONS, YOSYS_PINNED, YOSYS_PINNED_PACKAGE
    from .tools import find_tool, tool_version, yosys_package
    y = find_tool("yosys")
    v = tool_version(y)
    note = "" if _pinned(v) else (f" (WARNING: lutnet's figures are Yosys {YOSYS_PINNED}, {YOSYS_PINNED_PACKAGE}; "
                                  f"this version gives different counts)")
    if method == "yosys":
        return f"{v} [{yosys_package(y)}]: {DESIGN_SCRIPT}, the whole design in one run{note}"
    return (f"{v} [{yosys_package(y)}]: synth_xilinx {SYNTH_OPTIONS}, one module per unique table, "
            f"summed per neuron{note}")


def dont_care_ir(ir: NetworkIR, care_codes, rule: str = "support") -> NetworkIR:
    """A copy of ``ir`` whose table rows never addressed on ``care_codes`` (input codes of the
    training split) are rewritten to shrink logic: :class:`lutnet.transforms.DontCareMinimize`
    (identical to ``ir`` on every input in ``care_codes``)."""
    from ..transforms.dontcare import DontCareMinimize
    return DontCareMinimize(care_codes, "train", codes=True, rule=rule).apply(ir)[0]


def _dont_care_section(ir, care_codes, method, jobs, cache_dir, progress, total, executor="threads", pipeline=1,
                       input_reg=False, output_reg=True) -> dict:
    from ..transforms.dontcare import DontCareMinimize
    care_codes = np.asarray(care_codes, np.int64)
    dc, rewrite = DontCareMinimize(care_codes, "train", codes=True).apply(ir)
    same = bool(np.array_equal(dc.evaluate(care_codes), ir.evaluate(care_codes)))
    stats = _neuron_stats(dc, method, jobs, cache_dir, progress, executor)
    per_layer = [_sum_stats(s)["luts"] for s in stats]
    frac = [round(1 - r["unreached"] / max(1, r["rows"]), 4) for r in rewrite.layers]
    out = {"care_vectors": int(len(care_codes)), "care_fraction": frac,
           "rows_rewritten": rewrite.rows_rewritten, "rule": rewrite.rule,
           "luts_without": total["luts"], "luts_with_per_layer": per_layer, "identical_on_care_set": same}
    if method == "yosys":  # the rewritten design synthesized whole, like the reported total
        from . import synth
        out["luts_with"] = int(synth.synth_design(dc, pipeline=pipeline, input_reg=input_reg, output_reg=output_reg,
                                                  cache_dir=cache_dir, progress=progress)["luts"])
        out["luts_with_per_layer_source"] = "estimate"
        return out
    from . import stages  # the stages have no don't-cares: their LUTs count on both sides
    stage_luts = sum(s["luts"] for s in stages.stage_stats(ir, "yosys" if method == "yosys-tables" else "estimate",
                                                           cache_dir).values()) if stages.present(ir) else 0
    out["luts_with"] = int(sum(per_layer)) + int(stage_luts)
    return out


def format_report(report: dict) -> str:
    """A readable table of a build report."""
    lines = []
    lines.append(f"lutnet build report: {report.get('network', '')}  [method: {report['method']}]")
    lines.append(f"flow: {report['flow']}")
    hdr = ["layer", "kind", "neur", "uniq", "addr", "LUTs", "LUT6", "LUT5", "LUT<=4", "F7", "F8",
           "FFs", "lvl", "reg"]
    rows = []
    for r in report["layers"]:
        b = r["luts_by_size"]
        rows.append([r["layer"], r["kind"] or "-", r["neurons"], r["unique_tables"], r["address_bits"], r["luts"],
                     b["LUT6"], b["LUT5"], b["LUT1"] + b["LUT2"] + b["LUT3"] + b["LUT4"], r["muxf7"],
                     r["muxf8"], r["ffs"], f"{r['lut_levels']}/{r['logic_levels']}",
                     "yes" if r["registered"] else "no"])
    t = report["total"]
    b = t["luts_by_size"]
    label = "total" if report["method"] != "yosys" else "total (Yosys)"
    rows.append([label, "", sum(r["neurons"] for r in report["layers"]), "", "", t["luts"], b["LUT6"],
                 b["LUT5"], b["LUT1"] + b["LUT2"] + b["LUT3"] + b["LUT4"], t["muxf7"], t["muxf8"], t["ffs"],
                 f"{t['lut_levels']}/{t['logic_levels']}", ""])
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    fmt = lambda row: "  ".join(str(x).rjust(w) if i > 1 else str(x).ljust(w)
                                for i, (x, w) in enumerate(zip(row, widths)))
    lines.append(fmt(hdr))
    lines.append("  ".join("-" * w for w in widths))
    lines += [fmt(r) for r in rows[:-1]]
    lines.append("  ".join("-" * w for w in widths))
    lines.append(fmt(rows[-1]))
    if report["method"] == "yosys":
        syn = report.get("synthesis", {})
        srl = f", of which {t['srls']} SRL shift registers (valid chain)" if t.get("srls") else ""
        lines.append(f"total: {syn.get('yosys', '')} [{syn.get('yosys_package', '')}], {syn.get('script', '')}: "
                     f"{t['luts']} LUTs{srl}, {t['ffs']} FFs, {t['lut_levels']}/{t['logic_levels']} LUT/logic levels on "
                     f"the longest register-to-register path; {syn.get('yosys_seconds')} s"
                     f"{' (cached)' if syn.get('cached') else ''}")
        lines.append(f"  includes: {', '.join(syn.get('includes', []))}")
        e = t.get("estimate", {})
        lines.append(f"layer rows: the estimator's breakdown (estimate total {e.get('luts')} LUTs, {e.get('ffs')} FFs); "
                     f"lvl = LUT levels / logic levels (LUT + MUXF7/F8) of the slowest neuron")
    else:
        lines.append("lvl = LUT levels / logic levels (LUT + MUXF7/F8) of the slowest neuron; total = sum over layers")
    for r in report["layers"]:
        if r.get("stage"):
            lines.append(f"stage {r['layer']} ({r['kind']}): {r['luts']} LUTs, {r.get('source', '')}")
    p, tm = report["pipeline"], report["timing"]
    lines.append(f"latency: {p['latency_cycles']} cycle(s) (input reg: {'yes' if p['input_reg'] else 'no'}, "
                 f"registers after layers {p['registered_layers'] or 'none'})")
    if tm.get("fmax_mhz_est"):
        lines.append(f"Fmax ~ {tm['fmax_mhz_est']} MHz, latency ~ {tm['latency_ns_est']} ns ({tm['model']})")
    elif tm.get("latency_ns_est") is not None:
        lines.append(f"combinational delay ~ {tm['latency_ns_est']} ns ({tm['model']})")
    if "fmax_mhz" in tm:
        lines.append(f"Vivado: Fmax {tm['fmax_mhz']} MHz, WNS {tm.get('wns_ns')} ns at {tm.get('clock_ns')} ns")
    if report.get("estimator_error"):
        lines += estimator_error_lines(report["estimator_error"])
    if report.get("dont_care"):
        d = report["dont_care"]
        lines.append(f"don't-cares ({d['care_vectors']} care vectors): LUTs {d['luts_without']} -> {d['luts_with']} "
                     f"(identical on the care set: {d['identical_on_care_set']})")
    if report.get("seconds") is not None:
        lines.append(f"report time: {report['seconds']} s")
    return "\n".join(lines)


def estimator_error_lines(e: dict) -> list:
    """The report's statement of the estimator error that applies to this design."""
    if not e.get("regimes"):
        return ["estimator error: no calibrated regime in this design; use --method yosys for truth"]
    regs = "; ".join(f"{r['regime']['address_bits']} addr x {r['regime']['out_bits']} out bits, "
                     f"{r['regime']['class']}: total {r['total_pct']:+.1f} %, per table {r['mean_abs_pct']:.1f} % "
                     f"({r['heldout_tables']} held-out tables)" for r in e["regimes"][:3])
    more = f" (+{len(e['regimes']) - 3} more regimes)" if len(e["regimes"]) > 3 else ""
    lines = [f"estimator error for this design (held-out tables of its regimes vs Yosys 0.23): network total "
             f"within ~{e['total_pct_bound']:.1f} %, per table mean {e['mean_abs_pct']:.1f} %; use --method yosys "
             f"for synthesis results",
             f"  regimes: {regs}{more}"]
    if e.get("uncalibrated_regimes"):
        lines.append(f"  not calibrated: {e['uncalibrated_regimes']}")
    return lines


def write_report(report: dict, out) -> tuple[Path, Path]:
    """Write ``<out>.json`` and ``<out>.txt`` (``out`` without suffix, or a directory)."""
    out = Path(out)
    if out.is_dir() or str(out).endswith("/"):
        out = out / "build_report"
    out = out.with_suffix("") if out.suffix in (".json", ".txt") else out
    out.parent.mkdir(parents=True, exist_ok=True)
    j, t = out.with_suffix(".json"), out.with_suffix(".txt")
    j.write_text(json.dumps(report, indent=1))
    t.write_text(format_report(report) + "\n")
    return j, t
