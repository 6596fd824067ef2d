"""The layering the README draws, asserted: data flows one way (model -> LUT IR -> emitters ->
verification -> build report).  Each check imports the modules of one layer in a fresh interpreter
and lists the framework or trainer modules that came with them."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "tensorflow", "keras", "brevitas", "qkeras")
TRAINERS = ("lutnet.train", "lutnet.keras.train", "lutnet.builder", "lutnet.keras.builder", "lutnet.pruning",
            "lutnet.nn", "lutnet.keras.layers")


def _submodules(package: str, folder: Path) -> list[str]:
    return [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]


def _loaded_after_import(modules: list[str], watched) -> list[str]:
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"print('LOADED:', *[w for w in {tuple(watched)!r} if w in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("LOADED:")][-1]  # hls4ml prints warnings
    return line.split()[1:]


def test_core_imports_no_framework():
    mods = _submodules("lutnet.core", ROOT / "lutnet" / "core") + ["lutnet.ir", "lutnet.errors"]
    assert _loaded_after_import(mods, FRAMEWORKS) == []


def test_rtl_imports_no_framework():
    mods = _submodules("lutnet.rtl", ROOT / "lutnet" / "rtl")
    assert _loaded_after_import(mods, FRAMEWORKS) == []


@pytest.mark.parametrize("emitter", ["lutnet.rtl.emit", "lutnet.onnx_export", "lutnet.hls_backend.writer"])
def test_emitters_import_no_trainer(emitter):
    assert _loaded_after_import([emitter], TRAINERS) == []


def _imported_modules(path: Path, package: str) -> set[str]:
    """The absolute names of the modules a source file imports (relative imports resolved)."""
    import ast
    here = package.split(".")
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_only_command_modules_import_the_cli():
    """Library code (transforms, emitters, models) never reaches into the ``lutnet`` command's module:
    what a command and a library function share lives in the library (``lutnet.frontend``,
    ``lutnet.data``)."""
    offenders = []
    for path in sorted((ROOT / "lutnet").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if path.name in ("cli.py", "_cli.py"):
            continue
        package = ".".join(rel.with_suffix("").parts[:-1])
        if "lutnet.cli" in _imported_modules(path, package):
            offenders.append(str(rel))
    assert offenders == []
