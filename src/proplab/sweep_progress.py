"""A sweep's progress line on stderr: runs done and failed, elapsed, estimated remaining."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

from proplab.progress import line_width

# what a line too wide for the terminal leaves out first (the run count always stays): a
# line that wraps is redrawn over its last row only, and every redraw leaves a stale row
DROPPED_FIRST = ("elapsed", "share", "diverged", "failed", "remaining")


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
        self._drawn_width = 0  # its length
        # a dumb terminal (Emacs's shell, some IDE consoles) shows ESC[K as text: blank
        # the line with spaces instead
        self.dumb = os.environ.get("TERM") == "dumb"
        self.shown = shown

    def line(self) -> str:
        """The whole line (a log's; a terminal's is :meth:`fitted` to its width)."""
        return "".join(text for _, text in self._parts())

    def _parts(self) -> list[tuple[str, str]]:
        """The line's parts in order, each with its name in :data:`DROPPED_FIRST`."""
        elapsed = time.perf_counter() - self.start
        done = self.cost_done + self.in_flight
        eta = "?"
        if done > 0:
            eta = _clock(elapsed / done * max(self.cost_total - done, 0.0))
        parts = [("count", f"sweep: {self.done}/{self.total} runs done")]
        if self.diverged:
            parts.append(("diverged", f" ({self.diverged} diverged)"))
        if self.failed:
            parts.append(("failed", f", {self.failed} failed"))
        if self.cost_total:
            parts.append(("share", f", {100 * done / self.cost_total:.0f} % of the work"))
        parts.append(("elapsed", f", elapsed {_clock(elapsed)}"))
        parts.append(("remaining", f", remaining ~{eta}"))
        return parts

    def fitted(self, note: str, width: int) -> str:
        """The line, and ``note`` (the run just finished) after it, in at most ``width``
        columns: the note goes first, then whole parts in the order of
        :data:`DROPPED_FIRST`, never part of a number."""
        parts = self._parts()
        line = "".join(text for _, text in parts)
        if note and len(line) + 2 + len(note) <= width:
            return f"{line}  {note}"
        for name in DROPPED_FIRST:
            if len(line) <= width:
                return line
            parts = [(n, text) for n, text in parts if n != name]
            line = "".join(text for _, text in parts)
        if len(line) <= width:
            return line
        short = f"{self.done}/{self.total}"  # a terminal narrower than "sweep: 1/2 runs done"
        return short if len(short) <= width else ""

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
            self._clear()
            self._drawn = False
            self._last = -math.inf  # draw it again at once
        self.stream.write(text + "\n")
        self.stream.flush()

    def _show(self, final: bool, note: str, min_interval: float) -> None:
        now = time.perf_counter()
        if not self.shown or (not final and now - self._last < min_interval):
            return
        if self.tty:
            line = self.fitted(note, line_width(self.stream))
            self._clear()
            self.stream.write(line)
            self._drawn, self._drawn_width = not final, len(line)
            if final:
                self.stream.write("\n")
        else:
            self.stream.write(self.line() + "\n")
        self._last = now
        self.stream.flush()

    def _clear(self) -> None:
        """Blank the progress line on the terminal and go back to its start."""
        if not self.dumb:
            self.stream.write("\r\033[K")
        elif self._drawn:
            self.stream.write("\r" + " " * self._drawn_width + "\r")
        else:
            self.stream.write("\r")

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
