import os
from pathlib import Path

import numpy as np
import pytest
import torch

# Tiny models run fastest on one thread, and it keeps the suite robust on a busy machine.
torch.set_num_threads(1)


@pytest.fixture
def tiny_data():
    """200 × 12 data in [0, 1] with low-rank structure (labels: 3 classes)."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 3))
    w = rng.normal(size=(3, 12))
    x = 1.0 / (1.0 + np.exp(-(z @ w)))
    y = (z[:, 0] > 0).astype(np.int64) + (z[:, 1] > 0)
    return x.astype(np.float32), y


@pytest.fixture(scope="session")
def digits():
    import aelab

    return aelab.data.load("digits")


def shared_data_dir() -> Path | None:
    env = os.environ.get("AELAB_DATA_DIR")
    for cand in ([Path(env)] if env else []) + [Path(__file__).resolve().parents[2] / "shared" / "data"]:
        if (cand / "mnist").is_dir():
            return cand
    return None


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks train fastest on one thread (and a busy machine cannot stall them)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
