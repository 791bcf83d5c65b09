"""``proplab predict``: a trained run's model on the rows of a CSV file.

:func:`open_run` reads a run folder (``config.json``, ``summary.json``, ``model.npz``)
and says what its model takes and gives; :func:`read_rows` takes the model's inputs
from a CSV file (a CSV run's ``features`` columns by name, a generated dataset's ``x1,
x2`` by position) and, when the file has the label column too, its labels;
:func:`predict` runs the model and names its outputs; :func:`write_csv` writes the file's
columns as given followed by the prediction and each class's probability.

The outputs are :func:`proplab.scoring.predictions` (evaluation mode, as the run's own
scores), the classes :func:`proplab.metrics.predicted_labels` of them (a single output
thresholded at 0.5, several by argmax) and the score on labelled rows
:func:`proplab.scoring.evaluate`'s accuracy or :func:`proplab.metrics.r2_score`, so a
prediction never disagrees with the run's ``summary.json``. Every refusal is a
:class:`PredictError` whose message is one line.
"""

from __future__ import annotations

import csv
import math
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from proplab import dataload
from proplab.checks import did_you_mean
from proplab.config import ConfigError, RunConfig, build_loss
from proplab.core import Module
from proplab.csvdata import CsvError, _missing_label
from proplab.csvtable import CsvTable, read_table
from proplab.digits import IMAGE_SHAPE
from proplab.losses import softmax
from proplab.metrics import predicted_labels, r2_score
from proplab.scoring import evaluate, predictions
from proplab.train_text import format_summary_line

CONFIG, MODEL, SUMMARY, INTERRUPTED = (
    "config.json",
    "model.npz",
    "summary.json",
    "interrupted.json",
)
EXAMPLE_RUN = "runs/lab/xor"
NEEDS_A_RUN = f"predict needs a run folder of proplab train or a sweep, e.g. {EXAMPLE_RUN}"
# digits' pixels are integers 0..16, divided by 16 before training (proplab.digits)
DIGITS_MAX = 16.0
GENERATED_INPUTS = ("x1", "x2")  # the 2-D datasets' inputs (linear, xor, the zoo)
PREDICTION = "prediction"


class PredictError(ValueError):
    """A run folder or data file predict cannot use; the message is one line."""


@dataclass
class TrainedRun:
    """A run folder's model and what it takes and gives.

    ``features``: the CSV columns the model takes, by name (None: the file's columns by
    position, ``n_inputs`` of them); ``label``: the label column's name (None: the last
    column after the inputs, if the file has one); ``classes``: what output class ``k``
    is called (empty for a regression, and 0, 1, ... for a dataset without names);
    ``pixels``: digits' inputs, pixels 0..16 divided by 16 before the model sees them.
    ``headerless_columns``: for a CSV run whose file had no header, its number of columns
    (a file without a header is read by position: it must have that layout); else None.
    """

    run_dir: Path
    cfg: RunConfig
    model: Module
    summary: dict[str, Any]
    regression: bool
    features: list[str] | None
    label: str | None
    n_inputs: int
    classes: list[Any]
    pixels: bool = False
    interrupted: bool = False
    headerless_columns: int | None = None


@dataclass
class Rows:
    """The rows of a data file: the table as read, the model's inputs ``x (n, in)``
    (scaled as training scaled them) and, when the file has the label column, its
    column index (else None)."""

    table: CsvTable
    x: np.ndarray
    label_column: int | None


@dataclass
class Predicted:
    """The model's ``outputs (n, out)``, the columns predict adds (``prediction``: the
    class names, or a regression's values; then ``p_<class>``, the probabilities, or
    ``output_<class>``, outputs that are none) and, for labelled rows, the score line
    (``loss=... accuracy=...%``, or ``r2=`` for a regression)."""

    outputs: np.ndarray
    columns: dict[str, list[str] | np.ndarray]
    score: str | None = None


def _problem_with_folder(run_dir: Path) -> str | None:
    """Why ``run_dir`` is no run folder (None: it has config.json and model.npz)."""
    if not run_dir.exists():
        return f"{run_dir}: no such folder; {NEEDS_A_RUN}"
    if not run_dir.is_dir():
        hint = f" (the model of the run {run_dir.parent})" if run_dir.name == MODEL else ""
        return f"{run_dir} is a file{hint}, not a run folder; {NEEDS_A_RUN}"
    has_config, has_model = (run_dir / CONFIG).is_file(), (run_dir / MODEL).is_file()
    if has_config and has_model:
        return None
    if not has_config and not has_model:
        runs = _runs_inside(run_dir)
        if runs:
            return (
                f"{run_dir} is a folder of {len(runs)} runs (a sweep's or the lab's), not one "
                f"run: give one of them, e.g. {shlex.quote(str(runs[0]))}"
            )
        return f"{run_dir} is not a run folder (no {CONFIG} nor {MODEL}); {NEEDS_A_RUN}"
    if not has_model:
        return (
            f"{run_dir} has no {MODEL}: the run has not finished (still training, or stopped "
            f"before it saved its model); {NEEDS_A_RUN}"
        )
    return f"{run_dir} has {MODEL} but no {CONFIG}, which says what data it takes; {NEEDS_A_RUN}"


def _runs_inside(folder: Path) -> list[Path]:
    """The run folders directly in ``folder`` or in its ``runs/`` (a sweep's, the lab's)."""
    found = []
    for parent in (folder, folder / "runs"):
        if parent.is_dir():
            found += sorted(p for p in parent.iterdir() if (p / CONFIG).is_file())
    return found


def _read_summary(run_dir: Path) -> tuple[dict[str, Any], bool]:
    """``summary.json`` (or an interrupted run's ``interrupted.json``) and whether it was
    interrupted."""
    from proplab.runio import read_json

    done = next((run_dir / f for f in (SUMMARY, INTERRUPTED) if (run_dir / f).is_file()), None)
    if done is None:
        raise PredictError(
            f"{run_dir} has no {SUMMARY}: the run has not finished (still training, or "
            "killed before it did); rerun it"
        )
    try:
        summary = read_json(done)
    except (OSError, ValueError) as exc:
        raise PredictError(f"{done}: not readable JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise PredictError(f"{done}: holds {type(summary).__name__}, not a run's summary")
    if summary.get("stop_reason") == "diverged":
        raise PredictError(
            f"{run_dir} diverged ({summary.get('message') or 'its loss is not finite'}): its "
            "model predicts NaN; train it again with a smaller --lr"
        )
    return summary, done.name == INTERRUPTED


def open_run(run_dir: str | os.PathLike[str]) -> TrainedRun:
    """The run in ``run_dir``: its config, summary and model, and the columns it takes.

    Raises :class:`PredictError` for a folder that is not a finished run (missing, a
    sweep's folder, no ``model.npz`` or ``config.json``), a diverged run, a damaged file,
    or a dataset whose preprocessing predict cannot repeat (diabetes).
    """
    from proplab.experiments import read_run_config
    from proplab.serialize import load

    run_dir = Path(run_dir)
    problem = _problem_with_folder(run_dir)
    if problem is not None:
        raise PredictError(problem)
    try:
        cfg = read_run_config(run_dir)
    except ConfigError as exc:
        raise PredictError(str(exc)) from None
    summary, interrupted = _read_summary(run_dir)
    try:
        model = load(run_dir / MODEL)
    except (OSError, ValueError) as exc:  # ModelFileError is a ValueError, naming the file
        text = str(exc)
        named = text if str(run_dir / MODEL) in text else f"{run_dir / MODEL}: {text}"
        raise PredictError(named) from None
    name = str(cfg.dataset).strip()
    regression = dataload.is_regression_run(cfg)
    common: dict[str, Any] = {"run_dir": run_dir, "cfg": cfg, "model": model, "summary": summary}
    common |= {"regression": regression, "interrupted": interrupted}
    if name.lower() == dataload.DIABETES:
        # its columns and values are standardised over scikit-learn's 442 rows: new rows
        # would need that undone and redone, which predict does not do
        raise PredictError(
            f"{run_dir} trained on diabetes, whose inputs and values proplab standardises "
            "over scikit-learn's 442 rows (proplab.diabetes); predict takes raw rows and "
            "does not repeat that: use proplab.load on rows scaled as "
            "proplab.diabetes.load_diabetes() gives them"
        )
    if name.lower() == dataload.DIGITS:
        n_in = int(np.prod(IMAGE_SHAPE))
        return TrainedRun(
            **common, features=None, label=None, n_inputs=n_in, classes=[], pixels=True
        )
    if dataload.is_csv(name):
        features = summary.get("features")
        if not (
            isinstance(features, list) and features and all(isinstance(f, str) for f in features)
        ):
            raise PredictError(
                f"{run_dir / SUMMARY} names no input columns ('features'; its data file "
                f"{name} could not be read when the run finished): train it again"
            )
        twice = next((f for k, f in enumerate(features) if f in features[:k]), None)
        if twice is not None:  # by name, one column would feed both inputs (csv23 H2)
            raise PredictError(
                f"{run_dir / SUMMARY}: the run takes two input columns named {twice!r}, "
                "which predict, finding the inputs by name, cannot tell apart: rename one "
                f"in {name} and train again"
            )
        label = summary.get("label_column")
        classes = [] if regression else summary.get("classes")
        if not isinstance(classes, list) or (not regression and len(classes) < 2):
            raise PredictError(
                f"{run_dir / SUMMARY} names no classes for the outputs ('classes'): train it again"
            )
        dropped = summary.get("dropped_columns")
        # a run from before summaries said (no "header"): columns by name, as then
        columns = None
        if summary.get("header") is False and isinstance(dropped, list):
            columns = len(features) + 1 + len(dropped)
        return TrainedRun(
            **common,
            features=list(features),
            label=label if isinstance(label, str) else None,
            n_inputs=len(features),
            classes=classes,
            headerless_columns=columns,
        )
    # a generated 2-D dataset (linear, xor, the zoo): x1, x2 as drawn
    return TrainedRun(
        **common, features=None, label=None, n_inputs=len(GENERATED_INPUTS), classes=[]
    )


def _find(table: CsvTable, name: str) -> int | None:
    """The index of the column called ``name``; None when there is none; refused when
    several columns have it (taking the first would read another column silently)."""
    matches = [j for j, n in enumerate(table.names) if n == name]
    if len(matches) > 1:
        raise PredictError(
            f"{table.path}: column {name!r} is ambiguous: columns {matches} (0-based) all have "
            "that name; rename them"
        )
    return matches[0] if matches else None


def _columns_by_name(run: TrainedRun, table: CsvTable) -> tuple[list[int], int | None]:
    """A CSV run's input columns in the file, by name, and its label column's (or None)."""
    assert run.features is not None
    if not table.header and run.headerless_columns is not None:
        _check_layout(run, table)
    columns = []
    others = [n for n in table.names if n not in run.features]
    for feature in run.features:
        j = _find(table, feature)
        if j is None:
            given = ", ".join(table.names)
            why = (
                ""
                if table.header
                else f" (no header: line {table.lines[0]} holds numbers, read as data;"
                " add a header line naming the columns)"
            )
            raise PredictError(
                f"{table.path}: no column {feature!r}, an input of the run (it takes "
                f"{', '.join(run.features)}; the file has {given}){why}"
                # a column that is another input already is no likely spelling (csv23 L3)
                + (did_you_mean(feature, others) if table.header else "")
            )
        columns.append(j)
    label = None if run.label is None else _find(table, run.label)
    return columns, label


def _check_layout(run: TrainedRun, table: CsvTable) -> None:
    """A file without a header, for a run whose file had none: its columns are known by
    position only, so it must have the training file's columns in their order (or all but
    the label when that was the last column and none was dropped). Matched by index names
    alone, a file without a dropped ID column had its inputs shifted one place (review20)."""
    width, trained = len(table.names), run.headerless_columns
    assert trained is not None
    no_label = run.label == str(trained - 1) and trained == len(run.features or []) + 1
    if width == trained or (no_label and width == trained - 1):
        return
    dropped = trained - 1 - len(run.features or [])
    left_out = f", {dropped} left out" if dropped else ""
    without = " (or without the label, the last)" if no_label else ""
    raise PredictError(
        f"{table.path}: has {width} column{'s' if width != 1 else ''} and no header, so its "
        f"columns are known by position only; the run was trained on a file of {trained} "
        f"without a header (inputs {', '.join(run.features or [])}, label {run.label}"
        f"{left_out}): give every row those {trained} columns in that order{without}, or "
        "train on a file with a header line (its columns are then found by name)"
    )


def _columns_by_position(run: TrainedRun, table: CsvTable) -> tuple[list[int], int | None]:
    """A generated dataset's or digits' inputs: the first ``n_inputs`` columns, then
    optionally the label."""
    width, n = len(table.names), run.n_inputs
    if width not in (n, n + 1):
        inputs = f" ({', '.join(GENERATED_INPUTS)})" if n == len(GENERATED_INPUTS) else ""
        raise PredictError(
            f"{table.path}: has {width} column{'s' if width != 1 else ''}; a run on "
            f"{run.cfg.dataset} takes {n}{inputs}, optionally followed by the label"
        )
    return list(range(n)), (n if width == n + 1 else None)


def read_rows(run: TrainedRun, path: str | os.PathLike[str]) -> Rows:
    """The rows of ``path`` the run's model takes (see :class:`Rows`); PredictError for
    an unusable file: the CSV reader's messages (missing, empty, ragged, a cell that is
    no number), a missing input column, a wrong column count."""
    try:
        table = read_table(path)
        columns, label = (
            _columns_by_name(run, table)
            if run.features is not None
            else _columns_by_position(run, table)
        )
        x = table.numbers(columns)
    except CsvError as exc:
        raise PredictError(str(exc)) from None
    if run.pixels:
        # digits: pixels 0..16 divided by 16 as load_digits does (other units would
        # predict nonsense, silently)
        outside = np.argwhere((x < 0) | (x > DIGITS_MAX))
        if outside.size:
            i, j = (int(v) for v in outside[0])
            raise PredictError(
                f"{table.path}: line {table.lines[i]}, column {table.column_name(columns[j])}:"
                f" {table.cells(i)[columns[j]]} is no pixel of the digits (0 to 16, as "
                "scikit-learn's load_digits gives them; proplab divides them by 16)"
            )
        x = x / DIGITS_MAX
    return Rows(table, x, label)


def _classes(run: TrainedRun, outputs: int) -> list[Any]:
    """What each class index is called: the CSV's labels, else 0, 1, ... ."""
    count = 2 if outputs == 1 else outputs
    classes = run.classes or list(range(count))
    if len(classes) != count:
        raise PredictError(
            f"{run.run_dir / SUMMARY} names {len(classes)} classes, but the model has "
            f"{outputs} output{'s' if outputs != 1 else ''}: the folder's files are not one run"
        )
    return classes


def _label_indices(rows: Rows, classes: Sequence[Any]) -> np.ndarray:
    """The label column's classes as indices ``(n, 1)``, or PredictError for a label the
    run does not know (naming it and the classes it knows)."""
    assert rows.label_column is not None
    table, j = rows.table, rows.label_column
    numeric = all(isinstance(c, int | float) for c in classes)
    index = {(float(c) if numeric else str(c)): k for k, c in enumerate(classes)}
    out = np.empty((len(table), 1), dtype=np.int64)
    for i, (line, cell) in enumerate(zip(table.lines, table.column(j), strict=True)):
        key: Any = cell
        if numeric:
            try:
                key = float(cell)
            except ValueError:
                key = None
        if key not in index and _missing_label(cell):  # csv23 L2: not "no class of the run"
            raise PredictError(
                f"{table.path}: line {line}, column {table.column_name(j)}: missing label "
                "(a score needs every row's label); fill it in, or delete the column to "
                "predict without a score"
            )
        if key not in index:
            raise PredictError(
                f"{table.path}: line {line}, column {table.column_name(j)}: {cell!r} is not "
                f"a class of the run ({', '.join(map(str, classes))}); delete the "
                "column to predict without a score"
            )
        out[i, 0] = index[key]
    return out


def predict(run: TrainedRun, rows: Rows) -> Predicted:
    """The model's predictions for ``rows``: outputs, class names or values, probabilities,
    and the score when the rows have labels."""
    try:
        outputs = predictions(run.model, rows.x)
    except ValueError as exc:  # inputs the model cannot take
        raise PredictError(f"{run.run_dir / MODEL}: {exc}") from None
    bad = np.flatnonzero(~np.isfinite(outputs).all(axis=-1))
    if bad.size:
        raise PredictError(
            f"{rows.table.path}: line {rows.table.lines[bad[0]]}: the model's output is "
            f"{outputs[bad[0]].tolist()} (inputs far beyond the training data?)"
        )
    if run.regression:
        return _values(run, rows, outputs)
    classes = _classes(run, outputs.shape[-1])
    columns: dict[str, list[str] | np.ndarray] = {
        PREDICTION: [str(classes[k]) for k in predicted_labels(outputs)]
    }
    if run.cfg.loss == "cross_entropy":  # logits: the softmax is the loss's
        columns |= {f"p_{c}": p for c, p in zip(classes, softmax(outputs).T, strict=True)}
    elif outputs.shape[-1] == 1 and run.cfg.output_activation == "sigmoid":
        p1 = outputs[:, 0]  # P(the second class), thresholded at 0.5
        columns |= {f"p_{classes[0]}": 1.0 - p1, f"p_{classes[1]}": p1}
    else:  # outputs that are no distribution over the classes (mse on identity, one-hot
        # sigmoids): as they are, the largest (or one over 0.5) wins
        shown = classes[1:] if outputs.shape[-1] == 1 else classes
        columns |= {f"output_{c}": o for c, o in zip(shown, outputs.T, strict=True)}
    score = None
    if rows.label_column is not None:
        y = _label_indices(rows, classes)
        targets, _ = dataload.targets_and_width(run.cfg, y, len(classes))
        loss, acc, _ = evaluate(run.model, build_loss(run.cfg), rows.x, targets)
        score = _score_line(rows, format_summary_line(float(loss), float(acc)))
    return Predicted(outputs, columns, score)


def _values(run: TrainedRun, rows: Rows, outputs: np.ndarray) -> Predicted:
    """A regression's predictions: one value column per output, and loss and R² on rows
    with the label column."""
    columns: dict[str, list[str] | np.ndarray] = (
        {PREDICTION: outputs[:, 0]}
        if outputs.shape[-1] == 1
        else {f"{PREDICTION}_{k + 1}": outputs[:, k] for k in range(outputs.shape[-1])}
    )
    score = None
    if rows.label_column is not None:
        try:
            y = rows.table.numbers([rows.label_column])
        except CsvError as exc:
            raise PredictError(f"{exc}; delete the column to predict without a score") from None
        loss, _, pred = evaluate(run.model, build_loss(run.cfg), rows.x, y)
        r2 = float(r2_score(pred, y))
        score = _score_line(rows, format_summary_line(float(loss), math.nan, r2))
    return Predicted(outputs, columns, score)


def _score_line(rows: Rows, line: str) -> str:
    """The lab's ``loss=... accuracy=...%`` line, saying which rows and labels it scores."""
    assert rows.label_column is not None
    label = rows.table.column_name(rows.label_column)
    return f"on these {len(rows.table)} rows (labels: column {label}): {line}"


def output_header(
    rows: Rows, predicted: Predicted, input_names: Sequence[str] | None = None
) -> list[str]:
    """The output's header: the file's columns (or ``input_names``), then ``prediction``
    and the probability (or output) columns; PredictError if the file has one of these."""
    names = list(input_names or rows.table.names)
    taken = [n for n in predicted.columns if n in names]
    if taken:
        raise PredictError(
            f"{rows.table.path}: already has a column {taken[0]!r} (an earlier prediction?), "
            "which predict adds: rename or delete it"
        )
    return names + list(predicted.columns)


def write_csv(file: IO[str], rows: Rows, predicted: Predicted, header: Sequence[str]) -> None:
    """Write ``header`` (:func:`output_header`) and each row to ``file``: the file's cells
    as given, then the predicted columns, numbers as ``repr`` (they read back to the same
    floats). Row by row: the whole text of a 50 MB file, built and then encoded, took
    another 100 MB."""
    texts = [
        list(map(repr, column.tolist())) if isinstance(column, np.ndarray) else column
        for column in predicted.columns.values()
    ]
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(header)
    table = rows.table
    for i in range(len(table)):
        writer.writerow([*table.cells(i), *(column[i] for column in texts)])


def output_names(run: TrainedRun, rows: Rows) -> list[str] | None:
    """The header for a file without one: a generated dataset's ``x1, x2`` (and
    ``label``); None to keep the file's names."""
    if rows.table.header or run.features is not None or run.n_inputs != len(GENERATED_INPUTS):
        return None
    return [*GENERATED_INPUTS, *(["label"] if rows.label_column is not None else [])]
