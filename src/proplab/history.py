"""What training recorded: ``History``, one entry per epoch (loss, accuracy, wall time)
and why it stopped.

:func:`proplab.train.fit` fills it; for a replica stack it also says when and why each
replica stopped, and gives each replica's own History.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def interrupt_cause(exc: BaseException | None) -> str:
    """What stopped training: "Ctrl-C", or the signal a KeyboardInterrupt stands for
    (``signal_name``, e.g. "SIGTERM", set by :func:`proplab.runio.stop_signals_as_ctrl_c`)."""
    return getattr(exc, "signal_name", None) or "Ctrl-C"


def interrupted_message(epochs: int, cause: str, mid_epoch: bool = False) -> str:
    """``"interrupted after 7 epochs (SIGTERM)"``: a History's message when stopped;
    ``mid_epoch``: a second signal stopped it at once, inside the next epoch."""
    text = f"interrupted after {epochs} epochs ({cause})"
    if mid_epoch:
        text += (
            f"; a second signal stopped it part-way through epoch {epochs + 1}, so the "
            "weights may hold some of that epoch's updates"
        )
    return text


def last_update_diverged(epochs: int, final_loss: float | np.ndarray) -> str:
    """The message for a run whose last update made the final model's loss ``final_loss``
    (NaN or infinite)."""
    return (
        f"training diverged with its last update (epoch {epochs}): the final model's loss "
        f"is {float(final_loss)}; try a smaller learning rate"
    )


@dataclass
class History:
    """What happened during training, one entry per completed epoch.

    ``epoch`` holds the epoch numbers 1, 2, ...; ``loss`` and ``accuracy`` hold
    floats for one model, arrays of the replica shape (``(K,)``) for a stack, each
    measured on that epoch's forward pass, before its update (with mini-batches:
    the sample-weighted mean over the epoch's batches); accuracy is a fraction in
    [0, 1], NaN for targets that are not 0/1 labels (regression) and for an epoch
    whose predictions are not all finite numbers (diverged). ``wall_time`` holds the
    seconds since training started, at each epoch's end.

    ``stop_reason`` is one of ``"completed"``, ``"converged"`` (loss below tolerance),
    ``"diverged"`` (a NaN/inf loss, or a last update that leaves the final model's loss
    NaN/inf) or ``"interrupted"`` (Ctrl-C, that is a
    KeyboardInterrupt; SIGTERM and SIGHUP only where they are turned into one: under
    the CLI, or inside :func:`proplab.runio.stop_signals_as_ctrl_c`, else they keep
    their default action and end the process; ``interrupted_by`` names which);
    ``message`` says it in words (``""`` when a single model completed).

    For a stack, ``replica_stop_epoch`` and ``replica_stop_reason`` (shape ``R``) say
    when and why each replica stopped, and :meth:`replica` gives one replica's
    History; the stack's own ``stop_reason`` is ``"diverged"`` only when every replica
    diverged, and ``"converged"`` once every replica has stopped with at least one
    below the tolerance (some may have diverged: ``replica_stop_reason`` says which);
    a stack that completed with diverged replicas says how many in ``message``.
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float | np.ndarray] = field(default_factory=list)
    accuracy: list[float | np.ndarray] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    stop_reason: str = "completed"
    message: str = ""
    tol: float | None = None  # the loss tolerance fit was given (None: none)
    # interrupted: what stopped it ("Ctrl-C", "SIGTERM", "SIGHUP"), and whether a second
    # signal did so at once, part-way through an epoch (see proplab.interrupts)
    interrupted_by: str = ""
    mid_epoch: bool = False
    # replica stacks only: the epoch each replica stopped at (0: ran every epoch)
    # and why ("completed", "converged", "diverged"); shape R
    replica_stop_epoch: np.ndarray | None = None
    replica_stop_reason: np.ndarray | None = None
    # and the final model's loss of each replica whose last update blew it up (NaN or
    # inf; 0.0 for the others), or None when none did
    replica_final_loss: np.ndarray | None = None
    # scratch space a stack's history shares with the replica histories it gives
    # (writers cache what is the same for all of them there, e.g. the epoch column)
    shared: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def epochs_run(self) -> int:
        """The number of epochs completed (and recorded)."""
        return len(self.epoch)

    def replica(self, index: int | tuple[int, ...]) -> History:
        """The history replica ``index`` of a stack would have had, trained alone.

        Epochs after the replica stopped (converged or diverged; it was frozen
        while the others went on) are cut off, and its own stop reason is kept.
        """
        if self.replica_stop_epoch is None or self.replica_stop_reason is None:
            raise ValueError("this History is of a single model, not a replica stack")
        stop = int(self.replica_stop_epoch[index])
        end = stop if stop else self.epochs_run
        reason = str(self.replica_stop_reason[index])
        if reason == "completed" and self.stop_reason == "interrupted":
            reason = "interrupted"
        # one (epochs, *R) array per column, built once and shared by every replica
        stacked: tuple[np.ndarray, np.ndarray] | None = getattr(self, "_stacked", None)
        if stacked is None or len(stacked[0]) != self.epochs_run:
            stacked = self._stacked = (np.asarray(self.loss), np.asarray(self.accuracy))
        losses, accuracies = stacked
        loss = losses[(slice(0, end), *np.atleast_1d(index))].tolist()
        message = {
            "converged": f"loss below tol={self.tol} at epoch {{end}}",
            "diverged": f"training diverged at epoch {end}: the loss became "
            f"{loss[-1] if loss else 'nan'}; try a smaller learning rate",
            "interrupted": self.message,
        }.get(reason, "")
        if self.replica_final_loss is not None and not np.isfinite(self.replica_final_loss[index]):
            # every epoch's loss was finite: its last update blew the replica up
            message = last_update_diverged(end, self.replica_final_loss[index])
        return History(
            epoch=list(self.epoch[:end]),
            loss=loss,
            accuracy=accuracies[(slice(0, end), *np.atleast_1d(index))].tolist(),
            wall_time=list(self.wall_time[:end]),
            stop_reason=reason,
            message=message.format(end=end),
            interrupted_by=self.interrupted_by if reason == "interrupted" else "",
            shared=self.shared,
        )

    def __repr__(self) -> str:
        """One line, not every epoch's numbers (a 20 000-epoch History printed 80 000):
        ``History(100 epochs, completed: loss 0.2568 -> 0.2493, accuracy 52.4% -> 52.4%)``;
        a stack gives the range over its replicas."""
        name = type(self).__name__
        if not self.epoch:
            return f"{name}(0 epochs, {self.stop_reason})"
        first_loss, last_loss = np.asarray(self.loss[0]), np.asarray(self.loss[-1])
        first_acc, last_acc = np.asarray(self.accuracy[0]), np.asarray(self.accuracy[-1])

        def span(values: np.ndarray, fmt: str) -> str:
            low, high = format(float(values.min()), fmt), format(float(values.max()), fmt)
            return low if low == high else f"{low} to {high}"

        runs = f" of a stack of {last_loss.size}" if last_loss.ndim else ""
        epochs = f"{self.epochs_run} epoch{'' if self.epochs_run == 1 else 's'}"
        # regression targets have no accuracy (NaN): say nothing of it
        scored = not (np.isnan(first_acc).all() and np.isnan(last_acc).all())
        return (
            f"{name}({epochs}{runs}, {self.stop_reason}: "
            f"loss {span(first_loss, '.4g')} -> {span(last_loss, '.4g')}"
            + (
                f", accuracy {span(100 * first_acc, '.1f')}% -> {span(100 * last_acc, '.1f')}%"
                if scored
                else ""
            )
            + ")"
        )

    @property
    def final_loss(self) -> float | np.ndarray:
        """The last epoch's loss (measured before that epoch's update): a float, or an
        array ``(K,)`` for a stack; NaN if no epoch ran."""
        return self.loss[-1] if self.loss else math.nan

    @property
    def final_accuracy(self) -> float | np.ndarray:
        """The last epoch's accuracy, a fraction in [0, 1] (measured before that epoch's
        update): a float, or an array ``(K,)`` for a stack; NaN if no epoch ran."""
        return self.accuracy[-1] if self.accuracy else math.nan

    def as_arrays(self) -> dict[str, np.ndarray]:
        """``{"epoch": (E,), "loss": (E, *R), "accuracy": (E, *R), "wall_time": (E,)}``."""
        return {
            "epoch": np.asarray(self.epoch, dtype=np.int64),
            "loss": np.asarray(self.loss, dtype=np.float64),
            "accuracy": np.asarray(self.accuracy, dtype=np.float64),
            "wall_time": np.asarray(self.wall_time, dtype=np.float64),
        }
