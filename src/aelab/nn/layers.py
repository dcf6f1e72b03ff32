"""Small layers that the backbones and models are assembled from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from aelab.core.scaling import SCALINGS, fit_auto_scaling, fit_scaling
from aelab.core.validation import check_choice

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "softshrink": nn.Softshrink,  # soft threshold at ±0.5: exact zeros (a lasso's proximal map)
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
    """k-sparse code: keep the k largest units of each example, zero the rest.

    Gradients flow through the kept units only (Makhzani & Frey, *k-Sparse
    Autoencoders*, ICLR 2014).
    """

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, h: Tensor) -> Tensor:  # h: (batch, units)
        if self.k >= h.shape[1]:
            return h
        idx = h.topk(self.k, dim=1).indices
        mask = torch.zeros_like(h).scatter_(1, idx, 1.0)
        return h * mask

    def extra_repr(self) -> str:
        return f"k={self.k}"


class Scaler(nn.Module):
    """Per-feature affine preprocessing x' = (x - shift) / scale, fitted on training data.

    Parameters
    ----------
    n_features : int
    kind : str, default="none"
        A name in :data:`aelab.core.scaling.SCALINGS` (``none``, ``standard``, ``minmax``,
        ``robust``) or ``auto``: ``none`` if the training data lie in [0, 1], else
        ``auto_kind``.
    auto_kind : str, default="standard"
        What ``auto`` becomes for data outside [0, 1].

    The fitted statistics and the kind fitted are buffers: they travel in the state dict
    (safetensors), not in the config.
    """

    KINDS = ("auto", *SCALINGS)
    FITTED_KINDS = tuple(SCALINGS)  # saved as an index into this tuple: append only

    def __init__(self, n_features: int, kind: str = "none", auto_kind: str = "standard",
                 owner: str = "Scaler"):
        super().__init__()
        self.kind = check_choice(kind, self.KINDS, "preprocess", owner)
        self.auto_kind = check_choice(auto_kind, SCALINGS, "auto_kind", owner)
        self.register_buffer("shift", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        unfitted = self.FITTED_KINDS.index("none") if kind == "none" else -1
        self.register_buffer("fitted_index", torch.tensor(unfitted, dtype=torch.int64))

    @property
    def is_fitted(self) -> bool:
        return int(self.fitted_index) >= 0

    @property
    def fitted_kind(self) -> str | None:
        """The scaling fitted (``auto`` resolved), or None before fitting."""
        return self.FITTED_KINDS[int(self.fitted_index)] if self.is_fitted else None

    def fit(self, batches: Callable[[], Iterator[Tensor]] | Iterable[Tensor]) -> Scaler:
        """Fit on batches ``(n, ...)``: an iterable, or a callable returning a fresh iterator
        (read once; ``auto`` with ``auto_kind="robust"`` reads it twice: its range, then
        the values)."""
        again = batches if callable(batches) else (lambda saved=list(batches): iter(saved))
        kind = self.kind
        if kind == "auto":
            kind, shift, scale = fit_auto_scaling(self.auto_kind, again)
        else:
            shift, scale = fit_scaling(kind, again())
        self.shift.copy_(shift.float())
        self.scale.copy_(scale.float())
        self.fitted_index.fill_(self.FITTED_KINDS.index(kind))
        return self

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        return ((x.flatten(1) - self.shift) / self.scale).reshape(shape)

    def inverse(self, x: Tensor) -> Tensor:
        shape = x.shape
        return (x.flatten(1) * self.scale + self.shift).reshape(shape)

    def log_abs_det(self) -> float:
        """log |det ∂x'/∂x| = -Σ log scale: converts a density of x' into one of x."""
        return float(-torch.log(self.scale.double()).sum())


class GaussianMean(nn.Module):
    """The mean half of a Gaussian's parameters ``(batch, 2·d)`` → ``(batch, d)``."""

    def forward(self, params: Tensor) -> Tensor:
        return params.chunk(2, dim=1)[0]


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``module`` in eval mode and without gradients; restore its mode."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)
