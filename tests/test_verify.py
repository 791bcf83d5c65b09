"""``proplab verify``: a run folder's recorded data fingerprint, model.npz re-scored against
summary.json, history.csv against summary.json, and a rerun bit for bit (ta23 H2, M4)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from proplab import data as datasets
from proplab import experiments
from proplab.cli import main
from proplab.verify import verify_run


def train(out: Path, **settings) -> Path:
    """A 60-epoch run of ``settings`` into ``out`` (no figures: verify reads none)."""
    cfg = experiments.RunConfig(epochs=60, **settings)
    experiments.run_one(cfg, out, quiet=True, progress=False, figures=False)
    return out


@pytest.fixture(scope="module")
def trained_xor(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("trained") / "xor", dataset="xor")


@pytest.fixture
def xor_run(trained_xor: Path, tmp_path: Path) -> Path:
    """A copy of one trained XOR run folder, for the test to edit."""
    return Path(shutil.copytree(trained_xor, tmp_path / "xor"))


def edit_json(path: Path, **changes) -> None:
    stored = json.loads(path.read_text())
    stored.update(changes)
    path.write_text(json.dumps(stored))


def test_a_generated_run_records_the_sha256_of_its_arrays(xor_run):
    arrays = json.loads((xor_run / "config.json").read_text())["data"]["arrays"]
    x, y = datasets.generate_xor_easy()
    # MSE's targets are float64 (dataload.targets_and_width); hashed as the loss took them
    expected_y = hashlib.sha256(y.astype(np.float64).tobytes()).hexdigest()
    assert arrays["x"] == {"shape": [21, 2], "dtype": "float64", "sha256": _sha(x)}
    assert arrays["y"] == {"shape": [21, 1], "dtype": "float64", "sha256": expected_y}
    assert set(arrays) == {"x", "y"}  # no test share


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_a_test_share_is_fingerprinted_and_its_scores_compared(tmp_path):
    run = train(tmp_path / "moons", dataset="moons", test_fraction=0.25)
    arrays = json.loads((run / "config.json").read_text())["data"]["arrays"]
    assert arrays["x_test"]["shape"] == [25, 2] and arrays["x"]["shape"] == [75, 2]
    assert verify_run(run).ok
    summary = json.loads((run / "summary.json").read_text())
    edit_json(run / "summary.json", test_accuracy=summary["test_accuracy"] - 0.04)
    check = verify_run(run)
    assert not check.ok and "test_accuracy" in check.problems[0]


def test_verify_agrees_with_a_fresh_run_and_its_rerun(xor_run, capsys):
    capsys.readouterr()
    assert main(["verify", str(xor_run), "--rerun", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"{xor_run}  ok       data, scores (loss " in out
    assert "history, rerun bit for bit" in out
    assert out.endswith("1 of 1 run agree\n")


def test_a_tampered_summary_is_caught(xor_run, capsys):
    loss = json.loads((xor_run / "summary.json").read_text())["loss"]
    edit_json(xor_run / "summary.json", loss=0.0001)
    capsys.readouterr()
    assert main(["verify", str(xor_run), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert f"DIFFERS  summary.json: loss 0.0001; model.npz scores loss {loss:.10g}" in out
    assert out.endswith("0 of 1 run agree; 1 differs\n")


def test_a_summary_off_by_more_than_the_tolerance_is_caught(xor_run):
    loss = json.loads((xor_run / "summary.json").read_text())["loss"]
    edit_json(xor_run / "summary.json", loss=loss * (1 + 1e-14))  # summation order: agrees
    assert verify_run(xor_run).ok
    edit_json(xor_run / "summary.json", loss=loss * (1 + 1e-7))
    assert not verify_run(xor_run).ok


def test_a_changed_data_generator_is_caught_by_the_fingerprint(xor_run, monkeypatch):
    x, y = datasets.generate_xor_easy()
    moved = x.copy()
    moved[0, 0] += 1e-9  # another proplab's generator: the same shapes, other numbers
    monkeypatch.setitem(experiments.DATASETS, "xor", lambda cfg: (moved, y))
    check = verify_run(xor_run)
    assert check.problems[0].startswith("data differ: x 21x2 float64 sha256 " + _sha(x)[:12])
    assert check.problems[0].endswith(f"recorded, 21x2 float64 sha256 {_sha(moved)[:12]} now")
    assert "data" not in check.checked


def test_a_folder_without_a_fingerprint_is_still_checked(xor_run):
    stored = json.loads((xor_run / "config.json").read_text())
    del stored["data"]  # an older proplab's folder
    (xor_run / "config.json").write_text(json.dumps(stored))
    check = verify_run(xor_run)
    assert check.ok and check.notes == ["no data fingerprint recorded: an older proplab's run"]
    edit_json(xor_run / "summary.json", accuracy=0.5)
    check = verify_run(xor_run)
    assert "accuracy 0.5" in check.problems[0]
    assert check.notes[0].endswith("whose data may differ from this proplab's")


def test_history_rows_missing_at_the_end_are_caught(xor_run):
    lines = (xor_run / "history.csv").read_text().splitlines(keepends=True)
    (xor_run / "history.csv").write_text("".join(lines[:-1]))
    check = verify_run(xor_run)
    assert check.problems == [
        "history.csv: 59 rows, last epoch 59; summary.json: epochs_run 60, "
        + f"last wall_time {lines[-2].split(',')[3].strip()}; summary.json: wall_time_s "
        + str(json.loads((xor_run / "summary.json").read_text())["wall_time_s"])
    ]


def test_only_the_rerun_sees_an_edited_middle_row_of_the_history(xor_run, capsys):
    lines = (xor_run / "history.csv").read_text().splitlines(keepends=True)
    epoch, loss, rest = lines[10].split(",", 2)
    lines[10] = f"{epoch},{float(loss) * 0.5!r},{rest}"
    (xor_run / "history.csv").write_text("".join(lines))
    assert verify_run(xor_run).ok
    check = verify_run(xor_run, rerun=True)
    assert check.problems == [
        f"rerun: history.csv differs from row 10 (epoch,loss,accuracy {epoch},"
        f"{float(loss) * 0.5!r},{rest.split(',')[0]}; rerun {epoch},{loss},{rest.split(',')[0]})"
    ]


def test_the_rerun_compares_the_weights(xor_run):
    # a model.npz edited, and its summary edited to its scores, passes all but the rerun
    from proplab import serialize
    from proplab.config import build_loss

    model = serialize.load(xor_run / "model.npz")
    model.parameters()[0].data[0, 0] += 0.25
    serialize.save(model, xor_run / "model.npz")
    cfg, prep = experiments.prepare_run(experiments.read_run_config(xor_run))
    loss, acc, *_ = experiments.final_scores(cfg, model, build_loss(cfg), prep)
    edit_json(xor_run / "summary.json", loss=loss, accuracy=acc)
    assert verify_run(xor_run).ok
    check = verify_run(xor_run, rerun=True)
    assert check.problems == [
        "rerun: model.npz weights differ, first 0.weight (max |difference| 0.25)"
    ]


def test_a_sweep_folder_verifies_each_run(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('title = "t"\n[base]\nepochs = 40\n[vary]\nseed = [0, 1]\ndataset = ["xor"]\n')
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    runs = sorted((out / "runs").iterdir())
    # stacked runs get their fingerprint too (start_run_dir rebuilds the data)
    assert all("arrays" in json.loads((r / "config.json").read_text())["data"] for r in runs)
    capsys.readouterr()
    assert main(["verify", str(out), "--rerun", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{out}: a sweep folder, 2 runs"
    assert [line.split()[:2] for line in lines[1:3]] == [[f"runs/{r.name}", "ok"] for r in runs]
    edit_json(runs[1] / "summary.json", accuracy=0.0)
    assert main(["verify", str(out), "--no-progress"]) == 1
    assert capsys.readouterr().out.endswith("1 of 2 runs agree; 1 differs\n")


@pytest.mark.parametrize("what", ["missing", "empty", "file"])
def test_a_folder_that_is_no_run_is_exit_2_with_one_line(tmp_path, xor_run, capsys, what):
    bad = tmp_path / what
    if what == "empty":
        bad.mkdir()
    elif what == "file":
        bad.write_text("x")
    capsys.readouterr()
    assert main(["verify", str(xor_run), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing checked before every path is known to be a run or sweep
    assert err.count("\n") == 1
    assert err.startswith(f"proplab verify: error: {bad}: not a run folder nor a sweep folder")
    said = {
        "missing": "(no such folder)",
        "empty": "(no config.json, nor runs/*/config.json)",
        "file": f"(a file; give the folder that holds it: {tmp_path})",
    }
    assert said[what] in err


def test_an_unfinished_run_differs(xor_run):
    (xor_run / "summary.json").rename(xor_run / "interrupted.json")
    check = verify_run(xor_run)
    assert check.problems == ["no summary.json: an interrupted run (interrupted.json)"]


README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_readmes_run_data_lines_give_the_arrays_the_fingerprint_hashed(
    trained_xor, tmp_path, monkeypatch
):
    (code,) = [b for b in README.split("```python\n")[1:] if "prepare_run(" in b.split("```")[0]]
    shutil.copytree(trained_xor, tmp_path / "runs" / "xor")
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code.split("```")[0], "README.md", "exec"), ns)  # noqa: S102 (our README)
    arrays = json.loads((tmp_path / "runs/xor/config.json").read_text())["data"]["arrays"]
    assert _sha(ns["x"]) == arrays["x"]["sha256"] and _sha(ns["y"]) == arrays["y"]["sha256"]
    assert ns["x_test"] is None and ns["y_test"] is None


def test_load_zoo_gives_a_runs_data_only_with_the_clis_n_and_the_runs_stream(tmp_path):
    # the README's warning: load_zoo's n defaults to 200, --n to 100
    import proplab

    run = train(tmp_path / "moons", dataset="moons", seed=1)
    recorded = json.loads((run / "config.json").read_text())["data"]["arrays"]["x"]
    x, _ = proplab.load_zoo("moons", 100, 0.1, rng=np.random.default_rng([1, 2]))
    assert _sha(x) == recorded["sha256"]
    x200, _ = proplab.load_zoo("moons", rng=np.random.default_rng([1, 2]))
    assert x200.shape == (200, 2)
    assert '`load_zoo("moons", 100, 0.1, rng=np.random.default_rng([1, 2]))`' in README


def test_a_csv_run_checked_from_another_folder_is_unchecked_not_a_difference(
    tmp_path, monkeypatch, capsys
):
    # csv23 M3: a run records its CSV path as typed, relative to the folder it was trained
    # from; from another folder verify said "DIFFERS ... no such file" of a run that is fine
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(Path(__file__).parents[1] / "examples" / "body.csv", project / "body.csv")
    monkeypatch.chdir(project)
    run = train(tmp_path / "run", dataset="body.csv", standardize=True)
    # a run written before config.json recorded the file's absolute path (csv23 M3, which
    # a run of today is verified by from anywhere: tests/test_csv_paths.py)
    stored = json.loads((run / "config.json").read_text())
    del stored["data"]["path"]
    (run / "config.json").write_text(json.dumps(stored))
    assert verify_run(run).ok  # from where it was trained
    monkeypatch.chdir(tmp_path)
    check = verify_run(run)
    assert not check.ok and check.problems == []
    assert check.unchecked == (
        f"its data file 'body.csv' is not found from here ({tmp_path}); run verify from the "
        "folder the run was trained in"
    )
    capsys.readouterr()
    assert main(["verify", str(run), "--no-progress"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{run}  UNCHECKED  its data file 'body.csv' is not found")
    assert out[-1] == "0 of 1 run agree; 1 could not be checked"
