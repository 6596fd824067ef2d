"""`lutnet train --framework keras` on a DWN-style config (table neurons, thermometer encoder,
GroupSum head, learnable mapping): the generic Keras trainer, the checkpoint (state with the frozen
learned wiring), export and verify through the same commands as every other model."""
import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytest.importorskip("tensorflow")

from lutnet.cli import main  # noqa: E402
from lutnet.errors import LutnetError  # noqa: E402
from lutnet.ir import NetworkIR  # noqa: E402

DWN_YAML = """\
name: dwn-digits-keras
data: {name: digits}
model:
  layers: [200, 100]
  fan_in: 6
  input_bits: 8
  input_range: 1.0
  neuron: {kind: table}
  encoder: {kind: thermometer, bits_per_feature: 3, fit: quantile}
  head: {kind: groupsum, classes: 10, tau: 3.33, argmax: true}
  mapping: learnable
  mapping_candidates: 16
train: {epochs: 4, batch_size: 32, lr: 0.03}
"""


@pytest.fixture(scope="module")
def keras_dwn_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("dwn")
    (d / "dwn.yaml").write_text(DWN_YAML)
    assert main(["train", str(d / "dwn.yaml"), "--framework", "keras", "--out", str(d / "run"), "-q"]) == 0
    return d, d / "run" / "checkpoint_keras"


def test_keras_dwn_trains_through_the_cli_and_checkpoints_its_learned_wiring(keras_dwn_run, capsys):
    from lutnet.frontend import frontend_of, get_frontend
    from lutnet.keras.dwn import DWNModel
    d, ckpt = keras_dwn_run
    assert sorted(p.name for p in ckpt.iterdir()) == ["dwn_state.npz", "run.json"]
    meta = json.loads((ckpt / "run.json").read_text())
    assert meta["metrics"]["val_acc"] > 0.7 and meta["metrics"]["test_acc"] > 0.7
    fe = frontend_of(ckpt)
    assert fe.name == "keras"
    model, cfg, _ = fe.load_checkpoint(ckpt)
    assert isinstance(model, DWNModel) and model.encoder.fitted
    with np.load(ckpt / "dwn_state.npz") as z:
        saved = {k: z[k] for k in z.files}
    assert set(saved) == {"encoder.thresholds", "layer0.table", "layer0.connectivity", "layer0.mapping_scores",
                          "layer1.table", "layer1.connectivity", "layer1.mapping_scores"}
    for layer in model.tables:  # the frozen learned wiring, and it is what the scores select
        np.testing.assert_array_equal(layer.connectivity.numpy(), saved[f"{layer.name}.connectivity"])
        np.testing.assert_array_equal(layer.indices(), saved[f"{layer.name}.connectivity"])
    fresh = get_frontend("keras").build(cfg.model, 64)  # the initial drawn wiring: training moved it
    assert (fresh.tables[0].connectivity.numpy() != saved["layer0.connectivity"]).any()
    from lutnet.data import load_dataset
    ds = load_dataset("digits")
    assert fe.accuracy(model, ds.X_test, ds.y_test) == pytest.approx(meta["metrics"]["test_acc"], abs=0)


def test_keras_dwn_export_and_verify_commands(keras_dwn_run, capsys):
    d, ckpt = keras_dwn_run
    assert main(["export", str(ckpt), "-o", str(d / "dwn.npz"), "-q"]) == 0
    ir = NetworkIR.load(d / "dwn.npz")
    assert ir.stages == ["encoder", "layer0", "layer1", "head", "argmax"]
    capsys.readouterr()
    assert main(["verify", str(ckpt), "--ir", str(d / "dwn.npz"), "--split", "test", "-q"]) == 0
    out = capsys.readouterr().out
    acc = json.loads((ckpt / "run.json").read_text())["metrics"]["test_acc"]
    # an argmax model's outputs are class indices: the accuracy is theirs, not the argmax of one column
    assert f"360 samples: 0 output mismatches, 0 input-code mismatches; accuracy model {acc:.4f}, IR {acc:.4f}" in out


def test_keras_dwn_checkpoint_of_another_shape_is_refused(keras_dwn_run, tmp_path):
    import shutil

    from lutnet.frontend import get_frontend
    _, ckpt = keras_dwn_run
    bad = tmp_path / "bad"
    shutil.copytree(ckpt, bad)
    meta = json.loads((bad / "run.json").read_text())
    meta["config"]["model"]["layers"] = [150, 100]
    (bad / "run.json").write_text(json.dumps(meta))
    with pytest.raises(LutnetError) as e:
        get_frontend("keras").load_checkpoint(bad)
    assert str(e.value) == (f"{bad / 'dwn_state.npz'}: the saved state does not fit the model its config describes "
                            f"(differs at layer0.connectivity, layer0.mapping_scores, layer0.table; a checkpoint of "
                            f"another model?)")


def test_keras_dwn_model_is_not_a_keras_file(keras_dwn_run, tmp_path):
    from lutnet.frontend import get_frontend
    fe = get_frontend("keras")
    model, _, _ = fe.load_checkpoint(keras_dwn_run[1])
    with pytest.raises(LutnetError) as e:
        fe.save_model(model, tmp_path / "m.keras")
    assert str(e.value) == (f"{tmp_path / 'm.keras'}: a lutnet.keras.dwn.DWNModel is not a .keras model file (a "
                            f"subclassed model); save it as a run checkpoint (lutnet train, or "
                            f"get_frontend('keras').save_checkpoint with its config)")


TREE_YAML = """\
name: assemble-digits-keras
data: {name: digits}
model:
  layers:
    - {out_features: 24, assemble: [2]}
    - {out_features: 10, add: 2}
  fan_in: 3
  input_bits: 2
  hidden_bits: 2
  output_bits: 3
  neuron: {kind: linear}
  mapping: learnable
  mapping_candidates: 8
train: {epochs: 1, batch_size: 64, lr: 0.02}
"""


def test_keras_tree_config_with_learnable_leaves_trains_exports_and_verifies(tmp_path, capsys):
    """NeuraLUT-Assemble and PolyLUT-Add layers with learnable leaves through the CLI with Keras."""
    (tmp_path / "t.yaml").write_text(TREE_YAML)
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "t.yaml"), "--framework", "keras", "--out", str(out), "-q"]) == 0
    ckpt = out / "checkpoint_keras"
    assert main(["export", str(ckpt), "-o", str(tmp_path / "t.npz"), "-q"]) == 0
    ir = NetworkIR.load(tmp_path / "t.npz")
    assert [L.name for L in ir.layers] == ["layer0_t0", "layer0", "layer1_t0", "layer1"]
    assert [L.kind for L in ir.layers] == ["linear", "linear", "linear", "add"]
    capsys.readouterr()
    assert main(["verify", str(ckpt), "--ir", str(tmp_path / "t.npz"), "-q"]) == 0
    assert "0 output mismatches, 0 input-code mismatches" in capsys.readouterr().out
