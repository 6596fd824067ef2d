"""PolyLUT-Add and NeuraLUT-Assemble trees in the core (lutnet.core.assemble): the adder neuron's exact
arithmetic, tree plans, config keys and the errors that name the layer and parameter."""
import numpy as np
import pytest

from lutnet.config import ModelConfig, check_model, from_dict
from lutnet.core.assemble import AddFamily, TreeSpec, check_tree, tree_levels, tree_spec
from lutnet.core.connectivity import CONNECTIVITY
from lutnet.core.neurons import NUMPY_OPS, exact_function, make_family
from lutnet.core.plan import plan_layers
from lutnet.errors import ConfigError, LayerConfigError


def test_adder_is_the_left_to_right_sum_in_float32():
    fam = make_family("add", 3, 4)
    assert isinstance(fam, AddFamily) and fam.params() == [] and fam.options == {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3, 4)).astype(np.float32)
    want = ((x[..., 0] + x[..., 1]) + x[..., 2]) + x[..., 3]
    got = fam.forward(NUMPY_OPS, x, {}, exact=True)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    codes = rng.integers(-4, 4, size=(7, 3, 4))
    y = exact_function(NUMPY_OPS, fam, codes, np.float32(0.5), np.float32(0), {})
    assert np.array_equal(y, codes.sum(-1) * np.float32(0.5))


def test_tree_levels_split_each_neuron_into_disjoint_groups():
    spec = tree_spec("L", assemble=[3, 2], hidden_bits=2)
    assert spec == TreeSpec("assemble", (3, 2), 2, False) and spec.leaves_per_neuron == 6
    conn = np.arange(4 * 12).reshape(4, 12)  # 4 neurons, fan_in 2 x 3 x 2 = 12 inputs each
    levels = tree_levels(spec, 4, 2, conn)
    assert [(lv.count, lv.fan_in) for lv in levels] == [(24, 2), (8, 3), (4, 2)]
    assert np.array_equal(levels[0].connectivity[6:12].reshape(-1), conn[1])  # neuron 1's leaves: its inputs
    assert np.array_equal(levels[1].connectivity[2], [6, 7, 8])
    assert np.array_equal(levels[2].connectivity[1], [2, 3])
    assert levels[-1].top and not levels[0].top and levels[0].bits == 2 and levels[0].signed is False
    add = tree_levels(tree_spec("L", add=2, out_bits=3), 4, 3, np.arange(24).reshape(4, 6))
    assert [(lv.count, lv.fan_in, lv.kind) for lv in add] == [(8, 3, None), (4, 2, "add")]
    assert add[0].bits == 4 and add[0].signed  # PolyLUT-Add: signed sub-neuron codes of bits + 1


@pytest.mark.parametrize("kwargs,match", [
    (dict(add=2, assemble=[2]), "exclusive"),
    (dict(add=1), "add must be an integer >= 2"),
    (dict(add_bits=3), "add_bits=3 is set but add is not"),
    (dict(assemble=[2, 1]), "assemble must list"),
    (dict(assemble=[2], assemble_bits=0), "assemble_bits must be"),
])
def test_bad_tree_options_name_the_layer_and_parameter(kwargs, match):
    with pytest.raises(LayerConfigError, match=match) as e:
        tree_spec("LUTLayer 'x'", **kwargs)
    assert "LUTLayer 'x'" in str(e.value)


def test_effective_fan_in_larger_than_the_inputs_is_refused():
    with pytest.raises(LayerConfigError, match=r"layer0.*add=2 with fan_in=4 reads 8 distinct inputs.*6 inputs"):
        check_tree("layer0", tree_spec("layer0", add=2), 6, 4)


def _cfg(layers, **kw):
    return from_dict(ModelConfig, dict(layers=layers, fan_in=2, **kw), "m.yaml")


def test_config_keys_expand_into_table_levels():
    cfg = _cfg([{"out_features": 6, "add": 2, "neuron": {"kind": "poly", "degree": 3}},
                {"out_features": 3, "assemble": [3], "assemble_bits": 1}], output_bits=3)
    check_model(cfg, 16, "m.yaml")
    plans = plan_layers(cfg, 16, CONNECTIVITY)
    assert [(p.name, p.out_features, p.fan_in, p.neuron["kind"], p.out_bits, p.out_signed) for p in plans] == [
        ("layer0_t0", 12, 2, "poly", 3, True), ("layer0", 6, 2, "add", 2, False),
        ("layer1_t0", 9, 2, "linear", 1, False), ("layer1", 3, 3, "linear", 3, True)]
    assert [p.first for p in plans] == [True, False, False, False]
    leaves = plans[0].connectivity.reshape(6, 4)
    assert all(len(set(row)) == 4 for row in leaves)  # each neuron's two groups are disjoint


@pytest.mark.parametrize("layer,n,match", [
    ({"out_features": 3, "add": 3}, 5, r"model.layers\[0\].add=3: each neuron of layer 0 reads .* = 6 distinct"),
    ({"out_features": 3, "assemble": [2, 2]}, 7, r"model.layers\[0\].assemble=\[2, 2\]"),
    ({"out_features": 3, "assemble": [8], "assemble_bits": 3}, 64, r"assemble_bits\) would have 2\^24 rows"),
])
def test_config_errors_name_the_key(layer, n, match):
    with pytest.raises(ConfigError, match=match) as e:
        check_model(_cfg([layer]), n, "m.yaml")
    assert str(e.value).startswith("m.yaml: ")


def test_config_type_errors_at_load():
    with pytest.raises(ConfigError, match=r"m.yaml: model.layers\[0\]: add and assemble are exclusive"):
        _cfg([{"out_features": 3, "add": 2, "assemble": [2]}])
    with pytest.raises(ConfigError, match=r"model.layers\[0\].add must be an integer"):
        _cfg([{"out_features": 3, "add": "two"}])
