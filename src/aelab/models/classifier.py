"""An autoencoder's encoder with a softmax head, fine-tuned on labels by the one trainer.

The supervised fine-tuning stage of Hinton & Salakhutdinov (2006), Bengio et al.
(2007) and Vincent et al., *Stacked Denoising Autoencoders*, JMLR 11 (2010) §3.5:
p(y | x) = softmax(W·f(x) + b), trained with cross-entropy. Not an autoencoder, so
not in the ``MODELS`` registry; ``aelab.load`` (or :meth:`Classifier.load`) reads it back.
"""

from __future__ import annotations

import copy

from torch import Tensor, nn

from aelab.core.seeding import seeded
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.contract import Phase
from aelab.models.registry import get_model_class, register_saved_kind
from aelab.models.softmax import SoftmaxClassifier


@register_saved_kind("classifier")
class Classifier(SoftmaxClassifier):
    """Encoder f (any registered autoencoder's) followed by a linear softmax layer.

    Parameters
    ----------
    encoder : dict
        ``{"model": name, "config": {...}}``: the registered autoencoder whose encoder
        path (input scaling, encoder, and for a variational model the posterior means)
        this classifier uses, as returned by ``{"model": ae.name, "config":
        ae.get_config()}``. Built with a fresh random initialisation;
        :meth:`from_autoencoder` copies trained weights instead.
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
        self.encoder = {"model": source.name, "config": source.get_config()}
        self.input_shape = source.input_shape
        self.latent_dim = source.latent_dim
        # Raw batch → code, the source's own modules; its decoder is left behind.
        self.features = source.encoder_path()
        self.head = nn.Sequential(nn.Dropout(self.dropout), nn.Linear(self.latent_dim, self.n_classes))

    @property
    def scaler(self):
        """The input scaling (the source autoencoder's, fitted by its rule)."""
        return self.features.scaler

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
            Copy ``model``'s encoder path: its weights and fitted input scaling. ``False``
            builds the same architecture from a random initialisation (the baseline).
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
            clf.features.load_state_dict(copy.deepcopy(model.encoder_path().state_dict()))
        return clf.to(model.device)

    # ------------------------------------------------------------------ what the trainer calls
    def logits(self, x: Tensor) -> Tensor:
        """Unnormalised log-probabilities of a raw batch, shape ``(batch, n_classes)``."""
        return self.head(self.features(x))

    def training_phases(self) -> list[Phase]:
        """One phase: the encoder and the head, stepped on ``ce``."""
        return [Phase("main", [p for p in self.parameters() if p.requires_grad], self.loss_terms)]

    def prepare_training(self, batches) -> None:
        """Fit the input scaling by the source autoencoder's rule, unless it was copied."""
        if not self.scaler.is_fitted:
            self.scaler.fit(batches)

    # ------------------------------------------------------------------ public API
