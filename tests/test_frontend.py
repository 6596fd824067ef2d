"""The one Frontend notion: which framework a model object or a checkpoint path belongs to (a bad
path is a LutnetError naming it), what each frontend does, and saving a LUTNet built in Python."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lutnet.config import load_config
from lutnet.errors import LutnetError, OutputExistsError
from lutnet.frontend import FRONTENDS, frontend_of, get_frontend
from lutnet.nn import LUTLayer, LUTNet
from lutnet.quant import SignedActFixedPoint, SignedActQuant, UnsignedActQuant

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def small_net(kind="linear", **opts):
    torch.manual_seed(0)
    return LUTNet([
        LUTLayer(10, 8, 3, kind, input_quant=SignedActQuant, input_bit_width=3, output_quant=UnsignedActQuant,
                 output_bit_width=2, seed=0, name="first", **opts),
        LUTLayer(8, 4, 2, kind, output_quant=SignedActQuant, output_bit_width=3, seed=1, connectivity="balanced",
                 **opts)])


def test_frontend_of_model_objects_and_names():
    net = small_net()
    assert frontend_of(net) is FRONTENDS["torch"] and frontend_of(net).framework == "brevitas"
    for name in ("torch", "brevitas", "PyTorch"):
        assert get_frontend(name) is FRONTENDS["torch"]
    assert get_frontend("qkeras") is FRONTENDS["keras"]
    with pytest.raises(LutnetError, match=r"^unknown framework 'jax'; known: torch, brevitas, pytorch, keras, qkeras"):
        get_frontend("jax")
    with pytest.raises(LutnetError, match=r"^expected a lutnet.nn.LUTNet, a Keras model of lutnet.keras.LUTLayer "
                                          r"layers or a checkpoint path; got a torch.nn.modules.linear.Linear$"):
        frontend_of(torch.nn.Linear(3, 3))


def test_frontend_of_a_model_never_imports_tensorflow():
    code = ("import sys; from lutnet.frontend import frontend_of; from tests.test_frontend import small_net;"
            "print(frontend_of(small_net()).name, [m for m in ('tensorflow', 'keras', 'qkeras') if m in sys.modules])")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "torch []"


def test_frontend_of_checkpoint_paths(tmp_path):
    from lutnet.checkpoint import save_checkpoint
    cfg = load_config("digits-s")
    fe = get_frontend("torch")
    model = fe.build(cfg.model, 64)
    ckpt = save_checkpoint(tmp_path / "run" / fe.checkpoint_name, model, cfg, 64)
    assert frontend_of(ckpt) is fe and frontend_of(str(ckpt)) is fe
    loaded, cfg2, _ = fe.load_checkpoint(ckpt)
    assert cfg2.name == cfg.name and frontend_of(loaded) is fe

    missing = tmp_path / "nothing.pt"
    with pytest.raises(LutnetError, match=rf"^{missing}: no such checkpoint file or directory"):
        frontend_of(missing)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(LutnetError, match=rf"^{junk} is not a lutnet checkpoint \(a PyTorch checkpoint file"):
        frontend_of(junk)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(LutnetError, match=r"emptydir is a directory but not a lutnet Keras checkpoint"):
        frontend_of(tmp_path / "emptydir")
    ir_file = fe.to_ir(loaded).save(tmp_path / "m.lutir.npz")
    with pytest.raises(LutnetError, match=r"m.lutir.npz looks like a LUT IR file, not a checkpoint"):
        frontend_of(ir_file)


def test_frontend_codes_and_pruning_torch():
    net = small_net()
    fe = frontend_of(net)
    X = np.random.default_rng(0).normal(0, 1, (300, 10)).astype(np.float32)
    ir = fe.to_ir(net)
    codes = fe.input_codes(net, X)
    np.testing.assert_array_equal(codes, ir.quantize_input(X))
    layers = fe.layer_codes(net, X)
    np.testing.assert_array_equal(layers[-1], fe.output_codes(net, X))
    for got, want in zip(layers, ir.evaluate(codes, return_all=True)):
        np.testing.assert_array_equal(got, want)
    full = fe.lut_cost(net)
    res = fe.prune(net, 0.5 * full)
    assert res.lut_cost <= 0.5 * full and fe.lut_cost(net) == res.lut_cost == fe.to_ir(net).lut_cost()


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}),
                                       ("subnet", {"width": 4, "depth": 2, "skip": 1})])
def test_lutnet_save_load_round_trip(tmp_path, kind, opts):
    net = small_net(kind, **opts)
    X = np.random.default_rng(1).normal(0, 1, (400, 10)).astype(np.float32)
    net.train()
    net(torch.as_tensor(X))  # moves batch-norm statistics and nothing else
    with torch.no_grad():
        net.layers[0].input_mask[::2, 1] = False  # pruned inputs
        for p in net.parameters():
            p.add_(0.01)
    net.eval()
    path = net.save(tmp_path / "m.pt")
    back = LUTNet.load(path)
    assert isinstance(back, LUTNet) and not back.training
    for a, b in zip(net.layers, back.layers):
        assert (a.name, a.in_features, a.out_features, a.fan_in, a.neuron.kind) == \
               (b.name, b.in_features, b.out_features, b.fan_in, b.neuron.kind)
        assert all(getattr(a.neuron, k) == getattr(b.neuron, k) for k in opts)
        assert a.output_info().bits == b.output_info().bits and a.output_info().signed == b.output_info().signed
    assert back.layers[0].input_info().bits == 3
    sa, sb = net.state_dict(), back.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    np.testing.assert_array_equal(back.output_codes(torch.as_tensor(X)).numpy(),
                                  net.output_codes(torch.as_tensor(X)).numpy())
    a, b = get_frontend("torch").to_ir(net), get_frontend("torch").to_ir(back)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.tables, lb.tables)
    with pytest.raises(OutputExistsError, match="m.pt exists; pass overwrite=True"):
        net.save(path)
    net.save(path, overwrite=True)


def test_save_load_keeps_quantizer_recipes_and_ranges(tmp_path):
    from lutnet.builder import input_quantizer
    cfg = load_config("digits-s").model
    cfg.input_range = 4.0  # a range argument on the input quantizer: min_val/max_val = -4/4
    torch.manual_seed(0)
    net = LUTNet([LUTLayer(6, 4, 2, input_quant=input_quantizer(cfg), seed=0),
                  LUTLayer(4, 3, 2, output_quant=SignedActFixedPoint, output_bit_width=4, seed=1, batch_norm=False)])
    back = LUTNet.load(net.save(tmp_path / "q.pt"))
    inj = back.layers[0].input_quant.act_quant.quant_injector
    assert inj.bit_width == cfg.input_bits and inj.max_val == 4.0
    assert back.layers[1].bn is None
    assert back.layers[1].output_info().spec() == net.layers[1].output_info().spec()
    X = torch.randn(200, 6) * 3
    np.testing.assert_array_equal(back.output_codes(X).numpy(), net.output_codes(X).numpy())


def test_load_refuses_other_files_by_name(tmp_path):
    from lutnet.checkpoint import load_checkpoint, save_checkpoint
    cfg = load_config("digits-s")
    ckpt = save_checkpoint(tmp_path / "c.pt", get_frontend("torch").build(cfg.model, 64), cfg, 64)
    with pytest.raises(LutnetError, match=r"c.pt is a training checkpoint, not a saved model: load it with "
                                          r"lutnet.checkpoint.load_checkpoint"):
        LUTNet.load(ckpt)
    saved = small_net().save(tmp_path / "s.pt")
    with pytest.raises(LutnetError, match=r"s.pt is a model saved with LUTNet.save, not a training checkpoint"):
        load_checkpoint(saved)
    with pytest.raises(LutnetError, match=r"nope.pt: no such saved model file"):
        LUTNet.load(tmp_path / "nope.pt")


def test_keras_frontend_models_and_checkpoints(tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("qkeras")
    cfg = load_config("digits-s")
    fe = get_frontend("keras")
    model = fe.build(cfg.model, 64)
    assert frontend_of(model) is fe and frontend_of(small_net()) is FRONTENDS["torch"]
    ckpt = fe.save_checkpoint(tmp_path / fe.checkpoint_name, model, cfg, 64, {"test_acc": 0.5})
    assert frontend_of(ckpt) is fe
    loaded, cfg2, metrics = fe.load_checkpoint(ckpt)
    assert cfg2.name == cfg.name and metrics == {"test_acc": 0.5}
    X = np.random.default_rng(0).uniform(0, 16, (200, 64)).astype(np.float32)
    ir = fe.to_ir(loaded, progress=True)
    codes = fe.input_codes(loaded, X)
    np.testing.assert_array_equal(codes, ir.quantize_input(X))
    layers = fe.layer_codes(loaded, X)
    np.testing.assert_array_equal(layers[-1], fe.output_codes(loaded, X))
    np.testing.assert_array_equal(layers[-1], ir.evaluate(codes))
    saved = fe.save_model(loaded, tmp_path / "m.keras")
    np.testing.assert_array_equal(fe.output_codes(fe.load_model(saved), X), layers[-1])
    with pytest.raises(LutnetError, match=r"m.h5: a Keras model file must end in .keras"):
        fe.save_model(loaded, tmp_path / "m.h5")
    with pytest.raises(OutputExistsError, match=r"m.keras exists; pass overwrite=True"):
        fe.save_model(loaded, saved)
    (ckpt / "run.json").write_text('{"format": "something-else"}')
    with pytest.raises(LutnetError, match=r"checkpoint_keras is not a lutnet Keras checkpoint \(written by lutnet "
                                          r"train --framework keras"):
        fe.load_checkpoint(ckpt)


def test_save_load_brevitas_quantizer_modules_and_refuses_local_recipes(tmp_path):
    from brevitas.nn import QuantHardTanh, QuantIdentity, QuantReLU
    from brevitas.quant import Int8ActPerTensorFixedPoint
    torch.manual_seed(0)
    X = torch.randn(500, 6) * 2
    for q0, q1, bits in [(QuantHardTanh(bit_width=3, max_val=2.0, min_val=-2.0, return_quant_tensor=True),
                          QuantReLU(bit_width=2, return_quant_tensor=True), None),
                         (QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, bit_width=4, return_quant_tensor=True),
                          "signed", 3)]:
        net = LUTNet([LUTLayer(6, 4, 2, input_quant=q0, input_bit_width=None, output_quant=q1,
                               output_bit_width=bits, seed=0)])
        back = LUTNet.load(net.save(tmp_path / "m.pt", overwrite=True))
        assert type(back.layers[0].input_quant) is type(q0)
        assert back.layers[0].input_info().spec() == net.layers[0].input_info().spec()
        np.testing.assert_array_equal(back.output_codes(X).numpy(), net.output_codes(X).numpy())

    class LocalRecipe(SignedActQuant):
        max_val = 2.0

    net = LUTNet([LUTLayer(6, 4, 2, input_quant=LocalRecipe, input_bit_width=2, name="l0")])
    with pytest.raises(LutnetError, match=r"^LUTLayer 'l0' input_quant: quantizer recipe "
                                          r"test_save_load_.*LocalRecipe is defined inside a function or in __main__"):
        net.save(tmp_path / "local.pt")
    assert not (tmp_path / "local.pt").exists()
