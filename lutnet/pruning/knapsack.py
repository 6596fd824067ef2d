"""Resource-aware pruning as a knapsack problem (Ramhorst, Loncar, Constantinides, 2023).

Every prunable *structure* is an item with an importance ``value`` and a non-negative ``cost`` in
each hardware resource.  Pruning keeps the items of largest total importance whose summed cost
fits a budget in every resource.  Items may be grouped: the items of one group are alternatives
of which **exactly one** is kept (a multiple-choice knapsack; e.g. "keep the top-m inputs of
neuron k" for m = 0..F).  Ungrouped items are kept or dropped freely, unless ``mandatory``.

Solvers (all return a :class:`Solution`; every one of them checks the budget exactly, with the
cost summed by :func:`math.fsum`, before returning):

* :func:`solve_dp` — exact dynamic programming for **one** budgeted resource whose costs are
  multiples of a ``resolution`` (LUTCost, DSP and BRAM counts are integers);
* :func:`solve_milp` — exact for any number of resources: a 0/1 integer program solved with
  HiGHS through :func:`scipy.optimize.milp` (already a dependency, no extra install, and
  branch-and-cut with ``mip_rel_gap=0`` proves optimality; OR-Tools would add a 30 MB wheel for
  no gain on problems of this size);
* :func:`solve_greedy` — fast heuristic: start from each group's cheapest option, then take the
  upgrade with the largest value gain per unit of (budget-normalized) cost while it fits;
* :func:`solve_brute_force` — enumeration, for tests and tiny instances.

:func:`solve` picks DP when it applies and is small, else MILP.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InfeasibleBudgetError, PruningError, UnknownResourceError

DP_MAX_STATES = 20_000_000  # choice sets x (capacity + 1) cells of the DP choice table (int16: 40 MB)


@dataclass
class Solution:
    """``selected`` (n,) bool over the problem's items; ``value`` their total importance;
    ``cost`` their total cost per resource; ``optimal`` whether the solver proves optimality."""
    selected: np.ndarray
    value: float
    cost: dict
    method: str
    optimal: bool
    info: dict = field(default_factory=dict)


class KnapsackProblem:
    """Items with importance ``values`` (n,) and costs (n,) or (n, R) in ``resources``.

    ``groups`` (n,) int: items sharing a group id >= 0 are alternatives, exactly one is kept;
    ``-1`` (or ``groups=None``) marks free items.  ``mandatory`` (n,) bool: free items that must
    be kept.  ``names`` label the items in messages."""

    def __init__(self, values, costs, resources=("lut",), groups=None, mandatory=None, names=None):
        self.resources = tuple(str(r) for r in ([resources] if isinstance(resources, str) else resources))
        self.values = np.asarray(values, dtype=np.float64).reshape(-1)
        n = len(self.values)
        costs = np.asarray(costs, dtype=np.float64)
        self.costs = costs.reshape(n, -1) if costs.size else costs.reshape(n, len(self.resources))
        if len(set(self.resources)) != len(self.resources):
            raise PruningError(f"resource names must be distinct, got {list(self.resources)}")
        if self.costs.shape[1] != len(self.resources):
            raise PruningError(f"costs have {self.costs.shape[1]} column(s) but {len(self.resources)} "
                               f"resource(s) are named: {', '.join(self.resources)}")
        self.groups = (np.full(n, -1, np.int64) if groups is None
                       else np.asarray(groups, dtype=np.int64).reshape(-1))
        self.mandatory = (np.zeros(n, bool) if mandatory is None
                          else np.asarray(mandatory, dtype=bool).reshape(-1))
        self.names = [str(i) for i in range(n)] if names is None else [str(s) for s in names]
        if not (len(self.groups) == len(self.mandatory) == len(self.names) == n):
            raise PruningError(f"values, groups, mandatory and names must all have {n} entries")
        if not np.all(np.isfinite(self.values)):
            raise PruningError("item values must be finite numbers")
        if not np.all(np.isfinite(self.costs)) or np.any(self.costs < 0):
            i = int(np.argmax(~np.isfinite(self.costs).all(1) | (self.costs < 0).any(1)))
            raise PruningError(f"item costs must be finite and >= 0; item {self.names[i]!r} costs "
                               f"{dict(zip(self.resources, self.costs[i].tolist()))}")
        if np.any(self.mandatory & (self.groups >= 0)):
            i = int(np.argmax(self.mandatory & (self.groups >= 0)))
            raise PruningError(f"item {self.names[i]!r} is grouped and mandatory; mandatory applies to "
                               f"ungrouped items (a group always keeps exactly one of its items)")
        self._build_options()

    def __len__(self):
        return len(self.values)

    def _build_options(self):
        """Flatten into choice sets: a group's items; a free item and the empty option; a mandatory
        item alone.  ``opt_item`` (-1 = empty option), ``opt_set``, ``set_start`` (CSR offsets)."""
        free = np.nonzero(self.groups < 0)[0]
        gid = np.unique(self.groups[self.groups >= 0])
        items, sets = [], []
        for s, g in enumerate(gid):
            members = np.nonzero(self.groups == g)[0]
            items.append(members)
            sets.append(np.full(len(members), s))
        s0 = len(gid)
        for s, i in enumerate(free, start=s0):
            opts = np.array([i]) if self.mandatory[i] else np.array([-1, i])  # empty first: ties keep less
            items.append(opts)
            sets.append(np.full(len(opts), s))
        self.opt_item = np.concatenate(items) if items else np.zeros(0, np.int64)
        self.opt_set = np.concatenate(sets) if sets else np.zeros(0, np.int64)
        self.n_sets = s0 + len(free)
        self.set_start = np.searchsorted(self.opt_set, np.arange(self.n_sets + 1))
        real = self.opt_item >= 0
        self.opt_value = np.zeros(len(self.opt_item))
        self.opt_cost = np.zeros((len(self.opt_item), len(self.resources)))
        self.opt_value[real] = self.values[self.opt_item[real]]
        self.opt_cost[real] = self.costs[self.opt_item[real]]

    # ------------------------------------------------------------------ checks
    def minimum_cost(self) -> dict:
        """Per resource, the least cost any feasible selection has (mandatory items plus each
        group's cheapest item in that resource)."""
        mins = np.full((self.n_sets, len(self.resources)), np.inf)
        np.minimum.at(mins, self.opt_set, self.opt_cost)
        return {r: math.fsum(mins[:, j]) for j, r in enumerate(self.resources)}

    def check_budgets(self, budgets) -> dict:
        """Validate ``budgets`` ({resource: limit}; resources left out are unconstrained)."""
        if not isinstance(budgets, dict):
            raise PruningError(f"budgets must be a dict {{resource: limit}}, got {type(budgets).__name__}")
        out = {}
        for r, b in budgets.items():
            if r not in self.resources:
                raise UnknownResourceError(f"unknown resource {r!r} in budgets; this problem's resources "
                                           f"are: {', '.join(self.resources)}")
            if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) or not b >= 0 \
                    or not math.isfinite(b):
                raise PruningError(f"budget for {r!r} must be a finite number >= 0, got {b!r}")
            out[r] = float(b)
        minimum = self.minimum_cost()
        for r, b in out.items():
            if minimum[r] > b:
                raise InfeasibleBudgetError(
                    f"budget {b:g} for {r!r} is infeasible: the structures that must be kept cost at "
                    f"least {minimum[r]:g}; raise the budget to >= {minimum[r]:g}", minimum)
        return out

    def cost_of(self, selected) -> dict:
        sel = np.asarray(selected, dtype=bool)
        return {r: math.fsum(self.costs[sel, j]) for j, r in enumerate(self.resources)}

    def is_valid(self, selected, budgets) -> bool:
        """Group and mandatory rules hold and every budget is met (exact comparison)."""
        sel = np.asarray(selected, dtype=bool)
        grouped = self.groups >= 0
        counts = np.bincount(self.groups[grouped & sel], minlength=self.groups.max(initial=-1) + 1)
        present = np.bincount(self.groups[grouped], minlength=len(counts)) > 0
        if np.any(counts[present] != 1) or np.any(self.mandatory & ~sel):
            return False
        cost = self.cost_of(sel)
        return all(cost[r] <= b for r, b in budgets.items())

    def _undominate(self, opt_chosen) -> np.ndarray:
        """Swap each chosen option for one of its set that is worth at least as much and costs no
        more in any resource and less in some (e.g. drop a zero-value item): never lowers the value
        nor raises a cost, so feasibility and optimality are kept and no budget is spent for nothing."""
        chosen = np.array(opt_chosen, dtype=np.int64)
        cur = chosen[self.opt_set]
        better = ((self.opt_value >= self.opt_value[cur]) & np.all(self.opt_cost <= self.opt_cost[cur], axis=1)
                  & np.any(self.opt_cost < self.opt_cost[cur], axis=1))
        for s in np.unique(self.opt_set[better]):
            a, b = self.set_start[s], self.set_start[s + 1]
            cand = np.nonzero(better[a:b])[0] + a
            # the cheapest dominating option (by total cost, then highest value)
            chosen[s] = cand[np.lexsort((-self.opt_value[cand], self.opt_cost[cand].sum(1)))[0]]
        return chosen

    def _solution(self, opt_chosen, budgets, method, optimal, **info) -> Solution:
        """Options chosen (one per choice set) → item selection, checked against the budgets."""
        opt_chosen = self._undominate(opt_chosen)
        sel = np.zeros(len(self), bool)
        items = self.opt_item[opt_chosen]
        sel[items[items >= 0]] = True
        if not self.is_valid(sel, budgets):
            raise PruningError(f"internal error: solver {method!r} returned a selection violating the "
                               f"constraints (cost {self.cost_of(sel)}, budgets {budgets})")
        return Solution(sel, math.fsum(self.values[sel]), self.cost_of(sel), method, optimal, info)


# ---------------------------------------------------------------------- solvers
def _integer_costs(problem: KnapsackProblem, col: int, resolution: float) -> np.ndarray:
    c = problem.opt_cost[:, col] / resolution
    ci = np.rint(c)
    bad = np.abs(c - ci) > 1e-9 * np.maximum(1.0, np.abs(c))
    if bad.any():
        k = int(np.argmax(bad))
        raise PruningError(f"solver 'dp' needs costs that are multiples of resolution={resolution:g}; item "
                           f"{problem.names[problem.opt_item[k]]!r} costs {problem.opt_cost[k, col]:g} in "
                           f"{problem.resources[col]!r}. Pass a finer resolution or use method='milp'")
    return ci.astype(np.int64)


def solve_dp(problem: KnapsackProblem, budgets: dict, resolution: float = 1.0) -> Solution:
    """Exact DP over the capacity of the single budgeted resource (O(options x capacity))."""
    budgets = problem.check_budgets(budgets)
    if len(budgets) > 1:
        raise PruningError(f"solver 'dp' handles one budgeted resource, got {len(budgets)} "
                           f"({', '.join(budgets)}); use method='milp' or 'greedy'")
    if not budgets:  # unconstrained: the best option of every set
        return _best_per_set(problem, {}, "dp")
    (res, budget), = budgets.items()
    col = problem.resources.index(res)
    w = _integer_costs(problem, col, resolution)
    cap = int(math.floor(budget / resolution + 1e-9))
    while cap * resolution > budget:  # never let the rounding admit a cost above the budget
        cap -= 1
    if problem.n_sets * (cap + 1) > DP_MAX_STATES:
        raise PruningError(f"solver 'dp' would need {problem.n_sets} x {cap + 1} states (> {DP_MAX_STATES:,}); "
                           f"use a coarser resolution or method='milp'")
    dp = np.zeros(cap + 1)
    if np.diff(problem.set_start).max(initial=0) > np.iinfo(np.int16).max:
        raise PruningError("solver 'dp' supports at most 32767 items per group; use method='milp'")
    choice = np.empty((problem.n_sets, cap + 1), np.int16)  # the option picked, local to its set
    for s in range(problem.n_sets):
        a = problem.set_start[s]
        new = np.full(cap + 1, -np.inf)
        pick = np.full(cap + 1, -1, np.int16)
        for o in range(a, problem.set_start[s + 1]):
            if w[o] > cap:
                continue
            cand = np.full(cap + 1, -np.inf)
            cand[w[o]:] = dp[:cap + 1 - w[o]] + problem.opt_value[o]
            better = cand > new
            new[better] = cand[better]
            pick[better] = o - a
        dp, choice[s] = new, pick
    if not np.isfinite(dp[cap]):
        raise PruningError(f"no selection fits the {res!r} budget {budget:g}")
    chosen, c = np.empty(problem.n_sets, np.int64), cap
    for s in range(problem.n_sets - 1, -1, -1):
        chosen[s] = problem.set_start[s] + choice[s, c]
        c -= w[chosen[s]]
    return problem._solution(chosen, budgets, "dp", True)


def _best_per_set(problem, budgets, method) -> Solution:
    starts = problem.set_start
    chosen = np.array([starts[s] + int(np.argmax(problem.opt_value[starts[s]:starts[s + 1]]))
                       for s in range(problem.n_sets)], np.int64)
    return problem._solution(chosen, budgets, method, True)


def solve_milp(problem: KnapsackProblem, budgets: dict, time_limit: float | None = None) -> Solution:
    """Exact 0/1 program with HiGHS: one binary per option, one equality per choice set, one
    inequality per budgeted resource.  The rounded answer is re-checked exactly; if float
    tolerance let a budget slip, the bound is tightened by the excess and the MILP re-solved."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    budgets = problem.check_budgets(budgets)
    k = len(problem.opt_item)
    if k == 0:
        return problem._solution(np.zeros(0, np.int64), budgets, "milp", True)
    sets = csr_matrix((np.ones(k), (problem.opt_set, np.arange(k))), shape=(problem.n_sets, k))
    cols = [problem.resources.index(r) for r in budgets]
    limit = np.array([budgets[r] for r in budgets], dtype=np.float64)
    options = {"mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    for attempt in range(8):
        cons = [LinearConstraint(sets, 1, 1)]
        if cols:
            cons.append(LinearConstraint(problem.opt_cost[:, cols].T, -np.inf, limit))
        res = milp(-problem.opt_value, constraints=cons, integrality=np.ones(k), bounds=Bounds(0, 1),
                   options=options)
        if res.x is None:
            raise PruningError(f"MILP solver found no selection within the budgets {budgets} ({res.message})")
        x = np.rint(res.x).astype(bool)
        chosen = np.nonzero(x)[0]
        used = np.array([math.fsum(problem.opt_cost[x, c]) for c in cols])
        excess = used - np.array([budgets[r] for r in budgets])
        if len(chosen) == problem.n_sets and np.all(excess <= 0):
            return problem._solution(chosen[np.argsort(problem.opt_set[chosen])], budgets, "milp",
                                     res.status == 0, attempts=attempt + 1, message=res.message)
        limit = limit - np.maximum(excess, 0) - 1e-9 * np.maximum(1.0, np.abs(limit))
    raise PruningError(f"MILP solutions kept exceeding the budgets {budgets} by float tolerance")


def solve_greedy(problem: KnapsackProblem, budgets: dict) -> Solution:
    """Value-per-cost heuristic for any number of resources; never exceeds a budget, not optimal."""
    budgets = problem.check_budgets(budgets)
    cols = [problem.resources.index(r) for r in budgets]
    limit = np.array([budgets[r] for r in budgets], dtype=np.float64)
    scale = 1.0 / np.maximum(limit, 1e-12)
    cost = problem.opt_cost[:, cols]
    norm = cost @ scale if cols else np.zeros(len(problem.opt_item))
    # start: every set's cheapest option (normalized cost; ties: higher value)
    order = np.lexsort((-problem.opt_value, norm, problem.opt_set))
    chosen = order[problem.set_start[:-1]] if problem.n_sets else np.zeros(0, np.int64)
    used = cost[chosen].sum(0)
    if np.any(used > limit):
        raise PruningError(f"greedy found no selection within the budgets {budgets} (the cheapest option of "
                           f"every set already costs {dict(zip(budgets, used.tolist()))}); use method='milp'")
    cur = chosen[problem.opt_set]  # the chosen option of each option's set
    history = []
    while True:
        dv = problem.opt_value - problem.opt_value[cur]
        dc = cost - cost[cur]
        fits = np.all(used + dc <= limit, axis=1) & (dv > 0)
        if not fits.any():
            break
        gain = dv / np.maximum(np.maximum(dc, 0) @ scale if cols else 0.0, 1e-12)
        o = int(np.argmax(np.where(fits, gain, -np.inf)))
        s = problem.opt_set[o]
        used = used + dc[o]
        history.append((s, chosen[s]))
        chosen[s] = o
        cur[problem.set_start[s]:problem.set_start[s + 1]] = o
    steps = len(history)
    # re-sum exactly: incremental float updates can drift by an ulp; undo the last upgrades if so
    while history and any(math.fsum(cost[chosen, j]) > limit[j] for j in range(len(cols))):
        s, prev = history.pop()
        chosen[s] = prev
    return problem._solution(chosen, budgets, "greedy", False, steps=steps)


def solve_brute_force(problem: KnapsackProblem, budgets: dict, max_combinations: int = 1 << 20) -> Solution:
    """Enumerate every combination of one option per choice set (tests, tiny instances)."""
    budgets = problem.check_budgets(budgets)
    sizes = np.diff(problem.set_start)
    total = int(np.prod(sizes.astype(object))) if len(sizes) else 1
    if total > max_combinations:
        raise PruningError(f"brute force would enumerate {total:,} combinations (> {max_combinations:,})")
    cols = [problem.resources.index(r) for r in budgets]
    best, best_val = None, -np.inf
    for combo in itertools.product(*[range(a, b) for a, b in zip(problem.set_start[:-1], problem.set_start[1:])]):
        idx = list(combo)
        if all(math.fsum(problem.opt_cost[idx, c]) <= budgets[r] for r, c in zip(budgets, cols)):
            v = math.fsum(problem.opt_value[idx])
            if v > best_val:
                best, best_val = idx, v
    if best is None:
        raise PruningError(f"no selection fits the budgets {budgets}")
    return problem._solution(np.array(best, np.int64), budgets, "brute_force", True)


SOLVERS = {"dp": solve_dp, "milp": solve_milp, "greedy": solve_greedy, "brute_force": solve_brute_force}


def solve(problem: KnapsackProblem, budgets: dict, method: str = "auto", **options) -> Solution:
    """Solve with ``method`` in ``auto``, ``dp``, ``milp``, ``greedy``, ``brute_force``.  ``auto``
    uses DP for one budgeted resource with integer costs and a small table, else MILP."""
    if method == "auto":
        checked = problem.check_budgets(budgets)
        if len(checked) == 1:
            (r, b), = checked.items()
            c = problem.opt_cost[:, problem.resources.index(r)]
            if np.all(c == np.rint(c)) and problem.n_sets * (math.floor(b) + 1) <= DP_MAX_STATES:
                return solve_dp(problem, budgets)
        return solve_milp(problem, budgets)
    if method not in SOLVERS:
        raise PruningError(f"unknown solver {method!r}; known: auto, {', '.join(SOLVERS)}")
    return SOLVERS[method](problem, budgets, **options)
