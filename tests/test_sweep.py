"""Sweeps: grid expansion, validation before running, aggregation, resume, parallel runs."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from proplab import aggregate, sweep, sweep_workers
from proplab.config import ConfigError
from proplab.sweep import SweepError, format_value, parse_spec, run_sweep

SIMPLE = """
title = "lr sweep"
[base]
epochs = 50
[vary]
dataset = ["xor", "linear"]
lr = [1.0, 0.01]
seed = [0, 1, 2]
"""


def spec_of(text: str, name: str = "sweep.toml", **kw):
    return parse_spec(text, Path(name), **kw)


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- grid expansion


def test_single_experiment_grid_is_the_full_product_with_seeds_innermost():
    spec = spec_of(SIMPLE)
    (exp,) = spec.experiments
    assert exp.name == "sweep" and [a.name for a in exp.axes] == ["dataset", "lr", "seed"]
    assert len(exp.runs) == 2 * 2 * 3 == len(spec.runs)
    names = [name for name, _ in exp.runs]
    # lr=1 equals the base, so it is not in the name; dataset and seed always are
    assert names[:6] == [
        "dataset=xor,seed=0",
        "dataset=xor,seed=1",
        "dataset=xor,seed=2",
        "dataset=xor,lr=0.01,seed=0",
        "dataset=xor,lr=0.01,seed=1",
        "dataset=xor,lr=0.01,seed=2",
    ]
    cfg = spec.runs["dataset=xor,lr=0.01,seed=2"]
    assert (cfg.dataset, cfg.lr, cfg.seed, cfg.epochs) == ("xor", 0.01, 2, 50)
    labels = dict(exp.runs)["dataset=linear,lr=0.01,seed=1"]
    assert labels == {"dataset": "linear", "lr": "0.01", "seed": "1"}
    assert exp.setting_label(labels) == "0.01"


def test_names_are_deterministic_and_independent_of_axis_order():
    a = spec_of(SIMPLE)
    b = spec_of(
        SIMPLE.replace(
            'dataset = ["xor", "linear"]\nlr = [1.0, 0.01]',
            'lr = [0.01, 1.0]\ndataset = ["linear", "xor"]',
        )
    )
    assert set(a.runs) == set(b.runs)
    assert all(a.runs[n] == b.runs[n] for n in a.runs)


SUITE = """
title = "suite"
[base]
epochs = 40
[vary]
dataset = ["xor", "linear"]
seed = [0, 1]

[[experiment]]
name = "baseline"
section = "results"

[[experiment]]
name = "lr"
section = "discussion"
vary.lr = [1.0, 0.1]

[[experiment]]
name = "opt"
title = "Optimizers"
section = "extras"
base.lr = 0.1
vary.optimizer = [
  { optimizer = "sgd" },
  { optimizer = "momentum", momentum = 0.5 },
  { optimizer = "adam", lr = 0.01, label = "Adam" },
]
"""


def test_suite_shares_axes_and_runs_identical_configs_once():
    spec = spec_of(SUITE)
    sizes = {e.name: len(e.runs) for e in spec.experiments}
    assert sizes == {"baseline": 4, "lr": 8, "opt": 12}
    # baseline == lr 1.0 and lr 0.1 == opt sgd (base.lr = 0.1): 24 memberships, 16 runs
    assert len(spec.runs) == 4 + 4 + 8 == 16
    lr_runs = {n for n, _ in spec.experiments[1].runs}
    assert {n for n, _ in spec.experiments[0].runs} < lr_runs
    opt = spec.experiments[2]
    labels = [opt.setting_label(lab) for _, lab in opt.runs[::4]]
    assert labels == ["sgd", "momentum (momentum=0.5)", "Adam"]
    adam = spec.runs["dataset=xor,optimizer=adam,lr=0.01,seed=1"]
    assert (adam.optimizer, adam.lr, adam.seed) == ("adam", 0.01, 1)
    assert "dataset=linear,lr=0.1,seed=0" in {n for n, _ in opt.runs}  # shared with lr 0.1


def test_two_setting_axes_label_both():
    spec = spec_of("[vary]\nlr = [1.0, 0.5]\nhidden = [2, 4]\nseed = [0]\n")
    (exp,) = spec.experiments
    labels = [exp.setting_label(lab) for _, lab in exp.runs]
    assert labels == ["lr=1, hidden=2", "lr=1, hidden=4", "lr=0.5, hidden=2", "lr=0.5, hidden=4"]


def test_a_bundle_with_its_own_label_is_not_shown_as_the_axis_equal_to_it():
    # "lr=momentum 0.9 at learning rate 0.5 (heavy ball)" claimed lr equalled that text
    text = "[vary]\nlr = [1.0, { lr = 0.5, momentum = 0.9, optimizer = 'momentum', "
    text += "label = 'heavy ball' }]\nactivation = ['sigmoid', 'tanh']\nseed = [0]\n"
    (exp,) = spec_of(text).experiments
    assert [exp.setting_label(lab) for _, lab in exp.runs] == [
        "lr=1, activation=sigmoid", "lr=1, activation=tanh",
        "heavy ball, activation=sigmoid", "heavy ball, activation=tanh",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.001, "0.001"),
        (1e-6, "1e-06"),
        (10, "10"),
        (True, "true"),
        ([8, 4], "8-4"),
        (None, "none"),
        ("relu", "relu"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_shipped_lab_suite_covers_the_lab():
    spec = sweep.load_spec(sweep.suite_path("lab"))
    by_name = {e.name: e for e in spec.experiments}
    values = {
        name: {s.label for a in e.setting_axes for s in a.settings} for name, e in by_name.items()
    }
    assert {"1", "0.1", "0.01", "0.001", "1e-06"} <= values["lr"]
    assert {"2", "4", "10", "32"} <= values["hidden"]
    assert {"sgd", "momentum", "adagrad", "rmsprop", "adam"} == values["optimizer"]
    assert {"sigmoid", "tanh", "relu", "leaky_relu"} == values["activation"]
    assert any(cfg.activation == "identity" for cfg in spec.runs.values())
    assert {cfg.model for cfg in spec.runs.values()} == {"mlp", "conv"}
    for exp in spec.experiments:
        datasets = {spec.runs[n].dataset for n, _ in exp.runs}
        seeds = {spec.runs[n].seed for n, _ in exp.runs}
        assert datasets == {"linear", "xor"} and len(seeds) >= 5, exp.name
    assert {e.section for e in spec.experiments} == {"results", "discussion", "extras"}


# ---------------------------------------------------------------- validation


def test_malformed_toml_names_file_and_line(tmp_path):
    path = write(tmp_path, "[base]\nlr = 1.0\nepochs = = 3\n", "bad.toml")
    with pytest.raises(SweepError) as err:
        sweep.load_spec(path)
    msg = str(err.value)
    assert str(path) in msg and "malformed TOML" in msg and "line 3" in msg


@pytest.mark.parametrize(
    ("text", "named"),
    [
        # tomllib gives up on the next key's line: the message adds where the array opened
        ('[base]\ndataset = "xor"\nhidden = [4, 4\nepochs = 100\n', "at line 4, column 1"),
        # ... or at the end of the file; brackets in comments and strings are not counted
        ('[base]\n# a [ comment\nlabel = "x [ y"\nhidden = [4,\n  4\n', "at end of document"),
    ],
)
def test_an_unclosed_array_is_named_where_it_opened(tmp_path, text, named):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(SweepError) as err:
        sweep.load_spec(path)
    opened = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("hidden"))
    assert str(err.value) == (
        f"{path}: malformed TOML: Unclosed array ({named}); the array opened on line {opened} "
        "is never closed"
    )


def test_an_unclosed_array_on_the_line_named_gets_no_hint(tmp_path):
    """The README's example (a comma left out): tomllib already names the array's line."""
    path = write(tmp_path, "[base]\nlr = 1.0\n[vary]\nlr = [1.0 0.1]\n", "bad.toml")
    with pytest.raises(SweepError) as err:
        sweep.load_spec(path)
    assert str(err.value).endswith("Unclosed array (at line 4, column 11)")


def test_missing_file(tmp_path):
    with pytest.raises(SweepError, match="no such sweep file"):
        sweep.load_spec(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        # unknown keys, at every level
        (
            "[bas]\nlr = 1\n",
            [
                "top level",
                "unknown key 'bas'",
                "accepted: title, description, data_files, base, vary, experiment",
            ],
        ),
        ("[base]\nlearning_rate = 1\n", ["[base]", "unknown key 'learning_rate'", "lr"]),
        (
            "[vary]\nlearning_rate = [1, 2]\n",
            ["[vary] learning_rate[0]", "unknown key 'learning_rate'", "optimizer"],
        ),
        (
            '[vary]\nopt = [{optimizer = "sgd", lrr = 1}]\n',
            ["opt[0]", "unknown key 'lrr'", "label"],
        ),
        (
            '[[experiment]]\nname = "a"\nsection = "results"\ncolour = 1\n',
            ["experiment", "unknown key 'colour'", "section"],
        ),
        # invalid values: number ranges, registry names, types
        (
            "[vary]\nlr = [0.1, -1]\n",
            ["[vary] lr[1] = -1", "lr: must be a finite number > 0, got -1"],
        ),
        (
            '[vary]\nactivation = ["relu", "swish"]\n',
            ["activation[1] = 'swish'", "unknown activation 'swish'", "sigmoid, tanh, relu"],
        ),
        ("[base]\nepochs = 2.5\n", ["[base]", "epochs: must be a positive integer, got 2.5"]),
        ('[base]\nlr = "fast"\n', ["[base]", "lr", "'fast'"]),
        ('[base]\nbias = [1, "x"]\n', ["[base]", "bias: must be true or false, got [1, 'x']"]),
        ("[base]\nhidden = 0\n", ["[base]", "hidden: must be a positive integer (two layers"]),
        (  # 71 PiB of weights: refused at once, named, no traceback
            "[base]\nhidden = 100000000\n",
            ["hidden: a network of widths [2, 100000000, 100000000, 1] has 10,000,000,300,000,000"],
        ),
        ("[vary]\ndataset = [[1]]\n", ["dataset[0]", "dataset: must be a dataset name or a path"]),
        ("[base]\nlabel = [2]\n", ["[base]", "label: must be a column name or index, got [2]"]),
        (
            '[base]\nhidden = "10"\n',
            ["[base]", "hidden: must be a positive integer or a list of them ([] for no hidden"],
        ),
        ("[vary]\nbias = [true, 0]\n", ["bias[1]", "bias: must be true or false, got 0"]),
        # cli20 M3 and L3: a momentum of 1 diverges; false is no test fraction of 0
        (
            '[base]\noptimizer = "momentum"\n[vary]\nmomentum = [0.5, 1.0]\n',
            ["momentum[1]", "momentum: must be a finite number in [0, 1) (a velocity that"],
        ),
        (
            "[base]\ntest_fraction = false\n",
            ["[base]", "test_fraction: must be a finite number in [0, 1), got False"],
        ),
        (
            '[vary]\nmodel = ["mlp", "rnn"]\n',
            ["model[1]", "unknown model 'rnn'", "accepted: mlp, conv"],
        ),
        ('[vary]\ndataset = ["xor", "spiral9"]\n', ["dataset", "spiral9", "accepted"]),
        # malformed axes
        ("[vary]\nlr = 0.1\n", ["[vary] lr", "non-empty list"]),
        ("[vary]\nlr = []\n", ["[vary] lr", "non-empty list"]),
        ("[vary]\nlr = [0.1, 0.1]\n", ["values '0.1' and '0.1' are the same setting"]),
        (
            '[vary]\nlr = [0.1]\nopt = [{optimizer = "adam", lr = 0.01}]\n',
            ["axes 'lr' and 'opt' both set 'lr'"],
        ),
        ("vary = 3\n", ["[vary]", "must be a table"]),
        # experiments
        ('[[experiment]]\nname = "a b"\n', ["'name' must be letters"]),
        (
            '[[experiment]]\nname = "a"\nsection = "appendix"\n',
            ["section 'appendix' is not accepted", "results, discussion, extras"],
        ),
        (
            '[[experiment]]\nname = "a"\n[[experiment]]\nname = "a"\n',
            ["duplicate experiment name 'a'"],
        ),
        ('[[experiment]]\nname = "a"\noptional = "yes"\n', ["'optional' must be true or false"]),
        # a combination that is invalid although each value alone is fine
        (
            '[vary]\nloss = ["mse", "bce"]\noutput_activation = ["sigmoid", "tanh"]\n',
            ["run (loss=bce, output_activation=tanh", "'bce' needs output_activation 'sigmoid'"],
        ),
    ],
)
def test_bad_sweep_files_are_rejected_with_file_key_and_accepted_values(tmp_path, text, needles):
    path = write(tmp_path, text, "exp.toml")
    with pytest.raises(SweepError) as err:
        sweep.load_spec(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:"), msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    assert isinstance(err.value, ConfigError)  # the CLI's one-line error path handles it


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("[bas]\nlr = 1\n", "; did you mean 'base'?"),  # top level
        ("[base]\nepoch = 5\n", "; did you mean 'epochs'?"),  # a RunConfig field
        ("[vary]\nlrr = [1, 2]\n", "; did you mean 'lr'?"),  # an axis
        ('[vary]\nopt = [{optimizer = "sgd", lrr = 1}]\n', "; did you mean 'lr'?"),  # a bundle
        ("[base]\nzzz = 5\n", ")"),  # nothing close: the list of accepted keys ends it
    ],
)
def test_a_misspelt_key_ends_with_the_nearest_accepted_one(tmp_path, text, suggestion):
    with pytest.raises(SweepError) as err:
        sweep.load_spec(write(tmp_path, text, "exp.toml"))
    assert str(err.value).endswith(suggestion), str(err.value)


def test_a_bad_file_runs_nothing(tmp_path, capsys):
    path = write(tmp_path, "[vary]\nlr = [0.1, -1]\n")
    out = tmp_path / "out"
    assert sweep.main(str(path), str(out)) == 2
    assert not out.exists()
    assert "lr: must be a finite number > 0" in capsys.readouterr().err


def _conv_unavailable(monkeypatch):
    import proplab.experiments as experiments

    def check(cfg):
        if cfg.model == "conv":
            raise ConfigError("model: 'conv' is not available in this installation (accepted: mlp)")

    monkeypatch.setattr(experiments, "check_available", check)


def test_optional_experiment_is_skipped_with_the_reason_when_its_model_is_missing(monkeypatch):
    _conv_unavailable(monkeypatch)
    text = (
        SUITE + '\n[[experiment]]\nname = "conv"\noptional = true\nvary.model = ["mlp", "conv"]\n'
    )
    spec = spec_of(text)
    conv = spec.experiments[-1]
    assert "'conv' is not available" in conv.skipped
    assert all(spec.runs[n].model == "mlp" for n in spec.active_runs)
    with pytest.raises(SweepError, match="experiment 'conv'.*not available"):
        spec_of(text.replace("optional = true\n", ""))


# ---------------------------------------------------------------- aggregation


def test_stats_on_known_numbers():
    s = aggregate.Stats.of([1.0, 2.0, 3.0, 4.0])
    # mean 2.5; sample variance ((1.5^2 + 0.5^2) * 2) / 3 = 5/3
    assert (s.mean, s.min, s.max, s.n) == (2.5, 1.0, 4.0, 4)
    assert s.std == pytest.approx(math.sqrt(5 / 3), rel=1e-15)
    one = aggregate.Stats.of([0.7, math.nan])
    assert (one.mean, one.n) == (0.7, 1) and math.isnan(one.std)
    assert math.isnan(aggregate.Stats.of([]).mean)


def test_stats_of_huge_finite_losses_are_finite_and_warning_free():
    # a run whose loss grew to 1e200 without overflowing is not diverged; its
    # group's std must not overflow (pytest turns the RuntimeWarning into an error)
    s = aggregate.Stats.of([1e200, 3e200, 2e200])
    assert s.mean == pytest.approx(2e200, rel=1e-15)
    assert s.std == pytest.approx(1e200, rel=1e-15)  # sample std of 1, 3, 2 is 1
    assert (s.min, s.max, s.n) == (1e200, 3e200, 3)
    big = aggregate.Stats.of([1.5e308, 1.7e308])  # even their sum overflows
    assert big.mean == pytest.approx(1.6e308, rel=1e-15)
    assert big.std == pytest.approx(math.sqrt(2) * 1e307, rel=1e-14)


def write_run_files(run_dir: Path, epochs: int = 1) -> None:
    """The history (``epochs`` rows, as its summary's epochs_run says) and model a finished
    run has besides its summary (a resume checks them)."""
    from proplab.runio import write_npz, write_text

    rows = "".join(f"{e},0.5,0.5,0.01\n" for e in range(1, epochs + 1))
    write_text(run_dir / "history.csv", "epoch,loss,accuracy,wall_time\n" + rows)
    write_npz(run_dir / "model.npz", {"w": np.zeros(1)})


class FakeTrainer:
    """Stands in for experiments.run_one: writes a run folder with chosen numbers, counts calls."""

    def __init__(self, log: Path, fail: str = "", interrupt_at: int = 0) -> None:
        self.log, self.fail, self.interrupt_at = log, fail, interrupt_at

    @staticmethod
    def accuracy(cfg) -> float:
        return round(0.5 + 0.1 * cfg.seed + (0.05 if cfg.dataset == "xor" else 0.0), 10)

    def __call__(self, cfg, run_dir):
        from proplab.runio import write_json

        calls = self.log.read_text().count("\n") if self.log.exists() else 0
        if self.interrupt_at and calls + 1 == self.interrupt_at:
            raise KeyboardInterrupt
        with open(self.log, "a") as f:  # one line per call, from any process
            f.write(f"{run_dir.name} {os.getpid()}\n")
        if self.fail and run_dir.name == self.fail:
            raise ValueError("this run is broken")
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "config.json", {"config": cfg.to_dict()})
        write_run_files(run_dir, cfg.epochs)
        summary = {
            "loss": 1.0 - self.accuracy(cfg),
            "accuracy": self.accuracy(cfg),
            "epochs_run": cfg.epochs,
            "stop_reason": "completed",
            "wall_time_s": 0.25,
        }
        write_json(run_dir / "summary.json", summary)
        return summary


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def calls(log: Path) -> list[str]:
    """Names of the runs trained so far, in order."""
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def pids(log: Path) -> set[int]:
    return {int(line.split()[1]) for line in log.read_text().splitlines()}


def test_results_and_aggregate_csv_on_known_numbers(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(log))
    spec = spec_of(SIMPLE)
    result = run_sweep(spec, tmp_path / "out", stream=io.StringIO())
    assert (result.total, result.ran, result.reused, result.exit_code) == (12, 12, 0, 0)
    rows = list(read_rows(tmp_path / "out" / "results.csv"))
    assert len(rows) == 12
    assert {r["run"] for r in rows} == set(spec.runs)
    assert rows[0]["lr"] == "1" and rows[3]["lr"] == "0.01"  # the varying field has a column
    agg = list(read_rows(tmp_path / "out" / "aggregate.csv"))
    assert [(r["setting"], r["dataset"]) for r in agg] == [
        ("1", "xor"),
        ("0.01", "xor"),
        ("1", "linear"),
        ("0.01", "linear"),
    ]
    # xor: seeds 0, 1, 2 -> accuracies 0.55, 0.65, 0.75: mean 0.65, sample std 0.1
    xor = agg[0]
    assert int(xor["n_seeds"]) == 3 and int(xor["n_diverged"]) == 0
    assert float(xor["accuracy_mean"]) == pytest.approx(0.65, abs=1e-12)
    assert float(xor["accuracy_std"]) == pytest.approx(0.1, abs=1e-12)
    assert (float(xor["accuracy_min"]), float(xor["accuracy_max"])) == (0.55, 0.75)
    assert float(xor["loss_mean"]) == pytest.approx(0.35, abs=1e-12)
    assert float(agg[2]["accuracy_mean"]) == pytest.approx(0.6, abs=1e-12)


def test_diverged_runs_are_counted_and_left_out_of_the_means(tmp_path):
    from proplab.runio import write_json

    spec = spec_of("[vary]\nseed = [0, 1, 2]\n")
    for name, cfg in spec.runs.items():
        run = tmp_path / "runs" / name
        run.mkdir(parents=True)
        write_run_files(run, 7)
        diverged = cfg.seed == 2
        write_json(run / "summary.json", {
            "loss": None if diverged else 0.1 * (cfg.seed + 1),
            "accuracy": None if diverged else 0.9 + 0.1 * cfg.seed,
            "epochs_run": 7, "stop_reason": "diverged" if diverged else "completed",
        })  # fmt: skip
    (g,) = aggregate.group(aggregate.collect(spec, tmp_path))
    assert g.n_diverged == 1
    assert (g.accuracy.n, g.accuracy.mean) == (2, pytest.approx(0.95))
    assert g.loss.mean == pytest.approx(0.15)


# ---------------------------------------------------------------- resume, failures, parallel


def test_interrupted_sweep_resumes_without_redoing_finished_runs(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    out = tmp_path / "out"
    spec = spec_of(SIMPLE)
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(log, interrupt_at=5))
    first = run_sweep(spec, out, stream=io.StringIO())
    assert first.interrupted and first.exit_code == 130 and first.ran == 4
    done = sorted(p.parent.name for p in out.glob("runs/*/summary.json"))
    assert done == sorted(calls(log)) and len(done) == 4
    assert len(list(read_rows(out / "results.csv"))) == 4  # written on Ctrl-C too
    stamps = {n: (out / "runs" / n / "summary.json").stat().st_mtime_ns for n in done}

    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(log))
    second = run_sweep(spec, out, stream=io.StringIO())
    assert (second.reused, second.ran, second.interrupted) == (4, 8, False)
    assert len(calls(log)) == 12 and len(set(calls(log))) == 12  # nothing trained twice
    for n, stamp in stamps.items():
        assert (out / "runs" / n / "summary.json").stat().st_mtime_ns == stamp
    rows = list(read_rows(out / "results.csv"))
    assert sorted(r["run"] for r in rows) == sorted(spec.runs)
    log_rows = list(read_rows(out / "sweep_log.csv"))
    assert [(r["trained"], r["reused"], r["interrupted"]) for r in log_rows] == [
        ("4", "0", "True"),
        ("8", "4", "False"),
    ]


def test_an_unreadable_sweep_log_is_kept_aside_and_a_new_one_begun(tmp_path, monkeypatch):
    # cli20 H2: a sweep_log.csv that is not UTF-8 crashed the sweep after its runs
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep_log.csv").write_bytes(b"a\xff\n\xfe")
    said = io.StringIO()
    result = run_sweep(spec_of("[vary]\nseed = [0]\n"), out, stream=said)
    assert result.exit_code == 0 and result.ran == 1
    assert (out / "sweep_log.csv.unreadable").read_bytes() == b"a\xff\n\xfe"
    assert [r["trained"] for r in read_rows(out / "sweep_log.csv")] == ["1"]
    assert "sweep_log.csv is unreadable ('utf-8' codec" in said.getvalue()
    assert "moved to sweep_log.csv.unreadable, a new log begun" in said.getvalue()


def test_a_failing_run_is_reported_and_the_others_finish(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    bad = "dataset=linear,lr=0.01,seed=1"
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(log, fail=bad))
    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", stream=io.StringIO())
    assert result.exit_code == 1 and result.ran == 11
    assert result.failed == {bad: "ValueError: this run is broken"}
    rows = list(read_rows(tmp_path / "out" / "results.csv"))
    assert len(rows) == 11 and bad not in {r["run"] for r in rows}


def test_progress_shows_runs_done_elapsed_and_remaining(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    stream = io.StringIO()
    run_sweep(spec_of(SIMPLE), tmp_path / "out", stream=stream)
    text = stream.getvalue()
    assert "sweep: 12/12 runs done, 100 % of the work, elapsed 0:0" in text
    assert "remaining ~0:00" in text


def test_no_progress_draws_no_progress_line_and_keeps_the_messages(tmp_path, monkeypatch, capsys):
    from proplab.cli import main

    bad = "dataset=linear,lr=0.01,seed=1"
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls", fail=bad))
    path = write(tmp_path, SIMPLE)
    for flags, out in (([], "shown"), (["--no-progress"], "quiet")):
        argv = ["sweep", str(path), "--out", str(tmp_path / out), "--stack", "off", *flags]
        assert main(argv) == 1  # one run failed
        printed = capsys.readouterr()
        assert "sweep: 12 runs (0 reused, 11 trained, 1 failed)" in printed.out
        assert f"sweep: run {bad} failed: ValueError: this run is broken" in printed.err
        progress_lines = [s for s in printed.err.splitlines() if "runs done" in s]
        if flags:
            assert progress_lines == []
        else:
            assert progress_lines[-1].startswith("sweep: 11/12 runs done, 1 failed, 100 % of")


def test_one_at_a_time_runner_plans_by_data_size(tmp_path, monkeypatch):
    """run_jobs announces each run's cost from the time model, which knows the data
    and the model where RunJob.cost (epochs and widths only) rates these runs the
    same; a run whose data cannot load costs 0."""
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    jobs = sweep.plan(spec_of(SIMPLE.replace("epochs = 50", "epochs = 20000")), tmp_path / "out")
    missing = tmp_path / "no-such-data.csv"
    bad = sweep.RunJob("bad", jobs[0].config.replace(dataset=str(missing)), tmp_path / "bad")
    planned: dict[str, float] = {}
    events: list[str] = []

    def on_plan(costs: dict[str, float]) -> None:
        planned.update(costs)
        events.append("plan")

    sweep.run_jobs([*jobs, bad], on_done=lambda job, _: events.append(job.name), on_plan=on_plan)
    assert events[0] == "plan" and len(events) == len(jobs) + 2  # planned before any run
    assert set(planned) == {job.name for job in jobs} | {"bad"} and planned["bad"] == 0.0
    by_data = {}
    for job in jobs:
        by_data.setdefault(job.config.dataset, set()).add(planned[job.name])
        assert job.cost == jobs[0].cost  # RunJob.cost cannot tell them apart
    (xor_cost,), (linear_cost,) = by_data["xor"], by_data["linear"]
    # measured alone (benchmarks/bench_lab.py): linear H=10 ~1.14x the time of XOR H=10
    assert 1.05 * xor_cost < linear_cost < 1.5 * xor_cost
    # a Conv1d model makes about twice the NumPy calls of an MLP: RunJob.cost cannot know
    conv = sweep.RunJob("conv", jobs[0].config.replace(model="conv"), tmp_path / "conv")
    sweep.run_jobs([conv], on_done=lambda *_: None, on_plan=planned.update)
    assert conv.cost == jobs[0].cost and planned["conv"] > 1.5 * planned[jobs[0].name]


def test_a_runner_without_the_newer_hooks_still_runs(tmp_path, monkeypatch):
    """A custom runner written against the first Runner protocol (no on_progress,
    no on_plan) is called without them, and the sweep completes."""
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    seen: list[str] = []

    def old_runner(jobs, *, workers, on_done):
        for job in jobs:
            seen.append(job.name)
            on_done(job, sweep.run_job(job))

    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", runner=old_runner, stream=io.StringIO())
    assert (result.ran, result.exit_code) == (12, 0) and len(seen) == 12


def test_a_folder_holding_another_configuration_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    out = tmp_path / "out"
    run_sweep(spec_of(SIMPLE), out, stream=io.StringIO())
    changed = spec_of(SIMPLE.replace("epochs = 50", "epochs = 60"))
    with pytest.raises(SweepError, match="holds a run with epochs=50.*epochs=60"):
        run_sweep(changed, out, stream=io.StringIO())


def test_jobs_run_in_processes_with_the_same_results(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(log))  # inherited by forked workers
    spec = spec_of(SIMPLE)
    result = run_sweep(spec, tmp_path / "par", jobs=2, stream=io.StringIO())
    assert (result.ran, result.exit_code) == (12, 0)
    assert sorted(calls(log)) == sorted(spec.runs)
    assert os.getpid() not in pids(log)  # every run trained in a worker process
    assert len(list(read_rows(tmp_path / "par" / "results.csv"))) == 12


def _strip_seconds(path: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in read_rows(path)]


@pytest.mark.slow
def test_real_sweep_gives_identical_results_with_one_or_two_jobs(tmp_path):
    spec = spec_of(
        SIMPLE.replace("epochs = 50", "epochs = 30").replace("seed = [0, 1, 2]", "seed = [0, 1]")
    )
    run_sweep(spec, tmp_path / "one", jobs=1, stream=io.StringIO())
    run_sweep(spec, tmp_path / "two", jobs=2, stream=io.StringIO())
    one = _strip_seconds(tmp_path / "one" / "results.csv")
    assert len(one) == 8 and one == _strip_seconds(tmp_path / "two" / "results.csv")
    for row in one:  # the CSV says what the run folders say
        summary = json.loads((tmp_path / "one" / "runs" / row["run"] / "summary.json").read_text())
        assert float(row["final_accuracy"]) == summary["accuracy"]
        assert float(row["final_loss"]) == summary["loss"]


@pytest.mark.slow
def test_ctrl_c_on_a_parallel_sweep_keeps_finished_runs_and_a_rerun_completes_it(tmp_path):
    """A real `proplab sweep --jobs 2` in its own process group gets SIGINT (what Ctrl-C sends).

    Six network shapes make six stacks of two runs, each ~0.5-1 s of training, so
    the signal (sent within 50 ms of the first finished stack) finds ~3 s of work
    left (with one shape per dataset, two stacks, much less).
    """
    path = write(
        tmp_path,
        'title = "ctrl-c"\n[base]\nepochs = 20000\n'
        '[vary]\ndataset = ["xor"]\nhidden = [2, 3, 4, 5, 6, 7]\nseed = [0, 1]\n',
    )
    out = tmp_path / "out"
    # the default SIGINT handler, as in a terminal: a test run started in the
    # background by a non-interactive shell inherits SIGINT *ignored*, and the
    # sweep would then never see the signal
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        f"from proplab.sweep import main; sys.exit(main({str(path)!r}, {str(out)!r}, jobs=2))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        while len(list(out.glob("runs/*/summary.json"))) < 2:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Rerun the same command to resume" in err
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/summary.json")}
    assert 2 <= len(finished) < 12
    # runs stopped mid-way left no summary (and so will be redone)
    for run in out.glob("runs/*"):
        if run.name not in finished:
            assert not (run / "summary.json").exists()

    rerun = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    for name, stamp in finished.items():
        assert (out / "runs" / name / "summary.json").stat().st_mtime_ns == stamp
    rows = list(read_rows(out / "results.csv"))
    assert len(rows) == 12 and all(r["stop_reason"] == "completed" for r in rows)
    last = list(read_rows(out / "sweep_log.csv"))[-1]
    assert (int(last["reused"]), int(last["trained"])) == (len(finished), 12 - len(finished))


# ---------------------------------------------------------------- command line


def test_cli_sweep_reports_bad_files_in_one_line(tmp_path, capsys):
    from proplab.cli import main

    path = write(tmp_path, '[vary]\noptimizer = ["sgd", "adamw"]\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"proplab sweep: error: {path}: [vary] optimizer[1]")
    assert "unknown optimizer 'adamw' (accepted: sgd, momentum, adagrad, rmsprop, adam)" in err[0]
    assert main(["sweep", str(path), "--out", str(tmp_path), "--jobs", "0"]) == 2
    assert "--jobs: must be >= 1" in capsys.readouterr().err


def test_cli_sweep_stopped_before_a_run_finished_prints_no_totals_or_report_command(
    tmp_path, monkeypatch, capsys
):
    """After Ctrl-C the interrupted line says it all ("0/12 runs are finished"): no "12 runs
    ... in 0.1 s; results in ..." line and no report command for a folder without runs."""
    from proplab.cli import main

    def stopped_runner(jobs, *, workers, on_done):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "choose_runner", lambda *args: stopped_runner)
    path = write(tmp_path, SIMPLE)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 130
    printed = capsys.readouterr()
    assert "runs (0 reused" not in printed.out and "proplab report" not in printed.out
    assert printed.err.splitlines()[-1] == (
        "sweep: interrupted; 0/12 runs are finished and kept (0 of them trained now). "
        "Rerun the same command to resume."
    )


def test_a_resumed_sweep_removes_the_half_written_tables_of_a_killed_one(tmp_path, monkeypatch):
    """A SIGKILL while sweep_log.csv was written left ".sweep_log.csv.x1y2.tmp" for good
    (chaos17 F4); a file of the user's own that looks alike is left alone."""
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    out = tmp_path / "out"
    out.mkdir()
    stray = [out / ".sweep_log.csv.x1y2.tmp", out / ".results.csv.ab_3.tmp"]
    mine = out / ".notes.txt.tmp"
    for path in [*stray, mine]:
        path.write_text("half")
    assert run_sweep(spec_of(SIMPLE), out, stream=io.StringIO()).exit_code == 0
    assert [p.exists() for p in stray] == [False, False] and mine.read_text() == "half"


def test_runs_a_dead_worker_left_unrun_are_said_to_be_left_for_the_rerun(tmp_path):
    def one_fails_then_the_pool_breaks(jobs, *, workers, on_done):
        on_done(jobs[0], {"status": "failed", "error": "worker process died (...)"})

    stream = io.StringIO()
    result = run_sweep(
        spec_of(SIMPLE), tmp_path / "out", runner=one_fails_then_the_pool_breaks, stream=stream
    )
    assert result.exit_code == 1 and len(result.failed) == 1
    assert stream.getvalue().splitlines()[-1] == (
        "sweep: 11 runs did not run (a worker process died); rerun the same command to run them"
    )


def test_runs_left_unfinished_without_a_dead_worker_blame_no_worker(tmp_path):
    """With --jobs 1 there is no worker: a run whose files another program removed under
    the sweep was said to be lost to "a worker process died" (robust22 H1)."""

    def one_run_lost(jobs, *, workers, on_done):
        for job in jobs[1:]:
            on_done(job, {"status": "failed", "error": "OSError: gone"})

    stream = io.StringIO()
    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", runner=one_run_lost, stream=stream)
    assert result.exit_code == 1 and len(result.failed) == 11
    assert stream.getvalue().splitlines()[-1] == (
        "sweep: 1 run did not finish; rerun the same command to run it"
    )


def test_cli_sweep_runs_and_resumes(tmp_path, monkeypatch, capsys):
    from proplab.cli import main

    log = tmp_path / "calls.txt"
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(log))
    path = write(tmp_path, SIMPLE)
    out = tmp_path / "out"
    # --stack off: runs go one by one through train_one, which this test counts
    assert main(["sweep", str(path), "--out", str(out), "--stack", "off"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "sweep: 12 runs (0 reused, 12 trained, 0 failed)" in printed[-2]
    # the last line says how to get the report, which the sweep does not write
    assert printed[-1] == f"the report: proplab report {out} (report.md and report.html)"
    assert main(["sweep", str(path), "--out", str(out), "--jobs", "2", "--stack", "off"]) == 0
    assert "sweep: 12 runs (12 reused, 0 trained, 0 failed)" in capsys.readouterr().out
    assert len(calls(log)) == 12
    assert (out / "sweep.toml").read_text() == SIMPLE


def test_cli_sweep_runs_folder_in_the_way_is_one_line(tmp_path, monkeypatch, capsys):
    from proplab.cli import main

    monkeypatch.setattr(sweep_workers, "train_one", lambda *a: pytest.fail("trained"))
    path = write(tmp_path, SIMPLE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "runs").write_text("")
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"proplab sweep: error: argument --out: cannot write to output folder "
        f"'{out / 'runs'}' (a file of that name is in the way); choose another folder or "
        "move the file"
    ]


def test_shipped_suite_by_name():
    assert sweep.load_suite("lab").path == sweep.suite_path("lab")
    with pytest.raises(SweepError, match="no such sweep file"):
        sweep.load_suite("no_such_suite")
    # cli20 L13: a misspelt suite name gets the shipped ones and the nearest
    with pytest.raises(SweepError) as err:
        sweep.load_suite("labb")
    assert str(err.value) == (
        "labb: no such sweep file, nor a shipped suite (shipped: lab); did you mean 'lab'?"
    )


def test_a_missing_sweep_file_path_names_the_shipped_suites(tmp_path, monkeypatch):
    """pkg25 L2: an installed proplab has no src/proplab/suites/lab.toml; a path to no file
    names the shipped suites, which go by name from any folder, as a misspelt name does."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SweepError) as err:
        sweep.load_suite("src/proplab/suites/lab.toml")
    assert str(err.value) == (
        "src/proplab/suites/lab.toml: no such sweep file (the shipped suites go by name: lab); "
        "did you mean 'lab'?"
    )
    with pytest.raises(SweepError) as err:
        sweep.load_suite(Path("mine") / "exp.toml")  # nothing near: no guess
    assert str(err.value) == (
        f"{Path('mine') / 'exp.toml'}: no such sweep file (the shipped suites go by name: lab)"
    )


def test_the_lab_suites_own_command_runs_from_any_folder(tmp_path, monkeypatch):
    """pkg25 L2: the header of lab.toml, which every runs/lab/sweep.toml copies, showed
    `proplab sweep src/proplab/suites/lab.toml`, a path only the repo has."""
    from proplab.cli import build_parser

    monkeypatch.chdir(tmp_path)  # no src/ here, as beside an installed wheel
    copied = sweep.load_suite("lab").copy_text  # what `proplab lab` writes as sweep.toml
    header = itertools.takewhile(lambda line: line.startswith("#"), copied.splitlines())
    shown = [line.removeprefix("#").strip() for line in header if line.startswith("#   proplab")]
    assert shown == ["proplab sweep lab --out runs/lab --jobs 2"]
    args = build_parser().parse_args(shown[0].split()[1:])
    assert sweep.load_suite(args.file).path == sweep.suite_path("lab")


def test_a_folder_is_never_read_as_a_sweep_file(tmp_path, monkeypatch):
    # `proplab sweep lab --out lab`, rerun to resume, finds the shipped suite again
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lab").mkdir()
    assert sweep.load_suite("lab").path == sweep.suite_path("lab")
    # any other folder is named as such, with the sweep file it holds, if any
    (tmp_path / "out").mkdir()
    with pytest.raises(SweepError, match=r"out: is a folder, not a sweep file \(a .toml\)$"):
        sweep.load_suite("out")
    (tmp_path / "out" / sweep.SPEC_COPY).write_text("[base]\n")
    with pytest.raises(SweepError, match=r"it holds the one it ran as out/sweep.toml"):
        sweep.load_suite("out")


def test_runs_with_very_long_names_get_short_distinct_folders(tmp_path: Path) -> None:
    """A folder name above 255 bytes was an OSError traceback (90 hidden widths)."""
    deep = [10] * 93
    spec = parse_spec(
        f"""
title = "names"
[base]
epochs = 3
[vary]
dataset = ["xor", "linear"]
hidden = [{deep}, {deep[:-1] + [11]}]
""",
        "names.toml",
    )
    result = run_sweep(spec, tmp_path, stream=io.StringIO())
    assert result.total == 4 and not result.failed
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(set(names)) == 4
    assert all(len(n) <= 120 and ",hash=" in n for n in names), names
    assert all(
        n.startswith(("dataset=xor,hidden=10-10-", "dataset=linear,hidden=10-")) for n in names
    )
    again = run_sweep(spec, tmp_path, stream=io.StringIO())  # the same names on a resume
    assert again.reused == 4
    with open(tmp_path / "results.csv", newline="") as f:
        assert sorted(row["run"] for row in csv.DictReader(f)) == names


# ---------------------------------------------------------------- bundles: labels, columns, groups

CSV_TEXT = "cls,x1,k\n0,0.1,2\n1,0.9,1\n0,0.2,1\n1,0.8,2\n0,0.15,1\n1,0.7,2\n"


def test_a_bundle_label_on_a_csv_run_is_refused_and_label_column_sets_the_column(tmp_path):
    data = write(tmp_path, CSV_TEXT, "d.csv").as_posix()
    # `label` in a bundle is the display label; on a CSV run it would silently leave the
    # label column unset (the model then trains on the last column, "k")
    with pytest.raises(SweepError) as err:
        spec_of(f'[vary]\ndataset = [{{ dataset = "{data}", label = "cls" }}]\n')
    msg = str(err.value)
    assert "a bundle's 'label' = 'cls' is the setting's display label" in msg
    assert "label_column = 'cls'" in msg and f"CSV file '{data}'" in msg
    # it said the file's "label column is also called 'label'", as if it had such a column
    assert "'label' in [base] (or --label) would name its label column, which nothing sets" in msg
    # a display label on another axis, or with the column set, means only that
    spec = spec_of(
        f'[base]\ndataset = "{data}"\nlabel = "cls"\n'
        '[vary]\nopt = [{ optimizer = "adam", label = "Adam" }]\n'
    )
    (cfg,) = spec.runs.values()
    assert cfg.label == "cls" and cfg.optimizer == "adam"
    assert [s.label for s in spec.experiments[0].axes[0].settings] == ["Adam"]
    spec = spec_of(
        f'[vary]\ndataset = [{{ dataset = "{data}", label_column = "cls", label = "mine" }}]\n'
    )
    (cfg,) = spec.runs.values()
    assert cfg.label == "cls"
    spec = spec_of(f'[vary]\ndataset = [{{ dataset = "{data}", label_column = "cls" }}]\n')
    (cfg,) = spec.runs.values()
    assert cfg.label == "cls" and cfg.dataset == data
    # the label column means nothing to a generated dataset
    with pytest.raises(SweepError, match="sets the label column 'cls', but its dataset 'xor'"):
        spec_of('[vary]\ndataset = [{ dataset = "xor", label_column = "cls" }]\n')


def test_a_base_label_column_is_refused_only_where_no_run_reads_a_csv_file(tmp_path):
    """A label column in [base] belongs to the CSV runs beside it (``dataset = ["d.csv",
    "xor"]``); with no CSV run at all it would be ignored silently, so it is refused."""
    data = write(tmp_path, CSV_TEXT, "d.csv").as_posix()
    spec = spec_of(f'[base]\nlabel = "cls"\n[vary]\ndataset = ["{data}", "xor"]\n')
    labels = {cfg.dataset: cfg.label for cfg in spec.runs.values()}
    assert labels == {data: "cls", "xor": "cls"}
    assert len(spec.runs) == 2
    with pytest.raises(SweepError, match="sets the label column 'cls', but its dataset 'xor'"):
        spec_of('[base]\nlabel = "cls"\n[vary]\ndataset = ["xor", "linear"]\n')
    # an experiment of its own without CSV runs is refused even when another has them
    with pytest.raises(SweepError, match="experiment 'plain'.*dataset 'xor'"):
        spec_of(
            f'[base]\nlabel = "cls"\n[vary]\nseed = [0]\n'
            f'[[experiment]]\nname = "mine"\ntitle = "m"\nbase.dataset = "{data}"\n'
            '[[experiment]]\nname = "plain"\ntitle = "p"\nbase.dataset = "xor"\n'
        )


def test_a_conv_setting_is_refused_only_where_no_run_of_the_experiment_is_conv():
    """`proplab train --filters 8` without --model conv is refused; a sweep's filters,
    kernel_size, stride or padding on an experiment without a conv run was ignored
    silently (an MLP trained). Beside conv runs the geometry is theirs."""
    with pytest.raises(SweepError) as err:
        spec_of("[base]\nfilters = 8\n")
    assert str(err.value).endswith(
        "experiment 'sweep': its run sets 'filters' = 8, but only the convolutional model "
        "uses it (model = \"conv\"), and no run of this experiment has it (this one is 'mlp')"
    )
    with pytest.raises(SweepError, match=r"run \(seed=0\) sets 'padding' = 0, but only"):
        spec_of("[base]\npadding = 0\n[vary]\nseed = [0, 1]\n")
    spec = spec_of('[base]\nfilters = 8\n[vary]\nmodel = ["mlp", "conv"]\n')
    assert sorted((c.model, c.filters) for c in spec.runs.values()) == [("conv", 8), ("mlp", 8)]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '[base]\noptimizer = "adam"\nmomentum = 0.5\n',
            "its run sets 'momentum' = 0.5, but optimizer 'adam' has no momentum (accepted "
            "with: sgd, momentum, rmsprop), and no run of this experiment uses it",
        ),
        (
            "[base]\nn = 5000\n[vary]\nseed = [0, 1]\n",
            "run (seed=0) sets 'n' = 5000, but only linear and the zoo sets (circle, "
            "xor-quadrants, gauss, spiral, moons, plane, multi-gauss) are drawn with n "
            "samples, not 'xor', and no run of this experiment uses it",
        ),
        (
            '[base]\ndataset = "linear"\nnoise = 3.0\n',
            "its run sets 'noise' = 3.0, but only the zoo sets (circle, xor-quadrants, gauss, "
            "spiral, moons, plane, multi-gauss) are drawn with noise, not 'linear', and no "
            "run of this experiment uses it",
        ),
        (
            '[base]\ndataset = "digits"\nn = 50\n',
            "its run sets 'n' = 50, but only linear and the zoo sets",
        ),
    ],
)
def test_a_setting_no_run_of_the_experiment_uses_is_refused_as_the_cli_refuses_it(text, said):
    # cli20 M2: the runs trained as if the key were not there (adam's loss bit for bit
    # the same without momentum; xor's fixed 21 points under n = 5000), while config.json
    # recorded it; `proplab train --optimizer adam --momentum 0.5` is refused
    with pytest.raises(SweepError) as err:
        spec_of(text)
    assert f"sweep.toml: experiment 'sweep': {said}" in str(err.value)


def test_a_setting_some_run_of_the_experiment_uses_is_accepted():
    spec = spec_of('[base]\nmomentum = 0.9\n[vary]\noptimizer = ["momentum", "adam"]\n')
    assert sorted((c.optimizer, c.momentum) for c in spec.runs.values()) == [
        ("adam", 0.9),
        ("momentum", 0.9),
    ]
    spec = spec_of('[base]\nn = 50\n[vary]\ndataset = ["xor", "linear", "circle"]\n')
    assert sorted((c.dataset, c.n) for c in spec.runs.values())[0] == ("circle", 50)
    # per experiment: the shared base's noise is refused where no run draws with it
    suite = (
        "[base]\nnoise = 0.2\n"
        '[[experiment]]\nname = "zoo"\nvary.dataset = ["circle"]\n'
        '[[experiment]]\nname = "lab"\nvary.dataset = ["xor"]\n'
    )
    with pytest.raises(SweepError, match=r"experiment 'lab': run \(dataset=xor\) sets 'noise'"):
        spec_of(suite)


def test_batchnorm_runs_whose_batches_leave_one_sample_are_refused_before_anything_runs():
    # cli20 M7: parse_spec accepted them, then every such run failed mid-sweep. xor has
    # 21 rows: batches of 4 leave one over; with a quarter held out, 15 rows of 7 do (21
    # rows of 7 would not), and 15 rows of 5 do not (21 rows of 5 would)
    text = "[base]\nbatchnorm = true\nhidden = 2\n[vary]\nbatch_size = [3, 4]\n"
    with pytest.raises(SweepError) as err:
        spec_of(text)
    assert str(err.value) == (
        "sweep.toml: experiment 'sweep', run dataset=xor,batch_size=4,seed=0: batch_size: 4 "
        "leaves a mini-batch of 1 sample (21 training samples), which batchnorm cannot "
        "normalise (no variance); choose a batch size of at least 2 that leaves no single "
        "sample over"
    )
    held_out = "[base]\nbatchnorm = true\nhidden = 2\ntest_fraction = 0.25\n"
    with pytest.raises(SweepError, match=r"batch_size: 7 leaves a mini-batch of 1 sample \(15 "):
        spec_of(held_out + "[vary]\nbatch_size = [7]\n")
    assert len(spec_of(held_out + "[vary]\nbatch_size = [3, 5, 15]\n").runs) == 3


def test_an_unknown_bundle_key_lists_each_accepted_key_once():
    with pytest.raises(SweepError) as err:
        spec_of('[vary]\nopt = [{ optimizer = "sgd", lrr = 1 }]\n')
    msg = str(err.value)
    assert "unknown key 'lrr' in a bundle" in msg
    assert msg.count("'label'") == 1 and "'label_column' for a CSV file's label column" in msg


def test_an_experiment_base_key_that_an_axis_sets_is_refused():
    text = """
[base]
epochs = 50
[vary]
dataset = ["linear", "xor"]
seed = [0, 1]
[[experiment]]
name = "xor_only"
base.dataset = "xor"
vary.hidden = [4]
"""
    with pytest.raises(SweepError) as err:
        spec_of(text)
    assert str(err.value) == (
        "sweep.toml: experiment 'xor_only': base sets 'dataset', but the shared [vary] axis "
        "'dataset' sets 'dataset' in every run, so the base value is never used; remove one "
        "of the two"
    )
    own = '[[experiment]]\nname = "a"\nbase.lr = 0.1\nvary.lr = [1.0, 0.5]\n'
    with pytest.raises(SweepError, match="base sets 'lr', but its axis 'lr' sets 'lr' in every"):
        spec_of(own)
    # an experiment's default that one bundle overrides is used by the other settings
    spec_of(own.replace("vary.lr = [1.0, 0.5]", 'vary.o = [{ optimizer = "sgd" }, { lr = 0.5 }]'))
    # a key of the file's [base] is a default that axes are there to change
    spec_of('[base]\nlr = 0.5\n[vary]\nlr = [1.0]\n[[experiment]]\nname = "a"\nbase.hidden = 4\n')


DATASET_BUNDLES = """
[base]
epochs = 50
[vary]
dataset = [{ dataset = "linear", n = 20, label = "small" }, { dataset = "linear", n = 200, label = "big" }]
seed = [0, 1]
"""


def test_dataset_bundles_that_set_other_fields_are_separate_columns(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    spec = spec_of(DATASET_BUNDLES)
    run_sweep(spec, tmp_path / "out", stream=io.StringIO())
    agg = read_rows(tmp_path / "out" / "aggregate.csv")
    # before: one row "linear" pooling both sizes, n_seeds 4 for 2 seeds
    assert [(r["setting"], r["dataset"], r["n_seeds"]) for r in agg] == [
        ("base", "small", "2"),
        ("base", "big", "2"),
    ]
    # a plain dataset value, or a bundle setting only the dataset, keeps the dataset's name
    spec = spec_of('[vary]\ndataset = ["xor", { dataset = "linear", label = "lin" }]\n')
    exp = spec.experiments[0]
    assert [exp.dataset_label(lab, spec.runs[n].dataset) for n, lab in exp.runs] == [
        "xor",
        "linear",
    ]


def test_a_seed_bundle_may_set_only_the_seed():
    with pytest.raises(SweepError) as err:
        spec_of("[vary]\nseed = [{ seed = 0 }, { seed = 1, lr = 0.1 }]\n")
    assert str(err.value) == (
        "sweep.toml: [vary] seed[1] = {seed = 1, lr = 0.1}: a seed value may set only 'seed' "
        "(it also sets 'lr'); vary those on an axis of their own"
    )


def test_duplicate_settings_are_found_by_value_not_by_label():
    # aliases train one network: before, three rows for one run
    with pytest.raises(SweepError) as err:
        spec_of('[vary]\nactivation = ["identity", "none", "linear"]\n')
    assert str(err.value) == (
        "sweep.toml: [vary] activation: values 'identity' and 'none' are the same setting "
        "({activation = 'none'} trains as {activation = 'identity'}); keep one"
    )
    # 10 is two layers of 10, [10] one layer: before refused as "appears twice"
    spec = spec_of("[base]\nhidden = 4\n[vary]\nhidden = [[10], [10, 10]]\n")
    exp = spec.experiments[0]
    assert [exp.setting_label(lab) for _, lab in exp.runs] == ["[10]", "10-10"]
    # run folder names are unchanged (finished runs of existing sweeps are reused)
    assert list(spec.runs) == ["dataset=xor,hidden=10,seed=0", "dataset=xor,hidden=10-10,seed=0"]
    spec = spec_of("[vary]\nhidden = [10, [10]]\n")
    assert [spec.runs[n].hidden for n, _ in spec.experiments[0].runs] == [10, [10]]
    # labels keep the digits that tell values apart; folder names round, and say so
    with pytest.raises(SweepError) as err:
        spec_of("[vary]\nlr = [0.001, 0.0010000001]\n")
    assert "two different configurations (lr=0.001 and 0.0010000001) map to folder" in str(
        err.value
    )
    spec = spec_of("[vary]\nlr = [0.001, 0.00123456789]\n")
    exp = spec.experiments[0]
    assert [exp.setting_label(lab) for _, lab in exp.runs] == ["0.001", "0.00123456789"]
    assert "dataset=xor,lr=0.00123457,seed=0" in spec.runs


# ------------------------------------------------ mutation-testing gaps: resume and outcomes


def _finished_run(run_dir: Path) -> Path:
    from proplab.runio import write_json

    run_dir.mkdir(parents=True)
    write_run_files(run_dir)
    write_json(run_dir / "summary.json", {"loss": 0.5, "accuracy": 0.5, "epochs_run": 1})
    return run_dir


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda d: (d / "history.csv").write_bytes(b""), "history.csv: empty"),
        (
            lambda d: (d / "history.csv").write_text("epoch,loss\n1,0.5"),
            "history.csv: cut short (its last row has no end of line)",
        ),
        (lambda d: (d / "model.npz").unlink(), "model.npz: missing"),
        (lambda d: (d / "history.csv").unlink(), "history.csv: missing"),
        (lambda d: (d / "model.npz").write_text("not a zip"), "model.npz: not an .npz file"),
        (
            lambda d: (d / "summary.json").write_text('{"loss": true}'),
            "summary.json: loss is True, not a number",
        ),
        (
            lambda d: (d / "summary.json").write_text('{"epochs_run": "12"}'),
            "summary.json: epochs_run is '12', not a number",
        ),
        # cli20 M6: a config.json that is no JSON was called finished
        (
            lambda d: (d / "config.json").write_text("{"),
            "config.json: not a readable run configuration",
        ),
        (
            lambda d: (d / "config.json").write_bytes(b"\xff"),
            "config.json: not a readable run configuration",
        ),
        (
            lambda d: (d / "config.json").write_text("[1]"),
            "config.json: not a readable run configuration",
        ),
    ],
)
def test_each_kind_of_damage_makes_a_run_unfinished_and_is_named(tmp_path, damage, problem):
    run_dir = _finished_run(tmp_path / "run")
    assert sweep.run_problem(run_dir) is None and sweep.is_finished(run_dir)
    damage(run_dir)
    assert sweep.run_problem(run_dir) == f"{run_dir / problem}"
    assert not sweep.is_finished(run_dir)


def test_a_folder_holding_a_run_of_another_learning_rate_is_refused(tmp_path, monkeypatch):
    # the run's name does not show the base lr: dataset=xor,seed=0 either way
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    text = '[base]\nepochs = 5\nlr = LR\n[vary]\ndataset = ["xor"]\nseed = [0]\n'
    run_sweep(spec_of(text.replace("LR", "1.0")), tmp_path / "out", stream=io.StringIO())
    with pytest.raises(SweepError, match=r"holds a run with lr=1\.0.*now asks for lr=0\.5"):
        run_sweep(spec_of(text.replace("LR", "0.5")), tmp_path / "out", stream=io.StringIO())


def test_a_trainer_that_returns_without_a_summary_is_an_interrupted_run(tmp_path):
    job = sweep.RunJob("r", spec_of(SIMPLE).runs["dataset=xor,seed=0"], tmp_path / "r")
    assert sweep.run_job(job, train=lambda cfg, run_dir: {"loss": 0.1}) == {"status": "interrupted"}
    done = sweep.run_job(job, train=lambda cfg, run_dir: _finished_run(run_dir) and {"a": 1})
    assert done["status"] == "done" and done["summary"] == {"a": 1}


def test_cancelled_runs_are_neither_trained_nor_failed(tmp_path):
    def cancelling_runner(jobs, *, workers, on_done):
        for job in jobs:
            on_done(job, {"status": "cancelled"})

    result = run_sweep(
        spec_of(SIMPLE), tmp_path / "out", runner=cancelling_runner, stream=io.StringIO()
    )
    assert (result.total, result.ran, result.failed, result.exit_code) == (12, 0, {}, 0)


def test_a_runner_taking_any_keyword_hears_the_progress_hooks(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    heard: list[str] = []

    def runner(jobs, **hooks):
        heard.extend(sorted(hooks))
        sweep.run_jobs(jobs, **hooks)

    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", runner=runner, stream=io.StringIO())
    assert heard == ["on_done", "on_plan", "on_progress", "on_stop", "workers"]
    assert result.ran == 12


@pytest.mark.parametrize("running, said", [(0, None), (1, "the 1 run in progress"), (3, "3 runs")])
def test_a_stop_says_what_it_waits_for_and_nothing_when_no_run_is_left(tmp_path, running, said):
    """Ctrl-C in a sweep with workers: the line names the runs it waits for; when none is
    running any more (they ended with the signal, as spawned workers may), no "waiting for
    the 0 runs" line, only the summary that the sweep was interrupted."""

    def stopped_runner(jobs, *, workers, on_done, on_stop):
        on_stop(running)
        raise KeyboardInterrupt

    stream = io.StringIO()
    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", runner=stopped_runner, stream=stream)
    text = stream.getvalue()
    assert result.interrupted
    assert "sweep: interrupted" in text
    stopping = [line for line in text.splitlines() if "stopping" in line]
    if said is None:
        assert stopping == []
    else:
        assert len(stopping) == 1 and said in stopping[0] and "Ctrl-C again" in stopping[0]


# ------------------------------------------- mutation-testing gaps: what the tables count


def _record(**changes) -> aggregate.RunRecord:
    from proplab.config import RunConfig

    values = {
        "experiment": "e", "setting": "s", "dataset": "xor", "seed": 0, "run": "r",
        "config": RunConfig(), "final_loss": 0.1, "final_accuracy": 0.9, "epochs": 5,
        "stop_reason": "completed", "seconds": 1.0,
    }  # fmt: skip
    return aggregate.RunRecord(**{**values, **changes})


def test_a_diverged_run_counts_among_the_seeds_but_not_in_the_means():
    group = aggregate.Group("e", "s", "xor")
    group.records = [
        _record(seed=0, final_accuracy=0.8, final_loss=0.2),
        _record(seed=1, final_accuracy=1.0, final_loss=0.0),
        _record(seed=2, final_accuracy=0.5, final_loss=1e3, stop_reason="diverged"),
        _record(seed=3, final_accuracy=0.5, final_loss=math.nan),  # a NaN final loss
    ]
    assert [r.diverged for r in group.records] == [False, False, True, True]
    assert group.n_diverged == 2
    assert (group.accuracy.mean, group.accuracy.n) == (0.9, 2)
    assert (group.loss.mean, group.loss.n) == (0.1, 2)


def test_aggregate_csv_counts_every_seed_and_the_diverged_ones(tmp_path):
    from proplab.runio import write_json

    spec = spec_of('[base]\nepochs = 5\n[vary]\ndataset = ["xor"]\nseed = [0, 1, 2]\n')
    for name, cfg in spec.runs.items():
        run_dir = tmp_path / "runs" / name
        run_dir.mkdir(parents=True)
        write_run_files(run_dir, 5)
        write_json(run_dir / "config.json", {"config": cfg.to_dict()})
        summary = {"loss": 0.25 * (cfg.seed + 1), "accuracy": 0.5, "stop_reason": "completed"}
        if cfg.seed == 2:
            summary = {"loss": None, "accuracy": None, "stop_reason": "diverged"}
        summary.update(epochs_run=5, wall_time_s=2.0, stacked_with=4)
        write_json(run_dir / "summary.json", summary)
    aggregate.write_tables(spec, tmp_path)
    (row,) = read_rows(tmp_path / "aggregate.csv")
    assert (row["n_seeds"], row["n_diverged"]) == ("3", "1")
    assert float(row["loss_mean"]) == 0.375 and float(row["accuracy_mean"]) == 0.5
    seconds = [float(r["seconds"]) for r in read_rows(tmp_path / "results.csv")]
    assert seconds == [0.5, 0.5, 0.5]  # a stack of 4 shares its 2 s


def test_results_hold_the_accuracy_on_the_training_data_not_the_test_share(tmp_path):
    from proplab.config import RunConfig
    from proplab.runio import write_json

    summary = {"loss": 0.2, "accuracy": 0.9, "test_loss": 0.4, "test_accuracy": 0.7}
    write_json(tmp_path / "summary.json", {**summary, "epochs_run": 3})
    record = aggregate.read_record(tmp_path, RunConfig(), "e", "s")
    assert (record.final_loss, record.final_accuracy, record.epochs) == (0.2, 0.9, 3)


def test_the_runs_of_a_skipped_experiment_are_left_out_of_the_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    spec = spec_of(SUITE)
    run_sweep(spec, tmp_path / "out", stream=io.StringIO())
    spec.experiments[2].skipped = "no such optimizer here"
    records = aggregate.write_tables(spec, tmp_path / "out")
    assert {r.experiment for r in records} == {"baseline", "lr"} and len(records) == 12
    assert {r["experiment"] for r in read_rows(tmp_path / "out" / "results.csv")} == {
        "baseline",
        "lr",
    }


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # found by audit16a (L10): blamed on "experiment 'width': dataset: dataset:", the
        # first experiment to need it, where the file's [vary] wrote it
        ('[vary]\ndataset = ["xor", "moons-x"]\n', "[vary] dataset[1] = 'moons-x': "),
        ('[base]\ndataset = "gone.csv"\n', "[base]: "),
        ('[[experiment]]\nname = "b"\nbase.dataset = "gone.csv"\n', "experiment 'b' base: "),
        (
            '[[experiment]]\nname = "v"\nvary.dataset = [{dataset = "gone.csv", lr = 0.5}]\n',
            "experiment 'v' vary dataset[0] = {dataset = 'gone.csv', lr = 0.5}: ",
        ),
    ],
)
def test_a_dataset_that_cannot_be_loaded_is_named_where_the_file_sets_it(tmp_path, text, where):
    text += (
        '[[experiment]]\nname = "first"\nvary.lr = [1.0]\n' if "[[experiment]]" not in text else ""
    )
    with pytest.raises(SweepError) as err:
        parse_spec(text, tmp_path / "s.toml")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 's.toml'}: {where}"), message
    assert "dataset: dataset:" not in message and "experiment 'first'" not in message


@pytest.mark.parametrize("stack", ["auto", "off"])
def test_the_progress_line_counts_the_runs_that_diverged(tmp_path, stack):
    # diverge18: "40/40 runs done" for a sweep in which 18 runs diverged
    spec = spec_of(
        '[base]\nepochs = 30\nactivation = "relu"\noutput_activation = "identity"\n'
        "[vary]\nlr = [0.1, 1e6]\nseed = [0, 1]\n"
    )
    stream = io.StringIO()
    result = run_sweep(spec, tmp_path / "out", stream=stream, runner=sweep.choose_runner(stack))
    assert result.exit_code == 0
    rows = list(read_rows(tmp_path / "out" / "results.csv"))
    diverged = sum(r["stop_reason"] == "diverged" for r in rows)
    assert diverged == 2  # lr 1e6 in both seeds
    last = [line for line in stream.getvalue().splitlines() if "runs done" in line][-1]
    assert last.startswith("sweep: 4/4 runs done (2 diverged), 100 % of the work")


@pytest.mark.slow
def test_figures_on_a_resume_draw_those_of_the_reused_runs(tmp_path):
    """robust22 L3: `--figures` on a finished sweep reused every run and drew nothing."""
    spec = spec_of("[base]\nepochs = 5\nprint_every = 0\n[vary]\nseed = [0, 1]\n")
    out = tmp_path / "out"
    assert run_sweep(spec, out, stream=io.StringIO()).exit_code == 0
    runs = sorted((out / "runs").iterdir())
    assert not any((r / "learning_curve.png").exists() for r in runs)
    stream = io.StringIO()
    result = run_sweep(spec, out, stream=stream, figures=True)
    assert (result.reused, result.ran, result.exit_code) == (2, 0, 0)
    assert "sweep: drawing the figures of 2 reused runs (--figures)" in stream.getvalue()
    assert all((r / "learning_curve.png").is_file() for r in runs)
