"""Training checkpoints: one safetensors file holding weights, optimizer state and RNG
state, with the JSON-able rest (epoch, history, early-stopping state) and a SHA-256 of the
whole content in its header.

Each checkpoint is written to a temporary name and renamed into place, after the one
before it is moved aside to ``checkpoint.prev.safetensors``. A reader checks the
checksum; if the newest file is missing, truncated or altered, it warns, naming the file,
and uses the previous one. A killed writer therefore never costs more than the epoch it
was writing. No pickle.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load

from aelab.core.io import atomic_write_files, remove_stale_temps, sha256, tensors_to_bytes

CHECKPOINT_FILE = "checkpoint.safetensors"
PREVIOUS_FILE = "checkpoint.prev.safetensors"
DAMAGED_FILE = "checkpoint.damaged.safetensors"  # a damaged newest file, kept for inspection


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


def _split(blob: bytes) -> tuple[dict, bytes]:
    """A safetensors file's header (parsed) and its data section."""
    if len(blob) < 8:
        raise ValueError(f"{len(blob)} bytes, shorter than a safetensors header")
    n = int.from_bytes(blob[:8], "little")
    if n > len(blob) - 8:
        raise ValueError(f"the header claims {n} bytes but the file holds {len(blob) - 8}")
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _digest(header: dict, data: bytes) -> str:
    """SHA-256 of the header (without the digest itself, keys sorted) and the data."""
    header = dict(header)
    header["__metadata__"] = {k: v for k, v in header.get("__metadata__", {}).items()
                              if k != "sha256"}
    return sha256(json.dumps(header, sort_keys=True).encode() + data)


def checkpoint_bytes(tensors: dict[str, torch.Tensor], meta: dict) -> bytes:
    """A checkpoint file's content: safetensors with ``meta`` and the digest in its header."""
    blob = tensors_to_bytes(tensors, metadata=meta)
    header, data = _split(blob)
    header["__metadata__"]["sha256"] = _digest(header, data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # safetensors aligns the data section to 8 bytes
    return len(text).to_bytes(8, "little") + text + data


def write_checkpoint(directory, tensors: dict[str, torch.Tensor], meta: dict) -> Path:
    """Write a new checkpoint into ``directory``; the one it replaces becomes the previous."""
    path = Path(directory) / CHECKPOINT_FILE
    atomic_write_files({path: checkpoint_bytes(tensors, meta)},
                       previous={path: path.with_name(PREVIOUS_FILE)})
    return path


def _read_one(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    blob = path.read_bytes()
    try:
        header, data = _split(blob)
        if header.get("__metadata__", {}).get("sha256") != _digest(header, data):
            raise ValueError("its SHA-256 does not match its content: truncated or altered")
        tensors = load(blob)
        meta = json.loads(header["__metadata__"]["aelab"])
    except (SafetensorError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError,
            json.JSONDecodeError) as err:
        raise ValueError(str(err)) from None
    return tensors, meta


def read_checkpoint(directory) -> tuple[dict[str, torch.Tensor], dict] | None:
    """Return (tensors, meta) of the newest good checkpoint in ``directory``, or None if it
    holds none. A damaged newest file is reported with a warning, moved aside (so that the
    next checkpoint cannot rotate it into the previous one's place), and the previous one
    used; if no file is readable, a ValueError says so. Call it holding the directory's lock.
    """
    directory = Path(directory)
    remove_stale_temps(directory, CHECKPOINT_FILE)  # left by a writer that was killed
    found = [directory / name for name in (CHECKPOINT_FILE, PREVIOUS_FILE)
             if (directory / name).is_file()]
    problems = []
    for path in found:
        try:
            result = _read_one(path)
        except ValueError as err:
            problems.append(f"{path}: {err}")
            warnings.warn(f"The checkpoint {path} is damaged ({err}); "
                          + ("using the previous one." if path.name == CHECKPOINT_FILE
                             and len(found) > 1 else "it is skipped."), stacklevel=2)
            continue
        if path.name == PREVIOUS_FILE and (directory / CHECKPOINT_FILE).is_file():
            os.replace(directory / CHECKPOINT_FILE, directory / DAMAGED_FILE)
        return result
    if problems:
        raise ValueError(f"No readable checkpoint in {directory}: {'; '.join(problems)}. Delete "
                         "the files to start afresh.")
    return None
