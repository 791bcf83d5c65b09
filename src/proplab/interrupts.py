"""Ctrl-C between epochs: a stop signal that arrives during an epoch takes effect at its end.

An epoch runs forward, backward and the optimizer's step (several NumPy calls, some
updating weights, others an optimizer's moments), then records its loss, accuracy and
time. A ``KeyboardInterrupt`` raised between two of those calls saved weights one update
ahead of the history, or an optimizer half-stepped, and the run's ``interrupted.json`` then
contradicted its own ``model.npz``; resuming from it did not give the run trained without
a stop. :func:`signals_at_epoch_end` holds such a signal back until the epoch is recorded.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

# the signals a run treats as a stop: Ctrl-C, and SIGTERM / SIGHUP where proplab's CLI or
# sweep turns them into one (a Python handler); signals left to the OS are not touched
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class EpochSignals:
    """The stop signals held back during an epoch (``held``) and the handlers they were meant
    for. ``deliver()`` runs the first held signal's own handler (for Ctrl-C, Python's:
    it raises ``KeyboardInterrupt``; for SIGTERM under the CLI, a ``StopSignal``)."""

    def __init__(self, second_stops: bool = True) -> None:
        self.held: list[tuple[int, Any]] = []
        self.handlers: dict[int, Callable[[int, Any], Any]] = {}
        self.second_stops = second_stops
        # whether a second signal stopped training at once, part-way through an epoch
        self.at_once = False

    def hold(self, signum: int, frame: Any) -> None:
        """The handler installed during training: the first signal waits for the epoch's
        end; a second one (Ctrl-C pressed again) is not held: the user insists (an epoch
        of a slow layer of one's own may take minutes), and ``at_once`` says so. Without
        ``second_stops`` every signal waits (files being written)."""
        if self.held and self.second_stops:
            self.at_once = True
            try:
                self.handlers[signum](signum, frame)  # usually raises
            except BaseException:
                # the stop is under way: the first signal, still held, must not be
                # delivered again when the block ends (it escaped callbacks.train's own
                # handling, losing its history; mut18)
                self.held.clear()
                raise
            self.at_once = False  # it did not (an outer block holds signals too)
        else:
            self.held.append((signum, frame))

    def deliver(self) -> None:
        """At an epoch's end: the held signal's handler runs now (and usually raises)."""
        signum, frame = self.held.pop(0)
        self.held.clear()
        self.handlers[signum](signum, frame)


@contextlib.contextmanager
def signals_at_epoch_end(second_stops: bool = True) -> Iterator[EpochSignals]:
    """Within the block, a stop signal (SIGINT, and SIGTERM or SIGHUP where a Python handler
    takes them) is recorded in the yielded ``EpochSignals.held`` instead of raising at once;
    the training loop calls ``deliver()`` when an epoch is complete, and a signal still held
    when the block ends is delivered then. ``second_stops=False``: a second signal waits
    too (:func:`proplab.runio.uninterrupted`, around a run's files). Blocks nest (the inner
    one hands its signal to the outer). Outside the main thread (where no signal arrives
    as an exception) nothing changes, nor for a signal the OS handles (default action,
    ignored)."""
    signals = EpochSignals(second_stops)
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if callable(handler):  # a Python handler (SIG_DFL and SIG_IGN are ints)
            signals.handlers[signum] = handler
            signal.signal(signum, signals.hold)
    error: BaseException | None = None
    try:
        yield signals
    except BaseException as exc:
        error = exc
        raise
    finally:
        for signum, handler in signals.handlers.items():
            signal.signal(signum, handler)
        # a signal still held (the block ended on another error) is not lost: the stop the
        # user asked for wins; a KeyboardInterrupt of the block's own already is that stop
        if signals.held and not isinstance(error, KeyboardInterrupt):
            signals.deliver()
