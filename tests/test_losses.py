"""Numerical properties of the math in aelab.core.losses."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import aelab
from aelab.core.losses import (
    LIKELIHOODS,
    bernoulli_kl,
    contractive_sigmoid,
    gaussian_kl,
    jacobian_frobenius_sq,
    kl_sparsity,
    l1_sparsity,
)
from aelab.nn.layers import TopK


@settings(max_examples=50, deadline=None)
@given(rho=st.floats(0.01, 0.99), other=st.floats(0.01, 0.99))
def test_kl_sparsity_zero_at_target_positive_elsewhere(rho, other):
    h_at = torch.full((10, 5), rho, dtype=torch.float64)
    assert float(kl_sparsity(h_at, rho)) == pytest.approx(0.0, abs=1e-9)
    h_off = torch.full((10, 5), other, dtype=torch.float64)
    value = float(kl_sparsity(h_off, rho))
    if abs(other - rho) > 1e-3:
        assert value > 0
    expected = 5 * (rho * np.log(rho / other) + (1 - rho) * np.log((1 - rho) / (1 - other)))
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_kl_sparsity_uses_batch_mean():
    h = torch.tensor([[0.0, 1.0], [0.2, 0.6]], dtype=torch.float64)  # batch means 0.1, 0.8
    assert float(kl_sparsity(h, 0.1)) == pytest.approx(float(bernoulli_kl(0.1, torch.tensor(0.8))), rel=1e-5)


def test_l1_sums_over_units():
    h = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, -1.0]])
    assert l1_sparsity(h).tolist() == [3.5, 1.0]


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 12), seed=st.integers(0, 1000))
def test_top_k_keeps_exactly_k_largest(k, seed):
    h = torch.randn(7, 12, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    out = TopK(k)(h)
    assert ((out != 0).sum(1) == k).all()
    idx = torch.topk(h, k, dim=1).indices
    assert torch.equal(out.gather(1, idx), h.gather(1, idx))
    out.sum().backward()
    assert ((h.grad != 0).sum(1) == k).all(), "gradient must flow through the kept units only"


def test_gaussian_kl_zero_at_prior_and_matches_torch():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    assert torch.allclose(gaussian_kl(mu, logvar), torch.zeros(4))
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    mu_p, logvar_p = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(mu_p, (0.5 * logvar_p).exp())
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(gaussian_kl(mu, logvar, mu_p, logvar_p), expected, atol=1e-5)
    assert (gaussian_kl(mu, logvar) > 0).all()


def test_likelihoods_match_torch_distributions():
    g = torch.Generator().manual_seed(1)
    out, x = torch.randn(5, 6, generator=g), torch.rand(5, 6, generator=g)
    gauss = torch.distributions.Normal(out, 1.0).log_prob(x).sum(1)
    assert torch.allclose(-LIKELIHOODS["gaussian"].nll(out, x), gauss, atol=1e-5)
    assert torch.allclose(LIKELIHOODS["gaussian"].reconstruction_loss(out, x),
                          ((out - x) ** 2).sum(1))
    xb = torch.bernoulli(x, generator=g)
    bern = torch.distributions.Bernoulli(logits=out).log_prob(xb).sum(1)
    assert torch.allclose(-LIKELIHOODS["bernoulli"].nll(out, xb), bern, atol=1e-5)


def _autograd_jacobian_norm(f, x):
    return torch.stack([torch.autograd.functional.jacobian(lambda v: f(v[None])[0], xi).pow(2).sum()
                        for xi in x])


def test_contractive_closed_form_equals_autograd_jacobian():
    model = aelab.create("contractive", input_shape=9, latent_dim=5, seed=0)
    layer = model.closed_form_layer()
    assert layer is not None
    x = torch.rand(6, 9, dtype=torch.float32)
    h = model.encoder(x)
    closed = contractive_sigmoid(h, layer.weight)
    exact = jacobian_frobenius_sq(model.encoder, x)
    brute = _autograd_jacobian_norm(model.encoder, x)
    torch.testing.assert_close(closed, exact, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(closed, brute, rtol=1e-5, atol=1e-7)


def test_contractive_deep_encoder_uses_exact_jacobian_with_gradients():
    model = aelab.create("contractive", input_shape=9, latent_dim=4, hidden=(7,),
                         code_activation="tanh", seed=0)
    assert model.closed_form_layer() is None
    x = torch.rand(5, 9)
    h = model.encoder(x)
    penalty = model.contraction(x, h)
    torch.testing.assert_close(penalty, _autograd_jacobian_norm(model.encoder, x), rtol=1e-5, atol=1e-6)
    penalty.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())
