"""`lutnet train --framework keras`, then export and verify through the same commands."""
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytest.importorskip("tensorflow")

from lutnet.cli import main  # noqa: E402
from lutnet.ir import NetworkIR  # noqa: E402


def test_keras_train_export_verify(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "digits-s", "--framework", "keras", "--epochs", "2", "--out", str(out), "-q"]) == 0
    ckpt = out / "checkpoint_keras"
    assert (ckpt / "model.keras").exists()
    assert main(["export", str(ckpt), "-o", str(tmp_path / "k.npz"), "-q"]) == 0
    NetworkIR.load(tmp_path / "k.npz")
    assert main(["verify", str(ckpt), "--ir", str(tmp_path / "k.npz"), "--split", "test", "-q"]) == 0
    assert "0 output mismatches, 0 input-code mismatches" in capsys.readouterr().out
