"""Learned connectivity, framework-neutral (numpy only): which ``fan_in`` of a wider set of inputs each
neuron keeps, and how a trained layer is frozen to those inputs.

A layer trained with a larger fan-in ``S`` (or densely, ``S`` = its input width) keeps, per neuron, at
most ``F`` of its ``S`` input slots (the slots pruning left active: :mod:`lutnet.pruning.learn` chooses
them with the LUT-budget knapsack, or by group-lasso norms).  :func:`freeze_positions` lists, per
neuron, the ``F`` slots of the narrower layer (kept slots first, in slot order; a neuron that keeps
fewer than ``F`` inputs is padded with distinct unkept slots whose mask is off, so the index array stays
``(out, F)`` with distinct inputs), and :func:`slice_params` maps the trained parameters onto a family
of fan-in ``F``: the linear weights and a sub-network's first layer (and input skip projection) by
slot, a polynomial's monomial weights by the monomial over the same inputs.  The frozen layer computes
exactly what the wide layer computed under its mask (a masked input reads 0 in both), so fine-tuning
continues from the same function, and its ``connectivity`` index array is saved with the weights: the
IR stays a sparse table network of fan-in ``F``.

The group-lasso penalty of NeuraLUT-Assemble-style learning (:func:`group_norms`) is written once over
a tiny array adapter (``sum``, ``sqrt``, ``matmul`` with a constant numpy matrix), so PyTorch and
TensorFlow compute the same penalty: the groups are the parameters attached to one input of one neuron
(:func:`lutnet.pruning.loop._reduce_to_inputs`' rule: linear ``w[k, j]``; poly every monomial weight
containing input j; subnet the first layer's weights from input j and the input skip projection's).
"""
from __future__ import annotations

import numpy as np

from ..errors import LayerConfigError
from .neurons import NeuronFamily, make_family

LEARN_KINDS = ("knapsack", "group_lasso")
LEARNABLE_NEURONS = ("linear", "poly", "subnet")


def start_fan_in(start: int | None, in_features: int) -> int:
    """A layer's training fan-in: ``start`` (None: dense, every input), at most the layer's inputs."""
    return int(in_features) if start is None else min(int(start), int(in_features))


def check_learn(where: str, kind: str, start: int | None, fan_in: int, in_features: int, steps: int,
                budget_luts: float | None = None, lasso: float = 0.0) -> int:
    """The layer's start fan-in, or one :class:`~lutnet.errors.LayerConfigError` naming the layer and
    the parameter at fault."""
    if kind not in LEARN_KINDS:
        raise LayerConfigError(f"{where}: learned connectivity kind must be one of {', '.join(LEARN_KINDS)}, "
                               f"got {kind!r}")
    if fan_in < 1:
        raise LayerConfigError(f"{where}: fan_in must be >= 1, got {fan_in}")
    if start is not None and start < fan_in:
        raise LayerConfigError(f"{where}: start_fan_in={start} is smaller than the target fan_in={fan_in}; "
                               f"learned connectivity trains with more inputs than it keeps: use "
                               f"start_fan_in > {fan_in} (or none: dense)")
    if fan_in > in_features:
        raise LayerConfigError(f"{where}: fan_in={fan_in} is larger than in_features={in_features}; use "
                               f"fan_in <= {in_features}")
    if steps < 1:
        raise LayerConfigError(f"{where}: steps must be >= 1, got {steps}")
    if budget_luts is not None and not budget_luts > 0:
        raise LayerConfigError(f"{where}: budget_luts must be > 0 (LUTs of the whole network), got {budget_luts}")
    if not lasso >= 0:
        raise LayerConfigError(f"{where}: lasso (the group-lasso strength) must be >= 0, got {lasso}")
    return start_fan_in(start, in_features)


def fan_in_steps(start: int, target: int, steps: int, avoid: int | None = None) -> list[int]:
    """The per-step fan-in caps from ``start`` down to ``target`` (geometric, non-increasing, the last
    is ``target``); a layer that starts at its target keeps it at every step.  An intermediate cap
    equal to ``avoid`` (a subnet's width, where its input skip would turn into the identity) is
    raised by one."""
    i = np.arange(1, steps + 1)
    caps = np.rint(start * (target / start) ** (i / steps)).astype(np.int64)
    caps = np.maximum(np.minimum.accumulate(caps), target)
    if avoid is not None:
        caps[(caps == avoid) & (caps < start)] += 1
    caps[-1] = target
    return caps.tolist()


def freeze_positions(mask: np.ndarray, fan_in: int) -> tuple[np.ndarray, np.ndarray]:
    """``(positions (out, F), mask (out, F))``: each neuron's kept slots of the wide layer first (in
    slot order), then unkept slots (masked off) up to ``F``.  Every neuron must keep at most ``F``."""
    mask = np.asarray(mask, bool)
    out, S = mask.shape
    kept = mask.sum(1)
    if kept.size and kept.max() > fan_in:
        k = int(np.argmax(kept))
        raise LayerConfigError(f"freeze: neuron {k} keeps {int(kept[k])} inputs, more than fan_in={fan_in}")
    slot = np.arange(S)[None, :]
    order = np.argsort(np.where(mask, slot, S + slot), axis=1, kind="stable")[:, :fan_in]
    return order.astype(np.int64), np.take_along_axis(mask, order, 1)


def _term_keys(terms: np.ndarray, base: int) -> np.ndarray:
    """Integer keys of sorted, padded monomials (last axis), base ``base`` (the pad is ``base - 1``)."""
    weights = base ** np.arange(terms.shape[-1] - 1, -1, -1, dtype=np.int64)
    return (np.sort(terms, -1) * weights).sum(-1)


def _padded_terms(family, pad: int) -> np.ndarray:
    D = family.degree
    return np.array([list(t) + [pad] * (D - len(t)) for t in family.terms], np.int64).reshape(-1, D)


def slice_params(old: NeuronFamily, new: NeuronFamily, params: dict, positions: np.ndarray) -> dict:
    """``params`` (numpy, by the family's names) of a layer of family ``old`` (fan-in S) mapped onto
    ``new`` (fan-in F, the same kind and options): neuron k's input j of the new layer is its slot
    ``positions[k, j]`` of the old one.  Parameters that do not depend on the inputs are copied."""
    P = np.asarray(positions, np.int64)
    if old.kind != new.kind or old.options != new.options:
        raise LayerConfigError(f"{new.where}: cannot map a {old.kind} neuron ({old.describe()}) onto a "
                               f"{new.kind} neuron ({new.describe()})")
    if P.shape != (new.out_features, new.fan_in) or (P.size and (P.min() < 0 or P.max() >= old.fan_in)):
        raise LayerConfigError(f"{new.where}: positions must be ({new.out_features}, {new.fan_in}) slots in "
                               f"0..{old.fan_in - 1}, got shape {P.shape}")
    out = {k: np.array(v, copy=True) for k, v in params.items()}
    if old.kind == "linear":
        out["weight"] = np.take_along_axis(np.asarray(params["weight"]), P, 1)
    elif old.kind == "poly":
        S, F = old.fan_in, new.fan_in
        old_keys = _term_keys(_padded_terms(old, S), S + 1)
        sort = np.argsort(old_keys)
        ext = np.concatenate([P, np.full((len(P), 1), S, np.int64)], 1)  # new slot F -> old pad S
        slots = ext[:, _padded_terms(new, F)]                            # (out, T_new, D) old slots
        idx = sort[np.searchsorted(old_keys[sort], _term_keys(slots, S + 1))]
        out["weight"] = np.take_along_axis(np.asarray(params["weight"]), idx, 1)
    elif old.kind == "subnet":
        out["weights_0"] = np.take_along_axis(np.asarray(params["weights_0"]), P[:, :, None], 1)
        had, needs = 0 in old.projections, 0 in new.projections
        if had and not needs:
            raise LayerConfigError(f"{new.where}: a subnet neuron with skip whose first block projects its "
                                   f"{old.fan_in} inputs cannot be narrowed to fan_in={new.fan_in}, where the "
                                   f"skip is the identity (fan_in = width = {new.width}); use another fan-in")
        if needs:
            proj = (np.asarray(params["proj_0"]) if had else  # the identity skip as a projection
                    np.broadcast_to(np.eye(old.fan_in, new.dims[dict(new.blocks)[0]], dtype=np.float32),
                                    (old.out_features, old.fan_in, new.dims[dict(new.blocks)[0]])))
            out["proj_0"] = np.take_along_axis(proj, P[:, :, None], 1)
    else:
        raise LayerConfigError(f"{new.where}: learned connectivity supports neuron kinds "
                               f"{', '.join(LEARNABLE_NEURONS)}, not {old.kind!r}")
    return out


def narrower(old: NeuronFamily, fan_in: int) -> NeuronFamily:
    """The family ``old`` with ``fan_in`` inputs (same kind, options and layer name)."""
    return make_family(old.kind, old.out_features, fan_in, old.where, **old.options)


# ---------------------------------------------------------------------- group lasso
class NumpyArrays:
    """The array adapter of :func:`group_norms` over numpy (tests and reporting)."""

    @staticmethod
    def sum(x, axis):
        return np.sum(x, axis)

    @staticmethod
    def sqrt(x):
        return np.sqrt(x)

    @staticmethod
    def matmul(x, m):
        return x @ m


NUMPY_ARRAYS = NumpyArrays()


def poly_incidence(family) -> np.ndarray:
    """(T, F) 0/1: monomial t contains input j."""
    inc = np.zeros((len(family.terms), family.fan_in), np.float32)
    for t, m in enumerate(family.terms):
        inc[t, list(set(m))] = 1.0
    return inc


def group_norms(xp, family: NeuronFamily, params: dict, eps: float = 1e-12):
    """(out, F) L2 norm of the parameters attached to each input of each neuron (``xp``: an adapter
    with ``sum(x, axis)``, ``sqrt(x)``, ``matmul(x, numpy_matrix)``); ``eps`` keeps the gradient finite."""
    if family.kind == "linear":
        w = params["weight"]
        return xp.sqrt(w * w + eps)
    if family.kind == "poly":
        w = params["weight"]
        return xp.sqrt(xp.matmul(w * w, poly_incidence(family)) + eps)
    if family.kind == "subnet":
        w = params["weights_0"]
        sq = xp.sum(w * w, -1)
        if "proj_0" in params:
            p = params["proj_0"]
            sq = sq + xp.sum(p * p, -1)
        return xp.sqrt(sq + eps)
    raise LayerConfigError(f"{family.where}: group lasso supports neuron kinds {', '.join(LEARNABLE_NEURONS)}, "
                           f"not {family.kind!r}")


def group_lasso(xp, family: NeuronFamily, params: dict):
    """The group-lasso penalty of one layer: the sum of its input groups' norms."""
    return xp.sum(xp.sum(group_norms(xp, family, params), -1), -1)
