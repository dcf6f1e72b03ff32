"""The deterministic autoencoder that every aelab model builds on.

h = f(x̃), x̂ = g(h), loss = L(x, g(f(x̃))) + Σ penalties — Goodfellow, Bengio &
Courville, *Deep Learning* (2016), ch. 14. A variant overrides one hook:
``corrupt`` (what the encoder sees), ``penalties`` (extra named loss terms),
``code_layers`` (what follows the encoder's last linear map), ``prior_dist`` (a
generative model's p(z)), ``training_phases`` (several players) or ``loss_terms`` itself,
and declares its capabilities as class attributes (``can_sample``, ``has_likelihood``)
so that code elsewhere asks the model, never its name.
With ``n_classes > 0`` the decoder and the encoder also read the label as a one-hot
vector, g(h, y) and f(x, y): a conditional model whose samples can be drawn per class
(the encoder's label lets the code keep only what the label does not say, Sohn et al.
2015, Kingma et al. 2014 M2; see :func:`aelab.nn.backbones.Layers`).
With ``perceptual={...}`` the reconstruction is also measured in the features of a fixed
network (DFC-VAE, Hou et al. 2017; see :mod:`aelab.nn.perceptual`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.core.losses import LIKELIHOODS, mmd_imq
from aelab.core.seeding import seeded
from aelab.core.validation import (
    check_bool,
    check_choice,
    check_class_labels,
    check_number,
    check_shape,
    check_unknown_options,
    check_widths,
)
from aelab.data.streaming import as_chunked, map_chunks
from aelab.models.contract import Phase
from aelab.models.module import Model
from aelab.models.registry import get_saved_class, list_models
from aelab.nn.backbones import BACKBONES, Backbone
from aelab.nn.layers import Scaler, evaluating
from aelab.nn.perceptual import FeatureLoss
from aelab.nn.priors import Prior

# Bernoulli targets must lie in [0, 1]; this much float error of a fitted scaling is allowed.
_UNIT_SLACK = 1e-5
# The keys of the ``perceptual`` option, with their defaults (``network`` is required).
_PERCEPTUAL_DEFAULTS = {"network": None, "weight": 1.0, "layers": None, "pixel_weight": 1.0}


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
        With ``n_classes > 0`` the model is conditioned on a class label: the decoder
        reads its one-hot beside the code, and the encoder beside x (q(z | x, y), so
        that the code need not carry the class). Training then needs labels ``y`` in
        ``[0, n_classes)``, and ``encode``/``decode``/``reconstruct``/``sample`` take ``y``.
    perceptual : dict, optional
        Also measure the reconstruction in the features of a fixed network Φ (DFC-VAE):
        a loss term ``perceptual`` = ``weight`` · Σ_l mean (Φ_l(x) - Φ_l(x̂))² over the
        ``layers`` of ``Φ.feature_maps`` (default: all), in data space. Keys:
        ``network`` (required): ``{"kind": saved kind, "config": {...}}``, any saved aelab
        module with ``feature_maps``, e.g. ``{"kind": "conv_classifier", "config":
        clf.get_config()}`` (build it with :func:`perceptual_option`); ``weight`` (1.0);
        ``layers``; ``pixel_weight`` (1.0): the weight of the pixel term ``recon`` in the
        objective (0 drops it, as DFC-VAE does). Φ is frozen (never trained, no
        gradient to its weights) and saved with the model (its config here, its weights
        in the safetensors); put trained weights in with
        :meth:`use_perceptual_network`. The pixel likelihood is unchanged, so a
        likelihood model's NLL is still its own.

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
    # True: ``y`` given to ``train`` is the rows to reconstruct (shaped like ``x``), not labels;
    # e.g. a document's words pooled with its nearest neighbours' (see reconstruction_target)
    reconstructs_y = False
    # True: training needs ``y`` (class labels, -1 where unknown) and a constructor argument
    # the estimators do not set (``n_classes``); the unsupervised estimators refuse it
    trained_with_labels = False

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
        perceptual: dict | None = None,
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
        if self.n_classes and self.reconstructs_y:
            raise ValueError(f"{owner} reads y as the rows to reconstruct, so it cannot also be "
                             f"conditioned on class labels: leave n_classes at 0 (got {n_classes}).")

        self.n_features = math.prod(self.input_shape)
        spec = Backbone(
            input_shape=self.input_shape,
            hidden=self.hidden,
            encoder_out=self.encoder_out_dim(),
            decoder_in=self.decoder_in_dim() + self.n_classes,
            activation="linear" if self.linear else activation,
            code_activation="linear" if self.linear else self.resolved_code_activation(),
            tied=self.tied,
            label_dim=self.encoder_side_dim(),
            owner=owner,
        )
        self.encoder, self.decoder = BACKBONES[self.backbone](spec)  # sizes checked first
        self.scaler = Scaler(self.n_features, preprocess, owner=owner,
                             auto_kind="minmax" if likelihood == "bernoulli" else "standard")
        self.prior_dist: Prior | None = None  # p(z) of a generative variant (can_sample)
        code_layers = self.code_layers()
        if code_layers:
            self.encoder = self.encoder.extended(code_layers)
        self.perceptual, self.perceptual_features = self._perceptual(perceptual, owner)

    # Whether an override of ``loss_terms`` applies the ``perceptual`` option itself
    # (through :meth:`with_perceptual`); the base class's loss_terms always does.
    applies_perceptual = False

    def _perceptual(self, spec, owner: str) -> tuple[dict | None, FeatureLoss | None]:
        """The normalised ``perceptual`` option (JSON-ready) and its frozen feature loss."""
        if spec is None:
            return None, None
        if type(self).loss_terms is not Autoencoder.loss_terms and not self.applies_perceptual:
            raise ValueError(f"{owner} computes its own loss terms and does not apply the "
                             "'perceptual' option; use it with a model whose reconstruction "
                             "is a decoder output (ae, denoising, vae, ...).")
        if not isinstance(spec, dict) or not isinstance(spec.get("network"), dict) \
                or set(spec["network"]) != {"kind", "config"}:
            raise TypeError(
                f"The 'perceptual' parameter of {owner} must be a dict with a 'network' entry "
                "{'kind': saved kind, 'config': {...}}; got "
                f"{spec!r}. Build it with aelab.models.base.perceptual_option(network)."
            )
        check_unknown_options(spec, _PERCEPTUAL_DEFAULTS, f"The 'perceptual' option of {owner}")
        spec = {**_PERCEPTUAL_DEFAULTS, **spec}
        network = get_saved_class(spec["network"]["kind"])(**spec["network"]["config"])
        if not callable(getattr(network, "feature_maps", None)):
            raise TypeError(f"The perceptual network of {owner} must have feature_maps(x); a "
                            f"{spec['network']['kind']!r} has not. Use e.g. 'conv_classifier'.")
        if math.prod(network.input_shape) != self.n_features:
            raise ValueError(
                f"The perceptual network of {owner} reads input_shape={network.input_shape}, but "
                f"the model's examples have input_shape={self.input_shape}; build the network for "
                "the model's data."
            )
        with torch.no_grad():
            n_maps = len(network.eval().feature_maps(torch.zeros(1, *self.input_shape)))
        layers = list(range(n_maps)) if spec["layers"] is None else spec["layers"]
        if (not isinstance(layers, (list, tuple)) or not layers
                or any(not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n_maps
                       for i in layers)):
            raise ValueError(f"perceptual['layers'] of {owner} must be a non-empty list of "
                             f"feature-map indices in [0, {n_maps}); got {spec['layers']!r}.")
        config = {
            "network": {"kind": network.name, "config": network.get_config()},
            "weight": check_number(spec["weight"], "perceptual['weight']", owner, low=0.0),
            "layers": list(layers),
            "pixel_weight": check_number(spec["pixel_weight"], "perceptual['pixel_weight']",
                                         owner, low=0.0),
        }
        return config, FeatureLoss(network, tuple(layers))

    def use_perceptual_network(self, network: nn.Module) -> Autoencoder:
        """Copy a trained network's weights into the fixed network of the perceptual loss.

        ``network`` must be the kind and config the option names (e.g. the trained
        ``ConvClassifier`` passed to :func:`perceptual_option`). Returns the model.
        """
        if self.perceptual_features is None:
            raise TypeError(f"This {type(self).__name__} has no perceptual loss; build it with "
                            "perceptual=perceptual_option(network).")
        got = {"kind": getattr(network, "name", type(network).__name__),
               "config": network.get_config() if hasattr(network, "get_config") else None}
        if got != self.perceptual["network"]:
            raise ValueError(f"The perceptual loss was built for {self.perceptual['network']}; "
                             f"got {got}. Pass the network the option was built from.")
        self.perceptual_features.network.load_state_dict(network.state_dict())
        return self

    def with_perceptual(self, terms: dict[str, Tensor], x: Tensor, out: Tensor) -> dict[str, Tensor]:
        """``terms`` with the perceptual option applied (no change without it).

        ``x``: the scaled batch; ``out``: the decoder's raw output for it. ``recon`` is
        scaled by ``pixel_weight`` (dropped at 0) and ``perceptual`` is added, measured
        between x and E[x | z] in data space, averaged over the batch.
        """
        if self.perceptual_features is None:
            return terms
        pixel = self.perceptual["pixel_weight"]
        if "recon" in terms and pixel != 1.0:
            if pixel == 0.0:
                del terms["recon"]
            else:
                terms["recon"] = pixel * terms["recon"]
        x_hat = self.scaler.inverse(self.lik.mean(out))
        terms["perceptual"] = (self.perceptual["weight"]
                               * self.perceptual_features(self.scaler.inverse(x), x_hat).mean())
        return terms

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

    def encoder_side_dim(self) -> int:
        """Width of a vector the encoder's first layer reads beside x: a conditional model's
        one-hot label (``n_classes``); a model may feed another (AutoRec its observation mask).
        Called while the backbone is built."""
        return self.n_classes

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

    def encoder_output(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The encoder's output for a scaled batch: f(x), or f(x, y) for a conditional model."""
        if not self.n_classes:
            return self.encoder(x)
        y = self.check_labels(y, x.shape[0]).to(x.device)
        return self.encoder(x, F.one_hot(y, self.n_classes).to(x.dtype))

    def condition(self, h: Tensor, y: Tensor | None) -> Tensor:
        """The decoder's input: the code, with the label's one-hot appended if conditional."""
        if not self.n_classes:
            return h
        y = self.check_labels(y, h.shape[0]).to(h.device)
        return torch.cat([h, F.one_hot(y, self.n_classes).to(h.dtype)], dim=1)

    def label_matching(self, z: Tensor, y: Tensor) -> Tensor:
        """Σ_c (n_c / n) · MMD²(codes of class c, prior samples): 0 when q(z | y) = p(z).

        Codes that follow the prior whatever the label carry no class, so that a prior
        draw decodes as whichever class is asked for (the MMD penalty of Louizos et al.,
        *The Variational Fair Autoencoder*, ICLR 2016, with the label as the factor to
        remove). ``z``: codes (n, latent_dim) of a batch with labels ``y`` (n,); classes
        with fewer than two codes in the batch are skipped.
        """
        prior = self.sample_prior(z.shape[0])
        total = z.new_zeros(())
        for c in torch.unique(y):
            rows = y == c
            if int(rows.sum()) >= 2:
                total = total + rows.float().mean() * mmd_imq(z[rows], prior[rows])
        return total

    def likelihood_labels(self, y, n: int) -> Tensor | None:
        """The labels ``log_weights`` reads for ``n`` examples: validated class labels for a
        conditional model, ``None`` for an unconditional one (a model that infers a missing
        label, like M2, accepts ``None`` too)."""
        return self.check_labels(y, n) if self.n_classes else None

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
        h = self.encoder_output(x_in, y)
        out = self.decoder(self.condition(h, y))
        target = self.reconstruction_target(x, y)
        terms = self.with_perceptual({"recon": self.lik.reconstruction_loss(out, target).mean()},
                                     target, out)
        terms.update(self.penalties(x_in, h))
        return terms

    def reconstruction_target(self, x: Tensor, y: Tensor | None) -> Tensor:
        """What the decoder learns to reproduce, given the scaled batch ``x``: ``x`` itself,
        or, for a model that ``reconstructs_y``, the scaled rows ``y`` when they are given
        (a document's words pooled with its nearest neighbours', as NbrReg does: Chaidaroon,
        Ebesu & Fang, *Deep Semantic Text Hashing with Weak Supervision*, SIGIR 2018).
        The code is still computed from ``x`` alone. Integer ``y`` are class labels, which
        such a model (unconditional) ignores as every unconditional model does."""
        if y is None or not self.reconstructs_y or not y.dtype.is_floating_point:
            return x
        if y.shape[0] != x.shape[0] or y[0].numel() != self.n_features:
            raise ValueError(
                f"{type(self).__name__} reads y as the rows to reconstruct: pass y of shape "
                f"(n, {self.n_features}), floats like X, or integer class labels, which it "
                f"ignores (got floats of shape {tuple(y.shape)}).")
        return self.scaler(y.reshape(x.shape).to(x.dtype))

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

    def _encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if not self.n_classes:
            return self.encoder_path()(x)
        label = F.one_hot(self.check_labels(y, x.shape[0]).to(x.device), self.n_classes).to(x.dtype)
        for module in self.encoder_path():  # the path, with the label handed to the encoder
            x = module(x, label) if module is self.encoder else module(x)
        return x

    def _decode(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        return self.scaler.inverse(self.lik.mean(self.decoder_output(h, y)))

    # ------------------------------------------------------------------ public API
    def encode(self, x, y=None, batch_size: int = 1024):
        """Code h = f(x) (a stochastic encoder's mean). NumPy in → NumPy out; tensor → tensor;
        a chunked array or ``np.memmap`` (data larger than memory) is read chunk by chunk.

        ``y``: class labels (n,) for a conditional model (``n_classes > 0``), whose code
        is f(x, y).
        """
        return self._map_batches(self._encode, x, batch_size, self.input_shape, "encode", y)

    def decode(self, z, y=None, batch_size: int = 1024):
        """Reconstruction in data space E[x | h] from codes ``z`` (n, latent_dim).

        ``y``: class labels (n,) for a conditional model (``n_classes > 0``).
        """
        return self._map_batches(self._decode, z, batch_size, (self.latent_dim,), "decode", y)

    def reconstruct(self, x, y=None, batch_size: int = 1024):
        """x̂ = g(f(x)) in data space (no corruption, deterministic). A chunked array or
        ``np.memmap`` is read chunk by chunk; to write x̂ of data larger than memory to a
        file, use ``aelab.data.map_to_npy(model.reconstruct, data, "x_hat.npy")``."""
        return self._map_batches(lambda t, yb: self._decode(self._encode(t, yb), yb), x, batch_size,
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
        if self.n_classes:
            labels = self.check_labels(y, x.shape[0])
        out = self.batched(fn, x, batch_size, labels)
        if what == "reconstruct":  # x̂ in the caller's layout, e.g. (n, 784) for flat images
            out = out.reshape(tuple(data.shape))
        if isinstance(data, torch.Tensor):
            return out.to(data.device)
        return out.cpu().numpy()


def perceptual_option(network: nn.Module, weight: float = 1.0, layers=None,
                      pixel_weight: float = 1.0) -> dict:
    """The ``perceptual`` option of an autoencoder, for a (trained) saved aelab network.

    Parameters
    ----------
    network : Model
        A saved kind with ``feature_maps``, e.g. a trained
        :class:`~aelab.models.conv_classifier.ConvClassifier`.
    weight, layers, pixel_weight
        See the ``perceptual`` parameter of :class:`Autoencoder`.

    Examples
    --------
    >>> import aelab
    >>> from aelab.models.base import perceptual_option
    >>> from aelab.models.conv_classifier import ConvClassifier
    >>> phi = ConvClassifier(input_shape=(1, 8, 8), channels=(4,), hidden=16)
    >>> vae = aelab.create("vae", input_shape=64, latent_dim=4,
    ...                    perceptual=perceptual_option(phi, layers=[0]))
    >>> vae = vae.use_perceptual_network(phi)  # its trained weights, frozen
    """
    return {"network": {"kind": network.name, "config": network.get_config()}, "weight": weight,
            "layers": layers, "pixel_weight": pixel_weight}
