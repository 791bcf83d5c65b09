"""Your own backpropagation against proplab's, array by array: where it first goes wrong.

A student who writes the lab's network by hand (NumPy, no proplab) can give proplab the
same weights and sample, trace the step (:func:`proplab.trace_step`), and hand over the
arrays their code computed, named as the trace names them (``{"z1": ..., "a1": ...,
"dL/dz2": ..., "dL/dW1": ...}``, see :meth:`~proplab.trace.StepTrace.arrays`).
:func:`compare` checks each, in the order the calculation makes them, and names the
first one that differs: the bug is there (every later array inherits it). For a wrong
one it also says what it looks like: the right array transposed (a missing ``.T``), a
constant times it (a missing or extra factor such as the mean's 1/N or the square's 2;
only for arrays of 2 entries or more), the right values with a different shape; and for
the first wrong one, checked against the trace's own arrays, a dL/dz with the
activation's derivative f'(z) left out or applied twice, or a dL/da computed with the
next layer's weights after the update instead of the forward's.

Shapes: each of your arrays must have the trace's shape, or the same values after
dropping axes of length 1 (a bias as ``(1, units)``, a loss as ``(1,)``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from proplab.gradcheck import relative_error
from proplab.trace import ModuleStep, StepTrace, param_label

# what compare returns lives apart, so that trace.py can name it without importing this
from proplab.trace_comparison import Comparison, Row


def compare(trace: StepTrace, mine: Mapping[str, Any], tolerance: float = 1e-7) -> Comparison:
    """Each of ``mine`` (name -> array) against ``trace``'s array of that name.

    Raises ValueError for a name the trace has not (with the nearest it has) or an
    empty ``mine``, TypeError for a value that is not numbers.
    """
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a finite number > 0, got {tolerance!r}")
    if not isinstance(mine, Mapping) or not mine:
        raise ValueError(
            "compare takes your arrays by name, e.g. {'z1': z1, 'dL/dW1': dW1}; got "
            f"{type(mine).__name__ if not isinstance(mine, Mapping) else 'an empty mapping'}"
        )
    ours = trace.arrays()
    for name in mine:
        if name not in ours:
            same_letters = [k for k in ours if k.lower() == str(name).lower()]  # dL/dw1
            near = same_letters or difflib.get_close_matches(str(name), list(ours), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ValueError(f"the trace has no array {name!r} (it has: {', '.join(ours)}){hint}")
    result = Comparison(tolerance=tolerance)
    yours: dict[str, np.ndarray] = {}
    for name, reference in ours.items():  # calculation order, whatever order mine came in
        if name in mine:
            yours[name] = _numbers(name, mine[name])
            result.rows.append(_row(name, yours[name], reference, tolerance))
    first = result.first_wrong
    if first is not None and not first.note and not math.isinf(first.error):
        # the first wrong array's cause may lie in an array of the trace the student did
        # not compute (f'(z), the weights before the update): checked against those
        first.note = _backward_slip(trace, first.name, yours[first.name], tolerance)
    return result


def _backward_slip(trace: StepTrace, name: str, yours: np.ndarray, tolerance: float) -> str:
    """What a wrong ``dL/d<z>`` or ``dL/d<a>`` of the backward is, checked numerically:
    the activation's derivative f'(z) left out or applied twice (persona22 M3: the lab's
    classic slip, a missing output-sigmoid derivative, was called "a missing factor: the
    mean's 1/N?"), or dL/da computed with a layer's weights after the update (L6)."""
    ours = trace.arrays()
    for step in trace.modules:
        if step.grad_input is None or name != f"dL/d{step.input_name}":
            continue
        upstream = cast(np.ndarray, step.grad_output)  # dL/d<output>, what the step received
        if step.local is not None and step.local.shape == yours.shape:
            f = f"f'({step.input_name})"
            if _close(yours * step.local, ours[name], tolerance):
                return (
                    f"it is dL/d{step.name} without the factor {f}: the activation's "
                    f"derivative left out? (dL/d{step.input_name} = dL/d{step.name} * {f})"
                )
            if _close(yours, ours[name] * step.local, tolerance):
                return f"it is proplab's times {f} once more: the activation's derivative applied twice?"
        weight = step.params.get("weight")
        if weight is not None and weight.ndim == 2 and upstream.ndim == 2:
            return _updated_weights(step, yours, upstream, tolerance)
    return ""


def _updated_weights(
    step: ModuleStep, yours: np.ndarray, upstream: np.ndarray, tolerance: float
) -> str:
    """``dL/d<input>`` computed as ``dL/d<z> W^T`` with ``W`` after the update (the seed
    report's bug: a layer stepping inside its backward before passing the gradient
    down). The updated ``W`` is the trace's when it has an optimizer; without one, a
    plain SGD step ``W - lr dL/dW`` for the ``lr`` that fits best, if one does."""
    label = param_label(step, "weight")
    after = step.updated.get("weight")
    if after is None:
        # yours = dz (W - lr dW)^T = ours - lr dz dW^T: the one lr that would explain it
        grad = step.grads.get("weight")
        if grad is None or grad.shape != step.params["weight"].shape:
            return ""
        shift = upstream @ grad.T
        scale = float(np.sum(shift * shift))
        if yours.shape != shift.shape or scale == 0.0:
            return ""
        lr = float(np.sum((step.grad_input - yours) * shift)) / scale
        if not (math.isfinite(lr) and lr > 0):
            return ""
        after = step.params["weight"] - lr * grad
    if after.shape[1] != upstream.shape[1] or (upstream @ after.T).shape != yours.shape:
        return ""
    if not _close(yours, upstream @ after.T, tolerance):
        return ""
    return (
        f"it is dL/d{step.name} {label}^T with {label} after the update: the backward must "
        f"use {label} as the forward had it, before the step changes it"
    )


def _numbers(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"your {name!r} must be numbers, got an array of dtype {array.dtype}")
    return array.astype(np.float64)


def _row(name: str, yours: np.ndarray, ours: np.ndarray, tolerance: float) -> Row:
    ours = np.asarray(ours, dtype=np.float64)
    if yours.shape != ours.shape and yours.size == ours.size:
        squeezed = np.squeeze(yours).shape == np.squeeze(ours).shape
        if squeezed:  # a bias (1, units) for (units,): the same array
            yours = yours.reshape(ours.shape)
    if yours.shape != ours.shape:
        note = f"shape {yours.shape}, proplab's is {ours.shape}"
        if yours.ndim == 2 and yours.T.shape == ours.shape and _close(yours.T, ours, tolerance):
            note += ": it is proplab's transposed (a missing .T?)"
        return Row(name, math.inf, False, note)
    error = relative_error(yours, ours)
    if error <= tolerance:
        return Row(name, error, True)
    return Row(name, error, False, _what_it_looks_like(yours, ours, tolerance))


def _close(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    return relative_error(a, b) <= tolerance


def _what_it_looks_like(yours: np.ndarray, ours: np.ndarray, tolerance: float) -> str:
    """The usual slips a wrong array shows: transposed, scaled, signs flipped."""
    if yours.ndim == 2 and yours.shape == yours.T.shape and _close(yours.T, ours, tolerance):
        return "it is proplab's transposed (a missing .T?)"
    if _close(-yours, ours, tolerance):
        return "it is proplab's with every sign flipped (p - t against t - p? a + for a -?)"
    big = np.abs(ours) > 1e-12 * max(float(np.max(np.abs(ours))), 1e-300)
    # one entry is a constant times any other: no evidence of a factor (persona22 M3: a
    # 1-entry dL/db3 was "times 4.49995: the mean's 1/N?" for a missing derivative)
    if ours.size >= 2 and big.any():
        ratios = yours[big] / ours[big]
        factor = float(np.median(ratios))
        if np.isfinite(factor) and factor != 0 and _close(yours, factor * ours, tolerance):
            return (
                f"it is proplab's times {factor:.6g} (a missing or extra factor: the mean's "
                "1/N? the square's 2? the learning rate?)"
            )
    return ""
