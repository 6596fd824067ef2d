"""The framework-neutral rules of weightless table neurons, thermometer encoders and GroupSum heads."""
import itertools

import numpy as np
import pytest

from lutnet.core import table_neuron as tn
from lutnet.errors import LayerConfigError, LutnetError


def _efd_bruteforce(w, addr, j, alpha, beta):
    """dy/dx_j at address ``addr``: sum over rows k with bit j = 0 of alpha*beta**H * finite difference."""
    f = int(np.log2(len(w)))
    wc = np.clip(w, -1, 1)
    total = 0.0
    for k in range(1 << f):
        if (k >> j) & 1:
            continue
        h = bin((k ^ addr) & ~(1 << j)).count("1")
        total += alpha * beta ** h * (wc[k | (1 << j)] - wc[k])
    return total


@pytest.mark.parametrize("fan_in", [1, 2, 4, 6])
def test_efd_table_matches_the_definition(fan_in):
    rng = np.random.default_rng(fan_in)
    w = rng.normal(0, 1, (3, 1 << fan_in)).astype(np.float32)
    m, hi, lo = tn.efd_matrices(fan_in)
    g = tn.efd_grad_table(w, m, hi, lo)
    alpha, beta = tn.efd_constants(fan_in)
    assert alpha == pytest.approx(0.5 * 0.75 ** (fan_in - 1)) and beta == pytest.approx(1 / 3)
    for o in range(3):
        for a in rng.integers(0, 1 << fan_in, 4):
            for j in range(fan_in):
                assert g[o, j, a] == pytest.approx(_efd_bruteforce(w[o], int(a), j, alpha, beta), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("beta", [0.0, 0.2, 1.0])
def test_efd_beta_matches_the_definition_and_beta_zero_is_the_plain_finite_difference(beta):
    fan_in = 6
    rng = np.random.default_rng(7)
    w = rng.normal(0, 1, (2, 1 << fan_in)).astype(np.float32)
    g = tn.efd_grad_table(w, *tn.efd_matrices(fan_in, beta=beta))
    alpha = tn.efd_constants(fan_in)[0]
    wc = np.clip(w, -1, 1)
    for o in range(2):
        for a in rng.integers(0, 1 << fan_in, 4):
            for j in range(fan_in):
                want = _efd_bruteforce(w[o], int(a), j, alpha, beta)
                assert g[o, j, a] == pytest.approx(want, rel=1e-5, abs=1e-6)
                if beta == 0:  # only the address itself: alpha * (w~[a with bit j set] - w~[a with it clear])
                    assert want == pytest.approx(alpha * (wc[o, a | (1 << j)] - wc[o, a & ~(1 << j)]), abs=1e-6)


@pytest.mark.parametrize("beta", [-0.1, 1.5, "x"])
def test_efd_beta_out_of_range_names_the_layer(beta):
    with pytest.raises(LayerConfigError, match=rf"^TableLayer 'l0': beta \(EFD\) must lie in \[0, 1\], got {beta!r}$"):
        tn.check_efd_beta("TableLayer 'l0'", beta)
    assert tn.check_efd_beta("x", None) is None and tn.check_efd_beta("x", 0) == 0.0


def test_efd_for_one_input_is_the_plain_finite_difference():
    # F = 1: the derivative is alpha * (w[1] - w[0]) whatever the address
    w = np.array([[-0.5, 0.25]], np.float32)
    g = tn.efd_grad_table(w, *tn.efd_matrices(1))
    assert np.allclose(g[0, 0], 0.5 * 0.75)


def test_addresses_put_input_zero_in_the_low_bit_and_read_out_is_the_ir_rule():
    from lutnet.ir import LayerIR
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (50, 9))
    conn = np.array([[0, 3, 5], [8, 1, 2]])
    addr = tn.addresses(bits, conn)
    assert np.array_equal(addr[:, 0], bits[:, 0] + 2 * bits[:, 3] + 4 * bits[:, 5])
    w = rng.normal(size=(2, 8))
    tb = tn.table_bits(w)
    assert set(np.unique(tb)) <= {0, 1}
    layer = LayerIR.from_dense("t", conn, 1, False, 1, False, tb)
    assert np.array_equal(tn.read_out(bits, conn, tb), layer.evaluate(bits))


def test_efd_input_grad_scatters_per_neuron_gradients_to_their_inputs():
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (7, 5))
    conn = np.array([[0, 1], [1, 4], [1, 0]])
    w = rng.normal(size=(3, 4)).astype(np.float32)
    gy = rng.normal(size=(7, 3))
    m, hi, lo = tn.efd_matrices(2)
    got = tn.efd_input_grad(bits, conn, w, m, hi, lo, gy)
    alpha, beta = tn.efd_constants(2)
    want = np.zeros((7, 5))
    for n, o, j in itertools.product(range(7), range(3), range(2)):
        a = int(bits[n, conn[o, 0]] + 2 * bits[n, conn[o, 1]])
        want[n, conn[o, j]] += gy[n, o] * _efd_bruteforce(w[o], a, j, alpha, beta)
    assert np.allclose(got, want, atol=1e-6)
    assert np.all(got[:, [2, 3]] == 0)  # inputs nobody reads get no gradient


def test_distinct_argmax_is_argmax_without_repeats():
    rng = np.random.default_rng(2)
    s = rng.normal(size=(200, 4, 6))
    idx = tn.distinct_argmax(s)
    assert all(len(set(r)) == 4 for r in idx.tolist())
    assert np.array_equal(idx[:, 0], np.argmax(s[:, 0], 1))
    s2 = np.zeros((3, 3, 5))
    s2[:, :, 2] = 1.0  # every slot prefers input 2: only slot 0 gets it
    idx2 = tn.distinct_argmax(s2)
    assert np.all(idx2[:, 0] == 2) and np.all(idx2[:, 1:] != 2)
    # a drawn wiring given as the start is what the mapping selects first
    conn = np.array([[4, 1], [0, 3]])
    assert np.array_equal(tn.distinct_argmax(tn.init_mapping_scores(2, 2, 5, 0, conn)), conn)


def _distinct_argmax_reference(scores, cand):
    """Slot by slot, neuron by neuron: the best candidate not taken by an earlier slot."""
    out, f, k = scores.shape
    idx = np.empty((out, f), np.int64)
    for o in range(out):
        for j in range(f):
            order = np.argsort(-scores[o, j], kind="stable")
            idx[o, j] = next(cand[o, j, c] for c in order if cand[o, j, c] not in idx[o, :j])
    return idx


@pytest.mark.parametrize("k,with_cand", [(6, False), (4, True), (40, False)])
def test_distinct_argmax_equals_the_slot_by_slot_reference(k, with_cand):
    rng = np.random.default_rng(k)
    out, f, n_in = 300, 4, 9
    s = rng.integers(0, 4, (out, f, k)).astype(np.float32) + rng.normal(0, 1e-3, (out, f, k)).astype(np.float32)
    cand = np.stack([np.stack([rng.permutation(n_in)[:k] for _ in range(f)]) for _ in range(out)]) if with_cand \
        else None
    got = tn.distinct_argmax(s, cand)
    ref = _distinct_argmax_reference(s, np.broadcast_to(np.arange(k), s.shape) if cand is None else cand)
    assert np.array_equal(got, ref)
    first = np.argmax(s, 2) if cand is None else np.take_along_axis(cand, np.argmax(s, 2)[:, :, None], 2)[:, :, 0]
    assert 0 < int((np.sort(first, 1)[:, 1:] == np.sort(first, 1)[:, :-1]).any(1).sum()) < out  # both paths ran


def test_distinct_argmax_names_the_neuron_without_a_candidate_left():
    s = np.zeros((5, 2, 2), np.float32)
    cand = np.zeros((5, 2, 2), np.int64)
    cand[:, :, 1] = np.arange(5)[:, None] + 1
    cand[3] = [[0, 7], [0, 7]]  # neuron 3: both slots have the same two candidates: fine
    cand[4] = [[0, 0], [0, 0]]  # neuron 4: slot 1 has nothing left once slot 0 took input 0
    with pytest.raises(LayerConfigError, match=r"^learnable mapping: neuron 4 slot 1 has no candidate input left"):
        tn.distinct_argmax(s, cand)


@pytest.mark.parametrize("fit", ["quantile", "uniform"])
def test_fitted_thresholds_increase_strictly_inside_the_code_range(fit):
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (500, 6))
    codes[:, 0] = 0          # a constant feature (MNIST border pixels)
    codes[:, 1] = 255
    codes[:, 2] = rng.integers(0, 2, 500) * 255   # two values only
    t = tn.fit_thresholds(codes, 4, fit, 0, 255)
    assert t.shape == (6, 4)
    assert np.all(np.diff(t, axis=1) > 0) and t.min() >= 1 and t.max() <= 255
    tn.check_thresholds("enc", t, 0, 255)
    if fit == "quantile":  # distributive: about a fifth of the training codes below the first threshold
        frac = (codes[:, 3:] < t[3:, 0]).mean(0)
        assert np.all(np.abs(frac - 0.2) < 0.05)
    bits = tn.thermometer_bits(codes, t)
    assert bits.shape == (500, 24)
    assert np.all(np.diff(bits.reshape(500, 6, 4), axis=2) <= 0)  # a thermometer: ones then zeros


def test_bad_inputs_get_one_error_naming_layer_and_parameter():
    with pytest.raises(LayerConfigError, match=r"enc.*thresholds of feature 1 are not strictly increasing"):
        tn.check_thresholds("Thermometer 'enc'", [[1, 2], [3, 3]], 0, 15)
    with pytest.raises(LayerConfigError, match=r"'t0'.*fan_in=9.*max_address_bits=8"):
        tn.check_table_shape("TableLayer 't0'", 9, 1, 8)
    with pytest.raises(LayerConfigError, match=r"'head'.*groups has 5 entries.*6 outputs"):
        tn.check_groups("GroupSumHead 'head'", [0, 0, 1, 1, 2], 6)
    with pytest.raises(LayerConfigError, match=r"class 1 without outputs"):
        tn.check_groups("GroupSumHead 'head'", [0, 0, 2, 2], 4)
    with pytest.raises(LayerConfigError, match=r"n_classes=4 does not divide the 10 outputs"):
        tn.default_groups(10, 4, "GroupSumHead 'head'")
    with pytest.raises(LayerConfigError, match=r"bits_per_feature=9.*input codes"):
        tn.fit_thresholds(np.zeros((3, 2), int), 9, "uniform", 0, 7, "Thermometer 'enc'")
    assert issubclass(LayerConfigError, LutnetError)
