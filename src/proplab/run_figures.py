"""A run folder's figures, drawn from the trained model, its history and its data.

:func:`~proplab.experiments.run_one` draws them as the run finishes, and
:func:`~proplab.experiments.write_run_figures` later from the saved files (a sweep's
runs train without them). The lab's two (:func:`lab_figures`: comparison.png and
learning_curve.png), the boundary as it forms (:func:`boundary_during_training`),
each layer's gradient (:func:`gradients_figure`) and, beyond the lab
(:func:`write_figures`), a decision boundary, a confusion matrix or digits'
predictions. A regression's show values instead of classes
(:mod:`proplab.value_plots`).

matplotlib is imported only inside the functions that draw (it costs ~0.2 s, which
a sweep's training workers need not pay); a figure that fails is a warning, never a
lost run (:func:`draw_figure`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from proplab.config import RunConfig, build_model, is_mini_batch, network_label
from proplab.data import LAB_DATASETS
from proplab.dataload import (
    CONFUSION_MATRIX,
    DECISION_BOUNDARY,
    DIGITS,
    PREDICTIONS,
    csv_summary,
    is_regression_run,
)
from proplab.history import History
from proplab.metrics import r2_score
from proplab.scoring import accuracy
from proplab.snapshots import LEVELS

COMPARISON = "comparison.png"
LEARNING_CURVE = "learning_curve.png"
BOUNDARY_DURING_TRAINING = "boundary_during_training.png"
GRADIENTS_FIGURE = "gradients.png"


def draw_figure(path: Path, draw: Callable[[Path], Any]) -> bool:
    """``draw(path)``; on failure warn on stderr naming the figure and return False.

    A figure is a view of a finished run: matplotlib failing on it (finite but
    extreme data, ~1e308, overflows its tick and layout arithmetic) must not
    cost the run its summary.json, which is written after the figures.
    """
    try:
        with np.errstate(all="ignore"):  # such data overflows numpy too: the line below says it
            draw(path)
    except Exception as exc:  # whatever matplotlib raises; Ctrl-C still stops the run
        print(
            f"warning: figure {path} not drawn ({type(exc).__name__}: {exc}); "
            "the run's other files are complete",
            file=sys.stderr,
        )
        return False
    return True


def describe(cfg: RunConfig, n_in: int | str = "in", n_out: int | str = "out") -> str:
    """``2-10-10-1 sigmoid, mse, sgd lr=1``: a short title for figures and logs."""
    arch = network_label(cfg, n_in, n_out)
    extras = (
        (", standardised inputs" if cfg.standardize else "")
        + (", batchnorm" if cfg.batchnorm else "")
        + (f", dropout {cfg.dropout:g}" if cfg.dropout else "")
    )
    return f"{arch} {cfg.activation}{extras}, {cfg.loss}, {cfg.optimizer} lr={cfg.lr:g}"


def lab_figures(
    run_dir: Path,
    cfg: RunConfig,
    history: History,
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    acc: float | None,
    test_acc: float | None = None,
    *,
    r2: float | None = None,
    test_r2: float | None = None,
    y_test: np.ndarray | None = None,
    pred_test: np.ndarray | None = None,
    test_curve: tuple[list[int], np.ndarray] | None = None,
) -> None:
    """The lab's two figures: comparison (two classes only) and learning curve.

    With a held-out set (``cfg.test_fraction``), ``acc`` and the history's
    accuracy are the training data's, and the figures say so (``test_acc``:
    the held-out accuracy, None after divergence).

    A regression (:func:`~proplab.is_regression_run`) gets them with values
    instead of classes: ``r2`` and ``test_r2`` (None after divergence) in the titles; for
    two inputs the comparison's points coloured by value on one scale for the run (the
    largest |target| of ``y`` and ``y_test``), for others each prediction against its
    target (the held-out ones, ``pred_test`` against ``y_test``, marked apart); and a
    learning curve of the loss alone, with the test loss ``test_curve`` (``(epochs,
    losses)``: after that many epochs) beside it."""
    from proplab import plots  # matplotlib is slow to import; only runs need it

    held_out = cfg.test_fraction > 0
    # a CSV file by its name, as in the run's other figures: a whole path is one "word" the
    # title cannot wrap, and ran off both edges of the learning curve
    name = Path(str(cfg.dataset).strip()).stem
    label = f"{name}: {describe(cfg, x.shape[-1], pred.shape[-1])}"
    regression = is_regression_run(cfg)
    # a CSV's column names for the comparison's axes (others' inputs are x1, x2, ...)
    names = csv_summary(cfg).get("features")
    if regression:
        _value_comparison(run_dir, x, y, pred, label, r2, test_r2, y_test, pred_test, names)
    elif pred.shape[-1] <= 2:  # two classes (two logits: the arg-max is the class)
        # a diverged run has no accuracy; when its final predictions are numbers still,
        # the figure shows them, so the title says that is what they are (diverge18: "n/a"
        # beside "misclassified (10 of 21)")
        finite = bool(np.isfinite(pred).all())
        shown = (
            f"{100 * acc:.4g}%"
            if acc is not None
            else "n/a (diverged; the final model's predictions shown)"
            if finite
            else "n/a (diverged)"
        )
        if held_out and acc is not None and test_acc is not None:
            shown = f"{shown} (training data; test {100 * test_acc:.4g}%)"
        # two logits: the arg-max, unless a logit is NaN/inf (a diverged model: no class)
        shown_pred = (
            pred
            if pred.shape[-1] == 1
            else np.where(np.isfinite(pred).all(-1), pred.argmax(-1), np.nan)
        )
        title = f"{label}, accuracy {shown}"
        draw_figure(
            run_dir / COMPARISON,
            lambda path: plots.comparison_figure(
                x,
                y,
                shown_pred,
                path,
                title=title,
                feature_names=names,
                class_names=csv_summary(cfg).get("classes"),
            ),  # fmt: skip
        )
    accuracy_label = None if regression else "training accuracy" if held_out else "accuracy"
    # how fit measured the history's loss and accuracy, where that is not the model's own
    # score at one set of weights: a mini-batch epoch's are the mean over its batches while
    # the weights moved (its first is not the first weights' loss); with dropout they are
    # taken with units dropped, so the curve can sit above the test loss (none dropped)
    notes = ["mean over each epoch's batches"] if is_mini_batch(cfg, len(x)) else []
    training_note = "; ".join(notes + (["dropout on"] if cfg.dropout else []))
    draw_figure(
        run_dir / LEARNING_CURVE,
        lambda path: plots.learning_curve(
            history,
            path,
            title=label,
            accuracy_label=accuracy_label,
            test_loss=test_curve,
            held_out=held_out,
            training_note=training_note,
        ),
    )


def _value_comparison(
    run_dir: Path,
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    label: str,
    r2: float | None,
    test_r2: float | None,
    y_test: np.ndarray | None,
    pred_test: np.ndarray | None,
    names: list[str] | None = None,
) -> None:
    """A regression's comparison.png (see :func:`lab_figures`; ``names``: the inputs'
    names for the axes, a CSV's columns)."""
    from proplab import value_plots  # matplotlib is slow to import; only runs need it

    shown = value_plots.r2_text(r2)
    if y_test is not None and r2 is not None:
        shown = f"{shown} (training data; test R² {value_plots.r2_text(test_r2)})"
    title = f"{label}, R² {shown}"
    if x.shape[-1] == 2:  # the inputs' plane, the points coloured by value
        limit = value_plots.value_limit(y, y_test)  # one colour scale for the run's figures
        draw = functools.partial(
            value_plots.value_comparison_figure, x, y, pred, title=title, limit=limit,
            feature_names=names,
        )  # fmt: skip
    else:  # no plane shows them: each prediction against its target
        draw = functools.partial(
            value_plots.predicted_vs_target_figure, y, pred, title=title, y_test=y_test,
            pred_test=pred_test,
        )  # fmt: skip
    draw_figure(run_dir / COMPARISON, lambda path: draw(path=path))


def boundary_during_training(
    run_dir: Path,
    cfg: RunConfig,
    x: np.ndarray,
    y: np.ndarray,
    snapshots: dict[int, dict[str, np.ndarray]],
    picked_by_loss: bool,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> None:
    """The decision boundary at each snapshot epoch, side by side (2-D inputs, one output).

    ``picked_by_loss``: the epochs are where the loss made shares of its fall
    (:func:`~proplab.snapshots.pick_epochs`), which the title says; a mini-batch run's
    are picked from the full-batch loss of the kept weights
    (:func:`~proplab.snapshots.pick_kept_epochs`), and its title says so. A regression's
    shows its predicted value instead, each panel titled with the training R² (and
    the test R², given ``x_test`` and ``y_test``), on the run's colour scale."""
    from proplab import sweep_boundaries, value_plots  # matplotlib: only runs need it
    from proplab.plots import input_axis_labels

    regression = is_regression_run(cfg)
    name = Path(str(cfg.dataset)).stem  # a CSV file by its name, not its whole path
    columns = csv_summary(cfg).get("features")
    # a CSV's two columns name the axes (and, in units of their own, get square panels)
    names = input_axis_labels(columns, 2) if columns and len(columns) == 2 else None
    classes = csv_summary(cfg).get("classes")  # a CSV's labels: P(yes), not P(class 1)

    # with a held-out set the panels' scores are the training data's, and say so (as the
    # comparison's title and the learning curve's labels do)
    held_out = cfg.test_fraction > 0

    def score(model: Any) -> str:
        """A panel's second line: how well the model at those weights does."""
        if not regression:
            shown = f"{100 * accuracy(model.forward(x), y):.1f} %"
            return f"training accuracy {shown}" if held_out else shown
        text = f"R² {value_plots.r2_text(float(r2_score(model.forward(x), y)))}"
        if x_test is not None and y_test is not None:
            text = f"training {text}"
            text += (
                f"\ntest R² {value_plots.r2_text(float(r2_score(model.forward(x_test), y_test)))}"
            )
        return text

    def draw(path: Path) -> None:
        # all of it inside draw_figure: extreme data (1e308) overflows the grid itself
        u, v, points = sweep_boundaries.boundary_grid(x)
        model = build_model(cfg, x.shape[-1], 1, samples=x.shape[0]).eval()  # predicting
        panels = []
        for epoch, state in sorted(snapshots.items()):
            model.load_state_dict(state)
            grid = model.forward(points).reshape(v.size, u.size)
            # weights after `epoch` updates: history.csv's row epoch + 1 (its loss and
            # accuracy are measured before each epoch's update)
            panels.append(
                (f"after {epoch:,} epoch{'' if epoch == 1 else 's'}\n{score(model)}", grid)
            )
        picked = "\n" + _picked_how(is_mini_batch(cfg, len(x))) if picked_by_loss else ""
        if regression:
            title = f"{name}: the predicted value as it forms (samples: their target)"
            value_plots.value_maps(
                [value_plots.ValuePanel(t, u, v, grid, x, y, axis_names=names) for t, grid in panels],
                path,
                title=title + picked, limit=value_plots.value_limit(y, y_test),
            )  # fmt: skip
        else:
            # a class named '$5' or 'a$b$' is text, not matplotlib's mathtext
            p = sweep_boundaries.probability_label(classes).replace("$", r"\$")
            title = f"{name}: the decision boundary as it forms ({p}; black line: 0.5)"
            sweep_boundaries.decision_boundaries(
                [[
                    sweep_boundaries.BoundaryPanel(
                        name, u, v, grid, x, y, axis_names=names, classes=classes
                    )
                    for name, grid in panels
                ]],
                path, title=title + picked,
            )  # fmt: skip

    draw_figure(run_dir / BOUNDARY_DURING_TRAINING, draw)


def _picked_how(mini_batch: bool = False) -> str:
    """The boundary-during-training title's line on how its epochs were picked (a
    ``mini_batch`` run's: from the full-batch loss of the kept weights, not the
    learning curve's mean over the batches)."""
    levels = ", ".join(f"{100 * level:g}" for level in LEVELS)
    loss = "the full-batch loss" if mini_batch else "the loss"
    return f"at the start, where {loss} had made {levels} % of its fall, and the end"


def gradients_figure(run_dir: Path, cfg: RunConfig, csv_path: Path) -> None:
    """gradients.png from ``csv_path`` (the run's gradients.csv): each layer's mean
    |dL/dW| as the run trained."""
    from proplab import plots  # matplotlib is slow to import; only runs need it
    from proplab.runio import read_csv

    rows = read_csv(csv_path)
    layers = [name for name in rows[0] if name != "epoch"] if rows else []
    epochs = np.array([int(r["epoch"]) for r in rows])
    sizes = np.array([[float(r[layer]) for layer in layers] for r in rows])
    title = (
        f"{Path(str(cfg.dataset)).stem}: how large each layer's weight gradient is as it trains "
        f"({cfg.activation}; full batch, at the kept weights)"
    )
    draw_figure(
        run_dir / GRADIENTS_FIGURE,
        lambda path: plots.gradient_sizes_figure(epochs, sizes, layers, path, title=title),
    )


def write_figures(
    run_dir: Path,
    cfg: RunConfig,
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
    *,
    diverged: bool = False,
) -> None:
    """Figures beyond the lab's: a decision boundary for 2-D inputs (zoo sets, CSV
    files), a regression's predicted value instead (:func:`draw_value_map`; not after
    it ``diverged``: its finite but huge values would paint one end colour); for more
    than two classes a confusion matrix, and for digits a grid of predictions (on the
    test set when there is one)."""
    from proplab import zoo_plots
    from proplab.metrics import confusion_matrix, labels_of, predicted_labels

    with np.errstate(all="ignore"):
        pred = model.forward(x)
    if not np.all(np.isfinite(pred)):  # diverged: nothing meaningful to draw
        return
    name = Path(str(cfg.dataset)).stem
    if is_regression_run(cfg):
        if x.shape[-1] == 2 and not diverged:  # a plane of two inputs to map the value on
            draw_value_map(
                run_dir, name, model, x, y, x_test, y_test, csv_summary(cfg).get("features")
            )
        return
    # a CSV's labels by name, in the order of its outputs (summary.json's classes): its
    # figures said 0, 1, 2, and a file labelled 2, 9, 10 read as a false "2"
    classes = csv_summary(cfg).get("classes")
    # the lab's own runs keep the lab's files (comparison figure, learning curve)
    if x.shape[-1] == 2 and name.lower() not in LAB_DATASETS:
        draw_figure(
            run_dir / DECISION_BOUNDARY,
            lambda path: zoo_plots.decision_boundary(
                model.forward,
                x,
                y,
                path,
                title=f"{name}: decision boundary",
                x_test=x_test,
                y_test=y_test,
                feature_names=csv_summary(cfg).get("features"),
                class_names=classes,
            ),
        )
    # x_test and y_test: both arrays, or both None (holdout)
    shown_x, shown_y = (x, y) if x_test is None or y_test is None else (x_test, y_test)
    shown_pred = model.forward(shown_x)
    part = "training set" if x_test is None else "test set"
    if shown_pred.shape[-1] > 2:
        truth, guess = labels_of(shown_y), predicted_labels(shown_pred)
        matrix = confusion_matrix(truth, guess, shown_pred.shape[-1])
        acc = np.trace(matrix) / matrix.sum()
        draw_figure(
            run_dir / CONFUSION_MATRIX,
            lambda path: zoo_plots.confusion_matrix_figure(
                matrix,
                path,
                title=f"{name}, {part}: accuracy {100 * acc:.2f}%",
                class_names=classes,
            ),
        )
        if str(cfg.dataset).strip().lower() == DIGITS:
            mistakes = f"{int(np.sum(truth != guess))} mistakes of {len(truth)}"
            draw_figure(
                run_dir / PREDICTIONS,
                lambda path: zoo_plots.digit_predictions_figure(
                    shown_x,
                    truth,
                    guess,
                    path,
                    title=f"digits, {part}: {mistakes} (mistakes first, in red)",
                ),
            )


def draw_value_map(
    run_dir: Path,
    name: str,
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
    feature_names: list[str] | None = None,
) -> bool:
    """A regression's decision_boundary.png: its predicted value over the plane, the
    samples on top, titled with the training (and test) R² (axes named by
    ``feature_names``, a CSV's columns, when given).

    The file keeps the classification runs' name: it is the same view of the model
    (its output over the inputs), every run folder has it under one name, and its
    title says what it shows. ``x`` ``(n, 2)``, ``y`` ``(n, 1)`` target values."""
    from proplab import value_plots

    score = f"training R² {value_plots.r2_text(float(r2_score(model.forward(x), y)))}"
    if x_test is not None and y_test is not None:
        score += f", test R² {value_plots.r2_text(float(r2_score(model.forward(x_test), y_test)))}"
    return draw_figure(
        run_dir / DECISION_BOUNDARY,
        lambda path: value_plots.value_map(
            model.forward, x, y, path, title=f"{name}: the predicted value\n{score}",
            x_test=x_test, y_test=y_test, feature_names=feature_names,
        ),
    )  # fmt: skip
