"""AutoencoderImputer: fills only the gaps, keeps observed values, passes scikit-learn's checks."""

import copy

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import aelab
from aelab.core.losses import masked_squared_error
from aelab.sklearn import EXPECTED_FAILED_CHECKS, AutoencoderImputer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"latent_dim": 3, "hidden": (6,), "epochs": 2, "random_state": 0}


@parametrize_with_checks(
    [AutoencoderImputer(**TINY), AutoencoderImputer(**TINY, add_indicator=True)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_masked_loss_ignores_missing_entries_and_their_gradient():
    pred = torch.randn(4, 5, requires_grad=True)
    target = torch.randn(4, 5)
    mask = torch.rand(4, 5) < 0.6
    loss = masked_squared_error(pred, target, mask)
    (grad,) = torch.autograd.grad(loss.sum(), pred)
    other = target.clone()
    other[~mask] = float("nan")  # any value, even NaN, where unobserved
    loss2 = masked_squared_error(pred, other, mask)
    (grad2,) = torch.autograd.grad(loss2.sum(), pred)
    torch.testing.assert_close(loss, loss2)
    torch.testing.assert_close(grad, grad2)
    assert (grad[~mask] == 0).all() and (grad[mask] != 0).all()
    torch.testing.assert_close(loss, ((pred - target) ** 2 * mask).sum(1))


def test_autorec_loss_does_not_read_missing_inputs():
    model = aelab.create("autorec", input_shape=6, latent_dim=4, seed=0).eval()
    x = torch.tensor([[5.0, float("nan"), 3.0, float("nan"), 1.0, 4.0]])
    a = model.loss_terms(x)["recon"]
    b = model.loss_terms(torch.nan_to_num(x, nan=0.0))["recon"]  # 0s now count as observed
    assert torch.isfinite(a) and not torch.isclose(a, b)
    x_hat = model.reconstruct(x.numpy())
    assert np.isfinite(x_hat).all()
    # reads a missing entry as 0, so it sees the same input either way
    np.testing.assert_array_equal(x_hat, model.reconstruct(np.nan_to_num(x.numpy())))


def test_masked_modelling_scores_only_the_hidden_entries():
    model = aelab.create("autorec", input_shape=6, latent_dim=4, seed=0, mask_noise=0.4,
                         visible_weight=0.0, read_mask=True).train()
    x = torch.randn(8, 6)
    x[0, 1] = x[3, 4] = float("nan")
    torch.manual_seed(3)
    recon = model.loss_terms(x)["recon"]
    torch.manual_seed(3)  # the same entries hidden
    hide = torch.rand(x.shape) < 0.4
    seen = ~hide & ~torch.isnan(x)
    x_hat = model.decoder(model.encoder(torch.nan_to_num(x.masked_fill(hide, 0.0)), seen.float()))
    scored = hide & ~torch.isnan(x)
    torch.testing.assert_close(recon, ((x_hat - torch.nan_to_num(x)) ** 2 * scored).sum(1).mean())
    # visible_weight = w adds w × the seen entries' error
    half = aelab.create("autorec", input_shape=6, latent_dim=4, seed=0, mask_noise=0.4,
                        visible_weight=0.5, read_mask=True).train()
    torch.manual_seed(3)
    torch.testing.assert_close(half.loss_terms(x)["recon"], (
        (x_hat - torch.nan_to_num(x)) ** 2 * (scored + 0.5 * seen)).sum(1).mean())


def test_reading_the_mask_tells_a_seen_zero_from_a_gap():
    model = aelab.create("autorec", input_shape=6, latent_dim=4, seed=0, mask_noise=0.2,
                         read_mask=True).eval()
    x = np.array([[5.0, np.nan, 3.0, np.nan, 1.0, 4.0]], dtype=np.float32)
    assert not np.allclose(model.reconstruct(x), model.reconstruct(np.nan_to_num(x)))
    assert sum(p.numel() for p in model.encoder.parameters()) == (6 + 6) * 4 + 4


def test_nothing_to_learn_is_refused():
    with pytest.raises(ValueError, match="set mask_noise > 0"):
        aelab.create("autorec", input_shape=6, visible_weight=0.0)


def test_validation_holds_out_entries_of_every_row():
    from aelab.sklearn.imputer import _loaders

    Z = torch.randn(200, 5)
    Z[torch.rand(Z.shape) < 0.2] = float("nan")
    data, validation = _loaders(Z, 0.1, 32, seed=0)
    (x_train,) = data.dataset.tensors
    x_val, target = validation.dataset.tensors
    held = torch.isnan(x_train) & ~torch.isnan(Z)
    assert 0.05 < held.sum() / (~torch.isnan(Z)).sum() < 0.15  # about 10% of the observed entries
    assert x_train.shape == Z.shape  # every row trains
    rows = held.any(1)
    torch.testing.assert_close(x_val, x_train[rows], equal_nan=True)
    assert (~torch.isnan(target) == held[rows]).all()  # scored exactly where held out
    torch.testing.assert_close(target[held[rows]], Z[rows][held[rows]])


def _gappy(seed=0, n=300, rate=0.2):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    X = z @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(n, 6))
    gaps = rng.random(X.shape) < rate
    return X, np.where(gaps, np.nan, X), gaps


def test_fills_only_the_gaps_and_beats_the_mean():
    X, Xg, gaps = _gappy()
    imp = AutoencoderImputer(epochs=150, random_state=0).fit(Xg)
    out = imp.transform(Xg)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[~gaps], X[~gaps])  # observed values exactly kept
    mean_fill = np.where(gaps, np.nanmean(Xg, axis=0), Xg)
    err = np.sqrt(np.mean((out[gaps] - X[gaps]) ** 2))
    assert err < 0.6 * np.sqrt(np.mean((mean_fill[gaps] - X[gaps]) ** 2))


def test_add_indicator_marks_the_gaps():
    _, Xg, gaps = _gappy()
    Xg[:, 0] = np.nan_to_num(Xg[:, 0], nan=1.0)  # column 0 fully observed: no indicator
    imp = AutoencoderImputer(**TINY, add_indicator=True).fit(Xg)
    out = imp.transform(Xg)
    assert out.shape == (300, 6 + 5)
    np.testing.assert_array_equal(out[:, 6:], gaps[:, 1:].astype(float))
    assert list(imp.get_feature_names_out()[6:]) == [f"missingindicator_x{j}" for j in range(1, 6)]


def test_dataframe_with_a_categorical_column(tmp_path):
    pd = pytest.importorskip("pandas")
    X, Xg, gaps = _gappy(n=120)
    frame = pd.DataFrame(Xg[:, :4], columns=list("abcd"))
    frame["color"] = np.where(X[:, 4] > 0, "red", "blue").astype(object)
    frame.loc[::9, "color"] = None
    out = AutoencoderImputer(**TINY).fit(frame).transform(frame)
    assert not out.isna().any().any() and set(out["color"]) <= {"red", "blue"}
    kept = frame["color"].notna()
    assert (out.loc[kept, "color"] == frame.loc[kept, "color"]).all()
    np.testing.assert_array_equal(out[list("abcd")].to_numpy()[~gaps[:, :4]], Xg[:, :4][~gaps[:, :4]])


def test_save_load_round_trip(tmp_path):
    _, Xg, _ = _gappy()
    imp = AutoencoderImputer(**TINY, n_rounds=2).fit(Xg)
    imp.save(tmp_path / "imp")
    back = aelab.sklearn.load(tmp_path / "imp")
    assert len(back.models_) == 3
    np.testing.assert_array_equal(imp.transform(Xg), back.transform(Xg))


def test_the_members_predictions_are_averaged():
    _, Xg, gaps = _gappy()
    imp = AutoencoderImputer(**TINY).fit(Xg)
    by_member = []
    for model in imp.models_:
        single = copy.copy(imp)
        single.models_ = [model]
        by_member.append(single.transform(Xg))
    np.testing.assert_allclose(imp.transform(Xg), np.mean(by_member, axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(by_member[0][gaps], by_member[1][gaps])  # the seeds differ


def test_an_imputer_saved_with_one_network_loads(tmp_path):
    import json

    _, Xg, _ = _gappy()
    imp = AutoencoderImputer(**TINY, n_members=1).fit(Xg)
    imp.save(tmp_path)
    doc = json.loads((tmp_path / "estimator.json").read_text())
    del doc["params"]["n_members"], doc["fitted"]["models"]  # the format before members
    doc["fitted"]["history_"] = doc["fitted"]["history_"][0]
    (tmp_path / "estimator.json").write_text(json.dumps(doc))
    back = AutoencoderImputer.load(tmp_path)
    assert back.n_members == 1 and len(back.history_) == 1
    np.testing.assert_array_equal(imp.transform(Xg), back.transform(Xg))


def test_a_column_with_no_observed_value_is_refused():
    _, Xg, _ = _gappy()
    Xg[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"\['x2'\] have no observed value.*Drop those columns"):
        AutoencoderImputer(**TINY).fit(Xg)


def test_infinity_is_refused():
    _, Xg, _ = _gappy()
    Xg[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        AutoencoderImputer(**TINY).fit(Xg)
