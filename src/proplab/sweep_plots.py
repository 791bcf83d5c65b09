"""A sweep's learning curves: ``learning_curves()``, the median loss over seeds and its band, per setting.

Also the sizes and helpers every sweep figure shares (the widest figure, a character's
width, label wrapping). The other sweep figures live beside it: the final accuracy (or
R²) per setting in :mod:`proplab.sweep_dots`, the decision boundaries (or, for a
regression, the predicted value over the inputs) in :mod:`proplab.sweep_boundaries`.

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
from typing import Any, Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import offset_copy

from proplab.plots import OFF_SCALE, _save, fit_text, plain_log_ticks

# the settings' colours in order: Okabe and Ito's, ordered so that the first six stay apart
# under red-green colour blindness too (tab10's red and green, the 2nd and 3rd settings,
# became one olive under deuteranopia; figs22 F4), then tab10's brown, Tol's wine (tab10's
# grey was the grey of the lab model's min/max lines; a11y24 M1), tab10's olive and cyan.
# Colours alike under some colour blindness take different LINESTYLES (k % 3): blue (0),
# green (2) and sky blue (4), one teal under tritanopia; orange (1), vermillion (3) and
# olive (8) under deuteranopia. Black is the lab model's (HIGHLIGHT_COLOR), so none here is
# near it.
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9",
    "#cc79a7", "#8c564b", "#882255", "#bcbd22", "#17becf",
)  # fmt: skip
CHAR_INCHES = 0.075  # width of an average character of 10 pt text
MAX_WIDTH = 13.0  # inches: the widest figure a report shows without shrinking it much
# setting k's line: solid, dashed, dash-dotted in turn from the first setting, with the
# colours: hue alone left lines the legend could not name under colour blindness (a11y24
# M1; 30 settings before a pair repeats). Dotted is the min/max lines' (EDGE_STYLE).
LineStyle = Literal["-", "--", "-."]
LINESTYLES: tuple[LineStyle, ...] = ("-", "--", "-.")
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

    A run shorter than the longest whose curve ends on a finite loss stopped early
    (``tol``, early stopping): it is done, and from its stop on it counts with that last
    loss (left out, the median of the seeds still training jumped up where seeds
    stopped; figs22 F5). A diverged run's non-finite losses are ignored: it counts only
    where it has a loss. Epochs are 1-based.

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
        if 0 < a.size < length and np.isfinite(a[-1]):  # stopped early: its loss stays
            stack[i, a.size :] = a[-1]
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


def _ceiling(
    bands: Sequence[dict[str, tuple[np.ndarray, ...]]], firsts: Sequence[float]
) -> float | None:
    """The loss axis' top when some curve runs away (RUNAWAY times the highest start,
    ``firsts`` being every seed's first-epoch loss), else None: a curve climbing to 1e100
    squeezed every other into one flat line at the bottom (and into one "lines overlap"
    legend entry). Bounded losses (the lab's sigmoid MSE) never reach it, so their figures
    keep matplotlib's own limits. The start is epoch 1's loss, not the thinned band's first
    point: that is its bin's maximum, after updates that may have blown the loss up
    already (verify23: 31 for a run starting at 0.5, so a curve 300x its start had no x)."""
    starts = [v for v in map(float, firsts) if 0 < v < OFF_SCALE]
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


# curves panels share their loss axis unless their losses leave a gap of more than this
# many decades between them: an empty stretch of axis that only squeezes the curves
SHARE_GAP_DECADES = 2.0


def _share_loss_axis(bands: Sequence[dict[str, tuple[np.ndarray, ...]]]) -> bool:
    """Whether the curves panels (one ``bands`` dict each) can share one loss axis: unless
    the datasets' losses lie decades apart, with an empty gap of more than
    SHARE_GAP_DECADES between them (a CSV of targets ~4 500 at 2e7 and multi-gauss at
    0.03-0.15 on one axis from 1e-2 to 1e7 left multi-gauss's curves, where hidden 4
    and 16 differ, a flat line at the bottom; figs22 F6). A flat curve beside a falling
    one (the lab's XOR at 0.25, linear from 0.25 down) still shares."""
    spans = []
    for drawn in bands:
        values = [v[(v > 0) & (v < OFF_SCALE)] for b in drawn.values() for v in (b[2], b[3])]
        values = [v for v in values if v.size]
        if values:
            low = min(float(v.min()) for v in values)
            spans.append((math.log10(low), math.log10(max(float(v.max()) for v in values))))
    spans.sort()
    reached = spans[0][1] if spans else 0.0
    for low, high in spans[1:]:
        if low - reached > SHARE_GAP_DECADES:
            return False
        reached = max(reached, high)
    return True


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
    (within ``tolerance``, natural log); False where ``b`` has no line.

    Curves of different lengths are compared over the epochs both cover: a run stopped
    early by ``tol`` follows a longer one's line up to its stop, and compared only when
    their epochs were equal, it was drawn under the longer one, invisible (look17). Where
    ``b`` is plotted at other epochs (a longer curve is thinned), its line is read off
    between its points, as it is drawn."""
    (ea, ma), (eb, mb) = a[:2], b[:2]
    close = np.zeros(ea.size, dtype=bool)
    if np.array_equal(ea, eb):
        both = (ma > 0) & (mb > 0)
        close[both] = np.abs(np.log(ma[both] / mb[both])) <= tolerance
        return close
    ok = (mb > 0) & np.isfinite(mb)
    if ok.sum() < 2:
        return close
    eb, lb = eb[ok], np.log(mb[ok])
    inside = (ea >= eb[0]) & (ea <= eb[-1]) & (ma > 0) & np.isfinite(ma)
    close[inside] = np.abs(np.log(ma[inside]) - np.interp(ea[inside], eb, lb)) <= tolerance
    return close


def _shares(
    a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], tolerance: float
) -> tuple[float, float]:
    """``(most, least)``: the larger and the smaller part of its own plotted epochs over
    which each of two median lines lies on the other, fractions in [0, 1].

    Equal curves give (1, 1); a run stopped early along a longer one's line gives
    (1, the longer one's share of epochs up to the stop).
    """
    ab, ba = _near(a, b, tolerance), _near(b, a, tolerance)
    if not (ab.size and ba.size):
        return 0.0, 0.0
    return max(ab.mean(), ba.mean()), min(ab.mean(), ba.mean())


def _overlapping(
    drawn: dict[str, tuple[np.ndarray, ...]], tolerance: float, share: float, both: bool = False
) -> list[list[str]]:
    """The labels of one panel in groups whose median lines lie on each other over at
    least ``share`` of the epochs (joined through any pair), in the panel's order.

    ``share`` of the shorter line's epochs by default (it is drawn striped there), or of
    each line's with ``both`` (the pair shares one legend entry only then: a run stopped
    early along a longer one's line is not the same curve).
    """
    labels = list(drawn)
    group = list(range(len(labels)))  # each label's group: the lowest index joined to it
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if group[j] == group[i]:
                continue
            most, least = _shares(drawn[labels[i]], drawn[labels[j]], tolerance)
            if (least if both else most) >= share:
                old, new = max(group[i], group[j]), min(group[i], group[j])
                group = [new if g == old else g for g in group]
    return [
        [lab for lab, g in zip(labels, group, strict=True) if g == k] for k in sorted(set(group))
    ]


def _same_curve_label(labels: Sequence[str]) -> str:
    """One legend entry for settings sharing a line: ``"relu, leaky_relu (lines overlap)"``,
    on two lines when one would not fit a side legend."""
    text = f"{', '.join(labels)} (lines overlap)"
    if len(text) <= 28:
        return text
    # many settings on one line: their names over several lines, not one line wider
    # than the figure
    return f"{wrap_label(', '.join(labels), 28)}\n(lines overlap)"


CROWD = 3  # bands on top of each other from which their colours blend into one grey area
CROWD_DECADES = 0.2  # ... sharing at least this much of the loss axis (decades) ...
CROWD_SHARE = 0.15  # ... over at least this share of the panel's epochs
EDGE_WIDTH = 0.7  # points: a band drawn as its two edges
# ... dotted, whatever its setting's line: a solid thin grey edge of the black lab model
# read as a setting's line (a11y24 M1)
EDGE_STYLE = ":"


def _crowded(drawn: dict[str, tuple[np.ndarray, ...]]) -> bool:
    """Whether CROWD or more of one panel's min-max bands lie on top of each other (each
    holding the same CROWD_DECADES of the loss axis) over CROWD_SHARE of its epochs or more.

    Filled bands, each a pale colour, then blend into one grey-beige area in which no band
    can be told from another (report21 M6: the activation functions on linear, where one
    oscillating seed widens every band); such a figure draws its bands as edge lines.
    Bands of different lengths are compared on the longest one's epochs, where they exist.
    """
    shown = [b for b in drawn.values() if b[0].size > 1]
    if len(shown) < CROWD:
        return False
    epochs = max((b[0] for b in shown), key=len)
    lows, highs = [], []
    for e, _, low, high in (b[:4] for b in shown):
        ok = (low > 0) & (high < OFF_SCALE)
        if ok.sum() < 2:
            continue
        inside = (epochs >= e[ok][0]) & (epochs <= e[ok][-1])
        lo = np.interp(epochs, e[ok], np.log10(low[ok]))
        hi = np.interp(epochs, e[ok], np.log10(high[ok]))
        lows.append(np.where(inside, lo, np.nan))
        highs.append(np.where(inside, hi, np.nan))
    if len(lows) < CROWD:
        return False
    lo, hi = np.array(lows), np.array(highs)  # (bands, epochs)
    # depth[j, t]: the bands holding [lo[j], lo[j] + CROWD_DECADES] at epoch t (NaN: no)
    with np.errstate(invalid="ignore"):
        holds = (lo[:, None, :] <= lo[None, :, :]) & (
            hi[:, None, :] >= lo[None, :, :] + CROWD_DECADES
        )
    depth = holds.sum(axis=0).max(axis=0)
    return bool(np.mean(depth >= CROWD) >= CROWD_SHARE)


def _shared_line_note(groups: list[list[str]], legend_title: str) -> str:
    """A panel's note naming the settings on each of its striped lines, one line each:
    ``"one striped line (lr): 0.1, 0.01, 0.001, 1e-06"`` (empty when it has none).

    Per panel: two panels rarely share the same groups (the lab's XOR stripe held four
    rates, the linear one three), and a legend entry for one panel's group left the
    other's stripe unexplained (report21 M6)."""
    name = f" ({legend_title})" if legend_title else ""
    return "\n".join(f"one striped line{name}: {', '.join(g)}" for g in groups if len(g) > 1)


def _first_non_finite(sets: list[CurveSet]) -> dict[str, int]:
    """Each setting of ``sets`` with a seed whose loss became NaN or inf: the first epoch
    (1-based) at which one did."""
    first: dict[str, int] = {}
    for s in sets:
        for loss in s.losses:
            bad = np.flatnonzero(~np.isfinite(np.asarray(loss, dtype=np.float64).reshape(-1)))
            if bad.size:
                first[s.label] = min(first.get(s.label, bad[0] + 1), int(bad[0]) + 1)
    return first


def _leaving_marks(ax: Any, leaving: list[tuple[float, str]]) -> None:
    """A cross on the top edge at each ``(epoch, colour)`` where a median line leaves the
    axis; crosses that would cover each other (two rates diverging in the same few
    epochs) sit side by side, 9 points apart."""
    low, high = ax.get_xlim()
    placed: list[float] = []
    for epoch, colour in sorted(leaving):
        near = sum(abs(epoch - p) < 0.03 * (high - low) for p in placed)
        placed.append(epoch)
        where = offset_copy(ax.get_xaxis_transform(), fig=ax.figure, x=9 * near, units="points")
        ax.plot(epoch, 1.0, transform=where, marker="x", markersize=7, markeredgewidth=2,
                color=colour, clip_on=False, zorder=3)  # fmt: skip


def wrap_label(label: str, chars: int) -> str:
    return textwrap.fill(label, chars, break_long_words=False, break_on_hyphens=False) or label


def _stripe(j: int, k: int) -> tuple[float, tuple[float, float]]:
    """The dash pattern of the ``j``-th of ``k`` settings sharing a line: their dashes
    take turns, so each setting's colour shows along it."""
    seg = STRIPE_POINTS / LINE_WIDTH  # matplotlib counts dashes in line widths
    period = seg * k
    return ((period - j * seg) % period, (seg, period - seg))


def _widened(mask: np.ndarray) -> np.ndarray:
    """``mask`` ``(n,)`` grown by one point at both ends of each run of True, same length.

    ``np.convolve(mask, [1, 1, 1], mode="same")`` is 3 long when ``mask`` is shorter
    (a run of 2 epochs), which broke ``proplab report`` on it: the full convolution's
    middle ``n`` points are the same for any length."""
    return np.convolve(mask, [1, 1, 1], mode="full")[1 : 1 + mask.size] > 0


def learning_curves(
    panels: dict[str, list[CurveSet]],
    path: str | os.PathLike[str],
    title: str = "",
    legend_title: str = "",
    highlight: str | None = None,
    loss_name: str = "loss",
) -> Figure:
    """One panel per dataset: loss against epoch per setting, median line and min-max band over seeds.

    The panels share their loss axis, so the datasets can be compared at a glance,
    unless their losses lie decades apart (:func:`_share_loss_axis`): then each has its
    own, and the axis label says so;
    ``loss_name`` names it (``"training loss"`` when the runs held out a test set).

    ``highlight`` names the reference setting (the base model): its line is black and
    drawn on top, so it looks the same in every figure; the other settings take the
    palette's colours in order. Where median lines lie on each other (within a line's
    width, for settings that do so over at least half their epochs) they are drawn in
    dashes that take turns, each setting's colour in its place, instead of the last one
    drawn hiding the others; settings on one line over 95 % of the epochs in every panel
    also share one legend entry, ``"relu, leaky_relu (lines overlap)"``, and each panel
    names the settings on its own striped lines under its epoch label (the groups differ
    from panel to panel). Where CROWD bands or more lie on one another (:func:`_crowded`),
    every band is drawn as its two edges, thin lines in its colour, instead of a filled area.
    """
    n = max(1, len(panels))
    labels: list[str] = []
    for sets in panels.values():
        labels += [s.label for s in sets if s.label not in labels]
    bands: list[dict[str, tuple[np.ndarray, ...]]] = [
        {s.label: band(s.losses) for s in sets if s.losses} for sets in panels.values()
    ]
    ceiling = _ceiling(
        bands, [a[0] for sets in panels.values() for s in sets for a in s.losses if len(a)]
    )
    # datasets decades apart get a loss axis each (a runaway's ceiling is every panel's)
    share = ceiling is not None or _share_loss_axis(bands)
    # a line's width in loss: on the shared axis, or on each panel's own
    tolerances = (
        [_line_tolerance(bands, ceiling)] * len(bands)
        if share
        else [_line_tolerance([drawn]) for drawn in bands]
    )
    groups = [_overlapping(d, t, STRIPE_SHARE) for d, t in zip(bands, tolerances, strict=True)]
    same = [
        _overlapping(d, t, SAME_SHARE, both=True) for d, t in zip(bands, tolerances, strict=True)
    ]
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
    style: dict[str, tuple[str, LineStyle]] = {}
    others = [lab for lab in labels if lab != highlight]
    for k, lab in enumerate(others):
        style[lab] = (PALETTE[k % len(PALETTE)], LINESTYLES[k % len(LINESTYLES)])
    if highlight in labels:
        style[highlight] = (HIGHLIGHT_COLOR, "-")
    entry_labels = [e[0] if len(e) == 1 else _same_curve_label(e) for e in entries]
    legend = _legend_layout(entry_labels, width=min(5.2 * n, MAX_WIDTH))
    fig = Figure(figsize=(legend.width, legend.height), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False, sharey=share)[0])
    band_alpha = 0.18 if len(labels) <= 3 else 0.11  # many overlapping bands turn muddy
    # bands blending into one area in some panel: every panel draws them as edge lines,
    # so one legend line says what they are
    edges = any(_crowded(drawn) for drawn in bands) and any(
        len(s.losses) > 1 for sets in panels.values() for s in sets
    )
    striped = crossed = never_drawn = False
    # per panel: label -> the first epoch at which one of its seeds' loss is not finite
    diverged_at = [_first_non_finite(sets) for sets in panels.values()]
    for ax_index, (ax, dataset, drawn, panel_groups) in enumerate(
        zip(axes, panels, bands, groups, strict=False)
    ):
        leaving: list[tuple[float, str]] = []  # (epoch, colour) of each median leaving the top
        for group in panel_groups:
            for j, lab in enumerate(group):
                epochs, med, low, high = drawn[lab]
                positive = (low > 0) & (high < OFF_SCALE)  # what a log axis can show
                c, linestyle = style[lab]
                if not np.any(positive):
                    # diverged before a point could be drawn: a cross on the top edge where
                    # its first seed did (a legend entry with nothing drawn; diverge18)
                    if lab in diverged_at[ax_index]:
                        leaving.append((float(diverged_at[ax_index][lab]), c))
                        crossed = never_drawn = True
                    continue
                if edges:  # crowded bands: each one's min and max as thin lines
                    for edge in (low, high):
                        ax.plot(epochs[positive], edge[positive], color=c, alpha=0.6,
                                linewidth=EDGE_WIDTH, linestyle=EDGE_STYLE, zorder=1.5)  # fmt: skip
                else:
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
                if ceiling is not None and np.any(y > ceiling):
                    # a median leaving through the top within a few epochs is a sliver at
                    # x = 0: a cross in its colour on the top edge where it leaves
                    leaving.append((float(x[np.argmax(y > ceiling)]), c))
                    crossed = True
                near = np.zeros(x.size, dtype=bool)  # where another one's line lies on it
                for other in group:
                    if other != lab:
                        near |= _near(drawn[lab], drawn[other], tolerances[ax_index])[positive]
                if not near.any():
                    ax.plot(x, y, color=c, linestyle=linestyle, linewidth=LINE_WIDTH, zorder=z)
                    continue
                striped = True
                # apart: solid; together: dashes taking turns, each one's colour in its
                # place (each piece one point longer at both ends, so the pieces join)
                grow, apart = _widened(near), _widened(~near)
                ax.plot(x, np.where(apart, y, np.nan), color=c, linestyle=linestyle,
                        linewidth=LINE_WIDTH, zorder=z)  # fmt: skip
                ax.plot(x, np.where(grow, y, np.nan), color=c, linestyle=_stripe(j, len(group)),
                        linewidth=LINE_WIDTH, zorder=z)  # fmt: skip
        ax.set_yscale("log")
        if ceiling is not None:  # runaway curves leave through the top
            ax.set_ylim(_floor(bands, ceiling), ceiling)
        ax.set_title(dataset)
        ax.set_xlabel("epoch")
        note = _shared_line_note(panel_groups, legend_title)
        if note:  # under the panel's epoch label: which settings its striped lines hold
            chars = max(20, int((legend.width - 2.5) / n / 0.062))  # 8 pt characters
            text = "\n".join(wrap_label(line, chars) for line in note.split("\n"))
            ax.annotate(text, xy=(0.5, 0.0), xycoords=ax.xaxis.label, xytext=(0, -3),
                        textcoords="offset points", ha="center", va="top", fontsize=8)  # fmt: skip
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(_epochs_tick))
        ax.grid(True, which="major", color="0.88", linewidth=0.8)
        ax.set_xlim(left=0)
        _leaving_marks(ax, leaving)
    for ax in axes:  # once every panel is drawn (a shared y axis takes all their data)
        plain_log_ticks(ax)
    # own axes: the label says so, so that no one compares the panels' heights
    axes[0].set_ylabel(f"{loss_name} (log scale" + ("" if share else "; each panel its own") + ")")
    handles: list[Line2D | tuple[Line2D, ...]] = []
    for e in entries:
        if len(e) == 1:
            c, linestyle = style[e[0]]
            handles.append(Line2D([], [], color=c, linestyle=linestyle, linewidth=2.0))
        else:  # the shared line's colours side by side
            handles.append(tuple(Line2D([], [], color=style[lab][0], linewidth=2.0) for lab in e))
    band_words = "thin dotted lines: min and max" if edges else "band: min to max"
    how: tuple[str, ...] = ("line: pointwise median over seeds", band_words)
    if all(len(s.losses) <= 1 for sets in panels.values() for s in sets):
        how = ("one run per line",)  # a single seed has no median and no band
    if striped:
        how += ("striped: lines on top of each other", "(named under each panel)")
    if ceiling is not None:
        # two short lines: one long line beside a single panel squeezed it to a strip
        how += (
            "x on the top edge: diverging there",
            f"(loss over {RUNAWAY:g} x the highest start)",
        )
        if never_drawn:  # a setting with no finite point has no start to compare with
            how += ("or diverged before any point",)
    elif crossed:  # no ceiling: only settings with no finite loss at all have crosses
        how += ("x on the top edge: diverged there",)
    if legend.below:  # many or long labels: in columns under the panels
        # one line: a "(...)" or "or ..." piece goes on from the one before it, and the
        # pieces (each with its own colon) are set apart by semicolons (a stray ". " and
        # ", (" read "activation. line: ..., (named under each panel)"; figs22)
        text = ""
        for piece in how:
            joined = piece.startswith(("(", "or "))
            text += (" " if joined else "; " if text else "") + piece
        title_text = (f"{legend_title}; " if legend_title else "") + text
        place: dict[str, Any] = {"loc": "outside lower center", "ncols": legend.columns}
    else:
        title_text = "\n".join(((legend_title,) if legend_title else ()) + how)
        place = {"loc": "outside right center", "alignment": "left"}
    fig.legend(
        # a tuple of lines is one entry (HandlerTuple); matplotlib's stubs take Artists only
        handles,  # type: ignore[arg-type]
        entry_labels,
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0.0)},
        handlelength=3.0,  # long enough to show a dash-dot
        frameon=False,
        title=title_text,
        title_fontsize=8,
        **place,
    )
    if title:
        fig.suptitle(fit_text(title, legend.width - 0.4, fontsize=12))
    _save(fig, path)
    return fig
