"""Each corruption process has the specified statistics."""

import numpy as np
import pytest
import torch

import aelab
from aelab.core.corruption import gaussian_noise, masking_noise, salt_pepper_noise


def _x(n=400, d=50):
    return torch.rand(n, d, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1  # no zeros


def test_gaussian_noise_mean_and_std():
    x = _x()
    noise = gaussian_noise(x, 0.3, torch.Generator().manual_seed(1)) - x
    assert abs(float(noise.mean())) < 0.01
    assert float(noise.std()) == pytest.approx(0.3, rel=0.02)


@pytest.mark.parametrize("nu", [0.0, 0.1, 0.25, 0.5])
def test_masking_sets_exact_fraction_to_zero(nu):
    x = _x()
    out = masking_noise(x, nu, torch.Generator().manual_seed(2))
    zeros = (out == 0).sum(1)
    assert (zeros == round(nu * 50)).all()
    unchanged = out != 0
    assert torch.equal(out[unchanged], x[unchanged])
    if nu:  # which features are masked is uniform: every feature is hit about equally often
        freq = (out == 0).float().mean(0)
        assert float(freq.min()) > nu / 2 and float(freq.max()) < min(1.0, nu * 1.6)


def test_salt_pepper_sets_fraction_to_min_or_max_half_each():
    x = _x()
    low, high = torch.full((50,), -1.0), torch.full((50,), 2.0)
    out = salt_pepper_noise(x, 0.2, low, high, torch.Generator().manual_seed(3))
    changed = out != x
    assert (changed.sum(1) == 10).all()
    values = out[changed]
    assert set(np.unique(values.numpy()).tolist()) == {-1.0, 2.0}
    frac_high = float((values == 2.0).float().mean())
    assert abs(frac_high - 0.5) < 4 * np.sqrt(0.25 / values.numel())  # 4 sigma


def test_denoising_corrupts_only_while_training(tiny_data):
    x, _ = tiny_data
    model = aelab.create("denoising", input_shape=12, latent_dim=4, corruption="masking", noise=0.5,
                         seed=0)
    t = torch.from_numpy(x)
    model.eval()
    with torch.no_grad():
        a, b = model.loss_terms(t)["recon"], model.loss_terms(t)["recon"]
    assert a == b
    model.train()
    with torch.no_grad():
        c, d = model.loss_terms(t)["recon"], model.loss_terms(t)["recon"]
    assert c != d and c != a
    np.testing.assert_array_equal(model.reconstruct(x), model.reconstruct(x))


def test_salt_pepper_uses_training_feature_range(tiny_data):
    x, _ = tiny_data
    model = aelab.create("denoising", input_shape=12, latent_dim=4, corruption="salt_pepper",
                         noise=0.5, seed=0)
    aelab.train(model, x, epochs=1)
    np.testing.assert_allclose(model.feature_min.numpy(), x.min(0), rtol=1e-6)
    np.testing.assert_allclose(model.feature_max.numpy(), x.max(0), rtol=1e-6)
    out = model.corrupt(torch.from_numpy(x))
    changed = out != torch.from_numpy(x)
    is_bound = (out == model.feature_min) | (out == model.feature_max)
    assert bool(is_bound[changed].all())
