"""The dSprites generator and the disentanglement scores (β-VAE metric, MIG)."""

import numpy as np
import pytest

import aelab
from aelab.applications.disentanglement import FactorData, beta_vae_score, draw_pairs, mig_score
from aelab.core.disentanglement import beta_vae_metric, discretize, mig, mutual_information
from aelab.data import dsprites

SIZES = (3, 6, 10, 8)


def one(shape=0, scale=5, orientation=0, x=16, y=16) -> np.ndarray:
    """The 64×64 image of one factor combination."""
    return dsprites.images(dsprites.indices_of([[shape, scale, orientation, x, y]]))[0].reshape(64, 64)


def centre_of_mass(img: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(img)
    return np.array([rows.mean(), cols.mean()])


# ------------------------------------------------------------------ the generator
def test_images_are_binary_64x64_and_deterministic():
    idx = np.array([0, 1, 12345, dsprites.N_IMAGES - 1])
    x = dsprites.images(idx)
    assert x.shape == (4, 4096) and x.dtype == np.uint8
    assert set(np.unique(x)) == {0, 1}
    assert np.array_equal(x, dsprites.images(idx))
    assert dsprites.N_IMAGES == 737_280


def test_factor_values_follow_the_readme():
    v = dsprites.factor_values()
    assert [len(v[n]) for n in dsprites.FACTOR_NAMES] == list(dsprites.FACTOR_SIZES)
    assert v["scale"][0] == 0.5 and v["scale"][-1] == 1.0
    assert v["orientation"][0] == 0.0 and v["orientation"][-1] < 2 * np.pi
    assert v["posX"][0] == 0.0 and v["posX"][-1] == 1.0


def test_index_order_is_c_order_with_pos_y_fastest():
    f = dsprites.factors_of([0, 1, 32, 32 * 32])
    assert f.tolist() == [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0]]
    idx = np.random.default_rng(0).integers(0, dsprites.N_IMAGES, 100)
    assert np.array_equal(dsprites.indices_of(dsprites.factors_of(idx)), idx)


def test_position_steps_move_the_centre_of_mass_by_one_pixel():
    base = centre_of_mass(one(x=3, y=7))
    assert np.allclose(centre_of_mass(one(x=4, y=7)) - base, [0, 1])  # posX: columns
    assert np.allclose(centre_of_mass(one(x=3, y=8)) - base, [1, 0])  # posY: rows
    assert np.allclose(centre_of_mass(one(x=31, y=31)) - centre_of_mass(one(x=0, y=0)), [31, 31])


@pytest.mark.parametrize("shape", range(3))
def test_scale_grows_the_area_and_the_sprite_stays_in_frame(shape):
    areas = [one(shape=shape, scale=s).sum() for s in range(6)]
    assert all(a < b for a, b in zip(areas, areas[1:]))
    assert 4 * areas[0] < 1.6 * areas[-1]  # area ∝ scale²: scale 0.5 → about a quarter
    for corner in ((0, 0), (31, 31)):
        img = one(shape=shape, scale=5, orientation=5, x=corner[0], y=corner[1])
        assert img.sum() == one(shape=shape, scale=5, orientation=5).sum()  # nothing cut off


def test_the_three_shapes_differ_and_orientation_turns_them():
    square, ellipse, heart = (one(shape=s) for s in range(3))
    assert (square != ellipse).sum() > 20 and (square != heart).sum() > 20
    assert (ellipse != heart).sum() > 20
    assert square.sum() == 256  # the 16×16 axis-aligned square at scale 1
    # A quarter turn (10 of 40 steps) maps the ellipse onto itself transposed; the heart
    # turned half a turn is upside down.
    assert np.array_equal(one(shape=1, orientation=10), ellipse.T)
    assert np.array_equal(one(shape=2, orientation=20), heart[::-1, ::-1])
    assert (one(shape=2, orientation=3) != heart).sum() > 10


def test_bad_indices_are_refused():
    with pytest.raises(ValueError, match="indices"):
        dsprites.images([dsprites.N_IMAGES])
    with pytest.raises(TypeError, match="integers"):
        dsprites.images([0.5])
    with pytest.raises(ValueError, match="factors"):
        dsprites.indices_of([[0, 0, 0, 0]])


def test_load_gives_a_seeded_subsample_whose_factors_are_recoverable():
    ds = aelab.data.load_dsprites(n_train=50, n_test=20, seed=3)
    assert ds.X_train.shape == (50, 4096) and ds.X_test.shape == (20, 4096)
    assert ds.X_train.dtype == np.float32 and ds.image_shape == (64, 64)
    train, test = dsprites.split_indices(50, 20, seed=3)
    assert not set(train) & set(test)
    assert np.array_equal(ds.X_train, dsprites.images(train))
    assert np.array_equal(ds.y_train, dsprites.factors_of(train)[:, 0])
    assert "dsprites" in aelab.data.DATASETS


# ------------------------------------------------------------------ MIG
def factor_sample(n=5000, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, n) for s in SIZES], axis=1)


def test_mig_of_the_factors_themselves_is_near_one():
    v = factor_sample()
    noise = np.random.default_rng(1).normal(size=(len(v), 3))
    score = mig(np.c_[v + 0.1 * np.random.default_rng(2).random(v.shape), noise], v)
    assert score.mig > 0.95
    assert score.mutual_information.shape == (7, 4)
    assert np.allclose(score.factor_entropy, np.log(SIZES), atol=0.01)


def test_mig_of_a_random_code_is_near_zero():
    v = factor_sample()
    assert mig(np.random.default_rng(1).normal(size=(len(v), 6)), v).mig < 0.03


def test_mixing_two_factors_lowers_mig():
    v = factor_sample().astype(float)
    z = (v - v.mean(0)) / v.std(0)
    clean = mig(z, factor_sample()).per_factor
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    mixed = z.copy()
    mixed[:, 2], mixed[:, 3] = c * z[:, 2] - s * z[:, 3], s * z[:, 2] + c * z[:, 3]
    rotated = mig(mixed, factor_sample()).per_factor
    assert rotated[2] < clean[2] - 0.3 and rotated[3] < clean[3] - 0.3
    assert np.allclose(rotated[:2], clean[:2], atol=0.01)  # the untouched factors keep their gap


def test_mutual_information_matches_its_closed_forms():
    a = np.random.default_rng(0).integers(0, 4, 20000)
    assert mutual_information(a, a) == pytest.approx(np.log(4), abs=0.01)  # I(a; a) = H(a)
    assert mutual_information(a, np.random.default_rng(1).integers(0, 4, 20000)) < 0.01
    assert discretize(np.array([[0.0], [0.5], [1.0]]), n_bins=2).ravel().tolist() == [0, 1, 1]


def test_mig_refuses_a_constant_factor_and_a_one_dimensional_code():
    v = factor_sample(100)
    with pytest.raises(ValueError, match="constant"):
        mig(np.random.default_rng(0).normal(size=(100, 3)), np.c_[v, np.zeros(100, int)])
    with pytest.raises(ValueError, match="code_dim >= 2"):
        mig(np.zeros((100, 1)), v)


# ------------------------------------------------------------------ the β-VAE metric
def pairs_of(code, n_points=600, pairs=16, seed=0):
    """Codes and fixed factors of β-VAE-metric pairs over SIZES, coded by ``code``."""
    data = FactorData(SIZES, lambda f: f)
    v1, v2, fixed = draw_pairs(data, n_points, pairs, np.random.default_rng(seed))
    assert np.all(v1[np.arange(n_points), :, fixed] == v2[np.arange(n_points), :, fixed])
    return code(v1), code(v2), fixed


def test_beta_vae_metric_of_the_factors_is_perfect():
    rng = np.random.default_rng(5)
    code = lambda v: np.concatenate([v / np.array(SIZES), rng.normal(size=(*v.shape[:2], 3))], -1)  # noqa: E731
    score = beta_vae_metric(*pairs_of(code), n_train=400)
    assert score.test_accuracy >= 0.99 and score.n_test == 200


def test_beta_vae_metric_of_a_random_code_is_near_chance():
    rng = np.random.default_rng(5)
    code = lambda v: rng.normal(size=(*v.shape[:2], 6))  # noqa: E731
    score = beta_vae_metric(*pairs_of(code), n_train=400)
    assert score.test_accuracy < score.chance + 0.15


def test_beta_vae_metric_checks_its_inputs():
    z = np.zeros((10, 4, 3))
    with pytest.raises(ValueError, match="same shape"):
        beta_vae_metric(z, z[:, :2], np.zeros(10, int), n_train=5)
    with pytest.raises(ValueError, match="one integer factor per point"):
        beta_vae_metric(z, z, np.zeros(9, int), n_train=5)
    with pytest.raises(ValueError, match="n_train"):
        beta_vae_metric(z, z, np.arange(10) % 2, n_train=10)


# ------------------------------------------------------------------ on a model and dSprites
def test_scores_of_a_model_on_dsprites_run_end_to_end():
    model = aelab.create("vae", input_shape=4096, latent_dim=3, hidden=(8,),
                         likelihood="bernoulli", seed=0)
    score = beta_vae_score(model, n_train=20, n_test=10, pairs=4, seed=0)
    assert 0.0 <= score.test_accuracy <= 1.0 and score.n_train == 20
    m = mig_score(model, n=300, seed=0)
    assert m.mutual_information.shape == (3, 5) and 0.0 <= m.mig <= 1.0
    assert m.mig == mig_score(model, n=300, seed=0).mig  # seeded
