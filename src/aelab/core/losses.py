"""The math of aelab, written once: likelihoods, divergences and penalties.

Reduction rule, everywhere in this module: each function returns one value per
example, shape ``(batch,)``, **summed over features / code units**. Models average
over the batch (``.mean()``), so a reported loss is "per example". The only
exception is :func:`kl_sparsity`, whose ρ̂ is itself a batch statistic; it returns
a scalar.

References
----------
Goodfellow, Bengio & Courville, *Deep Learning*, ch. 14 (2016).
Ng, *Sparse autoencoder*, CS294A lecture notes (2011) — KL sparsity.
Rifai et al., *Contractive Auto-Encoders*, ICML 2011 — Jacobian penalty.
Kingma & Welling, *Auto-Encoding Variational Bayes*, ICLR 2014 — Gaussian KL.
Burda, Grosse & Salakhutdinov, *Importance Weighted Autoencoders*, ICLR 2016 — log-mean-exp.
Tolstikhin et al., *Wasserstein Auto-Encoders*, ICLR 2018 — MMD with the IMQ kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- likelihoods
class Likelihood:
    """A decoder likelihood p(x | h) parameterised by the decoder's raw output."""

    name: str

    def feature_nll(self, out: Tensor, x: Tensor) -> Tensor:
        """-log p(x_j | h) of every feature, shape ``(batch, n_features)``."""
        raise NotImplementedError

    def feature_loss(self, out: Tensor, x: Tensor) -> Tensor:
        """The autoencoder's L(x, g(f(x))) of every feature, shape ``(batch, n_features)``."""
        raise NotImplementedError

    def nll(self, out: Tensor, x: Tensor) -> Tensor:
        """-log p(x | h), summed over features, shape ``(batch,)``."""
        return self.feature_nll(out, x).sum(1)

    def reconstruction_loss(self, out: Tensor, x: Tensor) -> Tensor:
        """The autoencoder's L(x, g(f(x))), summed over features, shape ``(batch,)``."""
        return self.feature_loss(out, x).sum(1)

    def mean(self, out: Tensor) -> Tensor:
        """E[x | h]: the reconstruction in data space."""
        raise NotImplementedError

    def sample(self, out: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draw x ~ p(x | h)."""
        raise NotImplementedError


class GaussianLikelihood(Likelihood):
    """Unit-variance Gaussian: L = ||x - x_hat||² = 2·(-log p(x|h)) - d·log 2π."""

    name = "gaussian"

    def feature_nll(self, out, x):
        return 0.5 * (out - x).pow(2).flatten(1) + 0.5 * _LOG_2PI

    def feature_loss(self, out, x):
        return (out - x).pow(2).flatten(1)

    def mean(self, out):
        return out

    def sample(self, out, generator=None):
        noise = torch.randn(out.shape, generator=generator, device=out.device, dtype=out.dtype)
        return out + noise


class BernoulliLikelihood(Likelihood):
    """Bernoulli on logits: L = binary cross-entropy, data in [0, 1]."""

    name = "bernoulli"

    def feature_nll(self, out, x):
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1)

    feature_loss = feature_nll

    def mean(self, out):
        return torch.sigmoid(out)

    def sample(self, out, generator=None):
        return torch.bernoulli(torch.sigmoid(out), generator=generator)


class MultinomialLikelihood(Likelihood):
    """Softmax over the features (words): x a distribution, e.g. a document's normalised word
    counts; L = −Σ_j x_j log softmax(out)_j, the multinomial NLL per word of the document
    (Salakhutdinov & Hinton 2009's softmax visible units; NASH's decoder)."""

    name = "multinomial"

    def feature_nll(self, out, x):
        return -(x.flatten(1) * F.log_softmax(out.flatten(1), dim=1))

    feature_loss = feature_nll

    def mean(self, out):
        return F.softmax(out.flatten(1), dim=1).reshape(out.shape)

    def sample(self, out, generator=None):
        """One word drawn from softmax(out), one-hot: a one-word document's proportions."""
        probs = F.softmax(out.flatten(1), dim=1)
        words = torch.multinomial(probs, 1, generator=generator)
        return torch.zeros_like(probs).scatter_(1, words, 1.0).reshape(out.shape)


LIKELIHOODS: dict[str, Likelihood] = {
    lik.name: lik for lik in (GaussianLikelihood(), BernoulliLikelihood(), MultinomialLikelihood())
}


# --------------------------------------------------------------------------- divergences
def gaussian_kl(
    mu: Tensor,
    logvar: Tensor,
    mu_p: Tensor | float = 0.0,
    logvar_p: Tensor | float = 0.0,
) -> Tensor:
    """KL( N(mu, diag e^logvar) || N(mu_p, diag e^logvar_p) ), summed over dims.

    With the default prior N(0, I) this is the VAE's analytic term
    ``0.5 * sum(mu² + σ² - 1 - log σ²)``. Shape ``(batch,)``.
    """
    logvar_p = torch.as_tensor(logvar_p, dtype=mu.dtype, device=mu.device)
    var_ratio = torch.exp(logvar - logvar_p)
    kl = 0.5 * (var_ratio + (mu - mu_p).pow(2) * torch.exp(-logvar_p) - 1.0 - (logvar - logvar_p))
    return kl.flatten(1).sum(1)


def gaussian_log_prob(z: Tensor, mu: Tensor | float = 0.0, logvar: Tensor | float = 0.0) -> Tensor:
    """log N(z; mu, diag e^logvar), summed over dims. Shape ``(batch,)``."""
    logvar = torch.as_tensor(logvar, dtype=z.dtype, device=z.device)
    log_density = -0.5 * (_LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))
    return log_density.expand_as(z).flatten(1).sum(1)


def log_mean_exp(a: Tensor, dim: int = 0) -> Tensor:
    """log( mean_i exp(a_i) ) along ``dim``, computed stably (the IWAE bound of log-weights)."""
    return torch.logsumexp(a, dim=dim) - math.log(a.shape[dim])


def categorical_kl_uniform(logits: Tensor) -> Tensor:
    """KL( softmax(logits) || Uniform(K) ) per row, shape (n,): log K - H(q), in [0, log K]."""
    log_q = torch.log_softmax(logits, dim=-1)
    return (log_q.exp() * log_q).sum(-1) + math.log(logits.shape[-1])


def label_marginal_bound(per_class_nll: Tensor, logits: Tensor) -> Tensor:
    """The semi-supervised VAE's bound on -log p(x) with the label y unobserved, per row.

    Kingma, Rezende, Mohamed & Welling, *Semi-Supervised Learning with Deep Generative
    Models* (2014), eq. 7 with a uniform p(y) over K classes:
    -log p(x) ≤ Σ_y q(y|x) L(x, y) + KL(q(y|x) || p(y)) = U(x), where ``per_class_nll[:, y]``
    is L(x, y), a bound on -log p(x | y), and ``logits`` those of q(y|x). Minimised over
    q by q(y|x) ∝ exp(-L(x, y)), where it equals -log (1/K) Σ_y exp(-L(x, y)).
    """
    q = torch.softmax(logits, dim=-1)
    return (q * per_class_nll).sum(-1) + categorical_kl_uniform(logits)


def bernoulli_kl(rho: Tensor | float, rho_hat: Tensor, eps: float = 1e-7) -> Tensor:
    """Elementwise KL( Bernoulli(rho) || Bernoulli(rho_hat) ), ≥ 0, = 0 iff rho_hat == rho."""
    rho_hat = rho_hat.clamp(eps, 1.0 - eps)
    rho = torch.as_tensor(rho, dtype=rho_hat.dtype, device=rho_hat.device)
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def mmd_imq(z: Tensor, z_prior: Tensor, scale: float = 1.0,
            multipliers: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)) -> Tensor:
    """Unbiased MMD² between codes ``z`` and prior samples, inverse multiquadratic kernel.

    k(a, b) = C / (C + ||a - b||²) with C = 2·d·scale²·m, summed over the multipliers m
    (Tolstikhin et al. 2018, §4: C = 2·d·σ_z² for a N(0, σ_z² I) prior, several scales).
    Both inputs have shape (batch, d), batch ≥ 2. A scalar (a batch statistic); it is
    close to 0 when the two samples come from the same distribution.
    """
    n, d = z.shape
    if n < 2:
        raise ValueError("The MMD penalty needs at least 2 codes per batch; use batch_size >= 2.")
    zz, pp, zp = _sq_dists(z, z), _sq_dists(z_prior, z_prior), _sq_dists(z, z_prior)
    off_diag = 1.0 - torch.eye(n, dtype=z.dtype, device=z.device)
    total = z.new_zeros(())
    for m in multipliers:
        c = 2.0 * d * scale**2 * m
        within = (c / (c + zz) + c / (c + pp)) * off_diag
        total = total + within.sum() / (n * (n - 1)) - 2.0 * (c / (c + zp)).mean()
    return total


def mmd_gaussian(a: Tensor, b: Tensor, bandwidth: float | None = None) -> Tensor:
    """Unbiased MMD² between samples ``a`` (n, d) and ``b`` (m, d), Gaussian kernel
    k(u, v) = exp(−‖u − v‖² / 2h²); h defaults to the median distance between the pooled
    points (at most 2,000 of them). A scalar, close to 0 for samples of one distribution."""
    if bandwidth is None:
        pooled = torch.cat([a, b])[:2000]
        bandwidth = float(_sq_dists(pooled, pooled).sqrt().median())
    n, m = a.shape[0], b.shape[0]
    if n < 2 or m < 2:
        raise ValueError("The MMD needs at least 2 points in each sample.")
    kaa, kbb, kab = (torch.exp(-_sq_dists(u, v) / (2 * bandwidth**2))
                     for u, v in ((a, a), (b, b), (a, b)))
    within = ((kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
              + (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1)))
    return within - 2 * kab.mean()


def _sq_dists(a: Tensor, b: Tensor) -> Tensor:
    """Pairwise squared Euclidean distances (n, m), with a finite gradient at 0."""
    return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1)


# --------------------------------------------------------------------------- sparsity
def l1_sparsity(h: Tensor) -> Tensor:
    """sum_i |h_i| per example, shape ``(batch,)``."""
    return h.abs().flatten(1).sum(1)


def kl_sparsity(h: Tensor, rho: float) -> Tensor:
    """sum_j KL(rho || rho_hat_j), rho_hat_j the batch-mean of sigmoid unit j. A scalar.

    ``h`` must be sigmoid activations (in (0, 1)); the target rate ``rho`` in (0, 1).
    """
    rho_hat = h.flatten(1).mean(0)
    return bernoulli_kl(rho, rho_hat).sum()


# --------------------------------------------------------------------------- contraction
def contractive_sigmoid(h: Tensor, weight: Tensor) -> Tensor:
    """||∂h/∂x||_F² for one sigmoid layer h = σ(Wx + b), in closed form.

    ``sum_j (h_j (1 - h_j))² ||W_j||²`` with ``W`` of shape (units, features).
    Shape ``(batch,)``.
    """
    w_norms = weight.pow(2).sum(1)  # (units,)
    return (h * (1 - h)).pow(2) @ w_norms


def jacobian_frobenius_sq(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Exact ||∂f(x)/∂x||_F² per example, differentiable w.r.t. f's parameters.

    ``f`` maps a batch to a batch and must treat examples independently (no batch
    norm). Computed with vectorised reverse-mode autodiff: one vector-Jacobian
    product per output unit, batched over units. Shape ``(batch,)``.
    """
    with torch.enable_grad():  # also under no_grad (validation): the penalty needs ∂f/∂x
        x = x if x.requires_grad else x.detach().requires_grad_(True)
        h = f(x).flatten(1)  # (batch, units)
        return _jacobian_rows_sq(h, x)


def _jacobian_rows_sq(h: Tensor, x: Tensor) -> Tensor:
    units = h.shape[1]
    # One-hot cotangents e_j for every unit j, shared across the batch: (units, batch, units).
    eye = torch.eye(units, dtype=h.dtype, device=h.device)
    cotangents = eye.unsqueeze(1).expand(units, h.shape[0], units)
    (rows,) = torch.autograd.grad(
        h, x, grad_outputs=cotangents, is_grads_batched=True, create_graph=True
    )  # (units, batch, *x.shape[1:]); rows[j, b] = ∂h_j/∂x at example b
    return rows.pow(2).flatten(2).sum(2).sum(0)


# --------------------------------------------------------------------------- partial observation
def masked_squared_error(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Σ_j m_j (x̂_j − x_j)² over the observed entries only, shape ``(batch,)``.

    The loss of AutoRec (Sedhain et al., WWW 2015) and of masked imputers: an entry
    with ``mask`` False contributes nothing, whatever ``target`` holds there (NaN
    included), and passes no gradient to ``pred``.
    """
    mask = mask.to(torch.bool)
    diff = torch.where(mask, pred - torch.where(mask, target, torch.zeros_like(target)),
                       torch.zeros_like(pred))
    return diff.pow(2).flatten(1).sum(1)
