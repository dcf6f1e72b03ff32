"""One scaling, one set of names: the statistics of aelab.core.scaling, used by the models'
``preprocess`` and by the estimators' ``scaling``."""

import numpy as np
import pytest
import torch

import aelab
from aelab.core.scaling import SCALINGS, fit_scaling
from aelab.nn.layers import Scaler
from aelab.sklearn.tabular import TabularEncoder


def chunks(x: np.ndarray, size: int):
    return [torch.from_numpy(x[i : i + size]) for i in range(0, len(x), size)]


@pytest.mark.parametrize("kind", list(SCALINGS))
def test_streaming_equals_one_pass_and_numpy(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_t(3, size=(1000, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, -5.0, 1e6, 2.0]
    shift, scale = fit_scaling(kind, chunks(x, 97))
    whole = fit_scaling(kind, [torch.from_numpy(x)])
    np.testing.assert_allclose(shift, whole[0], rtol=1e-12)
    np.testing.assert_allclose(scale, whole[1], rtol=1e-9)
    expected = {
        "none": (np.zeros(4), np.ones(4)),
        "standard": (x.mean(0), x.std(0)),
        "minmax": (x.min(0), x.max(0) - x.min(0)),
        "robust": (np.median(x, 0), np.subtract(*np.percentile(x, [75, 25], 0)) / 1.3489795),
    }[kind]
    np.testing.assert_allclose(shift.numpy(), expected[0], rtol=1e-9)
    np.testing.assert_allclose(scale.numpy(), expected[1], rtol=1e-6)


def test_standard_is_stable_for_a_large_mean():
    # sum-of-squares formulas lose every digit here; the pairwise update keeps them
    x = 1e8 + np.random.default_rng(1).normal(size=(5000, 1))
    _, scale = fit_scaling("standard", chunks(x, 128))
    assert scale.item() == pytest.approx(x.std(), rel=1e-6)


def test_constant_and_tied_features():
    x = np.zeros((50, 2))
    x[:, 1] = 3.0
    x[:5, 1] = [1, 2, 4, 5, 9]  # more than half tied: robust falls back to the std
    shift, scale = fit_scaling("robust", [torch.from_numpy(x)])
    assert scale[0] == 1.0  # constant: scale 1
    assert scale[1] == pytest.approx(x[:, 1].std())
    with pytest.raises(ValueError, match="empty"):
        fit_scaling("standard", [])


def test_one_set_of_names_everywhere():
    assert set(Scaler.KINDS) == {"auto", *SCALINGS}
    for kind in SCALINGS:
        TabularEncoder(kind)
        aelab.create("ae", input_shape=3, preprocess=kind)
        aelab.sklearn.AutoencoderOutlierDetector(scaling=kind)._check_common_params()


def test_model_and_table_scale_alike():
    x = np.random.default_rng(2).lognormal(size=(300, 3))
    enc = TabularEncoder("robust").fit(x)
    scaler = Scaler(3, "robust").fit([torch.from_numpy(x.astype(np.float32))])
    np.testing.assert_allclose(scaler(torch.from_numpy(x.astype(np.float32))).numpy(),
                               enc.transform(x), rtol=1e-4, atol=1e-5)


def test_robust_detector_fits():
    x = np.random.default_rng(3).normal(size=(200, 4))
    det = aelab.sklearn.AutoencoderOutlierDetector(scaling="robust", n_members=1, refits=0,
                                                   epochs=2, random_state=0).fit(x)
    assert det.ensemble_.members[0].scaler.fitted_kind == "robust"
