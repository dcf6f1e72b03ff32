"""Sparse autoencoder: L1, KL to a target rate ρ, or k-sparse (top-k) codes.

Ng, *Sparse autoencoder* (CS294A notes, 2011); Makhzani & Frey, *k-Sparse
Autoencoders*, ICLR 2014; Goodfellow et al. (2016) §14.2.1.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from aelab.core.losses import kl_sparsity, l1_sparsity
from aelab.core.validation import check_choice, check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register
from aelab.nn.layers import TopK


@dataclass(frozen=True)
class Penalty:
    """How one kind of sparsity acts: a term on the code, or a layer after it."""

    code_activation: str  # the default code nonlinearity
    term: Callable[[Tensor, float], Tensor] | None = None  # (h, rho) -> unweighted scalar
    layer: Callable[[int], nn.Module] | None = None  # k -> a layer applied to the code
    fixed_activation: bool = False  # the term needs exactly code_activation


PENALTIES: dict[str, Penalty] = {
    "l1": Penalty("relu", term=lambda h, rho: l1_sparsity(h).mean()),
    "kl": Penalty("sigmoid", term=kl_sparsity, fixed_activation=True),
    "topk": Penalty("linear", layer=TopK),
}


@register("sparse")
class SparseAE(Autoencoder):
    """Autoencoder with a sparsity penalty on the code h.

    Parameters
    ----------
    penalty : {"l1", "kl", "topk"}, default="l1"
        ``l1``: λ·Σ_i |h_i| (ReLU code by default). ``kl``: λ·Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the
        batch-mean activation of sigmoid code unit j. ``topk``: keep the k largest
        code units of each example, zero the rest (no penalty term).
    sparsity_weight : float, default=1e-3
        λ, the weight of the ``l1`` or ``kl`` term.
    rho : float, default=0.05
        Target mean activation ρ for ``kl``.
    k : int, default=8
        Units kept per example for ``topk`` (at most ``latent_dim``).
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`. ``code_activation``
        defaults to ``relu`` (l1), ``sigmoid`` (kl, required) or ``linear`` (topk).
    """

    def __init__(self, input_shape, penalty: str = "l1", sparsity_weight: float = 1e-3,
                 rho: float = 0.05, k: int = 8, code_activation: str | None = None, **kwargs):
        owner = type(self).__name__
        self.penalty = check_choice(penalty, PENALTIES, "penalty", owner)
        self.sparsity_weight = check_number(sparsity_weight, "sparsity_weight", owner, low=0.0)
        self.rho = check_number(rho, "rho", owner, low=0.0, high=1.0,
                                low_inclusive=False, high_inclusive=False)
        self.k = check_number(k, "k", owner, kind=int, low=1)
        rule = PENALTIES[penalty]
        if rule.fixed_activation and code_activation not in (None, rule.code_activation):
            raise ValueError(
                f"penalty={penalty!r} compares mean activations with the rate rho, so {owner} needs "
                f"code_activation={rule.code_activation!r}. Got {code_activation!r} instead."
            )
        super().__init__(input_shape, code_activation=code_activation or rule.code_activation,
                         **kwargs)
        if rule.layer is not None and self.k > self.latent_dim:
            raise ValueError(
                f"The 'k' parameter of {owner} must be at most latent_dim={self.latent_dim}. "
                f"Got {k} instead."
            )

    def code_layers(self):
        layer = PENALTIES[self.penalty].layer
        return [] if layer is None else [layer(self.k)]

    def penalties(self, x_in: Tensor, h: Tensor) -> dict[str, Tensor]:
        term = PENALTIES[self.penalty].term
        return {} if term is None else {"sparsity": self.sparsity_weight * term(h, self.rho)}
