"""The bulk CSV reader against its per-cell twin: the same dataset from every plain file,
and for any other file no answer of its own (the per-cell reader words the message)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proplab import csvdata
from proplab.csvdata import CsvDataset, CsvError, load_csv


def _write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    # bytes as given: no newline translation, so CRLF and a BOM reach the reader
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _parse_args(tmp_path: Path, text: str | bytes, kwargs: dict) -> tuple:
    """The file written, and both readers' arguments: (path, label, header, values, drop)."""
    path = _write(tmp_path, text)
    return (
        path,
        kwargs.get("label"),
        kwargs.get("header"),
        kwargs.get("values", False),
        tuple(kwargs.get("drop", ())),
    )


def _assert_same(fast: CsvDataset, slow: CsvDataset) -> None:
    """Equal arrays of equal dtypes and shapes, and equal classes of equal Python types."""
    for a, b in ((fast.x, slow.x), (fast.y, slow.y)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))
    assert fast.classes == slow.classes
    assert [type(c) for c in fast.classes] == [type(c) for c in slow.classes]
    assert (fast.feature_names, fast.label_name, fast.path) == (
        slow.feature_names,
        slow.label_name,
        slow.path,
    )


def _random_file(rows: int, seed: int) -> str:
    """A file of numbers written every way float() reads them, with string labels."""
    rng = np.random.default_rng(seed)
    forms = ["{:.17g}", "{:e}", "{:+.3f}", " {:.6g} ", "{:.0f}.", "{:.2E}"]
    lines = ["id x1 ,x 2,species,x3"]
    for i in range(rows):
        a, b, c = rng.normal(scale=10.0 ** rng.integers(-5, 6), size=3)
        cells = [forms[(i + k) % len(forms)].format(v) for k, v in enumerate((a, b, c))]
        if cells[0].startswith("0.") and len(cells[0]) > 2:
            cells[0] = cells[0][1:]  # ".5"
        label = ["setosa", "versi color", "Virginica", "é-grec", "日本"][rng.integers(0, 5)]
        lines.append(f"{cells[0]},{cells[1]},{label},{cells[2]}")
        if i % 500 == 0:
            lines += ["# a comment", "", "  ,  ,, "]  # skipped: comment, blank, empty cells
    return "\n".join(lines) + "\n"


PLAIN = [
    # (file text, load_csv keyword arguments)
    ("a,b,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n", {}),
    (b"\xef\xbb\xbfa,b,y\r\n1.5,2,no\r\n-3,4e2,yes\r\n", {}),  # BOM and CRLF
    (b"a,b,y\r1.5,2,no\r-3,4e2,yes\r", {}),  # old Mac line ends
    ("0.5;1.5;2\n\n1.0;-2.0;7\n3.0;4.0;2\n", {}),  # ';', no header, numeric labels
    ("x\ty\tlabel\n 1.0 \t2\t a \n3\t 4 \tb\n", {}),  # tabs, blanks around cells
    ("# made by hand\na;b;y\n1;2;0\n  # halfway\n3;4;1\n#\n5;6;0\n", {}),
    ("a,b,lang\n1,2,C#\n3,4,Go\n", {}),  # a # inside a line is data
    ('"x1","x2","species"\n5.1,3.5,"setosa"\n"4.9","3.0","versicolor"\n', {}),  # R's quotes
    ('x,y\n1,"a ""quoted"" name"\n2,plain\n', {}),  # a doubled quote inside a quoted label
    ('a,lab,b\n1,"x",10\n2," y ",20\n3, "x",30\n4,x"z,1\n', {"label": "lab"}),  # quotes mid-row
    ("a,lab,b\n1,0,10\n2,1,20\n3,1,-0.0\n", {"label": "lab"}),  # the label in the middle
    ("a,lab,b\n1,0,10\n2,1,20\n", {"label": 0}),  # the label first
    ("a,lab,b\n1,0,10\n2,1,20\n", {"label": "-2"}),
    ("p,y\n1,1\n2,1.0\n3,2\n4,-1\n5,02\n", {}),  # "1" and "1.0" one class, sorted by value
    ("p,y\n1,1e1\n2,10\n3,2\n", {"header": True}),
    ("1,2,0\n3,4,1\n5,6,0\n", {"header": True}),  # the first line taken for names
    ("x1,x2,y\n1,2,0\n3,4,1\n", {}),
    ("a,b,price\n1,2,250000.5\n3,4,-12\n5,6,1e3\n", {"values": True}),  # regression
    ("a,b,y,\n1,2,0,9\n3,4,1,8\n", {"label": "y", "drop": [3]}),  # an unnamed column
    ("a,b,y\n1,2,0\n,,\n3,4,1\n\t\n", {}),  # a row of empty cells, a blank line
    ("a,b,y\n1,2,Yes please\n3,4,no\n", {}),
    ("a,b,y\n1,2,1e-400\n3,4,0\n", {"values": True}),  # underflow to 0 either way
    # columns left out: a name and an ID are never read as numbers, by name or by index
    ("id,name,h,w,y\n7,ann,1.5,2,no\n9,bo,3,4,yes\n", {"drop": ["id", "name"]}),
    ("id,name,h,w,y\n7,ann,1.5,2,no\n9,bo,3,4,yes\n", {"drop": [1, "-5"]}),
    ("7,ann,1.5,2,no\n9,bo,3,4,yes\n", {"drop": ["1"], "header": False}),
    ("h,when,y\n1.5,2024-01-02,0\n3,2024-02-03,1\n", {"drop": ["when"], "values": True}),
    (_random_file(3000, 0), {"label": "species"}),
    (_random_file(800, 1), {"label": 2, "header": True}),
]


@pytest.mark.parametrize(("text", "kwargs"), PLAIN)
def test_a_plain_file_reads_in_bulk_exactly_as_cell_by_cell(
    tmp_path: Path, text: str | bytes, kwargs: dict
) -> None:
    args = _parse_args(tmp_path, text, kwargs)
    path = args[0]
    fast, slow = csvdata._parse_bulk(*args), csvdata._parse_cells(*args)
    assert fast is not None, "the bulk reader gave up on a plain file"
    _assert_same(fast, slow)
    _assert_same(load_csv(path, **kwargs), slow)


# files the bulk reader must leave to the per-cell one (it cannot vouch for them, or
# they break a rule): load_csv's result or message is exactly the per-cell reader's
NOT_PLAIN = [
    ("a,b,y\n1,2,0\n1,1_000,1\n", {}),  # float() reads "1_000", NumPy does not
    ("a,b,y\n1,2,0\n1,٣.٥,1\n", {}),  # Arabic-Indic digits: the same
    ('a,b,y\n1,2,"x\n"\n3,4,z\n', {}),  # a quoted label going on to the next line
    ("a,b,y\n1,2,0\n3,4\v5,1\n", {}),  # \v: splitlines() breaks the line there
    ("a,b,y\n1,2,0\n3,4,1\u20285,6,0\n", {}),  # so does U+2028
    ("a,b,y\n1,2,0\n3,4,x\x00\n5,6,y\n", {}),  # NUL in a label
    ('a,b,y\n1,"2,5",0\n3,4,1\n', {}),  # a quoted cell holding the delimiter
    ('a,b,y\n1,2,"p,q"\n3,4,r\n', {}),  # a quoted label holding it
    ("a,b,y\n1,2,0\n1,zz,1\n", {}),
    ("a,b,y\n1,2,0\nNaN,2,1\n", {}),
    ("a,b,y\n1,inf,0\n1,2,1\n", {}),
    ("a,b,y\n1,2,0\n,2,1\n", {}),
    ("a,b,y\n1,2,0\n1,NA,1\n", {}),
    ("a,b,y\n1,2,0\n1,2,\n", {}),
    ("a,b,y\n1,2,0\n1,2,?\n", {}),
    ("a,b,y\n1,2,0\n1,2,nan\n", {}),
    ("a,b,y\n1,2,1\n3,4,1\n", {}),  # a single class
    ("a,b,y\n1,2,0\n3,4\n", {}),  # ragged
    ("a,b,y\n1,2,0\n3,4,1,5\n", {}),
    ("a,b,y\n1,2,0\n3,4,1\n5,6\n7,8,0\n", {}),  # the rows around it make a dataset
    ("a,b,y\n1,2,0\n3,4,1\n", {"label": "z"}),
    ("x,label,label\n0.1,0.7,0\n0.9,0.2,1\n", {"label": "label"}),
    ("a,b,y\n", {}),
    ("\n\n", {}),
    ("# only a comment\n\n", {}),
    ("1\n2\n", {}),
    ("x1,2.5,label\n0.5,1.5,0\n1.0,2.0,1\n", {}),  # a header read as data
    ("x,y\n1,yes\n2,no\n3,Yes\n", {}),  # labels differing in case
    ("x,y\n1,1E5\n2,1e5\n3,0\n", {}),
    ("x,y\n1,0.5\n2,1\n3,1.5\n", {}),  # fractional labels
    ("x,c\n" + "".join(f"{i},{100 + i}\n" for i in range(40)), {}),  # whole-number values
    ("a,b,price\n1,2,cheap\n3,4,5\n", {"values": True}),
    ("a,b,price\n1,2,inf\n3,4,5\n", {"values": True}),
    ("a,b,price\n1,2,NA\n3,4,5\n", {"values": True}),
    (b"a,b\n\xff\xd8\xff,1\n", {}),  # not UTF-8
    ('n,h,y\n"Smith, J",1,0\n"Li, K",2,1\n', {"drop": ["n"]}),  # a dropped cell holding ','
    ("id,h,y\n1,2,0\n2,3,1\n", {"drop": ["idd"]}),  # no such column
    ("id,h,y\n1,2,0\n2,3,1\n", {"drop": ["y"]}),  # the label
    ("id,h,y\n1,2,0\n2,3,1\n", {"drop": ["id", 1]}),  # no input left
    ("id,h,y\n1,2,0\n2,3,1\n", {"drop": [3]}),  # an index out of range
    ("id,h,y\n1,2,0\n2,x,1\n", {"drop": ["id"]}),  # a bad cell in a kept column
    # a header with numbers for names, its one text name in a dropped column (review20)
    ("country,1990,2000,rich\nChad,300,400,no\nPeru,500,700,yes\n", {"drop": [0]}),
]


@pytest.mark.parametrize(("text", "kwargs"), NOT_PLAIN)
def test_any_other_file_is_left_to_the_per_cell_reader(
    tmp_path: Path, text: str | bytes, kwargs: dict
) -> None:
    args = _parse_args(tmp_path, text, kwargs)
    path = args[0]
    assert csvdata._parse_bulk(*args) is None
    try:
        slow = csvdata._parse_cells(*args)
    except CsvError as exc:
        with pytest.raises(type(exc)) as info:
            load_csv(path, **kwargs)
        assert str(info.value) == str(exc)
    else:
        _assert_same(load_csv(path, **kwargs), slow)


def test_a_bad_cell_deep_in_a_big_file_is_named_by_line_and_column(tmp_path: Path) -> None:
    rows = [f"{i * 0.5},{i % 3},{'ab'[i % 2]}" for i in range(20_000)]
    rows[17_345] = "1.5,1;5,a"  # file line 17 347: the header is line 1
    path = _write(tmp_path, "u,v,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(CsvError) as info:
        load_csv(path)
    assert str(info.value) == f"{path}: line 17347, column 'v': '1;5' is not a number"
    rows[17_345] = "1.5,1,a"
    path = _write(tmp_path, "u,v,y\n" + "\n".join(rows) + "\n", "good.csv")
    assert load_csv(path).x[17_345].tolist() == [1.5, 1.0]


def test_a_plain_file_is_not_read_cell_by_cell(tmp_path: Path, monkeypatch) -> None:
    # the 23 s, 1.8 GB read of a 143 MB file (scale19) was the per-cell reader's
    def refuse(*args: object) -> None:
        raise AssertionError("read cell by cell")

    monkeypatch.setattr(csvdata, "_parse_cells", refuse)
    monkeypatch.setattr(csvdata, "_feature_value", refuse)
    data = load_csv(_write(tmp_path, _random_file(1000, 2)), label="species")
    assert data.x.shape == (1000, 3) and len(data.classes) == 5
