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
  path its ``config.json`` recorded (``"data": {"path": ...}``) while that file exists;
  else, for a sweep's run (``SWEEP/runs/NAME``), the file its sweep's copy
  (``SWEEP/sweep.toml``) names in ``data_files`` while that exists (a run from before
  proplab recorded the path, or a project moved as a whole, whose sweep was run again
  since); else the path as typed, from the current folder.

:class:`DataPath` carries the decision: a ``str`` equal to the path as typed that also
knows its ``file``; :func:`data_file` is the file to open for any dataset name.
"""

from __future__ import annotations

import os
import tomllib
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
    # where it was looked for, (file, how a message names the place), when it was found
    # nowhere (:func:`first_found`); empty when found, or located by a run folder's record
    looked: tuple[tuple[Path, str], ...]

    def __new__(
        cls,
        typed: str,
        file: str | os.PathLike[str],
        looked: Sequence[tuple[str | os.PathLike[str], str]] = (),
    ) -> DataPath:
        self = super().__new__(cls, typed)
        self.file = Path(os.path.abspath(file))
        self.looked = tuple((Path(os.path.abspath(f)), place) for f, place in looked)
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the file
        return (DataPath, (str(self), self.file, self.looked))


def data_file(dataset: str) -> Path:
    """The file a CSV ``dataset`` opens: where a sweep file or a run folder found it (a
    :class:`DataPath`), else the path as typed (from the current folder)."""
    found = getattr(dataset, "file", None)
    return found if isinstance(found, Path) else Path(str(dataset).strip())


def is_relative(dataset: str) -> bool:
    """Whether ``dataset`` (a file's path as typed) depends on the folder it is read from."""
    return not Path(str(dataset).strip()).is_absolute()


def first_found(typed: str, candidates: Sequence[tuple[Path, str]]) -> DataPath:
    """``typed`` located at the first of ``candidates`` (``(file, place)``: where, and how
    a message names it, ``"beside the sweep file"``) that is a file, or at the first
    candidate when none is, remembering them all for :func:`not_found`'s message."""
    found = next((c for c, _ in candidates if c.is_file()), None)
    if found is not None:
        return DataPath(typed, found)
    return DataPath(typed, candidates[0][0], candidates)


def not_found(dataset: str) -> str | None:
    """Why a sweep file's located ``dataset`` cannot be read, naming every place it was
    looked for (verify24 L3: only the first was named): ``"data/x.csv: no such file, not
    at /data/x.csv (where data_files puts it), beside the sweep file (/p/data/x.csv) nor
    from here (/cwd/data/x.csv)"``; None when it was found, or is no located path."""
    looked = getattr(dataset, "looked", ())
    if not looked or data_file(dataset).is_file():
        return None
    places, seen = [], set()
    for file, place in looked:
        if file not in seen:  # the sweep file's folder may be the current one
            seen.add(file)
            places.append(
                f"at {file} ({place})" if place.startswith("where") else f"{place} ({file})"
            )
    return f"{str(dataset).strip()}: no such file, not {_nor(places)}"


def _nor(places: Sequence[str]) -> str:
    """``"A, B nor C"``: the places a file was looked for, as its messages list them."""
    return ", ".join(places[:-1]) + " nor " + places[-1] if len(places) > 1 else places[0]


def in_folder(typed: str, folder: Path, recorded: str | None = None) -> str:
    """A sweep file's ``dataset`` value ``typed``: an absolute or no file path as it is;
    a relative one located at ``recorded`` (the file's own ``data_files`` entry, relative
    to ``folder``), else beside the sweep file (``folder``), else from the current folder
    (see the module docstring)."""
    name = str(typed).strip()
    if not is_relative(name):
        return typed
    candidates = [(folder / recorded, "where data_files puts it")] if recorded is not None else []
    candidates += [(folder / name, "beside the sweep file"), (Path.cwd() / name, "from here")]
    return first_found(typed, candidates)


def from_record(typed: str, record: Any, run_dir: str | os.PathLike[str] | None = None) -> str:
    """A run folder's ``dataset`` ``typed``, located by its config.json ``record``
    (``{"file", "path", "bytes", "sha256"}``): at the recorded absolute ``path`` while that
    file exists, else (``run_dir`` given, a sweep's run) at the file its sweep's copy names
    while that exists (:func:`sweep_copy_entry`), else as typed (from the current folder;
    also for a record without a ``path``, from before proplab wrote one)."""
    if not is_relative(typed):
        return typed
    path = record.get("path") if isinstance(record, dict) else None
    if isinstance(path, str) and Path(path).is_file():
        return DataPath(typed, path)
    entry = sweep_copy_entry(typed, run_dir) if run_dir is not None else None
    if entry is not None and entry.is_file():
        return DataPath(typed, entry)
    return typed


def sweep_copy(run_dir: str | os.PathLike[str]) -> Path | None:
    """The copy of its sweep file (``SWEEP/sweep.toml``) beside a sweep's run folder
    ``SWEEP/runs/NAME``; None for a run folder outside a sweep folder."""
    from proplab.sweep_folder import RUNS_DIR, SPEC_COPY  # it imports this module

    run = Path(os.path.abspath(run_dir))
    return run.parent.parent / SPEC_COPY if run.parent.name == RUNS_DIR else None


def sweep_copy_entry(typed: str, run_dir: str | os.PathLike[str]) -> Path | None:
    """The file a sweep's run folder ``run_dir``'s :func:`sweep_copy` names for ``typed`` in
    its ``data_files`` table (a relative entry from the copy's folder, as :func:`in_folder`
    reads it); None for a run outside a sweep folder, a copy without that entry or one that
    does not read. A sweep run again writes where it found each file into its copy, while
    an old run's config.json has no ``path``: this finds that run's data from any folder
    (verify24 M1)."""
    copy = sweep_copy(run_dir)
    if copy is None:
        return None
    try:
        recorded = tomllib.loads(copy.read_text(encoding="utf-8"))["data_files"]
        entry = recorded.get(str(typed).strip()) or recorded.get(str(typed))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, AttributeError):
        return None
    return copy.parent / entry if isinstance(entry, str) and entry.strip() else None


def looked_in(dataset: str, record: Any, run_dir: str | os.PathLike[str] | None = None) -> str:
    """Where a run's CSV file was looked for, for a message when it is not found:
    ``" at /abs/iris.csv (where it was when the run trained) nor from here (/cwd)"``,
    ``" from here (/cwd)"`` for a run that recorded no path, ``""`` for an absolute one;
    a sweep's run (``run_dir``) whose sweep's copy names the file adds that place."""
    if not is_relative(dataset):
        return ""
    places = []
    path = record.get("path") if isinstance(record, dict) else None
    if isinstance(path, str):
        places.append(f"at {path} (where it was when the run trained)")
    entry = sweep_copy_entry(dataset, run_dir) if run_dir is not None else None
    if entry is not None and run_dir is not None and str(entry) != path:
        places.append(f"at {entry} (where {sweep_copy(run_dir)} names it)")
    places.append(f"from here ({Path.cwd()})")
    return " " + _nor(places)
