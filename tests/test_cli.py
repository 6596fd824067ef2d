"""The lutnet command end to end on the bundled digits (a few epochs)."""
import pytest
import torch

from lutnet.builder import build_model
from lutnet.checkpoint import load_checkpoint, save_checkpoint
from lutnet.cli import main
from lutnet.config import load_config
from lutnet.errors import LutnetError
from lutnet.ir import NetworkIR


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "digits-s", "--epochs", "3", "--out", str(out), "-q"]) == 0
    return out


def test_train_export_verify_info(trained, capsys):
    ckpt = trained / "checkpoint.pt"
    model, cfg, metrics = load_checkpoint(ckpt)
    assert cfg.name == "digits-s" and 0 <= metrics["test_acc"] <= 1
    ir_path = trained / "m.npz"
    assert main(["export", str(ckpt), "-o", str(ir_path), "-q"]) == 0
    NetworkIR.load(ir_path)
    assert main(["verify", str(ckpt), "--ir", str(ir_path), "-q"]) == 0
    assert "0 output mismatches, 0 input-code mismatches" in capsys.readouterr().out
    assert main(["info", str(ir_path)]) == 0
    # never overwrite without --force
    assert main(["export", str(ckpt), "-o", str(ir_path), "-q"]) == 2
    assert capsys.readouterr().err == (f"lutnet export: error: {ir_path} exists; pass --force to replace it, "
                                       f"or choose another output\n")
    assert main(["train", "digits-s", "--epochs", "1", "--out", str(trained), "-q"]) == 2
    assert "checkpoint.pt exists; pass --force" in capsys.readouterr().err


def test_checkpoint_keeps_connectivity(trained):
    model, cfg, _ = load_checkpoint(trained / "checkpoint.pt")
    fresh = build_model(cfg.model, 64)
    sd = torch.load(trained / "checkpoint.pt", weights_only=False)["state_dict"]
    assert torch.equal(model.layers[0].connectivity, sd["layers.0.connectivity"])
    assert torch.equal(fresh.layers[0].connectivity, model.layers[0].connectivity)  # seeded


def test_checkpoint_from_another_model(tmp_path, trained):
    cfg = load_config("digits-s")
    model, _, _ = load_checkpoint(trained / "checkpoint.pt")
    cfg.model.layers[0].out_features = 64  # the stored config no longer matches the weights
    save_checkpoint(tmp_path / "x.pt", model, cfg, 64)
    with pytest.raises(LutnetError, match="the weights do not fit the model its config describes"):
        load_checkpoint(tmp_path / "x.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(LutnetError, match="is not a readable lutnet checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_onnx_command(trained, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    import numpy as np

    from lutnet.onnx_export import run_onnx
    ir_path = tmp_path / "m.npz"
    assert main(["export", str(trained / "checkpoint.pt"), "-o", str(ir_path), "-q"]) == 0
    assert main(["onnx", str(ir_path), "-o", str(tmp_path / "m.onnx")]) == 0
    ir = NetworkIR.load(ir_path)
    x = np.random.default_rng(0).random((500, ir.n_inputs), dtype=np.float32)
    np.testing.assert_array_equal(run_onnx(str(tmp_path / "m.onnx"), x), ir.evaluate(ir.quantize_input(x)))
