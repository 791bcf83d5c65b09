"""Figures beyond the lab: decision boundaries, confusion matrices, digit predictions,
and for a regression the predicted value over the plane.

matplotlib's object API (``Figure``, no ``pyplot``), as in :mod:`proplab.plots`;
the core never imports this module. Each function returns the ``Figure``
and, given a ``path``, writes it as a PNG atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from proplab.metrics import labels_of, predicted_labels
from proplab.plots import (
    CLASS_COLORS,
    NO_VALUE_COLOR,
    VALUE_CMAP,
    _save,
    beyond_note,
    fit_text,
    marker_area,
    value_extend,
    value_limit,
)

# class 0 red, class 1 blue (the handout's), then matplotlib's tab10 for more classes
PALETTE = (*CLASS_COLORS, "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")

Predictor = Callable[[np.ndarray], np.ndarray]
LEGEND_CLASSES = 20  # more classes than this get no legend (40 entries with a test set)
LEGEND_ROWS = 20  # a legend column holds this many entries
PLOT_INCHES = 4.6  # decision boundary: width of the axes


def class_colors(n_classes: int) -> list[str]:
    """One distinct colour per class: the palette, then tab20, then a sampled colormap.

    A CSV dataset may have any number of classes (a float column taken as the label
    makes one per row), so running out of colours must not take the run down.
    """
    if n_classes <= len(PALETTE):
        return list(PALETTE[:n_classes])
    # as "#rrggbb": an RGBA tuple given to scatter(c=...) for 4 points reads as 4 values
    if n_classes <= 20:
        return [to_hex(c) for c in colormaps["tab20"].colors[:n_classes]]
    return [to_hex(c) for c in colormaps["turbo"](np.linspace(0.0, 1.0, n_classes))]


def class_regions(
    predict: Predictor, x: np.ndarray, resolution: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The predicted class on a grid over the samples' box (8 % margin).

    Returns ``u (resolution,)``, ``v (resolution,)`` and ``regions
    (resolution, resolution)`` with ``regions[i, j]`` the class at ``(u[j], v[i])``.
    """
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.08 * np.maximum(hi - lo, 1e-9)
    u = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    v = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    grid_u, grid_v = np.meshgrid(u, v)
    grid = np.stack([grid_u.ravel(), grid_v.ravel()], axis=1)
    return u, v, predicted_labels(predict(grid)).reshape(grid_u.shape)


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
) -> Figure:
    """Regions each class wins over the plane, with the samples on top.

    Args:
        predict: model outputs for a batch, ``(m, 2) -> (m, 1)`` probabilities
            or ``(m, C)`` scores (e.g. ``model.forward``).
        x, y: training samples ``(n, 2)`` and their labels ``(n, 1)`` / ``(n,)``.
        x_test, y_test: held-out samples, drawn as hollow markers.
        resolution: grid points per axis.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D inputs (n, 2), got shape {x.shape}")
    everything = x if x_test is None else np.concatenate([x, x_test])
    u, v, regions = class_regions(predict, everything, resolution)
    grid_u, grid_v = np.meshgrid(u, v)
    n_classes = int(max(regions.max(), labels_of(y).max())) + 1
    colors = class_colors(n_classes)

    # equal scales when the inputs' ranges are alike (moons, spirals keep their shape);
    # columns on scales far apart (a CSV's) get a square panel instead of a sliver
    ratio = float((u[-1] - u[0]) / (v[-1] - v[0]))
    equal = 1 / 3 <= ratio <= 3.0
    entries = n_classes * (1 if x_test is None else 2) if n_classes <= LEGEND_CLASSES else 0
    columns = math.ceil(entries / LEGEND_ROWS)
    height = PLOT_INCHES / ratio if equal else PLOT_INCHES
    fig = Figure(
        figsize=(PLOT_INCHES + 0.9 + 1.6 * columns, min(max(height, 2.4), 6.0) + 1.0),
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
    # each class's own outline: contours of the class index itself would stack |i - j|
    # lines where classes i and j meet (0 next to 11: a line 11 times as heavy)
    for c in np.unique(regions):
        ax.contour(
            grid_u, grid_v, (regions == c).astype(float), levels=[0.5], colors="0.25",
            linewidths=0.8,
        )  # fmt: skip
    labels = labels_of(y)
    for c in range(n_classes):
        mask = labels == c
        ax.scatter(
            x[mask, 0],
            x[mask, 1],
            s=22,
            c=colors[c],
            edgecolors="white",
            linewidths=0.5,
            label=f"class {c} (train)",
        )
    if x_test is not None and y_test is not None:
        test_labels = labels_of(y_test)
        for c in range(n_classes):
            mask = test_labels == c
            ax.scatter(
                x_test[mask, 0],
                x_test[mask, 1],
                s=34,
                facecolors="none",
                edgecolors=colors[c],
                linewidths=1.3,
                label=f"class {c} (test)",
            )
    ax.set_xlim(u[0], u[-1])
    ax.set_ylim(v[0], v[-1])
    ax.set_xlabel("$x_1$")  # numbered as --features names them
    ax.set_ylabel("$x_2$")
    if columns:  # beside the plot: inside, it hid the samples in its corner
        fig.legend(
            *ax.get_legend_handles_labels(),
            fontsize=8,
            loc="outside right upper",
            ncols=columns,
            frameon=False,
        )
    if title:
        ax.set_title(fit_text(title, PLOT_INCHES, fontsize=11), fontsize=11)
    if path is not None:
        _save(fig, path, settle=equal)
    return fig


def value_grid(
    predict: Predictor, x: np.ndarray, resolution: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regression model's predicted value on a grid over the samples' box (8 % margin).

    The grid of :func:`class_regions`: returns ``u (resolution,)``, ``v
    (resolution,)`` and ``values (resolution, resolution)`` with ``values[i, j]`` the
    model's output at ``(u[j], v[i])``.
    """
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.08 * np.maximum(hi - lo, 1e-9)
    u = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    v = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    grid_u, grid_v = np.meshgrid(u, v)
    grid = np.stack([grid_u.ravel(), grid_v.ravel()], axis=1)
    values = np.asarray(predict(grid), dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 1:
        raise ValueError(
            f"a value map needs one output per point, (m, 1); the model gave {values.shape}"
        )
    return u, v, values.reshape(grid_u.shape)


def value_levels(limit: float) -> np.ndarray:
    """The contour lines drawn on a value map of ``[-limit, limit]``: minus and plus half
    of it, rounded to one significant digit (``[-0.5, 0.5]`` for a limit of 1, ``[-0.4,
    0.4]`` for 0.84). Not 0: a target that is 0 over wide areas (multi-gauss between its
    bumps) makes its 0 line wander through them all."""
    half = limit / 2
    digits = -int(math.floor(math.log10(half)))
    level = round(half, digits) or half
    return np.array([-level, level])


def _value_points(ax, x: np.ndarray, y: np.ndarray, norm: Normalize, **style) -> None:
    """Samples ``(n, 2)`` filled with their targets' colours."""
    ax.scatter(
        x[:, 0], x[:, 1], c=np.asarray(y, dtype=np.float64).reshape(len(x)), cmap=VALUE_CMAP,
        norm=norm, **style,
    )  # fmt: skip


def value_map(
    predict: Predictor,
    x: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    resolution: int = 200,
    limit: float | None = None,
) -> Figure:
    """A regression model's predicted value over the plane, the samples on top.

    The decision boundary's counterpart for targets that are values: the map is
    coloured on one scale centred on 0 (:data:`~proplab.plots.VALUE_CMAP`, clamped
    to ``[-limit, limit]``) with a few labelled contour lines; each sample is
    filled with its target's colour on the same scale, so a sample that stands out
    from the map around it is one the model gets wrong.

    Args:
        predict: model outputs for a batch, ``(m, 2) -> (m, 1)`` (e.g. ``model.forward``).
        x, y: training samples ``(n, 2)`` and their targets ``(n, 1)`` / ``(n,)``.
        x_test, y_test: held-out samples, drawn as diamonds.
        resolution: grid points per axis.
        limit: the colour scale's half-width (default: the largest |target| of
            ``y`` and ``y_test``, :func:`~proplab.plots.value_limit`).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"a value map needs 2-D inputs (n, 2), got shape {x.shape}")
    everything = x if x_test is None else np.concatenate([x, x_test])
    u, v, values = value_grid(predict, everything, resolution)
    limit = value_limit(y, y_test) if limit is None else float(limit)
    norm = Normalize(-limit, limit)

    ratio = float((u[-1] - u[0]) / (v[-1] - v[0]))
    equal = 1 / 3 <= ratio <= 3.0  # as decision_boundary: equal scales unless far apart
    # the plot gets ~PLOT_INCHES - 0.2 of the width (ticks, colour bar and its label
    # take the rest): a taller figure left bands above and below an equal-scale plot
    height = (PLOT_INCHES - 0.2) / ratio if equal else PLOT_INCHES
    fig = Figure(
        figsize=(PLOT_INCHES + 1.6, min(max(height, 2.4), 6.0) + 1.35), layout="constrained"
    )
    ax = fig.subplots()
    if equal:
        ax.set_aspect("equal")
    shown = np.ma.masked_invalid(values)  # a NaN prediction: left blank
    mesh = ax.pcolormesh(u, v, shown, cmap=VALUE_CMAP, norm=norm, shading="auto", rasterized=True)
    finite = shown.compressed()
    levels = [lv for lv in value_levels(limit) if finite.size and finite.min() < lv < finite.max()]
    if levels:
        lines = ax.contour(u, v, shown, levels=levels, colors="0.2", linewidths=0.7)
        ax.clabel(lines, fmt="%g", fontsize=7, inline_spacing=2)
    _value_points(ax, x, y, norm, s=marker_area(len(x), 24), edgecolors="0.15", linewidths=0.6)
    handles = [
        Line2D(
            [], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="0.15",
            label="training sample (filled with its target)",
        )
    ]  # fmt: skip
    if x_test is not None and y_test is not None:
        _value_points(
            ax, np.asarray(x_test, dtype=np.float64), y_test, norm,
            s=marker_area(len(x) + len(x_test), 34), marker="D", edgecolors="black",
            linewidths=1.1 if len(x) + len(x_test) <= 150 else 0.8,
        )  # fmt: skip
        handles.append(
            Line2D(
                [], [], marker="D", linestyle="", markerfacecolor="white",
                markeredgecolor="black", markeredgewidth=1.1, label="test sample",
            )
        )  # fmt: skip
    markers = len(handles) + (finite.size < values.size)
    if finite.size < values.size:
        handles.append(
            Line2D(
                [], [], marker="s", linestyle="", color="white", markeredgecolor=NO_VALUE_COLOR,
                label="blank: no prediction (NaN/inf)",
            )
        )  # fmt: skip
    note = beyond_note(finite, limit, "predicted values")
    if note:
        handles.append(Line2D([], [], linestyle="", label=note))
    targets = [np.ravel(y)] + ([] if y_test is None else [np.ravel(y_test)])
    # the bar as tall as the plot (a bar beside the layout's slot overshot a square plot);
    # constrained layout counts the inset in the plot's room, label included
    bar = fig.colorbar(
        mesh, cax=ax.inset_axes((1.04, 0.0, 0.045, 1.0)),
        extend=value_extend(np.concatenate([finite, *targets]), limit),
    )  # fmt: skip
    bar.set_label("predicted value (samples: their target)")
    if levels:
        bar.add_lines(lines)
    ax.set_xlim(u[0], u[-1])
    ax.set_ylim(v[0], v[-1])
    ax.set_xlabel("$x_1$")  # numbered as --features names them
    ax.set_ylabel("$x_2$")
    fig.legend(
        # the markers side by side; with a note, one entry a row (a second column ran off)
        handles=handles, loc="outside lower center", ncols=1 if len(handles) > markers else markers,
        fontsize=8, frameon=False,
    )  # fmt: skip
    if title:
        ax.set_title(fit_text(title, PLOT_INCHES + 0.6, fontsize=11), fontsize=11)
    if path is not None:
        _save(fig, path, settle=equal)
    return fig


@dataclass
class ValuePanel:
    """One model's predicted value on a grid, and the samples it was trained on."""

    title: str
    grid_u: np.ndarray  # (G_u,) first input coordinate
    grid_v: np.ndarray  # (G_v,) second input coordinate
    values: np.ndarray  # (G_v, G_u): values[j, i] at (grid_u[i], grid_v[j]); NaN where undefined
    x: np.ndarray  # (n, 2)
    y: np.ndarray  # (n, 1) or (n,) target values


def value_maps(
    panels: Sequence[ValuePanel],
    path: str | os.PathLike[str],
    title: str = "",
    limit: float | None = None,
) -> Figure:
    """A row of value maps (a regression's boundary-during-training figure), one colour
    scale for all: ``[-limit, limit]``, by default the largest |target| of the panels."""
    limit = value_limit(*(p.y for p in panels)) if limit is None else float(limit)
    norm = Normalize(-limit, limit)
    n = max(1, len(panels))
    width = min(2.6 * n + 1.2, 16.0)
    side = min(2.6 - 0.75, (width - 1.2) / n)
    fig = Figure(figsize=(width, side + 1.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, sharex=True, sharey=True, squeeze=False)[0])
    mesh = None
    spread = []
    for ax, panel in zip(axes, panels, strict=False):
        shown = np.ma.masked_invalid(panel.values)
        mesh = ax.pcolormesh(
            panel.grid_u, panel.grid_v, shown, cmap=VALUE_CMAP, norm=norm, shading="auto",
            rasterized=True,
        )  # fmt: skip
        spread.append(shown.compressed())
        _value_points(
            ax, panel.x, panel.y, norm, s=marker_area(len(panel.x), 12), edgecolors="0.15",
            linewidths=0.5,
        )  # fmt: skip
        ratio = float(np.ptp(panel.grid_u) / np.ptp(panel.grid_v))
        ax.set_aspect(1.0 if 0.5 <= ratio <= 2.0 else ratio)
        ax.set_xlim(panel.grid_u[0], panel.grid_u[-1])
        ax.set_ylim(panel.grid_v[0], panel.grid_v[-1])
        ax.set_title(panel.title, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    if mesh is not None:
        targets = [np.ravel(p.y) for p in panels]
        bar = fig.colorbar(
            mesh, ax=axes, shrink=0.8, pad=0.01,
            extend=value_extend(np.concatenate([*spread, *targets]), limit),
        )  # fmt: skip
        bar.set_label("predicted value\n(samples: their target)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(fit_text(title, width - 0.4, fontsize=11), fontsize=11)
    # one row of fixed-aspect panels: one layout pass places its titles (as the sweep's
    # single rows); each pass costs ~0.3 s
    _save(fig, path, settle=1)
    return fig


def confusion_matrix_figure(
    matrix: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    class_names: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """A confusion matrix ``(C, C)`` (rows: truth, columns: prediction) with its counts."""
    matrix = np.asarray(matrix)
    c = matrix.shape[0]
    names = [str(k) for k in range(c)] if class_names is None else [str(n) for n in class_names]
    # a small matrix still leaves its title room (3 classes: 2.65 inches cut it off)
    width = max(1.0 + 0.55 * c, 3.6)
    fig = Figure(figsize=(width, 0.6 + 0.55 * c), layout="constrained")
    ax = fig.subplots()
    # row-normalised colours, so a rare class's errors show as strongly as a common one's
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(c):
        for j in range(c):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[i, j] > 0.5 else ("#b00000" if i != j else "black"),
                )
    ax.set_xticks(range(c), names)
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    title = title or f"accuracy {100 * accuracy:.2f}% ({int(matrix.sum())} samples)"
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
