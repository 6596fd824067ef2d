"""``check_levels``: run a LUT network at several levels on the same input codes and compare every
level with the IR evaluator, locating the first disagreement (layer, neuron, sample) and shrinking
the failing input vector."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..ir import NetworkIR
from .levels import Level, LevelOutput, ir_level, ir_of_model, make_level

DEFAULT_LEVELS = ("model", "ir", "onnx", "cpp", "verilog")


@dataclass
class Mismatch:
    """Where a level first disagrees with the IR evaluator.

    ``layer``/``neuron``: the first layer (in network order) with a differing output, and the neuron
    differing in its first failing sample; for levels exposing only the final outputs, the last layer
    (or stage).  After the table layers come the IR's stages, named ``"head"`` (class ``neuron``'s
    score) and ``"argmax"``.
    ``vector``: a failing input vector, shrunk (inputs set to 0 / the code nearest 0 while it still
    fails); ``got``/``want``: that neuron's output on ``vector``."""

    level: str
    layer: int | str
    neuron: int
    sample: int
    vector: list
    got: int
    want: int
    n_samples: int                 # samples with any differing output at this level
    per_layer: bool                # True when the level exposed every layer's codes

    def __str__(self):
        where = ("input quantizer" if self.layer == "input" else
                 f"stage {self.layer}" if isinstance(self.layer, str) else f"layer {self.layer}")
        scope = "" if self.per_layer else " (final outputs only)"
        return (f"level {self.level!r}: {self.n_samples} sample(s) differ; first at {where}, neuron "
                f"{self.neuron}{scope}: got {self.got}, IR gives {self.want}; smallest failing input "
                f"vector {self.vector} (sample {self.sample})")


@dataclass
class Report:
    network: str
    n_vectors: int
    levels: list
    mismatches: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.errors

    def mismatch_counts(self) -> dict:
        counts = {lv: 0 for lv in self.levels}
        for m in self.mismatches:
            counts[m.level] = m.n_samples
        return counts

    def __str__(self):
        head = (f"{self.network}: {self.n_vectors} vectors at levels {', '.join(self.levels)}: "
                f"{'all agree with the IR' if self.ok else 'MISMATCH'}")
        lines = [head] + [f"  {m}" for m in self.mismatches]
        lines += [f"  level {k!r} failed: {v}" for k, v in self.errors.items()]
        return "\n".join(lines)


def _first_diff(ref_layers, out: LevelOutput, codes):
    """(layer, neuron, sample, per_layer, n_samples) of the first disagreement, or None."""
    if out.input_codes is not None:
        bad = np.any(out.input_codes != codes, axis=1)
        if bad.any():
            s = int(np.argmax(bad))
            k = int(np.argmax(out.input_codes[s] != codes[s]))
            return "input", k, s, True, int(bad.sum())
    final_bad = np.any(np.asarray(out.final).reshape(ref_layers[-1].shape) != ref_layers[-1], axis=1)
    if out.layers is not None:
        for li, (r, g) in enumerate(zip(ref_layers, out.layers)):
            bad = np.any(np.asarray(g) != r, axis=1)
            if bad.any():
                s = int(np.argmax(bad))
                k = int(np.argmax(np.asarray(g)[s] != r[s]))
                return li, k, s, True, int((bad | final_bad).sum())
        return None
    if final_bad.any():
        s = int(np.argmax(final_bad))
        k = int(np.argmax(np.asarray(out.final)[s] != ref_layers[-1][s]))
        return len(ref_layers) - 1, k, s, False, int(final_bad.sum())
    return None


def _fails(ir: NetworkIR, level: Level, vectors: np.ndarray) -> np.ndarray:
    ref = ir.evaluate(vectors, return_all=True)
    out = level.run(vectors)
    bad = np.any(np.asarray(out.final).reshape(ref[-1].shape) != ref[-1], axis=1)
    if out.layers is not None:
        for r, g in zip(ref, out.layers):
            bad |= np.any(np.asarray(g) != r, axis=1)
    if out.input_codes is not None:
        bad |= np.any(out.input_codes != vectors, axis=1)
    return bad


def shrink_vector(ir: NetworkIR, level: Level, vector, max_passes: int = 64) -> np.ndarray:
    """Greedy shrinking of a failing vector: set inputs to the code nearest 0 (then halve them
    towards 0) while the level still disagrees; every pass is one batched run of the level."""
    v = np.asarray(vector, np.int64).copy()
    zero = int(np.clip(0, ir.input_quant.code_min, ir.input_quant.code_max))
    for _ in range(max_passes):
        cands = []
        for i in range(len(v)):
            for c in (zero, int(np.trunc(v[i] / 2))):
                if c != v[i] and ir.input_quant.code_min <= c <= ir.input_quant.code_max:
                    w = v.copy()
                    w[i] = c
                    cands.append(w)
        if not cands:
            break
        bad = _fails(ir, level, np.array(cands))
        if not bad.any():
            break
        v = np.array(cands)[int(np.argmax(bad))]
    return v


def check_levels(ir_or_model, codes, levels=DEFAULT_LEVELS, *, work_dir=None, extra_levels=(),
                 shrink: bool = True, name: str | None = None, **level_opts) -> Report:
    """Run ``ir_or_model`` (a NetworkIR, a Brevitas LUTNet or a QKeras LUT model) at each of
    ``levels`` on input ``codes`` (N, n_inputs) and compare with the IR evaluator.  ``model`` is
    skipped for a bare IR.  ``extra_levels``: ready-made :class:`Level` objects (e.g. a deliberately
    broken one).  ``level_opts`` go to :func:`make_level` (``cflags``, ``lint``, ``pipeline``,
    ``input_reg``, ``output_reg``, ``table_style``).  A level that raises is recorded in
    ``Report.errors`` (the report is then not ``ok``)."""
    if isinstance(ir_or_model, NetworkIR):
        ir, model = ir_or_model, None
        levels = [lv for lv in levels if lv != "model"]
    else:
        model = ir_or_model
        ir = ir_of_model(model)
    codes = np.asarray(codes, np.int64)
    ref = ir.evaluate(codes, return_all=True)
    report = Report(name or str(ir.metadata.get("name", "network")), len(codes),
                    list(levels) + [lv.name for lv in extra_levels])
    built = []
    for lv in levels:
        t0 = time.perf_counter()
        try:
            built.append(ir_level(ir) if lv == "ir" else
                         make_level(lv, ir, model=model, work_dir=work_dir, **level_opts))
        except Exception as e:  # noqa: BLE001 - reported, not swallowed: the report is not ok
            report.errors[lv] = f"{type(e).__name__}: {e}"
        report.seconds[lv] = time.perf_counter() - t0
    for level in [*built, *extra_levels]:
        t0 = time.perf_counter()
        try:
            out = level.run(codes)
        except Exception as e:  # noqa: BLE001
            report.errors[level.name] = f"{type(e).__name__}: {e}"
            continue
        finally:
            report.seconds[level.name] = report.seconds.get(level.name, 0.0) + time.perf_counter() - t0
        d = _first_diff(ref, out, codes)
        if d is None:
            continue
        layer, k, s, per_layer, n_bad = d
        vec = shrink_vector(ir, level, codes[s]) if shrink else codes[s]
        o = level.run(vec[None, :])
        r = ir.evaluate(vec[None, :], return_all=True)
        if layer == "input":
            got, want = int(o.input_codes[0, k]), int(vec[k])
        elif per_layer:
            got, want = int(np.asarray(o.layers[layer])[0, k]), int(r[layer][0, k])
        else:
            got, want = int(np.asarray(o.final).reshape(1, -1)[0, k]), int(r[-1][0, k])
        if got == want and shrink:  # the shrunk vector fails elsewhere: relocate on it
            d2 = _first_diff(r, o, vec[None, :])
            if d2 is not None:
                layer, k = d2[0], d2[1]
                src = o.layers[layer] if d2[3] and layer != "input" else o.final
                got = int(np.asarray(src).reshape(1, -1)[0, k]) if layer != "input" else int(o.input_codes[0, k])
                want = int(r[layer][0, k]) if layer != "input" else int(vec[k])
        if isinstance(layer, int) and layer >= len(ir.layers):  # the head's scores or the argmax
            layer = [st for st in ("head", "argmax") if st in ir.stages][layer - len(ir.layers)]
        report.mismatches.append(Mismatch(level.name, layer, k, s, vec.tolist(), got, want, n_bad, per_layer))
    return report
