"""One self-contained HTML page for runs: config, loss curves per term, metrics, images, and a
table comparing the runs. Figures are embedded as data URIs: the page needs no network and
no other file.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aelab.models.persistence import read_config
from aelab.report.figures import plot_history

# A small script marks the page once every image has loaded (or failed): the browser test
# reads ``data-images`` ("loaded/total") from the body.
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; } td, th { border: 1px solid #ddd;
padding: 3px 8px; text-align: left; } th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.4em 0; } figure { margin: 0.6em 0; }
figcaption { color: #666; font-size: 0.9em; } .muted { color: #777; }
"""
_SCRIPT = """
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = loaded + "/" + images.length;
});
"""


@dataclass
class Section:
    """A part of the page: a heading, a paragraph, tables (caption, header, rows) and PNGs."""

    title: str
    text: str = ""
    tables: list[tuple[str, list[str], list[list]]] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)


def render(title: str, intro: str, sections: list[Section]) -> str:
    """The page as HTML text."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>",
             f"<h1>{_e(title)}</h1><p class='muted'>{_e(intro)}</p>"]
    for section in sections:
        parts.append(f"<h2>{_e(section.title)}</h2>")
        if section.text:
            parts.append(f"<p>{_e(section.text)}</p>")
        for caption, header, rows in section.tables:
            parts.append(f"<table><caption>{_e(caption)}</caption><tr>"
                         + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{_e(_cell(v))}</td>" for v in row) + "</tr>"
                      for row in rows]
            parts.append("</table>")
        for caption, png in section.images:
            data = base64.b64encode(png).decode()
            parts.append(f"<figure><img alt='{_e(caption)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{_e(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def run_section(run_dir) -> tuple[Section, dict]:
    """The section of one run written by ``aelab train``/``aelab pretrain``, and its row of
    the comparison table."""
    run_dir = Path(run_dir)
    cfg = read_config(run_dir)
    history = _json(run_dir / "history.json")
    metrics = _json(run_dir / "metrics.json")
    section = Section(f"{run_dir.name}: {cfg['model']}",
                      text=f"Data: {cfg.get('metadata', {}).get('data', 'unknown')}. "
                           f"aelab {cfg.get('aelab_version', '?')}.")
    section.tables.append(("configuration", ["option", "value"],
                           [[k, v] for k, v in cfg["config"].items()]))
    if metrics:
        keep = ["split", "n_examples", "code_size", "sq_error_per_example", "epochs_run",
                "best_epoch", "train_time_s", "samples_per_s"]
        rows = [[k, metrics[k]] for k in keep if k in metrics]
        if "pca" in metrics:
            rows.append(["PCA, same code size", metrics["pca"]["sq_error_per_example"]])
        section.tables.append(("metrics", ["metric", "value"], rows))
    if history and history.get("history"):
        with tempfile.TemporaryDirectory() as tmp:
            path = plot_history(history["history"], Path(tmp) / "loss.png",
                                title=f"{run_dir.name}: loss per term (train: solid, validation: dashed)")
            section.images.append(("loss curves per term", path.read_bytes()))
    for png in sorted((run_dir / "figures").glob("*.png")) if (run_dir / "figures").is_dir() else []:
        if png.name != "loss.png":
            section.images.append((png.stem.replace("_", " "), png.read_bytes()))
    row = {"run": run_dir.name, "model": cfg["model"],
           "data": cfg.get("metadata", {}).get("data", ""),
           "code size": metrics.get("code_size", ""),
           "error": metrics.get("sq_error_per_example", ""),
           "PCA error": metrics.get("pca", {}).get("sq_error_per_example", ""),
           "epochs": metrics.get("epochs_run", ""), "train s": metrics.get("train_time_s", "")}
    return section, row


def runs_report(run_dirs, title: str = "aelab runs") -> str:
    """The page for several runs: a comparison table, then one section per run."""
    sections, rows = [], []
    for run_dir in run_dirs:
        section, row = run_section(run_dir)
        sections.append(section)
        rows.append(row)
    header = list(rows[0]) if rows else []
    comparison = Section("comparison", tables=[(
        "one row per run; error: squared error per example on its held-out split", header,
        [[r[h] for h in header] for r in rows])])
    return render(title, f"{len(rows)} run(s).", [comparison, *sections])


def _json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); the run directory is damaged.") from None


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _e(text) -> str:
    return html.escape(str(text), quote=True)
