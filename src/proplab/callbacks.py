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
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from proplab.core import Module
from proplab.losses import Loss
from proplab.optim import Optimizer
from proplab.schedules import LRSchedule, ReduceLROnPlateau
from proplab.train import History, evaluate, fit, format_epoch_line


class ConvergenceWarning(UserWarning):
    """Training used every epoch it was given and had not converged."""


@dataclass
class TrainHistory(History):
    """:class:`History` plus, per epoch, the validation loss/accuracy and the learning rate."""

    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # the epoch whose weights early stopping restored


class EarlyStopping:
    """Watch a value to minimise (the validation loss); keep the best weights.

    ``update(epoch, value, model)`` returns True once ``value`` has failed to
    beat the best so far by more than ``min_delta`` for ``patience`` epochs in
    a row (scikit-learn's ``tol`` / ``n_iter_no_change``). :meth:`restore`
    then loads the weights of the lowest value seen (copies taken with
    ``model.state_dict()`` at every new minimum).
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        if isinstance(patience, bool) or int(patience) != patience or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.patience, self.min_delta, self.restore_best = (
            int(patience),
            float(min_delta),
            restore_best,
        )
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
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    *,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    early_stopping: EarlyStopping | None = None,
    schedule: LRSchedule | None = None,
    tol: float | None = 1e-4,
    n_iter_no_change: int = 10,
    warn: bool = True,
    print_every: int = 0,
    log: Callable[[str], None] = print,
) -> TrainHistory:
    """Train for up to ``epochs`` epochs with validation, early stopping and a schedule.

    Shapes as in :func:`proplab.train.fit` (one model: ``x (n, in)``,
    ``y (n, out)`` or labels). ``early_stopping`` needs ``validation``.
    ``tol=None`` turns the convergence rule (and its warning) off: exactly
    ``epochs`` epochs run unless early stopping or divergence ends them.

    ``stop_reason`` is ``"completed"``, ``"converged"``, ``"early_stopped"``,
    ``"diverged"`` or ``"interrupted"``; with early stopping the best weights
    are restored whenever training ends, and ``best_epoch`` says which.
    """
    if early_stopping is not None and validation is None:
        raise ValueError(
            "early stopping watches the validation loss: pass validation=(x_val, y_val)"
        )
    if isinstance(epochs, bool) or int(epochs) != epochs or epochs <= 0:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if tol is not None and not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0 or None, got {tol!r}")
    if (
        isinstance(n_iter_no_change, bool)
        or int(n_iter_no_change) != n_iter_no_change
        or n_iter_no_change < 1
    ):
        raise ValueError(f"n_iter_no_change must be an integer >= 1, got {n_iter_no_change!r}")
    history = TrainHistory()
    plateau = EarlyStopping(n_iter_no_change, tol, restore_best=False) if tol is not None else None
    start = time.perf_counter()
    try:
        for epoch in range(1, int(epochs) + 1):
            one = fit(
                model, loss_fn, optimizer, x, y, 1, batch_size=batch_size, rng=rng, shuffle=shuffle
            )
            if one.epochs_run == 0:  # Ctrl-C before the epoch finished
                history.stop_reason, history.message = one.stop_reason, one.message
                break
            loss = float(one.loss[0])
            history.epoch.append(epoch)
            history.loss.append(loss)
            history.accuracy.append(float(one.accuracy[0]))
            history.wall_time.append(time.perf_counter() - start)
            history.lr.append(float(np.mean(optimizer.lr)))
            if one.stop_reason != "completed":  # diverged or interrupted
                history.stop_reason, history.message = one.stop_reason, one.message
                break
            if print_every and epoch % print_every == 0:
                log(format_epoch_line(epoch, loss))
            watched = loss
            if validation is not None:
                val_loss, val_acc, _ = evaluate(model, loss_fn, *validation)
                history.val_loss.append(float(val_loss))
                history.val_accuracy.append(float(val_acc))
                watched = float(val_loss)
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
                    f"converged at epoch {epoch}: the training loss improved by less than tol={tol} "
                    f"for {n_iter_no_change} epochs"
                )
                break
    except KeyboardInterrupt:  # Ctrl-C during validation or a schedule step
        history.stop_reason = "interrupted"
        history.message = f"interrupted after {history.epochs_run} epochs (Ctrl-C)"
    if early_stopping is not None and early_stopping.restore(model):
        history.best_epoch = early_stopping.best_epoch
    if warn and history.stop_reason == "completed" and (plateau is not None or early_stopping):
        warnings.warn(
            unconverged_message(history, tol, early_stopping), ConvergenceWarning, stacklevel=2
        )
    return history


def unconverged_message(
    history: History, tol: float | None, early_stopping: EarlyStopping | None = None
) -> str:
    """The warning for a run that used all its epochs while still improving."""
    watched = "validation loss" if early_stopping is not None else "training loss"
    rule = f"patience={early_stopping.patience}" if early_stopping is not None else f"tol={tol}"
    return (
        f"training stopped at the maximum of {history.epochs_run} epochs and has not converged "
        f"(the {watched} was still improving, {rule}); raise epochs or the learning rate"
    )
