"""Greedy layer-wise pretraining: a stack of shallow autoencoders, unrolled into one deep one.

Each layer is a one-hidden-layer autoencoder trained (by :func:`aelab.train`) on the
codes of the layer below; the stack is then unrolled into a single deep ``ae`` and
fine-tuned end to end — Hinton & Salakhutdinov, *Reducing the Dimensionality of
Data with Neural Networks*, Science 313 (2006); Bengio et al., *Greedy Layer-Wise
Training of Deep Networks*, NIPS 2006; Vincent et al., JMLR 11 (2010) §3.5.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from aelab.core.seeding import seeded
from aelab.core.validation import as_float_array, check_choice, check_unknown_options, check_widths
from aelab.models import Autoencoder, get_model_class
from aelab.nn.layers import TiedLinear
from aelab.training import TrainResult, train

logger = logging.getLogger("aelab")

# What the unrolled decoder applies to an inner layer's raw output, per likelihood:
# it is the activation that makes the unrolled decoder reproduce that layer's mean.
_LIKELIHOOD_ACTIVATION = {"bernoulli": "sigmoid", "gaussian": "linear"}

# Set by the stack for every layer; a layer option naming one of these is a mistake.
_STACK_KEYS = ("input_shape", "latent_dim", "hidden", "activation", "code_activation",
               "likelihood", "linear", "backbone")


@dataclass
class StackResult:
    """What :func:`greedy_pretrain` returns.

    Attributes
    ----------
    layers : list of Autoencoder
        The trained shallow autoencoders, input side first; ``layers[i]`` reads the
        codes of ``layers[i - 1]``.
    results : list of TrainResult
        One per layer, from :func:`aelab.train`.
    train_time_s : float
        Wall time of the whole pretraining.
    """

    layers: list[Autoencoder]
    results: list[TrainResult] = field(default_factory=list)
    train_time_s: float = 0.0

    @property
    def histories(self) -> list[dict[str, list[float]]]:
        """Per-layer training histories (``train/recon``, ... per epoch)."""
        return [r.history for r in self.results]

    @property
    def widths(self) -> tuple[int, ...]:
        """Code width of each layer, input side first."""
        return tuple(layer.latent_dim for layer in self.layers)

    def encode(self, X, depth: int | None = None) -> np.ndarray:
        """Codes of the top layer (or of layer ``depth``, 1-based) for ``X``."""
        h = X
        for layer in self.layers[: depth or len(self.layers)]:
            h = layer.encode(h)
        return h

    def reconstruct(self, X) -> np.ndarray:
        """Encode up through every layer, then decode down: what the stack reconstructs."""
        h = self.encode(X)
        for layer in reversed(self.layers):
            h = layer.decode(h)
        return h

    def unroll_is_exact(self) -> bool:
        """Whether :meth:`unroll` (untied) computes exactly what :meth:`reconstruct` does.

        True when every inner layer's likelihood mean is the stack's hidden activation
        (sigmoid codes with Bernoulli decoders, or linear codes with Gaussian ones).
        """
        act = _hidden_activation(self.layers)
        return all(_LIKELIHOOD_ACTIVATION[layer.likelihood] == act for layer in self.layers[1:])

    def unroll(self, tied: bool = False, seed: int | None = None) -> Autoencoder:
        """One deep registered ``ae`` (MLP backbone) holding the stack's weights.

        Encoder i is layer i's encoder; the decoder runs the layers' decoders in
        reverse. The input scaling is the first layer's. The result trains, saves and
        loads like any model.

        Parameters
        ----------
        tied : bool, default=False
            ``False`` copies each layer's decoder weights (for layers trained with
            ``tied=True`` these are the encoder's, transposed — Hinton & Salakhutdinov's
            unrolling, free to diverge in fine-tuning). ``True`` makes the deep
            decoder share storage with the deep encoder; layers trained untied lose
            their decoder weights (only the decoder biases are copied).
        seed : int, optional
            Seed of the (immediately overwritten) initialisation.

        Returns
        -------
        Autoencoder
            A model named ``ae`` with ``hidden = widths[:-1]``, ``latent_dim = widths[-1]``.
        """
        layers = self.layers
        for i, layer in enumerate(layers):
            if layer.code_layers():
                raise ValueError(
                    f"Layer {i + 1} ({layer.name}) applies {layer.code_layers()} after its "
                    "encoder, which an unrolled 'ae' cannot represent. Unroll a stack without "
                    "code layers (e.g. sparse penalty 'l1' or 'kl' instead of 'topk')."
                )
        first, top = layers[0], layers[-1]
        config = {
            "input_shape": first.input_shape,
            "hidden": tuple(layer.latent_dim for layer in layers[:-1]),
            "latent_dim": top.latent_dim,
            "activation": _hidden_activation(layers),
            "code_activation": _code_activation(top),
            "likelihood": first.likelihood,
            "tied": bool(tied),
            "preprocess": first.preprocess,
        }
        cls = get_model_class("ae")
        with seeded(seed):
            deep = cls(**config)
        deep.scaler.load_state_dict(first.scaler.state_dict())  # fitted: fine-tuning keeps it

        # The backbones name their weight layers: encoder input side first, decoder code side
        # first, so the deep decoder's i-th from the end is layer i's decoder.
        enc, dec = deep.encoder.affine_maps(), deep.decoder.affine_maps()
        with torch.no_grad():
            for layer, e, d in zip(layers, enc, reversed(dec)):
                (src_e,) = layer.encoder.affine_maps()
                (src_d,) = layer.decoder.affine_maps()
                e.weight.copy_(src_e.weight)
                e.bias.copy_(src_e.bias)
                if not tied:
                    d.weight.copy_(src_d.weight.t() if isinstance(src_d, TiedLinear) else src_d.weight)
                d.bias.copy_(src_d.bias)
        return deep.to(first.device)


def greedy_pretrain(
    X,
    widths: Sequence[int],
    layer: str = "ae",
    *,
    activation: str = "sigmoid",
    code_activation: str = "linear",
    likelihood: str = "gaussian",
    layer_options: Mapping | Sequence[Mapping] | None = None,
    seed: int = 0,
    callback: Callable[[int, dict], None] | None = None,
    **train_options,
) -> StackResult:
    """Train a stack of shallow autoencoders greedily, each on the codes of the one below.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples, *input_shape)
        Training data for the first layer.
    widths : sequence of int
        Code width of each layer from the input side, e.g. ``(1000, 500, 250, 30)``.
    layer : str, default="ae"
        The registered model every layer is (``"ae"``, ``"denoising"``,
        ``"contractive"``, ``"sparse"``, ...), each with one hidden layer: its code.
    activation : str, default="sigmoid"
        Code nonlinearity of every layer but the last; it becomes the deep model's
        hidden activation. ``"sigmoid"`` codes lie in (0, 1), so the layers above
        reconstruct them with a Bernoulli likelihood and unrolling is exact.
    code_activation : str, default="linear"
        Code nonlinearity of the last layer (Hinton & Salakhutdinov's 30-unit code
        is linear).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder likelihood of the first layer (the data's). The layers above use
        ``bernoulli`` when ``activation="sigmoid"`` and ``gaussian`` otherwise.
    layer_options : dict or sequence of dicts, optional
        Further constructor options of the layer model (e.g. ``corruption``,
        ``noise``, ``tied``, ``contraction_weight``): one dict for every layer, or one
        per layer. The stack sets the widths, activations and likelihoods itself.
    seed : int, default=0
        Layer i is initialised with ``seed + i`` and trained with ``seed + i``.
    callback : callable(epoch, logs), optional
        Called after every epoch of every layer; ``logs["layer"]`` is the 1-based layer.
    **train_options
        Passed to :func:`aelab.train` for every layer (``epochs``, ``batch_size``,
        ``lr``, ``progress``, ``validation_data``, ...). ``validation_data`` is encoded
        through the layers below like the training data.

    Returns
    -------
    StackResult
        The trained layers and their histories; ``.unroll()`` gives one deep model.

    Examples
    --------
    >>> import aelab
    >>> ds = aelab.data.load("digits")
    >>> stack = aelab.greedy_pretrain(ds.X_train, (32, 8), layer="denoising",
    ...                               layer_options={"noise": 0.2}, epochs=2)
    >>> stack.widths
    (32, 8)
    >>> deep = stack.unroll()
    >>> deep.hidden, deep.latent_dim
    ((32,), 8)
    """
    owner = "greedy_pretrain"
    widths = check_widths(widths, "widths", owner, allow_empty=False)
    cls = get_model_class(layer)
    check_choice(likelihood, _LIKELIHOOD_ACTIVATION, "likelihood", owner)
    per_layer = _layer_options(layer_options, len(widths), cls)
    if "y" in train_options:
        raise TypeError("greedy_pretrain is unsupervised: it takes no labels 'y'.")
    inner_likelihood = "bernoulli" if activation == "sigmoid" else "gaussian"
    validation = train_options.pop("validation_data", None)

    t0 = time.perf_counter()
    h = as_float_array(X, name="X")
    layers, results = [], []
    for i, width in enumerate(widths):
        top = i == len(widths) - 1
        options = dict(per_layer[i])
        if i > 0:  # the codes below are reconstructed as they are
            options["preprocess"] = "none"
        with seeded(seed + i):
            model = cls(
                input_shape=h.shape[1:] if i == 0 else int(np.prod(h.shape[1:])),
                latent_dim=width,
                hidden=(),
                activation=activation,  # unused: a shallow layer has no hidden layers
                code_activation=code_activation if top else activation,
                likelihood=likelihood if i == 0 else inner_likelihood,
                **options,
            )
        logger.info("greedy_pretrain: layer %d/%d (%s, %s -> %d)", i + 1, len(widths), layer,
                    "x".join(map(str, model.input_shape)), width)
        result = train(model, h, validation_data=validation, seed=seed + i,
                       callback=_layer_callback(callback, i + 1), **train_options)
        layers.append(model)
        results.append(result)
        if not top:
            h = model.encode(h)
            validation = None if validation is None else model.encode(validation)
    return StackResult(layers, results, time.perf_counter() - t0)


def _layer_options(layer_options, n_layers: int, cls) -> list[dict]:
    owner = "greedy_pretrain"
    if layer_options is None:
        per_layer = [{} for _ in range(n_layers)]
    elif isinstance(layer_options, Mapping):
        per_layer = [dict(layer_options) for _ in range(n_layers)]
    elif isinstance(layer_options, Sequence) and all(isinstance(o, Mapping) for o in layer_options):
        if len(layer_options) != n_layers:
            raise ValueError(
                f"The 'layer_options' parameter of {owner} has {len(layer_options)} dicts but "
                f"there are {n_layers} layers. Pass one dict per layer, or one dict for all."
            )
        per_layer = [dict(o) for o in layer_options]
    else:
        raise TypeError(
            f"The 'layer_options' parameter of {owner} must be a dict or a list of dicts. "
            f"Got {layer_options!r} instead."
        )
    for options in per_layer:
        taken = sorted(set(options) & set(_STACK_KEYS))
        if taken:
            raise ValueError(
                f"layer_options sets {taken}, which {owner} sets for every layer. Use widths=, "
                "activation=, code_activation= and likelihood= of greedy_pretrain instead."
            )
        check_unknown_options(options, cls.config_keys(), f"Layer model {cls.name!r}")
    return per_layer


def _layer_callback(callback, layer: int):
    if callback is None:
        return None

    def report(epoch: int, logs: dict) -> None:
        callback(epoch, {"layer": layer, **logs})

    return report


def _code_activation(model: Autoencoder) -> str:
    return "linear" if model.linear else model.resolved_code_activation()


def _hidden_activation(layers: list[Autoencoder]) -> str:
    """The one code activation shared by every layer below the top."""
    acts = {_code_activation(layer) for layer in layers[:-1]}
    if len(acts) > 1:
        raise ValueError(
            f"The stack's inner layers use different code activations {sorted(acts)}; an "
            "unrolled 'ae' has one hidden activation. Build the stack with one activation."
        )
    return acts.pop() if acts else "relu"
