"""Datasets by name for the CLI and run folders: the zoo, digits, CSV files.

:func:`load_named` turns ``--dataset`` into ``(x, y)``: a zoo name (drawn
with ``--n``, ``--noise`` and the run's seed), ``digits``, or a path to a
``.csv`` file (``--label`` picks its label column). :func:`holdout` cuts the
test share (``--test-fraction``) off with a stratified split that does not
depend on ``--seed``, so runs with different seeds are scored on the same
test samples. Every failure is a :class:`~proplab.config.ConfigError` naming
``dataset`` (the CLI prints it as one line and exits with code 2).

Multiclass runs: with ``loss="cross_entropy"`` the network has one output
per class (logits); with ``mse``/``bce`` and more than two classes the labels
become one-hot rows and the network has one sigmoid output per class.

Regression runs (the zoo's ``plane`` and ``multi-gauss``, ``diabetes``, and a
CSV file with ``task="regression"``): one output, its target a value; MSE only,
an output whose range holds the targets (identity by default), a test share
drawn at random rather than by class, and no accuracy (R² instead).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from proplab.config import ConfigError, RunConfig, data_rng, physical_memory
from proplab.datapath import data_file
from proplab.metrics import labels_of, one_hot, predicted_labels
from proplab.registry import canonical
from proplab.splits import SplitError, shuffled_indices, stratified_indices
from proplab.zoo import ZOO
from proplab.zoo_regression import REGRESSION_ZOO

# every generated 2-D dataset by name: the classification zoo, then the regression sets
ALL_ZOO = {**ZOO, **REGRESSION_ZOO}

DIGITS = "digits"
DIABETES = "diabetes"
# figures a run folder may get besides the lab's (see write_figures)
DECISION_BOUNDARY = "decision_boundary.png"
CONFUSION_MATRIX = "confusion_matrix.png"
PREDICTIONS = "predictions.png"
# which rows are held out never depends on --seed (a generated dataset's points do)
SPLIT_SEED = 0

# `proplab train --dataset digits` without other flags: a 64-64-64-10 ReLU MLP
# on logits, softmax cross-entropy, Adam lr 2e-3 on shuffled mini-batches of
# 32 for 20 epochs, He init, the fixed stratified 80/20 split. Chosen from a
# small grid (batch 32/64, lr 1e-3..3e-3, 20-40 epochs) by the mean test
# accuracy over seeds 0-9: 97.5 % (min 96.7 %, seed 0: 98.1 %), in about
# 0.5 s, a fraction of scikit-learn's MLPClassifier((64,)) time
# (benchmarks/bench_digits.py). Lower lr or bigger batches need more epochs.
DIGITS_DEFAULTS: dict[str, Any] = {
    "hidden": [64, 64],
    "activation": "relu",
    "output_activation": "identity",
    "init": "he",
    "loss": "cross_entropy",
    "optimizer": "adam",
    "lr": 2e-3,
    "batch_size": 32,
    "epochs": 20,
    "test_fraction": 0.2,
    "print_every": 5,
}


def is_csv(name: str) -> bool:
    """True when ``--dataset`` names a file rather than a built-in dataset."""
    return str(name).lower().endswith(".csv") or Path(str(name)).suffix != ""


def drawn_with(dataset: str) -> tuple[str, ...]:
    """Which of ``n`` and ``noise`` shape ``dataset``'s data: both for the zoo sets,
    ``n`` for linear, neither for fixed data (xor, digits, diabetes, a CSV file). A
    name that is no dataset gets both: the loader names the nearest dataset."""
    from proplab.data import LAB_DATASETS

    key = str(dataset).strip().lower()
    if key == "linear":
        return ("n",)
    if key in LAB_DATASETS or key in (DIGITS, DIABETES) or is_csv(dataset):
        return ()
    return ("n", "noise")


# `proplab train --dataset plane` / `multi-gauss` without other flags. The targets span
# [-1, 1]: the lab's sigmoid output cannot reach the negative half, so the output is
# identity (TensorFlow Playground's "linear" output). The lab's SGD at lr 1.0 blows up
# on these (tanh diverges, sigmoid ends at R² ~ -2000); from a small grid (sigmoid, tanh,
# ReLU x widths 10/16 x SGD lr 0.1/1, Adam 0.01/0.03 x n 100/400, seeds 0-2, test share
# 0.2) tanh with Adam at 0.03 fit best. Measured with these defaults over seeds 0-9, 20 %
# held out: multi-gauss test R² 0.967 on average (worst 0.912), plane 0.9995. No noise by
# default (TensorFlow Playground's too): input noise 0.1 caps multi-gauss's R² near 0.6,
# the bumps being only 1/3 wide. 400 samples: with 100, ~9 points per bump (R² ~0.7).
REGRESSION_DEFAULTS: dict[str, Any] = {
    "n": 400,
    "noise": 0.0,
    "activation": "tanh",
    "output_activation": "identity",
    "optimizer": "adam",
    "lr": 0.03,
    "epochs": 5000,
    "print_every": 1000,
}
# `proplab train --dataset diabetes`: one hidden layer of 32 tanh units, Adam at 1e-3,
# 200 full-batch epochs, a random fifth held out. From a small grid (tanh/ReLU x widths
# 16, 32, 16-16 x lr 1e-3..1e-2 x 200-1000 epochs x full batch/32, seeds 0-4) by the
# mean test R²: it overfits fast (1000 epochs at lr 1e-2: R² below 0), and a straight
# line (least squares) is as good as the best network (README "Beyond the lab").
DIABETES_DEFAULTS: dict[str, Any] = {
    "hidden": [32],
    "activation": "tanh",
    "output_activation": "identity",
    "optimizer": "adam",
    "lr": 0.001,
    "epochs": 200,
    "test_fraction": 0.2,
    "print_every": 50,
}
# `proplab train --dataset my.csv --task regression`: tanh units and Adam, as the
# regression sets have (the lab's SGD at lr 1.0 went to R² -600 on a clean linear file,
# and diverged on values in the thousands); 2 000 epochs fit a file of a few hundred
# rows of values near [-1, 1] to R² 0.9999 (two and three inputs). Values far from
# that scale train slowly whatever the settings: target_scale_note says so.
CSV_REGRESSION_DEFAULTS: dict[str, Any] = {
    "activation": "tanh",
    "output_activation": "identity",
    "optimizer": "adam",
    "lr": 0.01,
    "epochs": 2000,
    "print_every": 500,
}
# a regression target column (or any CSV input column) whose mean or spread is beyond this
# gets a note (target_scale_note, input_scale_note)
LARGE_TARGETS = 10.0
# the values each output activation can take: a regression's targets must lie within
OUTPUT_RANGES = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, math.inf),
    "leaky_relu": (-math.inf, math.inf),
    "identity": (-math.inf, math.inf),
}


def dataset_defaults(
    name: str | None, task: str | None = "auto", model: str | None = None
) -> dict[str, Any]:
    """Flag defaults that suit a dataset better than the lab's (digits, diabetes, the
    zoo's regression sets, and a CSV file with ``task="regression"`` have some). For
    ``model="conv"`` a list of hidden widths keeps its first: the Conv1d takes the first
    hidden layer's place (digits' [64, 64] was refused, naming a --hidden never given)."""
    key = str(name).strip().lower()
    if is_csv(str(name)) and str(task).strip().lower() == "regression":
        own = dict(CSV_REGRESSION_DEFAULTS)
    elif key == DIGITS:
        own = dict(DIGITS_DEFAULTS)
    elif key == DIABETES:
        own = dict(DIABETES_DEFAULTS)
    else:
        own = dict(REGRESSION_DEFAULTS) if zoo_key(key) in REGRESSION_ZOO else {}
    if model == "conv" and isinstance(own.get("hidden"), list):
        own["hidden"] = own["hidden"][:1]
    return own


def zoo_key(name: str) -> str | None:
    """The zoo's own spelling of a generated 2-D dataset's name, or None."""
    key = str(name).strip().lower().replace("_", "-")
    return key if key in ALL_ZOO else None


def is_regression(name: str | None) -> bool:
    """Whether ``--dataset`` names a built-in regression set (targets are values, not
    classes): the zoo's plane and multi-gauss, and diabetes."""
    return zoo_key(str(name)) in REGRESSION_ZOO or str(name).strip().lower() == DIABETES


def is_regression_task(dataset: Any, task: Any = "auto") -> bool:
    """Whether a run of ``dataset`` with ``task`` is a regression: ``task="regression"``,
    or ``"auto"`` (the default) on a built-in regression set. The one place this is
    decided: configs, CLI values and sweep files all ask here."""
    task = str(task if task is not None else "auto").strip().lower()
    return task == "regression" or (task == "auto" and is_regression(dataset))


def is_regression_run(cfg: RunConfig) -> bool:
    """Whether ``cfg`` is a regression (:func:`is_regression_task` of its dataset and task)."""
    return is_regression_task(cfg.dataset, cfg.task)


def regression_problem(cfg: RunConfig) -> ConfigError | None:
    """Why a regression's loss or output cannot fit values, asked before ``validate``
    (for ``loss="bce"`` on plane that would say "bce needs a sigmoid output", and the
    sigmoid would then be refused in turn); None when there is no such problem, or
    for a name no registry knows (``validate`` names it)."""
    if not is_regression_run(cfg):
        return None
    try:
        names = {
            "loss": canonical("loss", cfg.loss),
            "output_activation": canonical("activation", cfg.output_activation),
        }
        check_regression(cfg.replace(**names))
    except ConfigError as exc:
        return exc
    except ValueError:
        return None
    return None


def check_task(cfg: RunConfig) -> None:
    """Refuse a task its dataset cannot be: classes of a regression set, values of a
    built-in classification set (a CSV file may be either)."""
    task = str(cfg.task).strip().lower()
    name = str(cfg.dataset).strip()
    if task == "classification" and is_regression(name):
        raise ConfigError(
            f"task: {name}'s targets are values to predict, not classes; accepted for it: "
            "regression or auto"
        )
    if task == "regression" and not is_regression(name) and not is_csv(name):
        raise ConfigError(
            f"task: {name}'s labels are classes; 'regression' applies to a CSV file's label "
            "column (or to plane, multi-gauss and diabetes); accepted for it: classification "
            "or auto"
        )


def target_scale_note(cfg: RunConfig) -> str | None:
    """A note for a CSV regression whose targets are far from [-1, 1] (their mean or
    spread beyond ``LARGE_TARGETS``), or None: such values train slowly and the loss is
    in their squared units, which a user should hear before blaming the network."""
    if not (is_csv(str(cfg.dataset)) and is_regression_run(cfg)):
        return None
    try:
        data = load_named(cfg)
    except ConfigError:
        return None
    if data is None:
        return None
    y = data[1]
    mean, spread = float(y.mean()), float(y.std())
    if abs(mean) <= LARGE_TARGETS and spread <= LARGE_TARGETS:
        return None
    return (
        f"the targets of {cfg.dataset} have mean {mean:.4g} and standard deviation "
        f"{spread:.4g}; a network learns values near [-1, 1] far faster (and its loss is "
        "in the targets' squared units): standardise the column in the file (subtract "
        f"{mean:.6g}, divide by {spread:.6g}) for a fair start"
        # (csv18: a student who passed --standardize was left wondering why it did nothing)
        + ("; --standardize scales the input columns only" if cfg.standardize else "")
    )


# a note lists at most this many columns: 100 columns' means and deviations made one
# 2.4 KB line (scale19 L5)
NOTE_COLUMNS = 8


def first_columns(parts: Sequence[str]) -> str:
    """``parts`` (one per column) joined by commas, the first ``NOTE_COLUMNS`` of them and
    then how many more there are."""
    if len(parts) <= NOTE_COLUMNS:
        return ", ".join(parts)
    return ", ".join(parts[:NOTE_COLUMNS]) + f", ... and {len(parts) - NOTE_COLUMNS} more"


def input_scale_note(cfg: RunConfig) -> str | None:
    """A note for a CSV run with an input column that counts the rows 1, 2, ..., n (an
    ID), or, without ``standardize``, whose input columns are far from unit
    scale (some column's mean or standard deviation beyond ``LARGE_TARGETS``), naming
    them, or None. Sigmoid and tanh units saturate on inputs such as heights in cm (every
    row gives nearly the same output), so such a run can end at one class everywhere or
    R² 0 with nothing else to say why."""
    if not is_csv(str(cfg.dataset)):
        return None
    from proplab.csvdata import CsvError, load_csv

    try:
        data = load_csv(
            data_file(cfg.dataset),
            label=cfg.label,
            values=is_regression_run(cfg),
            drop=cfg.drop_columns or (),
        )
    except (CsvError, OSError):
        return None
    if not data.x.size:
        return None
    means, spreads = data.x.mean(axis=0), data.x.std(axis=0)
    counters = [
        name
        for name, column in zip(data.feature_names, data.x.T, strict=True)
        if column.size >= 10 and np.array_equal(np.sort(column), np.arange(1, column.size + 1))
    ]
    if counters:  # csv18: an ID column trained as an input, and the note said to scale it
        return (
            f"the input column {counters[0]!r} of {cfg.dataset} counts 1, 2, ..., "
            f"{data.x.shape[0]}: a row number is no property of a row; if it is an ID, leave it "
            f"out (--drop-columns {counters[0]}; it is an input of the model)"
        )
    if cfg.standardize:
        return None
    far = [
        f"{name!r} (mean {mean:.4g}, standard deviation {spread:.4g})"
        for name, mean, spread in zip(data.feature_names, means, spreads, strict=True)
        if abs(mean) > LARGE_TARGETS or spread > LARGE_TARGETS
    ]
    if not far:
        return None
    return (
        f"the input column{'s' if len(far) > 1 else ''} {first_columns(far)} of {cfg.dataset} "
        f"{'are' if len(far) > 1 else 'is'} far from unit scale, where sigmoid and tanh "
        "units saturate (a run may end at "
        "one class everywhere, or R² 0): pass --standardize (standardize = true in a sweep "
        "file) to train on (x - mean) / std of the training rows"
    )


def check_regression(cfg: RunConfig, y: np.ndarray | None = None) -> None:
    """Refuse, for a regression, a loss or an output that cannot fit its targets ``y``
    (the loss alone when the targets are not loaded yet, ``y=None``)."""
    name = str(cfg.dataset).strip()
    if cfg.loss != "mse":
        raise ConfigError(
            f"loss: {name} is a regression (targets are values to predict, not classes), "
            f"so {cfg.loss!r} does not apply; accepted: mse"
        )
    low, high = OUTPUT_RANGES.get(cfg.output_activation, (-math.inf, math.inf))
    if y is None and is_regression(name) and low >= 0:
        # not loaded yet (a sweep file's check), but a built-in set's targets are known to
        # take both signs: an output that cannot go negative is refused now, not mid-sweep
        fits = [a for a, (lo, _) in OUTPUT_RANGES.items() if lo < 0]
        raise ConfigError(
            f"output_activation: {cfg.output_activation!r} outputs values in [{low:g}, "
            f"{high:g}] only, but {name}'s targets are negative as well as positive; "
            f"accepted: {', '.join(fits)}"
        )
    if y is not None and y.size and (y.min() < low or y.max() > high):
        fits = [a for a, (lo, hi) in OUTPUT_RANGES.items() if lo <= y.min() and y.max() <= hi]
        raise ConfigError(
            f"output_activation: {cfg.output_activation!r} outputs values in [{low:g}, "
            f"{high:g}] only, but {name}'s targets span [{y.min():.4g}, {y.max():.4g}]; "
            f"accepted: {', '.join(fits)}"
        )


def load_named(cfg: RunConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """``(x, y)`` for a zoo, digits or CSV ``cfg.dataset``; None for any other name."""
    name = str(cfg.dataset).strip()
    key = zoo_key(name)
    if key is not None:
        check_generated_size(cfg)
        try:
            return ALL_ZOO[key](cfg.n, cfg.noise, data_rng(cfg))
        except ValueError as exc:  # one sample per class at least (n >= 2), finite noise
            field = "noise" if "infinity" in str(exc) else "n"
            raise ConfigError(f"{field}: {exc}") from None
        except MemoryError:
            raise ConfigError(too_many_samples(cfg.n)) from None
    if name.lower() in (DIGITS, DIABETES):
        from proplab.diabetes import load_diabetes
        from proplab.digits import MissingDependencyError, load_digits

        try:
            return load_digits() if name.lower() == DIGITS else load_diabetes()
        except MissingDependencyError as exc:
            raise ConfigError(f"dataset: {exc}") from None
    if is_csv(name):
        from proplab.csvdata import (
            CsvDropError,
            CsvError,
            CsvFractionalLabelError,
            CsvLabelError,
            load_csv,
        )

        try:
            data = load_csv(
                data_file(cfg.dataset),  # where a sweep file or a run folder found it
                label=cfg.label,
                values=is_regression_run(cfg),
                drop=cfg.drop_columns or (),
            )
        except CsvLabelError as exc:  # the label asked for, not the file, is the problem
            raise ConfigError(f"label: {exc}") from None
        except CsvDropError as exc:  # likewise the columns to drop
            raise ConfigError(f"drop_columns: {exc}") from None
        except CsvFractionalLabelError as exc:
            # fractions are no classes: with --task classification given, the task is
            # what to change (cli20 L11: --dataset was blamed)
            field = "task" if cfg.task == "classification" else "dataset"
            raise ConfigError(f"{field}: {exc}") from None
        except CsvError as exc:
            raise ConfigError(f"dataset: {exc}") from None
        return data.x, data.y
    return None


# Floats one generated sample (linear, the zoo) takes while it is drawn: its 2
# features and label plus the generator's temporaries (angles, radii, noise).
FLOATS_PER_GENERATED_SAMPLE = 8


def check_generated_size(cfg: RunConfig) -> None:
    """Refuse an ``n`` whose samples cannot even be drawn in this machine's memory.

    Arithmetic only, before any array exists: ``--n 1e12`` is a ConfigError, not a
    MemoryError traceback (or, just below what NumPy refuses outright, an OOM kill).
    """
    memory = physical_memory()
    if memory is not None and 8 * FLOATS_PER_GENERATED_SAMPLE * cfg.n > memory:
        raise ConfigError(too_many_samples(cfg.n))


def too_many_samples(n: int) -> str:
    """The ConfigError message for an ``n`` too large to generate."""
    need = 8 * FLOATS_PER_GENERATED_SAMPLE * n / 2**30
    return (
        f"n: {n:,} samples need about {need:,.0f} GiB to generate, more than this machine "
        "can allocate; use a smaller --n"
    )


def holdout(
    cfg: RunConfig, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(x_train, y_train, x_test, y_test)``; the test pair is None when ``test_fraction`` is 0."""
    if not cfg.test_fraction:
        return x, y, None, None
    if str(cfg.dataset).strip().lower() == DIGITS:
        from proplab.digits import digits_split

        try:
            s = digits_split(cfg.test_fraction, SPLIT_SEED)
        except ValueError as exc:  # scikit-learn's stratified split: a part with < 10 rows
            raise ConfigError(_digits_split_message(cfg.test_fraction, y, exc)) from None
        return s.x_train, s.y_train, s.x_test, s.y_test
    try:
        if is_regression_run(cfg):  # values, not classes: nothing to stratify by
            train, _, test = shuffled_indices(len(y), 0.0, cfg.test_fraction, rng=SPLIT_SEED)
        else:
            names = csv_summary(cfg).get("classes")
            train, _, test = stratified_indices(
                y, 0.0, cfg.test_fraction, rng=SPLIT_SEED, class_names=names
            )
    except SplitError as exc:
        raise ConfigError(f"test_fraction: {cfg.dataset}: {exc}") from None
    return x[train], y[train], x[test], y[test]


def _digits_split_message(test_fraction: float, y: np.ndarray, exc: ValueError) -> str:
    """Why scikit-learn refused the digits split, and the test fractions it accepts."""
    n, n_classes = len(y), len(np.unique(y))
    n_test = math.ceil(test_fraction * n)  # scikit-learn rounds the test share up
    if min(n_test, n - n_test) >= n_classes:  # refused for another reason: say it as is
        return f"test_fraction: digits: {exc}"
    return (
        f"test_fraction: digits: {test_fraction:g} holds out {n_test} of the {n} rows and "
        f"trains on {n - n_test}; the stratified split needs at least {n_classes} (one per "
        f"class) in each, so use a value from {n_classes / n:.4g} to {1 - n_classes / n:.4g}"
    )


def with_dataset_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """CLI values completed by the dataset's defaults (flags the user gave always win).

    The output activation follows the loss unless given: ``identity`` (raw
    logits) for ``cross_entropy``, which applies the softmax itself; the
    lab's ``sigmoid`` when the user picks ``mse`` or ``bce`` instead; ``identity``
    for ``task="regression"``, whose values may have any sign and size.
    """
    own = dataset_defaults(values.get("dataset"), values.get("task"), values.get("model"))
    out = {**own, **values}
    regression = is_regression_task(values.get("dataset"), values.get("task"))
    if "output_activation" not in values and regression:
        # values to predict, of any sign and size: the lab's sigmoid would clip them
        out["output_activation"] = "identity"
        return out
    if "output_activation" not in values:
        try:
            loss = canonical("loss", out.get("loss", RunConfig.loss))
        except ValueError:
            return out  # RunConfig.validate names the bad loss
        if loss == "cross_entropy":
            out["output_activation"] = "identity"
        elif "loss" in values:
            out.pop("output_activation", None)
    return out


class Prepared(NamedTuple):
    """Training and test arrays ready for a run, and the network's output width."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    n_out: int


def prepare(cfg: RunConfig, x: np.ndarray, y: np.ndarray) -> Prepared:
    """Hold the test share out, then shape the targets for ``cfg.loss``."""
    check_task(cfg)
    if is_regression_run(cfg):  # one output, the targets as they are
        check_regression(cfg, y)
        return Prepared(*holdout(cfg, x, y), n_out=1)
    classes = n_classes(y)
    x, y, x_test, y_test = holdout(cfg, x, y)
    y, n_out = targets_and_width(cfg, y, classes)
    if y_test is not None:
        y_test, _ = targets_and_width(cfg, y_test, classes)
    return Prepared(x, y, x_test, y_test, n_out)


def n_classes(y: np.ndarray) -> int:
    """Classes in integer labels ``(n, 1)`` (at least 2: a binary task may miss one)."""
    return max(int(y.max()) + 1, 2)


def targets_and_width(cfg: RunConfig, y: np.ndarray, classes: int) -> tuple[np.ndarray, int]:
    """The training targets and the network's output width for ``cfg.loss``.

    ``cross_entropy``: labels as they are, one logit per class. Otherwise:
    binary labels stay ``(n, 1)`` with one output, as float64 (the loss
    subtracts them from the predictions every epoch: an int64 target costs
    an int-to-float cast each time, ~0.7 us of a ~40 us lab epoch); more
    classes become one-hot rows ``(n, C)`` with C outputs.
    """
    if cfg.loss == "cross_entropy":
        return y, classes
    if classes <= 2:
        return np.asarray(y, dtype=np.float64), 1
    return one_hot(y, classes), classes


def csv_summary(cfg: RunConfig) -> dict[str, Any]:
    """Summary fields naming a CSV dataset's columns (none for another dataset):
    ``classes[k]`` is the label output k stands for, which a reloaded model needs to name
    its predictions, ``features`` the input columns in order, ``label_column`` the label's,
    ``dropped_columns`` those left out, ``header`` whether the file had a header line."""
    if not is_csv(str(cfg.dataset)):
        return {}
    from proplab.csvdata import CsvError

    path = data_file(cfg.dataset)
    values = is_regression_run(cfg)
    try:  # the run trained already: a file changed or gone since costs only these fields
        stat = path.stat()
        drop = tuple(cfg.drop_columns or ())
        columns = dict(
            _csv_columns(str(path), cfg.label, stat.st_mtime_ns, stat.st_size, values, drop)
        )
        if values:  # a regression's output is the label column's value: no classes
            del columns["classes"]
        return columns
    except (OSError, CsvError):
        return {}


@functools.lru_cache(maxsize=8)
def _csv_columns(
    path: str,
    label: str | int | None,
    _mtime: int,
    _size: int,
    values: bool = False,
    drop: tuple[str | int, ...] = (),
) -> tuple[tuple[str, Any], ...]:
    """The columns of a CSV file as read for training, cached per file version (a sweep
    finishes many runs of one file)."""
    from proplab.csvdata import load_csv

    data = load_csv(path, label=label, values=values, drop=drop)
    return (
        ("classes", list(data.classes)),
        ("features", list(data.feature_names)),
        ("label_column", data.label_name),
        # what predict needs to read a file without a header by position (review20)
        ("dropped_columns", data.dropped_names),
        ("header", data.header),
    )


def test_summary(test: tuple[Any, ...] | None, x_test: np.ndarray | None) -> dict[str, Any]:
    """Summary fields for the held-out set (none without one); NaN after divergence -> None.
    ``test``: ``(loss, accuracy, predictions)``, and a regression's R² fourth."""
    if test is None or x_test is None:
        return {}
    loss, acc = float(test[0]), float(test[1])
    finite = bool(np.isfinite(loss))
    fields = {
        "test_loss": loss if finite else None,
        "test_accuracy": acc if finite and not math.isnan(acc) else None,
        "n_test": int(x_test.shape[0]),
    }
    if len(test) > 3:  # a regression's R²
        fields["test_r2"] = test[3] if finite and np.isfinite(test[3]) else None
    return fields


def one_class_note(
    pred: np.ndarray, y: np.ndarray, acc: float, class_names: Sequence[object] | None = None
) -> str | None:
    """A note when a classifier predicts one class for every training row while the rows
    hold several: its accuracy is then that class's share, however high (98 % on a file
    whose rare class is 2 % of the rows, with nothing said; scale19). ``pred`` ``(n, out)``
    and ``y`` as the run's accuracy takes them; None for a regression (``acc`` NaN)."""
    if not math.isfinite(acc) or pred.ndim != 2:
        return None
    truth, guess = labels_of(y), predicted_labels(pred)
    if np.unique(truth).size < 2 or np.unique(guess).size != 1:
        return None
    k = int(guess[0])
    name = repr(str(class_names[k])) if class_names is not None else f"class {k}"
    share = 100 * float(np.mean(truth == k))
    return (
        f"every training row is predicted {name}, the class of {share:.1f} % of them: the "
        "accuracy is that share, and the model tells no classes apart (too few epochs, a "
        "learning rate too small or too large, saturated units?)"
    )


def result_lines(
    pred: np.ndarray,
    y: np.ndarray,
    loss: float,
    acc: float,
    test: tuple[Any, ...] | None,
    r2: float | None = None,
    class_names: Sequence[object] | None = None,
) -> list[str]:
    """What a run prints after training (``class_names``: a CSV's labels, which the
    ``Iter:`` lines print the truth by, with a line saying what Predict is).

    Without a test set, the lab's lines: one ``Iter:`` line per sample (the
    probability of class 1, or a regression's value; skipped for more than two
    classes) and ``loss=... accuracy=...%`` (``loss=... r2=...`` for a regression,
    ``r2`` given). With one, a ``train:`` and a ``test:`` summary (``test`` is
    ``(loss, accuracy, predictions)``, then the R² for a regression).
    """
    from proplab.losses import softmax
    from proplab.train_text import format_prediction_lines, format_summary_line

    if test is not None:
        test_r2 = test[3] if len(test) > 3 else None
        return [
            f"train: {format_summary_line(loss, acc, r2)}",
            f"test: {format_summary_line(float(test[0]), float(test[1]), test_r2)}",
        ]
    lines = []
    names = class_names if class_names is not None and len(class_names) == 2 else None
    # a large file's rows: the first ones only (a 50 000-row file printed 50 000 lines)
    rows = len(pred) if len(pred) <= ITER_LINES_MAX else ITER_LINES_SHOWN
    if pred.shape[-1] == 1:
        lines = format_prediction_lines(pred[:rows], y[:rows], names)
    elif pred.shape[-1] == 2 and y.shape[-1] == 1:
        with np.errstate(all="ignore"):  # logits blown up by the last step: NaN, no warning
            lines = format_prediction_lines(softmax(pred[:rows])[..., 1:], y[:rows], names)
    if lines and rows < len(pred):
        lines.append(
            f"... {len(pred) - rows:,} more rows not shown (proplab predict RUN --data FILE "
            "writes every row's prediction)"
        )
    if lines and names is not None:  # csv18: "Ground truth: 0" for a file's "no"
        lines.insert(0, f"(Predict: the probability of {names[1]!r}; {names[0]!r} below 0.5)")
    return [*lines, format_summary_line(loss, acc, r2)]


# proplab train prints an Iter: line for every row up to ITER_LINES_MAX rows (the lab's
# 21 and 100, digits' 1 797), and the first ITER_LINES_SHOWN of a larger file
ITER_LINES_MAX = 2000
ITER_LINES_SHOWN = 20
