"""A sweep's final scores: ``accuracy_dots()``, a dot per seed and the mean ± std per setting, datasets side by side.

A regression's sets (:class:`DotSet` ``metric="r2"``) get an axis of R² of their own.
Writes one PNG atomically and returns the matplotlib ``Figure``, like
:mod:`proplab.sweep_plots`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from proplab.plots import _save, fit_text
from proplab.sweep_plots import CHAR_INCHES, MAX_WIDTH, wrap_label

# the accuracy dots' datasets: none of them the blue and red that mean class 1 and class 0
# in every boundary figure of the same report (CLASS_COLORS), nor a curves figure's first
DATASET_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
)  # fmt: skip
# ... and each its mean's marker, so that the datasets differ by more than hue (a11y24 L6;
# "v" and "x" mark an R² off the scale and a diverged seed)
DATASET_MARKERS = ("D", "s", "p", "h", "P", "*", "^", "<")


METRICS = ("accuracy", "r2")  # what a DotSet's values are


@dataclass
class DotSet:
    """Final scores of one setting on one dataset: one value per seed (NaN: diverged).

    ``metric`` says what ``accuracies`` holds: ``"accuracy"``, fractions in [0, 1]
    (drawn in %), or ``"r2"``, a regression's R² (at most 1, any negative value).
    """

    label: str
    dataset: str
    accuracies: list[float]
    metric: str = "accuracy"

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(
                f"DotSet: unknown metric {self.metric!r} (accepted: {', '.join(METRICS)})"
            )


def _tick_angle(labels: Sequence[str]) -> float:
    """Degrees to slant x tick labels: level for a few, 20 for more, 45 for many long ones."""
    if len(labels) <= 5:
        return 0.0
    return 45.0 if len(labels) > 10 and max(len(label) for label in labels) > 20 else 20.0


SIDE_INCHES = 2.4  # accuracy dots: the y label and the legend beside the axes
TICK_CHARS = 28  # slanted tick labels longer than this are broken into lines


def _tick_labels(settings: Sequence[str], width: float) -> tuple[list[str], float, float]:
    """``(labels, angle, figure width)`` for the accuracy dots' x ticks.

    Up to five labels stay level: the figure widens (to 13 inches) until each fits its
    slot, and what still does not fit is broken into lines at spaces. More labels are
    slanted; a long one is broken into as many lines as the ticks' spacing, seen across
    the slant, has room for (a 60-character name slanted whole runs off the figure).
    """
    n = len(settings)
    longest = max(len(s) for s in settings)

    def needed(chars: int) -> float:
        return n * (CHAR_INCHES * chars + 0.3) + SIDE_INCHES

    if n <= 5:
        if needed(longest) <= MAX_WIDTH:
            return list(settings), 0.0, max(width, needed(longest))
        chars = max(8, int(((MAX_WIDTH - SIDE_INCHES) / n - 0.3) / CHAR_INCHES))
        return [wrap_label(s, chars) for s in settings], 0.0, MAX_WIDTH
    angle = _tick_angle(settings)
    if longest <= TICK_CHARS:
        return list(settings), angle, width
    angle = 45.0
    slot = (width - SIDE_INCHES) / n  # inches between ticks
    lines = max(1, int(slot * math.sin(math.radians(angle)) * 72 / 13))  # 13 pt a line
    chars = max(TICK_CHARS, math.ceil(longest / lines))
    return [wrap_label(s, chars) for s in settings], angle, width


R2_FLOOR = -1.0  # R² below this (worse than the mean twice over) is drawn at the floor
# every accuracy at or above this (%): the axis starts near the lowest one, cut marked, so
# 99 and 100 % are told apart (on 0-100 % they were a few pixels apart; report21 M7)
ZOOM_FROM = 90.0
PANEL_TITLES = {"accuracy": "classification: accuracy", "r2": "regression: R²"}


@dataclass
class _Scale:
    """How one metric's dots sit on their axis: value -> y, and where the markers go."""

    metric: str
    low: float  # bottom of the drawn range (the data's, or R2_FLOOR)
    top: float
    below: float  # y of an off-scale marker (R² under the floor)
    diverged: float  # y of a diverged run's x
    bottom: float  # the axis' lower limit
    cut: bool = False  # the accuracy axis starts above 0 (zoomed to the data)

    @classmethod
    def of(cls, metric: str, values: np.ndarray, any_diverged: bool) -> _Scale:
        if metric == "accuracy":  # in %
            finite = 100.0 * values[np.isfinite(values)]
            if finite.size and not any_diverged and finite.min() >= ZOOM_FROM:
                # from the multiple of 5 half a point or more below the lowest: 95.2 % -> 90
                low = 5.0 * math.floor((float(finite.min()) - 0.5) / 5.0)
                top = 100.0 + 0.04 * (100.0 - low)
                return cls(metric, low, top, low, low, low, cut=True)
            return cls(metric, 0.0, 104.0, -6.0, -6.0, -10.0 if any_diverged else -3.0)
        finite = values[np.isfinite(values)]
        low = min(0.0, max(float(finite.min()), R2_FLOOR)) if finite.size else 0.0
        span = 1.0 - low
        off = bool(finite.size and finite.min() < R2_FLOOR)
        bottom = low - span * (0.16 if any_diverged else 0.09 if off else 0.04)
        return cls(metric, low, 1.0 + 0.04 * span, low - 0.05 * span, low - 0.11 * span, bottom)

    @property
    def best(self) -> float:
        """The highest score there is, where a mean + std bar ends: 100 % or R² 1."""
        return 100.0 if self.metric == "accuracy" else 1.0

    def y(self, values: np.ndarray) -> np.ndarray:
        return 100.0 * values if self.metric == "accuracy" else values


def _cut_mark(ax: Any) -> None:
    """A broken-axis mark, two short slanted strokes, across the bottom of the y axis: the
    axis does not start at 0."""
    for dy in (0.0, 0.025):
        ax.plot([-0.012, 0.012], [0.005 + dy, 0.025 + dy], transform=ax.transAxes,
                color="black", linewidth=1.0, clip_on=False, zorder=5)  # fmt: skip


def accuracy_dots(
    sets: Sequence[DotSet], path: str | os.PathLike[str], title: str = "", xlabel: str = ""
) -> Figure:
    """Final accuracy per setting: a dot per seed, the mean with a +-std bar, datasets side by side.

    A bar ends at the best score there is (100 %, R² 1) and an accuracy's at 0: no
    whisker claims a score no run can have (the legend says so when one is cut).

    Diverged runs (NaN accuracy) are drawn as an ``x`` below the axis floor. When every
    accuracy is ZOOM_FROM % or more, the axis starts just under the lowest (its label says
    where, a broken-axis mark shows the cut), so 99 and 100 % are told apart. Sets of
    ``metric="r2"`` (regression runs) get their own axis of R² (1: a perfect fit, 0: no
    better than the targets' mean; values under -1 drawn as a triangle at the floor);
    a sweep of both kinds gets both panels side by side, classification first.
    ``xlabel`` names what the settings vary (``"lr"``), under every panel.
    """
    settings: list[str] = []
    datasets: list[str] = []
    for s in sets:
        if s.label not in settings:
            settings.append(s.label)
        if s.dataset not in datasets:
            datasets.append(s.dataset)
    metrics = [m for m in METRICS if any(s.metric == m for s in sets)] or ["accuracy"]
    width = max(4.5, min(MAX_WIDTH, 1.1 * len(settings) + 3.0))
    tick_labels, angle, width = _tick_labels(settings, width)
    if len(metrics) > 1:  # a second panel as wide as the first
        width = min(MAX_WIDTH, 2 * width - SIDE_INCHES + 0.6)
    # slanted labels hang below the axis: past ~1 inch, the figure grows by what they take
    longest = max(len(line) for label in tick_labels for line in label.split("\n"))
    drop = math.sin(math.radians(angle)) * CHAR_INCHES * longest
    fig = Figure(figsize=(width, 4.0 + max(0.0, drop - 1.0)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics), squeeze=False)[0])
    rng = np.random.default_rng(0)  # fixed jitter: the same data always gives the same picture
    any_diverged = any_off = cut_bars = False
    for ax, metric in zip(axes, metrics, strict=True):
        mine = [s for s in sets if s.metric == metric]
        # side by side within the panel: its own datasets (their colours stay the figure's)
        here = [d for d in datasets if any(s.dataset == d for s in mine)]
        offsets = np.linspace(-0.18, 0.18, len(here)) if len(here) > 1 else np.zeros(1)
        values = np.asarray([v for s in mine for v in s.accuracies], dtype=np.float64)
        diverged = bool(np.any(~np.isfinite(values)))
        scale = _Scale.of(metric, values, diverged)
        bar_top = -math.inf  # the highest mean + std: a zoomed axis keeps it in view
        for s in mine:
            d = datasets.index(s.dataset)
            x0 = settings.index(s.label) + offsets[here.index(s.dataset)]
            raw = np.asarray(s.accuracies, dtype=np.float64)
            ok = np.isfinite(raw)
            jitter = rng.uniform(-0.05, 0.05, size=raw.size)
            c = DATASET_COLORS[d % len(DATASET_COLORS)]
            y = scale.y(raw)
            shown = ok & (y >= scale.low) if metric == "r2" else ok
            off = ok & ~shown  # R² under the floor
            if raw.size > 1:  # a lone seed is its diamond: its jittered dot peeked out beside it
                ax.scatter(x0 + jitter[shown], y[shown], s=18, color=c, alpha=0.55, linewidths=0)
            if np.any(off):
                any_off = True
                ax.scatter(x0 + jitter[off], np.full(off.sum(), scale.below), marker="v", s=26,
                           color=c)  # fmt: skip
            if np.any(~ok):
                any_diverged = True
                ax.scatter(x0 + jitter[~ok], np.full((~ok).sum(), scale.diverged), marker="x",
                           s=26, color=c)  # fmt: skip
            if np.any(ok):
                mean = y[ok].mean()
                std = y[ok].std(ddof=1) if ok.sum() > 1 else 0.0
                # no score is above the best (100 %, R² 1) nor an accuracy below 0: the bar
                # ends there (99.05 ± 2.13 % drew a whisker to 101.2 %, figs22 F2)
                up, down = min(std, scale.best - mean), std
                if metric == "accuracy":
                    down = min(std, mean)
                cut_bars = cut_bars or up < std
                bar_top = max(bar_top, mean + up)
                bar = [[down], [up]] if mean >= scale.low else 0.0
                shape = DATASET_MARKERS[d % len(DATASET_MARKERS)]
                ax.errorbar(x0, max(mean, scale.below), yerr=bar,
                            fmt=shape if mean >= scale.low else "v", color=c, markersize=6,
                            capsize=4, markeredgecolor="black", markeredgewidth=0.6)  # fmt: skip
        ax.set_xticks(
            range(len(settings)),
            tick_labels,
            rotation=angle,
            ha="right" if len(settings) > 5 else "center",
            rotation_mode="anchor",  # each label ends at its tick, lines parallel
        )
        ax.set_xlim(-0.6, len(settings) - 0.4)
        if xlabel:  # the ticks say 100 ... 1e-06: of what (figs22 F15)
            ax.set_xlabel(xlabel)
        top = scale.top
        if scale.cut:  # room for the bars' caps at 100 % (they end there)
            top = max(top, bar_top + 0.02 * (scale.top - scale.low))
        ax.set_ylim(scale.bottom, top)
        if metric == "accuracy" and scale.cut:
            ax.set_ylabel(f"final accuracy (%; axis starts at {scale.low:g})")
            _cut_mark(ax)
        elif metric == "accuracy":
            ax.set_ylabel("final accuracy (%)")
        else:
            ax.set_ylabel("final R² (1: exact, 0: the targets' mean)")
            if scale.low < 0:  # R² 0: no better than predicting the mean
                ax.axhline(0.0, color="0.55", linewidth=0.9, zorder=0)
        ax.grid(True, axis="y", color="0.88", linewidth=0.8)
        ax.set_axisbelow(True)
        if len(metrics) > 1:
            ax.set_title(PANEL_TITLES[metric], fontsize=10)
    handles = [
        Line2D(
            [],
            [],
            marker=DATASET_MARKERS[i % len(DATASET_MARKERS)],
            linestyle="",
            color=DATASET_COLORS[i % len(DATASET_COLORS)],
            markeredgecolor="black",
            label=d,
        )
        for i, d in enumerate(datasets)
    ]
    # one seed per setting has no spread: the diamond is that seed's score, and no dot
    # needs telling apart from it
    spread = any(len(s.accuracies) > 1 for s in sets)
    if spread:
        handles.append(
            Line2D([], [], marker="o", linestyle="", color="0.5", alpha=0.55, label="one seed")
        )
    if any_off:
        handles.append(
            Line2D([], [], marker="v", linestyle="", color="0.3", label=f"R² below {R2_FLOOR:g}")
        )
    if any_diverged:
        handles.append(Line2D([], [], marker="x", linestyle="", color="0.3", label="diverged"))
    title_text = (
        ("large marker: mean ± std" + (",\nbars end at the best score" if cut_bars else ""))
        if spread
        else "large marker: the one seed"
    )
    if len(datasets) > 1:  # why one setting's markers stand apart (a11y24 L6)
        title_text += "\neach setting: " + wrap_label(", ".join(datasets), 24) + "\nleft to right"
    fig.legend(
        handles=handles,
        loc="outside right center",
        frameon=False,
        title=title_text,
        title_fontsize=8,
    )
    if title and len(metrics) > 1:
        fig.suptitle(fit_text(title, width - 0.4, fontsize=12))
    elif title:
        axes[0].set_title(fit_text(title, width - 1.0, fontsize=12))
    _save(fig, path)
    return fig
