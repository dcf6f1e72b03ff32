"""A small convolutional classifier: the feature network of aelab's sample-quality metric
and of the perceptual (feature-matching) loss.

LeCun et al., *Gradient-based learning applied to document recognition*, Proc. IEEE 86
(1998): blocks of convolution → ReLU → 2×2 max-pooling, then a fully connected hidden
layer and a softmax layer, trained with cross-entropy. Its penultimate layer plays the
part Inception's pool features play in the FID of Heusel et al. (2017) for images too
small for Inception (see :mod:`aelab.applications.sample_quality`). Not an
autoencoder, so not in the ``MODELS`` registry; ``aelab.load`` (or
:meth:`ConvClassifier.load`) reads it back.
"""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor, nn

from aelab.core.validation import check_number, check_shape, check_widths
from aelab.models.contract import Phase
from aelab.models.registry import register_saved_kind
from aelab.models.softmax import SoftmaxClassifier


@register_saved_kind("conv_classifier")
class ConvClassifier(SoftmaxClassifier):
    """Convolutional blocks, a hidden layer (the features) and a softmax layer.

    Inputs are raw pixels in [0, 1]; the network centres them itself (``2x - 1``), so it
    has no fitted state and its features mean the same for every caller.

    Parameters
    ----------
    input_shape : tuple of int, default=(1, 28, 28)
        ``(channels, height, width)`` of one image; each side must be at least
        ``2 ** len(channels)`` (every block halves it).
    n_classes : int, default=10
        Number of classes; labels are integers in ``[0, n_classes)``.
    channels : tuple of int, default=(32, 64)
        Output channels of each block (3×3 convolution, ReLU, 2×2 max-pooling).
    hidden : int, default=128
        Width of the penultimate (feature) layer.
    dropout : float in [0, 1), default=0.25
        Dropout on the features before the softmax layer, while training.

    Examples
    --------
    >>> import numpy as np
    >>> from aelab.models.conv_classifier import ConvClassifier
    >>> net = ConvClassifier(input_shape=(1, 8, 8), channels=(4,), hidden=16)
    >>> net.predict_proba(np.zeros((3, 64), dtype=np.float32)).shape
    (3, 10)
    """

    def __init__(self, input_shape=(1, 28, 28), n_classes: int = 10, channels=(32, 64),
                 hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        owner = type(self).__name__
        self.input_shape = check_shape(input_shape, "input_shape", owner)
        self.n_classes = check_number(n_classes, "n_classes", owner, kind=int, low=2)
        self.channels = check_widths(channels, "channels", owner, allow_empty=False)
        self.hidden = check_number(hidden, "hidden", owner, kind=int, low=1)
        self.dropout = check_number(dropout, "dropout", owner, low=0.0, high=1.0,
                                    high_inclusive=False)
        smallest = 2 ** len(self.channels)
        if len(self.input_shape) != 3 or min(self.input_shape[1:]) < smallest:
            raise ValueError(
                f"The 'input_shape' parameter of {owner} must be (channels, height, width) with "
                f"height and width >= {smallest} (each of the {len(self.channels)} blocks halves "
                f"them). Got {self.input_shape!r} instead; use fewer channels or larger images."
            )
        c_in, height, width = self.input_shape
        blocks = []
        for c_out in self.channels:
            blocks.append(nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                                        nn.MaxPool2d(2)))
            c_in, height, width = c_out, height // 2, width // 2
        self.blocks = nn.ModuleList(blocks)
        # flattened last block (n, c·h·w) → features (n, hidden)
        self.penultimate = nn.Sequential(nn.Flatten(), nn.Linear(c_in * height * width, self.hidden),
                                         nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(self.dropout), nn.Linear(self.hidden, self.n_classes))

    # ------------------------------------------------------------------ features
    def feature_maps(self, x: Tensor) -> list[Tensor]:
        """The output of each convolutional block, then the penultimate features.

        Parameters
        ----------
        x : Tensor
            Raw pixels in [0, 1], shape ``(n, *input_shape)`` or ``(n, prod(input_shape))``.

        Returns
        -------
        list of Tensor
            ``len(channels)`` maps of shape ``(n, channels[i], h_i, w_i)``, then the
            features ``(n, hidden)``. Differentiable with respect to ``x``.
        """
        h = self._images(x) * 2.0 - 1.0
        maps = []
        for block in self.blocks:
            h = block(h)
            maps.append(h)
        maps.append(self.penultimate(h))
        return maps

    def features(self, x: Tensor) -> Tensor:
        """The penultimate features of raw pixels ``x``, shape ``(n, hidden)``."""
        return self.feature_maps(x)[-1]

    def logits(self, x: Tensor) -> Tensor:
        """Unnormalised log-probabilities of raw pixels ``x``, shape ``(n, n_classes)``."""
        return self.head(self.features(x))

    def _images(self, x: Tensor) -> Tensor:
        """``x`` as a batch of images ``(n, *input_shape)`` (flat rows are reshaped)."""
        if tuple(x.shape[1:]) == self.input_shape:
            return x
        if x.ndim >= 2 and math.prod(x.shape[1:]) == math.prod(self.input_shape):
            return x.reshape(x.shape[0], *self.input_shape)
        raise ValueError(
            f"{type(self).__name__} expects images of shape (n, {', '.join(map(str, self.input_shape))}) "
            f"or flat rows (n, {math.prod(self.input_shape)}); got a tensor of shape "
            f"{tuple(x.shape)}. Reshape the input, or build the network with the right input_shape."
        )

    # ------------------------------------------------------------------ what the trainer calls
    def training_phases(self) -> list[Phase]:
        """One phase: every parameter, stepped on ``ce``."""
        return [Phase("main", list(self.parameters()), self.loss_terms)]

    def prepare_training(self, batches) -> None:
        """Check that the training pixels lie in [0, 1] (nothing is fitted)."""
        for x in batches():
            lo, hi = float(x.min()), float(x.max())
            if lo < 0.0 or hi > 1.0:
                raise ValueError(
                    f"{type(self).__name__} reads raw pixels in [0, 1]; the training data hold "
                    f"values in [{lo:.3g}, {hi:.3g}]. Divide 8-bit images by 255."
                )

    # ------------------------------------------------------------------ public API
    def transform(self, X, batch_size: int = 1024) -> np.ndarray:
        """The penultimate features of ``X`` as a float64 array, shape ``(n, hidden)``."""
        x = self.as_input(X, what="transform")
        return self.batched(lambda xb, _: self.features(xb), x, batch_size).cpu().numpy().astype(
            np.float64)


