"""Saving and loading: weights in safetensors, config in JSON, never pickle.

A saved model is a directory holding ``config.json`` (model name, constructor
arguments, fitted preprocessing, aelab version, the weights' SHA-256) and
``model.safetensors``. Every file is written to a temporary name and renamed into
place, so an interrupted save leaves the previous files intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from aelab.models.registry import get_saved_class

FORMAT = "aelab-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tensors_to_bytes(tensors: dict[str, torch.Tensor], metadata: dict | None = None) -> bytes:
    """Serialise tensors (copied to CPU, contiguous, unshared) to safetensors bytes."""
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    meta = None if metadata is None else {"aelab": json.dumps(metadata)}
    return save(clean, metadata=meta)


def read_tensors(path, sha256: str) -> dict[str, torch.Tensor]:
    """Read a safetensors file, checking its SHA-256 against the one recorded at saving."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is missing; the saved files in {str(path.parent)!r} are incomplete.")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ValueError(
            f"{path} does not match the JSON file that lists it (SHA-256 differs): the file is "
            "truncated, damaged or from another save. Save again."
        )
    try:
        return load(blob)
    except (SafetensorError, ValueError) as err:
        raise ValueError(f"{path} is not a readable safetensors file: {err}") from None


def save_model(model, path, metadata: dict | None = None) -> Path:
    """Save ``model`` into directory ``path`` (created if needed). Returns the path."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"Cannot save a model to {str(path)!r}: it exists and is not a directory.")
    from aelab import __version__

    weights = tensors_to_bytes(model.state_dict())
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "aelab_version": __version__,
        "model": model.name,
        "config": model.get_config(),
        "preprocessing": model.scaler.to_config(),
        "weights": {"file": WEIGHTS_FILE, "sha256": hashlib.sha256(weights).hexdigest()},
        "metadata": metadata or {},
    }
    text = json.dumps(config, indent=2).encode()
    atomic_write_bytes(path / WEIGHTS_FILE, weights)
    atomic_write_bytes(path / CONFIG_FILE, text)
    return path


def read_format_file(file: Path, fmt: str, version: int, what: str, hint: str) -> dict:
    """Read a JSON document whose ``format`` is ``fmt`` and ``format_version`` at most ``version``.

    ``what`` names the thing saved (for messages); ``hint`` says what to pass instead
    when ``file`` is missing.
    """
    file = Path(file)
    if not file.is_file():
        raise ValueError(f"{str(file.parent)!r} is not a saved {what}: {file.name} is missing. {hint}")
    try:
        doc = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{file} is not valid JSON ({err}); the file is damaged.") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ValueError(f"{file} is not an {what} file (no 'format': {fmt!r}).")
    if doc.get("format_version", 0) > version:
        raise ValueError(
            f"{file} was written by a newer aelab (format {doc['format_version']}); "
            "upgrade aelab to load it."
        )
    return doc


def read_config(path) -> dict:
    """Read and check a saved model's ``config.json``."""
    return read_format_file(Path(path) / CONFIG_FILE, FORMAT, FORMAT_VERSION, "aelab model",
                            "Pass the directory written by model.save() or `aelab train --out`.")


def load_model(path, device: str | torch.device = "cpu", *, model_class: type | None = None):
    """Rebuild a model saved by :func:`save_model`, with no pickle involved.

    ``model_class``, when given, must be the saved model's class (its ``name`` is
    checked against the saved one); by default the class is looked up by that name.
    """
    path = Path(path)
    cfg = read_config(path)
    if model_class is None:
        cls = get_saved_class(cfg["model"])
    elif cfg["model"] != model_class.name:
        raise ValueError(
            f"{str(path)!r} holds a {cfg['model']!r} model, not a {model_class.name!r}; load it "
            "with aelab.load(path)."
        )
    else:
        cls = model_class
    model = cls(**cfg["config"])
    model.scaler.load_config(cfg["preprocessing"])
    weights_path = path / cfg["weights"]["file"]
    state = read_tensors(weights_path, cfg["weights"]["sha256"])
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"The weights in {weights_path} do not fit the model in config.json: {err}"
        ) from None
    return model.to(device).eval()
