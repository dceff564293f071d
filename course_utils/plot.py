"""Figures for the chapters. Every function returns a matplotlib ``Figure`` and never shows it.

The figure is closed in pyplot before it is returned, so a notebook displays it exactly once (as
the value of the cell) and a script can ``fig.savefig(...)`` it.

Introduced in notebooks/00_getting_started.ipynb, sections 0.3 and 0.4 (``plot_history`` in 01).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:  # only for the annotation: plotting never imports the training loop
    from .history import History


__all__ = ["plot_history", "show_images", "plot_curves", "new_figure"]


def new_figure(ncols: int = 1, nrows: int = 1, *, size: tuple[float, float] = (4.0, 3.2)) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of axes, closed in pyplot (shown once when returned from a cell).

    Returns:
        ``(fig, axes)`` with ``axes`` a 2-D array ``(nrows, ncols)``.
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False,
                             layout="constrained")
    plt.close(fig)
    return fig, axes


def plot_history(history: History, keys: Sequence[str] | None = None, *, title: str = "") -> Figure:
    """Training curves: one panel per quantity (loss, then each metric), train and val together.

    Args:
        history: returned by :func:`course_utils.fit`.
        keys: base names to draw (``["loss", "acc"]``); default: every one recorded.
    """
    if not isinstance(getattr(history, "epochs", None), list):
        raise TypeError(f"plot_history takes the History that fit() returns, got {type(history).__name__}")
    if not history.epochs:
        raise ValueError("the history is empty: fit() ran no epoch")
    names = list(keys) if keys else sorted({k.split("_", 1)[1] for k in history.keys()
                                            if k.startswith(("train_", "val_"))}, key=lambda k: (k != "loss", k))
    recorded = {k.split("_", 1)[1] for k in history.keys() if k.startswith(("train_", "val_"))}
    unknown = [n for n in names if n not in recorded]
    if unknown:
        raise KeyError(f"plot_history: no train_/val_ values for {unknown}; give base names from {sorted(recorded)}")
    fig, axes = new_figure(len(names))
    epochs = history["epoch"]
    for ax, name in zip(axes[0], names):
        for split, style in (("train", "-o"), ("val", "-s")):
            key = f"{split}_{name}"
            if key in history.keys():
                ax.plot(epochs, history[key], style, ms=3, label=split)
        ax.set(xlabel="epoch", ylabel=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def show_images(images: torch.Tensor | np.ndarray, labels: Sequence[str] | None = None, *,
                ncols: int = 8, cmap: str = "gray", size: float = 1.3, title: str = "",
                vmin: float | None = None, vmax: float | None = None) -> Figure:
    """A grid of images with optional captions.

    Args:
        images: ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)`` (channels-first) values in
            ``[0, 1]`` or any range (each image is scaled by matplotlib).
        labels: N captions.
        vmin, vmax: a common colour range for all images (e.g. ``-m, m`` with ``cmap="RdBu"`` for
            signed weights, white at zero); default: each image scaled on its own.
    """
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if arr.ndim == 4:
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)
    if arr.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {tuple(np.shape(images))}")
    n = len(arr)
    if labels is not None and len(labels) != n:
        raise ValueError(f"got {n} images but {len(labels)} labels")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = new_figure(ncols, nrows, size=(size, size + (0.25 if labels is not None else 0)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(arr[i], cmap=cmap if arr.ndim == 3 else None, vmin=vmin, vmax=vmax)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_curves(x: Sequence[float], series: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str,
                title: str = "", logx: bool = False, logy: bool = False, errors: Mapping[str, Sequence[float]] | None = None) -> Figure:
    """Several named curves over the same x (e.g. accuracy versus training-set size).

    Args:
        errors: optional standard deviations per series, drawn as a shaded band.
    """
    fig, axes = new_figure(size=(5.5, 3.6))
    ax = axes[0, 0]
    for name, ys in series.items():
        ax.plot(x, ys, "-o", ms=4, label=name)
        if errors and name in errors:
            lo = np.asarray(ys) - np.asarray(errors[name])
            hi = np.asarray(ys) + np.asarray(errors[name])
            ax.fill_between(x, lo, hi, alpha=0.2)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
