"""Writing user-visible files: never over an existing output unless asked, never half-written, and
with the permissions the user's umask gives any new file (``0o666 & ~umask``).

One rule for every writing command (CLI ``--force``, Python ``overwrite=True``): an output file that
exists, or an output directory that is not empty, is refused before any work is done."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputExistsError

Content = bytes | str | Callable[[str], object]


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, then restore it
    os.umask(mask)
    return mask


def output_exists(path) -> bool:
    """True when ``path`` is a file (or anything but a directory), or a directory that is not empty."""
    path = Path(path)
    if path.is_dir():
        return any(path.iterdir())
    return path.exists() or path.is_symlink()


def check_output(path, force: bool, *, option: str = "--force") -> Path:
    """The CLI's check, made before any work: refuse an existing output file or a non-empty output
    directory unless ``force``.  Returns ``path`` as a Path."""
    path = Path(path)
    if not force and output_exists(path):
        kind = "directory is not empty" if path.is_dir() else "exists"
        raise OutputExistsError(f"{path} {kind}; pass {option} to replace it, or choose another output")
    return path


def _prepare(path, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_dir(path, write: Callable[[Path], object], overwrite: bool = False) -> Path:
    """Directory ``path`` in one step: ``write(tmp_dir)`` fills a fresh directory beside it (mode
    ``0o777 & ~umask``), which then replaces ``path``.  An existing ``path`` is an
    :class:`OutputExistsError` unless ``overwrite``."""
    import shutil
    path = _prepare(path, overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp made it 0o700
        write(tmp)
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def atomic_write(path, content: Content, overwrite: bool = False) -> Path:
    """Write ``path`` in one step: ``content`` is the bytes or text of the file, or a callable
    ``write(tmp_path)`` that produces it.  The file appears complete or not at all, with mode
    ``0o666 & ~umask``.  An existing ``path`` is an :class:`OutputExistsError` unless ``overwrite``."""
    path = _prepare(path, overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp made it 0o600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
