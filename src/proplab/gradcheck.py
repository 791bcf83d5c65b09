"""Central-difference gradient checks for any module or loss.

For a module, the scalar being differentiated is ``L = sum(forward(x) * G)``
with a fixed random ``G``, so ``backward(G)`` must return dL/dx and add dL/dW
into every parameter's grad. Each entry is perturbed by +-eps and
(L(+) - L(-)) / (2 eps) is compared with the analytic value. Use float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from proplab.activations import LeakyReLU, ReLU
from proplab.core import Module
from proplab.losses import Loss


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
    has the error NaN, and the check is then incomplete, not ok.
    """

    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 1e-6
    kink_skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def worst(self) -> float:
        """The largest error over the compared arrays (0.0 when nothing was compared)."""
        return max((e for e in self.errors.values() if not math.isnan(e)), default=0.0)

    @property
    def uncompared(self) -> list[str]:
        """The arrays of which no entry could be compared (every nudge crossed a kink)."""
        return [name for name, e in self.errors.items() if math.isnan(e)]

    @property
    def ok(self) -> bool:
        """Every array compared and within ``tolerance``."""
        return all(e <= self.tolerance for e in self.errors.values())

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"{name:>16}: {err:.2e}" for name, err in self.errors.items()]
        if self.ok:
            verdict = "ok"
        elif self.worst > self.tolerance:
            verdict = f"FAILED (tolerance {self.tolerance:.0e})"
        else:
            verdict = f"incomplete: {', '.join(self.uncompared)} not compared"
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

        loss_value()
        analytic = target.backward()
        result.errors["pred"] = relative_error(analytic, numeric_gradient(loss_value, pred, eps))
        return result

    if len(arrays) != 1:
        raise ValueError("gradcheck of a module takes one input array")
    (x,) = arrays
    out = target.forward(x)
    weights = rng.standard_normal(out.shape)

    def scalar() -> float:
        return float(np.sum(target.forward(x) * weights))

    target.zero_grad()
    target.forward(x)
    grad_x = target.backward(weights)
    analytic = {name: p.grad.copy() for name, p in target.named_parameters()}
    # fit calls a model's first layer with need_input_grad=False: its parameter
    # gradients must not depend on that flag
    without = _gradients_without_input_grad(target, x, weights, result)
    # round-off of L's sum, magnified by 1/eps in a central difference
    roundoff = 4 * np.finfo(np.float64).eps * float(np.sum(np.abs(out * weights))) / eps
    checked = [("input", x, grad_x)] if check_inputs else []
    checked += [(name, p.data, analytic[name]) for name, p in target.named_parameters()]
    numeric: dict[str, np.ndarray] = {}
    with _KinkWatch(target) as watch:
        scalar()
        base = watch.take()  # which side of each kink every input is on, unnudged
        for name, array, grad in checked:
            numeric[name], valid = _numeric_gradient_watched(scalar, array, eps, watch, base)
            result.kink_skipped += int(np.count_nonzero(~valid))
            result.errors[name] = _compared_error(grad, numeric[name], valid)
            if without is not None and name in without:
                error = _compared_error(without[name], numeric[name], valid)
                if error > max(tolerance, result.errors[name]):
                    result.notes.append(
                        f"{name}: backward(..., need_input_grad=False) gives another gradient "
                        f"(relative error {error:.1e}); fit calls the first layer that way, "
                        "so it would learn wrongly there"
                    )
                    result.errors[name] = error
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
    if result.worst > tolerance:
        _explain_failure(result, numeric, roundoff)
    return result


def _compared_error(analytic: np.ndarray, numeric: np.ndarray, valid: np.ndarray) -> float:
    """:func:`relative_error` over the ``valid`` entries; NaN when there are none."""
    if np.shape(analytic) != np.shape(numeric):
        return math.inf
    if valid.all():
        return relative_error(analytic, numeric)
    if not valid.any():
        return math.nan
    return relative_error(analytic[valid], numeric[valid])


class _KinkWatch:
    """While entered, records which side of 0 every ReLU/LeakyReLU input of ``target``
    is on, forward pass after forward pass (each such module's forward is wrapped by an
    instance attribute, removed on exit)."""

    def __init__(self, target: Module) -> None:
        self.modules = [m for m in _modules(target) if isinstance(m, ReLU | LeakyReLU)]
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
    target: Module, x: np.ndarray, weights: np.ndarray, result: GradcheckResult
) -> dict[str, np.ndarray] | None:
    """The parameter gradients of ``backward(weights, need_input_grad=False)``, or None
    (with a note) when ``target.backward`` takes no such argument."""
    if not target.params and not target.children():
        return None  # no parameters: the flag changes nothing to check
    target.zero_grad()
    target.forward(x)
    try:
        target.backward(weights, need_input_grad=False)
    except TypeError as exc:
        if "need_input_grad" not in str(exc) and "positional argument" not in str(exc):
            raise
        result.notes.append(
            f"{type(target).__name__}.backward takes no need_input_grad argument; fit "
            "passes need_input_grad=False to a model's first layer, so it would fail there"
        )
        return None
    return {name: p.grad.copy() for name, p in target.named_parameters()}


def _explain_failure(
    result: GradcheckResult, numeric: dict[str, np.ndarray], roundoff: float
) -> None:
    """Add the note that says when a failure may not be the backward's fault."""
    tiny: dict[str, float] = {}  # failed arrays whose gradients are at round-off level
    for name, error in result.errors.items():
        scale = float(np.max(np.abs(numeric[name]))) if numeric[name].size else 0.0
        if result.tolerance < error <= 10 * roundoff / max(scale, 1e-300) and scale > 0:
            tiny[name] = scale
    if tiny:
        result.notes.append(
            f"{', '.join(tiny)}: gradients this small (largest entry {max(tiny.values()):.1e}) "
            f"are no larger than the central differences' own round-off (~{roundoff:.0e}): "
            "likely not a backward error (check on inputs where the outputs are not "
            "saturated, or with a larger eps)"
        )


def _modules(module: Module) -> Iterator[Module]:
    yield module
    for child in module.children():
        yield from _modules(child)
