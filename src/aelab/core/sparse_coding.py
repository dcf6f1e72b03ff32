"""Sparse coding by proximal gradient: the soft threshold, ISTA and FISTA, written once.

For a dictionary D ``(n_features, n_atoms)`` whose columns are the atoms, a batch x
``(batch, n_features)`` and codes z ``(batch, n_atoms)``, each function minimises or
evaluates, per example (summed over features and atoms, one value per row),

    F(z) = ½‖x − Dz‖² + λ‖z‖₁ + (μ/2)‖z − a‖²,

the lasso, plus an optional pull of weight μ towards an anchor a (predictive sparse
decomposition's prediction term; μ = 0 by default). ISTA steps along the gradient of the
smooth part with step 1/L, L = σ_max(D)² + μ (the largest eigenvalue of DᵀD + μI), then
soft-thresholds at λ/L; FISTA adds Nesterov's momentum, O(1/k²) instead of O(1/k).

References
----------
Daubechies, Defrise & De Mol, *An iterative thresholding algorithm for linear inverse
problems with a sparsity constraint*, CPAM 57 (2004) — ISTA.
Beck & Teboulle, *A fast iterative shrinkage-thresholding algorithm for linear inverse
problems*, SIAM J. Imaging Sciences 2 (2009) — FISTA.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def soft_threshold(v: Tensor, threshold: float | Tensor) -> Tensor:
    """The proximal map of ``threshold·‖·‖₁``: sign(v)·max(|v| − threshold, 0), elementwise."""
    return torch.sign(v) * torch.clamp(v.abs() - threshold, min=0.0)


def lipschitz_constant(D: Tensor) -> Tensor:
    """The largest eigenvalue of DᵀD, σ_max(D)²: the Lipschitz constant of ∇½‖x − Dz‖²."""
    return torch.linalg.matrix_norm(D, ord=2).square()


def lasso_objective(x: Tensor, D: Tensor, z: Tensor, lam: float, anchor: Tensor | None = None,
                    anchor_weight: float = 0.0) -> Tensor:
    """F(z) = ½‖x − Dz‖² + λ‖z‖₁ (+ (μ/2)‖z − a‖²) per example, shape ``(batch,)``."""
    value = 0.5 * (x - z @ D.T).square().sum(1) + lam * z.abs().sum(1)
    if anchor is not None and anchor_weight:
        value = value + 0.5 * anchor_weight * (z - anchor).square().sum(1)
    return value


def fista(x: Tensor, D: Tensor, lam: float, z0: Tensor | None = None, steps: int = 100, *,
          anchor: Tensor | None = None, anchor_weight: float = 0.0, accelerated: bool = True,
          tol: float | None = None) -> Tensor:
    """Minimise F(z) (module docstring) over z by FISTA (or ISTA), batched.

    Parameters
    ----------
    x : Tensor of shape (batch, n_features)
    D : Tensor of shape (n_features, n_atoms)
        The dictionary, one atom per column.
    lam : float
        λ ≥ 0, the weight of ‖z‖₁.
    z0 : Tensor of shape (batch, n_atoms), optional
        Starting codes (zeros by default), e.g. a predictor's guess.
    steps : int, default=100
        Most iterations.
    anchor : Tensor of shape (batch, n_atoms), optional
        a in (μ/2)‖z − a‖²; ignored when ``anchor_weight`` is 0.
    anchor_weight : float, default=0.0
        μ ≥ 0.
    accelerated : bool, default=True
        FISTA's momentum; ``False`` runs plain ISTA (see :func:`ista`).
    tol : float, optional
        Stop early once an iteration moves the codes by at most ``tol`` relative to
        their norm, ‖z_{k+1} − z_k‖ ≤ tol·‖z_{k+1}‖ over the batch.

    Returns
    -------
    Tensor of shape (batch, n_atoms)
        The codes; no gradient flows through the iterations' input (run it under
        ``torch.no_grad()`` when D or x carry one).

    Examples
    --------
    >>> import torch
    >>> D = torch.eye(3)
    >>> fista(torch.tensor([[2.0, 0.5, -1.0]]), D, lam=1.0)  # soft threshold at 1
    tensor([[1., 0., -0.]])
    """
    if x.dim() != 2 or D.dim() != 2 or x.shape[1] != D.shape[0]:
        raise ValueError(
            f"fista needs x of shape (batch, n_features) and D of shape (n_features, n_atoms); "
            f"got x {tuple(x.shape)} and D {tuple(D.shape)}. Flatten x and pass atoms as columns."
        )
    if lam < 0 or anchor_weight < 0 or steps < 1:
        raise ValueError(f"fista needs lam >= 0, anchor_weight >= 0 and steps >= 1; got lam={lam}, "
                         f"anchor_weight={anchor_weight}, steps={steps}.")
    n_atoms = D.shape[1]
    mu = anchor_weight if anchor is not None else 0.0
    # The smooth part's gradient, (DᵀD + μI) z − (Dᵀx + μa), from the Gram matrix once.
    gram = D.T @ D
    if mu:
        gram = gram + mu * torch.eye(n_atoms, dtype=D.dtype, device=D.device)
    target = x @ D + (mu * anchor if mu else 0.0)  # (batch, n_atoms)
    step = 1.0 / (lipschitz_constant(D) + mu)
    z = torch.zeros_like(target) if z0 is None else z0.detach().clone()
    y, t = z, 1.0
    for _ in range(steps):
        z_next = soft_threshold(y - step * (y @ gram - target), lam * step)
        if accelerated:
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            y = z_next + ((t - 1.0) / t_next) * (z_next - z)
            t = t_next
        else:
            y = z_next
        moved = None if tol is None else float((z_next - z).norm())
        z = z_next
        if moved is not None and moved <= tol * float(z.norm()):
            break
    return z


def ista(x: Tensor, D: Tensor, lam: float, z0: Tensor | None = None, steps: int = 100, **kwargs
         ) -> Tensor:
    """Minimise F(z) by plain ISTA (no momentum); the arguments of :func:`fista`."""
    return fista(x, D, lam, z0, steps, accelerated=False, **kwargs)
