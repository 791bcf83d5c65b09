"""CSV datasets: a round trip through a written file, and one clear message per bad input."""

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


def test_headerless_numeric_labels_last_column_by_default(tmp_path: Path) -> None:
    path = _write(tmp_path, "0.5;1.5;2\n\n1.0;-2.0;7\n3.0;4.0;2\n")  # ';' and a blank line
    data = load_csv(path)
    np.testing.assert_array_equal(data.x, [[0.5, 1.5], [1.0, -2.0], [3.0, 4.0]])
    assert data.classes == [2, 7]
    np.testing.assert_array_equal(data.y[:, 0], [0, 1, 0])
    assert data.feature_names == ["0", "1"] and data.label_name == "2"
    # the label chosen by index, negative from the end, or its text
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
        ("a,b,y\n1,2,1\n3,4,1\n", {}, r"label column 'y' has a single class \(1\)"),
        ("a,b,y\n1,2,0\n3,4\n", {}, r"line 3 has 2 cells, expected 3"),
        (
            "a,b,y\n1,2,0\n3,4,1\n",
            {"label": "z"},
            r"label column 'z' not found \(columns: a, b, y\)",
        ),
        ("a,b,y\n", {}, r"has a header but no data rows"),
        ("\n\n", {}, r"the file is empty"),
        ("1\n2\n", {}, r"needs at least 2 columns"),
    ],
)
def test_bad_input_is_named(tmp_path: Path, text: str, kwargs: dict, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CsvError, match=message) as info:
        load_csv(path, **kwargs)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match=r"nope.csv: no such file"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(CsvError, match="is a directory"):
        load_csv(tmp_path)
