"""Shapes of a student's own CSV file that were read other than meant (csv23): a header of
numbers, '#' lines, duplicate and empty names, huge values. Each file is read by both
readers (the bulk one and the cell-by-cell reference) and checked by its numbers: rows,
inputs, classes, the label of a given row."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from proplab import csvdata
from proplab.cli import main
from proplab.csvdata import CsvError, load_csv
from proplab.csvtable import read_table
from proplab.predict import PredictError, open_run


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _both(path: Path, **kwargs) -> csvdata.CsvDataset:
    """load_csv's result, checked to be the per-cell reader's too (the bulk reader may
    decline a file, never read it otherwise)."""
    how = (kwargs.get("label"), None, kwargs.get("values", False), tuple(kwargs.get("drop", ())))
    slow = csvdata._parse_cells(path, *how)
    fast = csvdata._parse_bulk(path, *how)
    if fast is not None:
        np.testing.assert_array_equal(fast.x, slow.x)
        np.testing.assert_array_equal(fast.y, slow.y)
        assert (fast.classes, fast.feature_names, fast.header) == (
            slow.classes,
            slow.feature_names,
            slow.header,
        )
    return load_csv(path, **kwargs)


# --- H1: a header of numbers ------------------------------------------------------------


def test_pandas_header_of_column_numbers_is_a_header(tmp_path: Path) -> None:
    # pd.DataFrame(X).assign(label=y).to_csv(index=False): 0,1,...,63,label
    rng = np.random.default_rng(0)
    x = rng.integers(0, 17, size=(30, 64))
    y = np.arange(30) % 10
    lines = [",".join([*map(str, range(64)), "label"])]
    lines += [",".join([*map(str, row), str(c)]) for row, c in zip(x, y, strict=True)]
    data = _both(_write(tmp_path, "\n".join(lines) + "\n"))
    assert data.header and data.x.shape == (30, 64)
    assert data.classes == list(range(10))  # numbers, not the text '0'..'9' and 'label'
    assert data.label_name == "label" and data.feature_names[:3] == ["0", "1", "2"]
    np.testing.assert_array_equal(data.x, x)
    assert data.y[13, 0] == 3


def test_pandas_header_of_an_unnamed_frame_with_a_text_label(tmp_path: Path) -> None:
    # pd.DataFrame(np.c_[X, y]).to_csv(index=False): every name a column number
    text = "0,1,2,3,4\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,1\n6.3,3.3,6.0,2.5,1\n"
    data = _both(_write(tmp_path, text))
    assert data.header and data.x.shape == (3, 4) and data.classes == [0, 1]
    assert data.x[0, 0] == 5.1 and data.label_name == "4"
    named = "0,1,2,3,species\n5.1,3.5,1.4,0.2,setosa\n6.3,3.3,6.0,2.5,virginica\n"
    data = _both(_write(tmp_path, named, "n.csv"))
    assert data.header and data.classes == ["setosa", "virginica"] and len(data.y) == 2


def test_a_header_of_years_and_a_label_name_is_a_header(tmp_path: Path) -> None:
    data = _both(_write(tmp_path, "1990,2000,rich\n1.5,2.5,0\n3.5,1.5,1\n0.5,0.5,0\n"))
    assert data.header and data.feature_names == ["1990", "2000"] and data.classes == [0, 1]
    assert data.x.shape == (3, 2) and data.y[:, 0].tolist() == [0, 1, 0]
    data = _both(_write(tmp_path, "x1,2,label\n0.5,1.5,0\n1.0,2.0,1\n", "b.csv"))
    assert data.header and data.feature_names == ["x1", "2"] and data.x.shape == (2, 2)


@pytest.mark.parametrize(
    "text",
    [
        "5.1,3.5,0\n4.9,3.0,1\n4.7,3.2,0\n",  # plain data
        "0,1,yes\n1,0,no\n0,0,yes\n1,1,no\n",  # data whose first inputs are 0, 1
        "1,2,3,4,0\n5,6,7,8,1\n",  # whole numbers, not the column numbers
    ],
)
def test_rows_of_numbers_stay_data(tmp_path: Path, text: str) -> None:
    data = _both(_write(tmp_path, text))
    assert not data.header and len(data.y) == text.count("\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a word in a feature column of a first row of whole numbers: a bad cell, not names
        ("3,abc,0\n1,2,1\n3,4,0\n", r"line 1, column '1': 'abc' is not a number"),
        # decimals are measurements: a data row with a word in it
        ("x1,2.5,label\n0.5,1.5,0\n1.0,2.0,1\n", r"line 1, column '0': 'x1' is not a number"),
        # pandas' 0,1,class over two inputs: a header, or a row of a class no other has
        (
            "0,1,class\n0.5,0.3,a\n0.1,0.9,b\n0.4,0.2,a\n",
            r"line 1 \(0,1,class\) looks like a header \(pandas names the columns of a frame "
            r"without names 0, 1, \.\.\.\): its label 'class' is on no other line",
        ),
    ],
)
def test_a_first_row_that_may_be_either_is_refused(tmp_path: Path, text, message) -> None:
    path = _write(tmp_path, text)
    assert csvdata._parse_bulk(path, None, None, False) is None
    with pytest.raises(CsvError, match=message):
        load_csv(path)


def test_predict_reads_a_pandas_header_as_a_header(tmp_path: Path) -> None:
    table = read_table(_write(tmp_path, "0,1,2,3,label\n1,2,3,4,0\n5,6,7,8,1\n"))
    assert table.header and table.names == ["0", "1", "2", "3", "label"] and len(table) == 2


# --- H2: two columns of one name ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("a,a,label\n1,9,1\n9,0,0\n2,2,0\n", {}, r"columns 0 and 1 \(0-based\) are both named 'a'"),
        ("a,b,a\n1,9,1\n9,0,0\n2,2,0\n", {}, r"columns 0 and 2 \(0-based\) are both named 'a'"),
        ("a,b,a,y\n1,9,1,0\n9,0,0,1\n", {"drop": [1]}, r"columns 0 and 2 .* named 'a'"),
    ],
)
def test_two_kept_columns_of_one_name_are_refused(tmp_path: Path, text, kwargs, message):
    path = _write(tmp_path, text)
    with pytest.raises(CsvError, match=message + r"; rename one in the header, or leave one"):
        load_csv(path, **kwargs)
    assert csvdata._parse_bulk(path, None, None, False, tuple(kwargs.get("drop", ()))) is None


def test_a_duplicate_name_left_out_is_no_trouble(tmp_path: Path) -> None:
    data = _both(_write(tmp_path, "a,a,b,y\n1,2,3,0\n4,5,6,1\n"), drop=[1])
    assert data.feature_names == ["a", "b"] and data.x.tolist() == [[1, 3], [4, 6]]


def test_predict_refuses_a_run_that_took_two_inputs_of_one_name(tmp_path: Path) -> None:
    # a run trained before the refusal: by name, one column would feed both inputs
    path = _write(
        tmp_path, "a,b,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40))
    )
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--epochs", "2", "--quiet", "--no-progress",
                 "--out", str(run)]) == 0  # fmt: skip
    summary_path = run / "summary.json"
    summary = summary_path.read_text()
    summary_path.write_text(summary.replace('"b"', '"a"'))
    with pytest.raises(PredictError, match=r"the run takes two input columns named 'a'"):
        open_run(run)


# --- H3: a value too large to square ------------------------------------------------------


@pytest.mark.parametrize("cell", ["1e300", "-2.5e151", "1E200"])
def test_a_value_whose_square_overflows_is_refused(tmp_path: Path, cell: str) -> None:
    rows = [f"{i % 5},{i % 3},{i % 2}" for i in range(20)]
    rows[6] = f"1,{cell},0"
    path = _write(tmp_path, "a,b,label\n" + "\n".join(rows) + "\n")
    message = rf"line 8, column 'b': '{cell}' is too large to train on \(the limit is ±1e150"
    assert csvdata._parse_bulk(path, None, None, False) is None
    with pytest.raises(CsvError, match=message):
        load_csv(path)
    with pytest.raises(CsvError, match=message):  # as predict reads it
        read_table(path).numbers([0, 1])
    target = _write(tmp_path, "a,b,y\n1,2,3\n4,5,6\n7,8," + cell + "\n", "t.csv")
    with pytest.raises(CsvError, match=rf"line 4, column 'y': '{cell}' is too large"):
        load_csv(target, values=True)


def test_a_value_within_the_limit_is_read_and_standardised(tmp_path, capsys) -> None:
    rows = [f"{i % 5},{i % 3},{i % 2}" for i in range(20)]
    rows[6] = "1,1e150,0"
    path = _write(tmp_path, "a,b,label\n" + "\n".join(rows) + "\n")
    data = _both(path)
    assert data.x.shape == (20, 2) and data.x[6, 1] == 1e150 and data.y[6, 0] == 0
    assert read_table(path).numbers([1])[6, 0] == 1e150
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--epochs", "2", "--standardize",
                 "--quiet", "--no-progress", "--out", str(run)]) == 0  # fmt: skip
    assert "Traceback" not in capsys.readouterr().err


def test_train_refuses_a_huge_value_in_one_line(tmp_path, capsys) -> None:
    rows = [f"{i % 5},{i % 3},{i % 2}" for i in range(20)]
    rows[6] = "1,1e300,0"
    path = _write(tmp_path, "a,b,label\n" + "\n".join(rows) + "\n")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--epochs", "2", "--standardize",
                 "--quiet", "--no-progress", "--out", str(run)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "line 8, column 'b': '1e300' is too large to train on" in err[0]
    assert not run.exists()


# --- H4: lines starting with '#' ----------------------------------------------------------


def test_a_row_starting_with_a_spreadsheet_error_is_refused_not_dropped(tmp_path) -> None:
    path = _write(tmp_path, "a,b,label\n1,2,1\n#N/A,3,0\n2,2,1\n4,4,0\n")
    message = (
        r"line 3, column 'a': '#N/A' is not a number \(a spreadsheet's error value: fix the "
        r"formula in the spreadsheet, or drop the row\)$"
    )
    with pytest.raises(CsvError, match=message):
        load_csv(path)
    with pytest.raises(CsvError, match=message):
        read_table(path).numbers([0, 1])
    # in a column left out it is never read: the row counts
    data = _both(path, drop=["a"])
    assert data.x[:, 0].tolist() == [2, 3, 2, 4] and data.y[1, 0] == 0


@pytest.mark.parametrize("error", ["#DIV/0!", "#VALUE!", "#N/A", "#NAME?"])
def test_a_spreadsheet_error_is_refused_in_any_column(tmp_path: Path, error: str) -> None:
    path = _write(tmp_path, f"a,b,label\n1,2,1\n3,{error},0\n2,2,1\n")
    with pytest.raises(
        CsvError, match=rf"line 3, column 'b': '{re.escape(error)}' is not a number \(a sp"
    ):
        load_csv(path)
    path = _write(tmp_path, f"a,b,label\n1,2,1\n3,3,{error}\n2,2,0\n", "label.csv")
    with pytest.raises(
        CsvError,
        match=rf"line 3, column 'label': '{re.escape(error)}' is a spreadsheet's error value",
    ):
        load_csv(path)
    assert csvdata._parse_bulk(path, None, None, False) is None


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("#,height,weight,label\n1,170,60,0\n2,180,80,1\n3,165,55,0\n", ["#", "height", "weight"]),
        ("# x1,x2,label\n1.5,2,0\n3,4.5,1\n# a note, here\n5,6,0\n", ["x1", "x2"]),  # savetxt
        ("# made by hand\n#id;h;label\n1;2.5;0\n2;3.5;1\n3;1.5;0\n", ["id", "h"]),
    ],
)
def test_a_header_in_a_comment_names_the_columns(tmp_path, text: str, names) -> None:
    data = _both(_write(tmp_path, text))
    assert data.header and (data.feature_names, data.label_name) == (names, "label")
    assert data.x.shape == (3, len(names)) and data.y[:, 0].tolist() == [0, 1, 0]
    assert data.x[1, -1] in (80, 4.5, 3.5)  # the second data row, not the header's
    assert read_table(tmp_path / "data.csv").names == [*names, "label"]


def test_other_comments_are_still_comments(tmp_path: Path) -> None:
    # before a header of its own, a comment of the table's width is a comment; a data
    # line commented out later is left out, as before
    text = "# a, b, c\nx,y,label\n1,2,0\n#5,6,1\n3,4,1\n  # 7,8,0\n5,6,0\n"
    data = _both(_write(tmp_path, text))
    assert data.feature_names == ["x", "y"] and data.x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.y[:, 0].tolist() == [0, 1, 0]
    table = read_table(tmp_path / "data.csv")
    assert (table.names, len(table), list(table.lines)) == (["x", "y", "label"], 3, [3, 5, 7])


# --- H5: pandas' index column; M1: a delimiter ending every line --------------------------


def _iris_like(index: bool, end: str = "") -> str:
    """A sorted 3-class file as pandas writes it, with its row index (``,a,b,species``)
    or without; ``end`` after every line (a trailing delimiter)."""
    head = (",a,b,species" if index else "a,b,species") + end
    rows = [
        (f"{i}," if index else "") + f"{i % 4 + 0.5},{i % 3 + 1.5},{'xyz'[i // 4]}{end}"
        for i in range(12)
    ]
    return "\n".join([head, *rows]) + "\n"


def test_pandas_index_column_is_refused_with_how_to_leave_it_out(tmp_path, capsys) -> None:
    path = _write(tmp_path, _iris_like(index=True))
    message = (
        r"column 1, an input, has no name in the header \(pandas' row index\? to_csv writes "
        r"it unless index=False\): leave it out \(--drop-columns 0\) or name it$"
    )
    with pytest.raises(CsvError, match=message):
        load_csv(path, label="species")
    assert csvdata._parse_bulk(path, "species", None, False) is None
    data = _both(path, label="species", drop=[0])  # as the message says
    assert data.feature_names == ["a", "b"] and data.classes == ["x", "y", "z"]
    assert data.x.shape == (12, 2) and data.y[5, 0] == 1 and data.x[5].tolist() == [1.5, 3.5]
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--label", "species", "--epochs", "2",
                 "--quiet", "--no-progress", "--out", str(run)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "leave it out (--drop-columns 0)" in err[0] and not run.exists()


@pytest.mark.parametrize("end", [",", ";", "\t"])
def test_a_delimiter_ending_every_line_adds_no_column(tmp_path: Path, end: str) -> None:
    text = _iris_like(index=False, end=",").replace(",", end)
    path = _write(tmp_path, text)
    data = _both(path)  # the default label is species, not the empty column after it
    assert data.label_name == "species" and data.feature_names == ["a", "b"]
    assert data.classes == ["x", "y", "z"] and data.x.shape == (12, 2) and data.y[11, 0] == 2
    table = read_table(path)
    assert table.names == ["a", "b", "species"] and table.cells(3) == ["3.5", "1.5", "x"]


# --- M2, M5: advice that dropped the label ------------------------------------------------


def test_a_label_in_the_first_column_gets_label_advice_first(tmp_path: Path) -> None:
    path = _write(tmp_path, "species,a,b\nx,1.5,2\ny,3,4.5\nx,5,6\n")
    with pytest.raises(
        CsvError,
        match=r"line 2, column 'species': 'x' is not a number \(only the label column may hold "
        r"names: if it is the label, say --label species; else code this column as numbers",
    ):
        load_csv(path)
    data = _both(path, label="species")  # as advised
    assert data.classes == ["x", "y"] and data.x.tolist() == [[1.5, 2], [3, 4.5], [5, 6]]
    # given a label, a column of names is no label: the advice is as before
    with pytest.raises(CsvError, match=r"may hold names: code this column as numbers"):
        load_csv(path, label="b")


def test_a_regression_on_text_labels_is_told_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,target\n1,2,high\n3,4,low\n5,6,high\n")
    with pytest.raises(
        CsvError,
        match=r"line 2, column 'target': the label 'high' is not a number, and a regression "
        r"\(--task regression\) predicts numbers; if the labels are classes, leave out --task "
        r"regression; if the label is another column, choose it with --label$",
    ):
        load_csv(path, values=True)
    data = _both(path)  # as classes
    assert data.classes == ["high", "low"] and data.y[:, 0].tolist() == [0, 1, 0]


# --- lows: predict's messages -------------------------------------------------------------


@pytest.fixture
def body_run(tmp_path: Path) -> Path:
    """A run on ``height,weight,width,kind`` (kind: a or b)."""
    rows = [f"{150 + i},{50 + i % 7},{20 + i % 3},{'ab'[i % 2]}" for i in range(30)]
    path = _write(tmp_path, "height,weight,width,kind\n" + "\n".join(rows) + "\n", "body.csv")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--epochs", "2", "--quiet", "--no-progress",
                 "--out", str(run)]) == 0  # fmt: skip
    return run


def test_predict_names_a_missing_label_as_missing(tmp_path, body_run, capsys) -> None:
    new = _write(tmp_path, "height,weight,width,kind\n170,60,21,a\n160,55,22,\n", "new.csv")
    capsys.readouterr()
    assert main(["predict", str(body_run), "--data", str(new)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"proplab predict: error: {new}: line 3, column 'kind': missing label (a score needs "
        "every row's label); fill it in, or delete the column to predict without a score"
    )


def test_predict_suggests_no_column_that_is_another_input(tmp_path, body_run, capsys) -> None:
    # csv23 L3: without petal_width, 'did you mean sepal_width?', an input used already
    new = _write(tmp_path, "height,width\n170,21\n", "new.csv")
    capsys.readouterr()
    assert main(["predict", str(body_run), "--data", str(new)]) == 2
    err = capsys.readouterr().err
    assert "no column 'weight'" in err and "did you mean" not in err  # not 'height'
    new = _write(tmp_path, "height,width,weigth\n170,21,60\n", "two.csv")
    assert main(["predict", str(body_run), "--data", str(new)]) == 2
    err = capsys.readouterr().err
    assert "no column 'weight'" in err and "did you mean 'weigth'?" in err


def test_a_file_of_one_row_is_told_so(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match=r"has a single data row \(line 2\); training needs rows"):
        load_csv(_write(tmp_path, "a,b,label\n1,2,0\n"))
    with pytest.raises(CsvError, match=r"label column 'label' has a single class \(0\)"):
        load_csv(_write(tmp_path, "a,b,label\n1,2,0\n3,4,0\n", "two.csv"))
