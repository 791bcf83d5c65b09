"""A sweep's progress line on stderr: runs done and failed, elapsed, estimated remaining."""

from __future__ import annotations

import math
import sys
import time
from typing import Any


class Progress:
    """Overall progress on stderr: runs done (and failed), elapsed, estimated remaining
    (cost-weighted). ``shown=False`` (``--no-progress``) draws no progress line;
    :meth:`say`'s messages are written either way."""

    def __init__(
        self, total: int, skipped: int, cost: float, stream: Any = None, shown: bool = True
    ) -> None:
        self.total, self.done, self.cost_total, self.cost_done = total, skipped, cost, 0.0
        self.failed = 0
        self.diverged = 0  # of the runs done: finished, but their loss became inf or NaN
        self.in_flight = 0.0  # the done part of runs not finished yet (stacks in training)
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -math.inf
        self._drawn = False  # a progress line is on the terminal, without its end of line
        self.shown = shown

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        done = self.cost_done + self.in_flight
        eta = "?"
        if done > 0:
            eta = _clock(elapsed / done * max(self.cost_total - done, 0.0))
        share = f", {100 * done / self.cost_total:.0f} % of the work" if self.cost_total else ""
        failed = f", {self.failed} failed" if self.failed else ""
        diverged = f" ({self.diverged} diverged)" if self.diverged else ""
        return (
            f"sweep: {self.done}/{self.total} runs done{diverged}{failed}{share}, "
            f"elapsed {_clock(elapsed)}, remaining ~{eta}"
        )

    def replan(self, cost: float) -> None:
        """The work still to do is ``cost`` in all, in new units (before any progress)."""
        self.cost_total, self.cost_done, self.in_flight = cost, 0.0, 0.0

    def update(
        self, cost: float, note: str = "", failed: bool = False, diverged: bool = False
    ) -> None:
        """One run finished (or ``failed``; ``diverged``: finished by diverging); ``cost``
        is its :attr:`RunJob.cost` (or the runner's plan for it)."""
        if failed:
            self.failed += 1
        else:
            self.done += 1
            self.diverged += diverged
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
        if not self.shown or (not final and now - self._last < min_interval):
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
