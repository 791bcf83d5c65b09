"""Figures for a run: the lab's comparison figure and the learning curve.

A regression run (targets that are values) gets a learning curve without an accuracy
axis, its test loss beside the training loss; its other figures are
:mod:`proplab.value_plots`'.

Uses matplotlib's object API (``Figure`` + the Agg canvas) rather than
``pyplot``: no global figure state, no GUI backend, nothing left open. The
core never imports this module. Each function writes its PNG atomically and
returns the ``Figure`` so callers (and tests) can inspect it.
"""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, Locator, LogLocator, MaxNLocator, NullLocator

from proplab.runio import write_bytes
from proplab.snapshots import zero_from

# the handout's colours: class 0 red, class 1 blue
CLASS_COLORS = ("#d62728", "#1f77b4")
# class k's marker, in every figure that draws classes and in its legend: red and blue have
# one lightness (a printed report shows one grey) and more hues merge under red-green
# colour blindness, so the shape tells the classes apart where the colour cannot (a11y24
# H1, M2); class k > 9 takes class k % 10's. Held-out points are the same shapes, larger
# and rimmed in black (training points: a white rim).
CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "*", "h", "<", ">")
LOSS_COLOR = "#1f3a93"
ACCURACY_COLOR = "#e07b00"
# the accuracy axis's text: the line's orange is 3.0:1 on white, this shade 4.7:1 (a11y24 L1)
ACCURACY_TEXT_COLOR = "#b05f00"
TEST_LOSS_COLOR = "#e07b00"  # a regression's held-out loss (its figure has no accuracy)
DPI = 120
CHAR_INCHES = 0.075  # width of an average character of 10 pt text (generous: capitals, digits)
SETTLE_PASSES = 4  # layout passes at most before saving a figure that needs them
MARKED_EPOCHS = 30  # runs this short get a marker per epoch: one point alone draws no line
# losses above this are marked at the top edge instead of drawn: a log axis reaching
# toward 1e308 overflows its autoscaling, and would flatten every other epoch anyway
OFF_SCALE = 1e100
# a loss this many times its first epoch's is off the scale too, marked at the top edge as
# in a sweep's curves: a 1e100 cut left the learning part in the bottom tenth (diverge18)
RUNAWAY = 1e2
MAX_OFF_SCALE_MARKS = 40  # at most this many marks, evenly spread (a row of 160 was heavy)


def plain_log_ticks(ax: Any) -> None:
    """Numbers a reader can read values off on a log y axis spanning under three decades.

    Under a decade, matplotlib labels its minor ticks as 2.675x10^-1, 2.65x10^-1, ...:
    eight crowded labels nobody reads at a glance; here five evenly chosen plain numbers.
    From one to three decades it labels only the powers of ten: two labels for a loss
    falling from 1.5 to 0.014 (digits); here 1, 2 and 5 x 10^k as plain numbers (0.02,
    0.05, 0.1, ...), the other minor ticks and their grid kept unlabelled. Wider axes keep
    matplotlib's powers of ten. Call it once the axis has its limits."""
    low, high = ax.get_ylim()
    if ax.get_yscale() != "log" or not 0 < low < high < 1000 * low:
        return
    if high < 10 * low:
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.4g}"))
        return
    ax.yaxis.set_major_locator(LogLocator(10))
    ax.yaxis.set_minor_locator(LogLocator(10, subs=tuple(range(2, 10))))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(
        FuncFormatter(lambda v, _pos: f"{v:g}" if _leading_digit(v) in (2, 5) else "")
    )


def _leading_digit(value: float) -> int | None:
    """The first digit of a tick at d x 10^k (2 for 0.02), or None for any other value."""
    mantissa = value / 10 ** np.floor(np.log10(value))
    digit = round(mantissa)
    return digit if abs(mantissa - digit) < 1e-6 else None


def equal_scales(ratio: float, named: bool, within: float) -> bool:
    """Whether to draw two inputs at equal scales, given ``ratio``, the horizontal span
    over the vertical one: when they share a unit (unnamed: the lab's and the zoo's x1,
    x2; a CSV's ``named`` columns, height in cm and weight in kg, have no common scale)
    and their spans are within ``within`` times of each other (else one would be a
    sliver). Moons and spirals keep their shape."""
    return not named and 1 / within <= ratio <= within


def fit_text(text: str, width: float, fontsize: float = 10.0) -> str:
    """``text`` broken at spaces into lines of at most ``width`` inches at ``fontsize`` points.

    Line breaks already in ``text`` are kept; a single word longer than the
    width stays whole. Titles made of a long experiment title and setting
    names would otherwise run off both edges of the figure.
    """
    chars = max(8, int(width / (CHAR_INCHES * fontsize / 10.0)))
    return "\n".join(
        textwrap.fill(line, chars, break_long_words=False, break_on_hyphens=False) or line
        for line in text.split("\n")
    )


def _save(
    fig: Figure,
    path: str | os.PathLike[str],
    settle: bool | int = False,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write ``fig`` as a PNG at :data:`DPI`, atomically (``metadata``: the PNG's text
    chunks, e.g. ``{"Source": runio.TRACE_FIGURE}``).

    ``settle``: lay the figure out before saving until the axes stop moving (at most
    SETTLE_PASSES times, or ``settle`` times if it is a number; layout only, nothing drawn). Constrained layout needs
    several passes to place titles over fixed-aspect axes (decision boundaries);
    after one, a panel's title sits on the tick marks of the panel above it.
    """
    buf = io.BytesIO()
    if settle:
        settle_layout(fig, SETTLE_PASSES if settle is True else int(settle))
    # a diverged run's loss reaches ~1e308; the log axis' tick maths then overflows harmlessly
    with np.errstate(over="ignore", invalid="ignore"):
        fig.savefig(buf, format="png", dpi=DPI, metadata=metadata)
    write_bytes(path, buf.getvalue())


def settle_layout(fig: Figure, passes: int = SETTLE_PASSES) -> None:
    """Lay ``fig`` out at :data:`DPI` until its axes stop moving (at most ``passes`` times;
    layout only, nothing drawn), as :func:`_save` does before saving: what is placed in
    pixels afterwards (contour labels) sees the axes where the PNG has them."""
    fig.set_dpi(DPI)
    with np.errstate(over="ignore", invalid="ignore"):
        before = None
        engine = fig.get_layout_engine()
        assert engine is not None, "settle_layout lays out a figure made with a layout"
        for _ in range(passes):
            engine.execute(fig)
            now = np.array([ax.get_position().bounds for ax in fig.axes])
            if before is not None and np.abs(now - before).max() < 5e-4:
                break
            before = now


def input_axis_labels(names: Sequence[str] | None, features: int) -> tuple[str, str]:
    """Labels for the axes of the first two inputs: their ``names`` (a CSV's columns, one
    per feature of ``features``), or, without them or with another count, numbered from 1
    as ``--features`` names them ($x_1$, $x_2$)."""
    if names is not None and len(names) == features:
        # a column name is text, not mathtext: a "$" in it is a dollar sign
        first, second = (str(name).replace("$", r"\$") for name in [*names, ""][:2])
        return first, second
    return "$x_1$", "$x_2$"


def _points_2d(
    x: np.ndarray, names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Two plotting coordinates per sample: the first two features, or (index, feature),
    with their axis labels.

    ``names``: one per feature of ``x (n, features)`` (a CSV's column names); without
    them (or with another count) inputs are numbered from 1, as ``--features`` names them
    (x1, x2, x1_x2...)."""
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    first, second = input_axis_labels(names, flat.shape[1])
    if flat.shape[1] > 2:  # say so: the classes may be told apart by the inputs not shown
        note = f" (inputs 1 and 2 of {flat.shape[1]} shown)"
        return flat[:, 0], flat[:, 1], first + note, second
    if flat.shape[1] == 2:
        return flat[:, 0], flat[:, 1], first, second
    return np.arange(len(flat)), flat[:, 0], "sample", first


def comparison_figure(
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    path: str | os.PathLike[str],
    title: str | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[object] | None = None,
) -> Figure:
    """The handout's figure: "Ground truth" and "Predict result" side by side.

    Args:
        x: inputs ``(n, 2)`` (extra features are ignored; one feature is plotted
            against the sample index).
        y: labels ``(n, 1)`` or ``(n,)`` of 0/1.
        pred: predicted probabilities ``(n, 1)`` or ``(n,)``, thresholded at 0.5;
            NaN or inf (a diverged model's) is drawn as "no prediction", grey,
            neither class and not counted as misclassified.
        title: optional figure title (e.g. ``"xor: accuracy 100%"``).
        feature_names: one name per input (a CSV's columns), for the axes; default
            ``x1``, ``x2``.
        class_names: what the file calls class 0 and class 1 (a CSV's labels, as the
            decision boundary's legend names them); default ``class 0``, ``class 1``.
    """
    fig, axes, (u, v, xlabel, ylabel) = comparison_canvas(x, width=10.0, names=feature_names)
    truth = np.asarray(y).reshape(len(u)) > 0.5
    prob = np.asarray(pred, dtype=np.float64).reshape(len(u))
    known = np.isfinite(prob)
    guess = prob > 0.5
    everything = np.ones(len(u), dtype=bool)
    for ax, labels, shown, name in (
        (axes[0], truth, everything, "Ground truth"),
        (axes[1], guess, known, "Predict result"),
    ):
        for cls in (0, 1):
            mask = (labels == bool(cls)) & shown
            ax.scatter(
                u[mask], v[mask], s=42, c=CLASS_COLORS[cls], marker=class_marker(cls),
                edgecolors="white", linewidths=0.6,
            )  # fmt: skip
        comparison_panel(ax, name, u, v, xlabel)
    axes[0].set_ylabel(ylabel)
    if not known.all():
        axes[1].scatter(
            u[~known], v[~known], s=42, c="0.6", marker="X", edgecolors="white", linewidths=0.6
        )
    wrong = (truth != guess) & known
    n_wrong = int(np.count_nonzero(wrong))
    # ring the misclassified points so they stand out in the prediction panel
    axes[1].scatter(
        u[wrong], v[wrong], s=130, facecolors="none", edgecolors="black", linewidths=1.2
    )
    handles = [
        Line2D([], [], marker=class_marker(c), linestyle="", color=CLASS_COLORS[c], label=name)
        for c, name in enumerate(
            [str(n).replace("$", r"\$") for n in class_names]  # '$5' is text, no mathtext
            if class_names is not None and len(class_names) == 2
            else ["class 0", "class 1"]
        )
    ]
    if n_wrong:
        label = f"misclassified ({n_wrong} of {len(u)})"
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor="black",
                markersize=9,
                label=label,
            )
        )
    elif known.all():
        handles.append(Line2D([], [], linestyle="", label=f"all {len(u)} correct"))
    if not known.all():
        n_unknown = int(np.count_nonzero(~known))
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                linestyle="",
                color="0.6",
                label=f"no prediction: NaN/inf ({n_unknown} of {len(u)})",
            )
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    if title:
        fig.suptitle(fit_text(title, 9.6, fontsize=12), fontsize=12)
    _save(fig, path)
    return fig


def class_marker(c: int) -> str:
    """Class ``c``'s marker (:data:`CLASS_MARKERS`, repeating after ten classes)."""
    return CLASS_MARKERS[c % len(CLASS_MARKERS)]


def class_points(c: int, color: str, size: float, held_out: bool = False) -> dict[str, Any]:
    """``scatter`` keywords for class ``c``'s points in ``color``: its marker, a white rim,
    or (``held_out``) a black rim and 1.4 times the area, the test set's points in every
    figure (a shape of their own would have taken one of the classes')."""
    rim = (
        {"edgecolors": "black", "linewidths": 0.8}
        if held_out
        else {"edgecolors": "white", "linewidths": 0.5}
    )
    return {"marker": class_marker(c), "c": color, "s": size * (1.4 if held_out else 1.0), **rim}


def comparison_canvas(
    x: np.ndarray, width: float, names: Sequence[str] | None = None
) -> tuple[Figure, np.ndarray, tuple[np.ndarray, np.ndarray, str, str]]:
    """A comparison figure's canvas, ``width`` inches wide: two panels side by side that
    share their axes, and each sample's two plotting coordinates with their axis labels
    (:func:`_points_2d` of ``x (n, features)`` and the features' ``names``)."""
    fig = Figure(figsize=(width, 5.0), layout="constrained")
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)  # layout="constrained", just above
    engine.set(wspace=0.08)  # keep the two panels apart
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    return fig, axes, _points_2d(x, names)


def comparison_panel(ax: Any, name: str, u: np.ndarray, v: np.ndarray, xlabel: str) -> None:
    """A comparison panel's title, x label, grid and limits: the points ``u``, ``v`` ``(n,)``
    with a 6 % margin."""
    pad_u = 0.06 * max(np.ptp(u), 1e-9)
    pad_v = 0.06 * max(np.ptp(v), 1e-9)
    ax.set_title(name, fontsize=13)
    ax.set_xlabel(xlabel)
    ax.set_xlim(u.min() - pad_u, u.max() + pad_u)
    ax.set_ylim(v.min() - pad_v, v.max() + pad_v)
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)


def _history_arrays(history: Any) -> dict[str, np.ndarray]:
    """Epoch, loss, accuracy arrays from a :class:`~proplab.history.History` or a mapping
    (a mapping without ``accuracy``, a regression's, gets NaN)."""
    if isinstance(history, Mapping):
        out = {k: np.asarray(history[k], dtype=np.float64) for k in ("epoch", "loss")}
        out["accuracy"] = np.asarray(
            history.get("accuracy", np.full(out["loss"].shape, np.nan)), dtype=np.float64
        )
        return out
    return {k: np.asarray(v, dtype=np.float64) for k, v in history.as_arrays().items()}


def learning_curve(
    history: Any,
    path: str | os.PathLike[str],
    title: str = "",
    accuracy_label: str | None = "accuracy",
    test_loss: tuple[Sequence[int] | np.ndarray, np.ndarray] | None = None,
    training_note: str = "",
    held_out: bool = False,
) -> Figure:
    """Loss (log scale) against epoch, accuracy on a twin axis.

    Args:
        history: a ``History`` or a mapping with ``epoch``, ``loss`` and
            ``accuracy`` sequences of length E (one model, not a stack).
        accuracy_label: what the accuracy is called on its axis and in the
            legend (``"training accuracy"`` when a test set was held out);
            None: no accuracy axis (a regression, whose accuracy is NaN).
        test_loss: ``(epochs (T,), losses (T,))``: the held-out loss of the weights
            after that many epochs (full batch: updates), drawn as a second curve at
            epoch ``epochs + 1`` (the history's epoch E starts from the weights after
            E - 1 epochs); the training curve is then called "training loss".
        training_note: how the history's loss and accuracy were measured when that is
            not how the model predicts, added to their legend labels in parentheses
            (``"dropout on"``: fit's own numbers, taken in training mode).
        held_out: a test set was held out, so the loss is the training data's: it is
            called "training loss" (as it is beside a ``test_loss``).
    """
    h = _history_arrays(history)
    epoch, loss, acc = h["epoch"], h["loss"], h["accuracy"]
    loss_label = "training loss" if held_out or test_loss is not None else "loss"
    if training_note:
        loss_label = f"{loss_label} ({training_note})"
    accuracy_legend = f"{accuracy_label} ({training_note})" if training_note else accuracy_label
    fig = Figure(figsize=(7.2, 4.4), layout="constrained")
    ax = fig.subplots()
    # a log scale cannot show 0, NaN or inf, and its autoscaling overflows near
    # 1e308 (a diverging run): plot what it can, mark where divergence happened
    finite = np.isfinite(loss)
    ceiling = _ceiling(loss[finite & (loss > 0)])
    shown = finite & (loss > 0) & (loss < ceiling)
    huge = finite & (loss >= ceiling)
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        ax.axvline(epoch[bad[0]], color="0.35", linestyle="--", linewidth=1.0)
        ax.annotate(
            f"diverged at epoch {int(epoch[bad[0]])}",
            # below the top edge's row of off-scale marks, when there is one
            (epoch[bad[0]], 0.92 if huge.any() else 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=9,
            color="0.3",
        )
    # a very short run: a marker per epoch (a single epoch draws no line at all)
    # (matplotlib's keyword arguments: Any, as its own signatures take them)
    marker: dict[str, Any] = {"marker": "o", "markersize": 4} if len(epoch) <= MARKED_EPOCHS else {}
    ax.plot(epoch[shown], loss[shown], color=LOSS_COLOR, linewidth=1.8, label=loss_label, **marker)
    test_handles: list[Line2D] = []
    test_right = -np.inf
    if test_loss is not None:
        test_handles, test_right = _test_loss(ax, *test_loss, training=(epoch, loss))
    off_scale: dict[str, Any] = {
        "marker": "^",
        "linestyle": "",
        "color": LOSS_COLOR,
        "markersize": 6,
    }
    if huge.any():  # finite but too large to draw: a mark at the top edge, not nothing
        marked = epoch[huge]
        if marked.size > MAX_OFF_SCALE_MARKS:
            marked = marked[
                np.linspace(0, marked.size - 1, MAX_OFF_SCALE_MARKS).round().astype(int)
            ]
        ax.plot(
            marked, np.full(marked.size, 0.985), transform=ax.get_xaxis_transform(),
            clip_on=False, **off_scale,
        )  # fmt: skip
    ax.set_yscale("log")
    off_label = None
    if huge.any():
        off_label = "loss off the scale " + (
            f"(over {RUNAWAY:g}x the first epoch's)"
            if ceiling < OFF_SCALE
            else f"(>= {OFF_SCALE:.0e})"
        )
    if huge.any() and ceiling < OFF_SCALE:
        ax.set_ylim(top=ceiling)  # the curve leaves through the top where it ran away
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{'training loss' if held_out else 'loss'} (log scale)", color=LOSS_COLOR)
    # minor labels too: a loss within one decade is labelled by minor ticks only
    ax.tick_params(axis="y", which="both", colors=LOSS_COLOR)
    ax.grid(True, which="major", color="0.88", linewidth=0.8)
    ax.grid(True, which="minor", axis="y", color="0.95", linewidth=0.5)
    # the default locator's ticks, but never epoch 2.5 of a short run
    ax.xaxis.set_major_locator(MaxNLocator("auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    if len(epoch):
        # a little room right of the last epoch, so the divergence line is not the frame
        right = epoch[-1] + (max(1.0, 0.02 * epoch[-1]) if bad.size else 0.0)
        ax.set_xlim(
            0 if len(epoch) > 1 else epoch[0] - 1,
            # the final model's test loss sits one epoch past the history's last row
            max(right if len(epoch) > 1 else epoch[0] + 1, test_right),
        )
    plain_log_ticks(ax)
    if not (shown.any() or huge.any()):
        # nothing to draw (diverged in its first epoch): say so, with no invented scale
        ax.yaxis.set_major_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
        ax.text(
            0.5, 0.5,
            # (a loss of exactly 0 everywhere is finite, but has no place on a log scale)
            "the loss is 0 at every epoch: 0 has no place on a log scale"
            if len(loss) and np.all(loss == 0)
            else "no finite loss to draw"
            + (f": training diverged in epoch {int(epoch[bad[0]])}" if bad.size else ""),
            transform=ax.transAxes, ha="center", va="center", fontsize=11, color="0.3",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 4},
        )  # fmt: skip
    if accuracy_label is None:  # a regression: the loss is the whole story
        handles = [
            Line2D([], [], color=LOSS_COLOR, linewidth=1.8, label=loss_label, **marker),
            *test_handles,
        ]
        # one axis for both curves: black, not the training curve's colour
        ax.set_ylabel("loss (log scale)", color="black")
        ax.tick_params(axis="y", which="both", colors="black")
        return _finish_curve(fig, ax, handles, off_label, off_scale, title, path)
    twin = ax.twinx()
    # draw the loss above the accuracy: the twin axes would otherwise cover it
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    # a NaN model's "accuracy" (NaN outputs counted as class 0) is not one: not drawn
    shown_acc = np.where(np.isfinite(loss), 100.0 * acc, np.nan)
    twin.plot(epoch, shown_acc, color=ACCURACY_COLOR, linewidth=1.1, alpha=0.8, **marker)
    twin.set_ylim(-3, 103)
    twin.set_ylabel(f"{accuracy_label} (%)", color=ACCURACY_TEXT_COLOR)
    twin.tick_params(axis="y", colors=ACCURACY_TEXT_COLOR)  # the line keeps its orange
    handles = [
        Line2D([], [], color=LOSS_COLOR, linewidth=1.8, label=loss_label, **marker),
        *test_handles,
        Line2D([], [], color=ACCURACY_COLOR, linewidth=1.1, label=accuracy_legend, **marker),
    ]
    return _finish_curve(fig, ax, handles, off_label, off_scale, title, path)


def _ceiling(losses: np.ndarray) -> float:
    """The loss axis' top for the finite, positive ``losses`` (in epoch order): RUNAWAY
    times the first when a later one reaches that (a diverging run), else OFF_SCALE."""
    if losses.size and np.any(losses >= RUNAWAY * losses[0]):
        return float(min(OFF_SCALE, RUNAWAY * losses[0]))
    return OFF_SCALE


def _finish_curve(
    fig: Figure,
    ax: Any,
    handles: list[Line2D],
    off_label: str | None,
    off_scale: dict[str, Any],
    title: str,
    path: str | os.PathLike[str],
) -> Figure:
    """The learning curve's legend (an off-scale entry ``off_label`` when some loss is
    marked at the top edge) and title; save it."""
    if off_label is not None:
        handles.append(Line2D([], [], label=off_label, **off_scale))
    # under the axes, where no curve can run beneath it; in one row while it fits the
    # figure's width (~80 characters), else in two columns, else (two long labels: a
    # mini-batch run's notes) in one
    widths = sorted((len(str(h.get_label())) + 6 for h in handles), reverse=True)
    ncols = len(handles) if sum(widths) <= 80 else 2 if sum(widths[:2]) <= 80 else 1
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)
    ax.set_title(fit_text(title or "Learning curve", 6.4, fontsize=12))
    _save(fig, Path(path))
    return fig


class _ClearOfZero(Locator):
    """A symlog axis' major ticks less those crowding 0: a power of ten in the first quarter
    of the linear part from 0 to ``linthresh`` (a first kept epoch of 8 put "10^0" an
    eighth of the way along it, its label on top of the "0" beside it)."""

    def __init__(self, base: Locator, linthresh: float) -> None:
        self.base, self.linthresh = base, linthresh

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def _keep(self, ticks: Any) -> np.ndarray:
        ticks = np.asarray(ticks, dtype=np.float64)
        return ticks[(ticks <= 0) | (ticks >= self.linthresh / 4)]

    # matplotlib's stubs say Sequence[float]; its own locators return arrays, as these do
    def __call__(self) -> np.ndarray:  # type: ignore[override]
        return self._keep(self.base())

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:  # type: ignore[override]
        return self._keep(self.base.tick_values(vmin, vmax))


# the gradient sizes' axis spans at most this many decades below the largest: float64
# resolves ~16 decades, and one saturated layer at 5e-305 (sigmoids of inputs ~1e6) drew
# the axis from 1e-300 with ticks 41 decades apart, the other layers a flat line on top
GRADIENT_DECADES = 15


def gradient_sizes_figure(
    epochs: np.ndarray,
    sizes: np.ndarray,
    layers: list[str],
    path: str | os.PathLike[str],
    title: str = "",
) -> Figure:
    """Each layer's mean |dL/dW| against epoch, log scale: one line per weighted layer.

    Args:
        epochs: ``(E,)`` the epochs the weights were kept at (after that many epochs).
        sizes: ``(E, L)`` mean absolute weight gradient of each of the L layers.
        layers: L legend labels, input side first (``"1: Linear 2->10"``).

    The axis spans at most GRADIENT_DECADES below the largest size; a layer's sizes
    under that floor are drawn dotted on the bottom edge (a legend entry says so), as the
    sweep curves mark a runaway loss on the top edge.
    """
    epochs = np.asarray(epochs, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(len(epochs), len(layers))
    fig = Figure(figsize=(7.2, 4.4), layout="constrained")
    ax = fig.subplots()
    # input side dark to output side light (viridis stops short of its pale yellow)
    shades = [colormaps["viridis"](0.85 * i / max(1, len(layers) - 1)) for i in range(len(layers))]
    drawable = sizes[np.isfinite(sizes) & (sizes > 0)]
    floor = float(drawable.max()) * 10.0**-GRADIENT_DECADES if drawable.size else 0.0
    under = False  # some layer's sizes lie under the floor: dotted on the bottom edge
    for column, (label, shade) in enumerate(zip(layers, shades, strict=True)):
        values = sizes[:, column]
        low = np.isfinite(values) & (values > 0) & (values < floor)
        if low.any():
            under = True
            ax.plot(epochs, np.where(low, floor, np.nan), color=shade, linewidth=2.4,
                    linestyle=":", clip_on=False, zorder=3)  # fmt: skip
        # a log scale: no 0 nor NaN (> 0 too: with nothing drawable the floor is 0, and a
        # short run's zeros, marked and unclipped, sat 1e5 px below the axes)
        shown = np.isfinite(values) & (values > 0) & (values >= floor)
        # a single drawable point draws no line: a marker (a run whose gradients are 0 after
        # its first kept epoch keeps that epoch's sizes visible)
        marker: dict[str, Any] = {}
        # (an empty line gets none: unclipped markers of no point count as one at the
        # figure's corner in the layout, which then left a gap above the legend)
        if shown.any() and (len(epochs) <= MARKED_EPOCHS or shown.sum() == 1):
            marker = {"marker": "o", "markersize": 3 if shown.sum() > 1 else 5, "clip_on": False}
        ax.plot(
            epochs[shown], values[shown], color=shade, linewidth=1.6,
            label=label + (" (input side)" if column == 0 and len(layers) > 1 else ""),
            **marker,
        )  # fmt: skip
    if not drawable.size:
        # nothing positive to scale to: fixed limits, or matplotlib warns that the data
        # "cannot be log-scaled" (the note below says why the axes are empty)
        ax.set_ylim(1.0, 10.0)
    ax.set_yscale("log")
    # epochs on a log scale past the first kept one (linear from 0 to it): the first
    # epochs, where the gradients change most, would be a sliver at the left edge
    positive = epochs[epochs > 0]
    if positive.size:
        ax.set_xscale("symlog", linthresh=float(positive.min()), linscale=0.5)
        ax.xaxis.set_major_locator(_ClearOfZero(ax.xaxis.get_major_locator(), positive.min()))
    # epochs, not updates: a mini-batch epoch makes several (gradients.csv's epoch E holds
    # the weights after E epochs, E updates only in a full-batch run)
    ax.set_xlabel("epoch (the weights after that many epochs; log scale after the first)")
    ax.set_ylabel("mean |dL/dW| (log scale)")
    ax.grid(True, which="major", color="0.88", linewidth=0.8)
    ax.grid(True, which="minor", axis="y", color="0.95", linewidth=0.5)
    if len(epochs) > 1:
        ax.set_xlim(epochs[0], epochs[-1])
    if under:  # the dotted lines just above the frame, named over them
        ax.set_ylim(floor / 10**0.4, None)
        names = ", ".join(
            f"layer {c + 1}" for c in range(len(layers)) if (sizes[:, c] < floor).any()
        )
        ax.annotate(f"dotted: {names} under {floor:.0e} (about 0: saturated units pass none back)",
                    xy=(0.01, floor), xycoords=("axes fraction", "data"), xytext=(0, 4),
                    textcoords="offset points", fontsize=8, color="0.25")  # fmt: skip
    plain_log_ticks(ax)
    dead = zero_from(epochs, sizes)
    if dead is not None:
        # 0 has no place on a log scale: without this the axes would be empty from there on
        ax.text(
            0.5, 0.5,
            f"every weight gradient is exactly 0 at each kept epoch from {dead:,} on\n(0 has "
            "no place on a log scale): no gradient passes back\nthrough the units "
            "(saturated, or dead ReLUs)",
            transform=ax.transAxes, ha="center", va="center", fontsize=10, color="0.25",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7"},
        )  # fmt: skip
    fig.legend(loc="outside lower center", ncols=min(3, len(layers)), frameon=False)
    ax.set_title(fit_text(title or "Gradient size per layer", 6.4, fontsize=12))
    _save(fig, Path(path))
    return fig


# a test loss that ends this much above its lowest has turned up: the curve marks its lowest
TURNED_UP = 1.1


def _test_loss(
    ax: Any,
    updates: Sequence[int] | np.ndarray,
    losses: np.ndarray,
    training: tuple[np.ndarray, np.ndarray],
) -> tuple[list[Line2D], float]:
    """Draw a regression's test loss on the learning curve's axes (see
    :func:`learning_curve`); return its legend entries and its last drawn epoch.

    Overfitting: where it ends :data:`TURNED_UP` times its lowest or more while the
    training loss (``(epochs (E,), losses (E,))``) fell on after that lowest, the lowest
    is ringed and the legend gives its epoch: there the model fitted the test data best,
    and training on fitted the training data's noise. (A diverged run's losses both rise:
    nothing is ringed.)"""
    at = np.asarray(updates, dtype=np.float64).reshape(-1) + 1
    values = np.asarray(losses, dtype=np.float64).reshape(-1)
    drawn = np.isfinite(values) & (values > 0) & (values < OFF_SCALE)
    # a few points (a short run, or only the final model's): each marked
    marker: dict[str, Any] = {"marker": "o", "markersize": 4} if len(at) <= MARKED_EPOCHS else {}
    style: dict[str, Any] = {
        "color": TEST_LOSS_COLOR,
        "linewidth": 1.4,
        "label": "test loss",
        **marker,
    }
    ax.plot(at[drawn], values[drawn], **style)
    handles = [Line2D([], [], **style)]
    if not drawn.any():
        return handles, -np.inf
    at, values = at[drawn], values[drawn]
    lowest = int(np.argmin(values))
    epochs, train = training
    then = train[epochs == at[lowest]]  # the training loss of the same weights
    if (
        values[-1] >= TURNED_UP * values[lowest]
        and then.size
        and np.isfinite(train[-1])
        and train[-1] < then[0]
    ):
        ring: dict[str, Any] = {
            "marker": "o",
            "markersize": 9,
            "markerfacecolor": "none",
            "linestyle": "",
        }
        ring.update(markeredgecolor="black", markeredgewidth=1.3)
        ax.plot(at[lowest], values[lowest], **ring)
        label = f"lowest test loss ({values[lowest]:.3g}, epoch {int(at[lowest]):,})"
        handles.append(Line2D([], [], label=label, **ring))
    return handles, float(at[-1])
