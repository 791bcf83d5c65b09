"""Which files ``proplab predict --out`` may write, checked before anything is predicted.

A new file in a folder that takes one is written. An existing file is replaced only
when it is an earlier output of predict: its header ends with predict's own columns
(``prediction``, then ``p_<class>`` or ``output_<class>``, see
:func:`proplab.predict.output_header`). Anything else is refused: the run's training
CSV (the file its ``config.json`` records), a sweep's ``results.csv``, any data file
(cli20 H5: each was overwritten without a word), and the ``--data`` file or a file of
the run itself whatever it holds. A place no file can be written (``/proc/x``) is
refused up front too, not after the predictions (cli20 M5).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from proplab.predict import PREDICTION

PREDICTED_PREFIXES = ("p_", "output_")  # the columns predict adds after PREDICTION


def is_predict_output(path: Path) -> bool:
    """Whether ``path`` holds CSV whose header ends with predict's own columns."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
    except (OSError, ValueError, csv.Error):  # not text, not CSV: no output of predict
        return False
    if PREDICTION not in header:
        return False
    last = len(header) - 1 - header[::-1].index(PREDICTION)
    return all(name.startswith(PREDICTED_PREFIXES) for name in header[last + 1 :])


def out_problem(out: Path, data: Path, run_dir: Path) -> str | None:
    """Why ``--out`` may not be written (the words after its quoted path), or None."""
    exists = out.is_file()
    if exists and data.exists() and out.samefile(data):
        return "is the --data file itself"
    if exists and out.resolve().parent == run_dir.resolve():
        # review19: --out RUN/model.npz replaced the trained model with CSV text
        return "is a file of the run itself"
    trained_on = _training_file(run_dir)
    if exists and trained_on is not None and trained_on.exists() and out.samefile(trained_on):
        return "is the CSV file the run trained on (its config.json records it)"
    if exists and not is_predict_output(out):
        return (
            f"exists and is no output of proplab predict (only one is replaced: its header "
            f"ends in {PREDICTION!r} and the p_/output_ columns)"
        )
    return _cannot_write(out)


def _training_file(run_dir: Path) -> Path | None:
    """The data file ``run_dir``'s config.json records (None: none, or unreadable; open_run
    then says what is wrong with the run): where it was found when the run trained, else
    (a run from before that was recorded) the path as typed, from here."""
    from proplab.datapath import data_file, from_record
    from proplab.runio import read_json

    try:
        record = read_json(run_dir / "config.json")["data"]
        return data_file(from_record(str(record["file"]), record, run_dir))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _cannot_write(out: Path) -> str | None:
    """Whether a file can be made beside ``out`` (as runio.atomic_open will make one and
    rename it): ``os.access`` says yes to root on /proc, where nothing can be created."""
    if out.is_dir():
        return "is a folder"
    if not out.parent.is_dir():
        return f"has no folder {str(out.parent)!r}"
    try:
        fd, probe = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".probe")
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None
