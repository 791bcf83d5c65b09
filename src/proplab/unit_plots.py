"""What each hidden unit computes: one small heatmap per unit over a 2-D input plane.

The figure TensorFlow Playground shows beside its network: for a model with
two inputs, every hidden unit's activation over the inputs, one row per
hidden layer. In the first layer each unit of a sigmoid network is a soft
half-plane (its 0.5 line is straight); the next layer combines them into
the bends the output needs (XOR's two lines, for instance).

Takes plain arrays (see :func:`proplab.models.hidden_activations`), writes one
PNG atomically and returns the matplotlib ``Figure``, like :mod:`proplab.plots`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure

from proplab.plots import CLASS_COLORS, _save, class_marker, fit_text
from proplab.scoring import are_binary_labels
from proplab.value_plots import VALUE_CMAP, value_limit

MAX_UNITS_ACROSS = 10  # panels per line; a wider layer wraps onto more lines
PANEL = 1.15  # inches per panel
LEFT, RIGHT, TOP, BOTTOM = 0.75, 0.95, 0.62, 0.12  # inches around the panels
ROW_GAP = 0.3  # inches between lines of panels (room for the unit titles)
# neutral colours for activations, so the data's red and blue (and the black line
# where a unit crosses its middle) stay visible on every panel: white to grey for a
# range from 0, purple through white to brown for one around 0
SEQUENTIAL = LinearSegmentedColormap.from_list("proplab_units", ["#ffffff", "#8a8a8a"])
DIVERGING = LinearSegmentedColormap.from_list("proplab_units_pm", ["#9e86c8", "#ffffff", "#c9a26b"])


@dataclass
class UnitScale:
    """How one layer's activations are coloured: range, colour map, and the level drawn as a line."""

    vmin: float
    vmax: float
    cmap: LinearSegmentedColormap
    level: float | None  # the unit's "edge": 0.5 of a sigmoid, 0 of tanh, where a ReLU starts
    label: str
    line: str = "0"  # that level in words, for captions


def unit_scale(values: np.ndarray, kind: str = "") -> UnitScale:
    """The colour scale for one layer's activations ``(points, units)``.

    ``kind`` is the activation's name (``sigmoid``, ``tanh``, ``relu``,
    ``leaky_relu``, ``identity``; case and underscores ignored); another or an empty
    one is read off the values. Sigmoid: 0 to 1 with the 0.5 line. Tanh: -1 to 1
    with the 0 line. ReLU: 0 to the largest value with the line where units turn
    on. Otherwise (identity, leaky ReLU): symmetric around 0 with the 0 line.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return UnitScale(0.0, 1.0, SEQUENTIAL, None, "activation (not finite)", "its middle")
    lo, hi = float(finite.min()), float(finite.max())
    kind = kind.lower().replace("_", "")
    if kind not in _KINDS:  # read the kind off the values
        if lo >= 0.0 and hi <= 1.0:
            kind = "sigmoid"
        elif lo >= -1.0 and hi <= 1.0:
            kind = "tanh"
        else:
            kind = "relu" if lo >= 0.0 else "identity"
    if kind == "sigmoid":
        return UnitScale(0.0, 1.0, SEQUENTIAL, 0.5, "activation (0 to 1)", "0.5")
    if kind == "tanh":
        return UnitScale(-1.0, 1.0, DIVERGING, 0.0, "activation (-1 to 1)")
    if kind == "relu":
        # a ReLU unit is exactly 0 on one side of its line: draw the line just above 0
        top = hi if hi > 0.0 else 1.0
        return UnitScale(
            0.0, top, SEQUENTIAL, 1e-9 * top, "activation (0 to max)", "0 (where it turns on)"
        )
    top = max(-lo, hi) or 1.0
    return UnitScale(-top, top, DIVERGING, 0.0, "activation (around 0)")


_KINDS = ("sigmoid", "tanh", "relu", "leakyrelu", "identity")


def hidden_units(
    grid_u: np.ndarray,
    grid_v: np.ndarray,
    layers: Sequence[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike[str],
    title: str = "",
    kinds: Sequence[str] = (),
) -> Figure:
    """Draw every hidden unit's activation over the input plane, one row per layer.

    Args:
        grid_u, grid_v: ``(size_u,)`` and ``(size_v,)`` grid coordinates (inputs x1 and x2),
            as :func:`proplab.sweep_boundaries.boundary_grid` makes them.
        layers: one array ``(size_v * size_u, H_l)`` per hidden layer, the activations at
            the grid's points in its order (``points[j * size_u + i] = (u[i], v[j])``).
        x, y: the data ``(n, 2)`` and its labels ``(n, 1)`` or ``(n,)`` of 0/1, drawn on top
            in the class colours; targets that are not 0/1 (a regression's values) are
            drawn on the red-white-blue value scale of the run's other figures.
        path: the PNG to write.
        title: the figure's title.
        kinds: each layer's activation name (``sigmoid``, ``relu``...), for its colour
            scale; a layer without one gets a scale read off its values.

    Each layer has its own colour scale (see :func:`unit_scale`) and colour bar; a
    layer wider than :data:`MAX_UNITS_ACROSS` units wraps onto several lines.
    """
    shape = (grid_v.size, grid_u.size)
    for i, a in enumerate(layers):
        if a.ndim != 2 or a.shape[0] != grid_u.size * grid_v.size:
            raise ValueError(
                f"hidden_units: layer {i + 1} is {a.shape}, expected "
                f"({grid_u.size * grid_v.size}, units): one row per grid point"
            )
    lines = [math.ceil(a.shape[1] / MAX_UNITS_ACROSS) for a in layers]
    across = min(MAX_UNITS_ACROSS, max((a.shape[1] for a in layers), default=1))
    n_lines = max(1, sum(lines))
    width = LEFT + across * PANEL + RIGHT
    height = TOP + n_lines * (PANEL + ROW_GAP) + BOTTOM
    fig = Figure(figsize=(width, height))
    labels = np.asarray(y).reshape(-1) > 0.5
    # a regression's targets are values: thresholding them at 0.5 would invent classes
    values = None if are_binary_labels(y) else np.asarray(y, dtype=np.float64).reshape(-1)
    norm = None if values is None else Normalize(-value_limit(values), value_limit(values))
    line = 0
    for number, (acts, n_lines_here) in enumerate(zip(layers, lines, strict=True), start=1):
        scale = unit_scale(acts, kinds[number - 1] if number <= len(kinds) else "")
        image = None
        first_ax = last_ax = None
        for unit in range(acts.shape[1]):
            row, col = line + unit // across, unit % across
            left = (LEFT + col * PANEL) / width
            bottom = 1.0 - (TOP + row * (PANEL + ROW_GAP) + PANEL) / height
            ax = fig.add_axes((left, bottom, 0.92 * PANEL / width, 0.92 * PANEL / height))
            grid = np.ma.masked_invalid(acts[:, unit].reshape(shape))
            image = ax.pcolormesh(
                grid_u,
                grid_v,
                grid,
                cmap=scale.cmap,
                vmin=scale.vmin,
                vmax=scale.vmax,
                shading="auto",
                rasterized=True,
            )
            finite = grid.compressed()
            if (
                scale.level is not None
                and finite.size
                and finite.min() < scale.level < finite.max()
            ):
                ax.contour(
                    grid_u, grid_v, grid, levels=[scale.level], colors="black", linewidths=0.8
                )
            if values is not None:
                ax.scatter(
                    x[:, 0], x[:, 1], s=5, c=values, cmap=VALUE_CMAP, norm=norm,
                    edgecolors="black", linewidths=0.3,
                )  # fmt: skip
            for cls in (0, 1) if values is None else ():
                m = labels == bool(cls)
                ax.scatter(
                    x[m, 0], x[m, 1], s=5, c=CLASS_COLORS[cls], marker=class_marker(cls),
                    edgecolors="black", linewidths=0.3,
                )  # fmt: skip
            ax.set_xlim(grid_u[0], grid_u[-1])
            ax.set_ylim(grid_v[0], grid_v[-1])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"unit {unit + 1}", fontsize=7, pad=2)
            first_ax = first_ax or ax
            last_ax = ax
        if first_ax is not None:
            first_ax.set_ylabel(f"layer {number}", fontsize=10, fontweight="bold")
        if image is not None and last_ax is not None:
            top = 1.0 - (TOP + line * (PANEL + ROW_GAP)) / height
            span = (n_lines_here * (PANEL + ROW_GAP) - ROW_GAP) / height
            cax = fig.add_axes(
                ((LEFT + across * PANEL + 0.1) / width, top - span, 0.12 / width, span)
            )
            bar = fig.colorbar(image, cax=cax)
            bar.ax.tick_params(labelsize=6)
            bar.set_label(scale.label, fontsize=7)
        line += n_lines_here
    if title:
        fig.suptitle(fit_text(title, width - 0.4, fontsize=11), fontsize=11, y=1.0 - 0.12 / height)
    _save(fig, path)
    return fig
