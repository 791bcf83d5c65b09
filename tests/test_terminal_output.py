"""What a student's terminal shows: a sweep's progress line that fits the terminal (and a
dumb one), commands that paste into a shell whatever the folder's name, and stdout that
cannot encode "±" or "²" (env24 M2, L2, L3)."""

from __future__ import annotations

import io
import os
import re
import shlex
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from proplab import cli, report, sweep_progress
from proplab.progress import line_width
from proplab.report_setup import rebuild_commands
from proplab.sweep_progress import Progress

# spaces, parentheses, an apostrophe and a non-ASCII letter: each breaks an unquoted command
ODD = "My runs (1) Zoë's"


class Tty(io.StringIO):
    """A terminal's stream, as far as the progress line asks."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """perf_counter for the progress line, moved only by the test (``clock[0] += 65``)."""
    now = [100.0]
    monkeypatch.setattr(sweep_progress, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    monkeypatch.delenv("TERM", raising=False)
    return now


# the lab's longest notes were about 75 columns: with the line, ~150 on an 80-column terminal
NOTE = "dataset=linear,activation=identity,output_activation=identity,lr=0.1,seed=4"


def _one_done_one_failed(stream: io.StringIO, clock: list[float]) -> Progress:
    # 35 of 100 cost units in 65 s (a diverged run of 30, a failed one of 5): 35 %,
    # and the other 65 take 65 / 35 * 65 = 120.7 s, "~2:01"
    progress = Progress(total=210, skipped=0, cost=100.0, stream=stream)
    clock[0] += 65.0
    progress.update(30.0, note=NOTE, diverged=True)
    progress.update(5.0, failed=True)
    return progress


@pytest.mark.parametrize(
    ("width", "line"),
    [
        (200, "sweep: 1/210 runs done (1 diverged), 1 failed, 35 % of the work, elapsed 1:05, "
         f"remaining ~2:01  {NOTE}"),
        (170, "sweep: 1/210 runs done (1 diverged), 1 failed, 35 % of the work, elapsed 1:05, "
         "remaining ~2:01"),  # the note first (171 with it)
        (93, "sweep: 1/210 runs done (1 diverged), 1 failed, 35 % of the work, remaining ~2:01"),
        (79, "sweep: 1/210 runs done (1 diverged), 1 failed, remaining ~2:01"),
        (61, "sweep: 1/210 runs done, 1 failed, remaining ~2:01"),
        (48, "sweep: 1/210 runs done, remaining ~2:01"),
        (38, "sweep: 1/210 runs done"),
        (21, "1/210"),
        (4, ""),
    ],
)  # fmt: skip
def test_the_sweep_line_gives_up_the_note_then_whole_parts(clock, width, line) -> None:
    progress = _one_done_one_failed(io.StringIO(), clock)
    assert progress.fitted(NOTE, width) == line


@pytest.mark.parametrize("columns", [80, 40])
def test_every_redraw_of_the_sweep_line_fits_the_terminal(clock, monkeypatch, columns) -> None:
    # env24 M2: ~150-column redraws wrapped on 80 columns, and "\r\033[K" cleared only
    # their last row: 211 stale rows after `make lab`
    monkeypatch.setenv("COLUMNS", str(columns))
    stream = Tty()
    progress = _one_done_one_failed(stream, clock)
    for _ in range(3):
        clock[0] += 30.0
        progress.update(20.0, note=NOTE)
    frames = stream.getvalue().split("\r\033[K")[1:]
    # one line redrawn in place: no newline, none wider than the terminal less a column
    assert len(frames) == 5 and "\n" not in "".join(frames)
    assert all(len(frame) <= columns - 1 for frame in frames), frames
    assert frames[-1] == (
        "sweep: 4/210 runs done (1 diverged), 1 failed, remaining ~0:08"  # 82 with the share
        if columns == 80
        else "sweep: 4/210 runs done, remaining ~0:08"
    )


def test_a_dumb_terminal_gets_its_line_blanked_with_spaces(clock, monkeypatch) -> None:
    # TERM=dumb (Emacs's shell, some IDE consoles) shows ESC[K as text
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("COLUMNS", "40")
    stream = Tty()
    progress = Progress(total=3, skipped=0, cost=3.0, stream=stream)
    progress.update(1.0, note=NOTE)
    first = "sweep: 1/3 runs done, remaining ~0:00"
    progress.say("sweep: a message")
    progress.update(1.0)
    second = first.replace("1/3", "2/3")
    assert stream.getvalue() == (f"\r{first}\r{' ' * len(first)}\rsweep: a message\n\r{second}")
    progress.update(1.0)  # the last: blanks the line it draws over, then ends it
    assert stream.getvalue().endswith(
        f"{second}\r{' ' * len(second)}\r{second.replace('2/3', '3/3')}\n"
    )
    assert "\033" not in stream.getvalue()


def test_the_line_width_is_columns_else_the_streams_terminal_else_80(monkeypatch) -> None:
    # `proplab lab > log`: stdout is a file, the progress goes to the terminal on stderr,
    # whose width is the one that matters
    termios, fcntl = pytest.importorskip("termios"), pytest.importorskip("fcntl")
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())  # no descriptor
    assert line_width(io.StringIO()) == 79
    leader, follower = os.openpty()
    with os.fdopen(leader, "wb"), os.fdopen(follower, "w") as terminal:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
        assert line_width(terminal) == 49
        monkeypatch.setenv("COLUMNS", "120")
        assert line_width(terminal) == 119


def test_the_reports_rebuild_commands_paste_into_a_shell_as_one_folder(tmp_path: Path) -> None:
    out = tmp_path / ODD
    report_line, sweep_line = rebuild_commands(out, 3).splitlines()
    assert shlex.split(report_line) == ["proplab", "report", str(out)]
    assert shlex.split(sweep_line) == [
        "proplab", "sweep", str(out / "sweep.toml"), "--out", str(out), "--jobs", "3",
    ]  # fmt: skip


def test_the_not_a_sweep_folder_hint_pastes_into_a_shell(tmp_path: Path, capsys) -> None:
    out = tmp_path / ODD
    out.mkdir()
    assert report.main(str(out)) == 2
    err = capsys.readouterr().err
    command = re.search(r"`(proplab sweep [^`]*)`", err)
    assert command is not None, err
    assert shlex.split(command.group(1)) == ["proplab", "sweep", "FILE.toml", "--out", str(out)]


SMALL_SWEEP = """title = "small"
[base]
hidden = 4
epochs = 30
[vary]
dataset = ["xor"]
seed = [0, 1]
[[experiment]]
name = "lr"
vary.lr = [1.0, 0.1]
"""


@pytest.mark.parametrize(
    "ascii_env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}],
    ids=["PYTHONIOENCODING", "LC_ALL=C"],
)
def test_a_sweep_on_an_ascii_stdout_prints_plus_minus_and_ends_cleanly(
    tmp_path: Path, ascii_env: dict[str, str]
) -> None:
    # env24 L3: the sweep trained and wrote everything, then its table's "±" ended it
    # with a UnicodeEncodeError (exit 1)
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "PYTHONIOENCODING")}
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SWEEP, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "proplab", "sweep", str(spec), "--out", str(tmp_path / "out")]
        + ["--jobs", "1", "--no-progress"],
        capture_output=True,
        env={**env, **ascii_env},
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    assert b"(mean +- std over seeds" in result.stdout and result.stdout.isascii()


@pytest.mark.parametrize("command", ["train", "predict", "gradcheck", "trace"])
def test_help_pages_on_an_ascii_stdout_write_r_squared_as_r_caret_2(command, monkeypatch) -> None:
    written = io.BytesIO()
    ascii_out = io.TextIOWrapper(written, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    assert cli.main([command, "--help"]) == 0
    ascii_out.flush()
    assert b"R^2" in written.getvalue()
    assert sys.stdout is ascii_out and ascii_out.errors == "strict"  # as it was


def test_other_signs_are_escaped_as_pythons_stderr_does() -> None:
    # a CSV column's name, say: readable, and no UnicodeEncodeError
    assert "Zoë → σ² …".encode("ascii", "proplab.plain") == b"Zo\\xeb -> \\u03c3^2 ..."
    assert "±".encode("latin-1", "proplab.plain") == b"\xb1"  # what it can encode it keeps
    # a file name's undecodable byte (os.fsdecode in a C locale) goes out as it came in
    assert "run\udce9.csv".encode("ascii", "proplab.plain") == b"run\xe9.csv"
