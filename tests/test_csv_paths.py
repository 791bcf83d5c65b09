"""A CSV run's data file is found wherever the student stands (csv23 M3).

A path is kept as typed (run names, config.json's config) and located once: from the
current folder for ``proplab train``, beside the sweep file for a sweep file; a run
folder records the absolute path it read (config.json's ``"data": {"path": ...}``) and a
sweep folder's copy of its sweep file the files it found (``data_files``), so verify,
predict, report and a resumed sweep read the same file from any folder.
"""

from __future__ import annotations

import json
import pickle
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from proplab import experiments
from proplab.cli import main
from proplab.config import RunConfig
from proplab.datapath import DataPath, data_file
from proplab.predict_out import out_problem
from proplab.sweep import SweepError, load_spec, parse_spec
from proplab.verify import verify_run

SWEEP = """title = "relative"
[base]
dataset = "data.csv"
label = "label"
epochs = 20
optimizer = "adam"
lr = 0.01
[vary]
seed = [0, 1]
"""
NAMES = ["dataset=data.csv,seed=0", "dataset=data.csv,seed=1"]


def points(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` rows ``a,b,label`` (label: a > b) at ``path``, its folder made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = ["a,b,label", *(f"{a:.4f},{b:.4f},{int(a > b)}" for a, b in rng.random((n, 2)))]
    path.write_text("\n".join(rows) + "\n")
    return path


def train_in(folder: Path, run: Path, monkeypatch) -> Path:
    """A run of ``dataset="points.csv"`` typed in ``folder`` (as ``proplab train`` there
    makes it, without the figures, which nothing here reads)."""
    monkeypatch.chdir(folder)
    cfg = RunConfig(dataset="points.csv", label="label", epochs=30)
    experiments.run_one(cfg, run, quiet=True, progress=False, figures=False)
    return run


def n_samples(run: Path) -> int:
    return json.loads((run / "summary.json").read_text())["n_samples"]


# ------------------------------------------------------------ a run of proplab train


def test_a_run_trained_in_one_folder_is_verified_and_read_from_another(tmp_path, monkeypatch):
    a, b = tmp_path / "A", tmp_path / "B"
    points(a / "points.csv", 80)
    points(b / "points.csv", 30, seed=1)  # another file of that name where the check runs
    run = train_in(a, tmp_path / "run", monkeypatch)
    record = json.loads((run / "config.json").read_text())
    assert record["config"]["dataset"] == "points.csv"  # as typed
    assert record["data"]["file"] == "points.csv"
    assert record["data"]["path"] == str((a / "points.csv").resolve())

    monkeypatch.chdir(b)
    check = verify_run(run)
    assert check.ok and check.checked[0] == "data", (check.problems, check.unchecked)
    cfg = experiments.read_run_config(run)
    assert cfg.dataset == "points.csv" and data_file(cfg.dataset) == a / "points.csv"
    assert experiments.prepare_run(cfg)[1].x.shape == (80, 2)  # A's rows, not B's 30
    # predict's --out guard knows the training file from here too
    problem = out_problem(a / "points.csv", b / "points.csv", run)
    assert problem == "is the CSV file the run trained on (its config.json records it)"


def test_a_moved_data_file_is_unchecked_and_a_changed_one_differs_naming_the_data(
    tmp_path, monkeypatch
):
    a, b = tmp_path / "A", tmp_path / "B"
    data = points(a / "points.csv", 80)
    b.mkdir()
    run = train_in(a, tmp_path / "run", monkeypatch)
    monkeypatch.chdir(b)
    data.rename(tmp_path / "elsewhere.csv")
    check = verify_run(run)
    assert not check.ok and check.problems == []
    assert check.unchecked == (
        f"its data file 'points.csv' is not found at {data.resolve()} (where it was when the "
        f"run trained) nor from here ({b})"
    )
    # the project moved as a whole: the path as typed, from where the student now is
    shutil.copy(tmp_path / "elsewhere.csv", b / "points.csv")
    assert verify_run(run).ok
    # another file at the recorded place: the data differ, said first, even when the new
    # file no longer loads as the run's data (its label column renamed)
    (tmp_path / "elsewhere.csv").rename(data)
    data.write_text(data.read_text().replace("a,b,label", "a,b,class", 1))
    check = verify_run(run)
    assert check.problems[0].startswith("data differ: points.csv sha256 "), check.problems
    assert "label column 'label' not found" in check.problems[1]


def test_an_older_run_folder_without_a_recorded_path_reads_as_before(tmp_path, monkeypatch):
    a, b = tmp_path / "A", tmp_path / "B"
    points(a / "points.csv", 80)
    b.mkdir()
    run = train_in(a, tmp_path / "run", monkeypatch)
    stored = json.loads((run / "config.json").read_text())
    del stored["data"]["path"]  # as proplab wrote it before csv23 M3
    (run / "config.json").write_text(json.dumps(stored))
    assert type(experiments.read_run_config(run).dataset) is str  # as typed, from here
    assert verify_run(run).ok  # from the folder it was trained in
    monkeypatch.chdir(b)
    assert verify_run(run).unchecked == (
        f"its data file 'points.csv' is not found from here ({b}); run verify from the folder "
        "the run was trained in"
    )


# ------------------------------------------------------------------------ sweeps


def sweep_in(folder: Path, n: int) -> Path:
    """``folder/sw.toml`` (:data:`SWEEP`) beside ``folder/data.csv`` of ``n`` rows."""
    points(folder / "data.csv", n)
    (folder / "sw.toml").write_text(SWEEP)
    return folder / "sw.toml"


def test_a_sweep_files_relative_csv_path_is_read_beside_the_sweep_file(tmp_path, monkeypatch):
    c, d = tmp_path / "C", tmp_path / "D"
    file = sweep_in(c, 80)
    points(d / "data.csv", 30, seed=1)  # a file of that name where the sweep is started
    monkeypatch.chdir(d)
    out = tmp_path / "out"
    assert main(["sweep", str(file), "--out", str(out), "--no-progress"]) == 0
    runs = sorted((out / "runs").iterdir())
    assert [r.name for r in runs] == NAMES  # named by the path as written
    for run in runs:
        assert n_samples(run) == 80  # C's rows
        stored = json.loads((run / "config.json").read_text())
        assert stored["config"]["dataset"] == "data.csv"
        assert stored["data"]["path"] == str((c / "data.csv").resolve())
    copy = tomllib.loads((out / "sweep.toml").read_text())
    assert copy["data_files"] == {"data.csv": str(c / "data.csv")}
    assert {k: v for k, v in copy.items() if k != "data_files"} == tomllib.loads(SWEEP)


def test_a_sweep_resumed_verified_and_reported_from_elsewhere_reuses_its_runs(
    tmp_path, monkeypatch, capsys
):
    c, e = tmp_path / "C", tmp_path / "E"
    file = sweep_in(c, 80)
    e.mkdir()
    out = tmp_path / "out"
    monkeypatch.chdir(c)
    assert main(["sweep", "sw.toml", "--out", str(out), "--no-progress"]) == 0
    summaries = {p: p.read_bytes() for p in out.glob("runs/*/summary.json")}
    monkeypatch.chdir(e)
    capsys.readouterr()
    for again in (file, out / "sweep.toml"):  # the file, and the copy in the sweep folder
        assert main(["sweep", str(again), "--out", str(out), "--no-progress"]) == 0
        assert "2 of 2 runs already finished" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.glob("runs/*/summary.json")} == summaries
    assert main(["verify", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 of 2 runs agree"
    assert main(["report", str(out)]) == 0
    assert "80 samples of 2 features" in (out / "report.md").read_text()
    points(c / "data.csv", 90, seed=2)  # the file changed: refused from here too
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "data.csv: changed since 2 runs" in capsys.readouterr().err


def test_the_copy_records_every_file_found_and_reads_back_the_same(tmp_path, monkeypatch):
    # a folder name TOML must escape; a bundle and an absolute path beside a relative one
    c = tmp_path / 'my "data" \\ é'
    points(c / "data.csv", 40)
    points(c / "sub" / "more.csv", 50)
    absolute = points(tmp_path / "abs.csv", 60)
    text = (
        '[base]\nlabel = "label"\nepochs = 5\n[vary]\ndataset = ["data.csv", '
        f'{{ dataset = "sub/more.csv", lr = 0.5 }}, "{absolute}", "xor"]\n'
    )
    (c / "sw.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    spec = load_spec(c / "sw.toml")
    found = {"data.csv": str(c / "data.csv"), "sub/more.csv": str(c / "sub" / "more.csv")}
    assert spec.data_files == found
    files = {name: data_file(cfg.dataset) for name, cfg in spec.runs.items()}
    assert sorted(map(str, files.values())) == sorted(
        [str(c / "data.csv"), str(c / "sub" / "more.csv"), str(absolute), "xor"]
    )
    copy = tmp_path / "out" / "sweep.toml"
    copy.parent.mkdir()
    copy.write_text(spec.copy_text)
    monkeypatch.chdir(c / "sub")  # which holds no data.csv
    again = load_spec(copy)
    assert {name: data_file(cfg.dataset) for name, cfg in again.runs.items()} == files
    assert again.copy_text == spec.copy_text  # a copy run again is copied as it is


def test_an_older_sweep_copy_without_data_files_reads_from_the_current_folder(
    tmp_path, monkeypatch
):
    # a sweep folder's copy from before csv23 M3: its relative paths were read from the
    # folder the sweep ran in; its report, run from there, still finds them
    c = tmp_path / "C"
    sweep_in(c, 80)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sweep.toml").write_text(SWEEP)
    monkeypatch.chdir(c)
    spec = load_spec(tmp_path / "out" / "sweep.toml")
    assert {data_file(cfg.dataset) for cfg in spec.runs.values()} == {c / "data.csv"}


def test_a_located_path_keeps_its_file_through_copies_pickles_and_replace():
    # a sweep's worker processes get their RunConfig pickled; run names and config.json
    # see the path as typed
    cfg = RunConfig(dataset=DataPath("data.csv", "/somewhere/data.csv"), label="label")
    for again in (pickle.loads(pickle.dumps(cfg)), cfg.replace(lr=0.5), cfg.validate()):
        assert again.dataset == "data.csv"
        assert data_file(again.dataset) == Path("/somewhere/data.csv")
    assert json.dumps(cfg.to_dict()["dataset"]) == '"data.csv"'
    assert repr(cfg.dataset) == "'data.csv'"
    assert data_file(" plain.csv ") == Path("plain.csv")


def test_a_data_files_table_that_names_no_files_is_refused(tmp_path):
    with pytest.raises(SweepError) as err:
        parse_spec('data_files = { "data.csv" = 1 }\n' + SWEEP, tmp_path / "sw.toml")
    assert str(err.value) == (
        f"{tmp_path / 'sw.toml'}: data_files: must be a table of CSV paths as written = the "
        'files they stand for (data_files = { "iris.csv" = "/home/me/data/iris.csv" }), got '
        "{data.csv = 1}"
    )
