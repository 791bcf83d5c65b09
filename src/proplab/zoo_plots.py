"""Figures beyond the lab: decision boundaries, confusion matrices, digit predictions
(a regression's predicted value over the plane is :mod:`proplab.value_plots`').

matplotlib's object API (``Figure``, no ``pyplot``), as in :mod:`proplab.plots`;
the core never imports this module. Each function returns the ``Figure``
and, given a ``path``, writes it as a PNG atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import Collection
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from proplab.metrics import labels_of, predicted_labels
from proplab.plots import (
    CHAR_INCHES,
    CLASS_COLORS,
    _save,
    class_points,
    equal_scales,
    fit_text,
    input_axis_labels,
)

# three or more classes: Okabe-Ito's colours, ordered so that the first ones differ in
# lightness as well as hue (L* 46, 89, 70, 54, ...), then three of Paul Tol's: tab10's
# classes 0/2 and 1/3 (red/green, blue/purple) were one colour under red-green colour
# blindness (a11y24 H1); the class markers (plots.CLASS_MARKERS) tell them apart too.
# Two classes keep the handout's red and blue (plots.CLASS_COLORS).
PALETTE = (
    "#0072b2", "#f0e442", "#56b4e9", "#d55e00", "#cc79a7", "#009e73", "#e69f00",
    "#882255", "#999933", "#332288",
)  # fmt: skip

Predictor = Callable[[np.ndarray], np.ndarray]
LEGEND_CLASSES = 20  # more classes than this get no legend (40 entries with a test set)
LEGEND_ROWS = 20  # a legend column holds this many entries
# up to this many legend entries go under the plot, as many a row as fit its width (as
# comparison.png has them): beside it, 8 pt text in the figure's top corner left a column
# empty under it (figs22 F11)
LEGEND_BELOW = 8
# a decision boundary draws at most this many samples of each set (a seeded random subset,
# the legend says so): 80 000 points hid the boundary and every smaller class under them
MAX_DRAWN_POINTS = 2000
PLOT_INCHES = 4.6  # decision boundary: width of the axes


def class_colors(n_classes: int) -> list[str]:
    """One distinct colour per class: red and blue for two (the handout's), else
    :data:`PALETTE`, then tab20, then a sampled colormap.

    A CSV dataset may have any number of classes (a float column taken as the label
    makes one per row), so running out of colours must not take the run down.
    """
    if n_classes <= len(CLASS_COLORS):
        return list(CLASS_COLORS[:n_classes])
    if n_classes <= len(PALETTE):
        return list(PALETTE[:n_classes])
    # as "#rrggbb": an RGBA tuple given to scatter(c=...) for 4 points reads as 4 values
    if n_classes <= 20:
        # tab20's i-th colour, its colors[i] (which matplotlib's stubs type as any array)
        return [to_hex(colormaps["tab20"](i)) for i in range(n_classes)]
    return [to_hex(c) for c in colormaps["turbo"](np.linspace(0.0, 1.0, n_classes))]


def box_grid(x: np.ndarray, resolution: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid over the box of the samples ``x (n, 2)``, with an 8 % margin.

    Returns ``u (resolution,)``, ``v (resolution,)`` and ``points (resolution ** 2, 2)``
    with ``points[i * resolution + j] = (u[j], v[i])``: a model's outputs on them,
    reshaped to ``(resolution, resolution)``, hold ``(u[j], v[i])``'s at ``[i, j]``.
    """
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.08 * np.maximum(hi - lo, 1e-9)
    u = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    v = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    grid_u, grid_v = np.meshgrid(u, v)
    return u, v, np.stack([grid_u.ravel(), grid_v.ravel()], axis=1)


def class_regions(
    predict: Predictor, x: np.ndarray, resolution: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The predicted class on :func:`box_grid`'s grid over the samples' box.

    Returns ``u (resolution,)``, ``v (resolution,)`` and ``regions
    (resolution, resolution)`` with ``regions[i, j]`` the class at ``(u[j], v[i])``.
    """
    u, v, _, regions = _scored_regions(predict, x, resolution)
    return u, v, regions


def _scored_regions(
    predict: Predictor, x: np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`class_regions`' ``u``, ``v`` and ``regions``, with the model's ``scores
    (resolution ** 2, C)`` on the grid they come from (a decision boundary draws both)."""
    u, v, points = box_grid(x, resolution)
    scores = np.asarray(predict(points))
    return u, v, scores, predicted_labels(scores).reshape(v.size, u.size)


def class_margins(scores: np.ndarray) -> np.ndarray:
    """How far each class is from losing each point: ``scores (m, C)`` -> ``(C, m)`` with
    ``margins[c] = scores[:, c] - max(the other classes' scores)``, positive exactly where
    class c wins; ``(m, 1)`` probabilities -> ``[0.5 - p, p - 0.5]``. The zero line of
    ``margins[c]``, interpolated between grid points, is class c's outline as a smooth
    curve, where the outline of the predicted labels is a staircase of grid cells."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[1] == 1:
        p = scores[:, 0]
        return np.stack([0.5 - p, p - 0.5])
    order = np.sort(scores, axis=1)
    best, second = order[:, -1], order[:, -2]
    # the best class's rival is the runner-up; every other class's is the best
    rival = np.where(scores == best[:, None], second[:, None], best[:, None])
    return (scores - rival).T


def _grey_rims(legend: Legend) -> None:
    """Training points are rimmed in white, which sets them apart on the map; a legend's
    key on white paper then has no edge, and a pale class (Okabe-Ito's yellow, class 1 of
    3+) nearly vanished (fix24f): its key gets a grey rim instead."""
    for handle in legend.legend_handles:
        if not isinstance(handle, Collection):  # a scatter's key is one
            continue
        edges = np.asarray(handle.get_edgecolor())
        if len(edges) and np.allclose(edges[:, :3], 1.0):
            handle.set_edgecolor("0.45")


def decision_boundary(
    predict: Predictor,
    x: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    resolution: int = 200,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Regions each class wins over the plane, with the samples on top.

    Args:
        predict: model outputs for a batch, ``(m, 2) -> (m, 1)`` probabilities
            or ``(m, C)`` scores (e.g. ``model.forward``).
        x, y: training samples ``(n, 2)`` and their labels ``(n, 1)`` / ``(n,)``.
        x_test, y_test: held-out samples, rimmed in black (:func:`~proplab.plots.class_points`).
        resolution: grid points per axis.
        feature_names: the two inputs' names for the axes (a CSV's columns);
            default $x_1$, $x_2$.
        class_names: what output k stands for, for the legend (a CSV's labels, in
            ``summary.json``'s ``classes`` order); default "class k".
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D inputs (n, 2), got shape {x.shape}")
    everything = x if x_test is None else np.concatenate([x, x_test])
    u, v, scores, regions = _scored_regions(predict, everything, resolution)
    margins = class_margins(scores).reshape(-1, v.size, u.size)
    grid_u, grid_v = np.meshgrid(u, v)
    n_classes = int(max(regions.max(), labels_of(y).max())) + 1
    colors = class_colors(n_classes)

    def named(c: int) -> str:
        if class_names is None or c >= len(class_names):
            return f"class {c}"
        return str(class_names[c]).replace("$", r"\$")  # '$5' is text, no mathtext

    # else a square panel: equal scales made a CSV's cm and kg a tall, narrow one
    ratio = float((u[-1] - u[0]) / (v[-1] - v[0]))
    equal = equal_scales(ratio, feature_names is not None, 3.0)
    entries = n_classes * (1 if x_test is None else 2) if n_classes <= LEGEND_CLASSES else 0
    below = 0 < entries <= LEGEND_BELOW
    columns = 0 if below else math.ceil(entries / LEGEND_ROWS)
    # an entry: its marker and gap (~0.6 inch) and "class 0 (train)"-like text at 9 points
    sets = [("train", len(x))] + ([] if x_test is None else [("test", len(x_test))])
    suffix = max(len(f" ({part}{_drawn(n)[1]})") for part, n in sets)
    longest = max(len(named(c)) for c in range(n_classes)) + suffix
    across = max(1, min(entries, int((PLOT_INCHES + 0.6) / (0.6 + 0.9 * CHAR_INCHES * longest))))
    if x_test is not None and 2 <= across < entries:
        across = 2  # not all in one row: a column of training entries, one of test entries
    legend_rows = math.ceil(entries / across) if below else 0
    height = PLOT_INCHES / ratio if equal else PLOT_INCHES
    fig = Figure(
        figsize=(
            PLOT_INCHES + 0.9 + 1.6 * columns,
            min(max(height, 2.4), 6.0) + 1.0 + 0.22 * legend_rows,
        ),
        layout="constrained",
    )
    ax = fig.subplots()
    if equal:
        ax.set_aspect("equal")
    ax.contourf(
        grid_u,
        grid_v,
        regions,
        levels=np.arange(n_classes + 1) - 0.5,
        cmap=ListedColormap(colors),
        alpha=0.28,
    )
    # each class's own outline, the zero line of its margin: contours of the class index
    # would stack |i - j| lines where classes i and j meet (0 next to 11: a line 11 times
    # as heavy), and those of a class's cells drew a staircase
    for c in np.unique(regions):
        # over the samples (zorder 2.5): under 100 000 of them the boundary could not be seen
        ax.contour(
            grid_u, grid_v, margins[c], levels=[0.0], colors="0.25", linewidths=0.8, zorder=2.5
        )

    labels = labels_of(y)
    # the smaller classes drawn over the larger ones (a 2 % class hid under the rest)
    counts = np.bincount(labels, minlength=n_classes)
    layer = {c: 1.0 + 0.5 * rank / n_classes for rank, c in enumerate(np.argsort(-counts))}
    shown, of = _drawn(len(x))
    for c in range(n_classes):
        mask = labels[shown] == c
        ax.scatter(
            x[shown][mask, 0],
            x[shown][mask, 1],
            **class_points(c, colors[c], 22),
            label=f"{named(c)} (train{of})",
            zorder=layer[c],
        )
    if x_test is not None and y_test is not None:
        test_labels = labels_of(y_test)
        shown, of = _drawn(len(x_test))
        for c in range(n_classes):
            mask = test_labels[shown] == c
            # the class's marker rimmed in black, as the report's boundary panels draw
            # held-out points (diamonds once, which class 3's marker now is)
            ax.scatter(
                x_test[shown][mask, 0],
                x_test[shown][mask, 1],
                **class_points(c, colors[c], 22, held_out=True),
                label=f"{named(c)} (test{of})",
                zorder=layer[c],
            )
    ax.set_xlim(u[0], u[-1])
    ax.set_ylim(v[0], v[-1])
    xlabel, ylabel = input_axis_labels(feature_names, 2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if below:  # under the plot: inside, it hid the samples in its corner
        _grey_rims(
            fig.legend(
                *ax.get_legend_handles_labels(),
                fontsize=9,
                loc="outside lower center",
                ncols=across,
                frameon=False,
            )
        )
    elif columns:  # many classes: in columns beside the plot
        _grey_rims(
            fig.legend(
                *ax.get_legend_handles_labels(),
                fontsize=8,
                loc="outside right upper",
                ncols=columns,
                frameon=False,
            )
        )
    if not entries:  # what the colours stand for has to be said somewhere
        title = f"{title + '; ' if title else ''}{n_classes} classes: too many for a legend"
    if title:
        ax.set_title(fit_text(title, PLOT_INCHES, fontsize=11), fontsize=11)
    if path is not None:
        _save(fig, path, settle=equal)
    return fig


def _drawn(n: int) -> tuple[np.ndarray, str]:
    """Which of ``n`` samples a boundary figure draws (every one, or a seeded random subset
    of :data:`MAX_DRAWN_POINTS` in their order), and what the legend adds to say so."""
    if n <= MAX_DRAWN_POINTS:
        return np.arange(n), ""
    picked = np.sort(np.random.default_rng(0).choice(n, MAX_DRAWN_POINTS, replace=False))
    return picked, f", {MAX_DRAWN_POINTS:,} of {n:,} shown"


# a confusion matrix's cells fill at most this many inches a side, whatever the number of
# classes (50 classes of 20-character names once made a 9870-pixel PNG and took 4.4 GB)
MATRIX_INCHES = 11.0
NAME_CHARS = 24  # longer class names are cut, with an ellipsis


def _short_name(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "\u2026"


def confusion_matrix_figure(
    matrix: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    class_names: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """A confusion matrix ``(C, C)`` (rows: truth, columns: prediction) with its counts.

    A cell is as wide as its largest count needs; the cells together fill at most
    :data:`MATRIX_INCHES` a side (beyond that the counts are left out, the title says so,
    and the class names get smaller); names longer than the cell stand upright under the
    columns, and names over :data:`NAME_CHARS` characters are cut.
    """
    matrix = np.asarray(matrix)
    c = matrix.shape[0]
    raw = [str(k) for k in range(c)] if class_names is None else [str(n) for n in class_names]
    raw = [n.replace("$", r"\$") for n in raw]  # '$5' is text, not matplotlib's mathtext
    names = [_short_name(n) for n in raw]
    digits = len(str(int(matrix.max()))) if matrix.size else 1
    count_pt = 8
    needed = CHAR_INCHES * count_pt / 10 * digits + 0.2  # a count and some air around it
    cell = min(max(0.45, needed), MATRIX_INCHES / max(c, 1))
    counts_shown = cell >= needed
    # the class names' font: at most 9 pt, smaller when the cells are (a name per row)
    name_pt = float(np.clip(cell * 72 * 0.75, 4.0, 9.0))
    name_inches = CHAR_INCHES * name_pt / 10 * max(map(len, names), default=1)
    upright = name_inches > cell  # under the columns, names wider than a cell run together
    width = max(1.0 + name_inches + cell * c, 3.6)
    height = 0.9 + cell * c + (name_inches if upright else 0.3)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    # row-normalised colours, so a rare class's errors show as strongly as a common one's
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    if counts_shown:
        for i in range(c):
            for j in range(c):
                if matrix[i, j]:
                    ax.text(
                        j,
                        i,
                        str(int(matrix[i, j])),
                        ha="center",
                        va="center",
                        fontsize=count_pt,
                        color="white" if share[i, j] > 0.5 else ("#b00000" if i != j else "black"),
                    )
    ax.set_xticks(range(c), names, fontsize=name_pt, rotation=90 if upright else 0)
    ax.set_yticks(range(c), names, fontsize=name_pt)
    # the shade is the row's share, not the count: say so (17, 8 and 13 all read dark)
    ax.set_xlabel("predicted (shade: share of the true class)")
    ax.set_ylabel("true")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    title = title or f"accuracy {100 * accuracy:.2f}% ({int(matrix.sum())} samples)"
    if not counts_shown:
        title += f"; {c} classes: shades only, too many for their counts"
    ax.set_title(fit_text(title, width - 0.3, fontsize=10), fontsize=10)
    if path is not None:
        _save(fig, path)
    return fig


def digit_predictions_figure(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    count: int = 24,
    columns: int = 8,
    title: str = "",
) -> Figure:
    """A grid of digits, each titled ``true -> predicted``; mistakes in red, shown first.

    ``images`` is ``(n, 64)`` or ``(n, 8, 8)``; labels ``(n,)`` or ``(n, 1)``.
    """
    images = np.asarray(images, dtype=np.float64).reshape(len(images), 8, 8)
    t, p = labels_of(y_true), labels_of(y_pred)
    wrong = np.flatnonzero(t != p)
    right = np.flatnonzero(t == p)
    chosen = np.concatenate([wrong, right])[:count]
    rows = max(1, -(-len(chosen) // columns))
    fig = Figure(figsize=(1.15 * columns, 1.3 * rows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, chosen, strict=False):
        ax.imshow(images[i], cmap="gray_r", interpolation="nearest")
        ok = t[i] == p[i]
        ax.set_title(f"{t[i]} \u2192 {p[i]}", fontsize=9, color="black" if ok else "#d62728")
    fig.suptitle(title or f"{len(wrong)} mistakes of {len(t)}; mistakes first, in red", fontsize=10)
    if path is not None:
        _save(fig, path)
    return fig
