"""Weightless table neurons (DWN), thermometer encoders, GroupSum heads and learnable mapping,
written once for every framework (numpy only; no framework import).

**Table neuron.**  A neuron reads ``F`` one-bit inputs; its parameter is a real vector ``w`` of
``2**F`` entries, one per table row.  The row address packs the input bits with input 0 in the least
significant bit (the IR's convention): ``addr = sum_j x_j << j``.  The neuron outputs the one-bit
code ``w[addr] > 0``, in training and in inference alike (an exact integer computation: the model
and its IR table, ``table_bits(w)``, agree bit for bit by construction).

**Gradients (Extended Finite Difference, DWN, Bacellar et al., ICML 2024).**  The output's
gradient reaches the table entry that was read (straight through: ``dL/dw[addr] += dL/dy``).  For
input bit ``j`` the gradient is a finite difference of the table along bit ``j``, averaged over
*all* rows, each weighted by its Hamming distance to the address read (bit ``j`` ignored):

    dy/dx_j = alpha * sum_{k: bit j of k = 0}  beta**H((k xor addr) without bit j) * (w~[k | 2**j] - w~[k])

with ``w~ = clip(w, -1, 1)`` and DWN's constants ``alpha = 0.5 * 0.75**(F-1)``, ``beta = 0.25 /
0.75``.  The sum is a fixed linear map of the table, so per layer and step it is computed once for
every possible address, ``G[o, j, a]`` (a ``2**F x 2**F`` matrix per input position, an einsum over
neurons: cost independent of the batch), and each sample's gradient is one gather ``G[o, j,
addr[b, o]]``.  No loop over neurons or rows.  The constant matrices come from :func:`efd_matrices`;
frontends only do the einsum and gathers with their own tensors.

**Learnable mapping.**  A neuron input slot ``(o, j)`` has a score per candidate input; the forward
reads the input of the highest score, distinct within a neuron (:func:`distinct_argmax`: slots are
resolved in order, an input already taken by an earlier slot of the same neuron is skipped); the
backward treats the selection as a linear map with weights ``softmax(scores / tau)`` (gradient to the
inputs) and gives the scores the gradient ``dL/d(selected) * x`` (DWN's learnable mapping).  Frozen,
the selection is the ``(out, F)`` connectivity index array saved with the weights.  On a CPU the
scores over *all* inputs of a wide layer cost ``out * F * in`` per sample (MNIST, 1000 neurons x 6 x
2352 bits: 2 s per batch of 128), so a slot may instead score ``K`` candidates
(:func:`draw_candidates`: its drawn input plus ``K - 1`` random others), ``out * F * K`` per sample.

**Thermometer encoder.**  Thresholds on the integer codes of the fixed-point input quantizer (the
raw integer the FPGA receives), fitted on the training split: :func:`fit_thresholds`.

**GroupSum head.**  ``groups[k]`` is the class of output ``k``; class scores are exact integer sums
(:func:`default_groups`, :func:`check_groups`).
"""
from __future__ import annotations

import numpy as np

from ..errors import LayerConfigError

MAX_ADDRESS_BITS = 16  # a table neuron's table has at most 2**16 rows by default
FIT_KINDS = ("quantile", "uniform")


# ---------------------------------------------------------------------- checks
def check_table_shape(where: str, fan_in: int, in_bits: int = 1, max_address_bits: int = MAX_ADDRESS_BITS) -> int:
    """Address bits of a table neuron (``fan_in * in_bits``), or one error naming the layer and parameter."""
    if int(fan_in) < 1:
        raise LayerConfigError(f"{where}: fan_in must be >= 1, got {fan_in}")
    if int(in_bits) != 1:
        raise LayerConfigError(f"{where}: in_bits={in_bits}: table neurons read one-bit inputs (thermometer bits "
                               f"or the one-bit outputs of another table layer); use in_bits=1")
    bits = int(fan_in) * int(in_bits)
    if bits > int(max_address_bits):
        raise LayerConfigError(f"{where}: fan_in={fan_in} gives {bits} address bits (2**{bits} table entries per "
                               f"neuron), more than max_address_bits={max_address_bits}; reduce fan_in or raise "
                               f"max_address_bits")
    return bits


def check_thresholds(where: str, thresholds, code_min: int, code_max: int, shape=None) -> np.ndarray:
    """``(n_features, z)`` int64 thresholds, strictly increasing per feature and inside the code range
    (and of ``shape`` when given), or one error naming the layer and the parameter ``thresholds``."""
    t = np.asarray(thresholds)
    if t.ndim != 2 or t.shape[1] < 1:
        raise LayerConfigError(f"{where}: thresholds must be a (features, bits_per_feature) array, got shape "
                               f"{t.shape}")
    if shape is not None and t.shape != tuple(shape):
        raise LayerConfigError(f"{where}: thresholds must have shape ({shape[0]}, {shape[1]}), got {t.shape}")
    if t.dtype.kind == "f" and not np.all(t == np.round(t)):
        raise LayerConfigError(f"{where}: thresholds must be integer input codes; got fractional values")
    t = t.astype(np.int64)
    bad = np.flatnonzero(np.any(np.diff(t, axis=1) <= 0, axis=1)) if t.shape[1] > 1 else np.zeros(0, np.int64)
    if bad.size:
        i = int(bad[0])
        raise LayerConfigError(f"{where}: thresholds of feature {i} are not strictly increasing ({t[i].tolist()}); "
                               f"give increasing integer codes per feature")
    if t.size and (t.min() < code_min or t.max() > code_max + 1):
        raise LayerConfigError(f"{where}: thresholds must lie in [{code_min}, {code_max + 1}] (the input codes); "
                               f"got [{int(t.min())}, {int(t.max())}]")
    return t


def default_groups(n_outputs: int, n_classes: int, where: str = "GroupSum") -> np.ndarray:
    """Output ``k`` belongs to class ``k // (n_outputs / n_classes)`` (DWN's contiguous groups)."""
    if n_classes < 1 or n_outputs % n_classes:
        raise LayerConfigError(f"{where}: n_classes={n_classes} does not divide the {n_outputs} outputs of the last "
                               f"layer into equal groups; give groups= explicitly or a multiple of n_classes outputs")
    return np.repeat(np.arange(n_classes, dtype=np.int64), n_outputs // n_classes)


def tiebreak_weights(groups: np.ndarray, tiebreak: int, where: str = "GroupSum") -> np.ndarray | None:
    """GroupSum weights for ``tiebreak``: 1 for the last ``tiebreak`` outputs of each class, 2 for the
    others (``None`` when ``tiebreak`` is 0: every weight 1)."""
    tiebreak = int(tiebreak)
    if not tiebreak:
        return None
    g = np.asarray(groups, np.int64)
    w = np.full(g.size, 2, np.int64)
    for c in range(int(g.max()) + 1):
        m = np.flatnonzero(g == c)
        if not 0 < tiebreak < m.size:
            raise LayerConfigError(f"{where}: tiebreak={tiebreak} must lie in 0..{m.size - 1} (class {c} has {m.size} "
                                   f"outputs; at least one must count in full)")
        w[m[-tiebreak:]] = 1
    return w


def check_groups(where: str, groups, n_outputs: int) -> np.ndarray:
    """``groups`` as (n_outputs,) int64 covering every output and every class 0..C-1, or one error
    naming the layer and the parameter ``groups``."""
    g = np.asarray(groups).reshape(-1)
    if g.size != n_outputs:
        raise LayerConfigError(f"{where}: groups has {g.size} entries but the last layer has {n_outputs} outputs; "
                               f"groups must give every output one class")
    if g.size and (g.dtype.kind not in "iu" or g.min() < 0):
        raise LayerConfigError(f"{where}: groups must be class indices >= 0; got {g[:10].tolist()}...")
    g = g.astype(np.int64)
    empty = np.flatnonzero(np.bincount(g, minlength=int(g.max()) + 1) == 0) if g.size else np.zeros(0)
    if empty.size:
        raise LayerConfigError(f"{where}: groups leave class {int(empty[0])} without outputs; every class "
                               f"0..{int(g.max())} needs at least one output")
    return g


# ---------------------------------------------------------------------- tables and addresses
def table_bits(w) -> np.ndarray:
    """The IR table of table neurons with parameters ``w`` (out, 2**F): one-bit codes ``w > 0``."""
    return (np.asarray(w) > 0).astype(np.int64)


def addresses(bits, conn) -> np.ndarray:
    """Row addresses (N, out) of one-bit inputs ``bits`` (N, in) through ``conn`` (out, F)."""
    b = np.asarray(bits, np.int64)
    conn = np.asarray(conn, np.int64)
    addr = np.zeros((b.shape[0], conn.shape[0]), np.int64)
    for j in range(conn.shape[1]):  # loop over fan-in positions only (F <= 16)
        addr |= b[:, conn[:, j]] << j
    return addr


def read_out(bits, conn, tbits) -> np.ndarray:
    """Output codes (N, out) of table neurons: ``tbits[o, addr[n, o]]``."""
    addr = addresses(bits, conn)
    return np.asarray(tbits)[np.arange(addr.shape[1])[None, :], addr]


# ---------------------------------------------------------------------- EFD
def efd_constants(fan_in: int) -> tuple[float, float]:
    """DWN's ``(alpha, beta)`` for ``fan_in`` inputs."""
    return 0.5 * 0.75 ** (fan_in - 1), 0.25 / 0.75


def efd_matrices(fan_in: int, alpha: float | None = None, beta: float | None = None):
    """``(M, hi, lo)``: ``M`` (F, R, R) float32 with ``M[j, a, k] = alpha * beta**H((a xor k) & ~2**j)``
    where bit ``j`` of ``k`` is 0 (else 0); ``hi[j, k] = k | 2**j``, ``lo[j, k] = k & ~2**j`` (F, R) int64.
    ``G[o, j, a] = sum_k M[j, a, k] * (w~[o, hi[j, k]] - w~[o, lo[j, k]])`` is the EFD input gradient."""
    a0, b0 = efd_constants(fan_in)
    alpha = a0 if alpha is None else float(alpha)
    beta = b0 if beta is None else float(beta)
    r = 1 << fan_in
    k = np.arange(r, dtype=np.int64)
    x = k[:, None] ^ k[None, :]  # (a, k)
    m = np.empty((fan_in, r, r), np.float64)
    hi = np.empty((fan_in, r), np.int64)
    lo = np.empty((fan_in, r), np.int64)
    pop = np.vectorize(lambda v: bin(int(v)).count("1"))
    for j in range(fan_in):
        d = pop(x & ~(1 << j))
        m[j] = alpha * beta ** d * (((k >> j) & 1) == 0)[None, :]
        hi[j], lo[j] = k | (1 << j), k & ~(1 << j)
    return m.astype(np.float32), hi, lo


def efd_grad_table(w, m, hi, lo) -> np.ndarray:
    """``G`` (out, F, R): the EFD derivative of each neuron's output by each input bit, for every
    address (numpy reference; frontends compute the same einsum on their tensors)."""
    wc = np.clip(np.asarray(w, np.float32), -1, 1)
    d = wc[:, hi] - wc[:, lo]  # (out, F, R)
    return np.einsum("ofk,fak->ofa", d, m)


def efd_input_grad(bits, conn, w, m, hi, lo, grad_y) -> np.ndarray:
    """dL/d(bits) (N, in) for table neurons (numpy reference of the frontends' backward)."""
    g = efd_grad_table(w, m, hi, lo)
    addr = addresses(bits, conn)
    o = np.arange(conn.shape[0])
    per = g[o[None, :, None], np.arange(conn.shape[1])[None, None, :], addr[:, :, None]]  # (N, out, F)
    per = per * np.asarray(grad_y)[:, :, None]
    out = np.zeros(np.asarray(bits).shape, np.float64)
    np.add.at(out, (np.arange(out.shape[0])[:, None, None], np.broadcast_to(conn, per.shape)), per)
    return out


# ---------------------------------------------------------------------- learnable mapping
MAPPING_GRADS = ("binary", "signed")
"""How a learnable mapping's score for candidate input ``i`` of a slot receives the gradient ``g`` of
that slot: ``binary`` ``sum_b x[b, i] * g[b]`` (the 0/1 bits), ``signed`` ``sum_b (2 x[b, i] - 1) * g[b]``
(DWN's ``LearnableMappingFunction``: a bit at 0 counts as -1, so inputs that are off when the slot
should be on are pushed down too)."""


def check_mapping_grad(where: str, grad) -> bool:
    """True for ``signed``, False for ``binary``; anything else is a :class:`LayerConfigError`."""
    if grad not in MAPPING_GRADS:
        raise LayerConfigError(f"{where}: mapping_grad must be one of {', '.join(MAPPING_GRADS)}, got {grad!r}")
    return grad == "signed"


def check_efd_beta(where: str, beta) -> float | None:
    """EFD's ``beta`` (the weight ``beta**d`` of the table entries at Hamming distance ``d`` in a
    table's input gradient) as a float in [0, 1], ``None`` (DWN's 1/3), or one error naming ``where``."""
    if beta is None:
        return None
    try:
        b = float(beta)
    except (TypeError, ValueError):
        b = float("nan")
    if not 0 <= b <= 1:
        raise LayerConfigError(f"{where}: beta (EFD) must lie in [0, 1], got {beta!r}")
    return b


def check_mapping_tau(where: str, tau) -> float:
    """The learnable mapping's softmax temperature as a float > 0, or one error naming ``where``."""
    try:
        t = float(tau)
    except (TypeError, ValueError):
        t = float("nan")
    if not t > 0:
        raise LayerConfigError(f"{where}: mapping_tau must be > 0, got {tau!r}")
    return t


def distinct_argmax(scores, candidates=None) -> np.ndarray:
    """(out, F) input indices: per neuron, slot ``j`` takes its highest-scoring candidate among those
    not taken by slots ``0..j-1``.  ``scores`` (out, F, K); ``candidates`` (out, F, K) input indices
    (None: candidate ``k`` is input ``k``).  Vectorized over neurons; loop over F."""
    s = np.asarray(scores, np.float32)
    out, fan_in, k = s.shape
    cand = np.broadcast_to(np.arange(k, dtype=np.int64), s.shape) if candidates is None else \
        np.asarray(candidates, np.int64)
    # fast path: every slot's own best; only neurons where two slots picked the same input need the
    # sequential rule (elsewhere it gives the same picks)
    best = np.argmax(s, axis=2)
    first = np.take_along_axis(cand, best[:, :, None], 2)[:, :, 0].astype(np.int64)
    srt = np.sort(first, axis=1)
    redo = (srt[:, 1:] == srt[:, :-1]).any(1) | ~np.isfinite(np.take_along_axis(s, best[:, :, None], 2)[:, :, 0]).all(1)
    rows = np.flatnonzero(redo)
    if rows.size:
        first[rows] = _distinct_argmax_seq(s[rows], cand[rows], rows)
    return first


def _distinct_argmax_seq(scores, cand, neurons) -> np.ndarray:
    """The sequential rule on the neurons ``neurons`` (their scores and candidates given)."""
    s = np.array(scores, np.float32, copy=True)
    out, fan_in, k = s.shape
    idx = np.empty((out, fan_in), np.int64)
    rows = np.arange(out)
    for j in range(fan_in):
        if j:
            taken = (cand[:, j, :, None] == idx[:, None, :j]).any(-1)  # (out, K)
            s[:, j][taken] = -np.inf
        best = np.argmax(s[:, j], axis=1)
        if not np.all(np.isfinite(s[rows, j, best])):
            o = int(neurons[np.flatnonzero(~np.isfinite(s[rows, j, best]))[0]])
            raise LayerConfigError(f"learnable mapping: neuron {o} slot {j} has no candidate input left; "
                                   f"give each slot more candidates than fan_in - 1")
        idx[:, j] = cand[rows, j, best]
    return idx


def softmax(scores, tau: float = 1.0, axis: int = -1) -> np.ndarray:
    z = np.asarray(scores, np.float64) / tau
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def draw_candidates(n_in: int, conn, n_candidates: int | None, seed: int) -> np.ndarray | None:
    """(out, F, K) candidate inputs per slot: the drawn wiring ``conn`` first, then ``K - 1`` other
    distinct inputs drawn at random; None (every input is a candidate) when ``n_candidates`` is None
    or covers all inputs."""
    conn = np.asarray(conn, np.int64)
    if n_candidates is None or n_candidates >= n_in:
        return None
    k = int(n_candidates)
    if k < conn.shape[1]:
        raise LayerConfigError(f"learnable mapping: mapping_candidates={k} must be >= fan_in={conn.shape[1]}")
    rng = np.random.default_rng(int(seed) + 104729)
    out, f = conn.shape
    # K - 1 distinct inputs from the n_in - 1 others: offsets 1..n_in-1 added to the wired input mod n_in
    keys = rng.random((out * f, n_in - 1), dtype=np.float32)
    off = np.argpartition(keys, k - 2, axis=1)[:, :k - 1] + 1 if k > 1 else np.zeros((out * f, 0), np.int64)
    others = (conn.reshape(-1, 1) + off) % n_in
    return np.concatenate([conn.reshape(-1, 1), others], 1).reshape(out, f, k).astype(np.int64)


def init_mapping_scores(out: int, fan_in: int, n_in: int, seed: int, conn=None, candidates=None) -> np.ndarray:
    """Initial scores (out, F, K): small normal noise, plus a lead of 1 for the inputs of ``conn``
    (a drawn connectivity) so the mapping starts from that wiring.  With ``candidates`` the wired
    input is candidate 0."""
    rng = np.random.default_rng(int(seed) + 7919)
    k = n_in if candidates is None else np.asarray(candidates).shape[2]
    s = rng.normal(0.0, 0.01, size=(out, fan_in, k)).astype(np.float32)
    if candidates is not None:
        s[:, :, 0] += 1.0
    elif conn is not None:
        conn = np.asarray(conn, np.int64)
        s[np.arange(out)[:, None], np.arange(fan_in)[None, :], conn] += 1.0
    return s


# ---------------------------------------------------------------------- thermometer
def fit_thresholds(codes, bits_per_feature: int, fit: str, code_min: int, code_max: int,
                   where: str = "Thermometer", threshold_bits: int | None = None) -> np.ndarray:
    """(features, z) strictly increasing int64 thresholds on integer input codes (N, features) of the
    training split.  ``quantile`` (distributive thermometer): threshold ``j`` is the (j+1)/(z+1)
    quantile of the feature's training codes; ``uniform``: evenly spaced over the code range.  Each
    threshold lies in ``(code_min, code_max]`` (a real comparator); ties are pushed apart so every
    feature's thresholds increase strictly.

    ``threshold_bits = k`` (cheap comparators): every threshold is a multiple of ``2**(B - k)`` above
    ``code_min`` (``B`` = input code bits), the grid point nearest the fitted one, so ``x >= T``
    depends on the top ``k`` bits of the code only (``k = 1``: the comparator is the top bit, a wire;
    ``k = 2`` on 8 bits: thresholds among 64, 128, 192).  Needs ``bits_per_feature < 2**k``.  The IR
    semantics are unchanged: thresholds are integers."""
    z = int(bits_per_feature)
    if z < 1:
        raise LayerConfigError(f"{where}: bits_per_feature must be >= 1, got {bits_per_feature}")
    if z > code_max - code_min:
        raise LayerConfigError(f"{where}: bits_per_feature={z} needs more distinct thresholds than the "
                               f"{code_max - code_min + 1} input codes allow; lower it or widen the input quantizer")
    if fit not in FIT_KINDS:
        raise LayerConfigError(f"{where}: fit must be one of {', '.join(FIT_KINDS)}, got {fit!r}")
    codes = np.asarray(codes, np.int64)
    q = np.arange(1, z + 1) / (z + 1)
    if fit == "quantile":
        if not len(codes):
            raise LayerConfigError(f"{where}: fit='quantile' needs training data")
        t = np.ceil(np.quantile(codes.astype(np.float64), q, axis=0).T).astype(np.int64)  # (features, z)
    else:
        t = np.broadcast_to(np.round(code_min + q * (code_max - code_min + 1)).astype(np.int64),
                            (codes.shape[1], z)).copy()
    if threshold_bits is not None:
        return _grid_thresholds(t, z, int(threshold_bits), code_min, code_max, where)
    t = np.clip(t, code_min + 1, code_max)
    for j in range(1, z):  # strictly increasing, upwards ...
        t[:, j] = np.maximum(t[:, j], t[:, j - 1] + 1)
    t[:, z - 1] = np.minimum(t[:, z - 1], code_max)  # ... and inside the range, downwards
    for j in range(z - 2, -1, -1):
        t[:, j] = np.minimum(t[:, j], t[:, j + 1] - 1)
    return t


def _grid_thresholds(t, z: int, k: int, code_min: int, code_max: int, where: str) -> np.ndarray:
    """Thresholds ``t`` (features, z) moved to the nearest point of the grid ``code_min + i * step``
    (``step = 2**(B - k)``, ``i = 1 .. 2**k - 1``), strictly increasing per feature."""
    n_codes = code_max - code_min + 1
    bits = int(n_codes - 1).bit_length()
    if not 1 <= k <= bits:
        raise LayerConfigError(f"{where}: threshold_bits={k} must lie in 1..{bits} (the input code bits)")
    n_grid = (1 << k) - 1
    if z > n_grid:
        raise LayerConfigError(f"{where}: bits_per_feature={z} needs more thresholds than threshold_bits={k} allows "
                               f"({n_grid}); raise threshold_bits or lower bits_per_feature")
    step = 1 << (bits - k)
    g = np.clip(np.round((t - code_min) / step).astype(np.int64), 1, n_grid)
    for j in range(1, z):  # strictly increasing grid indices, upwards, then inside the grid, downwards
        g[:, j] = np.maximum(g[:, j], g[:, j - 1] + 1)
    g[:, z - 1] = np.minimum(g[:, z - 1], n_grid)
    for j in range(z - 2, -1, -1):
        g[:, j] = np.minimum(g[:, j], g[:, j + 1] - 1)
    return code_min + g * step


def thermometer_bits(codes, thresholds) -> np.ndarray:
    """(N, features) codes -> (N, features * z) bits, feature by feature, thresholds ascending."""
    c = np.asarray(codes, np.int64)
    t = np.asarray(thresholds, np.int64)
    return (c[:, :, None] >= t[None, :, :]).reshape(c.shape[0], -1).astype(np.int64)


class ThermometerBase:
    """The framework-neutral part of a thermometer encoder layer (both frontends' ``Thermometer``):
    the fixed-point input quantizer (``input_bits``, ``signed``, ``scale``, ``zero_point``: the raw
    integer the FPGA receives), the threshold check and fit, the bits and the IR encoder.  A frontend
    class calls :meth:`_init_encoder` once its framework base is initialised, and stores the (features,
    z) int64 thresholds its own way: ``_store_thresholds(t)``, ``_thresholds()`` (numpy), ``fitted``."""

    def _init_encoder(self, where: str, in_features: int, bits_per_feature: int, fit: str, input_bits: int,
                      signed: bool, scale: float, zero_point: float, threshold_bits: int | None):
        from ..ir import QuantSpec
        self.where = where
        if fit not in FIT_KINDS:
            raise LayerConfigError(f"{where}: fit must be one of {', '.join(FIT_KINDS)}, got {fit!r}")
        self.in_features, self.bits_per_feature, self.fit_kind = int(in_features), int(bits_per_feature), fit
        self.threshold_bits = None if threshold_bits is None else int(threshold_bits)
        self.quant = QuantSpec(input_bits, signed, np.float32(scale), np.float32(zero_point))

    def _init_thresholds(self, thresholds):
        """Given thresholds, or the ``uniform`` ones (they need no data); ``quantile`` waits for :meth:`fit`."""
        if thresholds is not None:
            self.set_thresholds(thresholds)
        elif self.fit_kind == "uniform":
            self.fit(np.zeros((0, self.in_features), np.float32))

    @property
    def out_features(self) -> int:
        return self.in_features * self.bits_per_feature

    def set_thresholds(self, thresholds):
        self._store_thresholds(check_thresholds(self.where, thresholds, self.quant.code_min, self.quant.code_max,
                                                (self.in_features, self.bits_per_feature)))

    def codes(self, x) -> np.ndarray:
        from .inputs import check_features
        return self.quant.to_codes(check_features(x, self.in_features)[0])

    def fit(self, X_train):
        """Fit the thresholds on training features (never validation or test data)."""
        codes = self.codes(X_train) if len(X_train) else np.zeros((0, self.in_features), np.int64)
        self.set_thresholds(fit_thresholds(codes, self.bits_per_feature, self.fit_kind, self.quant.code_min,
                                           self.quant.code_max, self.where, self.threshold_bits))
        return self

    def encode(self, x) -> np.ndarray:
        """(N, features) inputs -> (N, features * z) float32 bits."""
        if not self.fitted:
            raise LayerConfigError(f"{self.where}: thresholds are not fitted; call .fit(X_train) (fit_dwn does) or "
                                   f"pass thresholds=")
        return thermometer_bits(self.codes(x), self._thresholds()).astype(np.float32)

    def to_ir(self):
        from ..ir import ThermometerEncoder
        return ThermometerEncoder(list(self._thresholds()))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, bits_per_feature={self.bits_per_feature}, fit={self.fit_kind!r}, "
                f"input_bits={self.quant.bits}" + (f", threshold_bits={self.threshold_bits}"
                                                   if self.threshold_bits is not None else ""))


# ---------------------------------------------------------------------- config
def dwn_spec(cfg) -> dict:
    """What a :class:`lutnet.config.ModelConfig` with ``encoder`` and ``head`` builds, for every
    framework: ``{"encoder": Thermometer keyword arguments but in_features, "layers": [TableLayer
    keyword arguments, with out_features], "head": n_classes/tau/argmax}`` (fan-ins and seeds by the
    config's plan rules; a layer's ``mapping`` is ``"learnable"`` or its connectivity kind)."""
    from ..errors import ConfigError
    from .plan import layer_fan_in, layer_seed
    e, h = cfg.encoder, cfg.head
    if e is None or h is None:
        raise ConfigError("model: a table-neuron model needs model.encoder and model.head")
    q = 2 ** (cfg.input_bits - 1) if cfg.input_signed else 2 ** cfg.input_bits - 1
    layers = []
    for i, lc in enumerate(cfg.layers):
        mapping = lc.mapping or cfg.mapping
        layers.append({"out_features": lc.out_features, "fan_in": layer_fan_in(cfg, i), "seed": layer_seed(cfg, i),
                       "mapping": "learnable" if mapping == "learnable" else (lc.connectivity or cfg.connectivity),
                       "name": f"layer{i}", "mapping_candidates": cfg.mapping_candidates,
                       "clamp": bool(getattr(cfg, "clamp_tables", False)),
                       "mapping_grad": getattr(cfg, "mapping_grad", "binary"),
                       "mapping_tau": float(getattr(cfg, "mapping_tau", 1.0)),
                       "beta": getattr(cfg, "efd_beta", None)})
    return {"encoder": {"bits_per_feature": e.bits_per_feature, "fit": e.fit, "input_bits": cfg.input_bits,
                        "signed": cfg.input_signed, "scale": float(cfg.input_range) / q},
            "layers": layers, "head": {"n_classes": h.classes, "tau": h.tau, "argmax": h.argmax,
                                       "tiebreak": int(getattr(h, "tiebreak", 0))}}


# ---------------------------------------------------------------------- dead-logic removal
class PruneUnused:
    """IR transformation: drop the logic nothing reads.  Walking back from the last layer, table
    neurons of a hidden layer that no neuron of the next layer reads are removed (the next layer's
    indices renumbered), and thermometer bits that layer 0 does not read are removed from the
    encoder (a feature left without a read bit keeps one constant threshold ``code_max + 1``: no
    comparator, no logic).  The outputs (head scores, argmax) are unchanged for every input; only
    the hidden codes of removed neurons disappear.  ``PruneUnused()(ir)`` returns a new, validated
    :class:`~lutnet.ir.NetworkIR`; ``metadata["pruned"]`` counts what was removed per stage."""

    def __call__(self, ir):
        import dataclasses
        layers = list(ir.layers)
        removed = {}
        for i in range(len(layers) - 1, 0, -1):
            n_src = layers[i - 1].out_features
            keep = _read_sources(layers[i])
            if keep.size < n_src:
                removed[layers[i - 1].name] = int(n_src - keep.size)
                layers[i - 1] = _take_neurons(layers[i - 1], keep)
                new_pos = np.full(n_src, -1, np.int64)
                new_pos[keep] = np.arange(keep.size)
                layers[i] = _renumber(layers[i], new_pos)
        encoder = ir.encoder
        if encoder is not None:
            feat, thr = encoder.flat()
            keep = _read_sources(layers[0])
            if keep.size < len(thr):
                removed["encoder"] = int(len(thr) - keep.size)
                empty = np.flatnonzero(np.bincount(feat[keep], minlength=encoder.n_features) == 0)
                f_all = np.concatenate([feat[keep], empty])  # a constant placeholder for each feature left empty
                t_all = np.concatenate([thr[keep], np.full(empty.size, ir.input_quant.code_max + 1, np.int64)])
                order = np.lexsort((t_all, f_all))  # new flat order: feature, then threshold
                inv = np.empty_like(order)
                inv[order] = np.arange(order.size)
                starts = np.searchsorted(f_all[order], np.arange(encoder.n_features + 1))
                t_sorted = t_all[order]
                encoder = dataclasses.replace(encoder, thresholds=[t_sorted[starts[j]:starts[j + 1]]
                                                                   for j in range(encoder.n_features)])
                new_pos = np.full(len(thr), -1, np.int64)
                new_pos[keep] = inv[:keep.size]
                layers[0] = _renumber(layers[0], new_pos)
        meta = dict(ir.metadata)
        meta["pruned"] = removed
        return dataclasses.replace(ir, layers=layers, encoder=encoder, metadata=meta).validate()


def _read_sources(layer) -> np.ndarray:
    """Sorted source indices a layer reads (padding ``-1`` ignored)."""
    idx = np.asarray(layer.indices)
    return np.unique(idx[idx >= 0])


def _renumber(layer, new_pos):
    import dataclasses
    idx = np.asarray(layer.indices)
    return dataclasses.replace(layer, indices=np.where(idx >= 0, new_pos[np.maximum(idx, 0)], -1))


def _take_neurons(layer, keep):
    """The layer with neurons ``keep`` only: every per-neuron array indexed, tables gathered by
    offsets (no loop over neurons)."""
    import dataclasses
    n = layer.out_features
    rows = np.diff(layer.offsets)[keep]
    offsets = np.concatenate([[0], np.cumsum(rows)]).astype(np.int64)
    gather = np.repeat(layer.offsets[keep], rows) + np.arange(int(rows.sum())) - np.repeat(offsets[:-1], rows)
    per_neuron = {f.name: getattr(layer, f.name)[keep] for f in dataclasses.fields(layer)
                  if f.name not in ("tables", "offsets") and isinstance(getattr(layer, f.name), np.ndarray)
                  and getattr(layer, f.name).ndim and getattr(layer, f.name).shape[0] == n}
    return dataclasses.replace(layer, tables=layer.tables[gather], offsets=offsets, **per_neuron)
