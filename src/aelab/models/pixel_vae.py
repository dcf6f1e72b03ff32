"""PixelVAE: a VAE whose decoder is an autoregressive PixelCNN conditioned on z.

Gulrajani et al., *PixelVAE: A Latent Variable Model for Natural Images*, ICLR 2017;
masked convolutions from van den Oord et al., *Pixel Recurrent Neural Networks*, ICML 2016.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from aelab.core.distributions import DiagonalGaussian
from aelab.core.seeding import seeded
from aelab.core.validation import check_number
from aelab.models.registry import register
from aelab.models.vae import VAE
from aelab.nn.layers import evaluating
from aelab.nn.pixelcnn import PixelCNN


@register("pixel_vae")
class PixelVAE(VAE):
    """VAE with p(x|z) = Π_i Bernoulli(x_i | x_<i, z), pixels in raster order.

    The encoder q(z|x) is the VAE's (``backbone="mlp"`` or ``"conv"``). The backbone's
    decoder maps z to a map of the image's shape (as in a VAE); a masked PixelCNN reads
    x, and the logit of pixel i is a 1×1 head over its causal features of x_<i plus a
    context from z: a 1×1 convolution of the decoder's map and a linear map of z (the
    code, with the one-hot label of a conditional model). Loss terms, ``log_weights``
    and ``feature_nll`` are the VAE's, with this decoder's exact -log p(x|z).

    What the maps return (probabilities, data space):

    - ``reconstruct(x)``: p(x_i = 1 | x_<i, z = E_q[z|x]), teacher-forced with x's own
      pixels (one pass).
    - ``decode(z)``: the mean of p(x|z) needs sampling, so ``decode`` runs a greedy pass
      instead: pixel by pixel, each pixel takes its more probable value given those chosen
      before it; it returns p(x_i = 1 | those earlier values, z). Deterministic; H·W passes.
    - ``sample(n)``: z ~ p(z), then x ~ p(x|z) pixel by pixel (H·W passes, all n at once).

    Parameters
    ----------
    input_shape : int or tuple of int
        ``(channels, height, width)``, e.g. ``(1, 28, 28)``; ``(height, width)`` is one
        channel, and ``n_features`` is read as a ``(1, 1, n_features)`` image (an
        autoregressive model over the features in their order).
    channels : int, default=32
        Width of the PixelCNN's layers.
    n_layers : int, default=3
        Type-B residual blocks after the first (type-A) masked convolution.
    kernel_size : int, default=7
        Side of the first masked kernel.
    likelihood : {"bernoulli"}, default="bernoulli"
        Only a Bernoulli decoder is implemented: the data should be binary (a proper
        distribution over {0, 1}^d); values in [0, 1] are read as soft targets.
    **kwargs
        Passed to :class:`~aelab.models.vae.VAE` (``latent_dim``, ``hidden``, ``beta``,
        ``objective``, ``k``, ``backbone``...).

    Examples
    --------
    >>> import aelab, numpy as np
    >>> model = aelab.create("pixel_vae", input_shape=(1, 3, 4), latent_dim=2, hidden=(8,),
    ...                      channels=4, n_layers=1, kernel_size=3, seed=0)
    >>> model.sample(2, seed=0, mean=False).shape
    (2, 1, 3, 4)
    """

    # The ``perceptual`` option compares a decoder output with x; this decoder's output is
    # a distribution over x given x_<i, not a reconstruction, so the option is refused.
    applies_perceptual = False

    def __init__(self, input_shape, channels: int = 32, n_layers: int = 3, kernel_size: int = 7,
                 likelihood: str = "bernoulli", **kwargs):
        owner = type(self).__name__
        if likelihood != "bernoulli":
            raise ValueError(f"{owner} has a Bernoulli PixelCNN decoder: likelihood must be "
                             f"'bernoulli' (binarised data). Got {likelihood!r}; binarise the data "
                             "(aelab.data.binarize) or use the 'vae' model for a Gaussian decoder.")
        self.channels = check_number(channels, "channels", owner, kind=int, low=1)
        self.n_layers = check_number(n_layers, "n_layers", owner, kind=int, low=0)
        # Odd: checked by the masked convolution.
        self.kernel_size = check_number(kernel_size, "kernel_size", owner, kind=int, low=1)
        super().__init__(input_shape, likelihood=likelihood, **kwargs)
        # The layout the PixelCNN reads, (channels, height, width).
        self.image_shape = (1, 1, 1, *self.input_shape)[-3:]
        if len(self.input_shape) > 3:
            raise ValueError(f"{owner} models images: input_shape must be (channels, height, width), "
                             f"(height, width) or n_features, e.g. (1, 28, 28). Got {self.input_shape}.")
        c = self.image_shape[0]
        self.pixelcnn = PixelCNN(c, self.channels, self.n_layers, kernel_size)
        self.context_map = nn.Conv2d(c, self.channels, 1)  # the backbone decoder's map, per pixel
        self.context_vec = nn.Linear(self.decoder_in_dim() + self.n_classes, self.channels)

    # ------------------------------------------------------------------ the decoder
    def _context(self, z1: Tensor, y: Tensor | None) -> Tensor:
        """What the PixelCNN head reads from the bottom code z_1: (n, channels, H, W)."""
        h = self.condition(z1, y)
        decoded = self.decoder(h).reshape(-1, *self.image_shape)
        return self.context_map(decoded) + self.context_vec(h)[:, :, None, None]

    def _feature_nll(self, z1: Tensor, x: Tensor, y: Tensor | None, k: int) -> Tensor:
        """-log p(x_i | x_<i, z_1) per pixel for k draws z_1 per example: (k·batch, n_features)."""
        x = x.reshape(-1, *self.image_shape)
        n = x.shape[0]
        f = self.pixelcnn.features(x)  # (n, channels, H, W), shared by the k draws
        if k > 1:
            y = None if y is None else y.repeat(k)
        context = self._context(z1, y).reshape(k, n, *f.shape[1:])
        logits = self.pixelcnn.head(f, context)  # (k·n, *image_shape)
        return self.lik.feature_nll(logits, x.repeat(k, 1, 1, 1))

    def _bottom_code(self, z: Tensor, sample: bool) -> Tensor:
        """z_1 from the top code: the intermediate layers' means, or draws if ``sample``."""
        for down in reversed(self.down):
            p = DiagonalGaussian.from_params(down(z))
            z = p.sample() if sample else p.mu
        return z

    def _generate(self, context: Tensor, draw: bool) -> tuple[Tensor, Tensor]:
        """Fill the image pixel by pixel: x_i ~ Bernoulli (``draw``) or its more probable value.

        Returns the pixels and the logits they were chosen from, each (n, *image_shape).
        Only rows up to the current one are computed: the masks make them independent of
        the rows below.
        """
        n, (c, height, width) = context.shape[0], self.image_shape
        x = context.new_zeros(n, c, height, width)
        logits = torch.zeros_like(x)
        for r in range(height):
            for col in range(width):
                out = self.pixelcnn(x[:, :, : r + 1], context[:, :, : r + 1])[:, :, r, col]
                logits[:, :, r, col] = out
                x[:, :, r, col] = torch.bernoulli(torch.sigmoid(out)) if draw else (out > 0).to(x.dtype)
        return x, logits

    def decoder_output(self, z, y=None, sample=False):
        """Logits along the greedy pixel-by-pixel pass for top codes ``z`` (see class doc)."""
        z1 = self._bottom_code(z, sample)
        return self._generate(self._context(z1, y), draw=False)[1].reshape(-1, *self.input_shape)

    def _teacher_forced(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """p(x_i = 1 | x_<i, E_q[z_1|x]) for a raw batch, in data space."""
        x = self.scaler(x).reshape(-1, *self.image_shape)
        logits = self.pixelcnn(x, self._context(self.posterior(x, y).mu, y))
        return self.scaler.inverse(torch.sigmoid(logits))

    # ------------------------------------------------------------------ public API
    def reconstruct(self, x, y=None, batch_size: int = 1024):
        """p(x_i = 1 | x_<i, z = E_q[z|x]) for each pixel, teacher-forced with x's own pixels."""
        return self._map_batches(self._teacher_forced, x, batch_size, self.input_shape,
                                 "reconstruct", y)

    def sample(self, n: int, seed: int | None = None, y=None, mean: bool = True) -> np.ndarray:
        """Draw ``n`` images: z ~ p(z), then x ~ p(x|z) pixel by pixel.

        Parameters
        ----------
        n : int
            Number of samples.
        seed : int, optional
            Seeds the draw (the global RNG is left as it was).
        y : int or array-like of int, optional
            Class label(s) for a conditional model (one for all, or one per sample).
        mean : bool, default=True
            Return p(x_i = 1 | x_<i, z), the probabilities each drawn pixel came from,
            rather than the binary draws x.

        Returns
        -------
        ndarray of shape (n, *input_shape)
        """
        n = check_number(n, "n", f"{type(self).__name__}.sample", kind=int, low=1)
        labels = None
        if self.n_classes:
            labels = self.check_labels(None if y is None else np.broadcast_to(np.asarray(y), (n,)), n)
        dev = self.device
        with seeded(seed, dev), evaluating(self):
            lab = None if labels is None else labels.to(dev)
            z1 = self._bottom_code(self.sample_prior(n, lab), sample=True)
            x, logits = self._generate(self._context(z1, lab), draw=True)
        out = (torch.sigmoid(logits) if mean else x).reshape(n, *self.input_shape)
        return self.scaler.inverse(out).cpu().numpy()
