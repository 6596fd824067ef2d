"""Our exact solvers pick the same structures as hls4ml's own knapsack solver
(hls4ml.optimization.dsp_aware_pruning.knapsack, dynamic programming) on the same instances."""
import numpy as np
import pytest

from lutnet.pruning import solve
from lutnet.pruning.knapsack import KnapsackProblem

hls_knapsack = pytest.importorskip("hls4ml.optimization.dsp_aware_pruning.knapsack")


@pytest.mark.parametrize("seed", range(20))
def test_same_selection_as_hls4ml_dynamic(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 25))
    # integer values (hls4ml's DP backtracks by exact float equality) from a wide range: a unique optimum
    values = rng.integers(1, 10**6, size=n).astype(np.float64)
    weights = rng.integers(1, 20, size=n)
    capacity = int(weights.sum() * rng.uniform(0.2, 0.8))
    ref_value, ref_selected = hls_knapsack.solve_knapsack(values, weights[None, :], np.array([capacity]),
                                                          implementation="dynamic")
    problem = KnapsackProblem(values, weights, resources=("dsp",))
    for method in ("dp", "milp"):
        ours = solve(problem, {"dsp": capacity}, method=method)
        assert sorted(np.flatnonzero(ours.selected).tolist()) == sorted(int(i) for i in ref_selected), method
        assert ours.value == pytest.approx(ref_value)
        assert ours.cost["dsp"] <= capacity
