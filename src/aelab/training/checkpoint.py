"""Training checkpoints: one safetensors file holding weights, optimizer state and RNG
state, with the JSON-able rest (epoch, history, early-stopping state) in its header.

One file, written to a temporary name and renamed, so a checkpoint is either the
previous one or the new one, never half of each. No pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load

from aelab.core.io import atomic_write_bytes, tensors_to_bytes

CHECKPOINT_FILE = "checkpoint.safetensors"


def optimizer_to_flat(opt: torch.optim.Optimizer, prefix: str):
    """Split an optimizer's state dict into tensors (for safetensors) and JSON-able meta."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}/{idx}/{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_flat(opt: torch.optim.Optimizer, tensors: dict, meta: dict, prefix: str):
    """Inverse of :func:`optimizer_to_flat`."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "/"):
            idx, name = key[len(prefix) + 1 :].split("/", 1)
            state.setdefault(int(idx), {})[name] = value
    for idx, values in meta["scalars"].items():
        state.setdefault(int(idx), {}).update(values)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def write_checkpoint(directory, tensors: dict[str, torch.Tensor], meta: dict) -> Path:
    path = Path(directory) / CHECKPOINT_FILE
    atomic_write_bytes(path, tensors_to_bytes(tensors, metadata=meta))
    return path


def read_checkpoint(directory) -> tuple[dict[str, torch.Tensor], dict] | None:
    """Return (tensors, meta) from ``directory``, or None if it holds no checkpoint."""
    path = Path(directory) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    blob = path.read_bytes()
    try:
        tensors = load(blob)
        header_len = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + header_len])
        meta = json.loads(header["__metadata__"]["aelab"])
    except (SafetensorError, ValueError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(
            f"{path} is not a readable aelab checkpoint ({err}). Delete it to start afresh."
        ) from None
    return tensors, meta
