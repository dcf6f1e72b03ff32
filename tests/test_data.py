"""Data loading: the embedded digits, checksum-verified MNIST, user files."""

import gzip

import numpy as np
import pandas as pd
import pytest

import aelab
from aelab.data.datasets import MNIST_FILES, parse_idx
from conftest import shared_data_dir


def test_digits(digits):
    assert digits.X_train.shape == (1437, 64) and digits.X_test.shape == (360, 64)
    assert digits.X_train.dtype == np.float32
    assert 0.0 <= digits.X_train.min() and digits.X_train.max() <= 1.0
    assert digits.image_shape == (8, 8) and set(np.unique(digits.y_train)) == set(range(10))


def test_parse_idx_round_trip():
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3]) + np.array([2, 3, 4], dtype=">i4").tobytes() + data.tobytes()
    np.testing.assert_array_equal(parse_idx(raw), data)
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"\x00\x00\x09\x01" + raw[4:])
    with pytest.raises(ValueError, match="payload"):
        parse_idx(raw[:-1])


def test_mnist_checksum_failure(tmp_path):
    raw = bytes([0, 0, 8, 1]) + np.array([3], dtype=">i4").tobytes() + bytes(3)
    for name in MNIST_FILES:
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match="checksum"):
        aelab.data.load("mnist", data_dir=tmp_path)


def test_mnist_missing_dir(tmp_path):
    with pytest.raises(ValueError, match="MNIST files not found"):
        aelab.data.load("mnist", data_dir=tmp_path)


@pytest.mark.skipif(shared_data_dir() is None, reason="needs ../shared/data (AELAB_DATA_DIR)")
def test_mnist_real():
    ds = aelab.data.load("mnist", data_dir=shared_data_dir())
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert np.bincount(ds.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert ds.X_train.max() == 1.0 and ds.X_train.min() == 0.0 and ds.image_shape == (28, 28)


def test_user_files(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    np.save(tmp_path / "a.npy", X)
    np.savez(tmp_path / "b.npz", X=X, y=np.arange(30))
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=np.arange(30) % 2)
    frame.to_csv(tmp_path / "c.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    for name in ("a.npy", "b.npz"):
        np.testing.assert_allclose(aelab.data.load(tmp_path / name).X_train, X)
    assert aelab.data.load(tmp_path / "b.npz").y_train.tolist() == list(range(30))
    for name in ("c.csv", "d.parquet"):
        ds = aelab.data.load(tmp_path / name, label_column="label")
        np.testing.assert_allclose(ds.X_train, X, rtol=1e-6)
        assert ds.feature_names == list("abcd") and ds.y_train.tolist() == [i % 2 for i in range(30)]
    split = aelab.data.load(tmp_path / "a.npy", test_size=0.2)
    assert split.X_train.shape == (24, 4) and split.X_test.shape == (6, 4)


def test_user_file_errors(tmp_path):
    pd.DataFrame({"x": [1.0, 2.0], "colour": ["red", "blue"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['colour'\]"):
        aelab.data.load(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="does not exist"):
        aelab.data.load(tmp_path / "missing.csv")
    (tmp_path / "x.txt").write_text("1 2")
    with pytest.raises(ValueError, match="unknown file type"):
        aelab.data.load(tmp_path / "x.txt")
    with pytest.raises(ValueError, match="Did you mean 'mnist'"):
        aelab.data.load("mnsit")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):  # object arrays would need pickle: refused
        aelab.data.load(tmp_path / "obj.npy")
    pd.DataFrame({"x": [1.0, np.nan]}).to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(ValueError, match="NaN"):
        aelab.data.load(tmp_path / "nan.csv")
