"""MNIST loader: idx parsing, lookup order, checksums, download via file:// mirrors, real data."""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from lutnet.data import ChecksumError, DataFormatError, DataNotFoundError, load_mnist, parse_idx
from lutnet.data import mnist as mnist_mod

SHARED = Path(os.environ.get("LUTNET_SHARED_DATA",
                             Path(__file__).resolve().parents[2].parent / "shared" / "data"))
SHARED_MNIST = SHARED / "mnist"
needs_shared = pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                                  reason=f"shared MNIST copy not at {SHARED_MNIST}")
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LUTNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LUTNET_DATA_DIR", raising=False)


def idx_bytes(arr: np.ndarray) -> bytes:
    magic = bytes([0, 0, 0x08, arr.ndim])
    return magic + np.array(arr.shape, ">u4").tobytes() + arr.astype(np.uint8).tobytes()


def write_fake_mnist(directory: Path, seed=0, n_train=12, n_test=6, gz=True, dotted=False):
    """Small idx files in MNIST layout; returns {key: uncompressed bytes}."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28)),
              "train_labels": rng.integers(0, 10, n_train),
              "test_images": rng.integers(0, 256, (n_test, 28, 28)),
              "test_labels": rng.integers(0, 10, n_test)}
    out = {}
    for key, arr in arrays.items():
        stem, rank, _, _ = mnist_mod.FILES[key]
        name = f"{stem}.idx{rank}-ubyte" if dotted else f"{stem}-idx{rank}-ubyte"
        data = idx_bytes(arr)
        (directory / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
        out[key] = data
    return out


@pytest.fixture
def fake_checksums(monkeypatch):
    """Make the checksum table accept the files write_fake_mnist(seed=0) produces."""
    data = write_fake_mnist(Path(os.environ["LUTNET_CACHE_DIR"]).parent / "fake_src")
    for key, blob in data.items():
        stem, rank, magic, _ = mnist_mod.FILES[key]
        monkeypatch.setitem(mnist_mod.FILES, key, (stem, rank, magic,
                                                   hashlib.sha256(blob).hexdigest()))
    return data


def test_parse_idx_roundtrip_and_magic():
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(arr), "x", 0x803), arr)
    with pytest.raises(DataFormatError, match=r"^x: bad magic number 0x00000803 \(expected 0x00000801\)"):
        parse_idx(idx_bytes(arr), "x", 0x801)
    with pytest.raises(DataFormatError, match=r"^y: bad magic number 0x504b0304"):
        parse_idx(b"PK\x03\x04" + bytes(20), "y")


@pytest.mark.parametrize("cut, message", [
    (2, r"truncated idx file \(2 bytes, no header\)"),
    (10, r"truncated idx header \(10 < 16 bytes\)"),
    (-5, r"truncated: 107 bytes, expected 112 for shape \(4, 4, 6\)"),
])
def test_parse_idx_truncated(cut, message):
    data = idx_bytes(np.zeros((4, 4, 6)))[:cut]
    with pytest.raises(DataFormatError, match=r"^f\.idx: " + message):
        parse_idx(data, "f.idx", 0x803)


def test_parse_idx_trailing_bytes():
    with pytest.raises(DataFormatError, match="has trailing bytes: 11 bytes, expected 10"):
        parse_idx(idx_bytes(np.zeros(2)) + b"\0", "f", 0x801)


@pytest.mark.parametrize("gz, dotted", [(True, False), (False, False), (False, True), (True, True)])
def test_load_from_path_any_naming(tmp_path, gz, dotted):
    data = write_fake_mnist(tmp_path / "m", gz=gz, dotted=dotted)
    ds = load_mnist(tmp_path / "m", verify=False)
    imgs = parse_idx(data["train_images"], "t")
    assert ds.X_train.shape == (12, 784) and ds.X_test.shape == (6, 784)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.X_train, imgs.reshape(12, -1).astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.y_test, parse_idx(data["test_labels"], "t"))
    assert ds.classes == tuple("0123456789") and ds.feature_names[29] == "pixel_1_1"


def test_limit(tmp_path):
    write_fake_mnist(tmp_path)
    ds = load_mnist(tmp_path, verify=False, limit=5)
    assert len(ds.y_train) == 5 and len(ds.y_test) == 5


def test_local_checksum_mismatch_names_file(tmp_path):
    write_fake_mnist(tmp_path)
    with pytest.raises(ChecksumError, match=r"train-images-idx3-ubyte\.gz: sha256 mismatch \(expected ba8910"):
        load_mnist(tmp_path)


def test_truncated_file_error_names_file(tmp_path):
    write_fake_mnist(tmp_path, gz=False)
    f = tmp_path / "t10k-labels-idx1-ubyte"
    f.write_bytes(f.read_bytes()[:-2])
    with pytest.raises(DataFormatError, match=r"t10k-labels-idx1-ubyte: truncated: 12 bytes, expected 14"):
        load_mnist(tmp_path, verify=False)


def test_corrupt_gzip_names_file(tmp_path):
    write_fake_mnist(tmp_path)
    f = tmp_path / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-10])
    with pytest.raises(DataFormatError, match=r"train-labels-idx1-ubyte\.gz: corrupt or truncated gzip file"):
        load_mnist(tmp_path, verify=False)


def test_image_label_count_mismatch(tmp_path):
    write_fake_mnist(tmp_path, gz=False)
    labels = np.zeros(7, np.uint8)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(DataFormatError, match=r"images \(6, 28, 28\) do not match labels \(7,\)"):
        load_mnist(tmp_path, verify=False)


def test_lookup_order(tmp_path, monkeypatch):
    cache = Path(os.environ["LUTNET_CACHE_DIR"])
    write_fake_mnist(cache / "mnist", seed=1)
    assert load_mnist(verify=False).y_train.tolist() == \
        parse_idx(write_fake_mnist(tmp_path / "c", seed=1)["train_labels"], "").tolist()
    env_labels = parse_idx(write_fake_mnist(tmp_path / "env" / "mnist", seed=2)["train_labels"], "")
    monkeypatch.setenv("LUTNET_DATA_DIR", str(tmp_path / "env"))
    assert load_mnist(verify=False).y_train.tolist() == env_labels.tolist()  # env before cache
    arg_labels = parse_idx(write_fake_mnist(tmp_path / "arg", seed=3)["train_labels"], "")
    assert load_mnist(tmp_path / "arg", verify=False).y_train.tolist() == arg_labels.tolist()


def test_not_found_message(tmp_path, monkeypatch):
    monkeypatch.setenv("LUTNET_DATA_DIR", str(tmp_path / "env"))
    cache = Path(os.environ["LUTNET_CACHE_DIR"])
    msg = (r"MNIST idx files not found\. Searched:\n  " + str(tmp_path / "env" / "mnist")
           + r"\n  " + str(cache / "mnist") + r"\nExpected files \(gzipped or not\): "
           r"train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, "
           r"t10k-labels-idx1-ubyte\.gz\.\nSet LUTNET_DATA_DIR=<dir> with the files in <dir>/mnist/, "
           r"pass path=<dir>, or call with download=True to fetch them into " + str(cache / "mnist"))
    with pytest.raises(DataNotFoundError, match=msg):
        load_mnist()


def test_explicit_path_is_authoritative(tmp_path):
    write_fake_mnist(Path(os.environ["LUTNET_CACHE_DIR"]) / "mnist")
    with pytest.raises(DataNotFoundError, match=r"^MNIST idx files not found\. Searched:\n  \S*nowhere\n"):
        load_mnist(tmp_path / "nowhere", download=True, verify=False)


def test_download_via_file_mirror(tmp_path, fake_checksums):
    src = Path(os.environ["LUTNET_CACHE_DIR"]).parent / "fake_src"
    mirrors = [(tmp_path / "missing").as_uri(), src.as_uri() + "/"]  # first mirror fails
    ds = load_mnist(download=True, mirrors=mirrors)
    cache = Path(os.environ["LUTNET_CACHE_DIR"]) / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(p.name for p in src.iterdir())
    assert ds.y_train.tolist() == parse_idx(fake_checksums["train_labels"], "").tolist()
    # second call: served from the cache, no mirror needed
    again = load_mnist(mirrors=[])
    np.testing.assert_array_equal(again.X_test, ds.X_test)


def test_download_checksum_mismatch_leaves_nothing(tmp_path, fake_checksums):
    bad = tmp_path / "bad_mirror"
    write_fake_mnist(bad, seed=9)  # same layout, other content
    with pytest.raises(ChecksumError, match=r"downloaded train-images-idx3-ubyte\.gz failed "
                                            r"verification:\n  file://\S+: \S+: sha256 mismatch"):
        load_mnist(download=True, mirrors=[bad.as_uri()])
    cache = Path(os.environ["LUTNET_CACHE_DIR"]) / "mnist"
    assert list(cache.iterdir()) == []  # no partial or temporary file


def test_download_truncated_leaves_nothing(tmp_path, fake_checksums):
    src = Path(os.environ["LUTNET_CACHE_DIR"]).parent / "fake_src"
    bad = tmp_path / "trunc"
    bad.mkdir()
    for f in src.iterdir():
        (bad / f.name).write_bytes(f.read_bytes()[:-20])
    with pytest.raises(ChecksumError, match=r"failed verification:\n  file://\S+: "
                                            r"train-images-idx3-ubyte\.gz: corrupt or truncated gzip"):
        load_mnist(download=True, mirrors=[bad.as_uri()])
    assert list((Path(os.environ["LUTNET_CACHE_DIR"]) / "mnist").iterdir()) == []


def test_download_unreachable(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"could not download train-images-idx3-ubyte\.gz:\n  file://"):
        load_mnist(download=True, mirrors=[(tmp_path / "void").as_uri()])


@needs_shared
def test_real_mnist_from_shared_copy():
    ds = load_mnist(SHARED_MNIST)  # verifies the sha256 of the uncompressed idx content
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert np.bincount(ds.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(ds.y_test).tolist() == TEST_COUNTS
    assert ds.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert ds.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    assert abs(float(ds.X_train.mean()) - 0.13066) < 5e-5
    with np.load(SHARED_MNIST / "mnist.npz") as ref:
        np.testing.assert_array_equal(ds.X_test * 255, ref["X_test"].reshape(10000, -1))
        np.testing.assert_array_equal(ds.y_train, ref["y_train"])
    X_tr, y_tr, X_val, y_val = ds.split_validation(1 / 6, seed=0)
    assert len(y_val) == 10000 and len(y_tr) == 50000


@needs_shared
def test_real_download_path_verifies_real_checksums():
    ds = load_mnist(download=True, mirrors=[SHARED_MNIST.as_uri()], limit=100)
    assert len(ds.y_test) == 100
    cache = Path(os.environ["LUTNET_CACHE_DIR"]) / "mnist"
    for f in cache.iterdir():
        assert f.read_bytes() == (SHARED_MNIST / f.name).read_bytes()
