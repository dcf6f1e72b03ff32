"""`aelab impute fit` / `aelab impute fill` end to end: CSV with a string column, .npy arrays."""

import numpy as np
import pandas as pd
import pytest

from aelab.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = ["--epochs", "3", "--n-members", "2"]


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    n = 150
    z = rng.normal(size=n)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "a": z, "b": 2.0 * z + 0.1 * rng.normal(size=n),
                          "c": rng.normal(size=n), "kind": np.where(z > 0, "up", "down")})
    gappy = frame.copy()
    gappy.loc[::5, "a"] = np.nan
    gappy.loc[1::7, "b"] = np.nan
    gappy.loc[2::9, "kind"] = None
    path = tmp_path / "gappy.csv"
    gappy.to_csv(path, index=False)
    return path, gappy


def test_fit_writes_the_filled_table_and_fill_repeats_it(tmp_path, table, capsys):
    path, gappy = table
    out, filled = tmp_path / "imp", tmp_path / "filled.csv"
    assert main(["impute", "fit", "--data", str(path), "--out", str(out), "--filled", str(filled),
                 "--id-column", "id", *FAST]) == 0
    assert "fitted 2 networks on 150 rows x 4 columns" in capsys.readouterr().out
    first = pd.read_csv(filled)
    assert list(first.columns) == ["id", "a", "b", "c", "kind"]
    assert not first.isna().any().any() and set(first["kind"]) <= {"up", "down"}
    kept = gappy["a"].notna()
    np.testing.assert_allclose(first.loc[kept, "a"], gappy.loc[kept, "a"])
    assert (first["id"] == gappy["id"]).all()
    again = tmp_path / "again.csv"
    assert main(["impute", "fill", str(out), "--data", str(path), "--out", str(again),
                 "--id-column", "id"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), first)


def test_npy_in_and_out_with_indicator(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4))
    X[rng.random(X.shape) < 0.2] = np.nan
    np.save(tmp_path / "x.npy", X)
    assert main(["impute", "fit", "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "m"),
                 "--filled", str(tmp_path / "f.npy"), "--add-indicator", *FAST]) == 0
    filled = np.load(tmp_path / "f.npy")
    assert filled.shape == (80, 8) and np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[:, 4:], np.isnan(X).astype(float))


@pytest.mark.parametrize("argv,message", [
    (["--filled", "{tmp}/f.txt"], "name a .csv or .npy file"),
    (["--drop", "c"], "need a table with named columns"),
])
def test_bad_requests_are_refused_before_fitting(tmp_path, capsys, argv, message):
    np.save(tmp_path / "x.npy", np.ones((5, 2)))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["impute", "fit", "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "m"),
                 *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_an_array_given_to_an_imputer_fitted_on_strings_is_refused(tmp_path, table, capsys):
    path, gappy = table
    assert main(["impute", "fit", "--data", str(path), "--out", str(tmp_path / "m"), *FAST]) == 0
    np.save(tmp_path / "x.npy", np.ones((5, 4)))
    assert main(["impute", "fill", str(tmp_path / "m"), "--data", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "o.csv")]) == 2
    assert "fitted on a DataFrame with string columns" in capsys.readouterr().err
