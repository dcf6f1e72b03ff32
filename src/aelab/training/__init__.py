"""The one trainer shared by every model."""

from aelab.training.callbacks import Callback
from aelab.training.distributed import is_main_process
from aelab.training.tracking import TRACKERS, MLflowTracker, TensorBoardTracker
from aelab.training.trainer import (
    LR_SCHEDULES,
    OPTIMIZERS,
    PRECISIONS,
    NonFiniteLossError,
    TrainResult,
    train,
)

__all__ = ["LR_SCHEDULES", "OPTIMIZERS", "PRECISIONS", "TRACKERS", "Callback", "MLflowTracker",
           "NonFiniteLossError", "TensorBoardTracker", "TrainResult", "is_main_process", "train"]
