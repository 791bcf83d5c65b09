"""A regression's figures: values, not classes.

Each sample's target and prediction are colours on one scale centred on 0
(:data:`VALUE_CMAP`: negative red, 0 white, positive blue; :func:`value_limit` gives
its half-width), in every figure of a run and of a sweep:

- :func:`value_comparison_figure`: the lab's comparison of "Ground truth" and
  "Predict result" for two inputs;
- :func:`predicted_vs_target_figure`: for other inputs (diabetes' ten), each
  sample's prediction against its target, test samples apart, around the line
  y = x;
- :func:`value_map` and :func:`value_maps`: the predicted value over the plane of
  two inputs, the samples filled with their targets (one model; a row of them
  as the run trained).

matplotlib's object API (``Figure``, no ``pyplot``), as in :mod:`proplab.plots`;
the core never imports this module. Each function returns the ``Figure`` and,
given a ``path``, writes it as a PNG atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from proplab.plots import (
    CLASS_COLORS,
    LOSS_COLOR,
    SETTLE_PASSES,
    TEST_LOSS_COLOR,
    _save,
    comparison_canvas,
    comparison_panel,
    equal_scales,
    fit_text,
    input_axis_labels,
    settle_layout,
)
from proplab.train_text import fixed
from proplab.zoo_plots import PLOT_INCHES, box_grid

Predictor = Callable[[np.ndarray], np.ndarray]
# a regression's values on one scale centred on 0: negative red, 0 white, positive blue,
# the class colours at the ends (a target of -1 is as red as class 0, +1 as blue as class
# 1). Every matplotlib figure of proplab's uses it; the playground page keeps TensorFlow
# Playground's orange for negative values, as the site it follows does
VALUE_CMAP = LinearSegmentedColormap.from_list(
    "proplab_value", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]]
)
# the same scale paled, for maps under samples drawn in VALUE_CMAP's full colours (a
# sweep's panels): the decision boundary's P(class 1) map has these colours too
VALUE_CMAP_PALE = LinearSegmentedColormap.from_list(
    "proplab_value_pale", ["#eb9293", "#ffffff", "#8fbbe0"]
)
NO_VALUE_COLOR = "0.6"  # a prediction that is NaN or inf


def value_limit(*targets: np.ndarray | None) -> float:
    """Half-width of a regression's colour scale: the largest finite |target| of the given
    arrays (any shapes; None skipped), or 1.0 when there is none (or it is 0).

    The scale runs from ``-limit`` to ``limit``, centred on 0: a run's figures pass all
    its targets (training and test), so every figure of the run shares one scale."""
    arrays = [np.asarray(t, dtype=np.float64) for t in targets if t is not None]
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    largest = max((float(f.max()) for f in finite if f.size), default=0.0)
    return largest if largest > 0 else 1.0


def value_extend(values: np.ndarray, limit: float) -> str:
    """A colour bar's ``extend`` for ``values`` shown on ``[-limit, limit]``: ``"min"``,
    ``"max"`` or ``"both"`` when some are beyond it (drawn in the end colours), else
    ``"neither"``."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    low, high = bool((finite < -limit).any()), bool((finite > limit).any())
    return {(False, False): "neither", (True, False): "min", (False, True): "max"}.get(
        (low, high), "both"
    )


def beyond_note(values: np.ndarray, limit: float, what: str = "predictions") -> str | None:
    """A legend line for ``values`` that leave the colour scale ``[-limit, limit]`` (drawn
    in its end colours, which alone would hide how far they go), or None."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not finite.size or value_extend(finite, limit) == "neither":
        return None
    return (
        f"{what} from {finite.min():.3g} to {finite.max():.3g} (beyond ±{limit:.3g}: end colours)"
    )


def marker_area(n: int, area: float) -> float:
    """A scatter marker's area for ``n`` samples: ``area`` up to 150 of them, then
    shrinking with ``1 / sqrt(n)`` (down to a quarter): 800 full-size samples hid the map."""
    return float(area * min(1.0, max(0.25, np.sqrt(150 / max(n, 1)))))


def r2_text(r2: float | None) -> str:
    """R² as figures print it (as the run's ``r2=`` line: 4 decimals), or that there is none."""
    return "n/a (diverged)" if r2 is None or not np.isfinite(r2) else fixed(r2, 4)


def value_comparison_figure(
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    path: str | os.PathLike[str],
    title: str | None = None,
    limit: float | None = None,
    feature_names: Sequence[str] | None = None,
) -> Figure:
    """A regression's comparison figure: "Ground truth" and "Predict result" side by side,
    every point coloured by its value on one scale centred on 0 (:data:`VALUE_CMAP`).

    Args:
        x: inputs ``(n, 2)`` (for other inputs, see :func:`predicted_vs_target_figure`).
        y: target values ``(n, 1)`` or ``(n,)``.
        pred: predicted values ``(n, 1)`` or ``(n,)``; NaN or inf (a diverged model's)
            is drawn as "no prediction", a grey cross.
        title: optional figure title (e.g. ``"plane: R² 0.9993"``).
        limit: the scale runs from ``-limit`` to ``limit`` (default: the largest
            |target|, :func:`value_limit`); values beyond it get the end colours and
            the colour bar an arrow.
        feature_names: the two inputs' names (a CSV's columns), for the axes; default
            ``x1``, ``x2``.
    """
    fig, axes, (u, v, xlabel, ylabel) = comparison_canvas(x, width=10.8, names=feature_names)
    truth = np.asarray(y, dtype=np.float64).reshape(len(u))
    value = np.asarray(pred, dtype=np.float64).reshape(len(u))
    known = np.isfinite(value)
    limit = value_limit(truth) if limit is None else float(limit)
    norm = Normalize(-limit, limit)  # colours of values beyond it clip to the ends
    everything = np.ones(len(u), dtype=bool)
    size = marker_area(len(u), 42)
    for ax, values, shown, name in (
        (axes[0], truth, everything, "Ground truth"),
        (axes[1], value, known, "Predict result"),
    ):
        # a dark rim: a value near 0 is white, which a white rim would lose on the white axes
        ax.scatter(
            u[shown], v[shown], s=size, c=values[shown], cmap=VALUE_CMAP, norm=norm,
            edgecolors="0.3", linewidths=0.6,
        )  # fmt: skip
        comparison_panel(ax, name, u, v, xlabel)
    axes[0].set_ylabel(ylabel)
    handles = []
    if not known.all():
        axes[1].scatter(
            u[~known], v[~known], s=size, c=NO_VALUE_COLOR, marker="X", edgecolors="white",
            linewidths=0.6,
        )  # fmt: skip
        n_unknown = int(np.count_nonzero(~known))
        handles.append(
            Line2D(
                [], [], marker="X", linestyle="", color=NO_VALUE_COLOR,
                label=f"no prediction: NaN/inf ({n_unknown} of {len(u)})",
            )
        )  # fmt: skip
    if known.any():  # how far off the predictions are, in the targets' units
        error = np.abs(value[known] - truth[known])
        handles.append(
            Line2D(
                [], [], linestyle="",
                label=f"|prediction - target|: mean {error.mean():.3g}, largest {error.max():.3g}",
            )
        )  # fmt: skip
    note = beyond_note(value[known], limit)
    if note:
        handles.append(Line2D([], [], linestyle="", label=note))
    bar = fig.colorbar(
        value_mappable(limit), ax=axes, shrink=0.9, pad=0.02,
        extend=value_extend(np.concatenate([truth, value[known]]), limit),
    )  # fmt: skip
    bar.set_label("value (red negative, white 0, blue positive)")
    # one row while it fits the figure's width (~100 characters), else one entry a row
    wide = sum(len(str(h.get_label())) for h in handles) > 100
    fig.legend(
        handles=handles, loc="outside lower center", ncols=1 if wide else len(handles),
        frameon=False,
    )  # fmt: skip
    if title:
        fig.suptitle(fit_text(title, 10.4, fontsize=12), fontsize=12)
    _save(fig, path)
    return fig


def value_mappable(limit: float) -> ScalarMappable:
    """What a colour bar of :data:`VALUE_CMAP` on ``[-limit, limit]`` is drawn from."""
    return ScalarMappable(norm=Normalize(-limit, limit), cmap=VALUE_CMAP)


def predicted_vs_target_figure(
    y: np.ndarray,
    pred: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = "",
    y_test: np.ndarray | None = None,
    pred_test: np.ndarray | None = None,
) -> Figure:
    """A regression's comparison figure for inputs no plane can show (diabetes' ten):
    each sample's prediction against its target, around the line y = x.

    A perfect model puts every sample on the line; one that predicts the training
    targets' mean (R² 0) puts them on the dashed horizontal line; a test sample far from
    the line, while the training samples hug it, is the overfitting the learning curve
    shows.

    Args:
        y, pred: the training samples' targets and predictions, ``(n, 1)`` or ``(n,)``.
        y_test, pred_test: the held-out samples', ``(m, 1)`` or ``(m,)``, drawn as
            diamonds in the learning curve's test colour.
        title: the figure's title (the run's R²).

    Predictions that are NaN or inf (a diverged model's) are counted in the legend, not
    drawn; those far beyond the targets (more than their range past either end) are
    drawn at the edge of the axes as triangles, and the legend says how far they go.
    """
    parts = [("training", y, pred, "o", LOSS_COLOR)]
    if y_test is not None and pred_test is not None:
        parts.append(("test", y_test, pred_test, "D", TEST_LOSS_COLOR))
    parts = [
        (name, np.asarray(t, dtype=np.float64).reshape(-1),
         np.asarray(p, dtype=np.float64).reshape(-1), marker, colour)
        for name, t, p, marker, colour in parts
    ]  # fmt: skip
    targets = np.concatenate([t for _, t, *_ in parts])
    guesses = np.concatenate([p for _, _, p, *_ in parts])
    known = guesses[np.isfinite(guesses)]
    low, high = float(targets.min()), float(targets.max())
    span = max(high - low, 1e-9)
    # the axes hold every target and the predictions up to one span beyond them: a diverged
    # model's 1e150 would squeeze the targets into a dot
    low = max(low - span, min(low, known.min(initial=low)))
    high = min(high + span, max(high, known.max(initial=high)))
    low, high = low - 0.04 * (high - low), high + 0.04 * (high - low)
    fig = Figure(figsize=(6.4, 6.9), layout="constrained")
    ax = fig.subplots()
    ax.set_aspect("equal")
    ax.plot([low, high], [low, high], color="0.2", linewidth=1.0, zorder=1)
    mean = float(parts[0][1].mean())
    ax.axhline(mean, color="0.45", linewidth=1.0, linestyle="--", zorder=1)
    lines = [
        Line2D([], [], color="0.2", linewidth=1.0, label="prediction = target"),
        Line2D(
            [], [], color="0.45", linewidth=1.0, linestyle="--",
            label="predicting the training mean (R² 0)",
        ),
    ]  # fmt: skip
    size = marker_area(len(targets), 30)
    handles, notes, beyond = [], [], []
    for name, target, guess, marker, colour in parts:
        finite = np.isfinite(guess)
        inside = finite & (guess >= low) & (guess <= high)
        ax.scatter(
            target[inside], guess[inside], s=size, c=colour, marker=marker, alpha=0.75,
            edgecolors="white", linewidths=0.5, zorder=2,
        )  # fmt: skip
        count = f"{len(target)} {name} samples" + (" (held out)" if name == "test" else "")
        handles.append(
            Line2D([], [], marker=marker, linestyle="", color=colour, alpha=0.75, label=count)
        )
        for off, edge, arrow in ((guess > high, high, "^"), (guess < low, low, "v")):
            if off.any():  # at the edge they left by, pointing the way they went
                ax.scatter(
                    target[off], np.full(off.sum(), edge), s=1.5 * size, c=colour,
                    marker=arrow, clip_on=False, zorder=3,
                )  # fmt: skip
                beyond.append(guess[off])
        if not finite.all():
            notes.append(
                Line2D(
                    [], [], linestyle="",
                    label=f"no prediction: NaN/inf ({int((~finite).sum())} of {len(guess)} "
                    f"{name} samples)",
                )
            )  # fmt: skip
    if beyond:
        far = np.concatenate(beyond)
        notes.append(
            Line2D(
                [], [], marker="^", linestyle="", color="0.3",
                label=f"{far.size} predictions off the axes ({far.min():.3g} to "
                f"{far.max():.3g}), drawn at the edge",
            )
        )  # fmt: skip
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("target")
    ax.set_ylabel("prediction")
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    # the samples in one column, the lines in the other; notes, long, one a row beneath
    fig.legend(
        handles=handles + lines + notes, loc="outside lower center", ncols=1 if notes else 2,
        fontsize=9, frameon=False,
    )  # fmt: skip
    if title:
        ax.set_title(fit_text(title, 6.0, fontsize=11), fontsize=11)
    if path is not None:
        _save(fig, path)
    return fig


def value_grid(
    predict: Predictor, x: np.ndarray, resolution: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regression model's predicted value on a grid over the samples' box (8 % margin).

    The grid of the decision boundary (:func:`~proplab.zoo_plots.box_grid`): returns
    ``u (resolution,)``, ``v (resolution,)`` and ``values (resolution, resolution)``
    with ``values[i, j]`` the model's output at ``(u[j], v[i])``.
    """
    u, v, points = box_grid(x, resolution)
    values = np.asarray(predict(points), dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 1:
        raise ValueError(
            f"a value map needs one output per point, (m, 1); the model gave {values.shape}"
        )
    return u, v, values.reshape(v.size, u.size)


def value_levels(limit: float) -> np.ndarray:
    """The contour lines drawn on a value map of ``[-limit, limit]``: minus and plus half
    of it, rounded to one significant digit (``[-0.5, 0.5]`` for a limit of 1, ``[-0.4,
    0.4]`` for 0.84). Not 0: a target that is 0 over wide areas (multi-gauss between its
    bumps) makes its 0 line wander through them all."""
    half = limit / 2
    digits = -int(math.floor(math.log10(half)))
    level = round(half, digits) or half
    return np.array([-level, level])


def _value_points(ax: Axes, x: np.ndarray, y: np.ndarray, norm: Normalize, **style: Any) -> None:
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
    feature_names: Sequence[str] | None = None,
    limit: float | None = None,
) -> Figure:
    """A regression model's predicted value over the plane, the samples on top.

    The decision boundary's counterpart for targets that are values: the map is
    coloured on one scale centred on 0 (:data:`VALUE_CMAP`, clamped
    to ``[-limit, limit]``) with a few labelled contour lines; each sample is
    filled with its target's colour on the same scale, so a sample that stands out
    from the map around it is one the model gets wrong.

    Args:
        predict: model outputs for a batch, ``(m, 2) -> (m, 1)`` (e.g. ``model.forward``).
        x, y: training samples ``(n, 2)`` and their targets ``(n, 1)`` / ``(n,)``.
        x_test, y_test: held-out samples, drawn as diamonds.
        resolution: grid points per axis.
        feature_names: the two inputs' names for the axes (a CSV's columns);
            default $x_1$, $x_2$.
        limit: the colour scale's half-width (default: the largest |target| of
            ``y`` and ``y_test``, :func:`value_limit`).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"a value map needs 2-D inputs (n, 2), got shape {x.shape}")
    everything = x if x_test is None else np.concatenate([x, x_test])
    u, v, values = value_grid(predict, everything, resolution)
    limit = value_limit(y, y_test) if limit is None else float(limit)
    norm = Normalize(-limit, limit)

    ratio = float((u[-1] - u[0]) / (v[-1] - v[0]))
    equal = equal_scales(ratio, feature_names is not None, 3.0)
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
    xlabel, ylabel = input_axis_labels(feature_names, 2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.legend(
        # the markers side by side; with a note, one entry a row (a second column ran off)
        handles=handles, loc="outside lower center", ncols=1 if len(handles) > markers else markers,
        fontsize=8, frameon=False,
    )  # fmt: skip
    if title:
        ax.set_title(fit_text(title, PLOT_INCHES + 0.6, fontsize=11), fontsize=11)
    if levels:  # labels are placed in pixels: on the axes as the PNG has them
        settle_layout(fig, SETTLE_PASSES if equal else 1)
        label_contours_inside(ax, lines)
    if path is not None:
        _save(fig, path, settle=equal)
    return fig


def _fits(box: Bbox, frame: Bbox) -> bool:
    return frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


def label_contours_inside(
    ax: Axes, lines: ContourSet, *, fmt: str = "%g", fontsize: float = 7, inline_spacing: float = 2
) -> list[Text]:
    """Label each line of ``lines`` where matplotlib's ``clabel`` would, but wholly inside
    ``ax``; returns the labels.

    ``clabel`` centres a label on its line, so a line running along the frame (a bump
    that the map's edge cuts) got a label half outside, clipped by the frame. Such a label
    moves along its own line to the nearest point where it fits (its box, at any
    rotation, at least its half-diagonal from every edge, and clear of the other
    labels), or is left out when its line has none. Measures in pixels: call it once the
    figure is laid out (:func:`~proplab.plots.settle_layout`)."""
    fig = ax.figure  # get_figure(root=True) is matplotlib 3.10+; proplab takes 3.8.4
    assert isinstance(fig, Figure)  # proplab draws no subfigures
    # a Figure made without pyplot has a bare canvas, which cannot measure text
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    style: dict[str, Any] = {"fmt": fmt, "fontsize": fontsize}  # clabel's keywords

    def clear() -> None:  # the labels only: inline=False left the lines whole
        while lines.labelTexts:
            lines.pop_label()

    # where clabel puts them (display coordinates), and their boxes at that rotation
    auto = [
        (np.asarray(ax.transData.transform(t.get_position())), t.get_window_extent(renderer))
        for t in lines.clabel(inline=False, **style)
    ]
    clear()
    # each line's pieces in display coordinates: a label moves along its own piece
    pieces = [
        ax.transData.transform(piece)
        for path in lines.get_paths()
        for piece in path.to_polygons(closed_only=False)
        if len(np.asarray(piece))  # (the stubs say ArrayLike; arrays (k, 2) here)
    ]
    kept = [p for p, box in auto if _fits(box, frame)]
    for point, box in auto:
        if _fits(box, frame):
            continue
        reach = float(np.hypot(box.width, box.height)) / 2  # covers the box at any rotation
        piece = min(pieces, key=lambda xy: float(np.min(np.hypot(*(xy - point).T))))
        room = (
            (piece[:, 0] - frame.x0 > reach + 1)
            & (frame.x1 - piece[:, 0] > reach + 1)
            & (piece[:, 1] - frame.y0 > reach + 1)
            & (frame.y1 - piece[:, 1] > reach + 1)
        )
        for other in kept:  # as clabel keeps labels of a line 1.2 widths apart
            room &= np.hypot(*(piece - other).T) > 2.4 * reach
        if room.any():
            candidates = piece[room]
            kept.append(candidates[np.argmin(np.hypot(*(candidates - point).T))])
    to_data = ax.transData.inverted()
    # drawn once without cutting the lines, to check the moved labels at their rotation
    chosen = [tuple(to_data.transform(p)) for p in kept]
    fitting = [
        xy
        for xy, t in zip(chosen, lines.clabel(manual=chosen, inline=False, **style), strict=True)
        if _fits(t.get_window_extent(renderer), frame)
    ]
    clear()
    return list(lines.clabel(manual=fitting, inline=True, inline_spacing=inline_spacing, **style))


@dataclass
class ValuePanel:
    """One model's predicted value on a grid, and the samples it was trained on."""

    title: str
    grid_u: np.ndarray  # (G_u,) first input coordinate
    grid_v: np.ndarray  # (G_v,) second input coordinate
    values: np.ndarray  # (G_v, G_u): values[j, i] at (grid_u[i], grid_v[j]); NaN where undefined
    x: np.ndarray  # (n, 2)
    y: np.ndarray  # (n, 1) or (n,) target values
    # the two inputs' names (a CSV's columns: horizontal, vertical); None for x1, x2.
    # Named inputs are a file's columns, each in a unit of its own: never equal scales
    axis_names: tuple[str, str] | None = None


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
        ax.set_aspect(1.0 if equal_scales(ratio, panel.axis_names is not None, 2.0) else ratio)
        ax.set_xlim(panel.grid_u[0], panel.grid_u[-1])
        ax.set_ylim(panel.grid_v[0], panel.grid_v[-1])
        ax.set_title(panel.title, fontsize=9)
        ax.tick_params(labelsize=7)
        # a CSV's columns, else x1 and x2 as the classification's panels name them (figs22
        # F10: the lab's datasets had no axis names): under each panel, left of the first
        names = panel.axis_names or ("x1", "x2")
        ax.set_xlabel(names[0], fontsize=8)
        if ax is axes[0]:
            ax.set_ylabel(names[1], fontsize=8)
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
