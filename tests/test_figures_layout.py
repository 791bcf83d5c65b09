"""Figures under unusual but legitimate inputs: measured, not just drawn.

Each test draws a figure the way proplab saves it (the PNG is written), then
measures the artists' boxes in pixels at the saved DPI: text that must not
overlap, must stay inside the figure, data that must be visible.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import imread

from proplab import plots
from proplab.train import History


def _renderer(fig):
    """A renderer at the saved DPI, for a figure whose layout was fixed when it was saved."""
    fig.set_dpi(plots.DPI)
    return FigureCanvasAgg(fig).get_renderer()


def _inside(fig, box, slack: float = 1.0) -> bool:
    width, height = fig.get_size_inches() * fig.dpi
    return (
        box.x0 >= -slack
        and box.y0 >= -slack
        and box.x1 <= width + slack
        and box.y1 <= height + slack
    )


def _overlapping(boxes) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].width and boxes[j].width and boxes[i].overlaps(boxes[j])
    ]


def _history(losses, accs) -> History:
    h = History()
    for i, (loss, acc) in enumerate(zip(losses, accs, strict=True), start=1):
        h.epoch.append(i)
        h.loss.append(loss)
        h.accuracy.append(acc)
        h.wall_time.append(i * 1e-4)
    return h


# --- a run's learning curve --------------------------------------------------------------


def test_a_one_epoch_run_shows_its_point_on_whole_epochs(tmp_path: Path):
    fig = plots.learning_curve(_history([0.27], [0.5]), tmp_path / "lc.png", "xor: 1 epoch")
    ax, twin = fig.axes
    (line,) = ax.get_lines()
    assert line.get_marker() == "o"  # a single point: without a marker nothing is drawn
    low, high = ax.get_xlim()
    assert low < 1 < high and 1 - low > 0.2 and high - 1 > 0.2  # not stuck to the frame
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks)  # no epoch 0.5
    assert imread(tmp_path / "lc.png").shape[:2] == (528, 864)


def test_a_short_run_has_integer_epoch_ticks_and_coloured_minor_labels(tmp_path: Path):
    fig = plots.learning_curve(_history([0.2766, 0.2575], [0.5, 0.5]), tmp_path / "lc.png")
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert all(float(t).is_integer() for t in ax.get_xticks() if low <= t <= high)
    # the loss spans less than a decade: its labels are the minor ones, in the loss colour
    renderer = _renderer(fig)
    minor = [t for t in ax.yaxis.get_minorticklabels() if t.get_text() and t.get_visible()]
    minor = [t for t in minor if t.get_window_extent(renderer).width > 0]
    assert minor
    assert {t.get_color() for t in minor} == {plots.LOSS_COLOR}


def test_the_legend_never_covers_a_curve(tmp_path: Path):
    # a loss falling straight through the right middle, where the legend used to sit
    epochs = np.arange(1, 201)
    losses = np.geomspace(1.0, 1e-4, epochs.size)
    fig = plots.learning_curve(_history(losses.tolist(), [1.0] * 200), tmp_path / "lc.png")
    renderer = _renderer(fig)
    ax = fig.axes[0]
    legends = fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
    assert len(legends) == 1
    box = legends[0].get_window_extent(renderer)
    assert not box.overlaps(ax.get_window_extent(renderer))  # outside the axes altogether
    assert _inside(fig, box)


def test_a_diverged_run_marks_its_epoch_off_the_frame(tmp_path: Path):
    losses = [10.0 ** (8 * i) for i in range(20)] + [math.inf]
    fig = plots.learning_curve(_history(losses, [0.5] * 21), tmp_path / "div.png")
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert np.all(np.isfinite(ax.get_ylim()))
    (vline,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert vline.get_xdata()[0] == 21 < high  # the dashed line is not hidden by the frame


def test_long_titles_are_wrapped_inside_the_figure(tmp_path: Path):
    title = "csv/a_rather_long_file_name.csv: " + ", ".join(f"setting number {i}" for i in range(8))
    fig = plots.learning_curve(_history([0.3, 0.2], [0.5, 1.0]), tmp_path / "lc.png", title)
    renderer = _renderer(fig)
    assert _inside(fig, fig.axes[0].title.get_window_extent(renderer))
    x = np.random.default_rng(0).uniform(size=(10, 2))
    y = (x[:, 0] > 0.5).astype(int)
    fig = plots.comparison_figure(x, y, y, tmp_path / "cmp.png", title=title * 2)
    renderer = _renderer(fig)
    assert _inside(fig, fig._suptitle.get_window_extent(renderer))
