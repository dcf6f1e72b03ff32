"""Seeded randomness without side effects: the same seed gives the same numbers, and the
caller's global RNG is left as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def seeded(seed: int | None, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run the block on a fork of torch's RNG (CPU, and ``device`` if it is a GPU), seeded.

    With ``seed=None`` nothing is forked: draws advance the global RNG as usual.
    """
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        yield
