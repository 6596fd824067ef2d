import numpy as np
import pytest

from lutnet.builder import build_model
from lutnet.config import RunConfig, from_dict, load_config, zoo_names
from lutnet.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


GOOD = """
name: t
model:
  layers: [8, {out_features: 3, fan_in: 2, neuron: {kind: poly, degree: 2}}]
  fan_in: 3
"""


def test_good_config(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.model.layers[1].neuron.kind == "poly" and cfg.model.layers[0].out_features == 8
    assert cfg.train.val_fraction == 0.1
    net = build_model(cfg.model, 10)
    assert [l.fan_in for l in net.layers] == [3, 2]
    assert from_dict(RunConfig, cfg.to_dict()) == cfg


def test_malformed_yaml(tmp_path):
    p = write(tmp_path, "name: t\nmodel: [unclosed\n")
    with pytest.raises(ConfigError, match=r"m.yaml: not valid YAML: "):
        load_config(p)


def test_unknown_key(tmp_path):
    p = write(tmp_path, GOOD + "  fanin: 3\n")
    with pytest.raises(ConfigError, match=r"m.yaml: unknown key 'model.fanin'; known keys of model: layers, fan_in"):
        load_config(p)


def test_wrong_type(tmp_path):
    p = write(tmp_path, GOOD.replace("fan_in: 3", "fan_in: three"))
    with pytest.raises(ConfigError, match=r"m.yaml: model.fan_in must be an integer, got str 'three'"):
        load_config(p)
    p = write(tmp_path, GOOD.replace("[8, {", "[true, {"))
    with pytest.raises(ConfigError, match=r"model.layers\[0\] must be a width \(integer\) or a mapping, got True"):
        load_config(p)


def test_missing_key(tmp_path):
    p = write(tmp_path, "name: t\nmodel: {fan_in: 2}\n")
    with pytest.raises(ConfigError, match=r"m.yaml: missing required key 'model.layers'"):
        load_config(p)
    with pytest.raises(ConfigError, match=r"m.yaml: the file is empty"):
        load_config(write(tmp_path, ""))


def test_unknown_kind_in_config(tmp_path):
    cfg = load_config(write(tmp_path, GOOD.replace("kind: poly", "kind: spline")))
    with pytest.raises(ValueError, match="unknown neuron kind 'spline'; known kinds: linear, poly, subnet"):
        build_model(cfg.model, 10)


def test_unknown_zoo_name():
    with pytest.raises(ConfigError, match=r"nope: no such config file, and no zoo model of that name \(zoo: .*digits-s"):
        load_config("nope")


def test_every_zoo_config_builds():
    assert "digits-s" in zoo_names()
    for name in zoo_names():
        cfg = load_config(name)
        n_in = {"digits": 64, "mnist": 784, "jets": 16, "jets-synthetic": 16}[cfg.data.name]
        X = np.random.default_rng(0).random((64, n_in), dtype=np.float32)  # for input_min_active
        net = build_model(cfg.model, n_in, X)
        assert net.in_features == n_in


ACTIVE = """
name: t
model:
  layers: [{out_features: 6, connectivity: random}, 3]
  fan_in: 2
  input_bits: 1
  connectivity: balanced
  input_min_active: 0.2
"""


def test_connectivity_and_input_pool(tmp_path):
    import numpy as np
    cfg = load_config(write(tmp_path, ACTIVE))
    X = np.zeros((100, 10), np.float32)
    X[:30, [1, 4, 7]] = 1.0   # active in 30 % of the samples
    X[:5, 8] = 1.0            # in 5 %: below the threshold
    net = build_model(cfg.model, 10, X)
    assert set(net.layers[0].connectivity.flatten().tolist()) <= {1, 4, 7}
    counts = np.bincount(net.layers[1].connectivity.flatten().numpy(), minlength=6)
    assert counts.tolist() == [1] * 6  # balanced, 3 neurons x fan-in 2 over 6 inputs: a tree
    with pytest.raises(ConfigError, match=r"model.input_min_active is set, so the model needs the training inputs"):
        build_model(cfg.model, 10)
    cfg.model.input_min_active = 0.5
    with pytest.raises(ConfigError, match=r"only 0 inputs are active in the training data, fewer than layer 0's "
                                          r"fan_in=2; lower input_min_active"):
        build_model(cfg.model, 10, X)


def test_bad_connectivity_in_config(tmp_path):
    with pytest.raises(ConfigError, match=r"m.yaml: model.connectivity must be one of random, balanced, got 'local'"):
        load_config(write(tmp_path, ACTIVE.replace("connectivity: balanced", "connectivity: local")))
    with pytest.raises(ConfigError, match=r"m.yaml: model.layers\[0\].connectivity must be one of random, balanced"):
        load_config(write(tmp_path, ACTIVE.replace("connectivity: random", "connectivity: tree")))
    with pytest.raises(ConfigError, match=r"m.yaml: model.input_min_active must be in \[0, 1\), got 1.5"):
        load_config(write(tmp_path, ACTIVE.replace("0.2", "1.5")))


def test_config_connectivity_kinds_are_the_layer_kinds():
    from lutnet.config import CONNECTIVITY_KINDS
    from lutnet.nn.layer import CONNECTIVITY
    assert CONNECTIVITY_KINDS == tuple(CONNECTIVITY)
