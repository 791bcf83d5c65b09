"""``proplab predict``'s table reader in bulk against cell by cell: the same table (names,
line numbers, cells, numbers) from every plain file, and for any other file no answer of
its own (the per-cell reader words the message)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_csv_bulk import NOT_PLAIN, PLAIN, _random_file, _write

from proplab import csvdata, csvtable
from proplab.csvdata import CsvError
from proplab.csvtable import CsvTable, read_table


def _numbers(table: CsvTable, columns: list[int]) -> tuple[str, object]:
    """``table.numbers(columns)`` as something to compare: its float64 bytes (signed zeros
    and all), or the message it raised."""
    try:
        x = table.numbers(columns)
    except CsvError as exc:
        return "error", str(exc)
    assert x.dtype == np.float64 and x.shape == (len(table), len(columns))
    return "numbers", x.tobytes()


def _assert_same(fast: CsvTable, slow: CsvTable) -> None:
    """The same names, header, rows (line numbers and cells) and numbers of every column,
    alone and all together."""
    assert (fast.names, fast.header, fast.path) == (slow.names, slow.header, slow.path)
    assert list(fast.lines) == list(slow.lines)
    assert [fast.cells(i) for i in range(len(fast))] == [slow.cells(i) for i in range(len(slow))]
    width = len(slow.names)
    for j in range(width):
        assert fast.column(j) == slow.column(j) == [slow.cells(i)[j] for i in range(len(slow))]
        assert _numbers(fast, [j]) == _numbers(slow, [j])
    assert _numbers(fast, list(range(width))[::-1]) == _numbers(slow, list(range(width))[::-1])


def _predict_files() -> list[str]:
    """Files as tests/test_predict.py gives them to ``proplab predict``."""
    rng = np.random.default_rng(20)
    h, w = rng.normal(170, 10, 30).tolist(), rng.normal(70, 8, 30).tolist()
    body = ["height,weight,kind"] + [
        f"{a!r},{b!r},{'tall' if a > 170 else 'short'}" for a, b in zip(h, w, strict=True)
    ]
    shuffled = ["# measured in 2024", "note;weight;height"] + [
        f"row {i};{b!r};{a!r}" for i, (a, b) in enumerate(zip(h, w, strict=True))
    ]
    pixels = [",".join(str(int(v)) for v in rng.integers(0, 17, 64)) for _ in range(20)]
    return [
        "\n".join(body) + "\n",
        "\ufeff" + "\n".join(shuffled) + "\n",
        "".join(f"{a!r},{b!r}\n" for a, b in rng.uniform(0, 1, (4, 2)).tolist()),  # no header
        "u,v,truth\n0.1,0.9,1\n0.9,0.1,1\n0.1,0.1,0\n",
        "\n".join(pixels) + "\n",
        "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
        "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,255\n",
        "1,2,3,4\n",
        "x1,x2\n0.1,abc\n",
        "height,kind\n170,tall\n",
        "height,weight,kind\n170,70,medium\n",
        "height,weight,prediction,p_short,p_tall\n170,70,tall,0.1,0.9\n",
        "x1,x2\n0.1,0.9\n",
        "170,70,tall\n",
    ]


TABLES = (
    [(text, {}) for text in _predict_files()]
    + PLAIN
    + [
        # a plain table need not be a dataset: text, empty and NA cells, one column
        ("x,note,y\n1,,NA\n2,two words,inf\n", {}),
        ("a\n1\n2\n", {}),
        ('a,b\n1,"say ""hi"""\n2,"x"\n', {}),
        ("a,b\n1,1_000\n2,٣\n", {}),  # float() reads them, NumPy does not: read cell by cell
    ]
)


@pytest.mark.parametrize(("text", "kwargs"), TABLES)
def test_a_plain_file_reads_in_bulk_exactly_as_cell_by_cell(
    tmp_path: Path, text: str | bytes, kwargs: dict
) -> None:
    path, header = _write(tmp_path, text), kwargs.get("header")
    fast, slow = csvtable._read_plain(path, header), csvtable._read_cells(path, header)
    assert fast is not None, "the bulk reader gave up on a plain file"
    assert fast.plain and not slow.plain
    _assert_same(fast, slow)
    _assert_same(read_table(path, header), slow)


# files the bulk reader leaves to the per-cell one: it cannot vouch for them, or they are bad
LEFT = (
    [
        ('a,b\n1,"x\ny"\n3,z\n', {}),  # a quoted cell going on to the next line
        ('a,b\n1,"2,5"\n3,4\n', {}),  # a quoted cell holding the delimiter
        ('a,b\n1,"p\x00q,r"\n', {}),  # and NUL
        ("a,b\n1,2\n3,4\v5\n", {}),  # \v: splitlines() breaks the line there
        ("a,b\n1,2\n3,4\u20285,6\n", {}),
        ("a,b\n1,2\n3\n", {}),  # ragged
        ("a,b\n1,2\n3,4,5\n", {}),
        ("a,b\n", {}),  # a header without rows
        ("1,2\n", {"header": True}),
        ("", {}),
        ("\n# only a comment\n", {}),
        (b"a,b\n\xff\xd8\xff,1\n", {}),  # not UTF-8
        ("a;b\n1,5;2\n", {}),  # a decimal comma, which needs every row (csv23 M4)
        ("a;b\n1.5;x,y\n", {}),  # any comma in a file delimited otherwise
    ]
    + NOT_PLAIN[2:8]  # its quotes, odd characters
)


@pytest.mark.parametrize(("text", "kwargs"), LEFT)
def test_any_other_file_is_left_to_the_per_cell_reader(
    tmp_path: Path, text: str | bytes, kwargs: dict
) -> None:
    path, header = _write(tmp_path, text), kwargs.get("header")
    assert csvtable._read_plain(path, header) is None
    try:
        slow = csvtable._read_cells(path, header)
    except CsvError as exc:
        with pytest.raises(CsvError) as info:
            read_table(path, header)
        assert str(info.value) == str(exc)
    else:
        _assert_same(read_table(path, header), slow)


def test_a_missing_file_or_a_folder_is_named_as_before(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match=r"none\.csv: no such file$"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(CsvError, match="is a directory, not a CSV file$"):
        read_table(tmp_path)


def test_a_cell_that_holds_any_character_keeps_its_row_whole(tmp_path: Path) -> None:
    # cell by cell, a row is its cells joined by a character none holds: NUL, ';' and ','
    # are this row's cells' characters
    path = _write(tmp_path, 'a,b,c\n"x\x00,;y",p q,1\n')
    table = read_table(path)
    assert not table.plain
    assert (len(table), table.cells(0)) == (1, ["x\x00,;y", "p q", "1"])
    assert (table.column(0), table.numbers([2]).tolist()) == (["x\x00,;y"], [[1.0]])


def _fuzz_file(rng: np.random.Generator) -> tuple[str, bool | None]:
    """A small file of cells of every kind predict meets, laid out every way the readers
    take (delimiters, line ends, a BOM, quotes, comments, blank and empty rows), sometimes
    ragged; and the header argument."""
    delimiter = str(rng.choice([",", ";", "\t"]))
    tokens = ["1", "-2.5", " 3e2 ", "+.5", "7.", "-0", "1e-400", "0x10", "1_000", "nan", "NA",
              "inf", "", "abc", "two words", "é", "#5", '"q"', '"a""b"', f'"{delimiter}"',
              '"x\ny"', "x\"z"]  # fmt: skip
    width = int(rng.integers(1, 5))
    lines = [delimiter.join(f"c{j}" for j in range(width))] if rng.random() < 0.6 else []
    numeric = rng.random() < 0.5  # mostly numbers, or any token
    for _ in range(int(rng.integers(1, 8))):
        n = width if rng.random() < 0.9 else width + int(rng.choice([-1, 1]))
        cells = [
            f"{rng.normal():.6g}" if numeric and rng.random() < 0.9 else str(rng.choice(tokens))
            for _ in range(max(n, 1))
        ]
        lines.append(delimiter.join(cells))
        extra = rng.random()
        if extra < 0.1:
            lines.append("  # a comment")
        elif extra < 0.2:
            lines.append(delimiter * (width - 1))
        elif extra < 0.3:
            lines.append("")
    ending = str(rng.choice(["\n", "\r\n", "\r"]))
    text = ("\ufeff" if rng.random() < 0.2 else "") + ending.join(lines) + ending
    return text, [None, None, True, False][int(rng.integers(0, 4))]


def test_random_files_read_alike_in_bulk_and_cell_by_cell(tmp_path: Path) -> None:
    rng = np.random.default_rng(2020)
    taken = left = 0
    for k in range(300):
        text, header = _fuzz_file(rng)
        path = _write(tmp_path, text, f"fuzz{k}.csv")
        fast = csvtable._read_plain(path, header)
        try:
            slow = csvtable._read_cells(path, header)
        except CsvError:
            assert fast is None, text  # a bad file is never the bulk reader's
            left += 1
            continue
        if fast is None:
            left += 1
        else:
            _assert_same(fast, slow)
            taken += 1
    assert taken > 100 and left > 30  # both paths were exercised


def test_a_plain_file_is_not_read_cell_by_cell(tmp_path: Path, monkeypatch) -> None:
    # cell by cell, a 50 MB file took 424 MB (review19 F3)
    def refuse(*args: object) -> None:
        raise AssertionError("read cell by cell")

    monkeypatch.setattr(csvtable, "_read_cells", refuse)
    monkeypatch.setattr(csvtable, "_feature_value", refuse)
    monkeypatch.setattr(csvdata, "_read_rows", refuse)
    table = read_table(_write(tmp_path, _random_file(1000, 2)))
    assert len(table) == 1000 and table.names == ["id x1", "x 2", "species", "x3"]
    x = table.numbers([3, 0])
    assert x.shape == (1000, 2) and np.isfinite(x).all()


def test_a_bad_cell_deep_in_a_big_file_is_named_by_line_and_column(tmp_path: Path) -> None:
    rows = [f"{i * 0.5},{i % 3},{'ab'[i % 2]}" for i in range(20_000)]
    rows[17_345] = "1.5,1;5,a"  # file line 17 349: the comment and the header before it
    path = _write(tmp_path, "# made today\n\nu,v,y\n" + "\n".join(rows) + "\n")
    table = read_table(path)
    assert table.plain and table.lines[17_345] == 17_349
    with pytest.raises(CsvError) as info:
        table.numbers([0, 1])
    assert str(info.value) == f"{path}: line 17349, column 'v': '1;5' is not a number"
    assert table.numbers([0])[17_345].tolist() == [1.5]
