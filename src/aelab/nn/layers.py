"""Small layers that the backbones and models are assembled from."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from aelab.losses import top_k
from aelab.validation import check_choice

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "linear": nn.Identity,
}


def make_activation(name: str, owner: str = "the model", param: str = "activation") -> nn.Module:
    """Instantiate a registered activation by name."""
    return ACTIVATIONS[check_choice(name, ACTIVATIONS, param, owner)]()


class TiedLinear(nn.Module):
    """A decoder layer that reuses an encoder layer's weight, transposed: y = W^T x + c.

    The weight is *shared storage*, not a copy; only the bias ``c`` is new. The
    source layer is held outside the module tree so it is saved once, by its owner.
    """

    def __init__(self, source: nn.Linear):
        super().__init__()
        self._source = (source,)  # a tuple hides it from nn.Module registration
        self.bias = nn.Parameter(torch.zeros(source.in_features))

    @property
    def weight(self) -> Tensor:
        return self._source[0].weight

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.linear(x, self.weight.t(), self.bias)


class TiedConvTranspose2d(nn.Module):
    """A transposed convolution that reuses an encoder convolution's kernel (shared storage).

    ``conv_transpose2d`` with the source's weight is the adjoint of the convolution: the
    convolutional analogue of :class:`TiedLinear`. Only the bias is new.
    """

    def __init__(self, source: nn.Conv2d, output_padding=(0, 0)):
        super().__init__()
        self._source = (source,)  # hidden from registration, saved once by its owner
        self.output_padding = tuple(output_padding)
        self.bias = nn.Parameter(torch.zeros(source.in_channels))

    @property
    def weight(self) -> Tensor:
        return self._source[0].weight

    def forward(self, x: Tensor) -> Tensor:
        src = self._source[0]
        return nn.functional.conv_transpose2d(x, self.weight, self.bias, stride=src.stride,
                                              padding=src.padding,
                                              output_padding=self.output_padding)


class TopK(nn.Module):
    """k-sparse code: keep the k largest units of each example (Makhzani & Frey 2014)."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, h: Tensor) -> Tensor:
        return top_k(h, self.k)

    def extra_repr(self) -> str:
        return f"k={self.k}"


class Scaler(nn.Module):
    """Per-feature affine preprocessing x' = (x - shift) / scale, fitted on training data.

    kinds: ``none`` (identity), ``standard`` (mean / std), ``minmax`` (min / range).
    Constant features get scale 1. The fitted statistics travel in ``config.json``.
    """

    KINDS = ("none", "standard", "minmax")

    def __init__(self, n_features: int, kind: str = "none"):
        super().__init__()
        self.kind = check_choice(kind, self.KINDS, "preprocess", "Scaler")
        # Not in the state dict: the statistics are saved in config.json.
        self.register_buffer("shift", torch.zeros(n_features), persistent=False)
        self.register_buffer("scale", torch.ones(n_features), persistent=False)
        self.fitted = kind == "none"

    def fit(self, batches) -> Scaler:
        """Fit on an iterable of (batch, ...) tensors, streaming (one pass)."""
        count, total, total_sq = 0, 0.0, 0.0
        lo, hi = None, None
        for x in batches:
            x = x.detach().flatten(1).double()
            count += x.shape[0]
            total = total + x.sum(0)
            total_sq = total_sq + x.pow(2).sum(0)
            lo = x.min(0).values if lo is None else torch.minimum(lo, x.min(0).values)
            hi = x.max(0).values if hi is None else torch.maximum(hi, x.max(0).values)
        if count == 0:
            raise ValueError("Cannot fit preprocessing statistics on empty data.")
        if self.kind == "standard":
            mean = total / count
            std = (total_sq / count - mean.pow(2)).clamp_min(0).sqrt()
            shift, scale = mean, std
        elif self.kind == "minmax":
            shift, scale = lo, hi - lo
        else:
            shift, scale = torch.zeros_like(lo), torch.ones_like(lo)
        scale = torch.where(scale > 1e-12, scale, torch.ones_like(scale))
        self.shift.copy_(shift.float())
        self.scale.copy_(scale.float())
        self.fitted = True
        return self

    def forward(self, x: Tensor) -> Tensor:
        if self.kind == "none":
            return x
        shape = x.shape
        return ((x.flatten(1) - self.shift) / self.scale).reshape(shape)

    def inverse(self, x: Tensor) -> Tensor:
        if self.kind == "none":
            return x
        shape = x.shape
        return (x.flatten(1) * self.scale + self.shift).reshape(shape)

    def log_abs_det(self) -> float:
        """log |det ∂x'/∂x| = -Σ log scale: converts a density of x' into one of x."""
        if self.kind == "none":
            return 0.0
        return float(-torch.log(self.scale.double()).sum())

    def to_config(self) -> dict:
        return {
            "kind": self.kind,
            "shift": self.shift.tolist(),
            "scale": self.scale.tolist(),
        }

    def load_config(self, cfg: dict) -> None:
        self.kind = check_choice(cfg["kind"], self.KINDS, "preprocess", "Scaler")
        self.shift.copy_(torch.as_tensor(np.asarray(cfg["shift"], dtype=np.float32)))
        self.scale.copy_(torch.as_tensor(np.asarray(cfg["scale"], dtype=np.float32)))
        self.fitted = True
