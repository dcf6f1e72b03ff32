"""`aelab detect fit` / `aelab detect score` end to end on a CSV with a string column."""

import numpy as np
import pandas as pd
import pytest

from aelab.cli import main
from aelab.sklearn import AutoencoderOutlierDetector

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def tables(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    z = rng.normal(size=n)
    frame = pd.DataFrame({
        "id": [f"r{i}" for i in range(n)],
        "a": z,
        "b": 2.0 * z + 0.1 * rng.normal(size=n),
        "c": rng.normal(size=n),
        "kind": np.where(z > 0, "up", "down"),
        "label": 0,
    })
    frame.loc[:3, "a"] = [1.5, -1.5, 1.2, -1.2]  # four rows break the a-b relation: b = -2a
    frame.loc[:3, "b"] = -2.0 * frame.loc[:3, "a"]
    frame.loc[:3, "kind"] = np.where(frame.loc[:3, "a"] > 0, "up", "down")
    frame.loc[:3, "label"] = 1
    train = tmp_path / "train.csv"
    frame.to_csv(train, index=False)
    new = tmp_path / "new.csv"
    frame.iloc[:40].to_csv(new, index=False)
    return train, new, frame


def test_fit_then_score(tmp_path, tables, capsys):
    train, new, frame = tables
    out = tmp_path / "det"
    assert main(["detect", "fit", "--data", str(train), "--out", str(out), "--id-column", "id",
                 "--drop", "label", "--contamination", "0.05", "--n-members", "2",
                 "--epochs", "60", "--neighbors", "5"]) == 0
    assert "5.0% of the training rows are outliers" in capsys.readouterr().out
    det = AutoencoderOutlierDetector.load(out)
    assert list(det.feature_names_in_) == ["a", "b", "c", "kind"]
    assert (det.n_members, det.neighbors, det.ensemble_.neighbors) == (2, 5, 5)

    scores_path = tmp_path / "scores.csv"
    assert main(["detect", "score", str(out), "--data", str(new), "--out", str(scores_path),
                 "--id-column", "id", "--drop", "label", "--top", "2"]) == 0
    assert "scored 40 rows" in capsys.readouterr().out
    scores = pd.read_csv(scores_path)
    assert list(scores.columns) == ["id", "anomaly_score", "is_outlier", "feature_1", "share_1",
                                    "feature_2", "share_2"]
    assert list(scores["id"]) == list(frame["id"][:40])
    features = frame.iloc[:40].drop(columns=["id", "label"])
    np.testing.assert_allclose(scores["anomaly_score"], -det.score_samples(features), rtol=1e-6)
    # the four broken rows are the four highest scores and are flagged, b or a explains them
    assert set(scores["anomaly_score"].nlargest(4).index) == {0, 1, 2, 3}
    assert scores["is_outlier"][:4].tolist() == [1, 1, 1, 1]
    assert set(scores["feature_1"][:4]) <= {"a", "b"}
    assert (scores["share_1"] >= scores["share_2"]).all()


def test_errors_exit_2(tmp_path, tables, capsys):
    train, new, frame = tables
    assert main(["detect", "fit", "--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "d")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["detect", "fit", "--data", str(train), "--out", str(tmp_path / "d"),
                 "--drop", "nope"]) == 2
    assert "no column(s) ['nope']" in capsys.readouterr().err
    assert main(["detect", "fit", "--data", str(train), "--out", str(tmp_path / "d"),
                 "--contamination", "lots"]) == 2
    assert "--contamination must be a number or 'auto'" in capsys.readouterr().err
    assert main(["detect", "fit", "--data", str(train), "--out", str(tmp_path / "d"),
                 "--neighbors", "some"]) == 2
    assert "--neighbors must be an integer or 'auto'" in capsys.readouterr().err

    out = tmp_path / "det"
    assert main(["detect", "fit", "--data", str(train), "--out", str(out), "--id-column", "id",
                 "--drop", "label", "--n-members", "1", "--epochs", "2"]) == 0
    # scoring a table without the label column dropped: the columns do not match
    assert main(["detect", "score", str(out), "--data", str(new), "--out", str(tmp_path / "s.csv"),
                 "--id-column", "id"]) == 2
    assert "unexpected ['label']" in capsys.readouterr().err
    assert main(["detect", "score", str(tmp_path), "--data", str(new), "--out",
                 str(tmp_path / "s.csv")]) == 2
    assert "estimator.json is missing" in capsys.readouterr().err
