"""CSV columns that are no input: ``--drop-columns`` / ``drop_columns``.

A student's file often holds an ID, a name or a date beside the measurements. Before,
the only way was to edit the file: a name stopped training ("'ann' is not a number ...
or delete it") and an ID trained as an input.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from proplab.cli import main
from proplab.config import ConfigError, RunConfig
from proplab.csvdata import CsvDropError, load_csv
from proplab.sweep import SweepError, parse_spec, run_sweep


def _people(tmp_path: Path, rows: int = 60) -> Path:
    """id, name, height, weight, sport: the label is 'yes' for the heavier half."""
    rng = np.random.default_rng(0)
    lines = ["id,name,height,weight,sport"]
    for i in range(rows):
        height = 175 + 10 * rng.standard_normal()
        weight = height - 100 + 8 * rng.standard_normal()
        label = "yes" if weight > 75 else "no"
        lines.append(f"{1000 + i},{'abc'[i % 3]}{i},{height:.1f},{weight:.1f},{label}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dropped_columns_are_no_inputs_by_name_or_by_index(tmp_path: Path) -> None:
    path = _people(tmp_path, rows=6)
    whole = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(2, 3))
    by_name = load_csv(path, label="sport", drop=["id", "name"])
    by_index = load_csv(path, label="sport", drop=[0, "-4"])
    for data in (by_name, by_index):
        assert data.feature_names == ["height", "weight"]
        assert np.array_equal(data.x, whole)
        assert data.classes == ["no", "yes"] and data.label_name == "sport"
    # the cached read of the whole file is not the dropped one, nor the other way round
    with pytest.raises(Exception, match="'a0' is not a number"):
        load_csv(path, label="sport")
    assert load_csv(path, label="sport", drop=["name"]).feature_names == ["id", "height", "weight"]


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (["nmae"], r"column to drop 'nmae' not found \(columns: id, name, height, weight, "
                   r"sport\); did you mean 'name'\?$"),
        ([7], r"column to drop '7' not found \(columns: id, name, height, weight, sport\)$"),
        (["sport"], r"column 'sport' is the label column, which is never an input; drop only "
                    r"input columns$"),
        (["id", "name", 2, "weight"], r"dropping 'id', 'name', 'height', 'weight' leaves no "
                                      r"input column \(columns: id, name, height, weight, sport; "
                                      r"label 'sport'\)$"),
    ],
)  # fmt: skip
def test_a_drop_that_cannot_be_is_refused_naming_the_column(tmp_path, drop, message) -> None:
    path = _people(tmp_path, rows=6)
    with pytest.raises(CsvDropError, match=message):
        load_csv(path, label="sport", drop=drop)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("id", ["id"]),  # one name, as a sweep file may write it
        ([], None),
        (None, None),
        (["id", 0], ["id", 0]),  # the same column by name and index: one drop, when read
    ],
)
def test_run_config_takes_drop_columns(value, expected) -> None:
    assert RunConfig(dataset="people.csv", drop_columns=value).validate().drop_columns == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["id", "id"], r"drop_columns: names column 'id' twice"),
        ([" "], r"drop_columns: a column name cannot be blank, got ' '"),
        ([True], r"drop_columns: must be a list of CSV column names or indices, got \[True\]"),
        (3.5, r"drop_columns: must be a list of CSV column names or indices, got 3.5"),
        ([["id"]], r"drop_columns: must be a list of CSV column names or indices"),
    ],
)
def test_run_config_refuses_a_bad_drop_columns(value, message) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig(dataset="people.csv", drop_columns=value).validate()


def test_train_without_the_flag_names_the_column_and_the_flag(tmp_path, capsys) -> None:
    path = _people(tmp_path)
    code = main(["train", "--dataset", str(path), "--label", "sport", "--epochs", "5",
                 "--quiet", "--no-progress", "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().endswith(
        "line 2, column 'name': 'a0' is not a number (only the label column may hold names: "
        "code this column as numbers in the file (0/1 for two kinds), or leave it out "
        "(--drop-columns name))"
    )
    assert not (tmp_path / "run").exists()


def test_train_with_the_flag_learns_records_and_predicts_on_the_same_kind_of_file(
    tmp_path, capsys
) -> None:
    path = _people(tmp_path)
    run = tmp_path / "run"
    code = main(["train", "--dataset", str(path), "--label", "sport", "--drop-columns", "id",
                 "name", "--standardize", "--epochs", "3000", "--quiet", "--no-progress",
                 "--out", str(run)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["features"] == ["height", "weight"]
    assert summary["accuracy"] >= 0.9  # weight decides the label, up to noise
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["drop_columns"] == ["id", "name"]
    capsys.readouterr()
    # new rows as the student has them, ID and name included: predict takes the inputs by name
    new = tmp_path / "new.csv"
    new.write_text("id,name,height,weight\n1,zed,170.0,60.0\n2,amy,180.0,95.0\n")
    assert main(["predict", str(run), "--data", str(new)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "id,name,height,weight,prediction,p_no,p_yes"
    assert [line.split(",")[4] for line in out[1:]] == ["no", "yes"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "xor", "--drop-columns", "id"],
         "argument --drop-columns: only a CSV dataset has columns to drop, and 'xor' is not one"),
        (["--label", "sport", "--drop-columns", "sport"],
         "argument --drop-columns: {path}: column 'sport' is the label column, which is never "
         "an input; drop only input columns"),
        (["--label", "sport", "--drop-columns", "id", "id"],
         "argument --drop-columns: names column 'id' twice"),
    ],
)  # fmt: skip
def test_the_cli_refuses_a_bad_drop_in_one_line(tmp_path, capsys, argv, message) -> None:
    path = _people(tmp_path, rows=6)
    args = argv if "--dataset" in argv else ["--dataset", str(path), *argv]
    code = main(["train", *args, "--epochs", "2", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"proplab train: error: {message.format(path=path)}\n"
    assert not (tmp_path / "run").exists()


def test_a_sweep_file_drops_columns_and_refuses_them_where_no_run_reads_a_csv_file(
    tmp_path,
) -> None:
    path = _people(tmp_path, rows=40)
    text = f"""
[base]
dataset = "{path.as_posix()}"
label = "sport"
drop_columns = ["id", "name"]
standardize = true
epochs = 50
print_every = 0
[vary]
seed = [0, 1]
"""
    spec = parse_spec(text, tmp_path / "sweep.toml")
    result = run_sweep(spec, tmp_path / "out", stream=io.StringIO())
    assert (result.total, result.ran, result.exit_code) == (2, 2, 0)
    for folder in (tmp_path / "out" / "runs").iterdir():
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["features"] == ["height", "weight"]
    with pytest.raises(
        SweepError,
        match=r"sets drop_columns = \['id'\], but its dataset 'xor' is not a CSV file \(only a "
        r"\.csv file has columns to drop\), and no run of this experiment reads one",
    ):
        parse_spec('[base]\ndataset = "xor"\ndrop_columns = ["id"]\n', tmp_path / "s.toml")
