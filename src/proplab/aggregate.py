"""Collect a sweep's finished runs and summarise them over seeds.

``results.csv`` has one row per run and experiment (a run shared by two
experiments, such as the lab's baseline, appears once under each);
``aggregate.csv`` has one row per experiment, setting and dataset with the
mean, standard deviation (sample, ddof=1), minimum and maximum over seeds of
the final accuracy and loss. ``final_accuracy`` is always the accuracy on the
data the run trained on; a sweep with a held-out set (``test_fraction``) adds
``test_loss`` and ``test_accuracy`` to ``results.csv`` and the test accuracy's
statistics to ``aggregate.csv``. A sweep with regression runs (the zoo's
``plane`` and ``multi-gauss``, whose targets are values: no accuracy) adds
their R² as ``final_r2`` (and ``test_r2``) to ``results.csv`` and its
statistics (``r2_mean``...) to ``aggregate.csv``; a regression run's accuracy
cells are NaN and a classification run's R² cells are NaN, so each kind keeps
its own meaningful numbers in a mixed sweep. Everything is read back from the
run folders, so the tables always describe what is on disk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proplab.config import RunConfig
from proplab.dataload import is_regression_run
from proplab.runio import write_csv
from proplab.sweep_folder import RUNS_DIR, DamagedRunError, is_finished, read_summary, run_problem
from proplab.sweep_spec import SweepSpec, format_value
from proplab.train_text import fixed

RESULTS_CSV = "results.csv"
AGGREGATE_CSV = "aggregate.csv"


@dataclass
class RunRecord:
    """One finished run as seen by one experiment."""

    experiment: str
    setting: str
    dataset: str  # config.dataset, or its dataset-axis label (see Experiment.dataset_label)
    seed: int
    run: str
    config: RunConfig
    final_loss: float  # NaN when the run diverged
    final_accuracy: float  # fraction in [0, 1]; NaN when the run diverged
    epochs: int
    stop_reason: str
    seconds: float
    stacked_with: int = 1  # replicas in the stack it trained in (1: alone)
    test_loss: float = math.nan  # on the held-out set; NaN without one, or diverged
    test_accuracy: float = math.nan
    n_test: int = 0  # held-out samples (0: trained and scored on the same data)
    final_r2: float = math.nan  # a regression run's R² on its training data (NaN: diverged)
    test_r2: float = math.nan  # ... and on its held-out set (NaN without one)
    n_samples: int = 0  # samples it trained on (0: not recorded)

    @property
    def updates_per_epoch(self) -> int:
        """Weight updates in one epoch: one per mini-batch (the last may be short), one
        for full batch (also when the sample count was not recorded)."""
        size = self.config.batch_size
        if size is None or self.n_samples <= 0:
            return 1
        return -(-self.n_samples // size)

    @property
    def diverged(self) -> bool:
        return self.stop_reason == "diverged" or not math.isfinite(self.final_loss)

    @property
    def regression(self) -> bool:
        """Whether the run fitted values (its score is R², its accuracy NaN)."""
        return is_regression_run(self.config)

    @property
    def metric(self) -> str:
        """What :meth:`score` gives: ``"r2"`` for a regression, else ``"accuracy"`` (the
        :class:`proplab.sweep_dots.DotSet` metric of the run's dots)."""
        return "r2" if self.regression else "accuracy"

    def score(self, test: bool = False) -> float:
        """The run's final score as a figure compares it: R² for a regression, else the
        accuracy (a fraction); on the held-out set with ``test`` (the training data's
        score when nothing was held out); NaN when it diverged."""
        if self.diverged:
            return math.nan
        held = test and self.n_test > 0
        if self.regression:
            return self.test_r2 if held else self.final_r2
        return self.test_accuracy if held else self.final_accuracy


# above this, squares of differences can overflow float64 (max ~1.8e308)
_HUGE = 1e150


@dataclass
class Stats:
    """Mean, sample std (ddof=1; NaN for one value), min and max of some numbers."""

    mean: float
    std: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        """Statistics over the finite ``values`` (NaN everywhere when there are none)."""
        a = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
        if a.size == 0:
            return cls(math.nan, math.nan, math.nan, math.nan, 0)
        scale = float(np.abs(a).max())
        if scale > _HUGE:
            # a run whose loss grew huge without overflowing: the squares in the std
            # (and the sum in the mean) would overflow, so work on a / scale instead
            a = a / scale
        else:
            scale = 1.0
        std = scale * float(a.std(ddof=1)) if a.size > 1 else math.nan
        lo, hi = scale * float(a.min()), scale * float(a.max())
        return cls(scale * float(a.mean()), std, lo, hi, int(a.size))


def clearly_below(a: Stats, b: Stats, floor: float) -> bool:
    """Whether mean ``a`` is below mean ``b`` by more than the seeds explain: by more than
    ``floor`` and than twice the standard error of the difference (a lone seed has no
    spread, so its std counts as 0). The report's one rule for "X ends better than Y"."""
    if not (a.n and b.n):
        return False
    return b.mean - a.mean > max(floor, difference_spread(a, b))


def difference_spread(a: Stats, b: Stats) -> float:
    """Twice the standard error of the difference of the means of ``a`` and ``b``: the gap
    the seeds' spread alone explains (a lone seed's std counts as 0; an empty side adds 0)."""
    var = sum((s.std if math.isfinite(s.std) else 0.0) ** 2 / s.n for s in (a, b) if s.n)
    return 2.0 * math.sqrt(var)


@dataclass
class Group:
    """All seeds of one setting on one dataset in one experiment."""

    experiment: str
    setting: str
    dataset: str
    records: list[RunRecord] = field(default_factory=list)

    @property
    def accuracy(self) -> Stats:
        """Final accuracy over the runs that did not diverge (a NaN model has none)."""
        return Stats.of([r.final_accuracy for r in self.records if not r.diverged])

    @property
    def loss(self) -> Stats:
        """Final loss over the runs that did not diverge."""
        return Stats.of([r.final_loss for r in self.records if not r.diverged])

    @property
    def test_accuracy(self) -> Stats:
        """Accuracy on the held-out set over the runs that have one and did not diverge."""
        return Stats.of([r.test_accuracy for r in self.records if not r.diverged])

    @property
    def r2(self) -> Stats:
        """A regression's final R² over the runs that did not diverge (n=0 otherwise)."""
        return Stats.of([r.final_r2 for r in self.records if not r.diverged])

    @property
    def test_r2(self) -> Stats:
        """R² on the held-out set over the runs that have one and did not diverge."""
        return Stats.of([r.test_r2 for r in self.records if not r.diverged])

    @property
    def regression(self) -> bool:
        """Whether the group's runs fitted values (one dataset: all of them or none)."""
        return any(r.regression for r in self.records)

    @property
    def n_diverged(self) -> int:
        return sum(r.diverged for r in self.records)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.records]


def _number(summary: dict[str, Any], *keys: str) -> float:
    for key in keys:
        if key in summary:
            value = summary[key]
            return math.nan if value is None else float(value)
    return math.nan


def read_record(run_dir: Path, cfg: RunConfig, experiment: str, setting: str) -> RunRecord:
    """The record of a finished run, from its ``summary.json``."""
    summary = read_summary(run_dir)
    return RunRecord(
        experiment=experiment,
        setting=setting,
        dataset=cfg.dataset,
        seed=cfg.seed,
        run=run_dir.name,
        config=cfg,
        final_loss=_number(summary, "final_loss", "loss"),
        final_accuracy=_number(summary, "final_accuracy", "accuracy"),
        epochs=int(_number(summary, "epochs_run", "epochs")),
        stop_reason=str(summary.get("stop_reason", "completed")),
        # a run trained in a replica stack of K shares the stack's time: count 1/K of it
        seconds=_number(summary, "wall_time_s", "train_seconds", "seconds")
        / max(int(summary.get("stacked_with") or 1), 1),
        stacked_with=max(int(summary.get("stacked_with") or 1), 1),
        test_loss=_number(summary, "test_loss"),
        test_accuracy=_number(summary, "test_accuracy"),
        n_test=int(summary.get("n_test") or 0),
        final_r2=_number(summary, "r2"),
        test_r2=_number(summary, "test_r2"),
        n_samples=int(summary.get("n_samples") or 0),
    )


def collect(spec: SweepSpec, out: str | Path, strict: bool = False) -> list[RunRecord]:
    """Records of every finished run of every experiment that is not skipped, in spec order.

    A damaged run (see :func:`proplab.sweep.run_problem`) is left out like an
    unfinished one, or with ``strict`` raises DamagedRunError naming the file
    (the report's choice: it would otherwise fail later on that file).
    """
    out = Path(out)
    cache: dict[str, RunRecord] = {}
    records = []
    for exp in spec.experiments:
        if exp.skipped:
            continue
        for name, labels in exp.runs:
            run_dir = out / RUNS_DIR / name
            if not is_finished(run_dir):
                problem = run_problem(run_dir) if strict else None
                if problem is not None:
                    raise DamagedRunError(
                        f"{problem}; rerun the sweep on this folder to redo that run"
                    )
                continue
            if name not in cache:
                cache[name] = read_record(run_dir, spec.runs[name], "", "")
            rec = cache[name]
            shown = {
                "experiment": exp.name,
                "setting": exp.setting_label(labels),
                "dataset": exp.dataset_label(labels, rec.dataset),
            }
            records.append(RunRecord(**{**rec.__dict__, **shown}))
    return records


def group(records: Sequence[RunRecord]) -> list[Group]:
    """Records grouped by (experiment, setting, dataset), in first-seen order."""
    groups: dict[tuple[str, str, str], Group] = {}
    for r in records:
        key = (r.experiment, r.setting, r.dataset)
        if key not in groups:
            groups[key] = Group(*key)
        groups[key].records.append(r)
    return list(groups.values())


def varying_fields(records: Sequence[RunRecord]) -> list[str]:
    """Config fields (besides dataset and seed) whose value differs between runs."""
    if not records:
        return []
    dicts = [r.config.to_dict() for r in records]
    return [
        k
        for k in dicts[0]
        if k not in ("dataset", "seed") and any(d[k] != dicts[0][k] for d in dicts[1:])
    ]


RESULT_COLUMNS = ("final_loss", "final_accuracy", "epochs", "stop_reason", "seconds")
TEST_COLUMNS = ("test_loss", "test_accuracy")  # added when some run has a held-out set
R2_COLUMNS = ("final_r2",)  # added when some run is a regression ...
TEST_R2_COLUMNS = ("test_r2",)  # ... and has a held-out set
STAT_NAMES = ("mean", "std", "min", "max")


def has_test_set(records: Sequence[RunRecord]) -> bool:
    """Whether any of ``records`` was scored on a held-out set."""
    return any(r.n_test > 0 for r in records)


def has_regression(records: Sequence[RunRecord]) -> bool:
    """Whether any of ``records`` fitted values (its tables then carry R² columns)."""
    return any(r.regression for r in records)


def write_tables(spec: SweepSpec, out: str | Path, strict: bool = False) -> list[RunRecord]:
    """Write ``results.csv`` and ``aggregate.csv`` into ``out``; return the records
    (``strict``: as in :func:`collect`)."""
    out = Path(out)
    records = collect(spec, out, strict)
    extra = varying_fields(records)
    test = has_test_set(records)  # final_accuracy stays the training accuracy, as in summary.json
    # R² columns only when a run fitted values: a classification sweep's tables stay as they were
    r2 = has_regression(records)
    header = ["experiment", "setting", "dataset", "seed", "run", *extra, *RESULT_COLUMNS]
    header += TEST_COLUMNS if test else ()
    header += R2_COLUMNS if r2 else ()
    header += TEST_R2_COLUMNS if r2 and test else ()
    rows = [
        [
            r.experiment, r.setting, r.dataset, r.seed, r.run,
            *(format_value(getattr(r.config, k)) for k in extra),
            r.final_loss, r.final_accuracy, r.epochs, r.stop_reason, r.seconds,
            *((r.test_loss, r.test_accuracy) if test else ()),
            *((r.final_r2,) if r2 else ()),
            *((r.test_r2,) if r2 and test else ()),
        ]
        for r in records
    ]  # fmt: skip
    write_csv(out / RESULTS_CSV, header, rows)
    agg_header = ["experiment", "setting", "dataset", "n_seeds", "n_diverged"]
    agg_header += [f"accuracy_{s}" for s in STAT_NAMES] + [f"loss_{s}" for s in STAT_NAMES]
    agg_header += [f"test_accuracy_{s}" for s in STAT_NAMES] if test else []
    agg_header += [f"r2_{s}" for s in STAT_NAMES] if r2 else []
    agg_header += [f"test_r2_{s}" for s in STAT_NAMES] if r2 and test else []
    agg_rows = []
    for g in group(records):
        stats = [g.accuracy, g.loss]
        stats += [g.test_accuracy] if test else []
        stats += [g.r2] if r2 else []
        stats += [g.test_r2] if r2 and test else []
        agg_rows.append(
            [g.experiment, g.setting, g.dataset, len(g.records), g.n_diverged]
            + [getattr(st, name) for st in stats for name in STAT_NAMES]
        )
    write_csv(out / AGGREGATE_CSV, agg_header, agg_rows)
    return records


def _score_text(stats: Stats, regression: bool) -> str:
    """``'97.3 ± 1.2 % (95.0 to 98.7)'`` for an accuracy, ``'R² 0.912 ± 0.010 (0.900 to
    0.930)'`` for a regression (one run: the value alone); ``'-'`` when no run has one
    (all diverged)."""
    if stats.n == 0:
        return "-"
    if regression:
        prefix, unit, scale, digits = "R² ", "", 1.0, 3
    else:
        prefix, unit, scale, digits = "", " %", 100.0, 1

    def shown(value: float) -> str:
        return fixed(scale * value, digits)

    text = f"{prefix}{shown(stats.mean)}"
    if stats.n > 1:
        text += f" ± {shown(stats.std)}{unit}"
        text += f" ({shown(stats.min)} to {shown(stats.max)})"
        return text
    return text + unit


def format_table(records: Sequence[RunRecord]) -> list[str]:
    """The sweep's results as text, one line per setting and dataset (what ``proplab sweep``
    prints at the end): the runs, how many diverged, and the final score's mean ± std over
    seeds with its range, an accuracy for classification and R² for regression (and on the
    held-out set when there is one). No lines for no records."""
    groups = group(records)
    if not groups:
        return []
    test = has_test_set(records)
    several = len({g.experiment for g in groups}) > 1
    header = ["experiment"] if several else []
    # the score on the data trained on; beside it, with a held-out set, the score there
    final = "train score" if test else "final score"
    header += ["setting", "dataset", "runs", f"{final} (mean ± std over seeds, min to max)"]
    header += ["test score"] if test else []
    rows = []
    for g in groups:
        done = f"{len(g.records)}" + (f" ({g.n_diverged} diverged)" if g.n_diverged else "")
        row = [g.experiment] if several else []
        row += [
            g.setting,
            g.dataset,
            done,
            _score_text(g.r2 if g.regression else g.accuracy, g.regression),
        ]
        if test:
            held = any(r.n_test > 0 for r in g.records)
            tstats = g.test_r2 if g.regression else g.test_accuracy
            row.append(_score_text(tstats, g.regression) if held else "(none held out)")
        rows.append(row)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return lines
