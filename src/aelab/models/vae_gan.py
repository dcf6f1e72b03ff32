"""VAE-GAN: a VAE whose reconstruction is measured in a discriminator's features.

Larsen, Sønderby, Larochelle & Winther, *Autoencoding beyond pixels using a learned
similarity metric*, ICML 2016: p(Dis_l(x) | z) = N(Dis_l(x̃), I) replaces the pixel
likelihood, and a GAN loss on reconstructions and prior samples sharpens the decoder.
Three phases per batch (their Algorithm 1): encoder on KL + feature reconstruction;
decoder on γ·feature reconstruction + GAN; discriminator on GAN.
"""

from __future__ import annotations

import torch
from torch import Tensor

from aelab.core.losses import LIKELIHOODS
from aelab.core.validation import check_number, check_widths
from aelab.models.contract import Phase
from aelab.models.registry import register
from aelab.models.vae import VAE
from aelab.nn.adversarial import Critic, critic_loss, generator_loss


@register("vae_gan")
class VAEGAN(VAE):
    """VAE with a learned similarity: the reconstruction term lives in Dis_l's features.

    Loss terms: encoder phase (monitored) ``recon`` = -log N(Dis_l(x) | Dis_l(x̃), I)
    (summed over the layer's features, x̃ decoded from z ~ q(z|x)) and ``kl``; decoder
    phase ``dec_recon`` = γ·recon and ``gen`` = -log D(x̃) - log D(x_p), x_p decoded from
    z ~ p(z) (the non-saturating form of -L_GAN); discriminator phase ``disc`` =
    -log D(x) - log(1 - D(·)) over the reconstructions and prior samples pooled. The
    encoder receives no gradient from the GAN loss and the discriminator none from the
    reconstruction term, as in the paper.

    Parameters
    ----------
    gamma : float, default=1.0
        γ, the weight of the feature reconstruction against the GAN loss in the
        decoder's update. The paper leaves it a free parameter; the authors' CelebA code
        (``recon_vs_gan_weight``) uses 1e-6 against their own scale of features on 64×64
        faces. Not tuned here: 1 keeps reconstructions tied to their inputs on MNIST
        (see ``benchmarks/results/adversarial_mnist.md``).
    disc_hidden : tuple of int, default=(32, 64)
        The discriminator's channels (image ``input_shape``) or widths (vectors).
    feature_layer : int, default=-1
        l: which of its hidden layers is Dis_l (Python indexing; the last by default —
        the paper takes a deep convolutional layer of its discriminator).
    disc_lr_scale : float, default=0.5
        The discriminator's learning rate relative to the trainer's (the decoder and the
        discriminator also take Adam's β1 = 0.5, as adversarial players).
    **kwargs
        Passed to :class:`~aelab.models.vae.VAE` (one stochastic layer, ``objective="elbo"``).
        Not ``perceptual``: the discriminator's features already are the reconstruction's.
    """

    # Its decoder is trained for feature similarity, not for a pixel likelihood, so a
    # pixel NLL bound would mean little: it reports none.
    has_likelihood = False
    applies_perceptual = False  # its reconstruction is already in learned features

    def __init__(self, input_shape, gamma: float = 1.0, disc_hidden=(32, 64),
                 feature_layer: int = -1, disc_lr_scale: float = 0.5, **kwargs):
        owner = type(self).__name__
        self.gamma = check_number(gamma, "gamma", owner, low=0.0)
        self.disc_hidden = check_widths(disc_hidden, "disc_hidden", owner, allow_empty=False)
        self.feature_layer = check_number(feature_layer, "feature_layer", owner, kind=int,
                                          low=-len(self.disc_hidden), high=len(self.disc_hidden),
                                          high_inclusive=False)
        self.disc_lr_scale = check_number(disc_lr_scale, "disc_lr_scale", owner, low=0.0,
                                          low_inclusive=False)
        if kwargs.get("objective", "elbo") != "elbo" or kwargs.get("intermediate_dims", ()):
            raise ValueError(f"{owner} follows Larsen et al.: one stochastic layer and the ELBO's "
                             "terms; drop objective and intermediate_dims.")
        super().__init__(input_shape, **kwargs)
        self.discriminator = Critic(self.input_shape, self.disc_hidden, owner)

    def log_weights(self, x: Tensor, k: int, y: Tensor | None = None) -> Tensor:
        return super(VAE, self).log_weights(x, k, y)  # no pixel likelihood (see has_likelihood)

    def feature_nll(self, x: Tensor, k: int = 1) -> Tensor:
        return super(VAE, self).feature_nll(x, k)

    # ------------------------------------------------------------------ the three players
    def _features(self, x: Tensor) -> Tensor:
        """Dis_l of a batch in the scaled space, flattened: ``(batch, features)``."""
        return self.discriminator.features(x)[self.feature_layer].flatten(1)

    def _feature_recon(self, x: Tensor, x_tilde: Tensor) -> Tensor:
        """-log N(Dis_l(x) | Dis_l(x̃), I), summed over features, averaged over the batch."""
        return LIKELIHOODS["gaussian"].nll(self._features(x_tilde), self._features(x)).mean()

    def _decode_mean(self, z: Tensor, y: Tensor | None) -> Tensor:
        """x̃ = E[x | z] in the scaled space (what the discriminator sees)."""
        return self.lik.mean(self.decoder(self.condition(z, y)))

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """The encoder's phase: ``recon`` (in Dis_l's features) and ``kl``."""
        x = self.scaler(x)
        q = self.posterior(x, y)
        beta = self._beta_now if self.training else self.beta
        return {"recon": self._feature_recon(x, self._decode_mean(q.sample(), y)),
                "kl": beta * q.kl().mean()}

    def decoder_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """The decoder's phase: ``dec_recon`` = γ·recon and ``gen``, fooling D with x̃ and x_p."""
        x = self.scaler(x)
        with torch.no_grad():
            z = self.posterior(x, y).sample()
        x_tilde = self._decode_mean(z, y)
        x_p = self._decode_mean(self.sample_prior(x.shape[0]), y)
        fake = self.discriminator(torch.cat([x_tilde, x_p]))
        return {"dec_recon": self.gamma * self._feature_recon(x, x_tilde),
                "gen": generator_loss(fake)}

    def discriminator_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """The discriminator's phase: data against reconstructions and prior samples."""
        x = self.scaler(x)
        with torch.no_grad():
            x_tilde = self._decode_mean(self.posterior(x, y).sample(), y)
            x_p = self._decode_mean(self.sample_prior(x.shape[0]), y)
        fake = self.discriminator(torch.cat([x_tilde, x_p]))
        return {"disc": critic_loss(self.discriminator(x), fake)}

    def training_phases(self) -> list[Phase]:
        return [
            Phase("encoder", list(self.encoder.parameters()), self.loss_terms),
            Phase("decoder", list(self.decoder.parameters()), self.decoder_terms, momentum=0.5,
                  monitor=False),
            Phase("discriminator", list(self.discriminator.parameters()), self.discriminator_terms,
                  lr_scale=self.disc_lr_scale, momentum=0.5, monitor=False),
        ]
