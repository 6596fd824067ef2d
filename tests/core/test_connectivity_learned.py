"""lutnet.core.learned: the freeze path of learned connectivity (numpy only)."""
import numpy as np
import pytest

from lutnet.core.learned import (
    NUMPY_ARRAYS,
    check_learn,
    fan_in_steps,
    freeze_positions,
    group_norms,
    narrower,
    slice_params,
)
from lutnet.core.neurons import NUMPY_OPS, exact_function, make_family
from lutnet.errors import LayerConfigError


def random_params(family, rng):
    return {s.name: rng.normal(size=s.shape).astype(np.float32) for s in family.params()}


def test_freeze_positions_lists_kept_slots_first_then_distinct_padding():
    mask = np.array([[0, 1, 0, 1, 0, 0], [1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]], bool)
    P, m = freeze_positions(mask, 3)
    assert P.tolist() == [[1, 3, 0], [0, 1, 2], [0, 1, 2]]
    assert m.tolist() == [[True, True, False], [True, True, True], [False, False, False]]
    assert all(len(set(r)) == 3 for r in P.tolist())


def test_freeze_positions_refuses_a_neuron_keeping_more_than_the_fan_in():
    with pytest.raises(LayerConfigError, match=r"^freeze: neuron 1 keeps 3 inputs, more than fan_in=2$"):
        freeze_positions(np.array([[1, 0, 0], [1, 1, 1]], bool), 2)


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}), ("poly", {"degree": 3}),
                                       ("subnet", {"width": 5, "depth": 1}),
                                       ("subnet", {"width": 4, "depth": 2, "skip": 1}),
                                       ("subnet", {"width": 5, "depth": 2, "skip": 2}),
                                       ("subnet", {"width": 8, "depth": 1, "skip": 1})])  # identity skip -> projection
def test_narrowed_layer_computes_what_the_wide_layer_computed_under_its_mask(kind, opts):
    """Before/after: the wide family (fan-in S, masked to <= F inputs per neuron) and the frozen family
    (fan-in F, mapped parameters) give bit-identical outputs on every input code."""
    rng = np.random.default_rng(0)
    out, S, F = 7, 8, 3
    wide = make_family(kind, out, S, "L", **opts)
    p = random_params(wide, rng)
    mask = np.zeros((out, S), bool)
    for k in range(out):
        mask[k, rng.choice(S, size=rng.integers(0, F + 1), replace=False)] = True
    P, new_mask = freeze_positions(mask, F)
    narrow = narrower(wide, F)
    q = slice_params(wide, narrow, p, P)
    codes = rng.integers(0, 4, size=(50, 1, S)).repeat(out, 1)
    before = exact_function(NUMPY_OPS, wide, codes, np.float32(0.5), np.float32(1.0), p, mask)
    after = exact_function(NUMPY_OPS, narrow, np.take_along_axis(codes, P[None], 2), np.float32(0.5),
                           np.float32(1.0), q, new_mask)
    assert after.shape == before.shape
    assert np.array_equal(before, after)


def test_subnet_skip_projection_cannot_become_the_identity():
    wide = make_family("subnet", 2, 6, "L", width=4, depth=1, skip=1)
    p = random_params(wide, np.random.default_rng(0))
    with pytest.raises(LayerConfigError, match=r"^L: a subnet neuron with skip whose first block projects its 6 inputs "
                                               r"cannot be narrowed to fan_in=4, where the skip is the identity "
                                               r"\(fan_in = width = 4\); use another fan-in$"):
        slice_params(wide, narrower(wide, 4), p, np.tile(np.arange(4), (2, 1)))


def test_fan_in_steps_fall_to_the_target():
    assert fan_in_steps(24, 6, 3) == [15, 10, 6]
    assert fan_in_steps(6, 6, 3) == [6, 6, 6]
    assert fan_in_steps(8, 3, 1) == [3]
    assert fan_in_steps(24, 6, 2) == [12, 6] and fan_in_steps(24, 6, 2, avoid=12) == [13, 6]


@pytest.mark.parametrize("args,message", [
    (("knapsack", 3, 4, 10, 2), "L: start_fan_in=3 is smaller than the target fan_in=4; learned connectivity trains "
                                "with more inputs than it keeps: use start_fan_in > 4 (or none: dense)"),
    (("knapsack", 8, 4, 10, 0), "L: steps must be >= 1, got 0"),
    (("knapsack", None, 12, 10, 2), "L: fan_in=12 is larger than in_features=10; use fan_in <= 10"),
    (("knapsack", 8, 0, 10, 2), "L: fan_in must be >= 1, got 0"),
    (("pruning", 8, 4, 10, 2), "L: learned connectivity kind must be one of knapsack, group_lasso, got 'pruning'"),
    (("knapsack", 8, 4, 10, 2, 0.0), "L: budget_luts must be > 0 (LUTs of the whole network), got 0.0"),
    (("group_lasso", None, 4, 10, 1, None, -1.0), "L: lasso (the group-lasso strength) must be >= 0, got -1.0"),
])
def test_check_learn_pins_its_errors(args, message):
    with pytest.raises(LayerConfigError) as e:
        check_learn("L", *args)
    assert str(e.value) == message


def test_check_learn_gives_the_start_fan_in():
    assert check_learn("L", "knapsack", 24, 6, 10, 3) == 10   # at most the layer's inputs
    assert check_learn("L", "group_lasso", None, 6, 64, 1) == 64  # none: dense


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}),
                                       ("subnet", {"width": 3, "depth": 1, "skip": 1})])
def test_group_norms_are_the_l2_importance_of_each_input_group(kind, opts):
    """The penalty's groups are the pruning loop's per-input groups: norm**2 = the l2 scores summed."""
    from lutnet.pruning.loop import _reduce_to_inputs, input_param_names
    fam = make_family(kind, 4, 5, "L", **opts)
    p = random_params(fam, np.random.default_rng(1))
    names = input_param_names(fam, p)
    sq = _reduce_to_inputs(fam, [np.square(p[n]) for n in names])
    assert np.allclose(group_norms(NUMPY_ARRAYS, fam, p, eps=0.0) ** 2, sq, rtol=1e-5)
