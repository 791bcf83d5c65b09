"""Figures under unusual but legitimate inputs: measured, not just drawn.

Each test draws a figure the way proplab saves it (the PNG is written), then
measures the artists' boxes in pixels at the saved DPI: text that must not
overlap, must stay inside the figure, data that must be visible.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.contour import ContourSet
from matplotlib.image import imread
from test_plots import _history  # a History of given losses and accuracies

from proplab import plots, sweep_boundaries, sweep_dots, sweep_plots, value_plots, zoo_plots
from proplab.data import generate_xor_easy
from proplab.sweep_boundaries import BoundaryPanel
from proplab.sweep_dots import DotSet
from proplab.sweep_plots import CurveSet


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


def test_a_short_run_has_integer_epoch_ticks_and_coloured_loss_labels(tmp_path: Path):
    fig = plots.learning_curve(_history([0.2766, 0.2575], [0.5, 0.5]), tmp_path / "lc.png")
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert all(float(t).is_integer() for t in ax.get_xticks() if low <= t <= high)
    # the loss spans less than a decade: plain numbers (plain_log_ticks), in the loss colour
    renderer = _renderer(fig)
    shown = [t for t in ax.yaxis.get_ticklabels(which="both") if t.get_text() and t.get_visible()]
    shown = [t for t in shown if t.get_window_extent(renderer).width > 0]
    assert len(shown) >= 2
    assert {t.get_color() for t in shown} == {plots.LOSS_COLOR}


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


def test_a_run_diverged_in_its_first_epoch_says_there_is_nothing_to_draw(tmp_path: Path):
    # diverge18: empty axes over an invented 1-10 loss scale, and only the dashed line
    fig = plots.learning_curve(_history([math.nan], [math.nan]), tmp_path / "div.png")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "no finite loss to draw: training diverged in epoch 1" in texts
    assert list(ax.get_yticks()) == [] and list(ax.get_yticks(minor=True)) == []
    assert imread(tmp_path / "div.png").shape[2] == 4  # written
    # one finite point: drawn, with its scale, and no such text
    fig = plots.learning_curve(_history([0.5, math.nan], [0.5, math.nan]), tmp_path / "d2.png")
    assert not any(
        "nothing" in t.get_text() or "no finite" in t.get_text() for t in fig.axes[0].texts
    )
    assert len(fig.axes[0].get_yticks()) > 0
    fig = plots.learning_curve(_history([0.0, 0.0], [1.0, 1.0]), tmp_path / "zero.png")
    assert "the loss is 0 at every epoch: 0 has no place on a log scale" in [
        t.get_text() for t in fig.axes[0].texts
    ]  # (review18: "no finite loss" for a loss of exactly 0)


def _y_labels(fig, ax) -> list[str]:
    """The y tick labels the saved figure shows (minor ones too), bottom to top."""
    renderer = _renderer(fig)
    low, high = ax.get_ylim()
    shown = [
        (t.get_position()[1], t.get_text())
        for t in ax.yaxis.get_ticklabels(which="both")
        if t.get_text() and t.get_visible() and t.get_window_extent(renderer).width > 0
    ]
    return [text for y, text in sorted(shown) if low <= y <= high]


# `proplab train --dataset digits` (seed 0): the loss falls from 1.52 to 0.0141 in 20 epochs
DIGITS_LOSS = [1.521, 0.4672, 0.2338, 0.165, 0.1294, 0.09905, 0.07778, 0.07356, 0.06291, 0.05735,
               0.04528, 0.03772, 0.03693, 0.03317, 0.02545, 0.02103, 0.02056, 0.01608, 0.01406,
               0.01494]  # fmt: skip


def test_a_loss_over_two_decades_is_labelled_at_1_2_and_5(tmp_path: Path):
    # matplotlib labelled only 10^0 and 10^-1: no value could be read off the curve
    history = _history(DIGITS_LOSS, [0.9] * len(DIGITS_LOSS))
    fig = plots.learning_curve(history, tmp_path / "lc.png")
    ax = fig.axes[0]
    assert _y_labels(fig, ax) == ["0.02", "0.05", "0.1", "0.2", "0.5", "1"]
    # every label stands at its value (a minor tick at 0.02, not 0.03)
    ticks = {t.get_text(): t.get_position()[1] for t in ax.yaxis.get_ticklabels(which="both")}
    assert all(ticks[text] == pytest.approx(float(text)) for text in _y_labels(fig, ax))


def test_gradient_sizes_over_two_decades_are_labelled_at_1_2_and_5(tmp_path: Path):
    epochs = np.array([0.0, 1.0, 10.0, 100.0])
    sizes = np.array([[0.3, 0.02], [0.2, 0.01], [0.05, 0.004], [0.01, 0.003]])  # (E, L)
    fig = plots.gradient_sizes_figure(epochs, sizes, ["1: Linear", "2: Linear"], tmp_path / "g.png")
    labels = _y_labels(fig, fig.axes[0])
    assert {"0.005", "0.01", "0.02", "0.05", "0.1", "0.2"} <= set(labels)
    assert len(labels) <= 8  # 1, 2 and 5 only: not a label on every minor tick


def test_a_loss_over_five_decades_keeps_powers_of_ten_only(tmp_path: Path):
    losses = np.geomspace(0.25, 2e-6, 50).tolist()
    fig = plots.learning_curve(_history(losses, [0.9] * 50), tmp_path / "lc.png")
    labels = _y_labels(fig, fig.axes[0])
    assert len(labels) == 5  # 10^-5 ... 10^-1, one a decade: nine a decade would crowd
    assert all(text.startswith("$\\mathdefault{10^{") for text in labels), labels


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


def test_a_csv_deep_in_folders_keeps_its_lab_figure_titles_inside(tmp_path: Path, monkeypatch):
    # the whole path was the titles' first "word", which fit_text cannot break: it ran off
    # both edges of learning_curve.png; the run's other figures name the file alone
    from proplab import run_figures
    from proplab.config import RunConfig

    folder = tmp_path / "home" / "student" / "courses" / "neural-networks-2026" / "lab3" / "data"
    folder.mkdir(parents=True)
    csv = folder / "body_measurements.csv"
    csv.write_text("height,weight,tall\n160,50,0\n180,80,1\n165,70,0\n185,60,1\n")
    figures = {}

    def keeping(name: str, draw):
        def keep(*args, **kwargs):
            figures[name] = draw(*args, **kwargs)
            return figures[name]

        return keep

    for name in ("comparison_figure", "learning_curve"):
        monkeypatch.setattr(plots, name, keeping(name, getattr(plots, name)))
    cfg = RunConfig(dataset=str(csv), label="tall")
    x = np.array([[160.0, 50.0], [180.0, 80.0], [165.0, 70.0], [185.0, 60.0]])
    y = np.array([[0], [1], [0], [1]])
    history = _history([0.3, 0.2], [0.5, 1.0])
    run_figures.lab_figures(tmp_path, cfg, history, x, y, y * 0.9, 1.0)
    curve, comparison = figures["learning_curve"], figures["comparison_figure"]
    for fig, title in ((curve, curve.axes[0].title), (comparison, comparison._suptitle)):
        assert title.get_text().startswith("body_measurements: 2-10-10-1 sigmoid")
        assert _inside(fig, title.get_window_extent(_renderer(fig)))


def test_a_diverged_run_s_comparison_says_whose_predictions_it_shows(tmp_path, monkeypatch):
    # diverge18: "accuracy n/a (diverged)" above "misclassified (10 of 21)": the figure
    # draws the final model's (finite) predictions, and now says so
    from proplab import run_figures
    from proplab.config import RunConfig

    titles = []

    def keep(*args, **kwargs):
        titles.append(kwargs["title"])
        return draw(*args, **kwargs)

    draw = plots.comparison_figure
    monkeypatch.setattr(plots, "comparison_figure", keep)
    x, y = generate_xor_easy()
    history = _history([0.3, math.inf], [0.5, 0.5])
    run_figures.lab_figures(tmp_path, RunConfig(), history, x, y, np.full(y.shape, 1e150), None)
    run_figures.lab_figures(tmp_path, RunConfig(), history, x, y, np.full(y.shape, np.nan), None)
    assert [t.split(", accuracy ")[1] for t in titles] == [
        "n/a (diverged; the final model's predictions shown)",
        "n/a (diverged)",
    ]


# --- a sweep's decision boundaries -------------------------------------------------------


def _panels(titles: list[str], size: int = 21) -> list[BoundaryPanel]:
    x = np.random.default_rng(0).uniform(size=(30, 2))
    y = (x[:, 0] > x[:, 1]).astype(float)
    u, v, points = sweep_boundaries.boundary_grid(x, size=size)
    prob = (points[:, 0] > points[:, 1]).astype(float).reshape(v.size, u.size)
    return [BoundaryPanel(t, u, v, prob, x, y) for t in titles]


def _boundary_axes(fig):
    return [a for a in fig.axes if a.axison and a.get_label() != "<colorbar>" and a.get_title()]


def test_a_panel_over_a_shorter_row_keeps_its_tick_values(tmp_path: Path):
    # a dataset with fewer finished settings makes a shorter row; on one shared scale the
    # tick values under the panel above its gap were hidden (only the last row had them)
    rows = [_panels(["a", "b"]), _panels(["c"])]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", ["p", "q"])
    fig.canvas.draw()
    for ax in _boundary_axes(fig):
        shown = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        spec = ax.get_subplotspec()
        below = any(
            o.get_subplotspec().colspan == spec.colspan
            and o.get_subplotspec().rowspan.start > spec.rowspan.start
            for o in _boundary_axes(fig)
        )
        assert bool(shown) != below, f"{ax.get_title()}: tick values {shown}, panel below: {below}"


@pytest.mark.slow  # a figure of 9 panels laid out several times: ~2.5 s
def test_wrapped_boundary_rows_keep_titles_off_the_panel_above(tmp_path: Path):
    # 9 settings wrap into lines of 5 and 4: the second line's titles sat on the tick
    # marks of the first (the layout had not settled before saving)
    rows = [_panels([f"lr {i}\n52.4 %" for i in range(9)], size=5)]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", ["XOR"])
    saved = np.array([a.get_position().bounds for a in fig.axes])
    fig.savefig(io.BytesIO(), format="png", dpi=plots.DPI)  # one more layout pass
    again = np.array([a.get_position().bounds for a in fig.axes])
    # the rows were saved where they settle (matplotlib keeps nudging columns sideways)
    assert np.abs(saved[:, [1, 3]] - again[:, [1, 3]]).max() < 1e-3

    renderer = _renderer(fig)
    axes = _boundary_axes(fig)
    assert len(axes) == 9
    gap = 2 * plots.DPI / 72  # 2 points
    checked = 0
    for below in axes:
        title = below.title.get_window_extent(renderer)
        for above in axes:
            box = above.get_window_extent(renderer)
            if box.y0 < title.y1 or not (box.x0 < title.x1 and title.x0 < box.x1):
                continue
            ticks = [t.get_window_extent(renderer) for t in above.xaxis.get_ticklines()]
            lowest = min([box.y0] + [t.y0 for t in ticks if t.height > 0])
            assert title.y1 + gap <= lowest, (below.get_title(), above.get_title())
            checked += 1
    assert checked >= 3  # every panel of row 2 has one above it


def test_csv_columns_name_the_boundary_axes_beside_the_row_label(tmp_path: Path):
    # a CSV's panels name their inputs (found by review: which column is horizontal?):
    # the horizontal one under the lowest panel of each column, the vertical one left of
    # a row's first panel, again where the names change; the dataset's bold row label
    # stands left of that name, both inside the figure and apart
    import dataclasses

    def named(names, n=2):
        return [dataclasses.replace(p, axis_names=names) for p in _panels(["a", "b"][:n])]

    rows = [named(("height", "weight")), named(("age", "income")), _panels(["a", "b"])]
    labels = ["people.csv", "money.csv", "XOR"]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", labels)
    axes = _boundary_axes(fig)
    assert [(a.get_xlabel(), a.get_ylabel()) for a in axes] == [
        ("height", "weight"),  # the row below has other names
        ("height", ""),
        ("age", "income"),  # the lab row below has no names
        ("age", ""),
        ("x1", "x2"),  # no input names: x1 and x2, as the comparison figure (report21 L6)
        ("x1", ""),
    ]
    renderer = _renderer(fig)
    bold = {t.get_text(): t for a in axes for t in a.texts}
    assert sorted(bold) == ["XOR", "money.csv", "people.csv"]
    for row, name in ((0, "people.csv"), (2, "money.csv")):
        label = bold[name].get_window_extent(renderer)
        column = axes[row].yaxis.label.get_window_extent(renderer)
        assert _inside(fig, label) and label.x1 <= column.x0  # left of "weight", not on it
        low, high = axes[row].get_ylim()  # (a tick beyond the limits, as -0.2, is not drawn)
        ticks = [
            t.get_window_extent(renderer)
            for t in axes[row].get_yticklabels()
            if low <= t.get_position()[1] <= high and t.get_text()
        ]
        assert ticks and column.x1 <= min(t.x0 for t in ticks)  # and the name off the ticks


def test_two_dataset_rows_keep_titles_off_the_row_above(tmp_path: Path):
    # the lab's grids: one row per dataset, no wrapping; with a single layout pass the
    # second row's titles touched the first row's tick marks
    settings = [f"hidden {h}\n100.0 %" for h in (2, 4, 10, 32)]
    rows = [_panels(settings), _panels(settings)]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", ["linear", "XOR"])
    renderer = _renderer(fig)
    axes = _boundary_axes(fig)
    assert len(axes) == 8
    gap = 2 * plots.DPI / 72  # 2 points
    for below, above in zip(axes[4:], axes[:4], strict=True):
        title = below.title.get_window_extent(renderer)
        ticks = [t.get_window_extent(renderer) for t in above.xaxis.get_ticklines()]
        lowest = min([above.get_window_extent(renderer).y0] + [t.y0 for t in ticks if t.height])
        assert title.y1 + gap <= lowest, below.get_title()


def test_long_setting_names_without_commas_wrap_and_never_overlap(tmp_path: Path):
    names = [
        "sigmoid in every hidden layer, the laboratory default setting",
        "hyperbolic tangent in every hidden layer instead of the sigmoid",
        "rectified linear units which may die when the learning rate is high",
        "leaky rectified linear units with a small negative slope",
    ]
    title = "A very long experiment title that goes on and on to see whether it overflows: " * 2
    fig = sweep_boundaries.decision_boundaries(
        [_panels([f"{n}\n100.0 %" for n in names])], tmp_path / "b.png", title, ["XOR"]
    )
    renderer = _renderer(fig)
    titles = [a.title.get_window_extent(renderer) for a in _boundary_axes(fig)]
    assert len(titles) == 4 and _overlapping(titles) == []
    assert all(_inside(fig, t) for t in titles)
    assert _inside(fig, fig._suptitle.get_window_extent(renderer))


# --- a sweep's final accuracies and learning curves --------------------------------------


def _level_boxes(fig, renderer):
    return [t.get_window_extent(renderer) for t in fig.axes[0].get_xticklabels() if t.get_text()]


def test_three_settings_named_as_in_the_lab_keep_level_labels_apart(tmp_path: Path):
    # the lab's no_activation experiment: "none in hidden layers" ran into its neighbour
    names = ["sigmoid (lab)", "none in hidden layers", "none anywhere (lr 0.1)"]
    sets = [DotSet(n, ds, [1.0, 0.98]) for n in names for ds in ("linear", "XOR")]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png", title="Without activations")
    renderer = _renderer(fig)
    boxes = _level_boxes(fig, renderer)
    assert len(boxes) == 3 and _overlapping(boxes) == []
    assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == {0.0}
    assert all(_inside(fig, b) for b in boxes)
    height, width = imread(tmp_path / "a.png").shape[:2]
    assert width == round(fig.get_size_inches()[0] * plots.DPI)


def test_very_long_names_are_wrapped_not_run_off_the_figure(tmp_path: Path):
    names = [
        f"{act} in every hidden layer, a setting with a very long descriptive name {i}"
        for i, act in enumerate(["sigmoid", "tanh", "relu", "leaky relu", "identity", "none"])
    ]
    title = "A very long experiment title that goes on and on: final accuracy " * 2
    few = [DotSet(n, "XOR", [1.0, 0.5]) for n in names[:3]]
    many = [DotSet(n, "XOR", [1.0, 0.5]) for n in names]
    for sets in (few, many):
        fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png", title=title)
        renderer = _renderer(fig)
        ax = fig.axes[0]
        assert _inside(fig, ax.title.get_window_extent(renderer))
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        assert all(_inside(fig, t.get_window_extent(renderer)) for t in labels)
        width, _ = fig.get_size_inches()
        assert ax.get_position().width * width > 2.0  # the axes kept room for the dots
        if len(sets) == 3:
            assert _overlapping([t.get_window_extent(renderer) for t in labels]) == []
        else:  # slanted: neighbours are apart across the slant by more than a label's depth
            spacing = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]
            angle = math.radians(labels[0].get_rotation())
            lines = max(t.get_text().count("\n") + 1 for t in labels)
            depth = lines * 1.25 * labels[0].get_fontsize() * fig.dpi / 72
            assert spacing * math.sin(angle) > depth


def test_twelve_short_labels_spread_in_rows_under_the_panels(tmp_path: Path):
    rng = np.random.default_rng(0)
    rates = ["100", "30", "10", "3", "1", "0.3", "0.1", "0.03", "0.01", "0.003", "1e-3", "3e-4"]
    curves = {
        ds: [CurveSet(r, [rng.uniform(0.1, 1.0, 50)]) for r in rates] for ds in ("XOR", "linear")
    }
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", "lr: curves", "lr")
    renderer = _renderer(fig)
    legend = fig.legends[0].get_window_extent(renderer)
    ax = fig.axes[0].get_window_extent(renderer)
    assert legend.height < 0.6 * ax.height  # a 12-row column was taller than the panels
    assert _inside(fig, legend)
    assert fig.legends[0]._ncols >= 4


# --- a run's decision boundary and confusion matrix (zoo sets, CSV files) ----------------


def _moons(n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, np.pi, n // 2)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])
    return np.concatenate([upper, lower]), np.repeat([0, 1], n // 2)


def _by_half_plane(grid: np.ndarray) -> np.ndarray:
    return (grid[:, 1:] < 0.25).astype(float)  # P(class 1): below y = 0.25


def test_moons_keep_their_shape_and_the_legend_covers_no_sample(tmp_path: Path):
    x, y = _moons()  # x0 spans 3 units, x1 1.5: a free aspect stretched them vertically
    fig = zoo_plots.decision_boundary(_by_half_plane, x, y, tmp_path / "b.png", title="moons")
    ax = fig.axes[0]
    renderer = _renderer(fig)
    box = ax.get_window_extent(renderer)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    # one unit of x0 is as long on screen as one unit of x1
    assert box.width / (x1 - x0) == pytest.approx(box.height / (y1 - y0), rel=0.02)
    legends = fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
    assert len(legends) == 1
    legend = legends[0].get_window_extent(renderer)
    points = ax.transData.transform(x)
    inside = (points[:, 0] >= legend.x0) & (points[:, 0] <= legend.x1)
    inside &= (points[:, 1] >= legend.y0) & (points[:, 1] <= legend.y1)
    assert not inside.any()
    assert _inside(fig, legend)
    image = imread(tmp_path / "b.png")
    assert image.shape[:2] == tuple(round(v * plots.DPI) for v in fig.get_size_inches()[::-1])


def test_columns_on_far_apart_scales_get_a_square_panel(tmp_path: Path):
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=60) * 1000, rng.normal(size=60)])
    y = (x[:, 0] > 0).astype(int)
    fig = zoo_plots.decision_boundary(lambda g: (g[:, :1] > 0) * 1.0, x, y, tmp_path / "b.png")
    box = fig.axes[0].get_window_extent(_renderer(fig))
    assert 0.6 < box.width / box.height < 1.7  # not a sliver


def test_twelve_classes_get_a_legend_of_distinct_colours(tmp_path: Path):
    angle = np.repeat(np.arange(12) * np.pi / 6, 5)
    x = np.column_stack([np.cos(angle), np.sin(angle)]) * 3
    y = np.repeat(np.arange(12), 5)

    def sectors(grid: np.ndarray) -> np.ndarray:
        k = np.round(np.arctan2(grid[:, 1], grid[:, 0]) / (np.pi / 6)).astype(int) % 12
        return np.eye(12)[k]

    fig = zoo_plots.decision_boundary(sectors, x, y, tmp_path / "b.png")
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [f"class {c} (train)" for c in range(12)]
    colours = {tuple(np.round(h.get_facecolor()[0], 3)) for h in legend.legend_handles}
    assert len(colours) == 12
    assert _inside(fig, legend.get_window_extent(_renderer(fig)))


def test_a_three_class_confusion_matrix_keeps_its_whole_title(tmp_path: Path):
    matrix = np.array([[43, 0, 0], [0, 52, 0], [0, 0, 55]])
    title = "three, training set: accuracy 100.00%"
    fig = zoo_plots.confusion_matrix_figure(matrix, tmp_path / "cm.png", title=title)
    ax = fig.axes[0]
    assert ax.get_title().replace("\n", " ") == title
    # clear of both edges by 3 pixels (it touched them, its first letter cut)
    assert _inside(fig, ax.title.get_window_extent(_renderer(fig)), slack=-3)


def test_a_confusion_matrix_s_long_class_names_do_not_run_into_each_other(tmp_path: Path):
    # csv18: "setosa versicolor virginica" printed as "versicolorvirginica"
    matrix = np.array([[8, 0, 0], [0, 8, 0], [0, 1, 7]])
    names = ["setosa", "versicolor", "virginica"]
    fig = zoo_plots.confusion_matrix_figure(matrix, tmp_path / "cm.png", class_names=names)
    renderer = _renderer(fig)
    labels = [t for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert [t.get_text() for t in labels] == names
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert _overlapping(boxes) == [] and all(_inside(fig, b) for b in boxes)


def test_a_boundary_over_many_samples_draws_a_subset_and_says_so(tmp_path: Path):
    # scale19 L3/L4: 80 000 points hid the boundary and the rare class; 50 classes had no
    # legend and nothing said why
    rng = np.random.default_rng(1)
    n = zoo_plots.MAX_DRAWN_POINTS * 3
    x = rng.normal(size=(n, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) < 0.5).astype(int)[:, None]  # a rare inner class
    fig = zoo_plots.decision_boundary(
        lambda p: (np.hypot(p[:, 0], p[:, 1]) < 0.5).astype(float)[:, None], x, y, None,
        class_names=["no", "yes"],
    )  # fmt: skip
    ax = fig.axes[0]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        f"{name} (train, 2,000 of {n:,} shown)" for name in ("no", "yes")
    ]
    no, yes = ax.collections[-2:]  # the two classes' points, in class order
    drawn = np.concatenate([no.get_offsets(), yes.get_offsets()])
    assert len(drawn) == 2000 and len(np.unique(drawn, axis=0)) == 2000
    assert all((x == point).all(axis=1).any() for point in drawn[:50])  # real samples
    assert yes.get_zorder() > no.get_zorder()  # the rarer class on top
    lines = [c for c in ax.collections if c.get_zorder() == 2.5]
    assert lines and all(line.get_zorder() > yes.get_zorder() for line in lines)
    few = zoo_plots.decision_boundary(lambda p: p[:, :1] * 0, x[:30], y[:30], None, title="t")
    assert [t.get_text() for t in few.legends[0].get_texts()] == [
        "class 0 (train)",
        "class 1 (train)",
    ]
    assert few.axes[0].get_title() == "t"
    classes = zoo_plots.LEGEND_CLASSES + 1
    many = zoo_plots.decision_boundary(
        lambda p: np.tile(np.eye(classes)[0], (len(p), 1)), x[:200],
        np.arange(200)[:, None] % classes, None, title="ring",
    )  # fmt: skip
    assert not many.legends
    assert many.axes[0].get_title() == f"ring; {classes} classes: too many for a legend"


def test_a_confusion_matrix_of_many_classes_stays_a_readable_size(tmp_path: Path):
    # scale19: 50 classes of 20-character names made a 9870-pixel PNG (82 inches a side)
    # and took 4.4 GB to draw; the cells now fill at most MATRIX_INCHES a side
    names = [f"category_{i:02d}_alpha_x" for i in range(50)] + ["a" * 40]
    matrix = np.diag(np.arange(100, 151))
    fig = zoo_plots.confusion_matrix_figure(matrix, tmp_path / "cm.png", class_names=names)
    width, height = fig.get_size_inches()
    assert width < 16 and height < 16
    ax = fig.axes[0]
    assert "51 classes: shades only" in ax.get_title().replace("\n", " ")
    assert not ax.texts  # no counts crammed into 0.2-inch cells
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[:2] == names[:2] and labels[-1] == "a" * 23 + "\u2026"  # cut at 24
    renderer = _renderer(fig)
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert _overlapping(boxes) == [] and all(_inside(fig, b) for b in boxes)
    # ten digits keep their counts, every one of them
    ten = zoo_plots.confusion_matrix_figure(np.diag(np.arange(30, 40)), tmp_path / "ten.png")
    assert sorted(t.get_text() for t in ten.axes[0].texts) == [str(k) for k in range(30, 40)]


# --- the report's boundary panels -------------------------------------------------------


def test_a_diverged_model_is_not_painted_as_a_confident_boundary(tmp_path: Path):
    from proplab.aggregate import write_tables
    from proplab.report_data import ViewCache, experiment_views
    from proplab.report_figures import _boundary_rows
    from proplab.sweep import parse_spec, run_sweep

    # relu and no output activation at lr 1000: the loss overflows within a few epochs,
    # while the last weights still give finite (enormous) outputs
    text = '[base]\nepochs = 30\nhidden = 4\nactivation = "relu"\noutput_activation = "identity"\n'
    text += '[vary]\nseed = [0]\n[[experiment]]\nname = "lr"\nvary.lr = [1000.0, 0.1]\n'
    spec = parse_spec(text, Path("s.toml"))
    assert run_sweep(spec, tmp_path, stream=io.StringIO()).exit_code == 0
    (view,) = experiment_views(spec, write_tables(spec, tmp_path), ViewCache(tmp_path))
    rows, _, _ = _boundary_rows(view, single=False)
    (boom, fine) = rows[0]
    assert boom.title.endswith("diverged")
    assert np.isnan(boom.prob).all()  # blank, as a NaN model's panel is
    assert np.isfinite(fine.prob).all() and not fine.title.endswith("diverged")
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png")
    assert not fig.axes[0].collections[0].get_array().count()  # nothing painted


def test_a_single_seed_is_not_called_a_median_or_1_seeds(tmp_path: Path):
    from proplab.aggregate import write_tables
    from proplab.report_data import ViewCache, experiment_views
    from proplab.report_doc import Figure
    from proplab.report_figures import experiment_figures
    from proplab.sweep import parse_spec, run_sweep

    text = '[base]\nepochs = 20\nhidden = 4\n[vary]\nseed = [3]\n[[experiment]]\nname = "one"\n'
    spec = parse_spec(text, Path("s.toml"))
    assert run_sweep(spec, tmp_path, stream=io.StringIO()).exit_code == 0
    (view,) = experiment_views(spec, write_tables(spec, tmp_path), ViewCache(tmp_path))
    (tmp_path / "figures").mkdir()
    blocks = experiment_figures(view, tmp_path, "figures")
    captions = [b.caption for b in blocks if isinstance(b, Figure)]
    assert "median" not in captions[0] and "one seed" in captions[0]
    # the figure's legend says what a line is
    rng = np.random.default_rng(0)
    fig = sweep_plots.learning_curves(
        {"XOR": [CurveSet("1 seed", [rng.uniform(0.1, 1, 30)])]}, tmp_path / "c.png"
    )
    legend = fig.legends[0]
    assert legend.get_title().get_text() == "one run per line"
    assert [t.get_text() for t in legend.get_texts()] == ["1 seed"]
    assert imread(tmp_path / "figures" / "one-curves.png").shape[0] > 300


# --- report.html ---------------------------------------------------------------------------


MEASURE = """<script>
window.addEventListener("load", function () {
  var out = Array.prototype.map.call(document.images, function (img) {
    var r = img.getBoundingClientRect();
    return [img.naturalWidth, r.left, r.right, r.width];
  });
  var pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify({images: out, view: document.documentElement.clientWidth});
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.slow
def test_a_wide_figure_uses_the_window_not_half_its_size(tmp_path: Path):
    import html as html_module
    import json
    import re
    import shutil
    import subprocess

    from matplotlib.figure import Figure as MplFigure

    from proplab.report_doc import Document, Figure, Para
    from proplab.report_html import to_html

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium here (tests/test_report_browser.py installs it in CI)")
    for name, inches in (("wide.png", (16.0, 4.0)), ("narrow.png", (7.2, 4.4))):
        fig = MplFigure(figsize=inches)
        fig.subplots().plot([0, 1], [0, 1])
        fig.savefig(tmp_path / name, dpi=plots.DPI)  # 1920 and 864 pixels wide
    doc = Document("t", [Para("x"), Figure("wide.png", "a grid"), Figure("narrow.png", "a run")])
    page = to_html(doc, tmp_path).replace("<head>", "<head>\n" + MEASURE, 1)
    (tmp_path / "r.html").write_text(page, encoding="utf-8")
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,1000",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", (tmp_path / "r.html").as_uri()],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    found = re.search(r'<pre id="measured">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stderr[-2000:]
    measured = json.loads(html_module.unescape(found.group(1)))
    (wide, narrow), view = measured["images"], measured["view"]
    assert wide[0] == 1920 and narrow[0] == 864
    assert wide[3] > 1300  # was squeezed into the 1100-pixel text column
    assert wide[1] >= 0 and wide[2] <= view  # and stays on screen
    assert narrow[3] == pytest.approx(866, abs=1)  # a figure that fits keeps its size (+border)


def test_a_long_run_keeps_round_epoch_ticks(tmp_path: Path):
    epochs = 20000
    losses = np.geomspace(0.25, 1e-4, epochs)
    fig = plots.learning_curve(_history(losses.tolist(), [1.0] * epochs), tmp_path / "lc.png")
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    shown = [t for t in ax.get_xticks() if low <= t <= high]
    assert 5 <= len(shown) <= 9  # 0, 2500, ..., 20000: not a tick every 2000
    boxes = [t.get_window_extent(_renderer(fig)) for t in ax.get_xticklabels() if t.get_text()]
    assert _overlapping(boxes) == []


def test_five_inputs_say_which_two_are_drawn(tmp_path: Path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = (x[:, 0] + x[:, 3] > 0).astype(int)
    fig = plots.comparison_figure(x, y, y, tmp_path / "cmp.png")
    assert "of 5" in fig.axes[0].get_xlabel()
    assert _inside(fig, fig.axes[1].xaxis.label.get_window_extent(_renderer(fig)))
    x, y = generate_xor_easy()
    fig = plots.comparison_figure(x, y, y, tmp_path / "xor.png")
    assert fig.axes[0].get_xlabel() == "$x_1$"  # the lab's two inputs: nothing to say


def test_every_class_border_is_drawn_with_the_same_weight(tmp_path: Path):
    # bands of class 0 | 2 | 1 along x0: contours of the class index drew two lines where
    # 0 meets 2 and one where 2 meets 1
    def bands(grid: np.ndarray) -> np.ndarray:
        k = np.where(grid[:, 0] < 1, 0, np.where(grid[:, 0] < 2, 2, 1))
        return np.eye(3)[k]

    x = np.array([[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [0.5, 2.5], [1.5, 2.5], [2.5, 2.5]])
    y = np.array([0, 2, 1, 0, 2, 1])
    fig = zoo_plots.decision_boundary(bands, x, y, tmp_path / "b.png")
    ax = fig.axes[0]

    def lines_at(border: float) -> int:
        count = 0
        for artist in ax.collections:
            if not isinstance(artist, ContourSet) or artist.filled:
                continue
            for path in artist.get_paths():
                for line in path.to_polygons(closed_only=False):
                    count += len(line) > 1 and bool(np.allclose(line[:, 0], border, atol=0.05))
        return count

    assert lines_at(1.0) == lines_at(2.0) >= 1


def test_a_row_of_wide_panels_gets_a_row_as_short_as_its_panels(tmp_path: Path):
    # moons spans ~3.5 x 2 at equal scales: in a 2.6-inch row its six panels floated in
    # white space with the colour bar well above and below them
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(-1.0, 2.0, 60), rng.uniform(-0.6, 1.2, 60)])
    y = (x[:, 1] > 0.2).astype(float)
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    prob = (points[:, 1] > 0.2).astype(float).reshape(v.size, u.size)
    wide = [[BoundaryPanel(f"epoch {e}\n50.0 %", u, v, prob, x, y) for e in range(6)]]
    square = [_panels([f"epoch {e}\n50.0 %" for e in range(6)])]
    fig_wide = sweep_boundaries.decision_boundaries(wide, tmp_path / "w.png", "T")
    fig_square = sweep_boundaries.decision_boundaries(square, tmp_path / "s.png", "T")
    assert fig_square.get_size_inches()[1] == pytest.approx(2.6 + 0.6)  # as before
    height = fig_wide.get_size_inches()[1]
    panel = _boundary_axes(fig_wide)[0]
    drawn = panel.get_position().height * height  # inches, after the equal-scale aspect
    assert height < fig_square.get_size_inches()[1]
    assert height - drawn < 1.5  # titles, ticks and the suptitle; no empty band


# --- a regression's value map ------------------------------------------------------------


def _cones(centres: list[tuple[float, float, float]]):
    """multi-gauss-like bumps (height h, falling to 0 at 1/3) at (u, v, h): points (m, 2)
    -> values (m, 1)."""
    c = np.array(centres)

    def predict(points: np.ndarray) -> np.ndarray:
        distance = np.linalg.norm(points[:, None, :] - c[None, :, :2], axis=-1)
        return (np.clip(1 - 3 * distance, 0, 1) * c[:, 2]).sum(-1, keepdims=True)

    return predict


def test_value_map_contour_labels_lie_wholly_inside_the_map(tmp_path: Path):
    # bumps cut by the frame, as a trained multi-gauss model draws them at the edges: the
    # -0.5 arc in the top-left corner and the 0.5 arc at the left edge got labels 2-3 px
    # past the frame, clipped ("0.", "-0" at 120 dpi); the middle bump's label was whole
    predict = _cones([(-1.2, 1.0, -1.0), (0.0, 0.0, 1.0), (-1.3, -0.45, 1.0)])
    x = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    fig = value_plots.value_map(predict, x, predict(x), tmp_path / "map.png", limit=1.0)
    ax = fig.axes[0]
    renderer = _renderer(fig)
    frame = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text() in ("-0.5", "0.5")]
    for label in labels:
        box = label.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (label.get_text(), box, frame)
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, (label.get_text(), box, frame)
        # on its own line: the model's value under the label is the label's
        value = predict(np.array([label.get_position()])).item()
        assert value == pytest.approx(float(label.get_text()), abs=0.02)
    # the corner's arc keeps a label (moved along it, inside); the middle bump keeps its
    # own; the left edge's arc is too close to the frame for one anywhere
    assert sorted((t.get_text(), t.get_position()[0] < -0.9) for t in labels) == [
        ("-0.5", True),
        ("0.5", False),
    ]


# --- a CSV's columns: units of their own, panels that fill their space ------------------


def _hw_csv(path: Path) -> Path:
    """``height,weight,fit``: 120 people, height 150-200 cm, weight 40-110 kg (spans 50 and
    70: within the 2x and 3x of the equal-scale rules), fit by a linear rule of both."""
    rng = np.random.default_rng(3)
    h, w = rng.uniform(150, 200, 120), rng.uniform(40, 110, 120)
    fit = ((h - 175) / 25 - (w - 75) / 35 > 0).astype(int)
    rows = "".join(f"{a:.1f},{b:.1f},{c}\n" for a, b, c in zip(h, w, fit, strict=True))
    path.write_text("height,weight,fit\n" + rows)
    return path


def _box_ratio(fig, ax) -> float:
    """An axes' drawn width over its height, in the saved figure."""
    box = ax.get_window_extent(_renderer(fig))
    return box.width / box.height


def _hw_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.uniform(150, 200, 120), rng.uniform(40, 110, 120)])
    return x, ((x[:, 0] - 175) / 25 - (x[:, 1] - 75) / 35 > 0).astype(float)


def test_csv_columns_get_a_square_decision_boundary_not_equal_scales(tmp_path: Path):
    x, y = _hw_points()

    def predict(g: np.ndarray) -> np.ndarray:
        return ((g[:, :1] - 175) / 25 - (g[:, 1:] - 75) / 35 > 0) * 1.0

    named = zoo_plots.decision_boundary(
        predict, x, y, tmp_path / "csv.png", feature_names=["height", "weight"]
    )
    # equal scales made it 0.72 wide per unit of height: a tall, narrow panel
    assert _box_ratio(named, named.axes[0]) == pytest.approx(1.0, abs=0.05)
    assert named.axes[0].get_xlabel() == "height"
    # unnamed inputs share a unit (x1, x2): equal scales, as before (spans 54 x 75.6)
    plain = zoo_plots.decision_boundary(predict, x, y, tmp_path / "x.png")
    u0, u1 = plain.axes[0].get_xlim()
    v0, v1 = plain.axes[0].get_ylim()
    assert _box_ratio(plain, plain.axes[0]) == pytest.approx((u1 - u0) / (v1 - v0), abs=0.02)


def test_csv_value_map_and_value_panels_fill_a_square(tmp_path: Path):
    x, _ = _hw_points()

    def predict(g: np.ndarray) -> np.ndarray:
        return ((g[:, :1] - 175) / 25 - (g[:, 1:] - 75) / 35) / 2

    fig = value_plots.value_map(
        predict, x, predict(x), tmp_path / "map.png", feature_names=["height", "weight"]
    )
    # the plot fills the figure's plot area (0.91 wide per unit of height), where equal
    # scales drew it 0.71
    assert 0.85 < _box_ratio(fig, fig.axes[0]) < 1.2
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    grid = predict(points).reshape(v.size, u.size)
    panels = [
        value_plots.ValuePanel(f"after {e} epochs", u, v, grid, x, predict(x), ("height", "weight"))
        for e in range(4)
    ]
    row = value_plots.value_maps(panels, tmp_path / "maps.png", title="hw")
    drawn = [ax for ax in row.axes if ax.get_title().startswith("after")]
    assert len(drawn) == 4
    for ax in drawn:
        assert _box_ratio(row, ax) == pytest.approx(1.0, abs=0.05)
        assert ax.get_xlabel() == "height"
    assert drawn[0].get_ylabel() == "weight"


def test_csv_sweep_panels_are_square_and_fill_their_row(tmp_path: Path):
    x, y = _hw_points()
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    prob = ((points[:, 0] - 175) / 25 - (points[:, 1] - 75) / 35 > 0).astype(float)
    panels = [
        BoundaryPanel(
            f"standardize {s}\ntrain 100.0 %", u, v, prob.reshape(v.size, u.size), x, y,
            axis_names=("height", "weight"),
        )
        for s in ("false", "true")
    ]  # fmt: skip
    fig = sweep_boundaries.decision_boundaries([panels], tmp_path / "b.png", "T", ["hw"])
    axes = _boundary_axes(fig)
    renderer = _renderer(fig)
    boxes = [ax.get_window_extent(renderer) for ax in axes]
    assert [b.width / b.height for b in boxes] == pytest.approx([1.0, 1.0], abs=0.05)
    # side by side with no wide gap: equal scales left a 1.4-inch strip of white between
    # the panels (now 0.49 inch on matplotlib 3.11, 0.52 on 3.8.4)
    gap = (boxes[1].x0 - boxes[0].x1) / plots.DPI
    assert gap < 0.6, gap


def test_a_csv_run_draws_its_boundary_panels_square_and_named(tmp_path: Path, monkeypatch):
    from proplab.cli import main

    drawn = []
    original = sweep_boundaries.decision_boundaries

    def keep(*args, **kwargs):
        drawn.append(original(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(sweep_boundaries, "decision_boundaries", keep)
    data = _hw_csv(tmp_path / "hw.csv")
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(data), "--label", "fit", "--standardize",
                 "--optimizer", "adam", "--lr", "0.01", "--epochs", "60", "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    assert (out / "boundary_during_training.png").is_file()
    (fig,) = drawn
    axes = _boundary_axes(fig)
    assert len(axes) >= 3
    for ax in axes:
        assert _box_ratio(fig, ax) == pytest.approx(1.0, abs=0.05)
        assert ax.get_xlabel() == "height"  # the file's columns name the axes
    assert axes[0].get_ylabel() == "weight"


@pytest.mark.parametrize("first", [2, 5, 8, 10, 20, 50])
def test_gradient_sizes_keep_no_epoch_label_on_top_of_the_0(tmp_path: Path, first: int):
    # found by look17: a mini-batch run kept its weights at epochs 0, 8, 18, ...; the
    # symlog axis (linear from 0 to 8) put "10^0" an eighth of the way along, its label
    # over the "0" beside it
    epochs = np.array([0.0, first, *range(first + 100, 3001, 100)])
    sizes = np.geomspace(1e-2, 1e-5, epochs.size)[:, None] * np.array([1.0, 2.0])
    fig = plots.gradient_sizes_figure(epochs, sizes, ["1: Linear", "2: Linear"], tmp_path / "g.png")
    renderer = _renderer(fig)
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    shown = [
        t for t in ax.xaxis.get_ticklabels() if t.get_text() and low <= t.get_position()[0] <= high
    ]
    assert not _overlapping([t.get_window_extent(renderer) for t in shown])
    values = [t.get_position()[0] for t in shown]
    assert values[0] == 0 and 1000 in values  # 0 and the decades past the first epoch stay
    assert all(v >= first / 4 for v in values[1:])


def _wide_panels(titles: list[str]) -> list[BoundaryPanel]:
    """Panels over moons-like data, 3.5 wide and 2 high: drawn at equal scales, short."""
    x, y = _moons()
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    prob = _by_half_plane(points).reshape(v.size, u.size)
    return [BoundaryPanel(t, u, v, prob, x, y) for t in titles]


@pytest.mark.parametrize("across", [4, 8])
def test_held_out_titles_take_two_lines_where_they_fit_and_leave_no_band(
    tmp_path: Path, across: int
):
    # look17: over four panels "train 100.0 %, test 100.0 %" (27 characters) wrapped to a
    # third line, and the short moons row then ended ~50 px above the figure's bottom
    # (the room for a third line went unused); eight across still need the third line
    titles = [f"lr {i}\ntrain 100.0 %, test 100.0 %" for i in range(across)]
    rows = [_panels(titles), _wide_panels(titles)]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", ["circle", "moons"])
    renderer = _renderer(fig)
    axes = _boundary_axes(fig)
    assert len(axes) == 2 * across
    lines = {a.get_title().count("\n") + 1 for a in axes}
    assert lines == ({2} if across == 4 else {3})  # eight across are too narrow for one line
    boxes = [a.title.get_window_extent(renderer) for a in axes]
    assert _overlapping(boxes) == [] and all(_inside(fig, b) for b in boxes)
    lowest = min(
        t.get_window_extent(renderer).y0
        for a in axes
        for t in [*a.get_xticklabels(), a.xaxis.label]
        if t.get_text()
    )
    if across == 4:  # the tick values (and x1 under them) near the bottom edge, no band
        assert 0 <= lowest < 0.2 * plots.DPI


def test_one_row_under_a_one_line_title_keeps_it_off_the_panel_titles(tmp_path: Path):
    # F1 (figs22): a run's boundary during training whose loss stayed flat has a one-line
    # title; after one layout pass it sat on the third panel's title and "x1" was cut off
    titles = [f"after {e} epochs\n52.4 %" for e in (0, 10, 50, 200, 500, 2000)]
    fig = sweep_boundaries.decision_boundaries(
        [_panels(titles)],
        tmp_path / "b.png",
        title="xor: the decision boundary as it forms (P(class 1); black line: 0.5)",
    )
    renderer = _renderer(fig)
    top = fig._suptitle.get_window_extent(renderer)
    axes = _boundary_axes(fig)
    assert len(axes) == 6
    for ax in axes:
        assert not top.overlaps(ax.title.get_window_extent(renderer)), ax.get_title()
        assert _inside(fig, ax.xaxis.label.get_window_extent(renderer)), ax.get_title()


def test_a_saturated_layer_does_not_crush_the_other_gradient_sizes(tmp_path: Path):
    # F8 (figs22): an input of std 1e6 saturated layer 1's sigmoids (mean |dL/dW| 5e-305);
    # the axis ran from 1e-300 to 1e9 and layers 2 and 3 (6e-3 .. 2e-8) were a flat line
    epochs = np.arange(0, 300, 8)
    fall = np.exp(-epochs / 20.0)
    sizes = np.stack([5e-305 * np.ones_like(fall), 6e-3 * fall + 2e-8, 3e-2 * fall + 6e-8], 1)
    fig = plots.gradient_sizes_figure(epochs, sizes, ["1: L", "2: L", "3: L"], tmp_path / "g.png")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    decades = math.log10(high) - math.log10(low)
    assert decades < 17  # float64 resolves ~16 decades: not 1e-300 .. 1e9
    assert math.log10(6e-3 / 2e-8) / decades > 0.3  # layer 2's fall fills a third of it
    dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(dotted) == 1 and np.nanmax(dotted[0].get_ydata()) < 1e-15 * high
    renderer = _renderer(fig)
    (note,) = [t for t in ax.texts if "layer 1 under" in t.get_text()]
    assert _inside(fig, note.get_window_extent(renderer))
    # sizes within the range: the axis is matplotlib's own, nothing dotted
    fig = plots.gradient_sizes_figure(epochs, sizes[:, 1:], ["2: L", "3: L"], tmp_path / "h.png")
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]
    assert fig.axes[0].get_ylim()[0] > 1e-9


def test_accuracy_dots_name_what_their_ticks_are(tmp_path: Path):
    # F15 (figs22): lr-accuracy.png's ticks read 100 ... 1e-06 with nothing saying "lr"
    rates = ["100", "10", "1", "0.1", "0.01", "0.001", "0.0001", "1e-05", "1e-06"]
    sets = [DotSet(r, d, [0.9, 0.8]) for r in rates for d in ("linear", "XOR")]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png", title="lr", xlabel="lr")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "lr"
    renderer = _renderer(fig)
    name = ax.xaxis.label.get_window_extent(renderer)
    assert _inside(fig, name)
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert all(name.y1 <= t.y0 + 0.5 for t in ticks)  # under the slanted tick labels


@pytest.mark.parametrize("held_out", [False, True])
def test_a_two_class_boundary_s_legend_sits_under_the_plot(tmp_path: Path, held_out: bool):
    # F11 (figs22): "class 0 (train)", "class 1 (train)" in 8 pt text in the figure's top
    # right corner, outside the axes, with a fifth of the width empty under it
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (80, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    test = {"x_test": x[:20], "y_test": y[:20]} if held_out else {}
    fig = zoo_plots.decision_boundary(
        lambda g: (g[:, :1] * g[:, 1:] > 0) * 1.0, x, y, tmp_path / "b.png", **test
    )
    renderer = _renderer(fig)
    ax = fig.axes[0]
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    plot = ax.get_window_extent(renderer)
    name = ax.xaxis.label.get_window_extent(renderer)
    assert box.y1 <= name.y0 + 1 and _inside(fig, box)  # under the x label, whole
    assert abs((box.x0 + box.x1) / 2 - (plot.x0 + plot.x1) / 2) < 0.15 * plot.width
    assert all(t.get_fontsize() >= 9 for t in legend.get_texts())
    # nothing to the right of the plot but its tick labels: no empty column
    assert fig.bbox.width - plot.x1 < 0.1 * fig.bbox.width
