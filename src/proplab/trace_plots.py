"""One training step as a lecture draws it: units as circles, weights as lines, every number.

The picture beside the hand calculation (CS231n's circuit diagrams, micrograd's graphs),
for ONE sample of a :class:`~proplab.trace.StepTrace`: each unit with its weighted input
``z`` and activation ``a`` above it (forward) and its gradient ``dL/dz`` and bias ``b``
below it; each weight on its line, its value above the line and its gradient ``dL/dW``
below; the inputs ``x``; lines from the output units to the loss carrying the
prediction ``p`` and ``dL/dp``; the target ``t`` and the loss ``L`` at the loss. Forward
numbers are drawn in one colour, backward numbers in another, and a key says which. A
caption works one weight's update through by hand when the optimizer is plain SGD.

Draws what :func:`proplab.mlp` builds: Linear layers, each followed by at most one
element-wise activation, at most :data:`MAX_UNITS` units per layer; anything else is
refused with a ValueError (:func:`check_drawable`). Weights whose labels would overlap
(dense layers) are left off their lines, all of that layer's at once, and the caption
says so. Like :mod:`proplab.plots`: matplotlib's object API on the Agg canvas, the PNG
written atomically at :data:`~proplab.plots.DPI`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Patch
from matplotlib.text import Text

from proplab.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from proplab.label_geometry import corners, crosses, overlap
from proplab.layers import Linear
from proplab.losses import BCELoss, CrossEntropyLoss, MSELoss
from proplab.plots import DPI, LOSS_COLOR, _save, fit_text
from proplab.trace import ModuleStep, StepTrace, plain_sgd
from proplab.trace_text import number

MAX_UNITS = 8  # units per layer: past this, a layer's column of numbers outgrows a page
FORWARD_COLOR = LOSS_COLOR  # values: the dark blue of the learning curve's loss
BACKWARD_COLOR = "#c05000"  # gradients: the accuracy's orange, darkened to read as text
LINE_COLOR = "0.72"
FONT = 9  # points, every number
RADIUS = 0.2  # inches, a unit's circle
ROW = 1.5  # inches between units of a layer (two lines of numbers above, two below)
LINE = 0.2  # inches from one line of numbers at a unit to the next
GAP = 3.1  # inches between layers: room for a weight's label on each line
STUB = 2.0  # inches of the level line right of each output unit that carries p and dL/dp
LOSS_GAP = STUB + 0.9  # inches from the output units to the loss
SIDE = 1.0  # inches left of the inputs and right of the loss's labels
MARGIN = 0.02  # inches around each label that no other may enter
CROSSED_SHARE = 4  # a layer with over 1 in CROSSED_SHARE labels on a crossing goes bare
ACTIVATIONS = (Sigmoid, Tanh, ReLU, LeakyReLU, Identity)
ACCEPTED = (
    "Linear layers, each followed by at most one element-wise activation (Sigmoid, Tanh, "
    "ReLU, LeakyReLU, Identity): an MLP without dropout or batchnorm"
)
LOSS_NAMES = {MSELoss: "MSE", BCELoss: "BCE", CrossEntropyLoss: "cross-entropy"}
# where along a line its weight's label may sit (fraction of the way from the line's
# left unit); of two as good, the earlier: the middle first, then ever closer to the ends
FRACTIONS = (
    0.5, 0.36, 0.64, 0.28, 0.72, 0.43, 0.57, 0.22, 0.78, 0.32, 0.68,
    0.18, 0.82, 0.4, 0.6, 0.25, 0.75, 0.46, 0.54, 0.15, 0.85,
)  # fmt: skip


@dataclass
class _Layer:
    """One Linear layer of the drawing and the activation after it (None: raw outputs)."""

    linear: ModuleStep
    activation: ModuleStep | None = None


def _layers(trace: StepTrace) -> list[_Layer]:
    """The trace's modules grouped as Linear + activation; ValueError for anything else."""
    others = [s for s in trace.modules if type(s.module) not in (Linear, *ACTIVATIONS)]
    if others:
        where: dict[str, list[str]] = {}  # each kind of module, and where it is
        for s in others:
            where.setdefault(type(s.module).__name__, []).append(str(s.index + 1))
        kinds = [
            f"{name} (module{'s' if len(at) > 1 else ''} {_listed(at)})"
            for name, at in where.items()
        ]
        raise ValueError(f"the figure cannot draw {_listed(kinds)}; it draws {ACCEPTED}")
    layers: list[_Layer] = []
    for step in trace.modules:
        m = step.module
        if type(m) is Linear:
            layers.append(_Layer(step))
        else:  # an activation
            if not layers or layers[-1].activation is not None:
                which = "first module" if not layers else "second activation in a row"
                raise ValueError(
                    f"the figure cannot draw module {step.index + 1} ({type(m).__name__}), a {which}; "
                    f"it draws {ACCEPTED}"
                )
            layers[-1].activation = step
    return layers


def _listed(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def check_drawable(trace: StepTrace) -> None:
    """Raise ValueError, naming the reason and what is accepted, unless :func:`draw_step`
    can draw ``trace``: one sample, :data:`ACCEPTED`, at most :data:`MAX_UNITS` units a layer."""
    layers = _layers(trace)  # first: a module it cannot draw is refused at any sample count
    n = trace.x.shape[0]
    if n != 1:
        raise ValueError(
            f"the figure draws a step on one sample; this trace has {n} samples (use "
            "--samples 1 or --row I; in Python, trace_step on one row, x[i : i + 1])"
        )
    if not layers:
        raise ValueError(
            f"the figure needs a Linear layer, and the model has none; it draws {ACCEPTED}"
        )
    widths = [("the input", trace.x.shape[1])]
    widths += [(f"layer {k}", layer.linear.output.shape[-1]) for k, layer in enumerate(layers, 1)]
    for name, width in widths:
        if width > MAX_UNITS:
            smaller = "fewer features" if name == "the input" else "a narrower network"
            raise ValueError(
                f"the figure draws at most {MAX_UNITS} units a layer; {name} has {width} "
                f"({smaller}, or the trace's text alone)"
            )


@dataclass
class _Canvas:
    """The figure being laid out, in inches (one per data unit): the areas taken so far
    (text, circles) as polygons, and every line as a segment."""

    fig: Figure
    ax: Axes
    taken: list[np.ndarray]
    lines: list[np.ndarray]
    crossed: int = 0  # labels placed so far with another line passing under them

    def text(self, x: float, y: float, s: str, gid: str, color: str = "black", **kw: Any) -> Text:
        box = {"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.9}
        return self.ax.text(x, y, s, color=color, fontsize=FONT, gid=gid, zorder=4, bbox=box, **kw)

    def renderer(self) -> RendererAgg:
        """What measures text: the figure was given an Agg canvas when made."""
        canvas = self.fig.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        return canvas.get_renderer()

    def size(self, t: Text) -> tuple[float, float]:
        """Width and height of an unturned text, in inches."""
        box = t.get_window_extent(self.renderer())
        return box.width / self.fig.dpi, box.height / self.fig.dpi

    def keep(self, t: Text) -> None:
        """Mark an unturned text's area taken."""
        box = t.get_window_extent(self.renderer())
        box = box.transformed(self.ax.transData.inverted())
        self.taken.append(corners(box.x0 + box.width / 2, box.y0 + box.height / 2,
                                   box.width / 2 + MARGIN, box.height / 2 + MARGIN, 0.0))  # fmt: skip


def _column(count: int, middle: float) -> list[float]:
    """The heights of ``count`` units centred on ``middle``, top unit first."""
    return [middle + ((count - 1) / 2 - r) * ROW for r in range(count)]


def _on_line(
    canvas: _Canvas, a: tuple[float, float], b: tuple[float, float], above: str, below: str,
    gids: tuple[str, str], force: bool = False,
) -> list[Text] | None:  # fmt: skip
    """Write ``above`` over the line from ``a`` to ``b`` and ``below`` under it, along it.

    Of the places :data:`FRACTIONS` offers where the two labels touch no text or unit
    already placed, the one fewest other lines pass under (a label on a crossing hides
    which line it belongs to), the earlier on a tie; None (nothing drawn) when no place
    is free, unless ``force``: then the first place.
    """
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    angle = math.atan2(dy, dx)
    nx, ny = -dy / length, dx / length  # the line's normal, pointing up (dx > 0)
    texts = [
        canvas.text(0, 0, s, gid, color, ha="center", va="center", rotation_mode="anchor")
        for s, gid, color in ((above, gids[0], FORWARD_COLOR), (below, gids[1], BACKWARD_COLOR))
    ]
    sizes = [canvas.size(t) for t in texts]
    half_w = max(w for w, _ in sizes) / 2 + MARGIN
    half_h = max(h for _, h in sizes) / 2 + MARGIN
    off = half_h + 0.015  # inches from the line to each label's middle
    own = np.array([a, b])
    taken = np.array(canvas.taken).reshape(-1, 4, 2)
    others = np.array([seg for seg in canvas.lines if not np.array_equal(seg, own)])
    others = others.reshape(-1, 2, 2)
    # bounds first: only what comes near a place is measured exactly (a dense layer
    # has hundreds of labels and lines)
    taken_lo, taken_hi = taken.min(axis=1), taken.max(axis=1)
    others_lo, others_hi = others.min(axis=1), others.max(axis=1)
    best: tuple[int, int, np.ndarray, float, float] | None = None
    for rank, f in enumerate(FRACTIONS):
        px, py = a[0] + f * dx, a[1] + f * dy
        area = corners(px, py, half_w, 2 * half_h + 0.015, angle)
        lo, hi = area.min(axis=0), area.max(axis=0)
        near = np.all((taken_lo < hi) & (lo < taken_hi), axis=1)
        blocked = any(overlap(area, t) for t in taken[near])
        if blocked and not (force and rank == 0):
            continue
        near = np.all((others_lo <= hi) & (lo <= others_hi), axis=1)
        crossing = sum(crosses(seg, area) for seg in others[near])
        crossing += blocked * len(canvas.lines)  # a forced place is the last resort
        if best is None or (crossing, rank) < best[:2]:
            best = (crossing, rank, area, px, py)
    if best is None:
        for t in texts:
            t.remove()
        return None
    _, _, area, px, py = best
    for t, sign in zip(texts, (1, -1), strict=True):
        t.set_position((px + sign * off * nx, py + sign * off * ny))
        t.set_rotation(math.degrees(angle))
    canvas.taken.append(area)
    canvas.crossed += int(best[0] > 0)
    return texts


def _title(trace: StepTrace, layers: list[_Layer], digits: int) -> str:
    sizes = "-".join(
        str(w) for w in [trace.x.shape[1]] + [x.linear.output.shape[-1] for x in layers]
    )
    sample = f"x = [{'  '.join(number(v, digits) for v in trace.x[0])}]"
    head = trace.title or (
        f"One training step of a {sizes} network, {type(trace.loss_fn).__name__}"
    )
    return f"{head}\nthe sample: {sample}, t = {_target_text(trace, digits)}"


def _target_text(trace: StepTrace, digits: int) -> str:
    t = np.asarray(trace.target)
    if t.shape == trace.pred.shape:
        values = [number(v, digits) for v in t.reshape(-1)]
        return values[0] if len(values) == 1 else f"[{'  '.join(values)}]"
    return f"class {number(t.reshape(-1)[0], digits)}"  # cross-entropy's class index


def _worked_update(trace: StepTrace, layers: list[_Layer], digits: int) -> str:
    """The caption's worked example: the weight with the largest gradient, updated by hand."""
    opt = trace.optimizer
    if opt is None:
        return ""
    if not plain_sgd(opt):
        return (
            f"The optimizer, {opt!r}, takes its own step (not plain W <- W - lr dL/dW); "
            "proplab trace prints the new weights."
        )
    k, layer = max(
        enumerate(layers, 1), key=lambda kl: float(np.abs(kl[1].linear.grads["weight"]).max())
    )
    grad = layer.linear.grads["weight"]
    lr = float(opt.hyper["lr"])
    if not grad.any():  # every input of this sample is 0 (XOR's first row): no weight moves
        return (
            f"SGD, lr {lr:g}: every weight steps W <- W - lr dL/dW; on this sample every "
            "dL/dW is 0 (dL/dW = input x dL/dz, and the inputs that reach the weights are 0), "
            "so only the biases move."
        )
    i, j = np.unravel_index(int(np.argmax(np.abs(grad))), grad.shape)
    w, g = layer.linear.params["weight"][i, j], grad[i, j]
    new = layer.linear.updated["weight"][i, j]
    # the worked sum with 3 digits at least: '0.9 - 1 x 0.1 = 0.7' (digits 1) did not add up
    digits = max(digits, 3)
    g_text = number(g, digits) if g >= 0 else f"({number(g, digits)})"
    source = f"input x{i + 1}" if k == 1 else f"layer {k - 1} unit {i + 1}"
    after = "" if trace.loss_after is None else (
        f". L on this sample: {number(trace.loss, digits)} before the step, "
        f"{number(trace.loss_after, digits)} after"
    )  # fmt: skip
    return (
        f"SGD, lr {lr:g}: every weight steps W <- W - lr dL/dW; for W{k}[{i + 1},{j + 1}] "
        f"({source} to layer {k} unit {j + 1}), the one with the largest gradient: "
        f"{number(w, digits)} - {lr:g} x {g_text} = {number(new, digits)}{after}."
    )


def step_figure(trace: StepTrace, digits: int = 3) -> Figure:
    """The diagram of ``trace`` (see the module doc) as a ``Figure``, not yet saved.

    Every number is a ``Text`` with ``digits`` significant digits (as ``proplab trace``
    writes them) and a gid naming it, indices from 1: ``x[i]``, ``z{k}[j]``, ``a{k}[j]``,
    ``b{k}[j]``, ``dL/dz{k}[j]``, ``W{k}[i,j]``, ``dL/dW{k}[i,j]``, ``p[j]``,
    ``dL/dp[j]``, ``t``, ``L``. Raises ValueError as :func:`check_drawable` does.
    """
    if not (isinstance(digits, int) and 1 <= digits <= 17):
        raise ValueError(f"digits must be an integer from 1 to 17, got {digits!r}")
    check_drawable(trace)
    layers = _layers(trace)
    counts = [trace.x.shape[1]] + [layer.linear.output.shape[-1] for layer in layers]
    columns = len(counts)
    width = 2 * SIDE + (columns - 1) * GAP + LOSS_GAP + 0.6
    net_height = (max(counts) - 1) * ROW + 2.0  # the outer units' labels and the headers
    title = fit_text(_title(trace, layers, digits), width - 0.4, fontsize=11)
    title_h = 0.25 + 0.21 * title.count("\n")
    biased = all("bias" in layer.linear.params for layer in layers)
    caption_parts = [
        "Above each unit: its weighted input z (z = inputs x weights"
        + (" + b" if biased else "")
        + ") and activation a = f(z); below: dL/dz, the gradient the backward pass brings it"
        + (
            ", and its bias b (for one sample a bias's gradient dL/db is its unit's dL/dz)"
            if biased
            else ""
        )
        + ". On each line: the weight W above, dL/dW below.",
    ]
    # the caption is finished once the weights are placed (it names a layer left bare)
    fig = Figure(figsize=(width, net_height + title_h + 1.5), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    # the network's axes keep one inch per data unit, so a line's angle on the page is
    # the angle its labels are rotated by; _place puts them where they will be saved,
    # up to a shift (the caption's height is known only at the end)
    _place(fig, ax, width, net_height, title_h, 1.5)
    canvas = _Canvas(fig, ax, [], [])
    middle = net_height / 2 - 0.2
    xs = [SIDE + c * GAP for c in range(columns)]
    ys = [_column(n, middle) for n in counts]
    top = middle + (max(counts) - 1) / 2 * ROW + RADIUS + 0.62  # the column headers' line
    loss_xy = (xs[-1] + LOSS_GAP, middle)

    # lines under everything: weights, then the output units' lines to the loss
    for c in range(1, columns):
        for y0 in ys[c - 1]:
            for y1 in ys[c]:
                canvas.lines.append(np.array([[xs[c - 1], y0], [xs[c], y1]]))
    # each output unit's line to the loss runs level first, to carry its p and dL/dp
    # clear of the other outputs' (they converge on the loss)
    stubs = [np.array([[xs[-1], y], [xs[-1] + STUB, y]]) for y in ys[-1]]
    canvas.lines += stubs + [np.array([[xs[-1] + STUB, y], loss_xy]) for y in ys[-1]]
    for seg in canvas.lines:
        ax.plot(seg[:, 0], seg[:, 1], color=LINE_COLOR, lw=1.0, zorder=1)
    for c, column in enumerate(ys):
        for j, y in enumerate(column):
            canvas.taken.append(corners(xs[c], y, RADIUS, RADIUS, 0.0))
            ax.add_patch(
                Circle((xs[c], y), RADIUS, facecolor="white", edgecolor="0.25", lw=1.2, zorder=3)
            )
            ax.text(
                xs[c], y, f"x{j + 1}" if c == 0 else str(j + 1), ha="center", va="center",
                fontsize=FONT - 1, color="0.25", zorder=4,
            )  # fmt: skip
    canvas.taken.append(corners(*loss_xy, RADIUS + 0.02, RADIUS + 0.02, 0.0))
    ax.add_patch(
        FancyBboxPatch(
            (loss_xy[0] - RADIUS, loss_xy[1] - RADIUS), 2 * RADIUS, 2 * RADIUS,
            boxstyle="round,pad=0.02", facecolor="0.93", edgecolor="0.25", lw=1.2, zorder=3,
        )
    )  # fmt: skip
    ax.text(*loss_xy, "L", ha="center", va="center", fontsize=FONT + 1, zorder=4)

    def at_unit(
        x: float, y: float, above: list[tuple[str, str]], below: list[tuple[str, str, str]]
    ) -> None:
        """Forward numbers above the unit (read top down: z, then a), backward below."""
        for r, (s, gid) in enumerate(reversed(above)):
            canvas.keep(
                canvas.text(
                    x, y + RADIUS + 0.06 + r * LINE, s, gid, FORWARD_COLOR, ha="center", va="bottom"
                )
            )
        for r, (s, gid, color) in enumerate(below):
            canvas.keep(
                canvas.text(x, y - RADIUS - 0.06 - r * LINE, s, gid, color, ha="center", va="top")
            )

    headers = ["input\nthe sample"]
    for i, y in enumerate(ys[0]):
        at_unit(xs[0], y, [(f"x = {number(trace.x[0, i], digits)}", f"x[{i + 1}]")], [])
    for k, layer in enumerate(layers, 1):
        z = layer.linear.output[0]
        dz = cast(np.ndarray, layer.linear.grad_output)[0]  # set by the traced backward
        a = None if layer.activation is None else layer.activation.output[0]
        bias = layer.linear.params.get("bias")
        act = (
            "no activation"
            if layer.activation is None
            else type(layer.activation.module).__name__.lower()
        )
        headers.append(f"layer {k}" + (" (output)" if k == len(layers) else "") + f"\n{act}")
        for j, y in enumerate(ys[k]):
            above = [(f"z = {number(z[j], digits)}", f"z{k}[{j + 1}]")]
            if a is not None:
                above.append((f"a = {number(a[j], digits)}", f"a{k}[{j + 1}]"))
            below = [(f"dL/dz = {number(dz[j], digits)}", f"dL/dz{k}[{j + 1}]", BACKWARD_COLOR)]
            if bias is not None:
                below.append((f"b = {number(bias[j], digits)}", f"b{k}[{j + 1}]", FORWARD_COLOR))
            at_unit(xs[k], y, above, below)
    for c, head in enumerate(headers):
        ax.text(xs[c], top, head, ha="center", va="bottom", fontsize=FONT, fontweight="bold")
    loss_name = LOSS_NAMES.get(type(trace.loss_fn), type(trace.loss_fn).__name__)
    ax.text(
        loss_xy[0], top, f"loss\n{loss_name}", ha="center", va="bottom", fontsize=FONT,
        fontweight="bold",
    )  # fmt: skip
    # a target per output is written beside its p; a class index (cross-entropy's) at L
    target = np.asarray(trace.target)
    per_output = target.shape == trace.pred.shape
    at_unit(
        *loss_xy,
        [(f"L = {number(trace.loss, digits)}", "L")],
        [] if per_output else [(f"t = {_target_text(trace, digits)}", "t", FORWARD_COLOR)],
    )

    # each line's numbers: the outputs' first, then the layers from the output back,
    # as the backward pass reaches them
    for j, stub in enumerate(stubs):
        p = f"p = {number(trace.pred[0, j], digits)}"
        if per_output:
            p += f", t = {number(target[0, j], digits)}"
        _on_line(
            canvas, tuple(stub[0]), tuple(stub[1]), p,
            f"dL/dp = {number(trace.grad_pred[0, j], digits)}", (f"p[{j + 1}]", f"dL/dp[{j + 1}]"),
            force=True,
        )  # fmt: skip
    bare = []
    for k in range(len(layers), 0, -1):
        w = layers[k - 1].linear.params["weight"]
        g = layers[k - 1].linear.grads["weight"]
        start, crossed = len(canvas.taken), canvas.crossed
        texts: list[Text] = []
        edges = [(i, j) for i in range(counts[k - 1]) for j in range(counts[k])]
        # the steepest lines have the fewest free places: they choose first
        edges.sort(key=lambda e: -abs(ys[k - 1][e[0]] - ys[k][e[1]]))
        for i, j in edges:
            placed = _on_line(
                canvas, (xs[k - 1], ys[k - 1][i]), (xs[k], ys[k][j]), number(w[i, j], digits),
                number(g[i, j], digits), (f"W{k}[{i + 1},{j + 1}]", f"dL/dW{k}[{i + 1},{j + 1}]"),
            )  # fmt: skip
            if placed is None:
                for t in texts:
                    t.remove()
                del canvas.taken[start:]
                bare.append(k)
                break
            texts += placed
        # every label placed, but over a quarter of them on a crossing: which line each
        # belongs to is a guess (3 inputs to 5 units: 7 of 15; figs22 F13), so none
        if k not in bare and (canvas.crossed - crossed) * CROSSED_SHARE > len(edges):
            for t in texts:
                t.remove()
            del canvas.taken[start:]
            bare.append(k)
    if bare:
        names = " and ".join(f"W{k}" for k in sorted(bare))
        caption_parts.append(
            f"The lines of {names} are too many to label legibly: their weights and "
            "gradients are not written (proplab trace prints them)."
        )
    caption_parts.append(_worked_update(trace, layers, digits))
    caption = fit_text(" ".join(p for p in caption_parts if p), width - 0.5, fontsize=FONT)
    return _finish(fig, ax, title, caption, width, net_height, title_h)


def _place(
    fig: Figure, ax: Axes, width: float, net_height: float, title_h: float, bottom: float
) -> None:
    """Size the figure and put the network's axes ``bottom`` inches from its foot, one
    inch per data unit in both directions."""
    height = title_h + net_height + bottom
    fig.set_size_inches(width, height)
    ax.set_position((0, bottom / height, 1, net_height / height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, net_height)
    ax.axis("off")


def _finish(
    fig: Figure, ax: Axes, title: str, caption: str, width: float, net_height: float,
    title_h: float,
) -> Figure:  # fmt: skip
    """Title, key and caption around the network, the figure sized to hold them."""
    caption_h = 0.2 + 0.17 * (caption.count("\n") + 1)
    key_h = 0.35
    height = title_h + net_height + key_h + caption_h
    _place(fig, ax, width, net_height, title_h, key_h + caption_h)
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / height, va="top")
    fig.legend(
        handles=[
            Patch(color=FORWARD_COLOR, label="forward: values (x, z, a, b, W, p, t, L)"),
            Patch(color=BACKWARD_COLOR, label="backward: gradients (dL/dz, dL/dW, dL/dp)"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, (caption_h + 0.02) / height),
        ncol=2,
        fontsize=FONT,
        frameon=False,
        labelcolor="linecolor",
    )
    fig.text(0.25 / width, (caption_h - 0.1) / height, caption, fontsize=FONT, va="top")
    return fig


def draw_step(trace: StepTrace, path: str | os.PathLike[str], digits: int = 3) -> Path:
    """Draw ``trace`` (one sample of an MLP) as a network diagram; write the PNG to ``path``.

    ``digits``: significant digits of every number. Raises ValueError for a trace it
    cannot draw (:func:`check_drawable`). Returns ``Path(path)``.
    """
    from proplab.runio import TRACE_FIGURE

    fig = step_figure(trace, digits)
    _save(fig, path, metadata={"Source": TRACE_FIGURE})  # so a rerun may replace it
    return Path(path)
