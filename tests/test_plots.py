"""Figures: written as real PNGs, with the handout's titles, colours and thresholding."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.image import imread

from proplab import plots
from proplab.data import generate_xor_easy
from proplab.history import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED, BLUE = to_rgba(plots.CLASS_COLORS[0]), to_rgba(plots.CLASS_COLORS[1])


def _assert_png(path: Path, min_bytes: int = 15_000) -> np.ndarray:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > min_bytes  # a blank canvas is a few kB
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    return imread(path)


def _points_by_colour(ax) -> dict[tuple, np.ndarray]:
    """Scatter points of one axes grouped by face colour (rings have no face colour)."""
    out: dict[tuple, list] = {}
    for coll in ax.collections:
        faces = coll.get_facecolors()
        offsets = coll.get_offsets()
        if len(faces) == 0 or len(offsets) == 0:
            continue
        out.setdefault(tuple(np.round(faces[0], 4)), []).extend(np.asarray(offsets).tolist())
    return {k: np.array(v) for k, v in out.items()}


def test_comparison_figure_titles_colours_and_threshold(tmp_path: Path) -> None:
    x = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    y = np.array([[0], [1], [0], [1]])
    # 0.49 -> class 0, 0.51 -> class 1: two of four predictions are wrong
    pred = np.array([[0.2], [0.49], [0.51], [0.9]])
    fig = plots.comparison_figure(x, y, pred, tmp_path / "cmp.png", title="demo")
    truth_ax, pred_ax = fig.axes[:2]
    assert truth_ax.get_title() == "Ground truth"
    assert pred_ax.get_title() == "Predict result"
    assert fig.get_suptitle() == "demo"

    key = lambda c: tuple(np.round(c, 4))  # noqa: E731
    truth = _points_by_colour(truth_ax)
    np.testing.assert_array_equal(truth[key(RED)], x[[0, 2]])
    np.testing.assert_array_equal(truth[key(BLUE)], x[[1, 3]])
    guess = _points_by_colour(pred_ax)
    np.testing.assert_array_equal(guess[key(RED)], x[[0, 1]])
    np.testing.assert_array_equal(guess[key(BLUE)], x[[2, 3]])
    # the misclassified points are ringed, and the legend counts them
    rings = [c for c in pred_ax.collections if len(c.get_facecolors()) == 0]
    np.testing.assert_array_equal(rings[0].get_offsets(), x[[1, 2]])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["class 0", "class 1", "misclassified (2 of 4)"]

    image = _assert_png(tmp_path / "cmp.png")
    rgb = image[..., :3].reshape(-1, 3)
    # both class colours really are drawn
    for colour in (RED, BLUE):
        assert np.any(np.all(np.abs(rgb - np.array(colour[:3])) < 0.02, axis=1))


def test_comparison_figure_shows_nan_predictions_as_none(tmp_path: Path) -> None:
    # a diverged model predicts NaN: neither class, and not "misclassified" as class 0
    x = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    y = np.array([[0], [1], [0], [1]])
    pred = np.array([[np.nan], [0.9], [np.inf], [np.nan]])
    fig = plots.comparison_figure(x, y, pred, tmp_path / "cmp.png")
    key = lambda c: tuple(np.round(c, 4))  # noqa: E731
    guess = _points_by_colour(fig.axes[1])
    assert key(RED) not in guess  # no point predicted as class 0
    np.testing.assert_array_equal(guess[key(BLUE)], x[[1]])
    np.testing.assert_array_equal(guess[key(to_rgba("0.6"))], x[[0, 2, 3]])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["class 0", "class 1", "no prediction: NaN/inf (3 of 4)"]
    _assert_png(tmp_path / "cmp.png")


def test_a_diverged_two_logit_model_is_drawn_with_no_class(tmp_path: Path, monkeypatch) -> None:
    # argmax of NaN logits is 0: the comparison figure would show every point as class 0
    from proplab import run_figures
    from proplab.config import RunConfig

    seen = {}

    def capture(x, y, pred, path, title=None, feature_names=None, class_names=None):
        seen["pred"] = np.asarray(pred, dtype=np.float64)

    monkeypatch.setattr(plots, "comparison_figure", capture)
    x, y = generate_xor_easy()
    logits = np.full((len(x), 2), np.nan)
    logits[0] = [0.0, 1.0]  # one finite row: class 1
    cfg = RunConfig(loss="cross_entropy", output_activation="identity")
    run_figures.lab_figures(tmp_path, cfg, History(), x, y, logits, None)
    assert seen["pred"][0] == 1 and np.isnan(seen["pred"][1:]).all()


def test_comparison_figure_names_its_axes_by_the_features_given(tmp_path: Path) -> None:
    x = np.array([[0.1, 0.2, 5.0], [0.3, 0.4, 6.0], [0.5, 0.6, 7.0], [0.7, 0.8, 8.0]])
    y = np.array([[0], [1], [0], [1]])
    pred = np.array([[0.2], [0.7], [0.3], [0.9]])
    named = plots.comparison_figure(
        x, y, pred, tmp_path / "named.png", feature_names=["height", "weight", "age"]
    )
    assert [ax.get_xlabel() for ax in named.axes[:2]] == ["height (inputs 1 and 2 of 3 shown)"] * 2
    assert named.axes[0].get_ylabel() == "weight"
    _assert_png(tmp_path / "named.png")
    # without names (or with a count that is not the inputs'), numbered as --features does
    for names in (None, ["height", "weight"]):
        plain = plots.comparison_figure(x, y, pred, tmp_path / "plain.png", feature_names=names)
        assert plain.axes[0].get_xlabel() == "$x_1$ (inputs 1 and 2 of 3 shown)"
        assert plain.axes[0].get_ylabel() == "$x_2$"
    # a column name is plain text: its "$" is not the start of mathtext
    money = plots.comparison_figure(
        x[:, :2], y, pred, tmp_path / "money.png", feature_names=["price $", "cost $"]
    )
    assert money.axes[0].get_xlabel() == r"price \$" and money.axes[0].get_ylabel() == r"cost \$"
    _assert_png(tmp_path / "money.png")
    # one input: against the sample index, the input named
    one = plots.comparison_figure(x[:, :1], y, pred, tmp_path / "one.png", feature_names=["h"])
    assert (one.axes[0].get_xlabel(), one.axes[0].get_ylabel()) == ("sample", "h")


def test_a_csv_runs_comparison_figure_names_the_csv_columns(tmp_path: Path, monkeypatch) -> None:
    # the run knows the columns (summary.json's "features"): its figure said x1, x2
    from proplab.config import RunConfig
    from proplab.experiments import run_one
    from proplab.value_plots import value_comparison_figure

    drawn = {}

    def keep(draw):
        def wrapped(*args, **kwargs):
            fig = draw(*args, **kwargs)
            drawn[draw.__name__] = (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel())
            return fig

        return wrapped

    monkeypatch.setattr(plots, "comparison_figure", keep(plots.comparison_figure))
    monkeypatch.setattr(
        "proplab.value_plots.value_comparison_figure", keep(value_comparison_figure)
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).round(3)
    rows = "".join(f"{a},{b},{c},{int(a > b)},{a - b:.3f}\n" for a, b, c in x)
    path = tmp_path / "people.csv"
    path.write_text("height,weight,age,passed,score\n" + rows)
    cfg = RunConfig(dataset=str(path), label="passed", epochs=3, print_every=0)
    run_one(cfg, tmp_path / "run", quiet=True, progress=False)
    assert drawn["comparison_figure"] == ("height (inputs 1 and 2 of 4 shown)", "weight")
    assert (tmp_path / "run" / "comparison.png").stat().st_size > 10_000
    # a regression on two columns: the value plane, its axes named too
    path.write_text("height,weight,score\n" + "".join(f"{a},{b},{a - b:.3f}\n" for a, b, _ in x))
    cfg = RunConfig(
        dataset=str(path), task="regression", output_activation="identity", epochs=3,
        print_every=0,
    )  # fmt: skip
    run_one(cfg, tmp_path / "reg", quiet=True, progress=False)
    assert drawn["value_comparison_figure"] == ("height", "weight")
    # the lab's datasets have no column names: numbered as before
    run_one(RunConfig(dataset="xor", epochs=2, print_every=0), tmp_path / "xor", quiet=True,
            progress=False)  # fmt: skip
    assert drawn["comparison_figure"] == ("$x_1$", "$x_2$")


def test_comparison_figure_on_the_xor_data(tmp_path: Path) -> None:
    x, y = generate_xor_easy()
    fig = plots.comparison_figure(x, y, y.astype(float), tmp_path / "xor.png")
    guess = _points_by_colour(fig.axes[1])
    assert len(guess[tuple(np.round(RED, 4))]) == 11
    assert len(guess[tuple(np.round(BLUE, 4))]) == 10
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[-1] == "all 21 correct"
    _assert_png(tmp_path / "xor.png")


def _history(losses: list[float], accs: list[float]) -> History:
    h = History()
    for i, (loss, acc) in enumerate(zip(losses, accs, strict=True), start=1):
        h.epoch.append(i)
        h.loss.append(loss)
        h.accuracy.append(acc)
        h.wall_time.append(i * 1e-4)
    return h


def test_learning_curve_is_log_loss_with_accuracy_twin(tmp_path: Path) -> None:
    epochs = np.arange(1, 501)
    losses = (0.25 * np.exp(-epochs / 80)).tolist()
    accs = np.minimum(0.5 + epochs / 400, 1.0).tolist()
    fig = plots.learning_curve(_history(losses, accs), tmp_path / "lc.png", "xor: demo")
    ax, twin = fig.axes
    assert ax.get_title() == "xor: demo"
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "loss (log scale)"
    assert twin.get_ylabel() == "accuracy (%)"
    (loss_line,) = ax.get_lines()
    np.testing.assert_array_equal(loss_line.get_xdata(), epochs)
    np.testing.assert_allclose(loss_line.get_ydata(), losses)
    (acc_line,) = twin.get_lines()
    np.testing.assert_allclose(acc_line.get_ydata(), 100 * np.array(accs))
    _assert_png(tmp_path / "lc.png")


def test_learning_curve_accepts_a_mapping(tmp_path: Path) -> None:
    fig = plots.learning_curve(
        {"epoch": [1, 2, 3], "loss": [0.3, 0.2, 0.1], "accuracy": [0.5, 0.6, 1.0]},
        tmp_path / "lc.png",
    )
    assert fig.axes[0].get_title() == "Learning curve"
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.3, 0.2, 0.1])
    _assert_png(tmp_path / "lc.png", min_bytes=10_000)


def test_learning_curve_of_a_diverged_run(tmp_path: Path) -> None:
    # losses up to 1e304 then inf: no warning (warnings are errors here), divergence marked
    losses = [10.0 ** (8 * i) for i in range(39)] + [math.inf]
    fig = plots.learning_curve(_history(losses, [0.5] * 40), tmp_path / "div.png")
    ax = fig.axes[0]
    shown = np.asarray(ax.get_lines()[0].get_ydata(), dtype=float)
    assert np.all(np.isfinite(shown)) and shown.max() < 1e100
    assert "diverged at epoch 40" in [t.get_text() for t in ax.texts]
    _assert_png(tmp_path / "div.png", min_bytes=10_000)


def test_plot_write_failure_leaves_no_partial_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "lc.png"
    with pytest.raises(FileNotFoundError):
        plots.learning_curve(_history([0.2, 0.1], [0.5, 1.0]), missing)
    assert not missing.exists()


def test_a_diverged_epoch_has_no_accuracy_and_a_huge_loss_is_marked(tmp_path: Path) -> None:
    # a run whose loss reached 2.8e284 (finite, off any log scale) and then NaN: the NaN
    # model's "accuracy" (its NaN outputs counted as class 0) was drawn at 50 %, and the
    # huge loss was dropped without a trace
    losses = [0.3, 0.2, 5.0, 1e40, 2.8e284, math.nan]
    fig = plots.learning_curve(_history(losses, [0.5] * 6), tmp_path / "lc.png")
    ax, twin = fig.axes
    acc = twin.lines[0].get_ydata()
    assert np.isnan(acc[5]) and np.all(acc[:5] == 50.0)
    marks = [line for line in ax.lines if line.get_marker() == "^"]
    # over 100x the first epoch's loss (0.3): off the scale, marked at the top edge, as a
    # sweep's curves are (a 1e100 cut squeezed the learning part into the bottom tenth)
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [4, 5]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["loss", "accuracy", "loss off the scale (over 100x the first epoch's)"]
    assert ax.get_ylim()[1] == pytest.approx(30.0)
    # drawn losses: the finite ones below the scale's end
    (loss_line,) = [line for line in ax.lines if line.get_label() == "loss"]
    assert list(loss_line.get_xdata()) == [1, 2, 3]
    # a long run off the scale gets at most 40 marks, from its first epoch there to its last
    long = [0.3] + [1e10] * 300
    fig = plots.learning_curve(_history(long, [0.5] * 301), tmp_path / "long.png")
    (marks,) = [line for line in fig.axes[0].lines if line.get_marker() == "^"]
    assert len(marks.get_xdata()) == 40 and (marks.get_xdata()[0], marks.get_xdata()[-1]) == (
        2,
        301,
    )


def test_a_short_run_has_whole_epoch_ticks_and_the_accuracy_says_whose(tmp_path: Path) -> None:
    # 20 epochs (the digits model) had ticks at 2.5, 7.5, ...
    fig = plots.learning_curve(
        _history(np.geomspace(2, 0.1, 20).tolist(), [0.9] * 20),
        tmp_path / "lc.png",
        accuracy_label="training accuracy",
    )
    ax, twin = fig.axes
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert len(ticks) >= 4 and all(float(t).is_integer() for t in ticks)
    assert twin.get_ylabel() == "training accuracy (%)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["loss", "training accuracy"]


def test_a_loss_of_exactly_off_scale_is_marked_not_drawn(tmp_path: Path) -> None:
    # mutation testing: OFF_SCALE itself is the first value off the scale
    assert plots.OFF_SCALE == 1e100
    # (a first loss so large that 100x it is beyond OFF_SCALE: the absolute cut applies)
    fig = plots.learning_curve(_history([1e99, 1e100, 0.2], [0.5] * 3), tmp_path / "lc.png")
    ax = fig.axes[0]
    (loss_line,) = [line for line in ax.lines if line.get_label() == "loss"]
    assert list(loss_line.get_xdata()) == [1, 3]
    (mark,) = [line for line in ax.lines if line.get_marker() == "^"]
    assert list(mark.get_xdata()) == [2]


def test_the_off_scale_legend_entry_shares_the_row_of_the_others(tmp_path: Path) -> None:
    # mutation testing: three legend entries in one row (ncols = entries), not 2 + 1
    fig = plots.learning_curve(_history([0.3, 1e200, 0.2], [0.5] * 3), tmp_path / "lc.png")
    texts = fig.legends[0].get_texts()
    assert len(texts) == 3
    boxes = [t.get_window_extent() for t in texts]  # the figure was drawn to save it
    assert max(b.y0 for b in boxes) - min(b.y0 for b in boxes) < 5  # pixels: one row
    assert boxes[0].x1 < boxes[1].x0 and boxes[1].x1 < boxes[2].x0


def test_inputs_are_numbered_from_one_as_features_name_them() -> None:
    # the axes read x0, x1 while --features and the titles say x1, x2
    from proplab.plots import _points_2d

    assert _points_2d(np.zeros((3, 2)))[2:] == ("$x_1$", "$x_2$")
    assert _points_2d(np.zeros((3, 64)))[2:] == ("$x_1$ (inputs 1 and 2 of 64 shown)", "$x_2$")
    assert _points_2d(np.zeros((3, 1)))[2:] == ("sample", "$x_1$")


def _regression_history(losses: np.ndarray) -> dict[str, np.ndarray]:
    return {"epoch": np.arange(1, len(losses) + 1), "loss": losses}


def test_the_lowest_test_loss_is_ringed_where_the_model_overfits(tmp_path: Path) -> None:
    # the training loss falls all along; the test loss bottoms out after 40 updates and
    # ends at 3x its lowest: the overfitting a held-out set shows
    updates = np.arange(0, 401, 5)
    test = 0.5 + 0.001 * (updates - 40) ** 2 / 100
    train = 1.0 / (1 + np.arange(400) / 20)
    curve = (updates, test)
    fig = plots.learning_curve(
        _regression_history(train), tmp_path / "lc.png", accuracy_label=None, test_loss=curve
    )
    (ax,) = fig.axes
    _, drawn, ring = ax.get_lines()
    np.testing.assert_array_equal(drawn.get_xdata(), updates + 1)
    assert (ring.get_xdata()[0], ring.get_ydata()[0]) == (41, 0.5)
    assert ring.get_markerfacecolor() == "none"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["training loss", "test loss", "lowest test loss (0.5, epoch 41)"]
    _assert_png(tmp_path / "lc.png", min_bytes=10_000)


@pytest.mark.parametrize(
    "case", ["still falling", "a small rise", "both rise (diverging)", "no test share"]
)
def test_no_ring_without_overfitting(case: str, tmp_path: Path) -> None:
    updates = np.arange(0, 401, 5)
    train = 1.0 / (1 + np.arange(400) / 20)
    test = {
        "still falling": 0.5 + 1.0 / (1 + updates / 10),
        "a small rise": 0.5 + 0.04 * (updates > 200),  # 8 % above its lowest: noise
        "both rise (diverging)": 0.5 * 1.05 ** (updates / 5),
        "no test share": None,
    }[case]
    if case.startswith("both"):
        train = 0.5 * 1.05 ** np.arange(400)
    curve = None if test is None else (updates, test)
    fig = plots.learning_curve(
        _regression_history(train), tmp_path / "lc.png", accuracy_label=None, test_loss=curve
    )
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    expected = ["loss"] if test is None else ["training loss", "test loss"]
    lines = 1 if test is None else 2
    if case.startswith("both"):  # the training loss runs past 100x its start: marked
        expected, lines = [*expected, "loss off the scale (over 100x the first epoch's)"], 3
    assert labels == expected
    assert len(fig.axes[0].get_lines()) == lines


def _y_labels(ax) -> tuple[list[str], list[str]]:
    """The y axis's major and minor tick labels inside its limits, as drawn."""
    ax.figure.canvas.draw()
    low, high = ax.get_ylim()

    def shown(ticks) -> list[str]:
        return [t.label1.get_text() for t in ticks if low <= t.get_loc() <= high]

    return shown(ax.yaxis.get_major_ticks()), [s for s in shown(ax.yaxis.get_minor_ticks()) if s]


def test_a_loss_within_one_decade_gets_plain_tick_labels(tmp_path: Path) -> None:
    # found by review: a loss from 0.27 to 0.2495 was labelled by eight minor ticks
    # "2.675x10^-1, 2.65x10^-1, ...": crowded, unreadable
    from proplab.sweep_plots import CurveSet, learning_curves

    losses = list(0.2495 + 0.0205 * np.exp(-np.arange(100) / 2.0))
    fig = plots.learning_curve(_history(losses, [11 / 21] * 100), tmp_path / "lc.png")
    sweep = learning_curves({"XOR": [CurveSet("1", [np.array(losses)])]}, tmp_path / "c.png")
    for ax in (fig.axes[0], sweep.axes[0]):
        assert ax.get_yscale() == "log"
        major, minor = _y_labels(ax)
        assert minor == [] and 3 <= len(major) <= 6, (major, minor)
        values = [float(s) for s in major]  # plain decimals: 0.25, 0.255, ...
        assert all(0.24 < v < 0.28 for v in values) and values == sorted(values)
    # over several decades the log axis keeps its powers of ten
    wide = list(np.geomspace(0.3, 1e-4, 100))
    fig = plots.learning_curve(_history(wide, [1.0] * 100), tmp_path / "wide.png")
    major, _ = _y_labels(fig.axes[0])
    assert any("10^{" in s for s in major), major


def test_a_two_column_csv_runs_boundary_and_value_map_name_the_columns(
    tmp_path: Path, monkeypatch
) -> None:
    # decision_boundary.png (classes) and the value map (regression) said x1, x2 too
    from proplab import value_plots, zoo_plots
    from proplab.config import RunConfig
    from proplab.experiments import run_one

    drawn = {}

    def keep(module, name):
        draw = getattr(module, name)

        def wrapped(*args, **kwargs):
            fig = draw(*args, **kwargs)
            drawn[name] = (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel())
            return fig

        monkeypatch.setattr(module, name, wrapped)

    keep(zoo_plots, "decision_boundary")
    keep(value_plots, "value_map")
    x = np.random.default_rng(0).normal(size=(40, 2)).round(3)
    path = tmp_path / "body.csv"
    path.write_text("height,weight $,tall\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in x))
    cfg = RunConfig(dataset=str(path), label="tall", epochs=3, print_every=0)
    run_one(cfg, tmp_path / "cls", quiet=True, progress=False)
    assert drawn["decision_boundary"] == ("height", r"weight \$")
    path = tmp_path / "scores.csv"
    path.write_text("height,weight $,score\n" + "".join(f"{a},{b},{a - b:.3f}\n" for a, b in x))
    cfg = RunConfig(
        dataset=str(path), label="score", task="regression", output_activation="identity",
        epochs=3, print_every=0,
    )  # fmt: skip
    run_one(cfg, tmp_path / "reg", quiet=True, progress=False)
    assert drawn["value_map"] == ("height", r"weight \$")
    assert (tmp_path / "reg" / "decision_boundary.png").stat().st_size > 10_000
    # other data with two inputs keep x1, x2
    run_one(RunConfig(dataset="moons", epochs=2, print_every=0), tmp_path / "moons", quiet=True,
            progress=False)  # fmt: skip
    assert drawn["decision_boundary"] == ("$x_1$", "$x_2$")


def test_a_mini_batch_learning_curve_says_its_numbers_are_means_over_the_batches(
    tmp_path: Path, monkeypatch
) -> None:
    # audit15c L4: a mini-batch epoch's loss and accuracy are the sample-weighted means over
    # its batches while the weights move (the linear set's epoch 1: 0.2567, where its first
    # weights' loss is 0.2766), and the curve called them "loss" and "accuracy"
    from test_figures_layout import _inside, _renderer

    from proplab import experiments
    from proplab.config import RunConfig

    curves = []
    draw = plots.learning_curve
    monkeypatch.setattr(plots, "learning_curve", lambda *a, **k: curves.append(draw(*a, **k)))
    cfg = RunConfig(dataset="linear", batch_size=16, epochs=20, dropout=0.1, print_every=0)
    experiments.run_one(cfg, tmp_path / "run", quiet=True, progress=False)
    (figure,) = curves
    legend = figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "loss (mean over each epoch's batches; dropout on)",
        "accuracy (mean over each epoch's batches; dropout on)",
    ]
    assert legend._ncols == 1  # side by side they would run off the figure's edges
    assert _inside(figure, legend.get_window_extent(_renderer(figure)))
    # one batch of all 100 rows is full batch: the plain labels
    curves.clear()
    full = cfg.replace(batch_size=100, dropout=0.0)
    experiments.run_one(full, tmp_path / "full", quiet=True, progress=False)
    assert [t.get_text() for t in curves[0].legends[0].get_texts()] == ["loss", "accuracy"]


def test_the_comparison_legend_names_a_csv_s_classes(tmp_path: Path) -> None:
    # csv18: "class 0", "class 1" for a file whose labels are "no" and "yes" (the decision
    # boundary's legend used the file's names)
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    y, pred = np.array([[0], [1], [1]]), np.array([[0.2], [0.8], [0.3]])
    fig = plots.comparison_figure(x, y, pred, tmp_path / "c.png", class_names=["no", "yes"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["no", "yes", "misclassified (1 of 3)"]
    fig = plots.comparison_figure(x, y, pred, tmp_path / "d.png")
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["class 0", "class 1"]
