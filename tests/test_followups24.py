"""Follow-ups of session 24's fixes (verify24 M1, M2, L2, L3, L4; L1 is in
tests/test_playground_browser.py)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from test_csv_paths import SWEEP, points  # a sweep of data.csv over 2 seeds; a CSV of n points

import proplab as pl
from proplab.callbacks import train
from proplab.cli import main
from proplab.config import RunConfig
from proplab.csvdata import CsvError, load_csv
from proplab.report_text import lab_or_base
from proplab.sweep import load_suite
from proplab.train_text import format_epoch_line
from proplab.verify import verify_run

# ----------------------------------------- M1: an old sweep folder read from elsewhere


def old_sweep_folder(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A sweep of ``C/sw.toml`` (``dataset = "data.csv"``, beside it) into ``out``, made
    to look as proplab wrote it before runs recorded their file: no ``data.path`` in the
    runs' config.json, no ``data_files`` in the copy. Returns (sweep file, out)."""
    c = tmp_path / "C"
    points(c / "data.csv", 80)
    (c / "sw.toml").write_text(SWEEP)
    out = tmp_path / "out"
    monkeypatch.chdir(c)
    assert main(["sweep", "sw.toml", "--out", str(out), "--no-progress"]) == 0
    for config in out.glob("runs/*/config.json"):
        stored = json.loads(config.read_text())
        del stored["data"]["path"]
        config.write_text(json.dumps(stored, indent=2))
    (out / "sweep.toml").write_text(SWEEP)
    return c / "sw.toml", out


@pytest.mark.slow
def test_an_old_sweep_folder_resumed_elsewhere_is_reported_and_verified_from_a_third(
    tmp_path, monkeypatch, capsys
):
    file, out = old_sweep_folder(tmp_path, monkeypatch)
    runs = {p: p.read_bytes() for p in out.glob("runs/*/*") if p.is_file()}
    (tmp_path / "E").mkdir()
    (tmp_path / "F").mkdir()
    monkeypatch.chdir(tmp_path / "E")
    assert main(["sweep", str(file), "--out", str(out), "--no-progress"]) == 0
    assert "2 of 2 runs already finished" in capsys.readouterr().err
    copy = tomllib.loads((out / "sweep.toml").read_text())
    assert copy["data_files"] == {"data.csv": str(tmp_path / "C" / "data.csv")}
    monkeypatch.chdir(tmp_path / "F")  # neither the sweep file's folder nor the resume's
    assert main(["verify", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 of 2 runs agree"
    assert main(["report", str(out)]) == 0
    assert "80 samples of 2 features" in (out / "report.md").read_text()
    # the finished runs' files are read, never rewritten
    assert {p: p.read_bytes() for p in runs} == runs


def test_a_sweeps_run_whose_copy_names_a_missing_file_says_where_it_looked(
    tmp_path, monkeypatch, capsys
):
    file, out = old_sweep_folder(tmp_path, monkeypatch)
    (tmp_path / "E").mkdir()
    monkeypatch.chdir(tmp_path / "E")
    assert main(["sweep", str(file), "--out", str(out), "--no-progress"]) == 0
    (tmp_path / "C" / "data.csv").rename(tmp_path / "moved.csv")
    run = sorted((out / "runs").iterdir())[0]
    check = verify_run(run)
    assert check.unchecked == (
        f"its data file 'data.csv' is not found at {tmp_path / 'C' / 'data.csv'} (where "
        f"{out / 'sweep.toml'} names it) nor from here ({tmp_path / 'E'}); run verify from "
        "the folder the run was trained in"
    )


# ----------------------------- M2: a decimal comma that may be a thousands separator


def test_three_decimals_after_a_comma_are_refused_naming_both_readings(tmp_path):
    # weight in kg with a decimal comma, as the height beside it: the hint "write the number
    # without thousands separators" made 96,573 kg 96573 kg
    rows = ["height;weight;label", "1,70;96,573;1", "1,56;-48,484;0", "1,81;75,125;1"]
    path = tmp_path / "dc3.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(CsvError) as err:
        load_csv(path)
    assert str(err.value) == (
        f"{path}: line 2, column 'weight': '96,573' is not a number (96.573 with a decimal "
        "comma, or 96573 with a thousands separator? write the one it is)"
    )
    path.write_text("\n".join(rows).replace("96,573", "96.573") + "\n")
    with pytest.raises(CsvError) as err:
        load_csv(path)  # beside a decimal point: the same hint, its sign kept
    assert str(err.value).endswith(
        "line 3, column 'weight': '-48,484' is not a number (-48.484 with a decimal comma, "
        "or -48484 with a thousands separator? write the one it is)"
    )
    # the decimal reading, written as the hint says, is read as meant
    path.write_text("height;weight;label\n1,70;96.573;1\n1,56;-48.484;0\n1,81;75.125;1\n")
    assert load_csv(path).x.tolist() == [[1.7, 96.573], [1.56, -48.484], [1.81, 75.125]]
    # more than one group is a thousands separator only: the hint as before
    path.write_text("x;y\n1.5;0\n1,234,567;1\n")
    with pytest.raises(CsvError, match=r"\(thousands separators\? write the number without"):
        load_csv(path)


# ------------------------------------------ L4: the line of the epoch tol stopped at


def test_a_run_stopped_by_tol_logs_its_last_epochs_line():
    x, y = pl.generate_xor_easy()
    model = pl.mlp(2, 10, 1, rng=np.random.default_rng(0))
    lines: list[str] = []
    history = pl.fit(
        model, pl.MSELoss(), pl.SGD(model.parameters(), lr=2.0), x, y, 50000,
        tol=5e-2, print_every=100, log=lines.append,
    )  # fmt: skip
    last = history.epochs_run
    assert history.stop_reason == "converged" and last % 100 != 0
    expected = [*range(100, last, 100), last]
    assert lines == [format_epoch_line(e, history.loss[e - 1]) for e in expected]


def test_a_stack_whose_last_replica_stops_by_tol_logs_that_epochs_line():
    x, y = pl.generate_xor_easy()
    stack = pl.mlp(2, 10, 1, seeds=[0, 1])
    lines: list[str] = []
    history = pl.fit(
        stack, pl.MSELoss(), pl.SGD(stack.parameters(), lr=np.array([2.0, 2.0])), x, y,
        50000, tol=5e-2, print_every=100, log=lines.append,
    )  # fmt: skip
    last = history.epochs_run
    stops = list(history.replica_stop_epoch)
    assert history.stop_reason == "converged" and last == max(stops) and last % 100 != 0
    assert min(stops) < last  # one replica stopped before: the line is the other's loss
    final = history.replica(stops.index(last)).loss[-1]
    assert lines[-1] == format_epoch_line(last, final)
    assert len(lines) == last // 100 + 1


@pytest.mark.parametrize("stop", [{"tol": 5e-2}, {"min_improvement": 1e-3, "n_iter_no_change": 5}])
def test_train_logs_the_line_of_the_epoch_a_stop_ended_on(stop):
    x, y = pl.generate_xor_easy()
    model = pl.mlp(2, 10, 1, rng=np.random.default_rng(0))
    lines: list[str] = []
    history = train(
        model, pl.MSELoss(), pl.SGD(model.parameters(), lr=2.0), x, y, 50000,
        print_every=100, log=lines.append, **stop,
    )  # fmt: skip
    last = history.epochs_run
    assert history.stop_reason == "converged" and last % 100 != 0
    expected = [*range(100, last, 100), last]
    assert lines == [format_epoch_line(e, history.loss[e - 1]) for e in expected]


# --------------------------------------- L3: "no such file" names every place looked


def test_a_sweep_files_missing_csv_names_every_place_it_was_looked_for(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "here").mkdir()
    file = tmp_path / "sweeps" / "sw.toml"
    file.write_text('data_files = { "x.csv" = "/nonexistent/x.csv" }\n' + SWEEP.replace(
        "data.csv", "x.csv"))  # fmt: skip
    monkeypatch.chdir(tmp_path / "here")
    assert main(["sweep", str(file), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"proplab sweep: error: {file}: [base]: dataset: x.csv: no such file, not at "
        f"/nonexistent/x.csv (where data_files puts it), beside the sweep file "
        f"({tmp_path / 'sweeps' / 'x.csv'}) nor from here ({tmp_path / 'here' / 'x.csv'})"
    ]
    # started from the sweep file's folder: that place once
    monkeypatch.chdir(tmp_path / "sweeps")
    file.write_text(SWEEP.replace("data.csv", "x.csv"))
    assert main(["sweep", "sw.toml", "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "proplab sweep: error: sw.toml: [base]: dataset: x.csv: no such file, not beside the "
        f"sweep file ({tmp_path / 'sweeps' / 'x.csv'})"
    ]


# ------------------------- L2: "the lab model" is the lab's network trained the lab's way


LAB_BASE = RunConfig.from_dict(load_suite("lab").base).validate().to_dict()


@pytest.mark.parametrize(
    "changes",
    [
        {"optimizer": "adam", "lr": 0.01},  # verify24 l7/adam.toml
        {"loss": "bce"},  # l7/ce.toml
        {"lr": 0.5},
        {"init": "he"},
        {"batch_size": 4},
        {"momentum": 0.5},
        {"optimizer": "momentum"},  # its own 0.9
        {"weight_decay": 1e-4},
        {"l1": 1e-4},
        {"dropout": 0.1},
        {"batchnorm": True},
        {"standardize": True},
        {"features": ["x1", "x2", "x1_x2"]},
        {"hidden": [10, 4]},
    ],
)
def test_a_base_that_trains_the_labs_network_another_way_is_not_the_lab_model(changes):
    assert lab_or_base(LAB_BASE, ["linear", "xor"]) == "lab"
    assert lab_or_base({**LAB_BASE, **changes}, ["xor"]) == "base"


def test_the_lab_model_on_other_seeds_sizes_and_printing_is_still_the_lab_model():
    same = {"seed": 3, "n": 200, "print_every": 100, "hidden": [10, 10], "momentum": 0.0}
    assert lab_or_base({**LAB_BASE, **same}, ["linear"]) == "lab"
    assert lab_or_base({**LAB_BASE, "test_fraction": 0.2}, ["xor"]) == "lab"
