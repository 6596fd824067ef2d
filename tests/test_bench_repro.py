"""Smoke test of benchmarks/bench_repro.py: a tiny MNIST model, --quick, estimator only, resume."""
import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST = Path(os.environ.get("LUTNET_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "mnist"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_repro", ROOT / "benchmarks" / "bench_repro.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_per_model_and_published():
    b = _bench()
    assert b.per_model("3", "x") == 3
    assert b.per_model("3,x=7", "x") == 7 and b.per_model("3,x=7", "y") == 3
    assert b.per_model(None, "x", 5) == 5 and b.per_model("0", "x") is None
    pub = b.published(ROOT / "models" / "polylut-mnist-hdr.yaml")
    assert pub["acc"] == "96" and pub["luts"] == "70,673" and pub["ffs"] == "4,681" and pub["latency_ns"] == "16"


def test_config_hash_keeps_cached_runs_of_configs_without_the_newer_keys():
    import hashlib
    import json

    from lutnet.config import RunConfig, from_dict
    b = _bench()
    d = {"name": "x", "model": {"layers": [10]}}
    cfg = from_dict(RunConfig, d, "x.yaml")
    old = cfg.to_dict()  # what the hash read before the keys existed
    for part, key in b.HASH_OMIT_AT_DEFAULT:
        del old[part][key]
    del old["model"]["mapping_tau"]  # model.head is None here: no head.tiebreak
    del old["train"]["distill"]
    del old["model"]["efd_beta"]
    assert b.config_hash(cfg) == hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:8]
    dwn = from_dict(RunConfig, {**d, "model": {"layers": [10], "neuron": {"kind": "table"}, "mapping_grad": "signed",
                                               "encoder": {"kind": "thermometer"}, "head": {"kind": "groupsum",
                                                                                            "classes": 10}}}, "x.yaml")
    dwn_default = from_dict(RunConfig, {**d, "model": {**dwn.to_dict()["model"], "mapping_grad": "binary"}}, "x.yaml")
    assert b.config_hash(dwn) != b.config_hash(dwn_default)  # a new key in use is part of the hash
    # a later key at its default leaves the hash of a config that uses the earlier ones as it was
    dwn_d = dwn.to_dict()
    del dwn_d["model"]["mapping_tau"]
    del dwn_d["model"]["head"]["tiebreak"]  # added later still, inside model.head
    del dwn_d["train"]["distill"]
    del dwn_d["model"]["efd_beta"]
    assert b.config_hash(dwn) == hashlib.sha256(json.dumps(dwn_d, sort_keys=True).encode()).hexdigest()[:8]
    dwn_tau = from_dict(RunConfig, {**d, "model": {**dwn.to_dict()["model"], "mapping_tau": 0.1}}, "x.yaml")
    assert b.config_hash(dwn_tau) != b.config_hash(dwn)
    dwn_beta = from_dict(RunConfig, {**d, "model": {**dwn.to_dict()["model"], "efd_beta": 0.2}}, "x.yaml")
    assert b.config_hash(dwn_beta) != b.config_hash(dwn)  # efd_beta in use is part of the hash
    m = {**dwn.to_dict()["model"], "layers": [20]}
    two = [from_dict(RunConfig, {**d, "model": {**m, "head": {**m["head"], "tiebreak": t}}}, "x.yaml") for t in (0, 1)]
    assert b.config_hash(two[1]) != b.config_hash(two[0])  # tiebreak in use is part of the hash
    kd = from_dict(RunConfig, {**d, "model": m, "train": {"distill": {"teacher": "mlp"}}}, "x.yaml")
    assert b.config_hash(kd) != b.config_hash(two[0])  # distillation in use is part of the hash
    shift = {"shift": 1, "image_shape": [28, 28]}
    sh, rot = (from_dict(RunConfig, {**d, "model": m, "train": {"augment": {**shift, **r}}}, "x.yaml")
               for r in ({}, {"rotate": 8}))
    sh_d = sh.to_dict()
    del sh_d["model"]["mapping_tau"], sh_d["model"]["head"]["tiebreak"], sh_d["train"]["distill"]
    del sh_d["model"]["efd_beta"], sh_d["train"]["augment"]["plain_last"], sh_d["train"]["augment"]["rotate"]
    assert b.config_hash(sh) == hashlib.sha256(json.dumps(sh_d, sort_keys=True).encode()).hexdigest()[:8]
    assert b.config_hash(rot) != b.config_hash(sh)  # rotations in use are part of the hash


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"MNIST not at {MNIST}")
def test_quick_run_and_resume(tmp_path, capsys):
    b = _bench()
    cfg = tmp_path / "tiny-mnist.yaml"
    cfg.write_text("name: tiny-mnist\ndata: {name: mnist}\nmodel:\n  layers: [16, 10]\n  fan_in: 3\n"
                   "  input_bits: 1\ntrain: {epochs: 1, batch_size: 256, lr: 0.01}\n")
    args = ["--quick", "--no-yosys", "--models", str(cfg), "--out", str(tmp_path / "out"),
            "--mnist-dir", str(MNIST)]
    res = b.main(args)
    assert len(res) == 1 and res[0]["bit_exact"] and 0.0 <= res[0]["test_acc"] <= 1.0
    assert res[0]["est_luts"] > 0 and res[0]["latency_cycles"] == 2
    out = capsys.readouterr().out
    assert "tiny-mnist" in out and "PolyLUT-Add" in out
    again = b.main(args)  # resumes: the finished model is skipped
    assert "skipped" in capsys.readouterr().out and again[0]["test_acc"] == res[0]["test_acc"]
