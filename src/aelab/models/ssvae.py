"""Semi-supervised VAE (M2): the class is a latent variable, observed for the labelled rows.

Kingma, Rezende, Mohamed & Welling, *Semi-Supervised Learning with Deep Generative Models*,
NeurIPS 2014, model M2: p(y) = Cat(1/K), p(z) = N(0, I), p(x | y, z) the decoder;
q(z | x, y) the conditional Gaussian encoder and q(y | x) a classifier. Labelled rows are
scored by the bound L(x, y) on -log p(x, y); unlabelled ones by
U(x) = Σ_y q(y|x) L(x, y) + KL(q(y|x) || p(y)) (:func:`aelab.core.losses.label_marginal_bound`),
which trains the classifier on them too; the labelled rows add α · (-log q(y | x)).
Unlabelled rows carry the label -1, so one batch mixes both and the one trainer fits it.
Run on the codes of a VAE trained first on all the data (M1), this is M1+M2.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from aelab.core.losses import categorical_kl_uniform, label_marginal_bound
from aelab.core.validation import UNLABELLED, check_class_labels, check_number, check_widths
from aelab.models.registry import register
from aelab.models.softmax import SoftmaxClassifier
from aelab.models.vae import VAE
from aelab.nn.backbones import feedforward


@register("ssvae")
class SemiSupervisedVAE(VAE, SoftmaxClassifier):
    """Kingma et al.'s M2: a conditional VAE whose label is inferred where it is missing.

    Train it with ``aelab.train(model, X, y)`` where ``y`` holds a class in
    ``[0, n_classes)`` for the labelled rows and ``-1`` for the others; ``predict`` and
    ``predict_proba`` then classify with q(y | x). ``encode``, ``decode``, ``reconstruct``
    and ``sample`` take the class like any conditional model (``sample(n, y=...)`` draws the
    requested class in the style z ~ p(z)).

    Loss terms (sums over the batch's rows divided by its size): ``recon`` = E[-log p(x|y,z)]
    and ``kl`` = β·KL(q(z|x,y) || p(z)), each taken under q(y|x) on unlabelled rows;
    ``label_kl`` = -log p(y) = log K on labelled rows and KL(q(y|x) || p(y)) on unlabelled
    ones; ``classification`` = α · -log q(y|x) on labelled rows. The first three sum to the
    negative bound on log p(x, y) (labelled) or log p(x) (unlabelled).

    Parameters
    ----------
    n_classes : int
        K, the number of classes (at least 2).
    classifier_hidden : tuple of int, optional
        Hidden widths of q(y | x) (default: ``hidden``).
    classification_weight : float, default=1.0
        α, the weight of -log q(y|x) per labelled row, beside the per-row bound (in nats).
        Kingma et al. set α = 0.1·N on summed objectives; what fits depends on the share of
        labelled rows in a batch, so choose it on validation.
    **kwargs
        Passed to :class:`~aelab.models.vae.VAE` (one stochastic layer, ``objective="elbo"``;
        ``label_mmd_weight`` defaults to 0 here: M2 has no such term).
    """

    trained_with_labels = True

    def __init__(self, input_shape, n_classes: int, classifier_hidden=None,
                 classification_weight: float = 1.0, label_mmd_weight: float = 0.0, **kwargs):
        owner = type(self).__name__
        check_number(n_classes, "n_classes", owner, kind=int, low=2)
        self.classification_weight = check_number(classification_weight, "classification_weight",
                                                  owner, low=0.0)
        if kwargs.get("objective", "elbo") != "elbo" or kwargs.get("intermediate_dims"):
            raise ValueError(f"{owner} (M2) has one stochastic layer and the ELBO objective; got "
                             f"objective={kwargs.get('objective')!r}, intermediate_dims="
                             f"{kwargs.get('intermediate_dims')!r}. Use the 'vae' model for those.")
        super().__init__(input_shape, n_classes=n_classes, label_mmd_weight=label_mmd_weight, **kwargs)
        self.classifier_hidden = (self.hidden if classifier_hidden is None
                                  else check_widths(classifier_hidden, "classifier_hidden", owner))
        self.classifier = feedforward((self.n_features, *self.classifier_hidden, self.n_classes),
                                      "linear" if self.linear else self.activation, owner)

    # ------------------------------------------------------------------ q(y | x)
    def _class_logits(self, x: Tensor) -> Tensor:
        """Logits of q(y | x) for a scaled batch."""
        return self.classifier(x.reshape(x.shape[0], -1))

    def logits(self, x: Tensor) -> Tensor:
        """Logits of q(y | x) for a raw batch (what ``predict_proba`` reads)."""
        return self._class_logits(self.scaler(x))

    def partial_labels(self, y, n: int) -> Tensor:
        """``n`` labels in ``[0, n_classes)``, or -1 for an unlabelled row; as int64."""
        if y is None:
            return torch.full((n,), UNLABELLED, dtype=torch.long)
        return check_class_labels(y, n, self.n_classes, unlabelled=True)

    def likelihood_labels(self, y, n: int) -> Tensor | None:
        """Labels are optional here: without them ``log_weights`` sums the class out."""
        return None if y is None else self.check_labels(y, n)

    # ------------------------------------------------------------------ the bound
    def _per_class_bound(self, x: Tensor, k: int = 1) -> tuple[Tensor, Tensor]:
        """E_q[-log p(x_j | y, z)] per feature and KL(q(z|x,y) || p(z)) for every class y:
        shapes (n, K, n_features) and (n, K), for a scaled batch."""
        n, K = x.shape[0], self.n_classes
        labels = torch.arange(K, device=x.device).repeat_interleave(n)  # class-major rows
        nll, kl = self.elbo_terms(x.repeat(K, *([1] * (x.dim() - 1))), k, labels)
        return nll.reshape(K, n, -1).transpose(0, 1), kl.reshape(K, n).T

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        x = self.scaler(x)
        n = x.shape[0]
        y = self.partial_labels(y, n).to(x.device)
        seen = y != UNLABELLED
        logits = self._class_logits(x)
        beta = self._beta_now if self.training else self.beta
        recon = kl = label_kl = classification = x.new_zeros(())
        if seen.any():
            nll, kl_seen = self.elbo_terms(x[seen], self.k, y[seen])
            recon = recon + nll.sum()
            kl = kl + kl_seen.sum()
            label_kl = label_kl + int(seen.sum()) * math.log(self.n_classes)
            classification = F.cross_entropy(logits[seen], y[seen], reduction="sum")
        if not seen.all():
            nll, kl_unseen = self._per_class_bound(x[~seen], self.k)
            q = F.softmax(logits[~seen], dim=1)
            recon = recon + (q * nll.sum(2)).sum()
            kl = kl + (q * kl_unseen).sum()
            label_kl = label_kl + categorical_kl_uniform(logits[~seen]).sum()
        return {"recon": recon / n, "kl": beta * kl / n, "label_kl": label_kl / n,
                "classification": self.classification_weight * classification / n}

    def feature_nll(self, x: Tensor, k: int = 1) -> Tensor:
        """The bound U(x) on -log p(x) of a raw batch, the label unobserved, split over the
        features: each carries its expected -log p(x_j | y, z) under q(y|x) q(z|x,y), plus an
        equal share of the KL terms; rows sum to U(x)."""
        x = self.scaler(x)
        nll, kl = self._per_class_bound(x, k)
        logits = self._class_logits(x)
        q = F.softmax(logits, dim=1)
        shared = label_marginal_bound(kl, logits)  # Σ_y q(y|x) KL_y + KL(q(y|x) || p(y))
        return (q[:, :, None] * nll).sum(1) + shared[:, None] / nll.shape[2]

    def log_weights(self, x: Tensor, k: int, y: Tensor | None = None) -> Tensor:
        """log p(x, y, z) - log q(y, z | x) for k draws per example of a scaled batch, (k, n):
        y ~ q(y|x) then z ~ q(z|x, y); with labels ``y`` given, log p(x, y, z) - log q(z|x, y)."""
        n = x.shape[0]
        log_py = -math.log(self.n_classes)
        if y is not None:
            return super().log_weights(x, k, y) + log_py
        log_q = F.log_softmax(self._class_logits(x), dim=1)
        draws = torch.distributions.Categorical(logits=log_q).sample((k,))  # (k, n)
        w = super().log_weights(x.repeat(k, *([1] * (x.dim() - 1))), 1, draws.reshape(-1))
        return w.reshape(k, n) + log_py - log_q.gather(1, draws.T).T
