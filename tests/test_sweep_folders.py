"""What a sweep folder holds: the data file each run trained on, the sweep file it ran,
finished runs under new names, and one line (not a traceback) when the disk is full."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from test_sweep import FakeTrainer, calls, read_rows

from proplab import experiments, runio, sweep, sweep_workers
from proplab.cli import main
from proplab.sweep import SweepError, parse_spec, run_sweep

CSV_SWEEP = """
title = "csv"
[base]
dataset = "PATH"
label = "label"
epochs = 30
[vary]
lr = [1.0, 0.3]
"""


def write_points(path: Path, n: int, rule: str, seed: int) -> None:
    """``n`` rows a,b,label with the label by ``rule`` ("a>b" or "a+b>1")."""
    rng = np.random.default_rng(seed)
    rows = ["a,b,label"]
    for a, b in rng.random((n, 2)):
        label = a > b if rule == "a>b" else a + b > 1
        rows.append(f"{a:.4f},{b:.4f},{int(label)}")
    path.write_text("\n".join(rows) + "\n")


def csv_sweep(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A trained sweep of two runs on a 60-row CSV: (csv, sweep file, out)."""
    data = tmp_path / "my.csv"
    write_points(data, 60, "a>b", seed=0)
    spec = tmp_path / "csv.toml"
    spec.write_text(CSV_SWEEP.replace("PATH", str(data)))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    return data, spec, out


def fake_sweep(tmp_path: Path, monkeypatch, text: str, out: Path) -> sweep.SweepResult:
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return run_sweep(
        parse_spec(text, path), out, runner=sweep.choose_runner("off"), stream=io.StringIO()
    )


# ---------------------------------------------------------------- H1: the data file


def test_a_csv_run_records_its_data_file_and_a_changed_file_is_refused(tmp_path, capsys):
    data, spec, out = csv_sweep(tmp_path)
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    for run in (out / "runs").iterdir():
        record = json.loads((run / "config.json").read_text())["data"]
        size, path = data.stat().st_size, str(data.resolve())
        assert record == {"file": str(data), "path": path, "bytes": size, "sha256": sha}
    summaries = {p: p.read_bytes() for p in (out / "runs").glob("*/summary.json")}
    capsys.readouterr()

    write_points(data, 200, "a+b>1", seed=1)  # another rule, more rows
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"proplab sweep: error: {data}: changed since 2 runs in {out} trained on it (then "
        f"970 bytes, sha256 {sha[:12]}; now {data.stat().st_size} bytes, sha256 "
        f"{hashlib.sha256(data.read_bytes()).hexdigest()[:12]}); put the old file back, or "
        "run the sweep into another --out folder to train on the file as it is now"
    ]
    # nothing was trained again or overwritten
    assert {p: p.read_bytes() for p in (out / "runs").glob("*/summary.json")} == summaries

    # the report would draw 200 new points under models trained on the 60 old ones
    assert main(["report", str(out), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"proplab report: error: {data}: changed since 2")
    assert "under models trained on the old file" in err[0]
    assert not (out / "report.md").exists()


def test_the_old_data_file_put_back_is_reused(tmp_path, capsys):
    data, spec, out = csv_sweep(tmp_path)
    old = data.read_bytes()
    write_points(data, 200, "a+b>1", seed=1)
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    data.write_bytes(old)  # the same bytes (a new modification time)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    assert "sweep: 2 runs (2 reused, 0 trained, 0 failed)" in capsys.readouterr().out


def test_a_run_folder_without_a_data_record_is_still_reused(tmp_path, capsys):
    # written before proplab recorded the data: nothing to compare, nothing refused
    data, spec, out = csv_sweep(tmp_path)
    for path in (out / "runs").glob("*/config.json"):
        stored = json.loads(path.read_text())
        del stored["data"]
        path.write_text(json.dumps(stored))
    write_points(data, 60, "a+b>1", seed=1)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    assert "sweep: 2 runs (2 reused, 0 trained, 0 failed)" in capsys.readouterr().out


def test_generated_data_records_its_arrays_and_train_records_a_csv(tmp_path):
    assert experiments.data_record(experiments.RunConfig(dataset="xor")) is None
    data = tmp_path / "d.csv"
    write_points(data, 20, "a>b", seed=0)
    flags = ["--label", "label", "--epochs", "5", "--quiet", "--no-progress"]
    assert main(["train", "--dataset", str(data), *flags, "--out", str(tmp_path / "t")]) == 0
    stored = json.loads((tmp_path / "t" / "config.json").read_text())
    assert stored["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert main(["train", "--dataset", "xor", *flags[2:], "--out", str(tmp_path / "x")]) == 0
    # no file: the arrays themselves (experiments.data_fingerprint; ta23 H2)
    record = json.loads((tmp_path / "x" / "config.json").read_text())["data"]
    assert set(record) == {"arrays"} and set(record["arrays"]) == {"x", "y"}


def test_a_sweep_hashes_its_data_file_once(tmp_path, monkeypatch):
    data, spec, out = csv_sweep(tmp_path)
    hashed = []
    real = experiments._sha256.__wrapped__

    def counting(*args):
        hashed.append(args[0])
        return real(*args)

    monkeypatch.setattr(experiments, "_sha256", counting)  # no cache: count every hash
    jobs = sweep.plan(sweep.load_spec(spec), out)
    assert len(jobs) == 2 and hashed == [str(data)]


# ---------------------------------------------------------------- M6: another sweep file

SWEEP_A = """
title = "first"
[base]
epochs = 5
[vary]
lr = [1.0, 0.5]
seed = [0, 1]
"""
OTHER = """
title = "second"
[base]
epochs = 5
[vary]
activation = ["tanh", "relu"]
seed = [0]
"""


def test_another_sweep_into_the_same_folder_is_refused_unless_replace(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(SWEEP_A)
    second.write_text(OTHER)
    out = tmp_path / "out"
    assert main(["sweep", str(first), "--out", str(out), "--stack", "off"]) == 0
    results = (out / "results.csv").read_bytes()
    capsys.readouterr()

    assert main(["sweep", str(second), "--out", str(out), "--stack", "off"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"proplab sweep: error: {out}: holds the sweep 'first' ({out / 'sweep.toml'}); 4 of "
        f"its 4 run folders are not part of {second} ('second') and would be left out. Use "
        "another --out folder, or pass --replace to run it into this one (its results.csv, "
        "report and sweep.toml are replaced; no run folder is deleted)"
    ]
    assert (out / "sweep.toml").read_text() == SWEEP_A
    assert (out / "results.csv").read_bytes() == results and len(calls(tmp_path / "calls.txt")) == 4

    assert main(["sweep", str(second), "--out", str(out), "--stack", "off", "--replace"]) == 0
    err = capsys.readouterr().err
    assert f"sweep: --replace: {out} held the sweep 'first'; 4 of its 4 run folders" in err
    assert (out / "sweep.toml").read_text() == OTHER
    assert len(list((out / "runs").iterdir())) == 6  # the first sweep's runs are kept
    # each call's sweep file, by title and content hash
    log = read_rows(out / "sweep_log.csv")
    assert [r["title"] for r in log] == ["first", "second"]
    assert [r["sweep_sha256"] for r in log] == [
        sweep.sweep_digest(SWEEP_A),
        sweep.sweep_digest(OTHER),
    ]
    assert sweep.sweep_digest(SWEEP_A) != sweep.sweep_digest(OTHER)


def test_the_same_sweep_with_other_comments_and_layout_runs_silently(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    relaid = "# my sweep\n" + SWEEP_A.replace("epochs = 5", "epochs   =   5  # short")
    assert sweep.sweep_digest(relaid) == sweep.sweep_digest(SWEEP_A)
    stream = io.StringIO()
    result = run_sweep(parse_spec(relaid, tmp_path / "r.toml"), out, stream=stream)
    assert (result.reused, result.ran) == (4, 0)
    assert stream.getvalue() == f"sweep: 4 of 4 runs already finished in {out}\n"


def test_removed_values_say_how_many_run_folders_are_left_out(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    fewer = SWEEP_A.replace("lr = [1.0, 0.5]", "lr = [1.0]")
    stream = io.StringIO()
    result = run_sweep(parse_spec(fewer, tmp_path / "c4.toml"), out, stream=stream)
    assert (result.total, result.reused, result.ran) == (2, 2, 0)
    assert stream.getvalue().splitlines()[0] == (
        f"sweep: 2 run folders in {out / 'runs'} are not part of {tmp_path / 'c4.toml'} "
        "(e.g. dataset=xor,lr=0.5,seed=0); results.csv and the report leave them out"
    )
    assert len(read_rows(out / "results.csv")) == 2


# ---------------------------------------------------------------- L2: a [base] edit


def test_a_base_edit_that_renames_runs_reuses_them_under_their_new_names(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    before = {
        p.parent.name.removeprefix("dataset=xor,"): json.loads(p.read_text())["config"]["lr"]
        for p in (out / "runs").glob("*/config.json")
    }
    assert before == {"seed=0": 1.0, "seed=1": 1.0, "lr=0.5,seed=0": 0.5, "lr=0.5,seed=1": 0.5}
    # lr 0.5 in [base]: the lr 1 runs are now "lr=1,seed=N", the 0.5 ones "seed=N" (swapped)
    edited = SWEEP_A.replace("epochs = 5", "epochs = 5\nlr = 0.5")
    stream = io.StringIO()
    result = run_sweep(parse_spec(edited, tmp_path / "c5.toml"), out, stream=stream)
    assert (result.reused, result.ran) == (4, 0) and len(calls(tmp_path / "calls.txt")) == 4
    assert stream.getvalue().splitlines()[0] == (
        f"sweep: 4 finished run(s) renamed to the names {tmp_path / 'c5.toml'} gives them and "
        "reused (e.g. dataset=xor,seed=0 -> dataset=xor,lr=1,seed=0)"
    )
    after = {
        p.parent.name.removeprefix("dataset=xor,"): json.loads(p.read_text())["config"]["lr"]
        for p in (out / "runs").glob("*/config.json")
    }
    assert after == {"lr=1,seed=0": 1.0, "lr=1,seed=1": 1.0, "seed=0": 0.5, "seed=1": 0.5}
    # no .moving-* folder left
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        f"dataset=xor,{n}" for n in after
    )
    rows = {
        (r["lr"], r["seed"]): float(r["final_accuracy"]) for r in read_rows(out / "results.csv")
    }
    assert rows == {("1", "0"): 0.55, ("1", "1"): 0.65, ("0.5", "0"): 0.55, ("0.5", "1"): 0.65}


def _renames_of(edited: str, out: Path) -> dict[str, Path]:
    from proplab.sweep_folder import survey

    return survey(parse_spec(edited, Path("c5.toml")), out).moves


def test_runs_a_killed_rename_left_hidden_are_brought_back_and_reused(tmp_path, monkeypatch):
    """robust22 M2: a sweep killed between apply_moves' two steps left its finished runs in
    runs/.moving-*/run, which no later sweep looked at: all were trained again, silently."""
    import tempfile

    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    edited = SWEEP_A.replace("epochs = 5", "epochs = 5\nlr = 0.5")
    runs = out / "runs"
    for folder in _renames_of(edited, out).values():  # apply_moves' first step only
        os.rename(folder, Path(tempfile.mkdtemp(dir=runs, prefix=".moving-")) / "run")
    assert [p.name[:8] for p in runs.iterdir()] == [".moving-"] * 4
    stream = io.StringIO()
    result = run_sweep(parse_spec(edited, tmp_path / "c5.toml"), out, stream=stream)
    assert (result.reused, result.ran) == (4, 0) and len(calls(tmp_path / "calls.txt")) == 4
    assert stream.getvalue().splitlines()[0] == (
        f"sweep: 4 run folders an interrupted sweep left in {runs}/.moving-* moved back as "
        "recovered-1, recovered-2, recovered-3, recovered-4"
    )
    assert sorted(p.name for p in runs.iterdir()) == [
        "dataset=xor,lr=1,seed=0", "dataset=xor,lr=1,seed=1", "dataset=xor,seed=0",
        "dataset=xor,seed=1",
    ]  # fmt: skip
    lrs = {
        p.parent.name: json.loads(p.read_text())["config"]["lr"] for p in runs.glob("*/config.json")
    }
    assert lrs["dataset=xor,lr=1,seed=0"] == 1.0 and lrs["dataset=xor,seed=1"] == 0.5


def test_a_ctrl_c_during_the_renames_waits_for_them(tmp_path, monkeypatch, ctrl_c):
    """robust22 M2: apply_moves ran outside runio.uninterrupted, so a Ctrl-C between its
    two steps left the runs hidden."""
    import signal

    from proplab.sweep_folder import apply_moves

    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    moves = _renames_of(SWEEP_A.replace("epochs = 5", "epochs = 5\nlr = 0.5"), out)
    rename = os.rename

    def ctrl_c_then_rename(src, dst):
        signal.raise_signal(signal.SIGINT)
        rename(src, dst)

    monkeypatch.setattr(os, "rename", ctrl_c_then_rename)
    with pytest.raises(KeyboardInterrupt):
        apply_moves(moves, out / "runs")
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(moves)


def test_a_changed_run_whose_config_is_finished_nowhere_is_refused_without_deleting(
    tmp_path, monkeypatch
):
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    # lr 0.25 in [base] and in vary: "seed=0" (lr 1, no longer wanted) would now mean lr
    # 0.25, trained nowhere
    edited = SWEEP_A.replace("epochs = 5", "epochs = 5\nlr = 0.25").replace(
        "lr = [1.0, 0.5]", "lr = [0.25, 2.0]"
    )
    with pytest.raises(SweepError) as caught:
        run_sweep(parse_spec(edited, tmp_path / "e.toml"), out, stream=io.StringIO())
    message = str(caught.value)
    assert message.startswith(f"{out / 'runs' / 'dataset=xor,seed=0'}: holds a run with lr=1.0")
    assert "now asks for lr=0.25" in message and "delete" not in message
    assert "move that run folder out of the sweep folder" in message
    assert not (out / "runs" / "dataset=xor,lr=2,seed=0").exists()  # nothing done


def test_a_finished_run_that_a_rename_would_overwrite_is_refused(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    # lr 0.5 in [base] and lr 1 dropped: "seed=0" should take the 0.5 run, and its own
    # lr 1 run is not wanted anywhere any more
    edited = SWEEP_A.replace("epochs = 5", "epochs = 5\nlr = 0.5").replace(
        "lr = [1.0, 0.5]", "lr = [0.5, 2.0]"
    )
    with pytest.raises(SweepError, match=r"no longer asks for under any name") as caught:
        run_sweep(parse_spec(edited, tmp_path / "e.toml"), out, stream=io.StringIO())
    assert f"is finished in {out / 'runs' / 'dataset=xor,lr=0.5,seed=0'}" in str(caught.value)
    assert (
        json.loads((out / "runs" / "dataset=xor,seed=0" / "config.json").read_text())["config"][
            "lr"
        ]
        == 1
    )


# ---------------------------------------------------------------- L4


def test_a_field_missing_from_an_older_config_json_counts_as_its_default(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    for path in (out / "runs").glob("*/config.json"):  # as an older proplab wrote them
        stored = json.loads(path.read_text())
        del stored["config"]["dropout"]
        path.write_text(json.dumps(stored))
    same = run_sweep(parse_spec(SWEEP_A, tmp_path / "s.toml"), out, stream=io.StringIO())
    assert same.reused == 4  # dropout 0, the default: the runs are what is asked
    dropout = SWEEP_A.replace("epochs = 5", "epochs = 5\ndropout = 0.25")
    with pytest.raises(SweepError, match=r"holds a run with dropout=0\.0.*asks for dropout=0\.25"):
        run_sweep(parse_spec(dropout, tmp_path / "d.toml"), out, stream=io.StringIO())


def test_an_infinite_stack_memory_is_one_line(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SWEEP_A)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--stack-memory", "inf"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "proplab sweep: error: argument --stack-memory: must be a number of MB > 0 and <= "
        "1,000,000,000, got 'inf'"
    ]
    with pytest.raises(SweepError, match="got inf"):
        sweep.choose_runner("auto", math.inf)


# ---------------------------------------------------------------- M5: a full disk


@pytest.fixture
def full_disk(monkeypatch):
    """Every atomic write fails as a full disk does: in fsync, with no file name."""

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fill() -> None:
        monkeypatch.setattr(os, "fsync", no_space)

    return fill


def test_a_full_disk_names_the_file_that_could_not_be_written(tmp_path, full_disk):
    from proplab.runio import write_text

    full_disk()
    with pytest.raises(OSError) as caught:
        write_text(tmp_path / "a.txt", "x")
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, str(tmp_path / "a.txt"))
    assert os.listdir(tmp_path) == []  # no temporary file left behind


@pytest.mark.parametrize(
    "argv, path, kept",
    [
        (["sweep", "SWEEP", "--out", "OUT"], "OUT/sweep.toml", True),
        (["train", "--epochs", "5", "--quiet", "--no-progress", "--out", "OUT"], "OUT/config.json", False),
        (["lab", "--epochs", "5", "--no-suite", "--no-progress", "--out", "OUT"], "OUT/linear/config.json", True),
    ],
)  # fmt: skip
def test_a_full_disk_is_one_line_naming_the_file(tmp_path, capsys, full_disk, argv, path, kept):
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(SWEEP_A)
    out = tmp_path / "out"
    full_disk()
    argv = [str(sweep_file) if a == "SWEEP" else str(out) if a == "OUT" else a for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"proplab {argv[0]}: error: cannot write {path.replace('OUT', str(out))}: No space "
        "left on device" + (" (finished runs are kept; rerun the same command to resume)" * kept)
    )
    assert not any("Traceback" in line for line in err)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG])
def test_a_full_disk_stops_the_sweep_at_the_first_run_it_fails(tmp_path, monkeypatch, code):
    """robust22 L1: every run trained to its end and then failed to save, one by one."""
    tried = []

    def cannot_save(cfg, run_dir):
        tried.append(run_dir.name)
        raise OSError(code, os.strerror(code), str(run_dir / "history.csv"))

    monkeypatch.setattr(sweep_workers, "train_one", cannot_save)
    stream = io.StringIO()
    spec = parse_spec(SWEEP_A, tmp_path / "s.toml")
    result = run_sweep(spec, tmp_path / "out", runner=sweep.run_jobs, stream=stream)
    assert len(tried) == 1 and list(result.failed) == tried and result.exit_code == 1
    assert not result.interrupted
    assert stream.getvalue().splitlines()[-1] == (
        f"sweep: stopped: cannot write {tmp_path / 'out' / 'runs' / tried[0] / 'history.csv'}: "
        f"{os.strerror(code)} (finished runs are kept; rerun the same command to resume)"
    )


def test_another_failure_does_not_stop_the_sweep(tmp_path, monkeypatch):
    tried = []

    def broken(cfg, run_dir):
        tried.append(run_dir.name)
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(run_dir / "history.csv"))

    monkeypatch.setattr(sweep_workers, "train_one", broken)
    spec = parse_spec(SWEEP_A, tmp_path / "s.toml")
    result = run_sweep(spec, tmp_path / "out", runner=sweep.run_jobs, stream=io.StringIO())
    assert len(tried) == len(result.failed) == 4 and not result.write_error


def test_a_full_disk_in_report_is_one_line(tmp_path, monkeypatch, capsys, full_disk):
    out = tmp_path / "out"
    path = tmp_path / "s.toml"
    path.write_text(SWEEP_A)
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    full_disk()
    assert main(["report", str(out), "--jobs", "1"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(f"proplab report: error: cannot write {out}")
    assert err[-1].endswith(": No space left on device")


def test_the_report_counts_only_the_calls_of_its_own_sweep(tmp_path, capsys):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(SWEEP_A)
    second.write_text(OTHER)
    out = tmp_path / "out"
    assert main(["sweep", str(first), "--out", str(out)]) == 0
    assert main(["sweep", str(first), "--out", str(out)]) == 0
    assert main(["sweep", str(second), "--out", str(out), "--replace"]) == 0
    assert main(["report", str(out), "--jobs", "1"]) == 0
    report = (out / "report.md").read_text()
    assert "over 1 call of `proplab sweep` (the last: --jobs 1, 2 runs trained" in report
    assert len(read_rows(out / "sweep_log.csv")) == 3


def test_lab_into_a_folder_of_another_sweep_is_refused_unless_replace(tmp_path, capsys):
    # the refusal told `proplab lab` to pass --replace, which lab did not have
    out = tmp_path / "lab"
    first = tmp_path / "first.toml"
    first.write_text('title = "first"\n[base]\nepochs = 20\ndataset = "xor"\n')
    assert main(["sweep", str(first), "--out", str(out), "--jobs", "1"]) == 0
    other = tmp_path / "other.toml"
    other.write_text('title = "other"\n[base]\nepochs = 20\ndataset = "linear"\n')
    argv = ["lab", "--out", str(out), "--epochs", "20", "--suite", str(other), "--no-progress"]
    capsys.readouterr()
    assert main([*argv, "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "holds the sweep 'first'" in err and "pass --replace" in err
    # refused before the two lab runs trained (verify22 N2: they were written first)
    assert not (out / "linear").exists() and not (out / "xor").exists()
    assert main([*argv, "--jobs", "1", "--replace"]) == 0
    assert 'title = "other"' in (out / "sweep.toml").read_text()


def test_another_sweep_with_the_same_run_names_is_said_to_replace_only(tmp_path, capsys):
    """verify22 N2: a folder whose run folders the new sweep would all reuse by name lost
    nothing but its tables and report; "0 of its 1 run folders ... would be left out" gave
    no reason for the refusal."""
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    first.write_text('title = "first"\n[base]\nepochs = 20\ndataset = "xor"\n')
    second.write_text('title = "second"\n[base]\nepochs = 20\ndataset = "xor"\n')
    out = tmp_path / "out"
    assert main(["sweep", str(first), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["sweep", str(second), "--out", str(out), "--jobs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert (
        f"holds the sweep 'first' ({out / 'sweep.toml'}); its results.csv and report would "
        f"be replaced by {second} ('second')'s. Use another --out folder" in err
    )
    assert "of its 1 run folders" not in err


UNTITLED_A = SWEEP_A.replace('title = "first"\n', "")
UNTITLED_B = OTHER.replace('title = "second"\n', "")


def test_an_untitled_sweep_is_known_by_its_file(tmp_path, monkeypatch, capsys):
    # both files would be "Sweep": the title cannot tell another file from an edited one
    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(UNTITLED_A)
    second.write_text(UNTITLED_B)
    out = tmp_path / "out"
    assert main(["sweep", str(first), "--out", str(out), "--stack", "off"]) == 0
    assert read_rows(out / "sweep_log.csv")[-1]["file"] == str(first.resolve())
    capsys.readouterr()

    assert main(["sweep", str(second), "--out", str(out), "--stack", "off"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"proplab sweep: error: {out}: holds the sweep of {first.resolve()} (untitled) "
        f"({out / 'sweep.toml'}); 4 of its 4 run folders are not part of {second} (untitled) "
        "and would be left out. Use another --out folder, or pass --replace to run it into "
        "this one (its results.csv, report and sweep.toml are replaced; no run folder is "
        "deleted) (or give both files the same title: an untitled file is known by its path)"
    ]
    assert (out / "sweep.toml").read_text() == UNTITLED_A

    # the same file, edited, is the same sweep: it runs, and says what it leaves out
    first.write_text(UNTITLED_A.replace("lr = [1.0, 0.5]", "lr = [1.0]"))
    assert main(["sweep", str(first), "--out", str(out), "--stack", "off"]) == 0
    assert "2 run folders in" in capsys.readouterr().err

    assert main(["sweep", str(second), "--out", str(out), "--stack", "off", "--replace"]) == 0
    assert f"--replace: {out} held the sweep of {first.resolve()} (untitled)" in (
        capsys.readouterr().err
    )
    assert [r["file"] for r in read_rows(out / "sweep_log.csv")] == [
        str(first.resolve()),
        str(first.resolve()),
        str(second.resolve()),
    ]


def test_a_folder_logged_before_files_were_recorded_takes_an_untitled_edit(tmp_path, monkeypatch):
    # an older sweep_log.csv has no "file" column: nothing to compare, so no refusal
    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, UNTITLED_A, out)
    log = out / "sweep_log.csv"
    rows = read_rows(log)
    header = [k for k in rows[0] if k != "file"]
    runio.write_csv(log, header, [[r[k] for k in header] for r in rows])
    stream = io.StringIO()
    result = run_sweep(parse_spec(UNTITLED_B, tmp_path / "other.toml"), out, stream=stream)
    assert result.ran == 2 and "run folders in" in stream.getvalue()


@pytest.mark.parametrize(
    ("base", "edit"),
    [
        ("", "print_every = 500"),
        ("", "momentum = 0.0"),
        ('optimizer = "momentum"', "momentum = 0.9"),
        ('optimizer = "rmsprop"', "momentum = 0"),
    ],
    ids=["print_every", "sgd-momentum-0", "momentum-0.9", "rmsprop-momentum-int-0"],
)
def test_a_resume_takes_edits_that_change_no_result(tmp_path, monkeypatch, base, edit):
    """robust22 L2: adding `print_every = 500` (a sweep's runs print nothing) or sgd's own
    momentum 0 to [base] was refused as a changed run, though no number could change."""
    from proplab.sweep_folder import survey

    out = tmp_path / "out"
    first = SWEEP_A.replace("epochs = 5", f"epochs = 5\n{base}")
    fake_sweep(tmp_path, monkeypatch, first, out)
    edited = first.replace("epochs = 5", f"epochs = 5\n{edit}")
    plan = survey(parse_spec(edited, tmp_path / "e.toml"), out)
    assert not plan.moves and not plan.left_out and len(plan.jobs) == 4


def test_a_resume_still_refuses_a_momentum_that_changes_results(tmp_path, monkeypatch):
    from proplab.sweep_folder import survey

    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, SWEEP_A, out)
    edited = SWEEP_A.replace("epochs = 5", "epochs = 5\nmomentum = 0.5")
    with pytest.raises(SweepError, match="holds a run with momentum=None, but .* now asks for "
                       "momentum=0.5"):  # fmt: skip
        survey(parse_spec(edited, tmp_path / "e.toml"), out)
