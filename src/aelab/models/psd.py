"""Predictive sparse decomposition: sparse coding with a feed-forward predictor of the codes.

Kavukcuoglu, Ranzato & LeCun, *Fast inference in sparse coding algorithms with
applications to object recognition*, arXiv:1010.3467 (tech. report CBLL-TR-2008-12-01).
Energy ‖x − Dz‖² + λ‖z‖₁ + α‖z − f(x)‖², f(x) = G ⊙ tanh(Wx + b), D with unit-norm
columns. Training alternates inference (z* minimising the energy by FISTA started at
f(x)) with a gradient step on D and on the predictor; at test time the code is f(x).
"""

import torch
from torch import Tensor, nn

from aelab.core.sparse_coding import fista
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register
from aelab.nn.backbones import Layers


class Gain(nn.Module):
    """A learned per-unit gain G, applied elementwise: G ⊙ h."""

    def __init__(self, width: int):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(width))

    def forward(self, h: Tensor) -> Tensor:
        return h * self.gain


class UnitNormDictionary(nn.Module):
    """x̂ = Dz with D = D_raw / ‖D_raw‖ column by column: atoms at unit norm by construction."""

    def __init__(self, n_atoms: int, n_features: int):
        super().__init__()
        # D_raw, one atom per column, started at unit norm: a step of an optimiser moves the
        # atoms' directions as much as its learning rate says (at randn's norm of about
        # √n_features the same step turns them √n_features times less).
        raw = torch.randn(n_features, n_atoms)
        self.weight = nn.Parameter(raw / raw.norm(dim=0, keepdim=True))

    def atoms(self) -> Tensor:
        """D, shape ``(n_features, n_atoms)``, every column of unit Euclidean norm."""
        return self.weight / self.weight.norm(dim=0, keepdim=True).clamp_min(1e-12)

    def forward(self, z: Tensor) -> Tensor:
        return z @ self.atoms().T


@register("psd")
class PredictiveSparseDecomposition(Autoencoder):
    """Sparse coding whose codes a one-layer encoder learns to predict.

    The loss terms, per example and averaged over the batch, at the codes z* found by
    ``inference_steps`` FISTA iterations on the whole energy, started at f(x) (no
    gradient flows through the inference): ``recon`` ‖x − Dz*‖², ``sparsity`` λ‖z*‖₁
    (reported; it has no gradient with respect to the weights) and ``prediction``
    α‖z* − f(x)‖², which trains the predictor. ``encode`` returns f(x), ``decode`` Dz.

    Parameters
    ----------
    sparsity_weight : float, default=0.5
        λ, the weight of ‖z‖₁.
    prediction_weight : float, default=1.0
        α, the weight of ‖z − f(x)‖² (in the energy the codes minimise, too).
    inference_steps : int, default=20
        FISTA iterations per batch while training.
    hidden : tuple of int, default=()
        Hidden widths of the predictor; () is the paper's one layer.
    code_activation : str, default="tanh"
        The predictor's squashing function before the gain G: ``"tanh"`` is the paper's;
        ``"softshrink"`` (the lasso's soft threshold, as in LISTA's one layer, Gregor & LeCun
        2010) gives codes with exact zeros, whose sparse-coding objective comes much closer
        to the optimum (benchmarks/psd_patches.py measures both).
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder` (``latent_dim`` is the number
        of atoms). The decoder is the dictionary: a Gaussian likelihood (squared error),
        no tied weights and no class labels.

    Examples
    --------
    >>> import aelab, numpy as np
    >>> model = aelab.create("psd", input_shape=64, latent_dim=16, seed=0)
    >>> model.encode(np.zeros((5, 64), dtype=np.float32)).shape
    (5, 16)
    """

    def __init__(self, input_shape, sparsity_weight: float = 0.5, prediction_weight: float = 1.0,
                 inference_steps: int = 20, hidden=(), code_activation: str = "tanh", **kwargs):
        owner = type(self).__name__
        self.sparsity_weight = check_number(sparsity_weight, "sparsity_weight", owner, low=0.0)
        self.prediction_weight = check_number(prediction_weight, "prediction_weight", owner,
                                              low=0.0, low_inclusive=False)
        self.inference_steps = check_number(inference_steps, "inference_steps", owner, kind=int,
                                            low=1)
        for key, allowed in (("likelihood", "gaussian"), ("tied", False), ("n_classes", 0)):
            if kwargs.get(key, allowed) != allowed:
                raise ValueError(
                    f"{owner}'s decoder is a linear dictionary fitted by squared error, so it needs "
                    f"{key}={allowed!r}. Got {key}={kwargs[key]!r} instead; leave it out."
                )
        super().__init__(input_shape, hidden=hidden, code_activation=code_activation, **kwargs)
        atoms = UnitNormDictionary(self.latent_dim, self.n_features)
        self.decoder = Layers([atoms, nn.Unflatten(1, self.input_shape)], [atoms])

    @property
    def dictionary(self) -> UnitNormDictionary:
        """The decoder's dictionary (``.atoms()`` is D)."""
        return self.decoder[0]

    def code_layers(self) -> list[nn.Module]:
        return [Gain(self.latent_dim)]

    def infer(self, x: Tensor, z_pred: Tensor, steps: int | None = None) -> Tensor:
        """z* minimising the energy for a scaled batch ``x`` from ``z_pred`` = f(x), no gradient."""
        with torch.no_grad():
            # The energy halved is FISTA's ½‖x − Dz‖² + (λ/2)‖z‖₁ + (α/2)‖z − f(x)‖².
            return fista(x.flatten(1), self.dictionary.atoms(), 0.5 * self.sparsity_weight,
                         z0=z_pred, steps=steps or self.inference_steps, anchor=z_pred,
                         anchor_weight=self.prediction_weight)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        x = self.scaler(x)
        z_pred = self.encoder(x)  # f(x), (batch, latent_dim)
        z = self.infer(x, z_pred)
        return {
            "recon": (x.flatten(1) - self.dictionary(z)).square().sum(1).mean(),
            "sparsity": self.sparsity_weight * z.abs().sum(1).mean(),
            "prediction": self.prediction_weight * (z - z_pred).square().sum(1).mean(),
        }
