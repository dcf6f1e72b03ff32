"""Contractive autoencoder: penalise the encoder's Jacobian, λ·‖∂f(x)/∂x‖_F².

Rifai et al., *Contractive Auto-Encoders*, ICML 2011; Goodfellow et al. (2016)
§14.7. One sigmoid layer uses the closed form Σ_j (h_j(1-h_j))² ‖W_j‖²; deeper
encoders use the exact Jacobian by vectorised autodiff.
"""

from torch import Tensor, nn

from aelab.core.losses import contractive_sigmoid, jacobian_frobenius_sq
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


@register("contractive")
class ContractiveAE(Autoencoder):
    """Autoencoder with the contractive penalty on its encoder.

    Parameters
    ----------
    contraction_weight : float, default=0.1
        λ, the weight of ‖∂f(x)/∂x‖_F² (per example, averaged over the batch).
    hidden : tuple of int, default=()
        Encoder hidden widths; ``()`` with ``code_activation="sigmoid"`` is Rifai et
        al.'s single sigmoid layer (closed-form penalty).
    code_activation : str, default="sigmoid"
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.
    """

    def __init__(self, input_shape, contraction_weight: float = 0.1, hidden=(),
                 code_activation: str = "sigmoid", **kwargs):
        owner = type(self).__name__
        self.contraction_weight = check_number(contraction_weight, "contraction_weight", owner,
                                               low=0.0)
        super().__init__(input_shape, hidden=hidden, code_activation=code_activation, **kwargs)

    def closed_form_layer(self) -> nn.Linear | None:
        """The encoder's only weight layer if the encoder is one sigmoid layer, else None."""
        maps = self.encoder.affine_maps()
        if (len(maps) == 1 and isinstance(maps[0], nn.Linear) and not self.linear
                and self.resolved_code_activation() == "sigmoid"):
            return maps[0]
        return None

    def contraction(self, x_in: Tensor, h: Tensor) -> Tensor:
        """‖∂f(x)/∂x‖_F² per example, closed form when the encoder allows it."""
        layer = self.closed_form_layer()
        if layer is not None:
            return contractive_sigmoid(h, layer.weight)
        return jacobian_frobenius_sq(self.encoder, x_in)

    def penalties(self, x_in: Tensor, h: Tensor) -> dict[str, Tensor]:
        return {"contractive": self.contraction_weight * self.contraction(x_in, h).mean()}
