"""Central-difference gradient checks for any module or loss.

For a module, the scalar being differentiated is ``L = sum(forward(x) * G)``
with a fixed random ``G``, so ``backward(G)`` must return dL/dx and add dL/dW
into every parameter's grad. Each entry is perturbed by +-eps and
(L(+) - L(-)) / (2 eps) is compared with the analytic value. Use float64.

The central differences themselves live in :mod:`proplab.gradcheck_numeric`,
and the notes that say why a check failed (or could not compare) in
:mod:`proplab.gradcheck_notes`; this module runs the comparison.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from proplab.batchnorm import BatchNorm1d
from proplab.checks import check_bool
from proplab.conv import Conv1d
from proplab.core import Module, Sequential
from proplab.dropout import Dropout
from proplab.gradcheck_notes import (
    all_zero_note,
    below_roundoff_note,
    explain_failure,
    explain_loss_failure,
    few_samples_note,
    loss_shape_note,
    no_flag_note,
    note_constant_factors,
    note_grad_out_modified,
    note_kinks,
    note_non_finite,
    note_transposed,
    note_unread_parameters,
    refused_flag,
)
from proplab.gradcheck_numeric import (
    KINKED,
    KinkWatch,
    numeric_gradient,
    numeric_gradient_of_loss,
    numeric_gradient_watched,
    ridders_derivative,
)
from proplab.layers import Linear
from proplab.losses import Loss
from proplab.module_errors import returned_no_array

__all__ = ["KINKED", "GradcheckResult", "gradcheck", "numeric_gradient", "relative_error"]

# how the note on held dropout masks starts (proplab gradcheck says it once for all checks)
DROPOUT_NOTE = "Dropout: "

# first layers whose input needs a sample axis: (n, in) or (n, C, L), never a 1-D row
SAMPLE_AXIS_FIRST = (Linear, Conv1d, BatchNorm1d)


@dataclass
class GradcheckResult:
    """Worst relative error per checked array, and whether all are within ``tolerance``.

    ``errors`` maps each checked array to its worst relative error: ``"input"``
    and every parameter name (``"0.weight"``, ``"0.bias"``...) for a module,
    ``"pred"`` for a loss. ``worst`` is the largest of them, ``ok`` (and
    ``bool(result)``) says every one is within ``tolerance``, and ``print(result)``
    shows one line per array, then ``gradcheck ok`` or ``FAILED``, then ``notes``.

    The special cases, each with a note in ``notes`` when it applies:

    - **Kinks:** entries whose +-eps nudge moves a ReLU/LeakyReLU input across its
      kink at 0 are not compared (a central difference there is not the derivative);
      they are counted in ``kink_skipped``.
    - **Nothing compared:** an array none of whose entries could be compared has the
      error NaN, and the check is then incomplete, not ok; so has an array whose every
      gradient entry is below the central differences' own round-off (a saturated
      sigmoid's; a cross-entropy whose every sample has a wide margin), and every array
      when every gradient is exactly 0 in the backward and the central differences
      alike (a dead ReLU output).
    - **Round-off:** otherwise ``errors`` are measured against at least that round-off
      over the tolerance, so a backward within round-off of the central differences
      passes; ``relative`` holds the plain relative errors, which ``print(result)``
      shows, marking an array above the tolerance that passes by being within round-off.
    - **A loss's edges:** entries it refuses once nudged (BCELoss within eps of 0 or 1)
      are left out; where it curves too sharply for one step eps, a failure is
      rechecked against Ridders' extrapolation of the central differences to step 0.
    - **Non-finite:** a NaN or inf gradient has the error inf (FAILED).
    - **Overwriting:** a backward that overwrites ``.grad`` instead of adding to it is
      FAILED; its ``errors`` entry is that of the second gradient (typically 1), while
      ``relative`` keeps the single backward's error, shown marked ``(overwrites: see
      note)`` (``marks``): the formula may well be right.
    - **A constant factor:** a backward that is one constant times the central
      differences everywhere is named with that factor (a forgotten 1/N, say).
    - **A transposed gradient:** a square array whose backward is the central
      differences transposed is named (a ``.T`` missing or extra).
    - **Which layer:** a failed :class:`~proplab.core.Sequential` is checked again layer
      by layer, each alone on the input it receives in the forward pass, and a note
      names the first layer that fails alone (a wrong activation, which has no
      parameters, otherwise shows only as failures of the parameters below it), or says
      that every layer passes alone.
    - **Few samples:** a check on fewer than 3 samples, where a missing 1/n or 2/n can
      be exactly 1, which no tolerance catches (a module's only when it has parameters).

    ``gradcheck`` leaves the target as it found it: parameters, buffers, Dropout's
    ``hold_mask`` and every parameter's ``.grad``.

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
    marks: dict[str, str] = field(default_factory=dict)

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
            + (f"  ({self.marks[name]})" if name in self.marks else "")
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


def _is_number(value: object) -> bool:
    """A real number (NumPy's too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


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
        >>> import numpy as np, proplab
        >>> model = proplab.mlp(2, 4, 1, rng=np.random.default_rng(0))
        >>> proplab.gradcheck(model, np.random.default_rng(1).normal(size=(5, 2))).ok
        True
    """
    # NumPy scalars are numbers (np.float32(1e-6) was refused), bools are not (eps=True
    # nudged by 1), and an infinite tolerance is a check that cannot fail
    # text, None or a bool is the wrong type (TypeError, as for an optimizer's lr); a number
    # out of range the wrong value (ValueError)
    for name, value, low in (("eps", eps, "> 0"), ("tolerance", tolerance, ">= 0")):
        if not _is_number(value):
            raise TypeError(f"gradcheck: {name} must be a finite number {low}, got {value!r}")
        if not (math.isfinite(value) and (value > 0 if low == "> 0" else value >= 0)):
            raise ValueError(f"gradcheck: {name} must be a finite number {low}, got {value!r}")
    check_bool(check_inputs, "gradcheck check_inputs")  # "False" is truthy: it checked
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
        _check_loss(target, pred, tgt, eps, result)
    else:
        if len(arrays) != 1:
            raise ValueError("gradcheck of a module takes one input array")
        x = arrays[0]
        leaf = next((m for m in target.modules() if not m.children()), target)
        if x.ndim < 2 and isinstance(leaf, SAMPLE_AXIS_FIRST):
            raise ValueError(_sample_axis_message(x))
        with _kept_gradients(target), _held_randomness(target, result):
            try:
                _check_module(target, x, eps, rng, check_inputs, result)
            except Exception as exc:
                # a 1-D x fails deep inside some backward (a transpose, a sum over
                # axis -2), whose message blames that backward: the input is at fault
                if x.ndim < 2:
                    raise ValueError(_sample_axis_message(x)) from exc
                raise
            if isinstance(target, Sequential) and result.worst > tolerance:
                note = _layer_by_layer_note(target, x, eps, tolerance)
                if note:
                    result.notes.append(note)
    return result


# how the note naming a failed Sequential's first failing layer starts: model_check's table
# checks every layer itself, and leaves the note out
LAYERS_NOTE = "checked layer by layer"


def layer_inputs(layers: Sequence[Module], x: np.ndarray) -> list[np.ndarray]:
    """What each of ``layers`` receives in their forward pass on ``x``, in order: ``x``
    for the first, the one before's output for each other (shapes as the layers give)."""
    inputs, h = [], x
    for layer in layers:
        inputs.append(h)
        h = layer.forward(h)
    return inputs


def check_layers(
    layers: Sequence[Module], inputs: Sequence[np.ndarray], eps: float, tolerance: float
) -> list[GradcheckResult]:
    """:func:`gradcheck` of each layer alone on its input (:func:`layer_inputs`), with a
    generator seeded by its index for its output weights: ``proplab gradcheck``'s table
    and a failed check of a Sequential (which names the first failing layer) both."""
    return [
        gradcheck(layer, inp, eps=eps, tolerance=tolerance, rng=np.random.default_rng(i))
        for i, (layer, inp) in enumerate(zip(layers, inputs, strict=True))
    ]


def _layer_by_layer_note(model: Sequential, x: np.ndarray, eps: float, tolerance: float) -> str:
    """Which layer of a failed ``model`` fails alone, on the input it receives (persona22
    M5: a wrong parameterless activation showed only as failures of the parameters below
    it); "" when the layers cannot be checked alone (a layer refuses its input)."""
    layers = list(model.layers)
    if len(layers) < 2:
        return ""
    try:
        results = check_layers(layers, layer_inputs(layers, x), eps, tolerance)
    except Exception:  # the whole model's check has said what it could
        return ""
    how = f"{LAYERS_NOTE} (each alone, on the input it receives in this forward pass)"
    for i, (layer, r) in enumerate(zip(layers, results, strict=True)):
        if r.worst > r.tolerance or r.problems:
            wrong = [
                f"{n} {r.relative.get(n, e):.1e}" for n, e in r.errors.items() if e > tolerance
            ]
            name = repr(layer).split("\n")[0]
            passed = r.errors.get("input", 0.0) > tolerance and i > 0
            return (
                f"{how}: layer {i}, {name}, is the first to fail"
                + (f" ({', '.join(wrong)})" if wrong else "")
                + (": the bug is in its backward" if wrong else f": {'; '.join(r.problems)}")
                + (
                    ", and the wrong dL/dx it returns reaches every layer below it"
                    if passed
                    else ""
                )
            )
    return (
        f"{how}: every layer passes, so each backward is right on its own; look at what "
        "the layers share (a class attribute or a global array that one layer's forward "
        "overwrites before another's backward reads it?)"
    )


def _sample_axis_message(x: np.ndarray) -> str:
    return (
        f"gradcheck: x must be (n, features), got shape {x.shape}; one sample is x.reshape(1, -1)"
    )


@contextmanager
def _kept_gradients(target: Module) -> Iterator[None]:
    """Put every parameter's gradient back as it was before the check: the check's own
    backwards would otherwise stay in ``.grad``, and a loop that zeroes after its step
    (PyTorch's order) would take them into its first step. A user may also check in the
    middle of accumulating a gradient."""
    saved = [(p, p.grad.copy()) for _, p in target.named_parameters()]
    try:
        yield
    finally:
        for p, grad in saved:
            if grad.any():
                p.grad = grad
            else:
                p.zero_grad()  # as lazily cleared as it was: the next backward overwrites


@contextmanager
def _held_randomness(target: Module, result: GradcheckResult) -> Iterator[None]:
    """Run a module check with every training-mode Dropout's mask held fixed, and put back
    the buffers (batchnorm's running statistics, which every training-mode forward moves)
    as they were. Dropout draws a fresh mask on each forward: its central differences
    would compare two different functions. Held, the mask the check's first forward draws
    is the one every nudged forward and every backward uses, so the check differentiates
    ``x * m / (1 - p)`` for that one mask ``m``, which is what the backward claims."""
    drops = [m for m in target.modules() if isinstance(m, Dropout) and m.training and m.p > 0]
    buffers = [(b, b.copy()) for _, b in target.named_buffers()]
    held = [(m, m.hold_mask, m.mask) for m in drops]
    # and the random streams the check's mask is drawn from: "gradcheck, then train" must
    # be the same run as "train" (api17 saw the check move them); one generator may feed
    # several layers, so each is saved once
    streams = {
        id(g): (g, g.bit_generator.state)
        for m in drops
        for g in ([m.rng] if m.rngs is None else list(m.rngs))
        if g is not None
    }
    for m in drops:
        m.hold_mask = True
        m.mask = None  # the check's first forward draws the mask it then holds
    try:
        yield
    finally:
        for m, was, mask in held:
            m.hold_mask, m.mask = was, mask
        for g, state in streams.values():
            g.bit_generator.state = state
        for b, saved in buffers:
            b[...] = saved
    if drops:
        result.notes.append(
            f"{DROPOUT_NOTE}{len(drops)} layer{'s' if len(drops) > 1 else ''} in training "
            "mode: each mask was drawn once, on the check's first forward pass, and held fixed "
            "for every nudged forward and backward (Dropout.hold_mask), so the check "
            "differentiates x * mask / (1 - p) for that mask"
        )


def _check_loss(
    target: Loss, pred: np.ndarray, tgt: np.ndarray, eps: float, result: GradcheckResult
) -> None:
    """Check ``target.backward()`` (dL/dpred) against central differences of its forward."""
    tolerance = result.tolerance

    def loss_value() -> float:
        return float(np.sum(target.forward(pred, tgt)))

    value = loss_value()
    analytic = target.backward()
    if not isinstance(analytic, np.ndarray):
        raise returned_no_array(type(target).__name__, analytic, pred.shape, loss=True)
    if analytic.shape != pred.shape:
        result.notes.append(loss_shape_note(type(target).__name__, analytic, pred, tgt))
    numeric, valid, refused = numeric_gradient_of_loss(loss_value, pred, eps)
    # as for a module: errors are measured against at least the round-off over the
    # tolerance, and gradients all below the round-off cannot be compared at all
    roundoff = loss_roundoff(value, pred, tgt, eps)
    floor = roundoff / tolerance if tolerance > 0 else 0.0
    _compare(result, "pred", analytic, numeric, valid, floor)
    if _below_roundoff(analytic, numeric, valid, roundoff):
        result.errors["pred"] = result.relative["pred"] = math.nan
        result.notes.append(below_roundoff_note(["pred"], roundoff))
    elif _exactly_zero(result, "pred", analytic, numeric, valid):
        result.errors["pred"] = result.relative["pred"] = math.nan
        result.notes.append(all_zero_note(["pred"], "a loss flat at these predictions?"))
    if refused:
        result.notes.append(
            f"{np.count_nonzero(~valid)} of {pred.size} entries of pred not compared: "
            f"{type(target).__name__} refuses them nudged by +-eps ({refused}); they are "
            "within eps of the edge of what it accepts"
        )
    note_non_finite(result, {"pred": analytic})
    refined = tolerance < result.errors["pred"] < math.inf and _refine_loss_check(
        result, loss_value, pred, eps, analytic, numeric, valid, floor
    )
    if result.worst > tolerance and not refined:
        explain_loss_failure(result, loss_value, pred, eps, analytic, numeric, valid)
        n, outputs = (pred.shape[-2], pred.shape[-1]) if pred.ndim >= 2 else (pred.size, 1)
        replicas = int(np.prod(pred.shape[:-2])) if pred.ndim > 2 else 1
        entries = f"{n} samples" + (f" x {outputs} outputs" if outputs > 1 else "")
        causes = [  # the usual slips, by the factor (backward / true gradient) they leave
            (n * outputs, f"the mean's 1/N forgotten? N = {entries} here"),
            (n * outputs / 2, f"the mean squared error's 2/N forgotten? N = {entries} here"),
            (0.5, "the 2 of a square's derivative forgotten?"),
            (replicas, f"a forward that averages the {replicas} replicas too?"),
        ]
        if outputs > 1:  # a mean over the samples only
            causes.insert(1, (n, f"the mean's 1/N forgotten? N = {n} samples here"))
        note_constant_factors(
            result, {"pred": analytic}, {"pred": numeric}, {"pred": valid}, causes
        )
    samples = pred.shape[-2] if pred.ndim >= 2 else pred.size
    if samples < 3:
        result.notes.append(few_samples_note(samples))


def _check_module(
    target: Module,
    x: np.ndarray,
    eps: float,
    rng: np.random.Generator,
    check_inputs: bool,
    result: GradcheckResult,
) -> None:
    """Check ``target``'s backward (dL/dx and every parameter's gradient) for
    ``L = sum(forward(x) * G)`` with random ``G`` against central differences."""
    tolerance = result.tolerance
    who = type(target).__name__
    # a forward on other data first: a module whose backward uses what an earlier forward
    # kept (a cache filled once and never refreshed) then differentiates the wrong input
    _forward_elsewhere(target, x)
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
    # otherwise change the check's own (see note_grad_out_modified)
    grad_out = weights.copy()
    try:
        grad_x = target.backward(grad_out)
    except TypeError as exc:
        # a Sequential passes need_input_grad to its first layer: one without it fails here
        refused = refused_flag(exc)
        if refused is None:
            raise
        raise TypeError(no_flag_note(refused)) from exc
    if not np.array_equal(grad_out, weights):
        note_grad_out_modified(result, who)
    # the input's (name, value, analytic gradient), compared with the parameters' below
    checked: list[tuple[str, np.ndarray, np.ndarray]] = []
    if check_inputs:
        checked.append(("input", x, _check_input_gradient(target, x, grad_x, result)))
    analytic = {name: p.grad.copy() for name, p in target.named_parameters()}
    # backward must add into .grad: a second backward without zero_grad adds as much again
    run()
    target.backward(weights.copy())
    added = {name: p.grad - analytic[name] for name, p in target.named_parameters()}
    # fit calls a model's first layer with need_input_grad=False: its parameter
    # gradients must not depend on that flag
    without = _gradients_without_input_grad(target, run, weights, result)
    # round-off of L's sum, magnified by 1/eps in a central difference; errors are
    # measured against at least roundoff / tolerance (see compared_error)
    roundoff = 4 * np.finfo(np.float64).eps * float(np.sum(np.abs(out * weights))) / eps
    floor = roundoff / tolerance if tolerance > 0 else 0.0
    checked += [(name, p.data, analytic[name]) for name, p in target.named_parameters()]
    numeric: dict[str, np.ndarray] = {}
    valids: dict[str, np.ndarray] = {}
    analytics: dict[str, np.ndarray] = {}
    tiny: list[str] = []  # arrays whose gradients are all below the round-off
    with KinkWatch(target) as watch:
        scalar()
        base = watch.take()  # which side of each kink every input is on, unnudged
        for name, array, grad in checked:
            numeric[name], valid = numeric_gradient_watched(scalar, array, eps, watch, base)
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
                error = compared_error(other[name], numeric[name], valid, floor)
                if error > max(tolerance, result.errors[name]):
                    relative = compared_error(other[name], numeric[name], valid)
                    shown = f"relative error {relative:.1e}"
                    result.notes.append(f"{name}: " + problem.format(error=shown))
                    result.errors[name], analytics[name] = error, other[name]
                    if other is added:
                        # the row keeps the single backward's error, which may well be
                        # right: only its adding is wrong, and the note says so
                        result.marks[name] = "overwrites: see note"
                    else:  # the gradient fit takes for a first layer: the row shows it
                        result.relative[name] = relative
                        result.marks.pop(name, None)
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
        result.notes.append(below_roundoff_note(tiny, roundoff))
    # every gradient exactly 0 (a dead ReLU output): a wrong backward would pass too. One
    # zero array among others that are compared (an unused parameter) is a comparison.
    zero = [n for n in valids if _exactly_zero(result, n, analytics[n], numeric[n], valids[n])]
    if zero and all(n in zero or math.isnan(result.errors[n]) for n in valids):
        for n in zero:
            result.errors[n] = result.relative[n] = math.nan
        result.notes.append(all_zero_note(zero, "a dead ReLU output?"))
    note_non_finite(result, analytics)
    samples = _samples(target, x)
    if samples < 3 and target.has_parameters():
        result.notes.append(few_samples_note(samples))
    if result.worst > tolerance:
        if out.dtype != np.float64:
            # a float64 nudge of 1e-6 is lost in float32's ~1e-7 relative round-off
            result.notes.append(
                f"{who}.forward returned {out.dtype}, not float64: central "
                f"differences of eps = {eps:g} drown in its round-off (compute in float64)"
            )
        explain_failure(result, analytics, numeric, valids, roundoff)
        note_constant_factors(result, analytics, numeric, valids)
        note_transposed(result, analytics, numeric, valids)
        if not deterministic:
            result.notes.append(
                f"{who}.forward is not deterministic: two forward passes "
                "on the same x gave different outputs (a random mask, as dropout draws?), "
                "so its central differences are noise and say nothing of its backward "
                "(check it with the randomness fixed: the same mask on every call)"
            )
        note_unread_parameters(result, analytics, numeric, valids, roundoff)
        # a kink note would send a forward that changes x, or is random, on a wrong trail
        if deterministic and not modifies_input:
            arrays = {name: array for name, array, _ in checked}
            note_kinks(result, scalar, arrays, analytics, numeric, valids, eps)


def _forward_elsewhere(target: Module, x: np.ndarray) -> None:
    """One forward pass on an input other than ``x`` (its entries in reverse order, so the
    same values, which any domain ``x`` is in holds too; ``x + 1`` when reversing changes
    nothing). A forward that refuses it says nothing about the backward: ignored."""
    other = np.flip(x).copy()  # a copy: np.flip's view would let a forward write into x
    if np.array_equal(other, x, equal_nan=True):
        other = x + 1.0
    try:
        target.forward(other)
    except Exception:  # the check's own forward on x reports the real errors
        pass


def _samples(target: Module, x: np.ndarray) -> int:
    """How many samples ``x`` holds: its axis -2 ((n, in), or (*R, n, in) for a stack),
    -3 for a Conv1d's (n, C, L); 1 for a 1-D x (an activation checked on a row)."""
    leaf = next((m for m in target.modules() if not m.children()), target)
    axis = -3 if isinstance(leaf, Conv1d) else -2
    return x.shape[axis] if x.ndim >= -axis else 1


def _check_input_gradient(
    target: Module, x: np.ndarray, grad_x: object, result: GradcheckResult
) -> np.ndarray:
    """Refuse a backward that returned no array (``return`` forgotten); note a wrong shape.
    Returns ``grad_x``, known to be an array."""
    name = type(target).__name__
    if not isinstance(grad_x, np.ndarray):
        raise returned_no_array(name, grad_x, x.shape)
    if grad_x.shape != x.shape:
        result.notes.append(
            f"input: {name}.backward returned shape {grad_x.shape} for an input of shape "
            f"{x.shape}: dL/dx has the input's shape (one row per sample: no sum over them)"
        )
    return grad_x


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
    result.errors[name] = compared_error(analytic, numeric, valid, floor)
    result.relative[name] = compared_error(analytic, numeric, valid)


def compared_error(
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


def loss_roundoff(value: float, pred: np.ndarray, target: np.ndarray, eps: float) -> float:
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
        who = refused_flag(exc)
        if who is None:
            raise
        result.problems.append(f"{who}.backward takes no need_input_grad argument")
        result.notes.append(no_flag_note(who))
        return None
    return {name: p.grad.copy() for name, p in target.named_parameters()}


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
        refined[i], errors[i] = ridders_derivative(f, pred, i, eps)
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
