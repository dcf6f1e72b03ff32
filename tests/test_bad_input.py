"""Bad input gets a clear ValueError/TypeError naming the problem and the fix."""

import numpy as np
import pytest
import torch

import aelab


@pytest.fixture
def model():
    return aelab.create("ae", input_shape=12, latent_dim=3, hidden=(6,), seed=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected_in_train_and_encode(model, tiny_data, bad):
    x = tiny_data[0].copy()
    x[3, 4] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        aelab.train(model, x, epochs=1)
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.encode(x)
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.encode(torch.from_numpy(x))


def test_wrong_feature_count(model):
    with pytest.raises(ValueError, match=r"11 features.*expects \(12,\)"):
        model.encode(np.zeros((4, 11), dtype=np.float32))


def test_empty_and_1d(model):
    with pytest.raises(ValueError, match="0 samples"):
        model.encode(np.zeros((0, 12)))
    with pytest.raises(ValueError, match="reshape"):
        model.encode(np.zeros(12))


def test_non_numeric_arrays(model):
    with pytest.raises(TypeError, match="real numbers"):
        model.encode(np.array([["a"] * 12]))
    with pytest.raises(TypeError, match="real numbers"):
        model.encode(np.array([[1 + 2j] * 12]))


def test_decode_checks_code_width(model):
    with pytest.raises(ValueError, match="decode expects"):
        model.decode(np.zeros((2, 5), dtype=np.float32))


def test_unknown_model_and_option():
    with pytest.raises(ValueError, match="Did you mean 'sparse'"):
        aelab.create("sparce", input_shape=4)
    with pytest.raises(TypeError, match="Did you mean 'latent_dim'"):
        aelab.create("ae", input_shape=4, latent_dims=3)
    with pytest.raises(TypeError, match="input_shape"):
        aelab.create("ae", latent_dim=3)


@pytest.mark.parametrize(
    ("name", "config", "error", "match"),
    [
        ("sparse", {"penalty": "kl", "rho": 1.5}, ValueError,
         r"'rho' parameter of SparseAE must be a float in \(0.0, 1.0\)"),
        ("sparse", {"penalty": "kl", "code_activation": "relu"}, ValueError, "sigmoid"),
        ("sparse", {"penalty": "topk", "k": 9, "latent_dim": 4}, ValueError, "at most latent_dim"),
        ("sparse", {"penalty": "l2"}, ValueError, "penalty"),
        ("denoising", {"corruption": "masking", "noise": 1.5}, ValueError, "noise"),
        ("denoising", {"corruption": "dropout"}, ValueError, "corruption"),
        ("ae", {"latent_dim": 0}, ValueError, "latent_dim"),
        ("ae", {"activation": "relu6"}, ValueError, "activation"),
        ("ae", {"likelihood": "poisson"}, ValueError, "likelihood"),
        ("ae", {"hidden": (8, -1)}, ValueError, "hidden"),
        ("ae", {"tied": "yes"}, TypeError, "tied"),
        ("contractive", {"contraction_weight": -1.0}, ValueError, "contraction_weight"),
    ],
)
def test_bad_model_parameters(name, config, error, match):
    with pytest.raises(error, match=match):
        aelab.create(name, input_shape=12, **config)


def test_bernoulli_needs_unit_interval(tiny_data):
    x = tiny_data[0] * 3.0
    model = aelab.create("ae", input_shape=12, likelihood="bernoulli", preprocess="none")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aelab.train(model, x, epochs=1)
    auto = aelab.create("ae", input_shape=12, likelihood="bernoulli")  # auto -> minmax
    aelab.train(auto, x, epochs=1)
    assert auto.scaler.fitted_kind == "minmax"


def test_labels_length_mismatch(model, tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match="labels"):
        aelab.train(model, x, y[:10], epochs=1)
