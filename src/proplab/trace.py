"""One training step, number by number: what a student computes by hand, to check it.

:func:`trace_step` runs one step of training through the model's own modules, one
module at a time, and keeps every array the chain rule passes on: each module's input
and output on the way forward, the loss, each module's output gradient, input gradient
and parameter gradients on the way back, and, given an optimizer, the values its step
leaves. The numbers are proplab's own (each module's ``forward`` and ``backward``, the
loss's, the optimizer's ``step``): a hand calculation that matches them matches the
code that trains. :meth:`StepTrace.text` lays them out as the hand calculation runs,
naming each array (``z1 = x W1 + b1``, ``a1 = sigmoid(z1)``, ``dL/dz1 = dL/da1 * a1 (1 -
a1)``...), and every parameter gradient is checked against central differences of the
loss.

Names: the k-th Linear (or Conv1d) layer's output is ``z{k}``, its weights ``W{k}``
and bias ``b{k}``; the element-wise activation after it gives ``a{k}`` (a second one in a
row ``a{k}_2``; one on the input, before any layer, ``a0``); a Dropout
``d{k}``, a BatchNorm1d ``bn{k}`` (its scale and shift ``gamma{k}``, ``beta{k}``), the
input features ``phi``, a Flatten or Unsqueeze its input's name with ``_flat`` or ``_ch``
(``a1_flat``, ``x_ch``), any other module ``h`` and its position (``h3``). The input is ``x``, the
targets ``t``, the model's output ``p``.

Shapes: one row per sample, ``x`` ``(n, in)``, every array ``(n, width)``, weights
``(in, out)``, biases ``(out,)`` (a single model; a replica stack is refused).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from proplab.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from proplab.batchnorm import BatchNorm1d
from proplab.checks import check_bool
from proplab.conv import Unsqueeze
from proplab.core import Module, Sequential, train_mode
from proplab.dropout import Dropout
from proplab.features import Features
from proplab.layers import Flatten, Linear
from proplab.losses import BCELoss, CrossEntropyLoss, Loss, MSELoss, softmax
from proplab.optim import SGD
from proplab.optim_base import Optimizer
from proplab.trace_check import TOLERANCE as CHECK_TOLERANCE
from proplab.trace_check import chain_size, check_step, held_copy

# compare's return type, imported at load so its hint resolves (typing.get_type_hints);
# the comparison code itself imports this module, so compare imports it when called
from proplab.trace_comparison import Comparison
from proplab.train import check_optimizer_of

# the central-difference check nudges every weight twice: past this many weights it
# would take longer than the step it checks is worth (proplab gradcheck checks layers)
MAX_CHECKED_WEIGHTS = 20_000

# element-wise modules: (what the forward computes, the local derivative f'(input) as
# the backward multiplies by it); {out} and {inp} are the arrays' names
_ELEMENTWISE: dict[type, tuple[str, str]] = {
    Sigmoid: ("sigmoid({inp}) = 1 / (1 + exp(-{inp}))", "{out} (1 - {out})"),
    Tanh: ("tanh({inp})", "1 - {out}^2"),
    ReLU: ("max(0, {inp})", "1 where {inp} > 0, else 0"),
    LeakyReLU: ("{inp} where {inp} > 0, else {slope} {inp}", "1 where {inp} > 0, else {slope}"),
    Identity: ("{inp} (identity)", "1"),
    Dropout: ("{inp} * mask / (1 - {p})", "mask / (1 - {p}), the mask this forward drew"),
}


@dataclass
class ModuleStep:
    """What one module of the model saw and passed on during the step.

    ``input`` ``(n, in)`` and ``output`` ``(n, out)`` are its forward's; ``grad_output``
    (dL/d output, ``(n, out)``) is what its backward received and ``grad_input`` (dL/d
    input, ``(n, in)``) what it returned (None for the first module: the input is data).
    ``local`` is an element-wise module's derivative f'(input) ``(n, out)`` (None for
    others). ``params``, ``grads`` and ``updated`` map each parameter's name
    (``'weight'``, ``'bias'``) to its values before the step, its gradient and its values
    after the optimizer's step (empty without an optimizer); ``frozen`` names those of
    its parameters the optimizer does not hold (they keep their values: frozen layers).
    """

    index: int
    module: Module
    input: np.ndarray
    output: np.ndarray
    name: str = "h"
    input_name: str = "x"
    grad_output: np.ndarray | None = None
    grad_input: np.ndarray | None = None
    local: np.ndarray | None = None
    params: dict[str, np.ndarray] = field(default_factory=dict)
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    updated: dict[str, np.ndarray] = field(default_factory=dict)
    frozen: tuple[str, ...] = ()
    layer: int = 0  # k in W{k}, z{k}: the number of Linear/Conv1d layers up to this one

    def __repr__(self) -> str:
        """One line (the arrays are in the attributes; a REPL printed them all)."""
        shape = "x".join(str(d) for d in self.output.shape)
        kind = type(self.module).__name__
        return f"ModuleStep({self.name} = {kind}({self.input_name}), {shape})"


@dataclass
class StepTrace:
    """Every number of one training step (see :func:`trace_step`).

    ``x`` ``(n, in)``, ``target`` as the loss took it, ``pred`` ``(n, out)``, ``loss``
    the loss's value and ``grad_pred`` dL/dp ``(n, out)``; ``modules`` one
    :class:`ModuleStep` per module, input to output. ``loss_after``: the loss on the
    same samples after the optimizer's step (None without one). ``check_error``: the
    largest error of the parameter gradients against central differences as judged
    against the tolerance (relative, measured against at least round-off / tolerance;
    None when not checked, ``check_note`` says why, and gives the plain relative error).
    """

    x: np.ndarray
    target: np.ndarray
    pred: np.ndarray
    loss: float
    grad_pred: np.ndarray
    loss_fn: Loss
    modules: list[ModuleStep]
    optimizer: Optimizer | None = None
    loss_after: float | None = None
    check_error: float | None = None
    check_note: str = ""
    title: str = ""

    @property
    def checked(self) -> bool:
        """Every parameter gradient matched central differences within the tolerance."""
        return self.check_error is not None and bool(self.check_error <= CHECK_TOLERANCE)

    @property
    def check_failed(self) -> bool:
        """A gradient differed from central differences by more than the tolerance (False
        when unchecked, or when no weight could be compared)."""
        return self.check_error is not None and bool(self.check_error > CHECK_TOLERANCE)

    def text(self, digits: int = 4) -> str:
        """The step as a hand calculation: forward, loss, backward, update, check.
        ``digits``: significant digits of every number shown."""
        from proplab.trace_text import step_text

        return step_text(self, digits)

    def __str__(self) -> str:
        return self.text()

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the step under the name the text gives it, in the order the
        calculation makes them: ``x``, ``t``, each module's parameters (``W1``, ``b1``)
        and output (``z1``, ``a1``...), ``p``, ``softmax(p)`` (cross-entropy), ``L``,
        then ``dL/dp``, each ``dL/d<output>``, ``f'(<input>)`` of element-wise modules
        and ``dL/dW1``..., and after an update ``W1 new``... and ``L after``.
        ``dL/dp`` and the last module's ``dL/d<output>`` are one array under two names."""
        out: dict[str, np.ndarray] = {"x": self.x, "t": self.target}
        for step in self.modules:
            for pname, value in step.params.items():
                out[param_label(step, pname)] = value
            out[step.name] = step.output
        out["p"] = self.pred
        if isinstance(self.loss_fn, CrossEntropyLoss):
            out["softmax(p)"] = softmax(self.pred)
        out["L"] = np.asarray(self.loss)
        out["dL/dp"] = self.grad_pred
        for step in reversed(self.modules):
            out[f"dL/d{step.name}"] = cast(np.ndarray, step.grad_output)  # set by the backward
            if step.local is not None:
                out[f"f'({step.input_name})"] = step.local
            for pname, grad in step.grads.items():
                out[f"dL/d{param_label(step, pname)}"] = grad
            if step.grad_input is not None:
                out[f"dL/d{step.input_name}"] = step.grad_input
        for step in self.modules:
            for pname, value in step.updated.items():
                out[f"{param_label(step, pname)} new"] = value
        if self.loss_after is not None:
            out["L after"] = np.asarray(self.loss_after)
        return out

    def weights(self, layout: str = "in_out") -> dict[str, np.ndarray]:
        """Every parameter as it was before the step (copies), named as :meth:`arrays`
        names them: ``{"W1": (in, out), "b1": (out,), "W2": ..., ...}``, the weights
        to give your own code so that it takes the same step. ``layout="out_in"``: each
        2-D weight transposed, ``(out, in)``, for code computing ``z = x W^T + b`` (then
        ``compare(..., layout="out_in")`` transposes its weight arrays back)."""
        if layout not in ("in_out", "out_in"):
            raise ValueError(f"layout must be 'in_out' or 'out_in', got {layout!r}")
        out: dict[str, np.ndarray] = {}
        for step in self.modules:
            for pname, value in step.params.items():
                flip = layout == "out_in" and pname == "weight" and value.ndim == 2
                out[param_label(step, pname)] = (value.T if flip else value).copy()
        return out

    def compare(
        self, mine: Mapping[str, Any], tolerance: float | None = None, *, layout: str = "in_out"
    ) -> Comparison:
        """Your own arrays (``{"z1": ..., "dL/dW1": ...}``, named as :meth:`arrays` names
        them) against this step's: see :func:`proplab.trace_compare.compare` (``tolerance``
        None: 1e-7, or one for float32's rounding when your arrays are float32)."""
        from proplab.trace_compare import compare

        return compare(self, mine, tolerance, layout=layout)

    def __repr__(self) -> str:
        """One line: what was traced and how it went (``print(trace)`` shows every number)."""
        n = self.x.shape[0]
        after = "" if self.loss_after is None else f" -> {self.loss_after:.4g}"
        check = (
            "not checked"
            if self.check_error is None
            else "check passed"
            if self.checked
            else "check FAILED"
            if self.check_failed
            else "nothing compared"
        )
        names = ", ".join(step.name for step in self.modules)
        return (
            f"StepTrace({names}; {n} sample{'s' if n != 1 else ''}, loss {self.loss:.4g}"
            f"{after}, {check}; print() it for every number)"
        )


def _layers(model: Module) -> list[Module]:
    if isinstance(model, Sequential):
        out: list[Module] = []
        for layer in model.layers:
            out += _layers(layer)
        return out
    return [model]


def _check_single(model: Module, x: np.ndarray) -> None:
    for name, p in model.named_parameters():
        if p.replica_ndim:
            raise ValueError(
                f"trace_step traces one model; parameter {name!r} has replica axes "
                f"{p.data.shape[: p.replica_ndim]} (build the model without seeds=/replicas=)"
            )
    if x.ndim != 2:
        raise ValueError(
            f"trace_step takes inputs x of shape (n, in), one row per sample, got shape {x.shape}"
        )


def _names(layers: list[Module]) -> list[tuple[str, int]]:
    """Each module's output name and layer number: z1, a1, z2, a2... (see the module doc)."""
    names, k = [], 0
    for m in layers:
        if isinstance(m, Linear) or type(m).__name__ == "Conv1d":
            k += 1
            names.append((f"z{k}", k))
        elif type(m) in _ELEMENTWISE and not isinstance(m, Dropout):
            names.append((f"a{k}", k))  # a0: an activation on the input itself
        elif isinstance(m, Dropout):
            names.append((f"d{k}", k))
        elif isinstance(m, BatchNorm1d):
            names.append((f"bn{k}", k))
        elif isinstance(m, Features):
            names.append(("phi", k))  # the feature map phi(x) of the textbooks
        elif isinstance(m, Flatten | Unsqueeze):
            # only reshapes its input: named after it (z2 = a1_flat W2 + b2)
            before = names[-1][0] if names else "x"
            names.append((f"{before}_{'flat' if isinstance(m, Flatten) else 'ch'}", k))
        else:
            names.append((f"h{len(names) + 1}", k))
    # a later module of the same name (two activations in a row) gets a number: a1_2 (a
    # prime, a1', read as a derivative beside f'(z1))
    seen: dict[str, int] = {}
    for i, (name, k) in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = (f"{name}_{seen[name]}", k)
    return names


def trace_step(
    model: Module,
    loss_fn: Loss,
    x: np.ndarray,
    target: np.ndarray,
    optimizer: Optimizer | None = None,
    *,
    check: bool = True,
    title: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> StepTrace:
    """One training step of ``model`` on ``x`` ``(n, in)`` and ``target``, every array kept.

    Runs, one module at a time, what :func:`proplab.fit` runs for one full-batch
    epoch: ``zero_grad``, each module's ``forward``, the loss, each module's ``backward``
    (no input gradient for the first: it is data), then ``optimizer.step()`` when an
    optimizer is given (``model``'s parameters change, as in training; an optimizer over
    some of them leaves the others frozen, and one over parameters that are not
    ``model``'s is refused, as :func:`proplab.fit` refuses it). With ``check``,
    every parameter gradient is compared with central differences of the loss (float64
    models up to :data:`MAX_CHECKED_WEIGHTS` weights; on a copy of the model, so
    batchnorm's running statistics and dropout's masks are as one step leaves them);
    ``progress(done, total)`` is called as its weights are nudged (a progress bar).

    ``model``: a single model (a Module or a Sequential of them); the step runs in
    training mode, as :func:`proplab.fit` trains (dropout on, batchnorm normalising by
    the batch), and the modules' modes are put back. Returns a :class:`StepTrace`;
    ``print(trace)`` shows it as a hand calculation.

    Example:
        >>> import numpy as np, proplab
        >>> model = proplab.mlp(2, 2, 1, rng=np.random.default_rng(0))
        >>> x, t = np.array([[0.0, 1.0]]), np.array([[1.0]])
        >>> trace = proplab.trace_step(model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=1.0))
        >>> trace.loss_after < trace.loss
        True
    """
    if not isinstance(model, Module):
        raise TypeError(f"trace_step traces a proplab Module, got {type(model).__name__}")
    if not isinstance(loss_fn, Loss):
        raise TypeError(f"trace_step needs a proplab Loss, got {type(loss_fn).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"trace_step: optimizer must be a proplab Optimizer or None, "
            f"got {type(optimizer).__name__}"
        )
    x = np.asarray(x)
    for name, a in (("x", x), ("target", np.asarray(target))):
        if a.dtype.kind not in "biuf":  # as fit refuses them: not deep in a ufunc
            raise TypeError(
                f"trace_step: {name} must hold numbers, got an array of dtype {a.dtype}"
            )
    check_bool(check, "trace_step check")  # "False" is truthy: it checked
    if x.ndim >= 2 and x.shape[-2] == 0:  # as fit says it (the loss divided by 0)
        raise ValueError(f"trace_step: x has no samples (shape {x.shape})")
    _check_single(model, x)
    if optimizer is not None:
        # before anything runs: stepping it would move another model's weights while
        # the trace claimed this one's moved
        check_optimizer_of(model, optimizer, caller="trace_step")
    # one training step, as fit takes it: in training mode (dropout on, batchnorm on
    # the batch's statistics), the modules' own modes put back afterwards
    with train_mode(model):
        trace = _record(model, loss_fn, x, target, optimizer, title)
        if check:
            _check_gradients(trace, model, target, progress)
        if optimizer is not None:
            optimizer.step()
            held = {id(p) for p in optimizer.params}
            for step in trace.modules:
                named = list(step.module.named_parameters())
                step.updated = {name: p.data.copy() for name, p in named}
                step.frozen = tuple(name for name, p in named if id(p) not in held)
            trace.loss_after = _loss_again(model, loss_fn, x, target)
    return trace


def _record(
    model: Module, loss_fn: Loss, x: np.ndarray, target: Any, optimizer: Any, title: str
) -> StepTrace:
    """Forward, loss and backward one module at a time, every array kept (copied: a
    module may reuse its buffers)."""
    layers = _layers(model)
    model.zero_grad()
    steps: list[ModuleStep] = []
    h, h_name = x, "x"
    for i, (m, (name, k)) in enumerate(zip(layers, _names(layers), strict=True)):
        out = m.forward(h)
        # named_parameters: a container of the user's (a residual block) has its
        # children's weights, which m.params alone would leave out
        params = {pname: p.data.copy() for pname, p in m.named_parameters()}
        steps.append(ModuleStep(i, m, h, out.copy(), name, h_name, params=params, layer=k))
        h, h_name = out, name
    pred = h
    loss = float(loss_fn.forward(pred, target))
    grad = loss_fn.backward()
    grad_pred = grad.copy()
    for step in reversed(steps):
        m = step.module
        step.grad_output = grad.copy()
        if type(m) in _ELEMENTWISE:
            # the local derivative alone: the backward of a gradient of ones
            step.local = np.asarray(m.backward(np.ones_like(grad)), dtype=float).copy()
        # None only from the first module (index 0), the loop's last: grad is not read again
        grad = m.backward(grad, need_input_grad=step.index > 0)  # type: ignore[assignment]
        step.grad_input = None if grad is None else np.asarray(grad).copy()
        step.grads = {pname: p.grad.copy() for pname, p in m.named_parameters()}
    return StepTrace(
        x, np.asarray(target), pred.copy(), loss, grad_pred, loss_fn, steps, optimizer, title=title
    )


def _loss_again(model: Module, loss_fn: Loss, x: np.ndarray, target: Any) -> float:
    """The loss on the same samples after the step (on a copy: batchnorm's running
    statistics are as the step left them, and a dropout mask is the step's)."""
    twin = held_copy(model)
    return float(copy.deepcopy(loss_fn).forward(twin.forward(x), target))


def _check_gradients(
    trace: StepTrace,
    model: Module,
    target: Any,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Every parameter gradient against central differences of the loss (on a copy; see
    :mod:`proplab.trace_check`)."""
    params = model.parameters()
    count = sum(p.data.size for p in params)
    if not params:
        trace.check_note = "no parameters to check"
        return
    if any(p.data.dtype != np.float64 for p in params):
        trace.check_note = "not checked: the model is not float64 (a 1e-6 nudge is lost in float32)"
        return
    if count > MAX_CHECKED_WEIGHTS:
        trace.check_note = (
            f"not checked: {count:,} weights (at most {MAX_CHECKED_WEIGHTS:,}; proplab "
            "gradcheck checks each layer of a large model on its own)"
        )
        return
    grads = [p.grad.copy() for p in params]
    chain = chain_size(
        [s.output for s in trace.modules] + [trace.pred],
        # every grad_output was set by the backward that built the trace
        [cast(np.ndarray, s.grad_output) for s in trace.modules] + [trace.grad_pred],
    )
    check = check_step(
        model, trace.loss_fn, trace.x, target, grads, trace.loss, trace.pred, progress, chain
    )
    trace.check_error = check.error
    trace.check_note = check.note()


def param_label(step: ModuleStep, pname: str) -> str:
    """How the text names parameter ``pname`` of ``step``'s module: ``W2``, ``b2`` for a
    Linear or Conv1d, ``gamma1``, ``beta1`` for a BatchNorm1d, ``weight(h2)`` otherwise."""
    m = step.module
    if pname in ("weight", "bias") and (isinstance(m, Linear) or type(m).__name__ == "Conv1d"):
        return f"{'W' if pname == 'weight' else 'b'}{step.layer}"
    if pname in ("weight", "bias") and isinstance(m, BatchNorm1d):
        return f"{'gamma' if pname == 'weight' else 'beta'}{step.layer}"
    return f"{pname}({step.name})"


def plain_sgd(optimizer: Optimizer | None) -> bool:
    """Whether ``optimizer`` takes the plain step W <- W - lr dL/dW (SGD without momentum,
    weight decay or L1), which the text can show as a formula."""
    if optimizer is None or type(optimizer) is not SGD:
        return False
    return all(not np.any(optimizer.hyper.get(k, 0.0)) for k in ("momentum", "weight_decay", "l1"))


def elementwise_formulas(module: Module) -> tuple[str, str] | None:
    """An element-wise module's forward and local-derivative formulas (placeholders
    ``{inp}``, ``{out}``, ``{slope}``, ``{p}``), or None."""
    return _ELEMENTWISE.get(type(module))


LOSS_FORMULAS: dict[type, tuple[str, str]] = {
    MSELoss: ("mean((p - t)^2) over N = n x out = {N} values", "2 (p - t) / N"),
    BCELoss: (
        "-mean(t log p + (1 - t) log(1 - p)) over N = n x out = {N} values",
        "(p - t) / (p (1 - p) N)",
    ),
    CrossEntropyLoss: (
        "mean over the n = {n} samples of -log softmax(p)[t]",
        "(softmax(p) - onehot(t)) / n",
    ),
}
# cross-entropy against one-hot rows or class probabilities t (n, C), not labels
SOFT_CROSS_ENTROPY = (
    "mean over the n = {n} samples of -sum_c t_c log softmax(p)_c",
    "(softmax(p) sum_c t_c - t) / n",
)
