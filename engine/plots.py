"""Result figures (PNG) with matplotlib's Agg backend: no display, no Qt."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from engine.fileio import atomic_path


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def boxplot(path: Path, values: list[np.ndarray], labels: list[str]) -> None:
    """Figure 3: per-example MSE distributions, box = quartiles, whiskers = 1.5 IQR, the
    mean as a white diamond."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.boxplot(values, showmeans=True, flierprops={"markersize": 1.5, "alpha": 0.3},
               meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"},
               medianprops={"color": "tab:orange"})  # fmt: skip
    ax.set_xticks(range(1, len(labels) + 1), labels)
    ax.set_ylabel("per-pixel MSE")
    ax.set_title(f"Moving MNIST, {len(values[0]):,} test examples")
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def tz_figure(path: Path, digit: int, a: dict[str, np.ndarray]) -> None:
    """Figures 11-13 for one digit: largest singular value of T^Z's linear part, translation
    norms (density), rotation angles (scatter); T^X in the same (affine_grid) convention."""
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0))
    sv = np.linalg.svd(a["tz"][:, :, :2], compute_uv=False)[:, 0]
    axes[0].hist(sv, bins=80, color="tab:blue")
    axes[0].set_xlabel("largest singular value of T^Z (T^X: always 1)")
    axes[0].set_ylabel("pairs")
    axes[1].hist2d(a["norm_x"], a["norm_z"], bins=80, cmap="magma", cmin=1)
    axes[1].set_xlabel("‖translation‖ of T^X (normalised units)")
    axes[1].set_ylabel("‖translation‖ of T^Z")
    axes[2].scatter(a["angle_x"], a["angle_z"], s=1, alpha=0.25)
    lim = float(np.abs(a["angle_x"]).max()) or 1.0
    axes[2].plot([-lim, lim], [-lim, lim], color="grey", lw=0.8, ls="--")
    axes[2].set_xlabel("rotation angle of T^X (degrees)")
    axes[2].set_ylabel("rotation angle of T^Z, R = U Vᵀ (degrees)")
    for ax in axes:
        ax.ticklabel_format(useOffset=False, style="plain")
    fig.suptitle(f"T^Z against the true transformation, digit {digit}, {len(sv):,} frame pairs")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    _save(fig, path)


def curve(path: Path, series: dict[str, tuple[list[float], list[float]]], xlabel: str,
          ylabel: str, title: str, hlines: dict[str, float] | None = None) -> None:  # fmt: skip
    """Metric against training time: one line per series, optional target lines."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, (x, y) in series.items():
        ax.plot(x, y, marker="o", label=name)
    for name, y in (hlines or {}).items():
        ax.axhline(y, color="grey", ls="--", lw=0.8)
        ax.annotate(name, (ax.get_xlim()[0], y), fontsize=8, va="bottom")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
