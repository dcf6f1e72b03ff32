"""Reconstruction contractive autoencoder: penalise the Jacobian of the whole reconstruction,
λ·‖∂r(x)/∂x‖_F².

Alain & Bengio, *What regularized auto-encoders learn from the data-generating
distribution*, JMLR 15 (2014), §3: at the optimum r(x) − x = λ ∂log p(x)/∂x + o(λ), so
(r(x) − x)/λ estimates the score of the data density — the contractive counterpart of a
denoising autoencoder's σ². At a finite λ it is the score of the density smoothed by
N(0, λI) (exactly so for Gaussian data, whose optimum is r(x) = Σ(Σ + λI)⁻¹x), as a DAE's
is that of p_σ. (``contractive`` penalises the encoder's Jacobian instead, after Rifai et
al. 2011.)
"""

from torch import Tensor

from aelab.core.losses import jacobian_frobenius_sq
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


@register("rcae")
class ReconstructionContractiveAE(Autoencoder):
    """Squared error plus λ·‖∂r(x)/∂x‖_F², r the mean reconstruction in the scaled space.

    Parameters
    ----------
    contraction_weight : float, default=0.1
        λ (per example, averaged over the batch). The exact Jacobian costs one backward
        pass per input feature: meant for low-dimensional data.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.
    """

    def __init__(self, input_shape, contraction_weight: float = 0.1, **kwargs):
        self.contraction_weight = check_number(contraction_weight, "contraction_weight",
                                               type(self).__name__, low=0.0)
        super().__init__(input_shape, **kwargs)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        terms = super().loss_terms(x, y)

        def reconstruct(t: Tensor) -> Tensor:  # the mean reconstruction of a scaled batch
            return self.lik.mean(self.decoder(self.condition(self.encoder_output(t, y), y)))

        jacobian = jacobian_frobenius_sq(reconstruct, self.scaler(x))
        return {**terms, "contractive": self.contraction_weight * jacobian.mean()}
