"""Tests that kill mutants of session 15's code which the rest of the suite let live.

A mutation testing pass (hand-made slips in the checkpoint's Dropout streams, the
schedules' state_dict, the report's "for good" and "still moving" rules, snapshots,
the CLI's lines, trace's checks, the scikit-learn wrapper and the CSV figures' class
names): each test names the slip it catches, fails on it and passes on the real code.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from test_mutation_kills_trace import _CURVED  # batchnorm over 2 samples: a curved loss
from test_report import (  # synthetic runs of one setting on XOR, of any set and config
    _answers,
    _diverge,
    _gv,
    _report_of,
    _runs,
    _view,
)
from test_schedules import _sgd  # an SGD over one zero parameter at lr
from test_serialize import _rewrite_header  # edit a model file's JSON header
from test_snapshots import drawn  # noqa: F401 (the fixture: each boundary figure's rows, title)

import proplab
from proplab import SGD, Linear, experiments, report_setup, report_text
from proplab.config import ConfigError, RunConfig
from proplab.dropout import Dropout
from proplab.models import mlp
from proplab.runio import read_csv
from proplab.schedules import StepLR
from proplab.serialize import ModelFileError
from proplab.serialize_streams import STREAMS_KEY, restore_streams, streams_of
from proplab.snapshots import loss_falls, pick_kept_epochs
from proplab.zoo_plots import decision_boundary

# ---------------------------------------------------------------- schedules' state


@pytest.mark.parametrize("edit", ["drop", "add"])
def test_a_schedule_state_missing_a_key_or_with_an_extra_one_is_refused(edit: str) -> None:
    # mutants: only missing keys refused (an extra one loaded as a new attribute), or
    # only unknown ones (a missing key silently kept from the schedule's own state)
    sched = StepLR(_sgd(1.0), step_size=2, gamma=0.5)
    state = StepLR(_sgd(1.0), step_size=5, gamma=0.1).state_dict()
    state["last_epoch"] = 7
    if edit == "drop":
        del state["gamma"]
        message = "not a StepLR state: missing ['gamma'], unknown nothing"
    else:
        state["best"] = 0.0
        message = "not a StepLR state: missing nothing, unknown ['best']"
    with pytest.raises(ValueError) as err:
        sched.load_state_dict(state)
    assert str(err.value) == message
    # nothing changed: the schedule still stands where it stood
    assert (sched.last_epoch, sched.step_size, sched.gamma) == (0, 2, 0.5)
    assert not hasattr(sched, "best")


# ---------------------------------------------------------------- the report's rules


def test_a_seed_at_100_percent_from_its_first_row_is_there_from_epoch_1() -> None:
    # mutant: perfect_from 0 (a 0-based index) for a run never below 100 %
    view = _view({"1": _runs("1", 1.0, [1.0, 1.0, 1.0])})
    assert [r.perfect_from for r in view.groups[0].runs] == [1, 1, 1]
    assert view.groups[0].median_perfect_from == 1.0


def test_a_diverged_seeds_curve_is_not_in_the_groups_tail_accuracy() -> None:
    # mutant: ran_out true for any run not stopped by tol (a diverged one too), so a
    # diverged seed's curve, rising before it blew up, made the group "still learning"
    runs = _diverge(_runs("1", 1.0, [0.75, 0.75, 0.75]), [0])
    runs[0].accuracy[899:] = np.linspace(0.5, 0.75, 101)
    group = _view({"1": runs}).groups[0]
    assert [r.ran_out for r in runs] == [False, True, True]
    assert group.tail_accuracy == (0.75, 0.75)
    assert not group.accuracy_moving


def test_a_mean_accuracy_change_of_exactly_one_point_is_still_moving() -> None:
    # mutant: >= turned into >; 0.68 -> 0.69 is 0.00999...98 in floating point, and a
    # change of one point is "1 point or more"
    runs = _runs("0.01", 0.01, [0.69])
    runs[0].loss[:] = 0.2  # a flat loss: the accuracy alone decides
    runs[0].accuracy[899] = 0.68  # the row where the last 10 % of 1000 epochs starts
    group = _view({"0.01": runs}).groups[0]
    assert group.tail_accuracy == (0.68, 0.69)
    assert group.accuracy_moving and group.moving


# ---------------------------------------------------------------- figures and layers


def test_the_test_markers_and_extra_classes_are_named_too(tmp_path: Path) -> None:
    # mutants: the test markers' legend kept "class k"; a class past the names given
    # raised IndexError instead of falling back to "class k"
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.eye(3)[[0, 1, 2, 2]]
    three = lambda g: np.stack([-g[:, 0] - g[:, 1], g[:, 0], g[:, 1]], axis=1)  # noqa: E731
    fig = decision_boundary(
        three, x, y, tmp_path / "b.png", x_test=x[:3], y_test=y[:3], class_names=["2", "9"]
    )
    legend = fig.axes[0].get_legend() or fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "2 (train)", "9 (train)", "class 2 (train)", "2 (test)", "9 (test)", "class 2 (test)",
    ]  # fmt: skip


def test_a_generator_count_that_does_not_fit_names_the_layer() -> None:
    # mutant: "got 3 generators for replica shape (2,)" without the layer it came from
    rngs = [np.random.default_rng(s) for s in range(3)]
    with pytest.raises(ValueError) as err:
        Linear(2, 3, replicas=2, rngs=rngs)
    assert str(err.value) == (
        "Linear: got 3 generators for replica shape (2,): rngs needs one Generator per replica"
    )


def test_a_group_that_diverged_in_every_seed_did_not_stop_early() -> None:
    # mutants: stopped_early counting the diverged seeds, or true of an empty "every seed
    # that did not diverge" (a group that only diverged stopped by no rule of its own)
    group = _view({"100": _diverge(_runs("100", 100.0, [0.5] * 3), [0, 1, 2])}).groups[0]
    assert not group.stopped_early
    converged = _runs("1", 1.0, [0.9] * 3)
    for r in converged:
        r.record.stop_reason = "converged"
    _diverge(converged, [0])
    assert _view({"1": converged}).groups[0].stopped_early  # the other two stopped at tol


def test_a_regressions_accuracy_column_never_makes_it_still_moving() -> None:
    # mutant: accuracy_moving without its regression guard; a CSV regression of 0/1
    # values has an accuracy column, yet only its loss says whether it settled
    group = _gv("1", [0.7], "plane", lr=1.0)
    group.runs[0].loss[:] = 0.2
    group.runs[0].accuracy[899:] = np.linspace(0.5, 0.7, 101)
    assert group.regression and group.tail_accuracy == pytest.approx((0.5, 0.7))
    assert not group.accuracy_moving and not group.moving


def test_the_trend_is_that_of_the_seeds_that_ran_all_their_epochs() -> None:
    # mutant: trend counting a seed stopped by tol, whose loss rose over its own last
    # 10 %: "moves both ways across seeds" where every seed still running falls
    runs = _runs("0.1", 0.1, [0.9, 0.9])
    runs[0].loss[-101:] = np.linspace(0.3, 0.2, 101)  # -33 %: still falling
    runs[1].record.stop_reason = "converged"
    runs[1].loss[-101:] = np.linspace(0.2, 0.3, 101)  # +50 %, but it stopped at tol
    view = _view({"0.1": runs})
    assert view.groups[0].trend == "falling"
    assert (
        "On XOR, lr 0.1 is still improving at the end (its loss is falling; median change "
        "33 % over the last 10 % of epochs), while its mean accuracy moved less than a "
        "point over them."
    ) in report_text.observations(view)


def test_a_falling_accuracy_is_said_to_fall() -> None:
    # mutant: the accuracy always "rose"
    runs = _runs("0.01", 0.01, [0.6])
    runs[0].loss[:] = 0.2
    runs[0].accuracy[899:] = np.linspace(0.7, 0.6, 101)
    view = _view({"0.01": runs, "1": _runs("1", 1.0, [1.0], first=10)})
    assert report_text.observations(view)[1] == (
        "On XOR, lr 0.01 is still changing at the end: its mean accuracy fell from 70.0 % to "
        "60.0 % over the last 10 % of epochs, and may change with more epochs."
    )


def test_a_group_at_100_percent_that_stopped_at_tol_does_not_add_the_stopped_early_rule():
    # mutant: the rule "or stopped early in every seed" named for groups that settled
    # by reaching 100 % anyway
    runs = _runs("1", 1.0, [1.0] * 3, first=50)
    for r in runs:
        r.record.stop_reason = "converged"
    view = _view({"1": runs})
    assert view.groups[0].stopped_early and view.groups[0].all_perfect
    assert report_setup._epochs_note([view], RunConfig(epochs=1000)).endswith(
        "1 has settled by then: at 100 % in every seed, or with the median seed's loss "
        "changing by at most 5 % and the mean accuracy by less than a point over the last "
        "10 % of epochs."
    )


def test_the_bias_answer_gives_each_variant_its_own_epochs_to_100_percent() -> None:
    # mutant: the no-bias variant quoted the base's median epochs
    groups = [
        _gv("b", [1.0] * 3, "xor", lr=1.0, first=100),
        _gv("nob", [1.0] * 3, "xor", lr=1.0, bias=False, first=300),
    ]
    assert _answers(groups, RunConfig(lr=1.0, epochs=1000))[2][1] == (
        "Measured: XOR 100.0 ± 0.0 % without biases (median 300 epochs to 100 % for good) "
        "against 100.0 ± 0.0 % with them (100)."
    )


def test_a_skipped_experiment_is_not_named_as_one_over_fewer_seeds(tmp_path, monkeypatch):
    # mutant: an experiment with no runs at all (skipped: its model is not available)
    # named in the Seeds line as one "over fewer seeds"
    import proplab.experiments as experiments

    def check(cfg):
        if cfg.model == "conv":
            raise ConfigError("model: 'conv' is not available in this installation (accepted: mlp)")

    monkeypatch.setattr(experiments, "check_available", check)
    md = _report_of(
        tmp_path,
        '[base]\nepochs = 20\ndataset = "xor"\n[vary]\nseed = [0, 1]\n'
        '[[experiment]]\nname = "base"\n'
        '[[experiment]]\nname = "conv"\noptional = true\nvary.model = ["conv"]\n',
    )
    assert "**Skipped**: model 'conv' is not available in this installation" in md
    assert "- **Seeds**: 0, 1. A seed draws the initial weights" in md


# ---------------------------------------------------------------- a checkpoint's streams


@pytest.mark.parametrize(
    ("index", "shown"), [(2, "2"), (True, "True")], ids=["one-past-the-end", "a-bool"]
)
def test_a_stream_index_just_past_the_end_or_a_bool_is_refused(tmp_path, index, shown) -> None:
    # mutants: the bound 0 <= i <= len (an IndexError from deep inside, no file named),
    # and True taken as stream 1 (JSON's true is no index)
    model = mlp(2, 4, 1, dropout=0.5, seeds=[0, 1], replicas=2)
    path = proplab.save(model, tmp_path / "m.npz", optimizer=SGD(model.parameters()))
    _rewrite_header(path, lambda h: h[STREAMS_KEY]["dropout"][0]["rngs"].__setitem__(1, index))
    with pytest.raises(ModelFileError) as err:
        proplab.load(path)
    assert str(err.value) == f"{path}: stream {shown} is not one of the 2 saved"


def test_restoring_one_stream_over_a_layer_with_per_replica_streams_drops_them() -> None:
    # mutant: rng restored but the layer's old rngs list kept (which Dropout draws from)
    one = mlp(2, 4, 1, dropout=0.5, replicas=2, rng=np.random.default_rng(7))
    entry = streams_of(one)
    assert entry is not None and entry["dropout"] == [{"rng": 0}, {"rng": 0}]
    stack = mlp(2, 4, 1, dropout=0.5, seeds=[0, 1], replicas=2)
    restore_streams(stack, entry)
    a, b = [m for m in stack.modules() if isinstance(m, Dropout)]
    assert a.rngs is None and b.rngs is None and a.rng is b.rng
    # the restored stream stands where one's did: the next draws are the same
    np.testing.assert_array_equal(a.rng.random(4), _dropouts_rng(one).random(4))


def _dropouts_rng(model: proplab.Module) -> np.random.Generator:
    return next(m.rng for m in model.modules() if isinstance(m, Dropout))


# ---------------------------------------------------------------- snapshots


def test_kept_losses_that_rise_at_the_end_measure_the_fall_to_their_lowest() -> None:
    # mutant: the fall measured to the last kept loss (0.5 here), not the lowest (0.0):
    # 90 % of a fall of 1.0 is first reached at epoch 30, of 0.5 already at epoch 20
    assert pick_kept_epochs([0, 10, 20, 30, 40], [1.0, 0.6, 0.3, 0.0, 0.5]) == [0, 10, 20, 30, 40]


def test_a_mini_batch_runs_title_follows_its_kept_weights_loss_not_its_history(
    tmp_path,
    drawn,  # noqa: F811 (the fixture)
) -> None:
    # mutant: a mini-batch run's boundary title said its epochs were picked where the
    # loss fell because history.csv's running mean fell (0.40 -> 0.26), while the kept
    # weights' own loss, which picked them, barely moved (0.277 -> 0.271): round epochs
    cfg = RunConfig(
        dataset="linear", batch_size=4, optimizer="adam", lr=0.3, epochs=10, print_every=0
    )
    experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    history = [float(r["loss"]) for r in read_csv(tmp_path / "history.csv")]
    assert loss_falls(history)
    (((row,), title),) = drawn
    assert "where the" not in title and "of its fall" not in title


# ---------------------------------------------------------------- the CLI's help


@pytest.mark.parametrize("columns", ["50", "70"])
def test_no_help_line_of_an_option_ends_in_a_broken_hyphenated_word(
    monkeypatch, capsys, columns: str
) -> None:
    # mutant: the options' help (argparse's _split_lines) wrapped with textwrap's default,
    # which breaks at hyphens: "a zoo set (circle, xor-" / "quadrants, ..." at 70 columns
    from proplab.cli import main

    monkeypatch.setenv("COLUMNS", columns)
    assert main(["train", "--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.rstrip().endswith("-")] == []
    assert any("xor-quadrants" in line for line in lines)


# ---------------------------------------------------------------- trace's check


def test_an_array_settled_by_extrapolation_prints_its_extrapolated_relative_error() -> None:
    # mutant: the printed (plain) relative error kept the one-step difference's 5.8e-05,
    # "passed within round-off", for the array Ridders' extrapolation settled at 3.6e-07
    from proplab.trace_run import trace_config

    cfg = RunConfig(**{**_CURVED, "dataset": "xor"}, activation="tanh", seed=69)
    text = trace_config(cfg, samples=2, after=500).text()
    assert "compared with Ridders' extrapolation" in text
    # (3.6e-07 on one CPU, 5.0e-07 on another: its digits move with the BLAS kernels)
    shown = re.search(r"the largest relative error is (\S+) \(passed, tolerance 1e-06;", text)
    assert shown is not None and float(shown.group(1)) <= 1e-6, text


# ---------------------------------------------------------------- the scikit-learn wrapper


def test_the_best_validation_score_is_the_kept_epochs_not_the_last() -> None:
    # mutant: best_validation_score_ the last epoch's score; early stopping went on 3
    # epochs past the best (8 of 11) and keeps the best epoch's weights
    pytest.importorskip("sklearn")  # the wrapper's and test_sklearn's own dependency
    from test_sklearn import _iris  # iris's x (150, 4), y (150,)

    from proplab.sklearn import MLPClassifier

    x, y = _iris()
    clf = MLPClassifier(
        hidden_layer_sizes=(6,), learning_rate_init=0.3, early_stopping=True,
        n_iter_no_change=3, validation_fraction=0.2, max_iter=60, random_state=0,
    ).fit(x, y)  # fmt: skip
    assert (clf.best_epoch_, clf.n_iter_) == (8, 11)
    assert clf.best_validation_score_ == clf.validation_scores_[7] == 27 / 30
    assert clf.validation_scores_[-1] == 28 / 30


# ---------------------------------------------------------------- a run's figures


def test_a_batch_of_every_sample_is_not_noted_as_a_mean_over_batches(tmp_path, monkeypatch):
    # mutant: any batch_size noted "mean over each epoch's batches" on the learning curve;
    # a batch of all 100 samples (or more) is full batch, its loss the weights' own
    from proplab import plots

    notes = []
    original = plots.learning_curve
    monkeypatch.setattr(
        plots,
        "learning_curve",
        lambda *a, **k: notes.append(k["training_note"]) or original(*a, **k),
    )
    for batch_size in (100, 50):  # linear's 100 training samples
        cfg = RunConfig(dataset="linear", epochs=20, batch_size=batch_size, print_every=0)
        experiments.run_one(cfg, tmp_path / f"run{batch_size}", quiet=True, progress=False)
    assert notes == ["", "mean over each epoch's batches"]


def test_with_a_held_out_set_the_boundary_panels_say_training_accuracy(
    tmp_path,
    drawn,  # noqa: F811 (the fixture)
) -> None:
    # mutant: the panels' "93.8 %" without "training accuracy" beside a held-out test set
    cfg = RunConfig(dataset="linear", epochs=20, test_fraction=0.2, print_every=0)
    experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    (((row,), _),) = drawn
    seconds = [p.title.split("\n")[1] for p in row]
    assert seconds and all(s.startswith("training accuracy ") for s in seconds), seconds
