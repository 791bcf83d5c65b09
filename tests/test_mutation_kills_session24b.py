"""Tests for mutants the suite let live (mut24b: session 24's code fixes after 85b8543: the
sweep's progress line and the training bar fitted to the terminal, the ASCII-only stdout's
stand-ins, an old sweep's run finding its CSV file by its sweep's copy, the 96,573 hint,
the line of the epoch a stop ended on, and what "the lab model" compares).

Each test names the planted change it kills (mut24b's ids: its row in docs/mutation.md) and
says why the behaviour matters.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from types import SimpleNamespace

import pytest

from proplab import cli, progress, sweep_progress  # cli registers the proplab.plain handler
from proplab.progress import ProgressBar, line_width
from proplab.sweep_progress import Progress

# the lab's longest notes were about 75 columns (as tests/test_terminal_output.py has it)
NOTE = "dataset=linear,activation=identity,output_activation=identity,lr=0.1,seed=4"


class Terminal(io.StringIO):
    """A stream that is a terminal of ``columns`` columns (a pseudo-terminal's descriptor for
    os.get_terminal_size) and keeps what is written to it."""

    def __init__(self, columns: int) -> None:
        super().__init__()
        termios, fcntl = pytest.importorskip("termios"), pytest.importorskip("fcntl")
        self._leader, self._follower = os.openpty()
        if columns:  # a new pseudo-terminal says 0 columns until its size is set
            size = struct.pack("HHHH", 24, columns, 0, 0)
            fcntl.ioctl(self._follower, termios.TIOCSWINSZ, size)

    def fileno(self) -> int:
        return self._follower

    def isatty(self) -> bool:
        return True

    def close(self) -> None:
        os.close(self._leader)
        os.close(self._follower)
        super().close()


@pytest.fixture
def terminals(monkeypatch: pytest.MonkeyPatch):
    """Make :class:`Terminal` s (closed after the test); no ``$COLUMNS``, and a stdout with no
    descriptor (``proplab lab > log`` seen from line_width: its stdout is no terminal)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())
    made: list[Terminal] = []

    def make(columns: int) -> Terminal:
        made.append(Terminal(columns))
        return made[-1]

    yield make
    for terminal in made:
        terminal.close()


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """perf_counter for both progress lines, moved only by the test."""
    now = [100.0]
    fake = SimpleNamespace(perf_counter=lambda: now[0])
    monkeypatch.setattr(sweep_progress, "time", fake)
    monkeypatch.setattr(progress, "time", fake)
    return now


# --- line_width: $COLUMNS, else the stream's terminal, else stdout's, else 80 -------------------


def test_the_streams_own_terminal_comes_before_stdouts(terminals, monkeypatch) -> None:
    """Kills P14 (stdout's terminal asked before the stream's). The progress goes to stderr;
    when stdout is another terminal (a second window, tmux pane) of another width, a line
    fitted to stdout's 100 columns wraps on stderr's 50, leaving a stale row per redraw."""
    monkeypatch.setattr(sys, "__stdout__", terminals(100))
    assert line_width(terminals(50)) == 49
    assert line_width(io.StringIO()) == 99  # no descriptor: stdout's


def test_a_terminal_of_zero_columns_is_no_width(terminals) -> None:
    """Kills P15 (``size >= 0``). A pseudo-terminal whose size was never set (a CI runner's,
    `script`, some IDE consoles) says 0 columns: that is "unknown", not a width of -1 in
    which nothing fits and the progress line comes out empty."""
    assert line_width(terminals(0)) == 79


def test_a_file_that_is_no_terminal_is_passed_over(terminals, tmp_path) -> None:
    """Kills P16 (OSError not caught). ``proplab lab 2> log``: stderr is a real file, whose
    descriptor os.get_terminal_size refuses with OSError (ENOTTY); that is no crash of the
    sweep, the width is the 80 columns' default."""
    with open(tmp_path / "log", "w") as log:
        assert line_width(log) == 79


def test_columns_zero_is_ignored(terminals, monkeypatch) -> None:
    """Kills P13 (``COLUMNS=0`` taken as a width). An empty-looking ``COLUMNS=0`` (some
    shells' scripts export it) is no width: the terminal's own 50 columns count, not -1."""
    monkeypatch.setenv("COLUMNS", "0")
    assert line_width(terminals(50)) == 49


# --- the sweep's progress line --------------------------------------------------------------


def _sweep_line(clock: list[float]) -> Progress:
    # as tests/test_terminal_output.py: 35 of 100 cost units in 65 s: 35 %, ~2:01 left
    progress = Progress(total=210, skipped=0, cost=100.0, stream=io.StringIO())
    clock[0] += 65.0
    progress.update(30.0, note=NOTE, diverged=True)
    progress.update(5.0, failed=True)
    return progress


def test_a_note_that_just_fits_is_kept(clocks) -> None:
    """Kills S04 (``len(line) + 2 + len(note) < width``). The note names the run just
    finished; a terminal exactly as wide as the line, its two spaces and the note shows it
    all (the line never wraps at the last column: line_width already left that out)."""
    progress = _sweep_line(clocks)
    line = progress.line()
    assert len(line) == 94  # with the note: 94 + 2 + 75 = 171
    assert progress.fitted(NOTE, 171) == f"{line}  {NOTE}"
    assert progress.fitted(NOTE, 170) == line


def test_the_run_count_alone_fills_a_terminal_just_as_wide(clocks) -> None:
    """Kills S09 (``len(short) < width``). On a 6-column terminal (5 for the line) "1/210"
    fits exactly: it is shown, not an empty line with no progress at all."""
    progress = _sweep_line(clocks)
    assert progress.fitted(NOTE, 5) == "1/210"
    assert progress.fitted(NOTE, 4) == ""


def test_the_sweep_line_fits_the_terminal_it_is_drawn_on(terminals, clocks) -> None:
    """Kills S15 (``line_width()``: stdout's terminal, not the stream's). `proplab lab >
    log`: the line goes to stderr's 50-column terminal while stdout is a file; fitted to the
    80-column default it wrapped there, and each redraw left a stale row (env24 M2)."""
    stream = terminals(50)
    progress = Progress(total=210, skipped=0, cost=100.0, stream=stream)
    clocks[0] += 65.0
    progress.update(35.0, note=NOTE)
    assert stream.getvalue() == "\r\033[Ksweep: 1/210 runs done, remaining ~2:01"


# --- the training bar -----------------------------------------------------------------------


def test_a_bar_line_exactly_as_wide_as_the_terminal_keeps_its_padding(monkeypatch, clocks):
    """Kills P01 (``len(head) + len(tail) < width``). The padded fields keep the line from
    jumping as its numbers change; at 60 columns (59 for the line) the head (13) and the tail
    (46) fit exactly, so the line stays padded rather than switching to the narrow form."""
    monkeypatch.setenv("COLUMNS", "60")
    out = io.StringIO()
    bar = ProgressBar(100, stream=out, enabled=True)
    bar.update(50, force=True)  # no time has passed: 0 ep/s, ETA ?
    line = "epoch  50/100  50% " + " " * 24 + "    0 ep/s ETA ?"
    assert len(line) == 59 and out.getvalue() == "\r" + line


def test_the_bar_fits_the_terminal_it_is_drawn_on(terminals, clocks) -> None:
    """Kills P02 (``line_width()``: stdout's terminal, not the bar's stream's). The bar
    goes to stderr; on a 40-column terminal with stdout a file it was drawn 79 columns wide
    and wrapped at every redraw."""
    stream = terminals(40)
    bar = ProgressBar(20000, stream=stream, enabled=True)
    clocks[0] += 5.0
    bar.update(100, "loss 0.249 acc 52.4%", force=True)
    assert stream.getvalue() == "\repoch 100/20000 0% loss 0.249 acc 52.4%"


# --- an ASCII-only stdout: cli._plain_text and cli._plain_stdout ---------------------------------


def test_every_undecodable_byte_of_a_file_name_goes_out_as_it_came_in() -> None:
    """Kills C03 (``"\\udc80" < c``: the lowest escaped byte left out). In a C locale a file
    name's bytes 0x80-0xff come in as U+DC80-U+DCFF (surrogateescape); the first of them,
    0x80, must go out as the byte, not as the text "\\udc80" naming another file."""
    assert "a\udc80b\udcff".encode("ascii", "proplab.plain") == b"a\x80b\xff"


def test_the_plain_handler_leaves_decoding_errors_to_the_codec() -> None:
    """Kills C06 (no ``isinstance(exc, UnicodeEncodeError)`` check). The handler is
    registered by name for the whole process: a decode that names it gets the codec's own
    UnicodeDecodeError, not a TypeError from comparing a byte with a str."""
    with pytest.raises(UnicodeDecodeError, match="can't decode byte 0xff in position 1"):
        b"a\xff".decode("ascii", "proplab.plain")


class _IdleOutput(io.TextIOBase):
    """A stdout such as IDLE's shell has: a text stream with ``errors`` "strict" but no
    ``reconfigure`` (only io.TextIOWrapper has one)."""

    errors = "strict"  # type: ignore[assignment]

    def __init__(self) -> None:
        self.text: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text.append(text)
        return len(text)


def test_a_stdout_without_reconfigure_is_written_as_it_is(monkeypatch) -> None:
    """Kills C09 (no ``hasattr(stream, "reconfigure")`` check) and C11 (the handler put
    back on a stream it was never set on). cli.main run from IDLE's shell, whose stdout
    cannot be reconfigured: the command prints as it always did (its stream encodes
    whatever it is given), no AttributeError before it starts or after it ends."""
    stdout = _IdleOutput()
    monkeypatch.setattr(sys, "stdout", stdout)
    assert cli.main(["train", "--help"]) == 0
    assert sys.stdout is stdout and "R²" in "".join(stdout.text)


class _ReaderGone(io.RawIOBase):
    """A pipe whose reader has gone: every write raises BrokenPipeError (until ``closed_pipe``
    is set false, so the test's stream can be thrown away quietly)."""

    closed_pipe = True

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        if self.closed_pipe:
            raise BrokenPipeError(32, "Broken pipe")
        return len(data)


def test_a_reader_gone_with_output_still_buffered_is_exit_141(monkeypatch) -> None:
    """Kills C12 (reconfigure's ValueError/OSError not caught). Reconfiguring flushes: an
    in-process caller's stdout whose reader has gone while text is still buffered raises
    BrokenPipeError there. main leaves that stream as it is and ends as a Unix tool cut off
    by its reader does (141), not with a traceback before the command starts."""
    pipe = _ReaderGone()
    stdout = io.TextIOWrapper(io.BufferedWriter(pipe), encoding="utf-8")
    stdout.write("an earlier command's output")
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        assert cli.main(["train", "--help"]) == cli.EXIT_BROKEN_PIPE == 141
        assert stdout.errors == "strict"
    finally:
        pipe.closed_pipe = False  # the buffered text goes nowhere when the stream is dropped


# --- an old sweep's run finding its CSV file by its sweep folder's copy -----------------------


def _old_sweep_run(out, data_files: dict[str, str] | None):
    """``out/runs/r``: a sweep's run as proplab wrote it before runs recorded their file's
    path (``"data": {"file": "data.csv"}`` alone), beside a copy ``out/sweep.toml`` that
    names ``data_files`` (None: an older copy without the table). Returns the run folder."""
    import json

    run = out / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": {"file": "data.csv"}}))
    table = ", ".join(f'"{k}" = "{v}"' for k, v in (data_files or {}).items())
    head = f"data_files = {{ {table} }}\n" if data_files is not None else ""
    (out / "sweep.toml").write_text(head + 'title = "old"\n[base]\ndataset = "data.csv"\n')
    return run


def test_a_copy_naming_a_file_that_is_gone_leaves_the_path_as_typed(tmp_path, monkeypatch):
    """Kills D08 (the copy's entry taken without checking it is a file). A project copied
    to another machine: the absolute path the copy names is gone, the file as typed is
    here, where verify and predict are run; it is found here, as the docstring promises
    ("while that exists, else as typed, from the current folder")."""
    from proplab.datapath import data_file, from_record

    run = _old_sweep_run(tmp_path / "out", {"data.csv": str(tmp_path / "gone" / "data.csv")})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("a,label\n1,0\n")
    located = from_record("data.csv", {"file": "data.csv"}, run)
    assert data_file(located).resolve() == (tmp_path / "data.csv").resolve()


def test_a_relative_entry_of_the_copy_is_read_from_the_copys_folder(tmp_path, monkeypatch):
    """Kills D13 (a relative entry read from the run folder). The sweep reads its copy's
    data_files from the copy's folder (datapath.in_folder); a run finding its file by the
    same copy must read it from there too, or a copy that names "stash/data.csv" finds the
    file for the sweep and not for the run's verify/predict."""
    from proplab.datapath import data_file, from_record

    run = _old_sweep_run(tmp_path / "out", {"data.csv": "stash/data.csv"})
    (tmp_path / "out" / "stash").mkdir()
    (tmp_path / "out" / "stash" / "data.csv").write_text("a,label\n1,0\n")
    monkeypatch.chdir(tmp_path)  # which holds no data.csv
    located = from_record("data.csv", {"file": "data.csv"}, run)
    assert data_file(located) == tmp_path / "out" / "stash" / "data.csv"


def test_an_older_copy_without_data_files_is_no_error(tmp_path, monkeypatch):
    """Kills D14 (KeyError not caught). A sweep folder from before csv23 M3 has a copy
    without data_files: its runs are read from the current folder, as then, not ended by a
    KeyError (verify and predict of every older sweep's run)."""
    from proplab.datapath import data_file, from_record, looked_in

    run = _old_sweep_run(tmp_path / "out", None)
    monkeypatch.chdir(tmp_path)
    assert from_record("data.csv", {"file": "data.csv"}, run) == "data.csv"
    assert data_file(from_record("data.csv", {"file": "data.csv"}, run)).name == "data.csv"
    assert looked_in("data.csv", {"file": "data.csv"}, run) == f" from here ({tmp_path})"


def test_the_place_the_run_recorded_is_named_once(tmp_path, monkeypatch):
    """Kills D15 (the copy's entry listed even when it is the recorded path). A resumed
    sweep's copy names the same absolute file the run recorded: "not found at X (where it
    was when the run trained), at X (where ... names it)" said one place twice."""
    from proplab.datapath import looked_in

    gone = str(tmp_path / "C" / "data.csv")
    run = _old_sweep_run(tmp_path / "out", {"data.csv": gone})
    monkeypatch.chdir(tmp_path)
    assert looked_in("data.csv", {"file": "data.csv", "path": gone}, run) == (
        f" at {gone} (where it was when the run trained) nor from here ({tmp_path})"
    )


def test_predict_knows_an_old_sweep_runs_training_file_from_anywhere(tmp_path, monkeypatch):
    """Kills D10 (predict_out._training_file without the run folder). ``--out`` the CSV an
    old sweep's run trained on, from a third folder: the refusal says it is the training
    file (found by the sweep's copy), not merely "no output of proplab predict"."""
    from proplab.predict_out import out_problem

    (tmp_path / "C").mkdir()
    trained_on = tmp_path / "C" / "data.csv"
    trained_on.write_text("a,label\n1,0\n")
    run = _old_sweep_run(tmp_path / "out", {"data.csv": str(trained_on)})
    (tmp_path / "E").mkdir()
    monkeypatch.chdir(tmp_path / "E")
    new = tmp_path / "E" / "new.csv"
    new.write_text("a\n1\n")
    assert out_problem(trained_on, new, run) == (
        "is the CSV file the run trained on (its config.json records it)"
    )


def test_a_dataset_typed_with_a_space_finds_the_copys_entry(tmp_path, monkeypatch):
    """Kills D19 (the copy's table looked up by the path with its spaces). A sweep file's
    ``dataset = "data.csv "`` is kept as typed in the run's config (its run name), while the
    copy's data_files keys it stripped, as the sweep located it: the run finds it there."""
    from proplab.datapath import data_file, from_record

    (tmp_path / "C").mkdir()
    (tmp_path / "C" / "data.csv").write_text("a,label\n1,0\n")
    run = _old_sweep_run(tmp_path / "out", {"data.csv": str(tmp_path / "C" / "data.csv")})
    monkeypatch.chdir(tmp_path)
    located = from_record("data.csv ", {"file": "data.csv "}, run)
    assert located == "data.csv " and data_file(located) == tmp_path / "C" / "data.csv"


# --- callbacks.train: the line of the epoch a stop ended on ------------------------------------


def _early_stopped(print_every: int) -> tuple[list[str], object]:
    """callbacks.train on XOR watching a validation set with the labels flipped: its loss
    rises as the training loss falls, so patience 5 stops training at epoch 7."""
    import numpy as np

    import proplab as pl
    from proplab.callbacks import EarlyStopping, train

    x, y = pl.generate_xor_easy()
    model = pl.mlp(2, 10, 1, rng=np.random.default_rng(0))
    lines: list[str] = []
    history = train(
        model, pl.MSELoss(), pl.SGD(model.parameters(), lr=2.0), x, y, 5000,
        print_every=print_every, log=lines.append, validation=(x, 1 - y),
        early_stopping=EarlyStopping(patience=5),
    )  # fmt: skip
    assert history.stop_reason == "early_stopped" and history.epochs_run == 7
    return lines, history


def test_an_early_stop_logs_its_last_epochs_line():
    """Kills K02 (only "converged" counted as a stop). An early stop on the validation
    loss ends training between two print_every lines as tol does: the last epoch's loss is
    what the student compares with the next run, so its line is logged too."""
    from proplab.train_text import format_epoch_line

    lines, history = _early_stopped(print_every=100)
    assert lines == [format_epoch_line(7, history.loss[-1])]


def test_a_stop_on_a_logged_epoch_logs_its_line_once():
    """Kills K01 (``logged`` never set) and K03 (``logged <= epoch``). With print_every 1
    the stop's epoch was logged already: a second copy of its line would read as an extra
    epoch in a log a student pastes or parses."""
    from proplab.train_text import format_epoch_line

    lines, history = _early_stopped(print_every=1)
    assert lines == [format_epoch_line(e, history.loss[e - 1]) for e in range(1, 8)]


def test_print_every_zero_logs_no_stop_line():
    """Kills K04 (the stop's line without ``print_every``). print_every 0 means "never
    log": a stopped run logged one line anyway (a quiet sweep worker printing)."""
    lines, _ = _early_stopped(print_every=0)
    assert lines == []


# --- fit: a stack's stop line is of the replicas that stopped below tol ----------------------


def test_a_stack_whose_last_replica_diverges_logs_no_stop_line():
    """Kills T01 (the stop line of every replica stopping in the last epoch, diverged ones
    too) and T04 (a stop line with no replica below tol). Replica 0 gets below tol at epoch
    5, replica 1's learning rate of 100 overflows at epoch 51 and ends the stack: the line
    logged for a stop by tol is not written for a divergence (an "inf"/"nan" loss line,
    or NumPy's mean of nothing), and the print_every lines are replica 1's, the one left."""
    import numpy as np

    import proplab as pl
    from proplab.train_text import format_epoch_line

    x, y = pl.generate_xor_easy()
    stack = pl.mlp(2, 10, 1, seeds=[0, 1], output_activation="identity")
    lines: list[str] = []
    history = pl.fit(
        stack, pl.MSELoss(), pl.SGD(stack.parameters(), lr=np.array([0.5, 100.0])), x, y,
        3000, tol=0.25, print_every=10, log=lines.append,
    )  # fmt: skip
    assert list(history.replica_stop_epoch) == [5, 51]
    assert list(history.replica_stop_reason) == ["converged", "diverged"]
    assert lines == [format_epoch_line(e, history.loss[e - 1][1]) for e in range(10, 51, 10)]


# --- csvdata: 96,573 and its neighbours -------------------------------------------------------


@pytest.mark.parametrize("cell", ["1234,567", "1,70"])
def test_a_comma_no_thousands_separator_writes_is_a_decimal_comma_only(tmp_path, cell):
    """Kills V01 (``\\d{1,4},\\d{3}``) and V04 (``\\d{1,3},\\d{2,3}``). Neither "1234,567" (that
    would be 1,234,567) nor "1,70" (a group has three digits) can hold a thousands
    separator: the hint names the decimal comma alone, not a reading "1234567" or "170 with
    a thousands separator" that no spreadsheet writes."""
    from proplab.csvdata import CsvError, load_csv

    path = tmp_path / "w.csv"
    path.write_text(f"x;y\n1.5;0\n{cell};1\n")
    with pytest.raises(CsvError) as err:
        load_csv(path)
    assert str(err.value) == (
        f"{path}: line 3, column 'x': '{cell}' is not a number (a decimal comma? proplab "
        "reads a decimal point (171.3): export the file with '.' as the decimal separator)"
    )


# --- report_text.lab_or_base: the settings it compares ---------------------------------------


def test_a_setting_left_out_is_the_labs():
    """Kills L07 (a missing setting compared as None). The docstring promises "a setting
    left out of config is the lab's": a base dict naming only what it changes (the handout's
    own TOML: dataset and seed) is the lab model, not "the base model"."""
    from proplab.report_text import lab_or_base

    assert lab_or_base({"dataset": "xor", "seed": 3}, ["xor"]) == "lab"
    assert lab_or_base({"dataset": "xor", "lr": 0.5}, ["xor"]) == "base"


def test_the_noise_of_a_zoo_dataset_does_not_make_another_model():
    """Kills L03 ("noise" compared). noise is a setting of the data (the zoo's; the lab's
    linear and xor take none): a lab base with another noise trains the same network the
    same way, and is still "the lab model"."""
    from proplab.config import RunConfig
    from proplab.report_text import lab_or_base

    lab = RunConfig().to_dict()
    assert lab_or_base({**lab, "noise": 0.3}, ["xor"]) == "lab"
