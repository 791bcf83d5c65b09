"""Your own data: a CSV file of feature columns and one label column.

``load_csv("data.csv", label="species")`` reads every column but the label as a
float feature and turns the label column into class indices ``0..C-1`` (the
sorted distinct labels, numbers or strings). Bad input stops here with a
:class:`CsvError` whose one-line message names the file, the line and the
column: a missing file, a ragged row, a cell that is not a number, a missing
value (empty, NA, NaN or inf), a label column with a single class.

Header: by default the first line is a header when every one of its cells in
the numeric columns (judged by the second line) is not a number, so
``x1,x2,label`` is a header and ``5.1,3.5,setosa`` is data. Pass
``header=True/False`` to decide. Without a header the columns are named by
their 0-based index (``"0"``, ``"1"``, ...). ``label`` is a column name, an
index (``-1``, the default, is the last column) or its string form. Blank
lines and lines starting with ``#`` (comments) are skipped.

:func:`read_table` reads a file the same way but keeps its cells as text, no column
taken for a label (``proplab predict`` picks a run's input columns from it by name).

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
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proplab.checks import did_you_mean


class CsvError(ValueError):
    """The CSV file cannot be used; the message says where and why, in one line."""


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
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[float | int | str]
    feature_names: list[str]
    label_name: str
    path: str


# cells that spreadsheets and pandas write for "no value" (float() reads "nan" itself)
_MISSING_WORDS = ("nan", "na", "n/a", "null", "none", "?")

# what a cell that is no number usually is, and what to do about it (the first that fits);
# a spreadsheet export writes these (csv18)
_NOT_A_NUMBER_HINTS = (
    (r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?", "thousands '.' and a decimal ','? write 1234.5"),
    (r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", "thousands separators? write the number without them"),
    (r"[-+]?\d*,\d+", "a decimal comma? proplab reads a decimal point (171.3): export the file "
     "with '.' as the decimal separator"),
    (r"[-+]?[\d.]+\s*%", "drop the % sign (57% is 57, or 0.57)"),
    (r"[$€£¥]\s*[-+]?[\d.,]+|[-+]?[\d.,]+\s*[$€£¥]", "drop the currency sign"),
    (r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}.*",
     "a date? delete the column, or turn it into a number (days since a start)"),
    (r".*[^\W\d_].*", "only the label column may hold names: code this column as numbers "
     "in the file (0/1 for two kinds), or delete it"),
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


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank rows that are not comments, with their 1-based line numbers."""
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
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise CsvError(f"{path}: the file is empty")
    reader = csv.reader(lines, delimiter=_sniff_delimiter(first))
    rows = []
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append((reader.line_num, [cell.strip() for cell in row]))
    return rows


def _looks_like_header(rows: list[tuple[int, list[str]]]) -> bool:
    first = rows[0][1]
    probe = rows[1][1] if len(rows) > 1 else first
    numeric_columns = [
        j for j, cell in enumerate(probe) if j < len(first) and _number(cell) is not None
    ]
    if not numeric_columns:  # nothing numeric to compare: a header if no cell is a number
        return all(_number(cell) is None for cell in first)
    return all(_number(first[j]) is None for j in numeric_columns)


def _label_column(label: str | int | None, names: list[str], path: Path) -> int:
    if label is None:
        return len(names) - 1
    text = str(label).strip()
    matches = [j for j, name in enumerate(names) if name == text]
    if len(matches) > 1:  # taking the first would silently train on another column
        raise CsvLabelError(
            f"{path}: label column {text!r} is ambiguous: columns {matches} (0-based) all have "
            "that name; rename them or give the label as a column index"
        )
    if matches:
        return matches[0]
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    if index is not None:  # no misspelt name ('10' is not '1'): an index out of range
        n = len(names)
        raise CsvLabelError(
            f"{path}: label column index {index} is out of range: the file has {n} columns "
            f"(0 to {n - 1}, or -{n} to -1 from the end: {', '.join(names)})"
        )
    # a misspelt name gets the nearest column's ('Species' -> 'species')
    raise CsvLabelError(
        f"{path}: label column {text!r} not found (columns: {', '.join(names)})"
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
    numbers = [_number(c) for c in cells]
    if all(v is not None for v in numbers):
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
) -> CsvDataset:
    """Read ``path`` into features ``x (n, d)`` float64 and class indices ``y (n, 1)`` int64.

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
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, label, header, values)
    except OSError:
        key = None  # _read_rows says what is wrong with the path
    parsed = _PARSED.get(key) if key is not None else None
    if parsed is None:
        began = time.perf_counter()
        parsed = _parse(path, label, header, values)
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
    )


@dataclass
class CsvTable:
    """A CSV file's cells as text, read as :func:`load_csv` reads them: ``names`` (the
    header's, or ``"0"``, ``"1"``, ... without one), ``rows`` the data rows as ``(line,
    cells)`` with the file's 1-based line numbers, every row as wide as ``names``."""

    names: list[str]
    rows: list[tuple[int, list[str]]]
    header: bool
    path: Path

    def numbers(self, columns: Sequence[int]) -> np.ndarray:
        """The cells of ``columns`` (0-based) as floats ``(n, len(columns))``; a cell
        that is no finite number raises :class:`CsvError` naming its line and column."""
        try:  # every cell at once: the same float() as _feature_value, which names a bad one
            x = np.array(
                [[float(cells[j]) for j in columns] for _, cells in self.rows], dtype=np.float64
            ).reshape(len(self.rows), len(columns))
            if np.isfinite(x).all():
                return x
        except ValueError:
            pass
        x = np.empty((len(self.rows), len(columns)))
        for i, (line, cells) in enumerate(self.rows):
            for k, j in enumerate(columns):
                x[i, k] = _feature_value(cells[j], self.path, line, self.names, j)
        return x

    def column_name(self, j: int) -> str:
        """Column ``j`` as messages name it (``'weight'``, or its position when unnamed)."""
        return _column(self.names, j)


def _table(path: Path, header: bool | None) -> tuple[CsvTable, int]:
    """The file's names and data rows, unchecked, and the line number of its first row."""
    rows = _read_rows(path)
    if header is None:
        header = _looks_like_header(rows)
    width = len(rows[0][1])
    names = rows[0][1] if header else [str(j) for j in range(width)]
    data = rows[1:] if header else rows
    return CsvTable(names, data, header, path), rows[0][0]


def _check_rows(table: CsvTable, first_line: int) -> None:
    """Refuse a file with no data rows, or a row of another width than the first."""
    if not table.rows:
        raise CsvError(f"{table.path}: has a header but no data rows")
    width = len(table.names)
    for line, cells in table.rows:
        if len(cells) != width:
            raise CsvError(
                f"{table.path}: line {line} has {len(cells)} cells, expected {width} "
                f"(like line {first_line})"
            )


def read_table(path: str | Path, header: bool | None = None) -> CsvTable:
    """Read ``path`` as :func:`load_csv` does (delimiter, comments, BOM, the header
    guessed unless ``header`` says), keeping every cell as text; no column is a label.

    Raises :class:`CsvError` for a missing, empty or non-UTF-8 file, a header without
    data rows, or a ragged row.
    """
    began = time.perf_counter()
    table, first_line = _table(Path(path), header)
    _check_rows(table, first_line)
    what = f"{len(table.rows):,} rows x {len(table.names)} columns"
    _tell(table.path, table.path.stat().st_size, time.perf_counter() - began, what)
    return table


def _parse(path: Path, label: str | int | None, header: bool | None, values: bool) -> CsvDataset:
    """The file read in bulk when it is plain (:func:`_parse_bulk`), else cell by cell
    (:func:`_parse_cells`, which also words every message); the same result either way."""
    fast = _parse_bulk(path, label, header, values)
    return fast if fast is not None else _parse_cells(path, label, header, values)


def _parse_cells(
    path: Path, label: str | int | None, header: bool | None, values: bool
) -> CsvDataset:
    """The reference reader: every cell checked one at a time in Python, each problem named
    by its line and column. :func:`_parse_bulk` must give the same result; it hands
    every file it cannot vouch for (and every bad one) to this."""
    table, first_line = _table(path, header)
    names, data, header = table.names, table.rows, table.header
    width = len(names)
    if width < 2:
        raise CsvError(
            f"{path}: needs at least 2 columns (features and a label), line {first_line} has {width}"
        )
    _check_rows(table, first_line)
    target = _label_column(label, names, path)
    features = [j for j in range(width) if j != target]
    x = np.empty((len(data), len(features)))
    for i, (line, cells) in enumerate(data):
        for k, j in enumerate(features):
            try:
                x[i, k] = _feature_value(cells[j], path, line, names, j)
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
        label_cells.append(cell)
    if values:  # a regression's targets: numbers, as they are
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


def _parse_bulk(
    path: Path, label: str | int | None, header: bool | None, values: bool
) -> CsvDataset | None:
    """:func:`_parse_cells`'s result for a plain file, read in bulk; None for any file it
    cannot vouch for, or that breaks a rule (the per-cell reader says which)."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            return _read_bulk(iter(file), path, label, header, values)
    except (_NotPlain, OSError, ValueError):  # ValueError: NumPy's, a decoding error, CsvError
        return None


def _read_bulk(
    lines: Iterator[str], path: Path, label: str | int | None, header: bool | None, values: bool
) -> CsvDataset:
    """The body of :func:`_parse_bulk`; raises :class:`_NotPlain` (or a ValueError) to give up."""
    delimiter = ""
    first: list[list[str]] = []  # the first two rows: the header is judged by them
    for line in lines:
        if _ODD_CHARACTERS.search(line):
            raise _NotPlain
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        delimiter = delimiter or _sniff_delimiter(line)
        cells = _line_cells(line, delimiter)
        if any(cells):
            first.append(cells)
            if len(first) == 2:
                break
    if not first:
        raise _NotPlain
    if header is None:
        header = _looks_like_header([(0, cells) for cells in first])
    width = len(first[0])
    names = first[0] if header else [str(j) for j in range(width)]
    if width < 2:
        raise _NotPlain
    target = _label_column(label, names, path)
    labels: list[str] = []

    def rows() -> Iterator[str]:
        """The data lines as NumPy reads them; each one's label cell goes to ``labels``."""
        for cells in first[1:] if header else first:
            if len(cells) != width or any(delimiter in cell for cell in cells):
                raise _NotPlain
            labels.append(cells[target])
            yield delimiter.join(cells)
        for line in lines:
            if _ODD_CHARACTERS.search(line):
                raise _NotPlain
            stripped = line.strip()
            if not stripped or stripped[0] == "#":
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
                if len(cells) != width or any(delimiter in cell for cell in cells):
                    raise _NotPlain
                labels.append(cells[target])
                yield delimiter.join(cells)
            else:
                raise _NotPlain  # a ragged row

    data = rows()
    head = next(data, None)
    if head is None:  # no data rows (NumPy would warn)
        raise _NotPlain
    features = [j for j in range(width) if j != target]
    x = np.loadtxt(
        itertools.chain([head], data),
        delimiter=delimiter,
        comments=None,
        usecols=features,
        ndmin=2,
        dtype=np.float64,
    )
    if x.shape != (len(labels), len(features)) or not np.isfinite(x).all():
        raise _NotPlain
    if values:  # float() of each, as _feature_value; a missing word is no finite float
        y = np.array([float(cell) for cell in labels], dtype=np.float64).reshape(-1, 1)
        if not np.isfinite(y).all():
            raise _NotPlain
        return CsvDataset(x, y, [], [names[j] for j in features], names[target], str(path))
    classes, y = _bulk_classes(labels)
    return CsvDataset(x, y, classes, [names[j] for j in features], names[target], str(path))


def _bulk_classes(labels: list[str]) -> tuple[list[float | int | str], np.ndarray]:
    """:func:`_class_values` and the class indices ``(n, 1)`` for ``labels``, the rules of
    :func:`_parse_cells` checked on the distinct labels only; :class:`_NotPlain` if one fails."""
    distinct, inverse = np.unique(np.array(labels), return_inverse=True)
    texts: list[str] = distinct.tolist()
    if any(_missing_label(t) for t in texts):
        raise _NotPlain  # a missing label
    if len({t.lower() for t in texts}) < len(texts):
        raise _NotPlain  # labels differing only in case
    numbers = [_number(t) for t in texts]
    classes: list[float | int | str]
    if all(v is not None for v in numbers):  # sorted by value: "1" and "1.0" are one class
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


def _feature_value(cell: str, path: Path, line: int, names: list[str], j: int) -> float:
    """``cell`` (of column ``j``) as a float, or a :class:`CsvError` naming the line and
    the column. The message is built only when raising: building it for each of a big
    file's 20 million good cells took half of a 23 s read (scale19)."""
    try:
        value = float(cell)
    except ValueError:
        value = None
    if value is not None and math.isfinite(value):
        return value
    where = f"{path}: line {line}, column {_column(names, j)}"
    if not cell:
        raise CsvError(f"{where}: missing value (empty cell); fill it in or drop the row")
    if cell.lower() in _MISSING_WORDS[1:]:  # "NA", "null": a missing value, not a typo
        raise CsvError(f"{where}: missing value ({cell}); fill it in or drop the row")
    if value is None:
        hint = next((h for pattern, h in _NOT_A_NUMBER_HINTS if re.fullmatch(pattern, cell)), "")
        raise CsvError(f"{where}: {cell!r} is not a number" + (f" ({hint})" if hint else ""))
    kind = "missing value (NaN)" if math.isnan(value) else "infinite value"
    raise CsvError(f"{where}: {kind} {cell!r}; fill it in or drop the row")
