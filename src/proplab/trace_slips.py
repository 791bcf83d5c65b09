"""What a wrong array of :func:`proplab.trace_compare.compare` looks like: the usual slips
of a hand-written backpropagation, each checked numerically against the trace.

- any wrong array (:func:`looks_like`): the right one transposed, with every sign flipped,
  or a constant times it, the constant named when it is one the lab's formulas hold
  (``1/N`` with N the samples, ``2``, ``2/N``...);
- the first wrong ``dL/d<z>`` or ``dL/d<a>`` (:func:`backward_slip`): the activation's
  derivative left out, applied twice, or computed from the wrong array (``z (1 - z)``
  for the sigmoid's ``a (1 - a)``), or dL/da computed with the weights after the update;
- a wrong ``<W> new`` whose gradient is right (:func:`update_slip`): the learning rate
  the student's step used, solved for, and named against the trace's.

Each returns a note a teaching assistant can paste as feedback, or ``""`` when no slip
fits (a note is only given when the slip reproduces the array within the tolerance).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import numpy as np

from proplab.activations import Sigmoid, Tanh, sigmoid
from proplab.gradcheck import relative_error
from proplab.losses import CrossEntropyLoss
from proplab.trace import ModuleStep, StepTrace, param_label, plain_sgd

# what the sign-flip note starts with: Comparison's verdict reads it (the descent
# direction's sign convention, every gradient flipped, every update right)
FLIPPED = "it is proplab's with every sign flipped"

_Array = Callable[[np.ndarray], np.ndarray]


# per activation: its derivative as a formula of its output a and as a function of it
# (what the backward uses), its name and function, and its derivative as a formula of
# its input: the slips take the first from z, or the last from a
_FROM_WRONG_ARRAY: dict[type, tuple[str, _Array, str, _Array, str]] = {
    Sigmoid: ("{a} (1 - {a})", lambda v: v * (1 - v), "sigmoid", sigmoid,
              "sigmoid({v}) (1 - sigmoid({v}))"),
    Tanh: ("(1 - {a}^2)", lambda v: 1 - v**2, "tanh", np.tanh, "1 - tanh({v})^2"),
}  # fmt: skip


def close(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    """``a`` equals ``b`` to ``tolerance``, relative to the larger one's largest entry."""
    return relative_error(a, b) <= tolerance


def looks_like(
    yours: np.ndarray,
    ours: np.ndarray,
    tolerance: float,
    trace: StepTrace,
    named_only: bool = False,
) -> str:
    """The usual slips a wrong array shows: transposed, signs flipped, scaled.

    ``named_only``: a factor is noted only when :func:`factor_fits` spells it (1/N, 2...),
    for an array after the first wrong one. There a slip upstream that is nearly a
    constant (a missing f'(z3), with every output near 0.5) makes a small array nearly
    proportional to proplab's, within float32's tolerance by chance (verify23 L1: a bare
    "times 5.21229" on dL/db2 that float64 does not give), which would send the student
    after a 1/N or a learning rate that is not there."""
    if yours.ndim == 2 and yours.shape == yours.T.shape and close(yours.T, ours, tolerance):
        return "it is proplab's transposed (a missing .T?)"
    if close(-yours, ours, tolerance):
        return f"{FLIPPED} (p - t against t - p? a + for a -?)"
    big = np.abs(ours) > 1e-12 * max(float(np.max(np.abs(ours))), 1e-300)
    # one entry is a constant times any other: no evidence of a factor (persona22 M3: a
    # 1-entry dL/db3 was "times 4.49995: the mean's 1/N?" for a missing derivative)
    if ours.size >= 2 and big.any():
        factor = float(np.median(yours[big] / ours[big]))
        if np.isfinite(factor) and factor != 0 and close(yours, factor * ours, tolerance):
            fits = factor_fits(factor, trace, tolerance)
            if fits:
                why = ", or ".join(why for _, why in fits)
                shown = f"{factor:.6g}"
                spelled = "" if fits[0][0] == shown else f" = {fits[0][0]}"
                return f"it is proplab's times {shown}{spelled}: {why}"
            if not named_only:
                return (
                    f"it is proplab's times {factor:.6g} (a missing or extra factor: the "
                    "mean's 1/N? the square's 2? the learning rate?)"
                )
    return ""


def _counts(trace: StepTrace) -> list[tuple[int, str]]:
    """The N a mean of the step divides by, each with what it counts: the samples, and for
    a loss averaged over every output value (MSE, BCE) those when there are more."""
    n = int(trace.x.shape[0])
    counts = [(n, f"N = {n} samples")]
    values = int(np.size(trace.pred))
    if values != n and not isinstance(trace.loss_fn, CrossEntropyLoss):
        counts.append((values, f"N = {values} values (samples x outputs)"))
    return counts


def factor_fits(factor: float, trace: StepTrace, tolerance: float = 0.0) -> list[tuple[str, str]]:
    """``factor`` spelled as the lab's formulas make it, each with the slip it suggests:
    ``("1/21", "1/N with N = 21 samples once too often (...)")``; none: ``[]``. (ta23
    L1: "times 0.047619" left the TA to see 1/21 in it.)"""
    candidates: list[tuple[float, str, str]] = [
        (2.0, "2", "a 2 too many (the square's 2 twice?)"),
        (0.5, "1/2", "the square's 2 left out?"),
    ]
    for n, what in _counts(trace):
        if n < 2:
            continue
        candidates += [
            (1 / n, f"1/{n}", f"1/N with {what} once too often (a mean where proplab sums?)"),
            (float(n), f"{n}", f"N with {what}: the mean's 1/N left out (a sum for a mean?)"),
            (2 / n, f"2/{n}", f"2/N with {what} once too often (the mean's 2/N twice?)"),
            (n / 2, f"{n}/2", f"N/2 with {what}: the mean's 2/N left out (p - t for 2 (p - t)/N?)"),
        ]
    # the factor is a median of ratios: as exact as the arrays (float32's ~1e-7, the
    # tolerance's ~1e-2 for float16)
    fits = [(spelled, why) for value, spelled, why in candidates if _same(factor, value, tolerance)]
    return fits


def _same(a: float, b: float, tolerance: float = 0.0) -> bool:
    return math.isclose(a, b, rel_tol=max(1e-4, tolerance))


def backward_slip(trace: StepTrace, name: str, yours: np.ndarray, tolerance: float) -> str:
    """What a wrong ``dL/d<z>`` or ``dL/d<a>`` of the backward is, checked numerically:
    the activation's derivative left out, applied twice (persona22 M3) or taken from the
    wrong array (ta23 M2: ``dL/da1 * z1 (1 - z1)``, the lab's most common slip), or dL/da
    computed with a layer's weights after the update (persona22 L6)."""
    ours = trace.arrays()
    for step in trace.modules:
        if step.grad_input is None or name != f"dL/d{step.input_name}":
            continue
        upstream = cast(np.ndarray, step.grad_output)  # dL/d<output>, what the step received
        if step.local is not None and step.local.shape == yours.shape:
            f = f"f'({step.input_name})"
            if close(yours * step.local, ours[name], tolerance):
                return (
                    f"it is dL/d{step.name} without the factor {f}: the activation's "
                    f"derivative left out? (dL/d{step.input_name} = dL/d{step.name} * {f})"
                )
            if close(yours, ours[name] * step.local, tolerance):
                return f"it is proplab's times {f} once more: the activation's derivative applied twice?"
            wrong_array = _derivative_from_wrong_array(step, yours, upstream, tolerance)
            if wrong_array:
                return wrong_array
        weight = step.params.get("weight")
        if weight is not None and weight.ndim == 2 and upstream.ndim == 2:
            return _updated_weights(step, yours, upstream, tolerance)
    return ""


def _derivative_from_wrong_array(
    step: ModuleStep, yours: np.ndarray, upstream: np.ndarray, tolerance: float
) -> str:
    """``dL/dz = dL/da * f'`` with f' computed from the wrong array: the output formula
    ``a (1 - a)`` applied to the input z, or the input formula ``sigmoid(z) (1 -
    sigmoid(z))`` applied to the output a (the activation applied twice)."""
    known = _FROM_WRONG_ARRAY.get(type(step.module))
    if known is None or upstream.shape != yours.shape:
        return ""
    of_output, formula, activation, function, of_input = known
    z, a = step.input_name, step.name
    f = f"f'({z})"
    right = of_output.format(a=a)
    if close(yours, upstream * formula(step.input), tolerance):
        return (
            f"it is dL/d{a} * {of_output.format(a=z)}: {f} computed from {z}, not from {a}? "
            f"({f} = {right}, with {a} = {activation}({z}))"
        )
    if close(yours, upstream * formula(function(step.output)), tolerance):
        return (
            f"it is dL/d{a} * {of_input.format(v=a)}: a derivative written for {z} given "
            f"{a}, the {activation} applied twice? ({f} = {right})"
        )
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
        lr = float(np.sum((cast(np.ndarray, step.grad_input) - yours) * shift)) / scale
        if not (math.isfinite(lr) and lr > 0):
            return ""
        after = step.params["weight"] - lr * grad
    if after.shape[1] != upstream.shape[1] or (upstream @ after.T).shape != yours.shape:
        return ""
    if not close(yours, upstream @ after.T, tolerance):
        return ""
    return (
        f"it is dL/d{step.name} {label}^T with {label} after the update: the backward must "
        f"use {label} as the forward had it, before the step changes it"
    )


def update_slip(trace: StepTrace, name: str, yours: np.ndarray, tolerance: float) -> str:
    """A wrong ``<P> new`` that is ``P - lr' dL/dP`` for another rate ``lr'`` than the
    trace's plain SGD step (ta23 M2: ``lr / N``, the mean's 1/N divided in once more):
    ``lr'`` solved for, and named against the trace's rate."""
    if not name.endswith(" new") or not plain_sgd(trace.optimizer):
        return ""
    label = name.removesuffix(" new")
    for step in trace.modules:
        for pname, before in step.params.items():
            if param_label(step, pname) != label or pname not in step.grads:
                continue
            grad = step.grads[pname]
            scale = float(np.sum(grad * grad))
            if yours.shape != before.shape or scale == 0.0:
                return ""
            # yours = before - lr' grad: the least-squares lr'
            rate = float(np.sum((before - yours) * grad)) / scale
            if not math.isfinite(rate) or not close(yours, before - rate * grad, tolerance):
                return ""
            lr = float(cast(float, trace.optimizer.hyper["lr"]))  # type: ignore[union-attr]
            return _rate_note(label, rate, lr, trace, tolerance)
    return ""


def _rate_note(label: str, rate: float, lr: float, trace: StepTrace, tolerance: float) -> str:
    """The learning rate a step used, against the trace's ``lr``."""
    grad = f"dL/d{label}"
    if _same(rate, -lr, tolerance):
        return (
            f"your update is {label} + lr {grad}, a step uphill: gradient descent subtracts "
            f"({label} - lr {grad})"
        )
    ratio = rate / lr
    for n, what in _counts(trace):
        if _same(ratio, 1 / n, tolerance):  # the usual one (ta23 M2), said as the TA would say it
            return (
                f"your update uses lr {rate:.6g} = lr / {n} ({what}): divided by N once "
                f"more? ({grad} already holds the loss's mean; the step is {label} - lr {grad})"
            )
    fits = factor_fits(ratio, trace, tolerance)
    spelled = f" = lr x {fits[0][0]}" if fits else ""
    return f"your update uses lr {rate:.6g}{spelled}, proplab's step lr {lr:g}: {label} - lr {grad}"
