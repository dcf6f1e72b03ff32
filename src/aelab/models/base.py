"""The deterministic autoencoder that every aelab model builds on.

h = f(x̃), x̂ = g(h), loss = L(x, g(f(x̃))) + Σ penalties — Goodfellow, Bengio &
Courville, *Deep Learning* (2016), ch. 14. A variant overrides one hook:
``corrupt`` (what the encoder sees), ``penalties`` (extra named loss terms),
``code_layers`` (what follows the encoder's last linear map), ``sample_prior`` (a
generative model's p(z)), ``training_phases`` (several players) or ``loss_terms`` itself.
With ``n_classes > 0`` the decoder also reads the label as a one-hot vector,
g(h, y): a conditional model whose samples can be drawn per class.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.losses import LIKELIHOODS
from aelab.nn.backbones import BACKBONES, Backbone
from aelab.nn.layers import Scaler
from aelab.seeding import seeded
from aelab.validation import as_float_array, check_choice, check_number, check_shape, check_widths


@dataclass
class Phase:
    """One optimisation step per batch: these parameters, stepped on these terms.

    A model with several players (an adversarial autoencoder's discriminator)
    declares several phases; the trainer runs them in order on every batch, each
    with its own optimizer.
    """

    name: str
    parameters: list[nn.Parameter]
    loss_terms: Callable[..., dict[str, Tensor]]
    lr_scale: float = 1.0  # this phase's learning rate relative to the trainer's
    # Whether its terms make up the reported train/loss and val/loss (what early stopping
    # watches); an adversary's terms are logged but not part of the model's loss.
    monitor: bool = True


class Autoencoder(nn.Module):
    """Deterministic autoencoder with an MLP (or registered) backbone.

    Parameters
    ----------
    input_shape : int or tuple of int
        Shape of one example: ``n_features`` or e.g. ``(1, 28, 28)``.
    latent_dim : int, default=32
        Width of the code h. Smaller than the input: undercomplete; larger: overcomplete.
    hidden : tuple of int, default=(256,)
        Hidden widths of the encoder from the input side; the decoder mirrors them.
    activation : str, default="relu"
        Hidden nonlinearity (see ``aelab.nn.ACTIVATIONS``).
    code_activation : str, default="linear"
        Nonlinearity applied to the code.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        p_decoder(x | h): squared error, or binary cross-entropy on logits (data in [0, 1]).
    tied : bool, default=False
        Decoder reuses the encoder's weight matrices, transposed (shared storage).
    linear : bool, default=False
        No nonlinearities at all; with squared error the code spans the PCA subspace.
    backbone : str, default="mlp"
        Encoder/decoder family from ``aelab.nn.BACKBONES``.
    preprocess : {"auto", "none", "standard", "minmax"}, default="auto"
        Per-feature scaling fitted on the training data. ``auto``: none if the data
        lie in [0, 1], else ``standard`` (``minmax`` for a Bernoulli likelihood).
    n_classes : int, default=0
        With ``n_classes > 0`` the decoder is conditioned on a class label (one-hot,
        appended to the code): training then needs labels ``y`` in ``[0, n_classes)``
        and ``decode``/``reconstruct``/``sample`` take ``y``.

    Examples
    --------
    >>> import aelab, numpy as np
    >>> model = aelab.create("ae", input_shape=64, latent_dim=8, hidden=(32,), seed=0)
    >>> model.encode(np.zeros((5, 64), dtype=np.float32)).shape
    (5, 8)
    """

    name = "base"  # set by the registry
    has_likelihood = False  # True: log_weights gives importance weights for log p(x)

    def __init__(
        self,
        input_shape,
        latent_dim: int = 32,
        hidden=(256,),
        activation: str = "relu",
        code_activation: str = "linear",
        likelihood: str = "gaussian",
        tied: bool = False,
        linear: bool = False,
        backbone: str = "mlp",
        preprocess: str = "auto",
        n_classes: int = 0,
    ):
        super().__init__()
        owner = type(self).__name__
        self.input_shape = check_shape(input_shape, "input_shape", owner)
        self.latent_dim = check_number(latent_dim, "latent_dim", owner, kind=int, low=1)
        self.hidden = check_widths(hidden, "hidden", owner)
        self.activation = activation
        self.code_activation = code_activation
        self.likelihood = check_choice(likelihood, LIKELIHOODS, "likelihood", owner)
        self.tied = _check_bool(tied, "tied", owner)
        self.linear = _check_bool(linear, "linear", owner)
        self.backbone = check_choice(backbone, BACKBONES, "backbone", owner)
        self.preprocess = check_choice(preprocess, ("auto", *Scaler.KINDS), "preprocess", owner)
        self.n_classes = check_number(n_classes, "n_classes", owner, kind=int, low=0)

        self.n_features = math.prod(self.input_shape)
        self.scaler = Scaler(self.n_features, "none" if preprocess == "auto" else preprocess)
        self.scaler.fitted = preprocess == "none"
        spec = Backbone(
            input_shape=self.input_shape,
            hidden=self.hidden,
            encoder_out=self.encoder_out_dim(),
            decoder_in=self.decoder_in_dim() + self.n_classes,
            activation="linear" if self.linear else activation,
            code_activation="linear" if self.linear else self.resolved_code_activation(),
            tied=self.tied,
            owner=owner,
        )
        self.encoder, self.decoder = BACKBONES[self.backbone](spec)
        code_layers = self.code_layers()
        if code_layers:
            self.encoder = nn.Sequential(*self.encoder, *code_layers)

    # ------------------------------------------------------------------ hooks
    def encoder_out_dim(self) -> int:
        """Width of the encoder output (a Gaussian encoder returns 2·latent_dim)."""
        return self.latent_dim

    def decoder_in_dim(self) -> int:
        """Width of the code the decoder reads, before any label (latent_dim by default)."""
        return self.latent_dim

    def resolved_code_activation(self) -> str:
        """The code nonlinearity the backbone applies (variants may force one)."""
        return self.code_activation

    def code_layers(self) -> list[nn.Module]:
        """Extra layers applied to the code after the encoder (e.g. top-k)."""
        return []

    def corrupt(self, x: Tensor) -> Tensor:
        """What the encoder sees while training: x itself for a plain autoencoder."""
        return x

    def penalties(self, x_in: Tensor, h: Tensor) -> dict[str, Tensor]:
        """Regularisation terms on the code (scalars, already weighted)."""
        return {}

    def sample_prior(self, n: int, y: Tensor | None = None) -> Tensor:
        """``n`` codes from the model's prior p(z) on the model's device, shape (n, latent_dim).

        Draws from torch's global RNG; ``y`` (labels) matters only for label-assigned priors.
        """
        raise TypeError(
            f"Model {self.name!r} has no prior to sample from: it is not a generative model. "
            f"Use one of the models with a prior (vae, aae, wae)."
        )

    def decoder_output(self, z: Tensor, y: Tensor | None = None, sample: bool = False) -> Tensor:
        """Raw decoder output (means or logits) for codes ``z``.

        ``sample``: draw any intermediate latent layers rather than take their means
        (only a hierarchical model has them).
        """
        return self.decoder(self.condition(z, y))

    def log_weights(self, x: Tensor, k: int, y: Tensor | None = None) -> Tensor:
        """Importance log-weights log p(x, z) - log q(z | x) for k draws, shape (k, batch)."""
        raise TypeError(
            f"Model {self.name!r} does not define a likelihood p(x): only variational models "
            "(vae) can estimate log p(x). Use the reconstruction error instead."
        )

    def on_epoch_start(self, epoch: int) -> None:
        """Called by the trainer before each epoch (0-based), e.g. for a KL warm-up."""

    def condition(self, h: Tensor, y: Tensor | None) -> Tensor:
        """The decoder's input: the code, with the label's one-hot appended if conditional."""
        if not self.n_classes:
            return h
        y = self.check_labels(y, h.shape[0]).to(h.device)
        return torch.cat([h, F.one_hot(y, self.n_classes).to(h.dtype)], dim=1)

    def check_labels(self, y, n: int) -> Tensor:
        """Validate ``n`` class labels for a conditional model; return them as int64."""
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} is conditional (n_classes={self.n_classes}): pass the "
                f"class labels, e.g. y=labels (integers in [0, {self.n_classes}))."
            )
        y = (y.detach() if isinstance(y, Tensor) else torch.as_tensor(np.array(y))).reshape(-1)
        if y.dtype.is_floating_point or y.dtype == torch.bool or y.shape[0] != n or (
                n and (int(y.min()) < 0 or int(y.max()) >= self.n_classes)):
            raise ValueError(
                f"y must hold {n} integer class labels in [0, {self.n_classes}); got shape "
                f"{tuple(y.shape)} of dtype {y.dtype}."
            )
        return y.long()

    # ------------------------------------------------------------------ training interface
    @property
    def lik(self):
        """The likelihood object p(x | h) (see :mod:`aelab.losses`)."""
        return LIKELIHOODS[self.likelihood]

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """Named loss terms for a raw batch ``x``; their sum is the training objective.

        ``recon`` is L(x, g(f(x̃))) summed over features, averaged over the batch.
        """
        x = self.scaler(x)
        x_in = self.corrupt(x) if self.training else x
        h = self.encoder(x_in)
        out = self.decoder(self.condition(h, y))
        terms = {"recon": self.lik.reconstruction_loss(out, x).mean()}
        terms.update(self.penalties(x_in, h))
        return terms

    def training_phases(self) -> list[Phase]:
        """The optimisation phases run on each batch (one, for most models)."""
        return [Phase("main", [p for p in self.parameters() if p.requires_grad], self.loss_terms)]

    def fit_preprocessing(self, batches: Callable[[], Iterator[Tensor]]) -> None:
        """Fit the input scaling on the training data (``batches()`` yields raw batches)."""
        if self.preprocess == "auto":
            lo, hi = math.inf, -math.inf
            for x in batches():
                lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
            inside = lo >= 0.0 and hi <= 1.0
            fallback = "minmax" if self.likelihood == "bernoulli" else "standard"
            self.scaler.kind = "none" if inside else fallback
        self.scaler.fit(batches())

    def check_training_data(self, x: Tensor) -> None:
        """Raise if a batch of (scaled) training data is invalid for this model."""
        if self.likelihood == "bernoulli" and self.scaler.kind == "none":
            if float(x.min()) < 0.0 or float(x.max()) > 1.0:
                raise ValueError(
                    f"likelihood='bernoulli' needs data in [0, 1]; got values in "
                    f"[{float(x.min()):.3g}, {float(x.max()):.3g}]. Rescale the data, or use "
                    "preprocess='minmax' or likelihood='gaussian'."
                )

    # ------------------------------------------------------------------ tensor-level maps
    def _encode(self, x: Tensor) -> Tensor:
        return self.encoder(self.scaler(x))

    def _decode(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        return self.scaler.inverse(self.lik.mean(self.decoder_output(h, y)))

    # ------------------------------------------------------------------ public API
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode(self, x, batch_size: int = 1024):
        """Code h = f(x) (a stochastic encoder's mean). NumPy in → NumPy out; tensor → tensor."""
        return self._map_batches(lambda t, _: self._encode(t), x, batch_size, self.input_shape,
                                 "encode")

    def decode(self, z, y=None, batch_size: int = 1024):
        """Reconstruction in data space E[x | h] from codes ``z`` (n, latent_dim).

        ``y``: class labels (n,) for a conditional model (``n_classes > 0``).
        """
        return self._map_batches(self._decode, z, batch_size, (self.latent_dim,), "decode", y)

    def reconstruct(self, x, y=None, batch_size: int = 1024):
        """x̂ = g(f(x)) in data space (no corruption, deterministic)."""
        return self._map_batches(lambda t, yb: self._decode(self._encode(t), yb), x, batch_size,
                                 self.input_shape, "reconstruct", y)

    def sample(self, n: int, seed: int | None = None, y=None, mean: bool = True) -> np.ndarray:
        """Draw ``n`` new examples: z ~ p(z), then E[x | z] (or x ~ p(x | z) if not ``mean``).

        Parameters
        ----------
        n : int
            Number of samples.
        seed : int, optional
            Seeds the draw (the global RNG is left as it was); the same seed gives the
            same samples.
        y : int or array-like of int, optional
            Class label(s) for a conditional model: one label for all samples or one per
            sample. For a label-assigned mixture prior it also picks the component.
        mean : bool, default=True
            Return the decoder's mean (probabilities for a Bernoulli decoder) rather than
            a draw from p(x | z).

        Returns
        -------
        ndarray of shape (n, *input_shape)
        """
        n = check_number(n, "n", f"{type(self).__name__}.sample", kind=int, low=1)
        labels = None if y is None else np.broadcast_to(np.asarray(y), (n,))
        if self.n_classes:
            labels = self.check_labels(labels, n)
        elif labels is not None:
            labels = torch.as_tensor(labels.astype(np.int64))
        dev = self.device
        was_training = self.training
        self.eval()
        with seeded(seed, dev), torch.no_grad():  # same seed, same samples
            try:
                lab = None if labels is None else labels.to(dev)
                out = self.decoder_output(self.sample_prior(n, lab), lab, sample=True)
                x = self.lik.mean(out) if mean else self.lik.sample(out)
            finally:
                self.train(was_training)
        return self.scaler.inverse(x).cpu().numpy()

    def _map_batches(self, fn, data, batch_size, shape, what, y=None):
        """``fn(x_batch, y_batch)`` over batches of validated ``data``, without gradients."""
        was_tensor = isinstance(data, torch.Tensor)
        x = self.as_input(data, shape, what)
        labels = None
        if self.n_classes and what != "encode":
            labels = self.check_labels(y, x.shape[0])
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                dev = self.device
                out = torch.cat([
                    fn(x[i : i + batch_size].to(dev),
                       None if labels is None else labels[i : i + batch_size].to(dev))
                    for i in range(0, x.shape[0], batch_size)])
        finally:
            self.train(was_training)
        if what == "reconstruct":  # x̂ in the caller's layout, e.g. (n, 784) for flat images
            out = out.reshape(tuple(data.shape))
        if was_tensor:
            return out.to(data.device)
        return out.cpu().numpy()

    def as_input(self, data, shape=None, what: str = "input") -> Tensor:
        """Validate user data against ``shape`` (default: the input shape) as a float tensor."""
        shape = self.input_shape if shape is None else tuple(shape)
        arr = as_float_array(data, name="X")
        t = arr if isinstance(arr, torch.Tensor) else torch.from_numpy(arr)
        n = t.shape[0]
        if tuple(t.shape[1:]) != shape:
            if math.prod(t.shape[1:]) == math.prod(shape):
                t = t.reshape(n, *shape)
            else:
                raise ValueError(
                    f"X has {math.prod(t.shape[1:])} features per example (shape "
                    f"{tuple(t.shape)}), but {type(self).__name__}.{what} expects {shape} "
                    f"({math.prod(shape)} features), as it was built/trained with."
                )
        return t

    def get_config(self) -> dict:
        """Constructor keyword arguments (the model's config), JSON-ready."""
        params = {}
        for cls in reversed(type(self).__mro__):
            if "__init__" not in vars(cls) or not issubclass(cls, Autoencoder):
                continue
            for p in inspect.signature(cls.__init__).parameters.values():
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    params[p.name] = _jsonable(getattr(self, p.name))
        return params

    @classmethod
    def config_keys(cls) -> set[str]:
        """Every keyword this model's constructor accepts (across its bases)."""
        keys = set()
        for klass in cls.__mro__:
            if "__init__" in vars(klass) and issubclass(klass, Autoencoder):
                keys |= {p.name for p in inspect.signature(klass.__init__).parameters.values()
                         if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        return keys

    def save(self, path, metadata: dict | None = None) -> None:
        """Write ``config.json`` and ``model.safetensors`` into directory ``path``."""
        from aelab.persistence import save_model

        save_model(self, path, metadata=metadata)


def _check_bool(value, param: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The {param!r} parameter of {owner} must be a bool. Got {value!r} instead.")
    return bool(value)


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(i) for i in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v
