"""Decimal commas in a file delimited by ';' or a tab, as a spreadsheet exports numbers where
the comma is the decimal separator (csv23 M4): ``5,1`` is read as 5.1 in a column of such
numbers, by load_csv and by predict's reader alike; anything less certain is refused as
before (a comma-delimited file, a column mixing ``5,1`` with ``5.1``, a comma that may
group thousands)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from proplab import csvdata, csvtable, experiments
from proplab.config import RunConfig
from proplab.csvdata import CsvError, load_csv
from proplab.csvtable import read_table
from proplab.predict import open_run, output_header, predict, read_rows, write_csv

POINT = "length;width;kind\n5.1;3.5;a\n4.9;3;b\n-0.25;12;a\n6.0;0.5;b\n"


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def commas(text: str, delimiter: str = ";") -> str:
    """``text`` (';'-delimited, decimal points) with decimal commas and ``delimiter``."""
    return text.replace(".", ",").replace(";", delimiter)


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize("header", [True, False])
def test_decimal_commas_read_as_the_same_numbers_as_points(tmp_path, delimiter, header):
    text = POINT if header else POINT.split("\n", 1)[1]
    expected = load_csv(write(tmp_path, text, "point.csv"))
    path = write(tmp_path, commas(text, delimiter))
    data = load_csv(path)
    assert data.x.tolist() == expected.x.tolist() == [[5.1, 3.5], [4.9, 3], [-0.25, 12], [6, 0.5]]
    assert (data.classes, data.y.ravel().tolist()) == (["a", "b"], [0, 1, 0, 1])
    assert data.header is header and data.feature_names == expected.feature_names
    # the bulk reader leaves such a file to the per-cell one, which reads it so
    args = (path, None, None, False, ())
    assert csvdata._parse_bulk(*args) is None
    assert csvdata._parse_cells(*args).x.tolist() == data.x.tolist()
    # predict's reader: the same numbers
    table = read_table(path)
    assert table.numbers([0, 1]).tolist() == data.x.tolist()
    assert csvtable._read_plain(path, None) is None


def test_a_regression_target_with_a_decimal_comma_is_a_value(tmp_path):
    path = write(tmp_path, "a;b;price\n1;2;12,5\n3;4;-0,75\n5;6;100\n")
    assert load_csv(path, values=True).y.ravel().tolist() == [12.5, -0.75, 100.0]


def test_a_missing_cell_among_decimal_commas_is_named_as_missing(tmp_path):
    path = write(tmp_path, "a;b;y\n1,5;2;0\n;2,5;1\n3,25;NA;0\n")
    with pytest.raises(CsvError, match=r"line 3, column 'a': missing value \(empty cell\)"):
        load_csv(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a comma-delimited file: a quoted decimal comma is refused, as before
        ('x,y\n"5,1",0\n"4,9",1\n', r"line 2, column 'x': '5,1' is not a number \(a decimal"),
        # a column mixing a decimal point with a decimal comma: which is meant is unclear
        ("x;y\n1.5;0\n5,1;1\n", r"line 3, column 'x': '5,1' is not a number \(a decimal comma"),
        # every comma may group thousands (1,234): refused, never read as 1.234
        ("x;y\n1,234;0\n12,500;1\n", r"line 2, column 'x': '1,234' is not a number \(1.234 with"),
        # text in the column: its decimal comma is not read either
        ("x;y\n5,1;0\nabc;1\n", r"line 2, column 'x': '5,1' is not a number \(a decimal comma"),
    ],
)
def test_a_decimal_comma_that_is_not_certain_is_refused_as_before(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(CsvError, match=message):
        load_csv(path)


def test_a_label_or_a_dropped_column_of_names_keeps_its_commas(tmp_path):
    path = write(tmp_path, "name;h;kind\nSmith, J;1,5;fish, gold\nLi, K;2,25;cat\n")
    data = load_csv(path, drop=["name"])
    assert data.x.tolist() == [[1.5], [2.25]] and data.classes == ["cat", "fish, gold"]
    assert read_table(path).cells(0) == ["Smith, J", "1.5", "fish, gold"]


def test_predict_reads_a_decimal_comma_file_as_train_does(tmp_path):
    # a run trained on the file with points predicts the decimal-comma file's rows alike
    point = write(tmp_path, POINT + "5.5;2;a\n7;1.5;b\n", "point.csv")
    cfg = RunConfig(dataset=str(point), label="kind", epochs=50, standardize=True)
    run = tmp_path / "run"
    experiments.run_one(cfg, run, quiet=True, progress=False, figures=False)
    trained = open_run(run)
    out = {}
    for name, path in (("point", point), ("comma", write(tmp_path, commas(point.read_text())))):
        rows = read_rows(trained, path)
        done = predict(trained, rows)
        buffer = io.StringIO()
        write_csv(buffer, rows, done, output_header(rows, done))
        out[name] = (done, buffer.getvalue())
    a, b = out["point"][0], out["comma"][0]
    assert np.array_equal(a.outputs, b.outputs) and a.score == b.score is not None
    # the rows are written with their numbers as read: a point, not the file's comma
    assert out["comma"][1].splitlines()[1].startswith("5.1,3.5,a,")


# --------------------------------------------------- the delimiter, from two lines (L1)


def test_the_delimiter_is_the_one_that_splits_the_first_two_lines_alike(tmp_path):
    # csv23 L1: a comma in a name made ',' the delimiter of a ';' file (a tie on line 1)
    path = write(tmp_path, "size, cm;label\n171.3;1\n160.2;0\n")
    data = load_csv(path)
    assert (data.feature_names, data.x.ravel().tolist()) == (["size, cm"], [171.3, 160.2])
    assert data.y.ravel().tolist() == [1, 0]
    assert read_table(path).names == ["size, cm", "label"]
    args = (path, None, None, False, ())
    assert csvdata._parse_bulk(*args) is None  # a comma in a ';' file: cell by cell
    # a true tie (no numbers to tell) still goes to the comma
    tie = write(tmp_path, "a,b;c\nd,e;f\ng,h;i\n", "tie.csv")
    assert read_table(tie).names == ["a", "b;c"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("a;b;y\n1;2;0\n3;4\n", "';'"),
        ("a\tb\ty\n1\t2\t0\n3\t4\n", "a tab"),
        ("a,b,y\n1,2,0\n3,4\n", "','"),
    ],
)
def test_a_ragged_row_is_named_with_the_delimiter(tmp_path, text, named):
    path = write(tmp_path, text)
    message = f"line 3 has 2 cells, expected 3 (like line 1; the delimiter is {named})"
    for read in (load_csv, read_table):
        with pytest.raises(CsvError) as err:
            read(path)
        assert str(err.value) == f"{path}: {message}"
