"""Process pools and Ctrl-C: worker start-up with the stop signals held back, ending a
pool's workers at once, and a pool for work that can simply be redone.

A terminal's Ctrl-C reaches every process of its group: the sweep or report and each
of its workers. The sweep's workers (:mod:`proplab.sweep_workers`) stop the run in hand
and save it; :func:`redoable_pool`'s workers (reading histories, drawing figures) ignore
it, and the process that owns the pool ends them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from proplab.runio import DEFERRED_SIGNALS


def pool_context() -> Any:
    """The start method of proplab's process pools: fork on Linux, else the platform's
    default (spawn on macOS and Windows).

    Fork was Linux's default up to Python 3.13, and the signal handling here (workers
    forked with the stop signals held) and every test assume it; Python 3.14 made
    forkserver the default, whose workers start from a server process outside that hold
    and without the state their parent had. Asking for fork keeps 3.14 on the tested path.
    """
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def signal_mask() -> set[int] | None:
    """This thread's blocked signals (None where Python cannot block signals)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


@contextlib.contextmanager
def stop_signals_held(mask: set[int] | None) -> Iterator[None]:
    """Block Ctrl-C, SIGTERM and SIGHUP in this thread for the block (processes forked
    meanwhile start with them blocked); at its end ``mask`` is restored, and the signals
    that came meanwhile are delivered."""
    if mask is None:
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def start_worker(initializer: Callable[..., None], mask: set[int] | None, *args: Any) -> None:
    """A pool worker's first call: ``initializer(*args)`` sets its signal handlers, then
    the signal mask its parent had before forking it is restored (the stop signals held
    back meanwhile reach those handlers now)."""
    initializer(*args)
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL every worker process of ``pool``: what is abandoned is redone next time. Not
    SIGTERM: a sweep's worker takes that, in a run, as a stop to save what it trained (a
    closed terminal or a scheduler sends it to the whole process group)."""
    public = getattr(pool, "kill_workers", None)  # Python 3.14+
    if public is not None:
        with contextlib.suppress(Exception):  # e.g. the pool has already shut down
            public()
        return
    # before 3.14 no public way to end a pool's processes: _processes is pid -> Process
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def redoable_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool for work that is simply redone next time (reading files, drawing
    figures). Its workers ignore Ctrl-C (each printed a KeyboardInterrupt traceback, and
    the pool broke); when the block ends with an exception (Ctrl-C in this process, a
    failed task), queued tasks are cancelled and the workers ended at once instead of
    finishing their tasks. Used as ``with redoable_pool(2) as pool: pool.map(...)``."""
    mask = signal_mask()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=pool_context(),
        initializer=start_worker,
        initargs=(_ignore_ctrl_c, mask),
    )
    try:
        # a forked pool starts its workers at the first submit: a Ctrl-C meanwhile waits
        # until each has its handler (its initializer), not their parent's
        with stop_signals_held(mask):
            pool.submit(int)
        yield pool
    except BaseException:
        kill_workers(pool)  # first: shutdown() forgets the pool's processes
        pool.shutdown(wait=True, cancel_futures=True)  # quick now: ends the pool's thread
        raise
    pool.shutdown(wait=True)
