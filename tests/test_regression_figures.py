"""A regression run's figures show values and R², never classes or accuracy.

End to end: a small multi-gauss run (with a test share) and a plane run (without one)
through the CLI, every figure function spied on, so the tests measure the figures the
run really saved: the arrays they are drawn from (the value map is the model's forward
pass on its grid, the points' colours are their values on one scale), their titles
(R² as summary.json has it) and their layout (nothing overlaps, nothing off the page).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.colors import Normalize, to_rgba
from matplotlib.image import imread
from matplotlib.text import Text
from test_figures_layout import _inside, _overlapping, _renderer
from test_plots import _assert_png

from proplab import (
    cli,
    experiments,
    plots,
    sweep_boundaries,
    unit_plots,
    value_plots,
    zoo_plots,
)
from proplab.config import RunConfig, build_model
from proplab.metrics import r2_score
from proplab.runio import read_csv, read_json
from proplab.serialize import load
from proplab.snapshots import pick_epochs
from proplab.sweep_boundaries import boundary_grid

FIGURES = ("comparison.png", "learning_curve.png", "decision_boundary.png")
SPIED = {
    plots: ("learning_curve", "comparison_figure"),
    zoo_plots: ("decision_boundary",),
    value_plots: (
        "value_comparison_figure", "predicted_vs_target_figure", "value_map", "value_maps",
    ),
}  # fmt: skip


class Run:
    """A finished run: its folder, summary, data, model, what it printed, its figures."""

    def __init__(self, folder: Path, stderr: str, caught: list, figures: dict) -> None:
        self.folder, self.stderr, self.caught, self.figures = folder, stderr, caught, figures
        self.summary = read_json(folder / "summary.json")
        self.cfg, prep = experiments.prepare_run(experiments.read_run_config(folder))
        self.x, self.y, self.x_test, self.y_test = prep.x, prep.y, prep.x_test, prep.y_test
        self.model = load(folder / "model.npz")
        targets = [self.y] if self.y_test is None else [self.y, self.y_test]
        self.limit = max(float(np.abs(t).max()) for t in targets)


def _spied_run(tmp: Path, argv: list[str], code: int = 0) -> Run:
    """Run the CLI with every figure function wrapped to keep the figures it returns
    (``code``: the exit code it must end with; 1 for a diverged run)."""
    figures: dict[str, list] = {}
    err = io.StringIO()

    def spy_on(real, name):
        def spy(*args, **kwargs):
            figure = real(*args, **kwargs)
            figures.setdefault(name, []).append(figure)
            return figure

        return spy

    with pytest.MonkeyPatch.context() as mp:
        for module, names in SPIED.items():
            for name in names:
                mp.setattr(module, name, spy_on(getattr(module, name), name))
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("always")
            assert cli.main([*argv, "--out", str(tmp), "--print-every", "0"]) == code
    return Run(tmp, err.getvalue(), caught, figures)


@pytest.fixture(scope="module")
def gauss(tmp_path_factory) -> Run:
    """multi-gauss, 160 samples, a 25 % test share: 400 epochs of a 2-8-8-1 tanh net."""
    argv = ["train", "--dataset", "multi-gauss", "--n", "160", "--hidden", "8"]
    argv += ["--activation", "tanh", "--optimizer", "adam", "--lr", "0.02", "--epochs", "400"]
    return _spied_run(tmp_path_factory.mktemp("gauss"), [*argv, "--test-fraction", "0.25"])


@pytest.fixture(scope="module")
def plane(tmp_path_factory) -> Run:
    """plane, 100 samples, no test share: 300 epochs of a 2-4-4-1 tanh net."""
    argv = ["train", "--dataset", "plane", "--hidden", "4", "--activation", "tanh"]
    argv += ["--optimizer", "adam", "--lr", "0.02", "--epochs", "300"]
    return _spied_run(tmp_path_factory.mktemp("plane"), argv)


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory) -> Run:
    """The README's overfitting lesson: diabetes (10 inputs, a fifth held out by its
    defaults) at lr 0.01 for 1 000 epochs."""
    argv = ["train", "--dataset", "diabetes", "--lr", "0.01", "--epochs", "1000"]
    return _spied_run(tmp_path_factory.mktemp("diabetes"), argv)


@pytest.fixture(scope="module")
def csv3(tmp_path_factory) -> Run:
    """A CSV regression of three input columns, a fifth held out."""
    folder = tmp_path_factory.mktemp("csv3")
    x = np.random.default_rng(0).uniform(-1, 1, size=(120, 3))
    price = 1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] ** 2
    rows = [
        "a,b,c,price",
        *(",".join(f"{v:.6f}" for v in (*r, t)) for r, t in zip(x, price, strict=True)),
    ]
    (folder / "prices.csv").write_text("\n".join(rows) + "\n")
    argv = ["train", "--dataset", str(folder / "prices.csv"), "--label", "price"]
    argv += ["--task", "regression", "--test-fraction", "0.2", "--activation", "tanh"]
    argv += ["--optimizer", "adam", "--lr", "0.01", "--epochs", "300"]
    return _spied_run(folder / "run", argv)


@pytest.fixture(scope="module")
def diverged(tmp_path_factory) -> Run:
    """plane under SGD at lr 5: its loss reaches inf at epoch 79, its predictions ~1e155
    (finite: their squares overflow)."""
    argv = ["train", "--dataset", "plane", "--optimizer", "sgd", "--lr", "5"]
    argv += ["--test-fraction", "0.2", "--epochs", "300"]
    return _spied_run(tmp_path_factory.mktemp("diverged"), argv, code=1)


def _texts(fig) -> list[str]:
    """Every piece of text a figure shows: titles, labels, tick labels, legends."""
    found = [t.get_text() for t in fig.findobj(Text)]
    return [t for t in found if t]


def _faces(collection: PathCollection) -> np.ndarray:
    return np.asarray(collection.get_facecolors())[:, :3]


def _value_colours(values: np.ndarray, limit: float) -> np.ndarray:
    """The colours a value scale of [-limit, limit] gives ``values``."""
    norm = Normalize(-limit, limit)
    return value_plots.VALUE_CMAP(norm(np.ravel(values)))[:, :3]


# --- the run itself ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gauss", "plane", "diabetes", "csv3"])
def test_every_figure_is_written_as_a_png_without_a_warning(name: str, request) -> None:
    run: Run = request.getfixturevalue(name)
    # decision_boundary.png failed here: for diabetes, "a value map needs 2-D inputs"
    assert "warning" not in run.stderr.lower(), run.stderr
    assert [str(w.message) for w in run.caught] == []
    two_inputs = run.x.shape[1] == 2
    drawn = (*FIGURES, "boundary_during_training.png") if two_inputs else FIGURES[:2]
    for figure in drawn:
        image = _assert_png(run.folder / figure, min_bytes=10_000)
        assert image.shape[2] in (3, 4) and image[..., :3].std() > 0.05  # not a blank page
    # no plane to draw the value on for other inputs: no map, and nothing said about one
    assert sorted(p.name for p in run.folder.glob("*.png")) == sorted(
        [*drawn, "gradients.png"] if two_inputs else drawn
    )
    # values, never classes: no classification figure was even started
    assert "comparison_figure" not in run.figures and "decision_boundary" not in run.figures
    assert run.summary["accuracy"] is None and run.summary["r2"] > 0.5


def test_no_figure_speaks_of_accuracy_or_classes(gauss: Run, plane: Run, diabetes: Run) -> None:
    for run in (gauss, plane, diabetes):
        for name, figs in run.figures.items():
            for fig in figs:
                text = " ".join(_texts(fig)).lower()
                assert "accuracy" not in text and "class" not in text, (name, text)
                assert "nan" not in text, (name, text)  # the "nan %" panel titles


# --- decision_boundary.png: the predicted value over the plane ---------------------------


def test_the_value_map_is_the_models_forward_pass_on_its_grid(gauss: Run) -> None:
    (fig,) = gauss.figures["value_map"]
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    edges = mesh.get_coordinates()  # (G+1, G+1, 2) cell corners around the grid points
    centres = (edges[:-1, :-1] + edges[1:, 1:]) / 2
    expected = gauss.model.forward(centres.reshape(-1, 2)).reshape(centres.shape[:2])
    np.testing.assert_allclose(np.ma.getdata(mesh.get_array()).reshape(expected.shape), expected)
    # the grid covers every sample, training and test, with a margin
    everything = np.concatenate([gauss.x, gauss.x_test])
    assert (centres[0, 0] < everything.min(axis=0)).all()
    assert (centres[-1, -1] > everything.max(axis=0)).all()
    # one colour scale centred on 0, as wide as the largest |target|
    assert mesh.norm.vmin == pytest.approx(-gauss.limit)
    assert mesh.norm.vmax == pytest.approx(gauss.limit)
    assert mesh.cmap is value_plots.VALUE_CMAP


def test_the_samples_are_filled_with_their_targets_on_the_same_scale(gauss: Run) -> None:
    (fig,) = gauss.figures["value_map"]
    train, test = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(train.get_offsets(), gauss.x)
    np.testing.assert_allclose(_faces(train), _value_colours(gauss.y, gauss.limit), atol=1e-6)
    np.testing.assert_array_equal(test.get_offsets(), gauss.x_test)
    np.testing.assert_allclose(_faces(test), _value_colours(gauss.y_test, gauss.limit), atol=1e-6)
    # the test samples are told apart by their marker, as the legend says
    assert not np.array_equal(train.get_paths()[0].vertices, test.get_paths()[0].vertices)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["training sample (filled with its target)", "test sample"]


def test_the_value_map_title_gives_the_summarys_r2(gauss: Run, plane: Run) -> None:
    (fig,) = gauss.figures["value_map"]
    title = fig.axes[0].get_title()
    assert f"training R² {gauss.summary['r2']:.4f}" in title
    assert f"test R² {gauss.summary['test_r2']:.4f}" in title
    # and the summary's R² is the model's on the data (what the title claims)
    assert gauss.summary["test_r2"] == pytest.approx(
        r2_score(gauss.model.forward(gauss.x_test), gauss.y_test)
    )
    (fig,) = plane.figures["value_map"]
    assert (
        fig.axes[0].get_title()
        == f"plane: the predicted value\ntraining R² {plane.summary['r2']:.4f}"
    )


def test_the_value_map_has_a_colour_bar_and_labelled_contours(gauss: Run) -> None:
    (fig,) = gauss.figures["value_map"]
    ax = fig.axes[0]
    (bar,) = ax.child_axes  # an inset beside the plot, as tall as it
    assert bar.get_ylabel() == "predicted value (samples: their target)"
    assert bar.get_ylim() == pytest.approx((-gauss.limit, gauss.limit))
    levels = value_plots.value_levels(gauss.limit)
    labels = sorted(float(t.get_text().replace("\u2212", "-")) for t in ax.texts)
    assert labels and set(labels) <= {float(lv) for lv in levels}
    renderer = _renderer(fig)
    boxes = [ax.title.get_window_extent(renderer), fig.legends[0].get_window_extent(renderer)]
    boxes.append(bar.get_tightbbox(renderer))  # ticks and label
    assert all(_inside(fig, b) for b in boxes)
    assert _overlapping(boxes) == []
    # the bar is as tall as the plot (it overshot an equal-scale plot by 20 %)
    plot, strip = ax.get_window_extent(renderer), bar.get_window_extent(renderer)
    assert strip.y0 == pytest.approx(plot.y0, abs=1) and strip.y1 == pytest.approx(plot.y1, abs=1)
    # the PNG is the whole figure at plots.DPI, not a tight crop, to within the pixel that
    # matplotlib rounds: this width is 4.6 + 1.6 = 6.199999999999999 in, 743.9999999 px,
    # which matplotlib 3.8.4 truncates to 743 and 3.11 writes as 744
    png = imread(gauss.folder / "decision_boundary.png").shape[:2]
    assert np.abs(np.subtract(png, fig.get_size_inches()[::-1] * plots.DPI)).max() < 1


def test_contour_levels_and_limits() -> None:
    np.testing.assert_allclose(value_plots.value_levels(1.0), [-0.5, 0.5])
    np.testing.assert_allclose(value_plots.value_levels(0.84), [-0.4, 0.4])
    np.testing.assert_allclose(value_plots.value_levels(30.0), [-20.0, 20.0])  # 15, 1 digit
    assert value_plots.value_limit(np.array([[0.2], [-0.7]]), None, np.array([0.5])) == 0.7
    assert value_plots.value_limit(np.zeros((3, 1))) == 1.0  # a flat target still gets a scale
    assert value_plots.value_extend(np.array([-2.0, 0.5]), 1.0) == "min"
    assert value_plots.value_extend(np.array([-2.0, 1.5]), 1.0) == "both"
    assert value_plots.value_extend(np.array([np.nan, 0.5]), 1.0) == "neither"


def test_predictions_beyond_the_scale_are_said_in_words(tmp_path: Path) -> None:
    # a model stuck at -15 (the plane under the lab's sigmoid + lr 1): all one end colour
    x = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    y = x.sum(axis=1, keepdims=True) / 2
    fig = value_plots.value_map(lambda g: np.full((len(g), 1), -15.25), x, y, tmp_path / "m.png")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    limit = float(np.abs(y).max())
    assert legend[-1] == f"predicted values from -15.2 to -15.2 (beyond ±{limit:.3g}: end colours)"
    (bar,) = fig.axes[0].child_axes
    assert bar.get_ylabel().startswith("predicted value")
    assert _inside(fig, fig.legends[0].get_window_extent(_renderer(fig)))
    # the comparison figure says it too, and how far off the predictions are
    fig = value_plots.value_comparison_figure(x, y, np.full((50, 1), -15.25), tmp_path / "c.png")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    error = np.abs(-15.25 - y)
    assert legend == [
        f"|prediction - target|: mean {error.mean():.3g}, largest {error.max():.3g}",
        f"predictions from -15.2 to -15.2 (beyond ±{limit:.3g}: end colours)",
    ]
    assert _inside(fig, fig.legends[0].get_window_extent(_renderer(fig)))


# --- comparison.png ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gauss", "plane"])
def test_the_comparison_colours_truth_and_prediction_by_value(name: str, request) -> None:
    run: Run = request.getfixturevalue(name)
    (fig,) = run.figures["value_comparison_figure"]
    truth_ax, pred_ax, bar = fig.axes
    assert (truth_ax.get_title(), pred_ax.get_title()) == ("Ground truth", "Predict result")
    (truth,) = truth_ax.collections
    (guess,) = pred_ax.collections
    np.testing.assert_array_equal(truth.get_offsets(), run.x)
    np.testing.assert_array_equal(guess.get_offsets(), run.x)
    np.testing.assert_allclose(_faces(truth), _value_colours(run.y, run.limit), atol=1e-6)
    pred = run.model.forward(run.x)
    np.testing.assert_allclose(_faces(guess), _value_colours(pred, run.limit), atol=1e-6)
    assert bar.get_ylim() == pytest.approx((-run.limit, run.limit))
    title = fig.get_suptitle().replace("\n", " ")
    assert f", R² {run.summary['r2']:.4f}" in title
    if run.x_test is not None:
        assert title.endswith(f"(training data; test R² {run.summary['test_r2']:.4f})")
    error = np.abs(pred - run.y)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [f"|prediction - target|: mean {error.mean():.3g}, largest {error.max():.3g}"]
    renderer = _renderer(fig)
    assert _inside(fig, fig._suptitle.get_window_extent(renderer))
    assert _inside(fig, bar.get_tightbbox(renderer))
    assert not bar.get_tightbbox(renderer).overlaps(pred_ax.get_window_extent(renderer))


def test_a_nan_prediction_is_a_grey_cross_not_a_value(tmp_path: Path) -> None:
    x = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    y = np.array([[-0.5], [0.0], [0.5], [1.0]])
    pred = np.array([[np.nan], [0.1], [np.inf], [0.9]])
    fig = value_plots.value_comparison_figure(x, y, pred, tmp_path / "c.png")
    values, crosses = fig.axes[1].collections
    np.testing.assert_array_equal(values.get_offsets(), x[[1, 3]])
    np.testing.assert_allclose(_faces(values), _value_colours(pred[[1, 3]], 1.0), atol=1e-6)
    np.testing.assert_array_equal(crosses.get_offsets(), x[[0, 2]])
    np.testing.assert_allclose(_faces(crosses)[0], to_rgba(value_plots.NO_VALUE_COLOR)[:3])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == "no prediction: NaN/inf (2 of 4)"
    assert legend[1] == "|prediction - target|: mean 0.1, largest 0.1"
    _assert_png(tmp_path / "c.png")


# --- learning_curve.png ------------------------------------------------------------------


def test_the_learning_curve_is_loss_only_with_the_test_loss_beside_it(gauss: Run) -> None:
    (fig,) = gauss.figures["learning_curve"]
    (ax,) = fig.axes  # no accuracy axis
    assert ax.get_ylabel() == "loss (log scale)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["training loss", "test loss"]
    train, test = ax.get_lines()
    rows = read_csv(gauss.folder / "history.csv")
    np.testing.assert_array_equal(train.get_xdata(), [int(r["epoch"]) for r in rows])
    np.testing.assert_allclose(train.get_ydata(), [float(r["loss"]) for r in rows])
    kept = read_csv(gauss.folder / "test_loss.csv")
    epochs = np.array([int(r["epoch"]) for r in kept])
    # drawn where history.csv has the training loss of the same weights: epoch + 1
    np.testing.assert_array_equal(test.get_xdata(), epochs + 1)
    np.testing.assert_allclose(test.get_ydata(), [float(r["test_loss"]) for r in kept])
    assert epochs[0] == 0 and epochs[-1] == 400 and len(epochs) > 100
    # the test loss of the final weights is the summary's, of the first the untrained model's
    assert float(kept[-1]["test_loss"]) == pytest.approx(gauss.summary["test_loss"], rel=1e-12)
    first = build_model(gauss.cfg, 2, 1, samples=len(gauss.x))
    untrained = np.mean((first.forward(gauss.x_test) - gauss.y_test) ** 2)
    assert float(kept[0]["test_loss"]) == pytest.approx(untrained, rel=1e-12)
    # the first row is the initial training loss too: both curves start from one model
    np.testing.assert_allclose(
        float(rows[0]["loss"]), np.mean((first.forward(gauss.x) - gauss.y) ** 2), rtol=1e-12
    )
    assert ax.get_xlim()[1] >= epochs[-1] + 1  # the final model's point is not cut off


def test_without_a_test_share_the_curve_is_the_loss_alone(plane: Run) -> None:
    (fig,) = plane.figures["learning_curve"]
    (ax,) = fig.axes
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["loss"]
    assert len(ax.get_lines()) == 1
    assert not (plane.folder / "test_loss.csv").exists()


def test_a_classification_curve_keeps_its_accuracy_axis(tmp_path: Path) -> None:
    from test_plots import _history

    fig = plots.learning_curve(_history([0.3, 0.2, 0.1], [0.5, 0.75, 1.0]), tmp_path / "lc.png")
    ax, twin = fig.axes
    assert twin.get_ylabel() == "accuracy (%)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["loss", "accuracy"]


# --- boundary_during_training.png --------------------------------------------------------


def test_the_value_as_it_forms_at_the_picked_epochs(gauss: Run) -> None:
    (fig,) = gauss.figures["value_maps"]
    panels = [a for a in fig.axes if a.get_title()]
    rows = read_csv(gauss.folder / "history.csv")
    kept = [int(r["epoch"]) for r in read_csv(gauss.folder / "test_loss.csv")]
    picked = pick_epochs(kept, [float(r["loss"]) for r in rows])
    assert len(panels) == len(picked) >= 3
    for ax, epoch in zip(panels, picked, strict=True):
        assert ax.get_title().startswith(f"after {epoch:,} epoch")
    # named inputs as the classification's panels have them (figs22 F10: none at all)
    assert [ax.get_xlabel() for ax in panels] == ["x1"] * len(panels)
    assert [ax.get_ylabel() for ax in panels] == ["x2"] + [""] * (len(panels) - 1)
    # the last panel is the final model: its map and both R² are the summary's
    last = panels[-1]
    # (the first R² is the training data's, and says so: audit15c L3)
    assert last.get_title().endswith(
        f"\ntraining R² {gauss.summary['r2']:.4f}\ntest R² {gauss.summary['test_r2']:.4f}"
    )
    (mesh,) = [c for c in last.collections if isinstance(c, QuadMesh)]
    u, v, points = boundary_grid(gauss.x)
    expected = gauss.model.forward(points).reshape(v.size, u.size)
    np.testing.assert_allclose(np.ma.getdata(mesh.get_array()).reshape(expected.shape), expected)
    assert (mesh.norm.vmin, mesh.norm.vmax) == pytest.approx((-gauss.limit, gauss.limit))
    (dots,) = [c for c in last.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(_faces(dots), _value_colours(gauss.y, gauss.limit), atol=1e-6)
    # the first panel is the untrained model's, far from the end's
    first_title = panels[0].get_title()
    first = build_model(gauss.cfg, 2, 1, samples=len(gauss.x))
    assert f"R² {r2_score(first.forward(gauss.x), gauss.y):.4f}" in first_title
    renderer = _renderer(fig)
    titles = [a.title.get_window_extent(renderer) for a in panels]
    assert _overlapping(titles) == [] and all(_inside(fig, t) for t in titles)
    assert _inside(fig, fig._suptitle.get_window_extent(renderer))
    bar = [a for a in fig.axes if a not in panels][0]
    assert bar.get_ylim() == pytest.approx((-gauss.limit, gauss.limit))


# --- write_run_figures: the same figures from the saved files ----------------------------


@pytest.mark.parametrize("name", ["gauss", "diabetes"])
def test_redrawing_from_the_files_gives_the_same_figures(name: str, request) -> None:
    run: Run = request.getfixturevalue(name)
    figures = FIGURES if run.x.shape[1] == 2 else FIGURES[:2]  # diabetes: no value map
    saved = {figure: imread(run.folder / figure) for figure in figures}
    for figure in figures:
        (run.folder / figure).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        experiments.write_run_figures(run.folder)
    for figure in figures:
        np.testing.assert_array_equal(imread(run.folder / figure), saved[figure], err_msg=figure)
    assert not (run.folder / "decision_boundary.png").exists() or run.x.shape[1] == 2


def test_a_run_trained_without_figures_shows_the_final_test_loss(tmp_path: Path) -> None:
    cfg = RunConfig(
        dataset="multi-gauss", n=60, hidden=[4], activation="tanh", optimizer="adam",
        lr=0.02, epochs=40, test_fraction=0.25, output_activation="identity", print_every=0,
    )  # fmt: skip
    summary = experiments.run_one(cfg, tmp_path, quiet=True, progress=False, figures=False)
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "test_loss.csv").exists()
    spied: dict[str, list] = {}
    real = plots.learning_curve

    def spy(*args, **kwargs):
        spied.setdefault("curve", []).append(real(*args, **kwargs))
        return spied["curve"][-1]

    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(err):
        mp.setattr(plots, "learning_curve", spy)
        experiments.write_run_figures(tmp_path)
    assert err.getvalue() == ""
    for name in FIGURES:
        _assert_png(tmp_path / name, min_bytes=10_000)
    (fig,) = spied["curve"]
    train, test = fig.axes[0].get_lines()
    # a sweep's run kept no weights: the final model's test loss, one marked point
    assert list(test.get_xdata()) == [41] and test.get_marker() == "o"
    assert test.get_ydata()[0] == pytest.approx(summary["test_loss"])


# --- the hidden units' figure ------------------------------------------------------------


def test_hidden_units_colour_a_regressions_samples_by_value(tmp_path: Path) -> None:
    x = np.array([[-0.5, -0.5], [0.0, 0.2], [0.5, 0.5]])
    u = v = np.linspace(-1, 1, 5)
    layer = np.tanh(np.stack([np.add.outer(v, u).ravel()], axis=1))  # one unit, (25, 1)
    values = np.array([[-0.8], [0.3], [0.6]])  # thresholding at 0.5 would call two "class 0"
    fig = unit_plots.hidden_units(u, v, [layer], x, values, tmp_path / "u.png", kinds=["tanh"])
    (dots,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(_faces(dots), _value_colours(values, 0.8), atol=1e-6)
    # 0/1 labels keep the class colours
    labels = np.array([[0], [1], [1]])
    fig = unit_plots.hidden_units(u, v, [layer], x, labels, tmp_path / "u.png", kinds=["tanh"])
    red, blue = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(_faces(red)[0], to_rgba(plots.CLASS_COLORS[0])[:3])
    np.testing.assert_array_equal(blue.get_offsets(), x[1:])


# --- other than two inputs: each prediction against its target ---------------------------


@pytest.mark.parametrize("name", ["diabetes", "csv3"])
def test_the_comparison_plots_each_prediction_against_its_target(name: str, request) -> None:
    run: Run = request.getfixturevalue(name)
    assert "value_comparison_figure" not in run.figures  # not "inputs 1 and 2 of 10"
    (fig,) = run.figures["predicted_vs_target_figure"]
    (ax,) = fig.axes
    train, test = ax.collections  # nothing off the axes in these runs: two scatters
    pred, pred_test = run.model.forward(run.x), run.model.forward(run.x_test)
    np.testing.assert_allclose(train.get_offsets(), np.column_stack([run.y, pred]), rtol=1e-12)
    np.testing.assert_allclose(
        test.get_offsets(), np.column_stack([run.y_test, pred_test]), rtol=1e-12
    )
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("target", "prediction")
    # the line y = x across the whole square, and the training targets' mean (R² 0)
    diagonal, mean = ax.get_lines()
    np.testing.assert_array_equal(diagonal.get_xdata(), diagonal.get_ydata())
    assert tuple(diagonal.get_xdata()) == ax.get_xlim() == ax.get_ylim()
    assert mean.get_ydata()[0] == pytest.approx(float(run.y.mean()))
    # the summary's R² in the title (training, then test)
    title = ax.get_title().replace("\n", " ")
    r2, test_r2 = run.summary["r2"], run.summary["test_r2"]
    assert title.endswith(f"R² {r2:.4f} (training data; test R² {test_r2:.4f})")
    assert r2 == pytest.approx(r2_score(pred, run.y)) and test_r2 == pytest.approx(
        r2_score(pred_test, run.y_test)
    )
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        f"{len(run.x)} training samples",
        f"{len(run.x_test)} test samples (held out)",
        "prediction = target",
        "predicting the training mean (R² 0)",
    ]
    renderer = _renderer(fig)
    boxes = [ax.title.get_window_extent(renderer), fig.legends[0].get_window_extent(renderer)]
    assert all(_inside(fig, b) for b in boxes) and _overlapping(boxes) == []


def test_predictions_off_the_axes_and_nan_are_said_not_hidden(tmp_path: Path) -> None:
    y = np.linspace(-1.0, 1.0, 9).reshape(-1, 1)
    pred = y.copy()
    pred[2], pred[5], pred[7] = 1e150, -40.0, np.nan
    fig = value_plots.predicted_vs_target_figure(y, pred, tmp_path / "p.png")
    (ax,) = fig.axes
    low, high = ax.get_xlim()
    # the axes reach one span of the targets (2) beyond them at most (plus 4 %), not 1e150
    assert -3.3 < low < -3.0 and 3.0 < high < 3.3 and ax.get_ylim() == (low, high)
    inside, up, down = ax.collections
    np.testing.assert_array_equal(
        inside.get_offsets(), np.column_stack([y, pred])[[0, 1, 3, 4, 6, 8]]
    )
    np.testing.assert_array_equal(up.get_offsets(), [[y[2, 0], high]])
    np.testing.assert_array_equal(down.get_offsets(), [[y[5, 0], low]])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[-2:] == [
        "no prediction: NaN/inf (1 of 9 training samples)",
        "2 predictions off the axes (-40 to 1e+150), drawn at the edge",
    ]
    assert _inside(fig, fig.legends[0].get_window_extent(_renderer(fig)))
    _assert_png(tmp_path / "p.png")


# --- diabetes: the test loss as it trains (the overfitting lesson) -----------------------


def test_diabetes_keeps_its_weights_for_the_test_curve(diabetes: Run) -> None:
    kept = read_csv(diabetes.folder / "test_loss.csv")
    epochs = np.array([int(r["epoch"]) for r in kept])
    losses = np.array([float(r["test_loss"]) for r in kept])
    assert epochs[0] == 0 and epochs[-1] == 1000 and len(epochs) > 100
    # the last point is the final model's: the summary's test loss
    assert losses[-1] == pytest.approx(diabetes.summary["test_loss"], rel=1e-12)
    first = build_model(diabetes.cfg, 10, 1, samples=len(diabetes.x))
    untrained = np.mean((first.forward(diabetes.x_test) - diabetes.y_test) ** 2)
    assert losses[0] == pytest.approx(untrained, rel=1e-12)
    (fig,) = diabetes.figures["learning_curve"]
    (ax,) = fig.axes
    train, test, ring = ax.get_lines()
    np.testing.assert_array_equal(test.get_xdata(), epochs + 1)
    np.testing.assert_allclose(test.get_ydata(), losses)
    # the lesson the README states: the training R² passes 0.75 while the test R² falls
    # below 0; the test loss bottoms out early and ends well above its lowest
    assert diabetes.summary["r2"] > 0.75 and diabetes.summary["test_r2"] < 0
    lowest = int(np.argmin(losses))
    assert epochs[lowest] < 100 and losses[-1] > 2 * losses[lowest]
    # ... while the training loss kept falling: the lowest test loss is ringed and named
    assert (ring.get_xdata()[0], ring.get_ydata()[0]) == (epochs[lowest] + 1, losses[lowest])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        "training loss",
        "test loss",
        f"lowest test loss ({losses[lowest]:.3g}, epoch {epochs[lowest] + 1})",
    ]
    assert _inside(fig, fig.legends[0].get_window_extent(_renderer(fig)))


# --- a diverged run ----------------------------------------------------------------------


def test_a_diverged_run_draws_no_value_map_and_warns_nothing(diverged: Run) -> None:
    assert diverged.summary["stop_reason"] == "diverged" and diverged.summary["r2"] is None
    # its predictions are finite, but a map of them is one end colour and a stray line
    assert np.isfinite(diverged.model.forward(diverged.x)).all()
    assert "value_map" not in diverged.figures and "value_maps" not in diverged.figures
    assert not (diverged.folder / "decision_boundary.png").exists()
    assert not (diverged.folder / "boundary_during_training.png").exists()
    assert [str(w.message) for w in diverged.caught] == []  # no overflow in square
    assert "warning" not in diverged.stderr.lower(), diverged.stderr
    for name in FIGURES[:2]:  # the comparison and the learning curve say it diverged
        _assert_png(diverged.folder / name)
    (fig,) = diverged.figures["value_comparison_figure"]
    assert fig.get_suptitle().endswith("R² n/a (diverged)")
    # nothing ringed on a curve that rose with the training loss
    (fig,) = diverged.figures["learning_curve"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert not any(label.startswith("lowest") for label in labels)


# --- one palette for every regression figure ---------------------------------------------


def test_a_sweeps_value_panels_use_the_runs_palette(tmp_path: Path) -> None:
    x = np.array([[-0.5, -0.5], [0.0, 0.2], [0.5, 0.5]])
    y = np.array([[-0.4], [0.1], [0.6]])
    u, v, points = boundary_grid(x, size=11)
    panel = sweep_boundaries.BoundaryPanel("p", u, v, points.sum(axis=1).reshape(11, 11), x, y)
    fig = sweep_boundaries.decision_boundaries([[panel]], tmp_path / "b.png")
    (dots,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    # a sweep's scale is at least [-1, 1] (the zoo's targets), in the run figures' colours
    np.testing.assert_allclose(_faces(dots), _value_colours(y, 1.0), atol=1e-6)
    # named apart from a run's scale, the largest |target| (0.6 here)
    assert sweep_boundaries.panels_value_limit([panel]) == 1.0 and value_plots.value_limit(y) == 0.6
    (mesh,) = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    assert mesh.cmap is value_plots.VALUE_CMAP_PALE
    # the pale map runs through the same colours: red below 0, white at 0, blue above
    for cmap in (value_plots.VALUE_CMAP, value_plots.VALUE_CMAP_PALE):
        (r0, _, b0), white, (r1, _, b1) = (cmap(at)[:3] for at in (0.0, 0.5, 1.0))
        assert r0 > b0 and b1 > r1 and min(white) > 0.99
