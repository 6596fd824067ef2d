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
