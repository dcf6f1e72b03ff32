"""NASH: a variational hashing autoencoder with Bernoulli codes, trained through the
straight-through estimator, with optional data-dependent noise before the decoder.

Shen et al., *NASH: Toward End-to-End Neural Architecture for Generative Semantic
Hashing*, ACL 2018, §2–3: q(b | x) = Bernoulli(σ(f(x))), prior Bernoulli(1/2), decoder
p(x | b + σ_n ⊙ ε) a softmax over words; codes at test time are σ(f(x)) > 0.5.
"""

import torch
from torch import Tensor, nn

from aelab.core.hashing import bernoulli_kl_uniform, straight_through_bernoulli
from aelab.core.validation import check_bool, check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


@register("nash")
class NASH(Autoencoder):
    """Bernoulli-code autoencoder: recon of x from b ~ q(b | x) plus β·KL(q ‖ Bernoulli(1/2)).

    Parameters
    ----------
    beta : float, default=1.0
        Weight of the KL term (per example, summed over code units).
    data_noise : bool, default=True
        Add learned Gaussian noise σ_n ⊙ ε (one σ_n per code unit) to b before decoding
        while training (NASH's data-dependent noise, "NASH-DN").
    code_activation : {"sigmoid"} or None
        The code is always q = sigmoid(f(x)); other values are refused.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`; NASH decodes TF-IDF with a
        softmax: ``likelihood="multinomial"`` on normalised TF-IDF rows.
    """

    code_threshold = 0.5  # capability: the code is binarised at this fixed threshold
    reconstructs_y = True  # capability: y = the word rows to reconstruct (e.g. with neighbours')

    def __init__(self, input_shape, beta: float = 1.0, data_noise: bool = True,
                 code_activation: str | None = None, **kwargs):
        owner = type(self).__name__
        self.beta = check_number(beta, "beta", owner, low=0.0)
        self.data_noise = check_bool(data_noise, "data_noise", owner)
        if code_activation not in (None, "sigmoid"):
            raise ValueError(f"{owner}'s code is a Bernoulli probability, so code_activation must "
                             f"be 'sigmoid' (or left unset). Got {code_activation!r} instead.")
        super().__init__(input_shape, code_activation="sigmoid", **kwargs)
        if self.data_noise:  # log σ_n per code unit
            self.log_noise = nn.Parameter(torch.full((self.latent_dim,), -2.0))

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        x = self.scaler(x)
        q = self.encoder(x)  # (batch, latent_dim) probabilities of the bits
        if self.training:
            b = straight_through_bernoulli(q)
            if self.data_noise:
                b = b + self.log_noise.exp() * torch.randn_like(b)
        else:
            b = (q > 0.5).to(q.dtype)
        out = self.decoder(self.condition(b, y))
        return {"recon": self.lik.reconstruction_loss(out, self.reconstruction_target(x, y)).mean(),
                "kl": self.beta * bernoulli_kl_uniform(q).mean()}
