"""PixelVAE: the masks are causal, p(x|z) normalises, samples follow the model's probabilities."""

import itertools

import numpy as np
import pytest
import torch

import aelab
from aelab.core.seeding import seeded
from aelab.nn.pixelcnn import MaskedConv2d


def _model(input_shape=(1, 3, 3), seed=0, **kw):
    cfg = dict(latent_dim=3, hidden=(8,), channels=6, n_layers=2, kernel_size=3)
    cfg.update(kw)
    return aelab.create("pixel_vae", input_shape=input_shape, seed=seed, **cfg)


def _all_images(shape):
    """Every binary image of ``shape``, (2^d, *shape)."""
    d = int(np.prod(shape))
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=d))).reshape(-1, *shape)


def _input_grad(fn, x, i):
    """d fn(x)[0, :, pixel i] / dx for one image x (1, C, H, W), per input pixel (H·W,)."""
    x = x.clone().requires_grad_(True)
    out = fn(x)  # (1, C', H, W)
    out.flatten(2)[0, :, i].sum().backward()
    return x.grad.abs().sum(1).flatten()  # summed over input channels


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_reads_only_earlier_pixels(mask_type):
    torch.manual_seed(0)
    conv = MaskedConv2d(2, 3, 3, mask_type)
    x = torch.randn(1, 2, 4, 5)
    for i in range(20):
        g = _input_grad(conv, x, i)
        later = g[i + 1:] if mask_type == "B" else g[i:]
        assert torch.all(later == 0), f"pixel {i} reads a later pixel"
        if mask_type == "B":
            assert g[i] > 0, "a type-B mask reads the centre"
        if i % 5:  # a left neighbour exists in the kernel
            assert g[i - 1] > 0


def test_pixel_logits_are_causal_and_depend_on_earlier_pixels():
    model = _model((2, 4, 4), n_layers=2)
    z = torch.randn(1, model.latent_dim)
    context = model._context(z, None).detach()
    x = torch.rand(1, 2, 4, 4)
    for i in range(16):
        g = _input_grad(lambda t: model.pixelcnn(t, context), x, i)
        assert torch.all(g[i:] == 0), f"the logit of pixel {i} reads pixel {i} or a later one"
        if i:
            assert g[:i].sum() > 0, f"the logit of pixel {i} reads no earlier pixel"


@pytest.mark.parametrize("shape", [(1, 3, 3), (2, 2, 2)])
def test_likelihood_sums_to_one_over_all_binary_images(shape):
    model = _model(shape, n_layers=1).eval()
    x = _all_images(shape)
    with torch.no_grad():
        for _ in range(3):  # a few fixed codes
            z = torch.randn(1, model.latent_dim).expand(len(x), -1)
            log_p = -model._feature_nll(z, x, None, 1).sum(1).double()
            assert float(torch.logsumexp(log_p, 0).exp()) == pytest.approx(1.0, abs=1e-5)
            assert log_p.std() > 0.1  # not the uniform distribution


def test_k_draws_share_features_without_mixing_examples():
    model = _model((1, 3, 3)).eval()
    x = _all_images((1, 3, 3))[:5]
    k = 4
    z = torch.randn(k * 5, model.latent_dim)  # rows: k copies of the batch, draw-major
    with torch.no_grad():
        shared = model._feature_nll(z, x, None, k)
        direct = model._feature_nll(z, x.repeat(k, 1, 1, 1), None, 1)
    torch.testing.assert_close(shared, direct)


def test_samples_follow_the_models_probabilities():
    shape = (1, 2, 2)
    model = _model(shape, n_layers=1, latent_dim=2).eval()
    with torch.no_grad():  # sharpen the conditionals so that a sampler ignoring x_<i would fail
        for p in model.pixelcnn.parameters():
            p.mul_(3.0)
    images = _all_images(shape)
    # p(x) = E_{z ~ p(z)} p(x | z), from 20,000 prior codes (exact p(x | z) per code).
    with torch.no_grad(), seeded(1):
        z = torch.randn(20_000, model.latent_dim)
        log_px_z = torch.stack([-model._feature_nll(z, im.expand(len(z), *shape), None, 1).sum(1)
                                for im in images])  # (16, 20000)
    p = log_px_z.double().exp().mean(1).numpy()
    n = 20_000
    draws = model.sample(n, seed=0, mean=False).reshape(n, -1)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    index = (draws @ (2 ** np.arange(3, -1, -1))).astype(int)  # row-major bits, as _all_images
    freq = np.bincount(index, minlength=16) / n
    tol = 4.5 * np.sqrt(p * (1 - p) / n) + 2e-3
    assert np.all(np.abs(freq - p) < tol), (freq, p)
    # The independent-pixel distribution with the same marginals is far from p: the test
    # tells an autoregressive sampler from one that ignores the earlier pixels.
    bits = images.reshape(16, -1).numpy()
    marg = (bits * draws.mean(0) + (1 - bits) * (1 - draws.mean(0))).prod(1)
    assert np.abs(marg - p).max() > 5 * tol.max()


def test_sample_is_seeded_and_mean_gives_probabilities():
    model = _model()
    a, b = model.sample(5, seed=3), model.sample(5, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 1, 3, 3) and np.all((a > 0) & (a < 1))


def test_decode_is_the_greedy_pass_and_reconstruct_is_teacher_forced():
    model = _model((1, 3, 3)).eval()
    z = torch.randn(6, model.latent_dim)
    probs = model.decode(z)
    greedy = (probs > 0.5).float()
    with torch.no_grad():
        forced = torch.sigmoid(model.pixelcnn(greedy, model._context(z, None)))
    torch.testing.assert_close(probs, forced)
    x = _all_images((1, 3, 3))[::37]
    with torch.no_grad():
        mu = model.posterior(x).mu
        expected = torch.sigmoid(model.pixelcnn(x, model._context(mu, None)))
    torch.testing.assert_close(model.reconstruct(x), expected)


def test_log_weights_shapes_and_the_iwae_bound():
    model = _model()
    x = _all_images((1, 3, 3))[::50]
    with torch.no_grad():
        w = model.log_weights(x, 7)
    assert w.shape == (7, len(x)) and torch.isfinite(w).all()
    ll = aelab.log_likelihood(model, x.numpy(), k=200, seed=0)
    elbo = aelab.log_likelihood(model, x.numpy(), k=1, seed=0)
    assert ll.shape == (len(x),) and np.all(ll <= 0) and ll.mean() > elbo.mean()


@pytest.mark.parametrize("kw, match", [
    (dict(likelihood="gaussian"), "likelihood must be 'bernoulli'"),
    (dict(input_shape=(1, 1, 3, 4)), "input_shape must be"),
    (dict(kernel_size=4), "must be odd"),
])
def test_bad_configs_raise(kw, match):
    cfg = dict(input_shape=(1, 3, 4), latent_dim=2, hidden=(4,))
    cfg.update(kw)
    with pytest.raises(ValueError, match=match):
        aelab.create("pixel_vae", **cfg)


def test_mask_type_is_checked():
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2d(1, 1, 3, "C")
