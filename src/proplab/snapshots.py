"""Copies of a model's weights during its training (for "the boundary as it forms").

A run with figures keeps its weights every ~1/200 of its epochs
(:func:`kept_epochs`; :class:`Snapshots` copies them through ``fit``'s
callback) and afterwards shows ~6 of them, picked from the loss curve by
:func:`pick_epochs`: the start, the epochs by which the loss had made 10 %,
50 %, 90 % and 99 % of its fall, and the end (a mini-batch run's from the
full-batch loss of its kept weights: :func:`pick_kept_epochs`). The boundary
forms when the loss falls, which fixed epochs miss: the lab's XOR model sits on
a plateau for 2 000 epochs and forms its boundary over the next 1 000. NumPy
only: the drawing is elsewhere.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from proplab.batchnorm import BatchNorm1d
from proplab.core import Module, eval_mode, train_mode

# shares of the run at which to look, between the start and the end, when the loss
# curve does not say when to (see pick_epochs)
SHARES = (1 / 200, 1 / 40, 1 / 10, 1 / 4)


def _nice(value: float) -> int:
    """The 1-2-5 number (1, 2, 5, 10, 20, ...) nearest to ``value`` on a log scale, >= 1."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    candidates = [m * 10**e for e in (exponent, exponent + 1) for m in (1, 2, 5)]
    return int(min(candidates, key=lambda c: abs(math.log(c / value))))


def _check_epochs(epochs: object) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")


def snapshot_epochs(epochs: int) -> list[int]:
    """Fixed epochs to show for a run of ``epochs``: 0, round numbers near :data:`SHARES`
    of the run, and ``epochs`` itself, increasing and without repeats.

    ``snapshot_epochs(20000) == [0, 100, 500, 2000, 5000, 20000]``.
    """
    _check_epochs(epochs)
    middle = {_nice(share * epochs) for share in SHARES}
    return [0, *sorted(e for e in middle if 0 < e < epochs), int(epochs)]


# shares of the loss's fall (from its first value to its lowest) by which to show the
# boundary: the first kept epoch at which the loss has fallen that far
LEVELS = (0.1, 0.5, 0.9, 0.99)
# a loss that falls by less than this share of its first value is a plateau's drift:
# the fixed round-number epochs of snapshot_epochs are shown instead
FLAT = 0.1
KEPT = 200  # states a run keeps at most (about one every epochs / KEPT)


def kept_epochs(epochs: int, most: int = KEPT) -> list[int]:
    """The epochs whose weights a run keeps, to pick the shown ones from afterwards.

    0, every ``step`` epochs (the 1-2-5 number nearest ``epochs / most``), three
    earlier ones for the first, fast epochs (``step / 10``, ``step / 5``, ``step / 2``;
    below 10 the 1-2-5 numbers under ``step``), and ``epochs``: about ``most`` + 5.
    ``kept_epochs(20000)`` is ``[0, 10, 20, 50, 100, 200, 300, ..., 19900, 20000]``.
    """
    _check_epochs(epochs)
    if isinstance(most, bool) or not isinstance(most, int) or most < 1:
        raise ValueError(f"most must be a positive integer, got {most!r}")
    step = _nice(epochs / most)
    early = [step // 10 * m for m in (1, 2, 5)] if step >= 10 else [m for m in (1, 2) if m < step]
    return sorted({0, *(e for e in early if e < epochs), *range(step, epochs, step), int(epochs)})


def loss_falls(losses: Sequence[float | np.ndarray] | np.ndarray) -> bool:
    """Whether a loss curve is finite and falls by more than :data:`FLAT` of its first
    value (then :func:`pick_epochs` picks from it)."""
    loss = np.asarray(losses, dtype=np.float64).reshape(-1)
    if not (loss.size and np.isfinite(loss).all()):
        return False
    return bool(loss[0] - loss.min() > FLAT * abs(loss[0]))


def pick_epochs(
    kept: Iterable[int], losses: Sequence[float | np.ndarray] | np.ndarray
) -> list[int]:
    """The epochs to show, from the ``kept`` ones (0 and the last included).

    0, the first kept epoch by which the loss had made each of :data:`LEVELS` of its
    fall from ``losses[0]`` to its lowest, and the last kept epoch. ``losses[e]`` is
    the loss of the weights after ``e`` updates (``History.loss`` of a full-batch run:
    each epoch's loss is measured before its update). A loss that falls by less than
    :data:`FLAT` of its first value, or is not finite, gets :func:`snapshot_epochs`'
    round numbers instead, each moved to the nearest kept epoch.
    """
    kept = sorted(int(e) for e in kept)
    if not loss_falls(losses):
        return _round_epochs(kept)
    loss = np.asarray(losses, dtype=np.float64).reshape(-1)
    measured = [(e, float(loss[e])) for e in kept if e < loss.size]
    return _levels(kept, measured, float(loss[0]), float(loss.min()))


def pick_kept_epochs(
    epochs: Sequence[int], losses: Sequence[float | np.ndarray] | np.ndarray
) -> list[int]:
    """:func:`pick_epochs` from the loss of each kept state: ``losses[i]`` (E,) is the
    loss of the weights kept at ``epochs[i]`` (E,) (:attr:`GradientSizes.losses`).

    A mini-batch run's ``History.loss`` is no such loss: it is the mean over the
    epoch's batches while the weights move (the lab's linear set in batches of 16
    records 0.257 for epoch 1, where its first weights' loss is 0.277), so the
    epochs it picks are not where the weights' own loss made those shares of its
    fall. Only the kept states' losses are known here: the fall is to the lowest
    of them.
    """
    loss = np.asarray(losses, dtype=np.float64).reshape(-1)
    if len(epochs) != loss.size:
        raise ValueError(f"{len(epochs)} epochs but {loss.size} losses: one loss per kept epoch")
    order = np.argsort(np.asarray(epochs, dtype=np.int64), kind="stable")
    kept, loss = [int(epochs[i]) for i in order], loss[order]
    if not loss_falls(loss):
        return _round_epochs(kept)
    measured = list(zip(kept, loss.tolist(), strict=True))
    return _levels(kept, measured, float(loss[0]), float(loss.min()))


def _round_epochs(kept: list[int]) -> list[int]:
    """:func:`snapshot_epochs`' round numbers for the run, each moved to the nearest
    ``kept`` epoch (increasing): the shown epochs when the loss does not fall."""
    last = kept[-1]
    return sorted({min(kept, key=lambda k: abs(k - e)) for e in snapshot_epochs(max(last, 1))})


def _levels(
    kept: list[int], measured: list[tuple[int, float]], start: float, lowest: float
) -> list[int]:
    """The first and last ``kept`` epochs, and for each of :data:`LEVELS` the first
    ``(epoch, loss)`` of ``measured`` (increasing epochs) whose loss had made that share
    of the fall from ``start`` to ``lowest``."""
    fall = start - lowest
    picks = {kept[0], kept[-1]}
    for level in LEVELS:
        reached = start - level * fall
        picks.update(next(([e] for e, loss in measured if loss <= reached), []))
    return sorted(picks)


class Snapshots:
    """Copies of ``model``'s parameters (``state_dict()``) at chosen epochs.

    Take epoch 0 before training with :meth:`take`, pass :meth:`hook` to
    ``fit(callback=..., callback_every=snapshots.every)``, and take the final
    epoch after it (training may stop early). ``states`` maps epoch -> state.
    """

    def __init__(self, model: Module, epochs: list[int]) -> None:
        self.model = model
        self.epochs = sorted(set(int(e) for e in epochs))
        self.states: dict[int, dict[str, np.ndarray]] = {}
        positive = [e for e in self.epochs if e > 0]
        # fit calls the hook every `every` epochs: the largest step that meets them all
        self.every = math.gcd(*positive) if positive else 1

    def shown(
        self, losses: Sequence[float | np.ndarray] | np.ndarray, epochs: Sequence[int] | None = None
    ) -> dict[int, dict[str, np.ndarray]]:
        """The states at the epochs :func:`pick_epochs` picks from ``losses``
        (``History.loss``), or, given ``epochs``, :func:`pick_kept_epochs` from the loss
        at each of those kept epochs (:class:`GradientSizes`' ``epochs`` and ``losses``)."""
        if epochs is None:
            return {e: self.states[e] for e in pick_epochs(self.states, losses)}
        return {e: self.states[e] for e in pick_kept_epochs(epochs, losses)}

    def take(self, epoch: int) -> None:
        """Keep a copy of the model's parameters as they are now, as epoch ``epoch``."""
        self.states[int(epoch)] = self.model.state_dict()

    def hook(
        self,
        then: Callable[[int, Any], None] | None = None,
        then_every: int = 100,
        then_seconds: float = 0.5,
    ) -> Callable[[int, Any], None]:
        """A ``fit`` callback that takes the wanted epochs, and calls ``then(epoch,
        history)`` (a progress bar) every ``then_every`` epochs, at least every
        ``then_seconds`` while fit calls this hook, and at the end."""
        wanted, last, every = set(self.epochs), max(self.epochs), self.every
        clock = time.perf_counter
        called = [clock()]

        def callback(epoch: int, history: Any) -> None:
            if epoch in wanted:
                self.take(epoch)
            if then is None:
                return
            # fit's own calls come every `every` epochs; one off that beat is its last
            # (training stopped early) or a progress call on slow epochs, which a progress
            # bar must see too; slow epochs also on the beat (every = 1, few epochs)
            now = clock()
            if (
                epoch % then_every == 0
                or epoch % every
                or epoch == last
                or now - called[0] >= then_seconds
            ):
                then(epoch, history)
                called[0] = now

        return callback


@dataclass
class GradientSizes:
    """How large each layer's weight gradient was during training.

    ``epochs`` (E,) the kept epochs; ``layers`` the L weighted layers, input side first
    (``"1: Linear 2->10"``); ``sizes`` (E, L): the mean |dL/dW| over each layer's weights,
    on the whole training data, at the weights after that many epochs; ``losses`` (E,):
    the loss of the same forward passes (a mini-batch run's boundary figure picks its
    epochs from it: :func:`pick_kept_epochs`).
    """

    epochs: list[int]
    layers: list[str]
    sizes: np.ndarray
    losses: np.ndarray


def _owner(model: Module, name: str) -> Module:
    """The module a dotted parameter name (``"2.weight"``: child 2's) belongs to."""
    for index in name.split(".")[:-1]:
        model = model.children()[int(index)]
    return model


@runtime_checkable
class _Dense(Protocol):
    """A layer of ``in_features`` -> ``out_features`` (Linear, or one of one's own)."""

    in_features: int
    out_features: int


@runtime_checkable
class _Convolution(Protocol):
    """A layer of ``in_channels`` -> ``out_channels`` (Conv1d, or one of one's own)."""

    in_channels: int
    out_channels: int
    kernel_size: int


def _layer_label(position: int, module: Module) -> str:
    """``"1: Linear 2->10"``, ``"1: Conv1d 1->4 (kernel 2)"``: a weighted layer, for a legend."""
    name = type(module).__name__
    if isinstance(module, _Dense):
        return f"{position}: {name} {module.in_features}->{module.out_features}"
    if isinstance(module, _Convolution):
        return (
            f"{position}: {name} {module.in_channels}->{module.out_channels} "
            f"(kernel {module.kernel_size})"
        )
    return f"{position}: {name}"


# at most this many sample-passes (kept states x samples) for gradient_sizes: ~200 states of
# 100 000 samples, or fewer states of more (a run of 10^6 samples would otherwise spend
# about as long again on its kept states as on training)
GRADIENT_WORK = 20_000_000


def gradient_sizes(
    model: Module,
    loss_fn: Any,
    x: np.ndarray,
    y: np.ndarray,
    states: dict[int, dict],
    work: int = GRADIENT_WORK,
) -> GradientSizes:
    """The mean |dL/dW| of every weighted layer at each kept state (``Snapshots.states``).

    Each state is loaded and one forward and backward pass run on all of ``x (n, in)``,
    ``y``: the full-batch gradient at those weights (what plain gradient descent steps
    on; a mini-batch run's steps each saw a part of it), and the loss of that pass. The
    model ends with the weights and the (zero) gradients it had: its final state is put
    back.

    At most ``work`` sample-passes: with more samples than ``work / len(states)``, evenly
    spaced states are used (the first and the last always, at least two).

    The lesson it shows: each sigmoid multiplies the gradient passing down by its
    derivative, at most 1/4, so at the start the layers nearest the input get the
    smallest gradients (the vanishing gradient: the lab's XOR model starts with its
    first layer's ~40x smaller than its last's); tanh's derivative reaches 1 (~1x).

    The passes run in training mode, as training's own did (dropout draws masks,
    batchnorm uses the batch's statistics); batchnorm's scale (also named ``weight``)
    is not a weighted layer here, and its running statistics are put back with the
    final state.
    """
    weighted = [
        (name, p)
        for name, p in model.named_parameters()
        if name.rsplit(".", 1)[-1] == "weight" and not isinstance(_owner(model, name), BatchNorm1d)
    ]
    layers = [_layer_label(i, _owner(model, name)) for i, (name, _) in enumerate(weighted, 1)]
    epochs = sorted(int(e) for e in states)
    most = max(2, work // max(1, len(x)))
    if len(epochs) > most:
        picks = np.unique(np.linspace(0, len(epochs) - 1, most).round().astype(int))
        epochs = [epochs[i] for i in picks]
    sizes = np.full((len(epochs), len(weighted)), np.nan)
    losses = np.full(len(epochs), np.nan)
    final = model.state_dict()
    try:
        # (NaN sizes, not warnings, for a state near divergence)
        with np.errstate(all="ignore"), train_mode(model):
            for row, epoch in enumerate(epochs):
                model.load_state_dict(states[epoch])
                model.zero_grad()
                losses[row] = loss_fn.forward(model.forward(x), y)
                model.backward(loss_fn.backward(), need_input_grad=False)
                sizes[row] = [np.mean(np.abs(p.grad)) for _, p in weighted]
    finally:
        model.load_state_dict(final)
        model.zero_grad()
    return GradientSizes(epochs, layers, sizes, losses)


def losses_at(
    model: Module, loss_fn: Any, x: np.ndarray, y: np.ndarray, states: dict[int, dict]
) -> tuple[list[int], np.ndarray]:
    """The loss on ``x (n, in)``, ``y`` of the weights kept at each epoch (``Snapshots.states``).

    Returns ``(epochs (E,), losses (E,))``, the epochs increasing: a held-out set's
    loss as the run trained, for the learning curve (forward passes only, so ~200
    states of a small test set cost a few milliseconds), in evaluation mode, as the
    final model is scored. The model ends with the weights it had.
    """
    epochs = sorted(int(e) for e in states)
    losses = np.full(len(epochs), np.nan)
    final = model.state_dict()
    try:
        # (a state near divergence: NaN, not warnings)
        with np.errstate(all="ignore"), eval_mode(model):
            for row, epoch in enumerate(epochs):
                model.load_state_dict(states[epoch])
                losses[row] = float(loss_fn.forward(model.forward(x), y))
    finally:
        model.load_state_dict(final)
    return epochs, losses


def zero_from(epochs: Sequence[int] | np.ndarray, sizes: ArrayLike) -> int | None:
    """The first epoch from which every layer's gradient size is exactly 0 to the end
    (``epochs`` (E,), ``sizes`` (E, L)), or None: the gradient died (saturated units
    pass none back: the lab's sigmoids at ``--lr 1000`` output exactly 1.0)."""
    epochs = np.asarray(epochs).reshape(-1)
    if not epochs.size:
        return None
    zero = np.all(np.asarray(sizes, dtype=np.float64).reshape(len(epochs), -1) == 0, axis=-1)
    if not zero[-1]:
        return None
    alive = np.flatnonzero(~zero)
    return int(epochs[alive[-1] + 1 if alive.size else 0])
