"""Recirculation: a one-hidden-layer autoencoder's learning rule without back-propagation.

Hinton & McClelland, *Learning representations by recirculation*, NIPS 1987 (published
1988). The activity goes round the loop twice,

    y(1) = h(x(0)),   x(2) = λ·x(0) + (1 − λ)·v(y(1)),   y(3) = h(x(2)),

h the hidden layer (σ(Wx + b)), v the visible layer (σ(Vy + c)) and λ the *regression*
that keeps x(2) near x(0). Each layer then learns from the difference of its own two
activities, with its own input at the time:

    ΔV = (x(0) − x(2)) y(1)ᵀ,   Δc = x(0) − x(2),
    ΔW = (y(1) − y(3)) x(2)ᵀ,   Δb = y(1) − y(3),

averaged over the batch (the learning rate is the optimizer's). ΔV is the delta rule, so
the negative gradient of the visible layer's own loss up to the factor (1 − λ); ΔW
approximates back-propagation when W ≈ Vᵀ and λ is near 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class RecirculationPass:
    """The four activities of one recirculation, each ``(batch, width)``."""

    x0: Tensor  # the data, visible units at time 0
    y1: Tensor  # hidden units at time 1
    x2: Tensor  # visible units at time 2: λ·x0 + (1 − λ)·v(y1)
    y3: Tensor  # hidden units at time 3


@dataclass(frozen=True)
class RecirculationUpdate:
    """The recirculation update (a direction to step along, not a gradient), batch means."""

    W: Tensor  # (n_hidden, n_visible): hidden weights
    b: Tensor  # (n_hidden,): hidden biases
    V: Tensor  # (n_visible, n_hidden): visible weights
    c: Tensor  # (n_visible,): visible biases


def recirculate(x: Tensor, hidden: Callable[[Tensor], Tensor], visible: Callable[[Tensor], Tensor],
                regression: float) -> RecirculationPass:
    """Run the loop x(0) → y(1) → x(2) → y(3) for a batch ``x`` ``(batch, n_visible)``.

    ``hidden`` maps visible activities to hidden ones, ``visible`` hidden to visible ones
    (flat, ``(batch, n_visible)``); ``regression`` is λ in [0, 1).
    """
    if not 0.0 <= regression < 1.0:
        raise ValueError(f"recirculate needs regression (λ) in [0, 1); got {regression}. At λ = 1 "
                         "the visible units never move and nothing is learned.")
    y1 = hidden(x)
    x2 = regression * x + (1.0 - regression) * visible(y1)
    return RecirculationPass(x0=x, y1=y1, x2=x2, y3=hidden(x2))


def recirculation_update(p: RecirculationPass) -> RecirculationUpdate:
    """ΔW, Δb, ΔV, Δc of the module docstring for one pass, averaged over the batch."""
    n = p.x0.shape[0]
    dx, dy = p.x0 - p.x2, p.y1 - p.y3  # (batch, n_visible), (batch, n_hidden)
    return RecirculationUpdate(W=dy.T @ p.x2 / n, b=dy.mean(0), V=dx.T @ p.y1 / n, c=dx.mean(0))
