"""Writing and reading files safely: atomic writes, safetensors bytes with a checksum, and
JSON documents that carry their format name and version. No pickle anywhere.
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


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``: recorded in the JSON file that lists a weights file."""
    return hashlib.sha256(data).hexdigest()


def read_tensors(path, digest: str) -> dict[str, torch.Tensor]:
    """Read a safetensors file, checking its SHA-256 against the one recorded at saving."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is missing; the saved files in {str(path.parent)!r} are incomplete.")
    blob = path.read_bytes()
    if sha256(blob) != digest:
        raise ValueError(
            f"{path} does not match the JSON file that lists it (SHA-256 differs): the file is "
            "truncated, damaged or from another save. Save again."
        )
    try:
        return load(blob)
    except (SafetensorError, ValueError) as err:
        raise ValueError(f"{path} is not a readable safetensors file: {err}") from None


def write_json(path, doc) -> None:
    """Write ``doc`` as indented JSON, atomically."""
    atomic_write_bytes(path, json.dumps(doc, indent=2).encode())


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
