"""The perceptual (DFC-VAE) reconstruction option of every decoder-based autoencoder."""

import json

import numpy as np
import pytest
import torch

import aelab
from aelab.core.seeding import seeded
from aelab.models.base import perceptual_option
from aelab.models.conv_classifier import ConvClassifier


@pytest.fixture(scope="module")
def phi():
    """A ConvClassifier on tiny (1, 8, 8) images, trained briefly so its weights are its own."""
    rng = np.random.default_rng(0)
    x = rng.random((64, 64), dtype=np.float32)
    with seeded(0):
        net = ConvClassifier(input_shape=(1, 8, 8), channels=(4, 6), hidden=8)
    aelab.train(net, x, rng.integers(0, 10, 64), epochs=2, device="cpu")
    return net


def build(name, phi, seed=0, **option):
    return aelab.create(name, input_shape=64, latent_dim=4, hidden=(16,), seed=seed,
                        perceptual=perceptual_option(phi, **option)).use_perceptual_network(phi)


def data(n=64):
    return np.random.default_rng(1).random((n, 64), dtype=np.float32)


def test_conv_classifier_features_on_tiny_images(phi):
    maps = phi.feature_maps(torch.rand(3, 64))
    assert [tuple(m.shape) for m in maps] == [(3, 4, 4, 4), (3, 6, 2, 2), (3, 8)]


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_zero_at_a_perfect_reconstruction(name, phi):
    model = build(name, phi, layers=[0, 1, 2])
    x = model.scaler(torch.from_numpy(data(8)))
    terms = model.with_perceptual({"recon": torch.tensor(1.0)}, x, x)  # Gaussian: mean(out) = out
    assert float(terms["perceptual"]) == 0.0
    other = model.with_perceptual({"recon": torch.tensor(1.0)}, x, x.flip(0))
    assert float(other["perceptual"]) > 0.0


def test_value_is_the_mean_squared_feature_difference(phi):
    model = build("ae", phi, weight=0.5, layers=[0, 2])
    x, x_hat = torch.rand(5, 64), torch.rand(5, 64)
    with torch.no_grad():
        a, b = phi.feature_maps(x), phi.feature_maps(x_hat)
    want = 0.5 * float(sum(((a[i] - b[i]) ** 2).flatten(1).mean(1) for i in (0, 2)).mean())
    got = float(model.with_perceptual({}, x, x_hat)["perceptual"].detach())
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("name", ["ae", "vae", "denoising", "wae"])
def test_gradient_reaches_the_decoder_never_the_fixed_network(name, phi):
    model = build(name, phi)
    model.train()
    model.scaler.fit([torch.from_numpy(data())])
    terms = model.loss_terms(torch.from_numpy(data(16)))
    assert "perceptual" in terms and "recon" in terms
    terms["perceptual"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.decoder.parameters())
    frozen = list(model.perceptual_features.parameters())
    assert frozen and all(not p.requires_grad and p.grad is None for p in frozen)
    trained = {id(p) for ph in model.training_phases() for p in ph.parameters}
    assert not trained & {id(p) for p in frozen}
    assert not model.perceptual_features.training  # eval mode: dropout never moves it


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_training_leaves_the_network_and_saves_as_one_file_pair(name, phi, tmp_path):
    model = build(name, phi, layers=[1])
    before = {k: v.clone() for k, v in phi.state_dict().items()}
    result = aelab.train(model, data(), epochs=3, device="cpu")
    assert np.isfinite(result.history["train/perceptual"]).all()
    for k, v in model.perceptual_features.network.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "m" / "config.json").read_text())["config"]["perceptual"]
    assert config["network"] == {"kind": "conv_classifier", "config": phi.get_config()}
    loaded = aelab.load(tmp_path / "m")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.reconstruct(data(8)), model.reconstruct(data(8)))
    for k, v in loaded.perceptual_features.network.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_pixel_weight_zero_leaves_the_pixel_likelihood_for_nll(phi):
    model = build("vae", phi, pixel_weight=0.0)
    x = torch.from_numpy(data(16))
    assert set(model.loss_terms(x)) == {"kl", "perceptual"}
    plain = aelab.create("vae", input_shape=64, latent_dim=4, hidden=(16,), seed=0)
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith("perceptual_features.")})
    with seeded(0):
        nll = model.feature_nll(x)
    with seeded(0):
        torch.testing.assert_close(nll, plain.feature_nll(x))


def test_bad_options_are_refused(phi):
    with pytest.raises(TypeError, match="'network'"):
        aelab.create("ae", input_shape=64, perceptual={"weight": 1.0})
    with pytest.raises(TypeError, match="feature_maps"):
        aelab.create("ae", input_shape=64, perceptual={"network": {"kind": "ae", "config": {
            "input_shape": 64}}})
    with pytest.raises(ValueError, match="layers"):
        aelab.create("ae", input_shape=64, perceptual=perceptual_option(phi, layers=[3]))
    with pytest.raises(ValueError, match="input_shape"):
        aelab.create("ae", input_shape=32, perceptual=perceptual_option(phi))
    with pytest.raises(ValueError, match="own loss terms"):
        aelab.create("vae_gan", input_shape=64, perceptual=perceptual_option(phi))
    other = ConvClassifier(input_shape=(1, 8, 8), channels=(4,), hidden=8)
    with pytest.raises(ValueError, match="built for"):
        build("ae", phi).use_perceptual_network(other)
