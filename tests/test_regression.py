"""Regression: the zoo's plane and multi-gauss, no accuracy for values, R², the random
split, the configuration checks and what a regression run prints and saves."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from test_cli import run_cli

from proplab import dataload, experiments
from proplab.config import ConfigError, RunConfig, data_rng
from proplab.losses import MSELoss
from proplab.metrics import r2_score
from proplab.models import mlp
from proplab.optim import SGD, Adam
from proplab.scoring import accuracy, evaluate
from proplab.serialize import load
from proplab.splits import SplitError, shuffled_indices
from proplab.train import fit
from proplab.train_text import format_summary_line
from proplab.zoo import load_zoo
from proplab.zoo_regression import (
    BUMP_RADIUS,
    BUMPS,
    REGRESSION_ZOO,
    multi_gauss,
    multi_gauss_target,
    plane,
)

# --- the datasets -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REGRESSION_ZOO))
def test_shapes_range_and_seeding(name: str) -> None:
    x, y = REGRESSION_ZOO[name](301, 0.0, 7)
    assert x.shape == (301, 2) and x.dtype == np.float64
    assert y.shape == (301, 1) and y.dtype == np.float64
    assert np.all(np.abs(x) <= 1.0) and np.all(np.abs(y) <= 1.0)
    x2, y2 = REGRESSION_ZOO[name](301, 0.0, np.random.default_rng(7))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = REGRESSION_ZOO[name](301, 0.0, 8)
    assert not np.allclose(x, x3)
    # values, not two classes: many distinct targets, both signs
    assert len(np.unique(y)) > 100 and y.min() < -0.5 and y.max() > 0.5


def test_plane_is_half_the_sum() -> None:
    x, y = plane(500, 0.0, 1)
    np.testing.assert_array_equal(y[:, 0], (x[:, 0] + x[:, 1]) / 2)


def test_multi_gauss_bumps_by_hand() -> None:
    # TensorFlow Playground's centres (-4, 2.5), (0, 2.5), (4, 2.5) ... on [-6, 6]^2, over 6
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]]) / 6
    np.testing.assert_allclose(BUMPS[:, :2], centres)
    signs = [1, -1, 1, -1, 1, -1]
    np.testing.assert_array_equal(multi_gauss_target(centres)[:, 0], signs)
    # halfway out (distance 1/6 of the radius 1/3) a bump is at half its height
    half = centres + np.array([[BUMP_RADIUS / 2, 0.0]])
    np.testing.assert_allclose(multi_gauss_target(half)[:, 0], np.array(signs) / 2, atol=1e-12)
    # at the origin and in the corners: no bump within reach
    far = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [0.0, 0.99]])
    np.testing.assert_array_equal(multi_gauss_target(far)[:, 0], 0.0)
    # the generator's targets are this function of its points
    x, y = multi_gauss(400, 0.0, 3)
    np.testing.assert_array_equal(y, multi_gauss_target(x))
    assert 0.3 < np.mean(y != 0) < 0.7  # six bumps cover about half the square


@pytest.mark.parametrize("name", list(REGRESSION_ZOO))
def test_noise_moves_the_points_not_the_targets(name: str) -> None:
    clean_x, clean_y = REGRESSION_ZOO[name](2000, 0.0, 5)
    noisy_x, noisy_y = REGRESSION_ZOO[name](2000, 0.2, 5)
    np.testing.assert_array_equal(noisy_y, clean_y)  # same clean points, same targets
    shift = noisy_x - clean_x
    assert abs(shift.std() - 0.2) < 0.01 and abs(shift.mean()) < 0.01


def test_load_zoo_knows_the_regression_sets_and_refuses_bad_input() -> None:
    x, y = load_zoo("Multi_Gauss", n=50, rng=2)
    np.testing.assert_array_equal(y, multi_gauss(50, 0.0, 2)[1])
    with pytest.raises(ValueError, match="accepted: circle, .*plane, multi-gauss"):
        load_zoo("planes")
    with pytest.raises(ValueError, match="plane: noise must be a finite number >= 0, got -1"):
        plane(10, -1)
    with pytest.raises(ValueError, match="multi-gauss: n must be an integer >= 2"):
        multi_gauss(1)


# --- no accuracy for values; R² ----------------------------------------------------------


def test_accuracy_is_nan_for_values_and_unchanged_for_labels() -> None:
    pred = np.array([[0.2], [0.8], [0.6]])
    assert accuracy(pred, np.array([[0.0], [1.0], [0.0]])) == pytest.approx(2 / 3)
    assert accuracy(pred, np.array([[0], [1], [1]])) == pytest.approx(1.0)
    assert math.isnan(accuracy(pred, np.array([[0.2], [0.9], [0.6]])))
    # a stack: one NaN per replica
    stacked = np.stack([pred, pred + 0.1])
    values = accuracy(stacked, np.array([[-0.5], [0.9], [0.6]]))
    assert values.shape == (2,) and np.isnan(values).all()


def test_several_outputs_of_values_get_no_accuracy_but_one_hot_and_probabilities_do() -> None:
    pred = np.array([[0.1, 0.3], [0.5, 0.2], [0.3, 0.4]])
    assert math.isnan(accuracy(pred, np.array([[0.2, -0.7], [1.5, 2.5], [0.3, 0.35]])))
    assert accuracy(pred, np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])) == pytest.approx(2 / 3)
    soft = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]])  # class probabilities: argmax
    assert accuracy(pred, soft) == 1.0
    assert accuracy(pred, np.array([[1], [0], [1]])) == 1.0  # integer labels
    # fit: a regression of two outputs records NaN every epoch
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2))
    model = mlp(2, 4, 2, activation="tanh", output_activation="identity", rng=rng)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, 2 * x, 3)
    assert np.isnan(history.accuracy).all()


def test_fit_records_no_accuracy_for_values_full_batch_minibatch_and_stacked() -> None:
    x, y = multi_gauss(64, 0.0, 0)
    model = mlp(
        2, 8, 1, activation="tanh", output_activation="identity", rng=np.random.default_rng(0)
    )
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, 30)
    assert len(history.accuracy) == 30 and np.isnan(history.accuracy).all()
    assert history.loss[-1] < history.loss[0]  # it trained
    assert "accuracy" not in repr(history) and "loss" in repr(history)
    rng = np.random.default_rng(1)
    history = fit(
        model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, 3, batch_size=16, rng=rng
    )
    assert np.isnan(history.accuracy).all()
    stack = mlp(2, 8, 1, activation="tanh", output_activation="identity", seeds=[0, 1, 2])
    history = fit(stack, MSELoss(), SGD(stack.parameters(), lr=0.1), x, y, 5)
    assert np.asarray(history.accuracy).shape == (5, 3) and np.isnan(history.accuracy).all()
    assert np.isnan(history.replica(1).accuracy).all()
    loss, acc, pred = evaluate(stack, MSELoss(), x, y)
    assert np.isnan(acc).all() and loss.shape == (3,)


def test_r2_score_matches_its_definition_and_scikit_learn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    target = rng.normal(size=(40, 3))
    pred = target + rng.normal(scale=0.5, size=(40, 3))
    by_hand = np.mean(
        [
            1
            - np.sum((target[:, k] - pred[:, k]) ** 2)
            / np.sum((target[:, k] - target[:, k].mean()) ** 2)
            for k in range(3)
        ]
    )
    assert r2_score(pred, target) == pytest.approx(by_hand, abs=1e-15)
    assert r2_score(pred, target) == pytest.approx(
        sklearn_metrics.r2_score(target, pred), abs=1e-14
    )
    # the mean predicts R² 0; a perfect fit 1; constant targets as scikit-learn's
    assert r2_score(np.full((40, 1), target[:, :1].mean()), target[:, :1]) == pytest.approx(0.0)
    assert r2_score(target, target) == 1.0
    constant = np.ones((5, 1))
    assert r2_score(constant, constant) == 1.0 == sklearn_metrics.r2_score(constant, constant)
    assert (
        r2_score(constant + 1, constant) == 0.0 == sklearn_metrics.r2_score(constant, constant + 1)
    )


def test_r2_score_of_one_sample_is_nan_and_of_overflowing_predictions_minus_inf() -> None:
    assert math.isnan(r2_score(np.array([[0.5]]), np.array([[0.2]])))
    assert np.isnan(r2_score(np.zeros((3, 1, 1)), np.ones((1, 1)))).all()
    huge = np.array([[1e200], [-1e200], [1e200]])
    with np.errstate(all="raise"):  # nothing left to NumPy's warnings (the suite: errors)
        assert r2_score(huge, np.array([[0.1], [0.5], [0.9]])) == -math.inf


def test_r2_score_per_replica_and_refused_shapes() -> None:
    rng = np.random.default_rng(1)
    target = rng.normal(size=(20, 1))
    stack = target + rng.normal(scale=[[[0.1]], [[1.0]]], size=(2, 20, 1))
    scores = r2_score(stack, target)
    assert scores.shape == (2,)
    assert scores.tolist() == [r2_score(stack[0], target), r2_score(stack[1], target)]
    assert scores[0] > 0.9 > scores[1]
    with pytest.raises(ValueError, match=r"target shape \(20,\) does not fit predictions"):
        r2_score(stack[0], target[:, 0])


# --- the random split -------------------------------------------------------------------


def test_shuffled_indices_partition_the_rows_with_sklearn_rounding() -> None:
    train, val, test = shuffled_indices(101, 0.1, 0.25, rng=3)
    assert (len(train), len(val), len(test)) == (101 - 11 - 26, 11, 26)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(101))
    again = shuffled_indices(101, 0.1, 0.25, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    assert not np.array_equal(train, shuffled_indices(101, 0.1, 0.25, rng=4)[0])
    with pytest.raises(SplitError, match="2 rows leave none to train on"):
        shuffled_indices(2, 0.0, 0.9)
    with pytest.raises(ValueError, match="must leave rows to train on"):
        shuffled_indices(10, 0.5, 0.5)


@pytest.mark.parametrize("seed", [0, 3])
def test_a_regression_run_holds_out_a_random_share_the_seed_does_not_choose(seed: int) -> None:
    cfg = RunConfig(
        dataset="plane", n=50, test_fraction=0.2, output_activation="identity", seed=seed
    )
    _, prep = experiments.prepare_run(cfg)
    assert (len(prep.x), len(prep.x_test), prep.n_out) == (40, 10, 1)
    x, y = plane(50, 0.1, data_rng(cfg))  # the run's data: drawn with its seed
    # the rows held out: the same at every seed (SPLIT_SEED, not the run's)
    train, _, test = shuffled_indices(50, 0.0, 0.2, rng=dataload.SPLIT_SEED)
    np.testing.assert_array_equal(prep.x_test, x[test])
    np.testing.assert_array_equal(prep.y, y[train])


# --- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"loss": "bce", "output_activation": "sigmoid"},
            "loss: plane is a regression .* so 'bce' does not apply; accepted: mse",
        ),
        (
            {"loss": "cross_entropy", "output_activation": "identity"},
            "so 'cross_entropy' does not apply",
        ),
        (
            {"output_activation": "sigmoid"},
            r"'sigmoid' outputs values in \[0, 1\] only, but plane's targets span \[-0.8",
        ),
        (
            {"output_activation": "relu"},
            r"'relu' outputs values in \[0, inf\] only.* accepted: tanh, leaky_relu, identity",
        ),
    ],
)
def test_a_loss_or_output_that_cannot_fit_values_is_refused(changes: dict, message: str) -> None:
    cfg = RunConfig(dataset="plane", **{"output_activation": "identity", **changes})
    with pytest.raises(ConfigError, match=message):
        experiments.prepare_run(cfg)


def test_tanh_and_leaky_outputs_are_accepted() -> None:
    for output in ("tanh", "leaky_relu", "identity"):
        _, prep = experiments.prepare_run(
            RunConfig(dataset="multi-gauss", output_activation=output)
        )
        assert prep.n_out == 1 and prep.y.dtype == np.float64


def test_the_regression_defaults_apply_to_flags_not_given_only() -> None:
    values = dataload.with_dataset_defaults({"dataset": "multi_gauss", "lr": 0.1})
    assert values["lr"] == 0.1  # given: kept
    assert values["output_activation"] == "identity" and values["noise"] == 0.0
    assert values["optimizer"] == "adam" and values["activation"] == "tanh"
    assert dataload.with_dataset_defaults({"dataset": "circle"}) == {"dataset": "circle"}
    # --loss mse given: the lab's sigmoid output would come back with it (it cannot go negative)
    assert (
        dataload.with_dataset_defaults({"dataset": "plane", "loss": "mse"})["output_activation"]
        == "identity"
    )


# --- a run: what it prints and saves -------------------------------------------------------


def test_summary_line_gives_r2_for_values_and_accuracy_for_labels() -> None:
    assert format_summary_line(0.5, math.nan, 0.97123) == "loss=0.5000000000 r2=0.9712"
    assert format_summary_line(0.5, 0.5, None) == "loss=0.5000000000 accuracy=50.0%"
    assert format_summary_line(0.5, math.nan, math.nan) == "loss=0.5000000000 r2=n/a"


def test_train_cli_on_plane_prints_values_and_saves_r2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, lines, err = run_cli(
        capsys, "train", "--dataset", "plane", "--n", "30", "--epochs", "300", "--hidden", "4",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "used its own defaults" in " ".join(err) and "--optimizer adam" in " ".join(err)
    iters = [line for line in lines if line.startswith("Iter: ")]
    assert len(iters) == 30
    x, y = plane(30, 0.0, data_rng(RunConfig(dataset="plane")))
    model = load(out / "model.npz")
    pred = model.forward(x)
    # the targets are printed as values, with the lab's 10 decimals
    assert iters[3] == f"Iter: 3 | Ground truth: {y[3, 0]:.10f} | Predict: {pred[3, 0]:.10f}"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["accuracy"] is None
    assert summary["r2"] == pytest.approx(r2_score(pred, y), abs=1e-12)
    assert summary["r2"] > 0.99
    assert lines[-1] == f"loss={summary['loss']:.10f} r2={summary['r2']:.4f}"
    history = (out / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,accuracy,wall_time" and history[1].split(",")[2] == "nan"


def test_a_held_out_regression_run_reports_both_r2(tmp_path: Path) -> None:
    cfg = RunConfig(
        dataset="multi-gauss", n=60, noise=0.0, test_fraction=0.25, activation="tanh",
        output_activation="identity", optimizer="adam", lr=0.03, epochs=200, print_every=0,
    )  # fmt: skip
    lines: list[str] = []
    summary = experiments.run_one(cfg, tmp_path / "run", log=lines.append, figures=False)
    _, prep = experiments.prepare_run(cfg)
    model = load(tmp_path / "run" / "model.npz")
    assert summary["test_r2"] == pytest.approx(r2_score(model.forward(prep.x_test), prep.y_test))
    assert summary["test_accuracy"] is None and summary["n_test"] == 15
    assert lines[-2:] == [
        f"train: loss={summary['loss']:.10f} r2={summary['r2']:.4f}",
        f"test: loss={summary['test_loss']:.10f} r2={summary['test_r2']:.4f}",
    ]


def test_the_default_multi_gauss_run_fits_it() -> None:
    """The measured defaults (README): seed 0 reaches R² > 0.95 on a held-out fifth."""
    cfg = RunConfig(**dataload.with_dataset_defaults({"dataset": "multi-gauss"}))
    cfg = RunConfig(**{**cfg.to_dict(), "test_fraction": 0.2, "epochs": 2000})
    _, prep = experiments.prepare_run(cfg)
    from proplab.config import build_loss, build_model, build_optimizer

    model = build_model(cfg, 2, 1)
    fit(model, build_loss(cfg), build_optimizer(cfg, model.parameters()), prep.x, prep.y, 2000)
    assert r2_score(model.forward(prep.x_test), prep.y_test) > 0.9
    assert isinstance(build_optimizer(cfg, model.parameters()), Adam)


# --- task: a CSV file's values, diabetes ---------------------------------------------------

PRICES = "a,b,price\n1,2,3.5\n2,1,2.25\n3,3,6.0\n4,1,4.5\n0,0,0.1\n1,1,1.9\n"


@pytest.mark.parametrize(
    ("task", "blamed"), [([], "--dataset"), (["--task", "classification"], "--task")]
)
def test_fractional_labels_blame_the_task_when_classification_was_asked_for(
    tmp_path: Path, capsys, task, blamed
) -> None:
    # cli20 L11: --task classification on a column of values blamed --dataset
    path = tmp_path / "prices.csv"
    path.write_text(PRICES)
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--dataset", str(path), *task, "--out", str(out))
    assert code == 2 and len(err) == 1 and not out.exists()
    assert err[0].startswith(
        f"proplab train: error: argument {blamed}: {path}: label column 'price' holds "
        "non-integer numbers (0.1 on line 6, 5 distinct such values): class labels are "
    )


def test_a_csv_label_column_of_values_needs_task_regression(tmp_path: Path, capsys) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(PRICES)
    code, _, err = run_cli(capsys, "train", "--dataset", str(path), "--out", str(tmp_path / "r"))
    assert code == 2
    assert "holds non-integer numbers" in err[-1] and "say --task regression" in err[-1]
    out = tmp_path / "run"
    code, lines, err = run_cli(
        capsys, "train", "--dataset", str(path), "--task", "regression", "--epochs", "2000",
        "--lr", "0.01", "--hidden", "4", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert "classes" not in summary
    assert summary["label_column"] == "price" and summary["features"] == ["a", "b"]
    x = np.array([[1, 2], [2, 1], [3, 3], [4, 1], [0, 0], [1, 1]], dtype=float)
    y = np.array([[3.5], [2.25], [6.0], [4.5], [0.1], [1.9]])
    pred = load(out / "model.npz").forward(x)
    assert summary["r2"] == pytest.approx(r2_score(pred, y), abs=1e-12) and summary["r2"] > 0.98
    # the identity output by default (no --output-activation): a sigmoid could not reach 6.0
    assert json.loads((out / "config.json").read_text())["config"]["output_activation"] == (
        "identity"
    )
    assert lines[-1] == f"loss={summary['loss']:.10f} r2={summary['r2']:.4f}"


def test_values_in_a_csv_label_column_must_be_numbers(tmp_path: Path) -> None:
    from proplab.csvdata import CsvError, load_csv

    path = tmp_path / "bad.csv"
    path.write_text("a,price\n1,2.5\n2,cheap\n")
    with pytest.raises(
        CsvError, match=r"line 3, column 'price': the label 'cheap' is not a number"
    ):
        load_csv(path, values=True)
    data = load_csv(_write(tmp_path, PRICES), values=True)
    assert data.y.dtype == np.float64 and data.y[:, 0].tolist() == [3.5, 2.25, 6.0, 4.5, 0.1, 1.9]
    assert data.classes == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("dataset", "task", "message"),
    [
        ("plane", "classification", "plane's targets are values to predict, not classes"),
        ("diabetes", "classification", "diabetes's targets .* accepted for it: regression or auto"),
        ("xor", "regression", "xor's labels are classes; 'regression' applies to a CSV file"),
        ("circle", "regression", "circle's labels are classes.* classification or auto"),
    ],
)
def test_a_task_the_dataset_cannot_be_is_refused(dataset: str, task: str, message: str) -> None:
    cfg = RunConfig(dataset=dataset, task=task, output_activation="identity")
    with pytest.raises(ConfigError, match=f"task: {message}"):
        experiments.prepare_run(cfg)


def test_the_output_range_must_hold_the_targets(tmp_path: Path) -> None:
    path = _write(tmp_path, PRICES)
    for output, accepted in (("sigmoid", "relu, leaky_relu, identity"), ("tanh", "relu, leaky")):
        cfg = RunConfig(dataset=str(path), task="regression", output_activation=output)
        with pytest.raises(ConfigError, match=f"targets span \\[0.1, 6\\]; accepted: {accepted}"):
            experiments.prepare_run(cfg)
    # values within (0, 1): a sigmoid output fits them, and is accepted
    unit = _write(tmp_path, "a,p\n1,0.2\n2,0.7\n3,0.5\n")
    _, prep = experiments.prepare_run(RunConfig(dataset=str(unit), task="regression"))
    assert prep.y[:, 0].tolist() == [0.2, 0.7, 0.5] and prep.n_out == 1


def test_task_names_are_checked() -> None:
    with pytest.raises(ConfigError, match="task: must be one of auto, classification, regression"):
        RunConfig(task="regress").validate()
    assert RunConfig(task=" Regression ").validate().task == "regression"


def test_diabetes_is_standardised_and_its_lesson_holds() -> None:
    pytest.importorskip("sklearn")
    from proplab.config import build_loss, build_model, build_optimizer
    from proplab.diabetes import load_diabetes

    x, y = load_diabetes()
    assert x.shape == (442, 10) and y.shape == (442, 1)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-12)
    assert abs(y.mean()) < 1e-12 and y.std() == pytest.approx(1.0)

    def test_r2(**changes) -> tuple[float, float]:
        values = dataload.with_dataset_defaults({"dataset": "diabetes", **changes})
        cfg, prep = experiments.prepare_run(RunConfig(**values))
        model = build_model(cfg, 10, 1)
        opt = build_optimizer(cfg, model.parameters())
        fit(model, build_loss(cfg), opt, prep.x, prep.y, cfg.epochs)
        return r2_score(model.forward(prep.x_test), prep.y_test), r2_score(
            model.forward(prep.x), prep.y
        )

    test, train = test_r2()  # the defaults: a fifth held out, 200 epochs (README: 0.333)
    assert 0.3 < test < 0.45 and 0.5 < train < 0.65
    test, train = test_r2(lr=0.01, epochs=1000)  # trained on: it fits the noise
    assert test < 0 and train > 0.75


def test_a_regression_of_0_1_values_reports_r2_not_accuracy(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,v\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,1\n0.2,0.9,0\n")
    cfg = RunConfig(dataset=str(path), task="regression", epochs=50, print_every=0)
    lines: list[str] = []
    summary = experiments.run_one(cfg, tmp_path / "run", log=lines.append, figures=False)
    assert summary["accuracy"] is None and isinstance(summary["r2"], float)
    assert lines[-1] == f"loss={summary['loss']:.10f} r2={summary['r2']:.4f}"


def test_a_diverging_regression_warns_nothing_and_saves_no_r2(tmp_path: Path, capsys) -> None:
    # SGD at lr 5: the predictions grow past 1e155 before the loss is inf, so their
    # squares overflow in R² (the suite turns NumPy's warnings into errors)
    out = tmp_path / "run"
    code, lines, err = run_cli(
        capsys, "train", "--dataset", "plane", "--optimizer", "sgd", "--lr", "5",
        "--test-fraction", "0.2", "--epochs", "300", "--out", str(out),
    )  # fmt: skip
    assert code == 1  # a diverged run's exit code, its folder saved
    assert "training diverged" in " ".join(lines + err)
    assert not [line for line in err if "Warning" in line or "warning:" in line]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stop_reason"] == "diverged"
    assert summary["r2"] is None and summary["test_r2"] is None and summary["loss"] is None


def test_a_csv_regression_run_and_sweep_are_regressions_all_the_way(tmp_path: Path, capsys) -> None:
    """Past training too: its figures draw values, its sweep has R² columns (the task, not
    the dataset's name, makes it a regression)."""
    from proplab.runio import read_csv
    from proplab.sweep import parse_spec, run_sweep

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(40, 2))
    rows = "\n".join(f"{a:.6f},{b:.6f},{(a - b) / 2:.6f}" for a, b in x)
    path = _write(tmp_path, f"u,w,value\n{rows}\n")
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "train", "--dataset", str(path), "--task", "regression", "--test-fraction",
        "0.25", "--optimizer", "adam", "--lr", "0.03", "--epochs", "300", "--out", str(out),
    )  # fmt: skip
    assert code == 0 and not [line for line in err if "warning" in line.lower()], err
    assert (out / "decision_boundary.png").stat().st_size > 0
    assert (out / "test_loss.csv").exists()  # the held-out loss at the kept weights
    spec = (
        f'[base]\ndataset = "{path}"\ntask = "regression"\nepochs = 100\noptimizer = "adam"\n'
        "lr = 0.03\n[vary]\nseed = [0, 1]\n"
    )
    run_sweep(parse_spec(spec, Path("s.toml")), tmp_path / "sweep", stream=io.StringIO())
    results = read_csv(tmp_path / "sweep" / "results.csv")
    assert all(np.isfinite(float(row["final_r2"])) for row in results)
    assert all(float(row["final_r2"]) > 0.5 for row in results)
    assert not any("output_activation" in row["run"] for row in results)  # nobody wrote it


def test_a_csv_regression_has_its_own_defaults_and_a_note_for_large_values(
    tmp_path: Path, capsys
) -> None:
    values = dataload.with_dataset_defaults({"dataset": "v.csv", "task": "regression"})
    assert (values["optimizer"], values["activation"], values["output_activation"]) == (
        "adam", "tanh", "identity",
    )  # fmt: skip
    assert "optimizer" not in dataload.with_dataset_defaults({"dataset": "v.csv"})  # classes
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, size=(30, 2))
    big = _write(tmp_path, "a,b,price\n" + "".join(f"{a},{b},{1000 + 300 * a}\n" for a, b in x))
    code, _, err = run_cli(
        capsys, "train", "--dataset", str(big), "--task", "regression", "--epochs", "5",
        "--quiet", "--out", str(tmp_path / "r"),
    )  # fmt: skip
    note = [line for line in err if "standardise the column" in line]
    assert code == 0 and len(note) == 1
    mean, std = float(np.mean(1000 + 300 * x[:, 0])), float(np.std(1000 + 300 * x[:, 0]))
    assert f"mean {mean:.4g} and standard deviation {std:.4g}" in note[0]
    small = _write(tmp_path, PRICES)  # values near [-1, 1]... and up to 6: no note
    code, _, err = run_cli(
        capsys, "train", "--dataset", str(small), "--task", "regression", "--epochs", "5",
        "--quiet", "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert code == 0 and not [line for line in err if "standardise" in line]


def test_the_sweep_table_never_prints_minus_zero() -> None:
    from types import SimpleNamespace

    from proplab.aggregate import _score_text

    tiny = SimpleNamespace(n=3, mean=-1.3e-13, std=1e-13, min=-2e-13, max=0.0)
    assert _score_text(tiny, regression=True) == "R² 0.000 ± 0.000 (0.000 to 0.000)"
