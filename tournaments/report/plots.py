"""The report's figures: matplotlib with the Agg backend (no display), written as SVG.

SVG keeps text as text (``svg.fonttype = none``): small files, sharp at any zoom.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: never look for a display

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from tournaments.report.data import HeadToHead, History

_STYLE: Any = {"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "arena"}


def rating_history(
    history: History,
    names: dict[str, str],
    order: Sequence[str],
    path: Path,
    *,
    initial: float = 0.0,
) -> None:
    """Plot ``mu - 3 sigma`` after each rated match for the agents in ``order``.

    Args:
        history: the env's rating history.
        names: display name per agent version hash.
        order: hashes to plot, best first (the legend follows it).
        path: the SVG file to write.
        initial: the score before any match; each line starts there, one match
            before the agent's first.
    """
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7, 3.4))
        for hash_ in order:
            points = history.series.get(hash_, [])
            if points:
                points = [(points[0][0] - 1, initial), *points]
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="." if len(points) < 40 else None, label=names[hash_])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(f"rated matches of {history.env}")
        ax.set_ylabel("mu - 3 sigma")
        ax.grid(alpha=0.3)
        if order:
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)


def head_to_head(h2h: HeadToHead, names: dict[str, str], path: Path) -> None:
    """Heatmap of row agent's score against column agent (win 1, draw 0.5); blank: never met."""
    n = len(h2h.hashes)
    labels = [names[h] for h in h2h.hashes]
    grid = [[math.nan if v is None else v for v in row] for row in h2h.rate]
    size = 1.6 + 0.45 * n
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
        image = ax.imshow(grid, cmap="RdYlGn", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(n), labels, rotation=45, ha="right")
        ax.set_yticks(range(n), labels)
        ax.set_xlabel("opponent")
        ax.set_ylabel("agent")
        for i in range(n):
            for j in range(n):
                if h2h.rate[i][j] is not None:
                    ax.text(j, i, f"{grid[i][j]:.2f}", ha="center", va="center", fontsize=7)
        fig.colorbar(image, ax=ax, label="score rate (win 1, draw 0.5)", shrink=0.8)
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
