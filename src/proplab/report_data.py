"""What the report needs from each finished run: its curves, and what its final model does.

Everything here is read back from the run folders (``history.csv``,
``model.npz``, ``summary.json`` via :mod:`proplab.aggregate`), so a report
can be rebuilt at any time without training.
"""

from __future__ import annotations

import math
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proplab.aggregate import Group, RunRecord, Stats, group, has_test_set
from proplab.config import RunConfig
from proplab.dataload import is_csv, is_regression_run
from proplab.sweep_folder import RUNS_DIR, DamagedRunError
from proplab.sweep_spec import Experiment, SweepSpec

TAIL = 0.1  # "still moving" is judged over the last 10 % of epochs
MOVING = 0.05  # ... by a relative loss change above 5 % (the median seed's)
ACCURACY_MOVING = 0.01  # ... or a change of the mean accuracy of 1 point or more
# a seed oscillates when, over the same window, its loss rises by over RISE (relative) on
# OSCILLATING of the epochs or more (a step that overshoots and the next that comes back:
# a period-2 cycle rises on half), or its accuracy goes both up and down; a loss near its
# floor jitters by far less than 1 % (XOR's relu runs: rises of 1e-4) and is not counted
OSCILLATING = 0.25
RISE = 0.01
CYCLE = 0.9  # a window whose loss alternates up/down on 90 % of its epochs is a period-2 cycle
CYCLE_BREAK = 10  # ... that started after the last 10 epochs in a row that did not alternate
PERFECT = 1.0 - 1e-9
# score differences under these are noise even with no spread over seeds
R2_NOISE = 0.02  # of R²
ACC_NOISE = 0.02  # of accuracy: 2 points
# the runs that trained every epoch they were given: one stopped by its own rule (tol,
# early stopping) has no "more epochs" to ask about
RAN_OUT = "completed"

DATASET_NAMES = {"xor": "XOR", "linear": "linear"}


def curve_points(configs: list[RunConfig]) -> list[str]:
    """What a learning curve's point (a ``history.csv`` row) is, for runs of these configs,
    beyond "the loss before each epoch's update" of a full-batch run: with mini-batches
    a mean over the epoch's batches, each taken before its own update, while the weights
    moved; with dropout or batchnorm, measured in training mode. Empty for the lab's runs."""
    notes = []
    if any(c.batch_size is not None for c in configs):
        notes.append(
            "with mini-batches, the mean over the epoch's batches of each batch's loss "
            "before its own update"
        )
    modes = [
        name
        for name, used in (
            ("dropout's masks", any(c.dropout > 0 for c in configs)),
            ("batchnorm's batch statistics", any(c.batchnorm for c in configs)),
        )
        if used
    ]
    if modes:
        notes.append(f"in training mode, with {' and '.join(modes)} on")
    return notes


def dataset_name(name: str) -> str:
    """How a dataset reads in the report: ``XOR``, ``moons``, a CSV file by its file name."""
    if name in DATASET_NAMES:
        return DATASET_NAMES[name]
    return Path(name).name if is_csv(name) else name


@dataclass
class RunView:
    """One finished run: its record, learning curves and the behaviour of its final model."""

    record: RunRecord
    run_dir: Path
    loss: np.ndarray  # (E,) loss per epoch
    accuracy: np.ndarray  # (E,) accuracy per epoch (fraction)
    single_class: bool = False  # the final model gives every point the same class
    saturated: bool = False  # every final output within 1e-3 of 0 or 1

    @property
    def perfect_from(self) -> int | None:
        """The epoch (1-based, as in history.csv) from which accuracy stays at 100 % to the
        end, or None when the final model is below 100 %. A seed that touched 100 % and fell
        back got there for good only when it came back for the last time; one whose last
        history row (measured before the last update) is below 100 % but whose final model
        is at 100 % gets there after the last update: epoch E + 1."""
        if not self.record.final_accuracy >= PERFECT:
            return None
        below = np.flatnonzero(self.accuracy < PERFECT)
        return int(below[-1]) + 2 if below.size else 1

    @property
    def ran_out(self) -> bool:
        """Whether it trained every epoch it was given (not stopped by tol or early
        stopping, not diverged): only such a run can say what more epochs would do."""
        return self.record.stop_reason == RAN_OUT

    def _window_start(self) -> int | None:
        """The history row where the last 10 % of epochs starts (None: under 10 epochs)."""
        n = self.loss.size
        return int(round((1 - TAIL) * n)) - 1 if n >= 10 else None

    @property
    def tail_trend(self) -> float:
        """Signed relative change of the loss over the last 10 % of epochs (< 0: it fell;
        NaN if undefined)."""
        start = self._window_start()
        if start is None:
            return math.nan
        before, last = self.loss[start], self.loss[-1]
        if not (math.isfinite(before) and math.isfinite(last)) or before == 0:
            return math.nan
        return float((last - before) / abs(before))

    @property
    def tail_accuracy(self) -> tuple[float, float]:
        """Accuracy (fraction) where the last 10 % of epochs starts and at the last history
        row (NaN, NaN under 10 epochs)."""
        start = self._window_start()
        if start is None:
            return math.nan, math.nan
        return float(self.accuracy[start]), float(self.accuracy[-1])

    @property
    def tail_r2(self) -> tuple[float, float]:
        """A regression's R² on its training data where the last 10 % of epochs starts and
        at the last history row (NaN, NaN if undefined): R² = 1 - MSE / var(targets), and
        the final model's loss and R² give the variance."""
        start = self._window_start()
        loss, r2 = self.record.final_loss, self.record.final_r2
        if start is None or not (math.isfinite(loss) and math.isfinite(r2)) or r2 >= 1:
            return math.nan, math.nan
        variance = loss / (1 - r2)
        return 1 - float(self.loss[start]) / variance, 1 - float(self.loss[-1]) / variance

    def _tail(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The loss and accuracy rows of the last 10 % of epochs, the accuracy with the
        final model's appended (it is measured after the last update: the rows before
        each); None under 10 epochs."""
        start = self._window_start()
        if start is None:
            return None
        accuracy = np.append(self.accuracy[start:], self.record.final_accuracy)
        return self.loss[start:], accuracy

    @property
    def tail_loss(self) -> np.ndarray:
        """The loss rows of the last 10 % of epochs (empty under 10 epochs)."""
        tail = self._tail()
        return tail[0] if tail is not None else self.loss[:0]

    @property
    def tail_rises(self) -> float:
        """The share of the last 10 % of epochs on which the loss rose by more than 1 % of
        its value (NaN under 10 epochs): about 0.5 for a loss going up and down on
        alternate epochs, about 0 for one falling or flat."""
        tail = self._tail()
        if tail is None:
            return math.nan
        loss = tail[0]
        with np.errstate(invalid="ignore"):
            rises = np.diff(loss) > RISE * np.abs(loss[:-1])
        return float(np.mean(rises))

    @property
    def tail_accuracy_range(self) -> tuple[float, float]:
        """The lowest and highest accuracy (fraction) over the last 10 % of epochs and the
        final model (NaN, NaN under 10 epochs or without an accuracy)."""
        tail = self._tail()
        if tail is None or not np.all(np.isfinite(tail[1])):
            return math.nan, math.nan
        return float(tail[1].min()), float(tail[1].max())

    @property
    def accuracy_swings(self) -> bool:
        """Whether its accuracy went both up and down over the last 10 % of epochs (the
        final model included): not learning one way, but bouncing."""
        tail = self._tail()
        if tail is None or not np.all(np.isfinite(tail[1])):
            return False
        steps = np.diff(tail[1])
        return bool(np.any(steps > 0) and np.any(steps < 0))

    @property
    def oscillating(self) -> bool:
        """A run that trained all its epochs and is still bouncing at the end: its loss
        rises by over 1 % on a quarter or more of the last 10 % of epochs, or its accuracy
        goes both up and down over them. Its last value is wherever the bounce left it:
        one epoch more or less may give another."""
        if not self.ran_out or self.record.diverged:
            return False
        rises = self.tail_rises
        return (math.isfinite(rises) and rises >= OSCILLATING) or self.accuracy_swings

    @property
    def loss_bounces(self) -> bool:
        """An oscillating run whose *loss* goes up and down at the end (it rises by over
        1 % on a quarter or more of the last 10 % of epochs, or alternates as a period-2
        cycle), not only its accuracy: the mark of a step that overshoots (persona22 H1:
        an accuracy flipping while the loss only fell was called overshooting)."""
        if not self.oscillating:
            return False
        rises = self.tail_rises
        return (math.isfinite(rises) and rises >= OSCILLATING) or self.cycle_from is not None

    @property
    def cycle_from(self) -> int | None:
        """The epoch (1-based, as in history.csv) from which the loss goes up and down on
        alternate epochs to the end, a period-2 cycle (every step overshoots and the next
        comes back), or None when the last 10 % of epochs do not alternate on 90 % of
        them. Short breaks (under 10 epochs in a row) do not end a cycle."""
        tail = self._tail()
        if tail is None or not self.oscillating or not np.all(np.isfinite(self.loss)):
            return None
        up = np.diff(self.loss) > 0
        alternates = up[:-1] != up[1:]  # entry k: loss k -> k+1 -> k+2 turns
        start = self._window_start() or 0
        if np.mean(alternates[start:]) < CYCLE:
            return None
        breaks = np.flatnonzero(~alternates)
        # runs of breaks in a row: the cycle starts after the last one of CYCLE_BREAK or more
        cuts = np.flatnonzero(np.diff(breaks) != 1)
        firsts = np.concatenate([[0], cuts + 1])
        lasts = np.concatenate([cuts, [breaks.size - 1]])
        long = [breaks[b] for a, b in zip(firsts, lasts, strict=True) if b - a + 1 >= CYCLE_BREAK]
        # entry k of alternates turns at loss k + 1 (epoch k + 2): the last long break's
        # k ends it, so the cycle's first turn is the next entry's
        return int(long[-1]) + 3 if breaks.size and long else 1

    @property
    def tail_change(self) -> float:
        """How much the loss moved over the last 10 % of epochs, either way (NaN if undefined)."""
        return abs(self.tail_trend)

    @property
    def total_change(self) -> float:
        """Relative change of the loss from the first to the last epoch."""
        if self.loss.size < 2 or not np.all(np.isfinite(self.loss[[0, -1]])) or self.loss[0] == 0:
            return math.nan
        return abs(self.loss[-1] - self.loss[0]) / abs(self.loss[0])


def _mean_ends(ends: list[tuple[float, float]]) -> tuple[float, float]:
    """The mean of the seeds' (start, end) pairs whose both values are finite (NaN, NaN
    if none)."""
    ends = [e for e in ends if math.isfinite(e[0]) and math.isfinite(e[1])]
    if not ends:
        return math.nan, math.nan
    return float(np.mean([e[0] for e in ends])), float(np.mean([e[1] for e in ends]))


@dataclass
class GroupView:
    """All seeds of one setting on one dataset."""

    group: Group
    runs: list[RunView]

    @property
    def setting(self) -> str:
        return self.group.setting

    @property
    def dataset(self) -> str:
        return self.group.dataset

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def accuracy(self) -> Stats:
        return self.group.accuracy

    @property
    def loss(self) -> Stats:
        return self.group.loss

    @property
    def test_accuracy(self) -> Stats:
        return self.group.test_accuracy

    @property
    def r2(self) -> Stats:
        """A regression's final R² on its training data (n=0 for a classification)."""
        return self.group.r2

    @property
    def test_r2(self) -> Stats:
        return self.group.test_r2

    @property
    def regression(self) -> bool:
        """Whether its runs fitted values (scored by R², no accuracy): a built-in
        regression set, or a CSV file's values with ``task = "regression"``."""
        # from the config, not RunRecord.regression, which knows the built-in sets only
        return bool(self.runs) and is_regression_run(self.config)

    @property
    def metric(self) -> str:
        """``"r2"`` for a regression, else ``"accuracy"`` (a DotSet's metric)."""
        return "r2" if self.regression else "accuracy"

    def score(self, test: bool = False) -> Stats:
        """The final score over the seeds that did not diverge: R² for a regression,
        else the accuracy (a fraction); on the held-out set with ``test``."""
        if self.regression:
            return self.group.test_r2 if test else self.group.r2
        return self.test_accuracy if test else self.accuracy

    def run_scores(self, test: bool = False) -> list[float]:
        """One final score per seed (NaN: diverged), as :meth:`score` counts them; with
        ``test`` the held-out set's, or the training data's where nothing was held out."""
        out = []
        for r in self.runs:
            rec = r.record
            held = test and rec.n_test > 0
            if rec.diverged:
                out.append(math.nan)
            elif self.regression:
                out.append(rec.test_r2 if held else rec.final_r2)
            else:
                out.append(rec.test_accuracy if held else rec.final_accuracy)
        return out

    @property
    def has_test(self) -> bool:
        """Whether its runs held out a test set (a test_fraction axis may give some none)."""
        return has_test_set(self.group.records)

    @property
    def n_diverged(self) -> int:
        return self.group.n_diverged

    @property
    def n_single(self) -> int:
        return sum(r.single_class and not r.record.diverged for r in self.runs)

    @property
    def n_perfect(self) -> int:
        return sum(r.record.final_accuracy >= PERFECT for r in self.runs)

    @property
    def epochs_trained(self) -> int:
        """The epochs this setting trained: its longest run's (a seed may stop early at
        ``tol``)."""
        return max(r.loss.size for r in self.runs)

    @property
    def all_perfect(self) -> bool:
        return self.n > 0 and self.n_perfect == self.n

    @property
    def oscillating_runs(self) -> list[RunView]:
        """Its seeds still bouncing at the end (:attr:`RunView.oscillating`)."""
        return [r for r in self.runs if r.oscillating]

    @property
    def oscillating(self) -> bool:
        """Some seed is still bouncing at the end: whatever the others do, not settled."""
        return bool(self.oscillating_runs)

    @property
    def swings_across_perfect(self) -> int:
        """How many of its seeds oscillate across 100 %: at it on some of the last 10 %
        of epochs and below it on others, so ending there (or not) is the bounce's luck."""
        return sum(
            lo < PERFECT <= hi for lo, hi in (r.tail_accuracy_range for r in self.oscillating_runs)
        )

    @property
    def perfect_for_good(self) -> bool:
        """At 100 % in every seed, none of them by an oscillation's luck."""
        return self.all_perfect and not self.swings_across_perfect

    def _steady(self) -> list[RunView]:
        """The seeds that ran all their epochs and do not oscillate: a bouncing seed's
        last row is wherever the bounce left it, no trend to read."""
        return [r for r in self.runs if r.ran_out and not r.oscillating]

    @property
    def perfect_epochs(self) -> list[int]:
        """For each seed that ends at 100 %, the epoch from which it stays there
        (:attr:`RunView.perfect_from`): how long it took to get there for good, not its
        first touch of 100 %."""
        return [r.perfect_from for r in self.runs if r.perfect_from is not None]

    @property
    def median_perfect_from(self) -> float:
        """The median of :attr:`perfect_epochs` (NaN if no seed ends at 100 %)."""
        hits = self.perfect_epochs
        return float(np.median(hits)) if hits else math.nan

    @property
    def median_tail_change(self) -> float:
        """The median seed's relative loss change over the last 10 % of epochs, over the
        seeds that ran all their epochs and do not oscillate (NaN if none)."""
        values = [r.tail_change for r in self._steady() if math.isfinite(r.tail_change)]
        return float(np.median(values)) if values else math.nan

    @property
    def tail_accuracy(self) -> tuple[float, float]:
        """The mean accuracy (fraction) over the seeds that ran all their epochs and do not
        oscillate, where the last 10 % of epochs starts and at the end of history.csv (NaN,
        NaN if none)."""
        return _mean_ends([r.tail_accuracy for r in self._steady()])

    @property
    def accuracy_moving(self) -> bool:
        """A classification whose mean accuracy changed by 1 point or more over the last
        10 % of epochs: still learning (or unlearning), whatever its loss does."""
        if self.regression:
            return False
        before, after = self.tail_accuracy
        return abs(after - before) >= ACCURACY_MOVING - 1e-12

    @property
    def tail_r2(self) -> tuple[float, float]:
        """A regression's mean training R² over the seeds that ran all their epochs and do
        not oscillate, where the last 10 % of epochs starts and at the end of history.csv
        (NaN, NaN if none)."""
        return _mean_ends([r.tail_r2 for r in self._steady()])

    @property
    def r2_moving(self) -> bool:
        """A regression whose mean R² changed by 0.01 or more over the last 10 % of
        epochs (as a classification's accuracy by a point), or by 1 % of an R² beyond
        ±1: its score is still moving. A loss near 0 can halve while the R² stays at
        1.000: that is not; nor is R² -1970.578 -> -1970.754 (claims23 L4: its loss
        moved by 0.009 %, as 1 - R² is the loss over the targets' variance)."""
        if not self.regression:
            return False
        before, after = self.tail_r2
        scale = max(1.0, abs(before), abs(after))
        return abs(after - before) >= ACCURACY_MOVING * scale - 1e-12

    @property
    def steady_moving(self) -> bool:
        """Not at 100 % in every seed, and its seeds that do not oscillate still changing at
        the end: their loss (the median seed's, by more than 5 %) or their mean accuracy (by
        1 point or more; a regression's R², by 0.01)."""
        if self.all_perfect:
            return False
        return self.median_tail_change > MOVING or self.accuracy_moving or self.r2_moving

    @property
    def moving(self) -> bool:
        """Not settled at the end: some seed oscillates, or the others are still moving
        (:attr:`steady_moving`)."""
        return self.oscillating or self.steady_moving

    @property
    def stopped_early(self) -> bool:
        """Every seed that did not diverge stopped by its own rule (tol, early stopping)."""
        kept = [r for r in self.runs if not r.record.diverged]
        return bool(kept) and not any(r.ran_out for r in kept)

    @property
    def trend(self) -> str:
        """Which way the moving loss goes at the end: ``falling``, ``rising`` or ``mixed``."""
        signs = {math.copysign(1, r.tail_trend) for r in self._steady() if r.tail_change > MOVING}
        return "falling" if signs == {-1.0} else "rising" if signs == {1.0} else "mixed"

    @property
    def config(self) -> RunConfig:
        """The configuration of the first seed (the others differ only in the seed)."""
        return self.runs[0].record.config


@dataclass
class ExperimentView:
    """An experiment's groups, settings in axis order, and how many runs are missing."""

    experiment: Experiment
    groups: list[GroupView]
    missing: int = 0
    settings: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)

    @property
    def has_test(self) -> bool:
        """Whether some of its runs were scored on a held-out set (``accuracy`` is then the
        training data's; a run without one was scored on its training data)."""
        return has_test_set([r.record for g in self.groups for r in g.runs])

    def kinds(self, dataset: str | None = None) -> set[str]:
        """The metrics its groups are scored by (on ``dataset`` only, when given):
        ``{"accuracy"}``, ``{"r2"}`` or both in a sweep of both kinds."""
        return {g.metric for g in self.groups if dataset is None or g.dataset == dataset}

    def get(self, setting: str, dataset: str) -> GroupView | None:
        for g in self.groups:
            if g.setting == setting and g.dataset == dataset:
                return g
        return None


def read_history(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(loss, accuracy)`` per epoch from ``history.csv`` (columns epoch,loss,accuracy,wall_time)."""
    # only the two columns used: parsing the epoch and clock columns too takes 1.6x as long
    path = run_dir / "history.csv"
    try:
        # a header alone (a run of no epochs; sweep_folder.run_problem refuses one whose
        # summary counts some): no raw NumPy warning on the report's stderr (robust22 M3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2), ndmin=2)
    except (OSError, ValueError) as exc:  # missing, cut short or edited by hand
        raise DamagedRunError(f"{path}: not a readable history ({exc})") from None
    if table.size == 0:
        return np.zeros(0), np.zeros(0)
    return table[:, 0], table[:, 1]


def training_data(cfg: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: the data a run of ``cfg`` trained on, inputs ``(n, features)``."""
    from proplab.experiments import load_dataset

    return load_dataset(cfg)


def best_line_hits(x: np.ndarray, y: np.ndarray) -> int:
    """How many of the points ``x`` ``(n, 2)`` with 0/1 labels ``y`` ``(n,)`` or ``(n, 1)``
    the best straight boundary classifies correctly (all n when a line separates them).

    Exact: a best line can be turned and shifted until it passes just beside two of the
    points without changing which side any point is on, so the directions across every
    pair's difference (each turned a hair both ways) and every cut between the sorted
    projections cover every way a line can split the points. ``O(n^3 log n)``: meant for
    the lab's small sets (XOR's 21 points: 16).
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1, 2)
    y = np.asarray(y).reshape(-1) > 0.5
    n = len(y)
    i, j = np.triu_indices(n, k=1)
    d = x[j] - x[i]
    d = d[np.hypot(d[:, 0], d[:, 1]) > 0]
    # the pairs' directions (a line through both points) and the axes, turned +-1e-7 rad
    angles = np.concatenate([np.arctan2(d[:, 1], d[:, 0]), [0.0, np.pi / 2]])
    angles = np.concatenate([angles + 1e-7, angles - 1e-7])
    normals = np.stack([-np.sin(angles), np.cos(angles)])  # (2, m): across each direction
    proj = x @ normals  # (n, m)
    order = np.argsort(proj, axis=0, kind="stable")
    ones = np.take_along_axis(np.broadcast_to(y[:, None], proj.shape), order, axis=0)
    sorted_proj = np.take_along_axis(proj, order, axis=0)
    # class 1 above the cut after k points (k = 0..n): zeros below + ones above
    ones_below = np.vstack([np.zeros((1, proj.shape[1])), np.cumsum(ones, axis=0)])
    k = np.arange(n + 1)[:, None]
    hits = (k - ones_below) + (y.sum() - ones_below)
    # a cut only between two different projections (a line cannot split equal ones)
    cuttable = np.ones_like(hits, dtype=bool)
    cuttable[1:-1] = sorted_proj[1:] > sorted_proj[:-1]
    hits = np.where(cuttable, np.maximum(hits, n - hits), 0)
    return int(hits.max())


def saved_model(run_dir: Path) -> Any:
    """The model a run saved (``model.npz``); DamagedRunError naming the file if unreadable."""
    from proplab.serialize import load

    path = run_dir / "model.npz"
    try:
        return load(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # missing or junk
        raise DamagedRunError(f"{path}: not a readable model ({exc})") from None


def final_predictions(
    run_dir: Path, cfg: RunConfig, points: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, pred)`` of the saved model on its training data, or on ``points`` when given."""
    x, y = training_data(cfg)
    model = saved_model(run_dir)
    with np.errstate(all="ignore"):  # a diverged model computes NaN; callers check
        pred = model.forward(x if points is None else points)
    return x, y, np.asarray(pred, dtype=np.float64)


class ViewCache:
    """Loads each run folder once, however many experiments share it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._runs: dict[str, RunView] = {}
        self._histories: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # read ahead, see preload

    def preload(self, records: list[RunRecord], jobs: int = 1) -> None:
        """Read the histories of ``records`` in ``jobs`` processes (parsing the CSVs is
        most of the time a report spends before its figures: ~11 ms per 20k epochs)."""
        # a run shared by several experiments is read once
        todo = {r.run for r in records} - self._runs.keys() - self._histories.keys()
        if jobs < 2 or len(todo) < 8:
            return
        from proplab.pools import redoable_pool

        runs = sorted(todo)
        dirs = [self.out / RUNS_DIR / run for run in runs]
        # parsing is CPU work: more processes than CPUs (or files) would only cost start-ups
        workers = min(jobs, os.cpu_count() or jobs, len(dirs))
        with redoable_pool(workers) as pool:
            chunk = max(1, len(dirs) // (4 * workers))
            for run, history in zip(
                runs, pool.map(read_history, dirs, chunksize=chunk), strict=True
            ):
                self._histories[run] = history

    def run(self, record: RunRecord) -> RunView:
        if record.run not in self._runs:
            run_dir = self.out / RUNS_DIR / record.run
            history = self._histories.pop(record.run, None)
            loss, acc = read_history(run_dir) if history is None else history
            view = RunView(record, run_dir, loss, acc)
            # a regression predicts values: no class, no saturated probability to find
            if not record.diverged and not is_regression_run(record.config):
                _, _, pred = final_predictions(run_dir, record.config)
                if pred.shape[-1] == 1:
                    classes = pred.reshape(-1) > 0.5
                    view.single_class = bool(classes.all() or not classes.any())
                    view.saturated = bool(np.all(np.minimum(pred, 1 - pred) < 1e-3))
            self._runs[record.run] = view
        return self._runs[record.run]


def experiment_views(
    spec: SweepSpec, records: list[RunRecord], cache: ViewCache
) -> list[ExperimentView]:
    """One view per experiment of ``spec`` (skipped ones included, with no groups)."""
    views = []
    for exp in spec.experiments:
        mine = [r for r in records if r.experiment == exp.name]
        groups = [GroupView(g, [cache.run(r) for r in g.records]) for g in group(mine)]
        settings: list[str] = []
        datasets: list[str] = []
        for name, labels in exp.runs:
            s = exp.setting_label(labels)
            if s not in settings:
                settings.append(s)
            d = exp.dataset_label(labels, spec.runs[name].dataset)
            if d not in datasets:
                datasets.append(d)
        missing = 0 if exp.skipped else len(exp.runs) - len(mine)
        views.append(ExperimentView(exp, groups, missing, settings, datasets))
    return views
