"""hls4ml's own converters on lutnet's newer model kinds, with ``backend='LUTNet'``:
``config_from_*_model`` then ``convert_from_pytorch_model`` / ``convert_from_keras_model`` on trained
digits DWN-style models (thermometer encoder, table layers with a learned mapping, GroupSum head,
argmax) and on PolyLUT-Add / NeuraLUT-Assemble tree models.  The firmware is compiled (g++ C simulation) and predicts exactly
what the framework model predicts; ``write()`` emits the encoder and the popcount head as stages of
the C++ and of the Verilog."""
import os
import shutil

import hls4ml
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lutnet.config import RunConfig, from_dict  # noqa: E402
from lutnet.errors import UnsupportedModelError  # noqa: E402

STAGES = ["Input", "LUTThermometer", "LUTDense", "LUTDense", "LUTGroupSum", "LUTArgmax"]
DWN_CFG = {"name": "dwn-digits", "data": {"name": "digits"},
           "model": {"layers": [200, 100], "fan_in": 6, "input_bits": 8, "neuron": {"kind": "table"},
                     "encoder": {"kind": "thermometer", "bits_per_feature": 3, "fit": "quantile"},
                     "head": {"kind": "groupsum", "classes": 10, "tau": 3.33, "argmax": True},
                     "mapping": "learnable", "mapping_candidates": 16},
           "train": {"epochs": 2, "batch_size": 64, "lr": 0.05}}


@pytest.fixture(scope="module")
def digits():
    from lutnet.data import load_dataset
    return load_dataset("digits")


def _trained_dwn(framework, ds):
    from lutnet.frontend import get_frontend
    cfg = from_dict(RunConfig, DWN_CFG, "dwn.yaml")
    fe = get_frontend(framework)
    model = fe.build(cfg.model, ds.n_features, ds.X_train)
    res = fe.fit(model, ds.X_train, ds.y_train, cfg.train, progress=False)
    assert res.best_val_acc > 0.4  # 10 classes; the point here is the conversion
    return model


@pytest.fixture(scope="module")
def torch_dwn(digits):
    return _trained_dwn("torch", digits)


@pytest.fixture(scope="module")
def keras_dwn(digits):
    pytest.importorskip("tensorflow")
    return _trained_dwn("keras", digits)


def _convert(framework, model, out, **kw):
    conv = (hls4ml.converters.convert_from_pytorch_model if framework == "torch"
            else hls4ml.converters.convert_from_keras_model)
    return conv(model, output_dir=str(out), backend="LUTNet", **kw)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_dwn_model_converts_compiles_and_predicts_like_the_model(framework, digits, request, tmp_path):
    from lutnet.frontend import frontend_of
    model = request.getfixturevalue(f"{framework}_dwn")
    config = (hls4ml.utils.config_from_pytorch_model(model, (64,), backend="LUTNet") if framework == "torch"
              else hls4ml.utils.config_from_keras_model(model, backend="LUTNet"))  # the usual first step
    assert config["Model"]["ReuseFactor"] == 1 and config.get("InputShape") == ((64,) if framework == "torch" else None)
    hm = _convert(framework, model, tmp_path / "prj", hls_config=config, cflags="-O1")
    assert [n.class_name for n in hm.get_layers()] == STAGES
    hm.compile()
    X = digits.X_test
    want = frontend_of(model).output_codes(model, X)  # (N, 1) class indices: the argmax stage
    got = np.asarray(hm.predict(X)).reshape(want.shape)
    assert (got != want).sum() == 0 and len(np.unique(want)) >= 8
    text = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    for stage in ("lutnet::thermometer<", "lutnet::lut_layer<", "lutnet::group_sum<", "lutnet::argmax<"):
        assert stage in text, stage


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_keras_dwn_writes_verilog_with_the_encoder_and_popcount_head(keras_dwn, digits, tmp_path):
    hm = _convert("keras", keras_dwn, tmp_path / "prj", output="verilog", simulator="icarus")
    hm.write()
    rtl = tmp_path / "prj" / "rtl"
    modules = {ln.split()[1] for f in rtl.glob("*.v") for ln in f.read_text().splitlines() if ln.startswith("module ")}
    assert {"myproject", "myproject_enc", "myproject_head", "myproject_argmax"} <= modules
    top = (rtl / "myproject.v").read_text()
    assert "myproject_enc" in top and "myproject_head" in top
    hm.compile()
    X = digits.X_test[:300]
    np.testing.assert_array_equal(np.asarray(hm.predict(X)).reshape(-1, 1), keras_dwn.output_codes(X))


def test_a_dwn_model_needs_the_lutnet_backend(torch_dwn, tmp_path):
    with pytest.raises(UnsupportedModelError) as e:
        hls4ml.converters.convert_from_pytorch_model(torch_dwn, output_dir=str(tmp_path / "p"), backend="Vivado")
    assert str(e.value) == ("DWNNet is a lutnet DWN-style model (thermometer encoder, table layers, GroupSum head): "
                            "only the LUTNet backend converts it; use backend='LUTNet' (got backend='Vivado')")


TREES = {"add": {"add": 2}, "assemble": {"assemble": [2]}}


def _tree_model(framework, mode, ds):
    """A tree model from a config, learnable leaves given random scores (a wiring other than the
    drawn one) and random batch-norm parameters so that every level's codes vary."""
    from lutnet.frontend import get_frontend
    from lutnet.harness.strategies import randomize, randomize_keras
    d = {"name": f"{mode}-digits", "data": {"name": "digits"},
         "model": {"layers": [dict(out_features=16, **TREES[mode]), dict(out_features=10, **TREES[mode])],
                   "fan_in": 3, "input_bits": 2, "hidden_bits": 2, "output_bits": 6, "neuron": {"kind": "linear"},
                   "mapping": "learnable", "mapping_candidates": 6}}
    cfg = from_dict(RunConfig, d, "t.yaml")
    fe = get_frontend(framework)
    model = fe.build(cfg.model, ds.n_features, ds.X_train)
    rng = np.random.default_rng(1)
    if framework == "torch":
        import torch
        randomize(model, 1)
        with torch.no_grad():
            for layer in model.layers:
                if layer.mapping is not None:
                    layer.mapping.scores.copy_(torch.randn(layer.mapping.scores.shape))
        model.eval()
    else:
        from lutnet.keras import lut_layers
        randomize_keras(model, 1)
        for layer in lut_layers(model):
            if layer.mapping is not None:
                layer.mapping.scores.assign(rng.normal(0, 1, layer.mapping.scores.shape).astype(np.float32))
                layer.freeze()
    return fe, model


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("mode", ["add", "assemble"])
def test_tree_models_convert_through_the_stock_converters(framework, mode, digits, tmp_path):
    if framework == "keras":
        pytest.importorskip("tensorflow")
    fe, model = _tree_model(framework, mode, digits)
    kw = {"hls_config": {"InputShape": (digits.n_features,)}} if framework == "torch" else {}
    hm = _convert(framework, model, tmp_path / "prj", cflags="-O1", **kw)
    assert [n.class_name for n in hm.get_layers()] == ["Input"] + ["LUTDense"] * 4
    hm.compile()
    from lutnet.harness import check_levels, random_input_codes
    ir = fe.to_ir(model)
    codes = np.concatenate([ir.quantize_input(digits.X_test), random_input_codes(ir, 1000, seed=0)])
    want = ir.evaluate(codes)
    assert all(np.ptp(c, axis=0).max() > 0 for c in ir.evaluate(codes, return_all=True))  # every level's codes vary
    np.testing.assert_array_equal(np.asarray(hm.predict(codes, codes=True)).reshape(want.shape), want)
    rep = check_levels(model, codes, levels=("model", "ir"))  # the framework model, every level's codes
    assert rep.ok, str(rep)
