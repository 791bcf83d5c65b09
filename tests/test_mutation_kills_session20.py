"""Tests for mutants the suite let live (mut20: session 20's bulk CSV reader, ``proplab
predict``, the stack's last-update check, progress callbacks on slow epochs, the notes and
caps of large files).

Each test names the planted change (see docs/mutation.md, round 11) it kills and says why
the behaviour matters.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from pathlib import Path

import numpy as np
import pytest

from proplab import csvdata, experiments
from proplab.cli import main
from proplab.config import RunConfig
from proplab.csvdata import CsvError, load_csv
from proplab.csvtable import read_table
from proplab.layers import Linear
from proplab.predict import PredictError, TrainedRun, predict, read_rows
from proplab.scoring import predictions


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _train(*argv: str) -> None:
    """``proplab train ... --quiet`` without figures (predict reads none of them)."""
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(io.StringIO()) as err:
        patch.setattr(experiments, "run_one", functools.partial(experiments.run_one, figures=False))
        code = main(["train", *argv, "--quiet", "--no-progress"])
    assert code == 0, err.getvalue()


def _body(n: int = 30, seed: int = 20) -> str:
    rng = np.random.default_rng(seed)
    height, weight = rng.normal(170, 10, n), rng.normal(70, 8, n)
    kind = np.where(height / 10 + weight / 8 > 25.75, "tall", "short")
    rows = [f"{h:.2f},{w:.2f},{k}" for h, w, k in zip(height, weight, kind, strict=True)]
    return "height,weight,kind\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two tiny finished runs: 'body' (a CSV file's classes, named columns) and 'xor'."""
    root = tmp_path_factory.mktemp("mut20")
    (root / "body.csv").write_text(_body(), encoding="utf-8")
    _train("--dataset", str(root / "body.csv"), "--label", "kind", "--epochs", "3",
           "--out", str(root / "body"))  # fmt: skip
    _train("--dataset", "xor", "--epochs", "3", "--out", str(root / "xor"))
    return {"root": root, "body": root / "body", "xor": root / "xor"}


def _by_position_run(tmp_path: Path, model, **fields) -> TrainedRun:
    """A generated dataset's run made by hand: inputs x1, x2 by position, classes 0, 1."""
    base = {
        "run_dir": tmp_path,
        "cfg": RunConfig().validate(),
        "model": model,
        "summary": {},
        "regression": False,
        "features": None,
        "label": None,
        "n_inputs": 2,
        "classes": [],
    }
    return TrainedRun(**(base | fields))


# --- csvdata: the bulk reader, read_table, the read notes ------------------------------


def test_a_read_is_said_over_10_mb_or_over_a_second_and_not_at_either_mark(tmp_path) -> None:
    """C8 (READ_NOTE_BYTES 10 MB -> 100 MB) and the boundaries of _tell: the notes promise
    a word for a file over 10 MB or a read over a second (scale19: a 143 MB file read for
    23 s in silence), and no chatter for every small file."""
    heard: list[str] = []
    path = tmp_path / "big.csv"
    with csvdata.reads_reported(heard.append):
        csvdata._tell(path, 10_000_000, 1.0, "at both marks")
        csvdata._tell(path, 10_000_001, 0.0, "just over 10 MB")
        csvdata._tell(path, 5_000, 1.01, "just over a second")
    assert heard == [
        f"read {path} (10 MB): just over 10 MB, in 0.0 s",
        f"read {path} (5 kB): just over a second, in 1.0 s",
    ]


def test_read_table_numbers_names_a_nan_or_infinite_cell_by_line_and_column(tmp_path) -> None:
    """C13 (CsvTable.numbers returns the array without its finiteness check): a 'nan' or
    'inf' cell in the rows given to proplab predict went to the model, which predicted NaN
    for them (or a class from an infinite input) instead of naming the cell."""
    table = read_table(_write(tmp_path, "a,b\n1,2\n3,nan\n"))
    with pytest.raises(CsvError, match=r"line 3, column 'b': missing value \(NaN\) 'nan'"):
        table.numbers([0, 1])
    table = read_table(_write(tmp_path, "a,b\n1,2\n-inf,4\n"))
    with pytest.raises(CsvError, match=r"line 3, column 'a': infinite value '-inf'"):
        table.numbers([0, 1])
    assert table.numbers([1]).tolist() == [[2.0], [4.0]]


def test_a_row_of_empty_quoted_cells_is_skipped_by_the_bulk_reader_too(tmp_path) -> None:
    """C23 (the bulk reader's quoted branch no longer skips a row of empty cells): a
    spreadsheet's '"",""' row, skipped as a blank line by both readers, made the bulk
    reader give up and the whole (big) file was read again cell by cell."""
    path = _write(tmp_path, 'a,b,y\n1,2,p\n"","",""\n3,4,q\n5,6,p\n')
    fast = csvdata._parse_bulk(path, None, None, False)
    assert fast is not None
    slow = csvdata._parse_cells(path, None, None, False)
    assert fast.x.tolist() == slow.x.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert fast.y.tolist() == slow.y.tolist() == [[0], [1], [0]]
    assert fast.classes == slow.classes == ["p", "q"]


def test_a_quoted_feature_cell_holding_the_delimiter_is_no_number(tmp_path) -> None:
    """C24 (the bulk reader's quoted branch no longer gives up on a cell holding the
    delimiter): '"1,5"' was joined back into two cells and read as the numbers 1 and 5,
    shifting the row, where the per-cell reader says the cell is no number."""
    path = _write(tmp_path, 'a,b,y\n1,2,p\n"1,5",2,q\n3,4,p\n')
    assert csvdata._parse_bulk(path, None, None, False) is None
    with pytest.raises(CsvError, match=r"line 3, column 'a': '1,5' is not a number"):
        load_csv(path)


def test_whole_number_labels_with_two_rows_each_are_refused_in_bulk_too(tmp_path) -> None:
    """C30 (the bulk reader's many-classes rule with > where the per-cell one has >=): 20
    whole-number labels in 40 rows are IDs or values (about one row a class), which the
    per-cell reader refuses; the bulk reader accepted them and trained 20 classes."""
    rows = [f"{i},{i % 7},{i // 2}" for i in range(40)]
    path = _write(tmp_path, "a,b,y\n" + "\n".join(rows) + "\n")
    assert csvdata._parse_bulk(path, None, None, False) is None
    with pytest.raises(CsvError, match="holds 20 distinct whole numbers in 40 rows"):
        load_csv(path)
    rows = [f"{i},{i % 7},{i // 3}" for i in range(60)]  # 3 rows a class: classes
    assert load_csv(_write(tmp_path, "a,b,y\n" + "\n".join(rows) + "\n")).classes == list(range(20))


# --- proplab predict ------------------------------------------------------------------


def test_a_folder_with_a_model_but_no_config_is_named_as_such(runs, tmp_path, capsys) -> None:
    """P1 (a folder counted as a run when it has model.npz alone): a model copied without
    its config.json got the config reader's message about a missing file instead of what
    is missing and why it matters (the config says what data the model takes)."""
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "model.npz").write_bytes((runs["xor"] / "model.npz").read_bytes())
    code, out, err = _cli(capsys, "predict", str(lone), "--data", str(runs["root"] / "body.csv"))
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"proplab predict: error: {lone} has model.npz but no config.json, which says what "
        "data it takes; predict needs a run folder of proplab train or a sweep, e.g. "
        "runs/lab/xor"
    )


def test_a_summary_naming_a_single_class_is_refused(runs, tmp_path, capsys) -> None:
    """P9 (a CSV run's classes accepted when the summary names one): no classifier has one
    class; such a summary.json is damaged and predict must say so, not name every
    prediction after whatever index 0 and 1 turn out to be."""
    run = tmp_path / "body"
    run.mkdir()
    for name in ("config.json", "model.npz"):
        (run / name).write_bytes((runs["body"] / name).read_bytes())
    summary = json.loads((runs["body"] / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps(summary | {"classes": ["short"]}))
    code, out, err = _cli(capsys, "predict", str(run), "--data", str(runs["root"] / "body.csv"))
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"proplab predict: error: {run / 'summary.json'} names no classes for the outputs "
        "('classes'): train it again"
    )


def test_two_columns_named_as_one_input_are_refused(runs, tmp_path, capsys) -> None:
    """P11 (only three or more columns of one name counted ambiguous): with two 'weight'
    columns predict took the first, silently (the run may have trained on the other)."""
    data = _write(tmp_path, "height,weight,weight\n170,70,80\n180,90,60\n")
    code, out, err = _cli(capsys, "predict", str(runs["body"]), "--data", str(data))
    assert (code, out) == (2, "")
    assert err.strip() == (
        f"proplab predict: error: {data}: column 'weight' is ambiguous: columns [1, 2] "
        "(0-based) all have that name; rename them"
    )


def test_digits_pixels_below_0_are_refused_as_those_over_16(tmp_path) -> None:
    """P7 (only pixels over 16 refused): -1 is no pixel of the digits either (a file
    standardised, or centred, elsewhere), and the model would predict nonsense silently."""
    run = _by_position_run(tmp_path, None, n_inputs=64, pixels=True)
    path = _write(tmp_path, ",".join(["0"] * 10 + ["-1"] + ["0"] * 53) + "\n")
    with pytest.raises(PredictError, match=r"line 1, column '10': -1 is no pixel of the digits"):
        read_rows(run, path)
    path = _write(tmp_path, ",".join(["16"] * 64) + "\n" + ",".join(["0"] * 64) + "\n")
    assert read_rows(run, path).x.tolist() == [[1.0] * 64, [0.0] * 64]


def test_labels_written_as_decimals_match_whole_number_classes(tmp_path) -> None:
    """P15 (labels matched to classes as text): a file whose label column says '1.0' and
    '0.0' (a spreadsheet's export) was refused ("'1.0' is not a class of the run (0, 1)")
    where the training reader takes 1.0 for class 1."""
    model = Linear(2, 1, rng=np.random.default_rng(0))
    run = _by_position_run(tmp_path, model)
    scores = []
    for one, zero in (("1", "0"), ("1.0", "0.0"), ("1e0", "-0")):
        path = _write(tmp_path, f"0.5,1,{one}\n-1,0.25,{zero}\n2,-1,{one}\n")
        scores.append(predict(run, read_rows(run, path)).score)
    assert scores[0] is not None and scores[0].startswith("on these 3 rows (labels: column '2')")
    assert scores == [scores[0]] * 3


def test_a_second_output_that_is_not_finite_is_named_by_its_line(tmp_path) -> None:
    """P16 (only the first output checked for NaN or inf): a model whose second class's
    logit overflows for a row wrote NaN probabilities for it without a word."""
    model = Linear(2, 3, rng=np.random.default_rng(0))
    model.weight.data[:, 1] = 1e308
    run = _by_position_run(
        tmp_path,
        model,
        cfg=RunConfig(loss="cross_entropy", output_activation="identity").validate(),
    )
    path = _write(tmp_path, "0,0\n10,10\n")
    with pytest.raises(PredictError, match=r"line 2: the model's output is \[.*, inf, .*\]"):
        predict(run, read_rows(run, path))


def test_one_output_that_is_no_probability_is_named_after_the_second_class(tmp_path) -> None:
    """P18 (the single output named after the first class): one output over mse on an
    identity output says "the second class" above 0.5, as predicted_labels reads it, so its
    column is output_<second class>; named after the first it reads backwards."""
    model = Linear(2, 1, rng=np.random.default_rng(0))
    cfg = RunConfig(loss="mse", output_activation="identity").validate()
    run = _by_position_run(tmp_path, model, cfg=cfg, classes=["no", "yes"])
    done = predict(run, read_rows(run, _write(tmp_path, "0.5,1\n-1,0.25\n")))
    assert list(done.columns) == ["prediction", "output_yes"]
    outputs = model.forward(np.array([[0.5, 1.0], [-1.0, 0.25]]))[:, 0]
    np.testing.assert_array_equal(done.columns["output_yes"], outputs)
    assert done.columns["prediction"] == ["yes" if o > 0.5 else "no" for o in outputs]


def test_several_regression_outputs_are_numbered_from_1(tmp_path) -> None:
    """P20 (prediction_0, prediction_1 for two outputs): the columns are numbered as the
    docs and a person count them, prediction_1 for the first value."""
    model = Linear(2, 2, rng=np.random.default_rng(0))
    run = _by_position_run(tmp_path, model, regression=True)
    done = predict(run, read_rows(run, _write(tmp_path, "0.5,1\n-1,0.25\n")))
    assert list(done.columns) == ["prediction_1", "prediction_2"]
    np.testing.assert_array_equal(done.columns["prediction_2"], done.outputs[:, 1])


def test_a_headerless_xor_file_with_labels_gets_a_label_header(runs, tmp_path, capsys) -> None:
    """P24 (the label column's header dropped): the written header lacked 'label' and every
    name after x1, x2 sat one column left of its values."""
    data = _write(tmp_path, "0.1,0.9,1\n0.9,0.9,0\n")
    code, out, err = _cli(capsys, "predict", str(runs["xor"]), "--data", str(data))
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header == "x1,x2,label,prediction,p_0,p_1"
    assert all(len(row.split(",")) == 6 for row in rows)


def test_out_may_name_an_existing_upper_case_csv_or_a_new_file_of_any_name(
    runs, tmp_path, capsys
) -> None:
    """K3 (an existing file's suffix compared case-sensitively) and K4 (a new file refused
    unless it ends in .csv): a new file of any name harms nothing; an existing one is
    replaced when it is an earlier output of predict, whatever its suffix's case (cli20
    H5: only such a file is replaced, not any CSV)."""
    data = runs["root"] / "body.csv"
    old = tmp_path / "OLD.CSV"
    old.write_text("height,weight,kind,prediction,p_short,p_tall\n")
    for out in (old, tmp_path / "predicted.txt"):
        code, stdout, err = _cli(capsys, "predict", str(runs["body"]), "--data", str(data),
                                 "--out", str(out))  # fmt: skip
        assert (code, stdout) == (0, ""), err
        assert out.read_text().startswith("height,weight,kind,prediction,p_short,p_tall\n")
    (tmp_path / "notes.txt").write_text("mine\n")
    code, _, err = _cli(capsys, "predict", str(runs["body"]), "--data", str(data),
                        "--out", str(tmp_path / "notes.txt"))  # fmt: skip
    assert code == 2 and "exists and is no output of proplab predict" in err
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


# --- scoring.predictions ------------------------------------------------------------------


def test_predictions_computes_in_the_models_float_dtype() -> None:
    """S1 (predictions no longer casts x to the model's dtype): a float32 model given
    float64 rows computed in float64, so its outputs differed from evaluate's (which casts)
    and from the run's own scores."""
    model = Linear(2, 3, rng=np.random.default_rng(0), dtype=np.float32)
    x = np.array([[0.1, 0.2], [1 / 3, -2.0]])
    out = predictions(model, x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, model.forward(x.astype(np.float32)))


def test_predictions_refuse_no_rows_and_non_finite_inputs() -> None:
    """S2 (no check for zero rows) and S3 (no check for NaN or inf): an empty array gave an
    empty prediction, and a NaN input a NaN output, where evaluate refuses both in words."""
    model = Linear(2, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^x has no samples \(shape \(0, 2\)\)$"):
        predictions(model, np.empty((0, 2)))
    with pytest.raises(
        ValueError, match=r"^x\[1, 0\] is inf: data to predict on must be finite numbers$"
    ):
        predictions(model, np.array([[0.0, 1.0], [np.inf, 0.0]]))


def test_each_replica_keeps_the_loss_of_its_first_blown_up_chunk_and_all_are_looked_at() -> None:
    """S5 (a later chunk's NaN overwrote a replica's first non-finite loss), S6 (scoring
    stopped once any replica blew up, not every one) and S8 (chunks a row short): the
    last-update check scores a stack's final model a chunk of rows at a time; a replica
    that blows up only on a later chunk must still be found (else it is "completed" with
    an infinite loss), and each keeps the value its message quotes, its first."""
    from proplab.losses import MSELoss
    from proplab.scoring import replica_losses_if_not_finite

    model = Linear(2, 1, rng=np.random.default_rng(0), replicas=(2,))
    # replica 0: x @ w + b is -inf for rows 0 and 2 and inf - inf = nan for row 1 (the
    # inf - inf in NumPy's addition, not in BLAS, whose kernels may round it either way)
    model.weight.data[0] = [[1e308], [0.0]]
    model.bias.data[0] = -np.inf
    model.weight.data[1] = [[0.0], [1e308]]  # replica 1: row 0 finite, rows 1 and 2 inf
    x = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    y = np.zeros((3, 1))
    each_row = [
        replica_losses_if_not_finite(model, MSELoss(), x[i : i + 1], y[i : i + 1]).tolist()
        for i in range(3)
    ]
    assert str(each_row) == "[[inf, 0.0], [nan, inf], [inf, inf]]"
    assert replica_losses_if_not_finite(model, MSELoss(), x, y, rows=1).tolist() == [
        np.inf,
        np.inf,
    ]
    finite = Linear(2, 1, rng=np.random.default_rng(0), replicas=(2,))
    assert replica_losses_if_not_finite(finite, MSELoss(), x, y, rows=2).tolist() == [0.0, 0.0]


# --- train.fit: callback_seconds and the stack's last-update check -------------------------


@pytest.mark.parametrize(
    ("seconds", "tick", "called"),
    [
        (None, 0.3, [10]),  # every 100 epochs (never, in 10) and at the end
        (0.5, 0.3, [2, 4, 6, 8, 10, 10]),  # epochs ending 0.6 s after the last call
        (0.5, 1.0, list(range(1, 11)) + [10]),  # every epoch takes a second
    ],
)
def test_callback_seconds_calls_a_stacks_callback_back_on_slow_epochs_too(
    xor, monkeypatch, seconds, tick, called
) -> None:
    """T3 (the stack's loop calls back every callback_every epochs only) and T5 (it never
    notes the time of its last call, so after the first slow epoch it calls every epoch):
    a sweep's stack of runs on a big file drew its progress bar once, at the end, as a lone
    run did before callback_seconds (scale19 M3)."""
    import proplab.train
    from proplab.losses import MSELoss
    from proplab.optim import SGD
    from proplab.train import fit

    ticks = iter(np.arange(0.0, 100.0, tick))  # fit's clock: each epoch ends `tick` s later
    monkeypatch.setattr(proplab.train.time, "perf_counter", lambda: float(next(ticks)))
    x, y = xor
    model = Linear(2, 1, rng=np.random.default_rng(0), replicas=(2,))
    seen = []
    fit(
        model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, 10,
        callback=lambda epoch, history: seen.append((epoch, history.epochs_run)),
        callback_seconds=seconds,
    )  # fmt: skip
    assert seen == [(e, e) for e in called]


def _blown_by_its_last_update() -> tuple[Linear, np.ndarray, np.ndarray]:
    """A stack of 2 one-weight models on one row x = 1, y = 0 (loss w**2, gradient 2w): at
    lr 1e10 replica 0 (w = 1e150, loss 1e300) steps to w = -2e160, whose loss overflows to
    inf; replica 1 (w = 0.5) steps to -1e10, loss 1e20, finite."""
    model = Linear(1, 1, bias=False, rng=np.random.default_rng(0), replicas=(2,))
    model.weight.data[:] = [[[1e150]], [[0.5]]]
    return model, np.array([[1.0]]), np.array([[0.0]])


def _stack(weights: list[float]) -> Linear:
    model = Linear(1, 1, bias=False, rng=np.random.default_rng(0), replicas=(len(weights),))
    model.weight.data[:] = np.array(weights).reshape(-1, 1, 1)
    return model


def _fit_stack(weights: list[float], epochs: int, check: bool = True):
    """A stack of one-weight models on one row x = 1, y = 0 (loss w**2, gradient 2w) at
    lr 1e10: from w = 1e150 (loss 1e300) one step goes to w = -2e160, whose loss overflows
    to inf; from w = 0.5 the losses stay finite for 3 epochs (1e20, 4e40, then 1.6e61)."""
    from proplab.losses import MSELoss
    from proplab.optim import SGD
    from proplab.train import fit, fit_without_last_check

    model = _stack(weights)
    x, y = np.array([[1.0]]), np.array([[0.0]])
    optimizer = SGD(model.parameters(), lr=1e10)
    if not check:
        return fit_without_last_check(model, MSELoss(), optimizer, x, y, epochs)
    return fit(model, MSELoss(), optimizer, x, y, epochs, print_every=0)


def test_a_replica_blown_up_by_its_last_update_is_diverged_with_the_lone_runs_message() -> None:
    """T8-T12, T15, T16 (the stack's last-update check dropped, its epoch or the replica
    picked wrong, the final loss not kept): every epoch's recorded loss of replica 0 is
    finite, but its last update made the model it keeps predict inf; its run must say
    "diverged" as a lone run does, so that a sweep reports it and predict refuses it."""
    history = _fit_stack([1e150, 0.5], 1)
    assert history.stop_reason == "completed"
    assert history.message.startswith("1 of 2 replicas diverged (replica_stop_reason")
    assert history.replica_stop_reason.tolist() == ["diverged", "completed"]
    assert history.replica_stop_epoch.tolist() == [1, 0]
    assert history.replica_final_loss.tolist() == [np.inf, 0.0]
    blown, fine = history.replica(0), history.replica(1)
    assert (blown.stop_reason, blown.epochs_run) == ("diverged", 1)
    assert blown.message == (
        "training diverged with its last update (epoch 1): the final model's loss is inf; "
        "try a smaller learning rate"
    )
    assert (fine.stop_reason, fine.message, fine.epochs_run) == ("completed", "", 1)
    # replica 1 blown up and replica 0 not: the check looks at each replica's own loss
    history = _fit_stack([0.5, 1e150], 1)
    assert history.replica_stop_reason.tolist() == ["completed", "diverged"]
    assert history.replica(0).message == "" and history.replica(1).message.startswith(
        "training diverged with its last update (epoch 1)"
    )


def test_every_replica_blown_up_by_its_last_update_makes_the_stack_diverged() -> None:
    """T9 (the stack called diverged only when more replicas than it has diverged): with
    every replica blown up the stack's own stop_reason is "diverged", as fit's docstring
    says (a stack of one run is that run)."""
    history = _fit_stack([1e150, 1e150], 1)
    assert history.stop_reason == "diverged"
    assert history.message == "every replica diverged by epoch 1; try a smaller learning rate"
    assert history.replica_stop_reason.tolist() == ["diverged", "diverged"]


def test_a_replica_that_diverged_earlier_keeps_its_epoch_and_message() -> None:
    """T10 (the last-update check also taking replicas that stopped earlier): replica 0's
    loss was inf at epoch 2 of 3 and it stopped there; the check must leave its stop at
    epoch 2 with its own message, not move it to the last epoch's "last update"."""
    history = _fit_stack([1e150, 0.5], 3)
    assert history.replica_stop_reason.tolist() == ["diverged", "completed"]
    assert history.replica_stop_epoch.tolist() == [2, 0]
    assert history.replica_final_loss is None
    assert history.replica(0).message == (
        "training diverged at epoch 2: the loss became inf; try a smaller learning rate"
    )


def test_fit_without_last_check_leaves_a_stacks_replicas_unscored() -> None:
    """T7 (the stack's last-update check run without check_last_update): the variant
    callbacks.train uses fits epoch by epoch and checks the last update once at its end;
    checking inside costs a scoring pass per epoch and marks replicas diverged mid-run."""
    history = _fit_stack([1e150, 0.5], 1, check=False)
    assert history.stop_reason == "completed"
    assert history.replica_stop_reason.tolist() == ["completed", "completed"]
    assert history.replica_final_loss is None


# --- zoo_plots: the decision boundary's subset -------------------------------------------


def test_a_boundary_draws_every_sample_up_to_the_cap_and_a_fixed_subset_beyond() -> None:
    """Z1 (a set of exactly MAX_DRAWN_POINTS samples called a subset), Z2 (the subset drawn
    unseeded) and Z3 (drawn with replacement): 2 000 samples are drawn whole with nothing
    said; beyond that the same 2 000 distinct samples every time (a figure redrawn for the
    report must not change), in their order, and the legend says how many of how many."""
    from proplab.zoo_plots import MAX_DRAWN_POINTS, _drawn

    assert MAX_DRAWN_POINTS == 2000
    shown, said = _drawn(2000)
    assert said == "" and shown.tolist() == list(range(2000))
    shown, said = _drawn(5001)
    assert said == ", 2,000 of 5,001 shown"
    assert len(shown) == 2000 and np.unique(shown).size == 2000
    assert np.all(np.diff(shown) > 0) and shown[0] >= 0 and shown[-1] < 5001
    np.testing.assert_array_equal(_drawn(5001)[0], shown)


def test_a_confusion_matrix_stands_only_names_wider_than_a_cell_upright() -> None:
    """Z10 (the names' rotation test flipped): class names wider than a cell ran together
    under the columns (csv18's "versicolorvirginica") unless they stand upright; short
    names such as 0, 1, 2 lie flat, readable without turning the head."""
    from proplab.zoo_plots import confusion_matrix_figure

    matrix = np.array([[5, 1, 0], [0, 6, 2], [1, 0, 7]])
    flat = confusion_matrix_figure(matrix).axes[0]
    assert [t.get_rotation() for t in flat.get_xticklabels()] == [0.0, 0.0, 0.0]
    names = ["setosa_long_name", "versicolor_long", "virginica_long_"]
    upright = confusion_matrix_figure(matrix, class_names=names).axes[0]
    assert [t.get_text() for t in upright.get_xticklabels()] == names
    assert [t.get_rotation() for t in upright.get_xticklabels()] == [90.0, 90.0, 90.0]
    assert [t.get_rotation() for t in upright.get_yticklabels()] == [0.0, 0.0, 0.0]


# --- notes and caps: first_columns, proplab trace's samples, the progress line -----------


def test_a_note_lists_up_to_8_columns_whole_and_counts_the_rest() -> None:
    """D6 (8 columns cut to "... and 0 more"): the cap is for 100-column files (a 2.4 KB
    note, scale19 L5); a note of exactly NOTE_COLUMNS columns names them all."""
    from proplab.dataload import NOTE_COLUMNS, first_columns

    names = [f"c{k}" for k in range(10)]
    assert NOTE_COLUMNS == 8
    assert first_columns(names[:8]) == "c0, c1, c2, c3, c4, c5, c6, c7"
    assert first_columns(names[:9]) == "c0, c1, c2, c3, c4, c5, c6, c7, ... and 1 more"
    assert first_columns(names[:1]) == "c0"


def test_samples_out_of_range_on_a_big_file_names_the_cap_as_the_most(tmp_path, capsys) -> None:
    """R3 (the most samples said as the training rows, not the trace's cap): on 1 001 rows
    --samples 0 was told "from 1 to 1001", and 1001 is then refused for being over 1 000."""
    path = tmp_path / "big.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(1001)))
    assert main(["trace", "--dataset", str(path), "--samples", "0"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "proplab trace: error: argument --samples: must be from 1 to 1000 (a trace's most; "
        f"{path} has 1,001 training rows) or 'all', got 0\n"
    )


def test_a_description_that_just_fits_is_shown_whole() -> None:
    """G1 (a description exactly as long as its room cut to its file name): the progress
    line gives the path way only when it does not fit, not when it fills the room."""
    from proplab.progress import _shortened

    assert _shortened("data/blobs.csv", 14) == "data/blobs.csv"
    assert _shortened("data/blobs.csv", 13) == "blobs.csv"
    assert _shortened("data/blobs.csv", 8) == "blobs.c…"
    assert _shortened("data/blobs.csv", 3) == ""


def test_each_drawn_sample_of_a_subset_has_its_own_class_s_colour() -> None:
    """Z15 (a subset's points coloured by the first 2 000 labels, not their own): over
    MAX_DRAWN_POINTS samples, the points drawn as class 1 must be samples of class 1 (here
    right of x1 = 0), else the figure shows the classes mixed where the model separated
    them, training and test points alike."""
    from proplab.zoo_plots import MAX_DRAWN_POINTS, decision_boundary

    rng = np.random.default_rng(3)
    n = 2 * MAX_DRAWN_POINTS + 1
    x, x_test = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    y, y_test = (x[:, :1] > 0).astype(int), (x_test[:, :1] > 0).astype(int)
    fig = decision_boundary(
        lambda p: (p[:, :1] > 0).astype(float), x, y, x_test=x_test, y_test=y_test, resolution=20
    )
    points = {c.get_label(): c.get_offsets() for c in fig.axes[0].collections if c.get_label()}
    left, right = "class 0 (train, 2,000 of 4,001 shown)", "class 1 (train, 2,000 of 4,001 shown)"
    assert len(points[left]) + len(points[right]) == MAX_DRAWN_POINTS
    assert (points[left][:, 0] <= 0).all() and (points[right][:, 0] > 0).all()
    left, right = left.replace("train", "test"), right.replace("train", "test")
    assert len(points[left]) + len(points[right]) == MAX_DRAWN_POINTS
    assert (points[left][:, 0] <= 0).all() and (points[right][:, 0] > 0).all()


def test_a_stack_s_progress_is_heard_after_each_slow_epoch(monkeypatch) -> None:
    """A1 (train_stack no longer passes callback_seconds to fit): a sweep's stack of runs on
    a big file, whose epochs take seconds, moved its progress line only every
    max(100, epochs / 100) epochs; it must hear from fit at least every PROGRESS_SECONDS
    (here every epoch: the clock says each takes a second)."""
    import itertools

    import proplab.train
    from proplab import stacking
    from proplab.experiments import prepare_run

    cfgs = [RunConfig(epochs=5, seed=s, print_every=0).validate() for s in (0, 1)]
    preps = [prepare_run(c)[1] for c in cfgs]
    ticks = itertools.count(0.0, 1.0)  # fit's clock: a second between any two readings
    monkeypatch.setattr(proplab.train.time, "perf_counter", lambda: float(next(ticks)))
    heard: list[float] = []
    stacking.train_stack(
        cfgs, [p.x for p in preps], [p.y for p in preps], preps[0].n_out, heard.append
    )
    assert heard == [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]


def _seconds_per_clock_reading(monkeypatch) -> None:
    """Every reading of the clock a second after the last: each epoch takes over a second."""
    import itertools

    import proplab.train

    ticks = itertools.count(0.0, 1.0)
    monkeypatch.setattr(proplab.train.time, "perf_counter", lambda: float(next(ticks)))


def test_a_run_hears_from_fit_after_each_slow_epoch(monkeypatch, tmp_path) -> None:
    """E8 (run_one no longer passes callback_seconds to fit): a run of 100 000 rows in
    mini-batches (0.4 s an epoch) moved its progress bar, and a sweep's, every 100 epochs,
    40 s; a callback must hear from fit after every epoch that ends PROGRESS_SECONDS later."""
    _seconds_per_clock_reading(monkeypatch)
    heard: list[int] = []
    experiments.run_one(
        RunConfig(epochs=5, print_every=0).validate(), tmp_path / "run", quiet=True,
        progress=False, figures=False, callback=lambda epoch, history: heard.append(epoch),
    )  # fmt: skip
    assert heard == [1, 2, 3, 4, 5, 5]


def test_a_run_whose_pace_says_it_will_be_long_says_so_on_stderr_once(
    monkeypatch, tmp_path, capsys
) -> None:
    """E7 (run_one no longer hooks _pace_note into fit): the lab's 20 000 full-batch epochs
    of a 200 000-row file took an hour with nothing said (scale19 L7); _pace_note alone was
    tested, not that a run uses it. A quiet run (a sweep's) says nothing: the sweep has its
    own ETA."""
    _seconds_per_clock_reading(monkeypatch)
    cfg = RunConfig(epochs=400, print_every=0).validate()
    experiments.run_one(cfg, tmp_path / "run", log=lambda line: None, progress=False,
                        figures=False)  # fmt: skip
    notes = [line for line in capsys.readouterr().err.splitlines() if "at this pace" in line]
    assert len(notes) == 1
    assert notes[0].startswith("proplab train: at this pace the 400 epochs take about ")
    # xor's 21 rows: no mini-batches to suggest (cli20 L8)
    assert notes[0].endswith(
        "Ctrl-C stops and keeps the run so far, and fewer --epochs finish sooner"
    )
    experiments.run_one(cfg, tmp_path / "quiet", quiet=True, progress=False, figures=False)
    assert "at this pace" not in capsys.readouterr().err


def test_a_csv_run_stuck_on_one_class_names_that_class_as_the_file_does(tmp_path) -> None:
    """E10 (finish_run no longer gives one_class_note the file's class names): a file's
    classes are 'ok' and 'fraud', not "class 0" and "class 1"; the note said "every
    training row is predicted class 0", a name the file never used."""
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (40, 2))
    label = np.where(x[:, 0] > 0.85, "fraud", "ok")
    rows = [f"{a:.3f},{b:.3f},{k}" for (a, b), k in zip(x, label, strict=True)]
    path = _write(tmp_path, "amount,hour,kind\n" + "\n".join(rows) + "\n")
    cfg = RunConfig(dataset=str(path), label="kind", lr=0.001, epochs=20, print_every=0)
    summary = experiments.run_one(
        cfg.validate(), tmp_path / "run", quiet=True, progress=False, figures=False
    )
    assert summary["classes"] == ["fraud", "ok"]  # class 0 is 'fraud'
    assert summary["accuracy"] == pytest.approx(np.mean(label == "fraud"))
    assert summary["notes"] == [
        "every training row is predicted 'fraud', the class of 10.0 % of them: the "
        "accuracy is that share, and the model tells no classes apart (too few epochs, a "
        "learning rate too small or too large, saturated units?)"
    ]
