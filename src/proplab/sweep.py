"""Running a sweep: one run folder per configuration, resumable, optionally in parallel.

``proplab sweep FILE.toml --out DIR`` (see :mod:`proplab.sweep_spec` for the
file format) trains every configuration into ``DIR/runs/<name>/`` with
:func:`proplab.experiments.run_one`, shows overall progress on stderr and
writes ``results.csv`` and ``aggregate.csv``. Rerunning the same command
skips finished runs (those with a ``summary.json``) and redoes the others;
Ctrl-C or a crash loses nothing that had finished.

:func:`run_jobs` is the one step that trains a list of configurations;
:func:`run_sweep` takes it as its ``runner`` argument, so a faster runner
(stacked training) can replace it without touching the rest.
"""

from __future__ import annotations

import contextlib
import functools
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from proplab.config import RunConfig
from proplab.sweep_spec import (  # noqa: F401  (re-exported: the sweep API in one place)
    CONFIG_FIELDS,
    DATASET_AXIS,
    NAME_OK,
    SECTIONS,
    SEED_AXIS,
    Axis,
    Experiment,
    Setting,
    SweepError,
    SweepSpec,
    format_value,
    load_spec,
    parse_spec,
    run_name,
    suite_path,
)

RUNS_DIR = "runs"
SPEC_COPY = "sweep.toml"
SWEEP_LOG = "sweep_log.csv"  # one row per `proplab sweep` call: when, how long, what it did


@dataclass(frozen=True)
class RunJob:
    """One configuration to train into ``run_dir``."""

    name: str
    config: RunConfig
    run_dir: Path
    figures: bool = False  # per-run PNGs (the report draws its own figures from the files)

    @property
    def cost(self) -> float:
        """Rough relative cost for the ETA: epochs times a width factor."""
        return self.config.epochs * (1.0 + sum(self.config.hidden_sizes) / 40.0)


# on_done(job, outcome): outcome["status"] is "done", "failed" or "cancelled"
OnDone = Callable[[RunJob, dict[str, Any]], None]
# on_progress(cost): how much of the runs in flight is done, in RunJob.cost units
# (or in the runner's own units, once it has announced them through on_plan)
OnProgress = Callable[[float], None]
# on_plan(costs): the runner's own estimate of each job's cost, by job name
OnPlan = Callable[[dict[str, float]], None]
# on_stop(runs): Ctrl-C came; the runner now waits for these many runs in progress
OnStop = Callable[[int], None]


class Runner(Protocol):
    """Trains every job, in any order and any processes, calling ``on_done`` once per job.

    ``on_done(job, outcome)`` gets the outcome :func:`run_job` describes. A
    runner may also call ``on_progress(cost)`` with the part of the runs in
    flight already done (in :attr:`RunJob.cost` units), so the progress line
    moves while long work has not finished, and, once before training,
    ``on_plan(costs)`` with its own estimate of every job's cost (any unit:
    the ETA uses ratios) when it knows better than ``RunJob.cost`` (a
    stacked runner does: a run costs less in a big stack); ``on_progress``
    then speaks in those units. ``on_stop(runs)`` hears, when Ctrl-C comes to a
    runner with worker processes, how many runs in progress it waits for. The hooks
    are optional: :func:`run_sweep` passes only the keywords a runner's signature
    takes. On Ctrl-C a runner raises KeyboardInterrupt once the runs in flight have
    stopped (a second Ctrl-C while it waits abandons them). :func:`run_jobs`
    is the default; a stacked runner (many runs as one replica stack) plugs
    in through :func:`run_sweep`'s ``runner``.
    """

    def __call__(
        self,
        jobs: Sequence[RunJob],
        *,
        workers: int,
        on_done: OnDone,
        on_progress: OnProgress | None = None,
        on_plan: OnPlan | None = None,
        on_stop: OnStop | None = None,
    ) -> None: ...


class DamagedRunError(SweepError):
    """A run folder has its ``summary.json`` but a file of the run is unreadable or missing."""


# summary.json values the tables and the report compute with (None: a diverged run)
SUMMARY_NUMBERS = (
    "loss", "accuracy", "final_loss", "final_accuracy", "epochs_run", "wall_time_s",
    "stacked_with", "test_loss", "test_accuracy", "r2", "test_r2",
)  # fmt: skip
NPZ_MAGIC = b"PK\x03\x04"  # an .npz is a zip archive


def read_summary(run_dir: Path) -> dict[str, Any]:
    """A run's ``summary.json``, checked; DamagedRunError naming the file otherwise."""
    from proplab.runio import read_json

    path = run_dir / "summary.json"
    try:
        summary = read_json(path)
    except (OSError, ValueError) as exc:  # a bad UTF-8 byte is a ValueError too
        raise DamagedRunError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise DamagedRunError(f"{path}: holds {type(summary).__name__}, not a JSON object")
    for key in SUMMARY_NUMBERS:
        value = summary.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise DamagedRunError(f"{path}: {key} is {value!r}, not a number")
    return summary


def run_problem(run_dir: Path) -> str | None:
    """What is wrong with a run folder that has a ``summary.json`` (None: nothing, or no summary).

    Cheap enough to run for every run of a resumed sweep: the small summary is
    parsed, the other files are only looked at (history.csv must end its last
    row, model.npz must start like a zip), not read.
    """
    if not (run_dir / "summary.json").is_file():
        return None
    try:
        read_summary(run_dir)
    except DamagedRunError as exc:
        return str(exc)
    history, model = run_dir / "history.csv", run_dir / "model.npz"
    for path in (history, model):
        if not path.is_file():
            return f"{path}: missing"
    with open(history, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return f"{history}: empty"
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"\n":  # the file is written whole (atomically): a cut one was damaged
            return f"{history}: cut short (its last row has no end of line)"
    with open(model, "rb") as f:
        if f.read(len(NPZ_MAGIC)) != NPZ_MAGIC:
            return f"{model}: not an .npz file"
    return None


def is_finished(run_dir: Path) -> bool:
    """A run is finished when its ``summary.json`` (written last) and the files before it
    are in place; a damaged run is not, so a resumed sweep redoes it."""
    return (run_dir / "summary.json").is_file() and run_problem(run_dir) is None


_STOP: Any = None  # a multiprocessing.Event in worker processes
_PROGRESS: Any = None  # in run_jobs' workers: a shared array, each job's fraction of epochs done
_REPORT: Callable[[float], None] | None = None  # the fraction sink of the run in hand
EXIT_ORPHANED = 1  # a worker whose sweep is gone


def _init_worker(stop: Any, progress: Any = None) -> None:
    global _STOP, _PROGRESS
    _STOP, _PROGRESS = stop, progress
    from proplab.threads import limit_blas_threads

    limit_blas_threads()  # --jobs N processes must not each spin N BLAS threads
    # a forked worker inherits the sweep's SIGTERM handler (raise KeyboardInterrupt); a
    # worker is stopped through _STOP, and one told to terminate must just end
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and callable(signal.getsignal(getattr(signal, name))):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """A worker's watchdog: once the sweep that started it is gone (killed by SIGKILL,
    say), the worker exits instead of training on for nobody and then waiting forever
    on a queue nobody reads. A run being written is written first (it is finished)."""
    from proplab.runio import writes_in_progress

    while os.getppid() == parent:  # a dead parent's children are handed to another
        time.sleep(every)
    while writes_in_progress():
        time.sleep(0.05)
    os._exit(EXIT_ORPHANED)


def _report_fraction(slot: int, fraction: float) -> None:
    """In a worker: job ``slot`` has trained ``fraction`` of its epochs (the parent polls)."""
    if _PROGRESS is not None:
        _PROGRESS[slot] = fraction


def stop_callback(epochs: int) -> Callable[[int, Any], None] | None:
    """In a sweep worker, a fit callback that stops training once the sweep asks
    (``_STOP`` is set: Ctrl-C, or SIGTERM, to the parent alone); None elsewhere.

    It raises KeyboardInterrupt, which :func:`proplab.train.fit` turns into an
    "interrupted" history, as a Ctrl-C would. fit also calls its callback once
    after training; there the run is over (all ``epochs`` done, or stopped for a
    reason of its own), and stopping would throw it away, so that call is let be.
    """
    stop = _STOP
    if stop is None:
        return None

    def callback(epoch: int, history: Any) -> None:
        if history.stop_reason == "completed" and epoch < epochs and stop.is_set():
            raise KeyboardInterrupt

    return callback


def train_one(cfg: RunConfig, run_dir: Path, figures: bool = False) -> dict[str, Any]:
    """Train one configuration into ``run_dir`` quietly (tests replace this to count calls).

    Reports its fraction of epochs to the sink :func:`run_job` set, and stops when
    the sweep asks (:func:`stop_callback`).
    """
    from proplab.experiments import run_one

    report, stop = _REPORT, stop_callback(cfg.epochs)
    callback = None
    if report is not None or stop is not None:

        def callback(epoch: int, history: Any) -> None:
            if report is not None:
                report(epoch / cfg.epochs)
            if stop is not None:
                stop(epoch, history)

    return run_one(cfg, run_dir, quiet=True, progress=False, figures=figures, callback=callback)


def stops_sweep(outcome: dict[str, Any]) -> bool:
    """Whether a run's outcome means Ctrl-C came: it was interrupted, or finished while
    Ctrl-C waited for its files to be written (``"stopped"``: done, and the sweep stops)."""
    return outcome["status"] == "interrupted" or bool(outcome.get("stopped"))


def run_job(
    job: RunJob,
    train: Callable[[RunConfig, Path], dict[str, Any]] | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Train one job with ``train`` (default :func:`train_one`); never raises except on Ctrl-C.

    Returns ``{"status": "done", "summary": ..., "seconds": ...}`` (with ``"stopped":
    True`` when Ctrl-C came while its files were written: the run is finished and the
    sweep stops), ``{"status": "failed", "error": ...}``, ``{"status": "interrupted"}``
    or, in a worker told to stop, ``{"status": "cancelled"}``. ``progress(fraction)``
    hears how far its training has got (through :func:`train_one`).
    """
    global _REPORT
    if _STOP is not None and _STOP.is_set():
        return {"status": "cancelled"}
    train = train_one if train is None else train
    start = time.perf_counter()
    _REPORT = progress
    try:
        if job.figures:
            summary = train(job.config, job.run_dir, figures=True)
        else:
            summary = train(job.config, job.run_dir)
    except KeyboardInterrupt:
        if is_finished(job.run_dir):  # written whole before the Ctrl-C was let through
            seconds = time.perf_counter() - start
            summary = read_summary(job.run_dir)
            return {"status": "done", "summary": summary, "seconds": seconds, "stopped": True}
        return {"status": "interrupted"}
    except Exception as exc:  # one broken run must not stop the sweep
        return {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    finally:
        _REPORT = None
    if not is_finished(job.run_dir):
        return {"status": "interrupted"}  # run_one returns after Ctrl-C without a summary
    return {"status": "done", "summary": summary, "seconds": time.perf_counter() - start}


def in_progress(futures: Sequence[Any], workers: int) -> list[int]:
    """Indices of the futures that are running (at most ``workers``: a pool marks one
    more as running when it queues it for a worker)."""
    return [i for i, f in enumerate(futures) if f.running()][:workers]


def stop_pool(pool: ProcessPoolExecutor, stop: Any) -> None:
    """After Ctrl-C: tell the workers to stop (``stop``), then wait for the runs in
    progress, which stop at their next fit callback and save what they have; a second
    Ctrl-C (or SIGTERM) while waiting abandons them (their workers are terminated; a
    run cut short is redone on resume, a finished one is kept)."""
    stop.set()
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        # no public way to end a pool's processes: _processes is pid -> Process
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)  # quick now: ends the pool's thread


def run_jobs(
    jobs: Sequence[RunJob],
    *,
    workers: int = 1,
    on_done: OnDone,
    on_progress: OnProgress | None = None,
    on_plan: OnPlan | None = None,
    on_stop: OnStop | None = None,
    poll_seconds: float = 0.5,
) -> None:
    """Train ``jobs`` (one by one, or in ``workers`` processes) and report each to ``on_done``.

    ``on_plan(costs)``, if given, first hears each run's estimated cost
    (:func:`proplab.stack_plan.alone_costs`: the time model, which knows the
    data size, where ``RunJob.cost`` knows only epochs and widths).
    ``on_progress(cost)`` then hears how much of the runs in training is done,
    in those units (every ``poll_seconds`` with workers, every 100 epochs
    without): a long run reports nothing to ``on_done`` until it ends.

    Raises KeyboardInterrupt on Ctrl-C once the runs in flight have stopped;
    queued runs are cancelled. With workers, ``on_stop(runs)`` first hears how
    many runs in progress it waits for (a second Ctrl-C abandons them).
    Finished run folders are never touched again.
    """
    if on_plan is not None:
        from proplab.stack_plan import alone_costs

        costs = alone_costs(jobs)
        on_plan(costs)
    else:
        costs = {job.name: job.cost for job in jobs}
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            hook = None
            if on_progress is not None:

                def hook(fraction: float, cost: float = costs[job.name]) -> None:
                    on_progress(cost * fraction)

            outcome = run_job(job, progress=hook)
            if outcome["status"] != "interrupted":
                on_done(job, outcome)
            if stops_sweep(outcome):
                raise KeyboardInterrupt
        return
    ctx = multiprocessing.get_context()
    stop = ctx.Event()
    fractions = ctx.Array("d", len(jobs), lock=False)  # each slot written by one worker
    workers = min(workers, len(jobs))  # a forked pool starts all its processes at once
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(stop, fractions)
    )
    # hand the trainer over explicitly: workers need not be forks of this process
    futures = [
        pool.submit(run_job, job, train_one, functools.partial(_report_fraction, i))
        for i, job in enumerate(jobs)
    ]
    index = {fut: i for i, fut in enumerate(futures)}
    pending, finished = set(futures), set()
    reported = 0.0  # the in-flight work last reported (polls that saw no change stay quiet)
    stopping = False
    try:
        while pending:
            done, pending = wait(pending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    outcome = fut.result()
                except BrokenProcessPool as exc:
                    outcome = {"status": "failed", "error": f"worker process died ({exc})"}
                finished.add(index[fut])
                job = jobs[index[fut]]
                if outcome["status"] != "interrupted":
                    on_done(job, outcome)
                if stops_sweep(outcome):
                    raise KeyboardInterrupt
            if on_progress is not None:
                in_flight = sum(
                    costs[job.name] * fractions[i]
                    for i, job in enumerate(jobs)
                    if i not in finished
                )
                if in_flight != reported:
                    on_progress(in_flight)
                    reported = in_flight
    except KeyboardInterrupt:
        stopping = True
        if on_stop is not None:
            on_stop(len(in_progress(futures, workers)))
        stop_pool(pool, stop)
        raise
    finally:
        if not stopping:
            pool.shutdown(wait=True, cancel_futures=True)


class Progress:
    """Overall progress on stderr: runs done (and failed), elapsed, estimated remaining
    (cost-weighted)."""

    def __init__(self, total: int, skipped: int, cost: float, stream: Any = None) -> None:
        self.total, self.done, self.cost_total, self.cost_done = total, skipped, cost, 0.0
        self.failed = 0
        self.in_flight = 0.0  # the done part of runs not finished yet (stacks in training)
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -math.inf
        self._drawn = False  # a progress line is on the terminal, without its end of line

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        done = self.cost_done + self.in_flight
        eta = "?"
        if done > 0:
            eta = _clock(elapsed / done * max(self.cost_total - done, 0.0))
        share = f", {100 * done / self.cost_total:.0f} % of the work" if self.cost_total else ""
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"sweep: {self.done}/{self.total} runs done{failed}{share}, "
            f"elapsed {_clock(elapsed)}, remaining ~{eta}"
        )

    def replan(self, cost: float) -> None:
        """The work still to do is ``cost`` in all, in new units (before any progress)."""
        self.cost_total, self.cost_done, self.in_flight = cost, 0.0, 0.0

    def update(self, cost: float, note: str = "", failed: bool = False) -> None:
        """One run finished (or ``failed``); ``cost`` is its :attr:`RunJob.cost` (or the
        runner's plan for it)."""
        if failed:
            self.failed += 1
        else:
            self.done += 1
        self.cost_done += cost
        # its share of the work in flight is now done work
        self.in_flight = max(self.in_flight - cost, 0.0)
        self._show(self.done + self.failed == self.total, note, 0.0 if self.tty else 5.0)

    def partial(self, in_flight: float) -> None:
        """The runs in flight have done ``in_flight`` (in cost units) of their work."""
        self.in_flight = in_flight
        self._show(False, "", 0.2 if self.tty else 5.0)

    def say(self, text: str) -> None:
        """A line of its own above the progress line (on a terminal, the progress line
        is cleared first and drawn again under it at the next update)."""
        if self._drawn:
            self.stream.write("\r\033[K")
            self._drawn = False
            self._last = -math.inf  # draw it again at once
        self.stream.write(text + "\n")
        self.stream.flush()

    def _show(self, final: bool, note: str, min_interval: float) -> None:
        now = time.perf_counter()
        if not final and now - self._last < min_interval:
            return
        if self.tty:
            self.stream.write("\r\033[K" + self.line() + (f"  {note}" if note else ""))
            self._drawn = not final
            if final:
                self.stream.write("\n")
        else:
            self.stream.write(self.line() + "\n")
        self._last = now
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class SweepResult:
    """What a sweep did: counts, failures (name -> error), whether Ctrl-C stopped it
    (``stopped_by``: the signal that stopped it, SIGINT for Ctrl-C, SIGTERM or SIGHUP)."""

    total: int
    reused: int
    ran: int = 0  # runs finished by this call (their summary.json is there now)
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    stopped_by: int = int(signal.SIGINT)
    seconds: float = 0.0
    skipped_experiments: dict[str, str] = field(default_factory=dict)
    records: list[Any] = field(default_factory=list)  # aggregate.RunRecord of every finished run

    @property
    def exit_code(self) -> int:
        """0, 1 when runs failed, or after a stop 128 + the signal's number, the shell's
        code for a process ended by it (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP): a batch
        scheduler or a calling script sees why the sweep stopped."""
        if self.interrupted:
            return 128 + self.stopped_by
        return 1 if self.failed else 0


@dataclass
class FolderPlan:
    """What a sweep folder holds for ``spec``: the jobs, the finished runs to take over
    from other folder names, and the run folders the sweep does not use."""

    jobs: list[RunJob]
    # job name -> a finished run folder that holds its configuration under another name
    # (a [base] edit renames runs; their training is not thrown away)
    moves: dict[str, Path] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # folder names not part of the sweep


def plan(spec: SweepSpec, out: Path, figures: bool = False) -> list[RunJob]:
    """The jobs of ``spec`` under ``out/runs``; refuse folders holding a different
    configuration, or a run trained on a data file that changed since (see :func:`survey`)."""
    return survey(spec, out, figures).jobs


def survey(spec: SweepSpec, out: Path, figures: bool = False) -> FolderPlan:
    """Match ``spec``'s runs with the run folders in ``out/runs`` (reads nothing else).

    A folder whose ``config.json`` holds another configuration is refused, unless the
    configuration wanted there is finished in another folder of ``out/runs`` that the
    sweep does not otherwise use, which :func:`apply_moves` then renames into place. A
    finished run whose recorded data file (:func:`proplab.experiments.data_record`)
    no longer matches the file is refused too: reusing it would report a model
    trained on other data. A field missing from an older ``config.json`` counts as its
    default. Raises SweepError naming the folder, what differs and what to do.
    """
    from proplab.experiments import data_record

    runs_dir = out / RUNS_DIR
    wanted = spec.active_runs
    stored = {p.name: _stored(p) for p in _run_folders(runs_dir)}
    files: dict[str, dict[str, Any] | None] = {}  # each data file hashed once per sweep

    def data_now(cfg: RunConfig) -> dict[str, Any] | None:
        key = str(cfg.dataset).strip()
        if key not in files:
            files[key] = data_record(cfg)
        return files[key]

    jobs, conflicts, changed = [], {}, []
    for name, cfg in wanted.items():
        run_dir = runs_dir / name
        jobs.append(RunJob(name, cfg, run_dir, figures))
        record = stored.get(name)
        if record is None:
            continue
        config, data = record
        diff = [k for k, v in _as_json(cfg.to_dict()).items() if config[k] != v]
        if diff:
            conflicts[name] = diff[0]
        elif data is not None and is_finished(run_dir):
            now = data_now(cfg)
            if now is not None and now.get("sha256") != data.get("sha256"):
                changed.append((name, data, now))
    if changed:
        raise SweepError(
            data_changed_message(changed, out, "put the old file back, or run the sweep into "
            "another --out folder to train on the file as it is now")
        )  # fmt: skip

    # finished runs the sweep does not use where they are: the ones a [base] edit renamed
    spare: dict[str, list[str]] = {}
    for folder, record in stored.items():
        if record is not None and (folder not in wanted or folder in conflicts):
            if is_finished(runs_dir / folder):
                spare.setdefault(_config_key(record[0]), []).append(folder)
    moves: dict[str, Path] = {}
    for name, cfg in wanted.items():
        if name in stored and name not in conflicts:
            continue  # its own folder serves it (or is redone in place)
        now = data_now(cfg)
        for folder in spare.get(_config_key(_as_json(cfg.to_dict())), []):
            data = stored[folder][1]  # type: ignore[index]
            if data is None or now is None or data.get("sha256") == now.get("sha256"):
                spare[_config_key(stored[folder][0])].remove(folder)  # type: ignore[index]
                moves[name] = runs_dir / folder
                break
    taken = {p.name for p in moves.values()}
    for name, k in conflicts.items():
        if name in taken:
            continue  # its run moves on to the name that wants it (and the wanted one in)
        config = stored[name][0]  # type: ignore[index]
        cfg = wanted[name]
        if name in moves:  # the wanted run is finished elsewhere, but this one would be lost
            raise SweepError(
                f"{runs_dir / name}: holds a run with {k}={config[k]!r} that {spec.path} no "
                f"longer asks for under any name; the run it wants there ({k}="
                f"{getattr(cfg, k)!r}) is finished in {moves[name]}. Use another --out "
                "folder, or move that run folder out of the sweep folder"
            )
        raise SweepError(
            f"{runs_dir / name}: holds a run with {k}={config[k]!r}, but {spec.path} now asks "
            f"for {k}={getattr(cfg, k)!r}; use another --out folder, or move that run folder "
            "out of the sweep folder to train the new one there"
        )
    left_out = sorted(f for f in stored if f not in wanted and f not in taken)
    return FolderPlan(jobs, moves, left_out)


def apply_moves(moves: dict[str, Path], runs_dir: Path) -> None:
    """Rename each finished run folder of ``moves`` (job name -> folder) to its job's name.

    Two steps, so folders may swap names (a [base] edit does that): every folder first
    moves into a hidden temporary folder of ``runs_dir``, then to its new name. A
    crash in between leaves the runs in ``runs_dir/.moving-*``, not lost.
    """
    import tempfile

    parked = []
    for name, folder in moves.items():
        hold = Path(tempfile.mkdtemp(dir=runs_dir, prefix=".moving-"))
        os.rename(folder, hold / "run")
        parked.append((name, hold))
    for name, hold in parked:
        os.rename(hold / "run", runs_dir / name)
        hold.rmdir()


def data_changed_message(
    changed: list[tuple[str, dict[str, Any], dict[str, Any]]], out: Path, advice: str
) -> str:
    """One line: which data file changed since how many runs of ``out`` trained on it.

    ``changed`` holds (run name, the run's recorded data, the file's record now).
    """
    _, then, now = changed[0]
    same = [c for c in changed if c[1].get("file") == then.get("file")]
    others = len({c[1].get("file") for c in changed}) - 1
    runs = f"{len(same)} run" + ("s" if len(same) != 1 else "")
    also = f" (and {others} other data file{'s' if others != 1 else ''})" if others else ""
    return (
        f"{then.get('file')}: changed since {runs} in {out} trained on it (then "
        f"{then.get('bytes')} bytes, sha256 {str(then.get('sha256'))[:12]}; now {now['bytes']} "
        f"bytes, sha256 {now['sha256'][:12]}){also}; {advice}"
    )


def data_changes(
    records: Sequence[tuple[str, RunConfig]], out: Path
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The finished runs of ``out/runs`` (name, config) whose recorded data file differs
    from the file now: (name, recorded, now). Each file is hashed once; runs without a
    record (generated data, or a folder from before proplab recorded it) are not checked."""
    from proplab.experiments import data_record

    files: dict[str, dict[str, Any] | None] = {}
    changed = []
    for name, cfg in records:
        record = _stored(out / RUNS_DIR / name)
        if record is None or record[1] is None or not is_finished(out / RUNS_DIR / name):
            continue
        key = str(cfg.dataset).strip()
        if key not in files:
            files[key] = data_record(cfg)
        now = files[key]
        if now is not None and now.get("sha256") != record[1].get("sha256"):
            changed.append((name, record[1], now))
    return changed


def _run_folders(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    # .moving-*: apply_moves' temporary folders
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


@functools.cache
def _defaults() -> dict[str, Any]:
    return _as_json(RunConfig().to_dict())


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as config.json holds them (lists for tuples), to compare with it."""
    import json

    from proplab.runio import jsonable

    return json.loads(json.dumps(jsonable(values)))


def _config_key(config: dict[str, Any]) -> str:
    import json

    return json.dumps(config, sort_keys=True)


def _stored(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """A run folder's stored configuration (every RunConfig field: one an older proplab
    did not write counts as its default) and its data record, or None without a
    readable ``config.json``."""
    from proplab.experiments import DATA
    from proplab.runio import read_json

    path = run_dir / "config.json"
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    record = None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        record = data.get(DATA) if isinstance(data.get(DATA), dict) else None
        data = data["config"]
    if not isinstance(data, dict):
        return None
    # a key a newer proplab wrote is not ours to compare; a missing one is the default
    return {k: data.get(k, v) for k, v in _defaults().items()}, record


def run_sweep(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    jobs: int = 1,
    runner: Runner = run_jobs,
    stream: Any = None,
    figures: bool = False,
    replace: bool = False,
) -> SweepResult:
    """Run every configuration of ``spec`` into ``out``; write results.csv and aggregate.csv.

    Finished runs (with ``summary.json``) are reused, also under a new name (see
    :func:`survey`). A folder that holds another sweep (``sweep.toml`` with another
    title) is refused unless ``replace``. Ctrl-C (or SIGTERM, SIGHUP) stops the sweep
    keeping every finished run (a run being written is written first); the CSVs are
    written either way, and ``SweepResult.records`` holds what they describe.
    """
    from proplab import aggregate
    from proplab.runio import ensure_writable_dir, write_text

    out = ensure_writable_dir(out)
    ensure_writable_dir(out / RUNS_DIR)  # OutputDirError (exit 2), not a traceback, if a file
    stream = sys.stderr if stream is None else stream
    # all refusals come before anything is written
    _check_same_sweep(spec, out, replace, stream)
    folders = survey(spec, out, figures)
    all_jobs = folders.jobs
    write_text(out / SPEC_COPY, spec.text)
    if folders.moves:
        apply_moves(folders.moves, out / RUNS_DIR)
        old, new = next(iter(folders.moves.items()))
        stream.write(
            f"sweep: {len(folders.moves)} finished run(s) renamed to the names {spec.path} "
            f"gives them and reused (e.g. {new.name} -> {old})\n"
        )
    if folders.left_out:
        n = len(folders.left_out)
        stream.write(
            f"sweep: {n} run folder{'s' if n != 1 else ''} in {out / RUNS_DIR} "
            f"{'are' if n != 1 else 'is'} not part of {spec.path} (e.g. {folders.left_out[0]}); "
            "results.csv and the report leave them out\n"
        )
    todo = [j for j in all_jobs if not is_finished(j.run_dir)]
    result = SweepResult(total=len(all_jobs), reused=len(all_jobs) - len(todo))
    result.skipped_experiments = {e.name: e.skipped for e in spec.experiments if e.skipped}
    for job in todo:
        problem = run_problem(job.run_dir)
        if problem is not None:
            stream.write(f"sweep: redoing run {job.name}: {problem}\n")
    for name, why in result.skipped_experiments.items():
        stream.write(f"sweep: skipping experiment {name!r}: {why}\n")
    if result.reused:
        stream.write(f"sweep: {result.reused} of {result.total} runs already finished in {out}\n")
    costs = {j.name: j.cost for j in todo}
    progress = Progress(len(all_jobs), result.reused, sum(costs.values()), stream)

    def on_plan(planned: dict[str, float]) -> None:
        costs.update(planned)
        progress.replan(sum(costs.values()))

    def on_done(job: RunJob, outcome: dict[str, Any]) -> None:
        failed = outcome["status"] == "failed"
        if failed:
            result.failed[job.name] = outcome.get("error", "unknown error")
            progress.say(f"sweep: run {job.name} failed: {result.failed[job.name]}")
        progress.update(costs[job.name], job.name, failed=failed)

    def on_stop(runs: int) -> None:
        waiting = f"waiting for the {runs} run{'s' * (runs != 1)} in progress to stop and save"
        progress.say(f"sweep: stopping: {waiting} (Ctrl-C again to abandon them)")

    start = time.perf_counter()
    with _stop_signals_as_ctrl_c() as caught:
        try:
            if todo:
                hooks = {"on_progress": progress.partial, "on_plan": on_plan, "on_stop": on_stop}
                runner(
                    todo,
                    workers=max(1, int(jobs)),
                    on_done=on_done,
                    # a runner written before a hook existed need not take it
                    **{k: v for k, v in hooks.items() if _takes(runner, k)},
                )
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            progress.close()
            result.seconds = time.perf_counter() - start
            # what this call finished, read from the folders: after Ctrl-C, workers
            # finish runs the runner no longer reports
            result.ran = sum(is_finished(j.run_dir) for j in todo)
            result.records = aggregate.write_tables(spec, out)
            _append_log(out, result, jobs, spec)
    if caught:
        result.stopped_by = caught[0]
    finished = result.reused + result.ran
    if result.interrupted:
        by = (
            ""
            if result.stopped_by == signal.SIGINT
            else f" by {signal.Signals(result.stopped_by).name}"
        )
        stream.write(
            f"sweep: interrupted{by}; {finished}/{result.total} runs are finished and kept "
            f"({result.ran} of them trained now). Rerun the same command to resume.\n"
        )
    return result


def _check_same_sweep(spec: SweepSpec, out: Path, replace: bool, stream: Any) -> None:
    """Refuse to run ``spec`` into a folder holding another sweep (another title in its
    ``sweep.toml``): its results.csv and report would be replaced and its run folders
    left out. Same parsed content, or the same title (an edited file), pass."""
    import tomllib

    path = out / SPEC_COPY
    try:
        old = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no sweep here yet (or an unreadable copy: replaced)
        return
    if old == tomllib.loads(spec.text):  # comments and layout do not make another sweep
        return
    old_title = str(old.get("title", "") or "Sweep")
    if old_title == spec.title:
        return  # the same sweep, edited: survey refuses what it cannot reuse
    folders = [p.name for p in _run_folders(out / RUNS_DIR)]
    foreign = sum(name not in spec.active_runs for name in folders)
    what = (
        f"{foreign} of its {len(folders)} run folders are not part of {spec.path} "
        f"({spec.title!r}) and would be left out"
    )
    if replace:
        stream.write(f"sweep: --replace: {out} held the sweep {old_title!r}; {what}\n")
        return
    raise SweepError(
        f"{out}: holds the sweep {old_title!r} ({path}); {what}. Use another --out folder, "
        "or pass --replace to run it into this one (its results.csv, report and sweep.toml "
        "are replaced; no run folder is deleted)"
    )


def sweep_digest(text: str) -> str:
    """A short hash of a sweep file's content (comments and layout aside)."""
    import hashlib
    import json
    import tomllib

    content = json.dumps(tomllib.loads(text), sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _stop_signals_as_ctrl_c() -> Iterator[list[int]]:
    """During a sweep, SIGTERM and SIGHUP (``kill PID``, a batch scheduler's stop, a
    closed ssh session) raise KeyboardInterrupt: the sweep stops as on Ctrl-C, keeping
    its finished runs and stopping its workers, instead of dying at once and leaving
    them to train on. Yields the list of such signals received. A signal set to be
    ignored (``nohup``) stays ignored; outside the main thread nothing changes."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum: int, _frame: Any) -> None:
        caught.append(signum)
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield caught
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _takes(function: Callable[..., Any], keyword: str) -> bool:
    """Whether ``function`` accepts the keyword argument ``keyword`` (or any, via ``**``)."""
    import inspect

    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature: try it
        return True
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _append_log(out: Path, result: SweepResult, jobs: int, spec: SweepSpec) -> None:
    from proplab.runio import read_csv, write_csv

    path = out / SWEEP_LOG
    header = ["finished_at", "seconds", "jobs", "trained", "reused", "failed", "interrupted"]
    header += ["title", "sweep_sha256"]  # which sweep file this call ran
    rows = [[r.get(k, "") for k in header] for r in read_csv(path)] if path.is_file() else []
    rows.append(
        [
            time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            round(result.seconds, 2),
            jobs,
            result.ran,
            result.reused,
            len(result.failed),
            result.interrupted,
            spec.title,
            sweep_digest(spec.text),
        ]
    )
    write_csv(path, header, rows)


def load_suite(file: str | os.PathLike[str]) -> SweepSpec:
    """A sweep file, or the name of a shipped suite (``"lab"``) when no such file exists."""
    path = Path(file)
    # a folder is never a sweep file: `proplab sweep lab --out lab` must still find the
    # shipped suite when it is rerun to resume
    if not path.is_file() and NAME_OK.match(str(file)):
        try:
            path = suite_path(str(file))
        except SweepError:
            pass  # neither a file nor a shipped suite: load_spec says "no such sweep file"
    if path.is_dir():
        hint = (
            f"; it holds the one it ran as {path / SPEC_COPY}"
            if (path / SPEC_COPY).is_file()
            else ""
        )
        raise SweepError(f"{path}: is a folder, not a sweep file (a .toml){hint}")
    return load_spec(path)


STACK_MODES = ("auto", "off")


def choose_runner(stack: str = "auto", stack_memory_mb: float = 512) -> Runner:
    """``run_jobs`` (one run at a time) or the stacked runner (compatible runs as one stack).

    ``stack="auto"`` trains runs of one network shape that differ only in
    seed, scalar hyperparameters, activations, bias or optimizer (see
    :func:`proplab.stack_plan.structure_key`) as replica stacks of at most ``stack_memory_mb`` MB of
    arrays each (see :mod:`proplab.stacking`); results are the same either way.
    """
    if stack not in STACK_MODES:
        raise SweepError(f"--stack: unknown mode {stack!r} (accepted: {', '.join(STACK_MODES)})")
    # inf MB would overflow int() below: a budget is a finite number
    if not (stack_memory_mb > 0 and math.isfinite(stack_memory_mb)):
        raise SweepError(f"--stack-memory: must be a number of MB > 0, got {stack_memory_mb!r}")
    if stack == "off":
        return run_jobs
    from proplab.stacking import run_stacked

    return functools.partial(run_stacked, budget=int(stack_memory_mb * 2**20))


def main(
    file: str,
    out: str,
    jobs: int = 1,
    stack: str = "auto",
    stack_memory_mb: float = 512,
    figures: bool = False,
    replace: bool = False,
) -> int:
    """``proplab sweep FILE --out DIR [--jobs N] [--stack auto|off] [--replace]``: the exit
    code (2: bad input)."""
    if jobs < 1:
        print(f"proplab sweep: error: argument --jobs: must be >= 1, got {jobs}", file=sys.stderr)
        return 2
    try:
        runner = choose_runner(stack, stack_memory_mb)
        spec = load_suite(file)
        result = run_sweep(spec, out, jobs=jobs, runner=runner, figures=figures, replace=replace)
    except SweepError as exc:
        print(f"proplab sweep: error: {exc}", file=sys.stderr)
        return 2
    from proplab.aggregate import format_table

    # the results at a glance: accuracy for classification, R² for regression (values)
    for line in format_table(result.records):
        print(line)
    print(
        f"sweep: {result.total} runs ({result.reused} reused, {result.ran} trained, "
        f"{len(result.failed)} failed) in {result.seconds:.1f} s; "
        f"results in {Path(out) / 'results.csv'} and {Path(out) / 'aggregate.csv'}"
    )
    return result.exit_code


def lab_suite(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    jobs: int = 2,
    started: float | None = None,
    runner: Runner | None = None,
    replace: bool = False,
) -> int:
    """``proplab lab`` after the two lab runs: run the suite into ``out``, write the report
    (``replace``: into a folder holding another sweep, see :func:`run_sweep`).

    Returns the sweep's exit code (0, 1 if runs failed, 130 on Ctrl-C). After
    Ctrl-C no report is written: rerunning resumes the sweep and then writes it.
    """
    from proplab.report import build_report

    started = time.perf_counter() if started is None else started
    result = run_sweep(spec, out, jobs=jobs, runner=runner or choose_runner(), replace=replace)
    if result.interrupted:
        return result.exit_code
    md, html = build_report(out, log=lambda msg: print(msg, file=sys.stderr), jobs=jobs)
    minutes, seconds = divmod(int(round(time.perf_counter() - started)), 60)
    print(
        f"lab suite: {result.total} runs ({result.reused} reused, {result.ran} trained, "
        f"{len(result.failed)} failed) with --jobs {jobs}; the lab took {minutes} min {seconds} s"
    )
    print(f"report written to {md} and {html}")
    return result.exit_code
