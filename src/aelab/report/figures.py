"""Figures written by the CLI and the demo (matplotlib, no display needed).

matplotlib is optional (``pip install 'aelab[plot]'``): every function here raises
:class:`aelab.core.optional.MissingExtra` without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aelab.core.optional import require


def pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display)."""
    require("matplotlib", "plot", "Drawing figures").use("Agg")
    return require("matplotlib.pyplot", "plot", "Drawing figures")


def plot_history(history: dict, path, title: str = "") -> Path:
    """Loss curves: every ``train/*`` and ``val/*`` term against the epoch."""
    plt = pyplot()
    keys = [k for k in history if k.startswith(("train/", "val/"))]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in keys:
        values = np.asarray(history[key])
        ax.plot(np.arange(1, len(values) + 1), values, label=key,
                linestyle="--" if key.startswith("val/") else "-")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (per example)")
    if all(np.all(np.asarray(history[k]) > 0) for k in keys):
        ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_reconstructions(x: np.ndarray, x_hat: np.ndarray, image_shape, path,
                         n: int = 10, title: str = "") -> Path:
    """Two rows of images: originals (top) and reconstructions (bottom)."""
    plt = pyplot()
    n = min(n, len(x))
    fig, axes = plt.subplots(2, n, figsize=(n * 0.9, 2.1), squeeze=False)
    for i in range(n):
        for row, img in enumerate((x[i], x_hat[i])):
            ax = axes[row, i]
            ax.imshow(np.clip(img.reshape(image_shape), 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize=7)
    axes[1, 0].set_ylabel("output", fontsize=7)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def image_grid(images: np.ndarray, image_shape, path, ncols: int = 8, title: str = "",
               row_labels: list[str] | None = None, unit_range: bool = False) -> Path:
    """A grid of images (samples, filters, traversals).

    Each image is scaled on its own unless ``unit_range`` (data in [0, 1], shown as is).
    ``row_labels`` name the rows on the left.
    """
    plt = pyplot()
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    label_w = 1.6 if row_labels else 0.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.8 + label_w, nrows * 0.8),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    scale = {"vmin": 0.0, "vmax": 1.0} if unit_range else {}
    for ax, img in zip(axes.flat, images):
        ax.imshow(np.asarray(img).reshape(image_shape), cmap="gray", **scale)
    for row, label in enumerate(row_labels or []):
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path) -> Path:
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_codes_2d(codes: np.ndarray, labels: np.ndarray, path, title: str = "",
                  prior_samples: np.ndarray | None = None) -> Path:
    """Scatter of 2-D codes coloured by label (e.g. digit), optionally over prior samples."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    if prior_samples is not None:
        ax.scatter(prior_samples[:, 0], prior_samples[:, 1], s=1, c="0.85", label="prior samples")
    points = ax.scatter(codes[:, 0], codes[:, 1], s=1.5, c=labels, cmap="tab10", vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_score_fields(density, fields: dict, path, lim: float = 2.0, title: str = "") -> Path:
    """Vector fields over the contours of a 2-D density, one panel each.

    ``density`` has ``log_prob(points)``; ``fields`` maps a panel title to a function from
    points (n, 2) to vectors (n, 2) (e.g. an autoencoder's score estimate, the exact score).
    """
    plt = pyplot()
    line = np.linspace(-lim, lim, 120)
    gx, gy = np.meshgrid(line, line)
    logp = density.log_prob(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
    arrows = np.linspace(-lim, lim, 21)
    ax_, ay_ = np.meshgrid(arrows, arrows)
    points = np.stack([ax_.ravel(), ay_.ravel()], 1)
    fig, axes = plt.subplots(1, len(fields), figsize=(4.2 * len(fields), 4.2), squeeze=False)
    for ax, (label, field) in zip(axes[0], fields.items()):
        ax.contourf(gx, gy, np.exp(logp), levels=12, cmap="Greys")
        vectors = field(points)
        norm = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norm > 0, norm, 1.0)  # directions; length shown by colour
        quiver = ax.quiver(points[:, 0], points[:, 1], unit[:, 0], unit[:, 1], np.log1p(norm[:, 0]),
                           cmap="viridis", scale=28, width=0.004)
        ax.set_title(label, fontsize=9)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(quiver, ax=axes[0].tolist(), shrink=0.8, label="log(1 + |vector|)")
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def plot_histograms(samples: dict, path, xlabel: str = "", title: str = "", bins: int = 50) -> Path:
    """One histogram per entry of ``samples`` (label → values), on a shared log-count axis."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(samples), figsize=(2.6 * len(samples), 2.6), squeeze=False,
                             sharey=True)
    for ax, (label, values) in zip(axes[0], samples.items()):
        ax.hist(np.ravel(values), bins=bins, color="0.3")
        ax.set_yscale("log")
        ax.set_title(label, fontsize=8)
        ax.set_xlabel(xlabel, fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_curves(curves: dict, path, xlabel: str = "", ylabel: str = "", title: str = "",
                log_y: bool = False) -> Path:
    """Line plots of label → (x, y), one axis (``log_y``: a logarithmic y axis)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (x, y) in curves.items():
        ax.plot(x, y, label=label)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
