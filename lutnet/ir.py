"""The LUT IR: the one description of a LUT network that every emitter and check reads.

Conventions (used everywhere in lutnet: evaluator, Verilog, C++, ONNX):

* A **code** is the integer a quantizer produces. Unsigned codes lie in ``[0, 2**bits - 1]``;
  signed codes are **two's complement** and lie in ``[-2**(bits-1), 2**(bits-1) - 1]``.
  On a wire, or inside a table address, a code travels as its ``bits``-wide bit pattern
  (``code & (2**bits - 1)``).
* The real value of a code is ``(code - zero_point) * scale`` (Brevitas' convention).
* A neuron with inputs ``x_0 .. x_{F-1}`` of widths ``b_0 .. b_{F-1}`` reads table row
  ``address = sum_j pattern(x_j) << (b_0 + .. + b_{j-1})``: input 0 sits in the least
  significant bits.  Its table has ``2**(b_0 + .. + b_{F-1})`` rows holding output codes.
* A **sum-address** neuron (``LayerIR.sum_address[k]``, PolyLUT-Add's adder) reads table row
  ``(sum_j code(x_j)) mod 2**A_k`` instead: its inputs are added as integers (two's complement codes
  summed as integers, the sum kept in its ``A_k`` low bits) and the table re-quantizes the sum.
  ``A_k = bit_length(hi_k - lo_k)`` for the sum's range ``[lo_k, hi_k]``, so every sum has its own
  row (rows no sum reaches are never read).  No offset is subtracted: the hardware is one adder.
* Layer ``l`` neurons index into the outputs of layer ``l-1`` (layer 0 into the network inputs).
* Class scores are the last layer's codes dequantized with ``output_quant``; the predicted class
  is the first index of the maximum.

Stages: besides the table layers a network has at most three more stages, a small closed set, each
with exact integer semantics (``evaluate`` runs them in this order):

* ``encoder`` (:class:`ThermometerEncoder`): per raw feature ``i``, strictly increasing integer
  thresholds on the input *code* (the fixed-point integer the FPGA receives, ``input_quant``);
  feature ``i`` becomes ``len(thresholds[i])`` one-bit unsigned signals, bit ``j`` =
  ``code_i >= thresholds[i][j]``, concatenated feature by feature.  Layer 0 indexes into these bits
  and ``n_inputs`` counts the raw features.
* ``head`` (:class:`GroupSum`): ``groups[k]`` is the class of the last layer's output ``k``; a class
  score is the exact integer sum of its outputs' codes (two's complement codes summed as integers),
  each times its optional power-of-two ``weights[k]`` (a shift in hardware; default 1).
  The network outputs are then the scores, whose encoding (derived from the code ranges) is
  ``output_quant``'s.
* ``argmax``: the network output is the first index of the maximum score (one unsigned code).

Files: a zip (``numpy.savez_compressed``) holding the arrays and a JSON header with the format name,
version and a SHA-256 checksum over header and arrays.  Version 2 holds the stages; version-1 files
(no stages) still load.  Version 3 adds the per-neuron ``sum_address`` flags; a network without
sum-address neurons is still written as version 2, so older lutnet versions read it.  Version 4 adds
the head's ``weights``; a head without weights (all 1) is written as before.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._files import atomic_write
from .errors import IRFormatError

FORMAT_NAME = "lutnet-ir"
FORMAT_VERSION = 4
READ_VERSIONS = (1, 2, 3, 4)


def code_range(bits: int, signed: bool) -> tuple[int, int]:
    """The full range of codes of a ``bits``-wide encoding."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def pattern_to_code(pattern: np.ndarray, bits, signed) -> np.ndarray:
    """Bit pattern (0..2**bits-1) to code; vectorized over arrays of ``bits``/``signed``."""
    pattern = np.asarray(pattern, dtype=np.int64)
    bits = np.asarray(bits, dtype=np.int64)
    signed = np.asarray(signed, dtype=bool)
    half = np.left_shift(1, np.maximum(bits - 1, 0))
    neg = signed & (pattern >= half)
    return np.where(neg, pattern - np.left_shift(1, bits), pattern)


def code_to_pattern(code: np.ndarray, bits) -> np.ndarray:
    return np.bitwise_and(np.asarray(code, dtype=np.int64), np.left_shift(1, np.asarray(bits, np.int64)) - 1)


@dataclass
class QuantSpec:
    """A uniform quantizer: ``code = clamp(round_half_even(x / scale + zero_point), code_min, code_max)``
    computed in float32, exactly as Brevitas' ``IntQuant`` does; ``value = (code - zero_point) * scale``.
    ``scale`` and ``zero_point`` are scalars or per-feature arrays."""

    bits: int
    signed: bool
    scale: np.ndarray
    zero_point: np.ndarray
    code_min: int | None = None
    code_max: int | None = None

    def __post_init__(self):
        self.bits = int(self.bits)
        self.signed = bool(self.signed)
        self.scale = np.asarray(self.scale, dtype=np.float32)
        self.zero_point = np.asarray(self.zero_point, dtype=np.float32)
        lo, hi = code_range(self.bits, self.signed)
        self.code_min = lo if self.code_min is None else int(self.code_min)
        self.code_max = hi if self.code_max is None else int(self.code_max)
        if not (1 <= self.bits <= 16):
            raise IRFormatError(f"QuantSpec: bits={self.bits} is outside 1..16")
        if not (lo <= self.code_min <= self.code_max <= hi):
            raise IRFormatError(
                f"QuantSpec: code range [{self.code_min}, {self.code_max}] does not fit a "
                f"{self.bits}-bit {'signed' if self.signed else 'unsigned'} encoding [{lo}, {hi}]")

    def to_codes(self, x) -> np.ndarray:
        y = np.asarray(x, dtype=np.float32) / self.scale
        y = y + self.zero_point
        y = np.clip(np.round(y), self.code_min, self.code_max)  # np.round: half to even, as torch
        return y.astype(np.int64)

    def to_values(self, codes) -> np.ndarray:
        return (np.asarray(codes, dtype=np.float32) - self.zero_point) * self.scale

    def to_json(self) -> dict:
        return {"bits": self.bits, "signed": self.signed, "scale": self.scale.tolist(),
                "zero_point": self.zero_point.tolist(), "code_min": self.code_min,
                "code_max": self.code_max}

    @classmethod
    def from_json(cls, d: dict) -> QuantSpec:
        return cls(**d)

    def __eq__(self, other):
        return (isinstance(other, QuantSpec) and self.to_json() == other.to_json())


def lut_cost(in_bits, out_bits):
    """LogicNets' LUTCost(X, Y) = Y/3 * (2**(X-4) - (-1)**X), the LUT6 count of an X-input,
    Y-output table.  The formula is meant for X >= 6; below that every output bit is one LUT
    (the formula would give 0 for X = 4), so Y is returned for 1 <= X <= 6 (0 for a constant)."""
    x = np.asarray(in_bits, dtype=np.float64)
    y = np.asarray(out_bits, dtype=np.float64)
    formula = y / 3.0 * (np.power(2.0, x - 4) - np.where(x % 2 == 0, 1.0, -1.0))
    return np.where(x <= 6, np.where(x > 0, y, 0.0), formula)


@dataclass
class LayerIR:
    """One layer of LUT neurons.

    ``indices``  (out, F) int: inputs of each neuron (into the previous layer), ``-1`` pads neurons
                 whose fan-in is smaller than F (pruned inputs).
    ``in_bits``  (out, F) int: bit width of each input (0 where padded); must equal the source's width.
    ``in_signed`` (out, F) bool.
    ``out_bits`` (out,) int, ``out_signed`` (out,) bool: the encoding of each neuron's output code.
    ``tables``   flat int array of all tables; neuron k's table is ``tables[offsets[k]:offsets[k+1]]``.
    ``sum_address`` (out,) bool: neuron k reads row ``(sum of its input codes) mod 2**address_bits``
                 (an adder followed by a table on the sum) instead of the concatenated input patterns.
    """

    name: str
    indices: np.ndarray
    in_bits: np.ndarray
    in_signed: np.ndarray
    out_bits: np.ndarray
    out_signed: np.ndarray
    tables: np.ndarray
    offsets: np.ndarray
    kind: str = ""
    attrs: dict = field(default_factory=dict)
    sum_address: np.ndarray | None = None

    def __post_init__(self):
        self.indices = np.asarray(self.indices, dtype=np.int64).reshape(len(self.indices), -1)
        self.in_bits = np.asarray(self.in_bits, dtype=np.int64).reshape(self.indices.shape)
        self.in_signed = np.asarray(self.in_signed, dtype=bool).reshape(self.indices.shape)
        self.out_bits = np.asarray(self.out_bits, dtype=np.int64).reshape(-1)
        self.out_signed = np.asarray(self.out_signed, dtype=bool).reshape(-1)
        self.tables = np.asarray(self.tables)
        self.offsets = np.asarray(self.offsets, dtype=np.int64).reshape(-1)
        n = len(self.indices)
        self.sum_address = (np.zeros(n, bool) if self.sum_address is None
                            else np.asarray(self.sum_address, dtype=bool).reshape(-1))

    @classmethod
    def from_dense(cls, name, indices, in_bits, in_signed, out_bits, out_signed, tables, kind="", attrs=None):
        """Build from a dense (out, rows) table array where every neuron has the same fan-in."""
        tables = np.asarray(tables)
        out = tables.shape[0]
        indices = np.asarray(indices).reshape(out, -1)
        bcast = lambda v, dt: np.broadcast_to(np.asarray(v, dtype=dt), indices.shape).copy()
        offsets = np.arange(out + 1, dtype=np.int64) * tables.shape[1]
        return cls(name, indices, bcast(in_bits, np.int64), bcast(in_signed, bool),
                   np.broadcast_to(np.asarray(out_bits, np.int64), (out,)).copy(),
                   np.broadcast_to(np.asarray(out_signed, bool), (out,)).copy(),
                   tables.reshape(-1), offsets, kind, dict(attrs or {}))

    @property
    def out_features(self) -> int:
        return int(self.indices.shape[0])

    @property
    def fan_in(self) -> np.ndarray:
        return (self.indices >= 0).sum(axis=1)

    def input_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """(out, F) lowest and highest code of each input (0, 0 where padded)."""
        b = self.in_bits
        sg = self.in_signed
        lo = np.where(sg, -np.left_shift(np.int64(1), np.maximum(b - 1, 0)), 0)
        hi = np.where(sg, np.left_shift(np.int64(1), np.maximum(b - 1, 0)) - 1, np.left_shift(np.int64(1), b) - 1)
        valid = self.indices >= 0
        return np.where(valid, lo, 0), np.where(valid, hi, 0)

    def sum_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """(out,) lowest and highest sum of each neuron's input codes (sum-address neurons' rows)."""
        lo, hi = self.input_ranges()
        return lo.sum(axis=1), hi.sum(axis=1)

    @property
    def address_bits(self) -> np.ndarray:
        cat = self.in_bits.sum(axis=1)
        if not self.sum_address.any():
            return cat
        lo, hi = self.sum_ranges()
        span = hi - lo
        sums = (span[:, None] >= np.left_shift(np.int64(1), np.arange(63))).sum(axis=1)  # bit_length
        return np.where(self.sum_address, sums, cat)

    @property
    def table_rows(self) -> np.ndarray:
        return np.diff(self.offsets)

    def table(self, k: int) -> np.ndarray:
        return self.tables[self.offsets[k]:self.offsets[k + 1]]

    def shifts(self) -> np.ndarray:
        """(out, F) bit offset of each input inside the table address."""
        return np.cumsum(self.in_bits, axis=1) - self.in_bits

    def evaluate(self, codes: np.ndarray) -> np.ndarray:
        """Output codes (N, out) for input codes (N, n_src): pack patterns into addresses, gather."""
        return self.evaluate_t(np.ascontiguousarray(np.asarray(codes).T)).T

    def evaluate_t(self, codes_t: np.ndarray) -> np.ndarray:
        """As :meth:`evaluate` on transposed codes, (n_src, N) -> (out, N): gathering whole rows
        of a feature-major array and looking up one neuron's table per output row keeps memory
        access contiguous."""
        addr = self.addresses_t(codes_t, np.int64 if self.tables.size >= (1 << 31) else np.int32)
        addr += self.offsets[:-1, None].astype(addr.dtype)  # each neuron's table starts at its offset
        return self.tables[addr]

    def addresses_t(self, codes_t: np.ndarray, dtype=np.int64) -> np.ndarray:
        """(out, N) table row of each neuron (inside its own table) for (n_src, N) input codes: the
        concatenated input patterns, or for sum-address neurons the sum of the codes mod 2**address_bits."""
        idx = np.where(self.indices >= 0, self.indices, 0)
        n = codes_t.shape[1]
        sa = self.sum_address
        addr = np.zeros((self.out_features, n), dtype)
        cat = np.flatnonzero(~sa)
        if cat.size:
            part = addr if cat.size == self.out_features else np.zeros((cat.size, n), dtype)
            mask = (np.left_shift(1, self.in_bits[cat]) - 1).astype(np.int32)  # 0 for padded inputs
            shifts = self.shifts()[cat].astype(np.int32)
            for j in range(idx.shape[1]):  # loop over fan-in positions (F <= ~16), vectorized over out x N
                part += np.left_shift(np.bitwise_and(codes_t[idx[cat, j]], mask[:, j, None]), shifts[:, j, None])
            if part is not addr:
                addr[cat] = part
        sums = np.flatnonzero(sa)
        if sums.size:
            valid = self.indices[sums] >= 0
            mask = (np.left_shift(np.int64(1), self.address_bits[sums]) - 1).astype(dtype)
            part = np.zeros((sums.size, n), dtype)
            for j in range(idx.shape[1]):
                part += np.where(valid[:, j, None], codes_t[idx[sums, j]], 0).astype(dtype)
            part &= mask[:, None]
            addr[sums] = part
        return addr

    def adder_cost(self) -> float:
        """LUT cost of the sum-address neurons' adders (a carry-chain adder tree each)."""
        if not self.sum_address.any():
            return 0.0
        lo, hi = self.input_ranges()
        valid = self.indices >= 0
        return float(sum(adder_tree(list(zip(lo[k][valid[k]].tolist(), hi[k][valid[k]].tolist())))[0]
                         for k in np.flatnonzero(self.sum_address)))

    def lut_cost(self) -> float:
        return float(lut_cost(self.address_bits, self.out_bits).sum()) + self.adder_cost()


def bits_for_range(lo: int, hi: int) -> tuple[int, bool]:
    """The narrowest ``(bits, signed)`` encoding holding every integer in ``[lo, hi]``."""
    lo, hi = int(lo), int(hi)
    if lo >= 0:
        return max(1, hi.bit_length()), False
    return max((-lo - 1).bit_length(), hi.bit_length()) + 1, True


def comparator_luts(bits: int) -> float:
    """LUT6 cost of one comparator ``x >= T`` of a ``bits``-wide input against a constant: one LUT
    up to 6 bits, else a chain of ``ceil((bits - 1) / 5)`` LUT6s (``x >= T`` is a function of the top
    5 bits and one bit saying whether the lower bits reach ``T``'s lower bits).  Yosys 0.23 maps
    1,568 such 8-bit comparators to 2,428 LUTs + 1,985 MUXF7 (this model: 3,136 LUTs)."""
    bits = int(bits)
    return 1.0 if bits <= 6 else float(-(-(bits - 1) // 5))


def adder_tree(ranges: list) -> tuple[float, int]:
    """``(LUTs, adders)`` of a balanced adder tree over operands with code ranges ``[(lo, hi)]``:
    each two-operand adder costs one LUT per bit of its result (a carry-chain adder)."""
    cost, adders = 0.0, 0
    level = list(ranges)
    while len(level) > 1:
        nxt = []
        for a, b in zip(level[0::2], level[1::2]):
            lo, hi = a[0] + b[0], a[1] + b[1]
            cost += bits_for_range(lo, hi)[0]
            adders += 1
            nxt.append((lo, hi))
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return cost, adders


@dataclass
class CompressorTree:
    """How an unsigned multi-operand sum (a popcount) is built from LUT6 bit counters: bit ``i`` of
    the inputs has weight ``2**weights[i]``; each counter ``(weight, inputs, outputs)`` adds up to six
    bits of one weight into ``len(outputs)`` bits of weights ``weight, weight+1, ...`` (each output a
    function of at most six bits: one LUT); passes run until every weight holds at most two bits, then
    one carry-chain adder sums the two rows ``rows[0] + rows[1]`` (bit ids per weight, ``-1`` = 0), as
    wide as the largest sum (counter outputs above it are always 0 and are not built).
    Bit ids: ``0..n_inputs-1`` are the inputs, each counter output gets the next id."""

    n_inputs: int
    counters: list
    rows: tuple
    passes: int

    @property
    def width(self) -> int:
        return len(self.rows[0])

    def luts(self) -> float:
        """LUT cost: one LUT per counter output, one per bit of the final adder (from its lowest weight
        holding two bits; weights below it are wires)."""
        cost = float(sum(len(o) for _, _, o in self.counters))
        a, b = self.rows
        both = [w for w in range(self.width) if a[w] >= 0 and b[w] >= 0]
        return cost + (self.width - both[0] if both else 0)


def compressor_tree(widths, shifts=None) -> CompressorTree:
    """The :class:`CompressorTree` of the sum of unsigned operands of the given bit widths, operand
    ``i`` shifted left by ``shifts[i]`` (its weight ``2**shifts[i]``; default 0)."""
    shifts = [0] * len(widths) if shifts is None else [int(x) for x in shifts]
    cols: dict = {}
    n = 0
    top = max(1, sum(((1 << int(w)) - 1) << s for w, s in zip(widths, shifts)).bit_length())  # higher bits are 0
    for w, s in zip(widths, shifts):
        for b in range(int(w)):
            cols.setdefault(b + s, []).append(n)
            n += 1
    counters, nid, passes = [], n, 0
    while cols and max(len(v) for v in cols.values()) > 2:
        passes += 1
        nxt: dict = {}
        for w in sorted(cols):
            bits = cols[w]
            i = 0
            while len(bits) - i > 2:
                take = bits[i:i + 6]
                i += len(take)
                outs = list(range(nid, nid + min(len(take).bit_length(), top - w)))
                nid += len(outs)
                counters.append((w, take, outs))
                for j, o in enumerate(outs):
                    nxt.setdefault(w + j, []).append(o)
            nxt.setdefault(w, []).extend(bits[i:])
        cols = {w: v for w, v in nxt.items() if v}
    rows = tuple([cols.get(w, [])[r] if len(cols.get(w, [])) > r else -1 for w in range(top)] for r in (0, 1))
    return CompressorTree(n, counters, rows, passes)


def argmax_luts(n: int, bits: int) -> float:
    """LUT6 cost of a first-index argmax over ``n`` ``bits``-wide scores (a tree of ``n - 1``
    compare-select nodes: a ``bits``-bit comparator, a ``bits``-bit value mux and an index mux)."""
    ib = max(1, (n - 1).bit_length())
    return float(max(0, n - 1) * (2 * bits + ib))


@dataclass
class ThermometerEncoder:
    """Thermometer input encoder: per raw feature ``i`` the strictly increasing int64 thresholds
    ``thresholds[i]`` on the feature's input code; bit ``j`` of feature ``i`` = ``code_i >=
    thresholds[i][j]``.  The encoded bits (one-bit unsigned codes) are concatenated feature by
    feature, thresholds ascending."""

    thresholds: list
    kind: str = "thermometer"

    def __post_init__(self):
        ts = []
        for i, t in enumerate(self.thresholds):
            a = np.asarray(t)
            if a.dtype.kind == "f":
                if a.size and not np.all(a == np.round(a)):
                    raise IRFormatError(f"encoder: thresholds of feature {i} must be integers (codes), got "
                                        f"{a.tolist()}")
            elif a.size and a.dtype.kind not in "iub":
                raise IRFormatError(f"encoder: thresholds of feature {i} must be integers, got dtype {a.dtype}")
            ts.append(a.astype(np.int64).reshape(-1))
        self.thresholds = ts

    @property
    def n_features(self) -> int:
        return len(self.thresholds)

    @property
    def counts(self) -> np.ndarray:
        return np.array([len(t) for t in self.thresholds], np.int64)

    @property
    def n_outputs(self) -> int:
        return int(self.counts.sum())

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """``(feature of each encoded bit, its threshold)``, both (n_outputs,) int64."""
        feat = np.repeat(np.arange(self.n_features, dtype=np.int64), self.counts)
        thr = np.concatenate(self.thresholds) if self.thresholds else np.zeros(0, np.int64)
        return feat, thr.astype(np.int64)

    def validate(self, n_inputs: int) -> None:
        if self.kind != "thermometer":
            raise IRFormatError(f"encoder: kind {self.kind!r} is not 'thermometer'")
        if self.n_features != n_inputs:
            raise IRFormatError(f"encoder: thresholds are given for {self.n_features} features, but the network "
                                f"has n_inputs={n_inputs} raw features; give one threshold list per feature")
        for i, t in enumerate(self.thresholds):
            if t.size == 0:
                raise IRFormatError(f"encoder: feature {i} has no thresholds; give it at least one")
            if t.size > 1 and not np.all(np.diff(t) > 0):
                raise IRFormatError(f"encoder: thresholds of feature {i} are not strictly increasing "
                                    f"({t.tolist()})")

    def encode_t(self, codes_t: np.ndarray) -> np.ndarray:
        """(n_features, N) input codes -> (n_outputs, N) int32 bits."""
        feat, thr = self.flat()
        return (np.asarray(codes_t)[feat] >= thr[:, None]).astype(np.int32)

    def encode(self, codes) -> np.ndarray:
        """(N, n_features) input codes -> (N, n_outputs) bits (int64)."""
        return self.encode_t(np.asarray(codes, np.int64).T).T.astype(np.int64)

    def comparators(self, quant) -> np.ndarray:
        """Per encoded bit: True where the comparator is real logic (the threshold lies inside
        ``(code_min, code_max]``; otherwise the bit is a constant)."""
        _, thr = self.flat()
        return (thr > quant.code_min) & (thr <= quant.code_max)

    def comparator_inputs(self, quant) -> np.ndarray:
        """Per encoded bit, how many input bits its comparator reads (0: a constant): ``x >= T`` only
        depends on the bits of ``x - code_min`` above the trailing zeros of ``T - code_min`` (``x >=
        128`` on an 8-bit code is its top bit, a wire)."""
        _, thr = self.flat()
        u = np.asarray(thr, np.int64) - int(quant.code_min)
        tz = np.zeros(u.shape, np.int64)
        pos = u > 0
        tz[pos] = np.log2(u[pos] & -u[pos]).astype(np.int64)
        return np.where(self.comparators(quant), np.maximum(quant.bits - tz, 1), 0)

    def lut_cost(self, quant) -> float:
        """LUTs of the comparators: one read bit is a wire (0), else :func:`comparator_luts`."""
        n = self.comparator_inputs(quant)
        return float(sum(comparator_luts(int(b)) * int(c) for b, c in zip(*np.unique(n[n > 1], return_counts=True))))

    def __eq__(self, other):
        return (isinstance(other, ThermometerEncoder) and self.kind == other.kind
                and len(self.thresholds) == len(other.thresholds)
                and all(np.array_equal(a, b) for a, b in zip(self.thresholds, other.thresholds)))


@dataclass
class GroupSum:
    """Popcount / GroupSum head: ``groups[k]`` is the class of the last layer's output ``k``; class
    ``c``'s score is the exact integer sum of the codes of its outputs, output ``k``'s code times
    ``weights[k]`` (a power of two: a shift in hardware; ``None``: every weight 1)."""

    groups: np.ndarray
    kind: str = "groupsum"
    weights: np.ndarray | None = None

    def __post_init__(self):
        g = np.asarray(self.groups)
        if g.size and g.dtype.kind == "f" and not np.all(g == np.round(g)):
            raise IRFormatError(f"head: groups must be integer class indices, got {g.tolist()}")
        self.groups = g.astype(np.int64).reshape(-1)
        if self.weights is not None:
            w = np.asarray(self.weights).reshape(-1)
            if w.size != self.groups.size:
                raise IRFormatError(f"head: weights has {w.size} entries for {self.groups.size} outputs; give one "
                                    f"weight per output (or none)")
            wi = np.asarray(w, np.float64)
            bad = ~((wi >= 1) & (wi == np.round(wi)) & (wi <= 2 ** 15))
            if not bad.any():
                wi = wi.astype(np.int64)
                bad = (wi & (wi - 1)) != 0
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise IRFormatError(f"head: weights[{k}] = {w[k]} is not a power of two 1, 2, 4, ..., 32768; "
                                    f"give every output a power-of-two weight (a shift in hardware)")
            self.weights = None if np.all(wi == 1) else wi

    @property
    def shifts(self) -> np.ndarray:
        """Per output, ``log2(weights[k])`` (all 0 without weights)."""
        if self.weights is None:
            return np.zeros(self.groups.size, np.int64)
        return np.array([int(w).bit_length() - 1 for w in self.weights], np.int64)

    @property
    def weight_array(self) -> np.ndarray:
        """Per output, its weight (all 1 without weights)."""
        return np.ones(self.groups.size, np.int64) if self.weights is None else self.weights

    @property
    def n_classes(self) -> int:
        return int(self.groups.max()) + 1 if self.groups.size and self.groups.max() >= 0 else 0

    def members(self, c: int) -> np.ndarray:
        return np.flatnonzero(self.groups == c)

    def validate(self, n_out: int) -> None:
        if self.kind != "groupsum":
            raise IRFormatError(f"head: kind {self.kind!r} is not 'groupsum'")
        if self.groups.size > n_out:
            raise IRFormatError(f"head: groups has {self.groups.size} entries, but the last layer has only "
                                f"{n_out} outputs; give one class per output")
        g = np.full(n_out, -1, np.int64)
        g[:self.groups.size] = self.groups
        orphans = np.flatnonzero(g < 0)
        if orphans.size:
            shown = ", ".join(map(str, orphans[:20].tolist())) + (", ..." if orphans.size > 20 else "")
            raise IRFormatError(f"head: output{'s' if orphans.size > 1 else ''} {shown} of the last layer "
                                f"belong{'' if orphans.size > 1 else 's'} to no class; give every output a class "
                                f"0..n_classes-1")
        counts = np.bincount(g, minlength=self.n_classes)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise IRFormatError(f"head: class {int(empty[0])} has no outputs; every class 0..{self.n_classes - 1} "
                                f"needs at least one output of the last layer")

    def score_ranges(self, out_bits, out_signed) -> tuple[np.ndarray, np.ndarray]:
        """Per class, the exact range ``(lo, hi)`` of its score from its outputs' code ranges."""
        ob = np.asarray(out_bits, np.int64)
        sg = np.asarray(out_signed, bool)
        lo = np.where(sg, -np.left_shift(1, ob - 1), 0)
        hi = np.where(sg, np.left_shift(1, ob - 1) - 1, np.left_shift(1, ob) - 1)
        lo, hi = lo * self.weight_array, hi * self.weight_array
        n = self.n_classes
        return (np.bincount(self.groups, lo, n).astype(np.int64), np.bincount(self.groups, hi, n).astype(np.int64))

    def score_encoding(self, out_bits, out_signed) -> tuple[int, bool]:
        """``(bits, signed)`` of the class scores: the narrowest encoding holding every score."""
        lo, hi = self.score_ranges(out_bits, out_signed)
        return bits_for_range(int(lo.min()), int(hi.max()))

    def sum_t(self, codes_t: np.ndarray) -> np.ndarray:
        """(n_out, N) codes -> (n_classes, N) int64 scores (segment sums of the outputs sorted by class)."""
        order = np.argsort(self.groups, kind="stable")
        starts = np.searchsorted(self.groups[order], np.arange(self.n_classes))
        c = np.asarray(codes_t, np.int64)
        if self.weights is not None:
            c = c * self.weights[:, None]
        c = c[order]
        if c.shape[1] == 0:
            return np.zeros((self.n_classes, 0), np.int64)
        return np.add.reduceat(c, starts, axis=0)

    def lut_cost(self, out_bits, out_signed) -> float:
        ob = np.asarray(out_bits, np.int64)
        sg = np.asarray(out_signed, bool)
        w = self.weight_array
        lo = np.where(sg, -np.left_shift(1, ob - 1), 0) * w
        hi = (np.where(sg, np.left_shift(1, ob - 1) - 1, np.left_shift(1, ob) - 1)) * w
        sh = self.shifts
        cost = 0.0
        for m in (self.members(c) for c in range(self.n_classes)):
            if sg[m].any():  # signed codes: a balanced tree of carry-chain adders
                cost += adder_tree(list(zip(lo[m].tolist(), hi[m].tolist())))[0]
            else:  # unsigned codes: LUT6 bit counters, then one adder (see ``compressor_tree``)
                cost += compressor_tree(ob[m].tolist(), sh[m].tolist()).luts()
        return cost

    def __eq__(self, other):
        return (isinstance(other, GroupSum) and self.kind == other.kind and np.array_equal(self.groups, other.groups)
                and np.array_equal(self.weight_array, other.weight_array))


def _smallest_int_dtype(lo: int, hi: int):
    for dt in (np.int8, np.int16, np.int32):
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return dt
    return np.int64


@dataclass
class NetworkIR:
    """A LUT network: an input quantizer, an optional thermometer ``encoder``, ordered layers, an
    optional ``head`` (:class:`GroupSum`), an optional ``argmax`` and the output quantizer of the
    class scores (the last layer's codes, or the head's scores)."""

    input_quant: QuantSpec
    n_inputs: int
    layers: list
    output_quant: QuantSpec
    metadata: dict = field(default_factory=dict)
    encoder: ThermometerEncoder | None = None
    head: GroupSum | None = None
    argmax: bool = False

    # ---------------------------------------------------------------- shapes and encodings
    @property
    def stages(self) -> list:
        """Names of the stages in evaluation order: ``encoder``, ``layer0`` .., ``head``, ``argmax``."""
        return ((["encoder"] if self.encoder is not None else []) + [f"layer{i}" for i in range(len(self.layers))]
                + (["head"] if self.head is not None else []) + (["argmax"] if self.argmax else []))

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    @property
    def n_encoded(self) -> int:
        """Width of the sources of layer 0: the encoded bits, or the raw inputs without an encoder."""
        return self.encoder.n_outputs if self.encoder is not None else self.n_inputs

    def layer0_sources(self) -> tuple[np.ndarray, np.ndarray]:
        """(bits, signed) of each source of layer 0."""
        if self.encoder is not None:
            return np.ones(self.n_encoded, np.int64), np.zeros(self.n_encoded, bool)
        return (np.full(self.n_inputs, self.input_quant.bits, np.int64),
                np.full(self.n_inputs, self.input_quant.signed, bool))

    @property
    def n_scores(self) -> int:
        return self.head.n_classes if self.head is not None else self.layers[-1].out_features

    def score_encoding(self) -> tuple[np.ndarray, np.ndarray]:
        """(bits, signed) of each class score (the head's scores, or the last layer's codes)."""
        last = self.layers[-1]
        if self.head is not None:
            b, s = self.head.score_encoding(last.out_bits, last.out_signed)
            return np.full(self.n_scores, b, np.int64), np.full(self.n_scores, s, bool)
        return last.out_bits.astype(np.int64), last.out_signed.astype(bool)

    @property
    def argmax_bits(self) -> int:
        return max(1, (self.n_scores - 1).bit_length())

    def output_encoding(self) -> tuple[np.ndarray, np.ndarray]:
        """(bits, signed) of each network output: the class index with ``argmax``, else the scores."""
        if self.argmax:
            return np.array([self.argmax_bits], np.int64), np.array([False])
        return self.score_encoding()

    @property
    def n_outputs(self) -> int:
        """Outputs of the network: 1 (the class index) with ``argmax``, else the class scores."""
        return 1 if self.argmax else self.n_scores

    # ---------------------------------------------------------------- evaluation
    def quantize_input(self, x) -> np.ndarray:
        """Input codes of float features (N, n_inputs); one 1-D sample gives one 1-D row of codes.
        Checked by :func:`lutnet.core.inputs.check_features` (NaN, feature count)."""
        from .core.inputs import check_features
        a, single = check_features(x, self.n_inputs)
        codes = self.input_quant.to_codes(a)
        return codes[0] if single else codes

    def evaluate_stages(self, codes, chunk: int = 65536) -> dict:
        """Every stage's outputs for input codes (N, n_inputs): ``{"encoder": (N, n_encoded) bits or
        None, "layers": [(N, out_l) codes], "head": (N, n_classes) scores or None, "argmax": (N, 1)
        class indices or None}`` (batches, no 1-D convenience)."""
        from .core.inputs import check_quant_codes
        codes, _ = check_quant_codes(codes, self.n_inputs, self.input_quant)
        enc, outs, heads, args = [], [[] for _ in self.layers], [], []
        for s in range(0, max(len(codes), 1), chunk):
            c = np.ascontiguousarray(codes[s:s + chunk].T)  # feature-major
            if self.encoder is not None:
                c = self.encoder.encode_t(c)
                enc.append(c.T.astype(np.int64))
            else:
                c = c.astype(np.int32)
            for i, layer in enumerate(self.layers):
                c = layer.evaluate_t(c).astype(np.int32)
                outs[i].append(c.T.astype(np.int64))
            sc = c.astype(np.int64)
            if self.head is not None:
                sc = self.head.sum_t(c)
                heads.append(sc.T)
            if self.argmax:
                args.append(np.argmax(sc, axis=0)[:, None].astype(np.int64) if sc.shape[1] else
                            np.zeros((0, 1), np.int64))
        cat = lambda parts, n: np.concatenate(parts) if parts else np.zeros((0, n), np.int64)
        return {"encoder": cat(enc, self.n_encoded) if self.encoder is not None else None,
                "layers": [cat(o, L.out_features) for o, L in zip(outs, self.layers)],
                "head": cat(heads, self.n_scores) if self.head is not None else None,
                "argmax": cat(args, 1) if self.argmax else None}

    def evaluate(self, codes, return_all: bool = False, chunk: int = 65536):
        """Output codes (N, n_outputs) for input codes (N, n_inputs): encoder -> layers -> head ->
        argmax.  With ``return_all``, the list of every layer's output codes followed by the head's
        scores and the argmax's (N, 1) class indices when the network has them (the last entry is
        always the network's output).  Codes are checked by :func:`lutnet.core.inputs.check_codes`
        (integers inside the input encoding); one 1-D sample gives 1-D results."""
        from .core.inputs import check_quant_codes
        codes, single = check_quant_codes(codes, self.n_inputs, self.input_quant)
        st = self.evaluate_stages(codes, chunk)
        outs = list(st["layers"]) + [st[k] for k in ("head", "argmax") if st[k] is not None]
        if single:
            outs = [o[0] if len(o) else o for o in outs]
        return outs if return_all else outs[-1]

    def scores(self, out_codes) -> np.ndarray:
        return self.output_quant.to_values(out_codes)

    def predict(self, x) -> np.ndarray:
        """Class indices for float inputs (quantize, evaluate, first argmax); one 1-D sample gives one index."""
        codes = self.quantize_input(x)
        out = self.evaluate(codes)
        return out[..., 0] if self.argmax else np.argmax(out, axis=-1)

    # ---------------------------------------------------------------- checks
    def validate(self) -> NetworkIR:
        """Check that widths, indices, tables and stages agree; raise IRFormatError naming the
        layer or stage."""
        if self.input_quant.scale.size not in (1, self.n_inputs):
            raise IRFormatError(f"input_quant.scale has {self.input_quant.scale.size} entries; "
                                f"expected 1 or n_inputs={self.n_inputs}")
        if self.encoder is not None:
            if not isinstance(self.encoder, ThermometerEncoder):
                raise IRFormatError(f"encoder: expected a ThermometerEncoder, got {type(self.encoder).__name__}")
            self.encoder.validate(self.n_inputs)
        src_bits, src_signed = self.layer0_sources()
        if not self.layers:
            raise IRFormatError("the network has no layers")
        for li, L in enumerate(self.layers):
            where = f"layer {li} ({L.name!r})"
            n_src = len(src_bits)
            if L.indices.shape != L.in_bits.shape or L.in_signed.shape != L.indices.shape:
                raise IRFormatError(f"{where}: indices, in_bits and in_signed must have one shape")
            if L.out_bits.shape != (L.out_features,) or L.out_signed.shape != (L.out_features,):
                raise IRFormatError(f"{where}: out_bits/out_signed must have one entry per neuron")
            if L.indices.size and (L.indices.max() >= n_src or L.indices.min() < -1):
                raise IRFormatError(f"{where}: input index out of range 0..{n_src - 1}")
            valid = L.indices >= 0
            idx = np.where(valid, L.indices, 0)
            want_bits = np.where(valid, src_bits[idx], 0)
            if not np.array_equal(L.in_bits, want_bits):
                k, j = np.argwhere(L.in_bits != want_bits)[0]
                raise IRFormatError(
                    f"{where}: neuron {k} input {j} declares {L.in_bits[k, j]} bits but its source "
                    f"produces {want_bits[k, j]} bits")
            if not np.array_equal(L.in_signed & valid, np.where(valid, src_signed[idx], False)):
                raise IRFormatError(f"{where}: an input's signedness disagrees with its source")
            if L.sum_address.shape != (L.out_features,):
                raise IRFormatError(f"{where}: sum_address must have one entry per neuron")
            if L.sum_address.any() and int(L.address_bits[L.sum_address].max()) > 24:
                k = int(np.flatnonzero(L.sum_address)[np.argmax(L.address_bits[L.sum_address])])
                raise IRFormatError(f"{where}: sum-address neuron {k}'s sum needs {L.address_bits[k]} bits; "
                                    f"at most 24 are supported")
            if len(L.offsets) != L.out_features + 1 or L.offsets[0] != 0 or L.offsets[-1] != L.tables.size:
                raise IRFormatError(f"{where}: table offsets do not cover the table array")
            rows = np.left_shift(np.int64(1), L.address_bits)
            if not np.array_equal(L.table_rows, rows):
                k = int(np.argmax(L.table_rows != rows))
                what = "the sum of its inputs needs" if L.sum_address[k] else "its inputs have"
                raise IRFormatError(
                    f"{where}: neuron {k} has a table of {L.table_rows[k]} rows, but {what} "
                    f"{L.address_bits[k]} address bits (2**{L.address_bits[k]} = {rows[k]} rows)")
            if np.any((L.out_bits < 1) | (L.out_bits > 16)):
                raise IRFormatError(f"{where}: out_bits must lie in 1..16")
            if L.tables.size:
                nid = np.repeat(np.arange(L.out_features), L.table_rows)
                lo = np.where(L.out_signed, -np.left_shift(1, L.out_bits - 1), 0)[nid]
                hi = np.where(L.out_signed, np.left_shift(1, L.out_bits - 1) - 1,
                              np.left_shift(1, L.out_bits) - 1)[nid]
                t = L.tables.astype(np.int64)
                bad = (t < lo) | (t > hi)
                if bad.any():
                    k = int(nid[np.argmax(bad)])
                    raise IRFormatError(f"{where}: neuron {k}'s table holds codes outside its "
                                        f"{L.out_bits[k]}-bit output encoding")
            src_bits, src_signed = L.out_bits, L.out_signed
        last = self.layers[-1]
        if self.head is not None:
            if not isinstance(self.head, GroupSum):
                raise IRFormatError(f"head: expected a GroupSum, got {type(self.head).__name__}")
            self.head.validate(last.out_features)
            b, sg = self.head.score_encoding(last.out_bits, last.out_signed)
            if b > 16:
                raise IRFormatError(f"head: class scores need {b} bits; at most 16 are supported (fewer or "
                                    f"narrower outputs per class)")
            if self.output_quant.bits != b or self.output_quant.signed != sg:
                enc = lambda bb, ss: f"{bb}-bit {'signed' if ss else 'unsigned'}"
                raise IRFormatError(f"head: output_quant is {enc(self.output_quant.bits, self.output_quant.signed)}, "
                                    f"but the class scores are {enc(b, sg)} (from the last layer's code ranges); "
                                    f"give output_quant that encoding")
        elif not (np.all(last.out_bits == self.output_quant.bits)
                  and np.all(last.out_signed == self.output_quant.signed)):
            raise IRFormatError("output_quant's encoding disagrees with the last layer's outputs")
        if not isinstance(self.argmax, (bool, np.bool_)):
            raise IRFormatError(f"argmax must be True or False, got {self.argmax!r}")
        return self

    # ---------------------------------------------------------------- summary
    def summary(self) -> list[dict]:
        rows = []
        q = self.input_quant
        if self.encoder is not None:
            rows.append({"layer": "encoder", "kind": self.encoder.kind, "neurons": self.encoder.n_outputs,
                         "fan_in": 1, "in_bits": q.bits, "out_bits": 1, "address_bits": q.bits,
                         "table_rows": 0, "lut_cost": self.encoder.lut_cost(q)})
        for L in self.layers:
            rows.append({"layer": L.name, "kind": L.kind, "neurons": L.out_features,
                         "fan_in": int(L.fan_in.max()) if L.out_features else 0,
                         "in_bits": int(L.in_bits.max()) if L.in_bits.size else 0,
                         "out_bits": int(L.out_bits.max()),
                         "address_bits": int(L.address_bits.max()),
                         "table_rows": int(L.table_rows.sum()),
                         "lut_cost": L.lut_cost()})
        last = self.layers[-1]
        if self.head is not None:
            sb = int(self.score_encoding()[0][0])
            rows.append({"layer": "head", "kind": self.head.kind, "neurons": self.n_scores,
                         "fan_in": int(np.bincount(self.head.groups).max()), "in_bits": int(last.out_bits.max()),
                         "out_bits": sb, "address_bits": 0, "table_rows": 0,
                         "lut_cost": self.head.lut_cost(last.out_bits, last.out_signed)})
        if self.argmax:
            rows.append({"layer": "argmax", "kind": "argmax", "neurons": 1, "fan_in": self.n_scores,
                         "in_bits": int(self.score_encoding()[0].max()), "out_bits": self.argmax_bits,
                         "address_bits": 0, "table_rows": 0, "lut_cost": self.argmax_cost()})
        return rows

    def argmax_cost(self) -> float:
        return argmax_luts(self.n_scores, int(self.score_encoding()[0].max())) if self.argmax else 0.0

    def stage_costs(self) -> dict:
        """LUT cost of each non-table stage: ``{"encoder": .., "head": .., "argmax": ..}`` (present stages)."""
        out = {}
        last = self.layers[-1]
        if self.encoder is not None:
            out["encoder"] = self.encoder.lut_cost(self.input_quant)
        if self.head is not None:
            out["head"] = self.head.lut_cost(last.out_bits, last.out_signed)
        if self.argmax:
            out["argmax"] = self.argmax_cost()
        return out

    def lut_cost(self) -> float:
        return sum(L.lut_cost() for L in self.layers) + sum(self.stage_costs().values())

    # ---------------------------------------------------------------- files
    def _arrays_and_header(self):
        arrays = {}
        layers = []
        for i, L in enumerate(self.layers):
            lo = int(np.where(L.out_signed, -np.left_shift(1, L.out_bits - 1), 0).min())
            hi = int(np.left_shift(1, L.out_bits).max())
            p = f"layer{i}_"
            arrays.update({p + "indices": L.indices.astype(np.int32), p + "in_bits": L.in_bits.astype(np.int8),
                           p + "in_signed": L.in_signed, p + "out_bits": L.out_bits.astype(np.int8),
                           p + "out_signed": L.out_signed, p + "offsets": L.offsets,
                           p + "tables": L.tables.astype(_smallest_int_dtype(lo, hi))})
            if L.sum_address.any():
                arrays[p + "sum_address"] = L.sum_address
            layers.append({"name": L.name, "kind": L.kind, "attrs": L.attrs})
        stages = {"encoder": None, "head": None, "argmax": bool(self.argmax)}
        if self.encoder is not None:
            feat, thr = self.encoder.flat()
            arrays["encoder_counts"] = self.encoder.counts
            arrays["encoder_thresholds"] = thr
            stages["encoder"] = {"kind": self.encoder.kind}
        if self.head is not None:
            arrays["head_groups"] = self.head.groups
            stages["head"] = {"kind": self.head.kind}
            if self.head.weights is not None:
                arrays["head_weights"] = self.head.weights
        version = 3 if any(L.sum_address.any() for L in self.layers) else 2
        if self.head is not None and self.head.weights is not None:
            version = 4
        header = {"format": FORMAT_NAME, "version": version, "n_inputs": self.n_inputs,
                  "input_quant": self.input_quant.to_json(), "output_quant": self.output_quant.to_json(),
                  "layers": layers, "stages": stages, "metadata": self.metadata}
        return arrays, header

    @staticmethod
    def _checksum(header: dict, arrays: dict) -> str:
        h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
        for k in sorted(arrays):
            a = np.ascontiguousarray(arrays[k])
            h.update(k.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
        return h.hexdigest()

    def save(self, path, overwrite: bool = False) -> Path:
        """Write the IR to ``path`` atomically; an existing file is kept unless ``overwrite``."""
        self.validate()
        arrays, header = self._arrays_and_header()
        header["checksum"] = self._checksum(header, arrays)
        blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, __header__=blob, **arrays)
        return atomic_write(path, write, overwrite)

    @classmethod
    def load(cls, path) -> NetworkIR:
        """Read an IR file (format version 1, 2 or 3); a newer version is refused with a clear error."""
        path = Path(path)
        if not path.is_file():
            raise IRFormatError(f"{path}: no such IR file")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zipfile.LargeZipFile,
                zlib.error) as e:
            raise IRFormatError(f"{path} is not a readable lutnet IR file (corrupt or truncated?): {e}") from None
        try:
            header = json.loads(arrays.pop("__header__").tobytes().decode())
        except (KeyError, ValueError, UnicodeDecodeError):
            raise IRFormatError(f"{path} has no lutnet IR header: not a file written by NetworkIR.save") from None
        if header.get("format") != FORMAT_NAME:
            raise IRFormatError(f"{path}: format {header.get('format')!r} is not {FORMAT_NAME!r}")
        version = header.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise IRFormatError(f"{path}: IR format version {version} is newer than this lutnet reads "
                                f"({FORMAT_VERSION}): upgrade lutnet")
        if version not in READ_VERSIONS:
            raise IRFormatError(
                f"{path}: IR format version {version!r} is not supported; this lutnet reads versions "
                f"{', '.join(map(str, READ_VERSIONS))}. Re-export the model with this lutnet (lutnet export)")
        stored = header.pop("checksum", None)
        if stored != cls._checksum(header, arrays):
            raise IRFormatError(f"{path}: checksum mismatch, the file is corrupt; re-export it")
        try:
            layers = []
            for i, meta in enumerate(header["layers"]):
                p = f"layer{i}_"
                layers.append(LayerIR(meta["name"], arrays[p + "indices"], arrays[p + "in_bits"],
                                      arrays[p + "in_signed"], arrays[p + "out_bits"], arrays[p + "out_signed"],
                                      arrays[p + "tables"], arrays[p + "offsets"], meta.get("kind", ""),
                                      meta.get("attrs", {}), arrays.get(p + "sum_address")))
            stages = header.get("stages") or {}
            encoder = head = None
            if stages.get("encoder") is not None:
                counts = arrays["encoder_counts"].astype(np.int64)
                bounds = np.concatenate([[0], np.cumsum(counts)])
                thr = arrays["encoder_thresholds"].astype(np.int64)
                encoder = ThermometerEncoder([thr[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
                                             stages["encoder"].get("kind", "thermometer"))
            if stages.get("head") is not None:
                head = GroupSum(arrays["head_groups"], stages["head"].get("kind", "groupsum"),
                                arrays.get("head_weights"))
        except KeyError as e:
            raise IRFormatError(f"{path}: the file lacks the array {e}; it is corrupt or not written by "
                                f"NetworkIR.save") from None
        ir = cls(QuantSpec.from_json(header["input_quant"]), header["n_inputs"], layers,
                 QuantSpec.from_json(header["output_quant"]), header.get("metadata", {}),
                 encoder, head, bool(stages.get("argmax", False)))
        try:
            return ir.validate()
        except IRFormatError as e:
            raise IRFormatError(f"{path}: {e}") from None
