"""Where a CSV dataset's file is, whatever folder a command runs from.

A run names its CSV file as typed (``--dataset iris.csv``, ``dataset = "iris.csv"`` in
a sweep file): run names, ``config.json`` and every comparison of configurations use that
text, so they stay short and the same wherever a command runs. Which file the text
stands for is decided once, where it was typed, and carried with it:

- ``proplab train``: the path from the current folder, as a shell reads it (a plain
  ``str``);
- a sweep file: from the sweep file's folder (a path not found there, from the current
  folder: sweep files written when that was the rule keep working); the copy a sweep
  writes into its folder records each file it found (``data_files``, see
  :func:`proplab.sweep_spec.parse_spec`), so the copy reads the same files;
- a run folder read back (``proplab verify``, ``predict``, a run's figures): the absolute
  path its ``config.json`` recorded (``"data": {"path": ...}``) while that file exists,
  else the path as typed, from the current folder (a run from before proplab recorded
  the path, or a project moved as a whole).

:class:`DataPath` carries the decision: a ``str`` equal to the path as typed that also
knows its ``file``; :func:`data_file` is the file to open for any dataset name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class DataPath(str):
    """A CSV dataset's path as typed (the ``str`` itself: what run names, config.json and
    comparisons see) and the absolute ``file`` it was found at (what is opened).

    A ``str`` subclass so that a :class:`~proplab.config.RunConfig` carries its file
    through ``replace``, ``to_dict`` (a deep copy), pickling to a sweep's worker
    processes and every function that takes ``cfg.dataset`` as text, unchanged; only
    :func:`data_file` looks at ``file``. ``str(path)`` is the plain text as typed.
    """

    file: Path

    def __new__(cls, typed: str, file: str | os.PathLike[str]) -> DataPath:
        self = super().__new__(cls, typed)
        self.file = Path(os.path.abspath(file))
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the file
        return (DataPath, (str(self), self.file))


def data_file(dataset: str) -> Path:
    """The file a CSV ``dataset`` opens: where a sweep file or a run folder found it (a
    :class:`DataPath`), else the path as typed (from the current folder)."""
    found = getattr(dataset, "file", None)
    return found if isinstance(found, Path) else Path(str(dataset).strip())


def is_relative(dataset: str) -> bool:
    """Whether ``dataset`` (a file's path as typed) depends on the folder it is read from."""
    return not Path(str(dataset).strip()).is_absolute()


def first_found(typed: str, candidates: Sequence[Path]) -> DataPath:
    """``typed`` located at the first of ``candidates`` that is a file, or at the first
    candidate when none is (reading it then says "no such file", naming where it looked)."""
    found = next((c for c in candidates if c.is_file()), candidates[0])
    return DataPath(typed, found)


def in_folder(typed: str, folder: Path, recorded: str | None = None) -> str:
    """A sweep file's ``dataset`` value ``typed``: an absolute or no file path as it is;
    a relative one located at ``recorded`` (the file's own ``data_files`` entry, relative
    to ``folder``), else beside the sweep file (``folder``), else from the current folder
    (see the module docstring)."""
    name = str(typed).strip()
    if not is_relative(name):
        return typed
    candidates = [folder / recorded] if recorded is not None else []
    candidates += [folder / name, Path.cwd() / name]
    return first_found(typed, candidates)


def from_record(typed: str, record: Any) -> str:
    """A run folder's ``dataset`` ``typed``, located by its config.json ``record``
    (``{"file", "path", "bytes", "sha256"}``): at the recorded absolute ``path`` while that
    file exists, else as typed (from the current folder; also for a record without a
    ``path``, from before proplab wrote one)."""
    path = record.get("path") if isinstance(record, dict) else None
    if not isinstance(path, str) or not is_relative(typed) or not Path(path).is_file():
        return typed
    return DataPath(typed, path)


def looked_in(dataset: str, record: Any) -> str:
    """Where a run's CSV file was looked for, for a message when it is not found:
    ``" at /abs/iris.csv (where it was when the run trained) nor from here (/cwd)"``,
    ``" from here (/cwd)"`` for a run that recorded no path, ``""`` for an absolute one."""
    if not is_relative(dataset):
        return ""
    here = f"from here ({Path.cwd()})"
    path = record.get("path") if isinstance(record, dict) else None
    if isinstance(path, str):
        return f" at {path} (where it was when the run trained) nor {here}"
    return f" {here}"
