"""Your own data: a CSV file of feature columns and one label column.

``load_csv("data.csv", label="species")`` reads every column but the label as a
float feature and turns the label column into class indices ``0..C-1`` (the
sorted distinct labels, numbers or strings). Bad input stops here with a
:class:`CsvError` whose one-line message names the file, the line and the
column: a missing file, a ragged row, a cell that is not a number, a missing
value (empty, NA, NaN or inf), a label column with a single class.

Header: by default the first line is a header when every one of its cells in
the numeric columns (judged by the second line) is not a number, so
``x1,x2,label`` is a header and ``5.1,3.5,setosa`` is data; also when names stand
beside whole numbers that can only be names (pandas' ``0,1,...,63,label``, or
``1990,2000,rich``: see :func:`_looks_like_header`). A first line that may be either
is refused, never guessed. Pass ``header=True/False`` to decide. Without a header the columns are named by
their 0-based index (``"0"``, ``"1"``, ...). ``label`` is a column name, an
index (``-1``, the default, is the last column) or its string form. ``drop``
names columns to leave out (names or indices, as ``label``): an ID, a name, a
date; their cells are never read as numbers. A kept column must have a name of its own
in the header (an unnamed first column is pandas' row index); a delimiter ending every
line makes no column. Blank lines and lines starting
with ``#`` (comments) are skipped, but for a line starting with a spreadsheet's error
value (``#N/A``, ``#DIV/0!``: a row with a bad cell, refused if the cell is read) and a
comment before the first row that is its header (``# x1,x2,label`` as np.savetxt
writes it, ``#,height,weight``: :func:`_commented_header`). In a file delimited by ';'
or a tab, a column of numbers with a decimal comma (``5,1``, a spreadsheet's export) is
read with the comma as the decimal point (:func:`_decimal_commas`).

:func:`proplab.csvtable.read_table` reads a file the same way but keeps its cells as text,
no column taken for a label (``proplab predict`` picks a run's input columns from it by name).

Two readers, one result: a plain file is read in bulk (NumPy's C parser for the
feature columns, the label rules checked on the distinct labels), anything else and
every bad file cell by cell (:func:`_parse_cells`, the reference, which words the
messages); tests/test_csv_bulk.py holds them to the same result.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import os
import re
import shlex
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from proplab.checks import did_you_mean


class CsvError(ValueError):
    """The CSV file cannot be used; the message says where and why, in one line."""


class CsvDropError(CsvError):
    """A column asked to be dropped is not in the file, is the label, or leaves no input."""


class CsvLabelError(CsvError):
    """The label column asked for is not in the file, or not one column."""


class CsvFractionalLabelError(CsvError):
    """The label column holds fractions, which no class is: a value to predict, or a
    feature taken for the label (the caller knows whether --task classification said so)."""


@dataclass
class CsvDataset:
    """A loaded CSV: ``x (n, d)`` float64 features, ``y (n, 1)`` int64 class indices
    (float64 values for a regression, ``load_csv(values=True)``).

    ``classes[k]`` is the label value that index ``k`` stands for (empty for values).
    ``columns`` are every column of the file in order (inputs, label and dropped ones),
    named by their 0-based index when ``header`` is False.
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[float | int | str]
    feature_names: list[str]
    label_name: str
    path: str
    columns: list[str] = field(default_factory=list)
    header: bool = True

    @property
    def dropped_names(self) -> list[str]:
        """The columns left out (``drop``), in file order."""
        kept = {*self.feature_names, self.label_name}
        return [c for c in self.columns if c not in kept]


# cells that spreadsheets and pandas write for "no value" (float() reads "nan" itself)
_MISSING_WORDS = ("nan", "na", "n/a", "null", "none", "?")

# the error values a spreadsheet writes for a formula that failed: a line starting with one is
# a row with a bad cell, never a comment (#N/A in column 1 dropped its row silently; csv23 H4)
_SPREADSHEET_ERROR = r"#(N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)"
_STARTS_WITH_ERROR = re.compile(_SPREADSHEET_ERROR + r"(?![\w/!?])")


def _comment(stripped: str) -> bool:
    """Whether a line (``stripped``: its text without surrounding blanks) is a comment: it
    starts with '#', and not with a spreadsheet's error value."""
    return stripped[:1] == "#" and not _STARTS_WITH_ERROR.match(stripped)


# what a cell that is no number usually is, and what to do about it (the first that fits);
# a spreadsheet export writes these (csv18)
_NOT_A_NUMBER_HINTS = (
    (_SPREADSHEET_ERROR, "a spreadsheet's error value: fix the formula in the spreadsheet, or "
     "drop the row"),
    (r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?", "thousands '.' and a decimal ','? write 1234.5"),
    # one comma before three digits: a decimal comma (a ';' file of them: 96,573 kg) as
    # much as a thousands separator; "write it without them" turned 96.573 into 96573
    (r"[-+]?\d{1,3},\d{3}", "{point} with a decimal comma, or {whole} with a thousands "
     "separator? write the one it is"),
    (r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", "thousands separators? write the number without them"),
    (r"[-+]?\d*,\d+", "a decimal comma? proplab reads a decimal point (171.3): export the file "
     "with '.' as the decimal separator"),
    (r"[-+]?[\d.]+\s*%", "drop the % sign (57% is 57, or 0.57)"),
    (r"[$€£¥]\s*[-+]?[\d.,]+|[-+]?[\d.,]+\s*[$€£¥]", "drop the currency sign"),
    (r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}.*",
     "a date? leave the column out (--drop-columns {column}), or turn it into a number "
     "(days since a start)"),
    (r".*[^\W\d_].*", "only the label column may hold names: code this column as numbers "
     "in the file (0/1 for two kinds), or leave it out (--drop-columns {column})"),
)  # fmt: skip


def _column(names: list[str], j: int) -> str:
    """Column ``j`` as a message names it: ``'weight'``, or its position when the header
    left it unnamed (a trailing comma on every line makes an unnamed, empty last column)."""
    if names[j]:
        return repr(names[j])
    why = ": a trailing comma?" if j == len(names) - 1 else ""
    return f"{j + 1} (no name in the header{why})"


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _missing_label(cell: str) -> bool:
    """An empty label cell, a missing word ("NA", "?"), or any spelling of NaN ("-nan",
    "+NaN": a class no row could equal, which crashed the line lookup; review19)."""
    if not cell or cell.lower() in _MISSING_WORDS:
        return True
    number = _number(cell)
    return number is not None and math.isnan(number)


# a decimal comma (5,1), as a spreadsheet exports numbers where the comma is the decimal
# separator, in a file delimited by ';' or a tab (there it holds no delimiter; csv23 M4)
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_WHOLE = re.compile(r"[-+]?\d+")
# a comma that may as well group thousands (1,234 or 12,500): never read as a decimal point
_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2},\d{3}")


def _decimal_commas(rows: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """``rows`` (of a file delimited by ';' or a tab) with each decimal comma read as a
    point (``5,1`` -> ``5.1``) in the columns of such numbers: a column whose cells, but
    for missing ones and the first row's (a header, maybe), are all whole numbers or
    numbers with a decimal comma, and whose decimal commas are not all like a thousands
    separator (``1,234``: refused, not guessed). Any other column is left as it is, its
    decimal commas refused with a hint, as a comma-delimited file's are."""
    width = max((len(cells) for _, cells in rows), default=0)

    def column(j: int, part: list[tuple[int, list[str]]]) -> list[str]:
        return [cells[j] for _, cells in part if j < len(cells)]

    def decimal(j: int) -> bool:
        commas = [c for c in column(j, rows) if _DECIMAL_COMMA.fullmatch(c)]
        if not commas or all(_THOUSANDS.fullmatch(c) for c in commas):
            return False
        return all(
            not c
            or c.lower() in _MISSING_WORDS
            or _WHOLE.fullmatch(c)
            or _DECIMAL_COMMA.fullmatch(c)
            for c in column(j, rows[1:] if len(rows) > 1 else rows)
        )

    columns = [j for j in range(width) if any("," in c for c in column(j, rows)) and decimal(j)]
    for _, cells in rows:
        for j in columns:
            if j < len(cells) and _DECIMAL_COMMA.fullmatch(cells[j]):
                cells[j] = cells[j].replace(",", ".")
    return rows


DELIMITERS = (",", ";", "\t")  # the ones a file may use, the comma first (it wins a tie)


def _split(line: str, delimiter: str) -> list[str]:
    """``line``'s cells at ``delimiter``, stripped, quotes read as the csv module reads them."""
    try:
        cells = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:  # a NUL: as many cells as the delimiter makes
        cells = line.split(delimiter)
    return [cell.strip() for cell in cells]


def _sniff_delimiter(first: str, second: str | None = None) -> str:
    """The delimiter of a file whose first two lines that are no comment are ``first`` and
    ``second`` (None: it has one): of ',', ';' and tab, those in ``first`` that split
    ``second`` into as many cells (when any does), the one that splits ``first`` into the
    most cells; then the one whose cells are more often numbers (``5,1;3,5`` splits into
    two cells at either, but into numbers at ';', its decimal commas read as points); a
    tie goes to the comma. ``size, cm;label`` over ``171.3;1`` is split at ';': the
    comma, one more on line 1 than on line 2, is in a name (csv23 L1)."""
    found = [d for d in DELIMITERS if d in first]
    if not found:
        return ","
    lines = [first] if second is None else [first, second]
    cells = {d: [_split(line, d) for line in lines] for d in found}
    agree = [d for d in found if len({len(row) for row in cells[d]}) == 1]

    def numbers(d: str) -> int:
        return sum(
            _number(c) is not None or (d != "," and bool(_DECIMAL_COMMA.fullmatch(c)))
            for row in cells[d]
            for c in row
        )

    # max() keeps the first of equal keys: the comma, DELIMITERS' first
    return max(agree or found, key=lambda d: (len(cells[d][0]), numbers(d)))


def _delimiter_name(delimiter: str) -> str:
    """``';'``, or ``a tab``, as a message names the delimiter."""
    return "a tab" if delimiter == "\t" else repr(delimiter)


def _read_rows(
    path: Path,
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, list[str]]], str]:
    """Non-blank rows that are not comments, with their 1-based line numbers; the
    comments before the first row, split into cells as rows are (one may be a header:
    :func:`_commented_header`); and the delimiter."""
    if not path.exists():
        raise CsvError(f"{path}: no such file")
    if path.is_dir():
        raise CsvError(f"{path}: is a directory, not a CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    # a line starting with # is a comment (as np.loadtxt reads them); blanked, not
    # dropped, so the reader's line numbers stay the file's
    lines = text.splitlines()
    comments = [_comment(line.strip()) for line in lines]
    content = (ln for ln, c in zip(lines, comments, strict=True) if ln.strip() and not c)
    first = next(content, None)
    if first is None:
        raise CsvError(f"{path}: the file is empty")
    delimiter = _sniff_delimiter(first, next(content, None))
    leading = []
    for number, (line, comment) in enumerate(zip(lines, comments, strict=True), 1):
        if line is first:
            break
        if comment:
            leading.append(
                (number, [c.strip() for c in next(csv.reader([line], delimiter=delimiter))])
            )
    reader = csv.reader(
        ("" if c else line for line, c in zip(lines, comments, strict=True)), delimiter=delimiter
    )
    rows = []
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append((reader.line_num, [cell.strip() for cell in row]))
    if delimiter != ",":  # Excel's export where the comma is the decimal separator
        rows = _decimal_commas(rows)
    return rows, leading, delimiter


def _commented_header(
    leading: list[tuple[int, list[str]]], rows: list[tuple[int, list[str]]]
) -> tuple[int, list[str]] | None:
    """The header of a file whose names are in a comment (``# x1,x2,label``, as
    np.savetxt writes a header; ``#,height,weight``, a first column named '#'), as
    ``(line, names)``: the last comment before the first row with as many cells, when
    that row is data and the comment's cells, its '#' taken off, are a header over it
    (csv23 H4: such a header was skipped, its file read without names). None otherwise."""
    width = len(rows[0][1])
    if width < 2 or _looks_like_header(rows):
        return None
    found = next((c for c in reversed(leading) if len(c[1]) == width), None)
    if found is None:
        return None
    line, cells = found
    names = [cells[0][1:].strip() or cells[0], *cells[1:]]
    return (line, names) if _looks_like_header([(line, names), rows[0]]) else None


# a column name in a header whose other names are numbers: it has a letter and is no
# missing word ("NA") nor a spreadsheet's error value ("#N/A"), which a data row may hold
_NAME = re.compile(r"(?!#).*[^\W\d_].*")
# a number a header may have for a name: a year, pandas' column number (no sign, no point)
_NUMBER_NAME = re.compile(r"\d+")


def _looks_like_header(rows: list[tuple[int, list[str]]]) -> bool:
    """Whether the first of ``rows`` (the file's first two) is a header, judged by the
    columns that hold a number on the second: a header when every one of its cells there
    is no number (``x1,x2,label``), or when it has names there beside whole numbers that
    can only be names (``0,1,...,63,label``, pandas' header of an unnamed frame;
    ``1990,2000,rich``; csv23 H1), or when its numbers are pandas' column numbers
    ``0,1,2,3,...`` (4 or more) and the rest names. Data otherwise (``5.1,3.5,setosa``; ``5.1,abc,0``, whose bad cell
    is then named)."""
    first = rows[0][1]
    probe = rows[1][1] if len(rows) > 1 else first
    numeric_columns = [
        j for j, cell in enumerate(probe) if j < len(first) and _number(cell) is not None
    ]
    if not numeric_columns:  # nothing numeric to compare: a header if no cell is a number
        return all(_number(cell) is None for cell in first)
    cells = [first[j] for j in numeric_columns]
    texts = [c for c in cells if _number(c) is None]
    if len(texts) == len(cells):
        return True
    numbers = [c for c in first if _number(c) is not None]
    if not texts:  # numbers where the data has numbers: data, but for pandas' column
        # numbers 0, 1, 2, 3, ... (4 or more: a row of data 0,1 is no rarity)
        return len(numeric_columns) >= 4 and all(
            cell == str(j) or (_number(cell) is None and _NAME.fullmatch(cell))
            for j, cell in enumerate(first)
        )
    # names beside numbers: a header when the names are names (not "NA", "#N/A", "") and
    # the numbers distinct whole numbers (a row of measurements holds decimals), and the
    # numbers are the columns' numbers or the last column (the label's) has a name: a row
    # of whole numbers with a word in a feature column ("3,abc,0") is data, its cell bad
    indices = all(first[j] == str(j) for j in numeric_columns if _number(first[j]) is not None)
    return (
        all(_NAME.fullmatch(c) and c.lower() not in _MISSING_WORDS for c in texts)
        and all(_NUMBER_NAME.fullmatch(c) for c in numbers)
        and len(set(numbers)) == len(numbers)
        and (indices or numeric_columns[-1] == len(first) - 1 and first[-1] in texts)
    )


@dataclass(frozen=True)
class _Role:
    """How messages name a column asked for by name or index, and the error they raise."""

    name: str  # "label column 'x' not found"
    it: str  # "give the label as a column index"
    index: str  # "label column index 9 is out of range" ({} is the index)
    error: type[CsvError]


_LABEL = _Role("label column", "the label", "label column index {}", CsvLabelError)
_DROPPED = _Role("column to drop", "it", "the index {} to drop", CsvDropError)


def _label_column(
    label: str | int | None, names: list[str], path: Path, role: _Role = _LABEL
) -> int:
    """The 0-based index of column ``label`` (a name, else an index; None: the last), or
    ``role.error`` naming what is wrong (a column to drop is looked up the same way)."""
    if label is None:
        return len(names) - 1
    text = str(label).strip()
    matches = [j for j, name in enumerate(names) if name == text]
    if len(matches) > 1:  # taking the first would silently train on another column
        raise role.error(
            f"{path}: {role.name} {text!r} is ambiguous: columns {matches} (0-based) all have "
            f"that name; rename them or give {role.it} as a column index"
        )
    if matches:
        return matches[0]
    try:  # ASCII digits only: int() also reads '١' and '1_0' (verify20, as the flags)
        index = int(text) if text.isascii() and "_" not in text else None
    except ValueError:
        index = None
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    if index is not None:  # no misspelt name ('10' is not '1'): an index out of range
        n = len(names)
        raise role.error(
            f"{path}: {role.index.format(index)} is out of range: the file has {n} columns "
            f"(0 to {n - 1}, or -{n} to -1 from the end: {', '.join(names)})"
        )
    # a misspelt name gets the nearest column's ('Species' -> 'species')
    raise role.error(
        f"{path}: {role.name} {text!r} not found (columns: {', '.join(names)})"
        + did_you_mean(text, names)
    )


def _check_label_spellings(
    cells: list[str], data: list[tuple[int, list[str]]], path: Path, name: str
) -> None:
    """Refuse labels that differ only in case ('yes' and 'Yes'): they made two classes of
    one, silently (a yes/no file trained a 5-output network; csv18)."""
    first: dict[str, tuple[str, int]] = {}
    for (line, _), cell in zip(data, cells, strict=True):
        seen = first.setdefault(cell.lower(), (cell, line))
        if seen[0] != cell:
            raise CsvError(
                f"{path}: label column {name!r} has {seen[0]!r} (line {seen[1]}) and {cell!r} "
                f"(line {line}), which differ only in case: spell them alike"
            )


# a label column of at least this many distinct whole numbers, with about one row each (at
# least half as many classes as rows), is taken for values (prices, counts) or IDs
MANY_CLASSES = 20


def _class_values(cells: list[str]) -> tuple[list[float | int | str], dict[str, int]]:
    """Sorted distinct labels (numerically when every label is a number) and a cell -> index map."""
    numbers = [v for v in map(_number, cells) if v is not None]
    if len(numbers) == len(cells):  # every label a number
        distinct = sorted(set(numbers))
        classes: list[float | int | str] = [int(v) if v.is_integer() else v for v in distinct]
        position = {v: k for k, v in enumerate(distinct)}
        return classes, {c: position[v] for c, v in zip(cells, numbers, strict=True)}
    distinct_text = sorted(set(cells))
    return list(distinct_text), {c: k for k, c in enumerate(distinct_text)}


# Parsed files, keyed by what they were read with and the file's identity
# (path, size, modification time): a sweep plans every run's data in its parent
# process, and 60 runs on one 20 000-row file would otherwise parse it 60 times
# (~0.3 s each). A few files only: this is for repeated loads, not a data store.
_PARSED: dict[tuple, CsvDataset] = {}
_PARSED_MAX = 4


# A read this slow, or of a file this big, is told to whoever listens (reads_reported): a
# 143 MB file was read for 23 s without a word (scale19). The library prints nothing itself.
READ_NOTE_SECONDS = 1.0
READ_NOTE_BYTES = 10_000_000
_LISTENERS: list[tuple[int, Callable[[str], object]]] = []


@contextlib.contextmanager
def reads_reported(say: Callable[[str], object]) -> Iterator[None]:
    """Within the block, each CSV file read (parsed, not taken from the cache) that took
    over ``READ_NOTE_SECONDS`` or is over ``READ_NOTE_BYTES`` is told to ``say`` in one
    line: the file, its size, what it held and how long it took. Reads in this process
    only: a forked worker's line would cut through a sweep's progress line."""
    entry = (os.getpid(), say)
    _LISTENERS.append(entry)
    try:
        yield
    finally:
        _LISTENERS.remove(entry)


def _tell(path: Path, size: int, seconds: float, what: str) -> None:
    """Say (see :func:`reads_reported`) that ``path`` (``size`` bytes) was read."""
    if not _LISTENERS or (seconds <= READ_NOTE_SECONDS and size <= READ_NOTE_BYTES):
        return
    pid, say = _LISTENERS[-1]
    if pid == os.getpid():
        say(f"read {path} ({_megabytes(size)}): {what}, in {seconds:.1f} s")


def _megabytes(size: int) -> str:
    if size >= 10_000_000:
        return f"{size / 1e6:,.0f} MB"
    return f"{size / 1e6:.1f} MB" if size >= 1_000_000 else f"{size / 1e3:.0f} kB"


def load_csv(
    path: str | Path,
    label: str | int | None = None,
    header: bool | None = None,
    values: bool = False,
    drop: Sequence[str | int] = (),
) -> CsvDataset:
    """Read ``path`` into features ``x (n, d)`` float64 and class indices ``y (n, 1)`` int64.

    ``d`` counts every column but the label and the ``drop`` columns (names or
    indices): a student's file often holds an ID or a name that is no input.

    With ``values=True`` (a regression: ``--task regression``) the label column
    holds the numbers to predict: ``y (n, 1)`` float64 as they are, and
    ``classes`` is empty.

    Raises :class:`CsvError` (a ValueError) with the line and column of the
    first bad cell, or the reason the file as a whole cannot be used. A file
    read before and unchanged since (same size and modification time) is not
    parsed again; the arrays returned are always the caller's own copies.
    """
    path = Path(path)
    try:
        stat = path.stat()
        drop = tuple(drop)
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, label, header, values, drop)
    except OSError:
        key = None  # _read_rows says what is wrong with the path
    parsed = _PARSED.get(key) if key is not None else None
    if parsed is None:
        began = time.perf_counter()
        parsed = _parse(path, label, header, values, tuple(drop))
        n, d = parsed.x.shape
        what = f"{len(parsed.classes)} classes" if not values else "values to predict"
        size = key[1] if key is not None else 0
        _tell(path, size, time.perf_counter() - began, f"{n:,} rows x {d} features, {what}")
        if key is not None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.pop(next(iter(_PARSED)))  # the oldest
            _PARSED[key] = parsed
    return CsvDataset(
        x=parsed.x.copy(),
        y=parsed.y.copy(),
        classes=list(parsed.classes),
        feature_names=list(parsed.feature_names),
        label_name=parsed.label_name,
        path=parsed.path,
        columns=list(parsed.columns),
        header=parsed.header,
    )


def _table(
    path: Path, header: bool | None
) -> tuple[list[str], list[tuple[int, list[str]]], bool, int, str]:
    """The file's column names, its data rows ``(line, cells)`` (unchecked), whether its
    first row was a header, the line number of that first row, and the delimiter."""
    rows, leading, delimiter = _read_rows(path)
    if len(rows[0][1]) > 2 and all(cells[-1] == "" for _, cells in rows):
        # a delimiter at the end of every line (header too): an empty last column, which
        # holds nothing; it was taken for the default label (csv23 M1)
        rows = [(line, cells[:-1]) for line, cells in rows]
    if header is None:
        commented = _commented_header(leading, rows)
        if commented is not None:
            rows = [commented, *rows]
        header = commented is not None or _looks_like_header(rows)
    width = len(rows[0][1])
    names = rows[0][1] if header else [str(j) for j in range(width)]
    data = rows[1:] if header else rows
    return names, data, header, rows[0][0], delimiter


def _check_rows(
    path: Path,
    names: list[str],
    rows: list[tuple[int, list[str]]],
    first_line: int,
    delimiter: str,
) -> None:
    """Refuse a file with no data rows, or a row of another width than the first (named
    with the delimiter the cells were split at: the wrong one, maybe)."""
    if not rows:
        raise CsvError(f"{path}: has a header but no data rows")
    width = len(names)
    for line, cells in rows:
        if len(cells) != width:
            raise CsvError(
                f"{path}: line {line} has {len(cells)} cells, expected {width} "
                f"(like line {first_line}; the delimiter is {_delimiter_name(delimiter)})"
            )


def _parse(
    path: Path,
    label: str | int | None,
    header: bool | None,
    values: bool,
    drop: tuple[str | int, ...] = (),
) -> CsvDataset:
    """The file read in bulk when it is plain (:func:`_parse_bulk`), else cell by cell
    (:func:`_parse_cells`, which also words every message); the same result either way."""
    fast = _parse_bulk(path, label, header, values, drop)
    return fast if fast is not None else _parse_cells(path, label, header, values, drop)


def _feature_columns(
    drop: Sequence[str | int], names: list[str], target: int, path: Path
) -> list[int]:
    """The input columns: every one but the label (``target``) and the ``drop`` columns
    (each a name or an index, resolved as the label is); :class:`CsvDropError` names a
    column that is not there, the label, or a drop that leaves no input."""
    dropped: set[int] = set()
    for spec in drop:
        j = _label_column(spec, names, path, _DROPPED)  # the label's look-up, its own words
        if j == target:
            raise CsvDropError(
                f"{path}: column {names[j]!r} is the label column, which is never an input; "
                "drop only input columns"
            )
        dropped.add(j)
    features = [j for j in range(len(names)) if j != target and j not in dropped]
    if not features:
        raise CsvDropError(
            f"{path}: dropping {', '.join(repr(names[j]) for j in sorted(dropped))} leaves no "
            f"input column (columns: {', '.join(names)}; label {names[target]!r})"
        )
    _check_kept_names(names, sorted([*features, target]), target, path)
    return features


def _check_kept_names(names: list[str], kept: list[int], target: int, path: Path) -> None:
    """Refuse a kept column (an input, the label) without a name in the header, and two
    of one name: the run would record the name twice, and predict, which finds a run's
    inputs by name, could not tell them apart (it took one column for both; csv23 H2).
    An unnamed first column is most often pandas' index (``to_csv()`` without
    ``index=False``): the row numbers, which give the class away on a sorted file (H5)."""
    for j in kept:
        if not names[j]:
            what = "the label column" if j == target else "an input"
            why = ""
            if j == 0:
                why = " (pandas' row index? to_csv writes it unless index=False)"
            elif j == len(names) - 1:
                why = " (a delimiter ending some lines?)"
            fix = "name it" if j == target else f"leave it out (--drop-columns {j}) or name it"
            raise CsvError(f"{path}: column {j + 1}, {what}, has no name in the header{why}: {fix}")
    first: dict[str, int] = {}
    for j in kept:
        k = first.setdefault(names[j], j)
        if k != j:
            raise CsvError(
                f"{path}: columns {k} and {j} (0-based) are both named {names[j]!r}; rename "
                f"one in the header, or leave one out (--drop-columns {j})"
            )


def _text_left_out(cells: list[str], features: list[int], target: int) -> int | None:
    """The first dropped column whose cell in ``cells`` is no number, or None."""
    return next(
        (
            j
            for j, c in enumerate(cells)
            if j != target and j not in features and _number(c) is None
        ),
        None,
    )


def _column_numbers(cells: list[str], features: list[int]) -> bool:
    """Whether a row's input cells are their columns' numbers (``0,1,...``), as pandas
    names the columns of a frame without names."""
    return len(features) >= 2 and all(cells[j] == str(j) for j in features)


def _check_first_row(
    data: list[tuple[int, list[str]]],
    features: list[int],
    target: int,
    names: list[str],
    path: Path,
) -> None:
    """Refuse a first row guessed to be data (some of its cells are numbers) that has text in
    a dropped column: ``country,1990,2000,rich`` is a header whose one text input was the
    only thing that showed it (review20); dropped, the header trained as a row. Refuse it
    too when its inputs are the columns' numbers ``0,1`` and its label is on no other row:
    pandas' header ``0,1,class`` would train as a row of a class of its own (csv23 H1)."""
    line, cells = data[0]
    if _column_numbers(cells, features) and all(c[target] != cells[target] for _, c in data[1:]):
        raise CsvError(
            f"{path}: line {line} ({','.join(cells)}) looks like a header (pandas names the "
            f"columns of a frame without names 0, 1, ...): its label {cells[target]!r} is on "
            "no other line; if it is a header, name every column with text (in pandas, "
            "give the frame column names); if it is data, add a header line"
        )
    j = _text_left_out(cells, features, target)
    if j is not None:
        cell = cells[j]
        raise CsvError(
            f"{path}: line {line}, column {_column(names, j)}: {cell!r} is not a number, in "
            f"a column left out: line {line} was read as data because some of its cells "
            "are numbers; if it is a header, name every column with text; if it is data, "
            "add a header line"
        )


def _parse_cells(
    path: Path,
    label: str | int | None,
    header: bool | None,
    values: bool,
    drop: tuple[str | int, ...] = (),
) -> CsvDataset:
    """The reference reader: every cell checked one at a time in Python, each problem named
    by its line and column. :func:`_parse_bulk` must give the same result; it hands
    every file it cannot vouch for (and every bad one) to this."""
    guessed = header is None
    names, data, header, first_line, delimiter = _table(path, header)
    width = len(names)
    if width < 2:
        raise CsvError(
            f"{path}: needs at least 2 columns (features and a label), line {first_line} has {width}"
        )
    _check_rows(path, names, data, first_line, delimiter)
    target = _label_column(label, names, path)
    features = _feature_columns(drop, names, target, path)
    if guessed and not header:
        _check_first_row(data, features, target, names, path)
    x = np.empty((len(data), len(features)))
    for i, (line, cells) in enumerate(data):
        for k, j in enumerate(features):
            try:
                x[i, k] = _feature_value(cells[j], path, line, names, j, label is None)
            except CsvError:
                if header or i > 0:
                    raise
                # "x1,2,label": a header with a number among its names reads as data (no
                # hint of what the cell is: it is a name)
                raise CsvError(
                    f"{path}: line {line}, column {_column(names, j)}: {cells[j]!r} is not a "
                    f"number (line {line} was read as data because some of its cells are "
                    "numbers; if it is a header, name every column with text)"
                ) from None
    label_cells = []
    for line, cells in data:
        cell = cells[target]
        if _missing_label(cell):
            raise CsvError(f"{path}: line {line}, column {_column(names, target)}: missing label")
        if re.fullmatch(_SPREADSHEET_ERROR, cell):  # no class: a formula that failed
            raise CsvError(
                f"{path}: line {line}, column {_column(names, target)}: {cell!r} is a "
                "spreadsheet's error value, no label: fix the formula in the spreadsheet, or "
                "drop the row"
            )
        label_cells.append(cell)
    if values:  # a regression's targets: numbers, as they are
        for (line, _), cell in zip(data, label_cells, strict=True):
            if _number(cell) is None:  # not "leave the column out": it is the label (M5)
                raise CsvError(
                    f"{path}: line {line}, column {_column(names, target)}: the label "
                    f"{cell!r} is not a number, and a regression (--task regression) "
                    "predicts numbers; if the labels are classes, leave out --task regression"
                    + (
                        ""
                        if label is not None
                        else "; if the label is another column, choose it with --label"
                    )
                )
        y = np.array(
            [
                _feature_value(cell, path, line, names, target)
                for (line, _), cell in zip(data, label_cells, strict=True)
            ]
        ).reshape(-1, 1)
        return CsvDataset(
            x=x,
            y=y,
            classes=[],
            feature_names=[names[j] for j in features],
            label_name=names[target],
            path=str(path),
            columns=list(names),
            header=header,
        )
    _check_label_spellings(label_cells, data, path, names[target])
    classes, index = _class_values(label_cells)
    fractional = [c for c in classes if isinstance(c, float)]
    if fractional:
        # the default label is the last column: a measurement there would silently
        # make one class per distinct value (40 rows, 40 classes, 2.5 % accuracy)
        line = next(
            ln
            for (ln, _), cell in zip(data, label_cells, strict=True)
            if _number(cell) == fractional[0]
        )
        count = "" if len(fractional) == 1 else f", {len(fractional)} distinct such values"
        raise CsvFractionalLabelError(
            f"{path}: label column {names[target]!r} holds non-integer numbers ({fractional[0]!r} "
            f"on line {line}{count}): class labels are integers or names; if it is a feature, "
            "choose the label column by name or index (--label); if it is a value to predict, "
            "say --task regression"
        )
    numeric = all(isinstance(c, int) for c in classes)
    if numeric and len(classes) >= MANY_CLASSES and 2 * len(classes) >= len(label_cells):
        # whole-number values (prices, counts, IDs) made one class per row, silently:
        # 100 houses, 100 classes, 1 % accuracy (csv18)
        raise CsvError(
            f"{path}: label column {names[target]!r} holds {len(classes)} distinct whole "
            f"numbers in {len(label_cells)} rows ({label_cells[0]!r} on line {data[0][0]}, ...): "
            "as classes they would have about one row each; if they are values to predict, "
            "say --task regression; if the label is another column, choose it with --label"
        )
    if len(classes) < 2:
        if len(label_cells) == 1:  # csv23 L4: the class is not the trouble
            raise CsvError(
                f"{path}: has a single data row (line {data[0][0]}); training needs rows of "
                "at least 2 classes"
            )
        raise CsvError(
            f"{path}: label column {names[target]!r} has a single class ({classes[0]!r}); "
            "classification needs at least 2 classes"
        )
    y = np.array([index[c] for c in label_cells], dtype=np.int64).reshape(-1, 1)
    return CsvDataset(
        x=x,
        y=y,
        classes=classes,
        feature_names=[names[j] for j in features],
        label_name=names[target],
        path=str(path),
        columns=list(names),
        header=header,
    )


# --- the bulk reader ---------------------------------------------------------------------
# A 200 000 x 100 file (143 MB) took 23 s and 1.8 GB cell by cell: every cell a Python str in
# a list of lists, every one checked in Python (scale19). The bulk reader streams the lines
# to NumPy's C parser for the feature columns and keeps only the label cells as text, and
# gives up (returns None) on anything it cannot read exactly as _parse_cells does: quotes
# spanning lines, a ragged or bad row, a cell that is no finite number, any label rule
# broken. _parse_cells then reads the file again and words the message.

# characters str.splitlines() (which _read_rows splits the text with) breaks a line at but
# reading a file line by line does not, and NUL (a NumPy string drops it from a label's end)
_ODD_CHARACTERS = re.compile("[\x00\v\f\x1c-\x1e\x85\u2028\u2029]")


class _NotPlain(Exception):
    """The bulk reader cannot vouch for reading this file as :func:`_parse_cells` does."""


def _line_cells(line: str, delimiter: str) -> list[str]:
    """One line's cells, stripped, as :func:`_read_rows` splits them (the csv module
    for a line with quotes); :class:`_NotPlain` when a quoted cell goes on to the next line."""
    line = line.rstrip("\n")
    if '"' not in line:
        return [cell.strip() for cell in line.split(delimiter)]
    reader = csv.reader([line, ""], delimiter=delimiter)
    cells = next(reader)
    if reader.line_num != 1:
        raise _NotPlain
    return [cell.strip() for cell in cells]


def _label_cell(line: str, delimiter: str, target: int, width: int) -> str:
    """Cell ``target`` of a ``line`` of ``width`` cells split at every delimiter, as it is,
    split off from the nearer end (a label in the last of 101 columns costs one split, not 100)."""
    if 2 * target < width:
        return line.split(delimiter, target + 1)[target]
    return line.rsplit(delimiter, width - target)[target - width]


def _content_lines(lines: Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """The lines that may hold cells, each with its 1-based line number and its stripped
    text: blank lines and comments skipped, but for the comments before the first row (one
    may be a header: :func:`_head` looks); :class:`_NotPlain` at a character that
    str.splitlines() breaks a line at (the line numbers would no longer be the file's)."""
    row = False
    for number, line in enumerate(lines, 1):
        if _ODD_CHARACTERS.search(line):
            raise _NotPlain
        stripped = line.strip()
        if stripped and not (row and stripped[0] == "#" and _comment(stripped)):
            row = row or not _comment(stripped)
            yield number, line, stripped


def _empty_cells(stripped: str, delimiter: str) -> bool:
    """A row of empty cells (",,,"), skipped as a blank line is (``stripped``: the line's
    stripped text)."""
    return stripped[0] == delimiter and not stripped.replace(delimiter, "").strip()


@dataclass
class _Head:
    """What a file's first two rows say: the delimiter, whether the first is a header, the
    column names, and those of the two that are data rows, as ``(line, cells)``."""

    delimiter: str
    header: bool
    names: list[str]
    rows: list[tuple[int, list[str]]]


def _head(content: Iterator[tuple[int, str, str]], header: bool | None) -> _Head:
    """The head of a file (:class:`_Head`), read from :func:`_content_lines` (the rest is
    left in it), the header judged as :func:`_table` does; :class:`_NotPlain` for a file
    without a row."""
    probe: list[tuple[int, str]] = []  # the first two lines that are no comment
    leading: list[str] = []  # the comments before them
    for number, line, stripped in content:
        if not probe and _comment(stripped):
            leading.append(line)
            continue
        probe.append((number, line))
        if len(probe) == 2:
            break
    if not probe:
        raise _NotPlain  # no row
    delimiter = _sniff_delimiter(probe[0][1], probe[1][1] if len(probe) > 1 else None)
    first: list[tuple[int, list[str]]] = []  # the first two rows: the header is judged by them
    for number, line in itertools.chain(probe, ((n, line) for n, line, _ in content)):
        cells = _line_cells(line, delimiter)
        if any(cells):
            first.append((number, cells))
            if len(first) == 2:
                break
    if not first or all(cells[-1] == "" for _, cells in first):
        raise _NotPlain  # no row; a delimiter ending every line (_table takes it off)
    if delimiter != "," and any("," in cell for _, cells in first for cell in cells):
        raise _NotPlain  # a decimal comma? (_decimal_commas, which needs every row)
    if header is None:
        if len(first[0][1]) > 1 and any(
            len(_line_cells(line, delimiter)) == len(first[0][1]) for line in leading
        ):
            raise _NotPlain  # a header in a comment? (_commented_header, cell by cell)
        header = _looks_like_header(first)
    width = len(first[0][1])
    names = first[0][1] if header else [str(j) for j in range(width)]
    return _Head(delimiter, header, names, first[1:] if header else first)


def _joined(cells: list[str], delimiter: str, width: int) -> str:
    """A row's cells as one line NumPy splits back into them; :class:`_NotPlain` for a row
    of another width, or a (quoted) cell holding the delimiter."""
    if len(cells) != width or any(delimiter in cell for cell in cells):
        raise _NotPlain
    return delimiter.join(cells)


def _parse_bulk(
    path: Path,
    label: str | int | None,
    header: bool | None,
    values: bool,
    drop: tuple[str | int, ...] = (),
) -> CsvDataset | None:
    """:func:`_parse_cells`'s result for a plain file, read in bulk; None for any file it
    cannot vouch for, or that breaks a rule (the per-cell reader says which)."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            return _read_bulk(file, path, label, header, values, drop)
    except (_NotPlain, OSError, ValueError):  # ValueError: NumPy's, a decoding error, CsvError
        return None


def _read_bulk(
    lines: Iterable[str],
    path: Path,
    label: str | int | None,
    header: bool | None,
    values: bool,
    drop: tuple[str | int, ...] = (),
) -> CsvDataset:
    """The body of :func:`_parse_bulk`; raises :class:`_NotPlain` (or a ValueError) to give up."""
    lines = iter(lines)
    head = _head(_content_lines(lines), header)  # the rest of the file is left in lines
    names, delimiter, width = head.names, head.delimiter, len(head.names)
    if width < 2:
        raise _NotPlain
    target = _label_column(label, names, path)
    features = _feature_columns(drop, names, target, path)
    if header is None and not head.header and head.rows:
        # a header guessed to be data: _check_first_row's case, worded by the per-cell reader
        cells = head.rows[0][1]
        if _text_left_out(cells, features, target) is not None or _column_numbers(cells, features):
            raise _NotPlain
    labels: list[str] = []

    def rows() -> Iterator[str]:
        """The data lines as NumPy reads them; each one's label cell goes to ``labels``."""
        for _, cells in head.rows:
            text = _joined(cells, delimiter, width)
            labels.append(cells[target])
            yield text
        # the rules of _content_lines and _empty_cells, inline: a call per line took 13 %
        # longer on 400 000 short rows
        commas = delimiter != ","  # a comma may be a decimal one: read cell by cell
        for line in lines:
            if _ODD_CHARACTERS.search(line) or (commas and "," in line):
                raise _NotPlain
            stripped = line.strip()
            if not stripped or (stripped[0] == "#" and _comment(stripped)):
                continue  # a blank line, a comment
            if stripped[0] == delimiter and not stripped.replace(delimiter, "").strip():
                continue  # a row of empty cells (",,,"), skipped as a blank line is
            plain = line.count(delimiter) == width - 1
            cell = _label_cell(line, delimiter, target, width) if plain else ""
            if plain and cell.count('"') == line.count('"'):
                # no quotes, or in the label cell only (R quotes every text cell): the
                # feature cells are NumPy's, the label is the csv module's
                labels.append(_line_cells(cell, delimiter)[0] if '"' in cell else cell.strip())
                yield line
            elif '"' in line:  # quoted feature cells: the csv module splits the line
                cells = _line_cells(line, delimiter)
                if not any(cells):
                    continue
                text = _joined(cells, delimiter, width)
                labels.append(cells[target])
                yield text
            else:
                raise _NotPlain  # a ragged row

    data = rows()
    first = next(data, None)
    if first is None:  # no data rows (NumPy would warn)
        raise _NotPlain
    x = np.loadtxt(
        itertools.chain([first], data),
        delimiter=delimiter,
        comments=None,
        usecols=features,
        ndmin=2,
        dtype=np.float64,
    )
    if x.shape != (len(labels), len(features)) or not in_range(x):
        raise _NotPlain
    if values:  # float() of each, as _feature_value; a missing word is no finite float
        y = np.array([float(cell) for cell in labels], dtype=np.float64).reshape(-1, 1)
        if not in_range(y):
            raise _NotPlain
        return CsvDataset(
            x, y, [], [names[j] for j in features], names[target], str(path), names, head.header
        )
    classes, y = _bulk_classes(labels)
    return CsvDataset(
        x, y, classes, [names[j] for j in features], names[target], str(path), names, head.header
    )


def _bulk_classes(labels: list[str]) -> tuple[list[float | int | str], np.ndarray]:
    """:func:`_class_values` and the class indices ``(n, 1)`` for ``labels``, the rules of
    :func:`_parse_cells` checked on the distinct labels only; :class:`_NotPlain` if one fails."""
    distinct, inverse = np.unique(np.array(labels), return_inverse=True)
    texts: list[str] = distinct.tolist()
    if any(_missing_label(t) or re.fullmatch(_SPREADSHEET_ERROR, t) for t in texts):
        raise _NotPlain  # a missing label, a spreadsheet's error value
    if len({t.lower() for t in texts}) < len(texts):
        raise _NotPlain  # labels differing only in case
    numbers = [v for v in map(_number, texts) if v is not None]
    classes: list[float | int | str]
    if len(numbers) == len(texts):  # sorted by value: "1" and "1.0" are one class
        ordered = sorted(set(numbers))
        position = {v: k for k, v in enumerate(ordered)}
        classes = [int(v) if v.is_integer() else v for v in ordered]
        index = np.array([position[v] for v in numbers], dtype=np.int64)[inverse]
    else:
        classes, index = list(texts), inverse.astype(np.int64)
    numeric = all(isinstance(c, int) for c in classes)
    if (
        any(isinstance(c, float) for c in classes)  # fractional labels
        or (numeric and len(classes) >= MANY_CLASSES and 2 * len(classes) >= len(labels))
        or len(classes) < 2
    ):
        raise _NotPlain
    return classes, index.reshape(-1, 1)


# the largest magnitude a cell may hold: 1e300 was read, and its square (in the standard
# deviation of --standardize and the input note) overflowed to a traceback (csv23 H3)
LARGEST = 1e150


def in_range(x: np.ndarray) -> bool:
    """Whether every value of ``x`` is a number a cell may hold (finite, within ``LARGEST``)."""
    return bool((np.abs(x) <= LARGEST).all())


def _feature_value(
    cell: str, path: Path, line: int, names: list[str], j: int, label_guessed: bool = False
) -> float:
    """``cell`` (of column ``j``) as a float, or a :class:`CsvError` naming the line and
    the column (``label_guessed``: the label column was not given, so a column of names
    may be it: the hint says ``--label`` first). The message is built only when raising: building it for each of a big
    file's 20 million good cells took half of a 23 s read (scale19)."""
    try:
        value = float(cell)
    except ValueError:
        value = None
    if value is not None and abs(value) <= LARGEST:  # and not NaN
        return value
    where = f"{path}: line {line}, column {_column(names, j)}"
    if not cell:
        raise CsvError(f"{where}: missing value (empty cell); fill it in or drop the row")
    if cell.lower() in _MISSING_WORDS[1:]:  # "NA", "null": a missing value, not a typo
        raise CsvError(f"{where}: missing value ({cell}); fill it in or drop the row")
    if value is None:
        hint = next((h for pattern, h in _NOT_A_NUMBER_HINTS if re.fullmatch(pattern, cell)), "")
        # not format(): a name may hold braces; quoted as a shell takes it ('patient name')
        hint = hint.replace("{column}", shlex.quote(names[j]))
        hint = hint.replace("{point}", cell.replace(",", ".")).replace(
            "{whole}", cell.replace(",", "")
        )
        if label_guessed and hint.startswith("only the label column"):
            # the label in the first column: "leave it out" dropped the labels (csv23 M2)
            hint = hint.replace(
                "names: ", f"names: if it is the label, say --label {shlex.quote(names[j])}; else "
            )
        raise CsvError(f"{where}: {cell!r} is not a number" + (f" ({hint})" if hint else ""))
    if math.isfinite(value):
        raise CsvError(
            f"{where}: {cell!r} is too large to train on (the limit is ±1e150: a square, "
            "which a standard deviation and the loss take, would overflow); a typing error, "
            "or a code for 'no value'? fix the cell or drop the row"
        )
    kind = "missing value (NaN)" if math.isnan(value) else "infinite value"
    raise CsvError(f"{where}: {kind} {cell!r}; fill it in or drop the row")
