"""Your own backpropagation against proplab's, array by array: where it first goes wrong.

A student who writes the lab's network by hand (NumPy, no proplab) can give proplab the
same weights and sample, trace the step (:func:`proplab.trace_step`), and hand over the
arrays their code computed, named as the trace names them (``{"z1": ..., "a1": ...,
"dL/dz2": ..., "dL/dW1": ...}``, see :meth:`~proplab.trace.StepTrace.arrays`; the weights
to start from are :meth:`~proplab.trace.StepTrace.weights`). :func:`compare` checks each,
in the order the calculation makes them, and names the first one that differs: the bug
is there (every later array inherits it). For a wrong one it also says what it looks
like (:mod:`proplab.trace_slips`): the right array transposed (a missing ``.T``), a
constant times it (named when it is 1/N, N, 2, 2/N...; only for arrays of 2 entries or
more, and after the first wrong array only when it is one of those), the right values with a different shape; for the first wrong one, checked
against the trace's own arrays, a dL/dz with the activation's derivative f'(z) left
out, applied twice or computed from z instead of a, or a dL/da computed with the next
layer's weights after the update; and for an updated weight whose gradient is right,
the learning rate its step used.

Tolerance: by default 1e-7 for float64 arrays; when your arrays (or the trace's) are
float32 or float16, ``1000 eps`` of the coarsest (1.2e-4 for float32; at most 1e-2, for
float16), as their rounding reaches a few eps in every array of a correct step.

Shapes: each of your arrays must have the trace's shape, or the same values after
dropping axes of length 1 (a bias as ``(1, units)``, a loss as ``(1,)``). Weights are
``(in, out)`` as proplab keeps them; code that keeps them ``(out, in)`` (PyTorch's
layout, ``z = x W^T + b``) passes ``layout="out_in"`` and its weight-shaped arrays
(``W1``, ``dL/dW1``, ``W1 new``) are transposed before they are compared.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from proplab.gradcheck import relative_error
from proplab.trace import StepTrace, param_label

# what compare returns lives apart, so that trace.py can name it without importing this
from proplab.trace_comparison import Comparison, Row
from proplab.trace_slips import FLIPPED, backward_slip, close, looks_like, update_slip

# float64: far above its rounding (~1e-16 per operation), far below any slip (~1e-2 to 1)
TOLERANCE = 1e-7
# a coarser float's rounding: a few eps in each array of a correct step (2 eps seen in a
# 2-10-10-1 step on 21 samples), more where a sum over the samples cancels; 1000 eps
# leaves room for that and stays far below any slip. float16's 1000 eps is ~1: capped
EPS_FACTOR = 1000
MAX_ROUNDING_TOLERANCE = 1e-2
LAYOUTS = ("in_out", "out_in")


def precision_tolerance(dtype: np.dtype) -> float:
    """The tolerance for arrays of float ``dtype``: :data:`TOLERANCE` for float64 (and
    finer), ``1000 eps`` for a coarser one, at most :data:`MAX_ROUNDING_TOLERANCE`."""
    scaled = EPS_FACTOR * float(np.finfo(dtype).eps)
    return TOLERANCE if dtype.itemsize >= 8 else min(max(scaled, TOLERANCE), MAX_ROUNDING_TOLERANCE)


def compare(
    trace: StepTrace,
    mine: Mapping[str, Any],
    tolerance: float | None = None,
    *,
    layout: str = "in_out",
) -> Comparison:
    """Each of ``mine`` (name -> array) against ``trace``'s array of that name.

    ``tolerance``: the largest relative error that is a match; None (the default) is
    1e-7, or for float32/float16 arrays a tolerance for their rounding (see
    :func:`precision_tolerance`). ``layout``: ``"in_out"`` (proplab's, ``z = x W + b``)
    or ``"out_in"`` (``z = x W^T + b``: your weight-shaped arrays are transposed first).

    Raises ValueError for a name the trace has not (with the nearest it has), an
    empty ``mine`` or another layout, TypeError for a value that is not numbers.
    """
    if tolerance is not None and not (
        isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance > 0
    ):
        raise ValueError(f"tolerance must be a finite number > 0 or None, got {tolerance!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")
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
    given = {name: _numbers(name, mine[name]) for name in mine}
    # the coarsest float among yours and the trace's: its rounding is in every array
    # (ta23 M1: a correct float32 step was WRONG at 1.6e-7 against 1e-7)
    coarsest = min(
        (a.dtype for k, a in [*given.items(), *ours.items()] if _computed(k, a)),
        key=lambda d: d.itemsize,
        default=np.dtype(np.float64),
    )
    precision = "" if coarsest.itemsize >= 8 else coarsest.name
    used = precision_tolerance(coarsest) if tolerance is None else float(tolerance)
    result = Comparison(tolerance=used, precision=precision if tolerance is None else "")
    transposed = _weight_names(trace) if layout == "out_in" else set()
    yours: dict[str, np.ndarray] = {}
    for name, reference in ours.items():  # calculation order, whatever order mine came in
        if name in given:
            mine_now = given[name]
            yours[name] = mine_now.T if name in transposed and mine_now.ndim == 2 else mine_now
            # after the first wrong array, a factor none of the formulas has is no clue:
            # that array inherits the first one's slip (verify23 L1)
            after_first = result.first_wrong is not None
            row = _row(name, yours[name].astype(np.float64), reference, used, trace, after_first)
            if (
                not row.ok
                and tolerance is not None
                and precision
                and (row.error <= precision_tolerance(coarsest))
            ):
                row.note = f"within {precision}'s rounding (tolerance=None allows for it)"
            result.rows.append(row)
    first = result.first_wrong
    if first is not None and not math.isinf(first.error):
        # the first wrong array's cause may lie in an array of the trace the student did
        # not compute (f'(z), the weights before the update): checked against those, and
        # named before a factor (float16's tolerance let a nearly constant f'(z3) of 0.22
        # pass for "times 4.5")
        first.note = backward_slip(trace, first.name, _as64(yours[first.name]), used) or first.note
    rows = {r.name: r for r in result.rows}
    for row in result.rows:
        gradient = rows.get(f"dL/d{row.name.removesuffix(' new')}")
        if row.ok or not row.name.endswith(" new") or math.isinf(row.error):
            continue
        # the step's own slip only where its gradient is right (else the gradient's slip
        # would be read as a rate: lr / 2 for a dL/dW missing the square's 2)
        if (gradient is not None and gradient.ok) or row is first:
            note = update_slip(trace, row.name, _as64(yours[row.name]), used)
            row.note = note or row.note
    return result


def _computed(name: str, a: np.ndarray) -> bool:
    """A float array the step computed: the data ``x``, ``t`` are given (a float32 ``x``
    is exact in float64, and a float64 step on it rounds as float64)."""
    return a.dtype.kind == "f" and name not in ("x", "t")


def _as64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64)


def _weight_names(trace: StepTrace) -> set[str]:
    """The names of every 2-D weight's arrays: ``W1``, ``dL/dW1``, ``W1 new``..."""
    names = set()
    for step in trace.modules:
        weight = step.params.get("weight")
        if weight is not None and weight.ndim == 2:
            label = param_label(step, "weight")
            names |= {label, f"dL/d{label}", f"{label} new"}
    return names


def _numbers(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"your {name!r} must be numbers, got an array of dtype {array.dtype}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _row(
    name: str,
    yours: np.ndarray,
    ours: np.ndarray,
    tolerance: float,
    trace: StepTrace,
    after_first: bool = False,
) -> Row:
    ours = np.asarray(ours, dtype=np.float64)
    if yours.shape != ours.shape and yours.size == ours.size:
        squeezed = np.squeeze(yours).shape == np.squeeze(ours).shape
        if squeezed:  # a bias (1, units) for (units,): the same array
            yours = yours.reshape(ours.shape)
    if yours.shape != ours.shape:
        note = f"shape {yours.shape}, proplab's is {ours.shape}"
        if yours.ndim == 2 and yours.T.shape == ours.shape and close(yours.T, ours, tolerance):
            note += ": it is proplab's transposed (a missing .T?)"
        return Row(name, math.inf, False, note)
    error = relative_error(yours, ours)
    if error <= tolerance:
        # an array of zeros is its own negative: no evidence against a sign convention
        return Row(name, error, True, flipped=close(-yours, ours, tolerance))
    note = looks_like(yours, ours, tolerance, trace, named_only=after_first)
    return Row(name, error, False, note, flipped=note.startswith(FLIPPED))
