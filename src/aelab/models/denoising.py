"""Denoising autoencoder: reconstruct x from a corrupted x̃ ~ C(x̃ | x).

Vincent et al., *Stacked Denoising Autoencoders*, JMLR 11 (2010); Goodfellow et
al. (2016) §14.2.2. Corruption is applied only while training.
"""

import torch
from torch import Tensor

from aelab.core.corruption import CORRUPTIONS
from aelab.core.validation import check_choice, check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


@register("denoising")
class DenoisingAE(Autoencoder):
    """Minimises L(x, g(f(x̃))) with x̃ a corrupted copy of x.

    Parameters
    ----------
    corruption : {"gaussian", "masking", "salt_pepper"}, default="masking"
        ``gaussian``: x̃ = x + N(0, σ²); ``masking``: a fraction ν of features set to 0;
        ``salt_pepper``: a fraction ν set to the feature's training min or max, half each.
    noise : float, default=0.25
        σ for ``gaussian`` (in the scaled input space), ν for the other two.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.
    """

    def __init__(self, input_shape, corruption: str = "masking", noise: float = 0.25, **kwargs):
        owner = type(self).__name__
        self.corruption = check_choice(corruption, CORRUPTIONS, "corruption", owner)
        self.noise = check_number(noise, "noise", owner, low=0.0,
                                  high=CORRUPTIONS[corruption].max_level)
        super().__init__(input_shape, **kwargs)
        # Per-feature range of the (scaled) training data, for salt-and-pepper.
        self.register_buffer("feature_min", torch.zeros(self.n_features))
        self.register_buffer("feature_max", torch.ones(self.n_features))

    def fit_preprocessing(self, batches):
        super().fit_preprocessing(batches)
        lo = hi = None
        for x in batches():
            x = self.scaler(x).flatten(1)
            lo = x.min(0).values if lo is None else torch.minimum(lo, x.min(0).values)
            hi = x.max(0).values if hi is None else torch.maximum(hi, x.max(0).values)
        self.feature_min.copy_(lo)
        self.feature_max.copy_(hi)

    def corrupt(self, x: Tensor) -> Tensor:
        apply = CORRUPTIONS[self.corruption].apply
        return apply(x.flatten(1), self.noise, self.feature_min, self.feature_max).reshape(x.shape)
