"""Learning-rate schedules with PyTorch's semantics (``torch.optim.lr_scheduler``).

A schedule wraps a :class:`proplab.optim.Optimizer`, remembers its learning
rate at construction as ``base_lr`` and sets ``optimizer.lr`` (through
``set_hyper``) each time ``step()`` is called, once per epoch *after* the
epoch's optimizer steps::

    sched = CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        train_one_epoch()          # uses opt.lr
        sched.step()               # lr for the next epoch

As in PyTorch, ``last_epoch`` starts at 0 with the base learning rate and
counts the ``step()`` calls. StepLR and CosineAnnealingLR use PyTorch's closed
forms, which equal its recursive updates as long as nothing else changes the
learning rate. Learning rates may be per-replica arrays ``(K,)``; every formula
is applied element-wise, and ReduceLROnPlateau then takes one metric per replica.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from proplab.checks import is_whole, short_repr
from proplab.optim_base import Hyper, Optimizer


def _as_hyper(value: np.ndarray | float) -> Hyper:
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


class LRSchedule:
    """Base class: ``step()`` advances ``last_epoch`` and writes ``lr_at(last_epoch)``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} wraps a proplab Optimizer, got {optimizer!r}")
        self.optimizer = optimizer
        self.base_lr: Hyper = _as_hyper(np.array(optimizer.lr, dtype=np.float64, copy=True))
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> Hyper:
        """The learning rate after ``epoch`` calls of :meth:`step` (a float, or ``(K,)``)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> Hyper:
        """The learning rate the optimizer holds now."""
        return self.optimizer.lr

    def state_dict(self) -> dict[str, Any]:
        """Where the schedule stands, as PyTorch's: every attribute but the optimizer
        (``last_epoch``, ``base_lr``, its settings; ReduceLROnPlateau's ``best`` and
        counters), arrays copied.

        A schedule built anew over a resumed optimizer would take the decayed lr it holds
        for its ``base_lr`` and count epochs from 0; :meth:`load_state_dict` with this
        puts it back where it stood.
        """
        return {k: _copied(v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take over ``state`` from :meth:`state_dict` of a schedule of the same type and
        replica count (arrays copied). ValueError names the keys or the ``base_lr`` shape
        that do not fit; nothing changes then."""
        if not isinstance(state, dict):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict takes the dict state_dict() "
                f"returns, got {type(state).__name__}"
            )
        own = {k for k in vars(self) if k != "optimizer"}
        missing, unknown = sorted(own - set(state)), sorted(set(state) - own)
        if missing or unknown:
            raise ValueError(
                f"not a {type(self).__name__} state: missing {missing or 'nothing'}, "
                f"unknown {unknown or 'nothing'}"
            )
        if np.shape(state["base_lr"]) != np.shape(self.base_lr):
            raise ValueError(
                f"the state's base_lr has shape {np.shape(state['base_lr'])}, this schedule's "
                f"optimizer has learning rates of shape {np.shape(self.base_lr)}"
            )
        for k in own:
            setattr(self, k, _copied(state[k]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.optimizer.lr})"


def _copied(value: Any) -> Any:
    """An array copied (a state must not share a schedule's counters); anything else as is."""
    return value.copy() if isinstance(value, np.ndarray) else value


def _is_real(value: object) -> bool:
    """A real number, not a bool or a string (math.isfinite would raise on those)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _checked(value: Any, name: str, accepted: str, ok: Callable[[Any], bool]) -> Any:
    """``value`` when it is a real number that ``ok`` accepts. Else the one message
    ``"<name> must be <accepted>, got <value>"``: a TypeError when it is no number at all
    (text, None, a bool), as the optimizers refuse such a learning rate; a ValueError when
    it is a number out of range (inf, 0, 1.5)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be {accepted}, got {short_repr(value)}")
    if not ok(value):
        raise ValueError(f"{name} must be {accepted}, got {short_repr(value)}")
    return value


def _whole(value: Any, name: str, low: int = 1) -> int:
    """``value`` as an int when it is a whole number >= ``low`` (see :func:`_checked`)."""
    kind = "a positive integer" if low == 1 else f"an integer >= {low}"
    return int(_checked(value, name, kind, lambda v: is_whole(v, low)))


class StepLR(LRSchedule):
    """lr = base_lr * gamma ** (epoch // step_size): decay by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        step_size = _whole(step_size, "step_size")  # None, "3": TypeError; inf, 0: ValueError
        _checked(gamma, "gamma", "a finite number > 0", lambda v: math.isfinite(v) and v > 0)
        super().__init__(optimizer)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch: int) -> Hyper:
        """``base_lr * gamma ** (epoch // step_size)`` (a float, or ``(K,)`` for a stack)."""
        return _as_hyper(self.base_lr * self.gamma ** (epoch // self.step_size))


class CosineAnnealingLR(LRSchedule):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2.

    Falls from ``base_lr`` at epoch 0 to ``eta_min`` at ``T_max``; past
    ``T_max`` it follows the cosine back up, as PyTorch's does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        T_max = _whole(T_max, "T_max")
        _checked(eta_min, "eta_min", "a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)
        super().__init__(optimizer)
        self.T_max, self.eta_min = int(T_max), float(eta_min)

    def lr_at(self, epoch: int) -> Hyper:
        """The cosine-annealed lr at ``epoch`` (a float, or ``(K,)`` for a stack)."""
        cos = (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        return _as_hyper(self.eta_min + (self.base_lr - self.eta_min) * cos)


class ReduceLROnPlateau(LRSchedule):
    """Multiply lr by ``factor`` once a metric has not improved for over ``patience`` epochs.

    ``step(metric)`` after each epoch (e.g. the validation loss). Improvement
    means ``metric < best * (1 - threshold)`` in ``mode="min"`` with
    ``threshold_mode="rel"`` (``best - threshold`` for ``"abs"``; mirrored for
    ``"max"``). After a reduction, ``cooldown`` epochs pass before bad epochs
    count again; lr never goes below ``min_lr``, and a reduction smaller than
    ``eps`` is skipped. With the defaults, the 11th epoch in a row without
    improvement cuts lr (PyTorch's rule). For a replica stack (learning rates of shape ``(K,)``)
    pass one metric per replica, an array ``(K,)``; each replica's lr is cut
    on its own.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        for name, text, choices in (("mode", mode, ("min", "max")),
                                    ("threshold_mode", threshold_mode, ("rel", "abs"))):  # fmt: skip
            if text not in choices:
                error = ValueError if isinstance(text, str) else TypeError  # "mean" / 5
                raise error(f"{name} must be {choices[0]!r} or {choices[1]!r}, got {text!r}")
        # the type first: factor="0.5" failed as "'<=' not supported between ... 'str'"
        _checked(factor, "factor", "in [0, 1)", lambda v: 0.0 <= v < 1.0)
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            _whole(value, name, 0)
        for name, number in (("threshold", threshold), ("min_lr", min_lr), ("eps", eps)):
            # a NaN min_lr used to turn the learning rate into NaN at the first cut
            # NumPy scalars are numbers (np.float32(1e-4) was refused as no finite number)
            _checked(number, name, "a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)
        super().__init__(optimizer)
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor, self.threshold = float(factor), float(threshold)
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.min_lr, self.eps = float(min_lr), float(eps)
        shape = np.shape(self.base_lr)
        worst = math.inf if mode == "min" else -math.inf
        self.best = np.full(shape, worst)
        self.num_bad_epochs = np.zeros(shape, dtype=np.int64)
        self.cooldown_counter = np.zeros(shape, dtype=np.int64)

    def is_better(self, a: np.ndarray, best: np.ndarray) -> np.ndarray:
        """Per replica: does metric ``a`` improve on ``best`` (``mode``, ``threshold``)?"""
        if self.mode == "min":
            bar = (
                best * (1.0 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return a < bar
        bar = (
            best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        )
        return a > bar

    def step(self, metric: float | np.ndarray) -> None:  # type: ignore[override]
        """Record this epoch's ``metric`` (one per replica for a stack) and maybe cut lr."""
        try:
            current = np.asarray(metric if metric is not None else "", dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"ReduceLROnPlateau.step takes a number per replica (e.g. the validation loss), "
                f"got {metric!r}"
            ) from None
        if current.shape != self.best.shape:
            raise ValueError(
                f"ReduceLROnPlateau needs a metric of shape {self.best.shape} (one per replica), "
                f"got {current.shape}"
            )
        self.last_epoch += 1
        better = self.is_better(current, self.best)
        self.best = np.where(better, current, self.best)
        self.num_bad_epochs = np.where(better, 0, self.num_bad_epochs + 1)
        cooling = self.cooldown_counter > 0
        self.cooldown_counter = np.where(cooling, self.cooldown_counter - 1, self.cooldown_counter)
        self.num_bad_epochs = np.where(
            cooling, 0, self.num_bad_epochs
        )  # bad epochs in cooldown don't count
        reduce = self.num_bad_epochs > self.patience
        if np.any(reduce):
            old = np.asarray(self.optimizer.lr, dtype=np.float64)
            new = np.maximum(old * self.factor, self.min_lr)
            self.optimizer.lr = _as_hyper(np.where(reduce & (old - new > self.eps), new, old))
            self.cooldown_counter = np.where(reduce, self.cooldown, self.cooldown_counter)
            self.num_bad_epochs = np.where(reduce, 0, self.num_bad_epochs)

    def lr_at(self, epoch: int) -> Hyper:
        """Not available: this schedule's lr depends on the metrics (raises TypeError)."""
        raise TypeError("ReduceLROnPlateau has no closed form: its lr depends on the metrics seen")
