"""The contract between a model and the one trainer, written down once.

:func:`aelab.train` asks a model for exactly what :class:`Trainable` lists, plus the
``torch.nn.Module`` basics (``to``, ``train``/``eval``, ``state_dict``/``load_state_dict``).
It never asks a model its name. Autoencoders and the classifier both satisfy it; a new
kind of model does by defining these five methods (most inherit them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from torch import Tensor, nn


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
    # This phase's first-moment decay (Adam's β1, SGD's momentum); None: the optimizer's
    # default. Adversarial players often take 0.5 (Radford et al. 2016).
    momentum: float | None = None
    # Whether its terms make up the reported train/loss and val/loss (what early stopping
    # watches); an adversary's terms are logged but not part of the model's loss.
    monitor: bool = True


@runtime_checkable
class Trainable(Protocol):
    """What the trainer calls on a model, in the order it calls it."""

    def as_input(self, data) -> Tensor:
        """User data (array, tensor) validated and shaped as one batch ``(n, *input_shape)``."""

    def prepare_training(self, batches: Callable[[], Iterator[Tensor]]) -> None:
        """Before the first epoch (not on resume): fit what is fitted to the data before
        training (input scaling), then check the data suit the model. ``batches()`` yields
        the raw training batches afresh at each call."""

    def training_phases(self) -> list[Phase]:
        """The optimisation phases run on every batch, each with its named loss terms."""

    def on_epoch_start(self, epoch: int) -> None:
        """Called before each epoch (0-based), e.g. for a KL warm-up."""

    def get_config(self) -> dict:
        """Constructor arguments, JSON-ready: a checkpoint resumes only the same model."""
