"""Sweeps of regression runs (plane, multi-gauss): the file, stacks, tables, figures, resume.

A regression's targets are values, so its runs have no accuracy (NaN) and an R²
instead: each run folder's summary has ``r2`` (and ``test_r2``), the sweep's tables
carry them and their statistics over seeds, the printed table and the figures show
R² for those groups, and classification groups beside them keep their accuracy.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from test_stacking import VOLATILE, assert_same_runs

from proplab import aggregate, stacking, sweep, sweep_boundaries, sweep_dots, sweep_plots
from proplab.experiments import run_one
from proplab.sweep import parse_spec

# two regression sets and a classification set, a held-out quarter, and an lr that
# diverges (40): every kind of cell the tables and figures must get right
MIXED = """
title = "regression beside classification"
[base]
epochs = 150
n = 48
activation = "tanh"
hidden = [6]
test_fraction = 0.25
print_every = 0
[vary]
dataset = ["plane", "multi-gauss", "circle"]
lr = [0.1, 0.5, 40.0]
seed = [0, 1, 2]
"""

REGRESSION_ONLY = """
title = "multi-gauss lr"
[base]
dataset = "multi-gauss"
epochs = 120
n = 40
activation = "tanh"
hidden = [5]
print_every = 0
[vary]
lr = [0.05, 0.3]
seed = [0, 1, 2]
"""


def _spec(text: str):
    return parse_spec(text, Path("regression.toml"))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The MIXED sweep trained both ways: ``(spec, plain dir, stacked dir, stacked result)``."""
    out = tmp_path_factory.mktemp("mixed")
    spec = _spec(MIXED)
    plain = sweep.run_sweep(spec, out / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, out / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    return spec, out / "plain", out / "stacked", stacked


# ---------------------------------------------------------------- the sweep file


def test_a_regression_set_gets_its_identity_output_unless_the_file_sets_one():
    # the lab's sigmoid output is refused for values in [-1, 1]: without the set's own
    # default, `dataset = "multi-gauss"` alone made every run fail
    spec = _spec(REGRESSION_ONLY)
    assert {c.output_activation for c in spec.runs.values()} == {"identity"}
    # ... and the default is not a difference from [base] worth a folder name
    assert sorted(spec.runs)[0] == "dataset=multi-gauss,lr=0.05,seed=0"
    mixed = _spec(MIXED)
    outputs = {name.split(",")[0]: cfg.output_activation for name, cfg in mixed.runs.items()}
    assert outputs == {
        "dataset=plane": "identity",
        "dataset=multi-gauss": "identity",
        "dataset=circle": "sigmoid",
    }
    assert not any("output_activation" in name for name in mixed.runs)
    # a file that sets the output keeps it, and the name says so where it differs
    tanh = _spec(
        REGRESSION_ONLY.replace("[vary]", '[vary]\noutput_activation = ["tanh", "identity"]')
    )
    assert {c.output_activation for c in tanh.runs.values()} == {"tanh", "identity"}
    assert sum("output_activation=tanh" in n for n in tanh.runs) == 6


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'output_activation = "sigmoid"',
            "output_activation: 'sigmoid' outputs values in [0, 1] only, but multi-gauss's "
            "targets are negative as well as positive; accepted: tanh, leaky_relu, identity",
        ),
        (
            'loss = "bce"',
            "loss: multi-gauss is a regression (targets are values to predict, not classes), so 'bce' "
            "does not apply; accepted: mse",
        ),
    ],
)
def test_an_output_or_loss_that_cannot_fit_values_is_refused_before_anything_runs(
    tmp_path, capsys, line, message
):
    path = tmp_path / "bad.toml"
    path.write_text(REGRESSION_ONLY.replace("[vary]", f"{line}\n[vary]"), encoding="utf-8")
    assert sweep.main(str(path), str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("proplab sweep: error: ") and message in err[0]
    assert not (tmp_path / "out" / "runs").exists() or not any(
        (tmp_path / "out" / "runs").iterdir()
    )


# ---------------------------------------------------------------- stacked == alone


def test_stacked_regression_runs_equal_the_unstacked_ones_bit_for_bit(mixed):
    _, plain, stacked, _ = mixed
    summaries = assert_same_runs(plain, stacked)  # histories, summaries, weights
    assert len(summaries) == 27
    for name, s in summaries.items():
        regression = not name.startswith("dataset=circle")
        assert s["stacked_with"] == 9  # one stack per dataset: lr and seed per replica
        if regression and s["stop_reason"] != "diverged":
            assert s["accuracy"] is None and s["test_accuracy"] is None
            assert math.isfinite(s["r2"]) and math.isfinite(s["test_r2"])
        elif regression:  # lr 40 diverges: no R² at all
            assert s["r2"] is None and s["test_r2"] is None
        else:
            assert "r2" not in s and 0.0 <= s["accuracy"] <= 1.0
    # the fits are real fits: plane (a plane) is fitted almost exactly at lr 0.5
    assert summaries["dataset=plane,lr=0.5,seed=0"]["r2"] > 0.9
    assert (plain / "aggregate.csv").read_text() == (stacked / "aggregate.csv").read_text()


def test_a_stacked_regression_run_writes_the_summary_of_the_same_run_alone(mixed, tmp_path):
    spec, _, stacked, _ = mixed
    name = "dataset=multi-gauss,lr=0.5,seed=1"
    alone = run_one(spec.runs[name], tmp_path / "alone", quiet=True, progress=False, figures=False)
    in_stack = _summary(stacked / "runs" / name)
    assert in_stack["stacked_with"] == 9 and "stacked_with" not in alone
    drop = VOLATILE | {"stack_wall_time_s"}
    mine = {k: v for k, v in in_stack.items() if k not in drop}
    theirs = {k: v for k, v in alone.items() if k not in drop}
    assert mine == theirs  # every field: loss, r2, test_loss, test_r2, n_test, epochs...
    assert mine["r2"] == _summary(tmp_path / "alone")["r2"] and "test_r2" in mine
    assert (
        json.loads((stacked / "runs" / name / "config.json").read_text())["config"]
        == (json.loads((tmp_path / "alone" / "config.json").read_text())["config"])
    )


VARIANTS = """
title = "one stack of regression variants"
[base]
dataset = "plane"
epochs = 80
n = 40
hidden = [5]
lr = 0.05
test_fraction = 0.25
print_every = 0
[vary]
activation = ["tanh", "relu"]
output_activation = ["identity", "tanh"]
optimizer = ["sgd", "adam"]
seed = [0, 1]
"""


def test_regression_runs_of_different_activations_outputs_and_optimizers_stack_bit_for_bit(
    tmp_path,
):
    # one stack of 16: PerReplica activations (hidden and output) and PerReplicaOptimizer
    # blocks, each replica's R² as its run alone gives it
    spec = _spec(VARIANTS)
    plain = sweep.run_sweep(spec, tmp_path / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, tmp_path / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    summaries = assert_same_runs(tmp_path / "plain", tmp_path / "stacked")
    assert len(summaries) == 16
    assert {s["stacked_with"] for s in summaries.values()} == {16}
    r2 = {name: s["r2"] for name, s in summaries.items()}
    assert all(math.isfinite(v) for v in r2.values()) and len(set(r2.values())) == 16


# ---------------------------------------------------------------- results.csv and aggregate.csv


def test_results_csv_has_each_runs_r2_and_nan_accuracy_for_values(mixed):
    _, _, stacked, _ = mixed
    rows = _rows(stacked / "results.csv")
    assert len(rows) == 27
    header = list(rows[0])
    assert header[-4:] == ["test_loss", "test_accuracy", "final_r2", "test_r2"]
    for row in rows:
        s = _summary(stacked / "runs" / row["run"])
        if row["dataset"] == "circle":  # accuracy as before, no R²
            assert float(row["final_accuracy"]) == s["accuracy"]
            assert float(row["test_accuracy"]) == s["test_accuracy"]
            assert math.isnan(float(row["final_r2"])) and math.isnan(float(row["test_r2"]))
            continue
        # a regression: its accuracy is NaN (never a thresholded "accuracy"), its R² the run's
        assert math.isnan(float(row["final_accuracy"])) and math.isnan(float(row["test_accuracy"]))
        if s["stop_reason"] == "diverged":
            assert math.isnan(float(row["final_r2"])) and math.isnan(float(row["test_r2"]))
        else:
            assert float(row["final_r2"]) == s["r2"] and float(row["test_r2"]) == s["test_r2"]


def test_aggregate_csv_has_the_r2_statistics_over_seeds(mixed):
    _, _, stacked, _ = mixed
    rows = {(r["setting"], r["dataset"]): r for r in _rows(stacked / "aggregate.csv")}
    assert len(rows) == 9
    header = list(next(iter(rows.values())))
    stats = [f"{m}_{s}" for m in ("r2", "test_r2") for s in aggregate.STAT_NAMES]
    assert header[-8:] == stats
    for (setting, dataset), row in rows.items():
        runs = [f"dataset={dataset},lr={setting},seed={seed}" for seed in (0, 1, 2)]
        summaries = [_summary(stacked / "runs" / run) for run in runs]
        if dataset == "circle":
            acc = [s["accuracy"] for s in summaries]
            assert float(row["accuracy_mean"]) == pytest.approx(np.mean(acc), abs=1e-15)
            assert all(math.isnan(float(row[k])) for k in stats)
            continue
        assert all(math.isnan(float(row[f"{m}_{s}"])) for m in ("accuracy", "test_accuracy")
                   for s in aggregate.STAT_NAMES)  # fmt: skip
        if setting == "40":  # every seed diverged: counted, and no R² to average
            assert row["n_diverged"] == "3" and all(math.isnan(float(row[k])) for k in stats)
            continue
        assert row["n_diverged"] == "0"
        for key, field in (("r2", "r2"), ("test_r2", "test_r2")):
            values = np.array([s[field] for s in summaries])
            assert float(row[f"{key}_mean"]) == pytest.approx(values.mean(), abs=1e-15)
            assert float(row[f"{key}_std"]) == pytest.approx(values.std(ddof=1), abs=1e-15)
            assert float(row[f"{key}_min"]) == values.min()
            assert float(row[f"{key}_max"]) == values.max()


def test_a_classification_sweeps_tables_keep_their_columns(tmp_path):
    text = MIXED.replace('"plane", "multi-gauss", ', "").replace(
        "lr = [0.1, 0.5, 40.0]", "lr = [0.5]"
    )
    result = sweep.run_sweep(_spec(text), tmp_path)
    assert result.failed == {}
    assert not any("r2" in k for k in _rows(tmp_path / "results.csv")[0])
    assert not any("r2" in k for k in _rows(tmp_path / "aggregate.csv")[0])


def test_a_damaged_r2_in_a_summary_is_named(tmp_path):
    (tmp_path / "summary.json").write_text('{"loss": 0.1, "r2": "high"}')
    with pytest.raises(
        aggregate.DamagedRunError, match=r"summary.json: r2 is 'high', not a number"
    ):
        sweep.read_summary(tmp_path)


# ---------------------------------------------------------------- what the CLI prints


def test_the_printed_table_gives_r2_for_regression_and_accuracy_for_classes(mixed, capsys):
    spec, _, stacked, _ = mixed
    assert sweep.main(str(stacked / "sweep.toml"), str(stacked)) == 0  # all reused
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("sweep: 27 runs (27 reused, 0 trained, 0 failed)")
    assert out[-1].startswith("the report: proplab report ")
    lines = {tuple(line.split()[:2]): line for line in out[1:-2]}
    assert len(lines) == 9 and "test score" in out[0]
    groups = {(g.setting, g.dataset): g for g in aggregate.group(aggregate.collect(spec, stacked))}
    for (setting, dataset), line in lines.items():
        g = groups[(setting, dataset)]
        if dataset == "circle":
            acc, test = g.accuracy, g.test_accuracy
            assert f"{100 * acc.mean:.1f} ± {100 * acc.std:.1f} %" in line
            assert f"{100 * test.mean:.1f} ± {100 * test.std:.1f} %" in line and "R²" not in line
        elif setting == "40":
            assert "(3 diverged)" in line and "R²" not in line and "%" not in line
        else:
            r2, test = g.r2, g.test_r2
            assert f"R² {r2.mean:.3f} ± {r2.std:.3f} ({r2.min:.3f} to {r2.max:.3f})" in line
            assert f"R² {test.mean:.3f} ± {test.std:.3f}" in line and "%" not in line


# ---------------------------------------------------------------- resume


def test_an_interrupted_regression_sweep_resumes_and_ends_as_one_run_through(tmp_path, monkeypatch):
    spec = _spec(REGRESSION_ONLY.replace("lr = [0.05, 0.3]", "hidden = [[5], [7]]"))
    calls = {"n": 0}
    real = stacking.train_stack

    def interrupt_second_stack(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(stacking, "train_stack", interrupt_second_stack)
    runner = sweep.choose_runner("auto")  # a stack per width: Ctrl-C hits the second
    first = sweep.run_sweep(spec, tmp_path / "resumed", runner=runner)
    assert first.interrupted and first.ran == 3
    kept = {p.parent.name: p.read_bytes() for p in tmp_path.glob("resumed/runs/*/summary.json")}
    assert len(kept) == 3
    monkeypatch.setattr(stacking, "train_stack", real)
    second = sweep.run_sweep(spec, tmp_path / "resumed", runner=runner)
    assert not second.interrupted and (second.reused, second.ran) == (3, 3)
    for name, data in kept.items():  # finished runs untouched
        assert (tmp_path / "resumed" / "runs" / name / "summary.json").read_bytes() == data
    whole = sweep.run_sweep(spec, tmp_path / "whole", runner=runner)
    assert whole.ran == 6
    a, b = (_rows(tmp_path / d / "aggregate.csv") for d in ("resumed", "whole"))
    assert a == b and all(math.isfinite(float(r["r2_mean"])) for r in a)


# ---------------------------------------------------------------- figures


def _dot_data(ax) -> np.ndarray:
    """Every seed dot's y drawn on ``ax`` (scatter collections), in drawing order."""
    ys = [c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)]
    return np.concatenate(ys) if ys else np.zeros(0)


def test_r2_dots_plot_the_r2_values_on_an_r2_axis(tmp_path):
    sets = [
        sweep_dots.DotSet("lr 0.1", "plane", [0.95, 0.97, 0.96], metric="r2"),
        sweep_dots.DotSet("lr 0.5", "plane", [0.2, -0.4, math.nan], metric="r2"),
    ]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "r2.png", title="final R²")
    (ax,) = fig.axes
    assert "R²" in ax.get_ylabel() and "%" not in ax.get_ylabel()
    # the values themselves (not x100), and the diverged seed as an x below the data
    drawn = _dot_data(ax)
    assert sorted(drawn[:5]) == pytest.approx(sorted([0.95, 0.97, 0.96, 0.2, -0.4]))
    low, high = ax.get_ylim()
    assert -0.7 < low < -0.4 and 1.0 < high < 1.1
    assert drawn[-1] < -0.4  # the diverged seed's x
    assert (tmp_path / "r2.png").stat().st_size > 0


def test_r2_below_the_floor_is_a_triangle_at_the_floor(tmp_path):
    sets = [sweep_dots.DotSet("lr 5", "multi-gauss", [0.1, -30.0], metric="r2")]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "floor.png")
    (ax,) = fig.axes
    low, _ = ax.get_ylim()
    assert sweep_dots.R2_FLOOR - 0.3 < low < sweep_dots.R2_FLOOR  # not stretched to -30
    assert min(_dot_data(ax)) > low  # -30 is drawn at the floor, inside the axis
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "R² below -1" in legend


def test_a_mixed_sweep_gets_an_accuracy_panel_and_an_r2_panel(tmp_path):
    sets = [
        sweep_dots.DotSet("lr 0.1", "circle", [0.8, 0.9]),
        sweep_dots.DotSet("lr 0.1", "plane", [0.97, 0.98], metric="r2"),
    ]
    fig = sweep_dots.accuracy_dots(sets, tmp_path / "both.png", title="final scores")
    acc_ax, r2_ax = fig.axes
    assert acc_ax.get_ylabel() == "final accuracy (%)" and "R²" in r2_ax.get_ylabel()
    assert sorted(_dot_data(acc_ax))[:2] == pytest.approx([80.0, 90.0])
    assert sorted(_dot_data(r2_ax))[:2] == pytest.approx([0.97, 0.98])
    # one legend for both panels, each dataset once
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["circle", "plane"]


def test_an_unknown_dot_metric_is_refused():
    with pytest.raises(ValueError, match=r"unknown metric 'rmse' \(accepted: accuracy, r2\)"):
        sweep_dots.DotSet("a", "plane", [0.5], metric="rmse")


def test_a_regression_panel_shows_the_predicted_values_and_the_targets(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(30, 2))
    y = x.sum(axis=1, keepdims=True) / 2  # plane's targets
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    pred = (points.sum(axis=1) / 2 * 0.9).reshape(v.size, u.size)
    labels = (x[:, :1] > 0).astype(np.float64)
    panels = [
        [sweep_boundaries.BoundaryPanel("plane", u, v, pred, x, y)],
        [sweep_boundaries.BoundaryPanel("classes", u, v, (pred + 1) / 2, x, labels)],
    ]
    assert panels[0][0].regression and not panels[1][0].regression
    fig = sweep_boundaries.decision_boundaries(
        panels, tmp_path / "b.png", row_labels=["plane", "c"]
    )
    value_ax, class_ax = fig.axes[0], fig.axes[1]
    mesh = next(
        c for c in value_ax.collections if hasattr(c, "get_clim") and c.get_array().ndim == 2
    )
    np.testing.assert_array_equal(np.asarray(mesh.get_array()), pred)
    assert mesh.get_clim() == (-1.0, 1.0)  # the targets' scale, not P(class 1)'s 0..1
    dots = value_ax.collections[-1]
    np.testing.assert_array_equal(dots.get_array(), y.reshape(-1))  # coloured by target
    assert not value_ax.get_lines() and len(value_ax.collections) == 2  # no 0.5 contour
    bars = sorted(a.get_ylabel() for a in fig.axes[2:])
    assert bars == ["P(class 1)", "predicted value (dots: targets)"]
    assert len(class_ax.collections) > 2  # the classification panel as before: mesh, contour, dots


def test_datasets_of_far_apart_values_get_a_colour_scale_each(tmp_path):
    # csv18: house prices (~1e5) beside values near 1 on one scale from -4e5 to 4e5: the
    # small dataset's panels were all white
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(30, 2))

    def panel(scale: float) -> sweep_boundaries.BoundaryPanel:
        y = scale * x.sum(axis=1, keepdims=True) / 2
        u, v, points = sweep_boundaries.boundary_grid(x, size=11)
        pred = (scale * points.sum(axis=1) / 2).reshape(v.size, u.size)
        return sweep_boundaries.BoundaryPanel("p", u, v, pred, x, y)

    fig = sweep_boundaries.decision_boundaries(
        [[panel(2e5), panel(2e5)], [panel(1.0), panel(1.0)]], tmp_path / "b.png",
        row_labels=["houses", "body"],
    )  # fmt: skip
    meshes = [
        next(c for c in ax.collections if hasattr(c, "get_clim") and c.get_array().ndim == 2)
        for ax in fig.axes[:4]
    ]
    high, low = (meshes[0].get_clim()[1], meshes[2].get_clim()[1])
    assert 1e5 < high < 2e5 and low == 1.0 and meshes[1].get_clim()[1] == high
    bars = [a for a in fig.axes[4:] if a.get_ylabel() == "predicted value (dots: targets)"]
    assert len(bars) == 2  # one per dataset
    # within 10x of each other: one scale, one bar, as before
    fig = sweep_boundaries.decision_boundaries(
        [[panel(3.0)], [panel(1.0)]], tmp_path / "c.png", row_labels=["a", "b"]
    )
    meshes = [
        next(c for c in ax.collections if hasattr(c, "get_clim") and c.get_array().ndim == 2)
        for ax in fig.axes[:2]
    ]
    assert meshes[0].get_clim() == meshes[1].get_clim() and len(fig.axes) == 3


def test_a_records_score_is_the_r2_of_a_regression_and_the_accuracy_otherwise(mixed):
    spec, _, stacked, _ = mixed
    records = {r.run: r for r in aggregate.collect(spec, stacked)}
    plane = records["dataset=plane,lr=0.5,seed=0"]
    s = _summary(stacked / "runs" / plane.run)
    assert (
        plane.metric == "r2" and plane.score() == s["r2"] and plane.score(test=True) == s["test_r2"]
    )
    circle = records["dataset=circle,lr=0.5,seed=0"]
    s = _summary(stacked / "runs" / circle.run)
    assert circle.metric == "accuracy" and circle.score() == s["accuracy"]
    assert circle.score(test=True) == s["test_accuracy"]
    assert math.isnan(records["dataset=plane,lr=40,seed=0"].score())  # diverged


def test_a_runaway_loss_leaves_the_top_instead_of_flattening_the_other_curves(tmp_path):
    # an identity output on values diverges through 1e100 before it overflows: with the
    # axis stretched to it, every other curve was one flat line (and one legend entry)
    epochs = np.arange(1, 301)
    fitting = [0.3 * np.exp(-epochs / (100 * k)) for k in (1, 2, 3)]
    runaway = [0.3 * 10.0 ** np.arange(0, 150, 1.0)[:60]] * 3
    panels = {
        "multi-gauss": [
            sweep_plots.CurveSet("lr 0.1", fitting),
            sweep_plots.CurveSet("lr 0.3", [f**2 / 0.3 for f in fitting]),
            sweep_plots.CurveSet("lr 1", runaway),
        ]
    }
    fig = sweep_plots.learning_curves(panels, tmp_path / "c.png", legend_title="lr")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert high == pytest.approx(sweep_plots.RUNAWAY * 0.3)
    lowest = min(float(f.min()) for f in fitting + [f**2 / 0.3 for f in fitting])
    assert lowest / 2 < low < lowest  # a margin, not matplotlib's 5 % of 150 decades
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["lr 0.1", "lr 0.3", "lr 1"]  # told apart, not one "lines overlap"
    assert "x on the top edge: diverging there" in fig.legends[0].get_title().get_text()
    # bounded losses (a sigmoid MSE, BCE clamped at ~27.6) never reach the ceiling
    bounded = {"xor": [sweep_plots.CurveSet("bce", [np.minimum(0.69 * np.exp(epochs / 9), 27.6)])]}
    bands = [{s.label: sweep_plots.band(s.losses) for s in sets} for sets in bounded.values()]
    assert sweep_plots._ceiling(bands, [0.69]) is None
    # the start is epoch 1's loss: a run from 0.5 that jumps to 30 at its second epoch and
    # stays near 150 over thousands of epochs is 300x its start (verify23: the thinned
    # band's first point, the max of epochs 1-3, was taken for the start, and no x drawn)
    long = np.arange(1, 3001)
    jumped = [np.where(long == 1, 0.5, np.where(long == 2, 30.0, 150.0 + 0 * long))] * 3
    calm = {"m": [sweep_plots.CurveSet("lr 0.1", [0.5 * np.exp(-long / 500)] * 3)]}
    panels = {"m": calm["m"] + [sweep_plots.CurveSet("lr 1", jumped)]}
    bands = [{s.label: sweep_plots.band(s.losses) for s in sets} for sets in panels.values()]
    assert sweep_plots._ceiling(bands, [a[0] for s in panels["m"] for a in s.losses]) == 50.0
    fig = sweep_plots.learning_curves(panels, tmp_path / "j.png", legend_title="lr")
    assert fig.axes[0].get_ylim()[1] == pytest.approx(50.0)
    assert "x on the top edge: diverging there" in fig.legends[0].get_title().get_text()


def test_many_settings_on_one_curve_share_an_entry_of_short_lines():
    labels = [f"hidden={h}, lr={lr}" for h in ("[8]", "8-8", "16-16") for lr in (0.01, 0.03)]
    text = sweep_plots._same_curve_label(labels)
    lines = text.split("\n")
    assert lines[-1] == "(lines overlap)" and max(len(line) for line in lines) <= 28
    assert " ".join(lines[:-1]) == ", ".join(labels)
    # short ones stay as they were: one line, or the names and then "(lines overlap)"
    assert sweep_plots._same_curve_label(["relu", "tanh"]) == "relu, tanh (lines overlap)"
    assert (
        sweep_plots._same_curve_label(["relu", "leaky_relu"]) == "relu, leaky_relu\n(lines overlap)"
    )


def test_medians_leaving_the_top_get_a_cross_each_side_by_side(tmp_path):
    # found by review: two rates diverging within 4 epochs left only a sliver at x = 0,
    # invisible; now a cross on the top edge in each one's colour, not covering each other
    from matplotlib.colors import to_hex

    epochs = np.arange(1, 2001)
    fitting = [0.3 * np.exp(-epochs / 100)] * 2
    panels = {
        "linear": [
            sweep_plots.CurveSet("0.1", fitting),
            sweep_plots.CurveSet("5", [0.3 * 10.0 ** np.arange(0, 60, 1.0)[:30]] * 2),
            sweep_plots.CurveSet("50", [0.3 * 10.0 ** np.arange(0, 90, 3.0)[:30]] * 2),
        ]
    }
    fig = sweep_plots.learning_curves(panels, tmp_path / "c.png", legend_title="lr")
    ax = fig.axes[0]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    colours = [to_hex(h.get_color()) for h in fig.legends[0].legend_handles]
    legend = dict(zip(names, colours, strict=True))
    assert sorted(to_hex(c.get_color()) for c in crosses) == sorted([legend["5"], legend["50"]])
    fig.canvas.draw()
    at = [c.get_transform().transform(c.get_xydata())[0] for c in crosses]
    top = ax.get_window_extent().y1
    assert all(abs(y - top) < 1 for _, y in at)  # on the top edge
    assert abs(at[0][0] - at[1][0]) >= 9 * fig.dpi / 72 - 1  # side by side, not stacked
    # a curve that stays below the top has none
    calm = sweep_plots.learning_curves({"linear": panels["linear"][:1]}, tmp_path / "d.png")
    assert not [line for line in calm.axes[0].get_lines() if line.get_marker() == "x"]
