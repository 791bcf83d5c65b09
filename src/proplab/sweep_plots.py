"""Figures for a sweep: learning curves over seeds, accuracy per setting, decision boundaries.

Regression runs (targets that are values, as the zoo's ``plane`` and ``multi-gauss``)
have no accuracy: their dots show R² (:class:`DotSet` ``metric="r2"``), and their
boundary panels the predicted value over the inputs, coloured as the targets are.

Each function takes plain arrays (no run folders), writes one PNG atomically
and returns the matplotlib ``Figure`` (object API, Agg canvas, no pyplot
state), like :mod:`proplab.plots`.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from proplab.data import plane_axes, plane_points
from proplab.plots import CLASS_COLORS, OFF_SCALE, _save, fit_text
from proplab.scoring import are_binary_labels
from proplab.value_plots import VALUE_CMAP, VALUE_CMAP_PALE, value_limit

PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
)  # fmt: skip
# the accuracy dots' datasets: none of them the blue and red that mean class 1 and class 0
# in every boundary figure of the same report (CLASS_COLORS), nor a curves figure's first
DATASET_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
)  # fmt: skip
# P(class 1) from 0 (red, class 0) through white to 1 (blue, class 1): the handout's
# colours, paled so that the data points (full colour, black rim) stay visible on top
BOUNDARY_CMAP = LinearSegmentedColormap.from_list(
    "proplab_boundary", ["#eb9293", "#ffffff", "#8fbbe0"]
)
CHAR_INCHES = 0.075  # width of an average character of 10 pt text
MAX_WIDTH = 13.0  # inches: the widest figure a report shows without shrinking it much
# after the ten colours, the settings repeat them dashed, then dotted
LINESTYLES = ("-", "--", ":")
MAX_PANELS_ACROSS = 8  # decision boundaries: panels per line before wrapping
MAX_POINTS = 600  # points per curve after thinning: plenty for a 7-inch figure


@dataclass
class CurveSet:
    """The learning curves of one setting: one loss array per seed (lengths may differ)."""

    label: str
    losses: list[np.ndarray]


def _epochs_tick(value: float, _pos: int) -> str:
    """``20000 -> '20k'``, ``2500 -> '2.5k'``, ``300 -> '300'``: epoch ticks that never collide."""
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _thin(n: int) -> np.ndarray:
    """Indices 0..n-1 to plot: all of them when few, else an even spread keeping the ends."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(np.int64))


def _bins(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(points, starts)``: the epochs to plot (:func:`_thin`) and the bins they stand for.

    Bin ``k`` runs from ``starts[k]`` to ``starts[k + 1]`` (the last to ``n``): every epoch
    belongs to the plotted point nearest it, so the bins tile ``0..n-1`` with no gap.
    """
    points = _thin(n)
    starts = np.concatenate([[0], (points[:-1] + points[1:] + 1) // 2])
    return points, starts


def band(losses: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(epochs, median, low, high)`` over seeds, epoch by epoch, thinned for plotting.

    Runs shorter than the longest (diverged or stopped early) count only where
    they exist; non-finite losses are ignored. Epochs are 1-based.

    The min, max and median over the seeds are taken at every epoch first; a long
    run then keeps about MAX_POINTS plotted epochs, each standing for the bin of
    epochs nearest it: ``low`` is the least of that bin's minima and ``high`` the
    greatest of its maxima, so the band holds every seed's every epoch (sampling
    one epoch in ~33 drew a loss that alternates between two values as a comb of
    spikes, and could miss a true extreme). ``median`` is the median at the plotted
    epoch itself (the bin's median of medians where every seed is missing there).
    """
    length = max(len(a) for a in losses)
    stack = np.full((len(losses), length), np.nan)
    for i, a in enumerate(losses):
        a = np.asarray(a, dtype=np.float64).reshape(-1)
        stack[i, : a.size] = a
    stack[~np.isfinite(stack)] = np.nan
    has = ~np.all(np.isnan(stack), axis=0)  # nan-reductions warn on all-NaN columns
    median = np.full(length, np.nan)
    low, high = median.copy(), median.copy()
    median[has] = np.nanmedian(stack[:, has], axis=0)
    low[has] = np.nanmin(stack[:, has], axis=0)
    high[has] = np.nanmax(stack[:, has], axis=0)
    points, starts = _bins(length)
    if points.size < length:  # thinned: reduce each bin (fmin/fmax skip NaN)
        low = np.fmin.reduceat(low, starts)
        high = np.fmax.reduceat(high, starts)
        at = median[points]
        for k in np.flatnonzero(np.isnan(at) & np.isfinite(low)):
            stop = starts[k + 1] if k + 1 < starts.size else length
            at[k] = np.nanmedian(median[starts[k] : stop])
        median = at
    keep = np.isfinite(low)
    return points[keep] + 1, median[keep], low[keep], high[keep]


@dataclass
class _LegendLayout:
    width: float  # figure size, inches
    height: float
    below: bool  # legend under the panels (else right of them)
    columns: int


def _legend_layout(labels: Sequence[str], width: float, height: float = 4.2) -> _LegendLayout:
    """Where a legend of ``labels`` fits: right of the panels when short, else in columns below.

    A long legend at the side squeezes the panels to nothing (matplotlib's
    constrained layout then gives up), so from 11 labels, or labels over 28
    characters, it goes under the panels, in as few rows as its columns allow
    within 13 inches (spread evenly); the figure widens to 9 inches at least.
    """
    longest = max((len(line) for label in labels for line in label.split("\n")), default=0)
    if len(labels) <= 10 and longest <= 28:
        return _LegendLayout(width, height, below=False, columns=1)
    column = CHAR_INCHES * longest + 0.8  # inches: the text plus the line sample
    fits = max(1, int((MAX_WIDTH - 0.4) // column))  # columns that fit the widest figure
    # as few rows as fit, spread evenly (12 short labels: 2 rows of 6, not 1 column of 12)
    columns = math.ceil(len(labels) / math.ceil(len(labels) / fits))
    width = max(width, 9.0, min(MAX_WIDTH, columns * column + 0.4))
    rows = math.ceil(len(labels) / columns)
    lines = max(label.count("\n") + 1 for label in labels)  # a row is as tall as its tallest
    return _LegendLayout(width, height + 0.6 + 0.24 * rows * lines, below=True, columns=columns)


HIGHLIGHT_COLOR = "black"  # the reference setting's line, the same in every curves figure
LINE_WIDTH = 1.6  # points
AXES_INCHES = 3.0  # about the height of a curves panel (4.2 inches less titles and ticks)
# median lines within a line's width of each other: at half their epochs or more they are
# drawn striped where they meet; at 95 % in every panel they share a legend entry too
STRIPE_SHARE = 0.5
SAME_SHARE = 0.95
STRIPE_POINTS = 9.0  # length of each setting's dash where curves share a line


# a loss this many times above the highest first-epoch loss has run away (diverging): an
# MSE on values with an identity output climbs to 1e100 and more before it overflows
RUNAWAY = 1e2


def _ceiling(bands: Sequence[dict[str, tuple[np.ndarray, ...]]]) -> float | None:
    """The loss axis' top when some curve runs away (RUNAWAY times the highest start),
    else None: a curve climbing to 1e100 squeezed every other into one flat line at the
    bottom (and into one "same curve" legend entry). Bounded losses (the lab's sigmoid
    MSE) never reach it, so their figures keep matplotlib's own limits."""
    starts = [float(b[3][0]) for drawn in bands for b in drawn.values() if b[0].size]
    starts = [v for v in starts if 0 < v < OFF_SCALE]
    if not starts:
        return None
    ceiling = RUNAWAY * max(starts)
    runaway = any(
        np.any(b[3][(b[2] > 0) & (b[3] < OFF_SCALE)] > ceiling)
        for drawn in bands
        for b in drawn.values()
    )
    return ceiling if runaway else None


def _floor(bands: Sequence[dict[str, tuple[np.ndarray, ...]]], ceiling: float) -> float:
    """The loss axis' bottom under a ``ceiling``: the lowest loss less a 5 % margin of the
    decades shown (matplotlib's margin would be 5 % of the runaway's 100 decades)."""
    lows = [b[2][b[2] > 0] for drawn in bands for b in drawn.values()]
    low = min((float(x.min()) for x in lows if x.size), default=ceiling / 10)
    return low / 10 ** (0.05 * math.log10(ceiling / low))


def _line_tolerance(
    bands: Sequence[dict[str, tuple[np.ndarray, ...]]], ceiling: float | None = None
) -> float:
    """How far apart (in natural log of the loss) two curves can be and still hide each
    other: one line's width on the log axis the figure will draw (its span of decades,
    over about AXES_INCHES; up to ``ceiling``, the axis' top, when one is set)."""
    lows = [b[2][(b[2] > 0) & (b[3] < OFF_SCALE)] for drawn in bands for b in drawn.values()]
    highs = [b[3][(b[2] > 0) & (b[3] < OFF_SCALE)] for drawn in bands for b in drawn.values()]
    lows = [x for x in lows if x.size]
    if not lows:
        return 0.0
    low = min(float(x.min()) for x in lows)
    high = max(float(x.max()) for x in highs if x.size)
    if ceiling is not None:
        high = min(high, ceiling)
    decades = max(0.3, 1.1 * math.log10(high / low))  # matplotlib adds margins
    return LINE_WIDTH / 72 / AXES_INCHES * decades * math.log(10)


def _near(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], tolerance: float) -> np.ndarray:
    """At each of ``a``'s plotted epochs, whether ``b``'s median line lies on ``a``'s
    (within ``tolerance``, natural log); all False when they cover different epochs."""
    (ea, ma), (eb, mb) = a[:2], b[:2]
    if not np.array_equal(ea, eb):
        return np.zeros(ea.size, dtype=bool)
    both = (ma > 0) & (mb > 0)
    close = np.zeros(ea.size, dtype=bool)
    close[both] = np.abs(np.log(ma[both] / mb[both])) <= tolerance
    return close


def _overlapping(
    drawn: dict[str, tuple[np.ndarray, ...]], tolerance: float, share: float
) -> list[list[str]]:
    """The labels of one panel in groups whose median lines lie on each other over at
    least ``share`` of the epochs (joined through any pair), in the panel's order."""
    labels = list(drawn)
    group = list(range(len(labels)))  # each label's group: the lowest index joined to it
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if group[j] == group[i]:
                continue
            near = _near(drawn[labels[i]], drawn[labels[j]], tolerance)
            if near.size and near.sum() >= share * near.size:
                old, new = max(group[i], group[j]), min(group[i], group[j])
                group = [new if g == old else g for g in group]
    return [
        [lab for lab, g in zip(labels, group, strict=True) if g == k] for k in sorted(set(group))
    ]


def _same_curve_label(labels: Sequence[str]) -> str:
    """One legend entry for settings sharing a line: ``"relu, leaky_relu (same curve)"``,
    on two lines when one would not fit a side legend."""
    text = f"{', '.join(labels)} (same curve)"
    if len(text) <= 28:
        return text
    # many settings on one line: their names over several lines, not one line wider
    # than the figure
    return f"{_wrap_label(', '.join(labels), 28)}\n(same curve)"


def _stripe(j: int, k: int) -> tuple[float, tuple[float, float]]:
    """The dash pattern of the ``j``-th of ``k`` settings sharing a line: their dashes
    take turns, so each setting's colour shows along it."""
    seg = STRIPE_POINTS / LINE_WIDTH  # matplotlib counts dashes in line widths
    period = seg * k
    return ((period - j * seg) % period, (seg, period - seg))


def learning_curves(
    panels: dict[str, list[CurveSet]],
    path: str | os.PathLike[str],
    title: str = "",
    legend_title: str = "",
    highlight: str | None = None,
) -> Figure:
    """One panel per dataset: loss against epoch per setting, median line and min-max band over seeds.

    The panels share their loss axis, so the datasets can be compared at a glance.

    ``highlight`` names the reference setting (the base model): its line is black and
    drawn on top, so it looks the same in every figure; the other settings take the
    palette's colours in order. Where median lines lie on each other (within a line's
    width, for settings that do so over at least half their epochs) they are drawn in
    dashes that take turns, each setting's colour in its place, instead of the last one
    drawn hiding the others; settings on one line over 95 % of the epochs in every panel
    also share one legend entry, ``"relu, leaky_relu (same curve)"``.
    """
    n = max(1, len(panels))
    labels: list[str] = []
    for sets in panels.values():
        labels += [s.label for s in sets if s.label not in labels]
    bands = [{s.label: band(s.losses) for s in sets if s.losses} for sets in panels.values()]
    ceiling = _ceiling(bands)
    tolerance = _line_tolerance(bands, ceiling)
    groups = [_overlapping(drawn, tolerance, STRIPE_SHARE) for drawn in bands]
    same = [_overlapping(drawn, tolerance, SAME_SHARE) for drawn in bands]
    # one legend entry for settings that share a line in every panel they appear in
    shared = {
        lab: tuple(next((i for i, g in enumerate(gs) if lab in g), -1) for gs in same)
        for lab in labels
    }
    entries: list[list[str]] = []
    for lab in labels:
        entry = next((e for e in entries if shared[e[0]] == shared[lab]), None)
        if entry is not None and any(i >= 0 for i in shared[lab]):
            entry.append(lab)
        else:
            entries.append([lab])
    style: dict[str, tuple[str, str]] = {}
    others = [lab for lab in labels if lab != highlight]
    for k, lab in enumerate(others):
        style[lab] = (PALETTE[k % len(PALETTE)], LINESTYLES[(k // len(PALETTE)) % len(LINESTYLES)])
    if highlight in labels:
        style[highlight] = (HIGHLIGHT_COLOR, "-")
    entry_labels = [e[0] if len(e) == 1 else _same_curve_label(e) for e in entries]
    legend = _legend_layout(entry_labels, width=min(5.2 * n, MAX_WIDTH))
    fig = Figure(figsize=(legend.width, legend.height), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False, sharey=True)[0])
    band_alpha = 0.18 if len(labels) <= 3 else 0.11  # many overlapping bands turn muddy
    striped = False
    for ax, dataset, drawn, panel_groups in zip(axes, panels, bands, groups, strict=False):
        for group in panel_groups:
            for j, lab in enumerate(group):
                epochs, med, low, high = drawn[lab]
                positive = (low > 0) & (high < OFF_SCALE)  # what a log axis can show
                if not np.any(positive):
                    continue
                c, linestyle = style[lab]
                ax.fill_between(
                    epochs[positive],
                    low[positive],
                    high[positive],
                    color=c,
                    alpha=band_alpha,
                    linewidth=0,
                )
                x, y = epochs[positive], med[positive]
                z = 2.5 if lab == highlight else 2
                near = np.zeros(x.size, dtype=bool)  # where another one's line lies on it
                for other in group:
                    if other != lab:
                        near |= _near(drawn[lab], drawn[other], tolerance)[positive]
                if not near.any():
                    ax.plot(x, y, color=c, linestyle=linestyle, linewidth=LINE_WIDTH, zorder=z)
                    continue
                striped = True
                # apart: solid; together: dashes taking turns, each one's colour in its
                # place (each piece one point longer at both ends, so the pieces join)
                grow = np.convolve(near, [1, 1, 1], mode="same") > 0
                apart = np.convolve(~near, [1, 1, 1], mode="same") > 0
                ax.plot(x, np.where(apart, y, np.nan), color=c, linestyle=linestyle,
                        linewidth=LINE_WIDTH, zorder=z)  # fmt: skip
                ax.plot(x, np.where(grow, y, np.nan), color=c, linestyle=_stripe(j, len(group)),
                        linewidth=LINE_WIDTH, zorder=z)  # fmt: skip
        ax.set_yscale("log")
        if ceiling is not None:  # runaway curves leave through the top
            ax.set_ylim(_floor(bands, ceiling), ceiling)
        ax.set_title(dataset)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(_epochs_tick))
        ax.grid(True, which="major", color="0.88", linewidth=0.8)
        ax.set_xlim(left=0)
    axes[0].set_ylabel("loss (log scale)")
    handles: list[Line2D | tuple[Line2D, ...]] = []
    for e in entries:
        if len(e) == 1:
            c, linestyle = style[e[0]]
            handles.append(Line2D([], [], color=c, linestyle=linestyle, linewidth=2.0))
        else:  # the shared line's colours side by side
            handles.append(tuple(Line2D([], [], color=style[lab][0], linewidth=2.0) for lab in e))
    how: tuple[str, ...] = ("line: median over seeds", "band: min to max")
    if all(len(s.losses) <= 1 for sets in panels.values() for s in sets):
        how = ("one run per line",)  # a single seed has no median and no band
    if striped:
        how += ("striped: lines on top of each other",)
    if ceiling is not None:
        # two short lines: one long line beside a single panel squeezed it to a strip
        how += ("leaving the top: diverging", f"(loss over {RUNAWAY:g} x the start)")
    if legend.below:  # many or long labels: in columns under the panels
        title_text = (f"{legend_title}. " if legend_title else "") + ", ".join(how)
        place = {"loc": "outside lower center", "ncols": legend.columns}
    else:
        title_text = "\n".join(((legend_title,) if legend_title else ()) + how)
        place = {"loc": "outside right center", "alignment": "left"}
    fig.legend(
        handles,
        entry_labels,
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0.0)},
        frameon=False,
        title=title_text,
        title_fontsize=8,
        **place,
    )
    if title:
        fig.suptitle(fit_text(title, legend.width - 0.4, fontsize=12))
    _save(fig, path)
    return fig


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


def _wrap_label(label: str, chars: int) -> str:
    return textwrap.fill(label, chars, break_long_words=False, break_on_hyphens=False) or label


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
        return [_wrap_label(s, chars) for s in settings], 0.0, MAX_WIDTH
    angle = _tick_angle(settings)
    if longest <= TICK_CHARS:
        return list(settings), angle, width
    angle = 45.0
    slot = (width - SIDE_INCHES) / n  # inches between ticks
    lines = max(1, int(slot * math.sin(math.radians(angle)) * 72 / 13))  # 13 pt a line
    chars = max(TICK_CHARS, math.ceil(longest / lines))
    return [_wrap_label(s, chars) for s in settings], angle, width


R2_FLOOR = -1.0  # R² below this (worse than the mean twice over) is drawn at the floor
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

    @classmethod
    def of(cls, metric: str, values: np.ndarray, any_diverged: bool) -> _Scale:
        if metric == "accuracy":  # in %, as it always was
            return cls(metric, 0.0, 104.0, -6.0, -6.0, -10.0 if any_diverged else -3.0)
        finite = values[np.isfinite(values)]
        low = min(0.0, max(float(finite.min()), R2_FLOOR)) if finite.size else 0.0
        span = 1.0 - low
        off = bool(finite.size and finite.min() < R2_FLOOR)
        bottom = low - span * (0.16 if any_diverged else 0.09 if off else 0.04)
        return cls(metric, low, 1.0 + 0.04 * span, low - 0.05 * span, low - 0.11 * span, bottom)

    def y(self, values: np.ndarray) -> np.ndarray:
        return 100.0 * values if self.metric == "accuracy" else values


def accuracy_dots(sets: Sequence[DotSet], path: str | os.PathLike[str], title: str = "") -> Figure:
    """Final accuracy per setting: a dot per seed, the mean with a +-std bar, datasets side by side.

    Diverged runs (NaN accuracy) are drawn as an ``x`` below the axis floor. Sets of
    ``metric="r2"`` (regression runs) get their own axis of R² (1: a perfect fit, 0: no
    better than the targets' mean; values under -1 drawn as a triangle at the floor);
    a sweep of both kinds gets both panels side by side, classification first.
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
    any_diverged = any_off = False
    for ax, metric in zip(axes, metrics, strict=True):
        mine = [s for s in sets if s.metric == metric]
        # side by side within the panel: its own datasets (their colours stay the figure's)
        here = [d for d in datasets if any(s.dataset == d for s in mine)]
        offsets = np.linspace(-0.18, 0.18, len(here)) if len(here) > 1 else np.zeros(1)
        values = np.asarray([v for s in mine for v in s.accuracies], dtype=np.float64)
        diverged = bool(np.any(~np.isfinite(values)))
        scale = _Scale.of(metric, values, diverged)
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
                ax.errorbar(x0, max(mean, scale.below), yerr=std if mean >= scale.low else 0.0,
                            fmt="D" if mean >= scale.low else "v", color=c, markersize=6,
                            capsize=4, markeredgecolor="black", markeredgewidth=0.6)  # fmt: skip
        ax.set_xticks(
            range(len(settings)),
            tick_labels,
            rotation=angle,
            ha="right" if len(settings) > 5 else "center",
            rotation_mode="anchor",  # each label ends at its tick, lines parallel
        )
        ax.set_xlim(-0.6, len(settings) - 0.4)
        ax.set_ylim(scale.bottom, scale.top)
        if metric == "accuracy":
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
            marker="D",
            linestyle="",
            color=DATASET_COLORS[i % len(DATASET_COLORS)],
            markeredgecolor="black",
            label=d,
        )
        for i, d in enumerate(datasets)
    ]
    handles.append(
        Line2D([], [], marker="o", linestyle="", color="0.5", alpha=0.55, label="one seed")
    )
    if any_off:
        handles.append(
            Line2D([], [], marker="v", linestyle="", color="0.3", label=f"R² below {R2_FLOOR:g}")
        )
    if any_diverged:
        handles.append(Line2D([], [], marker="x", linestyle="", color="0.3", label="diverged"))
    fig.legend(
        handles=handles,
        loc="outside right center",
        frameon=False,
        title="diamond: mean ± std",
        title_fontsize=8,
    )
    if title and len(metrics) > 1:
        fig.suptitle(fit_text(title, width - 0.4, fontsize=12))
    elif title:
        axes[0].set_title(fit_text(title, width - 1.0, fontsize=12))
    _save(fig, path)
    return fig


@dataclass
class BoundaryPanel:
    """One trained model's P(class 1) on a grid, plus the data it was trained on.

    For a regression (``values``; by default, when ``y`` holds anything but 0/1
    labels) ``prob`` is the predicted value and ``y`` the targets: the panel shows the
    value over the inputs, no 0.5 line, and the dots coloured by their target.
    """

    title: str
    grid_u: np.ndarray  # (G,) first input coordinate
    grid_v: np.ndarray  # (G,) second input coordinate
    prob: np.ndarray  # (G, G): prob[j, i] at (grid_u[i], grid_v[j]); NaN where undefined
    x: np.ndarray  # (n, 2)
    y: np.ndarray  # (n, 1) or (n,)
    values: bool | None = None  # a regression's predicted values (None: judged from y)

    @property
    def regression(self) -> bool:
        """Whether the panel shows predicted values rather than P(class 1)."""
        return not are_binary_labels(np.asarray(self.y)) if self.values is None else self.values


def panels_value_limit(panels: Sequence[BoundaryPanel]) -> float:
    """The colour scale's half-range for a sweep's regression panels: their targets'
    largest size (a run's :func:`~proplab.value_plots.value_limit`), but at least 1 (the
    zoo's targets span [-1, 1]), one scale for every dataset of the figure; predictions
    beyond it take the end colours."""
    return max(1.0, value_limit(*(p.y for p in panels)))


def boundary_grid(x: np.ndarray, size: int = 121) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(u, v, points)``: a grid over the unit square widened to hold every sample of ``x``.

    ``x`` is ``(n, 2)``; the box is the union of ``[0, 1]^2`` and the samples'
    box, plus 5 % of its span on each side: ``[-0.05, 1.05]^2`` for the lab's
    data, the whole cloud for a zoo dataset. ``u`` and ``v`` are ``(size,)``,
    ``points`` is ``(size * size, 2)`` with ``points[j * size + i] = (u[i], v[j])``.
    """
    u, v = plane_axes(x, size)
    return u, v, plane_points(u, v)


def _shared_axes(rows: Sequence[Sequence[BoundaryPanel | None]]) -> bool | str:
    """Share axes between panels drawn on one grid: all of them, or those of each row."""

    def same(panels: list[BoundaryPanel]) -> bool:
        return all(
            np.array_equal(p.grid_u, panels[0].grid_u)
            and np.array_equal(p.grid_v, panels[0].grid_v)
            for p in panels
        )

    per_row = [[p for p in row if p is not None] for row in rows]
    if same([p for row in per_row for p in row]):
        return True
    return "row" if all(same(row) for row in per_row if row) else False


def _aspect(panel: BoundaryPanel) -> float:
    """Equal scales when the inputs' ranges are alike (the lab's square, the zoo's clouds),
    else a square panel: columns on scales 5x apart (a CSV's) would draw a sliver."""
    ratio = float(np.ptp(panel.grid_u) / np.ptp(panel.grid_v))
    return 1.0 if 0.5 <= ratio <= 2.0 else ratio


def _height_share(panel: BoundaryPanel) -> float:
    """A panel's drawn height over its width (see :func:`_aspect`)."""
    aspect = _aspect(panel)
    return float(np.ptp(panel.grid_v) / np.ptp(panel.grid_u)) * aspect


def _wrap(title: str, width: int = 26) -> str:
    """Break each line of ``title`` longer than ``width`` after its commas (a panel is narrow),
    and a part still too long at its spaces."""
    lines = []
    for line in title.split("\n"):
        current = ""
        for part in line.split(", "):
            joined = f"{current}, {part}" if current else part
            if current and len(joined) > width:
                lines.append(current + ",")
                current = part
            else:
                current = joined
        lines.append(current)
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or line
        for line in lines
    )


def _wrap_rows(
    rows: Sequence[Sequence[BoundaryPanel | None]], labels: Sequence[str]
) -> tuple[list[Sequence[BoundaryPanel | None]], list[str]]:
    """Each row cut into lines of at most MAX_PANELS_ACROSS panels, as even as possible
    (12 as 6 + 6, not 8 + 4); a row's label goes to its first line."""
    out: list[Sequence[BoundaryPanel | None]] = []
    out_labels: list[str] = []
    for r, row in enumerate(rows):
        across = max(1, math.ceil(len(row) / max(1, math.ceil(len(row) / MAX_PANELS_ACROSS))))
        lines = [row[i : i + across] for i in range(0, len(row), across)] or [row]
        out += lines
        out_labels += [labels[r] if r < len(labels) else ""] + [""] * (len(lines) - 1)
    return out, out_labels


def _panel_axes(ax, panel: BoundaryPanel) -> None:
    """A boundary panel's title, aspect, limits and ticks."""
    ax.set_title(_wrap(panel.title), fontsize=9)
    ax.set_aspect(_aspect(panel))
    ax.set_xlim(panel.grid_u[0], panel.grid_u[-1])
    ax.set_ylim(panel.grid_v[0], panel.grid_v[-1])
    ax.tick_params(labelsize=7)


def _value_panel(ax, panel: BoundaryPanel, pred: np.ma.MaskedArray, limit: float):
    """A regression's panel: the predicted value over the inputs (pale), the targets as dots
    (full colours of the same scale, black rims); returns the heatmap for the colour bar."""
    image = ax.pcolormesh(
        panel.grid_u,
        panel.grid_v,
        pred,
        cmap=VALUE_CMAP_PALE,
        vmin=-limit,
        vmax=limit,
        shading="auto",
        rasterized=True,
    )
    ax.scatter(
        panel.x[:, 0],
        panel.x[:, 1],
        s=14,
        c=np.asarray(panel.y, dtype=np.float64).reshape(-1),
        cmap=VALUE_CMAP,
        vmin=-limit,
        vmax=limit,
        edgecolors="black",
        linewidths=0.5,
    )
    _panel_axes(ax, panel)
    return image


def decision_boundaries(
    rows: Sequence[Sequence[BoundaryPanel | None]],
    path: str | os.PathLike[str],
    title: str = "",
    row_labels: Sequence[str] = (),
) -> Figure:
    """A grid of heatmaps (rows: datasets, columns: settings) of P(class 1), data on top.

    The 0.5 contour is the decision boundary; points are coloured by their
    true class (red 0, blue 1). A regression's panels (see :class:`BoundaryPanel`)
    show the predicted value from -1 (red) to +1 (blue), the dots coloured by
    their targets on the same scale, with a colour bar of their own.
    """
    given = len(rows)
    rows, row_labels = _wrap_rows(rows, row_labels)
    n_rows = max(1, len(rows))
    n_cols = max(1, max(len(r) for r in rows))
    # titles of more than two lines (long setting names) get their own room
    lines = max((_wrap(p.title).count("\n") + 1 for row in rows for p in row if p), default=2)
    extra = 0.18 * max(0, lines - 2)
    width = min(2.6 * n_cols + 1.2, 16.0)
    # each row fits its own tallest panel: wide data (moons, 3.5 x 2) drawn at equal scales
    # makes short panels, and a 2.6-inch row would leave them floating, the colour bar
    # above them (and sized by the grid's tallest, a short row left an empty band)
    tallest = [max((_height_share(p) for p in row if p), default=1.0) for row in rows]
    drawn = [min(2.6 - 0.75, (width - 1.2) / n_cols * t) for t in tallest]  # the panels
    # constrained layout gives each row its titles and ticks first (alike in every row),
    # then splits the rest by height_ratios: the panels' own heights
    size = (width, sum(drawn) + (0.75 + extra) * n_rows + 0.6 + (0.3 if extra else 0.0))
    fig = Figure(figsize=size, layout="constrained")
    share = _shared_axes(rows)  # datasets of different ranges get their own axes
    axes = fig.subplots(
        n_rows,
        n_cols,
        squeeze=False,
        sharex=share,
        sharey=share,
        gridspec_kw={"height_ratios": drawn},
    )
    image = value_image = None
    limit = panels_value_limit([p for row in rows for p in row if p is not None and p.regression])
    prob_axes, value_axes = [], []
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r][c]
            panel = row[c] if c < len(row) else None
            if panel is None:
                ax.set_axis_off()
                continue
            prob = np.ma.masked_invalid(panel.prob)
            if panel.regression:
                value_image = _value_panel(ax, panel, prob, limit)
                value_axes.append(ax)
                continue
            prob_axes.append(ax)
            image = ax.pcolormesh(
                panel.grid_u,
                panel.grid_v,
                prob,
                cmap=BOUNDARY_CMAP,
                vmin=0.0,
                vmax=1.0,
                shading="auto",
                rasterized=True,
            )
            finite = panel.prob[np.isfinite(panel.prob)]  # a diverged model's are all NaN
            if finite.size and finite.min() < 0.5 < finite.max():
                ax.contour(
                    panel.grid_u, panel.grid_v, prob, levels=[0.5], colors="black", linewidths=1.0
                )
            labels = np.asarray(panel.y).reshape(-1) > 0.5
            for cls in (0, 1):
                m = labels == bool(cls)
                ax.scatter(
                    panel.x[m, 0],
                    panel.x[m, 1],
                    s=14,
                    c=CLASS_COLORS[cls],
                    edgecolors="black",
                    linewidths=0.5,
                )
            _panel_axes(ax, panel)
    for r, label in enumerate(row_labels[:n_rows]):
        if label:
            axes[r][0].set_ylabel(label, fontsize=11, fontweight="bold")
    # one colour bar per kind, beside its own panels (all of them when one kind)
    both = image is not None and value_image is not None
    if image is not None:
        bar = fig.colorbar(image, ax=prob_axes if both else axes, shrink=0.8, pad=0.01)
        bar.set_label("P(class 1)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if value_image is not None:
        bar = fig.colorbar(value_image, ax=value_axes if both else axes, shrink=0.8, pad=0.01)
        bar.set_label("predicted value (dots: targets)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(fit_text(title, size[0] - 0.4, fontsize=11), fontsize=11)
    # fixed-aspect panels: one layout pass leaves a row's titles on the tick marks of the
    # row above. One more pass separates the lab's two rows (the lab's hidden-units grid:
    # titles ~10 px lower); wrapped lines need up to SETTLE_PASSES, and settling the lab's
    # grids that far took 3-5 passes of 0.1-0.3 s each for no further change
    _save(fig, path, settle=True if len(rows) > given else 1)
    return fig
