"""proplab.progress.ProgressBar: the line it draws, when it draws it, and its time helpers.

A fake clock replaces ``time.perf_counter`` in the module (the bar reads it when created
and at each draw) and ``COLUMNS`` fixes the terminal width, so every line is exact.
"""

from __future__ import annotations

import io
import math
import re
from types import SimpleNamespace

import pytest

from proplab import progress
from proplab.progress import ProgressBar, _clock, _rate


class Clock:
    """A perf_counter that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress, "time", SimpleNamespace(perf_counter=fake))
    monkeypatch.setenv("COLUMNS", "80")  # progress.line_width reads it first
    return fake


def _bar(total: int, **kwargs) -> tuple[ProgressBar, io.StringIO]:
    out = io.StringIO()
    return ProgressBar(total, stream=out, enabled=True, **kwargs), out


def test_the_line_fills_the_terminal_but_its_last_column(clock):
    bar, out = _bar(200, desc="xor")
    clock.now += 10.0
    bar.update(58, "loss 0.1", force=True)
    # 58 of 200 epochs in 10 s: 29 %, 5.8 epochs a second (shown as 6), and the other
    # 142 take 142 / 5.8 = 24.5 s: ETA 0:24. The tail is " 29% ", the postfix padded
    # to 24, the rate right-aligned in 10 and " ETA 0:24": 49 columns; the head
    # "xor epoch  58/200" (the count padded to the total's 3 digits) 17; of the 79
    # columns (80 less one, so the terminal never wraps) the bar gets 79 - 17 - 49 - 3
    # = 10, of which 29 % is 2.9: 3 filled
    tail = "  29% loss 0.1" + " " * 20 + "6 ep/s ETA 0:24"
    assert out.getvalue() == "\rxor epoch  58/200 [###-------]" + tail
    assert len(out.getvalue()) == 1 + 79


def test_without_a_description_the_line_starts_with_the_epoch(clock):
    bar, out = _bar(5)
    bar.update(5, force=True)
    assert out.getvalue().startswith("\repoch 5/5 [")


def test_a_total_of_zero_counts_as_one_step(clock):
    bar, out = _bar(0)
    bar.update(0, force=True)  # no ZeroDivisionError
    assert out.getvalue().startswith("\repoch 0/1 [")


def test_a_count_past_the_total_shows_a_full_bar_at_100_percent(clock):
    bar, out = _bar(10)
    clock.now += 1.0
    bar.update(15, force=True)
    line = out.getvalue()
    filled = re.search(r"\[([#-]*)\]", line).group(1)
    assert " 100% " in line and filled and set(filled) == {"#"}


def test_updates_redraw_at_most_every_min_interval_unless_forced(clock):
    bar, out = _bar(100, min_interval=0.5)
    bar.update(1)  # the first update draws
    clock.now += 0.25
    bar.update(2)  # 0.25 s after the last draw: too soon
    assert out.getvalue().count("\r") == 1
    clock.now += 0.25  # 0.5 s after it: drawn
    bar.update(3)
    assert out.getvalue().count("\r") == 2 and "epoch   3/100" in out.getvalue()
    bar.update(4, force=True)  # at once, when forced
    assert out.getvalue().count("\r") == 3


def test_a_narrow_terminal_drops_the_padding_and_a_bar_under_5_columns(clock, monkeypatch):
    # no time has passed: rate 0, ETA "?"; the head "epoch  50/100" is 13 columns and
    # the tail 46 ("  50% ", 24 for the postfix, 10 for the rate, " ETA ?"): 59 do not
    # fit in 29, so the fields go one space apart, which fits
    monkeypatch.setenv("COLUMNS", "30")
    bar, out = _bar(100)
    bar.update(50, force=True)
    assert out.getvalue() == "\repoch 50/100 50% 0 ep/s ETA ?"
    # 68 columns: 67 for the line, 67 - 13 - 46 - 3 = 5 for a bar, still drawn
    # (half of 5 is 2.5, which rounds to 2)
    monkeypatch.setenv("COLUMNS", "68")
    bar, out = _bar(100)
    bar.update(50, force=True)
    assert "epoch  50/100 [##---] " in out.getvalue() and len(out.getvalue()) == 1 + 67


@pytest.mark.parametrize(
    ("columns", "line"),
    [
        (60, "epoch 100/20000 0% loss 0.249 acc 52.4% 20 ep/s ETA 16:35"),  # 57 columns
        (57, "epoch 100/20000 0% loss 0.249 acc 52.4% ETA 16:35"),  # the rate goes first
        (49, "epoch 100/20000 0% loss 0.249 acc 52.4%"),  # then the ETA
        (40, "epoch 100/20000 0% loss 0.249 acc 52.4%"),  # 39 columns: all of the accuracy
        (39, "epoch 100/20000 0% loss 0.249"),  # then the postfix's items, the last first
        (29, "epoch 100/20000 0%"),
        (18, "epoch 100/20000"),  # then the percentage
        (15, "100/20000"),  # a terminal narrower than the count with its unit
        (9, ""),
    ],
)
def test_a_narrow_terminal_drops_whole_fields_never_digits(clock, monkeypatch, columns, line):
    # env24 L8: in 40 columns "acc 52.4%" came out as "acc 5", the line cut mid-number.
    # 100 of 20 000 epochs in 5 s: 20 a second, the other 19 900 take 995 s (16:35)
    monkeypatch.setenv("COLUMNS", str(columns))
    bar, out = _bar(20000)
    clock.now += 5.0
    bar.update(100, "loss 0.249 acc 52.4%", force=True)
    assert out.getvalue() == "\r" + line


@pytest.mark.parametrize(
    ("columns", "head"),
    [
        (130, "data/blobs2d_100k.csv epoch   300/20000 [#"),  # room for all, and a bar
        (86, "blobs2d_100k.csv epoch   300/20000  "),  # the file's name, no bar
        (80, "blobs2d_10… epoch   300/20000  "),  # the name cut with an ellipsis
    ],
)
def test_a_long_description_gives_way_before_the_eta(clock, monkeypatch, columns, head):
    # scale19 L1: in 80 columns a CSV path pushed "ETA 32:50" off the end of the line.
    # 300 of 20 000 epochs in 30 s: 10 ep/s, 19 700 left: 1970 s. The tail is 50 columns,
    # "epoch   300/20000" 17: of 79 columns 79 - 17 - 50 - 1 = 11 are left for the name
    monkeypatch.setenv("COLUMNS", str(columns))
    bar, out = _bar(20000, desc="data/blobs2d_100k.csv")
    clock.now += 30.0
    bar.update(300, "loss 0.152 acc 39.9%", force=True)
    line = out.getvalue()[1:]
    assert line.startswith(head) and line.endswith("  10 ep/s ETA 32:50"), line
    assert len(line) <= columns - 1  # the line never wraps
    # in 30 columns not even 4 are left: the name goes, and so do the padding and the rate
    # (10 ep/s), whole; the ETA (19 699 epochs at 10.03 a second: 32:43) stays
    monkeypatch.setenv("COLUMNS", "30")
    bar.update(301, force=True)
    assert out.getvalue().split("\r")[-1].rstrip() == "epoch 301/20000 2% ETA 32:43"


def test_a_shorter_line_blanks_what_is_left_of_the_longer_one(clock, monkeypatch):
    bar, out = _bar(100)
    bar.update(50, force=True)  # 79 columns
    monkeypatch.setenv("COLUMNS", "40")  # the window shrinks: 39 columns
    bar.update(60, force=True)
    last = out.getvalue().split("\r")[-1]
    # the padded line (62 columns) does not fit: fields one space apart, 29 columns
    assert last == "epoch 60/100 60% 0 ep/s ETA ?" + " " * 50


def test_clear_blanks_the_line_once(clock):
    bar, out = _bar(100)
    bar.update(50, force=True)
    drawn = out.getvalue()
    bar.clear()
    assert out.getvalue() == drawn + "\r" + " " * 79 + "\r"
    bar.clear()  # nothing left to blank
    assert out.getvalue() == drawn + "\r" + " " * 79 + "\r"


def test_close_ends_the_line_once_and_stops_drawing(clock):
    bar, out = _bar(100)
    bar.update(100, force=True)
    bar.close()
    closed = out.getvalue()
    assert closed.endswith("\n") and closed.count("\r") == 2  # redrawn once, then ended
    bar.close()
    bar.update(100, force=True)
    assert out.getvalue() == closed


def test_a_wrapped_log_blanks_the_bar_redraws_it_after_and_returns_the_result(clock):
    bar, out = _bar(100)
    bar.update(10, force=True)
    drawn = out.getvalue()  # "\r" + the 79-column line
    logged: list[str] = []

    def log(line: str) -> int:
        logged.append(line)
        return len(line)

    assert bar.wrap_log(log)("hello") == 5 and logged == ["hello"]
    # blanked (the terminal then shows the logged line), then the same state drawn again
    assert out.getvalue() == drawn + "\r" + " " * 79 + "\r" + drawn


def test_the_fit_callback_shows_the_latest_loss_and_accuracy_in_percent(clock):
    bar, out = _bar(100)
    history = SimpleNamespace(loss=[0.5, [0.2, 0.4]], accuracy=[0.5, [0.75, 1.0]])
    bar.fit_callback()(2, history)  # a stack of two replicas: their means
    assert "epoch   2/100" in out.getvalue() and " loss 0.3 acc 87.5% " in out.getvalue()


def test_the_fit_callback_of_a_regression_shows_the_loss_alone(clock):
    bar, out = _bar(100)
    history = SimpleNamespace(loss=[0.5, 0.25], accuracy=[math.nan, math.nan])
    bar.fit_callback()(2, history)
    assert " loss 0.25 " in out.getvalue() and "acc" not in out.getvalue()


def test_rates_and_clocks():
    assert _rate(999.4) == "999 ep/s" and _rate(1000) == "1.0k ep/s"
    assert _rate(12345) == "12.3k ep/s"
    assert _clock(math.nan) == "?" and _clock(math.inf) == "?"
    # seconds rounded to the nearest; hours only when there is one
    assert _clock(59.6) == "1:00" and _clock(3599.4) == "59:59"
    assert _clock(3600) == "1:00:00" and _clock(2 * 3600 + 2 * 60 + 5) == "2:02:05"


def test_a_count_past_the_total_shows_nothing_left_not_a_negative_time(clock):
    bar, out = _bar(100)
    clock.now += 10.0
    bar.update(150, force=True)  # 15 steps a second, 50 past the end: ETA 0:00, not -0:03
    assert out.getvalue().endswith("ETA 0:00") and " 100% " in out.getvalue()
