"""Saving and loading models: weights and every fitted tensor in safetensors, the
constructor arguments in JSON, never pickle.

A saved model is a directory holding ``config.json`` (model name, constructor
arguments, aelab version, the weights' SHA-256, user metadata) and
``model.safetensors`` (the state dict: weights, and fitted statistics such as the input
scaling). Every file is written to a temporary name and renamed into place, so an
interrupted save leaves the previous files intact.

Format 2 (this one) keeps the input scaling in safetensors; format 1 kept it in
``config.json`` under ``preprocessing``, and is still read.
"""

from __future__ import annotations

from pathlib import Path

import torch

from aelab.core.io import (
    atomic_write_files,
    file_entry,
    json_bytes,
    read_format_file,
    read_listed_tensors,
    tensors_to_bytes,
)
from aelab.core.validation import check_unknown_options
from aelab.core.version import __version__
from aelab.models.registry import get_saved_class

FORMAT = "aelab-model"
FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_model(model, path, metadata: dict | None = None) -> Path:
    """Save ``model`` into directory ``path`` (created if needed). Returns the path."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"Cannot save a model to {str(path)!r}: it exists and is not a directory.")
    weights = tensors_to_bytes(model.state_dict())
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "aelab_version": __version__,
        "model": model.name,
        "config": model.get_config(),
        "weights": file_entry(WEIGHTS_FILE, weights),
        "metadata": metadata or {},
    }
    # Both written before either replaces its predecessor; config.json (which holds the
    # weights' checksum) last, so that a crash between the two renamings is detected.
    atomic_write_files({path / WEIGHTS_FILE: weights, path / CONFIG_FILE: json_bytes(config)})
    return path


def read_config(path) -> dict:
    """Read and check a saved model's ``config.json``: its format, and the types of the
    fields the loader reads (a damaged or hand-edited file fails here, clearly)."""
    file = Path(path) / CONFIG_FILE
    doc = read_format_file(file, FORMAT, FORMAT_VERSION, "aelab model",
                           "Pass the directory written by model.save() or `aelab train --out`.")
    problems = [
        "'model' must be a model name" if not isinstance(doc.get("model"), str) else "",
        "'config' must be an object" if not isinstance(doc.get("config"), dict) else "",
        "'metadata' must be an object" if not isinstance(doc.get("metadata", {}), dict) else "",
    ]  # 'weights' is checked where it is read (read_listed_tensors)
    problems = [p for p in problems if p]
    if problems:
        raise ValueError(f"{file} is damaged: {'; '.join(problems)}. Save the model again.")
    return doc


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
    check_unknown_options(cfg["config"], cls.config_keys(), f"The config in {path / CONFIG_FILE}")
    try:
        model = cls(**cfg["config"])
    except (TypeError, ValueError) as err:
        raise type(err)(f"The config in {path / CONFIG_FILE} does not build a {cfg['model']!r} "
                        f"model: {err}") from None
    state = read_listed_tensors(path, cfg.get("weights"), path / CONFIG_FILE)
    weights_path = path / cfg["weights"]["file"]
    version = cfg.get("format_version", 0)
    if version == 1 and "preprocessing" in cfg:
        state.update(_format1_scaling(model, cfg["preprocessing"]))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"The weights in {weights_path} (model format {version}) do not fit the model in "
            f"config.json: {err}"
        ) from None
    return model.to(device).eval()


def _format1_scaling(model, pre: dict) -> dict[str, torch.Tensor]:
    """The scaler's state-dict entries from a format-1 ``preprocessing`` record."""
    (prefix,) = [name for name, m in model.named_modules() if m is model.scaler]
    kinds = model.scaler.FITTED_KINDS
    if pre.get("kind") not in kinds:
        raise ValueError(f"The saved model's preprocessing kind {pre.get('kind')!r} is not one of "
                         f"{list(kinds)}; the config.json (format 1) is damaged.")
    return {
        f"{prefix}.shift": torch.tensor(pre["shift"], dtype=torch.float32),
        f"{prefix}.scale": torch.tensor(pre["scale"], dtype=torch.float32),
        f"{prefix}.fitted_index": torch.tensor(kinds.index(pre["kind"]), dtype=torch.int64),
    }
