"""Semantic hashing: a deep autoencoder with a sigmoid code pushed to binary by Gaussian
noise added before the sigmoid, its std growing during training.

Salakhutdinov & Hinton, *Semantic hashing*, Int. J. Approx. Reasoning 50 (2009), §3: the
noise makes the code units saturate, so thresholding them at 0.5 loses little.
"""

import torch
from torch import Tensor, nn

from aelab.core.hashing import saturation_noise_std
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


class NoisySigmoid(nn.Module):
    """sigmoid(a + σ·ε), ε ~ N(0, I) while training; sigmoid(a) in evaluation."""

    def __init__(self):
        super().__init__()
        self.register_buffer("std", torch.zeros(()))  # σ, set each epoch by the model

    def forward(self, a: Tensor) -> Tensor:  # a: (batch, latent_dim) pre-sigmoid code
        if self.training:
            a = a + self.std * torch.randn_like(a)
        return torch.sigmoid(a)


@register("semantic_hashing")
class SemanticHashingAE(Autoencoder):
    """Autoencoder whose code is sigmoid(a + σ_t·ε); binary codes are ``encode(x) > 0.5``.

    Parameters
    ----------
    noise_std : float, default=4.0
        σ reached at the end of the ramp (the paper adds noise of variance 16).
    noise_ramp_epochs : int, default=10
        σ_t grows linearly from 0 at epoch 0 to ``noise_std`` at this epoch
        (:func:`aelab.core.hashing.saturation_noise_std`); 0: full noise from the start.
    code_activation : {"sigmoid"} or None
        The code is always sigmoid (the noise goes before it); other values are refused.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`; for word counts use
        ``likelihood="multinomial"`` on normalised counts (the paper's softmax visible units).
    """

    code_threshold = 0.5  # capability: the code is binarised at this fixed threshold
    reconstructs_y = True  # capability: y = the word rows to reconstruct (e.g. with neighbours')

    def __init__(self, input_shape, noise_std: float = 4.0, noise_ramp_epochs: int = 10,
                 code_activation: str | None = None, **kwargs):
        owner = type(self).__name__
        self.noise_std = check_number(noise_std, "noise_std", owner, low=0.0)
        self.noise_ramp_epochs = check_number(noise_ramp_epochs, "noise_ramp_epochs", owner,
                                              kind=int, low=0)
        if code_activation not in (None, "sigmoid"):
            raise ValueError(f"{owner} adds noise before a sigmoid code, so code_activation must "
                             f"be 'sigmoid' (or left unset). Got {code_activation!r} instead.")
        super().__init__(input_shape, code_activation="sigmoid", **kwargs)

    def resolved_code_activation(self) -> str:
        return "linear"  # the sigmoid comes in the noisy code layer

    def code_layers(self) -> list[nn.Module]:
        return [NoisySigmoid()]

    def on_epoch_start(self, epoch: int) -> None:
        std = saturation_noise_std(epoch, self.noise_ramp_epochs, self.noise_std)
        self.encoder[-1].std.fill_(std)  # the NoisySigmoid of code_layers, last in the encoder
