"""aelab.sklearn: scikit-learn's estimator checks, the outlier conventions, tables with
categorical columns, save/load, bad input, and a planted-outlier data set."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import aelab
import aelab.sklearn
from aelab.applications.detection import (
    ARRAYS_FILE,
    SCORERS,
    TARGET_STEPS,
    auto_settings,
    feature_scores,
    fit_ensemble,
    knn_distances,
    register_scorer,
    score_scales,
    spread_code_sizes,
)
from aelab.sklearn import (
    EXPECTED_FAILED_CHECKS,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    TabularEncoder,
)
from cases import MODEL_CASES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = {"latent_dim": 2, "hidden": (4,), "epochs": 2, "random_state": 0}


def tiny_detector(**params):
    return AutoencoderOutlierDetector(**{**TINY, "n_members": 2, **params})


@parametrize_with_checks(
    [AutoencoderTransformer(**TINY), tiny_detector()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- data
def planted(n=300, d=8, n_out=6, seed=0):
    """Rows near a 2-D linear subspace of R^d, and ``n_out`` rows far off it (the first)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, d)) + 0.05 * rng.normal(size=(n, d))
    y = np.zeros(n, dtype=int)
    X[:n_out] += 4.0 * rng.normal(size=(n_out, d))
    y[:n_out] = 1
    return X, y


def mixed_frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    size = rng.normal(10.0, 2.0, n)
    color = rng.choice(["red", "green", "blue"], n)
    return pd.DataFrame({
        "size": size,
        "weight": 3.0 * size + rng.normal(0, 0.5, n),
        "color": color,
        "shade": pd.Categorical(np.where(color == "red", "warm", "cool")),
        "flag": rng.random(n) > 0.5,
    })


# --------------------------------------------------------------------------- conventions
def test_outlier_sign_conventions():
    X, y = planted()
    det = tiny_detector(epochs=30, contamination=0.05).fit(X)
    s, d, p = det.score_samples(X), det.decision_function(X), det.predict(X)
    assert s.dtype == np.float64 and p.dtype.kind == "i"
    assert set(np.unique(p)) == {-1, 1}
    np.testing.assert_allclose(d, s - det.offset_)
    np.testing.assert_array_equal(p == -1, d < 0)
    # higher score_samples = more normal: planted outliers score lower than the rest
    assert s[y == 1].mean() < s[y == 0].mean()
    np.testing.assert_array_equal(det.fit_predict(X), p)


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_contamination_sets_training_outlier_fraction(contamination):
    X, _ = planted(n=200)
    det = tiny_detector(contamination=contamination).fit(X)
    flagged = np.mean(det.predict(X) == -1)
    assert abs(flagged - contamination) <= 1 / len(X)


def test_auto_contamination_is_tukeys_fence():
    X, y = planted()
    det = tiny_detector(epochs=30).fit(X)
    scores = -det.score_samples(X)
    q1, q3 = np.percentile(scores, [25, 75])
    assert det.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)))
    assert (det.predict(X)[y == 1] == -1).all()


def test_explain_shares_sum_to_one_and_point_at_the_planted_feature():
    X, _ = planted(n=300, seed=1)
    det = tiny_detector(epochs=30).fit(X)
    row = X[10:11].copy()
    row[0, 5] += 25.0  # one feature far off
    shares = det.explain(np.vstack([X[:20], row]))
    assert shares.shape == (21, X.shape[1])
    np.testing.assert_allclose(shares.sum(1), 1.0)
    assert (shares >= 0).all()
    assert shares[-1].argmax() == 5


def test_planted_outliers_ranked_first_with_defaults():
    """The defaults on a few hundred rows: the planted outliers get the highest scores."""
    X, y = planted(n=300)
    det = AutoencoderOutlierDetector(random_state=0).fit(X)
    anomaly = -det.score_samples(X)
    assert roc_auc_score(y, anomaly) == 1.0
    assert set(np.argsort(-anomaly)[: y.sum()]) == set(np.flatnonzero(y))


@pytest.mark.parametrize("dim", [3, 9])  # the k-d tree and the brute-force search
def test_knn_distances_match_brute_force(dim):
    rng = np.random.default_rng(0)
    Q, R = rng.normal(size=(7, dim)), rng.normal(size=(20, dim))
    dist = np.sqrt(((Q[:, None] - R[None]) ** 2).sum(-1))
    np.testing.assert_allclose(knn_distances(Q, R, 4), np.sort(dist, 1)[:, :4].mean(1), rtol=1e-5)
    own = np.sqrt(((R[:, None] - R[None]) ** 2).sum(-1))  # each row's own 0 is left out
    np.testing.assert_allclose(knn_distances(R, R, 3, leave_one_out=True),
                               np.sort(own, 1)[:, 1:4].mean(1), rtol=1e-5)
    with pytest.raises(ValueError, match="at least 21 reference rows"):
        knn_distances(R, R, 20, leave_one_out=True)


def test_neighbour_term_adds_normalised_code_distance():
    X, _ = planted(n=200)
    base = tiny_detector(refits=0, neighbors=0).fit(X)
    det = tiny_detector(refits=0, neighbors=5).fit(X)  # same seeds, so the same members
    ens = det.ensemble_
    Z = det.encoder_.transform(X).astype(np.float32)
    codes = [m.encode(Z) for m in ens.members]
    for c, ref, scale in zip(codes, ens.references, ens.code_scales):
        np.testing.assert_allclose(ref, c)  # the reference: every training row's code
        np.testing.assert_allclose(scale, knn_distances(c, c, 5, leave_one_out=True).mean(),
                                   rtol=1e-6)
    extra = np.mean([knn_distances(c[:20], ref, 5) / s
                     for c, ref, s in zip(codes, ens.references, ens.code_scales)], 0)
    np.testing.assert_allclose(base.score_samples(X[:20]) - det.score_samples(X[:20]), extra,
                               rtol=1e-5)


def test_reference_codes_are_a_capped_sample_of_the_training_rows(monkeypatch):
    import aelab.applications.detection.ensemble as detection

    monkeypatch.setattr(detection, "MAX_REFERENCE", 50)
    X, _ = planted(n=200)
    det = tiny_detector(refits=0, neighbors=3).fit(X)
    ref = det.ensemble_.references[0]
    codes = det.ensemble_.members[0].encode(det.encoder_.transform(X).astype(np.float32))
    assert ref.shape == (50, 2)
    assert all(np.isclose(codes, row).all(1).any() for row in ref)  # training rows' codes


@pytest.mark.parametrize("d, latent_dim, expected", [
    (8, "auto", 10),   # code ceil(sqrt(8)) = 3
    (36, "auto", 10),  # code 6: the widest with the term
    (37, "auto", 0),   # code 7
    (37, 6, 10),       # an explicit code decides, not the data's width
    (8, [2, 7], 0),    # every member's code must be narrow
])
def test_auto_neighbors_follow_the_code_width(d, latent_dim, expected):
    X, _ = planted(n=60, d=d)
    det = tiny_detector(refits=0, latent_dim=latent_dim, epochs=1).fit(X)
    assert det.neighbors == "auto" and det.ensemble_.neighbors == expected
    assert len(det.ensemble_.references) == (det.n_members if expected else 0)


def test_neighbour_term_flags_a_row_in_a_gap_of_the_data():
    # rows on a line in R^6 in two clusters (|t| in [1, 2]); a row on the line at t = 0 is
    # reconstructed as well as any, but no training row is near it
    rng = np.random.default_rng(0)
    v = rng.normal(size=(1, 6))

    def line(t):
        return t[:, None] * v + 0.02 * rng.normal(size=(len(t), 6))

    def clusters(n):
        return rng.choice([-1, 1], n) * rng.uniform(1, 2, n)

    X, Q = line(clusters(300)), line(np.r_[0.0, clusters(60)])
    ranks = {}
    for k in (0, 10):
        anomaly = -AutoencoderOutlierDetector(random_state=0, neighbors=k).fit(X).score_samples(Q)
        ranks[k] = int((anomaly > anomaly[0]).sum())
    assert ranks[10] == 0 and ranks[0] > 0  # first only with the neighbour term


def test_member_normalisation_divides_by_median_training_score():
    X, _ = planted(n=200)
    det = tiny_detector(n_members=3, latent_dim=[1, 2, 3], refits=0, normalization="member",
                        neighbors=0).fit(X)
    ens = det.ensemble_
    assert [m.latent_dim for m in ens.members] == [1, 2, 3]
    Z = torch.from_numpy(det.encoder_.transform(X))
    for model, scale in zip(ens.members, ens.scales):
        with torch.no_grad():  # squared error in the member's own scaled space
            errors = (model.scaler(Z) - model.scaler(model.reconstruct(Z))).pow(2).sum(1).numpy()
        np.testing.assert_allclose(scale, np.median(errors), rtol=1e-4)


def test_feature_normalisation_gives_each_column_equal_mean_share():
    X, _ = planted(n=200)
    det = tiny_detector(n_members=1, refits=0, normalization="feature", neighbors=0,
                        feature_floor=0.0).fit(X)
    contributions = det.ensemble_.feature_scores(det.encoder_.transform(X))
    np.testing.assert_allclose(contributions.mean(0), 1 / X.shape[1], rtol=1e-4)
    # a categorical column weighs as one column, however many categories it has
    frame = mixed_frame().assign(city=np.random.default_rng(1).choice(list("abcdefghij"), 240))
    det = tiny_detector(n_members=1, refits=0, neighbors=0, normalization="feature",
                        feature_floor=0.0).fit(frame)
    per_column = det.ensemble_.feature_scores(det.encoder_.transform(frame)) @ det._input_groups()
    np.testing.assert_allclose(per_column.mean(0), 1 / frame.shape[1], rtol=1e-4)


def test_score_scales_floor_raises_small_column_means_only():
    rng = np.random.default_rng(0)
    contributions = rng.uniform(0.5, 1.5, size=(100, 5))
    contributions[:, 2] *= 1e-3  # a column the member reconstructs almost exactly
    means = contributions.mean(0)
    floored = score_scales(contributions, "feature", floor=0.3)
    expected = 5 * np.maximum(means, 0.3 * means.mean())
    np.testing.assert_allclose(floored, expected, rtol=1e-12)
    assert floored[2] == pytest.approx(5 * 0.3 * means.mean())
    np.testing.assert_allclose(np.delete(floored, 2), np.delete(5 * means, 2), rtol=1e-12)
    np.testing.assert_allclose(score_scales(contributions, "feature"), 5 * means, rtol=1e-12)


def test_column_constant_in_training_does_not_dominate_the_score():
    X, _ = planted(n=300, n_out=0)
    X = np.c_[X, np.zeros(len(X))]  # a column that is 0 on every training row
    new = X[:2].copy()
    new[0, -1] = 2.0  # an unseen value in the constant column (which has no scale of its own)
    new[1, :-1] += 3.0 * np.random.default_rng(1).normal(size=X.shape[1] - 1)  # far off the plane
    anomaly = {}
    for floor in (0.0, 0.3):
        det = tiny_detector(n_members=1, refits=0, neighbors=0, epochs=200, validation_split=0.0,
                            early_stopping=None, normalization="feature", feature_floor=floor).fit(X)
        anomaly[floor] = -det.score_samples(new)
    # the member reconstructs the constant column almost exactly on the training rows, so
    # dividing by that error lets the new value outweigh the row off the plane...
    assert anomaly[0.0][0] > 2 * anomaly[0.0][1]
    # ...the floor puts it on the scale of an average column
    assert anomaly[0.3][1] > 2 * anomaly[0.3][0]


def test_refit_leaves_out_the_flagged_rows():
    X, y = planted(n=300)
    X[:6] += 50.0  # far enough to move the mean of all rows
    trimmed = tiny_detector(n_members=1, refits=1, epochs=20, validation_split=0.0,
                            early_stopping=None, contamination=6 / 300, bootstrap=False).fit(X)
    plain = tiny_detector(n_members=1, refits=0, epochs=20, validation_split=0.0,
                          early_stopping=None, contamination=6 / 300, bootstrap=False).fit(X)
    # each member standardises the rows it was trained on: the refit saw only the inliers
    np.testing.assert_allclose(trimmed.ensemble_.members[0].scaler.shift.numpy(), X[y == 0].mean(0),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(plain.ensemble_.members[0].scaler.shift.numpy(), X.mean(0),
                               rtol=1e-4, atol=1e-4)
    assert (trimmed.predict(X)[:6] == -1).all()


def test_refits_on_two_rows_keep_both():
    X = planted(n=50)[0][:2]
    det = tiny_detector(contamination=0.5, refits=2).fit(X)  # trimming would leave one row
    assert np.isfinite(det.score_samples(X)).all()


def test_same_random_state_same_scores_and_different_seed_differs():
    X, _ = planted(n=150)
    a = tiny_detector().fit(X).score_samples(X)
    b = tiny_detector().fit(X).score_samples(X)
    c = tiny_detector(random_state=1).fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_auto_settings_scale_with_data():
    for n in (200, 2000):  # about TARGET_STEPS gradient steps whatever the size
        auto = auto_settings(n, 8)
        steps = math.ceil(n / auto.batch_size) * auto.epochs
        assert TARGET_STEPS <= steps < 1.5 * TARGET_STEPS
    small, large = auto_settings(200, 8), auto_settings(200_000, 8)
    assert small.batch_size < large.batch_size and large.epochs == 5  # at least 5 passes
    assert 1 <= small.code_size < 8 < auto_settings(200, 100).code_size


def test_registered_scorer_is_used():
    @register_scorer("absolute")
    def absolute(model, x):
        return (model.scaler(x) - model.scaler(model.reconstruct(x))).abs().flatten(1)

    try:
        X, _ = planted(n=150)
        det = tiny_detector(scorer="absolute", neighbors=0).fit(X)
        Z = torch.from_numpy(det.encoder_.transform(X))
        expected = []
        for m, scale in zip(det.ensemble_.members, det.ensemble_.scales):
            with torch.no_grad():
                expected.append(((m.scaler(Z) - m.scaler(m.reconstruct(Z))).abs().numpy() / scale).sum(1))
        np.testing.assert_allclose(-det.score_samples(X), np.mean(expected, 0), rtol=1e-4)
        squared = tiny_detector().fit(X)  # same seeds, so the same first fit: the scorer differs
        assert not np.allclose(squared.score_samples(X), det.score_samples(X))
    finally:
        del SCORERS["absolute"]


def test_elbo_scorer_is_the_vae_loss_per_feature():
    X, y = planted(n=300)
    x = torch.from_numpy(X.astype(np.float32))
    vae = aelab.create("vae", input_shape=8, latent_dim=2, hidden=(16,), seed=0)
    aelab.train(vae, x, epochs=40, device="cpu")
    with torch.no_grad():
        parts = SCORERS["elbo"](vae, x)
        again = SCORERS["elbo"](vae, x)
        torch.manual_seed(0)
        loss = sum(vae.loss_terms(x.repeat(200, 1)).values())  # -ELBO, mean over rows and draws
    assert parts.shape == (300, 8) and torch.equal(parts, again)  # seeded: same rows, same scores
    assert float(parts.sum(1).mean()) == pytest.approx(float(loss), rel=0.02)
    assert roc_auc_score(y, parts.sum(1).numpy()) > 0.95
    det = tiny_detector(model="vae", scorer="elbo", epochs=20).fit(X)
    assert roc_auc_score(y, -det.score_samples(X)) > 0.95
    with pytest.raises(ValueError, match="scorer='reconstruction'"):
        tiny_detector(model="ae", scorer="elbo").fit(X)


def test_a_model_trained_with_labels_is_refused_with_the_way_to_train_it():
    X, _ = planted(n=40)
    with pytest.raises(ValueError, match="train_semi_supervised"):
        AutoencoderTransformer(model="ssvae").fit(X)
    with pytest.raises(ValueError, match="trained with class labels"):
        tiny_detector(model="ssvae").fit(X)


@pytest.mark.parametrize("name", aelab.list_models(trained_with_labels=False))
def test_every_registered_model_in_both_estimators(name):
    X, _ = planted(n=120)
    # A model of one fixed layout (recirculation: one hidden layer) keeps its own case's widths.
    own = {k: v for k, v in dict(reversed(MODEL_CASES))[name].items() if k == "hidden"}
    likelihood = aelab.MODELS[name].init_parameters()["likelihood"].default
    if likelihood == "bernoulli":  # a Bernoulli-only model (pixel_vae) reads columns in [0, 1]
        own["scaling"] = "minmax"
    det = tiny_detector(model=name, n_members=1, refits=1, **own).fit(X)
    assert det.ensemble_.members[0].name == name
    assert np.isfinite(det.score_samples(X)).all()
    tr = AutoencoderTransformer(model=name, **{**TINY, **own}).fit(X)
    assert tr.transform(X).shape == (120, 2) and tr.model_.name == name


# --------------------------------------------------------------------------- sklearn composition
def test_pipeline_gridsearch_clone():
    X, _ = planted(n=200)
    pipe = make_pipeline(StandardScaler(), tiny_detector(contamination=0.1))
    assert set(np.unique(pipe.fit(X).predict(X))) == {-1, 1}

    grid = GridSearchCV(AutoencoderTransformer(**{**TINY, "epochs": 20}),
                        {"latent_dim": [1, 4], "model_params": [None, {"tied": True}]}, cv=2)
    grid.fit(X)
    assert grid.best_params_["latent_dim"] == 4  # more code, less reconstruction error
    est = AutoencoderTransformer(model="sparse", model_params={"penalty": "l1"}, latent_dim=3)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin.model_params is not est.model_params
    twin.set_params(model_params={"penalty": "kl"}, latent_dim=5)
    assert twin.get_params()["model_params"] == {"penalty": "kl"} and est.latent_dim == 3


def test_transformer_outputs_and_pandas_output():
    X, _ = planted(n=200)
    tr = AutoencoderTransformer(**{**TINY, "latent_dim": 3}).fit(X)
    codes = tr.transform(X)
    assert codes.shape == (200, 3) and codes.dtype == np.float64
    np.testing.assert_allclose(tr.fit_transform(X), codes, rtol=1e-6)
    assert tr.inverse_transform(codes).shape == X.shape
    assert list(tr.get_feature_names_out()) == [f"autoencodertransformer{i}" for i in range(3)]
    assert tr.score(X) < 0
    frame = tr.set_output(transform="pandas").transform(X)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(tr.get_feature_names_out())


def test_transformer_learns_better_than_untrained():
    X, _ = planted(n=300)
    short = AutoencoderTransformer(**{**TINY, "epochs": 1}).fit(X).score(X)
    longer = AutoencoderTransformer(**{**TINY, "epochs": 60}).fit(X).score(X)
    assert longer > short


# --------------------------------------------------------------------------- tables
def test_tabular_encoder_one_hot_scaling_and_constant_columns():
    frame = mixed_frame()
    frame["const"] = 7.0
    enc = TabularEncoder("standard").fit(frame)
    Z = enc.transform(frame)
    names = enc.output_names
    assert names[:2] == ["size", "weight"]
    assert "color=blue" in names and "shade=warm" in names and "flag" in names
    assert Z.shape == (len(frame), len(names))
    np.testing.assert_allclose(Z[:, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(Z[:, 0].std(), 1, atol=1e-4)
    np.testing.assert_array_equal(Z[:, names.index("const")], 0.0)
    blue = Z[:, names.index("color=blue")]
    np.testing.assert_array_equal(blue, (frame["color"] == "blue").to_numpy())
    # column order does not matter; the encoding travels as JSON
    again = TabularEncoder.from_config(enc.to_config(), enc.statistics()).transform(
        frame[frame.columns[::-1]])
    np.testing.assert_array_equal(again, Z)


def test_robust_scaling_ignores_outliers():
    x = np.r_[np.random.default_rng(0).normal(0, 1, 500), [1e6] * 10][:, None]
    standard = TabularEncoder("standard").fit(x).columns[0]["scale"]
    robust = TabularEncoder("robust").fit(x).columns[0]["scale"]
    assert standard > 1e4 and 0.8 < robust < 1.2


def test_pandas_round_trip_with_categorical_columns(tmp_path):
    frame = mixed_frame()
    det = tiny_detector(epochs=60, hidden=(16,), latent_dim=3, contamination=0.05).fit(frame)
    assert list(det.feature_names_in_) == list(frame.columns)
    shares = det.explain(frame)
    assert shares.shape == (len(frame), 5)  # one share per input column, one-hot summed
    np.testing.assert_allclose(shares.sum(1), 1.0)
    # In training red is always warm and the rest cool: swapping the shade is anomalous.
    odd = frame.iloc[:20].copy()
    odd["shade"] = pd.Categorical(np.where(odd["color"] == "red", "cool", "warm"))
    assert (det.score_samples(odd) < np.median(det.score_samples(frame))).all()
    assert (det.explain(odd)[:, [2, 3]].sum(1) > 0.5).all()  # and color/shade explain it

    det.save(tmp_path / "det")
    same = aelab.sklearn.load(tmp_path / "det")
    np.testing.assert_array_equal(same.score_samples(frame), det.score_samples(frame))
    np.testing.assert_array_equal(same.predict(frame), det.predict(frame))

    tr = AutoencoderTransformer(**{**TINY, "epochs": 30}).fit(frame)
    back = tr.inverse_transform(tr.transform(frame))
    assert isinstance(back, pd.DataFrame) and list(back.columns) == list(frame.columns)
    assert set(back["color"]) <= {"red", "green", "blue"}
    tr.save(tmp_path / "tr")
    np.testing.assert_array_equal(AutoencoderTransformer.load(tmp_path / "tr").transform(frame),
                                  tr.transform(frame))


def test_save_load_identical_scores_numpy(tmp_path):
    X, _ = planted(n=200)
    det = tiny_detector(contamination=0.1).fit(X)
    det.save(tmp_path / "d")
    assert (tmp_path / "d" / "estimator.json").is_file()
    assert (tmp_path / "d" / "members" / "member_1" / "model.safetensors").is_file()
    same = AutoencoderOutlierDetector.load(tmp_path / "d")
    np.testing.assert_array_equal(same.score_samples(X), det.score_samples(X))
    np.testing.assert_array_equal(same.decision_function(X), det.decision_function(X))
    np.testing.assert_array_equal(same.explain(X), det.explain(X))
    assert same.get_params() == det.get_params()
    with pytest.raises(ValueError, match="not a AutoencoderTransformer"):
        AutoencoderTransformer.load(tmp_path / "d")
    codes = tmp_path / "d" / "members" / ARRAYS_FILE  # score scales and the training codes
    codes.write_bytes(codes.read_bytes()[:-8])
    with pytest.raises(ValueError, match="SHA-256 differs"):
        AutoencoderOutlierDetector.load(tmp_path / "d")
    with pytest.raises(ValueError, match="estimator.json is missing"):
        aelab.sklearn.load(tmp_path)


# --------------------------------------------------------------------------- bad input
def test_bad_tables_raise_clear_errors():
    frame = mixed_frame()
    det = tiny_detector().fit(frame)
    nan_num = frame.copy()
    nan_num.loc[3, "size"] = np.nan
    with pytest.raises(ValueError, match="Column 'size' contains NaN"):
        det.score_samples(nan_num)
    nan_cat = frame.copy()
    nan_cat.loc[3, "color"] = None
    with pytest.raises(ValueError, match="Column 'color' contains missing values"):
        det.score_samples(nan_cat)
    with pytest.raises(ValueError, match=r"missing \['weight'\]"):
        det.score_samples(frame.drop(columns="weight"))
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        det.score_samples(frame.assign(extra=1.0))
    unseen = frame.copy()
    unseen.loc[0, "color"] = "purple"
    with pytest.raises(ValueError, match=r"Column 'color' has categories not seen in fit: \['purple'\]"):
        det.score_samples(unseen)
    with pytest.raises(TypeError, match="pass a DataFrame with the columns"):
        det.score_samples(frame.select_dtypes("number").to_numpy())
    lenient = tiny_detector(handle_unknown="ignore").fit(frame)
    assert np.isfinite(lenient.score_samples(unseen)).all()
    with pytest.raises(ValueError, match="contains missing values"):
        tiny_detector().fit(nan_cat)


@pytest.mark.parametrize("params, error, match", [
    ({"model": "vea"}, ValueError, "'model' parameter .* Got 'vea'"),
    ({"model_params": {"latent_dim": 3}}, ValueError, "must not set \\['latent_dim'\\]"),
    ({"model_params": {"rho": 0.1}}, TypeError, "unknown option 'rho'"),
    ({"model_params": "tied"}, TypeError, "must be a dict"),
    ({"contamination": 0.7}, ValueError, "'contamination' parameter .* \\(0.0, 0.5\\]"),
    ({"contamination": "most"}, ValueError, "'auto' or a float"),
    ({"scaling": "zscore"}, ValueError, "'scaling' parameter"),
    ({"n_members": 0}, ValueError, "'n_members' parameter"),
    ({"latent_dim": "small"}, TypeError, "'latent_dim' parameter .* or 'auto'"),
    ({"early_stopping": 5, "validation_split": 0.0}, ValueError, "needs validation data"),
    ({"scorer": "elbo2"}, ValueError, "'scorer' parameter"),
    ({"neighbors": -1}, ValueError, "'neighbors' parameter"),
    ({"neighbors": "many"}, TypeError, "'neighbors' parameter .* or 'auto'"),
    ({"feature_floor": -0.1}, ValueError, "'feature_floor' parameter"),
    ({"feature_floor": float("nan")}, TypeError, "'feature_floor' parameter"),
])
def test_bad_parameters_raise_in_fit(params, error, match):
    X, _ = planted(n=50)
    det = tiny_detector(**params)  # __init__ stores, fit validates
    with pytest.raises(error, match=match):
        det.fit(X)


def test_bad_arrays_raise():
    X, _ = planted(n=60)
    det = tiny_detector().fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but AutoencoderOutlierDetector is expecting 8"):
        det.predict(X[:, :3])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.score_samples(bad)
    with pytest.raises(ValueError, match="NaN"):
        tiny_detector().fit(bad)


def test_torch_threads_untouched():
    before = torch.get_num_threads()
    tiny_detector().fit(planted(n=60)[0])
    assert torch.get_num_threads() == before


def test_fitted_numbers_in_safetensors_and_format_1_files(tmp_path):
    """Estimator format 2: the encoding's statistics in encoding.safetensors, not the JSON;
    a format-1 transformer (statistics in the JSON) still loads, a format-1 detector is
    refused with a message naming its format."""
    X, _ = planted(n=120)
    est = AutoencoderTransformer(latent_dim=2, hidden=(4,), epochs=2, random_state=0).fit(X)
    est.save(tmp_path / "t")
    doc = json.loads((tmp_path / "t" / "estimator.json").read_text())
    assert all("center" not in c for c in doc["fitted"]["encoder"]["columns"])
    stats = est.encoder_.statistics()
    for c, center, scale in zip(doc["fitted"]["encoder"]["columns"], stats["center"], stats["scale"]):
        c.update(center=float(center), scale=float(scale))
    del doc["fitted"]["encoding"]
    doc["format_version"] = 1
    (tmp_path / "t" / "estimator.json").write_text(json.dumps(doc))
    (tmp_path / "t" / "encoding.safetensors").unlink()
    np.testing.assert_array_equal(AutoencoderTransformer.load(tmp_path / "t").transform(X),
                                  est.transform(X))
    det = tiny_detector().fit(X)
    det.save(tmp_path / "d")
    doc = json.loads((tmp_path / "d" / "estimator.json").read_text())
    doc["format_version"] = 1
    (tmp_path / "d" / "estimator.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="estimator format 1 .*Fit it again"):
        AutoencoderOutlierDetector.load(tmp_path / "d")


# --------------------------------------------------------------------------- issue 22 options
def test_bootstrap_members_train_on_resamples():
    # each member's input scaling is fitted on the rows it trains on: with bootstrap=True,
    # on X[rng(seed).integers(0, n, n)], the rows drawn with its seed
    X, _ = planted(n=120)
    Z = np.ascontiguousarray(X, dtype=np.float32)
    opts = {"code_sizes": (2,), "hidden": (4,), "seeds": (3, 4),
            "model_params": {"preprocess": "standard"},
            "train_options": {"epochs": 1, "batch_size": 32}}
    plain = fit_ensemble(Z, **opts)
    boot = fit_ensemble(Z, bootstrap=True, **opts)
    for member in plain.members:
        np.testing.assert_allclose(member.scaler.shift.numpy(), Z.mean(0), rtol=1e-5, atol=1e-5)
    for seed, member in zip((3, 4), boot.members):
        rows = np.random.default_rng(seed).integers(0, len(Z), len(Z))
        np.testing.assert_allclose(member.scaler.shift.numpy(), Z[rows].mean(0), rtol=1e-5, atol=1e-5)
        assert not np.allclose(member.scaler.shift.numpy(), Z.mean(0), atol=1e-3)
    # the score scales still come from every row: each member's training mean is 1 / n_features
    # per feature (normalization="feature", no floor)
    boot_f = fit_ensemble(Z, bootstrap=True, normalization="feature", **opts)
    for member, scale in zip(boot_f.members, boot_f.scales):
        per_feature = feature_scores(member, Z) / scale
        np.testing.assert_allclose(per_feature.mean(0), 1.0 / Z.shape[1], rtol=1e-6)


def test_bootstrap_and_spread_detectors_are_seeded_and_differ_from_the_defaults():
    X, _ = planted(n=150)
    base = tiny_detector(latent_dim="auto", refits=1, bootstrap=False).fit(X).score_samples(X)
    boot = tiny_detector(latent_dim="auto", refits=1, bootstrap=True).fit(X).score_samples(X)
    again = tiny_detector(latent_dim="auto", refits=1, bootstrap=True).fit(X).score_samples(X)
    np.testing.assert_array_equal(boot, again)
    assert not np.allclose(boot, base)


@pytest.mark.parametrize("d, expected", [(8, (3, 2, 6)), (3, (2, 1, 3)), (1, (1, 1, 1)),
                                         (100, (10, 5, 20))])
def test_spread_code_sizes(d, expected):
    assert spread_code_sizes(auto_settings(500, d).code_size, d) == expected


def test_spread_latent_dim_cycles_the_members_over_three_code_sizes():
    X, _ = planted(n=120, d=8)
    det = tiny_detector(latent_dim="spread", n_members=4, refits=1, neighbors=0).fit(X)
    assert [m.latent_dim for m in det.ensemble_.members] == [3, 2, 6, 3]
    # the neighbour rule reads the widest code: 6 keeps the term, d = 17 (codes 5, 3, 10) drops it
    spread = tiny_detector(latent_dim="spread", refits=0, neighbors="auto", epochs=1)
    assert spread.fit(X).ensemble_.neighbors == 10
    X17, _ = planted(n=120, d=17)
    assert spread.fit(X17).ensemble_.neighbors == 0


@pytest.mark.parametrize("params, error, match", [
    ({"bootstrap": "yes"}, TypeError,
     "'bootstrap' parameter of AutoencoderOutlierDetector must be True or False"),
    ({"bootstrap": 1}, TypeError, "must be True or False"),
    ({"latent_dim": "wide"}, TypeError, "'latent_dim' parameter .* 'spread' or 'auto'. Got 'wide'"),
])
def test_new_detector_options_reject_bad_values(params, error, match):
    X, _ = planted(n=60)
    with pytest.raises(error, match=match):
        tiny_detector(**params).fit(X)


def test_bootstrap_and_spread_survive_save_and_load(tmp_path):
    X, _ = planted(n=150)
    det = tiny_detector(latent_dim="spread", n_members=3, bootstrap=True, refits=1,
                        contamination=0.05).fit(X)
    det.save(tmp_path / "d")
    same = AutoencoderOutlierDetector.load(tmp_path / "d")
    assert same.get_params() == det.get_params()
    assert same.bootstrap is True and same.latent_dim == "spread"
    np.testing.assert_array_equal(same.score_samples(X), det.score_samples(X))
    np.testing.assert_array_equal(same.predict(X), det.predict(X))


def test_a_detector_saved_before_bootstrap_existed_loads_as_fitted(tmp_path):
    # files written before the parameter existed have no "bootstrap": they were fitted
    # without it, so they load with bootstrap=False (not the new default) and score the same
    X, _ = planted(n=150)
    det = tiny_detector(bootstrap=False, normalization="feature").fit(X)
    det.save(tmp_path / "d")
    doc = json.loads((tmp_path / "d" / "estimator.json").read_text())
    del doc["params"]["bootstrap"]
    (tmp_path / "d" / "estimator.json").write_text(json.dumps(doc))
    old = AutoencoderOutlierDetector.load(tmp_path / "d")
    assert old.bootstrap is False and AutoencoderOutlierDetector().bootstrap is True
    assert old.get_params() == det.get_params()
    np.testing.assert_array_equal(old.score_samples(X), det.score_samples(X))
    np.testing.assert_array_equal(clone(old).fit(X).score_samples(X), det.score_samples(X))
