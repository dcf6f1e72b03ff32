"""The deterministic autoencoder that every aelab model builds on.

h = f(x̃), x̂ = g(h), loss = L(x, g(f(x̃))) + Σ penalties — Goodfellow, Bengio &
Courville, *Deep Learning* (2016), ch. 14. A variant overrides one hook:
``corrupt`` (what the encoder sees), ``penalties`` (extra named loss terms),
``code_layers`` (what follows the encoder's last linear map), ``prior_dist`` (a
generative model's p(z)), ``training_phases`` (several players) or ``loss_terms`` itself,
and declares its capabilities as class attributes (``can_sample``, ``has_likelihood``)
so that code elsewhere asks the model, never its name.
With ``n_classes > 0`` the decoder also reads the label as a one-hot vector,
g(h, y): a conditional model whose samples can be drawn per class.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.core.losses import LIKELIHOODS
from aelab.core.seeding import seeded
from aelab.core.validation import (
    check_bool,
    check_choice,
    check_class_labels,
    check_number,
    check_shape,
    check_widths,
)
from aelab.data.streaming import as_chunked, map_chunks
from aelab.models.contract import Phase
from aelab.models.module import Model
from aelab.models.registry import list_models
from aelab.nn.backbones import BACKBONES, Backbone
from aelab.nn.layers import Scaler, evaluating
from aelab.nn.priors import Prior

# Bernoulli targets must lie in [0, 1]; this much float error of a fitted scaling is allowed.
_UNIT_SLACK = 1e-5


class Autoencoder(Model):
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
    preprocess : {"auto", "none", "standard", "minmax", "robust"}, default="auto"
        Per-feature scaling fitted on the training data (see
        :mod:`aelab.core.scaling`). ``auto``: none if the data lie in [0, 1], else
        ``standard`` (``minmax`` for a Bernoulli likelihood).
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

    # Capabilities: what the model can do, declared by each variant (never looked up by name).
    can_sample = False  # True: ``prior_dist`` is set, ``sample`` draws new examples
    # True: ``log_weights`` gives importance weights for log p(x), ``feature_nll`` a bound
    has_likelihood = False

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
        self.tied = check_bool(tied, "tied", owner)
        self.linear = check_bool(linear, "linear", owner)
        self.backbone = check_choice(backbone, BACKBONES, "backbone", owner)
        self.preprocess = check_choice(preprocess, Scaler.KINDS, "preprocess", owner)
        self.n_classes = check_number(n_classes, "n_classes", owner, kind=int, low=0)

        self.n_features = math.prod(self.input_shape)
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
        self.encoder, self.decoder = BACKBONES[self.backbone](spec)  # sizes checked first
        self.scaler = Scaler(self.n_features, preprocess, owner=owner,
                             auto_kind="minmax" if likelihood == "bernoulli" else "standard")
        self.prior_dist: Prior | None = None  # p(z) of a generative variant (can_sample)
        code_layers = self.code_layers()
        if code_layers:
            self.encoder = self.encoder.extended(code_layers)

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
        if self.prior_dist is None:
            raise TypeError(
                f"Model {self.name!r} has no prior to sample from: it is not a generative model. "
                f"Use a model that can sample: {list_models(can_sample=True)}."
            )
        return self.prior_dist.sample(n, y, device=self.device)

    def decoder_output(self, z: Tensor, y: Tensor | None = None, sample: bool = False) -> Tensor:
        """Raw decoder output (means or logits) for codes ``z``.

        ``sample``: draw any intermediate latent layers rather than take their means
        (only a hierarchical model has them).
        """
        return self.decoder(self.condition(z, y))

    def log_weights(self, x: Tensor, k: int, y: Tensor | None = None) -> Tensor:
        """Importance log-weights log p(x, z) - log q(z | x) for k draws, shape (k, batch)."""
        raise TypeError(
            f"Model {self.name!r} does not define a likelihood p(x); the models that do: "
            f"{list_models(has_likelihood=True)}. Use the reconstruction error instead."
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
        return check_class_labels(y, n, self.n_classes)

    # ------------------------------------------------------------------ training interface
    @property
    def lik(self):
        """The likelihood object p(x | h) (see :mod:`aelab.core.losses`)."""
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

    def prepare_training(self, batches: Callable[[], Iterator[Tensor]]) -> None:
        """Fit the preprocessing unless it is fitted (or copied), then check the data."""
        if not self.scaler.is_fitted:
            self.fit_preprocessing(batches)
        for x in batches():
            self.check_training_data(self.scaler(x))

    def fit_preprocessing(self, batches: Callable[[], Iterator[Tensor]]) -> None:
        """Fit the input scaling on the training data (``batches()`` yields raw batches)."""
        self.scaler.fit(batches)

    def check_training_data(self, x: Tensor) -> None:
        """Raise if a batch of (scaled) training data is invalid for this model."""
        if self.likelihood == "bernoulli":
            if float(x.min()) < -_UNIT_SLACK or float(x.max()) > 1.0 + _UNIT_SLACK:
                raise ValueError(
                    f"likelihood='bernoulli' needs data in [0, 1]; got values in "
                    f"[{float(x.min()):.3g}, {float(x.max()):.3g}] after preprocessing "
                    f"{self.scaler.fitted_kind!r}. Rescale the data, or use "
                    "preprocess='minmax' or likelihood='gaussian'."
                )

    def feature_nll(self, x: Tensor, k: int = 1) -> Tensor:
        """An upper bound on -log p(x) of a raw batch, split over the features, ``(n, n_features)``.

        Only for models with a likelihood (``has_likelihood``); draws from the global RNG.
        """
        raise TypeError(
            f"Model {self.name!r} does not define a likelihood p(x); the models that do: "
            f"{list_models(has_likelihood=True)}."
        )

    # ------------------------------------------------------------------ tensor-level maps
    def encoder_path(self) -> nn.Sequential:
        """Raw batch → code h (a stochastic encoder's mean), as this model's own modules.

        The modules are shared, not copied: a classifier built on this path fine-tunes
        them (see :class:`aelab.models.classifier.Classifier`).
        """
        return nn.Sequential(OrderedDict(scaler=self.scaler, encoder=self.encoder))

    def _encode(self, x: Tensor) -> Tensor:
        return self.encoder_path()(x)

    def _decode(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        return self.scaler.inverse(self.lik.mean(self.decoder_output(h, y)))

    # ------------------------------------------------------------------ public API
    def encode(self, x, batch_size: int = 1024):
        """Code h = f(x) (a stochastic encoder's mean). NumPy in → NumPy out; tensor → tensor;
        a chunked array or ``np.memmap`` (data larger than memory) is read chunk by chunk."""
        return self._map_batches(lambda t, _: self._encode(t), x, batch_size, self.input_shape,
                                 "encode")

    def decode(self, z, y=None, batch_size: int = 1024):
        """Reconstruction in data space E[x | h] from codes ``z`` (n, latent_dim).

        ``y``: class labels (n,) for a conditional model (``n_classes > 0``).
        """
        return self._map_batches(self._decode, z, batch_size, (self.latent_dim,), "decode", y)

    def reconstruct(self, x, y=None, batch_size: int = 1024):
        """x̂ = g(f(x)) in data space (no corruption, deterministic). A chunked array or
        ``np.memmap`` is read chunk by chunk; to write x̂ of data larger than memory to a
        file, use ``aelab.data.map_to_npy(model.reconstruct, data, "x_hat.npy")``."""
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
        with seeded(seed, dev), evaluating(self):  # same seed, same samples
            lab = None if labels is None else labels.to(dev)
            out = self.decoder_output(self.sample_prior(n, lab), lab, sample=True)
            x = self.lik.mean(out) if mean else self.lik.sample(out)
        return self.scaler.inverse(x).cpu().numpy()

    def _map_batches(self, fn, data, batch_size, shape, what, y=None):
        """``fn(x_batch, y_batch)`` over batches of validated ``data``, without gradients.

        A chunked array (:func:`aelab.data.open_chunked`) or an ``np.memmap`` is read chunk
        by chunk, the next chunk while this one is computed; the outputs come back as one
        NumPy array (for outputs larger than memory, see :func:`aelab.data.map_to_npy`).
        """
        chunks = as_chunked(data)
        if chunks is not None:
            if y is None:
                return map_chunks(lambda x: self._map_batches(fn, x, batch_size, shape, what), chunks)
            labels, bounds = np.asarray(y), iter(chunks.chunk_bounds)

            def labelled(x):  # the chunks come in order: each takes the next rows' labels
                start, stop = next(bounds)
                return self._map_batches(fn, x, batch_size, shape, what, labels[start:stop])

            return map_chunks(labelled, chunks)
        x = self.as_input(data, shape, what)
        labels = None
        if self.n_classes and what != "encode":
            labels = self.check_labels(y, x.shape[0])
        out = self.batched(fn, x, batch_size, labels)
        if what == "reconstruct":  # x̂ in the caller's layout, e.g. (n, 784) for flat images
            out = out.reshape(tuple(data.shape))
        if isinstance(data, torch.Tensor):
            return out.to(data.device)
        return out.cpu().numpy()
