"""Text corpora: 20 Newsgroups ("bydate" split) read from its tar.gz, no download.

The posts are decoded as latin-1 and, by default, stripped as scikit-learn's
``fetch_20newsgroups(remove=("headers", "footers", "quotes"))`` strips them: the header
block (it names the newsgroup: a label leak), a trailing signature and quoted lines.
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_REMOVABLE = ("headers", "footers", "quotes")
_QUOTE_RE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")


@dataclass
class TextCorpus:
    """Documents with integer labels: ``texts[i]`` belongs to ``label_names[labels[i]]``."""

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]


def strip_header(text: str) -> str:
    """Everything after the first blank line."""
    return text.partition("\n\n")[2]


def strip_footer(text: str) -> str:
    """Drop the block after the last blank or all-hyphen line (a signature), if any."""
    lines = text.strip().split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip().strip("-") == "":
            return "\n".join(lines[:i]) if i > 0 else text
    return text


def strip_quotes(text: str) -> str:
    """Drop quoted lines ('>' or '|') and lines that introduce a quote ('... writes:')."""
    return "\n".join(line for line in text.split("\n") if not _QUOTE_RE.search(line))


_STRIPPERS = {"headers": strip_header, "footers": strip_footer, "quotes": strip_quotes}


def load_20newsgroups(path, subset: str = "train", remove=_REMOVABLE) -> TextCorpus:
    """Read one split of 20 Newsgroups "bydate" from ``20news-bydate.tar.gz``.

    Parameters
    ----------
    path : path
        The tar.gz (or the directory holding ``20news-bydate.tar.gz``).
    subset : {"train", "test"}, default="train"
        11,314 training or 7,532 test posts.
    remove : tuple of {"headers", "footers", "quotes"}, default=all three
        What to strip from each post (applied in the order headers, footers, quotes).

    Returns
    -------
    TextCorpus
        Posts in the archive's order (by newsgroup, then file), labels the sorted
        newsgroup names' indices.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "20news-bydate.tar.gz"
    if not path.is_file():
        raise ValueError(f"20 Newsgroups archive not found at {str(path)!r}; pass the path of "
                         "20news-bydate.tar.gz (or of the directory holding it).")
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test'; got {subset!r}.")
    unknown = sorted(set(remove) - set(_REMOVABLE))
    if unknown:
        raise ValueError(f"remove may hold only {list(_REMOVABLE)}; got {unknown}.")
    prefix = f"20news-bydate-{subset}/"
    posts: list[tuple[str, str]] = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.startswith(prefix):
                group = member.name[len(prefix):].split("/")[0]
                text = tar.extractfile(member).read().decode("latin-1")
                posts.append((group, text))
    if not posts:
        raise ValueError(f"{str(path)!r} holds no {prefix} posts: is it 20news-bydate.tar.gz?")
    names = sorted({g for g, _ in posts})
    index = {g: i for i, g in enumerate(names)}
    texts = []
    for _, text in posts:
        for part in _REMOVABLE:
            if part in remove:
                text = _STRIPPERS[part](text)
        texts.append(text)
    labels = np.array([index[g] for g, _ in posts], dtype=np.int64)
    return TextCorpus(texts, labels, names)
