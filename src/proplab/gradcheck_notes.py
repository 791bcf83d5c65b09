"""Why a gradient check failed or was incomplete: the notes :mod:`proplab.gradcheck` adds.

A failure is not always the backward's fault: a kink at 0, round-off of tiny
gradients, a sharply curved loss. And some bugs hide behind passing numbers: a
backward that writes into the gradient it was given, a forward that does not
read its parameter. Each function here looks at a finished comparison and
adds a note (a sentence for the student) to ``result.notes``; none changes
whether the check passed, except where it says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from proplab.gradcheck_numeric import numeric_gradient_of_loss
from proplab.module_errors import NoInputGradFlagError

if TYPE_CHECKING:
    from proplab.gradcheck import GradcheckResult


KINK_PROBES = 20


def note_kinks(
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


def all_zero_note(names: list[str], hint: str) -> str:
    """The note for arrays whose every gradient is exactly 0 (not compared); ``hint``
    guesses why."""
    return (
        f"{', '.join(names)} not compared: every gradient is exactly 0 on these inputs, in "
        f"the backward and in the central differences alike, so any backward would pass "
        f"({hint} check on other inputs)"
    )


def below_roundoff_note(names: list[str], roundoff: float) -> str:
    """The note for arrays whose every gradient is below the central differences'
    ``roundoff`` (not compared)."""
    return (
        f"{', '.join(names)} not compared: every gradient entry is below the central "
        f"differences' own round-off (~{roundoff:.0e}), so any tiny value would pass "
        "(check on inputs where the outputs are not saturated)"
    )


def refused_flag(exc: TypeError) -> str | None:
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


def no_flag_note(who: str) -> str:
    """The note for a backward of class ``who`` that takes no ``need_input_grad``."""
    return (
        f"{who}.backward takes no need_input_grad argument: a Sequential passes it to its "
        "first layer (with parameters), and fit passes need_input_grad=False there, so "
        "training fails (TypeError); write def backward(self, grad_out, "
        "need_input_grad=True), add the parameter gradients either way, and return "
        "None when it is False"
    )


def note_grad_out_modified(result: GradcheckResult, who: str) -> None:
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


def explain_failure(
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


def note_constant_factors(
    result: GradcheckResult,
    analytic: dict[str, np.ndarray],
    numeric: dict[str, np.ndarray],
    valid: dict[str, np.ndarray],
    causes: Sequence[tuple[float, str]] = (),
) -> None:
    """Note each failed array whose backward is one constant c times the central
    differences wherever both are nonzero: a factor forgotten or added (a mean's 1/N, the
    2 of a square), which the error alone (e.g. ``8.33e-01``) does not say. An array
    another note already explains (an overwritten gradient, a modified input) is left to
    it. ``causes``: ``(factor, its usual cause)``, each named when c is that factor."""
    for name, error in result.errors.items():
        if not result.tolerance < error < math.inf or name not in numeric:
            continue
        if any(note.startswith(f"{name}: ") for note in result.notes):
            continue
        a, n = analytic[name][valid[name]], numeric[name][valid[name]]
        big = np.abs(n) > 1e-3 * np.max(np.abs(n), initial=0.0)
        if np.count_nonzero(big) < 2:  # one entry's ratio is no pattern
            continue
        ratio = a[big] / n[big]
        c = float(np.median(ratio))
        if abs(c) < 1e-3 or abs(c - 1.0) < 1e-3 or np.max(np.abs(ratio - c)) > 1e-5 * abs(c):
            continue  # a zero gradient has notes of its own
        matched = [text for k, text in causes if k != 1 and abs(c - k) < 1e-3 * abs(k)]
        cause = "; or ".join(dict.fromkeys(matched))  # in order, each once
        if c < 0:  # review18: a sign slip (t - p where p - t belongs) is no missing factor
            what = "its sign is flipped" + (
                "" if abs(c + 1.0) < 1e-3 else ", and a constant factor is missing or extra"
            )
        else:
            what = "a constant factor is missing or extra"
        result.notes.append(
            f"{name}: the backward is {c:.4g} times the central differences everywhere: "
            f"{what}" + (f" ({cause})" if cause else "")
        )


def note_transposed(
    result: GradcheckResult,
    analytic: dict[str, np.ndarray],
    numeric: dict[str, np.ndarray],
    valid: dict[str, np.ndarray],
) -> None:
    """Note each failed square array whose backward is the central differences
    transposed (persona22 M5: a ``W`` of shape ``(k, k)`` with ``dL/dW = dz^T x`` for
    ``x^T dz`` got a bare 5.33e-01): the shapes agree, so only the values tell.
    ``trace.compare`` gives the same hint for a student's own arrays."""
    for name, error in result.errors.items():
        if not result.tolerance < error < math.inf or name not in numeric:
            continue
        a, n, v = analytic[name], numeric[name], valid[name]
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2 or not v.all():
            continue
        if any(note.startswith(f"{name}: ") for note in result.notes):
            continue
        scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))), 1e-12)
        if float(np.max(np.abs(a.T - n))) / scale <= result.tolerance:
            result.notes.append(
                f"{name}: the backward is the transpose of the central differences: a .T "
                "missing or extra (for a weight W of shape (in, out), used as x W, "
                "dL/dW = x^T dL/dout)"
            )


def note_unread_parameters(
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


def loss_shape_note(who: str, grad: np.ndarray, pred: np.ndarray, target: np.ndarray) -> str:
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


def note_non_finite(result: GradcheckResult, analytic: dict[str, np.ndarray]) -> None:
    """Name the arrays whose backward gave NaN or inf (their error is inf: FAILED)."""
    for name, grad in analytic.items():
        bad = ~np.isfinite(grad)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            result.notes.append(
                f"{name}: the backward gave {grad[where]} at index {where} "
                f"({np.count_nonzero(bad)} of {grad.size} entries not finite)"
            )


def explain_loss_failure(
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
    half, valid_half, _ = numeric_gradient_of_loss(f, pred, eps / 2)
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


# how the note on a check on fewer than 3 samples starts (proplab gradcheck says it once)
FEW_SAMPLES_NOTE = "checked on "


def few_samples_note(samples: int) -> str:
    """The note for a check on fewer than 3 samples, where a factor 1/n or 2/n a backward
    forgets can be exactly 1, so no tolerance catches it."""
    return (
        f"{FEW_SAMPLES_NOTE}{samples} sample{'' if samples == 1 else 's'}: on so few, a "
        "factor such as 1/n or 2/n can be 1 (a mean over one sample is its sum; MSE's 2/N "
        "is 1 for N = 2), so a backward missing it passes; check on 3 or more samples"
    )
