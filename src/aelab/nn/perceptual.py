"""Feature-perceptual reconstruction loss: the distance between x and x̂ in the features of a
FIXED network.

Hou, Shen, Sun & Qiu, *Deep Feature Consistent Variational Autoencoder* (DFC-VAE), WACV
2017: L_rec = Σ_l 1/(C_l H_l W_l) ‖Φ_l(x) - Φ_l(x̂)‖², with Φ_l the activations of
layers relu1_1, relu2_1, relu3_1 of a pretrained VGG-19 (weights that cannot be
downloaded here: aelab uses a network the user trained, e.g. the MNIST
:class:`~aelab.models.conv_classifier.ConvClassifier`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FeatureLoss(nn.Module):
    """Σ over chosen layers of the mean squared feature difference, per example.

    The network is frozen: its parameters never require gradients and it always runs in
    eval mode (``train()`` leaves it in eval), so no phase trains it and dropout or batch
    statistics never move it; gradients still flow through it to x̂.

    Parameters
    ----------
    network : nn.Module
        Any module with ``feature_maps(x) -> list[Tensor]`` on raw inputs.
    layers : tuple of int
        Indices into ``feature_maps``'s list.
    """

    def __init__(self, network: nn.Module, layers: tuple[int, ...]):
        super().__init__()
        self.network = network.requires_grad_(False).eval()
        self.layers = tuple(layers)

    def train(self, mode: bool = True) -> FeatureLoss:
        return super().train(False)  # a fixed network: always in eval mode

    def forward(self, x: Tensor, x_hat: Tensor) -> Tensor:
        """Σ_l mean_features (Φ_l(x) - Φ_l(x̂))² for raw batches, shape ``(batch,)``."""
        with torch.no_grad():
            target = self.network.feature_maps(x)
        maps = self.network.feature_maps(x_hat)
        return sum((maps[i] - target[i]).pow(2).flatten(1).mean(1) for i in self.layers)
