"""The CLI grammar, as a user meets it: every LutnetError is one line `lutnet <cmd>: error: ...` with
exit status 2 and no traceback; outputs are checked before any work; --force only where a command
writes; one-line config errors naming the key; --codes validation; `lutnet verilog CHECKPOINT`."""
import importlib
import os
import pkgutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lutnet
from lutnet import cli
from lutnet.errors import LutnetError
from lutnet.testing import random_network_ir

LUTNET = str(Path(sys.executable).with_name("lutnet"))
HLS4ML = str(Path(sys.executable).with_name("hls4ml"))

FAST_CONFIG = """
name: tiny
data: {name: digits}
model:
  layers: [8, 10]
  fan_in: 2
  neuron: {kind: linear}
train: {epochs: 1}
"""


def run(*args, cwd, exe=LUTNET):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("HLS4ML_BACKEND_PLUGINS", None)
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A directory with an IR file (no network name), a checkpoint, code/feature arrays and configs."""
    d = tmp_path_factory.mktemp("cli")
    ir = random_network_ir(seed=1, n_inputs=8, widths=(6, 4), fan_in=3, bits=2)
    ir.metadata.pop("name", None)
    ir.save(d / "net.lutir.npz")
    from lutnet.builder import build_model
    from lutnet.checkpoint import save_checkpoint
    from lutnet.config import load_config
    cfg = load_config("digits-s")
    save_checkpoint(d / "ckpt.pt", build_model(cfg.model, 64), cfg, 64)
    rng = np.random.default_rng(0)
    np.save(d / "features.npy", rng.random((5, 8)))
    np.save(d / "big.npy", np.full((5, 8), 7))
    np.save(d / "short.npy", np.zeros((5, 7), np.int64))
    np.save(d / "codes.npy", rng.integers(0, 4, (5, 8)))
    (d / "taken.npz").write_bytes(b"mine")
    (d / "taken.npy").write_bytes(b"mine")
    (d / "rep.json").write_text("{}")
    (d / "full").mkdir()
    (d / "full" / "mine.txt").write_text("mine")
    (d / "junk.bin").write_bytes(b"not an IR")
    (d / "poly.yaml").write_text(FAST_CONFIG.replace("kind: linear", "kind: polynomial"))
    (d / "fan.yaml").write_text(FAST_CONFIG.replace("fan_in: 2", "fan_in: 100"))
    (d / "wide.yaml").write_text(FAST_CONFIG.replace("fan_in: 2", "fan_in: 11"))
    return d


# (argv, exact stderr): one per error a user can cause, through the real `lutnet` executable
CASES = [
    (["train", "poly.yaml"],
     "lutnet train: error: poly.yaml: model.neuron.kind: unknown neuron kind 'polynomial'; known kinds: "
     "linear, poly, subnet, add, table"),
    (["train", "fan.yaml"],
     "lutnet train: error: fan.yaml: model.fan_in=100 is more than the 64 inputs of layer 0; a neuron "
     "reads fan_in distinct inputs: use at most 64"),
    (["train", "wide.yaml"],
     "lutnet train: error: wide.yaml: model.fan_in=11: layer 0's neurons would need tables of 2^22 rows "
     "(11 inputs x 2 bits), more than the 1,048,576-row bound; lower model.fan_in or the bit widths (or raise "
     "the bound with --max-rows)"),
    (["train", "nope"], None),  # zoo list in the message: checked for shape only
    (["verilog", "ckpt.pt", "-o", "v"],
     "lutnet verilog: error: ckpt.pt is a checkpoint, not an IR file: run `lutnet export ckpt.pt -o "
     "model.lutir.npz` first, then `lutnet verilog model.lutir.npz`"),
    (["info", "junk.bin"],
     "lutnet info: error: junk.bin is not a lutnet IR file (a .lutir.npz zip written by `lutnet export` or "
     "NetworkIR.save)"),
    (["info", "missing.npz"],
     "lutnet info: error: missing.npz: no such IR file (write one with `lutnet export CHECKPOINT -o "
     "missing.npz`)"),
    # outputs are checked before any work: the junk checkpoint / missing IR are never read
    (["export", "junk.bin", "-o", "taken.npz"],
     "lutnet export: error: taken.npz exists; pass --force to replace it, or choose another output"),
    (["demo", "--out", "full"],
     "lutnet demo: error: full directory is not empty; pass --force to replace it, or choose another output"),
    (["onnx", "missing.npz", "-o", "taken.npz"],
     "lutnet onnx: error: taken.npz exists; pass --force to replace it, or choose another output"),
    (["verilog", "missing.npz", "-o", "full"],
     "lutnet verilog: error: full directory is not empty; pass --force to replace it, or choose another output"),
    (["simulate", "net.lutir.npz", "--codes", "codes.npy", "-o", "taken.npy"],
     "lutnet simulate: error: taken.npy exists; pass --force to replace it, or choose another output"),
    (["build", "net.lutir.npz", "-o", "rep"],
     "lutnet build: error: rep.json exists; pass --force to replace it, or choose another output"),
    # --codes: integers of the input encoding only
    (["simulate", "net.lutir.npz", "--codes", "features.npy"],
     "lutnet simulate: error: features.npy holds float64 values; --codes takes integer input codes, shape "
     "(N, 8), in [0, 3] (2-bit unsigned): features must be quantized first (NetworkIR.quantize_input)"),
    (["simulate", "net.lutir.npz", "--codes", "big.npy"],
     "lutnet simulate: error: big.npy holds codes from 7 to 7; --codes takes integer input codes, shape "
     "(N, 8), in [0, 3] (2-bit unsigned)"),
    (["simulate", "net.lutir.npz", "--codes", "short.npy"],
     "lutnet simulate: error: short.npy has shape (5, 7); --codes takes integer input codes, shape (N, 8), "
     "in [0, 3] (2-bit unsigned)"),
    (["build", "net.lutir.npz", "--care-codes", "features.npy"],
     "lutnet build: error: features.npy holds float64 values; --care-codes takes integer input codes, shape "
     "(N, 8), in [0, 3] (2-bit unsigned): features must be quantized first (NetworkIR.quantize_input)"),
    (["build", "net.lutir.npz", "--method", "vivado", "--tcl-only"],
     "lutnet build: error: --tcl-only writes the design and its TCL script: give the directory with -o DIR"),
]


@pytest.mark.parametrize("argv,expected", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_user_errors_are_one_line(work, argv, expected):
    r = run(*argv, cwd=work)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"lutnet {argv[0]}: error: ")
    if expected is not None:
        assert r.stderr == expected + "\n"


def test_train_checks_output_first(work):
    (work / "runs" / "digits-s").mkdir(parents=True)
    (work / "runs" / "digits-s" / "checkpoint.pt").write_bytes(b"mine")
    r = run("train", "digits-s", cwd=work)  # refused before loading data or training
    assert r.returncode == 2 and r.stderr == ("lutnet train: error: runs/digits-s/checkpoint.pt exists; pass "
                                              "--force to replace it, or choose another output\n")
    assert (work / "runs" / "digits-s" / "checkpoint.pt").read_bytes() == b"mine"


@pytest.mark.parametrize("argv", [["verify", "ckpt.pt", "--force"], ["info", "net.lutir.npz", "--force"]])
def test_force_only_on_commands_that_write(work, argv):
    r = run(*argv, cwd=work)
    assert r.returncode == 2 and "unrecognized arguments: --force" in r.stderr


def test_same_spellings_on_every_writing_command():
    p = cli.build_parser()
    sub = next(a for a in p._actions if a.dest == "command").choices
    for name in ("train", "export", "onnx", "demo", "verilog", "simulate", "build", "sweep"):
        opts = {o for a in sub[name]._actions for o in a.option_strings}
        assert {"-o", "--output", "--force", "-q", "--quiet"} <= opts, name
    for name in ("verify", "info"):
        opts = {o for a in sub[name]._actions for o in a.option_strings}
        assert "--force" not in opts and {"-q", "--quiet"} <= opts, name


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _import_all():
    for m in pkgutil.walk_packages(lutnet.__path__, "lutnet."):
        if any(s in m.name for s in ("keras", ".sweep", ".baselines")):
            continue  # heavy frameworks (TensorFlow, Ray); their user errors are lutnet.errors classes
        try:
            importlib.import_module(m.name)
        except ImportError:
            pass


def test_every_lutnet_error_reaches_the_user_as_one_line(monkeypatch, capsys, tmp_path):
    _import_all()
    classes = sorted(set(_all_subclasses(LutnetError)) | {LutnetError}, key=lambda c: c.__qualname__)
    assert {"SimulationError", "UnsupportedQuantizerError", "ConfigError", "OutputExistsError",
            "IRFormatError", "ToolNotFoundError", "InputError"} <= {c.__name__ for c in classes}
    for cls in classes:
        def boom(args, cls=cls):
            raise cls(f"{cls.__name__} at fault\n  detail one\n  detail two")
        monkeypatch.setattr(cli, "cmd_info", boom)
        assert cli.main(["info", str(tmp_path / "x.npz")]) == 2, cls
        err = capsys.readouterr().err
        assert err == f"lutnet info: error: {cls.__name__} at fault; detail one; detail two\n", cls


def test_outputs_honour_the_umask(work, tmp_path):
    old = os.umask(0o022)
    try:
        r = run("verilog", "net.lutir.npz", "-o", tmp_path / "v", cwd=work)
        assert r.returncode == 0, r.stderr
        from lutnet.builder import build_model
        from lutnet.checkpoint import save_checkpoint
        from lutnet.config import load_config
        cfg = load_config("digits-s")
        save_checkpoint(tmp_path / "c.pt", build_model(cfg.model, 64), cfg, 64)
        random_network_ir().save(tmp_path / "i.lutir.npz")
    finally:
        os.umask(old)
    for f in [tmp_path / "c.pt", tmp_path / "i.lutir.npz", *(p for p in (tmp_path / "v").iterdir() if p.is_file())]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_reports_name_the_network(work):
    r = run("build", "net.lutir.npz", "-q", cwd=work)
    assert r.returncode == 0 and r.stdout.startswith("lutnet build report: net  [method: estimate]"), r.stdout
    r = run("info", "net.lutir.npz", cwd=work)
    assert r.returncode == 0 and r.stdout.startswith("network: net\n")


def test_hls4ml_hook_grammar(work, tmp_path):
    pytest.importorskip("hls4ml")
    from lutnet import hls_backend
    hls_backend.convert_ir(random_network_ir(seed=3), output_dir=tmp_path / "prj").write()
    r = run("report", "-p", "prj", cwd=tmp_path, exe=HLS4ML)  # before any build
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("hls4ml report: error: ") and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize("argv,last_line", [
    (["verilog", "net.lutir.npz", "-o", "v2", "--top", "1bad"],
     "lutnet verilog: error: argument --top: '1bad' is not a Verilog identifier (letters, digits, _; not "
     "starting with a digit)"),
    (["train", "digits-s", "--limit", "0"], "lutnet train: error: argument --limit: expected an integer >= 1; got 0"),
    (["build", "net.lutir.npz", "--jobs", "two"],
     "lutnet build: error: argument --jobs: expected an integer >= 1; got 'two'"),
    (["simulate", "net.lutir.npz", "--random", "-5"],
     "lutnet simulate: error: argument --random: expected an integer >= 0; got -5"),
])
def test_bad_arguments_are_usage_errors(work, argv, last_line):
    r = run(*argv, cwd=work)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[0].startswith(f"usage: lutnet {argv[0]} ")
    assert r.stderr.splitlines()[-1] == last_line
