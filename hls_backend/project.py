"""Project directory conventions shared by the writer, compile/predict and build."""
from __future__ import annotations

import json
from pathlib import Path

from lutnet.errors import OutputExistsError

MANIFEST = 'lutnet_project.json'
IR_FILE = 'lutnet_ir.npz'
CONFIG_FILE = 'hls4ml_config.yml'
FORMAT = 'lutnet-hls4ml-project'
OUTPUTS = ('cpp', 'verilog')


def check_output_dir(out: Path, overwrite: bool):
    """Refuse to write into a non-empty directory that is not an hls4ml/lutnet project (unless
    ``overwrite``, config key ``LUTNetConfig: {Overwrite: true}``)."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output directory {out} exists and is not a directory")
    if not out.exists() or overwrite or not any(out.iterdir()):
        return
    if (out / MANIFEST).is_file() or (out / CONFIG_FILE).is_file():
        return
    raise OutputExistsError(
        f"output directory {out} is not empty and is not an hls4ml/lutnet project (no {MANIFEST} or "
        f"{CONFIG_FILE}); choose a new directory (OutputDir / output_dir=...) or set "
        f"LUTNetConfig: {{Overwrite: true}} (convert_ir(..., overwrite=True)) to write into it")


def read_manifest(project_dir) -> dict:
    p = Path(project_dir) / MANIFEST
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found: {project_dir} is not a project written by the LUTNet backend")
    m = json.loads(p.read_text())
    if m.get('format') != FORMAT:
        raise ValueError(f"{p}: format {m.get('format')!r} is not {FORMAT!r}")
    return m


def write_manifest(project_dir, **fields):
    p = Path(project_dir) / MANIFEST
    p.write_text(json.dumps({'format': FORMAT, 'version': 1, **fields}, indent=1))
