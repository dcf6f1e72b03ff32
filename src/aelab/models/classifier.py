"""An autoencoder's encoder with a softmax head, fine-tuned on labels by the one trainer.

The supervised fine-tuning stage of Hinton & Salakhutdinov (2006), Bengio et al.
(2007) and Vincent et al., *Stacked Denoising Autoencoders*, JMLR 11 (2010) §3.5:
p(y | x) = softmax(W·f(x) + b), trained with cross-entropy. Not an autoencoder, so
not in the ``MODELS`` registry; ``aelab.load`` (or :meth:`Classifier.load`) reads it back.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.models.base import Autoencoder, Phase
from aelab.models.registry import get_model_class, register_saved_kind
from aelab.seeding import seeded
from aelab.validation import check_number


@register_saved_kind("classifier")
class Classifier(nn.Module):
    """Encoder f (any registered autoencoder's) followed by a linear softmax layer.

    Parameters
    ----------
    encoder : dict
        ``{"model": name, "config": {...}}``: the registered autoencoder whose encoder
        (and input scaling) this classifier uses, as returned by
        ``{"model": ae.name, "config": ae.get_config()}``. Built with a fresh random
        initialisation; :meth:`from_autoencoder` copies trained weights instead.
    n_classes : int
        Number of classes; labels are integers in ``[0, n_classes)``.
    dropout : float in [0, 1), default=0.0
        Dropout on the code before the softmax layer, while training.

    Examples
    --------
    >>> import aelab
    >>> ds = aelab.data.load("digits")
    >>> ae = aelab.create("ae", input_shape=64, latent_dim=16, hidden=(32,), seed=0)
    >>> _ = aelab.train(ae, ds.X_train, epochs=2)
    >>> clf = aelab.Classifier.from_autoencoder(ae, n_classes=10)
    >>> _ = aelab.train(clf, ds.X_train, ds.y_train, epochs=2)
    >>> clf.predict_proba(ds.X_test).shape
    (360, 10)
    """

    def __init__(self, encoder: dict, n_classes: int, dropout: float = 0.0):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(encoder, dict) or set(encoder) != {"model", "config"}:
            raise TypeError(
                f"The 'encoder' parameter of {owner} must be a dict {{'model': name, 'config': "
                f"{{...}}}}, e.g. {{'model': ae.name, 'config': ae.get_config()}}. Got {encoder!r} "
                "instead. To start from a trained model use Classifier.from_autoencoder(ae, ...)."
            )
        self.n_classes = check_number(n_classes, "n_classes", owner, kind=int, low=2)
        self.dropout = check_number(dropout, "dropout", owner, low=0.0, high=1.0,
                                    high_inclusive=False)
        source = get_model_class(encoder["model"])(**encoder["config"])
        if getattr(source, "intermediate_dims", ()):
            raise ValueError(
                f"{owner} reads the code of a single encoder; a {source.name!r} with "
                "intermediate_dims encodes through several stochastic layers. Build the "
                "classifier on a model without intermediate_dims."
            )
        self.encoder_spec = {"model": source.name, "config": source.get_config()}
        self.input_shape = source.input_shape
        self.latent_dim = source.latent_dim
        self.encoder = source.encoder
        self.scaler = source.scaler  # the same module: the source fits it (its own rules)
        self._source = (source,)  # a tuple keeps its decoder out of this module tree
        self.head = nn.Sequential(nn.Dropout(self.dropout), nn.Linear(self.latent_dim, self.n_classes))

    @classmethod
    def from_autoencoder(cls, model: Autoencoder, n_classes: int, *, pretrained: bool = True,
                         dropout: float = 0.0, seed: int | None = None) -> Classifier:
        """A classifier on ``model``'s encoder.

        Parameters
        ----------
        model : Autoencoder
            A registered autoencoder, usually trained.
        n_classes : int
        pretrained : bool, default=True
            Copy ``model``'s encoder weights and fitted input scaling. ``False`` builds
            the same architecture from a random initialisation (the baseline).
        dropout : float, default=0.0
        seed : int, optional
            Seed for the random initialisation (the global RNG is left as it was).
        """
        if not isinstance(model, Autoencoder):
            raise TypeError(
                f"from_autoencoder needs an aelab autoencoder (see aelab.list_models()); got "
                f"{type(model).__name__}."
            )
        with seeded(seed):
            clf = cls({"model": model.name, "config": model.get_config()}, n_classes, dropout)
        if pretrained:
            clf.encoder.load_state_dict(copy.deepcopy(model.encoder.state_dict()))
            if model.scaler.fitted:
                clf.scaler.load_config(model.scaler.to_config())
        return clf.to(model.device)

    # ------------------------------------------------------------------ what the trainer calls
    def logits(self, x: Tensor) -> Tensor:
        """Unnormalised log-probabilities, shape ``(batch, n_classes)``.

        The features are the source model's code: f(x), or the posterior mean of a VAE.
        """
        return self.head(self._source[0]._encode(x))

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``ce``: cross-entropy -log p(y | x), averaged over the batch."""
        if y is None:
            raise ValueError("A Classifier is trained with labels: aelab.train(clf, X, y).")
        if y.dtype.is_floating_point or int(y.min()) < 0 or int(y.max()) >= self.n_classes:
            raise ValueError(
                f"Classifier labels must be integers in [0, {self.n_classes}); got "
                f"{y.dtype} values in [{y.min().item()}, {y.max().item()}]. Encode the classes "
                "as 0..n_classes-1 (e.g. sklearn.preprocessing.LabelEncoder)."
            )
        return {"ce": F.cross_entropy(self.logits(x), y)}

    def training_phases(self) -> list[Phase]:
        """One phase: the encoder and the head, stepped on ``ce``."""
        return [Phase("main", [p for p in self.parameters() if p.requires_grad], self.loss_terms)]

    def fit_preprocessing(self, batches) -> None:
        """Fit the input scaling as the source autoencoder would (only if not copied)."""
        self._source[0].fit_preprocessing(batches)

    def check_training_data(self, x: Tensor) -> None:
        """Any real-valued input is valid for a classifier."""

    def on_epoch_start(self, epoch: int) -> None:
        """Nothing changes with the epoch (the trainer calls this before each one)."""

    def as_input(self, data, shape=None, what: str = "input") -> Tensor:
        """Validate user data against the input shape, as a float tensor."""
        return self._source[0].as_input(data, shape, what)

    def get_config(self) -> dict:
        """Constructor keyword arguments, JSON-ready."""
        return {"encoder": self.encoder_spec, "n_classes": self.n_classes, "dropout": self.dropout}

    # ------------------------------------------------------------------ public API
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def predict_proba(self, X, batch_size: int = 1024) -> np.ndarray:
        """p(y = k | x) for every class, shape ``(n, n_classes)``."""
        x = self.as_input(X, what="predict_proba")
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                out = [F.softmax(self.logits(x[i : i + batch_size].to(self.device)), dim=1)
                       for i in range(0, x.shape[0], batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out).cpu().numpy()

    def predict(self, X, batch_size: int = 1024) -> np.ndarray:
        """The most probable class of each example, shape ``(n,)``."""
        return self.predict_proba(X, batch_size).argmax(1)

    def score(self, X, y) -> float:
        """Accuracy on ``(X, y)``, in [0, 1]."""
        y = np.asarray(y)
        if y.shape[0] != len(X):
            raise ValueError(f"y has {y.shape[0]} labels but X has {len(X)} examples; they must match.")
        return float(np.mean(self.predict(X) == y))

    def save(self, path, metadata: dict | None = None) -> None:
        """Write ``config.json`` and ``model.safetensors`` into directory ``path``."""
        from aelab.persistence import save_model

        save_model(self, path, metadata=metadata)

    @classmethod
    def load(cls, path, device: str | torch.device = "cpu") -> Classifier:
        """Rebuild a classifier saved by :meth:`save` (safetensors + JSON, no pickle)."""
        from aelab.persistence import load_model

        return load_model(path, device, model_class=cls)
