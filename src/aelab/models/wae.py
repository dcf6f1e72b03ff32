"""Wasserstein autoencoder with the MMD penalty (WAE-MMD).

Tolstikhin, Bousquet, Gelly & Schölkopf, *Wasserstein Auto-Encoders*, ICLR 2018:
minimise c(x, g(f(x))) + λ·MMD(q(z), p(z)) with a deterministic encoder, squared
error cost and the inverse multiquadratic kernel.
"""

from torch import Tensor

from aelab.core.losses import mmd_imq
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register
from aelab.nn.priors import GaussianPrior


@register("wae")
class WAE(Autoencoder):
    """Deterministic autoencoder whose aggregate code distribution is matched to N(0, s² I) by MMD.

    Parameters
    ----------
    mmd_weight : float, default=10.0
        λ, the weight of the MMD² term (Tolstikhin et al. use 10 on MNIST).
    prior_scale : float, default=1.0
        s, the prior's standard deviation; the kernel scale follows it (C = 2·d·s²).
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.
    """

    can_sample = True

    def __init__(self, input_shape, mmd_weight: float = 10.0, prior_scale: float = 1.0, **kwargs):
        owner = type(self).__name__
        self.mmd_weight = check_number(mmd_weight, "mmd_weight", owner, low=0.0)
        self.prior_scale = check_number(prior_scale, "prior_scale", owner, low=0.0, low_inclusive=False)
        super().__init__(input_shape, **kwargs)
        self.prior_dist = GaussianPrior(self.latent_dim, self.prior_scale)

    def penalties(self, x_in: Tensor, h: Tensor) -> dict[str, Tensor]:
        z_prior = self.sample_prior(h.shape[0])
        return {"mmd": self.mmd_weight * mmd_imq(h, z_prior, scale=self.prior_scale)}
