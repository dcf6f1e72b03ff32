"""Wasserstein autoencoder, with the MMD penalty (WAE-MMD) or a latent adversary (WAE-GAN).

Tolstikhin, Bousquet, Gelly & Schölkopf, *Wasserstein Auto-Encoders*, ICLR 2018:
minimise c(x, g(f(x))) + λ·D_Z(q(z), p(z)) with a deterministic encoder and squared
error cost; D_Z is the MMD with the inverse multiquadratic kernel (Algorithm 2), or
the Jensen–Shannon divergence estimated by a discriminator in the latent space
(Algorithm 1), trained in its own phase.
"""

from torch import Tensor, no_grad

from aelab.core.losses import mmd_imq
from aelab.core.validation import check_choice, check_number, check_widths
from aelab.models.base import Autoencoder
from aelab.models.contract import Phase
from aelab.models.registry import register
from aelab.nn.adversarial import LatentCritic, critic_loss, generator_loss
from aelab.nn.priors import GaussianPrior

PENALTIES = ("mmd", "gan")


@register("wae")
class WAE(Autoencoder):
    """Deterministic autoencoder whose aggregate code distribution is matched to N(0, s² I).

    With ``penalty="gan"`` each batch runs two phases through the one trainer: the
    encoder and decoder minimise ``recon`` + ``gan`` = λ·(-log D(f(x))) (the
    non-saturating form of Algorithm 1), then the latent discriminator D minimises
    -log D(z) - log(1 - D(f(x))), z ~ p(z). The discriminator is the
    adversarial autoencoder's (:class:`aelab.nn.adversarial.LatentCritic`).

    Parameters
    ----------
    penalty : {"mmd", "gan"}, default="mmd"
        D_Z: MMD² (WAE-MMD) or a latent adversary (WAE-GAN).
    mmd_weight : float, default=10.0
        λ of the MMD² term (Tolstikhin et al. use 10 on MNIST).
    prior_scale : float, default=1.0
        s, the prior's standard deviation; the kernel scale follows it (C = 2·d·s²).
    adversarial_weight : float, default=1.0
        λ of the adversarial term (``penalty="gan"``; the paper uses 1 on MNIST).
    disc_hidden : tuple of int, default=(512, 512, 512, 512)
        Hidden widths of the latent discriminator (``penalty="gan"``): the paper's MNIST
        adversary, four fully connected layers of 512 units (ReLU there, leaky ReLU
        here as in the AAE).
    disc_lr_scale : float, default=0.5
        The discriminator's learning rate relative to the trainer's: the paper trains
        the autoencoder with Adam at 1e-3 and the adversary at 5e-4 on MNIST (β1 = 0.5,
        which both phases take here, batch 100, z in R^8).
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.

    Examples
    --------
    >>> import aelab
    >>> wae = aelab.create("wae", input_shape=64, latent_dim=8, penalty="gan", seed=0)
    >>> [phase.name for phase in wae.training_phases()]
    ['main', 'discriminator']
    """

    can_sample = True

    def __init__(self, input_shape, penalty: str = "mmd", mmd_weight: float = 10.0,
                 prior_scale: float = 1.0, adversarial_weight: float = 1.0,
                 disc_hidden=(512, 512, 512, 512), disc_lr_scale: float = 0.5, **kwargs):
        owner = type(self).__name__
        self.penalty = check_choice(penalty, PENALTIES, "penalty", owner)
        self.mmd_weight = check_number(mmd_weight, "mmd_weight", owner, low=0.0)
        self.prior_scale = check_number(prior_scale, "prior_scale", owner, low=0.0, low_inclusive=False)
        self.adversarial_weight = check_number(adversarial_weight, "adversarial_weight", owner, low=0.0)
        self.disc_hidden = check_widths(disc_hidden, "disc_hidden", owner)
        self.disc_lr_scale = check_number(disc_lr_scale, "disc_lr_scale", owner, low=0.0,
                                          low_inclusive=False)
        super().__init__(input_shape, **kwargs)
        self.prior_dist = GaussianPrior(self.latent_dim, self.prior_scale)
        self.discriminator = (LatentCritic(self.latent_dim, self.disc_hidden, owner=owner)
                              if penalty == "gan" else None)

    def penalties(self, x_in: Tensor, h: Tensor) -> dict[str, Tensor]:
        if self.discriminator is not None:
            return {"gan": self.adversarial_weight * generator_loss(self.discriminator(h))}
        z_prior = self.sample_prior(h.shape[0])
        return {"mmd": self.mmd_weight * mmd_imq(h, z_prior, scale=self.prior_scale)}

    def discriminator_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``disc``: the latent discriminator's loss, prior samples against the codes."""
        with no_grad():
            h = self.encoder_output(self.scaler(x), y)
        return {"disc": critic_loss(self.discriminator(self.sample_prior(h.shape[0])),
                                    self.discriminator(h))}

    def training_phases(self) -> list[Phase]:
        if self.discriminator is None:
            return super().training_phases()
        autoencoder = [p for m in (self.encoder, self.decoder) for p in m.parameters()]
        return [
            Phase("main", autoencoder, self.loss_terms, momentum=0.5),  # recon + λ·gan
            Phase("discriminator", list(self.discriminator.parameters()), self.discriminator_terms,
                  lr_scale=self.disc_lr_scale, momentum=0.5, monitor=False),
        ]
