"""CSV datasets: a round trip through a written file, and one clear message per bad input."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from proplab.csvdata import CsvError, load_csv


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_round_trip_with_header_and_string_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3)).round(6)
    names = np.array(["setosa", "versicolor", "virginica"])
    labels = rng.integers(0, 3, size=30)
    lines = ["a,b,species,c"] + [
        f"{r[0]},{r[1]},{names[k]},{r[2]}" for r, k in zip(x, labels, strict=True)
    ]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    data = load_csv(path, label="species")
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y[:, 0], labels)  # sorted names: index = k
    assert data.y.shape == (30, 1) and data.y.dtype == np.int64
    assert data.classes == ["setosa", "versicolor", "virginica"]
    assert data.feature_names == ["a", "b", "c"] and data.label_name == "species"


def test_an_unchanged_file_is_parsed_once_and_every_caller_gets_its_own_arrays(
    tmp_path: Path, monkeypatch
) -> None:
    import os

    from proplab import csvdata

    parses: list[Path] = []
    real_parse = csvdata._parse
    monkeypatch.setattr(csvdata, "_parse", lambda *a: parses.append(a[0]) or real_parse(*a))
    path = _write(tmp_path, "x1,x2,label\n1,2,a\n3,4,b\n")
    first = load_csv(path)
    first.x[0, 0] = 99.0  # the caller's own copy: the next load must not see it
    first.classes.append("zzz")
    second = load_csv(path)
    assert len(parses) == 1
    np.testing.assert_array_equal(second.x, [[1.0, 2.0], [3.0, 4.0]])
    assert second.classes == ["a", "b"] and not np.shares_memory(first.x, second.x)
    load_csv(path, header=True)  # asked another way: parsed again
    assert len(parses) == 2
    # the file changes (another size, a later time): parsed again, new values
    path.write_text("x1,x2,label\n1,2,a\n3,4,b\n5,6,b\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third = load_csv(path)
    assert len(parses) == 3 and third.x.shape == (3, 2)


def test_headerless_numeric_labels_last_column_by_default(tmp_path: Path) -> None:
    path = _write(tmp_path, "0.5;1.5;2\n\n1.0;-2.0;7\n3.0;4.0;2\n")  # ';' and a blank line
    data = load_csv(path)
    np.testing.assert_array_equal(data.x, [[0.5, 1.5], [1.0, -2.0], [3.0, 4.0]])
    assert data.classes == [2, 7]
    np.testing.assert_array_equal(data.y[:, 0], [0, 1, 0])
    assert data.feature_names == ["0", "1"] and data.label_name == "2"
    # the label chosen by index, negative from the end, or its text
    path = _write(tmp_path, "1;0.5;2\n0;1.5;7\n", "ints.csv")
    assert load_csv(path, label=0).feature_names == ["1", "2"]
    assert load_csv(path, label="-3").label_name == "0"


def test_header_detection_and_override(tmp_path: Path) -> None:
    path = _write(tmp_path, "x1,x2,y\n1,2,0\n3,4,1\n")
    assert load_csv(path).x.shape == (2, 2)
    with pytest.raises(CsvError, match=r"line 1, column '0': 'x1' is not a number"):
        load_csv(path, header=False)
    numbered = _write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n", "numbered.csv")
    assert load_csv(numbered, header=True).x.tolist() == [[3.0, 4.0], [5.0, 6.0]]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("a,b,y\n1,2,0\n1,zz,1\n", {}, r"line 3, column 'b': 'zz' is not a number"),
        ("a,b,y\n1,2,0\n,2,1\n", {}, r"line 3, column 'a': missing value \(empty cell\)"),
        ("a,b,y\n1,2,0\nNaN,2,1\n", {}, r"line 3, column 'a': missing value \(NaN\) 'NaN'"),
        ("a,b,y\n1,inf,0\n1,2,1\n", {}, r"line 2, column 'b': infinite value 'inf'"),
        ("a,b,y\n1,2,0\n1,2,\n", {}, r"line 3, column 'y': missing label"),
        # any spelling of NaN (review19: '-nan' crashed with a bare StopIteration)
        ("a,b,y\n1,2,-nan\n3,4,1\n5,6,0\n", {}, r"line 2, column 'y': missing label"),
        ("a,b,y\n1,2,0\n3,4,+NaN\n5,6,1\n", {}, r"line 3, column 'y': missing label"),
        ("a,b,y\n1,2,1\n3,4,1\n", {}, r"label column 'y' has a single class \(1\)"),
        ("a,b,y\n1,2,0\n3,4\n", {}, r"line 3 has 2 cells, expected 3"),
        (
            "a,b,y\n1,2,0\n3,4,1\n",
            {"label": "z"},
            r"label column 'z' not found \(columns: a, b, y\)",
        ),
        ("a,b,y\n", {}, r"has a header but no data rows"),
        ("\n\n", {}, r"the file is empty"),
        ("# only a comment\n\n", {}, r"the file is empty"),
        ("# made by hand\na,b,y\n1,2,0\n# one more\n1,zz,1\n", {}, r"line 5, column 'b'"),
        ("1\n2\n", {}, r"needs at least 2 columns"),
        # "NA" and "null" are how spreadsheets and pandas write "no value": say so
        ("a,b,y\n1,2,0\n1,NA,1\n", {}, r"line 3, column 'b': missing value \(NA\); fill"),
        ("a,b,y\n1,2,0\nnull,2,1\n", {}, r"line 3, column 'a': missing value \(null\); fill"),
        # a trailing comma on the lines but one: an unnamed last column, refused as unnamed
        # (on every line it holds nothing and is taken off: tests/test_csv_shapes.py)
        (
            "a,b,y,\n1,2,0,\n3,4,1,5\n",
            {"label": "y"},
            r"column 4, an input, has no name in the header \(a delimiter ending some "
            r"lines\?\): leave it out \(--drop-columns 3\) or name it$",
        ),
        (
            "a,b,y,\n1,2,0,\n3,4,1,5\n",
            {},
            r"column 4, the label column, has no name in the header \(a delimiter ending "
            r"some lines\?\): name it$",
        ),
        # named by position when it is left out of the header only
        ("a,b,y\n1,2,0\n3,4,\n", {}, r"line 3, column 'y': missing label"),
        # an unnamed input column is refused before its cells are read (csv23 H5)
        ("a,,y\n1,,0\n3,4,1\n", {}, r"column 2, an input, has no name in the header: "),
    ],
)
def test_bad_input_is_named(tmp_path: Path, text: str, kwargs: dict, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CsvError, match=message) as info:
        load_csv(path, **kwargs)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_not_text(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"a,b\n\xff\xd8\xff,1\n")
    with pytest.raises(
        CsvError, match=r"image.csv: not a UTF-8 text file \(invalid start byte at byte 4\)"
    ):
        load_csv(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match=r"nope.csv: no such file"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(CsvError, match="is a directory"):
        load_csv(tmp_path)


# --- through the CLI: `proplab train --dataset file.csv --label COL` ---------------------


def _cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, list[str], list[str]]:
    from proplab.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_cli_round_trip_reports_train_and_test_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import json

    from proplab.serialize import load
    from proplab.train_text import format_summary_line
    from proplab.zoo import moons

    # the label in the middle column, as strings: the CLI must find it by name
    x, y = moons(200, 0.1, 4)
    names = np.array(["lower", "upper"])[1 - y[:, 0]]  # class 0 (upper moon) -> "upper"
    lines = ["u,kind,v"] + [
        f"{float(a)!r},{k},{float(b)!r}" for (a, b), k in zip(x, names, strict=True)
    ]
    path = _write(tmp_path, "\n".join(lines) + "\n", "moons.csv")
    run = tmp_path / "run"
    code, out, err = _cli(
        capsys, "train", "--dataset", str(path), "--label", "kind", "--test-fraction", "0.25",
        "--hidden", "16", "--activation", "tanh", "--loss", "cross_entropy",
        "--optimizer", "adam", "--lr", "0.02", "--epochs", "300", "--print-every", "0",
        "--no-progress", "--out", str(run),
    )  # fmt: skip
    assert code == 0, err
    assert out[0].startswith("train: loss=") and out[1].startswith("test: loss=")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["n_samples"] == 150 and summary["n_test"] == 50
    assert summary["accuracy"] >= 0.97 and summary["test_accuracy"] >= 0.95
    assert out[1] == f"test: {format_summary_line(summary['test_loss'], summary['test_accuracy'])}"
    # the saved model reproduces the training accuracy on the file's data
    data = load_csv(path, label="kind")
    model = load(run / "model.npz")
    guess = model.forward(data.x).argmax(axis=1)
    assert data.classes == ["lower", "upper"]
    assert np.mean(guess == data.y[:, 0]) >= 0.95
    assert (run / "decision_boundary.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        (None, [], r"argument --dataset: .*missing.csv: no such file"),
        (
            "a,b,y\n1,2,0\n1,zz,1\n",
            [],
            r"argument --dataset: .*line 3, column 'b': 'zz' is not a number",
        ),
        ("a,b,y\n1,2,0\nnan,2,1\n", [], r"line 3, column 'a': missing value \(NaN\)"),
        ("a,b,y\n1,2,1\n3,4,1\n", [], r"label column 'y' has a single class"),
        ("a,b,y\n1,2,0\n3,4,1\n", ["--label", "c"], r"label column 'c' not found"),
        (
            "a,b,y\n1,2,0\n3,4,1\n5,6,0\n",
            ["--test-fraction", "0.2"],
            r"argument --test-fraction: .*3 rows are too few for a test share of 0.2 .* need at least 6 rows",
        ),
    ],
)
def test_cli_bad_csv_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str | None, extra: list, message: str
) -> None:
    path = tmp_path / "missing.csv" if text is None else _write(tmp_path, text)
    run = tmp_path / "run"
    code, out, err = _cli(capsys, "train", "--dataset", str(path), *extra, "--out", str(run))
    assert code == 2
    assert out == [] and len(err) == 1
    assert err[0].startswith("proplab train: error: argument --"), err[0]
    assert re.search(message, err[0]), err[0]
    assert not run.exists()  # nothing written for bad input


def test_a_duplicated_label_name_is_ambiguous_and_an_index_too(tmp_path: Path) -> None:
    # 'label' is both a float feature (column 1) and the real 0/1 label (column 2)
    path = _write(tmp_path, "x,label,label\n0.1,0.7,0\n0.9,0.2,1\n0.3,0.8,0\n0.8,0.1,1\n")
    with pytest.raises(
        CsvError,
        match=re.escape(
            f"{path}: label column 'label' is ambiguous: columns [1, 2] (0-based) all have that "
            "name; rename them or give the label as a column index"
        ),
    ):
        load_csv(path, label="label")
    # picked by index, the label still shares its name with an input, which a run records
    # and predict finds by name: refused (csv23 H2); with the other one left out, it reads
    with pytest.raises(CsvError, match=r"columns 1 and 2 \(0-based\) are both named 'label'"):
        load_csv(path, label=2)
    data = load_csv(path, label=2, drop=[1])
    assert data.y[:, 0].tolist() == [0, 1, 0, 1] and data.classes == [0, 1]
    np.testing.assert_array_equal(data.x, [[0.1], [0.9], [0.3], [0.8]])
    with pytest.raises(CsvError, match=r"both named 'label'"):  # the default: the last
        load_csv(path)


def test_cli_nine_classes_in_two_features_finish_with_their_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # more classes than the 8-colour palette: the boundary figure raised IndexError and
    # the run ended without summary.json
    rng = np.random.default_rng(1)
    rows = [f"{c + 0.5 * rng.random():.3f},{rng.random():.3f},{c}" for c in np.arange(90) % 9]
    path = _write(tmp_path, "x0,x1,label\n" + "\n".join(rows) + "\n")
    run = tmp_path / "run"
    argv = ["train", "--dataset", str(path), "--loss", "cross_entropy", "--epochs", "30"]
    code, _, err = _cli(capsys, *argv, "--print-every", "0", "--no-progress", "--out", str(run))
    assert code == 0 and err == [f"run saved to {run}"]
    assert json.loads((run / "summary.json").read_text())["epochs_run"] == 30
    for figure in ("decision_boundary.png", "confusion_matrix.png"):
        assert (run / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_label_column_of_measurements_is_refused(tmp_path: Path) -> None:
    """The default label is the last column; a feature there made one class per value."""
    rows = "\n".join(f"{i % 2},{0.25 + i / 7:.4f}" for i in range(40))
    path = _write(tmp_path, "species,width\n" + rows + "\n")
    with pytest.raises(
        CsvError,
        match=r"label column 'width' holds non-integer numbers \(0.25 on line 2, 40 distinct "
        r"such values\).*choose the label column by name or index \(--label\)",
    ):
        load_csv(path)
    data = load_csv(path, label="species")  # the right column works
    assert data.classes == [0, 1] and data.feature_names == ["width"]
    path = _write(tmp_path, "a,b\n0.1,1.0\n0.2,2.0\n0.3,inf\n", "inf.csv")
    with pytest.raises(CsvError, match=r"holds non-integer numbers \(inf on line 4"):
        load_csv(path)
    assert load_csv(_write(tmp_path, "a,b\n0.1,1.0\n0.2,2.0\n", "ok.csv")).classes == [1, 2]


def test_a_label_column_of_whole_number_values_is_refused(tmp_path: Path) -> None:
    # csv18: house prices in the last column made 100 classes of one row each (accuracy
    # 1 %); an ID column as the label, 60 classes
    rows = "\n".join(f"{50 + i},{100_000 + 997 * i}" for i in range(30))
    path = _write(tmp_path, "size_m2,price\n" + rows + "\n")
    with pytest.raises(CsvError) as err:
        load_csv(path)
    assert str(err.value) == (
        f"{path}: label column 'price' holds 30 distinct whole numbers in 30 rows ('100000' on "
        "line 2, ...): as classes they would have about one row each; if they are values to "
        "predict, say --task regression; if the label is another column, choose it with --label"
    )
    values = load_csv(path, values=True)  # --task regression reads them as they are
    assert values.y[-1, 0] == 100_000 + 997 * 29
    # twenty classes of two rows each are classes still (fewer than half the rows)
    rows = "\n".join(f"{i},{i % 20}" for i in range(41))
    assert len(load_csv(_write(tmp_path, "x,c\n" + rows + "\n", "c.csv")).classes) == 20


def test_a_header_with_a_number_among_its_names_is_explained(tmp_path: Path) -> None:
    # a whole number among names is a name (csv23 H1: x1,2,label is a header); a decimal
    # there is a measurement, so line 1 is data with a word in it, and says so
    path = _write(tmp_path, "x1,2.5,label\n0.5,1.5,0\n1.0,2.0,1\n")
    with pytest.raises(
        CsvError,
        match=r"line 1, column '0': 'x1' is not a number \(line 1 was read as data because "
        r"some of its cells are numbers; if it is a header, name every column with text\)",
    ):
        load_csv(path)
    # a bad cell further down says only what is wrong there (and what such a cell may be)
    path = _write(tmp_path, "0.5,1.5,0\n1.0,oops,1\n", "b.csv")
    with pytest.raises(
        CsvError,
        match=r"line 2, column '1': 'oops' is not a number \(only the label column may hold "
        r"names: [^()]*\(0/1 for two kinds\), or leave it out \(--drop-columns 1\)\)$",
    ):
        load_csv(path)


# --- mutation-testing gaps: labels, header sniffing and the parse cache -----------------


def test_numeric_labels_are_numbered_in_sorted_order(tmp_path: Path) -> None:
    data = load_csv(_write(tmp_path, "1,9\n2,3\n3,5\n4,3\n5,9\n"))
    assert data.classes == [3, 5, 9]
    np.testing.assert_array_equal(data.y[:, 0], [2, 0, 1, 0, 2])


def test_a_negative_label_index_leaves_the_other_columns_as_features(tmp_path: Path) -> None:
    data = load_csv(_write(tmp_path, "a,lab,b\n1,0,10\n2,1,20\n"), label=-2)
    assert data.label_name == "lab" and data.feature_names == ["a", "b"]
    np.testing.assert_array_equal(data.x, [[1.0, 10.0], [2.0, 20.0]])
    np.testing.assert_array_equal(data.y[:, 0], [0, 1])


@pytest.mark.parametrize("missing", ["nan", "NaN", "NA", "null", ""])
def test_a_missing_label_is_refused(tmp_path: Path, missing: str) -> None:
    path = _write(tmp_path, f"x,y\n1,a\n2,{missing}\n3,b\n")
    with pytest.raises(CsvError, match=r"line 3, column 'y': missing label$"):
        load_csv(path)


def test_the_header_is_judged_by_the_columns_numeric_on_the_second_line(tmp_path: Path) -> None:
    # the label column is named "0", but it holds text: the numeric columns (judged by the
    # second line) have names in line 1, so line 1 is the header
    data = load_csv(_write(tmp_path, "a,b,0\n1,2,yes\n3,4,no\n"))
    assert data.feature_names == ["a", "b"] and data.label_name == "0"
    assert data.classes == ["no", "yes"] and data.x.shape == (2, 2)


def test_the_same_file_read_with_another_label_column_is_parsed_again(tmp_path: Path) -> None:
    path = _write(tmp_path, "p,q,r\n1,0,5\n2,1,5\n3,1,6\n")
    by_last, by_first = load_csv(path), load_csv(path, label="q")
    assert by_last.label_name == "r" and by_first.label_name == "q"
    np.testing.assert_array_equal(by_first.x, [[1.0, 5.0], [2.0, 5.0], [3.0, 6.0]])
    np.testing.assert_array_equal(by_first.y[:, 0], [0, 1, 1])


def test_comment_lines_are_skipped_wherever_they_are(tmp_path: Path) -> None:
    # np.loadtxt's convention: a line starting with # (after blanks) is a comment
    text = "# two features\n# and a label\na;b;y\n1;2;0\n  # halfway\n3;4;1\n#\n5;6;0\n"
    data = load_csv(_write(tmp_path, text))
    np.testing.assert_array_equal(data.x, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(data.y[:, 0], [0, 1, 0])
    assert data.feature_names == ["a", "b"] and data.label_name == "y"  # ';' found past them


# ---------------------------------------------------------------- from mutation testing


def test_a_hash_inside_a_line_is_data_not_a_comment(tmp_path: Path) -> None:
    # only a line that starts with # is a comment: a label "C#" keeps its row
    path = _write(tmp_path, "a,b,lang\n1,2,C#\n3,4,Go\n")
    data = load_csv(path)
    assert data.classes == ["C#", "Go"] and data.x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_a_misspelt_label_name_gets_the_nearest_column(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """``--label Species`` for a column ``species`` named every column but not the one."""
    path = _write(tmp_path, "sepal_length,sepal_width,species\n1,2,a\n2,3,b\n3,1,a\n")
    columns = "(columns: sepal_length, sepal_width, species)"
    with pytest.raises(CsvError) as info:
        load_csv(path, label="Species")
    assert str(info.value) == (
        f"{path}: label column 'Species' not found {columns}; did you mean 'species'?"
    )
    code, out, err = _cli(capsys, "train", "--dataset", str(path), "--label", "spieces")
    assert (code, out) == (2, [])
    assert err == [
        # the --label asked for is wrong, not the file: the error names --label
        f"proplab train: error: argument --label: {path}: label column 'spieces' not found "
        f"{columns}; did you mean 'species'?"
    ]
    # nothing near: no guess; an index out of range is no misspelt name ('10' is not '1')
    with pytest.raises(CsvError) as info:
        load_csv(path, label="colour")
    assert str(info.value) == f"{path}: label column 'colour' not found {columns}"
    headerless = _write(tmp_path, "1,2,0\n3,4,1\n", name="bare.csv")
    with pytest.raises(CsvError) as info:
        load_csv(headerless, label=10)
    # cli20 L10: an index out of range said "not found", as a missing name does
    assert str(info.value) == (
        f"{headerless}: label column index 10 is out of range: the file has 3 columns "
        "(0 to 2, or -3 to -1 from the end: 0, 1, 2)"
    )


def test_an_ambiguous_label_is_blamed_on_the_label_not_the_dataset(tmp_path: Path) -> None:
    # mutation testing: the ambiguous name, like a missing one, is --label's problem
    from proplab import dataload
    from proplab.config import ConfigError, RunConfig
    from proplab.csvdata import CsvLabelError

    path = _write(tmp_path, "x,label,label\n0.1,0.7,0\n0.9,0.2,1\n0.3,0.8,0\n0.8,0.1,1\n")
    with pytest.raises(CsvLabelError):
        load_csv(path, label="label")
    with pytest.raises(ConfigError) as err:
        dataload.load_named(RunConfig(dataset=str(path), label="label"))
    assert str(err.value).startswith(f"label: {path}: label column 'label' is ambiguous")


def test_a_run_on_a_csv_file_records_which_output_is_which_class(tmp_path: Path) -> None:
    # a reloaded model.npz had no way to name its predictions: the class names, in output
    # order, and the feature columns go into summary.json
    from proplab.config import RunConfig
    from proplab.experiments import run_one

    rows = "".join(
        f"{i % 3},{(i * 7) % 5},{['virginica', 'setosa', 'versicolor'][i % 3]}\n" for i in range(30)
    )
    path = _write(tmp_path, "width,length,species\n" + rows)
    cfg = RunConfig(
        dataset=str(path), loss="cross_entropy", output_activation="identity", epochs=5,
        print_every=0,
    )  # fmt: skip
    summary = run_one(cfg, tmp_path / "run", quiet=True, progress=False, figures=False)
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["classes"] == ["setosa", "versicolor", "virginica"] == summary["classes"]
    assert saved["features"] == ["width", "length"] and saved["label_column"] == "species"
    assert saved["classes"] == load_csv(path).classes  # the order training used
    lab = run_one(RunConfig(dataset="xor", epochs=2, print_every=0), tmp_path / "xor",
                  quiet=True, progress=False, figures=False)  # fmt: skip
    assert "classes" not in lab


def test_csv_summary_of_a_file_gone_since_training_is_empty(tmp_path: Path) -> None:
    from proplab.config import RunConfig
    from proplab.dataload import csv_summary

    path = _write(tmp_path, "a,b,c\n1,2,x\n3,4,y\n")
    cfg = RunConfig(dataset=str(path))
    assert csv_summary(cfg)["classes"] == ["x", "y"]
    # now a single class (unreadable for training), and a new size: the cache keys on it
    path.write_text("a,b,c\n1,2,x\n3,4,x\n5,6,x\n")
    assert csv_summary(cfg) == {}
    path.unlink()
    assert csv_summary(cfg) == {}
    assert csv_summary(RunConfig(dataset="xor")) == {}


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("171,3", "a decimal comma? proplab reads a decimal point (171.3)"),
        ("1.234,5", "thousands '.' and a decimal ','? write 1234.5"),
        ("61,814", "61.814 with a decimal comma, or 61814 with a thousands separator? write "),
        ("1,234,567", "thousands separators? write the number without them"),
        ("57%", "drop the % sign"),
        ("$12.50", "drop the currency sign"),
        ("2024-01-01", "a date? leave the column out (--drop-columns x)"),
        ("female", "only the label column may hold names"),
    ],
)
def test_a_cell_that_is_no_number_gets_a_hint_of_what_it_is(tmp_path, cell, hint):
    # csv18: what a spreadsheet exports was refused with "'171,3' is not a number" alone
    path = _write(tmp_path, f"x;y\n1.0;0\n{cell};1\n2.0;0\n")  # as a spreadsheet exports
    with pytest.raises(CsvError) as err:
        load_csv(path)
    message = str(err.value)
    assert "line 3, column 'x': " in message and f"({hint}" in message


def test_a_question_mark_is_missing_and_labels_differing_in_case_are_refused(tmp_path):
    with pytest.raises(CsvError, match=r"line 3, column 'x': missing value \(\?\); fill it in"):
        load_csv(_write(tmp_path, "x,y\n1.0,0\n?,1\n2.0,0\n"))
    with pytest.raises(CsvError, match=r"line 3, column 'y': missing label$"):
        load_csv(_write(tmp_path, "x,y\n1.0,no\n2.0,?\n3.0,yes\n", "q.csv"))
    # "yes" and "Yes" made two classes of one (a yes/no file trained a 5-output network)
    path = _write(tmp_path, "x,smoker\n1.0,yes\n2.0,no\n3.0,Yes\n4.0,no\n", "case.csv")
    with pytest.raises(CsvError) as err:
        load_csv(path)
    assert str(err.value) == (
        f"{path}: label column 'smoker' has 'yes' (line 2) and 'Yes' (line 4), which differ "
        "only in case: spell them alike"
    )


def test_a_class_too_rare_to_split_is_named_by_the_file_s_label(tmp_path, capsys) -> None:
    # scale19 L6: "class 0 has 1 row(s)" where class 0 is the file's 'chargeback'
    from proplab import cli

    rows = ["a,b,label"] + [f"{i},{i % 7},{'ok' if i % 3 else 'fraud'}" for i in range(30)]
    path = tmp_path / "rare.csv"
    path.write_text("\n".join([*rows, "99,1,chargeback"]) + "\n")
    argv = ["train", "--dataset", str(path), "--test-fraction", "0.2", "--epochs", "1"]
    assert cli.main([*argv, "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert capsys.readouterr().err == (
        f"proplab train: error: argument --test-fraction: {path}: class 'chargeback' has 1 "
        "row(s); a train/test split needs at least 2 of every class\n"
    )
