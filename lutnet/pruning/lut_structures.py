"""LUT-network pruning as a multiple-choice knapsack, framework-neutral (numpy only).

Neuron k of a layer with ``b``-bit inputs and ``Y``-bit outputs that keeps ``m`` of its inputs
costs ``cost_fn(m*b, Y)`` LUTs; keeping its ``m`` most important inputs is worth the sum of their
importances.  One group per neuron with options m = 0..(active inputs) gives an exact knapsack;
m = 0 makes the neuron a constant (pruned, zero cost).  Neurons of the last layer keep at least
``min_inputs_last`` inputs.  Neurons that no live connection of the next layer reads (orphans) are
then made constant and the knapsack is re-solved with the orphans fixed at m = 0 (and the
connections reading them worthless), so the budget they freed goes back into the knapsack: to more
inputs of live neurons, or to neurons it dropped before.  Only orphans are fixed: fixing every
constant neuron (as lutnet did up to 2026-12) wasted the freed budget whenever a table's cost does
not shrink with fewer inputs (6 address bits = one LUT6 per output bit), e.g. the QKeras jet
tutorial landed at LUT cost 34 for a budget of 64 where the same loop with other importances
reached 60.

The one pruning loop (:mod:`.loop`) describes a framework's layers as :class:`LayerSpec` and
writes the returned masks back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import PruningError
from .knapsack import KnapsackProblem, Solution, solve


@dataclass
class LayerSpec:
    """One LUT layer: ``mask`` (out, F) bool active inputs, ``connectivity`` (out, F) source
    indices, ``in_bits`` (bits of every input code), ``out_bits`` (bits of every output code)."""
    mask: np.ndarray
    connectivity: np.ndarray
    in_bits: int
    out_bits: int


def network_cost(layers: list[LayerSpec], cost_fn) -> float:
    """LUTs of the layers' current masks (equals ``ir.lut_cost()`` for the LUTCost model)."""
    total = 0.0
    for L in layers:
        active = L.mask.sum(1)
        total += float(np.sum(cost_fn(active * L.in_bits, np.full(len(active), L.out_bits))))
    return total


def dead_neurons(layers: list[LayerSpec], masks=None) -> list[np.ndarray]:
    """Per layer, the neurons no active connection of the next layer reads (last layer: none)."""
    masks = masks or [L.mask for L in layers]
    dead = []
    for i, L in enumerate(layers):
        read = np.ones(len(L.mask), bool)
        if i < len(layers) - 1:
            read[:] = False
            read[layers[i + 1].connectivity[masks[i + 1]]] = True
        dead.append(~read)
    return dead


def kill_dead(layers: list[LayerSpec], masks: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Clear the inputs of unread neurons, from the top layer down (which can orphan more)."""
    masks = [m.copy() for m in masks]
    changed = 0
    for li in range(len(layers) - 2, -1, -1):
        dead = dead_neurons(layers, masks)[li] & masks[li].any(1)
        changed += int(dead.sum())
        masks[li][dead] = False
    return masks, changed


@dataclass
class LutPruningProblem:
    """The knapsack of a LUT network and what decodes a solution into masks."""
    problem: KnapsackProblem
    order: list          # per layer (out, F): input positions by decreasing importance
    keep_offset: list    # per layer (out,): item index of option m of neuron k is keep_offset[k] + m
    group_start: list    # per layer: group id of its neuron 0


def rank_inputs(mask: np.ndarray, importance: np.ndarray) -> np.ndarray:
    """(out, F) input positions of every neuron, active ones by decreasing importance first."""
    return np.argsort(np.where(mask, -np.asarray(importance, np.float64), np.inf), axis=1, kind="stable")


def build_problem(layers: list[LayerSpec], importance: list, cost_fn, min_inputs_last: int = 1,
                  frozen: list | None = None, normalize: bool = True,
                  option_costs: list | None = None, max_inputs: list | None = None) -> LutPruningProblem:
    """Options m = 0..active inputs per neuron (``frozen`` neurons: m = 0 only; ``max_inputs``: per
    layer, at most that many, the fan-in cap of learned connectivity, :mod:`lutnet.pruning.learn`).  ``normalize``
    divides each layer's importances by their mean over active connections, so layers with
    different weight scales compete fairly.  ``option_costs`` (per layer (out, F+1): the cost of
    keeping the top-m inputs, e.g. estimated from the actual tables) replaces ``cost_fn``; the
    inputs are then ranked by the given importance alone, the ranking those costs were made with."""
    values, costs, groups, names, order, offsets, gstart = [], [], [], [], [], [], []
    gid = n_items = 0
    for li, L in enumerate(layers):
        mask = L.mask
        imp = np.asarray(importance[li], dtype=np.float64)
        if imp.shape != mask.shape:
            raise PruningError(f"importance of layer {li} has shape {imp.shape}, expected {mask.shape}")
        reads_const = np.zeros(mask.shape, bool)
        if li > 0:  # connections reading a constant (or frozen) neuron carry no information
            const = ~layers[li - 1].mask.any(1) | (frozen[li - 1] if frozen is not None else False)
            reads_const = const[L.connectivity]
        ranked = rank_inputs(mask, imp) if option_costs is not None else None
        imp = np.where(mask & ~reads_const, np.maximum(imp, 0), 0.0)
        if normalize and mask.any() and imp[mask].mean() > 0:
            imp = imp / imp[mask].mean()
        out, F = mask.shape
        if ranked is None:
            ranked = rank_inputs(mask, imp)
        prefix = np.concatenate([np.zeros((out, 1)), np.cumsum(np.take_along_axis(imp, ranked, 1), 1)], 1)
        active = mask.sum(1)
        if max_inputs is not None and max_inputs[li] is not None:
            active = np.minimum(active, int(max_inputs[li]))
        hi = np.where(frozen[li], 0, active) if frozen is not None else active
        lo = np.minimum(min_inputs_last, hi) if li == len(layers) - 1 else np.zeros(out, np.int64)
        m = np.arange(F + 1)
        allowed = (m[None, :] >= lo[:, None]) & (m[None, :] <= hi[:, None])
        k, mm = np.nonzero(allowed)
        if option_costs is None:
            cost = np.broadcast_to(np.asarray(cost_fn(m * L.in_bits, np.full(F + 1, L.out_bits)), np.float64),
                                   (out, F + 1))
        else:
            cost = np.asarray(option_costs[li], np.float64)
        values.append(prefix[k, mm])
        costs.append(cost[k, mm])
        groups.append(gid + k)
        names.extend(f"layer{li}.neuron{a}.keep{b}" for a, b in zip(k.tolist(), mm.tolist()))
        counts = allowed.sum(1)
        offsets.append(n_items + np.concatenate([[0], np.cumsum(counts)[:-1]]) - lo)
        order.append(ranked)
        gstart.append(gid)
        gid += out
        n_items += int(counts.sum())
    problem = KnapsackProblem(np.concatenate(values), np.concatenate(costs), ("lut",), np.concatenate(groups),
                              names=names)
    return LutPruningProblem(problem, order, offsets, gstart)


def decode(plan: LutPruningProblem, layers: list[LayerSpec], sol: Solution) -> list[np.ndarray]:
    """Masks keeping, for every neuron, its chosen number of most important inputs."""
    chosen = np.nonzero(sol.selected)[0]
    group = plan.problem.groups[chosen]
    masks = []
    for li, L in enumerate(layers):
        out, F = L.mask.shape
        k = group - plan.group_start[li]
        here = (k >= 0) & (k < out)
        m = np.zeros(out, np.int64)
        m[k[here]] = chosen[here] - plan.keep_offset[li][k[here]]
        new = np.zeros((out, F), bool)
        np.put_along_axis(new, plan.order[li], np.arange(F)[None, :] < m[:, None], axis=1)
        masks.append(new)
    return masks


@dataclass
class LutPruneResult:
    """Outcome of one pruning step: the knapsack solution, the new LUT cost and the budget."""
    solution: Solution
    lut_cost: float
    budget: float
    rounds: int
    kept_connections: int
    constant_neurons: int

    @classmethod
    def of(cls, sol, masks, cost, budget, rounds) -> LutPruneResult:
        return cls(sol, float(cost), float(budget), rounds, int(sum(m.sum() for m in masks)),
                   int(sum((~m.any(1)).sum() for m in masks)))


def option_cost_total(option_costs: list, masks: list) -> float:
    """Total cost of masks that keep top-m prefixes of the ranking ``option_costs`` were made with."""
    return float(sum(np.take_along_axis(np.asarray(c), m.sum(1)[:, None], 1).sum()
                     for c, m in zip(option_costs, masks)))


def solve_masks(layers: list[LayerSpec], importance: list, budget: float, cost_fn, method: str = "auto",
                min_inputs_last: int = 1, max_rounds: int = 8, option_costs: list | None = None,
                normalize: bool = True, max_inputs: list | None = None):
    """Masks within ``budget`` LUTs: solve, make unread neurons (orphans) constant, re-solve with
    the orphans found so far fixed at m = 0 until no new orphan appears (or ``max_rounds``).
    Returns (masks, solution, rounds).  Already pruned inputs stay pruned; ``max_inputs`` caps every
    neuron's kept inputs per layer."""
    frozen, rounds = None, 0
    while rounds < max_rounds:
        rounds += 1
        plan = build_problem(layers, importance, cost_fn, min_inputs_last, frozen, normalize, option_costs,
                             max_inputs)
        sol = solve(plan.problem, {"lut": budget}, method=method)
        chosen = decode(plan, layers, sol)
        masks, changed = kill_dead(layers, chosen)
        if not changed:
            break
        orphans = [c.any(1) & ~m.any(1) for c, m in zip(chosen, masks)]
        frozen = orphans if frozen is None else [a | b for a, b in zip(frozen, orphans)]
    cost = (option_cost_total(option_costs, masks) if option_costs is not None else
            network_cost([LayerSpec(m, L.connectivity, L.in_bits, L.out_bits) for m, L in zip(masks, layers)],
                         cost_fn))
    if cost > budget:
        raise PruningError(f"internal error: pruned cost {cost:g} exceeds the budget {budget:g}")
    return masks, sol, rounds
