"""Recirculation: a one-hidden-layer autoencoder trained without back-propagation.

Hinton & McClelland, *Learning representations by recirculation*, NIPS 1987 (published
1988). The update of :mod:`aelab.core.recirculation` reaches the one trainer as a gradient:
the term ``recirculation`` is zero-valued, and its gradient with respect to (W, b, V, c)
is exactly minus the update, so the optimizer steps along the update.
"""

import torch
from torch import Tensor

from aelab.core.recirculation import recirculate, recirculation_update
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


@register("recirculation")
class RecirculationAE(Autoencoder):
    """One hidden layer, y = h(Wx + b), x̂ = v(Vy + c), learned by recirculation.

    ``recon`` is the reconstruction loss of x̂ (squared error for the default linear
    visible units, cross-entropy for ``likelihood="bernoulli"``: logistic ones, the paper's),
    measured without gradient; ``recirculation`` is 0 and carries the update as its
    gradient. The optimizer's learning rate is the rule's step size.

    Parameters
    ----------
    regression : float in [0, 1), default=0.75
        λ in x(2) = λ·x(0) + (1 − λ)·v(y(1)); the paper's 0.75.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        The visible units: linear (any scaled data), or logistic as in the paper (data in
        [0, 1]); either way ΔV is the delta rule, along −∇ of this reconstruction loss.
    code_activation : str, default="sigmoid"
        The hidden units' nonlinearity h.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder` (``latent_dim`` is the number
        of hidden units). One hidden layer only: ``hidden=()``, untied, unconditional,
        ``backbone="mlp"``.

    Examples
    --------
    >>> import aelab, numpy as np
    >>> model = aelab.create("recirculation", input_shape=64, latent_dim=16, seed=0)
    >>> model.encode(np.zeros((5, 64), dtype=np.float32)).shape
    (5, 16)
    """

    def __init__(self, input_shape, regression: float = 0.75, likelihood: str = "gaussian",
                 code_activation: str = "sigmoid", hidden=(), **kwargs):
        owner = type(self).__name__
        self.regression = check_number(regression, "regression", owner, low=0.0, high=1.0,
                                       high_inclusive=False)
        for key, allowed in (("tied", False), ("n_classes", 0), ("backbone", "mlp")):
            if kwargs.get(key, allowed) != allowed:
                raise ValueError(
                    f"Recirculation learns two separate weight layers of a fully connected network, "
                    f"so {owner} needs {key}={allowed!r}. Got {key}={kwargs[key]!r} instead."
                )
        if tuple(hidden) != ():
            raise ValueError(f"{owner} has one hidden layer (the code), so it needs hidden=(). "
                             f"Got hidden={hidden!r}; set its width with latent_dim instead.")
        super().__init__(input_shape, likelihood=likelihood, code_activation=code_activation,
                         hidden=hidden, **kwargs)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        x = self.scaler(x)
        (enc,), (dec,) = self.encoder.affine_maps(), self.decoder.affine_maps()
        with torch.no_grad():
            recon = self.lik.reconstruction_loss(self.decoder(self.encoder(x)), x).mean()
            step = recirculation_update(recirculate(
                x.flatten(1), self.encoder, lambda h: self.lik.mean(self.decoder(h)).flatten(1),
                self.regression))
        # Value 0; gradient −ΔW, −Δb, −ΔV, −Δc: a descent step moves along the update.
        s = -((step.W * enc.weight).sum() + (step.b * enc.bias).sum()
              + (step.V * dec.weight).sum() + (step.c * dec.bias).sum())
        return {"recon": recon, "recirculation": s - s.detach()}
