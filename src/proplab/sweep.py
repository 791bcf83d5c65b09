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

This module runs a sweep from start to end (its signals, its log, the exit
code) and is the sweep API in one place: it re-exports what its parts define,
:mod:`proplab.sweep_spec` (sweep files), :mod:`proplab.sweep_folder` (what a
sweep folder holds and what to do with it), :mod:`proplab.sweep_workers` (the
unstacked runner and its worker processes) and :mod:`proplab.sweep_progress`
(the progress line).
"""

from __future__ import annotations

import functools
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proplab.checks import did_you_mean
from proplab.stack_plan import MAX_STACK_MB
from proplab.sweep_folder import (  # noqa: F401  (re-exported)
    NPZ_MAGIC,
    PARKED,
    RUNS_DIR,
    SPEC_COPY,
    SUMMARY_NUMBERS,
    SWEEP_LOG,
    DamagedRunError,
    FolderPlan,
    RunJob,
    apply_moves,
    check_same_sweep,
    data_changed_message,
    data_changes,
    is_finished,
    plan,
    read_summary,
    recover_parked,
    run_problem,
    survey,
    sweep_digest,
    sweep_file,
)
from proplab.sweep_progress import Progress  # noqa: F401  (re-exported)
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
    shipped_suites,
    suite_path,
)

# re-exported (not train_one, STOP or ProcessPoolExecutor: replace those in
# proplab.sweep_workers, where run_jobs looks them up; here it would not see them)
from proplab.sweep_workers import (  # noqa: F401
    EXIT_ORPHANED,
    WORKER_DIED,
    OnDone,
    OnPlan,
    OnProgress,
    OnStop,
    Runner,
    in_progress,
    run_job,
    run_jobs,
    stop_callback,
    stop_pool,
    stops_sweep,
)


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
    write_error: str = ""  # "cannot write FILE: No space left on device": the sweep stopped
    records: list[Any] = field(default_factory=list)  # aggregate.RunRecord of every finished run

    @property
    def exit_code(self) -> int:
        """0, 1 when runs failed, or after a stop 128 + the signal's number, the shell's
        code for a process ended by it (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP): a batch
        scheduler or a calling script sees why the sweep stopped."""
        if self.interrupted:
            return 128 + self.stopped_by
        return 1 if self.failed else 0


class _WriteStop(KeyboardInterrupt):
    """A run could not write its files (a full disk, a quota, a file size limit): the
    runners stop as on Ctrl-C (workers stop, queued runs are cancelled), and
    :func:`run_sweep` says why instead of "interrupted"."""


def run_sweep(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    jobs: int = 1,
    runner: Runner = run_jobs,
    stream: Any = None,
    figures: bool = False,
    replace: bool = False,
    progress: bool = True,
    started: float | None = None,
) -> SweepResult:
    """Run every configuration of ``spec`` into ``out``; write results.csv and aggregate.csv.

    Finished runs (with ``summary.json``) are reused, also under a new name (see
    :func:`survey`). A folder that holds another sweep (``sweep.toml`` with another
    title) is refused unless ``replace``. Ctrl-C (or SIGTERM, SIGHUP) stops the sweep
    keeping every finished run (a run being written is written first); the CSVs are
    written either way, and ``SweepResult.records`` holds what they describe.
    ``progress=False`` draws no progress line on ``stream`` (messages are still written).
    ``SweepResult.seconds`` counts from ``started`` (a ``time.perf_counter()``; default:
    this call), so that a caller's own work (reading the data) is counted too.
    """
    from proplab.runio import ensure_writable_dir, folder_lock

    out = ensure_writable_dir(out)
    # a second sweep (or lab) into this folder is refused before it reads or writes a thing
    with folder_lock(out, "sweep"):
        return _sweep_into(
            spec, out, jobs, runner, sys.stderr if stream is None else stream, figures,
            replace, progress, started,
        )  # fmt: skip


def _sweep_into(
    spec: SweepSpec,
    out: Path,
    jobs: int,
    runner: Runner,
    stream: Any,
    figures: bool,
    replace: bool,
    progress: bool,
    started: float | None,
) -> SweepResult:
    """:func:`run_sweep` once it holds ``out``'s lock."""
    from proplab import aggregate
    from proplab.runio import ensure_writable_dir, stop_signals_as_ctrl_c, write_text

    ensure_writable_dir(out / RUNS_DIR)  # OutputDirError (exit 2), not a traceback, if a file
    # all refusals come before anything is written
    check_same_sweep(spec, out, replace, stream)
    # runs a sweep killed while renaming them left hidden (robust22 M2): back in sight,
    # where survey reuses them under the names this sweep wants them by
    recovered = recover_parked(out / RUNS_DIR)
    if recovered:
        n = len(recovered)
        stream.write(
            f"sweep: {n} run folder{'s' * (n != 1)} an interrupted sweep left in "
            f"{out / RUNS_DIR}/{PARKED}* moved back as {', '.join(recovered)}\n"
        )
    folders = survey(spec, out, figures)
    all_jobs = folders.jobs
    # a half-written table of a sweep killed outright (runio.atomic_open's
    # ".sweep_log.csv.x1y2.tmp"): this call writes each file again (run folders clean
    # their own, experiments.start_run_dir)
    tables = (SPEC_COPY, SWEEP_LOG, aggregate.RESULTS_CSV, aggregate.AGGREGATE_CSV)
    own = tuple(f".{name}." for name in tables)
    for leftover in out.glob(".*.tmp"):
        if leftover.name.startswith(own):
            leftover.unlink(missing_ok=True)
    write_text(out / SPEC_COPY, spec.copy_text)  # with where its CSV files were found
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
    # the flag ``progress`` (shown or not) becomes the progress line it asked for
    line = Progress(len(all_jobs), result.reused, sum(costs.values()), stream, shown=progress)

    def on_plan(planned: dict[str, float]) -> None:
        costs.update(planned)
        line.replan(sum(costs.values()))

    def on_done(job: RunJob, outcome: dict[str, Any]) -> None:
        failed = outcome["status"] == "failed"
        if failed:
            result.failed[job.name] = outcome.get("error", "unknown error")
            line.say(f"sweep: run {job.name} failed: {result.failed[job.name]}")
        diverged = (outcome.get("summary") or {}).get("stop_reason") == "diverged"
        line.update(costs[job.name], job.name, failed=failed, diverged=diverged)
        if outcome.get("write_error"):  # a full disk: every run after it would train for nothing
            result.write_error = outcome["write_error"]
            raise _WriteStop(result.write_error)

    def on_stop(runs: int, stacked: int = 0) -> None:
        if runs == 0:  # the workers' runs ended with the signal: nothing to wait for
            return
        waiting = f"waiting for the {runs} run{'s' * (runs != 1)} in progress to stop"
        if result.write_error:  # they could not save either: no Ctrl-C hint
            line.say(f"sweep: stopping ({result.write_error}): {waiting}")
            return
        if stacked == 0:  # each saves what it trained (interrupted.json)
            waiting += " and save"
        elif stacked == runs:
            waiting += " (stacked runs save nothing: a rerun trains them again)"
        else:
            waiting += (
                f" ({stacked} of them stacked: those save nothing, a rerun trains them again)"
            )
        line.say(f"sweep: stopping: {waiting}; Ctrl-C again to abandon them")

    start = time.perf_counter() if started is None else started
    with stop_signals_as_ctrl_c() as caught:
        try:
            if todo:
                hooks: dict[str, Callable[..., None]] = {
                    "on_progress": line.partial,
                    "on_plan": on_plan,
                    "on_stop": on_stop,
                }
                runner(
                    todo,
                    workers=max(1, int(jobs)),
                    on_done=on_done,
                    # a runner written before a hook existed need not take it
                    **{k: v for k, v in hooks.items() if _takes(runner, k)},
                )
        except _WriteStop:
            pass  # on_done set result.write_error; said below
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            line.close()
            result.seconds = time.perf_counter() - start
            # what this call finished, read from the folders: after Ctrl-C, workers
            # finish runs the runner no longer reports
            result.ran = sum(is_finished(j.run_dir) for j in todo)
            result.records = aggregate.write_tables(spec, out)
            _append_log(out, result, jobs, spec, stream)
    if caught:
        result.stopped_by = caught[0]
    if figures and not result.interrupted and not result.write_error:
        _draw_reused(all_jobs, todo, stream)
    finished = result.reused + result.ran
    left = result.total - finished - len(result.failed)
    if result.write_error:  # the runners stopped as on Ctrl-C: say why, once
        stream.write(
            f"sweep: stopped: {result.write_error} (finished runs are kept; rerun the same "
            "command to resume)\n"
        )
    elif left and not result.interrupted:
        # a worker that died takes its pool down with it; with none reported dead (--jobs 1)
        # a run's files were removed under it, by hand or by another program (robust22 H1)
        dead = any(e.startswith(WORKER_DIED) for e in result.failed.values())
        s, them = "s" * (left != 1), "them" if left != 1 else "it"
        stream.write(
            f"sweep: {left} run{s} did not run (a {WORKER_DIED}); rerun the same command to "
            f"run {them}\n"
            if dead
            else f"sweep: {left} run{s} did not finish; rerun the same command to run {them}\n"
        )
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


def _draw_reused(jobs: list[RunJob], trained: list[RunJob], stream: Any) -> None:
    """``--figures`` on a resumed sweep: the per-run figures of the reused runs that were
    trained without them (robust22 L3: they were left without, silently)."""
    from proplab.experiments import write_run_figures
    from proplab.run_figures import LEARNING_CURVE

    now = {j.name for j in trained}
    bare = [
        j for j in jobs
        if j.name not in now and is_finished(j.run_dir)
        and not (j.run_dir / LEARNING_CURVE).is_file()
    ]  # fmt: skip
    if not bare:
        return
    n = len(bare)
    stream.write(f"sweep: drawing the figures of {n} reused run{'s' * (n != 1)} (--figures)\n")
    for job in bare:
        try:
            write_run_figures(job.run_dir)
        except (OSError, ValueError) as exc:
            stream.write(f"sweep: could not draw the figures of {job.name}: {exc}\n")


def _takes(function: Callable[..., Any], keyword: str) -> bool:
    """Whether ``function`` accepts the keyword argument ``keyword`` (or any, via ``**``)."""
    import inspect

    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature: try it
        return True
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _append_log(out: Path, result: SweepResult, jobs: int, spec: SweepSpec, stream: Any) -> None:
    import csv

    from proplab.runio import read_csv, write_csv

    path = out / SWEEP_LOG
    header = ["finished_at", "seconds", "jobs", "trained", "reused", "failed", "interrupted"]
    header += ["title", "sweep_sha256", "file"]  # which sweep file this call ran
    rows: list[list[object]] = []
    try:
        rows = [[r.get(k, "") for k in header] for r in read_csv(path)] if path.is_file() else []
    except (OSError, ValueError, csv.Error) as e:  # garbled (not UTF-8): keep it aside, go on
        kept = path.with_name(f"{SWEEP_LOG}.unreadable")
        path.replace(kept)  # the runs are done: a log no one can read must not undo them
        stream.write(f"sweep: {path} is unreadable ({e}); moved to {kept.name}, a new log begun\n")
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
            sweep_file(spec),
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
            # neither a file nor a shipped suite: name the shipped ones (`--suite labb`)
            if not path.exists():
                shipped = shipped_suites()
                raise SweepError(
                    f"{file}: no such sweep file, nor a shipped suite (shipped: "
                    f"{', '.join(shipped)})" + did_you_mean(file, shipped)
                ) from None
    elif not path.exists():
        # a path to no file: the shipped suites too, which go by name from any folder (an
        # installed proplab has no src/proplab/suites/lab.toml to point at: pkg25 L2)
        shipped = shipped_suites()
        raise SweepError(
            f"{file}: no such sweep file (the shipped suites go by name: {', '.join(shipped)})"
            + did_you_mean(path.stem, shipped)
        )
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
    # inf MB, or 1e308 MB times 2**20, would overflow int() below (the CLI's type,
    # cli_flags.stack_memory, refuses the same numbers as typed)
    if not 0 < stack_memory_mb <= MAX_STACK_MB:
        raise SweepError(
            f"argument --stack-memory: must be a number of MB > 0 and <= {MAX_STACK_MB:,}, "
            f"got {stack_memory_mb!r}"
        )
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
    progress: bool = True,
) -> int:
    """``proplab sweep FILE --out DIR [--jobs N] [--stack auto|off] [--replace]
    [--no-progress]``: the exit code (2: bad input)."""
    # the time it says counts from here: load_suite reads every run's data (a 143 MB CSV
    # took 55 s, and "in 12.5 s" left that out; scale19)
    started = time.perf_counter()
    if jobs < 1:
        print(f"proplab sweep: error: argument --jobs: must be >= 1, got {jobs}", file=sys.stderr)
        return 2
    try:
        runner = choose_runner(stack, stack_memory_mb)
        spec = load_suite(file)
        result = run_sweep(
            spec,
            out,
            jobs=jobs,
            runner=runner,
            figures=figures,
            replace=replace,
            progress=progress,
            started=started,
        )
    except SweepError as exc:
        print(f"proplab sweep: error: {exc}", file=sys.stderr)
        return 2
    from proplab.aggregate import format_table

    # the results at a glance: accuracy for classification, R² for regression (values)
    for line in format_table(result.records):
        print(line)
    if result.interrupted:  # run_sweep said how many are finished and how to resume
        return result.exit_code
    print(
        f"sweep: {result.total} runs ({result.reused} reused, {result.ran} trained, "
        f"{len(result.failed)} failed) in {result.seconds:.1f} s; "
        f"results in {Path(out) / 'results.csv'} and {Path(out) / 'aggregate.csv'}"
    )
    # the sweep writes no report itself (figures take a while): say how to get it
    print(f"the report: proplab report {shlex.quote(str(out))} (report.md and report.html)")
    return result.exit_code


def lab_suite(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    jobs: int = 2,
    started: float | None = None,
    runner: Runner | None = None,
    replace: bool = False,
    progress: bool = True,
) -> int:
    """``proplab lab`` after the two lab runs: run the suite into ``out``, write the report
    (``replace``: into a folder holding another sweep, see :func:`run_sweep`;
    ``progress=False``: no progress line).

    Returns the sweep's exit code (0, 1 if runs failed, 130 on Ctrl-C). After
    Ctrl-C no report is written: rerunning resumes the sweep and then writes it.
    """
    from proplab.report import build_report

    started = time.perf_counter() if started is None else started
    result = run_sweep(
        spec,
        out,
        jobs=jobs,
        runner=runner or choose_runner(),
        replace=replace,
        progress=progress,
    )
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
