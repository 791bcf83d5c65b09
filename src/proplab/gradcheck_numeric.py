"""Central differences for :mod:`proplab.gradcheck`: plain, watched for kinks, of a loss.

``numeric_gradient`` is the textbook one: nudge each entry by +-eps and take
(F(+) - F(-)) / (2 eps). The others are what the check needs around it: which
nudges cross a ReLU's kink at 0 (there a central difference is no derivative),
which nudged predictions a loss refuses (BCELoss within eps of 0 or 1), and
Ridders' extrapolation for a loss that curves too sharply for one step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from proplab.activations import LeakyReLU, ReLU
from proplab.core import Module

KINKED = (ReLU, LeakyReLU)  # modules whose derivative jumps at 0

# The steps a central difference means something with, in float64: below 1e-10 the
# difference of two losses is mostly round-off (at 1e-300 every array was "not
# compared"); above 1e-3 the eps**2 truncation error fails correct sigmoid, tanh and
# batchnorm layers at the default tolerance (cli20: --eps 1 and 1e308 blamed correct
# backwards, 1e308 with the hint that forward does not read its parameter).
EPS_RANGE = (1e-10, 1e-3)


def _central(
    f: Callable[[], float],
    array: np.ndarray,
    i: tuple[int, ...],
    eps: float,
    after_each: Callable[[], None] | None = None,
) -> float:
    """(F(array[i] + eps) - F(array[i] - eps)) / (2 eps), nudging ``array[i]`` in place.

    The entry is restored in a ``finally``: a forward that raises on a nudged value
    (a model refusing a weight, a loss refusing a prediction) must not leave the
    caller's parameter off by eps. ``after_each`` runs after each of the two calls
    of ``f`` (the kink watch reads what that forward pass saw).
    """
    old = array[i]
    try:
        array[i] = old + eps
        plus = f()
        if after_each is not None:
            after_each()
        array[i] = old - eps
        minus = f()
        if after_each is not None:
            after_each()
    finally:
        array[i] = old
    return (plus - minus) / (2 * eps)


def numeric_gradient(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/d(array) by central differences, perturbing ``array`` in place and restoring it
    (also when ``f`` raises)."""
    grad = np.zeros(array.shape, dtype=np.float64)
    for i in np.ndindex(array.shape):
        grad[i] = _central(f, array, i, eps)
    return grad


class KinkWatch:
    """While entered, records which side of 0 every ReLU/LeakyReLU input of ``target``
    is on, forward pass after forward pass (each such module's forward is wrapped by an
    instance attribute, removed on exit)."""

    def __init__(self, target: Module) -> None:
        self.modules = [m for m in target.modules() if isinstance(m, KINKED)]
        self.sides: list[np.ndarray] = []

    def __enter__(self) -> KinkWatch:
        for m in self.modules:
            # an instance attribute shadows the method while the check runs (__exit__ removes it)
            m.forward = self._watching(m.forward)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        for m in self.modules:
            del m.forward

    def _watching(self, forward: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        def wrapped(inp: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
            self.sides.append(np.asarray(inp) > 0)
            return forward(inp, *args, **kwargs)

        return wrapped

    def take(self) -> list[np.ndarray]:
        """The sides recorded since the last call."""
        sides, self.sides = self.sides, []
        return sides


def _crossed(sides: list[np.ndarray], base: list[np.ndarray]) -> bool:
    return len(sides) != len(base) or any(
        not np.array_equal(a, b) for a, b in zip(sides, base, strict=True)
    )


def numeric_gradient_watched(
    f: Callable[[], float],
    array: np.ndarray,
    eps: float,
    watch: KinkWatch,
    base: list,
    on_entry: Callable[[], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`numeric_gradient`, and which entries are valid: False where a +-eps nudge
    put a watched input on the other side of its kink than ``base``. ``on_entry`` is
    called as each entry's nudges start (a progress bar's tick)."""
    grad = np.zeros(array.shape, dtype=np.float64)
    valid = np.ones(array.shape, dtype=bool)
    crossings: list[bool] = []  # for the current entry: one per nudge, +eps then -eps

    def note_crossing() -> None:
        crossings.append(_crossed(watch.take(), base))

    for i in np.ndindex(array.shape):
        if on_entry is not None:
            on_entry()
        crossings.clear()
        grad[i] = _central(f, array, i, eps, note_crossing)
        valid[i] = not any(crossings)
    return grad, valid


def numeric_gradient_of_loss(
    f: Callable[[], float], array: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, str]:
    """:func:`numeric_gradient` of a loss, and which entries are valid: False where the
    loss refused a nudged value with a ValueError (e.g. BCELoss at a prediction within
    eps of 0 or 1); the first such message, or ``""``."""
    grad = np.zeros(array.shape, dtype=np.float64)
    valid = np.ones(array.shape, dtype=bool)
    refused = ""
    for i in np.ndindex(array.shape):
        try:
            grad[i] = _central(f, array, i, eps)
        except ValueError as exc:
            valid[i], refused = False, refused or str(exc)
    return grad, valid, refused


def ridders_derivative(
    f: Callable[[], float], array: np.ndarray, index: tuple[int, ...], step: float
) -> tuple[float, float]:
    """dF/d(array[index]) by Ridders' extrapolation of central differences with shrinking
    steps (``step``, ``step / 1.4``, ...), and an estimate of its error.

    A central difference is off by ~step^2 times the third derivative; extrapolating
    the sequence to step 0 removes that, which matters where the function curves
    sharply (BCE near 0 or 1). Stops when round-off starts to grow the error estimate.
    (Numerical Recipes' ``dfridr``.)
    """
    shrink, rows = 1.4, 10
    table = np.zeros((rows, rows))
    table[0, 0] = best = _central(f, array, index, step)
    error = math.inf
    for k in range(1, rows):
        step /= shrink
        table[0, k] = _central(f, array, index, step)
        factor = shrink**2
        for j in range(1, k + 1):  # eliminate the step^2, step^4, ... terms in turn
            table[j, k] = (table[j - 1, k] * factor - table[j - 1, k - 1]) / (factor - 1)
            factor *= shrink**2
            change = max(abs(table[j, k] - table[j - 1, k]), abs(table[j, k] - table[j - 1, k - 1]))
            if change <= error:
                error, best = change, table[j, k]
        if abs(table[k, k] - table[k - 1, k - 1]) >= 2 * error:
            break  # round-off took over
    return float(best), float(error)
