import math

import numpy as np
import pytest

from lutnet.errors import LutnetError
from lutnet.pruning import (
    InfeasibleBudgetError,
    KnapsackProblem,
    PruningError,
    UnknownResourceError,
    solve,
    solve_brute_force,
    solve_dp,
    solve_greedy,
    solve_milp,
)


def random_problem(rng, n_resources=1, integer=True):
    """A mix of free items, mandatory items and multiple-choice groups (with and without an empty option)."""
    n_free, n_groups = rng.integers(0, 5), rng.integers(0, 4)
    values, costs, groups, mandatory = [], [], [], []
    for _ in range(n_free):
        values.append(rng.uniform(0, 10))
        costs.append(rng.integers(0, 12, n_resources) if integer else rng.uniform(0, 12, n_resources))
        groups.append(-1)
        mandatory.append(rng.random() < 0.2)
    for g in range(n_groups):
        for _ in range(rng.integers(1, 5)):
            values.append(rng.uniform(0, 10))
            costs.append(rng.integers(0, 12, n_resources) if integer else rng.uniform(0, 12, n_resources))
            groups.append(g)
            mandatory.append(False)
    res = [f"r{i}" for i in range(n_resources)]
    return KnapsackProblem(values, np.array(costs, dtype=float).reshape(len(values), n_resources), res,
                           groups, mandatory)


def random_budgets(rng, p):
    lo, total = p.minimum_cost(), p.costs.sum(0)
    return {r: float(np.floor(rng.uniform(lo[r], max(lo[r], total[j] * 0.8) + 1))) for j, r in enumerate(p.resources)}


def assert_within(p, sol, budgets):
    assert p.is_valid(sol.selected, budgets)
    for r, b in budgets.items():
        assert sol.cost[r] <= b  # exact, no tolerance
        assert sol.cost[r] == math.fsum(p.costs[sol.selected, p.resources.index(r)])
    assert sol.value == pytest.approx(math.fsum(p.values[sol.selected]))


@pytest.mark.parametrize("seed", range(60))
def test_dp_and_milp_match_brute_force_one_resource(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng)
    budgets = random_budgets(rng, p)
    best = solve_brute_force(p, budgets)
    for sol in (solve_dp(p, budgets), solve_milp(p, budgets), solve(p, budgets)):
        assert_within(p, sol, budgets)
        assert sol.value == pytest.approx(best.value, abs=1e-6)
    greedy = solve_greedy(p, budgets)
    assert_within(p, greedy, budgets)
    assert greedy.value <= best.value + 1e-9


@pytest.mark.parametrize("seed", range(40))
def test_milp_matches_brute_force_multi_resource_float_costs(seed):
    rng = np.random.default_rng(1000 + seed)
    p = random_problem(rng, n_resources=int(rng.integers(2, 4)), integer=False)
    lo = p.minimum_cost()
    budgets = {r: float(rng.uniform(lo[r], lo[r] + 20)) for r in p.resources}
    try:
        best = solve_brute_force(p, budgets)
    except PruningError:  # jointly infeasible (each resource alone is feasible)
        with pytest.raises(PruningError, match="MILP solver found no selection within the budgets"):
            solve_milp(p, budgets)
        return
    sol = solve_milp(p, budgets)
    assert_within(p, sol, budgets)
    assert sol.value == pytest.approx(best.value, abs=1e-6)
    try:
        g = solve_greedy(p, budgets)
    except PruningError as e:
        assert "greedy found no selection" in str(e)
    else:
        assert_within(p, g, budgets)
        assert g.value <= best.value + 1e-9


def test_dp_resolution():
    p = KnapsackProblem([1, 5], [[1], [1.01]], names=['0', '3'])
    with pytest.raises(PruningError, match=r"solver 'dp' needs costs that are multiples of resolution=1; "
                                           r"item '3' costs 1.01 in 'lut'"):
        solve_dp(p, {"lut": 1.0})
    q = KnapsackProblem([1, 1, 1, 2.5], [[0.5], [0.5], [0.5], [1.5]])
    sol = solve_dp(q, {"lut": 1.5}, resolution=0.5)
    assert sol.value == 3.0 and sol.cost == {"lut": 1.5}


def test_group_exactly_one_and_mandatory():
    # group 0: options (value, cost) (0,0) (5,4) (9,9); a mandatory free item (1,3); a free item (4.5,2)
    p = KnapsackProblem([0, 5, 9, 1, 4.5], [0, 4, 9, 3, 2], "lut", groups=[0, 0, 0, -1, -1],
                        mandatory=[False, False, False, True, False])
    for budget, sel, value in [(3, [1, 0, 0, 1, 0], 1), (5, [1, 0, 0, 1, 1], 5.5), (8, [0, 1, 0, 1, 0], 6),
                               (9, [0, 1, 0, 1, 1], 10.5), (13, [0, 1, 0, 1, 1], 10.5), (14, [0, 0, 1, 1, 1], 14.5)]:
        for m in ("dp", "milp", "brute_force"):
            sol = solve(p, {"lut": budget}, method=m)
            assert sol.selected.astype(int).tolist() == sel and sol.value == value, (budget, m)


def test_zero_value_items_are_not_kept():
    p = KnapsackProblem([0, 0, 3], [[2, 1], [0, 0], [1, 1]], ["lut", "dsp"], groups=[0, 0, -1])
    for m in ("dp", "milp", "greedy", "brute_force"):
        budgets = {"lut": 10} if m == "dp" else {"lut": 10, "dsp": 10}
        sol = solve(p, budgets, method=m)
        assert sol.selected.tolist() == [False, True, True] and sol.cost["lut"] == 1


def test_greedy_takes_best_ratio_first():
    p = KnapsackProblem([10, 6, 6], [10, 5, 5])
    sol = solve_greedy(p, {"lut": 10})
    assert sol.selected.tolist() == [False, True, True] and sol.value == 12 and not sol.optimal


def test_unconstrained_keeps_best_options():
    p = KnapsackProblem([1, 3, 2, 7], [[1, 1], [5, 5], [1, 1], [9, 9]], ["lut", "dsp"], groups=[0, 0, 1, -1])
    for m in ("dp", "milp", "greedy"):
        assert solve(p, {}, method=m).value == 12  # 3 + 2 + 7


def test_infeasible_budget_states_minimum():
    p = KnapsackProblem([1, 2, 3], [4, 6, 1], "lut", groups=[0, 0, -1], mandatory=[False, False, True])
    for m in ("auto", "dp", "milp", "greedy", "brute_force"):
        with pytest.raises(InfeasibleBudgetError,
                           match=r"^budget 4 for 'lut' is infeasible: the structures that must be kept cost "
                                 r"at least 5; raise the budget to >= 5$") as e:
            solve(p, {"lut": 4}, method=m)
        assert e.value.minimum == {"lut": 5.0}
        assert isinstance(e.value, LutnetError)
    assert solve(p, {"lut": 5}).cost == {"lut": 5.0}


def test_unknown_resource_and_bad_budgets():
    p = KnapsackProblem([1], [[1, 2]], ["lut", "dsp"])
    with pytest.raises(UnknownResourceError, match=r"^unknown resource 'bram' in budgets; this problem's "
                                                   r"resources are: lut, dsp$"):
        solve(p, {"bram": 3})
    with pytest.raises(PruningError, match=r"^budget for 'lut' must be a finite number >= 0, got -5$"):
        solve(p, {"lut": -5})
    with pytest.raises(PruningError, match=r"^budget for 'dsp' must be a finite number >= 0, got nan$"):
        solve(p, {"dsp": float("nan")})
    with pytest.raises(PruningError, match=r"^solver 'dp' handles one budgeted resource, got 2 \(lut, dsp\)"):
        solve_dp(p, {"lut": 1, "dsp": 1})
    with pytest.raises(PruningError, match=r"^unknown solver 'cp'; known: auto, dp, milp, greedy, brute_force$"):
        solve(p, {"lut": 1}, method="cp")


def test_bad_problems():
    with pytest.raises(PruningError, match=r"item costs must be finite and >= 0; item 'b' costs \{'lut': -1.0\}"):
        KnapsackProblem([1, 2], [1, -1], names=["a", "b"])
    with pytest.raises(PruningError, match="costs have 2 column"):
        KnapsackProblem([1], [[1, 2]], "lut")
    with pytest.raises(PruningError, match="item '0' is grouped and mandatory"):
        KnapsackProblem([1], [1], groups=[0], mandatory=[True])


def test_larger_instance_dp_equals_milp():
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(60), 6)
    values = np.sort(rng.uniform(0, 1, (60, 6)), axis=1).reshape(-1)
    costs = np.tile(np.array([0, 1, 2, 4, 7, 13]), 60)
    p = KnapsackProblem(values, costs, "lut", groups=g)
    a, b = solve_dp(p, {"lut": 200}), solve_milp(p, {"lut": 200})
    assert a.value == pytest.approx(b.value, abs=1e-7)
    assert a.cost["lut"] <= 200 and b.cost["lut"] <= 200
    assert solve_greedy(p, {"lut": 200}).value <= a.value + 1e-12
