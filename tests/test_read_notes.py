"""A big or slow CSV read is said on stderr (by the command line: the library prints
nothing), and a sweep's time counts from the call's start, its data reading included.
scale19 M2: a 143 MB file was read for 23-55 s without a word, and a sweep that took
66 s said "in 12.5 s"."""

from __future__ import annotations

import csv
import os
import re
import time
import types
from pathlib import Path

import pytest
from test_sweep import SIMPLE, FakeTrainer, write

from proplab import csvdata, sweep, sweep_workers
from proplab.cli import main
from proplab.csvdata import load_csv, reads_reported
from proplab.csvtable import read_table


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "two.csv"
    rows = [f"{i / 40:.3f},{(i * 7 % 40) / 40:.3f},{'ab'[i % 2]}" for i in range(40)]
    path.write_text("u,v,kind\n" + "\n".join(rows) + "\n")
    return path


def _notes(err: str, command: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"proplab {command}: read ")]


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("train", ["--epochs", "2", "--quiet", "--no-progress"]),
        ("gradcheck", ["--hidden", "3"]),
    ],
)
def test_a_big_file_read_is_said_once_with_what_it_held_and_how_long_it_took(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch, command: str, flags: list[str]
) -> None:
    path = _csv(tmp_path)
    monkeypatch.setattr(csvdata, "READ_NOTE_BYTES", 100)  # this file counts as big
    out = ["--out", str(tmp_path / "run")] if command == "train" else []
    assert main([command, "--dataset", str(path), *flags, *out]) == 0
    notes = _notes(capsys.readouterr().err, command)
    # train reads the file three times (data, notes, summary): the cache's copies say nothing
    assert len(notes) == 1, notes
    size = path.stat().st_size
    assert re.fullmatch(
        rf"proplab {command}: read {re.escape(str(path))} \({size / 1e3:.0f} kB\): 40 rows x 2 "
        r"features, 2 classes, in \d+\.\d s",
        notes[0],
    ), notes[0]


def test_a_slow_read_is_said_and_a_small_quick_one_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    path = _csv(tmp_path)
    argv = ["gradcheck", "--dataset", str(path), "--hidden", "3"]
    assert main(argv) == 0
    assert _notes(capsys.readouterr().err, "gradcheck") == []  # 1 kB, milliseconds
    csvdata._PARSED.clear()  # read again, and this time "slowly"
    monkeypatch.setattr(csvdata, "READ_NOTE_SECONDS", -1.0)
    assert main(argv) == 0
    assert len(_notes(capsys.readouterr().err, "gradcheck")) == 1


def test_the_library_says_nothing_and_a_forked_worker_says_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    path = _csv(tmp_path)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("u,v,w\n" + "".join(f"{i},{i % 3},{i * i}\n" for i in range(40)))
    monkeypatch.setattr(csvdata, "READ_NOTE_BYTES", 0)
    load_csv(path)  # no listener: the library prints nothing itself
    assert capsys.readouterr() == ("", "")
    heard: list[str] = []
    with reads_reported(heard.append):
        table = read_table(path)  # `proplab predict` reads its rows as text
        parent = os.getpid()
        monkeypatch.setattr(os, "getpid", lambda: parent + 1)  # as in a forked sweep worker
        load_csv(numbers, values=True)
        monkeypatch.setattr(os, "getpid", lambda: parent)
        load_csv(numbers, label="v", values=True)
    load_csv(path, label="kind", header=True)  # the block is over: nobody listens
    assert len(heard) == 2 and table.names == ["u", "v", "kind"]
    read = r"read {} \({} kB\): 40 rows x {}, in \d+\.\d s"
    expected = [(path, "3 columns"), (numbers, "2 features, values to predict")]
    for said, (file, what) in zip(heard, expected, strict=True):
        kb = f"{file.stat().st_size / 1e3:.0f}"
        assert re.fullmatch(read.format(re.escape(str(file)), kb, what), said), said


def test_a_sweeps_time_counts_its_data_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    # a clock that moves 40 s while the sweep file is loaded (every run's data read) and
    # a microsecond per look otherwise
    now = [1000.0]

    def perf_counter() -> float:
        now[0] += 1e-6
        return now[0]

    def slow_load_suite(file: str) -> sweep.SweepSpec:
        now[0] += 40.0
        return real_load_suite(file)

    real_load_suite = sweep.load_suite
    fake_time = types.SimpleNamespace(perf_counter=perf_counter, strftime=time.strftime)
    monkeypatch.setattr(sweep, "time", fake_time)
    monkeypatch.setattr(sweep, "load_suite", slow_load_suite)
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    path = write(tmp_path, SIMPLE)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--stack", "off", "--no-progress"]) == 0
    said = [s for s in capsys.readouterr().out.splitlines() if s.startswith("sweep: 12 runs")]
    assert len(said) == 1 and " in 40.0 s; " in said[0], said
    with open(out / "sweep_log.csv", newline="") as log:
        assert [row["seconds"] for row in csv.DictReader(log)] == ["40.0"]
