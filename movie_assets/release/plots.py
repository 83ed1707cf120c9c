"""Matplotlib figures for asset metadata (Agg backend; callers embed them and close them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402


def bar_chart(values: Mapping[str, float], *, title: str, xlabel: str, ylabel: str,
              horizontal: bool = False, percent: bool = False) -> Figure:
    labels, heights = list(values), list(values.values())
    figure, axes = plt.subplots(figsize=(7, max(3.0, 0.22 * len(labels)) if horizontal else 3.2))
    if horizontal:
        axes.barh(labels, heights, color="#4c72b0")
        axes.invert_yaxis()
        axes.set_xlabel(ylabel)
        axes.set_ylabel(xlabel)
        if percent:
            axes.set_xlim(0, 1)
            axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        axes.bar(labels, heights, color="#4c72b0")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        if len(labels) > 12:
            axes.tick_params(axis="x", labelrotation=90)
    axes.set_title(title)
    figure.tight_layout()
    return figure


def movies_per_year(counts: Mapping[str, int], title: str = "Movies per year") -> Figure:
    return bar_chart(counts, title=title, xlabel="year", ylabel="movies")


def missing_rates(rates: Mapping[str, float]) -> Figure:
    return bar_chart(rates, title="Missing rate per column (null or empty list)", xlabel="column",
                     ylabel="share of rows", horizontal=True, percent=True)


def runtime_histogram(runtimes: Sequence[int], bins: int = 40, clip: int = 300) -> Figure:
    figure, axes = plt.subplots(figsize=(7, 3.2))
    axes.hist([min(r, clip) for r in runtimes], bins=bins, color="#55a868")
    axes.set_title(f"Runtime (minutes, {len(runtimes)} movies with a runtime; values above {clip} shown at {clip})")
    axes.set_xlabel("minutes")
    axes.set_ylabel("movies")
    figure.tight_layout()
    return figure


def split_sizes(sizes: Mapping[str, int]) -> Figure:
    return bar_chart(sizes, title="Movies per split", xlabel="split", ylabel="movies")


def close(figure: Figure) -> None:
    plt.close(figure)
