"""Check a handed-in run folder against itself: ``proplab verify RUN_DIR [--rerun]``.

For each run folder (a sweep folder: each run in its ``runs/``), :func:`verify_run`

1. rebuilds the run's data from ``config.json`` and compares it with the data the run
   recorded (``"data"``: the CSV file's sha256, or the generated arrays' fingerprint,
   :func:`proplab.experiments.data_fingerprint`; a folder from before proplab recorded
   it has nothing to compare);
2. re-scores ``model.npz`` on that data and compares it with ``summary.json``. Both are
   the same quantity: summary.json's ``loss`` and ``accuracy`` (``r2``, ``test_*``) are
   the final model's, scored after its last update in evaluation mode
   (:func:`proplab.experiments.final_scores`), and model.npz holds that model. The same
   weights on the same data give the same numbers up to the order of floating-point
   sums (another BLAS thread count, another machine: ~1e-15 relative), so they must
   agree to :data:`RTOL` relative; a hand-edited summary or other data differ by far more;
3. checks ``history.csv``'s last row against ``summary.json``: its epoch is
   ``epochs_run`` (one row per epoch) and its ``wall_time`` is ``wall_time_s`` (to the
   CSV's 6 decimals). Its loss is *not* compared: a full-batch row scores the weights
   before that epoch's update, summary.json the model after it;
4. with ``rerun``, trains the config again (:func:`proplab.experiments.run_one`) and
   compares ``history.csv``'s epoch, loss and accuracy columns and the weights, bit for bit.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proplab import dataload
from proplab import experiments as ex
from proplab.config import ConfigError, build_loss
from proplab.datapath import data_file, is_relative, looked_in
from proplab.runio import read_csv, read_json
from proplab.sweep_folder import RUNS_DIR

RTOL = 1e-9  # re-scored vs recorded scores (see the module docstring)
ATOL = 1e-12  # for scores at 0 (a loss that reached 0.0, an accuracy of 0)
WALL_TOL = 1e-6  # history.csv writes wall_time with 6 decimals, summary.json in full
# summary.json's scores, compared with the re-scored model's
SCORES = ("loss", "accuracy", "r2", "test_loss", "test_accuracy", "test_r2")


@dataclass
class RunCheck:
    """What :func:`verify_run` found in one run folder."""

    folder: Path
    checked: list[str] = field(default_factory=list)  # what agreed
    problems: list[str] = field(default_factory=list)  # what differs, with the numbers
    notes: list[str] = field(default_factory=list)  # what could not be checked
    unchecked: str = ""  # why nothing could be checked (the data file not found from here)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unchecked

    def line(self, name: str, width: int) -> str:
        """``name  ok  data, scores, history``, ``name  DIFFERS  what; what`` or
        ``name  UNCHECKED  why``."""
        if self.unchecked:
            return f"{name:<{width}}  UNCHECKED  {self.unchecked}"
        verdict = "ok" if self.ok else "DIFFERS"
        what = "; ".join(self.problems) if self.problems else ", ".join(self.checked)
        notes = "".join(f" ({note})" for note in self.notes)
        return f"{name:<{width}}  {verdict:<7}  {what}{notes}"


def run_folders(path: str | Path) -> list[Path]:
    """``path`` itself when it is a run folder (has config.json), else the run folders of
    the sweep folder ``path`` (``runs/*/config.json``). Raises ConfigError for anything
    else."""
    path = Path(path)
    if (path / ex.CONFIG).is_file():
        return [path]
    runs = sorted(p.parent for p in (path / RUNS_DIR).glob(f"*/{ex.CONFIG}"))
    if runs:
        return runs
    if not path.exists():
        what = "no such folder"
    elif path.is_file():  # a run's file (config.json, model.npz) given for its folder
        what = f"a file; give the folder that holds it: {path.parent}"
    else:
        what = f"no {ex.CONFIG}, nor {RUNS_DIR}/*/{ex.CONFIG}"
    raise ConfigError(
        f"{path}: not a run folder nor a sweep folder ({what}); give a folder written by "
        "proplab train, lab or sweep"
    )


def verify_run(folder: str | Path, rerun: bool = False) -> RunCheck:
    """Check one run folder (see the module docstring); never raises for what it finds."""
    check = RunCheck(Path(folder))
    try:
        _verify(check, rerun)
    except (ConfigError, OSError, ValueError, KeyError) as exc:  # unreadable, a bad config
        check.problems.append(str(exc))
    return check


def _verify(check: RunCheck, rerun: bool) -> None:
    folder = check.folder
    cfg = ex.read_run_config(folder)
    if not (folder / ex.SUMMARY).is_file():
        stopped = (folder / ex.INTERRUPTED).is_file()
        check.problems.append(
            f"no {ex.SUMMARY}: "
            + ("an interrupted run (interrupted.json)" if stopped else "the run did not finish")
        )
        return
    summary = read_json(folder / ex.SUMMARY)
    recorded = read_json(folder / ex.CONFIG).get(ex.DATA)
    if dataload.is_csv(str(cfg.dataset)) and not data_file(cfg.dataset).is_file():
        # neither where the run recorded it nor as typed from here: a file moved or deleted
        # is no difference in the run (csv23 M3); read_run_config located it if it could
        typed = str(cfg.dataset).strip()
        check.unchecked = (
            f"its data file {typed!r} is not found{looked_in(typed, recorded, folder)}"
        )
        if is_relative(typed) and not (isinstance(recorded, dict) and "path" in recorded):
            check.unchecked += "; run verify from the folder the run was trained in"
        return
    # a CSV file's bytes first: a changed file may no longer load as the run's data, and
    # the check must still say that the data is what differs
    csv_record = isinstance(recorded, dict) and ex.ARRAYS not in recorded
    if csv_record:
        _check_data(check, cfg, None, recorded)
    cfg, prep = ex.prepare_run(cfg)
    if not csv_record:
        _check_data(check, cfg, prep, recorded)
    _check_scores(check, cfg, prep, summary, recorded)
    _check_history(check, summary)
    if rerun:
        _check_rerun(check, cfg)


def _check_data(check: RunCheck, cfg: Any, prep: Any, recorded: Any) -> None:
    """The data rebuilt now against what config.json recorded (if anything)."""
    if not isinstance(recorded, dict):
        check.notes.append("no data fingerprint recorded: an older proplab's run")
        return
    differ = []
    if ex.ARRAYS in recorded:  # generated or built-in data: the arrays themselves
        then, now = recorded[ex.ARRAYS], ex.data_fingerprint(prep)
        for k in sorted(set(then) | set(now)):
            if then.get(k) != now.get(k):
                differ.append(f"{k} {_array(then.get(k))} recorded, {_array(now.get(k))} now")
    else:  # a CSV file: its bytes
        file = ex.data_record(cfg) or {}
        if file.get("sha256") != recorded.get("sha256"):
            # the file read now, when it is not the one the run recorded (moved, or another
            # file of that name from here)
            elsewhere = (
                f" (read from {file['path']})"
                if file.get("path") != recorded.get("path") and file.get("path")
                else ""
            )
            differ.append(
                f"{recorded.get('file')} sha256 {str(recorded.get('sha256'))[:12]} recorded, "
                f"{str(file.get('sha256'))[:12]} now{elsewhere}"
            )
    if differ:
        check.problems.append("data differ: " + ", ".join(differ))
    else:
        check.checked.append("data")


def _array(record: Any) -> str:
    """``100x2 float64 sha256 1a2b3c4d5e6f`` (or ``none``) for a data_fingerprint entry."""
    if not isinstance(record, dict):
        return "none"
    shape = "x".join(map(str, record.get("shape", [])))
    return f"{shape} {record.get('dtype')} sha256 {str(record.get('sha256'))[:12]}"


def _check_scores(check: RunCheck, cfg: Any, prep: Any, summary: dict, recorded: Any) -> None:
    """model.npz re-scored on the data against summary.json's scores."""
    from proplab.serialize import load

    model = load(check.folder / ex.MODEL)
    loss, acc, _, test, r2 = ex.final_scores(cfg, model, build_loss(cfg), prep)
    # as finish_run writes them: None for what is NaN or follows a non-finite loss
    finite = math.isfinite(loss)
    now: dict[str, Any] = {
        "loss": loss if finite else None,
        "accuracy": acc if finite and not math.isnan(acc) else None,
        "r2": r2 if finite and r2 is not None and math.isfinite(r2) else None,
        **dataload.test_summary(test, prep.x_test),
    }
    wrong = [name for name in SCORES if name in summary and not _same(summary[name], now.get(name))]
    if wrong:
        said = ", ".join(f"{name} {_num(summary[name])}" for name in wrong)
        scored = ", ".join(f"{name} {_num(now.get(name))}" for name in wrong)
        check.problems.append(f"{ex.SUMMARY}: {said}; model.npz scores {scored}")
        if not isinstance(recorded, dict):
            check.notes[-1] += ", whose data may differ from this proplab's"
    else:
        check.checked.append(f"scores (loss {_num(now['loss'])})")


def _same(recorded: Any, now: Any) -> bool:
    """A recorded score and a re-scored one (None: NaN or inf, as summary.json has it)."""
    if recorded is None or now is None:
        return recorded is None and now is None
    return math.isclose(float(recorded), float(now), rel_tol=RTOL, abs_tol=ATOL)


def _num(value: Any) -> str:
    return "null" if value is None else f"{float(value):.10g}"


def _check_history(check: RunCheck, summary: dict) -> None:
    """history.csv's last row against summary.json: epoch = epochs_run, wall_time."""
    rows = read_csv(check.folder / ex.HISTORY)
    runs, wall = summary.get("epochs_run"), summary.get("wall_time_s")
    if not rows:
        check.problems.append(f"{ex.HISTORY} has no rows, {ex.SUMMARY} says {runs} epochs")
        return
    last = rows[-1]
    wrong = []
    if len(rows) != runs or int(last["epoch"]) != runs:
        wrong.append(
            f"{len(rows)} rows, last epoch {last['epoch']}; {ex.SUMMARY}: epochs_run {runs}"
        )
    if wall is not None and abs(float(last["wall_time"]) - float(wall)) > WALL_TOL:
        wrong.append(f"last wall_time {last['wall_time']}; {ex.SUMMARY}: wall_time_s {wall}")
    if wrong:
        check.problems.append(f"{ex.HISTORY}: " + ", ".join(wrong))
    else:
        check.checked.append("history")


def _check_rerun(check: RunCheck, cfg: Any) -> None:
    """Train ``cfg`` again; history.csv (epoch, loss, accuracy) and weights bit for bit."""
    from proplab.serialize import load

    with tempfile.TemporaryDirectory(prefix="proplab-verify-") as tmp:
        again = Path(tmp) / "rerun"
        ex.run_one(cfg, again, quiet=True, progress=False, figures=False)
        mine, theirs = _history(check.folder), _history(again)
        first = next(
            (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), None
        )
        if first is None and len(mine) != len(theirs):
            first = min(len(mine), len(theirs))
        if first is not None:
            here = ",".join(mine[first]) if first < len(mine) else "no row"
            there = ",".join(theirs[first]) if first < len(theirs) else "no row"
            check.problems.append(
                f"rerun: {ex.HISTORY} differs from row {first + 1} (epoch,loss,accuracy {here}; "
                f"rerun {there})"
            )
        old, new = load(check.folder / ex.MODEL).state_dict(), load(again / ex.MODEL).state_dict()
        differ = [k for k in old if k not in new or not np.array_equal(old[k], new[k])]
        differ += sorted(set(new) - set(old))  # parameters the saved model lacks
        if differ:
            k = differ[0]
            size = (
                f" (max |difference| {np.max(np.abs(old[k] - new[k])):.3g})"
                if k in old and k in new and old[k].shape == new[k].shape
                else ""
            )
            check.problems.append(f"rerun: {ex.MODEL} weights differ, first {k}{size}")
        if first is None and not differ:
            check.checked.append("rerun bit for bit")


def _history(folder: Path) -> list[tuple[str, ...]]:
    """history.csv's epoch, loss and accuracy columns as text (wall_time is a clock)."""
    lines = (folder / ex.HISTORY).read_text(encoding="utf-8").splitlines()[1:]
    return [tuple(line.split(",")[:3]) for line in lines]


def verify(
    paths: Sequence[str | Path],
    rerun: bool = False,
    log: Callable[[str], Any] = print,
    progress: bool = True,
) -> list[RunCheck]:
    """Verify every run folder of ``paths`` (run or sweep folders), logging one table line
    per run as it is checked (a progress bar on stderr for more than one run, when it is a
    terminal); return the checks. Raises ConfigError, before checking any, for a path
    that is neither."""
    from proplab.progress import ProgressBar

    # a sweep's runs by their names under the sweep folder (said first), a run folder as given
    groups = [(Path(p), run_folders(p)) for p in paths]
    width = max((len(_name(p, run)) for p, runs in groups for run in runs), default=0)
    total = sum(len(runs) for _, runs in groups)
    bar = ProgressBar(total, desc="verify", unit="run", enabled=None if progress else False)
    bar.enabled = bar.enabled and total > 1
    say = bar.wrap_log(log)
    checks: list[RunCheck] = []
    for p, runs in groups:
        if runs != [p]:
            say(f"{p}: a sweep folder, {len(runs)} runs")
        for run in runs:
            checks.append(verify_run(run, rerun=rerun))
            say(checks[-1].line(_name(p, run), width))
            bar.update(len(checks))
    bar.close()
    return checks


def _name(given: Path, run: Path) -> str:
    """A run's name in the table: the folder as given, or its path in the sweep folder."""
    return str(given) if run == given else str(run.relative_to(given))
