import pytest
import torch

from lutnet.nn import LUTLayer, LUTNet, SubnetNeuron, monomials
from lutnet.quant import SignedActQuant


def test_fan_in_larger_than_previous_layer():
    with pytest.raises(ValueError, match=r"LUTLayer 'h1': fan_in=5 is larger than in_features=4 "
                                         r"\(the width of the previous layer\); use fan_in <= 4"):
        LUTLayer(4, 3, 5, name="h1")


def test_unknown_neuron_kind():
    with pytest.raises(ValueError, match="unknown neuron kind 'cubic'; known kinds: linear, poly, subnet"):
        LUTLayer(4, 3, 2, neuron="cubic")


def test_connectivity_is_seeded_distinct_and_saved():
    a, b = LUTLayer(10, 6, 3, seed=7), LUTLayer(10, 6, 3, seed=7)
    assert torch.equal(a.connectivity, b.connectivity)
    assert not torch.equal(a.connectivity, LUTLayer(10, 6, 3, seed=8).connectivity)
    assert all(len(set(r)) == 3 for r in a.connectivity.tolist())
    sd = a.state_dict()
    assert "connectivity" in sd and "input_mask" in sd
    c = LUTLayer(10, 6, 3, seed=99)
    c.load_state_dict(sd)
    assert torch.equal(c.connectivity, a.connectivity)


def test_explicit_connectivity_checked():
    conn = [[0, 1], [2, 3], [1, 3]]
    assert LUTLayer(4, 3, 2, connectivity=conn).connectivity.tolist() == conn
    with pytest.raises(ValueError, match="a neuron lists the same input twice"):
        LUTLayer(4, 3, 2, connectivity=[[0, 0], [1, 2], [2, 3]])
    with pytest.raises(ValueError, match=r"connectivity must have shape \(3, 2\); got \(2, 2\)"):
        LUTLayer(4, 3, 2, connectivity=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match=r"connectivity indices must lie in 0..3"):
        LUTLayer(4, 3, 2, connectivity=[[0, 4], [1, 2], [2, 3]])


@pytest.mark.parametrize("n_in,n_out,fan_in", [(12, 4, 3), (10, 7, 3), (5, 40, 4), (7, 9, 7)])
def test_balanced_connectivity_reads_every_input_equally_often(n_in, n_out, fan_in):
    conn = LUTLayer(n_in, n_out, fan_in, connectivity="balanced", seed=3).connectivity
    assert torch.equal(conn, LUTLayer(n_in, n_out, fan_in, connectivity="balanced", seed=3).connectivity)
    assert all(len(set(r)) == fan_in for r in conn.tolist())
    counts = torch.bincount(conn.flatten(), minlength=n_in)
    if n_out * fan_in <= n_in:  # a tree: no input read twice
        assert int(counts.max()) == 1
    else:
        assert int(counts.max() - counts.min()) <= 2 and int(counts.min()) >= 1


def test_input_pool_restricts_drawn_connectivity():
    pool = [2, 5, 6, 9]
    for kind in ("random", "balanced"):
        conn = LUTLayer(12, 8, 3, connectivity=kind, input_pool=pool, seed=1).connectivity
        assert set(conn.flatten().tolist()) <= set(pool)
    with pytest.raises(ValueError, match=r"LUTLayer 'x': input_pool has 2 inputs but fan_in=3; give a larger pool"):
        LUTLayer(12, 8, 3, input_pool=[1, 2], name="x")
    with pytest.raises(ValueError, match=r"LUTLayer 'x': input_pool indices must lie in 0..11"):
        LUTLayer(12, 8, 3, input_pool=[1, 2, 12], name="x")
    with pytest.raises(ValueError, match=r"LUTLayer 'x': connectivity must be one of random, balanced or an index "
                                         r"array, got 'local'"):
        LUTLayer(12, 8, 3, connectivity="local", name="x")
    with pytest.raises(ValueError, match=r"input_pool only applies to drawn connectivity"):
        LUTLayer(4, 3, 2, connectivity=[[0, 1], [2, 3], [1, 3]], input_pool=[0, 1, 2], name="x")


def test_float_input_needs_input_quant():
    layer = LUTLayer(4, 3, 2, name="x")
    with pytest.raises(TypeError, match="got a float tensor but the layer has no input_quant"):
        layer(torch.randn(2, 4))


def test_lutnet_checks_chain():
    l0 = LUTLayer(4, 3, 2, input_quant=SignedActQuant, input_bit_width=2)
    with pytest.raises(ValueError, match=r"layer 1 \('b'\) has in_features=5 but layer 0 has out_features=3"):
        LUTNet([l0, LUTLayer(5, 2, 2, name="b")])
    with pytest.raises(ValueError, match="the first layer 'a' needs input_quant="):
        LUTNet([LUTLayer(4, 3, 2, name="a")])


def test_monomial_count():
    # C(F + D, D) - 1 monomials of degree 1..D
    assert len(monomials(6, 4)) == 209
    assert monomials(2, 2) == [(0,), (1,), (0, 0), (0, 1), (1, 1)]


def test_subnet_skip_structure():
    n = SubnetNeuron(5, 3, width=8, depth=4, skip=2)  # 5 linear layers: 3->8->8->8->8->1
    assert n.blocks == [(0, 2), (2, 4), (4, 5)]
    assert sorted(n.proj.keys()) == ["0", "4"]  # 3 -> 8 and 8 -> 1 need projections, 8 -> 8 is the identity
    neuralut = SubnetNeuron(5, 3, width=16, depth=3, skip=2)  # NeuraLUT: fc1..fc4, skips every 2
    assert neuralut.blocks == [(0, 2), (2, 4)] and sorted(neuralut.proj.keys()) == ["0", "2"]
    x = torch.randn(7, 5, 3)
    torch.testing.assert_close(n(x, exact=True), n(x, exact=False), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 3}), ("subnet", {"depth": 2, "skip": 1})])
def test_exact_path_matches_fast_path(kind, opts):
    layer = LUTLayer(6, 4, 3, kind, input_quant=SignedActQuant, input_bit_width=3, **opts)
    x = torch.randn(64, 4, 3)
    torch.testing.assert_close(layer.neuron(x, exact=True), layer.neuron(x, exact=False), rtol=1e-5, atol=1e-5)
