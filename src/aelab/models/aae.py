"""Adversarial autoencoder: a discriminator on the codes matches q(z) to a chosen prior.

Makhzani, Shlens, Jaitly, Goodfellow & Frey, *Adversarial Autoencoders* (2015). Each
batch runs three phases through the one trainer: reconstruction (encoder + decoder),
regularisation of the discriminator (prior samples vs codes), then of the encoder
as generator (fool the discriminator).
"""

import torch
from torch import Tensor

from aelab.core.validation import check_bool, check_choice, check_number, check_widths
from aelab.models.base import Autoencoder
from aelab.models.contract import Phase
from aelab.models.registry import register
from aelab.nn.adversarial import LatentCritic, critic_loss, generator_loss
from aelab.nn.priors import PRIORS


@register("aae")
class AAE(Autoencoder):
    """Deterministic encoder trained adversarially so that its codes follow ``prior``.

    Parameters
    ----------
    prior : {"gaussian", "mixture", "uniform"}, default="gaussian"
        p(z): N(0, s² I); a mixture of ``n_components`` Gaussians (means on a circle of
        radius s in the first two dimensions); or U(-s, s)^d.
    prior_scale : float, default=1.0
        s, the prior's spread.
    n_components : int, default=10
        Components of the ``mixture`` prior.
    label_prior : bool, default=False
        Label-assigned mixture (semi-supervised use): the prior sample for an example of
        class c comes from component c, and the discriminator also reads the label
        (one-hot, with an extra slot for unlabelled examples, label -1).
    disc_hidden : tuple of int, default=(256, 256)
        Hidden widths of the discriminator.
    adversarial_weight : float, default=1.0
        Weight of the encoder's adversarial (generator) term.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`; ``n_classes > 0`` makes the
        model conditional on the label, separating style (z) from class: the encoder and
        decoder read the label, and so does the discriminator, which then matches the
        codes of every class to the prior, q(z | y) = p(z), so that any z drawn from the
        prior can be decoded as any class (without it, z keeps part of the class and
        samples follow z rather than the requested label).
    """

    can_sample = True

    def __init__(self, input_shape, prior: str = "gaussian", prior_scale: float = 1.0,
                 n_components: int = 10, label_prior: bool = False, disc_hidden=(256, 256),
                 adversarial_weight: float = 1.0, **kwargs):
        owner = type(self).__name__
        self.prior = check_choice(prior, PRIORS, "prior", owner)
        self.prior_scale = check_number(prior_scale, "prior_scale", owner, low=0.0, low_inclusive=False)
        self.n_components = check_number(n_components, "n_components", owner, kind=int, low=1)
        self.label_prior = check_bool(label_prior, "label_prior", owner)
        self.disc_hidden = check_widths(disc_hidden, "disc_hidden", owner)
        self.adversarial_weight = check_number(adversarial_weight, "adversarial_weight", owner, low=0.0)
        if self.label_prior and prior != "mixture":
            raise ValueError(f"label_prior=True assigns labels to mixture components, so {owner} needs "
                             f"prior='mixture'; got prior={prior!r}.")
        super().__init__(input_shape, **kwargs)
        self.prior_dist = PRIORS[prior](self.latent_dim, self.prior_scale, self.n_components)
        # The discriminator reads the label: the prior component's (label_prior), else the class.
        label_slots = self.n_components + 1 if self.label_prior else self.n_classes
        self.discriminator = LatentCritic(self.latent_dim, self.disc_hidden, label_slots,
                                          "leaky_relu", owner)

    # ------------------------------------------------------------------ labels
    def _prior_labels(self, y: Tensor | None, n: int, device) -> Tensor | None:
        """Component labels for the label-assigned prior: y in [-1, n_components), -1 unlabelled."""
        if not self.label_prior:
            return None
        if y is None:
            return torch.full((n,), -1, dtype=torch.long, device=device)
        y = y.to(device).long().reshape(-1)
        if y.numel() and (int(y.min()) < -1 or int(y.max()) >= self.n_components):
            raise ValueError(f"label_prior needs labels in [0, {self.n_components}) or -1 (unlabelled); "
                             f"got values in [{int(y.min())}, {int(y.max())}].")
        return y

    def discriminate(self, z: Tensor, y: Tensor | None) -> Tensor:
        """Discriminator logits (batch,): high for prior samples, low for codes."""
        labels = self._prior_labels(y, z.shape[0], z.device)
        slot = None
        if labels is not None:  # unlabelled examples (-1) take the last slot
            slot = torch.where(labels >= 0, labels, torch.full_like(labels, self.n_components))
        elif self.n_classes:  # a conditional model: q(z | y) is matched to p(z) class by class
            slot = self.check_labels(y, z.shape[0]).to(z.device)
        return self.discriminator(z, slot)

    def sample_prior(self, n, y=None):
        return super().sample_prior(n, self._prior_labels(y, n, self.device))

    # ------------------------------------------------------------------ phases
    def discriminator_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        with torch.no_grad():
            z = self.encoder_output(self.scaler(x), y)
        real = self.discriminate(self.sample_prior(z.shape[0], y), y)
        return {"disc": critic_loss(real, self.discriminate(z, y))}

    def generator_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        fake = self.discriminate(self.encoder_output(self.scaler(x), y), y)
        return {"gen": self.adversarial_weight * generator_loss(fake)}

    def training_phases(self) -> list[Phase]:
        autoencoder = [p for m in (self.encoder, self.decoder) for p in m.parameters()]
        return [
            Phase("reconstruction", autoencoder, self.loss_terms),  # L(x, g(f(x))), base class
            Phase("discriminator", list(self.discriminator.parameters()), self.discriminator_terms,
                  monitor=False),
            Phase("generator", list(self.encoder.parameters()), self.generator_terms, monitor=False),
        ]
