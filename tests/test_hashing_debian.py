"""The Debian corpus of benchmarks/hashing_debian.py: control-file stanzas → descriptions
labelled by section, cleaned as its results page states."""

from benchmark_scripts import import_benchmark

_debian = import_benchmark("hashing_debian")

DUMP = """Package: foo
Version: 1.0
Description: Fast foo library
 Foo computes bars quickly.
 .
 It has two paragraphs.
Section: contrib/libs

Package: foo-dev
Description: Fast foo library
 Foo computes bars quickly.
 .
 It has two paragraphs.
Section: libdevel

Package: foo-doc
Description: Fast   foo library - documentation
Section: doc

Package: bar
Description: Bar editor
Section: editors

Package: baz
Description: Baz fonts
Section: fonts

Package: nodesc
Section: libs
"""


def test_stanzas_keep_continuation_lines_with_their_field():
    stanzas = _debian.read_stanzas(DUMP)
    assert [s["Package"] for s in stanzas] == ["foo", "foo-dev", "foo-doc", "bar", "baz", "nodesc"]
    assert stanzas[0]["Section"] == "contrib/libs"
    assert _debian.description(stanzas[0]["Description"]) == (
        "Fast foo library Foo computes bars quickly. It has two paragraphs.")


def test_corpus_drops_empty_repeated_and_small_sections_and_strips_the_area():
    corpus, dropped = _debian.package_corpus(_debian.read_stanzas(DUMP), min_docs=1)
    # foo-dev repeats foo word for word: the first (foo, in contrib/libs → libs) is kept;
    # the doc's extra blanks are folded but its text differs, so it stays
    assert corpus.texts == ["Fast foo library Foo computes bars quickly. It has two paragraphs.",
                            "Fast foo library - documentation", "Bar editor", "Baz fonts"]
    assert corpus.label_names == ["doc", "editors", "fonts", "libs"]
    assert [corpus.label_names[i] for i in corpus.labels] == ["libs", "doc", "editors", "fonts"]
    assert dropped == {"empty": 1, "repeated": 1, "small_sections": [], "in_small_sections": 0}

    stanzas = _debian.read_stanzas(DUMP + "\nPackage: qux\nDescription: Qux editor\nSection: editors\n")
    corpus, dropped = _debian.package_corpus(stanzas, min_docs=2)
    assert corpus.label_names == ["editors"] and corpus.texts == ["Bar editor", "Qux editor"]
    assert dropped["small_sections"] == ["doc", "fonts", "libs"] and dropped["in_small_sections"] == 3


def test_verdict_names_the_lengths_where_a_baseline_wins():
    row = dict.fromkeys(_debian.ng.BASELINES, 0.2) | {"ITQ": 0.25}
    rows = [{"bits": 16, "nash": [0.3, 0.0], **row}, {"bits": 32, "nash": [0.1, 0.0], **row}]
    assert "holds at 16 bits only" in _debian.verdict(rows, ["nash"])
    assert "32 bits: nash 0.100, ITQ 0.250" in _debian.verdict(rows, ["nash"])
    assert "holds: " in _debian.verdict(rows[:1], ["nash"])
    assert "does not hold" in _debian.verdict(rows[1:], ["nash"])
