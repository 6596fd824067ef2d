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
        net = build_model(cfg.model, n_in)
        assert net.in_features == n_in
