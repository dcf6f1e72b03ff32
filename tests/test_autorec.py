"""AutoRec recommendation: the estimator, its fallbacks and errors, the MovieLens loader."""

import numpy as np
import pytest

import aelab
from aelab.applications.recommendation import fit_biases
from aelab.sklearn import AutoRecRecommender

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"latent_dim": 8, "epochs": 3, "random_state": 0}


def _table(n=600, n_users=40, n_items=25, seed=0):
    rng = np.random.default_rng(seed)
    u, i = rng.integers(0, n_users, n), rng.integers(0, n_items, n)
    taste = rng.normal(size=n_users)[u] + rng.normal(size=n_items)[i]
    return {"user": u, "item": i, "rating": np.clip(np.round(3 + taste), 1, 5)}


@pytest.mark.parametrize("kind", ["item", "user"])
def test_predictions_are_clipped_and_unseen_ids_fall_back_to_the_baseline(kind):
    table = _table()
    rec = AutoRecRecommender(kind=kind, **TINY).fit(table)
    p = rec.predict(table["user"], table["item"])
    assert p.shape == (600,) and p.min() >= 1 and p.max() <= 5
    b = rec.biases_
    unseen = rec.predict([999, 0, 999], [0, 999, 999])
    u0, i0 = rec.users_.lookup([0])[0][0], rec.items_.lookup([0])[0][0]
    expected = np.clip([b.mu + b.item[i0], b.mu + b.user[u0], b.mu], 1, 5)
    np.testing.assert_allclose(unseen, expected)


def test_rating_range_clips_every_prediction():
    table = _table()
    rec = AutoRecRecommender(**TINY).fit(table)
    users, items = np.r_[table["user"], 999], np.r_[table["item"], 0]
    rec.rating_range_ = (-100.0, 100.0)  # as if fitted with rating_range=(-100, 100)
    p = rec.predict(users, items)
    lo, hi = np.quantile(p, [0.25, 0.75])
    assert lo < hi
    rec.rating_range_ = (lo, hi)
    np.testing.assert_array_equal(rec.predict(users, items), np.clip(p, lo, hi))


def test_bias_baseline_recovers_additive_effects():
    rng = np.random.default_rng(1)
    bu, bi = rng.normal(size=50), rng.normal(size=30)
    u, i = np.repeat(np.arange(50), 30), np.tile(np.arange(30), 50)
    r = 3.0 + bu[u] + bi[i]
    fit = fit_biases(u, i, r, 50, 30, reg_user=0.0, reg_item=0.0, n_iter=20)
    np.testing.assert_allclose(fit.mu + fit.user[u] + fit.item[i], r, atol=1e-8)


def test_recommend_gives_unseen_items_best_first():
    table = _table()
    rec = AutoRecRecommender(**TINY).fit(table)
    seen = set(table["item"][table["user"] == 3].tolist())
    top = rec.recommend(3, n=5)
    assert len(top) == 5 and not seen & set(top.tolist())
    scores = rec.predict(np.full(5, 3), top)
    assert (np.diff(scores) <= 0).all()
    assert len(rec.recommend(12345, n=3)) == 3  # an unseen user: the baseline's best


def test_string_ids_and_the_wrong_id_type():
    table = _table()
    table = {**table, "user": np.array([f"u{v}" for v in table["user"]], dtype=object)}
    rec = AutoRecRecommender(**TINY).fit(table)
    assert rec.predict(["u1"], [2]).shape == (1,)
    with pytest.raises(TypeError, match="user ids were strings in fit; got int"):
        rec.predict([1], [2])


def test_save_load_round_trip(tmp_path):
    table = _table()
    rec = AutoRecRecommender(**TINY).fit(table)
    rec.save(tmp_path / "rec")
    back = aelab.sklearn.load(tmp_path / "rec")
    assert isinstance(back, AutoRecRecommender)
    users, items = np.r_[table["user"][:50], 999], np.r_[table["item"][:50], 0]
    np.testing.assert_array_equal(rec.predict(users, items), back.predict(users, items))
    np.testing.assert_array_equal(rec.recommend(3, 4), back.recommend(3, 4))


@pytest.mark.parametrize("table, params, error, match", [
    ({"user": [], "item": [], "rating": []}, {}, ValueError, "is empty"),
    ({"user": [1, 2], "item": [1, 2], "rating": [3.0, 7.0]}, {"rating_range": (1, 5)},
     ValueError, "outside rating_range"),
    ({"user": np.array([1, "a"], dtype=object), "item": [1, 2], "rating": [3.0, 4.0]}, {}, TypeError,
     "all be integers or all strings"),
    ({"userId": [1], "item": [1], "rating": [3.0]}, {}, ValueError, r"lacks the column\(s\) \['user'\]"),
    ({"user": [1, 2], "item": [1, 2], "rating": [3.0, np.nan]}, {}, ValueError, "NaN"),
    ({"user": [1, 2], "item": [1, 2], "rating": [3.0, 4.0]}, {"kind": "users"}, ValueError,
     "Did you mean 'user'"),
])
def test_bad_input_is_named_with_its_fix(table, params, error, match):
    with pytest.raises(error, match=match):
        AutoRecRecommender(**{**TINY, **params}).fit(table)


def test_movielens_loader(tmp_path):
    rows = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
    (tmp_path / "u.data").write_text(rows)
    (tmp_path / "ml-100k.inter").write_text("user_id:token\titem_id:token\trating:float\t"
                                            "timestamp:float\n" + rows)
    for path in (tmp_path / "u.data", tmp_path / "ml-100k.inter", tmp_path):
        d = aelab.data.load_movielens(path)
        assert d["user"].tolist() == [196, 186] and d["rating"].tolist() == [3.0, 3.0]
    with pytest.raises(FileNotFoundError, match="get-ml-100k.sh"):
        aelab.data.load_movielens(tmp_path / "absent")


def test_cli_fit_predict_top(tmp_path, capsys):
    from aelab.cli import main

    table = _table(n=300)
    lines = [f"{u}\t{i}\t{int(r)}\t0" for u, i, r in zip(table["user"], table["item"], table["rating"])]
    (tmp_path / "u.data").write_text("\n".join(lines) + "\n")
    out = tmp_path / "rec"
    assert main(["recommend", "fit", "--ratings", str(tmp_path / "u.data"), "--out", str(out),
                 "--latent-dim", "4", "--epochs", "2"]) == 0
    assert main(["recommend", "predict", str(out), "--user", "1", "--item", "2", "--item", "999"]) == 0
    assert main(["recommend", "top", str(out), "--user", "1", "-n", "3"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 + 2 + 3 and printed[1].startswith("1\t2\t")
    assert main(["recommend", "fit", "--ratings", str(tmp_path / "absent"), "--out", str(out)]) == 2


def test_cli_reads_a_csv_table_with_string_ids(tmp_path, capsys):
    from aelab.cli import main

    table = _table(n=300)
    rows = [f"u{u},i{i},{r}" for u, i, r in zip(table["user"], table["item"], table["rating"])]
    (tmp_path / "r.csv").write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    out = tmp_path / "rec"
    assert main(["recommend", "fit", "--ratings", str(tmp_path / "r.csv"), "--out", str(out),
                 "--latent-dim", "4", "--epochs", "2"]) == 0
    assert main(["recommend", "predict", str(out), "--user", "u1", "--item", "i2"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("u1\ti2\t")
    assert AutoRecRecommender.load(out).users_.kind == "str"


def test_refit_trains_a_fresh_model_on_every_rating_for_the_chosen_epochs():
    table = _table()
    opts = {"latent_dim": 8, "epochs": 12, "early_stopping": 2, "lr": 1e-2, "random_state": 0}
    kept = AutoRecRecommender(refit=False, **opts).fit(table)
    refit = AutoRecRecommender(refit=True, **opts).fit(table)
    best = int(np.argmin(kept.history_["val/loss"])) + 1
    # the selection run is the same; the refit trains that many epochs on all the ratings
    assert refit.history_["val/loss"] == kept.history_["val/loss"]
    assert refit.n_epochs_ == best and kept.n_epochs_ == len(kept.history_["val/loss"])
    p_kept, p_refit = (r.predict(table["user"], table["item"]) for r in (kept, refit))
    assert not np.allclose(p_kept, p_refit)
    alone = AutoRecRecommender(**{**opts, "validation_split": 0.0, "early_stopping": None,
                                  "epochs": best}).fit(table)
    np.testing.assert_allclose(alone.predict(table["user"], table["item"]), p_refit, atol=1e-6)
    assert alone.n_epochs_ == best
