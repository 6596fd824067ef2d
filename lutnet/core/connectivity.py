"""Which inputs each neuron of a LUT layer reads (numpy only; both frameworks draw here).

A drawn connectivity is an ``(out_features, fan_in)`` int64 array: ``"random"`` (each neuron draws
its inputs independently) or ``"balanced"`` (inputs dealt from shuffled decks: every input read
equally often, +-1; a tree when ``out_features * fan_in <= len(pool)``), from all inputs or from an
``input_pool``.  Checkpoints store the drawn array, so a loaded model never redraws.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..errors import LayerConfigError


def _uniform_keys(seed: int, n: int) -> np.ndarray:
    """``n`` integers in [0, 2**24): the 24-bit mantissas of ``torch.rand(n)`` under
    ``torch.Generator().manual_seed(seed)`` (MT19937 seeded with the low 32 bits of ``seed``, each
    32-bit output masked to 24 bits), so draws made before lutnet.core existed are kept."""
    state = np.random.RandomState(int(seed) & 0xFFFFFFFF).get_state()
    gen = np.random.MT19937()
    gen.state = {"bit_generator": "MT19937", "state": {"key": state[1], "pos": state[2]}}
    return (gen.random_raw(n) & 0xFFFFFF).astype(np.int64)


def random_connectivity(in_features: int, out_features: int, fan_in: int, seed: int, pool=None) -> np.ndarray:
    """Each neuron reads ``fan_in`` distinct inputs drawn uniformly from ``pool`` (default: all
    ``in_features`` inputs), independently of the other neurons (seeded, reproducible).  Neuron k
    takes the inputs of the ``fan_in`` smallest of ``len(pool)`` uniform keys (ties: lower index)."""
    cand = np.arange(in_features) if pool is None else np.asarray(pool, dtype=np.int64)
    keys = _uniform_keys(seed, out_features * len(cand)).reshape(out_features, len(cand))
    pick = np.argsort(keys, axis=1, kind="stable")[:, :fan_in]
    return np.ascontiguousarray(cand[pick], dtype=np.int64)


def balanced_connectivity(in_features: int, out_features: int, fan_in: int, seed: int, pool=None) -> np.ndarray:
    """Neurons take their ``fan_in`` distinct inputs in turn from a queue of shuffled copies of
    ``pool`` (default: all inputs): every input is read by as many neurons as any other, +-1, and
    when ``out_features * fan_in <= len(pool)`` no input is read twice (a tree).  An input that a
    neuron already reads is put back at the front of the queue for the next neuron."""
    cand = np.arange(in_features) if pool is None else np.asarray(pool, dtype=np.int64)
    rng = np.random.default_rng(int(seed))
    queue: deque = deque()
    rows = np.empty((out_features, fan_in), dtype=np.int64)
    for k in range(out_features):
        row, skipped = [], []
        while len(row) < fan_in:
            if not queue:
                queue.extend(rng.permutation(cand).tolist())
            c = queue.popleft()
            (skipped if c in row else row).append(c)
        queue.extendleft(reversed(skipped))
        rows[k] = row
    return rows


CONNECTIVITY = {"random": random_connectivity, "balanced": balanced_connectivity}
CONNECTIVITY_KINDS = tuple(CONNECTIVITY)


def check_fan_in(where: str, fan_in: int, in_features: int) -> None:
    if fan_in < 1:
        raise LayerConfigError(f"{where}: fan_in must be >= 1, got {fan_in}")
    if fan_in > in_features:
        raise LayerConfigError(f"{where}: fan_in={fan_in} is larger than in_features={in_features} "
                               f"(the width of the previous layer); use fan_in <= {in_features}")


def check_input_pool(where: str, input_pool, in_features: int, fan_in: int):
    """The pool as sorted unique int64 indices (None stays None), or an error naming the layer."""
    if input_pool is None:
        return None
    pool = np.unique(np.asarray(input_pool, dtype=np.int64))
    if pool.size and (pool.min() < 0 or pool.max() >= in_features):
        raise LayerConfigError(f"{where}: input_pool indices must lie in 0..{in_features - 1}")
    if pool.size < fan_in:
        raise LayerConfigError(f"{where}: input_pool has {pool.size} inputs but fan_in={fan_in}; "
                               f"give a larger pool or a smaller fan_in")
    return pool


def check_connectivity(where: str, conn, out_features: int, fan_in: int, in_features: int) -> np.ndarray:
    """An explicit index array, checked: shape, range, no input twice in a neuron."""
    conn = np.asarray(conn, dtype=np.int64)
    if conn.shape != (out_features, fan_in):
        raise LayerConfigError(f"{where}: connectivity must have shape ({out_features}, {fan_in}); "
                               f"got {tuple(conn.shape)}")
    if conn.size and (conn.min() < 0 or conn.max() >= in_features):
        raise LayerConfigError(f"{where}: connectivity indices must lie in 0..{in_features - 1}")
    if any(len(set(r)) != len(r) for r in conn.tolist()):
        raise LayerConfigError(f"{where}: a neuron lists the same input twice in connectivity")
    return conn


def resolve_connectivity(where: str, connectivity, in_features: int, out_features: int, fan_in: int,
                         seed: int, input_pool=None) -> np.ndarray:
    """A layer's connectivity from its arguments: a kind name (``None`` = ``"random"``), drawn from
    ``input_pool`` with ``seed``, or an explicit ``(out_features, fan_in)`` index array."""
    check_fan_in(where, fan_in, in_features)
    pool = check_input_pool(where, input_pool, in_features, fan_in)
    if connectivity is None or isinstance(connectivity, str):
        kind = connectivity or "random"
        if kind not in CONNECTIVITY:
            raise LayerConfigError(f"{where}: connectivity must be one of {', '.join(CONNECTIVITY_KINDS)} "
                                   f"or an index array, got {kind!r}")
        return CONNECTIVITY[kind](in_features, out_features, fan_in, seed, pool)
    if pool is not None:
        raise LayerConfigError(f"{where}: input_pool only applies to drawn connectivity, not to an index array")
    return check_connectivity(where, connectivity, out_features, fan_in, in_features)
