"""The check under ``proplab trace``: a traced step's weight gradients against central
differences of its loss.

Every weight is nudged by +-eps on a copy of the model (dropout masks held to the
step's, so the loss is one function; batchnorm's running statistics of the traced
model untouched) and the loss recomputed. As in :mod:`proplab.gradcheck`:

- entries whose nudge moves a ReLU/LeakyReLU input across its kink at 0 are not
  compared (a central difference across a kink is not the derivative);
- errors are relative to each array's largest gradient, but measured against at
  least the central differences' round-off over the tolerance, so gradients of 1e-5
  do not fail on rounding alone. The round-off is the loss's: a few ulps of every number
  L is made of, weighted by how much L depends on it (|dL/dh * h| summed over the step's
  arrays, which a saturated output makes large); an array whose every gradient is below
  it is not compared (any value would pass), and the check says so;
- an array that still fails is rechecked against Ridders' extrapolation of central
  differences from a larger step to step 0, which removes both the curvature a single
  step leaves (a batchnorm over two samples) and most of its round-off; it is kept only
  where it pins every derivative down to the tolerance.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from proplab.core import Module
from proplab.dropout import Dropout
from proplab.gradcheck import compared_error, loss_roundoff
from proplab.gradcheck_numeric import (
    KinkWatch,
    numeric_gradient_watched,
    ridders_derivative,
)
from proplab.losses import CrossEntropyLoss, Loss

EPS = 1e-6
TOLERANCE = 1e-6
# Ridders' first step: large enough that its round-off is ~100x below a 1e-6 step's,
# small enough to stay clear of most kinks (a crossing drops the entry)
RIDDERS_STEP = 1e-4


@dataclass
class StepCheck:
    """The largest error over the compared weights as judged (NaN when none could be:
    each array's relative error, measured against at least round-off / tolerance), the
    largest plain relative error (what is printed, as proplab gradcheck's table does), how
    many weights were nudged and how many were not compared (kinks), and whether Ridders'
    extrapolation settled an array."""

    error: float
    weights: int
    skipped: int = 0
    extrapolated: bool = False
    roundoff: float = 0.0
    below_roundoff: int = 0  # weights of arrays whose every gradient is below it
    biases: int = 0  # how many of the ``weights`` nudged are biases (named "bias")
    relative: float = math.nan  # the largest plain relative error (no round-off floor)

    def counted(self) -> str:
        """``12 parameters (8 weights, 4 biases)``, or ``9 weights`` with no biases: a
        student counting a textbook's w1...w8 keeps the biases apart."""
        if not self.biases:
            return f"{self.weights} weights"
        kept = self.weights - self.biases
        return (
            f"{self.weights} parameters ({kept} weight{'s' if kept != 1 else ''}, "
            f"{self.biases} bias{'es' if self.biases != 1 else ''})"
        )

    @property
    def passed(self) -> bool:
        return self.error <= TOLERANCE

    def note(self) -> str:
        """One paragraph saying what was compared and how it went."""
        if math.isnan(self.error):
            why = (
                "their gradients are below the round-off of the loss's central differences"
                if self.below_roundoff
                else "every nudge moved a ReLU input across its kink at 0, where a central "
                "difference is not the derivative"
            )
            return f"{self.counted()}, none compared: {why}"
        verdict = "passed" if self.passed else "FAILED"
        # the plain relative error, the same at any tolerance (a small gradient's may pass
        # above the tolerance: its difference is within the round-off, which is said)
        shown = self.error if math.isnan(self.relative) else self.relative
        within = " within round-off" if self.passed and shown > TOLERANCE else ""
        text = (
            f"{self.counted()}, each nudged by +-{EPS:g}: the largest relative error "
            f"is {shown:.1e} ({verdict}{within}, tolerance {TOLERANCE:g}; differences below "
            f"the round-off {self.roundoff:.0e} count as agreement)"
        )
        if self.skipped:
            text += (
                f"; {self.skipped} not compared: "
                f"{'its' if self.skipped == 1 else 'their'} nudge moves a ReLU input across "
                "its kink at 0, where a central difference is not the derivative"
            )
        if self.below_roundoff:
            text += (
                f"; {self.below_roundoff} not compared: their arrays' gradients are all below "
                "the round-off (a saturated output makes the loss noisy), so any value would pass"
            )
        if self.extrapolated:
            text += (
                "; an array was compared with Ridders' extrapolation of the central "
                "differences to step 0 (the loss curves too sharply there for one step)"
            )
        return text


def held_copy(model: Module) -> Module:
    """A copy of ``model`` whose training-mode Dropouts reuse the mask the traced step drew
    (deep-copied with them), so every forward of the copy computes one function."""
    twin = copy.deepcopy(model)
    for m in twin.modules():
        if isinstance(m, Dropout):
            m.hold_mask = True
    return twin


def check_step(
    model: Module,
    loss_fn: Loss,
    x: np.ndarray,
    target: Any,
    grads: list[np.ndarray],
    loss: float,
    pred: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
    chain: float = 0.0,
) -> StepCheck:
    """Compare ``grads`` (one per ``model.parameters()``, in order) with central
    differences of ``loss_fn(model(x), target)``. ``loss``, ``pred`` ``(n, out)`` and
    ``chain`` (the sum over the step's arrays of |dL/dh * h|, see :func:`chain_size`) are
    the step's, for the round-off estimate. ``model`` is not changed. ``progress(done,
    total)`` is called as the weights are nudged (a progress bar's update)."""
    twin = held_copy(model)
    loss_fn = copy.deepcopy(loss_fn)

    def f() -> float:
        return float(loss_fn.forward(twin.forward(x), target))

    # L's round-off: a few ulps of L itself, and of every array rounded on the way to it,
    # as much as L depends on it (|dL/dh * h| per entry): a saturated output (BCE at
    # p = 0.99997, 1 - p keeping 11 of 16 digits) makes L ~1e4 times noisier than its
    # value says. The predictions and targets count on their own only for cross-entropy,
    # whose log-sum-exp of large logits cancels inside the loss, where no array shows it
    ulps = 4 * np.finfo(np.float64).eps / EPS
    roundoff: float = max(ulps * abs(loss), ulps * chain)
    if isinstance(loss_fn, CrossEntropyLoss):
        roundoff = max(roundoff, loss_roundoff(loss, pred, np.asarray(target, float), EPS))
    floor = roundoff / TOLERANCE
    params = twin.parameters()
    result = StepCheck(0.0, sum(p.data.size for p in params), roundoff=roundoff)
    result.biases = sum(
        p.data.size for name, p in twin.named_parameters() if name.rsplit(".", 1)[-1] == "bias"
    )
    errors, plain = [], []
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, result.weights)

    with KinkWatch(twin) as watch:
        f()
        base = watch.take()  # which side of each kink every input is on, unnudged
        for grad, p in zip(grads, params, strict=True):
            numeric, valid = numeric_gradient_watched(f, p.data, EPS, watch, base, tick)
            result.skipped += int(np.count_nonzero(~valid))
            if _below(grad, numeric, valid, roundoff):
                # every gradient smaller than the differences' own noise: any tiny value
                # would pass, so the array is not compared (as proplab gradcheck does)
                result.below_roundoff += int(np.count_nonzero(valid))
                errors.append(math.nan)
                continue
            error = compared_error(grad, numeric, valid, floor)
            relative = compared_error(grad, numeric, valid)
            if error > TOLERANCE:
                refined = _ridders(f, p.data, valid, watch, base)
                if refined is not None:
                    values, pinned = refined
                    again = compared_error(grad, values, pinned, floor)
                    if again <= TOLERANCE:
                        error, result.extrapolated = again, True
                        relative = compared_error(grad, values, pinned)
            errors.append(error)
            plain.append(relative)
    compared = [e for e in errors if not math.isnan(e)]
    # Python floats (some errors are NumPy scalars): the playground sends them as JSON
    result.error = float(max(compared)) if compared else math.nan
    result.relative = float(max(plain)) if plain else math.nan
    return result


def _below(grad: np.ndarray, numeric: np.ndarray, valid: np.ndarray, roundoff: float) -> bool:
    """Every valid entry of both below the round-off (and not all exactly 0: a dead unit's
    zeros are compared, and agree)."""
    if not valid.any():
        return False
    scale = max(float(np.max(np.abs(grad[valid]))), float(np.max(np.abs(numeric[valid]))))
    return 0.0 < scale < roundoff


def chain_size(outputs: list[np.ndarray], grads: list[np.ndarray]) -> float:
    """The sum over every array ``h`` of a step and its gradient ``dL/dh`` of
    |dL/dh * h|: how much L moves when each entry is rounded (relative error 1)."""
    return float(sum(np.sum(np.abs(g * h)) for h, g in zip(outputs, grads, strict=True)))


def _ridders(
    f: Callable[[], float],
    array: np.ndarray,
    valid: np.ndarray,
    watch: KinkWatch,
    base: list,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Ridders' derivative of every valid entry, and which stayed clear of kinks; None
    unless every one is pinned down to the tolerance (its own error estimate)."""
    values = np.zeros(array.shape)
    errors = np.zeros(array.shape)
    clear = valid.copy()
    for i in zip(*np.nonzero(valid), strict=True):
        values[i], errors[i] = ridders_derivative(f, array, i, RIDDERS_STEP)
        if _crossed_any(watch.take(), base):
            clear[i] = False
    if not clear.any() or not np.isfinite(values[clear]).all():
        return None
    scale = max(float(np.max(np.abs(values[clear]))), 1e-12)
    if np.max(errors[clear]) > TOLERANCE * scale:
        return None
    return values, clear


def _crossed_any(sides: list[np.ndarray], base: list[np.ndarray]) -> bool:
    """Whether any of several forward passes' kink sides (``len(base)`` per pass, in
    order) differs from the unnudged pass's ``base``."""
    n = len(base)
    if n == 0:
        return False
    if len(sides) % n:
        return True
    return any(not np.array_equal(s, base[j % n]) for j, s in enumerate(sides))
