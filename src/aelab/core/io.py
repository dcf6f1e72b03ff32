"""Writing and reading files safely: atomic writes, safetensors bytes with a checksum, and
JSON documents that carry their format name and version. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_FILE = ".aelab.lock"
TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory + rename.

    On any failure (disk full, read-only directory, ...) the previous file at ``path`` is
    left as it was, the temporary file is removed, and an ``OSError`` says which file
    could not be written and why.
    """
    atomic_write_files({path: data})


def atomic_write_files(files: dict[str | os.PathLike, bytes],
                       previous: dict[str | os.PathLike, str | os.PathLike] | None = None) -> None:
    """Write several files so that a failure leaves every previous file intact.

    Each file is written and synced to a temporary name beside it first; only when all
    are written are they renamed into place, in the given order (a renaming is atomic).
    A failure while writing (disk full, read-only directory, no permission) therefore
    changes nothing. Only a crash between two renamings can leave a mix; a file that
    lists another's checksum (``config.json``) should come last, so that a mix is detected.
    ``previous`` maps a path to where the file it replaces is moved first (kept, not lost).
    """
    previous = {Path(k): v for k, v in (previous or {}).items()}
    temps: list[tuple[str, Path]] = []
    renaming = False
    try:
        for path, data in files.items():
            path = Path(path)
            temps.append((_write_temp(path, data), path))
        renaming = True
        for tmp, path in temps:
            keep = previous.get(path)
            if keep is not None and path.is_file():
                os.replace(path, keep)
            os.replace(tmp, path)
    except OSError as err:
        state = ("It was written but not renamed into place: the files of this save renamed "
                 "before it are new, the others old" if renaming else "Nothing was changed there")
        raise OSError(err.errno, f"Could not write {path}: {err.strerror or err}. {state}; free "
                      "some space, or choose a directory you can write to.") from err
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)


def _write_temp(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


class AtomicFile:
    """A file written piece by piece under a temporary name beside ``path``, renamed into
    place by :meth:`commit`: ``path`` holds either its previous content or the complete new
    file, never a part (for outputs too large to build in memory first).

    Leaving a ``with`` block commits; leaving it by an exception (or calling
    :meth:`discard`) removes the temporary file and leaves ``path`` as it was.

    >>> with AtomicFile("out.csv", "w") as f:  # doctest: +SKIP
    ...     f.file.write("a,b\\n")
    """

    def __init__(self, path, mode: str = "wb"):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, self.temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=TEMP_SUFFIX,
                                             dir=self.path.parent)
        except OSError as err:
            raise OSError(err.errno, f"Could not write {self.path}: {err.strerror or err}. Nothing "
                          "was changed there; choose a directory you can write to.") from err
        self.file = os.fdopen(fd, mode, **({} if "b" in mode else {"newline": ""}))

    def commit(self) -> None:
        """Sync the temporary file and rename it to ``path``."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.temp, self.path)
        except OSError as err:
            self.discard()
            raise OSError(err.errno, f"Could not write {self.path}: {err.strerror or err}. Nothing "
                          "was changed there; free some space, or choose a directory you can "
                          "write to.") from err

    def discard(self) -> None:
        """Close and remove the temporary file; ``path`` is left as it was."""
        self.file.close()
        Path(self.temp).unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def remove_stale_temps(directory, name: str) -> int:
    """Delete temporary files of ``name`` left in ``directory`` by a killed writer; return
    how many there were. Call it only while holding the directory's lock."""
    stale = list(Path(directory).glob(f".{name}.*{TEMP_SUFFIX}"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


@contextmanager
def directory_lock(directory, what: str = "writing") -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (a ``.aelab.lock`` file in it) for the block.

    A second process asking for the same lock fails at once with a ValueError naming the
    directory and the holder's process id. The operating system releases the lock when
    its holder exits, however it exits (a killed process leaves no stale lock). Where
    ``fcntl`` is missing (Windows) no lock is taken.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - not POSIX
        yield
        return
    with open(directory / LOCK_FILE, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise ValueError(
                f"{str(directory)!r} is in use: process {holder} is {what} there (it holds "
                f"{LOCK_FILE}). Wait for it to finish, or use another directory."
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def tensors_to_bytes(tensors: dict[str, torch.Tensor], metadata: dict | None = None) -> bytes:
    """Serialise tensors (copied to CPU, contiguous, unshared) to safetensors bytes."""
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    meta = None if metadata is None else {"aelab": json.dumps(metadata)}
    return save(clean, metadata=meta)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``: recorded in the JSON file that lists a weights file."""
    return hashlib.sha256(data).hexdigest()


def file_entry(name: str, data: bytes) -> dict:
    """How a JSON document lists a safetensors file saved beside it: its name and SHA-256."""
    return {"file": name, "sha256": sha256(data)}


def read_listed_tensors(directory, entry, listed_in) -> dict[str, torch.Tensor]:
    """Read the safetensors file that the JSON document ``listed_in`` lists as ``entry``
    (:func:`file_entry`), refusing an entry that is malformed or names a file outside
    ``directory``, and checking the file's SHA-256."""
    if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)
            and isinstance(entry.get("sha256"), str) and Path(entry["file"]).name == entry["file"]):
        raise ValueError(f"{listed_in} is damaged: it must list a file of its own directory as "
                         f"{{'file': name, 'sha256': hex}}; got {entry!r}. Save again.")
    return read_tensors(Path(directory) / entry["file"], entry["sha256"])


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


def json_bytes(doc) -> bytes:
    """``doc`` as indented JSON text, encoded."""
    return json.dumps(doc, indent=2).encode()


def write_json(path, doc) -> None:
    """Write ``doc`` as indented JSON, atomically."""
    atomic_write_bytes(path, json_bytes(doc))


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
