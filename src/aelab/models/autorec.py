"""Autoencoder for partially observed vectors: the loss covers the observed entries only.

AutoRec (Sedhain et al., *AutoRec: Autoencoders Meet Collaborative Filtering*, WWW 2015):
h = σ(V r + μ), r̂ = W h + b, loss = Σ_observed (r − r̂)² + (λ/2)(‖W‖² + ‖V‖²). With
``mask_noise`` > 0 a random part of each row's observed entries is also hidden from the
encoder while training — the denoising signal of MIDA-style imputers (Gondara & Wang,
*MIDA: Multiple Imputation using Denoising Autoencoders*, PAKDD 2018). With ``read_mask`` the
encoder also reads which entries it sees, and with ``visible_weight=0`` the loss covers only
the hidden entries: masked modelling, the form of masked-autoencoder imputers (ReMasker, Du,
Melis & Wang, ICLR 2024), which learns to infer an entry from the others instead of copying it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from aelab.core.losses import masked_squared_error
from aelab.core.validation import check_bool, check_number
from aelab.models.base import Autoencoder
from aelab.models.registry import register


class FillMissing(nn.Module):
    """Unobserved (NaN) entries of a batch set to 0: what the encoder reads for them."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.nan_to_num(x, nan=0.0)


class ReadMask(nn.Module):
    """The encoder fed a batch with its NaN entries at 0 and, beside it, the 0/1 mask of
    the entries it sees (so that a 0 it sees and a 0 that stands for a gap differ)."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, x: Tensor) -> Tensor:
        seen = ~torch.isnan(x)
        return self.encoder(torch.nan_to_num(x, nan=0.0), seen.flatten(1).to(x.dtype))


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
    visible_weight : float >= 0, default=1.0
        Weight of the observed entries the encoder saw in the training loss, relative to the
        hidden ones: 1 (AutoRec, MIDA) scores every observed entry alike; 0 scores only the
        hidden entries (masked modelling; needs ``mask_noise`` > 0). Validation always
        scores every target entry.
    read_mask : bool, default=False
        The encoder also reads the 0/1 mask of the entries it sees (``input_shape`` more
        inputs to its first layer).
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
                 mask_noise: float = 0.0, visible_weight: float = 1.0, read_mask: bool = False,
                 preprocess: str = "none", **kwargs):
        owner = type(self).__name__
        self.weight_penalty = check_number(weight_penalty, "weight_penalty", owner, low=0.0)
        self.mask_noise = check_number(mask_noise, "mask_noise", owner, low=0.0, high=1.0,
                                       high_inclusive=False)
        self.visible_weight = check_number(visible_weight, "visible_weight", owner, low=0.0)
        self.read_mask = check_bool(read_mask, "read_mask", owner)
        if self.visible_weight == 0 and self.mask_noise == 0:
            raise ValueError(f"{owner} with visible_weight=0 scores only hidden entries, and with "
                             "mask_noise=0 none is hidden: set mask_noise > 0 (e.g. 0.25) or "
                             "visible_weight > 0.")
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

    def encoder_side_dim(self) -> int:
        """With ``read_mask``, the observation mask: one input per entry beside the values."""
        return super().encoder_side_dim() + (math.prod(self.input_shape) if self.read_mask else 0)

    def encoder_path(self) -> nn.Sequential:
        return nn.Sequential(self.scaler, self._reader())

    def _reader(self) -> nn.Module:
        """Scaled batch, NaN where unseen → code."""
        return ReadMask(self.encoder) if self.read_mask else nn.Sequential(FillMissing(), self.encoder)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``recon``: squared error on the observed entries (while training, the hidden ones
        and ``visible_weight`` × the seen ones); ``weight_decay`` while training."""
        target = y if y is not None and y.shape == x.shape and y.is_floating_point() else x
        x, target = self.scaler(x), self.scaler(target)
        scored = ~torch.isnan(target)
        if self.training and self.mask_noise > 0:
            hide = torch.rand(x.shape, device=x.device) < self.mask_noise
            x = x.masked_fill(hide, float("nan"))  # hidden: read as a gap
        x_hat = self.decoder(self._reader()(x))
        if self.training and self.visible_weight != 1:
            seen = ~torch.isnan(x)
            recon = (masked_squared_error(x_hat, target, scored & ~seen)
                     + self.visible_weight * masked_squared_error(x_hat, target, scored & seen))
        else:
            recon = masked_squared_error(x_hat, target, scored)
        terms = {"recon": recon.mean()}
        if self.training:
            weights = {id(m.weight): m.weight
                       for m in (*self.encoder.affine_maps(), *self.decoder.affine_maps())
                       if isinstance(m.weight, nn.Parameter)}
            terms["weight_decay"] = 0.5 * self.weight_penalty * sum(
                w.pow(2).sum() for w in weights.values())
        return terms
