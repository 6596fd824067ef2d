"""File plumbing shared by the dataset loaders: where to look, the download cache, checksums,
reading (optionally gzipped) files, and downloads that never leave a partial file behind."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from lutnet._files import atomic_write
from lutnet.errors import DataNotFoundError, LutnetError

DATA_DIR_ENV = "LUTNET_DATA_DIR"
CACHE_DIR_ENV = "LUTNET_CACHE_DIR"
_GZIP_MAGIC = b"\x1f\x8b"


class DataFormatError(LutnetError, ValueError):
    """A data file is truncated, corrupt or not in the expected format; the message names it."""


class ChecksumError(LutnetError, ValueError):
    """A data file's content does not have the published sha256."""


class MissingDependencyError(LutnetError, ImportError):
    """An optional Python package needed to read a data file is not installed."""


def cache_root() -> Path:
    """The download cache root: ``$LUTNET_CACHE_DIR`` if set, else ``~/.cache/lutnet``."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lutnet"


def search_dirs(subdirs: Sequence[str]) -> list[Path]:
    """Directories searched for a dataset, in order: ``$LUTNET_DATA_DIR/<sub>`` (if the variable is
    set) then ``<cache_root>/<sub>``, for each name in ``subdirs``."""
    roots = []
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        roots.append(Path(env).expanduser())
    roots.append(cache_root())
    return [root / sub for root in roots for sub in subdirs]


def read_maybe_gzip(path: Path, source: Path | str | None = None) -> bytes:
    """Return the content of ``path``, gunzipped if it starts with the gzip magic bytes
    (whatever its suffix). A damaged gzip stream raises :class:`DataFormatError` naming
    ``source`` (default: ``path``)."""
    raw = Path(path).read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFormatError(f"{source or path}: corrupt or truncated gzip file ({exc}); "
                              "delete it and fetch it again") from exc


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify_sha256(data: bytes, expected: str, source: Path | str) -> None:
    """Raise :class:`ChecksumError` naming ``source`` unless ``sha256(data) == expected``."""
    actual = sha256_hex(data)
    if actual != expected:
        raise ChecksumError(f"{source}: sha256 mismatch (expected {expected}, got {actual}); "
                            "the file is corrupt or not the expected dataset file; "
                            "delete it and fetch it again")


def fetch_url(urls: Sequence[str], dest: Path, check: Callable[[Path], None]) -> Path:
    """Download the first of ``urls`` that succeeds and passes ``check(tmp_path)`` to ``dest``.

    The file is written to a temporary name in ``dest``'s directory and renamed into place only
    after ``check`` returned, so a failed or interrupted download leaves nothing at ``dest``.
    If every URL fails, raises :class:`ChecksumError` when some URL served a file that failed the
    check, else :class:`DataNotFoundError`; both messages list each URL with its failure.
    """
    dest = Path(dest)
    failures: list[str] = []
    bad_content = False

    def download(url):
        def write(tmp):
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
                shutil.copyfileobj(resp, out, 1 << 20)
            check(Path(tmp))
        return write

    for url in urls:
        try:
            return atomic_write(dest, download(url), overwrite=True)
        except (ChecksumError, DataFormatError) as exc:
            bad_content = True
            failures.append(f"{url}: {exc}")
        except OSError as exc:  # includes urllib.error.URLError
            failures.append(f"{url}: {exc}")
    detail = "\n  ".join(failures) or "(no URLs given)"
    if bad_content:
        raise ChecksumError(f"downloaded {dest.name} failed verification:\n  {detail}")
    raise DataNotFoundError(f"could not download {dest.name}:\n  {detail}")
