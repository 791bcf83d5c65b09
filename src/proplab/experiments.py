"""Run one configuration into a run folder: everything needed to rerun it, and its results.

A run folder holds (:data:`RUN_OUTPUTS` names every file; a rerun clears them all)::

    config.json       {"config": RunConfig.to_dict(), "versions": {...}, "platform": "...",
                       "blas_threads": N, and "data": for a CSV dataset {"file": path,
                       "bytes": size, "sha256": hex digest}, else {"arrays": {"x": {"shape",
                       "dtype", "sha256"}, "y": ..., and x_test, y_test with a test share}}}
    history.csv       epoch, loss, accuracy, wall_time (one row per epoch run)
    model.npz         weights + architecture (proplab.load, allow_pickle=False)
    comparison.png    "Ground truth" vs "Predict result" (a regression of other than 2
                      inputs: each prediction against its target)
    learning_curve.png
    boundary_during_training.png   (2 inputs, one output) P(class 1) at six epochs
                      (a regression's: its predicted value)
    gradients.csv     (2 inputs, one output, not diverged) each layer's mean |dL/dW| at
                      the kept weights
    gradients.png     those against epoch
    test_loss.csv     a regression run with a test share: the test loss at the kept weights
    predictions.txt   ``proplab lab``'s runs: the per-sample lines it printed
    decision_boundary.png   a 2-input dataset other than the lab's (a regression's: its
                      predicted value over the plane)
    confusion_matrix.png    more than 2 outputs (classes); predictions.png: the digits,
                      mistakes first
    summary.json      final metrics; written LAST and only for a finished run
    interrupted.json  instead of summary.json for a run stopped by Ctrl-C (below)

The figures are drawn by :mod:`proplab.run_figures`.

A finished run is one that completed its epochs, converged (``tol``) or
diverged: rerunning it would give the same result, so a resumed sweep may skip
it. A run stopped by Ctrl-C writes everything it has but ``interrupted.json``
(same content as a summary) *instead of* ``summary.json``, so a resumed sweep
redoes it; :func:`run_one` then re-raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import functools
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proplab import data as datasets
from proplab import dataload, models
from proplab.checks import did_you_mean
from proplab.config import (
    ConfigError,
    RunConfig,
    check_batches,
    data_rng,
    is_mini_batch,
    weight_decay_divergence_note,
)
from proplab.datapath import data_file, from_record
from proplab.history import History
from proplab.metrics import r2_score
from proplab.progress import PROGRESS_SECONDS, ProgressBar
from proplab.run_figures import (
    BOUNDARY_DURING_TRAINING,
    COMPARISON,
    GRADIENTS_FIGURE,
    LEARNING_CURVE,
    boundary_during_training,
    describe,
    gradients_figure,
    lab_figures,
    write_figures,
)
from proplab.run_parts import build_run_parts
from proplab.runio import (
    ensure_writable_dir,
    format_column,
    read_json,
    uninterrupted,
    write_columns_csv,
    write_json,
    write_text,
)
from proplab.scoring import are_class_targets, evaluate
from proplab.serialize import save
from proplab.snapshots import (
    GRADIENT_WORK,
    KEPT,
    GradientSizes,
    Snapshots,
    gradient_sizes,
    kept_epochs,
    loss_falls,
    losses_at,
    zero_from,
)
from proplab.threads import blas_threads, blas_threads_for_a_run
from proplab.train import EpochCallback, last_update_diverged

CONFIG = "config.json"
HISTORY = "history.csv"
MODEL = "model.npz"
GRADIENTS = "gradients.csv"
TEST_LOSS = "test_loss.csv"  # a regression's held-out loss as it trained (the learning curve's)
SUMMARY = "summary.json"
# the lab runs' per-sample lines as printed (Iter: i | Ground truth: g | Predict: p, then
# loss=... accuracy=...%): the handout's output, kept for the report
LAB_PREDICTIONS = "predictions.txt"
INTERRUPTED = "interrupted.json"
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "wall_time")
# every file a run writes into its folder (a rerun clears them all, and nothing else)
RUN_OUTPUTS = (
    CONFIG, HISTORY, MODEL, COMPARISON, LEARNING_CURVE, BOUNDARY_DURING_TRAINING, GRADIENTS,
    GRADIENTS_FIGURE, TEST_LOSS, SUMMARY, INTERRUPTED, LAB_PREDICTIONS,
    dataload.DECISION_BOUNDARY, dataload.CONFUSION_MATRIX, dataload.PREDICTIONS,
)  # fmt: skip

Log = Callable[[str], Any]


def _silent(_line: str) -> None:
    """A log that drops every line (a quiet run)."""


def _generate_linear(cfg: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    dataload.check_generated_size(cfg)  # --n 1e12: a ConfigError, not a MemoryError
    try:
        return datasets.generate_linear(cfg.n, rng=data_rng(cfg))
    except MemoryError:  # where the OS does not report its memory
        raise ConfigError(dataload.too_many_samples(cfg.n)) from None


# dataset name -> loader(cfg) -> (x, y). Generated data is drawn with the run's seed.
DATASETS: dict[str, Callable[[RunConfig], tuple[np.ndarray, np.ndarray]]] = {
    "linear": _generate_linear,
    "xor": lambda cfg: datasets.generate_xor_easy(),
}


def load_dataset(cfg: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` for ``cfg.dataset``: inputs ``(n, features)``, labels ``(n, 1)``."""
    loader = DATASETS.get(str(cfg.dataset).strip().lower())
    if loader is None:
        named = dataload.load_named(cfg)  # the zoo, digits, a CSV file
        if named is not None:
            return named
        known = [*DATASETS, *dataload.ALL_ZOO, dataload.DIGITS, dataload.DIABETES]
        raise ConfigError(
            f"dataset: unknown dataset {cfg.dataset!r} (accepted: {', '.join(DATASETS)}, "
            f"{', '.join(dataload.ALL_ZOO)}, digits, diabetes, or a path to a .csv file)"
            + _dataset_hint(cfg.dataset, known)
        )
    return loader(cfg)


def _dataset_hint(name: object, known: list[str]) -> str:
    """The end of the unknown-dataset message: a name that asks for a regression
    ("linear_regression") gets the regression sets, not the nearest name ('linear' is a
    classification set); any other name the nearest accepted one."""
    if "regress" in str(name).lower():
        regression = [*dataload.REGRESSION_ZOO, dataload.DIABETES]
        return f"; the regression sets are {', '.join(map(repr, regression))}"
    return did_you_mean(name, known)


def check_available(cfg: RunConfig) -> None:
    """Fail early, with a clear message, for a model this installation cannot build."""
    if cfg.model == "conv" and not hasattr(models, "conv_net"):
        raise ConfigError(
            "model: 'conv' is not available in this installation "
            "(proplab.models.conv_net is missing; accepted: mlp)"
        )


def versions() -> dict[str, str]:
    """Versions that affect results: Python, NumPy, proplab (and matplotlib for figures)."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    # looked up once per process, matplotlib's from the package metadata: a
    # training worker that draws no figure need not import it (~0.2 s)
    import importlib.metadata

    import proplab

    try:
        matplotlib = importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:
        matplotlib = "not installed"
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "proplab": proplab.__version__,
        "matplotlib": matplotlib,
    }


def read_run_config(run_dir: str | Path) -> RunConfig:
    """The :class:`RunConfig` stored in a run folder's ``config.json`` (validated); a CSV
    dataset is located at the file the run recorded (a :class:`~proplab.datapath.DataPath`)
    while that file exists, so the run's data is found from any folder.

    Raises ConfigError, naming the file, for a folder without ``config.json``, a file
    that is not the JSON :func:`run_one` writes, a configuration with keys this
    proplab does not know (a newer version's, say) or with invalid values.
    """
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such file; {run_dir} is not a run folder (run_one writes {CONFIG} "
            "into every run folder first)"
        )
    try:
        stored = read_json(path)
    except (ValueError, OSError) as exc:  # bad JSON, not UTF-8 text, unreadable
        raise ConfigError(f"{path}: not a readable run configuration ({exc})") from None
    values = stored.get("config") if isinstance(stored, dict) else None
    if not isinstance(values, dict):
        raise ConfigError(
            f'{path}: not a run configuration (expected {{"config": {{...RunConfig fields}}, '
            f'"versions": ...}}, got {type(stored).__name__}'
            + (f" with keys {sorted(stored)}" if isinstance(stored, dict) else "")
            + ")"
        )
    written_by = stored.get("versions", {}) if isinstance(stored.get("versions"), dict) else {}
    try:
        cfg = RunConfig.from_dict(values, source=str(path)).validate()
        if dataload.is_csv(cfg.dataset):  # the recorded file, from whatever folder (csv23 M3)
            cfg = cfg.replace(dataset=from_record(cfg.dataset, stored.get(DATA), run_dir))
        return cfg
    except ConfigError as exc:
        import proplab

        message = str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
        version = written_by.get("proplab")
        if version is not None and version != proplab.__version__:
            message += f" (written by proplab {version}; this is proplab {proplab.__version__})"
        raise ConfigError(message) from None
    except TypeError as exc:  # from_dict of a key the dataclass cannot take
        raise ConfigError(f"{path}: not a run configuration ({exc})") from None


def run_one(
    cfg: RunConfig,
    run_dir: Path,
    *,
    log: Log = print,
    quiet: bool = False,
    progress: bool = True,
    figures: bool = True,
    callback: EpochCallback | None = None,
) -> dict[str, Any]:
    """Train ``cfg`` and write its run folder; return the summary (as in summary.json).

    Args:
        log: where the lab's lines go (``epoch E loss : L``, one ``Iter:`` line
            per sample, ``loss=... accuracy=...%``).
        quiet: print nothing (sweeps).
        progress: show a progress bar on stderr when it is a terminal.
        figures: draw the run's PNG figures (sweeps skip them: matplotlib costs
            more than training a stacked run; :func:`write_run_figures` draws
            them later from the saved files).
        callback: also called as ``callback(epoch, history)`` by :func:`~proplab.train.fit`
            (every 100 epochs and at the end; a sweep's progress and stop request).

    Raises:
        ConfigError: an invalid configuration (before anything is written).
        OutputDirError: ``run_dir`` cannot be written (before training).
        KeyboardInterrupt: after Ctrl-C, once the partial run is saved with
            ``interrupted.json`` instead of ``summary.json``.
    """
    if not isinstance(cfg, RunConfig):
        raise TypeError(
            f"run_one takes a RunConfig, got {type(cfg).__name__} {cfg!r}: e.g. "
            'run_one(RunConfig(dataset="xor"), "runs/xor")'
        )
    # the CLI's BLAS threads, so a run repeated from Python gives the CLI run's bits
    with blas_threads_for_a_run():
        return _run_one(cfg, run_dir, log, quiet, progress, figures, callback)


def _run_one(
    cfg: RunConfig,
    run_dir: Path,
    log: Log,
    quiet: bool,
    progress: bool,
    figures: bool,
    extra_callback: EpochCallback | None = None,
) -> dict[str, Any]:
    cfg, prep = prepare_run(cfg)
    x, y = prep.x, prep.y
    # build before touching the folder: an impossible model (conv geometry) writes nothing
    parts = build_run_parts(cfg, prep)
    model, loss_fn = parts.model, parts.loss_fn
    run_dir = start_run_dir(cfg, run_dir, prep)

    bar = ProgressBar(cfg.epochs, desc=cfg.dataset, enabled=None if progress else False)
    say: Log | None = None if quiet else bar.wrap_log(log)
    callback = bar.fit_callback() if bar.enabled else None
    if extra_callback is not None:
        callback = _both(callback, extra_callback)
    if not quiet:  # a sweep has its own ETA
        note = bar.wrap_log(lambda line: print(f"proplab train: {line}", file=sys.stderr))
        callback = _both(callback, _pace_note(cfg, note, rows=x.shape[-2]))
    callback_every = 100
    snapshots = None
    shows_boundary = x.shape[-1] == 2 and prep.n_out == 1
    # a regression's test loss at the kept weights: the learning curve shows it beside
    # the training loss (where they part, the model starts to overfit), for any inputs
    tests_as_it_trains = prep.x_test is not None and dataload.is_regression_run(cfg)
    if figures and (shows_boundary or tests_as_it_trains):
        # the weights every ~1/200 of the run, to show the decision boundary as it
        # forms at the epochs the loss curve picks; ~200 copies of a lab model are
        # ~0.2 MB, a wide one keeps fewer (~32 MB in all, but at least 10 copies)
        size = max(1, sum(p.data.size for p in model.parameters()))
        most = min(KEPT, max(10, 4_000_000 // size))
        snapshots = Snapshots(model, kept_epochs(cfg.epochs, most=most))
        snapshots.take(0)
        callback, callback_every = snapshots.hook(callback), snapshots.every
    history = parts.fit(
        cfg.epochs,
        print_every=cfg.print_every,
        log=say or _silent,
        callback=callback,
        callback_every=callback_every,
        # a few slow epochs (100 000 rows in mini-batches) still move the bar
        callback_seconds=PROGRESS_SECONDS,
    )
    # training has returned: a Ctrl-C from here on waits for the run to be written
    # (the kept weights' gradients and test losses are part of it)
    with uninterrupted():
        bar.close()
        gradients = test_curve = shown = None
        picked_by_loss = loss_falls(history.loss)
        if snapshots is not None:
            snapshots.take(history.epochs_run)  # the final weights (training may stop early)
            if shows_boundary and history.stop_reason != "diverged":
                # the kept weights again, each through one full-batch backward: at most a tenth
                # of the training's own passes (and GRADIENT_WORK samples in all)
                passes = max(2, history.epochs_run // 10)
                work = min(GRADIENT_WORK, passes * len(x))
                gradients = gradient_sizes(model, loss_fn, x, y, snapshots.states, work=work)
            if gradients is not None and is_mini_batch(cfg, len(x)):
                # a mini-batch history's loss is a mean over batches while the weights
                # moved: pick where the kept weights' own (full-batch) loss fell instead
                shown = snapshots.shown(gradients.losses, gradients.epochs)
                picked_by_loss = loss_falls(gradients.losses)
            elif shows_boundary:
                shown = snapshots.shown(history.loss)
            x_test, y_test = prep.x_test, prep.y_test  # both arrays, or both None (holdout)
            if tests_as_it_trains and x_test is not None and y_test is not None:
                test_curve = losses_at(model, loss_fn, x_test, y_test, snapshots.states)
        return finish_run(
            cfg,
            run_dir,
            model,
            loss_fn,
            history,
            prep,
            say,
            figures=figures,
            snapshots=shown,
            gradients=gradients,
            test_curve=test_curve,
            picked_by_loss=picked_by_loss,
        )


# a run whose training would take longer than this at its first seconds' pace says so
SLOW_RUN_SECONDS = 300.0
PACE_AFTER_SECONDS = 2.0  # judged once, after this much training


MINI_BATCH = 256  # the batch size the note suggests: on fewer rows it changes nothing


def _pace_note(cfg: RunConfig, note: Callable[[str], Any], rows: int) -> EpochCallback:
    """A fit callback that, once training has run :data:`PACE_AFTER_SECONDS`, tells
    ``note`` how long the run will take if that is over :data:`SLOW_RUN_SECONDS` (the lab's
    20 000 full-batch epochs of a 200 000-row file: an hour, with nothing said; scale19).
    Mini-batches are suggested only for more than :data:`MINI_BATCH` training ``rows``:
    `proplab lab --epochs 1e308` on 21 rows was told of a --batch-size it has no flag for
    and of "a large file" (cli20 L8)."""
    judged = False

    def callback(epoch: int, history: History) -> None:
        nonlocal judged
        if judged or not history.wall_time or history.wall_time[-1] < PACE_AFTER_SECONDS:
            return
        judged = True
        each = history.wall_time[-1] / epoch
        total = each * cfg.epochs
        if total <= SLOW_RUN_SECONDS:
            return
        if rows <= MINI_BATCH:
            faster = "fewer --epochs finish sooner"
        elif cfg.batch_size is None:
            faster = (
                f"mini-batches (--batch-size {MINI_BATCH}) and fewer --epochs train a large "
                "file faster"
            )
        else:
            faster = "fewer --epochs train a large file faster"
        note(
            f"at this pace the {cfg.epochs:,} epochs take about {round(total / 60):,} min "
            f"({each:.3g} s each); Ctrl-C stops and keeps the run so far, and {faster}"
        )

    return callback


def _both(first: EpochCallback | None, second: EpochCallback) -> EpochCallback:
    """One fit callback calling ``first`` (if any), then ``second``."""
    if first is None:
        return second

    def callback(epoch: int, history: History) -> None:
        first(epoch, history)
        second(epoch, history)

    return callback


def prepare_run(cfg: RunConfig) -> tuple[RunConfig, dataload.Prepared]:
    """The validated config and its training/test data, before anything is written."""
    cfg = cfg.validate()
    check_available(cfg)
    x, y = load_dataset(cfg)
    # hold the test share out; shape targets for the loss (logits per class for cross-entropy)
    prep = dataload.prepare(cfg, x, y)
    check_batches(cfg, prep.x.shape[0])  # batchnorm meeting a batch of one sample
    return cfg, prep


DATA = "data"  # config.json's record of the data file a run trained on


def data_record(cfg: RunConfig) -> dict[str, Any] | None:
    """What ``cfg``'s data file holds: ``{"file", "path", "bytes", "sha256"}`` for a CSV
    dataset (``file`` the path as typed, ``path`` the absolute path of the file read), None
    for a generated or built-in one (:func:`data_fingerprint` records those) or a file
    that cannot be read.

    Stored in each run's ``config.json``, so a resumed sweep and ``proplab report`` can
    tell that the file changed after the run trained on it, and a later command run from
    another folder finds it by ``path`` (:func:`proplab.datapath.from_record`; csv23 M3).
    Hashed once per process and file version (path, size, modification time): a sweep's
    runs share one hash.
    """
    if not dataload.is_csv(str(cfg.dataset)):
        return None
    path = data_file(cfg.dataset)
    try:
        stat = path.stat()
        real = path.resolve()
        digest = _sha256(str(real), stat.st_size, stat.st_mtime_ns)
    except OSError:
        return None
    typed = str(cfg.dataset).strip()
    return {"file": typed, "path": str(real), "bytes": stat.st_size, "sha256": digest}


@functools.lru_cache(maxsize=16)
def _sha256(path: str, _size: int, _mtime_ns: int) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


ARRAYS = "arrays"  # config.json's "data" entry of a generated or built-in dataset


def data_fingerprint(prep: dataload.Prepared) -> dict[str, dict[str, Any]]:
    """The arrays a run trained and was tested on, each as ``{"shape", "dtype", "sha256"}``
    (the sha256 of ``np.ascontiguousarray(a).tobytes()``): ``x``, ``y`` (the targets as
    the loss takes them) and, with a test share, ``x_test``, ``y_test``.

    Recorded for generated and built-in datasets (config.json's ``"data": {"arrays":
    ...}``), whose data follow from the config only as long as proplab generates them the
    same way: a later proplab (``proplab verify``) can tell its data differ."""
    arrays = {"x": prep.x, "y": prep.y, "x_test": prep.x_test, "y_test": prep.y_test}
    return {name: _array_record(a) for name, a in arrays.items() if a is not None}


def _array_record(a: np.ndarray) -> dict[str, Any]:
    import hashlib

    a = np.ascontiguousarray(a)
    digest = hashlib.sha256(a.tobytes()).hexdigest()
    return {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": digest}


def start_run_dir(cfg: RunConfig, run_dir: Path, prep: dataload.Prepared | None = None) -> Path:
    """Create (or reuse) the run folder, remove what an earlier run wrote there (files of
    the user's stay) and write ``config.json`` (with the data file's :func:`data_record`
    for a CSV dataset, else the :func:`data_fingerprint` of ``prep``, the run's data:
    rebuilt from ``cfg`` when not given)."""
    run_dir = ensure_writable_dir(run_dir)
    # a rerun must leave nothing of the run before: no summary claiming the new run
    # finished, no figure of another dataset (or of a run that did not diverge)
    for stale in RUN_OUTPUTS:
        (run_dir / stale).unlink(missing_ok=True)
    # and no half-written temporary file of one (runio.atomic_open's ".history.csv.x1y2.tmp"),
    # left behind by a process killed mid-write (a sweep's runs abandoned by a second Ctrl-C)
    partial = tuple(f".{name}." for name in RUN_OUTPUTS)
    for leftover in run_dir.glob(".*.tmp"):
        if leftover.name.startswith(partial):
            leftover.unlink(missing_ok=True)
    record: dict[str, Any] = {
        "config": cfg.to_dict(),
        "versions": versions(),
        "platform": platform.platform(),
        # OpenBLAS rounds large products apart at another thread count
        "blas_threads": blas_threads(),
    }
    data = data_record(cfg)
    if data is not None:  # an edited CSV file must not pass for the one this run used
        record[DATA] = data
    elif not dataload.is_csv(str(cfg.dataset)):
        # nor data another proplab generates differently for the same config (ta23 H2)
        if prep is None:
            prep = prepare_run(cfg)[1]
        record[DATA] = {ARRAYS: data_fingerprint(prep)}
    write_json(run_dir / CONFIG, record)
    return run_dir


BLEW_UP = 1e3  # a final loss this many times the first epoch's: blown up, if finite


def _dead_advice(cfg: RunConfig) -> str:
    """What to try for a run whose weight gradients all became exactly 0."""
    if cfg.output_activation == "relu":
        # no learning rate helps: the output ReLU is 0, slope 0, for every z < 0 from the
        # first epochs on (docs/pitfalls.md, "ReLU on the output layer")
        return (
            "a ReLU output is 0 with slope 0 wherever its input is negative: for 0/1 "
            "targets use a sigmoid output (--output-activation sigmoid)"
        )
    return "try a smaller learning rate"


def _blew_up(losses: Sequence[float | np.ndarray], final_loss: float) -> str | None:
    """The line for a run whose final loss is at least BLEW_UP times its first epoch's
    and still finite (so not called diverged): a ReLU net whose output bias swings wider
    every step reached 3.8e306 and printed only its 52 % accuracy (diverge18)."""
    first = float(losses[0]) if losses else math.nan
    if not (math.isfinite(first) and first > 0 and math.isfinite(final_loss)):
        return None
    if final_loss < BLEW_UP * first:
        return None
    return (
        f"the loss grew from {first:.3g} to {final_loss:.3g} over {len(losses):,} epochs: the "
        "model blew up without overflowing (a loss past inf would be called diverged); try "
        "a smaller learning rate"
    )


def finish_run(
    cfg: RunConfig,
    run_dir: Path,
    model: Any,
    loss_fn: Any,
    history: History,
    prep: dataload.Prepared,
    say: Log | None,
    extra: dict[str, Any] | None = None,
    figures: bool = True,
    snapshots: dict[int, dict[str, np.ndarray]] | None = None,
    gradients: GradientSizes | None = None,
    test_curve: tuple[list[int], np.ndarray] | None = None,
    picked_by_loss: bool | None = None,
) -> dict[str, Any]:
    """Evaluate a trained model and write the rest of its run folder, summary last.

    ``say`` gets the lines a run prints (None: print nothing, and do not even
    format the one line per sample, which on a million samples takes a second).

    Shared by :func:`run_one` and the stacked sweep runner (which trains many
    runs as one stack and then finishes each as if it had run alone).
    ``snapshots`` (epoch -> ``state_dict()``, from :class:`~proplab.snapshots.Snapshots`)
    adds the decision boundary at those epochs to the figures (``picked_by_loss``: they
    were picked where the loss fell, as its title says; None: whether
    ``history.loss`` falls); ``gradients``
    (:func:`~proplab.snapshots.gradient_sizes`) writes ``gradients.csv`` and its figure;
    ``test_curve`` (``(epochs, losses)`` from :func:`~proplab.snapshots.losses_at`, a
    regression's test loss at the kept weights) writes ``test_loss.csv``, which the
    learning curve draws.
    Raises KeyboardInterrupt after saving an interrupted run, and after saving a
    finished one when Ctrl-C came while its files were written (they are written
    whole first: see :func:`~proplab.runio.uninterrupted`).

    The model is put in evaluation mode first (and saved so): training is over, and
    the scores, the figures and ``model.npz`` are its predictions (dropout off,
    batchnorm's running statistics).
    """
    # training is over: a Ctrl-C now waits until the files are written (summary.json
    # last), then stops the caller; otherwise the trained run would be lost
    with uninterrupted():
        model.eval()
        x, y, x_test, y_test = prep.x, prep.y, prep.x_test, prep.y_test
        loss, acc, pred, test, r2 = final_scores(cfg, model, loss_fn, prep)
        if history.stop_reason == "completed" and not np.isfinite(loss):
            # every epoch's loss was finite (if huge), but the last update blew the model up
            history.stop_reason = "diverged"
            history.message = last_update_diverged(history.epochs_run, loss)
        summary = _summary(cfg, history, float(loss), float(acc), model, x)
        if r2 is not None:  # None after divergence, or for a single sample (no variance)
            summary["r2"] = r2 if np.isfinite(loss) and np.isfinite(r2) else None
        summary.update(dataload.test_summary(test, x_test))
        csv_fields = dataload.csv_summary(cfg)
        summary.update(csv_fields)
        if history.stop_reason != "diverged":
            # said on stderr by proplab train, beside the lab's lines (not among them)
            one_class = dataload.one_class_note(pred, y, float(acc), csv_fields.get("classes"))
            if one_class is not None:
                summary["notes"] = [one_class]
        elif (decay := weight_decay_divergence_note(cfg)) is not None:
            summary["notes"] = [decay]  # the knob that was set, beside "a smaller lr"
        summary.update(extra or {})
        if say is None:
            pass
        elif history.stop_reason == "diverged":
            say(history.message)
        else:
            classes = dataload.csv_summary(cfg).get("classes")
            for line in dataload.result_lines(pred, y, float(loss), float(acc), test, r2, classes):
                say(line)
            if history.stop_reason == "interrupted":
                say(f"{history.message}; partial run saved to {run_dir} ({INTERRUPTED})")
            elif history.stop_reason == "converged":
                # the last 'epoch E loss' line is the last multiple of print_every: without
                # this nothing on screen says the run ended before its epochs
                say(f"stopped early: {history.message} (of {cfg.epochs:,} epochs)")
            dead = None if gradients is None else zero_from(gradients.epochs, gradients.sizes)
            if dead is not None:
                # not diverged (every number is finite), yet nothing more can be learnt
                # ({GRADIENTS} holds the weights' gradients: a bias may still move)
                say(
                    f"every weight gradient is exactly 0 at each kept epoch from {dead:,} on "
                    f"({GRADIENTS}): no gradient passes back through the units (saturated, "
                    f"or dead ReLUs), so the weights stopped changing; {_dead_advice(cfg)}"
                )
            blown = _blew_up(history.loss, float(loss))
            if blown and history.stop_reason == "completed":
                say(blown)

        if test_curve is not None:
            write_columns_csv(
                run_dir / TEST_LOSS, {"epoch": test_curve[0], "test_loss": test_curve[1]}
            )
        _write_outputs(
            run_dir, cfg, history, model, x, y, pred, summary, figures, y_test=y_test,
            pred_test=None if test is None else test[2], test_curve=test_curve,
        )  # fmt: skip
        if figures and snapshots and history.stop_reason != "diverged":
            if picked_by_loss is None:
                picked_by_loss = loss_falls(history.loss)
            boundary_during_training(run_dir, cfg, x, y, snapshots, picked_by_loss, x_test, y_test)
        if gradients is not None:
            columns: dict[str, np.ndarray | Sequence[Any]] = {"epoch": gradients.epochs}
            columns.update(
                {layer: gradients.sizes[:, i] for i, layer in enumerate(gradients.layers)}
            )
            write_columns_csv(run_dir / GRADIENTS, columns)
            if figures:
                gradients_figure(run_dir, cfg, run_dir / GRADIENTS)
        if figures:
            diverged = history.stop_reason == "diverged"
            write_figures(run_dir, cfg, model, x, y, x_test, y_test, diverged=diverged)
        if history.stop_reason == "interrupted":
            write_json(run_dir / INTERRUPTED, summary)
            raise KeyboardInterrupt
        write_json(run_dir / SUMMARY, summary)  # last: its presence means "finished"
        return summary


def final_scores(
    cfg: RunConfig, model: Any, loss_fn: Any, prep: dataload.Prepared
) -> tuple[float, float, np.ndarray, tuple[Any, ...] | None, float | None]:
    """The trained ``model``'s scores as summary.json records them: ``(loss, accuracy,
    predictions (n, out), test, r2)`` on ``prep``'s training rows, ``test`` the held-out
    rows' ``(loss, accuracy, predictions[, r2])`` or None. A regression (or targets that are
    values) has accuracy NaN and its R² in ``r2`` (else None). Shared by :func:`finish_run`
    and ``proplab verify`` (:mod:`proplab.verify`), which re-scores a saved model.npz."""
    x, y, x_test, y_test = prep.x, prep.y, prep.x_test, prep.y_test
    with np.errstate(all="ignore"):  # a diverged model predicts NaN; the summary says so
        loss, acc, pred = evaluate(model, loss_fn, x, y)
        # both arrays, or both None (holdout)
        test: tuple[Any, ...] | None = (
            None if x_test is None or y_test is None else evaluate(model, loss_fn, x_test, y_test)
        )
        # a regression (even of 0/1 values, task="regression"), or targets that are values
        # (not classes; a diverged classifier's accuracy is NaN too): R² instead
        r2: float | None = None
        if dataload.is_regression_run(cfg) or not are_class_targets(y, pred.shape[-1]):
            acc, r2 = math.nan, float(r2_score(pred, y))  # one model: one R²
            if test is not None and y_test is not None:
                test = (test[0], math.nan, test[2], r2_score(test[2], y_test))
    return float(loss), float(acc), pred, test, r2


def _summary(
    cfg: RunConfig, history: History, loss: float, acc: float, model: Any, x: np.ndarray
) -> dict[str, Any]:
    finite = bool(np.isfinite(loss))
    wall = history.wall_time[-1] if history.wall_time else 0.0
    return {
        "dataset": cfg.dataset,
        "model": cfg.model,
        "hidden": cfg.hidden,
        "activation": cfg.activation,
        "optimizer": cfg.optimizer,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "epochs": cfg.epochs,
        "epochs_run": history.epochs_run,
        "stop_reason": history.stop_reason,
        "message": history.message,
        # loss/accuracy of the final model on the data (what the last lab line prints);
        # null after divergence, where a NaN prediction's "accuracy" would be meaningless,
        # and for a regression (its R² is "r2")
        "loss": loss if finite else None,
        "accuracy": acc if finite and not np.isnan(acc) else None,
        "n_samples": int(x.shape[0]),
        "n_params": int(sum(p.data.size for p in model.parameters())),
        "wall_time_s": wall,
        "us_per_epoch": 1e6 * wall / history.epochs_run if history.epochs_run else None,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _write_outputs(
    run_dir: Path,
    cfg: RunConfig,
    history: History,
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    summary: dict[str, Any],
    figures: bool = True,
    *,
    y_test: np.ndarray | None = None,
    pred_test: np.ndarray | None = None,
    test_curve: tuple[list[int], np.ndarray] | None = None,
) -> None:
    """Everything but the summary, each file atomically (``y_test``, ``pred_test`` and
    ``test_curve``: for a regression's figures, see :func:`~proplab.run_figures.lab_figures`)."""
    columns: dict[str, Any] = {}
    for name in HISTORY_COLUMNS:
        values = getattr(history, name)
        if name in ("epoch", "wall_time"):
            # the same for every run of a stack (its epochs, its clock): formatted once;
            # the clock to the microsecond, its own resolution and 3x faster than repr
            key = ("history.csv", name, len(values))
            if key not in history.shared:
                history.shared[key] = format_column(
                    np.asarray(values), 6 if name == "wall_time" else None
                )
            columns[name] = history.shared[key]
        elif set(map(type, values)) <= {float}:
            columns[name] = values  # plain Python floats (a stack's replica history): as is
        else:  # NumPy scalars: plain floats first, or repr would write "np.float64(...)"
            columns[name] = np.asarray(values, dtype=np.float64)
    write_columns_csv(run_dir / HISTORY, columns)
    save(model, run_dir / MODEL, metadata={"config": cfg.to_dict()})
    if figures:
        lab_figures(
            run_dir, cfg, history, x, y, pred, summary["accuracy"], summary.get("test_accuracy"),
            r2=summary.get("r2"), test_r2=summary.get("test_r2"), y_test=y_test,
            pred_test=pred_test, test_curve=_test_curve(test_curve, summary),
        )  # fmt: skip


def _test_curve(
    curve: tuple[list[int], np.ndarray] | None, summary: dict[str, Any]
) -> tuple[list[int], np.ndarray] | None:
    """A regression's test loss for its learning curve: ``curve`` (at the kept weights)
    or, without one (a run trained without figures), the final model's from the summary
    alone: one point, after ``epochs_run`` updates. None for a classification."""
    if curve is not None or "r2" not in summary:  # only a regression's summary has "r2"
        return curve
    if summary.get("test_loss") is None:  # no test share, or diverged
        return None
    return [int(summary["epochs_run"])], np.array([float(summary["test_loss"])])


def write_run_figures(run_dir: str | Path) -> None:
    """Draw a finished run's figures from its files (for runs trained without them).

    Rebuilds the data from ``config.json``, reloads ``model.npz`` and reads
    ``history.csv``; writes what :func:`run_one` would have drawn.
    """
    from proplab.runio import read_csv
    from proplab.serialize import load

    run_dir = Path(run_dir)
    cfg, prep = prepare_run(read_run_config(run_dir))
    # a finished run has its summary, one stopped by Ctrl-C the same fields in INTERRUPTED
    done = next((run_dir / f for f in (SUMMARY, INTERRUPTED) if (run_dir / f).is_file()), None)
    missing = [f for f in (MODEL, HISTORY) if not (run_dir / f).is_file()]
    if done is None or missing:
        raise FileNotFoundError(
            f"{run_dir}: cannot draw the figures of a run that has not finished: "
            + (f"no {' or '.join(missing)}" if missing else f"neither {SUMMARY} nor {INTERRUPTED}")
        )
    model = load(run_dir / MODEL)
    rows = read_csv(run_dir / HISTORY)
    history = History(
        epoch=[int(r["epoch"]) for r in rows],
        loss=[float(r["loss"]) for r in rows],
        accuracy=[float(r["accuracy"]) for r in rows],
        wall_time=[float(r["wall_time"]) for r in rows],
    )
    with np.errstate(all="ignore"):
        pred = model.forward(prep.x)
        pred_test = None if prep.x_test is None else model.forward(prep.x_test)
    summary = read_json(done)
    curve = None
    if (run_dir / TEST_LOSS).is_file():  # a regression's test loss at the kept weights
        test_rows = read_csv(run_dir / TEST_LOSS)
        curve = (
            [int(r["epoch"]) for r in test_rows],
            np.array([float(r["test_loss"]) for r in test_rows]),
        )
    lab_figures(
        run_dir, cfg, history, prep.x, prep.y, pred, summary.get("accuracy"),
        summary.get("test_accuracy"), r2=summary.get("r2"), test_r2=summary.get("test_r2"),
        y_test=prep.y_test, pred_test=pred_test, test_curve=_test_curve(curve, summary),
    )  # fmt: skip
    write_figures(
        run_dir, cfg, model, prep.x, prep.y, prep.x_test, prep.y_test,
        diverged=summary.get("stop_reason") == "diverged",
    )  # fmt: skip
    if (run_dir / GRADIENTS).is_file():
        gradients_figure(run_dir, cfg, run_dir / GRADIENTS)


def lab(
    out: str | Path = "runs/lab",
    base: RunConfig | None = None,
    *,
    log: Log = print,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """The lab: train the lab model on ``linear`` and ``xor`` into ``out/<dataset>``.

    ``base`` holds the settings (default: the lab defaults of :class:`RunConfig`).
    Returns ``{dataset: summary}``.
    """
    base = base or RunConfig()
    # every input is checked before the first model trains: the settings (validated
    # before data_rng ever sees the seed) and both output folders
    cfgs = {name: base.replace(dataset=name).validate() for name in datasets.LAB_DATASETS}
    for name in cfgs:
        ensure_writable_dir(Path(out) / name)
    results: dict[str, dict[str, Any]] = {}
    for name, cfg in cfgs.items():
        x, y = load_dataset(cfg)
        arch = describe(cfg, x.shape[-1], y.shape[-1])
        log(f"== {name}: {arch}, {cfg.epochs} epochs, seed {cfg.seed} -> {Path(out) / name}")
        printed: list[str] = []

        def both(line: str, printed: list[str] = printed) -> None:
            printed.append(line)
            log(line)

        results[name] = run_one(cfg, Path(out) / name, log=both, progress=progress)
        # the handout's per-sample listing, as printed: the report shows it (report21 M3)
        write_prediction_listing(Path(out) / name, prediction_listing(printed))
    return results


def prediction_listing(printed: list[str]) -> list[str]:
    """The handout's lines among a run's ``printed`` ones: ``Iter: i | Ground truth: g |
    Predict: p`` per sample, then ``loss=... accuracy=...%``."""
    return [line for line in printed if line.startswith(("Iter: ", "loss="))]


def write_prediction_listing(run_dir: Path, listing: list[str]) -> None:
    """``listing`` (:func:`prediction_listing`) as the run's :data:`LAB_PREDICTIONS`,
    written at once (a Ctrl-C leaves no half a listing for the report to trust), when
    there is one."""
    if listing:
        write_text(run_dir / LAB_PREDICTIONS, "\n".join(listing) + "\n")
