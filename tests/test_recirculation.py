"""Recirculation (core.recirculation, models.recirculation)."""

import numpy as np
import pytest
import torch

import aelab
from aelab.core.recirculation import recirculate, recirculation_update


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_update_equals_the_formula_on_a_3x2_case():
    # 3 visible, 2 hidden units, two examples; the update computed by hand in NumPy.
    W = np.array([[0.5, -1.0, 0.3], [0.2, 0.4, -0.7]])
    b = np.array([0.1, -0.2])
    V = np.array([[1.0, -0.5], [0.3, 0.8], [-0.6, 0.2]])
    c = np.array([0.05, 0.0, -0.1])
    x = np.array([[1.0, 0.0, 1.0], [0.2, 0.9, 0.4]])
    lam = 0.75
    y1 = _sigmoid(x @ W.T + b)
    x2 = lam * x + (1 - lam) * _sigmoid(y1 @ V.T + c)
    y3 = _sigmoid(x2 @ W.T + b)
    dV = sum(np.outer(x[i] - x2[i], y1[i]) for i in range(2)) / 2
    dW = sum(np.outer(y1[i] - y3[i], x2[i]) for i in range(2)) / 2

    t = {k: torch.tensor(v) for k, v in dict(W=W, b=b, V=V, c=c, x=x).items()}
    p = recirculate(t["x"], lambda v: torch.sigmoid(v @ t["W"].T + t["b"]),
                    lambda h: torch.sigmoid(h @ t["V"].T + t["c"]), lam)
    u = recirculation_update(p)
    np.testing.assert_allclose(p.x2, x2, rtol=1e-12)
    np.testing.assert_allclose(u.V, dV, rtol=1e-12)
    np.testing.assert_allclose(u.W, dW, rtol=1e-12)
    np.testing.assert_allclose(u.c, (x - x2).mean(0), rtol=1e-12)
    np.testing.assert_allclose(u.b, (y1 - y3).mean(0), rtol=1e-12)


def test_regression_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        recirculate(torch.zeros(1, 3), torch.sigmoid, torch.sigmoid, 1.0)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_model_gradient_is_minus_the_update(tiny_data, likelihood):
    x, _ = tiny_data
    xt = torch.from_numpy(x[:50])
    model = aelab.create("recirculation", seed=0, input_shape=12, latent_dim=5, regression=0.6,
                         likelihood=likelihood)
    model.fit_preprocessing(lambda: iter([xt]))
    terms = model.loss_terms(xt)
    assert terms["recirculation"].item() == 0.0
    model.zero_grad()
    sum(terms.values()).backward()
    (enc,), (dec,) = model.encoder.affine_maps(), model.decoder.affine_maps()
    with torch.no_grad():
        xs = model.scaler(xt)
        u = recirculation_update(recirculate(
            xs, lambda v: torch.sigmoid(v @ enc.weight.T + enc.bias),
            lambda h: model.lik.mean(h @ dec.weight.T + dec.bias), 0.6))
        out = model.decoder(model.encoder(xs))
    for param, step in ((enc.weight, u.W), (enc.bias, u.b), (dec.weight, u.V), (dec.bias, u.c)):
        torch.testing.assert_close(param.grad, -step, rtol=0, atol=0)
    np.testing.assert_allclose(float(terms["recon"]),
                               float(model.lik.reconstruction_loss(out, xs).mean()), rtol=1e-6)


@pytest.mark.parametrize(("likelihood", "factor"), [("bernoulli", 1.0), ("gaussian", 0.5)])
def test_visible_update_is_the_delta_rule_gradient(tiny_data, likelihood, factor):
    # ΔV, Δc = −(1 − λ)·∂recon/∂(V, c) for logistic units with cross-entropy, −(1 − λ)/2·∂‖x − x̂‖²
    # for linear units: the delta rule is the visible layer's own gradient.
    x, _ = tiny_data
    xt = torch.from_numpy(x[:50])
    model = aelab.create("recirculation", seed=1, input_shape=12, latent_dim=5, likelihood=likelihood)
    model.fit_preprocessing(lambda: iter([xt]))
    terms = model.loss_terms(xt)
    model.zero_grad()
    sum(terms.values()).backward()
    (dec,) = model.decoder.affine_maps()
    update = [-dec.weight.grad.clone(), -dec.bias.grad.clone()]
    model.zero_grad()
    xs = model.scaler(xt)
    model.lik.reconstruction_loss(model.decoder(model.encoder(xs)), xs).mean().backward()
    for u, g in zip(update, (dec.weight.grad, dec.bias.grad)):
        torch.testing.assert_close(u, -factor * (1 - 0.75) * g, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bad", [{"hidden": (8,)}, {"tied": True}, {"backbone": "conv"},
                                 {"n_classes": 2}])
def test_rejects_what_is_not_one_untied_hidden_layer(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        aelab.create("recirculation", input_shape=12, **bad)
