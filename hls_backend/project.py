"""Project directory conventions shared by the writer, compile/predict and build."""
from __future__ import annotations

import json
from pathlib import Path

from lutnet.errors import OutputExistsError, ProjectError

MANIFEST = 'lutnet_project.json'
IR_FILE = 'lutnet_ir.npz'
CONFIG_FILE = 'hls4ml_config.yml'
FORMAT = 'lutnet-hls4ml-project'
OUTPUTS = ('cpp', 'verilog')


def _config_backend(out: Path):
    """The ``Backend`` named by ``out/hls4ml_config.yml`` (None if unreadable).  Read as text: stock
    hls4ml configs hold Python-object YAML tags (the model) that a safe loader refuses."""
    import re
    try:
        m = re.search(r"^Backend:\s*['\"]?([\w-]+)", (out / CONFIG_FILE).read_text(errors='replace'), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


def check_output_dir(out: Path, overwrite: bool):
    """Refuse to write into a non-empty directory that is not a project of this backend: another
    backend's hls4ml project (its firmware/<project>.cpp and build_prj.tcl would be overwritten) or
    other files; ``overwrite`` (config key ``LUTNetConfig: {Overwrite: true}``) forces it."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output directory {out} exists and is not a directory")
    if not out.exists() or overwrite or not any(out.iterdir()):
        return
    force = ("choose a new directory (OutputDir / output_dir=...) or pass overwrite=True "
             "(LUTNetConfig: {Overwrite: true}) to write into it")
    backend = _config_backend(out) if (out / CONFIG_FILE).is_file() else None
    if (out / MANIFEST).is_file() and backend in (None, 'LUTNet'):
        return
    if backend == 'LUTNet':
        return
    if backend is not None:
        raise OutputExistsError(
            f"output directory {out} holds an hls4ml project of the {backend} backend ({CONFIG_FILE} names "
            f"Backend: {backend}); writing the LUTNet project there would overwrite its files (firmware/, "
            f"build_prj.tcl): {force}")
    if (out / CONFIG_FILE).is_file() or (out / 'build_prj.tcl').is_file() or (out / 'firmware').is_dir():
        raise OutputExistsError(
            f"output directory {out} holds an HLS project that the LUTNet backend did not write (no {MANIFEST}); "
            f"writing there would overwrite its files: {force}")
    raise OutputExistsError(
        f"output directory {out} is not empty and is not an hls4ml/lutnet project (no {MANIFEST} or "
        f"{CONFIG_FILE}); {force}")


def read_manifest(project_dir) -> dict:
    p = Path(project_dir) / MANIFEST
    if not p.is_file():
        raise ProjectError(f"{p} not found: {project_dir} is not a project written by the LUTNet backend "
                           f"(hls_model.write() writes one)")
    try:
        m = json.loads(p.read_text())
    except ValueError:
        m = {}
    if m.get('format') != FORMAT:
        raise ProjectError(f"{p}: not a {FORMAT!r} manifest (format {m.get('format')!r}); write the project again")
    return m


def write_manifest(project_dir, **fields):
    p = Path(project_dir) / MANIFEST
    p.write_text(json.dumps({'format': FORMAT, 'version': 1, **fields}, indent=1))
