"""What every classifier that aelab trains shares: p(y | x) = softmax(logits(x)), trained on
the cross-entropy by the one trainer, and the scikit-learn-style predictions.

A subclass sets ``n_classes`` and defines ``logits(x)`` (raw batch → (n, n_classes)).
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor

from aelab.core.validation import check_class_labels
from aelab.models.module import Model


class SoftmaxClassifier(Model):
    """A model whose output is a distribution over ``n_classes`` labels."""

    n_classes: int  # set by the subclass, which also defines logits(x) -> (n, n_classes)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``ce``: cross-entropy -log p(y | x), averaged over the batch."""
        if y is None:
            raise ValueError(f"A {type(self).__name__} is trained with labels: aelab.train(model, X, y).")
        y = check_class_labels(y, x.shape[0], self.n_classes,
                               " Encode the classes as 0..n_classes-1 (e.g. "
                               "sklearn.preprocessing.LabelEncoder).")
        return {"ce": F.cross_entropy(self.logits(x), y)}

    def on_epoch_start(self, epoch: int) -> None:
        """Nothing changes with the epoch (the trainer calls this before each one)."""

    def predict_proba(self, X, batch_size: int = 1024) -> np.ndarray:
        """p(y = k | x) for every class, shape ``(n, n_classes)``."""
        x = self.as_input(X, what="predict_proba")
        return self.batched(lambda xb, _: F.softmax(self.logits(xb), dim=1), x,
                            batch_size).cpu().numpy()

    def predict(self, X, batch_size: int = 1024) -> np.ndarray:
        """The most probable class of each example, shape ``(n,)``."""
        return self.predict_proba(X, batch_size).argmax(1)

    def score(self, X, y) -> float:
        """Accuracy on ``(X, y)``, in [0, 1]."""
        y = np.asarray(y)
        if y.shape[0] != len(X):
            raise ValueError(f"y has {y.shape[0]} labels but X has {len(X)} examples; they must match.")
        return float(np.mean(self.predict(X) == y))
