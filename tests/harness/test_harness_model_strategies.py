"""What the harness's model strategies draw (tree layers, DWN stage models, both frameworks), and the
framework-model level on a trained Keras DWN digits model (every stage's codes: table layers, head
scores, argmax) next to the IR, ONNX, C++ and Icarus levels."""
import collections
import os
import shutil

import numpy as np
import pytest
from hypothesis import given, settings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lutnet.harness import check_levels  # noqa: E402
from lutnet.harness.strategies import brevitas_models, dwn_models, keras_tree_models  # noqa: E402


def _draw(strategy, n):
    cases = []

    @settings(max_examples=n, deadline=None, derandomize=True, database=None)
    @given(strategy)
    def draw(case):
        cases.append(case)
    draw()
    return cases


def test_brevitas_strategy_draws_tree_layers():
    seen = collections.Counter()
    for case in _draw(brevitas_models(), 40):
        for spec in case.spec["layers"]:
            seen["add" if "add" in spec else "assemble" if "assemble" in spec else "plain"] += 1
        kinds = {L.kind for L in case.ir.layers}
        if any("add" in spec for spec in case.spec["layers"]):
            assert "add" in kinds  # the adder level is a table layer of its own
    assert min(seen.values()) >= 3, seen


def test_keras_tree_strategy_draws_both_tree_kinds():
    pytest.importorskip("tensorflow")
    seen = collections.Counter()
    for case in _draw(keras_tree_models(), 10):
        modes = {m for spec in case.spec["layers"] for m in ("add", "assemble") if m in spec}
        assert modes, case  # every draw has a tree layer
        seen.update(modes)
        assert len(case.ir.layers) > len(case.spec["layers"])  # a tree is several table levels
    assert seen["add"] >= 3 and seen["assemble"] >= 3, seen


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_dwn_strategy_draws_every_stage_and_mapping(framework):
    if framework == "keras":
        pytest.importorskip("tensorflow")
    seen = collections.Counter()
    for case in _draw(dwn_models(framework=framework), 12):
        ir = case.ir
        assert ir.encoder is not None and ir.head is not None and all(L.kind == "table" for L in ir.layers)
        seen["argmax" if ir.argmax else "scores"] += 1
        seen["signed" if case.spec["input_signed"] else "unsigned"] += 1
        for spec in case.spec["layers"]:
            seen[spec["mapping"]] += 1
            seen["candidates" if spec["mapping_candidates"] else "all-inputs"] += spec["mapping"] == "learnable"
    assert min(seen[k] for k in ("argmax", "scores", "signed", "unsigned", "learnable", "random", "balanced",
                                 "candidates", "all-inputs")) >= 1, seen


DWN_CFG = {"name": "dwn-digits-keras", "data": {"name": "digits"},
           "model": {"layers": [120, 60], "fan_in": 6, "input_bits": 8, "neuron": {"kind": "table"},
                     "encoder": {"kind": "thermometer", "bits_per_feature": 3, "fit": "quantile"},
                     "head": {"kind": "groupsum", "classes": 10, "tau": 3.33, "argmax": True},
                     "mapping": "learnable", "mapping_candidates": 16},
           "train": {"epochs": 4, "batch_size": 32, "lr": 0.03}}


@pytest.fixture(scope="module")
def keras_dwn_digits():
    pytest.importorskip("tensorflow")
    from lutnet.config import RunConfig, from_dict
    from lutnet.data import load_dataset
    from lutnet.frontend import get_frontend
    cfg = from_dict(RunConfig, DWN_CFG, "dwn.yaml")
    ds = load_dataset("digits")
    fe = get_frontend("keras")
    model = fe.build(cfg.model, ds.n_features, ds.X_train)
    res = fe.fit(model, ds.X_train, ds.y_train, cfg.train, progress=False)
    return model, ds, res


@pytest.mark.skipif(any(shutil.which(t) is None for t in ("g++", "iverilog")), reason="needs g++ and iverilog")
def test_trained_keras_dwn_at_the_model_level_and_every_simulation(keras_dwn_digits, tmp_path):
    model, ds, res = keras_dwn_digits
    assert res.best_val_acc > 0.7
    codes = model.to_ir().quantize_input(ds.X_test)
    rep = check_levels(model, codes, levels=("model", "ir", "onnx", "cpp", "icarus"), work_dir=tmp_path,
                       name="keras-dwn-digits")
    assert rep.ok, str(rep)
    assert rep.levels == ["model", "ir", "onnx", "cpp", "icarus"] and rep.mismatch_counts() == dict.fromkeys(
        rep.levels, 0)


def test_keras_dwn_model_level_locates_a_changed_table(keras_dwn_digits):
    """The model level reads every stage of the Keras model: a table changed after the IR was taken is
    found at that layer (not only at the argmax)."""
    from lutnet.harness.levels import model_level
    model, ds, _ = keras_dwn_digits
    ir = model.to_ir()
    codes = ir.quantize_input(ds.X_test[:300])
    layer = model.tables[1]
    saved = layer.table.numpy()
    try:
        layer.table.assign(-saved)  # every table bit of layer 1 flips
        rep = check_levels(ir, codes, levels=("ir",), extra_levels=[model_level(model, ir)])
    finally:
        layer.table.assign(saved)
    m = rep.mismatches[0]
    assert m.level == "model" and m.layer == 1 and m.per_layer and m.n_samples == len(codes)
    assert np.array_equal(model.output_codes(ds.X_test[:300]), ir.evaluate(codes))
