"""The unstacked sweep runner: runs trained one by one, or in worker processes.

:func:`run_jobs` trains a list of :class:`~proplab.sweep_folder.RunJob` (each
with :func:`run_job`, which never raises but on Ctrl-C) and reports each outcome;
:class:`Runner` is the signature every runner has (the stacked one,
:func:`proplab.stacking.run_stacked`, too). In a worker process,
:func:`init_worker` sets up how the sweep stops it (``STOP``), how it reports
its progress, and a watchdog that ends it once its sweep is gone.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol

from proplab.config import RunConfig
from proplab.pools import (
    kill_workers,
    pool_context,
    signal_mask,
    start_worker,
    stop_signals_held,
)
from proplab.runio import StopSignal
from proplab.sweep_folder import RunJob, is_finished, read_summary

# on_done(job, outcome): outcome["status"] is "done", "failed" or "cancelled"
OnDone = Callable[[RunJob, dict[str, Any]], None]
# on_progress(cost): how much of the runs in flight is done, in RunJob.cost units
# (or in the runner's own units, once it has announced them through on_plan)
OnProgress = Callable[[float], None]
# on_plan(costs): the runner's own estimate of each job's cost, by job name
OnPlan = Callable[[dict[str, float]], None]
# on_stop(runs[, stacked]): Ctrl-C came; the runner now waits for these many runs in
# progress (``stacked`` of them in stacks, which save nothing when stopped)
OnStop = Callable[..., None]


class TrainOne(Protocol):
    """What :func:`run_job` trains a job with: :func:`train_one`'s signature."""

    def __call__(self, cfg: RunConfig, run_dir: Path, figures: bool = False) -> dict[str, Any]: ...


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
    are optional: :func:`proplab.sweep.run_sweep` passes only the keywords a runner's signature
    takes. On Ctrl-C a runner raises KeyboardInterrupt once the runs in flight have
    stopped (a second Ctrl-C while it waits abandons them). :func:`run_jobs`
    is the default; a stacked runner (many runs as one replica stack) plugs
    in through :func:`proplab.sweep.run_sweep`'s ``runner``.
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


STOP: Any = None  # a multiprocessing.Event in worker processes
_PROGRESS: Any = None  # in run_jobs' workers: a shared array, each job's fraction of epochs done
_REPORT: Callable[[float], None] | None = None  # the fraction sink of the run in hand
_IN_TASK = False  # in a worker: whether it is running a task (else it waits for one)
EXIT_ORPHANED = 1  # a worker whose sweep is gone
WORKER_DIED = "worker process died"  # how a run a dead worker took with it failed


def init_worker(stop: Any, progress: Any = None) -> None:
    """Set up a sweep's worker process: ``stop`` (a multiprocessing Event) asks it to
    stop, ``progress`` (a shared array, or None) hears each job's fraction of epochs."""
    global STOP, _PROGRESS
    STOP, _PROGRESS = stop, progress
    from proplab.threads import limit_blas_threads

    limit_blas_threads()  # --jobs N processes must not each spin N BLAS threads
    # SIGTERM and SIGHUP reach every worker too when they come to the process group (a
    # closed terminal, `kill -TERM -PGID`, a batch scheduler): in a run, a stop as Ctrl-C
    # is, so the run saves what it trained (the default action killed it, its training
    # lost, while the sweep said it waited for it); between runs, the worker ends. A
    # signal set to be ignored (nohup) stays ignored. The sweep ends its workers for good
    # with SIGKILL (pools.kill_workers).
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop_in_a_task)
    # Ctrl-C in a terminal reaches every worker too (one process group). In a run it
    # stops training at once (the run saves what it has); a worker waiting for a task
    # must live on: KeyboardInterrupt there killed it with a traceback, its pool broke
    # and terminated the other workers before their runs were saved. The sweep, which
    # got the same Ctrl-C, stops the pool.
    if callable(signal.getsignal(signal.SIGINT)):
        signal.signal(signal.SIGINT, _ctrl_c_in_a_task)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _ctrl_c_in_a_task(signum: int, frame: Any) -> None:
    """A worker's SIGINT handler: KeyboardInterrupt in a task, nothing between tasks."""
    if _IN_TASK:
        signal.default_int_handler(signum, frame)


def _stop_in_a_task(signum: int, frame: Any) -> None:
    """A worker's SIGTERM and SIGHUP handler: in a task, a stop named after the signal
    (the run saves what it trained, at the end of its epoch in progress); between tasks,
    the default action (the worker ends)."""
    if _IN_TASK:
        raise StopSignal(signal.Signals(signum).name)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def run_task(function: Callable[..., Any], *args: Any) -> Any:
    """In a worker: ``function(*args)``, marked as a task (Ctrl-C interrupts it)."""
    global _IN_TASK
    _IN_TASK = True
    try:
        return function(*args)
    finally:
        _IN_TASK = False


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
    (``STOP`` is set: Ctrl-C, or SIGTERM, to the parent alone); None elsewhere.

    It raises KeyboardInterrupt, which :func:`proplab.train.fit` turns into an
    "interrupted" history, as a Ctrl-C would. fit also calls its callback once
    after training; there the run is over (all ``epochs`` done, or stopped for a
    reason of its own), and stopping would throw it away, so that call is let be.
    """
    stop = STOP
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
    train: TrainOne | None = None,
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
    if STOP is not None and STOP.is_set():
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
        from proplab.stack_plan import failed_outcome

        return failed_outcome(exc)
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
        kill_workers(pool)
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

    def result(i: int, outcome: dict[str, Any]) -> None:
        if outcome["status"] != "interrupted":
            on_done(jobs[i], outcome)
        if stops_sweep(outcome):
            raise KeyboardInterrupt

    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            hook = None
            if on_progress is not None:

                def hook(fraction: float, cost: float = costs[job.name]) -> None:
                    on_progress(cost * fraction)

            result(i, run_job(job, progress=hook))
        return
    run_in_pool(
        # hand the trainer over explicitly: workers need not be forks of this process
        [
            (run_job, (job, train_one, functools.partial(_report_fraction, i)))
            for i, job in enumerate(jobs)
        ],
        workers=workers,
        initializer=init_worker,
        costs=[costs[job.name] for job in jobs],
        on_result=result,
        on_dead=lambda i, exc: {"status": "failed", "error": f"{WORKER_DIED} ({exc})"},
        on_progress=on_progress,
        on_stop=None if on_stop is None else lambda running: on_stop(len(running)),
        poll_seconds=poll_seconds,
    )


def run_in_pool(
    tasks: Sequence[tuple[Callable[..., Any], tuple]],
    *,
    workers: int,
    initializer: Callable[[Any, Any], None],
    costs: Sequence[float],
    on_result: Callable[[int, Any], None],
    on_dead: Callable[[int, BrokenProcessPool], Any],
    on_progress: OnProgress | None,
    on_stop: Callable[[list[int]], None] | None,
    poll_seconds: float,
) -> None:
    """Run ``tasks`` (``(function, args)`` each) in ``workers`` processes: the sweep's
    pool, for one run per task (:func:`run_jobs`) or one stack per task (the stacked
    runner).

    ``initializer(stop, fractions)`` sets up each worker: ``stop`` is the Event that asks
    it to stop training, ``fractions`` a shared array whose slot i task i fills with the
    fraction of its epochs done. Each task's result goes to ``on_result(i, result)`` as
    it comes (``on_dead(i, exc)``'s stand-in when its worker died; when a worker dies the
    tasks not yet started get no result: a rerun does them); every
    ``poll_seconds`` ``on_progress`` hears the work in flight, ``costs[i]`` times task
    i's fraction. On KeyboardInterrupt (Ctrl-C, or raised by ``on_result``),
    ``on_stop(indices of the tasks running)`` is told, the workers are asked to stop
    (a second Ctrl-C abandons them), and it is raised again.
    """
    ctx = pool_context()
    stop = ctx.Event()
    fractions = ctx.Array("d", len(tasks), lock=False)  # each slot written by one worker
    workers = min(workers, len(tasks))  # a forked pool starts all its processes at once
    mask = signal_mask()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=start_worker,
        initargs=(initializer, mask, stop, fractions),
    )
    futures: list[Any] = []
    finished: set[int] = set()
    reported = 0.0  # the in-flight work last reported (polls that saw no change stay quiet)
    stopping = False
    try:
        # Ctrl-C (or SIGTERM) while the workers are forked waits until they have their
        # own handlers: a worker ran the sweep's until its initializer replaced them (a
        # KeyboardInterrupt there broke the pool: every run "failed"), and the sweep's
        # own KeyboardInterrupt got lost in fork's bookkeeping ("Exception ignored") or
        # left the pool running. It comes here, at the end of the block, if at all.
        with stop_signals_held(mask):
            futures.extend(pool.submit(run_task, function, *args) for function, args in tasks)
        index = {fut: i for i, fut in enumerate(futures)}
        pending = set(futures)
        running: set[int] = set()  # the tasks in the workers at the last look
        while pending:
            running = set(in_progress(futures, workers))
            done, pending = wait(pending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
            for fut in done:
                i = index[fut]
                finished.add(i)
                try:
                    outcome = fut.result()
                except BrokenProcessPool as exc:
                    # a worker died (killed from outside, out of memory): the pool fails
                    # every task it still holds, but only those in the workers had started;
                    # the others are left for the rerun, not called failed
                    if i not in running:
                        continue
                    outcome = on_dead(i, exc)
                on_result(i, outcome)
            if on_progress is not None:
                in_flight = sum(
                    costs[i] * fractions[i] for i in range(len(tasks)) if i not in finished
                )
                if in_flight != reported:
                    on_progress(in_flight)
                    reported = in_flight
    except KeyboardInterrupt:
        stopping = True
        if on_stop is not None:
            on_stop(in_progress(futures, workers))
        stop_pool(pool, stop)
        raise
    finally:
        if not stopping:
            pool.shutdown(wait=True, cancel_futures=True)
