"""MNIST from the original idx files (60,000 train / 10,000 test, official split and order).

Images are flattened to 784 float32 features in [0, 1] (pixel / 255); labels are int64 0..9.
Files may be gzipped or not, named ``train-images-idx3-ubyte[.gz]`` (LeCun) or
``train-images.idx3-ubyte[.gz]``. The sha256 of the *uncompressed* idx content is verified, which
does not depend on the mirror or on how the file was compressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lutnet.errors import DataNotFoundError

from ._download import (
    CACHE_DIR_ENV,
    DATA_DIR_ENV,
    DataFormatError,
    cache_root,
    fetch_url,
    read_maybe_gzip,
    search_dirs,
    verify_sha256,
)
from .dataset import Dataset

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# key -> (LeCun stem, idx rank, magic number, sha256 of the uncompressed idx content)
FILES = {
    "train_images": ("train-images", 3, 0x803,
                     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": ("train-labels", 1, 0x801,
                     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": ("t10k-images", 3, 0x803,
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": ("t10k-labels", 1, 0x801,
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes, source: Path | str, magic: int | None = None) -> np.ndarray:
    """Parse idx-format bytes into a (read-only) numpy array without copying.

    ``magic`` (e.g. 0x803 for image files) is checked when given. Any header/size inconsistency
    raises :class:`DataFormatError` naming ``source``.
    """
    if len(data) < 4:
        raise DataFormatError(f"{source}: truncated idx file ({len(data)} bytes, no header)")
    found = int.from_bytes(data[:4], "big")
    if data[:2] != b"\0\0" or data[2] not in _IDX_DTYPES or (magic is not None and found != magic):
        want = f"0x{magic:08x}" if magic is not None else "an idx magic number"
        raise DataFormatError(f"{source}: bad magic number 0x{found:08x} (expected {want}); "
                              "not an idx file of the expected kind")
    ndim, dtype = data[3], np.dtype(_IDX_DTYPES[data[2]])
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{source}: truncated idx header ({len(data)} < {header} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataFormatError(f"{source}: {what}: {len(data)} bytes, expected {expected} "
                              f"for shape {shape}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape)


def _candidates(stem: str, rank: int) -> list[str]:
    names = [f"{stem}-idx{rank}-ubyte", f"{stem}.idx{rank}-ubyte"]
    return [n + ext for n in names for ext in (".gz", "")]


def find_mnist_files(directory: Path) -> dict[str, Path] | None:
    """Map each of the four file keys to an existing file in ``directory``, or None if any is
    missing."""
    found = {}
    for key, (stem, rank, _, _) in FILES.items():
        hits = [directory / n for n in _candidates(stem, rank) if (directory / n).is_file()]
        if not hits:
            return None
        found[key] = hits[0]
    return found


def _read(path: Path, key: str, verify: bool) -> np.ndarray:
    _, _, magic, sha = FILES[key]
    data = read_maybe_gzip(path)
    arr = parse_idx(data, path, magic)
    if verify:
        verify_sha256(data, sha, path)
    return arr


def _not_found(searched: Sequence[Path], explicit: bool) -> DataNotFoundError:
    names = ", ".join(f"{s}-idx{r}-ubyte.gz" for s, r, _, _ in FILES.values())
    where = "\n  ".join(str(p) for p in searched)
    hint = ("" if explicit else
            f"\nSet {DATA_DIR_ENV}=<dir> with the files in <dir>/mnist/, pass path=<dir>, "
            f"or call with download=True to fetch them into {cache_root() / 'mnist'} "
            f"(cache location: ${CACHE_DIR_ENV}).")
    return DataNotFoundError(f"MNIST idx files not found. Searched:\n  {where}\n"
                             f"Expected files (gzipped or not): {names}.{hint}")


def _download_all(dest_dir: Path, mirrors: Sequence[str]) -> dict[str, Path]:
    paths = {}
    for key, (stem, rank, magic, sha) in FILES.items():
        name = f"{stem}-idx{rank}-ubyte.gz"
        dest = dest_dir / name

        def check(tmp: Path, magic=magic, sha=sha, name=name) -> None:
            data = read_maybe_gzip(tmp, name)
            parse_idx(data, name, magic)
            verify_sha256(data, sha, name)

        if dest.is_file():
            paths[key] = dest
            continue
        paths[key] = fetch_url([m.rstrip("/") + "/" + name for m in mirrors], dest, check)
    return paths


def load_mnist(path: str | Path | None = None, *, download: bool = False,
               mirrors: Sequence[str] = MIRRORS, verify: bool = True,
               limit: int | None = None) -> Dataset:
    """Load MNIST as a :class:`Dataset` (784 float32 features in [0, 1], labels 0..9).

    Lookup order: ``path`` (if given, the only place searched), ``$LUTNET_DATA_DIR/mnist``,
    the cache ``$LUTNET_CACHE_DIR/mnist`` (default ``~/.cache/lutnet/mnist``), then, with
    ``download=True``, the ``mirrors`` (into the cache, each file checksum-verified before it is
    renamed into place). ``verify=False`` skips the sha256 check of local files (for idx files of
    other datasets in the same layout). ``limit`` keeps only the first ``limit`` samples of each
    split (handy for quick tests).
    """
    searched = [Path(path).expanduser()] if path is not None else search_dirs(["mnist"])
    files = next((f for d in searched if (f := find_mnist_files(d)) is not None), None)
    if files is None:
        if path is not None or not download:
            raise _not_found(searched, explicit=path is not None)
        files = _download_all(cache_root() / "mnist", mirrors)
    arrays = {key: _read(p, key, verify) for key, p in files.items()}
    parts = {}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataFormatError(f"{files[f'{split}_images']} and {files[f'{split}_labels']}: "
                                  f"images {images.shape} do not match labels {labels.shape}")
        images, labels = images[:limit], labels[:limit]
        parts[f"X_{split}"] = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
        parts[f"y_{split}"] = labels.astype(np.int64)
    h, w = arrays["train_images"].shape[1:]
    return Dataset(name="mnist", classes=tuple(str(i) for i in range(10)),
                   feature_names=tuple(f"pixel_{r}_{c}" for r in range(h) for c in range(w)),
                   **parts)
