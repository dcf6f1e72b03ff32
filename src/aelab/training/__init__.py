"""The one trainer shared by every model."""

from aelab.training.trainer import (
    LR_SCHEDULES,
    OPTIMIZERS,
    NonFiniteLossError,
    TrainResult,
    train,
)

__all__ = ["LR_SCHEDULES", "OPTIMIZERS", "NonFiniteLossError", "TrainResult", "train"]
