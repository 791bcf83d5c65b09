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
from proplab.csvdata import CsvDropError, CsvError, load_csv
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
        ([7], r"the index 7 to drop is out of range: the file has 5 columns \(0 to 4, or -5 to "
              r"-1 from the end: id, name, height, weight, sport\)$"),
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


def test_a_header_of_numbers_is_not_trained_on_when_its_text_column_is_dropped(tmp_path):
    # review20: 'country' was the only cell that showed line 1 to be a header; dropped, the
    # header trained as a row of a class 'rich'
    path = tmp_path / "gdp.csv"
    path.write_text("country,1990,2000,rich\nChad,300,400,no\nPeru,500,700,yes\n")
    with pytest.raises(
        CsvError,
        match=r"line 1, column '0': 'country' is not a number, in a column left out: line 1 "
        r"was read as data because some of its cells are numbers; if it is a header, name "
        r"every column with text; if it is data, add a header line$",
    ):
        load_csv(path, drop=[0])
    # told it is a header, the file reads (the guess was the only problem)
    data = load_csv(path, drop=[0], header=True)
    assert data.feature_names == ["1990", "2000"] and data.classes == ["no", "yes"]


def _headerless(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path


def test_predict_reads_a_file_without_a_header_only_in_the_training_layout(tmp_path, capsys):
    # review20: trained on id,a,b,label without a header and --drop-columns 0, the inputs are
    # columns '1' and '2'; a new file without the id had them shifted: (b, label) was read
    # as (a, b), silently
    rng = np.random.default_rng(5)
    ab = rng.uniform(size=(40, 2))
    full = [f"{1000 + i},{a:.3f},{b:.3f},{int(a > b)}" for i, (a, b) in enumerate(ab)]
    train_file = _headerless(tmp_path, "hl.csv", full)
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(train_file), "--drop-columns", "0", "--epochs",
                 "300", "--quiet", "--no-progress", "--out", str(run)]) == 0  # fmt: skip
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["features"], summary["label_column"]) == (["1", "2"], "3")
    assert (summary["dropped_columns"], summary["header"]) == (["0"], False)
    capsys.readouterr()
    assert main(["predict", str(run), "--data", str(train_file)]) == 0  # the same layout
    same = capsys.readouterr().out.splitlines()
    assert len(same) == 41 and same[0] == "0,1,2,3,prediction,p_0,p_1"
    no_id = _headerless(tmp_path, "no_id.csv", [r.split(",", 1)[1] for r in full])
    no_label = _headerless(tmp_path, "no_label.csv", [r.rsplit(",", 1)[0] for r in full])
    for new in (no_id, no_label):  # 3 columns: which one is missing, no position can say
        assert main(["predict", str(run), "--data", str(new)]) == 2
        assert capsys.readouterr().err == (
            f"proplab predict: error: {new}: has 3 columns and no header, so its columns are "
            "known by position only; the run was trained on a file of 4 without a header "
            "(inputs 1, 2, label 3, 1 left out): give every row those 4 columns in that "
            "order, or train on a file with a header line (its columns are then found by "
            "name)\n"
        )
    # nothing dropped: without the label (the last column) is unambiguous, and still read
    plain_rows = [r.split(",", 1)[1] for r in full]  # a,b,label
    plain = _headerless(tmp_path, "plain.csv", plain_rows)
    run2 = tmp_path / "run2"
    assert main(["train", "--dataset", str(plain), "--epochs", "300", "--quiet",
                 "--no-progress", "--out", str(run2)]) == 0  # fmt: skip
    unlabelled = _headerless(tmp_path, "x.csv", [r.rsplit(",", 1)[0] for r in plain_rows])
    capsys.readouterr()
    assert main(["predict", str(run2), "--data", str(unlabelled)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "0,1,prediction,p_0,p_1"
    wider = _headerless(tmp_path, "wide.csv", [f"{r},7" for r in plain_rows])
    assert main(["predict", str(run2), "--data", str(wider)]) == 2
    assert "has 4 columns and no header" in capsys.readouterr().err


def test_the_drop_messages_word_a_dropped_column_and_quote_its_name(tmp_path) -> None:
    # review20: a duplicate name kept the label's advice; a name with a space, copied from
    # the hint into a shell, became two columns
    dup = tmp_path / "dup.csv"
    dup.write_text("x,x,a,label\n1,2,3,0\n4,5,6,1\n")
    with pytest.raises(
        CsvDropError,
        match=r"column to drop 'x' is ambiguous: columns \[0, 1\] \(0-based\) all have that "
        r"name; rename them or give it as a column index$",
    ):
        load_csv(dup, drop=["x"])
    spaced = tmp_path / "pn.csv"
    spaced.write_text("patient name,h,y\nann,1,0\nbo,2,1\n")
    with pytest.raises(CsvError, match=r"or leave it out \(--drop-columns 'patient name'\)\)$"):
        load_csv(spaced)
    assert load_csv(spaced, drop=["patient name"]).feature_names == ["h"]


def test_a_sweep_checks_every_drop_before_anything_runs(tmp_path) -> None:
    # review20 F7: only the first setting's columns were loaded up front (the data cache
    # did not tell drops apart); a misspelt one failed its run mid-sweep, blamed on [base]
    path = _people(tmp_path, rows=6)
    text = f"""
[base]
dataset = "{path.as_posix()}"
label = "sport"
epochs = 5
[vary]
drop_columns = [["id", "name"], ["id", "nmae"]]
"""
    with pytest.raises(
        SweepError,
        match=r"vary drop_columns\[1\] = \['id', 'nmae'\]: drop_columns: .*column to drop 'nmae' "
        r"not found .*did you mean 'name'\?$",
    ):
        parse_spec(text, tmp_path / "sweep.toml")


@pytest.mark.parametrize("spec", ["١", "1_0", "٠"])
def test_a_column_index_is_ascii_digits_only(tmp_path, spec) -> None:
    # verify20 (cli20 L1): '١' read as column 1 for --label and --drop-columns
    path = _people(tmp_path, rows=6)
    with pytest.raises(CsvDropError, match=rf"column to drop '{spec}' not found \(columns: "):
        load_csv(path, label="sport", drop=[spec, "name"])
    with pytest.raises(Exception, match=rf"label column '{spec}' not found \(columns: "):
        load_csv(path, label=spec, drop=["name"])
