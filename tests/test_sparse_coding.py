"""ISTA/FISTA and predictive sparse decomposition (core.sparse_coding, models.psd)."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

import aelab
from aelab.core.sparse_coding import fista, ista, lasso_objective, lipschitz_constant, soft_threshold


def _problem(n=40, d=20, k=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(d, k, generator=g, dtype=torch.float64)
    D = D / D.norm(dim=0)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, D


def test_soft_threshold_is_the_l1_proximal_map():
    v = torch.linspace(-3, 3, 61, dtype=torch.float64)
    t = 0.7
    out = soft_threshold(v, t)
    assert torch.equal(out[v.abs() <= t], torch.zeros_like(out[v.abs() <= t]))
    np.testing.assert_allclose(out.abs() + t, v.abs().clamp_min(t))  # shrinks by exactly t
    assert torch.all(torch.sign(out) * torch.sign(v) >= 0)  # never flips a sign
    # argmin_u ½(u − v)² + t|u|, by brute force on a fine grid
    grid = torch.linspace(-4, 4, 80001, dtype=torch.float64)
    brute = grid[(0.5 * (grid[None] - v[:, None]) ** 2 + t * grid.abs()[None]).argmin(1)]
    np.testing.assert_allclose(out, brute, atol=2e-4)


def test_lipschitz_constant_is_the_top_eigenvalue_of_the_gram_matrix():
    _, D = _problem()
    np.testing.assert_allclose(float(lipschitz_constant(D)), float(torch.linalg.eigvalsh(D.T @ D)[-1]),
                               rtol=1e-10)


def test_fista_matches_sklearn_lasso():
    # sklearn's Lasso on (D, x_i) minimises (1/2d)‖x_i − Dz‖² + α‖z‖₁ = (1/d)·F(z) at λ = d·α.
    x, D = _problem()
    d, alpha = D.shape[0], 0.02
    z = fista(x, D, lam=d * alpha, steps=5000, tol=1e-12)
    ref = np.stack([Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000)
                    .fit(D.numpy(), xi).coef_ for xi in x.numpy()])
    ours_f = lasso_objective(x, D, z, d * alpha)
    ref_f = lasso_objective(x, D, torch.from_numpy(ref), d * alpha)
    np.testing.assert_allclose(ours_f, ref_f, rtol=1e-8)
    np.testing.assert_allclose(z, ref, atol=1e-5)
    assert (ref == 0).mean() > 0.3  # the comparison is about a sparse solution


def test_fista_beats_ista_and_both_descend():
    x, D = _problem(k=60)
    lam = 0.3
    best = lasso_objective(x, D, fista(x, D, lam, steps=3000), lam).sum()
    gaps = {name: float(lasso_objective(x, D, fn(x, D, lam, steps=30), lam).sum() - best)
            for name, fn in (("ista", ista), ("fista", fista))}
    assert 0 <= gaps["fista"] < gaps["ista"]
    f = [float(lasso_objective(x, D, ista(x, D, lam, steps=s), lam).sum()) for s in (1, 2, 5, 20)]
    assert f == sorted(f, reverse=True)  # ISTA with step 1/L never goes up


def test_anchor_term_is_minimised_too():
    # With the pull (μ/2)‖z − a‖² the optimum satisfies 0 ∈ Dᵀ(Dz − x) + μ(z − a) + λ∂‖z‖₁.
    x, D = _problem()
    a = torch.randn(x.shape[0], D.shape[1], dtype=torch.float64)
    lam, mu = 0.2, 0.5
    z = fista(x, D, lam, steps=3000, anchor=a, anchor_weight=mu)
    grad = (z @ D.T - x) @ D + mu * (z - a)
    on = z != 0
    np.testing.assert_allclose(grad[on], -lam * torch.sign(z[on]), atol=1e-8)
    assert grad[~on].abs().max() <= lam + 1e-8


def test_fista_rejects_mismatched_shapes():
    x, D = _problem()
    with pytest.raises(ValueError, match="n_features"):
        fista(x, D.T, 0.1)


@pytest.fixture
def psd_model(tiny_data):
    x, _ = tiny_data
    model = aelab.create("psd", seed=0, input_shape=12, latent_dim=6, sparsity_weight=0.2)
    model.fit_preprocessing(lambda: iter([torch.from_numpy(x)]))
    return model, torch.from_numpy(x)


def test_psd_predictor_and_unit_norm_dictionary(psd_model):
    model, x = psd_model
    lin = model.encoder.affine_maps()[0]
    with torch.no_grad():
        lin.bias.normal_()
        model.encoder[-1].gain.copy_(torch.linspace(0.5, 2.0, 6))
        model.decoder[0].weight.mul_(torch.linspace(0.1, 5.0, 6))  # raw columns of any norm
        expected = torch.linspace(0.5, 2.0, 6) * torch.tanh(model.scaler(x) @ lin.weight.T + lin.bias)
        D = model.dictionary.atoms()
    np.testing.assert_allclose(model.encode(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(D.norm(dim=0), np.ones(6), rtol=1e-6)
    h = torch.randn(5, 6)
    np.testing.assert_allclose(model.decode(h), model.scaler.inverse(h @ D.T), rtol=1e-5, atol=1e-6)


def test_psd_terms_are_the_energy_at_the_inferred_codes(psd_model):
    model, x = psd_model
    terms = {k: v.detach() for k, v in model.loss_terms(x).items()}
    with torch.no_grad():
        xs, D = model.scaler(x), model.dictionary.atoms()
        f = model.encoder(xs)
        z = fista(xs, D, 0.1, z0=f, steps=model.inference_steps, anchor=f, anchor_weight=1.0)
    np.testing.assert_allclose(float(terms["recon"]), float((xs - z @ D.T).square().sum(1).mean()),
                               rtol=1e-5)
    np.testing.assert_allclose(float(terms["sparsity"]), 0.2 * float(z.abs().sum(1).mean()), rtol=1e-5)
    np.testing.assert_allclose(float(terms["prediction"]), float((z - f).square().sum(1).mean()),
                               rtol=1e-5)
    # The inferred codes lower the energy below the prediction's own.
    energy = 2 * lasso_objective(xs, D, z, 0.1, f, 1.0).mean()
    assert float(energy) < float(2 * lasso_objective(xs, D, f, 0.1).mean())


@pytest.mark.parametrize("bad", [{"likelihood": "bernoulli"}, {"tied": True}, {"n_classes": 2}])
def test_psd_rejects_options_its_dictionary_cannot_take(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        aelab.create("psd", input_shape=12, **bad)
