"""LUT IR -> Verilog.

Layout of an emitted design (``write_verilog``), all module names prefixed with the top name:

* ``<top>_t<i>``: one module per *unique* neuron table (neurons with identical tables and widths
  share a module).  Address port ``a`` = ``{input F-1, ..., input 0}`` (input 0 in the LSBs, the IR's
  convention), output ``y`` = the output code's bit pattern.  Table style ``"rom"`` reads
  ``<top>_t<i>.mem`` with ``$readmemb`` (fast to compile and simulate); ``"case"`` writes a full case
  statement (self-contained).  Both carry ``rom_style = "distributed"`` so vendors map tables to LUTs.
* ``<top>_l<l>``: one module per layer instantiating its neurons.  Every module has its own file
  ``<module>.v`` (Verilator's DECLFILENAME rule).
* IR stages, each a module with ports ``x``/``y`` (see ``lutnet.ir``): ``<top>_enc`` (thermometer
  encoder: one comparator per threshold on the raw input codes; thresholds outside the code range are
  constant bits), ``<top>_head`` (GroupSum: one balanced adder tree per class, operands sign- or
  zero-extended to the score width, which holds every score exactly) and ``<top>_argmax`` (a
  balanced tree of compare-select nodes; on a tie the lower index wins, so the first maximum).
  Stages are pipelined like layers: ``pipeline=k`` puts a register after every k-th stage of
  ``encoder, layer 0, ..., head, argmax``, ``output_reg`` after the last.
* ``<top>``: the top (file ``<top>.v``) with ports ``clk, in_valid, x, out_valid, y``.  Input feature
  ``k`` occupies ``x[k*b +: b]`` and output class ``k`` occupies ``y[k*bo +: bo]`` (bit patterns, two's
  complement for signed codes).  Optional registers: on the input, after every ``pipeline`` layers and
  on the output; ``in_valid`` travels with the data so ``out_valid`` marks results ``latency`` cycles
  later.
* ``<top>_tb.sv``: a file-driven testbench (see ``simulate.py``), ``lutnet_rtl.json``: the manifest
  (files, port packing, latency, options).

Tables are rendered in bulk with numpy (bit-character arrays joined with ``tobytes``); the Jinja2
templates in ``firmware_templates/verilog`` only loop over neurons and layers.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import _templates
from .._files import atomic_write
from ..errors import OutputExistsError
from ..ir import NetworkIR, compressor_tree

MANIFEST = "lutnet_rtl.json"
TABLE_STYLES = ("rom", "case")
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


# --------------------------------------------------------------------------- templates
def template_dir() -> Path:
    return _templates.template_dir("verilog")


def render(_template: str, **kw) -> str:
    """Render ``firmware_templates/verilog/<name>`` (the shared Jinja2 set-up, ``lutnet._templates``)."""
    return _templates.render("verilog", _template, **kw)


# --------------------------------------------------------------------------- bulk formatting
def bit_chars(values, width: int) -> np.ndarray:
    """(N, width) uint8 array of ASCII '0'/'1', most significant bit first."""
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    if width == 0:
        return np.zeros((len(v), 0), np.uint8)
    bits = (v[:, None] >> np.arange(width - 1, -1, -1, dtype=np.int64)) & 1
    return (bits + 48).astype(np.uint8)


def hex_chars(values, ndig: int) -> np.ndarray:
    """(N, ndig) uint8 array of lowercase hex digits, most significant first."""
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    nib = (v[:, None] >> (4 * np.arange(ndig - 1, -1, -1, dtype=np.int64))) & 15
    return _HEX[nib]


def join_columns(n: int, *parts) -> bytes:
    """Concatenate constant byte strings and (n, w) uint8 arrays column-wise into n lines."""
    cols = []
    for p in parts:
        if isinstance(p, (bytes, str)):
            b = p.encode() if isinstance(p, str) else p
            cols.append(np.broadcast_to(np.frombuffer(b, np.uint8), (n, len(b))))
        else:
            cols.append(np.asarray(p, np.uint8).reshape(n, -1))
    return np.ascontiguousarray(np.concatenate(cols, axis=1)).tobytes()


def pack_bits(patterns: np.ndarray, widths) -> np.ndarray:
    """(N, n) bit patterns with per-column widths -> (N, W) 0/1 array, bit 0 (LSB) first."""
    patterns = np.asarray(patterns, dtype=np.int64)
    widths = np.asarray(widths, dtype=np.int64)
    col = np.repeat(np.arange(len(widths)), widths)
    pos = np.arange(int(widths.sum())) - np.repeat(np.cumsum(widths) - widths, widths)
    return ((patterns[:, col] >> pos) & 1).astype(np.uint8)


def bits_to_hex_lines(bits: np.ndarray) -> bytes:
    """(N, W) LSB-first 0/1 array -> N lines of ceil(W/4) hex digits (MSB first)."""
    n, w = bits.shape
    ndig = max(1, -(-w // 4))
    padded = np.zeros((n, ndig * 4), np.uint8)
    padded[:, :w] = bits
    nib = padded.reshape(n, ndig, 4) @ np.array([1, 2, 4, 8], np.uint8)
    return join_columns(n, _HEX[nib[:, ::-1]], b"\n")


def hex_lines_to_bits(data: bytes, w: int, n: int) -> np.ndarray:
    """Inverse of ``bits_to_hex_lines``; raises ValueError on non-hex digits (x/z from a simulator)."""
    ndig = max(1, -(-w // 4))
    arr = np.frombuffer(data, np.uint8)
    if arr.size < n * (ndig + 1):
        raise ValueError(f"expected {n} lines of {ndig} hex digits, got {arr.size} bytes")
    arr = arr[:n * (ndig + 1)].reshape(n, ndig + 1)[:, :ndig]
    lut = np.full(256, 255, np.uint8)
    lut[_HEX] = np.arange(16)
    lut[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)
    nib = lut[arr]
    if (nib == 255).any():
        bad = int(np.argwhere((nib == 255).any(axis=1))[0, 0])
        raise ValueError(f"simulator output line {bad} is not a hex number: "
                         f"{arr[bad].tobytes().decode(errors='replace')!r} (x/z bits?)")
    bits = ((nib[:, ::-1, None] >> np.arange(4, dtype=np.uint8)) & 1).reshape(n, ndig * 4)
    return bits[:, :w]


def unpack_bits(bits: np.ndarray, widths) -> np.ndarray:
    """(N, W) LSB-first bits -> (N, n) patterns for per-column widths."""
    widths = np.asarray(widths, dtype=np.int64)
    col = np.repeat(np.arange(len(widths)), widths)
    pos = np.arange(int(widths.sum())) - np.repeat(np.cumsum(widths) - widths, widths)
    out = np.zeros((bits.shape[0], len(widths)), np.int64)
    np.add.at(out.T, col, (bits.astype(np.int64) << pos).T)
    return out


# --------------------------------------------------------------------------- design description
@dataclass
class VerilogInfo:
    """What ``write_verilog`` produced: the top module, its port packing and latency."""

    top: str
    out_dir: str
    files: list            # Verilog/SystemVerilog design files, in compile order (relative names)
    mem_files: list        # $readmemb table files (ROM style)
    testbench: str         # testbench file name
    latency_cycles: int
    input_width: int
    output_width: int
    input_ports: list      # [{"feature": k, "lsb": .., "bits": .., "signed": ..}]
    output_ports: list     # [{"class": k, "lsb": .., "bits": .., "signed": ..}]
    pipeline: int
    input_reg: bool
    output_reg: bool
    registered_layers: list  # stage indices followed by a register (stages: encoder, layers, head,
    #                          argmax in order; without encoder/head/argmax these are the layer indices)
    table_style: str
    n_table_modules: int
    n_neurons: int
    design_hash: str
    options: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def paths(self) -> list:
        return [str(Path(self.out_dir) / f) for f in self.files]


def _normalize_pipeline(pipeline) -> int:
    if pipeline in (None, False, "none", "off", 0):
        return 0
    if pipeline in (True, "layer", "every"):
        return 1
    p = int(pipeline)
    if p < 0:
        raise ValueError(f"pipeline must be >= 0 (0 = no registers between layers); got {pipeline}")
    return p


def registered_layers(n_layers: int, pipeline, output_reg: bool) -> list:
    """Indices of layers whose outputs are registered."""
    p = _normalize_pipeline(pipeline)
    regs = [i for i in range(n_layers - 1) if p and (i + 1) % p == 0]
    if output_reg:
        regs.append(n_layers - 1)
    return regs


def latency_of(n_layers: int, pipeline=1, input_reg=False, output_reg=True) -> int:
    return int(bool(input_reg)) + len(registered_layers(n_layers, pipeline, output_reg))


def table_key(table: np.ndarray, abits: int, obits: int) -> bytes:
    t = np.ascontiguousarray(np.asarray(table, dtype=np.int64) & ((1 << obits) - 1))
    return hashlib.sha256(f"{abits},{obits};".encode() + t.tobytes()).digest()


def case_rows(table: np.ndarray, abits: int, obits: int) -> str:
    """Case-statement lines ``<A>'h<addr>: t = <B>'b<value>;`` for every row, built in bulk."""
    rows = len(table)
    ndig = max(1, -(-abits // 4))
    addr = hex_chars(np.arange(rows), ndig)
    vals = bit_chars(np.asarray(table, np.int64) & ((1 << obits) - 1), obits)
    return join_columns(rows, f"            {abits}'h", addr, b": t = ", f"{obits}'b", vals,
                        b";\n").decode()


def mem_text(table: np.ndarray, obits: int) -> bytes:
    return join_columns(len(table), bit_chars(np.asarray(table, np.int64) & ((1 << obits) - 1), obits), b"\n")


def _slice(bus: str, lo: int, bits: int) -> str:
    return f"{bus}[{lo + bits - 1}:{lo}]" if bits > 1 else f"{bus}[{lo}]"


def _check_dir(out_dir: Path, overwrite: bool) -> list:
    """Refuse a directory holding files lutnet did not write (unless overwrite); return the names
    listed in a previous manifest (ours to replace)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir} exists and is not a directory")
    if not out_dir.exists():
        return []
    ours = []
    man = out_dir / MANIFEST
    if man.is_file():
        try:
            m = json.loads(man.read_text())
            ours = (list(m.get("files", [])) + list(m.get("mem_files", [])) + [m.get("testbench", "")]
                    + [m.get("options", {}).get("ir_file", "")])
        except (ValueError, OSError):
            ours = []
    present = {p.name for p in out_dir.iterdir()}
    foreign = sorted(present - set(ours) - {MANIFEST})
    if foreign and not overwrite:
        raise OutputExistsError(
            f"{out_dir} holds files lutnet did not write ({', '.join(foreign[:5])}"
            f"{', ...' if len(foreign) > 5 else ''}); choose an empty or new directory, or pass "
            f"overwrite=True (CLI: --force) to write into it anyway (other files are left untouched)")
    return ours


@dataclass
class _Design:
    """Files of a design being emitted (name -> bytes) and its table modules."""

    top: str
    table_style: str
    files: dict = field(default_factory=dict)
    mem_files: list = field(default_factory=list)
    table_files: list = field(default_factory=list)
    modules: dict = field(default_factory=dict)  # table key -> module name


def write_verilog(ir: NetworkIR, out_dir, *, pipeline=1, input_reg: bool = False,
                  output_reg: bool = True, table_style: str = "rom", top: str = "lutnet_top",
                  overwrite: bool = False) -> VerilogInfo:
    """Emit the Verilog of ``ir`` into ``out_dir``; returns a ``VerilogInfo``.

    ``pipeline``: 0/None = no registers between layers, k = a register after every k-th layer.
    ``input_reg``/``output_reg``: registers on the input bus / the last layer's output.
    ``table_style``: ``"rom"`` ($readmemb files) or ``"case"`` (case statements).
    A directory holding files lutnet did not write is refused unless ``overwrite``; files that are
    not lutnet's are never deleted.  The IR is saved as ``<top>.lutir`` next to the Verilog
    (``build_report(out_dir)`` reads it), with the testbench ``<top>_tb.sv`` and the manifest."""
    ir.validate()
    if table_style not in TABLE_STYLES:
        raise ValueError(f"table_style must be one of {TABLE_STYLES}; got {table_style!r}")
    if not top.isidentifier():
        raise ValueError(f"top module name {top!r} is not a Verilog identifier")
    pipeline = _normalize_pipeline(pipeline)
    out_dir = Path(out_dir)
    old = _check_dir(out_dir, overwrite)
    d = _Design(top, table_style)
    layer_modules, _, _ = _emit_layers(ir, d)
    stage_modules = _emit_stages(ir, d, layer_modules)
    out_bits, out_signed = ir.output_encoding()
    info = _emit_top(ir, d, stage_modules, out_bits, out_signed, pipeline, input_reg, output_reg, out_dir)
    _write_design(ir, d, info, out_dir, old)
    return info


def _table_module(d: _Design, tab: np.ndarray, abits: int, obits: int) -> str:
    """The module name of a table, rendering it (and its .mem file) the first time it is seen."""
    key = table_key(tab, abits, obits)
    if key not in d.modules:
        name = f"{d.top}_t{len(d.modules)}"
        d.modules[key] = name
        kw = dict(name=name, abits=abits, obits=obits, rows=len(tab), rom_style="distributed",
                  const_bits=bit_chars(tab[:1], obits).tobytes().decode())
        if d.table_style == "case" or abits == 0:
            text = render("neuron_case.v.j2", rows_text=case_rows(tab, abits, obits) if abits else "", **kw)
        else:
            mem = f"{name}.mem"
            d.files[mem] = mem_text(tab, obits)
            d.mem_files.append(mem)
            text = render("neuron_rom.v.j2", mem_file=mem, mem_path=mem, **kw)
        d.files[f"{name}.v"] = text.encode()
        d.table_files.append(f"{name}.v")
    return d.modules[key]


def _emit_layers(ir: NetworkIR, d: _Design) -> tuple[list, np.ndarray, np.ndarray]:
    """Render every table module and one module per layer wiring its neurons; returns the layer
    modules ``[(name, output width)]`` and the last layer's output bits and signedness."""
    src_bits, src_signed = ir.layer0_sources()
    layer_modules = []
    for li, L in enumerate(ir.layers):
        src_off = np.cumsum(src_bits) - src_bits
        in_width = int(src_bits.sum())
        out_bits = L.out_bits.astype(np.int64)
        out_off = np.cumsum(out_bits) - out_bits
        used = np.zeros(in_width, bool)
        neurons = []
        for k in range(L.out_features):
            obits = int(out_bits[k])
            abits = int(L.address_bits[k])
            module = _table_module(d, L.table(k), abits, obits)
            parts = []
            for j in range(L.indices.shape[1] - 1, -1, -1):  # input F-1 first: input 0 in the LSBs
                s = int(L.indices[k, j])
                if s < 0 or L.in_bits[k, j] == 0:
                    continue
                b, lo = int(src_bits[s]), int(src_off[s])
                used[lo:lo + b] = True
                parts.append(_extend("x", lo, b, bool(src_signed[s]), abits) if L.sum_address[k] else _slice("x", lo, b))
            sum_expr = ""
            if L.sum_address[k] and abits:
                # an adder: the codes sign/zero-extended to the row width, summed modulo 2**abits
                sum_expr = " + ".join(parts[::-1])
                addr = f"s{k}"
            else:
                addr = ("{" + ", ".join(parts) + "}") if len(parts) > 1 else (parts[0] if parts else "")
            neurons.append({"module": module, "k": k, "addr": addr if abits else "", "sum": sum_expr, "abits": abits,
                            "lo": int(out_off[k]), "hi": int(out_off[k] + obits - 1)})
        lname = f"{d.top}_l{li}"
        layer_modules.append((lname, int(out_bits.sum())))
        d.files[f"{lname}.v"] = render(
            "layer.v.j2", name=lname, index=li, layer_name=L.name, kind=L.kind, n_neurons=L.out_features,
            in_width=in_width, out_width=int(out_bits.sum()), unused_in=bool((~used).any()),
            neurons=neurons).encode()
        src_bits, src_signed = out_bits, L.out_signed
    return layer_modules, src_bits, src_signed


def _literal(value: int, bits: int) -> str:
    """A ``bits``-wide binary literal of ``value``'s two's-complement pattern."""
    return f"{bits}'b" + bit_chars([int(value) & ((1 << bits) - 1)], bits).tobytes().decode()


def _extend(bus: str, lo: int, bits: int, signed: bool, width: int) -> str:
    """``bus[lo +: bits]`` sign- (signed) or zero-extended to ``width`` bits."""
    v = _slice(bus, lo, bits)
    if width == bits:
        return v
    fill = f"{bus}[{lo + bits - 1}]" if signed else "1'b0"
    return f"{{{{{width - bits}{{{fill}}}}}, {v}}}"


def _tree_sum(terms: list) -> str:
    """A balanced parenthesized sum (an adder tree, not a chain)."""
    if len(terms) == 1:
        return terms[0]
    h = (len(terms) + 1) // 2
    return f"({_tree_sum(terms[:h])} + {_tree_sum(terms[h:])})"


def _emit_encoder(ir: NetworkIR, d: _Design) -> tuple[str, int]:
    q = ir.input_quant
    b = q.bits
    feat, thr = ir.encoder.flat()
    real = ir.encoder.comparators(q)
    lines = []
    for i, (f, t) in enumerate(zip(feat.tolist(), thr.tolist())):
        if t <= q.code_min:
            lines.append(f"    assign y[{i}] = 1'b1;  // feature {f} >= {t}: always (threshold at or below the code range)")
        elif t > q.code_max:
            lines.append(f"    assign y[{i}] = 1'b0;  // feature {f} >= {t}: never (threshold above the code range)")
        elif q.signed:
            lines.append(f"    assign y[{i}] = $signed({_slice('x', f * b, b)}) >= $signed({_literal(t, b)});"
                         f"  // feature {f} >= {t}")
        else:
            lines.append(f"    assign y[{i}] = {_slice('x', f * b, b)} >= {_literal(t, b)};  // feature {f} >= {t}")
    used = np.zeros(ir.n_inputs, bool)
    used[feat[real]] = True
    name = f"{d.top}_enc"
    n = ir.encoder.n_outputs
    d.files[f"{name}.v"] = render(
        "stage.v.j2", name=name, description=f"thermometer encoder, {ir.n_inputs} raw features x {b} bits "
        f"({'signed' if q.signed else 'unsigned'} codes) -> {n} bits.",
        notes=["Bit j of feature i (features concatenated, thresholds ascending) = (code_i >= threshold_ij),",
               f"comparators: {int(real.sum())} (constant bits for thresholds outside [{q.code_min}, {q.code_max}])."],
        in_width=ir.n_inputs * b, out_width=n, unused_in=bool((~used).any()), body="\n".join(lines)).encode()
    return name, n


def _emit_head(ir: NetworkIR, d: _Design) -> tuple[str, int]:
    last = ir.layers[-1]
    ob = last.out_bits.astype(np.int64)
    off = np.cumsum(ob) - ob
    sb = int(ir.score_encoding()[0][0])
    lo, hi = ir.head.score_ranges(last.out_bits, last.out_signed)
    sh = ir.head.shifts
    lines = []
    for c in range(ir.n_scores):
        m = ir.head.members(c)
        note = f"class {c}: {len(m)} outputs, score in [{int(lo[c])}, {int(hi[c])}]"
        if sh[m].any():
            note += ", weights " + " ".join(str(1 << int(x)) for x in sh[m])
        if last.out_signed[m].any():
            terms = [_extend("x", int(off[k]), int(ob[k]), bool(last.out_signed[k]), sb) for k in m]
            terms = [t if not sh[k] else f"({t} << {int(sh[k])})" for t, k in zip(terms, m)]
            lines.append(f"    assign y[{(c + 1) * sb - 1}:{c * sb}] = {_tree_sum(terms)};  // {note}")
        else:
            lines += _popcount(f"c{c}", [f"x[{int(off[k]) + b}]" for k in m for b in range(int(ob[k]))],
                               ob[m].tolist(), f"y[{(c + 1) * sb - 1}:{c * sb}]", sb, note, sh[m].tolist())
    name = f"{d.top}_head"
    d.files[f"{name}.v"] = render(
        "stage.v.j2", name=name, description=f"GroupSum head, {last.out_features} outputs -> {ir.n_scores} class "
        f"scores of {sb} bits ({'signed' if ir.output_quant.signed else 'unsigned'}).",
        notes=["Class c's score = the exact sum of its outputs' codes (each times its power-of-two weight, a",
               f"shift); class c at bits [c*{sb} +: {sb}].",
               "Unsigned codes: passes of LUT6 bit counters (each output bit a function of <= 6 bits: one",
               "LUT), then one carry-chain adder (lutnet.ir.compressor_tree); signed: a balanced adder tree."],
        in_width=int(ob.sum()), out_width=ir.n_scores * sb, unused_in=False, body="\n".join(lines)).encode()
    return name, ir.n_scores * sb


def _counter(ins: list, outs: list) -> list:
    """Verilog of one bit counter: ``outs`` (the low 1-3 bits, as wire names) of the number of ones
    among ``ins`` (3 to 6 bit expressions), with AND/OR/XOR only so synthesis maps each output to
    one LUT."""
    a, b, c, d, e, f = (ins + ["1'b0"] * 6)[:6]
    s1, c1 = f"({a} ^ {b} ^ {c})", f"(({a} & {b}) | ({a} & {c}) | ({b} & {c}))"
    if len(ins) == 3:
        exprs = [s1, c1]
    else:
        s2, c2 = f"({d} ^ {e} ^ {f})", f"(({d} & {e}) | ({d} & {f}) | ({e} & {f}))"
        k = f"({s1} & {s2})"
        exprs = [f"{s1} ^ {s2}", f"{c1} ^ {c2} ^ {k}", f"({c1} & {c2}) | ({c1} & {k}) | ({c2} & {k})"]
    return [f"    wire {o} = {x};" for o, x in zip(outs, exprs)]


def _popcount(prefix: str, bits: list, widths: list, target: str, width: int, note: str, shifts=None) -> list:
    """Lines assigning ``target`` (``width`` bits) = the sum of unsigned operands whose bits (LSB first,
    operand by operand) are ``bits``, operand ``i`` shifted left by ``shifts[i]``: the counters and
    final adder of ``compressor_tree(widths, shifts)``."""
    tree = compressor_tree(widths, shifts)
    names = list(bits)
    lines = [f"    // {note}: {len(tree.counters)} bit counters in {tree.passes} pass(es), then one adder"]
    for _, ins, outs in tree.counters:
        out_names = [f"{prefix}_{o}" for o in outs]
        lines += _counter([names[i] for i in ins], out_names)
        names += out_names
    row = [", ".join("1'b0" if i < 0 else names[i] for i in reversed(r)) for r in tree.rows]
    w = tree.width
    total = f"{{{row[0]}}}" if all(i < 0 for i in tree.rows[1]) else f"{{{row[0]}}} + {{{row[1]}}}"
    lines.append(f"    wire [{w - 1}:0] {prefix}_sum = {total};")
    lines.append(f"    assign {target} = " + (f"{prefix}_sum[{width - 1}:0];" if width <= w else
                                               f"{{{width - w}'b0, {prefix}_sum}};"))
    return lines


def _emit_argmax(ir: NetworkIR, d: _Design) -> tuple[str, int]:
    bits, signed = ir.score_encoding()
    off = np.cumsum(bits) - bits
    n, ib = ir.n_scores, ir.argmax_bits
    lines = []
    if n == 1:
        lines.append(f"    assign y = {ib}'d0;  // one class")
    else:
        w = int(bits.max())
        sg = bool(signed.any())
        # every score extended to the widest (signed if any is signed)
        level = []
        for k in range(n):
            lines.append(f"    wire [{w - 1}:0] v0_{k} = {_extend('x', int(off[k]), int(bits[k]), bool(signed[k]), w)};")
            level.append((f"v0_{k}", f"{ib}'d{k}"))
        depth = 0
        while len(level) > 1:
            depth += 1
            nxt = []
            for j, (a, b) in enumerate(zip(level[0::2], level[1::2])):
                root = len(level) == 2
                gt = f"$signed({b[0]}) > $signed({a[0]})" if sg else f"{b[0]} > {a[0]}"
                lines.append(f"    wire c{depth}_{j} = {gt};  // a tie keeps the lower index")
                if not root:
                    lines.append(f"    wire [{w - 1}:0] v{depth}_{j} = c{depth}_{j} ? {b[0]} : {a[0]};")
                lines.append(f"    wire [{ib - 1}:0] i{depth}_{j} = c{depth}_{j} ? {b[1]} : {a[1]};")
                nxt.append((f"v{depth}_{j}", f"i{depth}_{j}"))
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        lines.append(f"    assign y = {level[0][1]};")
    name = f"{d.top}_argmax"
    d.files[f"{name}.v"] = render(
        "stage.v.j2", name=name, description=f"argmax over {n} class scores -> the class index ({ib} bits).",
        notes=["The first index of the maximum: a balanced tree of compare-select nodes, the lower index",
               "wins ties."],
        in_width=int(bits.sum()), out_width=ib, unused_in=n == 1, body="\n".join(lines)).encode()
    return name, ib


def _emit_stages(ir: NetworkIR, d: _Design, layer_modules: list) -> list:
    """Render the encoder/head/argmax modules; every stage ``(module, output width)`` in order."""
    stages = list(layer_modules)
    if ir.encoder is not None:
        stages.insert(0, _emit_encoder(ir, d))
    if ir.head is not None:
        stages.append(_emit_head(ir, d))
    if ir.argmax:
        stages.append(_emit_argmax(ir, d))
    return stages


def _emit_top(ir: NetworkIR, d: _Design, layer_modules: list, out_bits, out_signed, pipeline: int,
              input_reg: bool, output_reg: bool, out_dir: Path) -> VerilogInfo:
    """Render the top module (registers, valid chain) and the testbench; the design's VerilogInfo.
    ``layer_modules``: every stage's ``(module, output width)`` in order (encoder, layers, head, argmax)."""
    top = d.top
    nL = len(layer_modules)
    regs = registered_layers(nL, pipeline, output_reg)
    latency = int(bool(input_reg)) + len(regs)
    in_width = ir.n_inputs * ir.input_quant.bits
    stages = []
    cur = "x"
    if input_reg:
        stages.append({"kind": "reg", "name": "x_q", "width": in_width, "src": "x"})
        cur = "x_q"
    short = {"encoder": "enc", "head": "head", "argmax": "argmax"}
    for li, ((lname, w), st) in enumerate(zip(layer_modules, ir.stages)):
        wire = short.get(st, "l" + st[len("layer"):])
        stages.append({"kind": "layer", "name": f"{wire}_y", "width": w, "src": cur, "module": lname})
        cur = f"{wire}_y"
        if li in regs:
            stages.append({"kind": "reg", "name": f"{wire}_q", "width": w, "src": cur})
            cur = f"{wire}_q"
    out_width = int(out_bits.sum())
    n_neurons = int(sum(L.out_features for L in ir.layers))
    d.files[f"{top}.v"] = render(
        "top.v.j2", top=top, n_layers=len(ir.layers), stage_names=ir.stages, n_neurons=n_neurons,
        in_width=in_width, out_width=out_width,
        in_bits=ir.input_quant.bits, in_uniform=True, out_bits=int(out_bits[0]),
        out_uniform=bool((np.asarray(out_bits) == out_bits[0]).all()), latency=latency, input_reg=input_reg,
        reg_after=[str(r) for r in regs], stages=stages, last=cur).encode()
    tb_name = f"{top}_tb.sv"
    d.files[tb_name] = render("tb.sv.j2", top=top, latency=latency, in_width=in_width,
                              out_width=out_width).encode()
    h = hashlib.sha256()
    for name in sorted(d.files):
        h.update(name.encode() + b"\0" + d.files[name] + b"\0")
    out_off = np.cumsum(out_bits) - out_bits
    in_ports = [{"feature": k, "lsb": int(k * ir.input_quant.bits), "bits": int(ir.input_quant.bits),
                 "signed": bool(ir.input_quant.signed)} for k in range(ir.n_inputs)]
    out_ports = [{"class": k, "lsb": int(out_off[k]), "bits": int(out_bits[k]),
                  "signed": bool(out_signed[k])} for k in range(len(out_bits))]
    return VerilogInfo(top=top, out_dir=str(out_dir),
                       files=d.table_files + [f"{n}.v" for n, _ in layer_modules] + [f"{top}.v"],
                       mem_files=d.mem_files, testbench=tb_name, latency_cycles=latency,
                       input_width=in_width, output_width=out_width, input_ports=in_ports,
                       output_ports=out_ports, pipeline=pipeline, input_reg=bool(input_reg),
                       output_reg=bool(output_reg), registered_layers=regs, table_style=d.table_style,
                       n_table_modules=len(d.modules), n_neurons=n_neurons, design_hash=h.hexdigest(),
                       options={"ir_file": f"{top}.lutir", "stages": ir.stages,
                                "stage_modules": {st: m for st, (m, _) in zip(ir.stages, layer_modules)
                                                  if not st.startswith("layer")}})


def _write_design(ir: NetworkIR, d: _Design, info: VerilogInfo, out_dir: Path, old: list):
    """Write the files (each atomically), drop stale files of our previous emission, save the IR
    and, last, the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in set(old) - set(d.files) - {"", f"{d.top}.lutir"}:  # files of our previous emission only
        p = out_dir / stale
        if p.is_file() and os.path.basename(stale) == stale:
            p.unlink()
    for name, data in d.files.items():
        atomic_write(out_dir / name, data, overwrite=True)
    ir.save(out_dir / f"{d.top}.lutir", overwrite=True)
    atomic_write(out_dir / MANIFEST, json.dumps(info.to_json(), indent=1), overwrite=True)


def load_info(out_dir) -> VerilogInfo:
    """The ``VerilogInfo`` of a directory written by ``write_verilog``."""
    m = json.loads((Path(out_dir) / MANIFEST).read_text())
    m["out_dir"] = str(out_dir)
    return VerilogInfo(**m)


def pack_inputs(ir: NetworkIR, codes: np.ndarray) -> np.ndarray:
    """(N, n_inputs) codes -> (N, W) LSB-first bit array of the x bus (the raw input codes; an
    encoder is inside the design)."""
    b = ir.input_quant.bits
    pat = np.bitwise_and(np.asarray(codes, np.int64), (1 << b) - 1)
    return pack_bits(pat, np.full(ir.n_inputs, b))
