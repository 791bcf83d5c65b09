"""A small terminal progress bar for training (stderr; silent when not a terminal).

No dependency: one line redrawn with ``\\r`` at most ~10 times a second, so
it costs nothing next to training and never pollutes piped or captured
output (the lab's printed lines go to stdout, the bar to stderr).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, TextIO

import numpy as np

# a display of training progress hears from fit at least this often, however slow the
# epochs (one of 100 000 rows in mini-batches took 0.4 s: every 100 epochs was 40 s)
PROGRESS_SECONDS = 0.5


class ProgressBar:
    """``epoch 1200/20000 [####------] 6% loss 0.0123 acc 95.2% 12.3k ep/s ETA 0:01``.

    Args:
        total: number of steps (epochs) at 100 %.
        stream: where to draw (default ``sys.stderr``).
        enabled: draw or not; ``None`` means "only if ``stream`` is a terminal".
        unit: the name of what is counted (``"epoch"``; ``"weight"`` for a gradient check).
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        min_interval: float = 0.1,
        unit: str = "epoch",
    ) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.unit = unit  # what is counted: "epoch", "weight" (a gradient check)
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.min_interval = min_interval
        self.start = time.perf_counter()
        self._last_draw = -math.inf
        self._line = ""
        self.count = 0
        self.postfix = ""

    def update(self, count: int, postfix: str = "", force: bool = False) -> None:
        """Set progress to ``count`` steps; redraw if enough time has passed. ``postfix``
        is ``name value`` items (``loss 0.0123 acc 95.2%``): a narrow terminal leaves
        them out whole, the last first."""
        self.count, self.postfix = count, postfix
        if not self.enabled:
            return
        now = time.perf_counter()
        if force or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.start
        frac = min(self.count / self.total, 1.0)
        rate = self.count / elapsed if elapsed > 0 else 0.0
        # a count past the total (a caller's extra steps) has nothing left: ETA 0:00
        eta = max(self.total - self.count, 0) / rate if rate > 0 else math.nan
        per = "ep" if self.unit == "epoch" else self.unit[0]  # ep/s, or w/s for weights
        width = line_width(self.stream)
        # fixed-width fields keep the bar from jumping as the numbers change
        head = f"{self.unit} {self.count:>{len(str(self.total))}}/{self.total}"
        tail = f" {100 * frac:3.0f}% {self.postfix:<24} {_rate(rate, per):>9} ETA {_clock(eta)}"
        if len(head) + len(tail) <= width:
            # a long description (a CSV file's path) gives way before the ETA is cut off
            desc = _shortened(self.desc, width - len(head) - len(tail) - 1)
            head = f"{desc} {head}" if desc else head
            bar_width = max(width - len(head) - len(tail) - 3, 0)
            filled = int(round(bar_width * frac))
            bar = f" [{'#' * filled}{'-' * (bar_width - filled)}]" if bar_width >= 5 else ""
            line = head + bar + tail
        else:  # a narrow terminal: no padding, and whole fields give way, never digits
            fields = [f"{self.unit} {self.count}/{self.total}", f"{100 * frac:.0f}%"]
            fields += [*_pairs(self.postfix), _rate(rate, per), f"ETA {_clock(eta)}"]
            n = len(fields)
            # the rate first, then the ETA, the postfix's items from the last, the percentage
            line = _squeezed(fields, [n - 2, n - 1, *range(n - 3, 0, -1)], width)
            line = line or _squeezed([f"{self.count}/{self.total}"], [], width)
        self.stream.write("\r" + line + " " * max(len(self._line) - len(line), 0))
        self.stream.flush()
        self._line = line

    def clear(self) -> None:
        """Erase the bar's line (before printing something else to the terminal)."""
        if self.enabled and self._line:
            self.stream.write("\r" + " " * len(self._line) + "\r")
            self.stream.flush()
            self._line = ""

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def wrap_log(self, log: Callable[[str], Any]) -> Callable[[str], Any]:
        """``log`` that first clears the bar, so printed lines never mix with it."""

        def wrapped(line: str) -> Any:
            self.clear()
            result = log(line)
            if self.enabled:
                self._draw(time.perf_counter())
            return result

        return wrapped

    def fit_callback(self) -> Callable[[int, Any], None]:
        """A ``fit(callback=...)`` hook showing the latest loss and accuracy (the loss
        alone for a regression, whose accuracy is NaN)."""

        def callback(epoch: int, history: Any) -> None:
            loss = float(np.mean(history.loss[-1])) if history.loss else math.nan
            acc = float(np.mean(history.accuracy[-1])) if history.accuracy else math.nan
            self.update(
                epoch, f"loss {loss:.3g}" + ("" if math.isnan(acc) else f" acc {100 * acc:.1f}%")
            )

        return callback


def line_width(stream: Any = None) -> int:
    """The columns a line redrawn in place on ``stream`` may fill: the terminal's width
    less one (a line that fills the last column wraps on some terminals, and ``\\r`` then
    redraws only its last row). The width is ``$COLUMNS``, else that of ``stream``'s
    terminal, else stdout's (``proplab lab > log``: the progress still goes to the
    terminal on stderr), else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns) - 1
    for s in (stream, sys.__stdout__):
        try:
            size = os.get_terminal_size(s.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # no descriptor, or not a terminal
            continue
        if size > 0:
            return size - 1
    return 79


def _pairs(postfix: str) -> list[str]:
    """``"loss 0.0123 acc 95.2%"`` -> ``["loss 0.0123", "acc 95.2%"]``: a postfix's
    ``name value`` items, which a narrow terminal drops whole, last first."""
    words = postfix.split()
    return [" ".join(words[i : i + 2]) for i in range(0, len(words), 2)]


def _squeezed(fields: list[str], dropped: list[int], width: int) -> str:
    """``fields`` one space apart in at most ``width`` columns, leaving out whole fields
    in the order of their indices in ``dropped`` until the line fits; ``""`` if it never
    does."""
    kept = list(range(len(fields)))
    for i in [-1, *dropped]:
        if i >= 0:
            kept.remove(i)
        line = " ".join(fields[k] for k in kept)
        if len(line) <= width:
            return line
    return ""


def _shortened(desc: str, room: int) -> str:
    """``desc`` in at most ``room`` columns: whole, else its file's name
    (``data/blobs2d_100k.csv`` -> ``blobs2d_100k.csv``), else that name cut with an
    ellipsis (``blobs2d_10…``), else nothing (fewer than 4 columns)."""
    if len(desc) <= room:
        return desc
    name = PurePath(desc).name or desc
    if len(name) <= room:
        return name
    return name[: room - 1] + "…" if room >= 4 else ""


def _rate(per_second: float, per: str = "ep") -> str:
    if per_second >= 1000:
        return f"{per_second / 1000:.1f}k {per}/s"
    return f"{per_second:.0f} {per}/s"


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
