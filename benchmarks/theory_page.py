"""The theory figures on one page: benchmarks/results/theory.html gathers the recorded
results of manifold_score, rcae_score, sparsity_linear and tangents_mnist (their tables and figures),
self-contained. Run it after those four.

    python benchmarks/theory_page.py
"""

from __future__ import annotations

import json

from aelab.core.io import atomic_write_bytes
from aelab.report.html import Section, render
from common import RESULTS

PAGES = [
    ("Denoising autoencoders estimate the score", "manifold_score",
     ["manifold_score_ring.png", "manifold_score_spiral.png"]),
    ("So does the reconstruction contractive autoencoder", "rcae_score",
     ["rcae_score_ring.png", "rcae_score_spiral.png"]),
    ("Sparse codes and the linear autoencoder", "sparsity_linear",
     ["sparsity_digits.png", "linear_pca_angles.png"]),
    ("Tangent planes on MNIST", "tangents_mnist", ["tangents_spectrum.png", "tangents_images.png"]),
]


def tables(markdown: str) -> list[tuple[str, list[str], list[list]]]:
    """The markdown tables of a results page, as (caption, header, rows); a table's caption is
    the heading above it, if it is the first table under that heading."""
    out, block, heading = [], [], ""
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if block:
            header, rows = block[0], [r for r in block[1:] if not set("".join(r)) <= set("-: ")]
            out.append((heading, header, rows))
            block, heading = [], ""
        if line.startswith("## "):
            heading = line[3:].strip()
    return out


def main() -> None:
    sections = []
    for title, name, figures in PAGES:
        md = (RESULTS / f"{name}.md").read_text()
        command = json.loads((RESULTS / f"{name}.json").read_text())["command"]
        sections.append(Section(title, text=f"From benchmarks/results/{name}.md ({command}).",
                                tables=tables(md),
                                images=[(f, (RESULTS / f).read_bytes()) for f in figures]))
    page = render("What regularised autoencoders learn: the chapter's claims, measured",
                  "Goodfellow, Bengio & Courville (2016), ch. 14, §14.1–14.7.", sections)
    atomic_write_bytes(RESULTS / "theory.html", page.encode())
    print(f"wrote {RESULTS / 'theory.html'}")


if __name__ == "__main__":
    main()
