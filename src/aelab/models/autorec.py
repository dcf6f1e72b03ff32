"""Autoencoder for partially observed vectors: the loss covers the observed entries only.

AutoRec (Sedhain et al., *AutoRec: Autoencoders Meet Collaborative Filtering*, WWW 2015):
h = σ(V r + μ), r̂ = W h + b, loss = Σ_observed (r − r̂)² + (λ/2)(‖W‖² + ‖V‖²). With
``mask_noise`` > 0 a random part of each row's observed entries is also hidden from the
encoder while training — the denoising signal of MIDA-style imputers (Gondara & Wang,
*MIDA: Multiple Imputation using Denoising Autoencoders*, PAKDD 2018).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from aelab.core.losses import masked_squared_error
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


class FillMissing(nn.Module):
    """Unobserved (NaN) entries of a batch set to 0: what the encoder reads for them."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.nan_to_num(x, nan=0.0)


@register("autorec")
class AutoRec(Autoencoder):
    """Reconstructs the observed entries of rows whose missing entries are NaN.

    Missing entries are NaN in every input (``fit``, ``encode``, ``reconstruct``); the
    encoder reads them as 0 and the ``recon`` term, :func:`aelab.core.losses.masked_squared_error`,
    ignores them (summed over the observed entries, mean over the batch). While training,
    a second term ``weight_decay`` = (λ/2)·Σ‖W‖² over the weight matrices (not the
    biases) is added; validation reports ``recon`` alone, so early stopping watches the fit.

    The trainer's ``y`` may carry targets for the same rows, shape ``(n, n_features)``
    with NaN where unobserved (a held-out part of each row, for validation); any other
    ``y`` (class labels) is ignored, as by every unconditional model.

    Parameters
    ----------
    input_shape : int
        Length of a row (I-AutoRec: the number of users; U-AutoRec: of items).
    latent_dim : int, default=500
        Hidden units (the paper's k = 500).
    hidden : tuple of int, default=()
        Further hidden layers before the code (none in AutoRec).
    code_activation : str, default="sigmoid"
        The paper's σ; the decoder is an identity (linear) map.
    weight_penalty : float, default=0.0
        λ in (λ/2)·Σ‖W‖². The paper's loss sums over all rows; ours averages over the
        batch, so the paper's λ corresponds to λ / n_rows here.
    mask_noise : float in [0, 1), default=0.0
        Probability that each observed entry is hidden from the encoder (set to 0) in a
        training step; the loss still covers it.
    preprocess : str, default="none"
        A fitted scaling needs complete rows; with missing entries keep "none" and scale the
        observed values beforehand.
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.

    Examples
    --------
    >>> import aelab, numpy as np
    >>> model = aelab.create("autorec", input_shape=6, latent_dim=4, seed=0)
    >>> r = np.array([[5, np.nan, 3, np.nan, 1, 4]], dtype=np.float32)
    >>> model.reconstruct(r).shape
    (1, 6)
    """

    def __init__(self, input_shape, latent_dim: int = 500, hidden=(),
                 code_activation: str = "sigmoid", weight_penalty: float = 0.0,
                 mask_noise: float = 0.0, preprocess: str = "none", **kwargs):
        owner = type(self).__name__
        self.weight_penalty = check_number(weight_penalty, "weight_penalty", owner, low=0.0)
        self.mask_noise = check_number(mask_noise, "mask_noise", owner, low=0.0, high=1.0,
                                       high_inclusive=False)
        if kwargs.get("n_classes", 0):
            raise ValueError(f"{owner} takes n_classes=0 only (got {kwargs['n_classes']!r}): its y "
                             "holds targets, not labels.")
        super().__init__(input_shape, latent_dim=latent_dim, hidden=hidden,
                         code_activation=code_activation, preprocess=preprocess, **kwargs)

    def as_input(self, data, shape=None, what: str = "input") -> Tensor:
        """As :meth:`Model.as_input`, but NaN marks an unobserved entry (infinity still raises)."""
        if isinstance(data, torch.Tensor):
            missing = torch.isnan(data)
        else:
            data = np.asarray(data)
            missing = torch.from_numpy(np.isnan(data) if data.dtype.kind == "f"
                                       else np.zeros(data.shape, dtype=bool))
        filled = data.masked_fill(missing, 0) if isinstance(data, Tensor) else np.where(
            missing.numpy(), 0, data)
        x = super().as_input(filled, shape, what)
        return x.masked_fill(missing.to(x.device).reshape(x.shape), float("nan"))

    def fit_preprocessing(self, batches) -> None:
        """Fit the scaling, which needs complete rows: with missing entries, use preprocess='none'."""
        if self.scaler.kind != "none" and any(bool(torch.isnan(x).any()) for x in batches()):
            raise ValueError(
                f"preprocess={self.scaler.kind!r} of {type(self).__name__} cannot be fitted on rows "
                "with missing (NaN) entries. Scale the observed values yourself and pass "
                "preprocess='none'.")
        super().fit_preprocessing(batches)

    def encoder_path(self) -> nn.Sequential:
        path = super().encoder_path()
        return nn.Sequential(path.scaler, FillMissing(), path.encoder)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``recon``: squared error on the observed entries; ``weight_decay`` while training."""
        target = y if y is not None and y.shape == x.shape and y.is_floating_point() else x
        x, target = self.scaler(x), self.scaler(target)
        observed = ~torch.isnan(x)
        x_in = torch.where(observed, x, torch.zeros_like(x))
        if self.training and self.mask_noise > 0:
            hide = torch.rand(x.shape, device=x.device) < self.mask_noise
            x_in = x_in.masked_fill(hide, 0.0)
        x_hat = self.decoder(self.encoder(x_in))
        terms = {"recon": masked_squared_error(x_hat, target, ~torch.isnan(target)).mean()}
        if self.training:
            weights = {id(m.weight): m.weight
                       for m in (*self.encoder.affine_maps(), *self.decoder.affine_maps())
                       if isinstance(m.weight, nn.Parameter)}
            terms["weight_decay"] = 0.5 * self.weight_penalty * sum(
                w.pow(2).sum() for w in weights.values())
        return terms
