"""gf.keras.datasets: the embedded digits, and mnist/fashion_mnist from a cache folder (no network here)."""
import gzip
import hashlib
import io
import struct
import urllib.error

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras.datasets import _download, digits, fashion_mnist, mnist


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, and a network that always fails (as it does offline)."""
    monkeypatch.setenv("GPUFLOW_DATA_DIR", str(tmp_path))

    def offline(url, timeout=None):
        raise urllib.error.URLError("no network in tests")
    monkeypatch.setattr(_download.urllib.request, "urlopen", offline)
    return tmp_path


# --- digits ----------------------------------------------------------------------------------------

def test_digits_shapes_values_and_class_counts():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert x_train.dtype == x_test.dtype == y_train.dtype == np.uint8
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    everything = np.concatenate([y_train, y_test])
    # The UCI test set's class sizes.
    assert np.bincount(everything).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert x_train.max() == 16 and x_train.min() == 0
    # Stratified: each digit is about 20% test.
    assert all(abs(t / (t + r) - 0.2) < 0.01 for t, r in zip(np.bincount(y_test), np.bincount(y_train)))


def test_digits_split_is_fixed_by_the_seed():
    a, b = digits.load_data(seed=1), digits.load_data(seed=1)
    assert all(np.array_equal(p, q) for p, q in zip(a[0] + a[1], b[0] + b[1]))
    c = digits.load_data(seed=2)
    assert not np.array_equal(a[0][1], c[0][1])
    (x, _), (xt, _) = digits.load_data(test_split=0.5)
    assert abs(len(xt) - len(x)) < 12


def test_digits_first_image_is_a_zero():
    x, y = digits._read()
    assert y[0] == 0 and x[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_digits_rejects_a_bad_split():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"test_split must be in \[0, 1\), got 1.5"):
        digits.load_data(test_split=1.5)


def test_digits_feed_a_dataset():
    (x, y), _ = digits.load_data()
    ds = gf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    xb, yb = next(iter(ds))
    assert xb.shape == (32, 8, 8) and xb.dtype == gf.uint8 and yb.dtype == gf.uint8  # as load_data gives them


# --- mnist -----------------------------------------------------------------------------------------

def test_mnist_offline_error_names_the_file_checksum_and_folder(cache):
    with pytest.raises(gf.errors.NotFoundError) as info:
        mnist.load_data()
    text = str(info.value)
    assert "mnist.npz" in text and mnist.SHA256 in text and str(cache) in text
    assert "storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in text
    assert list(cache.iterdir()) == []  # nothing half-written left behind


def _fake_mnist(path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), "y_train": np.arange(6, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), "y_test": np.array([7, 1], np.uint8)}
    np.savez(path, **arrays)
    return arrays


def test_mnist_loads_a_cached_file_whose_checksum_matches(cache, monkeypatch):
    arrays = _fake_mnist(cache / "mnist.npz")
    monkeypatch.setattr(mnist, "SHA256", _download.sha256(cache / "mnist.npz"))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, key in zip((x_train, y_train, x_test, y_test), ("x_train", "y_train", "x_test", "y_test")):
        assert got.dtype == np.uint8 and np.array_equal(got, arrays[key])


def test_mnist_does_not_trust_a_cached_file_with_the_wrong_checksum(cache):
    _fake_mnist(cache / "mnist.npz")  # the real checksum is kept, so this file does not match it
    with pytest.raises(gf.errors.NotFoundError, match="mnist.npz"):
        mnist.load_data()


def test_a_download_is_checked_and_renamed_into_place(cache, monkeypatch):
    payload = io.BytesIO()
    arrays = _fake_mnist(payload)
    body = payload.getvalue()
    monkeypatch.setattr(mnist, "SHA256", hashlib.sha256(body).hexdigest())
    monkeypatch.setattr(_download.urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(body))
    (x_train, _), _ = mnist.load_data()
    assert np.array_equal(x_train, arrays["x_train"]) and [p.name for p in cache.iterdir()] == ["mnist.npz"]
    monkeypatch.setattr(mnist, "SHA256", "0" * 64)
    (cache / "mnist.npz").unlink()
    with pytest.raises(gf.errors.NotFoundError, match="arrived with SHA-256"):
        mnist.load_data()
    assert list(cache.iterdir()) == []


def test_mnist_refuses_pickled_content(cache, monkeypatch):
    arrays = {k: np.zeros(1, np.uint8) for k in ("y_train", "x_test", "y_test")}
    np.savez(cache / "mnist.npz", x_train=np.array([object()], dtype=object), **arrays)
    monkeypatch.setattr(mnist, "SHA256", _download.sha256(cache / "mnist.npz"))
    with pytest.raises(ValueError, match="allow_pickle"):
        mnist.load_data()


# --- fashion_mnist ---------------------------------------------------------------------------------

def _idx(path, array):
    header = struct.pack(">I", 2049 if array.ndim == 1 else 2051) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_offline_error_names_the_four_files(cache):
    with pytest.raises(gf.errors.NotFoundError) as info:
        fashion_mnist.load_data()
    text = str(info.value)
    for name, digest in fashion_mnist.FILES.items():
        assert name in text and digest in text
    assert str(cache / "fashion-mnist") in text


def test_fashion_mnist_reads_idx_files_from_the_cache(cache, monkeypatch):
    folder = cache / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    data = {"train-labels-idx1-ubyte.gz": rng.integers(0, 10, 5), "train-images-idx3-ubyte.gz":
            rng.integers(0, 256, (5, 28, 28)), "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3),
            "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28))}
    for name, array in data.items():
        _idx(folder / name, array)
    monkeypatch.setattr(fashion_mnist, "FILES", {n: _download.sha256(folder / n) for n in data})
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and x_test.shape == (3, 28, 28) and x_train.dtype == np.uint8
    assert np.array_equal(y_train, data["train-labels-idx1-ubyte.gz"])
    assert np.array_equal(x_test, data["t10k-images-idx3-ubyte.gz"])


def test_a_truncated_idx_file_is_reported(tmp_path):
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">II", 2049, 10) + bytes(3))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"declares shape \(10,\) but holds 3 bytes"):
        fashion_mnist.read_idx(path, 1)
