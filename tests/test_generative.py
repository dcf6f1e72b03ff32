"""Generative autoencoders: VAE/IWAE math, likelihood estimates, AAE phases, priors, sampling."""

import math

import numpy as np
import pytest
import torch

import aelab
from aelab.applications.generation import interpolate, traverse
from aelab.core.distributions import DiagonalGaussian
from aelab.core.losses import gaussian_kl, log_mean_exp, mmd_imq
from aelab.nn.priors import PRIORS


def _vae(seed=0, **kw):
    cfg = dict(input_shape=12, latent_dim=3, hidden=(16,), likelihood="bernoulli", seed=seed)
    cfg.update(kw)
    return aelab.create("vae", **cfg)


@pytest.fixture(scope="module")
def binary_data():
    """400 × 12 binary vectors driven by 3 latent factors."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(400, 3))
    p = 1.0 / (1.0 + np.exp(-2.0 * (z @ rng.normal(size=(3, 12)))))
    return (rng.random(p.shape) < p).astype(np.float32)


@pytest.fixture(scope="module")
def trained_vae(binary_data):
    model = _vae()
    aelab.train(model, binary_data, epochs=40, batch_size=50, lr=3e-3, device="cpu")
    return model


# ------------------------------------------------------------------ the math
def test_analytic_kl_matches_monte_carlo_and_vanishes_at_prior():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g) * 0.5
    q = DiagonalGaussian(mu, logvar)
    draws = q.repeat(20000)
    z = draws.sample()
    mc = (draws.log_prob(z) - DiagonalGaussian(torch.zeros_like(z), torch.zeros_like(z)).log_prob(z))
    mc = mc.reshape(20000, 5).mean(0)
    torch.testing.assert_close(mc, q.kl(), rtol=0.05, atol=0.03)
    assert torch.allclose(DiagonalGaussian(torch.zeros(3, 4), torch.zeros(3, 4)).kl(), torch.zeros(3))
    # Against another Gaussian: matches torch.distributions.
    p_mu, p_logvar = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    ours = gaussian_kl(mu, logvar, p_mu, p_logvar)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()),
        torch.distributions.Normal(p_mu, (0.5 * p_logvar).exp())).sum(1)
    torch.testing.assert_close(ours, ref)


def test_log_prob_matches_torch():
    g = torch.Generator().manual_seed(1)
    mu, logvar, z = (torch.randn(6, 3, generator=g) for _ in range(3))
    ref = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1)
    torch.testing.assert_close(DiagonalGaussian(mu, logvar).log_prob(z), ref)


def test_log_mean_exp_is_stable():
    a = torch.tensor([[1000.0, -1000.0], [1000.0, -1000.0]])
    torch.testing.assert_close(log_mean_exp(a), torch.tensor([1000.0, -1000.0]))
    b = torch.randn(7, 3, dtype=torch.float64)
    torch.testing.assert_close(log_mean_exp(b), b.exp().mean(0).log())


def test_mmd_near_zero_for_same_distribution_positive_for_different():
    g = torch.Generator().manual_seed(0)
    same = [float(mmd_imq(torch.randn(200, 4, generator=g), torch.randn(200, 4, generator=g)))
            for _ in range(20)]
    assert abs(np.mean(same)) < 0.01  # unbiased: mean ≈ 0, individual values can be < 0
    shifted = float(mmd_imq(torch.randn(200, 4, generator=g) + 1.5, torch.randn(200, 4, generator=g)))
    assert shifted > 10 * np.std(same)
    with pytest.raises(ValueError, match="at least 2"):
        mmd_imq(torch.randn(1, 4), torch.randn(1, 4))


# ------------------------------------------------------------------ VAE / IWAE
def test_reparameterised_gradient_reaches_encoder(binary_data):
    model = _vae()
    model.fit_preprocessing(lambda: iter([torch.from_numpy(binary_data)]))
    model.train()
    terms = model.loss_terms(torch.from_numpy(binary_data[:32]))
    terms["recon"].backward()  # the data term alone: reaches the encoder only through z = mu + σε
    for name, p in model.encoder.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_iwae_bound_rises_with_k_and_k1_matches_elbo(trained_vae, binary_data):
    x = binary_data[:200]
    bounds = [aelab.log_likelihood(trained_vae, x, k=k, seed=3).mean() for k in (1, 10, 100)]
    assert bounds[0] < bounds[1] < bounds[2]
    # k = 1 is an unbiased estimate of the ELBO: compare its mean over many draws.
    k1 = np.mean([aelab.log_likelihood(trained_vae, x, k=1, seed=s).mean() for s in range(30)])
    trained_vae.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        elbo = -sum(float(v) for v in trained_vae.loss_terms(torch.from_numpy(x).repeat(50, 1)).values())
    assert k1 == pytest.approx(elbo, abs=0.15)


def test_iwae_objective_equals_elbo_objective_at_k1_in_expectation(binary_data):
    x = torch.from_numpy(binary_data[:100]).repeat(100, 1)
    elbo_model, iwae_model = _vae(seed=2), _vae(seed=2, objective="iwae", k=1)
    with torch.no_grad():
        elbo = sum(elbo_model.loss_terms(x).values())
        iwae = iwae_model.loss_terms(x)["iwae"]
    assert float(iwae) == pytest.approx(float(elbo), rel=0.02)


def test_log_likelihood_chunking_and_data_units(trained_vae, binary_data):
    x = binary_data[:40]
    full = aelab.log_likelihood(trained_vae, x, k=200)
    chunked = aelab.log_likelihood(trained_vae, x, k=200, max_rows=37)
    np.testing.assert_allclose(chunked.mean(), full.mean(), atol=0.05)
    assert full.shape == (40,) and np.all(full < 0)
    # A Gaussian VAE on standardised data reports the density of the data's own units:
    # rescaling the data by c shifts log p(x) by -d·log c.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12)).astype(np.float32) * 5.0 + 2.0
    g = aelab.create("vae", input_shape=12, latent_dim=2, hidden=(8,), seed=0)
    aelab.train(g, X, epochs=2, device="cpu")
    g10 = aelab.create("vae", input_shape=12, latent_dim=2, hidden=(8,), seed=0)
    aelab.train(g10, X * 10, epochs=2, device="cpu")
    shift = aelab.log_likelihood(g, X[:20], k=10) - aelab.log_likelihood(g10, X[:20] * 10, k=10)
    np.testing.assert_allclose(shift, 12 * math.log(10), rtol=1e-4)


def test_log_likelihood_needs_a_likelihood_model(tiny_data):
    x, _ = tiny_data
    with pytest.raises(TypeError, match="likelihood"):
        aelab.log_likelihood(aelab.create("ae", input_shape=12, latent_dim=2), x, k=2)


def test_two_stochastic_layers(binary_data):
    model = _vae(intermediate_dims=(6,), latent_hidden=(8,), objective="iwae", k=4)
    result = aelab.train(model, binary_data, epochs=15, batch_size=50, lr=3e-3, device="cpu")
    assert result.history["train/iwae"][-1] < result.history["train/iwae"][0]
    assert model.encode(binary_data).shape == (400, 3)
    ll = aelab.log_likelihood(model, binary_data[:50], k=50)
    assert np.isfinite(ll).all() and -ll.mean() < 12 * math.log(2)  # beats coin flips


def test_two_layer_log_weights_match_torch_distributions(binary_data):
    """log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1), written out with
    torch.distributions on the same noise, equals the model's log weights."""
    model = _vae(intermediate_dims=(6,), latent_hidden=(8,)).eval()
    x = model.scaler(torch.from_numpy(binary_data[:7]))
    Normal, Bernoulli = torch.distributions.Normal, torch.distributions.Bernoulli

    def gauss(params):
        mu, logvar = params.chunk(2, dim=1)
        return Normal(mu, (0.5 * logvar).exp())

    with torch.no_grad():
        torch.manual_seed(5)
        ours = model.log_weights(x, k=3)
        torch.manual_seed(5)  # the same draws, in the model's order: z1 then z2
        q1 = gauss(model.encoder(x.repeat(3, 1)))
        z1 = q1.mean + q1.stddev * torch.randn_like(q1.mean)
        q2 = gauss(model.up[0](z1))
        z2 = q2.mean + q2.stddev * torch.randn_like(q2.mean)
        ref = (Bernoulli(logits=model.decoder(z1)).log_prob(x.repeat(3, 1)).sum(1)
               + gauss(model.down[0](z2)).log_prob(z1).sum(1)
               + Normal(0.0, 1.0).log_prob(z2).sum(1)
               - q1.log_prob(z1).sum(1) - q2.log_prob(z2).sum(1))
    torch.testing.assert_close(ours, ref.reshape(3, 7), rtol=1e-5, atol=1e-4)


def test_kl_warmup_ramps_beta(binary_data):
    model = _vae(warmup_epochs=4, beta=2.0)
    seen = []
    for epoch in range(6):
        model.on_epoch_start(epoch)
        seen.append(model._beta_now)
    assert seen == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    result = aelab.train(model, binary_data, epochs=3, device="cpu")
    assert result.history["train/kl"][0] == 0.0 and result.history["train/kl"][1] > 0


def test_vae_option_errors():
    with pytest.raises(ValueError, match="iwae"):
        _vae(objective="iwae", beta=4.0)
    with pytest.raises(ValueError, match="code_activation"):
        _vae(code_activation="relu")
    with pytest.raises(ValueError, match="Did you mean 'iwae'"):
        _vae(objective="iwea")


# ------------------------------------------------------------------ sampling
@pytest.mark.parametrize("name", ["vae", "aae", "wae"])
def test_samples_reproducible_under_seed(name):
    model = aelab.create(name, input_shape=12, latent_dim=3, hidden=(8,), seed=0)
    a, b, c = model.sample(5, seed=1), model.sample(5, seed=1), model.sample(5, seed=2)
    assert a.shape == (5, 12)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    state = torch.get_rng_state()
    model.sample(3, seed=4)
    assert torch.equal(state, torch.get_rng_state()), "a seeded draw must not move the global RNG"


def test_deterministic_ae_has_no_prior():
    with pytest.raises(TypeError, match="no prior"):
        aelab.create("ae", input_shape=12, latent_dim=3).sample(2)


@pytest.mark.parametrize("name", ["vae", "aae"])
def test_conditional_samples_follow_the_label(name):
    # Class c adds its own pattern to a 2-factor "style" signal; the label is not in the style.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    pattern = 3.0 * rng.normal(size=(3, 12))
    x = (1.0 / (1.0 + np.exp(-(rng.normal(size=(600, 2)) @ rng.normal(size=(2, 12)) + pattern[y]))))
    x = x.astype(np.float32)
    model = aelab.create(name, input_shape=12, latent_dim=2, hidden=(32,), n_classes=3, seed=0)
    aelab.train(model, x, y, epochs=40, batch_size=50, lr=2e-3, device="cpu")
    per_class = [model.sample(50, seed=0, y=c) for c in range(3)]
    assert all(s.shape == (50, 12) for s in per_class)
    # Same seed, so the same z: only the label differs, and the samples move towards its class.
    means = np.array([s.mean(0) for s in per_class])
    class_means = np.array([x[y == c].mean(0) for c in range(3)])
    dist = np.linalg.norm(means[:, None] - class_means[None], axis=2)
    assert (dist.argmin(1) == np.arange(3)).all()
    with pytest.raises(ValueError, match="conditional"):
        model.sample(2)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        model.sample(2, y=7)


def test_priors():
    torch.manual_seed(0)
    mix = PRIORS["mixture"](2, scale=4.0, n_components=10)
    y = torch.arange(10).repeat(50)
    z = mix.sample(500, y)
    angle = torch.atan2(z[:, 1], z[:, 0]) % (2 * math.pi)
    component = torch.round(angle / (2 * math.pi / 10)) % 10
    assert (component == y).float().mean() > 0.95
    u = PRIORS["uniform"](3, scale=2.0).sample(1000)
    assert u.min() >= -2.0 and u.max() <= 2.0 and u.std() > 1.0
    with pytest.raises(ValueError, match="latent_dim >= 2"):
        PRIORS["mixture"](1)


# ------------------------------------------------------------------ AAE
def test_aae_each_phase_changes_only_its_own_parameters(tiny_data):
    x, y = tiny_data
    model = aelab.create("aae", input_shape=12, latent_dim=2, hidden=(8,), prior="mixture",
                         n_components=3, label_prior=True, seed=0)
    xt = torch.from_numpy(x[:64])
    model.fit_preprocessing(lambda: iter([xt]))
    model.train()
    phases = model.training_phases()
    assert [p.name for p in phases] == ["reconstruction", "discriminator", "generator"]
    disc = {id(p) for p in model.discriminator.parameters()}
    assert not disc & {id(p) for p in phases[0].parameters + phases[2].parameters}
    for phase in phases:
        opt = torch.optim.Adam(phase.parameters, lr=0.1)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        model.zero_grad()
        sum(phase.loss_terms(xt, torch.from_numpy(y[:64])).values()).backward()
        opt.step()
        own = {id(p) for p in phase.parameters}
        for n, p in model.named_parameters():
            changed = not torch.equal(before[n], p.detach())
            assert changed == (id(p) in own), (phase.name, n)


def test_aae_matches_codes_to_the_prior(tiny_data):
    x, _ = tiny_data
    model = aelab.create("aae", input_shape=12, latent_dim=2, hidden=(32,), prior="gaussian",
                         prior_scale=1.0, seed=0)
    result = aelab.train(model, x, epochs=60, batch_size=50, lr=2e-3, device="cpu")
    assert {"train/recon", "train/disc", "train/gen"} <= set(result.history)
    assert result.history["train/loss"] == result.history["train/recon"]  # adversary not in loss
    codes = model.encode(x)
    assert np.abs(codes.mean(0)).max() < 0.5 and np.all(np.abs(codes.std(0) - 1.0) < 0.5)


def test_wae_codes_follow_the_prior(tiny_data):
    x, _ = tiny_data
    plain = aelab.create("ae", input_shape=12, latent_dim=2, hidden=(32,), seed=0)
    wae = aelab.create("wae", input_shape=12, latent_dim=2, hidden=(32,), mmd_weight=100.0, seed=0)
    for model in (plain, wae):
        aelab.train(model, x, epochs=60, batch_size=50, lr=2e-3, device="cpu")
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    gap = [float(mmd_imq(torch.from_numpy(m.encode(x)), z)) for m in (plain, wae)]
    assert gap[1] < 0.5 * gap[0]


# ------------------------------------------------------------------ walking the code space
def test_interpolate_and_traverse(trained_vae, binary_data):
    a, b = binary_data[:3], binary_data[3:6]
    path = interpolate(trained_vae, a, b, steps=5)
    assert path.shape == (3, 5, 12)
    np.testing.assert_allclose(path[:, 0], trained_vae.reconstruct(a), atol=1e-6)
    np.testing.assert_allclose(path[:, -1], trained_vae.reconstruct(b), atol=1e-6)
    walk = traverse(trained_vae, a, dim=1, values=[-2.0, 0.0, 2.0])
    assert walk.shape == (3, 3, 12)
    assert not np.allclose(walk[:, 0], walk[:, 2])
    with pytest.raises(ValueError, match="dim"):
        traverse(trained_vae, a, dim=3)


# ------------------------------------------------------------------ binarised MNIST
def test_binarization():
    x = np.full((2000, 10), 0.3, dtype=np.float32)
    fixed = aelab.data.binarize(x, seed=5)
    assert set(np.unique(fixed)) == {0.0, 1.0} and abs(fixed.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(fixed, aelab.data.binarize(x, seed=5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aelab.data.binarize(x * 5)
    seen = []
    model = aelab.create("vae", input_shape=10, latent_dim=2, hidden=(4,), likelihood="bernoulli")

    def spy(batch):
        out = aelab.data.dynamic_binarize(batch)
        seen.append(out)
        return out

    aelab.train(model, x[:100], epochs=2, batch_size=100, batch_transform=spy, device="cpu")
    assert len(seen) == 2 and not torch.equal(seen[0], seen[1])
    assert set(torch.unique(seen[0]).tolist()) == {0.0, 1.0}
