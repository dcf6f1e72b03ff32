"""The default detector on real ADBench data beside IsolationForest (slow: `pytest -m slow`)."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from aelab.sklearn import AutoencoderOutlierDetector
from conftest import shared_data_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.skipif(shared_data_dir() is None, reason="needs ADBench in $AELAB_DATA_DIR"),
]


@pytest.mark.parametrize("name", ["38_thyroid", "4_breastw", "31_satimage-2", "2_annthyroid"])
def test_default_detector_holds_its_own_against_isolation_forest(name):
    with np.load(shared_data_dir() / "adbench" / f"{name}.npz", allow_pickle=False) as z:
        X, y = z["X"], z["y"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
    det = AutoencoderOutlierDetector(contamination=float(y_tr.mean()), random_state=0).fit(X_tr)
    ours = roc_auc_score(y_te, -det.score_samples(X_te))
    iforest = roc_auc_score(y_te, -IsolationForest(random_state=0).fit(X_tr).score_samples(X_te))
    assert ours > 0.85
    assert ours > iforest - 0.03
