"""Writing user-visible files: never over an existing file unless asked, never half-written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputExistsError


def atomic_write(path, write, overwrite: bool = False) -> Path:
    """Call ``write(tmp_path)`` to produce the file, then move it over ``path`` in one step.
    An existing ``path`` is an :class:`OutputExistsError` unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lutnet-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
