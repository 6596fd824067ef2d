"""Sweep specs are checked before anything runs: each malformed spec gives one message naming the key."""
from __future__ import annotations

import pytest

from lutnet.sweep import SweepSpecError, load_spec, parse_spec

BASE = {"name": "s", "base": "digits-s", "space": {"model.fan_in": {"choice": [3, 4]}}}


def spec(**kw):
    d = {**BASE, **kw}
    return parse_spec({k: v for k, v in d.items() if v is not None}, "s.yaml")


@pytest.mark.parametrize("doc, message", [
    ({"space": {"model.fan_inn": {"choice": [3]}}},
     "s.yaml: space key 'model.fan_inn': unknown field 'fan_inn' (known here: layers, fan_in,"),
    ({"space": {"train.lr": {"uniform": [0.1, 0.1]}}},
     "s.yaml: space key 'train.lr': empty range [0.1, 0.1] (low must be below high)"),
    ({"space": {"train.lr": {"choice": []}}}, "s.yaml: space key 'train.lr': choice needs a non-empty list, got []"),
    ({"objectives": {"test_acc": "max"}},
     "s.yaml: objective 'test_acc' is not produced by any trial; trials report val_acc, luts,"),
    ({"objectives": {"luts": "down"}}, "s.yaml: objective 'luts': mode must be max or min, got 'down'"),
    ({"serach": "grid"}, "s.yaml: unknown key 'serach'; known keys: name, base, search,"),
    ({"search": "bayes"}, "s.yaml: search must be one of grid, random, tpe, nsga2, got 'bayes'"),
    ({"search": "grid", "space": {"train.lr": {"loguniform": [0.01, 0.1]}}},
     "s.yaml: space key 'train.lr': grid search needs a list of values (grid/choice), not loguniform"),
    ({"space": {"model.fan_in": {"choice": [0, 4]}}},
     "s.yaml: space key 'model.fan_in' = 0 makes an invalid config: model.fan_in must be >= 1, got 0"),
    ({"space": {}}, "s.yaml: space must map at least one config field to its values"),
    ({"base": "no-such-model"}, "s.yaml: base: no-such-model: no such config file, and no zoo model of that name"),
    ({"search": "tpe", "scheduler": "asha"}, "s.yaml: scheduler asha works with search grid or random"),
    ({"space": {"prune.lut_budget": {"choice": [-5]}}},
     "s.yaml: space key 'prune.lut_budget': a LUT budget must be a positive number or null, got -5"),
])
def test_bad_spec_is_one_message_naming_the_key(doc, message):
    with pytest.raises(SweepSpecError) as e:
        spec(**doc)
    assert str(e.value).startswith(message), str(e.value)


def test_grid_counts_and_fixed_values():
    s = spec(search="grid", num_samples=2,
             space={"model.fan_in": {"grid": [3, 4]}, "model.hidden_bits": {"choice": [1, 2]}, "train.epochs": 1})
    assert s.grid_size() == 4 and s.n_trials() == 8
    assert s.param_space()["train.epochs"] == 1


def test_bundled_spec_loads():
    s = load_spec("digits-tiny")
    assert s.name == "digits-tiny" and s.n_trials() == 8
