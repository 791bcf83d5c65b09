"""Classes told apart by shape as well as colour, the same shape in every figure and legend
(a11y24 H1, M2: red and blue are one grey in print, and more hues merge under red-green
colour blindness), and a 3+-class palette whose colours differ in lightness."""

from itertools import combinations
from pathlib import Path

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle

from proplab import plots, sweep_boundaries, unit_plots, zoo_plots
from proplab.metrics import one_hot


def marker_of(artist: PathCollection | Line2D) -> str:
    """The name of the marker a scatter (or a legend's proxy of one) draws."""
    if isinstance(artist, Line2D):
        return str(artist.get_marker())
    path = artist.get_paths()[0]
    for name in (*plots.CLASS_MARKERS, "X"):
        style = MarkerStyle(name)
        ref = style.get_path().transformed(style.get_transform()).vertices
        if path.vertices.shape == ref.shape and np.allclose(path.vertices, ref):
            return name
    return "?"


def scatters(ax) -> list[PathCollection]:
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def lightness(colour: str) -> float:
    """CIELAB L* of an sRGB colour."""
    rgb = np.asarray(to_rgb(colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
    return 116 * np.cbrt(y) - 16 if y > (6 / 29) ** 3 else y * (29 / 3) ** 3


def test_the_class_markers_differ_and_repeat_after_ten() -> None:
    assert len(set(plots.CLASS_MARKERS)) == len(plots.CLASS_MARKERS) == 10
    assert [plots.class_marker(c) for c in (0, 1, 2, 3, 10)] == ["o", "s", "^", "D", "o"]


def test_four_classes_each_get_their_marker_and_colour_in_the_plot_and_legend(
    tmp_path: Path,
) -> None:
    # four blobs, each class's own quadrant; the model gives each its quadrant
    centres = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=float)
    x = np.repeat(centres, 5, axis=0) + np.random.default_rng(0).normal(0, 0.1, (20, 2))
    y = np.repeat(np.arange(4), 5)[:, None]

    def quadrants(grid: np.ndarray) -> np.ndarray:
        return one_hot((grid[:, 0] > 0).astype(int) + 2 * (grid[:, 1] > 0).astype(int), 4)

    fig = zoo_plots.decision_boundary(quadrants, x, y, tmp_path / "b.png", x_test=x, y_test=y)
    drawn = scatters(fig.axes[0])
    train, test = drawn[:4], drawn[4:]
    assert [marker_of(c) for c in train] == ["o", "s", "^", "D"]
    assert [marker_of(c) for c in test] == ["o", "s", "^", "D"]  # the same shapes
    assert [to_hex(c.get_facecolors()[0]) for c in train] == list(zoo_plots.PALETTE[:4])
    # held out: rimmed in black; trained on: in white
    assert {to_hex(c.get_edgecolors()[0]) for c in test} == {"#000000"}
    assert {to_hex(c.get_edgecolors()[0]) for c in train} == {"#ffffff"}
    (legend,) = fig.legends
    shown = [
        (t.get_text(), marker_of(h))
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    ]
    assert shown[:4] == [("class 0 (train)", "o"), ("class 1 (train)", "s"),
                         ("class 2 (train)", "^"), ("class 3 (train)", "D")]  # fmt: skip
    # on white paper a white rim is no edge: the legend's training keys are rimmed in grey
    # (class 1's pale yellow nearly vanished), the held-out ones in black as on the map
    rims = [to_hex(h.get_edgecolor()[0]) for h in legend.legend_handles]
    assert rims == [to_hex("0.45")] * 4 + ["#000000"] * 4
    assert {to_hex(c.get_edgecolors()[0]) for c in train} == {"#ffffff"}  # the map's unchanged


def test_three_or_more_classes_differ_in_lightness_too() -> None:
    # tab10's red/green and blue/purple (classes 0/2, 1/3) were 1-3 L* apart: one grey
    for n in (3, 4):
        colours = zoo_plots.class_colors(n)
        gaps = [abs(lightness(a) - lightness(b)) for a, b in combinations(colours, 2)]
        assert min(gaps) > (15 if n == 3 else 7), (n, colours)
    # two classes keep the handout's red and blue (their markers tell them apart)
    assert zoo_plots.class_colors(2) == list(plots.CLASS_COLORS)


def test_the_comparison_draws_class_0_as_circles_and_class_1_as_squares(tmp_path: Path) -> None:
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    fig = plots.comparison_figure(x, y, np.array([0.1, 0.9, 0.2, 0.3]), tmp_path / "c.png")
    for ax in fig.axes:
        classes = scatters(ax)[:2]  # then the misclassified points' rings
        assert [marker_of(c) for c in classes] == ["o", "s"]
        assert [to_hex(c.get_facecolors()[0]) for c in classes] == list(plots.CLASS_COLORS)
    legend = fig.legends[0]
    assert [marker_of(h) for h in legend.legend_handles[:2]] == ["o", "s"]


def test_the_report_panels_and_hidden_units_draw_the_class_markers(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (12, 2))
    y = (x[:, :1] > 0).astype(float)
    held = np.r_[np.zeros(9, dtype=bool), np.ones(3, dtype=bool)]
    u, w, points = sweep_boundaries.boundary_grid(x)
    grid = (points[:, 0] > 0).astype(float).reshape(w.size, u.size)
    panel = sweep_boundaries.BoundaryPanel("p", u, w, grid, x, y, held_out=held)
    fig = sweep_boundaries.decision_boundaries([[panel]], tmp_path / "b.png")
    drawn = scatters(fig.axes[0])
    assert [marker_of(c) for c in drawn] == ["o", "s", "o", "s"]  # trained on, then held out
    assert [to_hex(c.get_edgecolors()[0]) for c in drawn] == ["#ffffff"] * 2 + ["#000000"] * 2
    assert sum(len(c.get_offsets()) for c in drawn[2:]) == 3
    layer = np.tanh(points[:, :1])
    fig = unit_plots.hidden_units(u, w, [layer], x, y, tmp_path / "u.png", kinds=["tanh"])
    assert [marker_of(c) for c in scatters(fig.axes[0])] == ["o", "s"]
