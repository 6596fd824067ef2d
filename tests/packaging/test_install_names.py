"""The mission's top-level folders install inside the lutnet namespace: a user's own ``models.py``
(or ``hls_backend.py``, ``firmware_templates.py``) beside their script cannot shadow them."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

LUTNET = Path(sys.executable).with_name("lutnet")
SHADOWS = ("models", "hls_backend", "firmware_templates")


def _user_dir(tmp_path: Path) -> Path:
    for name in SHADOWS:  # a user's modules that would break lutnet if it imported them
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('user module {name}.py was imported by lutnet')\n")
    return tmp_path


def test_no_generic_top_level_names_installed():
    import lutnet.firmware_templates
    import lutnet.hls_backend
    import lutnet.models
    for mod in (lutnet.hls_backend, lutnet.models, lutnet.firmware_templates):
        assert mod.__name__.startswith("lutnet."), mod.__name__
    eps = [ep.value for ep in entry_points(group="hls4ml.backends") if ep.name == "LUTNet"]
    assert eps == ["lutnet.hls_backend:register"]


def test_train_from_a_directory_with_a_user_models_py(tmp_path):
    cwd = _user_dir(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the user's directory first on the path, as for a script
    r = subprocess.run([str(LUTNET), "train", "digits-s", "--epochs", "1", "--out", str(cwd / "run"), "-q"],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert (cwd / "run" / "checkpoint.pt").exists()


def test_hls4ml_finds_the_backend_beside_a_user_models_py(tmp_path):
    cwd = _user_dir(tmp_path)
    code = "import hls4ml; assert 'lutnet' in hls4ml.backends.get_available_backends(), hls4ml.backends.get_available_backends()"
    r = subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**os.environ, "PYTHONPATH": str(cwd)},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def test_every_package_is_listed_in_pyproject():
    """A wheel holds only the packages pyproject lists: every folder with an __init__.py must be there."""
    import tomllib
    root = Path(__file__).resolve().parents[2]
    cfg = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    dirs = {"hls_backend": "lutnet.hls_backend", "models": "lutnet.models",
            "firmware_templates": "lutnet.firmware_templates", "lutnet": "lutnet"}
    found = set()
    for top, name in dirs.items():
        for init in (root / top).rglob("__init__.py"):
            rel = init.parent.relative_to(root / top).parts
            found.add(".".join((name, *rel)))
    assert found == listed, f"missing: {sorted(found - listed)}; not a package: {sorted(listed - found)}"
