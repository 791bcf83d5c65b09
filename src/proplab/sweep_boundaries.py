"""A sweep's decision boundaries: ``decision_boundaries()``, a grid of P(class 1) heatmaps with the data on top.

Rows are datasets, columns settings; a regression's panels show the predicted value
over the inputs instead (see :class:`BoundaryPanel`). ``boundary_grid()`` makes the
grid a panel is evaluated on. Writes one PNG atomically and returns the matplotlib
``Figure``, like :mod:`proplab.sweep_plots`.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from proplab.data import plane_axes, plane_points
from proplab.plots import (
    CHAR_INCHES,
    CLASS_COLORS,
    _save,
    class_points,
    equal_scales,
    fit_text,
    settle_layout,
)
from proplab.scoring import are_binary_labels
from proplab.value_plots import VALUE_CMAP, VALUE_CMAP_PALE, value_limit

# P(class 1) from 0 (red, class 0) through white to 1 (blue, class 1): the handout's
# colours, paled so that the data points (full colour, black rim) stay visible on top
BOUNDARY_CMAP = LinearSegmentedColormap.from_list(
    "proplab_boundary", ["#eb9293", "#ffffff", "#8fbbe0"]
)
MAX_PANELS_ACROSS = 8  # decision boundaries: panels per line before wrapping
BAR_LABEL_CHARS = 32  # a colour bar's label beside one row of panels, at 8 points


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
    # the two inputs' names (a CSV's columns: horizontal, vertical); None for x1, x2.
    # Named inputs are a file's columns, each in a unit of its own: never equal scales
    axis_names: tuple[str, str] | None = None
    # (n,) True for the points the run held out as its test set (a class panel rims them in
    # black, a regression's draws them as diamonds);
    # None: every point was trained on
    held_out: np.ndarray | None = None
    # what classes 0 and 1 are called (a CSV run's labels, summary.json's "classes"), for
    # the colour bar: P(yes); None: P(class 1)
    classes: Sequence[object] | None = None
    # a classifier whose output layer is the identity: ``prob`` is its raw output, no
    # probability (report21 L1: values -0.56 to 1.58 clipped to a 0..1 map called
    # P(class 1)); drawn over its own range, 0.5 (the boundary) white, with a bar "output"
    raw_output: bool = False

    @property
    def regression(self) -> bool:
        """Whether the panel shows predicted values rather than P(class 1)."""
        return not are_binary_labels(np.asarray(self.y)) if self.values is None else self.values


def raw_output_norm(panels: Sequence[BoundaryPanel]) -> TwoSlopeNorm | None:
    """The colour scale of the raw-output panels among ``panels`` (None when there are
    none, or none has a finite value: diverged runs draw nothing to scale): their outputs'
    range, at least 0..1 so that 0 and 1 keep their colours, with 0.5 (where the class
    changes) white in the middle of the colour map."""
    values = [p.prob[np.isfinite(p.prob)] for p in panels if p.raw_output and not p.regression]
    if not any(v.size for v in values):
        return None
    low = min([0.0, *(float(v.min()) for v in values if v.size)])
    high = max([1.0, *(float(v.max()) for v in values if v.size)])
    return TwoSlopeNorm(0.5, vmin=low, vmax=high)


RAW_BAR = "output (identity, no probability)"  # the raw-output panels' colour bar


def _raw_bar_label(panels: Sequence[BoundaryPanel], room: int) -> str:
    """The raw-output colour bar's label: the settings it is for, when both kinds of bar
    stand side by side and the names fit in ``room`` characters (else RAW_BAR alone)."""
    names = list(dict.fromkeys(p.title.split("\n")[0] for p in panels if _is_raw(p)))
    if not any(not p.raw_output and not p.regression for p in panels):
        return RAW_BAR  # the only bar of its kind: nothing to tell apart
    label = f"{', '.join(names)}: {RAW_BAR}"
    if len(label) <= room:
        return label
    return f"{', '.join(names)}:\n{RAW_BAR}" if len(label) - len(RAW_BAR) <= room else RAW_BAR


def _is_raw(panel: BoundaryPanel) -> bool:
    """A classifier's raw-output panel (drawn on its own colour scale)."""
    return panel.raw_output and not panel.regression


def _own_scale(panel: BoundaryPanel) -> BoundaryPanel:
    """``panel`` whose title's last line (its accuracy) says its colours are on a bar of
    their own, the one named after it (the setting's name, the first line, may fill its
    line already)."""
    *head, last = panel.title.split("\n")
    return replace(panel, title="\n".join([*head, f"{last}, own colour bar"]))


def probability_label(classes: Sequence[object] | None) -> str:
    """What a classification panel maps: ``"P(yes)"`` for a CSV run's labels ``classes``
    (``["no", "yes"]``; a number as ``"P(class 9)"``), else ``"P(class 1)"`` (the lab's
    datasets have no names)."""
    if classes is None or len(classes) != 2:
        return "P(class 1)"
    one = classes[1]
    return f"P({one})" if isinstance(one, str) else f"P(class {one})"


def panels_probability(panels: Sequence[BoundaryPanel]) -> str:
    """What the classification panels among ``panels`` map: the probability their runs'
    classes name (:func:`probability_label`) if they all name the same, else
    ``"P(class 1)"`` (datasets of other labels side by side)."""
    labels = {probability_label(p.classes) for p in panels if not p.regression}
    return labels.pop() if len(labels) == 1 else probability_label(None)


def panels_value_limit(panels: Sequence[BoundaryPanel]) -> float:
    """The colour scale's half-range for a sweep's regression panels: their targets'
    largest size (a run's :func:`~proplab.value_plots.value_limit`), but at least 1 (the
    zoo's targets span [-1, 1]), one scale for every dataset of the figure (unless their
    ranges are far apart: :func:`_row_value_limits`); predictions beyond it take the end
    colours."""
    return max(1.0, value_limit(*(p.y for p in panels)))


def _row_value_limits(rows: Sequence[Sequence[BoundaryPanel | None]]) -> list[float | None] | None:
    """Each row's colour-scale half-range for its regression panels (None for a row with
    none), when the rows' ranges are more than 10x apart; else None (one scale for all).
    On one scale from -400 000 to 400 000 a dataset of values near 1 was all white (csv18)."""
    limits = [
        panels_value_limit(regression) if (regression := [p for p in row if p and p.regression])
        else None
        for row in rows
    ]  # fmt: skip
    present = [v for v in limits if v is not None]
    if len(present) < 2 or max(present) <= 10 * min(present):
        return None
    return limits


def boundary_grid(x: np.ndarray, size: int = 121) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(u, v, points)``: a grid over the plane holding every sample of ``x``.

    ``x`` is ``(n, 2)``; along each input the box is its samples' range, widened to
    include ``[0, 1]`` where the samples meet it, plus 5 % of its span on each side
    (:func:`proplab.data.plane_axes`): ``[-0.05, 1.05]^2`` for the lab's data, the
    whole cloud for a zoo dataset, 145 to 190 (padded) for a CSV's heights. ``u`` and
    ``v`` are ``(size,)``, ``points`` is ``(size * size, 2)`` with
    ``points[j * size + i] = (u[i], v[j])``.
    """
    u, v = plane_axes(x, size)
    return u, v, plane_points(u, v)


def _shared_axes(rows: Sequence[Sequence[BoundaryPanel | None]]) -> bool | Literal["row"]:
    """Share axes between panels drawn on one grid of the same inputs: all of them, or
    those of each row (two CSVs' columns on equal ranges are still other scales)."""

    def same(panels: list[BoundaryPanel]) -> bool:
        return all(
            np.array_equal(p.grid_u, panels[0].grid_u)
            and np.array_equal(p.grid_v, panels[0].grid_v)
            and p.axis_names == panels[0].axis_names
            for p in panels
        )

    per_row = [[p for p in row if p is not None] for row in rows]
    if same([p for row in per_row for p in row]):
        return True
    return "row" if all(same(row) for row in per_row if row) else False


def _aspect(panel: BoundaryPanel) -> float:
    """The panel's aspect: equal scales (see :func:`~proplab.plots.equal_scales`; a grid's
    panels within 2x), else a square (a CSV's columns at equal scales made tall, narrow
    panels with wide gaps between them)."""
    ratio = float(np.ptp(panel.grid_u) / np.ptp(panel.grid_v))
    return 1.0 if equal_scales(ratio, panel.axis_names is not None, 2.0) else ratio


def _height_share(panel: BoundaryPanel) -> float:
    """A panel's drawn height over its width (see :func:`_aspect`)."""
    aspect = _aspect(panel)
    return float(np.ptp(panel.grid_v) / np.ptp(panel.grid_u)) * aspect


def _wrap(title: str, width: int = 26) -> str:
    """Break each line of ``title`` longer than ``width`` characters after its commas (a panel
    is narrow), and a part still too long at its spaces."""
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


def _title_width(n_cols: int) -> int:
    """How many characters of a 9-point title fit over one of ``n_cols`` panels: 26 over
    the narrowest (eight across, 1.85 in), more over wider ones (2.6 in fits 33), so that
    "train 100.0 %, test 100.0 %" keeps to one line where it fits."""
    panel_inches = (_figure_width(n_cols) - 1.2) / n_cols
    return max(26, int(13 * panel_inches))


def _figure_width(n_cols: int) -> float:
    """The figure's width in inches: 2.6 in per panel and 1.2 for the colour bar, at most 16."""
    return min(2.6 * n_cols + 1.2, 16.0)


def _panel_axes(ax: Axes, panel: BoundaryPanel, title_width: int) -> None:
    """A boundary panel's title, aspect, limits and ticks."""
    ax.set_title(_wrap(panel.title, title_width), fontsize=9)
    ax.set_aspect(_aspect(panel))
    ax.set_xlim(panel.grid_u[0], panel.grid_u[-1])
    ax.set_ylim(panel.grid_v[0], panel.grid_v[-1])
    ax.tick_params(labelsize=7)


def _text_collides(fig: Figure) -> bool:
    """Whether ``fig``'s title runs into a panel's title, or a panel's axis label into the
    figure's edge, as laid out so far."""
    renderer = fig._get_renderer()  # type: ignore[attr-defined]  # the layout's own
    width, height = fig.bbox.width, fig.bbox.height
    top = fig._suptitle.get_window_extent(renderer) if fig._suptitle else None  # type: ignore[attr-defined]
    for ax in fig.axes:
        if (
            top is not None
            and ax.get_title()
            and top.overlaps(ax.title.get_window_extent(renderer))
        ):
            return True
        for label in (ax.xaxis.label, ax.yaxis.label):
            if label.get_text():
                box = label.get_window_extent(renderer)
                # a pixel of slack: constrained layout puts labels on the edge itself
                if box.y0 < -1 or box.x0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
                    return True
    return False


def _name_axes(axes: np.ndarray, rows: Sequence[Sequence[BoundaryPanel | None]]) -> None:
    """Name the inputs of the panels (:func:`input_names`): the horizontal one under the
    lowest panel of a column, the vertical one left of the first panel of a row, and
    again wherever a panel's names differ from its neighbour's."""
    for r, row in enumerate(rows):
        for c, panel in enumerate(row):
            if panel is None:
                continue
            names = input_names(panel)
            left = row[c - 1] if c > 0 else None
            below = _below(rows, r, c)
            if below is None or input_names(below) != names:
                axes[r][c].set_xlabel(names[0], fontsize=8)
            if left is None or input_names(left) != names:
                axes[r][c].set_ylabel(names[1], fontsize=8)


def input_names(panel: BoundaryPanel) -> tuple[str, str]:
    """A panel's two inputs: a CSV's column names, else ``x1`` and ``x2`` (report21 L6: the
    lab's grids had no axis names where its comparison figure has them)."""
    return panel.axis_names or ("x1", "x2")


def _below(rows: Sequence[Sequence[BoundaryPanel | None]], r: int, c: int) -> BoundaryPanel | None:
    """The panel under ``rows[r][c]``, or None (the last row, or a shorter row below)."""
    return rows[r + 1][c] if r + 1 < len(rows) and c < len(rows[r + 1]) else None


def _tick_the_lowest(axes: np.ndarray, rows: Sequence[Sequence[BoundaryPanel | None]]) -> None:
    """Tick values under every panel with none below it: a shared x axis shows them only
    on the grid's last row, which left a panel above a shorter last row without them."""
    for r, row in enumerate(rows[:-1]):
        for c, panel in enumerate(row):
            if panel is not None and _below(rows, r, c) is None:
                axes[r][c].tick_params(axis="x", labelbottom=True)


def _row_label(ax: Axes, label: str) -> None:
    """A row's dataset name, bold, left of its first panel: the panel's y-axis label, or
    beside it when that names an input (a CSV's column)."""
    if not ax.get_ylabel():
        ax.set_ylabel(label, fontsize=11, fontweight="bold")
        return
    ax.annotate(
        label,
        xy=(0, 0.5),
        xycoords=ax.yaxis.label,
        xytext=(-4, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        rotation=90,
        fontsize=11,
        fontweight="bold",
    )


def _value_panel(
    ax: Axes, panel: BoundaryPanel, pred: np.ma.MaskedArray, limit: float, title_width: int
) -> QuadMesh:
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
    targets = np.asarray(panel.y, dtype=np.float64).reshape(-1)
    for marker, m in _point_sets(panel):
        _dots(ax, panel, m, marker, c=targets[m], cmap=VALUE_CMAP, vmin=-limit, vmax=limit)
    _panel_axes(ax, panel, title_width)
    return image


def _dots(ax: Axes, panel: BoundaryPanel, mask: np.ndarray, marker: str, **colour: Any) -> None:
    """The points ``mask`` of ``panel`` in full colour with black rims, over its map."""
    x = panel.x[mask]
    ax.scatter(x[:, 0], x[:, 1], s=14, marker=marker, edgecolors="black", linewidths=0.5, **colour)


def _held(panel: BoundaryPanel) -> np.ndarray:
    """``(n,)`` True for the panel's held-out points."""
    n = len(panel.x)
    return np.zeros(n, dtype=bool) if panel.held_out is None else np.asarray(panel.held_out)


def _point_sets(panel: BoundaryPanel) -> list[tuple[str, np.ndarray]]:
    """``(marker, mask)`` of a regression panel's training points (dots) and held-out ones
    (diamonds, as in a regression run's own value map)."""
    held = _held(panel)
    return [(marker, m) for marker, m in (("o", ~held), ("D", held)) if m.any()]


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
    everything = [p for row in rows for p in row if p is not None]
    raw_norm = raw_output_norm(everything)  # None: no raw output with a value to draw
    if raw_norm is not None and any(not p.raw_output and not p.regression for p in everything):
        # two colour bars of the same map: each raw-output panel says it has its own
        # (the eye paired the raw column with the P(class 1) bar beside it; figs22 F3)
        rows = [[_own_scale(p) if p is not None and _is_raw(p) else p for p in r] for r in rows]
    n_rows = max(1, len(rows))
    n_cols = max(1, max(len(r) for r in rows))
    # titles of more than two lines (long setting names) get their own room
    title_width = _title_width(n_cols)
    lines = max(
        (_wrap(p.title, title_width).count("\n") + 1 for row in rows for p in row if p), default=2
    )
    extra = 0.18 * max(0, lines - 2)
    width = _figure_width(n_cols)
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
    row_limits = _row_value_limits(rows)
    prob_axes, value_axes, raw_axes = [], [], []
    raw_image = None
    row_images: list[tuple[Any, list[Any]]] = []  # per-row colour scales: (image, its axes)
    for r, row in enumerate(rows):
        if row_limits is not None and row_limits[r] is not None:
            row_images.append((None, []))
        for c in range(n_cols):
            ax = axes[r][c]
            panel = row[c] if c < len(row) else None
            if panel is None:
                ax.set_axis_off()
                continue
            prob = np.ma.masked_invalid(panel.prob)
            if panel.regression:
                own = row_limits[r] if row_limits is not None else None
                value_image = _value_panel(ax, panel, prob, own or limit, title_width)
                value_axes.append(ax)
                if own is not None:
                    row_images[-1] = (value_image, [*row_images[-1][1], ax])
                continue
            if panel.raw_output:
                raw_axes.append(ax)
                if raw_norm is not None:  # else every raw panel diverged: no scale, no bar
                    raw_image = ax.pcolormesh(panel.grid_u, panel.grid_v, prob,
                                              cmap=BOUNDARY_CMAP, norm=raw_norm, shading="auto",
                                              rasterized=True)  # fmt: skip
            else:
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
            held = _held(panel)
            for part, rimmed in ((~held, False), (held, True)):
                for cls in (0, 1):
                    m = part & (labels == bool(cls))
                    if m.any():  # each class its marker (a11y24 M2: one grey when printed)
                        ax.scatter(panel.x[m, 0], panel.x[m, 1],
                                   **class_points(cls, CLASS_COLORS[cls], 14, held_out=rimmed))  # fmt: skip
            _panel_axes(ax, panel, title_width)
    _name_axes(axes, rows)
    _tick_the_lowest(axes, rows)
    for r, label in enumerate(row_labels[:n_rows]):
        if label:
            _row_label(axes[r][0], label)
    # one colour bar per kind, beside its own panels (all of them when one kind)
    both = image is not None and value_image is not None
    if raw_image is not None:  # an identity output's own scale, right of the grid
        # (beside its own panels, a bar between two columns pushed them apart)
        bar = fig.colorbar(raw_image, ax=axes if value_image is None else raw_axes, shrink=0.8,
                           pad=0.01)  # fmt: skip
        # the settings named on the bar, when they fit its length at 8 points
        room = int(0.8 * size[1] / (CHAR_INCHES * 0.8))
        bar.set_label(_raw_bar_label(everything, room).replace("$", r"\$"), fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if image is not None:
        bar = fig.colorbar(image, ax=prob_axes if both else axes, shrink=0.8, pad=0.01)
        label = panels_probability([p for row in rows for p in row if p is not None])
        if len(label) > BAR_LABEL_CHARS:  # a long class name: cut short, beside the panels
            label = label[: BAR_LABEL_CHARS - 2] + "…)"
        bar.set_label(label.replace("$", r"\$"), fontsize=8)  # '$5' is no mathtext
        bar.ax.tick_params(labelsize=7)
    if row_images:  # datasets of far apart values: a colour scale (and bar) each
        for row_image, row_axes in row_images:
            bar = fig.colorbar(row_image, ax=row_axes, shrink=0.8, pad=0.01)
            bar.set_label("predicted value (dots: targets)", fontsize=8)
            bar.ax.tick_params(labelsize=7)
    elif value_image is not None:
        bar = fig.colorbar(value_image, ax=value_axes if both else axes, shrink=0.8, pad=0.01)
        bar.set_label("predicted value (dots: targets)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(fit_text(title, size[0] - 0.4, fontsize=11), fontsize=11)
    # fixed-aspect panels: one layout pass leaves a row's titles on the tick marks of the
    # row above. One more pass separates the lab's two rows (the lab's hidden-units grid:
    # titles ~10 px lower); wrapped lines need up to SETTLE_PASSES, and settling the lab's
    # grids that far took 3-5 passes of 0.1-0.3 s each for no further change
    if len(rows) > given:
        _save(fig, path, settle=True)
        return fig
    # two layout passes (one, then saving's own) as every grid had; a single row under a
    # one-line title (a run whose loss stayed flat) could come out of them with the title
    # on the panels' titles and the x labels cut by the bottom edge (figs22 F1): then it
    # settles fully. Else it is saved as laid out (settling on moved square CSV panels
    # 0.2 inch apart for nothing)
    settle_layout(fig, 2)
    if _text_collides(fig):
        _save(fig, path, settle=True)
    else:
        fig.set_layout_engine("none")  # saving lays nothing out again
        _save(fig, path)
    return fig
