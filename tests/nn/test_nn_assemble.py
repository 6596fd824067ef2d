"""Brevitas tree layers (PolyLUT-Add, NeuraLUT-Assemble): trained jointly, bit-exact at every harness
level on random models and on a trained digits model, and through the hls4ml LUTNet backend."""
import shutil

import numpy as np
import pytest
import torch

from lutnet.builder import build_model
from lutnet.config import ModelConfig, TrainConfig, from_dict
from lutnet.data import load_dataset
from lutnet.export import to_ir
from lutnet.harness import check_levels, random_input_codes
from lutnet.nn import LUTNet
from lutnet.nn.assemble import tree_layers
from lutnet.quant import SignedActQuant, UnsignedActQuant
from lutnet.train import fit
from lutnet.verify import verify

TOOLS = ("g++", "verilator", "iverilog", "yosys")
ALL_LEVELS = ("model", "ir", "onnx", "cpp", "verilog", "icarus", "postsynth")


def excite(model, seed=0):
    """Batch-norm statistics measured on random inputs and random affine parameters, so every level's
    codes vary (an untrained tree model is near-constant)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(512, model.in_features, generator=g) * 2.4 - 1.2
    with torch.no_grad():
        for layer in model.layers:
            layer.bn.momentum = None  # cumulative average over the passes
            layer.bn.weight.copy_(torch.rand(layer.out_features, generator=g) * 0.5 + 0.5)
            layer.bn.bias.copy_(torch.rand(layer.out_features, generator=g) * 0.5 + 0.25)
        model.train()
        for _ in range(3):
            model(x)
    return model.eval()


def random_model(kind):
    if kind == "add":
        return LUTNet([
            *tree_layers(12, 6, 2, "poly", degree=2, add=2, input_quant=SignedActQuant, input_bit_width=2,
                         output_bit_width=2, seed=1, name="a0"),
            *tree_layers(6, 3, 3, "subnet", width=4, depth=1, add=2, output_quant=SignedActQuant,
                         output_bit_width=3, seed=2, name="a1")])
    return LUTNet([
        *tree_layers(12, 4, 2, "subnet", width=8, depth=2, skip=1, assemble=[2, 2], assemble_bits=2,
                     input_quant=UnsignedActQuant, input_bit_width=2, output_bit_width=2, seed=3, name="t0"),
        *tree_layers(4, 3, 2, "linear", assemble=[2], output_quant=SignedActQuant, output_bit_width=3, seed=4,
                     name="t1")])


@pytest.mark.parametrize("kind", ["add", "assemble"])
def test_tree_layers_shapes_and_names(kind):
    m = random_model(kind)
    ir = to_ir(m)
    if kind == "add":
        assert [(l.name, l.kind, l.out_features) for l in ir.layers] == [
            ("a0_t0", "poly", 12), ("a0", "add", 6), ("a1_t0", "subnet", 6), ("a1", "add", 3)]
        assert ir.layers[0].out_signed.all() and (ir.layers[0].out_bits == 3).all()  # signed bits + 1
    else:
        assert [(l.name, l.out_features) for l in ir.layers] == [
            ("t0_t0", 16), ("t0_t1", 8), ("t0", 4), ("t1_t0", 6), ("t1", 3)]
    conn = m.layers[0].connectivity.numpy()
    per = 2 if kind == "add" else 4
    for n in range(conn.shape[0] // per):  # a neuron's leaves read disjoint groups of inputs
        group = conn[n * per:(n + 1) * per].reshape(-1)
        assert len(set(group.tolist())) == len(group)


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}")
@pytest.mark.parametrize("kind", ["add", "assemble"])
def test_random_tree_model_bit_exact_at_every_level(tmp_path, kind):
    m = excite(random_model(kind), seed=5)
    ir = to_ir(m)
    codes = random_input_codes(ir, 400, seed=1)
    assert len(np.unique(ir.evaluate(codes), axis=0)) > 10
    r = check_levels(m, codes, levels=ALL_LEVELS, work_dir=tmp_path, pipeline=1)
    assert r.ok, str(r)
    assert set(r.levels) == set(ALL_LEVELS) and not r.mismatches


TREES = {
    "polylut-add": [{"out_features": 32, "add": 2, "neuron": {"kind": "poly", "degree": 2}},
                    {"out_features": 10, "add": 2, "neuron": {"kind": "poly", "degree": 2}}],
    "assemble": [{"out_features": 48, "assemble": [2], "neuron": {"kind": "subnet", "width": 8, "depth": 1}},
                 {"out_features": 10, "assemble": [2], "assemble_bits": 3,
                  "neuron": {"kind": "subnet", "width": 8, "depth": 1}}],
}


@pytest.mark.parametrize("name", list(TREES))
def test_trained_digits_tree_model_bit_exact(tmp_path, name):
    ds = load_dataset("digits")
    cfg = from_dict(ModelConfig, dict(layers=TREES[name], fan_in=3, input_bits=2, hidden_bits=2, output_bits=3),
                    "<test>")
    model = build_model(cfg, ds.n_features)
    result = fit(model, ds.X_train, ds.y_train, TrainConfig(epochs=8, batch_size=128, lr=0.02), progress=False)
    assert result.best_val_acc > 0.45, result.history  # trained jointly through the hidden codes (chance: 0.1)
    ir = to_ir(model)
    X = np.concatenate([ds.X_train, ds.X_test])
    report = verify(model, ir, X, np.concatenate([ds.y_train, ds.y_test]))
    assert report.ok, str(report)
    levels = ("model", "ir", "onnx") + (("cpp", "verilog") if shutil.which("verilator") else ())
    r = check_levels(model, ir.quantize_input(ds.X_test[:300]), levels=levels, work_dir=tmp_path)
    assert r.ok, str(r)


@pytest.mark.parametrize("output", ["cpp", pytest.param("verilog", marks=pytest.mark.skipif(
    shutil.which("verilator") is None, reason="needs verilator"))])
def test_hls4ml_lutnet_backend_converts_tree_models(tmp_path, output):
    hls4ml = pytest.importorskip("hls4ml")
    net = excite(random_model("add"), seed=7)
    config = hls4ml.utils.config_from_pytorch_model(net, input_shape=(12,), backend="LUTNet")
    hm = hls4ml.converters.convert_from_pytorch_model(net, hls_config=config, backend="LUTNet", output=output,
                                                      output_dir=str(tmp_path / "prj"))
    hm.compile()
    x = torch.rand(500, 12) * 2.4 - 1.2
    with torch.no_grad():
        want = net(x).numpy()
    assert len(np.unique(want, axis=0)) > 10
    np.testing.assert_array_equal(hm.predict(x.numpy()), want)
