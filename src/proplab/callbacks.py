"""Training beyond ``fit``: validation, early stopping, schedules, convergence warnings.

:func:`train` runs :func:`proplab.train.fit` one epoch at a time and, between
epochs, does what scikit-learn's and Keras's loops do:

- evaluates the validation set (``validation=(x_val, y_val)``);
- steps a learning-rate schedule (``ReduceLROnPlateau`` gets the validation
  loss, or the training loss without a validation set);
- :class:`EarlyStopping`: stops once the validation loss has not improved by
  ``min_delta`` for ``patience`` epochs, and puts back the best weights
  (``state_dict`` / ``load_state_dict``);
- convergence (scikit-learn's rule): without early stopping, training stops
  once the training loss has not improved by ``tol`` for ``n_iter_no_change``
  epochs; if the epochs run out first it warns with :class:`ConvergenceWarning`.

One model only (no replica axes): early stopping and convergence watch one loss.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from proplab.activations import overflow_ignored
from proplab.checks import check_int
from proplab.core import Module
from proplab.history import History, interrupt_cause, interrupted_message
from proplab.interrupts import signals_at_epoch_end
from proplab.losses import Loss
from proplab.optim_base import Optimizer
from proplab.schedules import LRSchedule, ReduceLROnPlateau
from proplab.scoring import as_arrays, evaluate, in_model_dtype
from proplab.train import _check_last_update, fit_without_last_check
from proplab.train_text import format_epoch_line


def _is_real(value: object) -> bool:
    """A real number, not a bool or a string (math.isfinite would raise on those)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


class ConvergenceWarning(UserWarning):
    """Training used every epoch it was given and had not converged."""


@dataclass(repr=False)  # History's one-line repr, not every epoch's values
class TrainHistory(History):
    """:class:`History` plus, per epoch, the validation loss/accuracy and the learning rate.

    ``val_loss`` and ``val_accuracy`` are floats measured after the epoch's update (NaN
    for an epoch that ended before validation: diverged, or Ctrl-C), empty without a
    validation set; ``lr`` is the learning rate the epoch trained with. One entry per
    epoch, as ``loss``.
    """

    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # the epoch whose weights early stopping restored


class EarlyStopping:
    """Watch a value to minimise (the validation loss); keep the best weights.

    ``update(epoch, value, model)`` returns True once ``value`` has failed to
    beat the best so far by more than ``min_delta`` for ``patience`` epochs in
    a row (scikit-learn's documented ``tol`` / ``n_iter_no_change`` rule). Its code
    needs one such epoch more (the count must exceed ``n_iter_no_change``) and counts a
    gain of exactly ``tol`` as improvement: where that extra epoch brings a gain it
    trains on, so the two can stop many epochs apart (losses 1, 1, 1, 1, then 0.5 five
    times, ``patience=3``: here at epoch 4, scikit-learn's code at epoch 9). :meth:`restore`
    then loads the weights of the lowest value seen (copies taken with
    ``model.state_dict()`` at every new minimum).
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        patience = check_int(patience, "patience")
        if not _is_real(min_delta) or not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if not isinstance(restore_best, bool | np.bool_):
            raise ValueError(f"restore_best must be True or False, got {restore_best!r}")
        self.patience, self.min_delta, self.restore_best = (
            int(patience),
            float(min_delta),
            bool(restore_best),
        )
        self.reset()

    def reset(self) -> None:
        """Forget every value and weight seen (:func:`train` calls it before training)."""
        self.best = math.inf
        self.best_epoch = 0
        self.best_state: dict[str, np.ndarray] | None = None
        self.wait = 0

    def update(self, epoch: int, value: float, model: Module | None = None) -> bool:
        """Record ``value`` for ``epoch``; True means "stop now"."""
        # scikit-learn's rule: only a gain of more than min_delta resets the
        # count, but any new minimum becomes the best (and its weights are kept)
        self.wait = 0 if value < self.best - self.min_delta else self.wait + 1
        if value < self.best:
            self.best, self.best_epoch = float(value), epoch
            if self.restore_best and model is not None:
                self.best_state = model.state_dict()
        return self.wait >= self.patience

    def restore(self, model: Module) -> bool:
        """Load the best weights seen into ``model``; False if there were none to load."""
        if self.best_state is None:
            return False
        model.load_state_dict(self.best_state)
        return True


def train(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: ArrayLike,
    y: ArrayLike,
    epochs: int,
    *,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    early_stopping: EarlyStopping | None = None,
    schedule: LRSchedule | None = None,
    tol: float | None = None,
    min_improvement: float | None = None,
    n_iter_no_change: int = 10,
    warn: bool = True,
    print_every: int = 0,
    log: Callable[[str], None] = print,
) -> TrainHistory:
    """Train for up to ``epochs`` epochs with validation, early stopping and a schedule.

    Shapes as in :func:`proplab.train.fit` (one model: ``x (n, in)``,
    ``y (n, out)`` or labels). ``early_stopping`` needs ``validation``.

    Two convergence rules, both off by default (then exactly ``epochs`` epochs
    run unless early stopping or divergence ends them):

    - ``tol``: stop once the training loss is below ``tol``, as in :func:`fit`;
    - ``min_improvement``: scikit-learn's rule (its ``tol``): stop once the
      training loss has not improved by more than ``min_improvement`` for
      ``n_iter_no_change`` epochs, and warn with a :class:`ConvergenceWarning`
      when ``epochs`` run out first. On the lab's plateau (loss 0.25 for a
      thousand epochs before XOR is learnt) it stops too early: it suits
      mini-batch training, where the loss moves every epoch.

    ``stop_reason`` is ``"completed"``, ``"converged"``, ``"early_stopped"``,
    ``"diverged"`` or ``"interrupted"``; with early stopping the best weights
    are restored whenever training ends, and ``best_epoch`` says which.
    """
    epochs, n_iter_no_change = (
        check_int(epochs, "epochs"),
        check_int(n_iter_no_change, "n_iter_no_change"),
    )
    for name, value in (("tol", tol), ("min_improvement", min_improvement)):
        if value is not None and not (_is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0 or None, got {value!r}")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping, got {early_stopping!r}")
    if early_stopping is not None and validation is None:
        raise ValueError(
            "early stopping watches the validation loss: pass validation=(x_val, y_val)"
        )
    if schedule is not None:
        if not isinstance(schedule, LRSchedule):
            raise TypeError(
                "schedule must be a learning-rate schedule (StepLR, CosineAnnealingLR, "
                f"ReduceLROnPlateau) of this optimizer, got {schedule!r}"
            )
        if schedule.optimizer is not optimizer:
            raise ValueError(
                "schedule was built on another optimizer: it would change that one's learning "
                "rate, not this one's; build it on the optimizer passed to train"
            )
    _check_one_model(model, x)
    if validation is not None:
        validation = _checked_validation(validation, x, y)
        try:  # once, before any training: targets the loss cannot take fail here, not later
            evaluate(model, loss_fn, *validation)
        except ValueError as exc:
            raise ValueError(f"validation: {exc}") from None
    # in the model's dtype once, not in every epoch's fit and evaluate (a float32 model's
    # float64 data was copied four times an epoch)
    numeric = getattr(loss_fn, "numeric_targets", False)
    x, y = as_arrays(x, y)
    x, y = in_model_dtype(model, x, y, numeric)
    if validation is not None:
        validation = in_model_dtype(model, *validation, numeric)
    if early_stopping is not None:
        early_stopping.reset()  # nothing of an earlier training: its best weights are another's
    history = TrainHistory()
    plateau = (
        EarlyStopping(n_iter_no_change, min_improvement, restore_best=False)
        if min_improvement is not None
        else None
    )
    start = time.perf_counter()
    logged = 0  # the last epoch whose line print_every logged
    # overflow on the way to divergence (in a validation pass too) is reported once, as
    # "diverged", as fit does: not as NumPy warnings (exceptions under -W error)
    # a stop signal waits for the epoch's end (its validation and schedule step too), as in fit
    with overflow_ignored(), signals_at_epoch_end() as signals:
        try:
            for epoch in range(1, int(epochs) + 1):
                if signals.held:
                    signals.deliver()
                one = fit_without_last_check(
                    model,
                    loss_fn,
                    optimizer,
                    x,
                    y,
                    1,
                    batch_size=batch_size,
                    rng=rng,
                    shuffle=shuffle,
                    tol=tol,
                )
                if one.epochs_run == 0:  # Ctrl-C before the epoch finished
                    history.stop_reason = one.stop_reason
                    history.interrupted_by, history.mid_epoch = one.interrupted_by, one.mid_epoch
                    history.message = interrupted_message(
                        epoch - 1, one.interrupted_by, one.mid_epoch
                    )
                    break
                loss = float(one.loss[0])
                history.epoch.append(epoch)
                history.loss.append(loss)
                history.accuracy.append(float(one.accuracy[0]))
                history.wall_time.append(time.perf_counter() - start)
                history.lr.append(float(np.mean(optimizer.lr)))
                if one.stop_reason != "completed":  # diverged, below tol, or interrupted
                    # fit ran one epoch: its message counts from 1, these epochs from the start
                    history.stop_reason = one.stop_reason
                    history.message = {
                        # epoch 1: fit's own words (a full batch's loss before any update
                        # is no learning rate's doing; review18)
                        "diverged": one.message
                        if epoch == 1
                        else f"training diverged at epoch {epoch}: the loss became "
                        f"{loss}; try a smaller learning rate",
                        "converged": f"loss below tol={tol} at epoch {epoch}",
                    }.get(one.stop_reason, interrupted_message(epoch, one.interrupted_by))
                    history.interrupted_by = one.interrupted_by
                    break
                if print_every and (epoch % print_every == 0 or epoch == epochs):
                    log(format_epoch_line(epoch, loss))
                    logged = epoch
                watched = loss
                if validation is not None:
                    val_loss, val_acc, _ = evaluate(model, loss_fn, *validation)
                    history.val_loss.append(float(val_loss))
                    history.val_accuracy.append(float(val_acc))
                    watched = float(val_loss)
                    if not math.isfinite(watched):  # the epoch's update blew the model up
                        # (early stopping and the plateau schedule would take it for "no
                        # improvement": "best inf at epoch 0", the lr cut, no "diverged")
                        history.stop_reason = "diverged"
                        history.message = (
                            f"training diverged at epoch {epoch}: the validation loss "
                            f"became {watched}; try a smaller learning rate"
                        )
                        break
                if isinstance(schedule, ReduceLROnPlateau):
                    schedule.step(watched)
                elif schedule is not None:
                    schedule.step()
                if early_stopping is not None:
                    if early_stopping.update(epoch, watched, model):
                        history.stop_reason = "early_stopped"
                        history.message = (
                            f"early stopping at epoch {epoch}: the validation loss has not improved for "
                            f"{early_stopping.patience} epochs (best {early_stopping.best:.6g} at epoch "
                            f"{early_stopping.best_epoch})"
                        )
                        break
                elif plateau is not None and plateau.update(epoch, loss):
                    history.stop_reason = "converged"
                    history.message = (
                        f"converged at epoch {epoch}: the training loss improved by less than "
                        f"min_improvement={min_improvement} for {n_iter_no_change} epochs"
                    )
                    break
            if signals.held:  # it came during the last epoch, or the one that stopped training
                signals.deliver()
            # the line of the epoch a stop (tol, min_improvement, early stopping) ended on,
            # as fit logs it (verify24 L4)
            stopped = history.stop_reason in ("converged", "early_stopped")
            if print_every and stopped and logged < history.epoch[-1]:
                log(format_epoch_line(history.epoch[-1], float(history.loss[-1])))
        except KeyboardInterrupt as exc:  # Ctrl-C pressed twice: during validation, say
            history.stop_reason = "interrupted"
            history.interrupted_by = interrupt_cause(exc)
            _align(history, validation is not None)
            # no mid_epoch (fit's handler passes it): outside the epoch's fit nothing updates
            # the weights (validation, the schedule and early stopping only read them), so
            # they are those of the epochs_run whole epochs even after a second signal
            history.message = interrupted_message(history.epochs_run, history.interrupted_by)
    _align(history, validation is not None)
    if validation is None and history.stop_reason in ("completed", "converged"):
        # each epoch's loss is measured before its update: the last update is checked here
        # (a model that predicts NaN after it was "completed", and scored 52 %)
        _check_last_update(model, loss_fn, x, y, history)
    if early_stopping is not None and early_stopping.restore(model):
        history.best_epoch = early_stopping.best_epoch
    if warn and history.stop_reason == "completed" and (plateau is not None or early_stopping):
        warnings.warn(
            unconverged_message(history, min_improvement, early_stopping),
            ConvergenceWarning,
            stacklevel=2,
        )
    return history


def _align(history: TrainHistory, validated: bool) -> None:
    """One entry per epoch in every column: an epoch cut short by Ctrl-C is dropped, and an
    epoch without a validation score (diverged, or Ctrl-C during it) gets NaN there."""
    columns = (history.epoch, history.loss, history.accuracy, history.wall_time, history.lr)
    complete = min(len(column) for column in columns)
    for column in columns:
        del column[complete:]
    for column in (history.val_loss, history.val_accuracy):
        del column[complete:]
        if validated:
            column.extend([math.nan] * (complete - len(column)))


def _check_one_model(model: Module, x: ArrayLike) -> None:
    """train() watches one loss: refuse a replica stack before its first epoch."""
    stacked = [name for name, p in model.named_parameters() if p.replica_ndim]
    if stacked or np.ndim(x) > 2:
        what = f"parameter {stacked[0]!r} has replica axes" if stacked else f"x is {np.shape(x)}"
        raise ValueError(
            f"train takes one model, not a replica stack ({what}): early stopping, the "
            "convergence rule and schedules watch one loss; train a stack with "
            "proplab.fit(..., tol=...), which stops each replica on its own"
        )


def _checked_validation(
    validation: object, x: ArrayLike, y: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """``(x_val, y_val)`` as arrays shaped like the training data, finite, else a clear error."""
    if not isinstance(validation, tuple | list) or len(validation) != 2:
        raise ValueError(
            f"validation must be a pair (x_val, y_val), got {type(validation).__name__}"
            + (f" of length {len(validation)}" if isinstance(validation, tuple | list) else "")
        )
    x_val, y_val = np.asarray(validation[0]), np.asarray(validation[1])
    if x_val.dtype.kind not in "biuf" or x_val.ndim < 2 or x_val.shape[1:] != np.shape(x)[1:]:
        raise ValueError(
            "validation x_val must be numbers shaped like the training x "
            f"(n, {', '.join(map(str, np.shape(x)[1:]))}), got shape {x_val.shape}, "
            f"dtype {x_val.dtype}"
        )
    if y_val.dtype.kind not in "biuf" or y_val.ndim < 2:
        raise ValueError(
            "validation y_val must be numbers (n, columns), as the training y "
            f"{np.shape(y)}; got shape {y_val.shape}, dtype {y_val.dtype}"
        )
    for name, a in (("x_val", x_val), ("y_val", y_val)):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise ValueError(f"validation {name}{list(where)} is {a[where]}: must be finite")
    if len(x_val) == 0 or len(x_val) != len(y_val):
        raise ValueError(
            f"validation x_val has {len(x_val)} samples and y_val {len(y_val)}: "
            "they must be as many, and at least one"
        )
    return x_val, y_val


def unconverged_message(
    history: History, min_improvement: float | None, early_stopping: EarlyStopping | None = None
) -> str:
    """The warning for a run that used all its epochs while still improving, or while its
    loss grew (then the advice is a smaller learning rate, not more epochs)."""
    watched = "validation loss" if early_stopping is not None else "training loss"
    values = history.val_loss if isinstance(history, TrainHistory) and early_stopping else None
    grew = loss_grew(values if values else history.loss)
    if grew:
        return (
            f"training stopped at the maximum of {history.epochs_run} epochs and has not "
            f"converged: the {watched} {grew}; try a smaller learning rate"
        )
    rule = (
        f"patience={early_stopping.patience}"
        if early_stopping is not None
        else f"min_improvement={min_improvement}"
    )
    return (
        f"training stopped at the maximum of {history.epochs_run} epochs and has not converged "
        f"(the {watched} was still improving, {rule}); raise epochs or the learning rate"
    )


def loss_grew(losses: Sequence[float | np.ndarray]) -> str | None:
    """ "grew from A to B" when the last of ``losses`` (one per epoch) ends above the first:
    training that got worse overall, whose fix is a smaller learning rate; else None."""
    if len(losses) < 2 or not float(losses[-1]) > float(losses[0]):
        return None
    return f"grew from {float(losses[0]):.3g} to {float(losses[-1]):.3g}"
