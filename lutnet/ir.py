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
* Layer ``l`` neurons index into the outputs of layer ``l-1`` (layer 0 into the network inputs).
* Class scores are the last layer's codes dequantized with ``output_quant``; the predicted class
  is the first index of the maximum.

Files: a zip (``numpy.savez_compressed``) holding the arrays and a JSON header with the format name,
version and a SHA-256 checksum over header and arrays.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._files import atomic_write
from .errors import IRFormatError

FORMAT_NAME = "lutnet-ir"
FORMAT_VERSION = 1


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

    def __post_init__(self):
        self.indices = np.asarray(self.indices, dtype=np.int64).reshape(len(self.indices), -1)
        self.in_bits = np.asarray(self.in_bits, dtype=np.int64).reshape(self.indices.shape)
        self.in_signed = np.asarray(self.in_signed, dtype=bool).reshape(self.indices.shape)
        self.out_bits = np.asarray(self.out_bits, dtype=np.int64).reshape(-1)
        self.out_signed = np.asarray(self.out_signed, dtype=bool).reshape(-1)
        self.tables = np.asarray(self.tables)
        self.offsets = np.asarray(self.offsets, dtype=np.int64).reshape(-1)

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

    @property
    def address_bits(self) -> np.ndarray:
        return self.in_bits.sum(axis=1)

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
        idx = np.where(self.indices >= 0, self.indices, 0)
        mask = (np.left_shift(1, self.in_bits) - 1).astype(np.int32)  # 0 for padded inputs
        shifts = self.shifts().astype(np.int32)
        addr = np.empty((self.out_features, codes_t.shape[1]),
                        np.int64 if self.tables.size >= (1 << 31) else np.int32)
        addr[:] = self.offsets[:-1, None]  # each neuron's table starts at its offset
        for j in range(idx.shape[1]):  # loop over fan-in positions (F <= ~16), vectorized over out x N
            addr += np.left_shift(np.bitwise_and(codes_t[idx[:, j]], mask[:, j, None]), shifts[:, j, None])
        return self.tables[addr]

    def lut_cost(self) -> float:
        return float(lut_cost(self.address_bits, self.out_bits).sum())


def _smallest_int_dtype(lo: int, hi: int):
    for dt in (np.int8, np.int16, np.int32):
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return dt
    return np.int64


@dataclass
class NetworkIR:
    """A LUT network: an input quantizer, ordered layers, and the output scale for class scores."""

    input_quant: QuantSpec
    n_inputs: int
    layers: list
    output_quant: QuantSpec
    metadata: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- evaluation
    @property
    def n_outputs(self) -> int:
        return self.layers[-1].out_features

    def quantize_input(self, x) -> np.ndarray:
        """Input codes of float features (N, n_inputs); one 1-D sample gives one 1-D row of codes.
        Checked by :func:`lutnet.core.inputs.check_features` (NaN, feature count)."""
        from .core.inputs import check_features
        a, single = check_features(x, self.n_inputs)
        codes = self.input_quant.to_codes(a)
        return codes[0] if single else codes

    def evaluate(self, codes, return_all: bool = False, chunk: int = 65536):
        """Output codes (N, n_outputs) for input codes (N, n_inputs). With ``return_all``, the list
        of every layer's output codes.  Codes are checked by :func:`lutnet.core.inputs.check_codes`
        (integers inside the input encoding); one 1-D sample gives 1-D results."""
        from .core.inputs import check_quant_codes
        codes, single = check_quant_codes(codes, self.n_inputs, self.input_quant)
        outs = [[] for _ in self.layers]
        for s in range(0, max(len(codes), 1), chunk):
            c = np.ascontiguousarray(codes[s:s + chunk].T, dtype=np.int32)  # feature-major
            for i, layer in enumerate(self.layers):
                c = layer.evaluate_t(c).astype(np.int32)
                if return_all or i == len(self.layers) - 1:
                    outs[i].append(c.T.astype(np.int64))
        outs = [np.concatenate(o) if o else np.zeros((0, l.out_features), np.int64)
                for o, l in zip(outs, self.layers)]
        if single:
            outs = [o[0] if len(o) else o for o in outs]
        return outs if return_all else outs[-1]

    def scores(self, out_codes) -> np.ndarray:
        return self.output_quant.to_values(out_codes)

    def predict(self, x) -> np.ndarray:
        """Class indices for float inputs (quantize, evaluate, argmax); one 1-D sample gives one index."""
        codes = self.quantize_input(x)
        return np.argmax(self.evaluate(codes), axis=-1)

    # ---------------------------------------------------------------- checks
    def validate(self) -> NetworkIR:
        """Check that widths, indices and tables agree; raise IRFormatError naming the layer."""
        if self.input_quant.scale.size not in (1, self.n_inputs):
            raise IRFormatError(f"input_quant.scale has {self.input_quant.scale.size} entries; "
                                f"expected 1 or n_inputs={self.n_inputs}")
        src_bits = np.full(self.n_inputs, self.input_quant.bits)
        src_signed = np.full(self.n_inputs, self.input_quant.signed)
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
            if len(L.offsets) != L.out_features + 1 or L.offsets[0] != 0 or L.offsets[-1] != L.tables.size:
                raise IRFormatError(f"{where}: table offsets do not cover the table array")
            rows = np.left_shift(np.int64(1), L.address_bits)
            if not np.array_equal(L.table_rows, rows):
                k = int(np.argmax(L.table_rows != rows))
                raise IRFormatError(
                    f"{where}: neuron {k} has a table of {L.table_rows[k]} rows, but its inputs have "
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
        if not (np.all(last.out_bits == self.output_quant.bits)
                and np.all(last.out_signed == self.output_quant.signed)):
            raise IRFormatError("output_quant's encoding disagrees with the last layer's outputs")
        return self

    # ---------------------------------------------------------------- summary
    def summary(self) -> list[dict]:
        rows = []
        for L in self.layers:
            rows.append({"layer": L.name, "kind": L.kind, "neurons": L.out_features,
                         "fan_in": int(L.fan_in.max()) if L.out_features else 0,
                         "in_bits": int(L.in_bits.max()) if L.in_bits.size else 0,
                         "out_bits": int(L.out_bits.max()),
                         "address_bits": int(L.address_bits.max()),
                         "table_rows": int(L.table_rows.sum()),
                         "lut_cost": L.lut_cost()})
        return rows

    def lut_cost(self) -> float:
        return sum(L.lut_cost() for L in self.layers)

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
            layers.append({"name": L.name, "kind": L.kind, "attrs": L.attrs})
        header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "n_inputs": self.n_inputs,
                  "input_quant": self.input_quant.to_json(), "output_quant": self.output_quant.to_json(),
                  "layers": layers, "metadata": self.metadata}
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
        path = Path(path)
        if not path.is_file():
            raise IRFormatError(f"{path}: no such IR file")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zipfile.LargeZipFile) as e:
            raise IRFormatError(f"{path} is not a readable lutnet IR file (corrupt or truncated?): {e}") from None
        try:
            header = json.loads(arrays.pop("__header__").tobytes().decode())
        except (KeyError, ValueError, UnicodeDecodeError):
            raise IRFormatError(f"{path} has no lutnet IR header: not a file written by NetworkIR.save") from None
        if header.get("format") != FORMAT_NAME:
            raise IRFormatError(f"{path}: format {header.get('format')!r} is not {FORMAT_NAME!r}")
        if header.get("version") != FORMAT_VERSION:
            raise IRFormatError(
                f"{path}: IR format version {header.get('version')} is not supported; this lutnet reads "
                f"version {FORMAT_VERSION}. Re-export the model with this lutnet (lutnet export)")
        stored = header.pop("checksum", None)
        if stored != cls._checksum(header, arrays):
            raise IRFormatError(f"{path}: checksum mismatch, the file is corrupt; re-export it")
        layers = []
        for i, meta in enumerate(header["layers"]):
            p = f"layer{i}_"
            layers.append(LayerIR(meta["name"], arrays[p + "indices"], arrays[p + "in_bits"],
                                  arrays[p + "in_signed"], arrays[p + "out_bits"], arrays[p + "out_signed"],
                                  arrays[p + "tables"], arrays[p + "offsets"], meta.get("kind", ""),
                                  meta.get("attrs", {})))
        ir = cls(QuantSpec.from_json(header["input_quant"]), header["n_inputs"], layers,
                 QuantSpec.from_json(header["output_quant"]), header.get("metadata", {}))
        return ir.validate()
