"""The 20 Newsgroups variants of benchmarks/hashing_20ng.py: the 20news-18828 text form and
the random split, as its results pages state them."""

import numpy as np

from aelab.data.text import TextCorpus
from benchmark_scripts import import_benchmark

_ng = import_benchmark("hashing_20ng")

POST = """From: ann@example.org (Ann)
Subject: Re: orbit of the moon
Organization: Example University
Lines: 3

In article <1@x> bob@y writes:
> the moon is far
It is 384,000 km away.
"""


def test_from_subject_keeps_two_header_lines_and_the_whole_body():
    corpus = _ng.from_subject(TextCorpus([POST, "no header at all"], np.array([0, 1]), ["a", "b"]))
    header, _, body = corpus.texts[0].partition("\n\n")
    assert header.split("\n") == ["From: ann@example.org (Ann)", "Subject: Re: orbit of the moon"]
    assert body == POST.partition("\n\n")[2]  # quotes and the quote's introduction kept
    assert corpus.texts[1] == ""  # a text with no blank line is all header: no From/Subject in it
    assert list(corpus.labels) == [0, 1]


def test_random_split_reshuffles_both_splits_at_their_sizes():
    names = ["a", "b", "c"]
    train = TextCorpus([f"train {i}" for i in range(7)], np.arange(7) % 3, names)
    test = TextCorpus([f"test {i}" for i in range(4)], np.arange(4) % 3, names)
    a, b = _ng.random_split(train, test)
    assert (len(a.texts), len(b.texts)) == (7, 4)
    pairs = sorted(zip(a.texts + b.texts, np.concatenate([a.labels, b.labels]).tolist()))
    assert pairs == sorted(zip(train.texts + test.texts, [i % 3 for i in range(7)] +
                               [i % 3 for i in range(4)]))
    assert any(t.startswith("test") for t in a.texts)  # the splits are mixed
    again = _ng.random_split(train, test)
    assert again[0].texts == a.texts and again[1].texts == b.texts  # seeded
