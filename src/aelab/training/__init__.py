"""The one trainer shared by every model."""

from aelab.training.callbacks import Callback

from aelab.training.trainer import (
    LR_SCHEDULES,
    OPTIMIZERS,
    NonFiniteLossError,
    TrainResult,
    train,
)

__all__ = ["Callback", "LR_SCHEDULES", "OPTIMIZERS", "NonFiniteLossError", "TrainResult", "train"]
