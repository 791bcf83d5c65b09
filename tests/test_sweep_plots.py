"""Sweep figures that must stay readable whatever the sweep: many settings, long labels, any data range.

pytest turns warnings into errors here (pyproject), so a figure whose
constrained layout collapses (matplotlib warns) fails its test.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.lines import Line2D
from PIL import Image

from proplab import sweep_boundaries, sweep_dots, sweep_plots
from proplab.sweep_boundaries import BoundaryPanel
from proplab.sweep_dots import DotSet
from proplab.sweep_plots import CurveSet

LONG = [
    f"lr={lr}, optimizer={opt}, activation={act}"
    for lr in (0.05, 5)
    for opt in ("momentum", "sgd", "adam")
    for act in ("identity", "tanh", "leaky_relu")
]  # 18 settings of up to 50 characters, as a three-axis sweep names them


def _renderer(fig):
    """A renderer for measuring a saved figure (its layout was fixed when it was drawn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig).get_renderer()


def _inches(fig, box) -> tuple[float, float]:
    width, height = fig.get_size_inches()
    return box.width * width, box.height * height


def test_boundary_grid_is_the_lab_square_for_lab_data_and_holds_any_cloud():
    inside = np.array([[0.0, 0.0], [1.0, 1.0], [0.3, 0.7]])  # the lab's data live in [0, 1]^2
    u, v, points = sweep_boundaries.boundary_grid(inside)
    np.testing.assert_array_equal(u, np.linspace(-0.05, 1.05, 121))
    np.testing.assert_array_equal(v, u)
    cloud = np.array([[-1.2, -0.7], [2.1, 1.2], [0.5, 0.0]])  # moons-like: beyond the square
    u, v, points = sweep_boundaries.boundary_grid(cloud, size=11)
    # the box is the data's (it holds [0, 1]^2 too) plus 5 % of its span each side
    assert u[0] == -1.2 - 0.05 * 3.3 and u[-1] == 2.1 + 0.05 * 3.3
    assert v[0] == -0.7 - 0.05 * 1.9 and v[-1] == 1.2 + 0.05 * 1.9
    assert points.shape == (121, 2)
    np.testing.assert_array_equal(points[3 * 11 + 7], [u[7], v[3]])  # row j, column i


def test_learning_curves_with_many_long_labels_keep_their_panel(tmp_path: Path):
    rng = np.random.default_rng(0)
    curves = {"digits": [CurveSet(label, [rng.uniform(0.1, 1.0, 50)]) for label in LONG]}
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", legend_title="lr, optimizer")
    ax = fig.axes[0]
    width, height = _inches(fig, ax.get_position())
    assert width > 6.0 and height > 2.5  # the side legend left it ~0 wide (layout collapsed)
    legend = fig.legends[0]
    assert legend._ncols == 2  # 18 labels: two columns of 9 under the panel
    renderer = _renderer(fig)
    assert legend.get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0
    # beyond the ten colours the styles repeat dashed, so no two settings look alike
    styles = {(h.get_color(), h.get_linestyle()) for h in legend.legend_handles}
    assert len(styles) == len(LONG)
    with Image.open(tmp_path / "c.png") as image:
        assert image.size[1] > 4.2 * 100  # grew to hold the legend


def test_learning_curves_with_few_short_labels_keep_the_side_legend(tmp_path: Path):
    curves = {"XOR": [CurveSet(s, [np.linspace(1, 0.1, 30)]) for s in ("sgd", "adam")]}
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", legend_title="optimizer")
    ax, legend = fig.axes[0], fig.legends[0]
    renderer = _renderer(fig)
    box = legend.get_window_extent(renderer)
    assert (box.x0 + box.x1) / 2 > ax.get_window_extent(renderer).x1  # right of the panel
    assert tuple(fig.get_size_inches()) == (5.2, 4.2)


def test_learning_curves_name_their_loss(tmp_path: Path):
    curves = {"XOR": [CurveSet("sgd", [np.linspace(1, 0.1, 30)])]}
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png")
    assert fig.axes[0].get_ylabel() == "loss (log scale)"
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", loss_name="training loss")
    assert fig.axes[0].get_ylabel() == "training loss (log scale)"


def test_accuracy_dots_with_many_long_labels_keep_their_axes(tmp_path: Path):
    sets = [DotSet(label, "digits", [0.5, 0.6, 0.7]) for label in LONG]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png", title="t")
    ax = fig.axes[0]
    _, height = _inches(fig, ax.get_position())
    assert height > 2.0  # the slanted labels got room of their own
    labels = ax.get_xticklabels()
    assert {t.get_rotation() for t in labels} == {45.0}
    # parallel slanted lines of text clear each other when the ticks' spacing, seen
    # across the slant, is more than a line of text; and they all hang below the axes
    renderer = _renderer(fig)
    spacing = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]
    line = labels[0].get_fontsize() * fig.dpi / 72
    assert spacing * np.sin(np.radians(45)) > 1.5 * line
    bottom = ax.get_window_extent(renderer).y0
    assert all(t.get_window_extent(renderer).y1 <= bottom for t in labels)


def test_boundaries_of_datasets_with_different_ranges_get_their_own_axes(tmp_path: Path):
    def panel(x: np.ndarray) -> BoundaryPanel:
        u, v, points = sweep_boundaries.boundary_grid(x, size=21)
        prob = (points[:, 0] > points[:, 0].mean()).astype(float).reshape(v.size, u.size)
        return BoundaryPanel("p", u, v, prob, x, np.array([0, 1]))

    lab = panel(np.array([[0.1, 0.2], [0.9, 0.8]]))
    wide = panel(np.array([[-2.0, -1.0], [3.0, 2.0]]))
    fig = sweep_boundaries.decision_boundaries([[lab, lab], [wide, wide]], tmp_path / "b.png")
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:4]
    assert axes[0].get_xlim() == axes[1].get_xlim() == (-0.05, 1.05)
    assert axes[2].get_xlim() == axes[3].get_xlim() == (-2.0 - 0.25, 3.0 + 0.25)
    assert axes[2].get_ylim() == (-1.0 - 0.15, 2.0 + 0.15)


def test_a_diverged_model_gets_an_empty_panel_and_no_warning(tmp_path: Path):
    x = np.array([[0.1, 0.2], [0.9, 0.8]])
    u, v, _ = sweep_boundaries.boundary_grid(x, size=11)
    nan = BoundaryPanel("diverged", u, v, np.full((11, 11), np.nan), x, np.array([0, 1]))
    half = np.where(u[None, :] > 0.5, 0.9, 0.1) * np.ones((11, 1))
    ok = BoundaryPanel("trained", u, v, half, x, np.array([0, 1]))
    fig = sweep_boundaries.decision_boundaries([[nan, ok]], tmp_path / "b.png")
    diverged, trained = fig.axes[:2]
    assert len(diverged.collections) == 3  # the (blank) mesh and the two classes' dots
    assert len(trained.collections) == len(diverged.collections) + 1  # + the 0.5 contour
    assert (tmp_path / "b.png").stat().st_size > 0


def _panels(x: np.ndarray, titles: list[str]) -> list[BoundaryPanel]:
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    prob = (points[:, 1] > points[:, 1].mean()).astype(float).reshape(v.size, u.size)
    return [BoundaryPanel(t, u, v, prob, x, np.arange(len(x)) % 2) for t in titles]


def test_many_settings_wrap_into_even_lines_with_the_label_once(tmp_path: Path):
    x = np.array([[0.1, 0.2], [0.9, 0.8]])
    panels = _panels(x, [f"lr {i}\n100.0 %" for i in range(12)])
    fig = sweep_boundaries.decision_boundaries([panels], tmp_path / "b.png", row_labels=["XOR"])
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == 12  # 12 panels in 2 lines of 6, not 8 + 4 (nor 12 slivers)
    assert fig.axes[0].get_gridspec().get_geometry() == (2, 6)
    # the inputs named at each line's first panel (report21 L6), the row label once
    assert [ax.get_ylabel() for ax in grid if ax.get_ylabel()] == ["x2", "x2"]
    assert [t.get_text() for ax in grid for t in ax.texts] == ["XOR"]
    assert [ax.get_title().split("\n")[0] for ax in grid] == [f"lr {i}" for i in range(12)]


def test_long_titles_and_unequal_scales_keep_panels_square_and_clear(tmp_path: Path):
    # a CSV's two columns on scales 5x apart; three-line panel titles under a suptitle
    x = np.array([[0.0, -4.0], [5.0, 18.0], [2.0, 3.0]])
    panels = _panels(x, ["lr=0.05, optimizer=sgd, bias=false\n78.4 %"] * 4)
    fig = sweep_boundaries.decision_boundaries([panels], tmp_path / "b.png", title="suptitle")
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    renderer = _renderer(fig)
    for ax in grid:
        assert ax.get_title() == "lr=0.05, optimizer=sgd,\nbias=false\n78.4 %"  # wrapped
        box = ax.get_window_extent(renderer)
        assert abs(box.width / box.height - 1) < 0.02  # square, not a sliver
        assert (
            ax.title.get_window_extent(renderer).y1 < fig._suptitle.get_window_extent(renderer).y0
        )
        assert box.y0 > 0  # the x tick labels below are inside the figure too
        assert min(t.get_window_extent(renderer).y0 for t in ax.get_xticklabels()) >= 0
    lab = _panels(np.array([[0.0, 0.0], [1.0, 1.0]]), ["t"])[0]
    assert sweep_boundaries._aspect(lab) == 1.0  # same scale on both axes: equal aspect


# ---------------------------------------------------------------- from mutation testing


def test_band_is_the_median_and_range_over_the_seeds_that_have_each_epoch():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([3.0, 6.0, np.inf])  # diverged at epoch 3: overflowed there
    c = np.array([2.0, 100.0])  # stopped early: counts at its last loss from then on
    epochs, median, low, high = sweep_plots.band([a, b, c])
    np.testing.assert_array_equal(epochs, [1, 2, 3, 4])
    np.testing.assert_array_equal(median, [2.0, 6.0, 51.5, 52.0])
    np.testing.assert_array_equal(low, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(high, [3.0, 100.0, 100.0, 100.0])  # not the mean, 36


def test_a_median_does_not_rise_where_seeds_stop_early():
    # F5 (figs22): tol 0.01 stopped three of five seeds at ~1 100 epochs (loss 0.00998);
    # the median of the two still training (0.0105, 0.022) jumped from 0.010 to 0.024
    epochs = np.arange(1, 2001)
    fall = [np.maximum(0.25 * np.exp(-epochs / k), floor) for k, floor in
            ((150, 0.00998), (160, 0.00998), (170, 0.00998), (400, 0.0105), (600, 0.022))]  # fmt: skip
    stops = [1094, 1110, 1122, 2000, 2000]
    curves = [f[:stop] for f, stop in zip(fall, stops, strict=True)]
    _, median, low, high = sweep_plots.band(curves)
    assert np.all(np.diff(median) <= 1e-12)  # every seed's loss falls: so does the median
    assert median[-1] == pytest.approx(0.00998)  # three of five seeds are done at 0.00998
    assert low[-1] == pytest.approx(0.00998) and high[-1] == pytest.approx(0.022)
    # a diverged seed (NaN to the end) is not carried: the others' median only
    _, median, _, _ = sweep_plots.band([np.array([1.0, np.nan]), np.array([3.0, 2.0, 1.0])])
    np.testing.assert_array_equal(median, [2.0, 2.0, 1.0])


def test_thin_keeps_every_epoch_up_to_the_limit_and_both_ends_beyond():
    limit = sweep_plots.MAX_POINTS
    np.testing.assert_array_equal(sweep_plots._thin(limit), np.arange(limit))
    idx = sweep_plots._thin(10 * limit + 7)
    assert idx[0] == 0 and idx[-1] == 10 * limit + 6 and idx.size == limit
    np.testing.assert_array_equal(idx, np.linspace(0, 10 * limit + 6, limit).round())
    epochs, median, _, _ = sweep_plots.band([np.arange(10.0 * limit + 7)])
    assert epochs[-1] == 10 * limit + 7 and median[-1] == 10 * limit + 6


# ---------------------------------------------------------------- audit 5: curves, colours, rows


def test_band_takes_each_bins_true_extremes_not_a_sample_of_them():
    # a seed whose loss alternates between two values every epoch (period 2), as the lab's
    # linear seed 2 does: sampling one epoch in ~33 drew its band edge as a comb of spikes
    n = 20 * sweep_plots.MAX_POINTS
    alternating = np.where(np.arange(n) % 2 == 0, 0.00876, 0.00967)
    alternating[1001] = 5.0  # one spike between two plotted epochs
    assert 1001 not in set(sweep_plots._thin(n))
    steady = np.full(n, 0.005)
    epochs, median, low, high = sweep_plots.band([alternating, steady])
    assert epochs.size == sweep_plots.MAX_POINTS and epochs[0] == 1 and epochs[-1] == n
    # the true per-bin maximum: each epoch belongs to the plotted epoch nearest it
    nearest = np.abs(np.arange(n)[:, None] - (epochs - 1)[None, :]).argmin(axis=1)
    true_high = np.full(epochs.size, -np.inf)
    np.maximum.at(true_high, nearest, np.maximum(alternating, steady))
    np.testing.assert_array_equal(high, true_high)
    assert high.max() == 5.0 and (high == 5.0).sum() == 1  # the spike is in the band
    assert set(high[high != 5.0]) == {0.00967}  # a smooth edge, not 0.00876 / 0.00967
    np.testing.assert_array_equal(low, np.full(epochs.size, 0.005))
    # the median is the median at the plotted epoch itself
    both = np.stack([alternating, steady])[:, epochs - 1]
    np.testing.assert_array_equal(median, np.median(both, axis=0))


def _line_colours(ax) -> list[str]:
    from matplotlib.colors import to_hex

    return [to_hex(line.get_color()) for line in ax.get_lines()]


def test_the_highlighted_setting_is_black_on_top_and_the_others_keep_the_palette(tmp_path: Path):
    def falling(rate: float) -> list[np.ndarray]:
        return [np.geomspace(0.3, rate, 200) * (1 + 0.01 * s) for s in range(3)]

    curves = {"XOR": [CurveSet("100", falling(1e-1)), CurveSet("1", falling(1e-4)),
                      CurveSet("0.1", falling(1e-2))]}  # fmt: skip
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", highlight="1")
    ax = fig.axes[0]
    assert _line_colours(ax) == [sweep_plots.PALETTE[0], "#000000", sweep_plots.PALETTE[1]]
    lines = ax.get_lines()
    assert lines[1].get_linestyle() == "-"
    assert lines[1].get_zorder() > max(lines[0].get_zorder(), lines[2].get_zorder())
    legend = fig.legends[0]
    from matplotlib.colors import to_hex

    assert [to_hex(h.get_color()) for h in legend.legend_handles] == _line_colours(ax)
    # without it, nothing is black: the first setting takes the palette's first colour
    fig = sweep_plots.learning_curves(curves, tmp_path / "d.png")
    assert _line_colours(fig.axes[0]) == list(sweep_plots.PALETTE[:3])


def test_curves_on_top_of_each_other_are_striped_and_share_a_legend_entry(tmp_path: Path):
    rng = np.random.default_rng(0)
    plateau = [0.25 + 1e-4 * rng.standard_normal(300) for _ in range(3)]
    learns = [np.geomspace(0.25, 1e-4, 300) for _ in range(3)]
    # four rates stuck at 0.25 on XOR; on linear "0.1" learns, the other three stay stuck
    curves = {
        "linear": [CurveSet("1", learns), CurveSet("0.1", learns)]
        + [CurveSet(lr, plateau) for lr in ("0.01", "0.001", "1e-06")],
        "XOR": [CurveSet("1", learns)]
        + [CurveSet(lr, plateau) for lr in ("0.1", "0.01", "0.001", "1e-06")],
    }
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", legend_title="lr")
    legend = fig.legends[0]
    # the three stuck everywhere are one entry; "0.1" keeps its own (it learns on linear)
    assert [t.get_text() for t in legend.get_texts()] == [
        "1",
        "0.1",
        "0.01, 0.001, 1e-06\n(lines overlap)",
    ]
    assert "striped" in legend.get_title().get_text()
    xor = fig.axes[1]
    # the stripes: dash patterns of their own (the settings' lines are solid, dashed or
    # dash-dotted from the first one; a11y24 M1), each with some points drawn
    plain = {style: Line2D([], [], linestyle=style, linewidth=sweep_plots.LINE_WIDTH)
             for style in sweep_plots.LINESTYLES}  # fmt: skip
    dashed = [ln for ln in xor.get_lines()
              if np.isfinite(np.asarray(ln.get_ydata(), dtype=float)).any()
              and ln._unscaled_dash_pattern != plain[ln.get_linestyle()]._unscaled_dash_pattern
              if ln.get_linestyle() in plain]  # fmt: skip
    # on XOR, the four stuck rates take turns along one line: four colours, four offsets
    from matplotlib.colors import to_hex

    assert sorted(to_hex(ln.get_color()) for ln in dashed) == sorted(sweep_plots.PALETTE[1:5])
    offsets = {ln._unscaled_dash_pattern[0] for ln in dashed}
    assert len(offsets) == 4
    # "1" lies on nothing: one solid line, in each panel
    solid = [ln for ln in xor.get_lines() if to_hex(ln.get_color()) == sweep_plots.PALETTE[0]]
    assert [ln.get_linestyle() for ln in solid] == ["-"]


def test_accuracy_dots_never_colour_a_dataset_as_a_class(tmp_path: Path):
    from matplotlib.colors import to_hex

    from proplab.plots import CLASS_COLORS

    sets = [DotSet(s, ds, [0.9, 1.0]) for s in ("a", "b") for ds in ("linear", "XOR", "moons")]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png")
    handles = fig.legends[0].legend_handles[:3]
    colours = [to_hex(h.get_color()) for h in handles]
    assert len(set(colours)) == 3
    assert not {c.lower() for c in CLASS_COLORS} & set(colours)
    from matplotlib.collections import PathCollection

    scatters = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    dots = {to_hex(c.get_facecolor()[0]) for c in scatters}
    assert len(dots) == 3
    assert not {c.lower() for c in CLASS_COLORS} & dots


def test_each_boundary_row_is_as_tall_as_its_own_panels(tmp_path: Path):
    # moons (3.5 x 2 at equal scales) above two square datasets: sized by the tallest
    # panel of the grid, the moons row left an empty band under its panels
    rng = np.random.default_rng(0)
    wide_x = np.column_stack([rng.uniform(-1.0, 2.5, 40), rng.uniform(-0.5, 1.5, 40)])
    square_x = rng.uniform(-1.0, 1.0, (40, 2))
    rows = [_panels(wide_x, [f"s{i}\n90 %" for i in range(4)])]
    rows += [_panels(square_x, [f"s{i}\n90 %" for i in range(4)]) for _ in range(2)]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", row_labels=["m", "a", "b"])
    ratios = fig.axes[0].get_gridspec().get_height_ratios()
    assert ratios[0] < 0.8 * ratios[1] and ratios[1] == ratios[2]
    renderer = _renderer(fig)
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    tops = [grid[4 * r].get_window_extent(renderer).y1 for r in range(3)]
    bottoms = [grid[4 * r].get_window_extent(renderer).y0 for r in range(3)]
    gaps = [bottoms[0] - tops[1], bottoms[1] - tops[2]]  # pixels between rows' panels
    assert abs(gaps[0] - gaps[1]) < 0.1 * fig.dpi  # no extra band under the short row


def test_an_epoch_between_two_plotted_ones_belongs_to_the_nearer_and_a_gap_takes_its_bin():
    # mutation testing: 1,000 epochs plot 0, 2, 3, 5, ...: epoch 2's spike is plotted epoch
    # 2's alone (1-based 3), and plotted epoch 3 (1-based 4) keeps its own range
    assert list(sweep_plots._thin(1000)[:4]) == [0, 2, 3, 5]
    loss = np.ones(1000)
    loss[2] = 100.0
    loss[1] = 0.01  # halfway between plotted 0 and 2: the later one's bin
    epochs, med, low, high = sweep_plots.band([loss])
    assert list(epochs[:4]) == [1, 3, 4, 6]
    assert list(high[:4]) == [1.0, 100.0, 1.0, 1.0]
    assert list(low[:4]) == [1.0, 0.01, 1.0, 1.0] and list(med[:4]) == [1.0, 100.0, 1.0, 1.0]
    # no seed has plotted epoch 2: its median is the bin's (epochs 1 and 2)
    loss[2] = np.nan
    epochs, med, low, high = sweep_plots.band([loss, loss])
    assert list(epochs[:3]) == [1, 3, 4] and med[1] == 0.01


def test_a_two_line_legend_label_is_measured_by_its_lines_and_counts_twice_in_height():
    # mutation testing: "(lines overlap)" on a second line keeps a side legend when each line
    # fits; under the panels, a row of two-line labels is twice as tall
    two = "relu, leaky_relu, sigmoid\n(lines overlap)"
    assert not sweep_plots._legend_layout([two, "tanh"], 5.2).below
    others = [f"setting number {i:02d} of many" for i in range(12)]
    one_line = sweep_plots._legend_layout([*others, "a, b (lines overlap)"], 5.2)
    two_lines = sweep_plots._legend_layout([*others, "a, b\n(lines overlap)"], 5.2)
    assert one_line.below and two_lines.below and one_line.columns == two_lines.columns
    rows = -(-13 // one_line.columns)
    assert two_lines.height - one_line.height == pytest.approx(0.24 * rows)


def test_settings_with_no_runs_keep_their_own_legend_entries(tmp_path: Path):
    # mutation testing: two settings not drawn anywhere share no "(lines overlap)" entry
    curve = np.geomspace(1.0, 0.01, 50)
    panels = {"XOR": [CurveSet("a", [curve]), CurveSet("b", []), CurveSet("c", [])]}
    fig = sweep_plots.learning_curves(panels, tmp_path / "c.png")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b", "c"]


def test_accuracy_dots_of_one_seed_do_not_claim_a_mean_and_std(tmp_path: Path):
    # found by audit15a: a one-seed sweep's legend said "diamond: mean ± std", with no std
    def legend(sets: list[DotSet]) -> tuple[str, list[str]]:
        fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png", title="lr")
        (box,) = fig.legends
        return box.get_title().get_text(), [t.get_text() for t in box.get_texts()]

    one = [DotSet(lr, ds, [0.9]) for lr in ("1", "0.1") for ds in ("linear", "XOR")]
    assert legend(one) == (
        "large marker: the one seed\neach setting: linear, XOR\nleft to right",
        ["linear", "XOR"],
    )
    many = [DotSet(lr, "XOR", [0.9, 0.8]) for lr in ("1", "0.1")]
    assert legend(many) == ("large marker: mean ± std", ["XOR", "one seed"])


def test_accuracy_dots_of_one_seed_draw_no_dot_beside_the_diamond(tmp_path: Path):
    # found by look17 (audit16a L9): a one-seed setting's dot, jittered by up to 0.05,
    # peeked out beside its diamond in some settings and not others, in a figure whose
    # legend ("diamond: the one seed") has no dot to explain it
    from matplotlib.collections import PathCollection

    one = [DotSet(lr, "parabola.csv", [0.983]) for lr in ("lr 1000", "lr 20", "lr 0.5")]
    one[1].accuracies = [float("nan")]  # diverged: still its x below the axis
    fig = sweep_dots.accuracy_dots(one, tmp_path / "a.png", title="huge")
    scatters = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    points = np.concatenate([np.asarray(c.get_offsets()) for c in scatters])
    assert points.shape == (1, 2) and points[0, 1] < 0  # only the diverged run's x
    # with more seeds, every seed keeps its dot
    many = [DotSet(lr, "XOR", [0.9, 0.8, 0.7]) for lr in ("1", "0.1")]
    fig = sweep_dots.accuracy_dots(many, tmp_path / "b.png")
    scatters = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in scatters) == 6


@pytest.mark.parametrize("epochs, stop", [(48, 6), (2000, 300)])
def test_a_run_stopped_early_on_a_longer_ones_line_is_striped_not_hidden(
    tmp_path: Path, epochs: int, stop: int
):
    # found by look17 (audit16a M7): tol 0.05 stopped linear3.csv at epoch 6, on tol
    # 0.001's line, which was drawn over it: the figure showed one line for two settings.
    # Lines of different lengths were never compared. (2000 epochs: the long line is
    # thinned, so the two are plotted at different epochs.)
    t = np.arange(epochs)
    long = 0.3 * np.exp(-t / 8.0) + 1e-3 * (1 + np.sin(t / 60.0) ** 2)
    panels = {"linear3.csv": [CurveSet("0.05", [long[:stop]]), CurveSet("0.001", [long])]}
    fig = sweep_plots.learning_curves(panels, tmp_path / "c.png", legend_title="tol")
    legend = fig.legends[0]
    # both keep their entry: they share a line only up to the stop
    assert [t.get_text() for t in legend.get_texts()] == ["0.05", "0.001"]
    assert "striped" in legend.get_title().get_text()
    from matplotlib.colors import to_hex

    ax = fig.axes[0]
    short = [ln for ln in ax.get_lines() if to_hex(ln.get_color()) == sweep_plots.PALETTE[0]]
    drawn = [ln for ln in short if np.isfinite(np.asarray(ln.get_ydata(), dtype=float)).any()]
    # the stopped run is all dashes, taking turns with the longer one's colour
    assert [ln.get_linestyle() for ln in drawn] == ["--"]
    longer = [ln for ln in ax.get_lines() if to_hex(ln.get_color()) == sweep_plots.PALETTE[1]]
    styles = [ln._unscaled_dash_pattern for ln in longer]
    # striped up to the stop, its own dashes (the second setting's) after it
    assert styles[0] == Line2D([], [], linestyle="--", linewidth=2)._unscaled_dash_pattern
    assert styles[1] != styles[0]


def test_a_setting_that_diverged_before_any_point_gets_its_cross(tmp_path: Path) -> None:
    # diverge18: lr 2 on digits had a legend entry but nothing drawn (every loss NaN
    # from epoch 1): now a cross in its colour on the top edge at the epoch it diverged
    falling = [np.linspace(1.0, 0.1, 20)] * 2
    sets = [
        CurveSet("0.1", falling),
        CurveSet("2", [np.array([np.nan]), np.array([np.nan, np.nan])]),
    ]
    fig = sweep_plots.learning_curves({"digits": sets}, tmp_path / "c.png")
    crosses = [line for line in fig.axes[0].get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [1.0]
    colours = {line.get_color() for line in fig.axes[0].get_lines() if line.get_marker() != "x"}
    assert crosses[0].get_color() not in colours  # its own colour, not 0.1's
    assert "x on the top edge: diverged there" in fig.legends[0].get_title().get_text()
    # beside a curve leaving through the top, the legend says what the other cross is
    runaway = [np.geomspace(1.0, 1e8, 20)] * 2
    sets = [CurveSet("0.1", falling), CurveSet("5", runaway), CurveSet("2", [np.array([np.nan])])]
    fig = sweep_plots.learning_curves({"digits": sets}, tmp_path / "e.png")
    legend = fig.legends[0].get_title().get_text()
    assert (
        "(loss over 100 x the highest start)" in legend and "or diverged before any point" in legend
    )
    # a setting with no epoch at all (stopped before one) did not diverge: no cross
    sets = [CurveSet("0.1", falling), CurveSet("2", [np.array([])])]
    fig = sweep_plots.learning_curves({"digits": sets}, tmp_path / "d.png")
    assert not [line for line in fig.axes[0].get_lines() if line.get_marker() == "x"]


def test_each_panel_names_the_settings_on_its_own_striped_line(tmp_path: Path):
    # report21 M6: the lab's lr figure had 0.01, 0.001 and 1e-06 on one line on linear and
    # 0.1 too on XOR, but one legend entry ("0.001, 1e-06 (lines overlap)", the pair sharing
    # a line in both panels) was all that named them: XOR's stripe was explained by none
    plateau = [0.25 * np.ones(300) for _ in range(3)]
    learns = [np.geomspace(0.25, 1e-4, 300) for _ in range(3)]
    curves = {
        "linear": [CurveSet("1", learns), CurveSet("0.1", learns[:1] * 3)]
        + [CurveSet(lr, plateau) for lr in ("0.01", "0.001")],
        "XOR": [CurveSet("1", learns)] + [CurveSet(lr, plateau) for lr in ("0.1", "0.01", "0.001")],
    }
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", legend_title="lr")
    notes = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert notes == [
        ["one striped line (lr): 1, 0.1\none striped line (lr): 0.01, 0.001"],
        ["one striped line (lr): 0.1, 0.01, 0.001"],
    ]
    assert "named under each panel" in fig.legends[0].get_title().get_text()
    # a panel without a shared line has no note
    fig = sweep_plots.learning_curves({"XOR": curves["XOR"][:2]}, tmp_path / "d.png")
    assert len(fig.axes[0].texts) == 0


def _wide_bands(centre: float) -> list[np.ndarray]:
    """Three seeds whose losses span two decades around ``centre`` (one oscillating seed
    widening every band, as the lab's linear seed 2 did)."""
    t = np.linspace(0.0, 1.0, 200)
    return [centre * np.exp(-t) * f for f in (0.1, 1.0, 10.0)]


def test_bands_on_top_of_each_other_are_drawn_as_edge_lines(tmp_path: Path):
    # report21 M6: four pale bands on one another blended into one grey-beige area
    from matplotlib.collections import PolyCollection

    def fills(fig: Any) -> int:
        return sum(isinstance(c, PolyCollection) for ax in fig.axes for c in ax.collections)

    crowded = {"linear": [CurveSet(a, _wide_bands(c)) for a, c in
                          (("sigmoid", 0.1), ("tanh", 0.12), ("relu", 0.09), ("leaky", 0.11))]}  # fmt: skip
    fig = sweep_plots.learning_curves(crowded, tmp_path / "c.png")
    assert fills(fig) == 0
    ax = fig.axes[0]
    thin = [ln for ln in ax.get_lines() if ln.get_linewidth() == sweep_plots.EDGE_WIDTH]
    assert len(thin) == 8  # each band's min and max
    title = fig.legends[0].get_title().get_text()
    assert "thin dotted lines: min and max" in title and "band" not in title
    # dotted whatever the setting's line (a11y24 M1: a solid grey edge read as a setting)
    assert {ln.get_linestyle() for ln in thin} == {":"}
    # two of them, or bands apart, stay filled
    two = {"linear": crowded["linear"][:2]}
    assert fills(sweep_plots.learning_curves(two, tmp_path / "d.png")) == 2
    apart = {"linear": [CurveSet(a, _wide_bands(c)) for a, c in
                        (("a", 1.0), ("b", 1e-3), ("c", 1e-6))]}  # fmt: skip
    assert fills(sweep_plots.learning_curves(apart, tmp_path / "e.png")) == 3


def test_accuracy_dots_all_near_100_zoom_the_axis_and_mark_the_cut(tmp_path: Path):
    # report21 M7: hidden units on the lab, every dot on the 100 line of a 0-100 % axis;
    # 99 vs 100 % and XOR's 95.2 % seed were a few pixels apart
    sets = [DotSet("2", "linear", [1.0, 1.0, 0.99]), DotSet("2", "XOR", [1.0, 0.952, 1.0])]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low == 90.0  # the multiple of 5 under 95.2 - 0.5
    mean, std = np.mean([100, 95.2, 100]), np.std([100, 95.2, 100], ddof=1)
    assert mean + std > 100 and 100 < high < 100.5  # the std bar ends at 100 %, in view
    assert ax.get_ylabel() == "final accuracy (%; axis starts at 90)"
    # the broken-axis mark: two strokes on the axis' bottom left corner
    marks = [ln for ln in ax.get_lines() if ln.get_transform() == ax.transAxes]
    assert len(marks) == 2
    # 99 % and 100 % are now more than 2 % of the axis' height apart (were 1 %)
    assert (100 - 99) / (high - low) > 0.08
    # one accuracy under 90 %: the whole 0-100 % axis, no mark
    sets.append(DotSet("4", "XOR", [0.5, 1.0, 1.0]))
    ax = sweep_dots.accuracy_dots(sets, tmp_path / "b.png").axes[0]
    assert ax.get_ylim()[0] < 0 and ax.get_ylabel() == "final accuracy (%)"
    assert not [ln for ln in ax.get_lines() if ln.get_transform() == ax.transAxes]
    # all at 100 %: from 95
    ax = sweep_dots.accuracy_dots([DotSet("a", "XOR", [1.0, 1.0])], tmp_path / "c.png").axes[0]
    assert ax.get_ylim()[0] == 95.0


def test_an_identity_output_is_drawn_as_its_output_over_its_own_range(tmp_path: Path):
    # report21 L1: the purely linear network's outputs (-0.56 to 1.58 on linear) were
    # clipped to the 0..1 map of a colour bar named P(class 1)
    x = np.array([[0.1, 0.2], [0.9, 0.8]])
    sigmoid, identity = _panels(x, ["sigmoid\n100.0 %", "none anywhere\n98.0 %"])
    identity.prob = identity.prob * 2.14 - 0.56  # -0.56 .. 1.58
    identity.raw_output = True
    fig = sweep_boundaries.decision_boundaries([[sigmoid, identity]], tmp_path / "b.png")
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert sorted(b.get_ylabel() for b in bars) == [
        "P(class 1)",
        "none anywhere:\noutput (identity, no probability)",
    ]  # two lines: a bar beside one row is too short for one
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    mesh = grid[1].collections[0]
    assert mesh.norm.vmin == pytest.approx(-0.56) and mesh.norm.vmax == pytest.approx(1.58)
    assert mesh.norm(0.5) == pytest.approx(0.5)  # the boundary is the map's white middle
    assert (grid[0].collections[0].norm.vmin, grid[0].collections[0].norm.vmax) == (0.0, 1.0)


@pytest.mark.parametrize("scores", [[1.0, 0.96, 1.0, 1.0, 1.0], [1.0, 0.3, 1.0, 0.99, 1.0]])
def test_accuracy_bars_end_at_100_percent(tmp_path: Path, scores: list[float]):
    # F2 (figs22): 99.05 ± 2.13 % drew a whisker to 101.2 % (the axis stretched to hold
    # it); 85.7 ± 29 % ran out through the top of a 0-104 axis and lost its cap
    from matplotlib.collections import LineCollection

    sets = [DotSet("hidden 2", "XOR", scores), DotSet("hidden 4", "XOR", [0.5, 0.6, 0.55])]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png")
    ax = fig.axes[0]
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bars) == 2
    ends = np.concatenate([np.asarray(seg)[:, 1] for b in bars for seg in b.get_segments()])
    assert ends.max() == pytest.approx(100.0) and ends.min() >= 0.0
    caps = [ln for ln in ax.get_lines() if ln.get_marker() == "_"]
    assert max(float(np.max(ln.get_ydata())) for ln in caps) == pytest.approx(100.0)
    assert ax.get_ylim()[1] >= 100.0  # the top cap stays in view
    # the lower whisker keeps the whole std: only the impossible side is cut
    mean = 100 * np.mean(scores)
    assert ends.min() == pytest.approx(min(mean - 100 * np.std(scores, ddof=1), 50.0))
    assert "bars end at the best score" in fig.legends[0].get_title().get_text()


# Machado, Oliveira and Fernandes (2009), severity 1: linear RGB -> what a dichromat sees
_CVD = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
}  # fmt: skip


def _lab_as_seen(colour: str, vision: str | None) -> np.ndarray:
    """CIELAB (D65) of ``colour`` as a viewer with ``vision`` (None: typical) sees it."""
    from matplotlib.colors import to_rgb

    rgb = np.asarray(to_rgb(colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    if vision is not None:
        lin = np.clip(np.asarray(_CVD[vision]) @ lin, 0.0, 1.0)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = xyz @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_first_settings_colours_stay_apart_under_red_green_colour_blindness():
    # F4 (figs22): settings 2 and 3 were tab10's red and green, one olive under
    # deuteranopia (CIELAB distance 7); the lab model's black must stay apart from all
    from itertools import combinations

    first = [*sweep_plots.PALETTE[:6], sweep_plots.HIGHLIGHT_COLOR]
    for vision in (None, "deuteranopia", "protanopia"):
        seen = {c: _lab_as_seen(c, vision) for c in first}
        closest = min(
            (float(np.linalg.norm(seen[a] - seen[b])), a, b) for a, b in combinations(first, 2)
        )
        assert closest[0] > 15.0, (vision, closest)  # tab10's red/green: 7.3 (deuteranopia)
    assert len(set(sweep_plots.PALETTE)) == 10


def test_each_colour_bar_names_the_panels_it_belongs_to(tmp_path: Path):
    # F3 (figs22): the raw-output column used the P(class 1) map on a scale of its own, and
    # nothing on the figure said which of the two bars was its; the eye paired it with
    # the P(class 1) bar standing next to it
    x = np.array([[0.1, 0.2], [0.9, 0.8]])
    row = _panels(x, ["sigmoid (lab)\n100.0 %", "none anywhere (lr 0.1)\n98.0 %"])
    row[1].prob = row[1].prob * 2.14 - 0.56
    row[1].raw_output = True
    fig = sweep_boundaries.decision_boundaries([row, row], tmp_path / "b.png", "T", ["a", "b"])
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    titles = [ax.get_title() for ax in grid]
    assert (
        titles == ["sigmoid (lab)\n100.0 %", "none anywhere (lr 0.1)\n98.0 %, own colour bar"] * 2
    )
    bars = {ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"}
    assert bars == {"P(class 1)", "none anywhere (lr 0.1): output (identity, no probability)"}
    # alone (no P(class 1) bar beside it) the bar needs no name, nor the panels a note
    fig = sweep_boundaries.decision_boundaries([row[1:]], tmp_path / "c.png")
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"] == [
        "output (identity, no probability)"
    ]
    assert fig.axes[0].get_title() == "none anywhere (lr 0.1)\n98.0 %"


def test_raw_output_panels_that_all_diverged_get_no_colour_bar(tmp_path: Path):
    # F7 (figs22): identity outputs NaN by epoch 5 drew nothing, yet a bar "output" 0..1
    # (the default range, nothing measured) stood beside the grid
    x = np.array([[0.1, 0.2], [0.9, 0.8]])
    sigmoid, lr1, lr5 = _panels(x, ["sigmoid\n100.0 %", "lr 1\ndiverged", "lr 5\ndiverged"])
    for p in (lr1, lr5):
        p.prob = np.full_like(p.prob, np.nan)
        p.raw_output = True
    assert sweep_boundaries.raw_output_norm([sigmoid, lr1, lr5]) is None
    fig = sweep_boundaries.decision_boundaries([[sigmoid, lr1, lr5]], tmp_path / "b.png")
    bars = [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bars == ["P(class 1)"]
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in grid] == [
        "sigmoid\n100.0 %",
        "lr 1\ndiverged",
        "lr 5\ndiverged",
    ]


def test_datasets_decades_apart_get_a_loss_axis_each(tmp_path: Path):
    # F6 (figs22): a CSV's targets ~4 500 (loss ~2.4e7) beside multi-gauss (0.15 -> 0.03)
    # on one shared axis from 1e-2 to 1e7: multi-gauss's curves, where hidden 4 and 16
    # differ, were a flat line in the bottom 5 % of the panel
    epochs = np.arange(1, 301)
    big = [CurveSet(h, [2.45e7 - 1e3 * epochs * k for k in (1.0, 1.1)]) for h in ("4", "16")]
    small = [
        CurveSet(h, [0.03 + 0.12 * np.exp(-epochs / t) for t in (60, 70)]) for h in ("4", "16")
    ]
    fig = sweep_plots.learning_curves({"ownreg.csv": big, "multi-gauss": small}, tmp_path / "c.png")
    own, gauss = fig.axes[:2]
    low, high = gauss.get_ylim()
    assert math.log10(high / low) < 1.5  # multi-gauss fills its own panel (0.03 .. 0.15)
    assert own.get_ylim()[0] > 1e6  # and the CSV's
    assert own.get_ylabel() == "loss (log scale; each panel its own)"
    # the lab's flat XOR beside a falling linear still share one axis
    flat = [CurveSet("a", [np.full(300, 0.25)])]
    falling = [CurveSet("a", [0.25 * np.exp(-epochs / 40)])]
    fig = sweep_plots.learning_curves({"linear": falling, "XOR": flat}, tmp_path / "d.png")
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()
    assert fig.axes[0].get_ylabel() == "loss (log scale)"


def test_a_legend_heading_under_the_panels_reads_as_one_sentence(tmp_path: Path):
    # figs22 (other small things): moved below, the heading read "activation. line:
    # pointwise median over seeds, thin lines: min and max, striped: ..., (named under
    # each panel)": a stray ". " and ", ("
    fall = np.geomspace(1.0, 0.01, 50)
    scales = [1.0, 1.0] + [2.0**k for k in range(2, len(LONG))]  # the first two: one line
    curves = {
        "digits": [
            CurveSet(lab, [fall * k, fall * k * 1.1]) for lab, k in zip(LONG, scales, strict=True)
        ]
    }
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", legend_title="activation")
    renderer = _renderer(fig)
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.y1 < fig.axes[0].get_window_extent(renderer).y0  # under the panel
    heading = fig.legends[0].get_title().get_text()
    assert heading.startswith("activation; line: pointwise median over seeds; ")
    assert "striped: lines on top of each other (named under each panel)" in heading
    assert ". " not in heading and ", (" not in heading


def test_settings_differ_in_line_style_from_the_first_not_by_hue_alone(tmp_path: Path):
    from matplotlib.colors import to_hex

    # a11y24 M1: up to ten settings were solid lines told apart by hue only; blue, green
    # and sky blue (momentum, rmsprop, adam) were one teal under tritanopia
    names = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "nadam")
    curves = {"XOR": [CurveSet(n, [np.geomspace(1, 10.0 ** -(k + 1), 40)])
                      for k, n in enumerate(names)]}  # fmt: skip
    fig = sweep_plots.learning_curves(curves, tmp_path / "c.png", highlight="sgd")
    legend = fig.legends[0]
    shown = {t.get_text(): (to_hex(h.get_color()), h.get_linestyle())
             for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)}  # fmt: skip
    assert shown["sgd"] == ("#000000", "-")
    assert [shown[n][1] for n in names[1:]] == ["-", "--", "-.", "-", "--"]
    # the lines drawn take the legend's styles
    drawn = {(to_hex(ln.get_color()), ln.get_linestyle()) for ln in fig.axes[0].get_lines()}
    assert set(shown.values()) <= drawn
    # the colours alike under tritanopia (blue, green, sky blue) never share a style
    alike = [sweep_plots.PALETTE[k] for k in (0, 2, 4)]
    assert len({s for c, s in shown.values() if c in alike}) == 3
    assert "#7f7f7f" not in sweep_plots.PALETTE  # the grey of the lab model's min/max lines


def test_accuracy_dots_tell_the_datasets_apart_by_marker_and_say_which_side(tmp_path: Path):
    # a11y24 L6: both datasets' means were diamonds told apart by hue, and the left/right
    # offset between them was explained nowhere
    sets = [DotSet(lr, ds, [0.9, 0.8]) for lr in ("1", "0.1") for ds in ("linear", "XOR")]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "a.png", title="lr")
    means = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() not in ("_", "None", "")]
    by_x = sorted((float(ln.get_xdata()[0]), ln.get_marker()) for ln in means)
    # setting "1" at x 0: linear left in diamonds, XOR right in squares; then setting "0.1"
    assert [m for _, m in by_x] == ["D", "s", "D", "s"]
    assert by_x[0][0] < 0 < by_x[1][0] < 1
    (box,) = fig.legends
    assert [h.get_marker() for h in box.legend_handles[:2]] == ["D", "s"]
    assert "each setting: linear, XOR\nleft to right" in box.get_title().get_text()
