"""runio.write_columns_csv: exact float text, fixed decimals, repeated values; the folder
lock that keeps two sweeps (or lab, or train runs) out of one folder."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from proplab import runio


def test_columns_csv_round_trips_floats_exactly_and_rounds_named_columns(tmp_path):
    rng = np.random.default_rng(0)
    epochs = np.arange(1, 301)
    loss = rng.random(300) * 1e-3
    accuracy = rng.integers(0, 22, 300) / 21  # few distinct values: formatted once each
    clock = np.cumsum(rng.random(300) * 1e-4)
    path = runio.write_columns_csv(
        tmp_path / "h.csv",
        {"epoch": epochs, "loss": loss, "accuracy": accuracy, "wall_time": clock},
        {"wall_time": 6},
    )
    rows = runio.read_csv(path)
    assert [int(r["epoch"]) for r in rows] == epochs.tolist()
    assert [float(r["loss"]) for r in rows] == loss.tolist()
    assert [float(r["accuracy"]) for r in rows] == accuracy.tolist()
    assert [r["wall_time"] for r in rows] == [f"{t:.6f}" for t in clock.tolist()]
    # the same text the csv-module writer gives for the exact columns
    runio.write_csv(
        tmp_path / "ref.csv",
        ["epoch", "loss", "accuracy"],
        zip(epochs.tolist(), loss.tolist(), accuracy.tolist(), strict=True),
    )
    mine = runio.write_columns_csv(
        tmp_path / "mine.csv", {"epoch": epochs, "loss": loss, "accuracy": accuracy}
    )
    assert mine.read_text() == (tmp_path / "ref.csv").read_text()


def test_columns_csv_writes_plain_lists_and_an_empty_table(tmp_path):
    path = runio.write_columns_csv(tmp_path / "a.csv", {"k": [1, 2], "v": [0.5, float("nan")]})
    assert path.read_text() == "k,v\n1,0.5\n2,nan\n"
    empty = runio.write_columns_csv(tmp_path / "e.csv", {"k": [], "v": []})
    assert empty.read_text() == "k,v\n"


def test_json_writes_every_non_finite_float_as_null(tmp_path):
    values = {"a": math.inf, "b": -math.inf, "c": [1.5, np.float64(np.inf)], "d": math.nan}
    path = runio.write_json(tmp_path / "s.json", values)
    assert runio.read_json(path) == {"a": None, "b": None, "c": [1.5, None], "d": None}


def test_folder_names_are_shortened_only_beyond_the_limit():
    limit = runio.MAX_FOLDER_NAME
    assert runio.short_folder_name("a" * limit) == "a" * limit
    longer = runio.short_folder_name("a" * (limit + 1))
    assert len(longer) == limit and ",hash=" in longer
    assert longer != runio.short_folder_name("a" * (limit + 2))


# ---------------------------------------------------------------- folder_lock (robust22 H1)

_HOLD = """
import sys
from proplab.runio import folder_lock
with folder_lock(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder(folder: Path, what: str = "sweep") -> subprocess.Popen:
    """Another process holding ``folder``'s lock until its stdin closes (or it is killed)."""
    env = {**os.environ, "PYTHONPATH": str(Path(runio.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(folder), what],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def _release(proc: subprocess.Popen, kill: bool = False) -> None:
    """Let the holder go (or SIGKILL it: no ``finally`` runs, its lock file stays)."""
    assert proc.stdin is not None and proc.stdout is not None
    if kill:
        proc.send_signal(signal.SIGKILL)
    proc.stdin.close()
    proc.stdout.close()
    assert proc.wait() == (-signal.SIGKILL if kill else 0)


needs_flock = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")


@needs_flock
def test_a_folder_another_process_holds_is_refused_naming_it_and_freed_when_it_ends(tmp_path):
    folder = tmp_path / "out"
    proc = _holder(folder)
    try:
        with pytest.raises(runio.FolderBusyError) as err, runio.folder_lock(folder, "train"):
            pass
        message = str(err.value)
        assert message.startswith(f"{folder}: another proplab sweep (pid {proc.pid}, started ")
        assert message.endswith(") is running into this folder; wait for it or use another --out")
    finally:
        _release(proc)
    assert not (folder / runio.LOCK_FILE).exists()  # removed when its holder let go
    with runio.folder_lock(folder, "sweep"):
        assert (folder / runio.LOCK_FILE).read_text().splitlines()[:2] == [
            "sweep",
            str(os.getpid()),
        ]
    assert not folder.exists()  # made for the lock, left empty: removed with it


@needs_flock
def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    folder = tmp_path / "out"
    _release(_holder(folder), kill=True)
    assert (folder / runio.LOCK_FILE).is_file()  # its file stays, its lock does not
    with runio.folder_lock(folder, "sweep"):
        pass


@needs_flock
def test_the_lock_nests_in_one_process_and_a_folder_it_made_for_nothing_is_removed(tmp_path):
    folder = tmp_path / "new"
    with runio.folder_lock(folder, "lab"), runio.folder_lock(folder / ".." / "new", "sweep"):
        # the inner block (the lab's sweep) did not replace the lab's lock
        assert (folder / runio.LOCK_FILE).read_text().splitlines()[0] == "lab"
    assert not folder.exists()


@needs_flock
@pytest.mark.parametrize("command", ["sweep", "lab", "train"])
def test_a_second_command_into_a_busy_folder_is_refused_writing_nothing(tmp_path, capsys, command):
    from proplab.cli import main

    toml = tmp_path / "s.toml"
    toml.write_text('title = "t"\n[base]\nepochs = 5\n[vary]\nseed = [0, 1]\n')
    out = tmp_path / "out"
    proc = _holder(out, "lab")
    argv = {
        "sweep": ["sweep", str(toml), "--out", str(out), "--no-progress"],
        "lab": ["lab", "--out", str(out), "--epochs", "5", "--suite", str(toml)],
        "train": ["train", "--out", str(out), "--epochs", "5", "--quiet"],
    }[command]
    try:
        assert main(argv) == 2
        assert os.listdir(out) == [runio.LOCK_FILE]
    finally:
        _release(proc)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"proplab {command}: error: argument --out: {out}: another proplab lab (pid {proc.pid}, "
    )


def test_a_lock_file_a_killed_run_left_does_not_make_a_folder_foreign(tmp_path):
    from proplab.config import RunConfig
    from proplab.train_out import check_out_folder

    out = tmp_path / "run"
    out.mkdir()
    (out / runio.LOCK_FILE).write_text("train\n1\n2025-01-01 00:00:00\n")
    check_out_folder(out, RunConfig().validate())  # an empty folder: no refusal
