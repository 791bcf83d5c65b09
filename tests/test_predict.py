"""``proplab predict``: a trained run's model on new rows, never disagreeing with the run.

Tiny runs are trained through the CLI once per module; each test predicts with them and
compares the output with the model's own outputs (``proplab.load``, ``evaluate``) and
with the run's ``summary.json``.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import proplab
from proplab import experiments, predict
from proplab.cli import main
from proplab.core import train_mode
from proplab.csvdata import load_csv
from proplab.losses import softmax
from proplab.metrics import r2_score
from proplab.scoring import evaluate, predictions
from proplab.train_text import format_percent

ROOT = Path(__file__).resolve().parents[1]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV text."""
    header, *rows = csv.reader(io.StringIO(text))
    return header, rows


def column(header: list[str], rows: list[list[str]], name: str) -> list[str]:
    return [row[header.index(name)] for row in rows]


def train(*argv: str) -> None:
    """``proplab train ... --quiet``, without the run's PNG figures (matplotlib would take
    most of the time; predict reads none of them)."""
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(io.StringIO()) as err:
        patch.setattr(experiments, "run_one", functools.partial(experiments.run_one, figures=False))
        code = main(["train", *argv, "--quiet", "--no-progress"])
    assert code == 0, err.getvalue()


def write_body(path: Path, rng: np.random.Generator, n: int = 60) -> None:
    """Heights (cm) and weights (kg) far from unit scale, 'tall' a linear rule of both."""
    height, weight = rng.normal(170, 10, n), rng.normal(70, 8, n)
    kind = np.where(height / 10 + weight / 8 > 25.75, "tall", "short")
    lines = ["height,weight,kind"]
    lines += [
        f"{h!r},{w!r},{k}" for h, w, k in zip(height.tolist(), weight.tolist(), kind, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Run folders: 'body' (CSV classes, standardised, a test share, batchnorm and dropout
    so that evaluation mode matters), 'score' (CSV regression), 'xor', 'iris' (3 named
    classes, cross-entropy) and 'iris_mse' (3 classes on one-hot sigmoid outputs)."""
    root = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(19)
    write_body(root / "body.csv", rng)
    train("--dataset", str(root / "body.csv"), "--label", "kind", "--standardize",
          "--test-fraction", "0.25", "--batchnorm", "--dropout", "0.2", "--optimizer", "adam",
          "--lr", "0.05", "--epochs", "60", "--out", str(root / "body"))  # fmt: skip
    x = rng.uniform(-1, 1, (40, 2))
    score = 0.5 * x[:, 0] - 0.3 * x[:, 1]
    lines = ["a,b,score"] + [
        f"{a!r},{b!r},{s!r}" for (a, b), s in zip(x.tolist(), score.tolist(), strict=True)
    ]
    (root / "score.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    train("--dataset", str(root / "score.csv"), "--label", "score", "--task", "regression",
          "--epochs", "60", "--out", str(root / "score"))  # fmt: skip
    train("--dataset", "xor", "--epochs", "300", "--out", str(root / "xor"))
    x = rng.normal(0, 1, (45, 2))
    species = np.array(["setosa", "versicolor", "virginica"])[
        np.argmax(np.c_[x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]], axis=1)
    ]
    lines = ["sl,sw,species"] + [
        f"{a!r},{b!r},{s}" for (a, b), s in zip(x.tolist(), species, strict=True)
    ]
    (root / "iris.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    iris = ["--dataset", str(root / "iris.csv"), "--label", "species", "--optimizer", "adam"]
    train(*iris, "--loss", "cross_entropy", "--lr", "0.05", "--epochs", "40", "--out",
          str(root / "iris"))  # fmt: skip
    train(*iris, "--lr", "0.05", "--epochs", "40", "--out", str(root / "iris_mse"))
    return {p.name: p for p in root.iterdir()} | {"root": root}


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text(encoding="utf-8"))


def test_a_csv_run_predicts_its_training_file_as_its_summary_scored_it(runs, capsys):
    run, data = runs["body"], runs["body.csv"]
    code, out, err = cli(capsys, "predict", str(run), "--data", str(data))
    assert code == 0, err
    header, rows = table(out)
    s = summary(run)
    assert header == ["height", "weight", "kind", "prediction", "p_short", "p_tall"]
    assert s["classes"] == ["short", "tall"]
    # the file's cells as given, then the prediction by the class names
    assert [row[:3] for row in rows] == [
        line.split(",") for line in data.read_text().splitlines()[1:]
    ]
    predicted, truth = column(header, rows, "prediction"), column(header, rows, "kind")
    assert set(predicted) <= set(s["classes"])
    # train and test share together: the same count of correct rows as the summary's
    correct = sum(p == t for p, t in zip(predicted, truth, strict=True))
    expected = s["accuracy"] * s["n_samples"] + s["test_accuracy"] * s["n_test"]
    assert correct == round(expected) and abs(correct - expected) < 1e-9
    # the probabilities are the model's outputs in evaluation mode, to the bit (with
    # dropout's units on, or batchnorm's batch statistics, they would differ)
    model, csvdata = proplab.load(run / "model.npz"), load_csv(data, label="kind")
    pred = evaluate(model, proplab.MSELoss(), csvdata.x, csvdata.y.astype(float))[2]
    p_tall = np.array([float(v) for v in column(header, rows, "p_tall")])
    p_short = np.array([float(v) for v in column(header, rows, "p_short")])
    np.testing.assert_array_equal(p_tall, pred[:, 0])
    np.testing.assert_array_equal(p_short, 1.0 - pred[:, 0])
    assert predicted == [s["classes"][int(p > 0.5)] for p in pred[:, 0]]
    with train_mode(model):
        assert not np.array_equal(model.forward(csvdata.x), pred)  # the modes do differ here
    # stderr: the score on these rows (the train+test mix), then where the rows went
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(f" accuracy={format_percent(correct / len(rows))}%")
    assert lines[0].startswith(f"proplab predict: on these {len(rows)} rows (labels: column")
    assert lines[1] == f"proplab predict: {len(rows)} rows predicted by {run} -> stdout"


def test_csv_columns_are_taken_by_name_whatever_their_order_and_the_readers_format(
    runs, capsys, tmp_path
):
    """Another order, an extra text column, no label, and a file written as a spreadsheet
    might (semicolons, a BOM, a comment line): the same predictions."""
    run, data = runs["body"], runs["body.csv"]
    code, expected, _ = cli(capsys, "predict", str(run), "--data", str(data))
    assert code == 0
    header, rows = table(expected)
    shuffled = ["# measured in 2024", "note;weight;height"]
    shuffled += [f"row {i};{r[1]};{r[0]}" for i, r in enumerate(rows)]
    other = tmp_path / "new.csv"
    other.write_text("\ufeff" + "\n".join(shuffled) + "\n", encoding="utf-8")
    code, out, err = cli(capsys, "predict", str(run), "--data", str(other))
    assert code == 0, err
    new_header, new_rows = table(out)
    assert new_header == ["note", "weight", "height", "prediction", "p_short", "p_tall"]
    assert [r[3:] for r in new_rows] == [r[3:] for r in rows]
    assert [r[0] for r in new_rows] == [f"row {i}" for i in range(len(rows))]
    assert len(err.splitlines()) == 1  # no label column: no score line


def test_a_regression_predicts_the_models_values_and_its_r2(runs, capsys):
    run, data = runs["score"], runs["score.csv"]
    code, out, err = cli(capsys, "predict", str(run), "--data", str(data))
    assert code == 0, err
    header, rows = table(out)
    assert header == ["a", "b", "score", "prediction"]
    model, csvdata = proplab.load(run / "model.npz"), load_csv(data, label="score", values=True)
    values = np.array([float(v) for v in column(header, rows, "prediction")])
    np.testing.assert_array_equal(values, predictions(model, csvdata.x)[:, 0])
    r2 = r2_score(values.reshape(-1, 1), csvdata.y)
    assert r2 == summary(run)["r2"]  # no test share: the summary's rows are these
    assert err.splitlines()[0].endswith(f"r2={r2:.4f}")
    loss = float(np.mean((values - csvdata.y[:, 0]) ** 2))
    assert f"loss={loss:.10f} " in err


def test_a_generated_dataset_run_takes_x1_x2_with_or_without_a_header(runs, capsys, tmp_path):
    run = runs["xor"]
    points = np.array([[0.1, 0.1], [0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
    bare = tmp_path / "points.csv"
    bare.write_text("".join(f"{a!r},{b!r}\n" for a, b in points.tolist()), encoding="utf-8")
    code, out, err = cli(capsys, "predict", str(run), "--data", str(bare))
    assert code == 0, err
    header, rows = table(out)
    assert header == ["x1", "x2", "prediction", "p_0", "p_1"]
    model = proplab.load(run / "model.npz")
    p1 = predictions(model, points)[:, 0]
    assert column(header, rows, "prediction") == [str(int(p > 0.5)) for p in p1]
    np.testing.assert_array_equal([float(v) for v in column(header, rows, "p_1")], p1)
    # with a header and the label after x1, x2: the accuracy on those rows too
    x, y = proplab.generate_xor_easy()
    labelled = tmp_path / "xor.csv"
    lines = ["u,v,truth"] + [
        f"{a!r},{b!r},{t}" for (a, b), t in zip(x.tolist(), y[:, 0], strict=True)
    ]
    labelled.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli(capsys, "predict", str(run), "--data", str(labelled))
    assert code == 0, err
    assert table(out)[0] == ["u", "v", "truth", "prediction", "p_0", "p_1"]
    accuracy = summary(run)["accuracy"]  # the run trained on these 21 points, no test share
    assert err.splitlines()[0].endswith(f" accuracy={format_percent(accuracy)}%")


@pytest.mark.parametrize("name", ["iris", "iris_mse"])
def test_a_three_class_run_names_its_classes_and_gives_their_probabilities(runs, capsys, name):
    run, data = runs[name], runs["iris.csv"]
    code, out, err = cli(capsys, "predict", str(run), "--data", str(data))
    assert code == 0, err
    header, rows = table(out)
    classes = ["setosa", "versicolor", "virginica"]
    assert summary(run)["classes"] == classes
    model, csvdata = proplab.load(run / "model.npz"), load_csv(data, label="species")
    outputs = predictions(model, csvdata.x)
    assert column(header, rows, "prediction") == [classes[k] for k in outputs.argmax(axis=1)]
    # cross-entropy's logits become a softmax; one-hot sigmoid outputs are no distribution
    # over the classes and are given as they are
    prefix, expected = ("p_", softmax(outputs)) if name == "iris" else ("output_", outputs)
    assert header[4:] == [prefix + c for c in classes]
    got = np.array([[float(v) for v in row[4:]] for row in rows])
    np.testing.assert_array_equal(got, expected)
    correct = np.mean(
        np.array(column(header, rows, "prediction")) == column(header, rows, "species")
    )
    assert correct == summary(run)["accuracy"]
    assert err.splitlines()[0].endswith(f" accuracy={format_percent(correct)}%")


def test_out_writes_the_file_stdout_would_show(runs, capsys, tmp_path):
    run, data = runs["iris"], runs["iris.csv"]
    code, shown, _ = cli(capsys, "predict", str(run), "--data", str(data))
    assert code == 0
    target = tmp_path / "predicted.csv"
    code, out, err = cli(capsys, "predict", str(run), "--data", str(data), "--out", str(target))
    assert code == 0, err
    assert out == ""
    assert target.read_text(encoding="utf-8") == shown
    assert err.splitlines()[-1] == f"proplab predict: 45 rows predicted by {run} -> {target}"
    # it reads back as the same numbers (repr round-trips)
    header, rows = table(target.read_text(encoding="utf-8"))
    assert all(float(repr(float(v))) == float(v) for row in rows for v in row[4:])


def _bad_cases(runs: dict[str, Path], tmp: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (argv, what the one line says)."""
    xor, body = str(runs["xor"]), str(runs["body"])
    files = {
        "wide": "1,2,3,4\n",
        "text": "x1,x2\n0.1,abc\n",
        "empty": "",
        "missing_column": "height,kind\n170,tall\n",
        "unknown_label": "height,weight,kind\n170,70,medium\n",
        "ragged": "x1,x2\n0.1,0.2\n0.3\n",
        "header_only": "x1,x2\n",
        "predicted": "height,weight,prediction,p_short,p_tall\n170,70,tall,0.1,0.9\n",
        "headerless": "# measured today\n170,70\n",
    }
    for name, text in files.items():
        (tmp / f"{name}.csv").write_text(text, encoding="utf-8")
    empty = tmp / "empty"
    empty.mkdir()
    no_model = tmp / "half"
    no_model.mkdir()
    shutil.copy(runs["xor"] / "config.json", no_model)
    sweep = tmp / "sweep"
    shutil.copytree(runs["xor"], sweep / "runs" / "dataset=xor")
    diverged = tmp / "diverged"
    shutil.copytree(runs["xor"], diverged)
    s = summary(diverged)
    (diverged / "summary.json").write_text(json.dumps(s | {"stop_reason": "diverged"}))
    damaged = tmp / "damaged"
    shutil.copytree(runs["xor"], damaged)
    (damaged / "model.npz").write_bytes(b"not a model")
    pts = str(tmp / "wide.csv")
    return {
        "no folder": ([str(tmp / "nope"), "--data", pts], "no such folder"),
        "a file": ([str(runs["xor"] / "model.npz"), "--data", pts], "is a file"),
        "not a run": ([str(empty), "--data", pts], "not a run folder (no config.json nor model"),
        "no model": ([str(no_model), "--data", pts], "has no model.npz"),
        "sweep root": ([str(sweep), "--data", pts], f"e.g. {sweep / 'runs' / 'dataset=xor'}"),
        "diverged": ([str(diverged), "--data", pts], "diverged"),
        "damaged model": (
            [str(damaged), "--data", pts],
            f"error: {damaged / 'model.npz'}: not a readable proplab model file",
        ),
        "wide": ([xor, "--data", pts], "has 4 columns; a run on xor takes 2 (x1, x2)"),
        "text": ([xor, "--data", str(tmp / "text.csv")], "line 2, column 'x2': 'abc' is not a"),
        "empty": ([xor, "--data", str(tmp / "empty.csv")], "the file is empty"),
        "no file": ([xor, "--data", str(tmp / "none.csv")], "none.csv: no such file"),
        "ragged": ([xor, "--data", str(tmp / "ragged.csv")], "line 3 has 1 cells, expected 2"),
        "header only": ([xor, "--data", str(tmp / "header_only.csv")], "no data rows"),
        "missing column": (
            [body, "--data", str(tmp / "missing_column.csv")],
            "no column 'weight', an input of the run (it takes height, weight; the file has "
            "height, kind)",
        ),
        "unknown label": (
            [body, "--data", str(tmp / "unknown_label.csv")],
            "'medium' is not a class of the run (short, tall)",
        ),
        "out a folder": ([xor, "--data", pts, "--out", str(tmp)], "argument --out"),
        "out the data": (
            [xor, "--data", str(tmp / "text.csv"), "--out", str(tmp / "text.csv")],
            "is the --data file itself",
        ),
        # review19: --out RUN/model.npz replaced the trained model with CSV text
        "out the model": (
            [xor, "--data", pts, "--out", str(Path(xor) / "model.npz")],
            "is a file of the run itself",
        ),
        "out a non-csv file": (
            [xor, "--data", pts, "--out", str(tmp / "empty.txt")],
            "exists and is no output of proplab predict",
        ),
        # cli20 H5: the run's training file, a sweep's results.csv and any data file were
        # replaced by the predictions
        "out the training file": (
            [body, "--data", str(tmp / "unknown_label.csv"), "--out", str(runs["body.csv"])],
            "is the CSV file the run trained on (its config.json records it)",
        ),
        "out a data file": (
            [xor, "--data", pts, "--out", str(tmp / "missing_column.csv")],
            f"'{tmp / 'missing_column.csv'}' exists and is no output of proplab predict (only "
            "one is replaced: its header ends in 'prediction' and the p_/output_ columns); give "
            "a new .csv file in a folder you can write",
        ),
        # cli20 M5: exit 1 and a bare OSError text, after predicting
        "out where nothing can be made": (
            [xor, "--data", pts, "--out", "/proc/predicted.csv"],
            "argument --out: '/proc/predicted.csv' cannot be written (No such file or directory)",
        ),
        "no header": (
            [body, "--data", str(tmp / "headerless.csv")],
            "no column 'height', an input of the run (it takes height, weight; the file has 0, "
            "1) (no header: line 2 holds numbers, read as data; add a header line naming the "
            "columns)",
        ),
        "predicted before": (
            [body, "--data", str(tmp / "predicted.csv")],
            "already has a column 'prediction' (an earlier prediction?)",
        ),
    }


def test_bad_input_is_one_line_and_exit_2(runs, capsys, tmp_path):
    (tmp_path / "empty.txt").write_text("keep me\n")
    for name, (argv, words) in _bad_cases(runs, tmp_path).items():
        code, out, err = cli(capsys, "predict", *argv)
        assert code == 2, (name, err)
        assert out == "", name
        assert len(err.splitlines()) == 1 and err.startswith("proplab predict: error: "), err
        assert words in err, (name, err)
        assert "Traceback" not in err


@pytest.mark.slow
def test_a_digits_run_takes_pixels_0_to_16_and_divides_them_as_training_did(capsys, tmp_path):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from proplab.digits import load_digits

    train("--dataset", "digits", "--epochs", "1", "--out", str(tmp_path / "digits"))
    bunch = sklearn_datasets.load_digits()
    pixels = tmp_path / "pixels.csv"
    pixels.write_text(
        "".join(",".join(str(int(v)) for v in row) + "\n" for row in bunch.data[:50]),
        encoding="utf-8",
    )
    code, out, err = cli(capsys, "predict", str(tmp_path / "digits"), "--data", str(pixels))
    assert code == 0, err
    header, rows = table(out)
    assert header[64:] == ["prediction"] + [f"p_{k}" for k in range(10)]
    x, _ = load_digits()  # as the run trained on them: divided by 16
    logits = predictions(proplab.load(tmp_path / "digits" / "model.npz"), x[:50])
    got = np.array([[float(v) for v in row[65:]] for row in rows])
    np.testing.assert_array_equal(got, softmax(logits))
    assert [int(row[64]) for row in rows] == logits.argmax(axis=1).tolist()
    # pixels in other units (0-255, or already divided) would predict nonsense silently
    pixels.write_text(",".join(["0"] * 63 + ["255"]) + "\n", encoding="utf-8")
    code, out, err = cli(capsys, "predict", str(tmp_path / "digits"), "--data", str(pixels))
    assert (code, out) == (2, "")
    assert "line 1, column '63': 255 is no pixel of the digits (0 to 16" in err


def test_an_interrupted_run_predicts_with_the_weights_it_had_and_says_so(runs, capsys, tmp_path):
    run = tmp_path / "stopped"
    shutil.copytree(runs["xor"], run)
    (run / "summary.json").rename(run / "interrupted.json")  # what a Ctrl-C leaves
    points = tmp_path / "points.csv"
    points.write_text("0.1,0.9\n", encoding="utf-8")
    code, out, err = cli(capsys, "predict", str(run), "--data", str(points))
    assert code == 0, err
    assert out == cli(capsys, "predict", str(runs["xor"]), "--data", str(points))[1]
    assert err.splitlines()[0] == (
        f"proplab predict: {run} was interrupted (Ctrl-C) after 300 of 300 epochs: these are "
        "the predictions of the weights it had then"
    )


def test_the_readmes_predict_example_scores_what_it_says(capsys, tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", readme, flags=re.S) if "predict" in b]
    lines = block.splitlines()
    (scored,) = [line for line in lines if "accuracy=" in line]
    claimed = scored.split("#")[1].split(":")[0].strip()  # accuracy=...%
    # the training command above it, into the folder the example predicts with
    (trained,) = re.findall(r"^proplab train --dataset examples/body.csv .*$", readme, flags=re.M)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    train(*trained.split()[2:], "--out", "runs/body")
    for line in lines:
        if line.startswith("printf"):  # the block makes its own new.csv
            subprocess.run(["sh", "-c", line.split("#")[0]], check=True)
            assert Path("new.csv").read_text(encoding="utf-8").startswith("height,weight\n")
            continue
        argv = line.split("#")[0].split()
        assert argv[0] == "proplab"
        code, out, err = cli(capsys, *argv[1:])
        assert code == 0, err
        if "new.csv" in argv:  # one prediction per row made above
            assert len(out.splitlines()) == 3  # header + 2 rows
    assert f" {claimed}" in err.splitlines()[0]
    assert Path("predicted.csv").is_file()


def test_a_refused_out_leaves_the_run_and_the_file_as_they_were(runs, capsys, tmp_path):
    xor = runs["xor"]
    pts = tmp_path / "pts.csv"
    pts.write_text("x1,x2\n0.1,0.9\n")
    model = Path(xor) / "model.npz"
    before = model.read_bytes()
    assert cli(capsys, "predict", str(xor), "--data", str(pts), "--out", str(model))[0] == 2
    assert model.read_bytes() == before
    assert cli(capsys, "predict", str(xor), "--data", str(pts))[0] == 0  # still loads


def test_out_replaces_only_an_earlier_output_of_predict(runs, capsys, tmp_path):
    # cli20 H5: the run's own training CSV was replaced by 1 row of predictions (retraining
    # then failed: "label column 'tall' not found"), as were a sweep's results.csv and data
    run, data = runs["body"], runs["body.csv"]
    results = tmp_path / "results.csv"
    results.write_text("run,experiment,final_loss\nlr=1,sweep,0.5\n")
    rows = tmp_path / "rows.csv"  # not the training file itself, which is refused as --data
    rows.write_bytes(data.read_bytes())
    for target in (data, results):
        before = target.read_bytes()
        code, out, err = cli(capsys, "predict", str(run), "--data", str(rows), "--out", str(target))
        assert (code, out) == (2, ""), err
        assert target.read_bytes() == before
    target = tmp_path / "predicted.csv"
    assert cli(capsys, "predict", str(run), "--data", str(data), "--out", str(target))[0] == 0
    first = target.read_text()
    assert cli(capsys, "predict", str(run), "--data", str(data), "--out", str(target))[0] == 0
    assert target.read_text() == first  # an earlier output is replaced


def test_a_write_failing_halfway_leaves_the_old_out_file_as_it_was(
    runs, capsys, tmp_path, monkeypatch
):
    # the rows go to --out as they are written (the whole text of a 50 MB file took another
    # 100 MB), into a temporary file: a disk filling up halfway leaves the old file as it was
    run, data = runs["iris"], runs["iris.csv"]
    target = tmp_path / "predicted.csv"
    target.write_text("x,prediction,p_0,p_1\nthe old predictions\n", encoding="utf-8")
    written = []

    def disk_full_after_three_rows(file, rows, predicted, header) -> None:
        writer = csv.writer(file, lineterminator="\n")
        for i in range(3):
            writer.writerow([*rows.table.cells(i)])
            written.append(i)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(predict, "write_csv", disk_full_after_three_rows)
    code, out, err = cli(capsys, "predict", str(run), "--data", str(data), "--out", str(target))
    assert (code, out, written) == (1, "", [0, 1, 2])
    assert f"{target}" in err and "No space left on device" in err
    assert target.read_text(encoding="utf-8") == "x,prediction,p_0,p_1\nthe old predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predicted.csv"]  # no leftovers
