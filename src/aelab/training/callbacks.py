"""What the trainer tells the outside world while it runs.

A callback sees three moments of a call to :func:`aelab.train`: the start (with the
model and the training settings), the end of every epoch (with that epoch's values),
and the end (with the :class:`~aelab.training.TrainResult`). Experiment trackers
(:mod:`aelab.training.tracking`) are callbacks; so is any plain function
``f(epoch, logs)``. Under ``torchrun`` only rank 0 calls them.
"""

from __future__ import annotations

from collections.abc import Callable


class Callback:
    """Base of trainer callbacks: override any of the three hooks (each does nothing here)."""

    def on_train_begin(self, model, settings: dict) -> None:
        """Called once before the first epoch.

        Parameters
        ----------
        model : Trainable
            The model about to be trained (its ``get_config()`` is the model's config).
        settings : dict
            The trainer's arguments (epochs, batch_size, lr, optimizer, ...), JSON-ready.
        """

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        """Called after each epoch with the epoch (1-based) and its values
        (``train/<term>``, ``val/<term>``, ``lr``, ``epoch_time_s``)."""

    def on_train_end(self, result) -> None:
        """Called once with the :class:`~aelab.training.TrainResult`, also when training
        stopped early (not when it raised)."""


class FunctionCallback(Callback):
    """A plain function ``f(epoch, logs)`` called after each epoch."""

    def __init__(self, fn: Callable[[int, dict], None]):
        self.fn = fn

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.fn(epoch, logs)


def as_callbacks(callback) -> list[Callback]:
    """Normalise ``None``, a function, a :class:`Callback` or a list of either."""
    if callback is None:
        return []
    items = callback if isinstance(callback, (list, tuple)) else [callback]
    out = []
    for item in items:
        if isinstance(item, Callback):
            out.append(item)
        elif callable(item):
            out.append(FunctionCallback(item))
        else:
            raise TypeError(f"callback must be a function f(epoch, logs), an aelab.training.Callback "
                            f"or a list of them; got {type(item).__name__}.")
    return out
