"""Jet-tagging loader on generated data in the real schemas (LogicNets HDF5, OpenML table)."""

import os
import re
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder, StandardScaler

import lutnet.data
from lutnet.data import (
    DataFormatError,
    DataNotFoundError,
    MissingDependencyError,
    jets,
    load_dataset,
    load_jets,
    make_synthetic_jets,
    synthetic_jets_arrays,
)

h5py = pytest.importorskip("h5py")
SHARED = Path(os.environ.get("LUTNET_SHARED_DATA",
                             Path(__file__).resolve().parents[2].parent / "shared" / "data"))
SHARED_JETS = SHARED / "jets_hlf"
REAL_JETS = [p for p in (SHARED_JETS / jets.H5_FILENAME, SHARED_JETS / jets.NPZ_FILENAME)
             if p.is_file()]
FEATURES_README = ["zlogz", "c1_b0_mmdt", "c1_b1_mmdt", "c1_b2_mmdt", "c2_b1_mmdt", "c2_b2_mmdt",
                   "d2_b1_mmdt", "d2_b2_mmdt", "d2_a1_b1_mmdt", "d2_a1_b2_mmdt", "m2_b1_mmdt",
                   "m2_b2_mmdt", "n2_b1_mmdt", "n2_b2_mmdt", "mass_mmdt", "multiplicity"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LUTNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LUTNET_DATA_DIR", raising=False)


def write_h5(path, X, y, n_dup=0, dtype=np.float32, onehot=None):
    """LogicNets-style file: compound table t_allpar_new, j_ columns in a scrambled order plus
    unused columns, one-hot truth j_g, j_q, j_w, j_z, j_t; the first n_dup rows repeated."""
    X = np.concatenate([X, X[:n_dup]])
    if onehot is None:
        onehot = np.eye(5)[[jets.CLASSES.index(c[2:]) for c in jets.H5_LABELS]].T[y]
        onehot = np.concatenate([onehot, onehot[:n_dup]])
    cols = {"j_pt": np.arange(len(X), dtype=dtype), "j_index": np.arange(len(X), dtype=dtype)}
    cols.update({f"j_{f}": X[:, i] for i, f in enumerate(FEATURES_README)})
    cols.update({c: onehot[:, k] for k, c in enumerate(jets.H5_LABELS)})
    names = sorted(cols)[::-1]  # not the canonical order
    table = np.empty(len(X), dtype=[(n, dtype) for n in names])
    for n in names:
        table[n] = cols[n]
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("t_allpar_new", data=table)
    return path


def reference(X, y, test_size=0.2):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=42)
    sc = StandardScaler().fit(X_tr)
    return sc.transform(X_tr), y_tr, sc.transform(X_te), y_te


def test_schema_matches_readme():
    assert jets.FEATURES == tuple(FEATURES_README)
    assert jets.H5_FEATURES[0] == "j_zlogz" and jets.H5_FEATURES[-1] == "j_multiplicity"
    assert jets.CLASSES == ("g", "q", "t", "w", "z")
    assert jets.H5_TO_CANONICAL.tolist() == [0, 1, 3, 4, 2]  # g q w z t -> g q t w z


@pytest.mark.skipif(not (SHARED_JETS / "README.md").is_file(), reason="no shared jets README")
def test_schema_matches_shared_readme_table():
    rows = re.findall(r"^\| (\d+) \| (\w+) \| (j_\w+) \|$",
                      (SHARED_JETS / "README.md").read_text(), flags=re.M)
    assert [int(r[0]) for r in rows] == list(range(16))
    assert tuple(r[1] for r in rows) == jets.FEATURES
    assert tuple(r[2] for r in rows) == jets.H5_FEATURES


@pytest.mark.skipif(not REAL_JETS, reason=f"no real jet data in {SHARED_JETS}")
def test_real_jets_from_shared_dir():
    ds = load_jets(SHARED_JETS)
    n = len(ds.y_train) + len(ds.y_test)
    assert ds.n_features == 16 and abs(len(ds.y_test) - 0.2 * n) <= 1
    assert np.bincount(ds.y_train, minlength=5).min() > 0.1 * len(ds.y_train)
    assert np.abs(ds.X_train.mean(axis=0)).max() < 1e-3
    if REAL_JETS[0].suffix == ".npz":  # the OpenML table: hls4ml tutorial sizes
        assert (len(ds.y_train), len(ds.y_test)) == (664_000, 166_000)


def test_logicnets_h5_matches_logicnets_recipe(tmp_path):
    X, y = synthetic_jets_arrays(600, seed=1)
    X = X.astype(np.float32)
    path = write_h5(tmp_path / "any_name.h5", X, y, n_dup=37)
    ds = load_jets(path)
    assert ds.info["duplicates_dropped"] == 37 and ds.info["source"] == str(path)
    ref = reference(X, y)  # the duplicates were appended, so dropping them restores X
    for got, want in zip((ds.X_train, ds.y_train, ds.X_test, ds.y_test), ref):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert (len(ds.y_train), len(ds.y_test)) == (480, 120)
    assert ds.classes == ("g", "q", "t", "w", "z") and ds.feature_names == tuple(FEATURES_README)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    X_tr = train_test_split(X, y, test_size=0.2, random_state=42)[0]
    np.testing.assert_allclose(ds.info["scaler_mean"], X_tr.astype(np.float64).mean(0), rtol=1e-5)


def test_label_permutation_from_onehot(tmp_path):
    X = np.arange(5 * 16, dtype=np.float32).reshape(5, 16)
    onehot = np.eye(5)  # row k has truth column H5_LABELS[k] = j_g, j_q, j_w, j_z, j_t
    X_raw, y, n_dup = jets.read_logicnets_h5(write_h5(tmp_path / "f.z", X, None, onehot=onehot))
    assert y.tolist() == [0, 1, 3, 4, 2] and n_dup == 0
    np.testing.assert_array_equal(X_raw, X)  # features back in canonical order


def test_duplicates_dropped_keep_first_over_used_columns_only(tmp_path):
    X = np.zeros((4, 16), np.float32)
    X[1, 3] = 1.0
    onehot = np.eye(5)[[0, 0, 0, 2]]  # rows 0 and 2 identical; row 3 same X, other label
    path = write_h5(tmp_path / "f.z", X, None, onehot=onehot)  # j_pt/j_index differ per row
    X_raw, y, n_dup = jets.read_logicnets_h5(path)
    assert n_dup == 1 and y.tolist() == [0, 0, 3]
    assert X_raw[:, 3].tolist() == [0.0, 1.0, 0.0]


def test_first_unique_rows_like_pandas():
    A = np.array([[1, np.nan], [0, 0], [1, np.nan], [0, -0.0], [2, 1], [0, 0]])
    assert jets.first_unique_rows(A).tolist() == [0, 1, 4]
    assert jets.first_unique_rows(np.zeros((0, 3))).tolist() == []


def test_lookup_dir_env_and_cache(tmp_path, monkeypatch):
    X, y = synthetic_jets_arrays(100, seed=2)
    d = tmp_path / "data"
    write_h5(d / "jets_hlf" / jets.H5_FILENAME, X, y)
    by_dir = load_jets(d / "jets_hlf")
    monkeypatch.setenv("LUTNET_DATA_DIR", str(d))
    by_env = load_dataset("jets")
    np.testing.assert_array_equal(by_env.X_test, by_dir.X_test)
    monkeypatch.delenv("LUTNET_DATA_DIR")
    write_h5(Path(os.environ["LUTNET_CACHE_DIR"]) / "jets" / jets.H5_FILENAME, X[:50], y[:50])
    assert len(load_jets().y_test) == 10  # found in <cache>/jets


def test_not_found_message(tmp_path, monkeypatch):
    monkeypatch.setenv("LUTNET_DATA_DIR", str(tmp_path / "d"))
    cache = Path(os.environ["LUTNET_CACHE_DIR"])
    searched = [tmp_path / "d" / "jets_hlf", tmp_path / "d" / "jets", cache / "jets_hlf",
                cache / "jets"]
    msg = ("jet dataset hls4ml_lhc_jets_hlf not found. Searched:\n  "
           + "\n  ".join(map(str, searched))
           + f"\nExpected {jets.H5_FILENAME} (LogicNets HDF5) or hls4ml_lhc_jets_hlf.npz.\n"
           "Put the LogicNets HDF5 file in $LUTNET_DATA_DIR/jets_hlf/ (or pass path=<file or dir>):"
           f"\n  wget {jets.H5_URL} -O {jets.H5_FILENAME}\n"
           f"or call load_jets(download=True) to fetch OpenML dataset 42468 into "
           f"{cache / 'jets_hlf'}. For a synthetic stand-in use lutnet.data.make_synthetic_jets().")
    with pytest.raises(DataNotFoundError) as err:
        load_jets()
    assert str(err.value) == msg
    with pytest.raises(DataNotFoundError, match=r"Searched:\n  \S+/elsewhere\nExpected"):
        load_jets(tmp_path / "elsewhere", download=True)  # explicit path: never downloads


def test_bad_files(tmp_path):
    X, y = synthetic_jets_arrays(20, seed=3)
    bad = tmp_path / "not_hdf5.z"
    bad.write_bytes(b"hello")
    with pytest.raises(DataFormatError, match=r"not_hdf5\.z: not a readable HDF5 file"):
        load_jets(bad)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("something", data=np.zeros(3))
    with pytest.raises(DataFormatError, match=r"other\.h5: no dataset 't_allpar_new' \(found \['something'\]\)"):
        load_jets(other)
    path = write_h5(tmp_path / "f.z", X, y)
    with h5py.File(path, "a") as f:
        t = f["t_allpar_new"][()]
        del f["t_allpar_new"]
        keep = [n for n in t.dtype.names if n != "j_mass_mmdt"]
        f.create_dataset("t_allpar_new", data=t[keep])
    with pytest.raises(DataFormatError, match=r"f\.z: table 't_allpar_new' lacks columns \['j_mass_mmdt'\]"):
        load_jets(path)
    twohot = np.eye(5)[np.arange(20) % 5]
    twohot[3, 0] = 1.0
    path = write_h5(tmp_path / "g.z", X, None, onehot=twohot)
    with pytest.raises(DataFormatError, match=r"g\.z: 1 rows have truth columns .* not one-hot"):
        load_jets(path)


def test_missing_h5py_error(tmp_path, monkeypatch):
    X, y = synthetic_jets_arrays(20, seed=3)
    path = write_h5(tmp_path / "f.z", X, y)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(MissingDependencyError, match="^reading the LogicNets jet HDF5 file needs "
                                                     "h5py: pip install h5py$"):
        load_jets(path)


def openml_like(n, seed):
    """Raw arrays in the OpenML schema: shuffled feature columns, string target."""
    X, y = synthetic_jets_arrays(n, seed)
    perm = np.random.default_rng(seed).permutation(16)
    return X[:, perm], np.array(jets.CLASSES)[y].astype(object), [FEATURES_README[i] for i in perm], X, y


def test_arrays_from_openml_ndarray_and_frame():
    data, target, names, X, y = openml_like(50, 4)
    X_got, y_got = jets.arrays_from_openml(data, target, names)
    np.testing.assert_array_equal(X_got, X)
    np.testing.assert_array_equal(y_got, LabelEncoder().fit_transform(target))

    class Frame:  # minimal DataFrame stand-in: .columns and column selection by list
        columns = names

        def __getitem__(self, cols):
            return data[:, [names.index(c) for c in cols]]

    np.testing.assert_array_equal(jets.arrays_from_openml(Frame(), target)[0], X)
    with pytest.raises(DataFormatError, match=r"OpenML jet data lacks columns \['zlogz'\]"):
        jets.arrays_from_openml(data, target, ["x" if n == "zlogz" else n for n in names])
    with pytest.raises(DataFormatError, match=r"jet labels \['b'\] are not among"):
        jets.arrays_from_openml(data, np.where(y == 0, "b", target), names)


def test_arrays_from_openml_pandas_dataframe():
    pd = pytest.importorskip("pandas")
    data, target, names, X, y = openml_like(30, 5)
    frame = pd.DataFrame(data, columns=names)
    X_got, y_got = jets.arrays_from_openml(frame, pd.Series(pd.Categorical(target)))
    np.testing.assert_array_equal(X_got, X)
    np.testing.assert_array_equal(y_got, y)


def test_download_openml_then_cached(monkeypatch):
    data, target, names, X, y = openml_like(200, 6)
    calls = []

    def fake_fetch_openml(**kwargs):
        calls.append(kwargs)
        from sklearn.utils import Bunch
        return Bunch(data=data, target=target, feature_names=names)

    import sklearn.datasets
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch_openml)
    ds = load_jets(download=True)
    cache = Path(os.environ["LUTNET_CACHE_DIR"]) / "jets_hlf"
    assert calls[0]["data_id"] == 42468 and calls[0]["data_home"] == str(cache / "openml")
    ref = reference(X, LabelEncoder().fit_transform(target))  # the hls4ml tutorial recipe
    for got, want in zip((ds.X_train, ds.y_train, ds.X_test, ds.y_test), ref):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert ds.info["source"] == "openml:42468"
    assert [p.name for p in cache.iterdir() if p.is_file()] == ["hls4ml_lhc_jets_hlf.npz"]
    again = load_jets()  # now served from the cache, no fetch
    assert len(calls) == 1
    np.testing.assert_array_equal(again.X_train, ds.X_train)


def test_download_openml_offline(monkeypatch):
    import sklearn.datasets

    def offline(**kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.raises(DataNotFoundError, match=r"^could not download OpenML dataset 42468 "
                                                r"\(hls4ml_lhc_jets_hlf\): <urlopen error no network>\nPut the"):
        load_jets(download=True)


def test_bad_npz(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"junk")
    with pytest.raises(DataFormatError, match=r"x\.npz: not a readable \.npz file"):
        load_jets(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", X=np.zeros((3, 16)), y=np.zeros(3))
    with pytest.raises(DataFormatError, match=r"y\.npz: expected arrays X, y and feature_names"):
        load_jets(tmp_path / "y.npz")


def test_synthetic_jets():
    assert "synthetic" in make_synthetic_jets.__doc__.lower()
    assert "synthetic" in lutnet.data.synthetic.__doc__.lower()
    ds = make_synthetic_jets(3000, seed=0)
    assert ds.name == "jets-synthetic" and ds.info["synthetic"] is True
    assert ds.feature_names == tuple(FEATURES_README) and ds.classes == jets.CLASSES
    assert ds.X_train.shape == (2400, 16) and np.bincount(ds.y_train).min() > 400
    assert abs(ds.X_train.mean()) < 1e-5  # standardised on train
    X, y = synthetic_jets_arrays(3000, seed=0)
    assert (X[:, 0] <= 0).all() and (X[:, 1:] >= 0).all()
    assert np.array_equal(X[:, -1], np.round(X[:, -1])) and X[:, -1].min() >= 1
    np.testing.assert_array_equal(make_synthetic_jets(3000, seed=0).X_test, ds.X_test)
    assert not np.array_equal(make_synthetic_jets(3000, seed=1).X_test, ds.X_test)
    # learnable: nearest class mean beats chance (0.2) by a wide margin
    means = np.stack([ds.X_train[ds.y_train == k].mean(0) for k in range(5)])
    pred = ((ds.X_test[:, None, :] - means) ** 2).sum(-1).argmin(1)
    assert (pred == ds.y_test).mean() > 0.5
    assert load_dataset("jets-synthetic", n=500).X_train.shape == (400, 16)
