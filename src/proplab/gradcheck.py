"""Central-difference gradient checks for any module or loss.

For a module, the scalar being differentiated is ``L = sum(forward(x) * G)``
with a fixed random ``G``, so ``backward(G)`` must return dL/dx and add dL/dW
into every parameter's grad. Each entry is perturbed by +-eps and
(L(+) - L(-)) / (2 eps) is compared with the analytic value. Use float64.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from proplab.activations import LeakyReLU, ReLU
from proplab.core import Module, NoInputGradFlagError, returned_no_array
from proplab.losses import Loss

KINKED = (ReLU, LeakyReLU)  # modules whose derivative jumps at 0


@dataclass
class GradcheckResult:
    """Worst relative error per checked array, and whether all are within ``tolerance``.

    ``errors`` maps each checked array to its worst relative error: ``"input"``
    and every parameter name (``"0.weight"``, ``"0.bias"``...) for a module,
    ``"pred"`` for a loss. ``worst`` is the largest of them, ``ok`` (and
    ``bool(result)``) says every one is within ``tolerance``, and ``print(result)``
    shows one line per array, then ``gradcheck ok`` or ``FAILED``, then ``notes``.

    Entries whose +-eps nudge moves a ReLU/LeakyReLU input across its kink at 0
    are not compared (a central difference there is not the derivative); they are
    counted in ``kink_skipped``. An array none of whose entries could be compared
    has the error NaN, and the check is then incomplete, not ok; so has an array
    whose every gradient entry is below the central differences' own round-off (a
    saturated sigmoid's; a cross-entropy whose every sample has a wide margin).
    Otherwise ``errors`` are measured against at least that round-off over the
    tolerance: a backward within round-off of the central differences passes.
    ``relative`` holds the plain relative errors, which do not depend on the
    tolerance, and ``print(result)`` shows those, marking an array above the
    tolerance that passes by being within round-off. For a
    loss, the entries it refuses once nudged (BCELoss at a prediction within eps of
    0 or 1) are left out the same way, and where it curves too sharply for one step
    eps (BCELoss a few eps from 0 or 1) a failure is rechecked against Ridders'
    extrapolation of the central differences to step 0 (with a note), if that pins
    every derivative down. A NaN or inf gradient has the error inf (FAILED), and so
    does a backward that overwrites ``.grad`` instead of adding to it. When every
    gradient of every array is exactly 0, in the backward and in the central
    differences alike (a dead ReLU output), nothing was compared either: those
    arrays are NaN, and the check incomplete.

    ``problems`` names what fails a module whatever its gradients (a backward that
    takes no ``need_input_grad``, a forward that changes its input in place): the
    check is then FAILED, and a note says why and what to write instead.
    """

    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 1e-6
    kink_skipped: int = 0
    notes: list[str] = field(default_factory=list)
    relative: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def within_roundoff(self, name: str) -> bool:
        """Whether array ``name`` passes only by being within round-off: its relative
        error is above the tolerance, its difference no larger than the round-off."""
        return self.errors[name] <= self.tolerance < self.relative.get(name, -math.inf)

    @property
    def worst(self) -> float:
        """The largest error over the compared arrays (0.0 when nothing was compared)."""
        return max((e for e in self.errors.values() if not math.isnan(e)), default=0.0)

    @property
    def uncompared(self) -> list[str]:
        """The arrays of which no entry could be compared (every nudge crossed a kink, or
        every gradient was below the central differences' round-off)."""
        return [name for name, e in self.errors.items() if math.isnan(e)]

    @property
    def ok(self) -> bool:
        """Every array compared and within ``tolerance``, and no ``problems``."""
        return not self.problems and all(e <= self.tolerance for e in self.errors.values())

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [
            f"{name:>16}: {self.relative.get(name, err):.2e}"
            + ("  (within round-off)" if self.within_roundoff(name) else "")
            for name, err in self.errors.items()
        ]
        if self.ok:
            verdict = "ok"
        elif self.worst > self.tolerance:
            verdict = f"FAILED (tolerance {self.tolerance:.0e})"
        elif self.problems:
            verdict = "FAILED"
        else:
            verdict = f"incomplete: {', '.join(self.uncompared)} not compared"
        if self.problems:
            verdict += ": " + "; ".join(self.problems)
        lines.append(f"gradcheck {verdict}")
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a - n| over entries, relative to the array's largest magnitude.

    Scaling by the whole array (not entry by entry) keeps entries that are
    nearly zero from inflating the error with finite-difference round-off.
    """
    if np.shape(analytic) != np.shape(numeric):
        return math.inf  # a gradient of the wrong shape is wrong, even if it broadcasts
    if analytic.size == 0:
        return 0.0
    if not (np.isfinite(analytic).all() and np.isfinite(numeric).all()):
        return math.inf  # NaN would read as "not compared"; a NaN or inf gradient is wrong
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))), 1e-12)
    return float(np.max(np.abs(analytic - numeric))) / scale


def numeric_gradient(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/d(array) by central differences, perturbing ``array`` in place and restoring it."""
    grad = np.zeros(array.shape, dtype=np.float64)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        plus = f()
        array[i] = old - eps
        minus = f()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    target: Module | Loss,
    *inputs: np.ndarray,
    eps: float = 1e-6,
    tolerance: float = 1e-6,
    rng: np.random.Generator | None = None,
    check_inputs: bool = True,
) -> GradcheckResult:
    """Compare ``target``'s backward with central differences.

    For a Module pass one input ``x`` (e.g. ``(n, in)``, or ``(*R, n, in)`` for
    a stack); its input gradient and every parameter's gradient are checked
    (``check_inputs=False`` skips the input's). For a Loss pass ``(pred,
    target)`` with the shapes the loss takes (e.g. ``(n, out)`` each); the
    gradient with respect to ``pred`` is checked (a loss with replica axes is
    summed over replicas, whose gradients are independent). The model must
    be float64. Every entry of every checked array is nudged by ``+-eps``, so
    keep the arrays small (a few samples).

    Returns a :class:`GradcheckResult` with the worst relative error per array;
    ``rng`` draws the random output weights a module's output is summed with.

    Example:
        >>> model = mlp(2, 4, 1, rng=np.random.default_rng(0))
        >>> gradcheck(model, np.random.default_rng(1).normal(size=(5, 2))).ok
        True
    """
    if not (isinstance(eps, int | float) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"gradcheck: eps must be a finite number > 0, got {eps!r}")
    if not (isinstance(tolerance, int | float) and tolerance >= 0):
        raise ValueError(f"gradcheck: tolerance must be a number >= 0, got {tolerance!r}")
    if not isinstance(target, Module | Loss):
        raise TypeError(f"gradcheck checks a proplab Module or Loss, got {type(target).__name__}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"gradcheck: rng must be a numpy Generator, got {rng!r}")
    if isinstance(target, Module):
        for name, p in target.named_parameters():
            if p.data.dtype != np.float64:
                # a +-eps nudge is lost in float32 round-off: the result would be noise
                raise ValueError(
                    f"gradcheck needs a float64 model: parameter {name!r} is {p.data.dtype} "
                    f"(build the model with dtype=np.float64)"
                )
    rng = np.random.default_rng(0) if rng is None else rng
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    result = GradcheckResult(tolerance=tolerance)
    if isinstance(target, Loss):
        if len(arrays) != 2:
            raise ValueError("gradcheck of a loss takes (pred, target)")
        pred, tgt = arrays

        def loss_value() -> float:
            return float(np.sum(target.forward(pred, tgt)))

        value = loss_value()
        analytic = target.backward()
        if not isinstance(analytic, np.ndarray):
            raise returned_no_array(type(target).__name__, analytic, pred.shape, loss=True)
        if analytic.shape != pred.shape:
            result.notes.append(_loss_shape_note(type(target).__name__, analytic, pred, tgt))
        numeric, valid, refused = _numeric_gradient_of_loss(loss_value, pred, eps)
        # as for a module: errors are measured against at least the round-off over the
        # tolerance, and gradients all below the round-off cannot be compared at all
        roundoff = _loss_roundoff(value, pred, tgt, eps)
        floor = roundoff / tolerance if tolerance > 0 else 0.0
        _compare(result, "pred", analytic, numeric, valid, floor)
        if _below_roundoff(analytic, numeric, valid, roundoff):
            result.errors["pred"] = result.relative["pred"] = math.nan
            result.notes.append(_below_roundoff_note(["pred"], roundoff))
        elif _exactly_zero(result, "pred", analytic, numeric, valid):
            result.errors["pred"] = result.relative["pred"] = math.nan
            result.notes.append(_all_zero_note(["pred"], "a loss flat at these predictions?"))
        if refused:
            result.notes.append(
                f"{np.count_nonzero(~valid)} of {pred.size} entries of pred not compared: "
                f"{type(target).__name__} refuses them nudged by +-eps ({refused}); they are "
                "within eps of the edge of what it accepts"
            )
        _note_non_finite(result, {"pred": analytic})
        refined = tolerance < result.errors["pred"] < math.inf and _refine_loss_check(
            result, loss_value, pred, eps, analytic, numeric, valid, floor
        )
        if result.worst > tolerance and not refined:
            _explain_loss_failure(result, loss_value, pred, eps, analytic, numeric, valid)
        return result

    if len(arrays) != 1:
        raise ValueError("gradcheck of a module takes one input array")
    (x,) = arrays
    who = type(target).__name__
    given = x.copy()
    out = np.array(target.forward(x))  # a copy: a forward may return a reused buffer
    modifies_input = not np.array_equal(x, given, equal_nan=True)
    if modifies_input:
        # In a model a layer's input is the layer below's output, which that layer may
        # keep for its backward (Tanh keeps y), or the caller's data: a real bug, so a
        # failure. The rest of the check feeds copies, so its errors are about the math.
        result.problems.append(f"{who}.forward modified its input in place")
        result.notes.append(
            f"input: {who}.forward modified its input x in place (x changed during the "
            "call): in a model, x is the layer below's output, which that layer may keep "
            "for its backward (a Tanh keeps it), or your data for the first layer; compute "
            "the output in a new array (x * mask, np.where(mask, x, 0)), not in x. Its "
            "gradients were checked on a fresh copy of x for every forward pass"
        )
        x = given

    def run() -> np.ndarray:
        return target.forward(x.copy() if modifies_input else x)

    weights = rng.standard_normal(out.shape)

    def scalar() -> float:
        return float(np.sum(run() * weights))

    target.zero_grad()
    # the same x twice: a forward that is no function of x alone (a fresh random mask,
    # as dropout draws) makes every central difference noise
    deterministic = np.array_equal(run(), out, equal_nan=True)
    # backward gets copies of the output weights: one that writes into grad_out would
    # otherwise change the check's own (see _note_grad_out_modified)
    grad_out = weights.copy()
    try:
        grad_x = target.backward(grad_out)
    except TypeError as exc:
        # a Sequential passes need_input_grad to its first layer: one without it fails here
        refused = _refused_flag(exc)
        if refused is None:
            raise
        raise TypeError(_no_flag_note(refused)) from exc
    if not np.array_equal(grad_out, weights):
        _note_grad_out_modified(result, who)
    if check_inputs:
        _check_input_gradient(target, x, grad_x, result)
    analytic = {name: p.grad.copy() for name, p in target.named_parameters()}
    # backward must add into .grad: a second backward without zero_grad adds as much again
    run()
    target.backward(weights.copy())
    added = {name: p.grad - analytic[name] for name, p in target.named_parameters()}
    # fit calls a model's first layer with need_input_grad=False: its parameter
    # gradients must not depend on that flag
    without = _gradients_without_input_grad(target, run, weights, result)
    # round-off of L's sum, magnified by 1/eps in a central difference; errors are
    # measured against at least roundoff / tolerance (see _compared_error)
    roundoff = 4 * np.finfo(np.float64).eps * float(np.sum(np.abs(out * weights))) / eps
    floor = roundoff / tolerance if tolerance > 0 else 0.0
    checked = [("input", x, grad_x)] if check_inputs else []
    checked += [(name, p.data, analytic[name]) for name, p in target.named_parameters()]
    numeric: dict[str, np.ndarray] = {}
    valids: dict[str, np.ndarray] = {}
    analytics: dict[str, np.ndarray] = {}
    tiny: list[str] = []  # arrays whose gradients are all below the round-off
    with _KinkWatch(target) as watch:
        scalar()
        base = watch.take()  # which side of each kink every input is on, unnudged
        for name, array, grad in checked:
            numeric[name], valid = _numeric_gradient_watched(scalar, array, eps, watch, base)
            result.kink_skipped += int(np.count_nonzero(~valid))
            _compare(result, name, grad, numeric[name], valid, floor)
            if _below_roundoff(grad, numeric[name], valid, roundoff):
                tiny.append(name)
                # not compared: any tiny value would pass
                result.errors[name] = result.relative[name] = math.nan
            valids[name], analytics[name] = valid, grad
            # the same gradient by the other two ways of calling backward
            for other, problem in (
                (added, "a second backward (no zero_grad between) did not add its gradient "
                 "to the first ({error}): backward must add into .grad (p.accumulate(...) "
                 "or +=), not overwrite it"),
                (without or {}, "backward(..., need_input_grad=False) gives another "
                 "gradient ({error}); fit calls the first layer that way, so it would "
                 "learn wrongly there"),
            ):  # fmt: skip
                if name not in other:
                    continue
                error = _compared_error(other[name], numeric[name], valid, floor)
                if error > max(tolerance, result.errors[name]):
                    relative = _compared_error(other[name], numeric[name], valid)
                    shown = f"relative error {relative:.1e}"
                    result.notes.append(f"{name}: " + problem.format(error=shown))
                    result.errors[name], analytics[name] = error, other[name]
                    result.relative[name] = relative
    if result.kink_skipped:
        total = sum(a.size for _, a, _ in checked)
        result.notes.append(
            f"{result.kink_skipped} of {total} entries not compared: nudging them by +-eps "
            "moves a ReLU/LeakyReLU input across its kink at 0, where a central difference "
            "is not the derivative"
            + (
                f"; nothing of {', '.join(result.uncompared)} could be compared (check on "
                "other inputs, e.g. random x, or with non-zero biases)"
                if result.uncompared
                else ""
            )
        )
    if tiny:
        result.notes.append(_below_roundoff_note(tiny, roundoff))
    # every gradient exactly 0 (a dead ReLU output): a wrong backward would pass too. One
    # zero array among others that are compared (an unused parameter) is a comparison.
    zero = [n for n in valids if _exactly_zero(result, n, analytics[n], numeric[n], valids[n])]
    if zero and all(n in zero or math.isnan(result.errors[n]) for n in valids):
        for n in zero:
            result.errors[n] = result.relative[n] = math.nan
        result.notes.append(_all_zero_note(zero, "a dead ReLU output?"))
    _note_non_finite(result, analytics)
    if result.worst > tolerance:
        if out.dtype != np.float64:
            # a float64 nudge of 1e-6 is lost in float32's ~1e-7 relative round-off
            result.notes.append(
                f"{who}.forward returned {out.dtype}, not float64: central "
                f"differences of eps = {eps:g} drown in its round-off (compute in float64)"
            )
        _explain_failure(result, analytics, numeric, valids, roundoff)
        if not deterministic:
            result.notes.append(
                f"{who}.forward is not deterministic: two forward passes "
                "on the same x gave different outputs (a random mask, as dropout draws?), "
                "so its central differences are noise and say nothing of its backward "
                "(check it with the randomness fixed: the same mask on every call)"
            )
        _note_unread_parameters(result, analytics, numeric, valids, roundoff)
        # a kink note would send a forward that changes x, or is random, on a wrong trail
        if deterministic and not modifies_input:
            arrays = {name: array for name, array, _ in checked}
            _note_kinks(result, scalar, arrays, analytics, numeric, valids, eps)
    return result


def _check_input_gradient(
    target: Module, x: np.ndarray, grad_x: object, result: GradcheckResult
) -> None:
    """Refuse a backward that returned no array (``return`` forgotten); note a wrong shape."""
    name = type(target).__name__
    if not isinstance(grad_x, np.ndarray):
        raise returned_no_array(name, grad_x, x.shape)
    if grad_x.shape != x.shape:
        result.notes.append(
            f"input: {name}.backward returned shape {grad_x.shape} for an input of shape "
            f"{x.shape}: dL/dx has the input's shape (one row per sample: no sum over them)"
        )


# at most this many of a failed array's worst entries are probed for a kink
KINK_PROBES = 20


def _note_kinks(
    result: GradcheckResult,
    scalar: Callable[[], float],
    arrays: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    numeric: dict[str, np.ndarray],
    valid: dict[str, np.ndarray],
    eps: float,
) -> None:
    """Say so when a failure sits on a kink the check did not know of (an activation of
    the user's own, say a ReLU, with an input exactly at 0): there the derivatives from
    the left and from the right differ, the central difference is their mean, and a
    correct backward matches one side of it. Probes a failed array's worst entries."""
    kinked: list[str] = []
    for name, error in result.errors.items():
        if not result.tolerance < error < math.inf or name not in numeric:
            continue
        a, array = analytic[name], arrays[name]
        if a.shape != array.shape:
            continue
        gap = np.where(valid[name], np.abs(a - numeric[name]), 0.0).ravel()
        worst = np.argsort(gap)[::-1][:KINK_PROBES]
        base, hits, probed = scalar(), 0, worst[gap[worst] > 0]
        for i in probed:
            at = np.unravel_index(i, array.shape)  # in place: a parameter may be a view
            old, slope = array[at], float(a[at])
            array[at] = old + eps
            right = (scalar() - base) / eps
            array[at] = old - eps
            left = (base - scalar()) / eps
            array[at] = old
            scale = max(abs(left), abs(right), abs(slope), 1e-12)
            one_side = min(abs(slope - left), abs(slope - right))
            # smooth: left and right differ by ~eps * f'' (tiny); at a kink by O(1)
            if abs(right - left) > 0.1 * scale and one_side <= 1e-3 * scale:
                hits += 1
        if hits:
            kinked.append(f"{name} ({hits} of the {probed.size} entries probed)")
    if kinked:
        result.notes.append(
            f"{', '.join(kinked)}: the function has a kink there (its slope from the left "
            "and from the right differ, e.g. a ReLU input exactly at 0) and the backward "
            "matches one side: a central difference at a kink is not a derivative, so this "
            "may well not be a backward error (check on other inputs: random x, non-zero "
            "biases)"
        )


def _compare(
    result: GradcheckResult,
    name: str,
    analytic: np.ndarray,
    numeric: np.ndarray,
    valid: np.ndarray,
    floor: float,
) -> None:
    """Record array ``name``'s judged error (with the round-off ``floor``) and its plain
    relative error."""
    result.errors[name] = _compared_error(analytic, numeric, valid, floor)
    result.relative[name] = _compared_error(analytic, numeric, valid)


def _compared_error(
    analytic: np.ndarray, numeric: np.ndarray, valid: np.ndarray, floor: float = 0.0
) -> float:
    """:func:`relative_error` over the ``valid`` entries; NaN when there are none.

    ``floor``: the smallest scale an error is measured against (the central
    differences' round-off over the tolerance), so an array whose backward and
    central differences differ by no more than that round-off passes: gradients of a
    few 1e-5 (a deep sigmoid network) are otherwise failed for rounding alone.
    """
    if np.shape(analytic) != np.shape(numeric):
        return math.inf
    if not valid.any():
        return math.nan
    a, n = (analytic, numeric) if valid.all() else (analytic[valid], numeric[valid])
    error = relative_error(a, n)
    if floor > 0 and 0 < error < math.inf:
        scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))), 1e-12)
        error *= scale / max(scale, floor)
    return error


def _below_roundoff(
    analytic: np.ndarray, numeric: np.ndarray, valid: np.ndarray, roundoff: float
) -> bool:
    """Every valid entry of both below the central differences' round-off, and not all
    exactly zero: such gradients cannot be compared (any wrong tiny value would pass)."""
    if np.shape(analytic) != np.shape(numeric) or not valid.any():
        return False
    a, n = np.asarray(analytic)[valid], numeric[valid]
    if not np.isfinite(a).all():
        return False
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))))
    return 0.0 < scale < roundoff


def _exactly_zero(
    result: GradcheckResult, name: str, analytic: np.ndarray, numeric: np.ndarray, valid: np.ndarray
) -> bool:
    """Array ``name`` was compared (error 0) and every valid entry of its backward and
    central-difference gradients is exactly 0."""
    if result.errors.get(name) != 0.0 or np.shape(analytic) != np.shape(numeric):
        return False
    return bool(valid.any()) and not (np.asarray(analytic)[valid].any() or numeric[valid].any())


def _all_zero_note(names: list[str], hint: str) -> str:
    return (
        f"{', '.join(names)} not compared: every gradient is exactly 0 on these inputs, in "
        f"the backward and in the central differences alike, so any backward would pass "
        f"({hint} check on other inputs)"
    )


def _below_roundoff_note(names: list[str], roundoff: float) -> str:
    return (
        f"{', '.join(names)} not compared: every gradient entry is below the central "
        f"differences' own round-off (~{roundoff:.0e}), so any tiny value would pass "
        "(check on inputs where the outputs are not saturated)"
    )


def _loss_roundoff(value: float, pred: np.ndarray, target: np.ndarray, eps: float) -> float:
    """The round-off of a loss's central difference: a few ulps of the largest number in
    the loss's computation (the loss itself, the largest prediction or target), over eps.

    The prediction counts, not only the loss: CrossEntropyLoss at logits (24.4, -1.4)
    and label 0 is log-sum-exp minus the logit, 24.4 + 5.7e-12 - 24.4, so its value
    (5.7e-12) is only known to ~24.4 ulps and its change under a 1e-6 nudge is lost.
    """
    largest = max(
        abs(value),
        float(np.max(np.abs(pred), initial=0.0)),
        float(np.max(np.abs(target), initial=0.0)),
    )
    return 4 * np.finfo(np.float64).eps * largest / eps


class _KinkWatch:
    """While entered, records which side of 0 every ReLU/LeakyReLU input of ``target``
    is on, forward pass after forward pass (each such module's forward is wrapped by an
    instance attribute, removed on exit)."""

    def __init__(self, target: Module) -> None:
        self.modules = [m for m in target.modules() if isinstance(m, KINKED)]
        self.sides: list[np.ndarray] = []

    def __enter__(self) -> _KinkWatch:
        for m in self.modules:
            m.forward = self._watching(m.forward)
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


def _numeric_gradient_watched(
    f: Callable[[], float], array: np.ndarray, eps: float, watch: _KinkWatch, base: list
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`numeric_gradient`, and which entries are valid: False where a +-eps nudge
    put a watched input on the other side of its kink than ``base``."""
    grad = np.zeros(array.shape, dtype=np.float64)
    valid = np.ones(array.shape, dtype=bool)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        plus = f()
        crossed = _crossed(watch.take(), base)
        array[i] = old - eps
        minus = f()
        crossed = _crossed(watch.take(), base) or crossed
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
        valid[i] = not crossed
    return grad, valid


def _gradients_without_input_grad(
    target: Module, forward: Callable[[], np.ndarray], weights: np.ndarray, result: GradcheckResult
) -> dict[str, np.ndarray] | None:
    """The parameter gradients of ``backward(weights, need_input_grad=False)`` after
    ``forward()``, or None when ``target.backward`` takes no such argument: a problem
    (FAILED), since fit and Sequential call a model's first layer that way."""
    if not target.params and not target.children():
        return None  # no parameters: the flag changes nothing to check
    target.zero_grad()
    forward()
    try:
        target.backward(weights.copy(), need_input_grad=False)
    except TypeError as exc:
        who = _refused_flag(exc)
        if who is None:
            raise
        result.problems.append(f"{who}.backward takes no need_input_grad argument")
        result.notes.append(_no_flag_note(who))
        return None
    return {name: p.grad.copy() for name, p in target.named_parameters()}


def _refused_flag(exc: TypeError) -> str | None:
    """The class whose backward refused a ``need_input_grad`` argument, per ``exc``, or
    None when ``exc`` is another error. (In a model, the layer that refused it.)"""
    # Python names the function: "NoFlag.backward() takes 2 positional arguments but
    # 3 were given", or "... got an unexpected keyword argument 'need_input_grad'"
    if isinstance(exc, NoInputGradFlagError):  # a Sequential's, naming its layer
        return exc.module_name
    message = str(exc)
    called = re.search(r"([\w.<>]+)\.backward\(\) (takes|got)", message)
    if called is None or (
        "need_input_grad" not in message and "positional argument" not in message
    ):
        return None
    return called.group(1).rsplit(".", 1)[-1]


def _no_flag_note(who: str) -> str:
    return (
        f"{who}.backward takes no need_input_grad argument: a Sequential passes it to its "
        "first layer (with parameters), and fit passes need_input_grad=False there, so "
        "training fails (TypeError); write def backward(self, grad_out, "
        "need_input_grad=True), add the parameter gradients either way, and return "
        "None when it is False"
    )


def _note_grad_out_modified(result: GradcheckResult, who: str) -> None:
    """Note a backward that changed the ``grad_out`` it was given.

    A note, not a failure: proplab's Sequential, PerReplica and fit never read a
    gradient again once they have passed it to a backward (and every proplab loss
    returns a fresh array), so such a layer trains correctly with them, and its
    gradients are checked here on copies. It breaks only a container of one's own
    that passes one gradient to two backwards (a skip connection).
    """
    result.notes.append(
        f"{who}.backward modified grad_out in place (the array it was given changed during "
        "the call): harmless in proplab's Sequential and fit, which do not use a gradient "
        "again after passing it down, but wrong in a module of your own that passes one "
        "gradient to two backwards (a skip connection); return a new array "
        "(grad_out * ..., not grad_out *= ...). The gradients were checked on copies"
    )


def _explain_failure(
    result: GradcheckResult,
    analytic: dict[str, np.ndarray],
    numeric: dict[str, np.ndarray],
    valid: dict[str, np.ndarray],
    roundoff: float,
) -> None:
    """Add the note that says when a failure may not be the backward's fault: the
    backward and the central differences differ by no more than the latter's round-off
    (also when a saturated output makes every central difference exactly 0)."""
    tiny: dict[str, float] = {}  # failed arrays whose gradients are at round-off level
    for name, error in result.errors.items():
        if not result.tolerance < error < math.inf or name not in numeric:
            continue
        a, n = analytic[name][valid[name]], numeric[name][valid[name]]
        if a.size and np.max(np.abs(a - n)) <= 10 * roundoff:
            tiny[name] = float(max(np.max(np.abs(a)), np.max(np.abs(n))))
    if tiny:
        result.notes.append(
            f"{', '.join(tiny)}: gradients this small (largest entry {max(tiny.values()):.1e}) "
            f"are no larger than the central differences' own round-off (~{roundoff:.0e}): "
            "likely not a backward error (check on inputs where the outputs are not "
            "saturated, or with a larger eps)"
        )


def _note_unread_parameters(
    result: GradcheckResult,
    analytic: dict[str, np.ndarray],
    numeric: dict[str, np.ndarray],
    valid: dict[str, np.ndarray],
    roundoff: float,
) -> None:
    """Name the failed parameters whose every central difference is exactly 0 while the
    backward gives more than round-off: nudging them does not change the output, so the
    forward does not read them (e.g. it uses an array kept in ``__init__``)."""
    unread = []
    for name, error in result.errors.items():
        if name == "input" or not result.tolerance < error < math.inf or name not in numeric:
            continue
        a, n, v = analytic[name], numeric[name], valid[name]
        if a.shape == n.shape and v.any() and not n[v].any():
            if np.max(np.abs(a[v])) > 10 * roundoff:
                unread.append(name)
    if unread:
        attribute = unread[0].rsplit(".", 1)[-1]
        result.notes.append(
            f"{', '.join(unread)}: every central difference is exactly 0 (nudging the "
            "parameter does not change the output) while the backward gives a gradient: "
            f"forward does not read the parameter's values; read them from it in every "
            f"forward (self.{attribute}.data), not from an array kept in __init__, which "
            "is a copy (Parameter(array) copies it)"
        )


def _loss_shape_note(who: str, grad: np.ndarray, pred: np.ndarray, target: np.ndarray) -> str:
    """The note for a loss backward of the wrong shape (its error is inf)."""
    hint = ""
    if pred.shape[-1:] == (1,) and target.shape == pred.shape[:-1]:
        # pred (n, 1) - target (n,) broadcasts to (n, n): the loss computed is wrong too
        n = target.shape[-1]
        hint = (
            f"; the target is {target.shape}: pred {pred.shape} - target broadcasts to "
            f"({n}, {n}) (labels (n,) need .reshape(-1, 1))"
        )
    return (
        f"pred: {who}.backward returned shape {grad.shape} for pred {pred.shape}: "
        f"dL/dpred has pred's shape{hint}"
    )


def _note_non_finite(result: GradcheckResult, analytic: dict[str, np.ndarray]) -> None:
    """Name the arrays whose backward gave NaN or inf (their error is inf: FAILED)."""
    for name, grad in analytic.items():
        bad = ~np.isfinite(grad)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            result.notes.append(
                f"{name}: the backward gave {grad[where]} at index {where} "
                f"({np.count_nonzero(bad)} of {grad.size} entries not finite)"
            )


def _numeric_gradient_of_loss(
    f: Callable[[], float], array: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, str]:
    """:func:`numeric_gradient` of a loss, and which entries are valid: False where the
    loss refused a nudged value with a ValueError (e.g. BCELoss at a prediction within
    eps of 0 or 1); the first such message, or ``""``."""
    grad = np.zeros(array.shape, dtype=np.float64)
    valid = np.ones(array.shape, dtype=bool)
    refused = ""
    for i in np.ndindex(array.shape):
        old = array[i]
        try:
            array[i] = old + eps
            plus = f()
            array[i] = old - eps
            minus = f()
        except ValueError as exc:
            valid[i], refused = False, refused or str(exc)
            continue
        finally:
            array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad, valid, refused


def _ridders_derivative(
    f: Callable[[], float], array: np.ndarray, index: tuple[int, ...], step: float
) -> tuple[float, float]:
    """dF/d(array[index]) by Ridders' extrapolation of central differences with shrinking
    steps (``step``, ``step / 1.4``, ...), and an estimate of its error.

    A central difference is off by ~step^2 times the third derivative; extrapolating
    the sequence to step 0 removes that, which matters where the function curves
    sharply (BCE near 0 or 1). Stops when round-off starts to grow the error estimate.
    (Numerical Recipes' ``dfridr``.)
    """
    old = array[index]

    def central(h: float) -> float:
        try:
            array[index] = old + h
            plus = f()
            array[index] = old - h
            minus = f()
        finally:
            array[index] = old
        return (plus - minus) / (2 * h)

    shrink, rows = 1.4, 10
    table = np.zeros((rows, rows))
    table[0, 0] = best = central(step)
    error = math.inf
    for k in range(1, rows):
        step /= shrink
        table[0, k] = central(step)
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


def _refine_loss_check(
    result: GradcheckResult,
    f: Callable[[], float],
    pred: np.ndarray,
    eps: float,
    analytic: np.ndarray,
    numeric: np.ndarray,
    valid: np.ndarray,
    floor: float,
) -> bool:
    """Recheck a failed loss where the central differences are off by the loss's curvature:
    against Ridders' extrapolation, entry by entry, kept only if it pins every compared
    entry's derivative down to the tolerance (its error estimate). Returns whether it was."""
    refined = np.zeros(pred.shape)
    errors = np.zeros(pred.shape)
    for i in zip(*np.nonzero(valid), strict=True):
        refined[i], errors[i] = _ridders_derivative(f, pred, i, eps)
    if not (np.isfinite(refined[valid]).all() and np.isfinite(analytic).all()):
        return False
    scale = max(float(np.max(np.abs(refined[valid]), initial=0.0)), floor * result.tolerance)
    if np.max(errors[valid]) > result.tolerance * scale:
        return False  # a derivative not pinned down: leaving it out could hide a bug there
    if np.max(np.abs(refined - numeric)[valid]) <= result.tolerance * scale:
        return False  # the single step was as good: the failure is the backward's
    _compare(result, "pred", analytic, refined, valid, floor)
    result.notes.append(
        "pred: compared with Ridders' extrapolation of the central differences to step 0 "
        "(the loss curves too sharply here for a single step eps)"
    )
    return True


def _explain_loss_failure(
    result: GradcheckResult,
    f: Callable[[], float],
    pred: np.ndarray,
    eps: float,
    analytic: np.ndarray,
    numeric: np.ndarray,
    valid: np.ndarray,
) -> None:
    """Note a loss failure the central differences themselves account for: with eps / 2
    they move by as much as they differ from the backward (a sharply curved loss, e.g.
    BCE near 0 or 1, or round-off of large logits), which a wrong backward does not do."""
    error = result.errors["pred"]
    if not result.tolerance < error < math.inf:
        return
    half, valid_half, _ = _numeric_gradient_of_loss(f, pred, eps / 2)
    both = valid & valid_half
    if not both.any():
        return
    off = float(np.max(np.abs(analytic[both] - numeric[both])))
    moved = float(np.max(np.abs(half[both] - numeric[both])))
    if moved >= off / 4:
        result.notes.append(
            f"pred: the central differences change by {moved:.1e} from eps to eps/2, as much "
            f"as they differ from the backward ({off:.1e}): the loss curves too sharply or "
            "rounds off too much here (predictions near 0 or 1, large logits) for them; "
            "likely not a backward error (check on moderate predictions)"
        )
