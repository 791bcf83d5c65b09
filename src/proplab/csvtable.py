"""``proplab predict``'s reader: a CSV file's cells as text, no column taken for a label.

:func:`read_table` reads a file as :func:`proplab.csvdata.load_csv` does (delimiter,
comments, BOM, quotes, the header guessed unless told) and keeps each data row as one
string; :meth:`CsvTable.numbers` reads the columns a model takes as floats, and a cell
that is no finite number is named by its line and column in load_csv's words.

Two readers, one table, as for load_csv: a plain file is read in bulk (its lines kept as
they are, the numbers parsed by NumPy's C parser), anything else and every bad file cell
by cell (csvdata's reference reader, which words the messages); tests/test_csv_table.py
holds them to the same table. Cell by cell, a 50 MB file took 424 MB (a Python string per
cell, in a list per row; review19 F3).
"""

from __future__ import annotations

import contextlib
import os
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proplab.csvdata import (
    _check_rows,
    _column,
    _content_lines,
    _empty_cells,
    _feature_value,
    _head,
    _joined,
    _label_cell,
    _line_cells,
    _NotPlain,
    _table,
    _tell,
    in_range,
)

# joins the cells of a row read cell by cell (a quoted cell may hold the file's delimiter,
# or any other character): a lone surrogate, which no text decoded from UTF-8 holds
_JOINER = "\ud800"


@dataclass
class CsvTable:
    """A CSV file's data rows, cells as text: ``names`` (the header's, or ``"0"``, ``"1"``,
    ... without one); row ``i`` is the file's line ``lines[i]`` (1-based) and holds
    :meth:`cells` ``(i)``, as many as ``names``.

    A row is kept as one string, ``texts[i]``, its cells joined by ``delimiter``, which no
    cell holds. ``plain``: the texts are lines as the bulk reader feeds NumPy's parser
    (which reads their numbers as float() does), so :meth:`numbers` may use it.
    """

    names: list[str]
    header: bool
    path: Path
    texts: list[str]
    lines: Sequence[int]
    delimiter: str
    plain: bool = False

    def __len__(self) -> int:
        return len(self.texts)

    def cells(self, i: int) -> list[str]:
        """Row ``i``'s cells, stripped, as ``load_csv`` reads them."""
        return [cell.strip() for cell in self.texts[i].split(self.delimiter)]

    def column(self, j: int) -> list[str]:
        """Column ``j``'s cells (0-based), one per row."""
        width = len(self.names)
        return [_label_cell(text, self.delimiter, j, width).strip() for text in self.texts]

    def numbers(self, columns: Sequence[int]) -> np.ndarray:
        """The cells of ``columns`` (0-based) as floats ``(n, len(columns))``; a cell
        that is no finite number raises :class:`~proplab.csvdata.CsvError` naming its line and column."""
        if self.plain:
            with contextlib.suppress(ValueError):  # NumPy's "could not convert": named below
                x = np.loadtxt(
                    self.texts,
                    delimiter=self.delimiter,
                    comments=None,
                    usecols=list(columns),
                    ndmin=2,
                    dtype=np.float64,
                )
                if x.shape == (len(self), len(columns)) and in_range(x):
                    return x
        # cell by cell, the same float() as _feature_value, which names the first bad cell
        x = np.empty((len(self), len(columns)))
        for i, (text, line) in enumerate(zip(self.texts, self.lines, strict=True)):
            cells = text.split(self.delimiter)
            for k, j in enumerate(columns):
                x[i, k] = _feature_value(cells[j].strip(), self.path, line, self.names, j)
        return x

    def column_name(self, j: int) -> str:
        """Column ``j`` as messages name it (``'weight'``, or its position when unnamed)."""
        return _column(self.names, j)


def read_table(path: str | os.PathLike[str], header: bool | None = None) -> CsvTable:
    """Read ``path`` as :func:`~proplab.csvdata.load_csv` does (delimiter, comments, BOM,
    the header guessed unless ``header`` says), keeping every cell as text; no column is
    a label.

    Raises :class:`~proplab.csvdata.CsvError` for a missing, empty or non-UTF-8 file, a
    header without data rows, or a ragged row.
    """
    began = time.perf_counter()
    path = Path(path)
    table = _read_plain(path, header) or _read_cells(path, header)
    what = f"{len(table):,} rows x {len(table.names)} columns"
    _tell(path, path.stat().st_size, time.perf_counter() - began, what)
    return table


def _read_plain(path: Path, header: bool | None) -> CsvTable | None:
    """The table of a plain file, its lines kept as they are; None for any file the bulk
    reader cannot vouch for, or a bad one (:func:`_read_cells` says what is wrong)."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            return _plain_table(file, path, header)
    except (_NotPlain, OSError, ValueError):  # ValueError: a decoding error
        return None


def _plain_table(lines: Iterable[str], path: Path, header: bool | None) -> CsvTable:
    """The body of :func:`_read_plain`; raises :class:`_NotPlain` (or a ValueError) to give up."""
    content = _content_lines(lines)
    head = _head(content, header)
    delimiter, width = head.delimiter, len(head.names)
    texts = [_joined(cells, delimiter, width) for _, cells in head.rows]
    numbers = array("q", [number for number, _ in head.rows])
    commas = delimiter != ","  # a comma may be a decimal one (csvdata._decimal_commas)
    for number, line, stripped in content:
        if commas and "," in line:
            raise _NotPlain
        if _empty_cells(stripped, delimiter):
            continue
        if '"' in line:  # the csv module splits it, as the per-cell reader does
            cells = _line_cells(line, delimiter)
            if not any(cells):
                continue
            texts.append(_joined(cells, delimiter, width))
        elif line.count(delimiter) == width - 1:
            texts.append(line.rstrip("\n"))
        else:
            raise _NotPlain  # a ragged row
        numbers.append(number)
    if not texts:
        raise _NotPlain  # a header without data rows
    return CsvTable(head.names, head.header, path, texts, numbers, delimiter, plain=True)


def _read_cells(path: Path, header: bool | None) -> CsvTable:
    """The table read cell by cell (csvdata's reference reader), which words every
    message: a missing, empty or non-UTF-8 file, no data rows, a ragged row."""
    names, rows, header, first_line, delimiter = _table(path, header)
    _check_rows(path, names, rows, first_line, delimiter)
    texts = [_JOINER.join(cells) for _, cells in rows]
    return CsvTable(names, header, path, texts, array("q", [n for n, _ in rows]), _JOINER)
