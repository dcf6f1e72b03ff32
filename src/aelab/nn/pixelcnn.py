"""Masked convolutions and a small conditional PixelCNN.

van den Oord, Kalchbrenner & Kavukcuoglu, *Pixel Recurrent Neural Networks*, ICML 2016
(§3.5: masks A and B); conditioning as in van den Oord et al., *Conditional Image
Generation with PixelCNN Decoders*, NeurIPS 2016, and Gulrajani et al., *PixelVAE*, ICLR 2017.

Pixels are ordered in raster order (row by row, left to right). A type-A mask lets the
output at pixel i read the input pixels before i only; a type-B mask also lets it read
pixel i, so that layers after a first type-A layer keep the order. All channels of a
pixel share its place in the order (no mask between colour channels): given the pixels
before it, the channels of one pixel are conditionally independent.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from aelab.core.validation import check_choice, check_number

MASK_TYPES = ("A", "B")


class MaskedConv2d(nn.Conv2d):
    """A ``kernel_size``×``kernel_size`` convolution (same padding) that reads only the
    pixels before the output pixel (type ``"A"``), or those and the pixel itself (``"B"``).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    kernel_size : int
        Odd side of the square kernel.
    mask_type : {"A", "B"}
        ``"A"`` excludes the centre (the first layer over x), ``"B"`` includes it.

    Examples
    --------
    >>> import torch
    >>> conv = MaskedConv2d(1, 4, 3, "A")
    >>> conv(torch.zeros(2, 1, 5, 5)).shape
    torch.Size([2, 4, 5, 5])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str):
        owner = type(self).__name__
        self.mask_type = check_choice(mask_type, MASK_TYPES, "mask_type", owner)
        kernel_size = check_number(kernel_size, "kernel_size", owner, kind=int, low=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"The 'kernel_size' parameter of {owner} must be odd (the mask is "
                             f"centred on the output pixel). Got {kernel_size}; use e.g. 3 or 7.")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        c = kernel_size // 2
        mask = torch.ones_like(self.weight)  # (out, in, k, k)
        mask[:, :, c, c + (self.mask_type == "B"):] = 0  # the centre row: from the centre (A) or after it (B)
        mask[:, :, c + 1:] = 0  # every row below the centre
        self.register_buffer("mask", mask, persistent=False)  # derived, not saved

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class PixelCNN(nn.Module):
    """Per-pixel Bernoulli logits of an image given the pixels before each one and a context.

    ``features(x)``: a type-A ``kernel_size`` convolution, then ``n_layers`` residual
    blocks ``h + conv_B(relu(h))`` (3×3, type B); it reads x only. ``head(f, context)``:
    two 1×1 convolutions on ``relu(f + context)``, where ``context`` (``(n, channels, H,
    W)``, or broadcastable to it) carries the conditioning (a code z). The condition enters
    after the masked layers, so that many codes for one image share ``features(x)``
    (importance sampling with thousands of codes per image stays affordable); 1×1 layers
    keep the order.

    Parameters
    ----------
    in_channels : int
        Channels of the image.
    channels : int, default=32
        Width of every hidden layer.
    n_layers : int, default=3
        Type-B residual blocks after the first layer.
    kernel_size : int, default=7
        Side of the first (type-A) kernel.
    """

    def __init__(self, in_channels: int, channels: int = 32, n_layers: int = 3, kernel_size: int = 7):
        super().__init__()
        self.first = MaskedConv2d(in_channels, channels, kernel_size, "A")
        self.blocks = nn.ModuleList(MaskedConv2d(channels, channels, 3, "B") for _ in range(n_layers))
        self.hidden = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, in_channels, 1)

    def features(self, x: Tensor) -> Tensor:
        """Causal features of x, (n, channels, H, W): position i reads x_<i only."""
        h = self.first(x)
        for block in self.blocks:
            h = h + block(torch.relu(h))
        return h

    def head(self, f: Tensor, context: Tensor) -> Tensor:
        """Logits (rows, in_channels, H, W) from causal features and a context.

        ``f + context`` may broadcast to extra leading dimensions, e.g. features
        (n, channels, H, W) and contexts (k, n, channels, H, W) for k codes per image;
        they are merged into the rows (k·n).
        """
        h = torch.relu(f + context)
        h = h.flatten(0, h.dim() - 4)
        return self.out(torch.relu(self.hidden(h)))

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        return self.head(self.features(x), context)
