"""The hls4ml LHC jet-tagging dataset ``hls4ml_lhc_jets_hlf`` (16 high-level features, 5 classes).

Two sources, one canonical result:

* OpenML dataset 42468 (830,000 jets; ``download=True`` fetches it with scikit-learn into the
  cache). Preprocessing as in the hls4ml tutorial: labels by ``LabelEncoder`` order.
* The LogicNets/PolyLUT/NeuraLUT HDF5 file (``t_allpar_new`` compound table, ``j_`` columns,
  one-hot truth columns ``j_g, j_q, j_w, j_z, j_t``). Preprocessing as LogicNets: duplicate rows
  (over the 21 used columns) are dropped, first occurrence kept, before the split.

Both then use ``train_test_split(test_size=0.2, random_state=42)`` and a ``StandardScaler`` fit
on the training part only. Labels are always in the canonical (alphabetical) order
g=0, q=1, t=2, w=3, z=4; models trained on LogicNets' one-hot order need their outputs permuted.
"""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lutnet._files import atomic_write
from lutnet.errors import DataNotFoundError

from ._download import DATA_DIR_ENV, DataFormatError, MissingDependencyError, cache_root, search_dirs
from .dataset import Dataset

FEATURES = ("zlogz", "c1_b0_mmdt", "c1_b1_mmdt", "c1_b2_mmdt", "c2_b1_mmdt", "c2_b2_mmdt",
            "d2_b1_mmdt", "d2_b2_mmdt", "d2_a1_b1_mmdt", "d2_a1_b2_mmdt", "m2_b1_mmdt",
            "m2_b2_mmdt", "n2_b1_mmdt", "n2_b2_mmdt", "mass_mmdt", "multiplicity")
CLASSES = ("g", "q", "t", "w", "z")
H5_FEATURES = tuple("j_" + f for f in FEATURES)
H5_LABELS = ("j_g", "j_q", "j_w", "j_z", "j_t")
H5_TO_CANONICAL = np.array([CLASSES.index(c[2:]) for c in H5_LABELS])  # [0, 1, 3, 4, 2]
H5_TABLE = "t_allpar_new"
H5_FILENAME = "processed-pythia82-lhc13-all-pt1-50k-r1_h022_e0175_t220_nonu_truth.z"
H5_URL = "https://cernbox.cern.ch/index.php/s/jvFd5MoWhGs1l5v/download"
NPZ_FILENAME = "hls4ml_lhc_jets_hlf.npz"  # cache of the parsed OpenML table
OPENML_ID = 42468
SUBDIRS = ("jets_hlf", "jets")


def labels_from_strings(target: Any) -> np.ndarray:
    """Map OpenML class strings (g, q, t, w, z) to canonical int64 labels (LabelEncoder order)."""
    t = np.asarray(target).astype(str)
    unknown = np.setdiff1d(t, CLASSES)
    if unknown.size:
        raise DataFormatError(f"jet labels {unknown[:5].tolist()} are not among {CLASSES}")
    return np.searchsorted(np.array(CLASSES), t).astype(np.int64)


def arrays_from_openml(data: Any, target: Any, feature_names: Sequence[str] | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(X, y)`` from what ``fetch_openml`` returns: ``data`` a DataFrame (columns selected
    by name) or a 2-D array whose columns are ``feature_names``; ``target`` the class strings.
    ``X`` is float64 with the 16 features in canonical order, ``y`` canonical int64 labels."""
    if hasattr(data, "columns"):
        names, table = [str(c) for c in data.columns], None
    else:
        table = np.asarray(data)
        names = list(feature_names) if feature_names is not None else []
        if table.ndim != 2 or len(names) != table.shape[1]:
            raise DataFormatError(f"OpenML jet data of shape {table.shape} does not match "
                                  f"{len(names)} feature names")
    missing = [f for f in FEATURES if f not in names]
    if missing:
        raise DataFormatError(f"OpenML jet data lacks columns {missing}")
    if table is None:
        X = np.asarray(data[list(FEATURES)], dtype=np.float64)
    else:
        X = table[:, [names.index(f) for f in FEATURES]].astype(np.float64)
    y = labels_from_strings(target)
    if len(y) != len(X):
        raise DataFormatError(f"OpenML jet data has {len(X)} rows but {len(y)} labels")
    return X, y


def first_unique_rows(A: np.ndarray) -> np.ndarray:
    """Sorted indices of the first occurrence of each distinct row of 2-D ``A`` (like pandas
    ``drop_duplicates()``: NaNs compare equal, original order kept)."""
    if len(A) == 0:
        return np.arange(0)
    order = np.lexsort(A.T[::-1])  # stable: equal rows keep their original order
    a, b = A[order[1:]], A[order[:-1]]
    same = ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)
    return np.sort(order[np.concatenate(([True], ~same))])


def _require_h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise MissingDependencyError("reading the LogicNets jet HDF5 file needs h5py: "
                                     "pip install h5py") from exc
    return h5py


def read_logicnets_h5(path: str | Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Raw ``(X, y, n_duplicates)`` from the LogicNets HDF5 file, duplicates dropped.

    ``X`` keeps the file's floating dtype (as LogicNets does), features in canonical order;
    ``y`` is converted from the one-hot ``j_g, j_q, j_w, j_z, j_t`` columns to canonical labels.
    """
    h5py = _require_h5py()
    try:
        with h5py.File(path, "r") as f:
            if H5_TABLE not in f or not isinstance(f[H5_TABLE], h5py.Dataset):
                raise DataFormatError(f"{path}: no dataset {H5_TABLE!r} (found {list(f)})")
            ds = f[H5_TABLE]
            missing = [c for c in H5_FEATURES + H5_LABELS if c not in (ds.dtype.names or ())]
            if missing:
                raise DataFormatError(f"{path}: table {H5_TABLE!r} lacks columns {missing}")
            table = ds.fields(list(H5_FEATURES + H5_LABELS))[()]
    except OSError as exc:
        raise DataFormatError(f"{path}: not a readable HDF5 file ({exc})") from exc
    X = np.column_stack([table[c] for c in H5_FEATURES])
    onehot = np.column_stack([table[c] for c in H5_LABELS])
    keep = first_unique_rows(np.column_stack([X, onehot]).astype(np.float64))
    X, onehot = X[keep], onehot[keep]
    valid = ((onehot == 0) | (onehot == 1)).all(axis=1) & (onehot.sum(axis=1) == 1)
    if not valid.all():
        raise DataFormatError(f"{path}: {int((~valid).sum())} rows have truth columns "
                              f"{H5_LABELS} that are not one-hot")
    return X, H5_TO_CANONICAL[onehot.argmax(axis=1)], len(table) - len(keep)


def split_and_scale(X: np.ndarray, y: np.ndarray, name: str = "jets", test_size: float = 0.2,
                    seed: int = 42, info: dict | None = None) -> Dataset:
    """Standard jet preprocessing: ``train_test_split(test_size, random_state=seed)`` (not
    stratified) then ``StandardScaler`` fit on the training part only, applied to both."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    info = dict(info or {}, scaler_mean=scaler.mean_.copy(), scaler_scale=scaler.scale_.copy())
    return Dataset(name=name, X_train=scaler.transform(X_tr), y_train=y_tr,
                   X_test=scaler.transform(X_te), y_test=y_te, classes=CLASSES,
                   feature_names=FEATURES, info=info)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{path}: not a readable .npz file ({exc})") from exc
    X, y = arrays.get("X"), arrays.get("y")
    if X is None or y is None or tuple(arrays.get("feature_names", ())) != FEATURES:
        raise DataFormatError(f"{path}: expected arrays X, y and feature_names {FEATURES}")
    if X.ndim != 2 or y.shape != (len(X),):
        raise DataFormatError(f"{path}: X {X.shape} and y {y.shape} do not match")
    return X, y.astype(np.int64)


def _write_npz(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    def write(tmp):
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, X=X, y=y.astype(np.uint8), feature_names=np.array(FEATURES))
    atomic_write(path, write, overwrite=True)


def fetch_openml_jets(cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Download OpenML dataset 42468 with scikit-learn (its files cached under
    ``cache/openml``), return raw ``(X, y)`` and save them to ``cache/`` + NPZ_FILENAME."""
    from sklearn.datasets import fetch_openml

    if importlib.util.find_spec("pandas") is not None:  # fast parser; else the pure-Python one
        kwargs: dict[str, Any] = {"as_frame": True, "parser": "pandas"}
    else:
        kwargs = {"as_frame": False, "parser": "liac-arff"}
    try:
        bunch = fetch_openml(data_id=OPENML_ID, data_home=str(cache / "openml"), **kwargs)
    except OSError as exc:  # urllib errors: offline, DNS, HTTP
        raise DataNotFoundError(f"could not download OpenML dataset {OPENML_ID} "
                                f"(hls4ml_lhc_jets_hlf): {exc}\n{_placement_hint()}") from exc
    X, y = arrays_from_openml(bunch.data, bunch.target, bunch.feature_names)
    _write_npz(cache / NPZ_FILENAME, X, y)
    return X, y


def _placement_hint() -> str:
    return (f"Put the LogicNets HDF5 file in ${DATA_DIR_ENV}/jets_hlf/ (or pass path=<file or "
            f"dir>):\n  wget {H5_URL} -O {H5_FILENAME}\n"
            f"or call load_jets(download=True) to fetch OpenML dataset {OPENML_ID} into "
            f"{cache_root() / SUBDIRS[0]}. "
            "For a synthetic stand-in use lutnet.data.make_synthetic_jets().")


def _locate(path: str | Path | None) -> tuple[Path | None, list[Path]]:
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p, [p]
        dirs = [p]
    else:
        dirs = search_dirs(SUBDIRS)
    for d in dirs:
        for name in (H5_FILENAME, NPZ_FILENAME):
            if (d / name).is_file():
                return d / name, dirs
    return None, dirs


def load_jets(path: str | Path | None = None, *, download: bool = False,
              test_size: float = 0.2, seed: int = 42) -> Dataset:
    """Load the jet-tagging dataset as a :class:`Dataset` (16 standardised float32 features,
    labels g=0, q=1, t=2, w=3, z=4).

    ``path`` may be the LogicNets HDF5 file (any name), an ``.npz`` cache written by this module,
    or a directory holding either under its standard name. Without ``path`` the directories
    ``$LUTNET_DATA_DIR/{jets_hlf,jets}`` and ``<cache>/{jets_hlf,jets}`` are searched; with
    ``download=True`` a missing dataset is fetched from OpenML into the cache.
    """
    found, searched = _locate(path)
    if found is None and download and path is None:
        X, y = fetch_openml_jets(cache_root() / SUBDIRS[0])
        info: dict[str, Any] = {"source": f"openml:{OPENML_ID}"}
    elif found is None:
        where = "\n  ".join(str(d) for d in searched)
        raise DataNotFoundError(f"jet dataset hls4ml_lhc_jets_hlf not found. Searched:\n  "
                                f"{where}\nExpected {H5_FILENAME} (LogicNets HDF5) or "
                                f"{NPZ_FILENAME}.\n{_placement_hint()}")
    elif found.suffix == ".npz":
        X, y = _read_npz(found)
        info = {"source": str(found)}
    else:
        X, y, n_dup = read_logicnets_h5(found)
        info = {"source": str(found), "duplicates_dropped": n_dup}
    return split_and_scale(X, y, "jets", test_size, seed, info)
