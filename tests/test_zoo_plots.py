"""Figures beyond the lab: decision regions computed right, PNGs written and read back."""

import json
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.image import imread
from matplotlib.markers import MarkerStyle

from proplab.metrics import one_hot
from proplab.plots import CLASS_COLORS
from proplab.zoo_plots import (
    PALETTE,
    class_colors,
    class_margins,
    class_regions,
    confusion_matrix_figure,
    decision_boundary,
    digit_predictions_figure,
)


def threshold_model(grid: np.ndarray) -> np.ndarray:
    """A stand-in classifier: class 1 (probability 1) right of x0 = 0.25."""
    return (grid[:, :1] > 0.25).astype(float)


def test_class_regions_follow_the_model() -> None:
    x = np.array([[-1.0, -2.0], [1.0, 2.0]])
    u, v, regions = class_regions(threshold_model, x, resolution=11)
    # box [-1, 1] x [-2, 2] widened by 8 % of its size on each side
    assert (u[0], u[-1], v[0], v[-1]) == (-1.16, 1.16, -2.32, 2.32)
    np.testing.assert_array_equal(regions, np.broadcast_to(u > 0.25, (11, 11)))
    # scores of three classes: the arg-max wins (class 2 above x1 = 0)
    three = lambda g: np.stack([-np.abs(g[:, 0]), g[:, 0], 10 * g[:, 1]], axis=1)  # noqa: E731
    _, v, regions = class_regions(three, x, resolution=11)
    assert np.all(regions[v > 0.5] == 2)


def test_decision_boundary_png_colours_each_side(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(60, 2))
    y = (x[:, :1] > 0.25).astype(int)
    path = tmp_path / "boundary.png"
    fig = decision_boundary(threshold_model, x, y, path, title="t", x_test=x[:5], y_test=y[:5])
    ax = fig.axes[0]
    assert ax.get_title() == "t"
    # 2 classes x (train, test) scatter layers, every sample drawn once
    sizes = [len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets")]
    assert sum(sizes[-4:]) == 65
    # the held-out samples: their class's marker and colour, rimmed in black as in the
    # report's panels (class 0 circles, class 1 squares)
    test_layers = ax.collections[-2:]
    assert [c.get_label() for c in test_layers] == ["class 0 (test)", "class 1 (test)"]
    for k, layer in enumerate(test_layers):
        style = MarkerStyle("os"[k])
        shape = style.get_path().transformed(style.get_transform())
        np.testing.assert_allclose(layer.get_paths()[0].vertices, shape.vertices)
        np.testing.assert_allclose(layer.get_facecolors()[0], to_rgba(CLASS_COLORS[k]))
        np.testing.assert_allclose(layer.get_edgecolors()[0], to_rgba("black"))
    image = imread(path)
    assert image.shape[2] == 4 and image.shape[0] > 300
    # background far from any sample: tinted red left of the boundary, blue right of it
    height = image.shape[0]
    for (px, py), colour in (((-1.1, 1.05), CLASS_COLORS[0]), ((1.1, -1.05), CLASS_COLORS[1])):
        col, row = ax.transData.transform((px, py)) * image.shape[1] / fig.bbox.width
        rgb = image[int(height - row), int(col), :3]
        target = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        # 28 % of the class colour over white
        np.testing.assert_allclose(rgb, 1 - 0.28 * (1 - target), atol=0.03)


def test_class_margins_against_the_obvious_loop() -> None:
    scores = np.random.default_rng(0).normal(size=(50, 4))
    margins = class_margins(scores)
    for i, row in enumerate(scores):
        for c in range(4):
            assert margins[c, i] == row[c] - max(row[k] for k in range(4) if k != c)
    # positive exactly where the class wins
    np.testing.assert_array_equal(margins.argmax(axis=0), scores.argmax(axis=1))
    assert ((margins > 0).sum(axis=0) == 1).all()
    # one output: a probability of class 1
    np.testing.assert_allclose(class_margins(np.array([[0.2], [0.7]])), [[0.3, -0.2], [-0.3, 0.2]])


def test_the_outline_follows_the_model_not_the_grid_cells() -> None:
    """The outline is the margin's zero line: on a straight boundary every vertex lies on
    it, where the cells' staircase strayed up to half a cell (1 % of the box) from it."""

    def tilted(grid: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-5 * (grid[:, :1] + 0.3 * grid[:, 1:] - 0.25)))

    x = np.random.default_rng(1).uniform(-1, 1, size=(40, 2))
    fig = decision_boundary(tilted, x, (tilted(x) > 0.5).astype(int), resolution=50)
    ax = fig.axes[0]
    lines = [c for c in ax.collections if type(c).__name__ in ("ContourSet", "QuadContourSet")]
    vertices = np.concatenate([path.vertices for c in lines[1:] for path in c.get_paths()])
    assert len(vertices) > 20
    assert np.abs(vertices[:, 0] + 0.3 * vertices[:, 1] - 0.25).max() < 2e-3


def test_confusion_matrix_figure_shows_counts(tmp_path: Path) -> None:
    matrix = np.array([[5, 1], [0, 4]])
    fig = confusion_matrix_figure(matrix, tmp_path / "cm.png", class_names=["no", "yes"])
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "4", "5"]
    assert ax.get_title() == "accuracy 90.00% (10 samples)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no", "yes"]
    assert imread(tmp_path / "cm.png").shape[0] > 100


def test_digit_grid_puts_mistakes_first(tmp_path: Path) -> None:
    images = np.zeros((5, 64))
    truth = np.array([1, 2, 3, 4, 5])
    guess = np.array([1, 7, 3, 4, 0])
    fig = digit_predictions_figure(images, truth, guess, tmp_path / "d.png", count=4, columns=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["2 \u2192 7", "5 \u2192 0", "1 \u2192 1", "3 \u2192 3"]
    colours = [ax.title.get_color() for ax in fig.axes if ax.get_title()]
    assert colours[:2] == ["#d62728"] * 2 and colours[2:] == ["black"] * 2
    assert fig.get_suptitle() == "2 mistakes of 5; mistakes first, in red"


def test_ten_classes_get_ten_hues_not_dark_and_light_pairs() -> None:
    # F9 (figs22): 9-20 classes took tab20, whose classes 2k and 2k+1 are one hue dark and
    # light (0/1 blues, 8/9 purples): neighbouring class regions read as one class
    from itertools import combinations

    from matplotlib.colors import to_rgb

    def lab(colour: str) -> np.ndarray:  # CIELAB (D65) of an sRGB colour
        rgb = np.asarray(to_rgb(colour))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
        f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    for n in (9, 10):
        colours = class_colors(n)
        assert colours[:2] == list(PALETTE[:2])  # 3+ classes: the palette (a11y24 H1)
        closest = min(np.linalg.norm(lab(a) - lab(b)) for a, b in combinations(colours, 2))
        assert closest > 25.0, n  # tab20's first ten: 16.6 (light blue and light purple)


def test_more_classes_than_the_palette_get_distinct_colours(tmp_path: Path) -> None:
    assert class_colors(2) == list(CLASS_COLORS)  # the lab's red and blue stay
    for n in (9, 20, 40):
        colours = class_colors(n)
        assert len(colours) == n and len(set(colours)) == n
    # nine classes in bands along x0 (the 8-colour palette raised IndexError here)
    x = np.column_stack([np.repeat(np.arange(9.0), 4) + 0.25, np.tile([0.1, 0.4, 0.6, 0.9], 9)])
    y = np.repeat(np.arange(9), 4)[:, None]

    def bands(grid: np.ndarray) -> np.ndarray:
        return one_hot(np.clip(grid[:, 0].astype(int), 0, 8), 9)

    path = tmp_path / "nine.png"
    fig = decision_boundary(bands, x, y, path)
    assert imread(path).shape[0] > 300
    ax = fig.axes[0]
    assert ax.get_legend() is None or len(ax.get_legend().texts) == 9
    scatters = [c for c in ax.collections if len(c.get_offsets()) == 4]
    assert len(scatters) == 9  # every class drawn, four samples each


def test_a_csv_runs_figures_name_its_classes(tmp_path: Path, monkeypatch) -> None:
    # found by audit15e: a CSV labelled 2, 9 and 10 drew its confusion matrix and its
    # boundary legend with 0, 1, 2, so the tick "2" held label 10's samples; and the
    # matrix's shade (each row's share, not the count) was not said
    from proplab import cli, zoo_plots

    rows = ["label,a,b"] + [
        f"{label},{(k % 7) / 7 + j:.3f},{(k % 5) / 5:.3f}"
        for j, label in enumerate((10, 2, 9))
        for k in range(12)
    ]
    data = tmp_path / "numbers.csv"
    data.write_text("\n".join(rows) + "\n")
    drawn = {}
    for name in ("confusion_matrix_figure", "decision_boundary"):
        original = getattr(zoo_plots, name)

        def keep(*args, _name=name, _original=original, **kwargs):
            drawn[_name] = _original(*args, **kwargs)
            return drawn[_name]

        monkeypatch.setattr(zoo_plots, name, keep)
    run = tmp_path / "run"
    argv = ["train", "--dataset", str(data), "--label", "label", "--loss", "cross_entropy",
            "--epochs", "300", "--out", str(run), "--quiet", "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 0
    assert json.loads((run / "summary.json").read_text())["classes"] == [2, 9, 10]
    matrix = drawn["confusion_matrix_figure"].axes[0]
    assert [t.get_text() for t in matrix.get_xticklabels()] == ["2", "9", "10"]
    assert [t.get_text() for t in matrix.get_yticklabels()] == ["2", "9", "10"]
    assert matrix.get_xlabel() == "predicted (shade: share of the true class)"
    legend = (
        drawn["decision_boundary"].axes[0].get_legend() or drawn["decision_boundary"].legends[0]
    )
    assert [t.get_text() for t in legend.get_texts()] == ["2 (train)", "9 (train)", "10 (train)"]
    assert (run / "confusion_matrix.png").stat().st_size > 0
