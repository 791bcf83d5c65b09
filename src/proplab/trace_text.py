"""A :class:`~proplab.trace.StepTrace` laid out as the hand calculation it checks.

Forward (input to output), loss, backward (output to input, one chain-rule product at
a time), update, and the central-difference check, each array under the name the
formula above it gives it. Numbers have ``digits`` significant digits.
"""

from __future__ import annotations

import numpy as np

from proplab.activations import Sigmoid
from proplab.batchnorm import BatchNorm1d
from proplab.core import Module
from proplab.dropout import Dropout
from proplab.layers import Linear
from proplab.losses import BCELoss, CrossEntropyLoss, softmax
from proplab.optim import SGD
from proplab.optim_base import Optimizer
from proplab.trace import (
    LOSS_FORMULAS,
    SOFT_CROSS_ENTROPY,
    ModuleStep,
    StepTrace,
    elementwise_formulas,
    param_label,
    plain_sgd,
)

INDENT = "    "


def number(value: float | np.ndarray, digits: int) -> str:
    """``value`` with ``digits`` significant digits, trailing zeros kept so every number
    shows its precision (``0.5744``, ``0.5000``, ``-12.50``, ``1.235e-07``, as ``%#.4g``
    writes them); a whole number as one (``0``, ``1``: data and labels). ``value`` may be
    a 0-d array (an entry of a 0-d loss array, say)."""
    value = float(value)
    if np.isfinite(value) and value == int(value) and abs(value) < 1e5:
        return str(int(value))
    text = f"{value:#.{digits}g}"
    # '%#g' keeps a bare point when no digit is left after it (1687.): not a typo to show
    return text[:-1] if text.endswith(".") else text.replace(".e", "e")


def array_lines(label: str, a: np.ndarray, digits: int) -> list[str]:
    """``label = [...]``: a vector on one line, a matrix one row per line with its columns
    aligned under the first row's bracket. Shape: 0-d, ``(k,)``, ``(rows, k)``, or more
    axes, shown as rows of the last one with the shape after the label (``z1 1x2x3``)."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return [f"{label} = {number(a, digits)}"]
    if a.ndim > 2:
        # a conv layer's (n, channels, positions): its rows are the leading axes in turn
        label = f"{label} {'x'.join(str(d) for d in a.shape)}"
    rows = a.reshape(1, -1) if a.ndim == 1 else a.reshape(-1, a.shape[-1])
    cells = [[number(v, digits) for v in row] for row in rows]
    columns = [_aligned(column) for column in zip(*cells, strict=True)]
    texts = ["  ".join(row) for row in zip(*columns, strict=True)]
    head = f"{label} = "
    if a.ndim == 1 or len(texts) == 1:
        return [f"{head}[{texts[0]}]" if a.ndim == 1 else f"{head}[[{texts[0]}]]"]
    pad = " " * len(head)
    lines = [f"{head}[[{texts[0]}]"]
    # more than two axes: an empty line where the leading index moves on (the next sample
    # of a conv layer's (n, channels, positions), the next filter of its weights)
    group = a.shape[-2] if a.ndim > 2 else len(texts)
    for i, t in enumerate(texts[1:], 1):
        if i % group == 0:
            lines.append("")
        lines.append(f"{pad} [{t}]" + ("]" if i == len(texts) - 1 else ""))
    return lines


def _aligned(column: tuple[str, ...]) -> list[str]:
    """A column of numbers aligned on their decimal points (a whole number on its units)."""
    parts = [cell.partition(".") for cell in column]
    left = max(len(whole) for whole, _, _ in parts)
    right = max(len(dot + frac) for _, dot, frac in parts)
    return [(whole.rjust(left) + (dot + frac).ljust(right)) for whole, dot, frac in parts]


def _sizes(step: ModuleStep) -> str:
    return f"{step.input.shape[-1]} -> {step.output.shape[-1]}"


def _forward(step: ModuleStep, digits: int) -> list[str]:
    m, out, inp = step.module, step.name, step.input_name
    lines: list[str] = []
    if isinstance(m, Linear):
        bias = f" + b{step.layer}" if m.bias is not None else ""
        lines.append(f"{out} = {inp} W{step.layer}{bias}   (Linear, {_sizes(step)})")
        for pname, value in step.params.items():
            lines += [INDENT + s for s in array_lines(param_label(step, pname), value, digits)]
    elif (formulas := elementwise_formulas(m)) is not None:
        text = formulas[0].format(inp=inp, out=out, **_constants(m))
        lines.append(f"{out} = {text}   (element-wise)")
        if isinstance(m, Dropout) and step.local is not None:
            # the mask this step drew: 1 kept, 0 dropped (its backward multiplies by it)
            mask = (step.local != 0).astype(float)
            lines += [INDENT + s for s in array_lines("mask", mask, digits)]
    elif isinstance(m, BatchNorm1d):
        k = step.layer
        lines.append(
            f"{out} = gamma{k} * ({inp} - mean) / sqrt(var + {m.eps:g}) + beta{k}   "
            "(per unit; mean and var over the step's samples, var divided by n)"
        )
        lines += [INDENT + s for s in array_lines("mean", step.input.mean(axis=0), digits)]
        lines += [INDENT + s for s in array_lines("var", step.input.var(axis=0), digits)]
        for pname, value in step.params.items():
            lines += [INDENT + s for s in array_lines(param_label(step, pname), value, digits)]
    else:
        shown = repr(m) if "\n" not in repr(m) else f"{type(m).__name__}, see print(model)"
        lines.append(f"{out} = {type(m).__name__}({inp})   ({shown})")
        for pname, value in step.params.items():
            lines += [INDENT + s for s in array_lines(param_label(step, pname), value, digits)]
    lines += [INDENT + s for s in array_lines(out, step.output, digits)]
    return lines


def _constants(m: Module) -> dict[str, str]:
    return {
        "slope": f"{getattr(m, 'negative_slope', getattr(m, 'slope', 0.01)):g}",
        "p": f"{getattr(m, 'p', 0.0):g}",
    }


def _backward(step: ModuleStep, digits: int) -> list[str]:
    m, out, inp = step.module, step.name, step.input_name
    g_out, g_in = f"dL/d{out}", f"dL/d{inp}"
    lines: list[str] = []
    if isinstance(m, Linear):
        lines.append(f"Linear {step.layer} ({_sizes(step)}): {out} = {inp} W{step.layer} + ...")
        w, b = f"W{step.layer}", f"b{step.layer}"
        lines += [
            INDENT + s
            for s in array_lines(f"dL/d{w} = {inp}^T {g_out}", step.grads["weight"], digits)
        ]
        if "bias" in step.grads:
            lines += [
                INDENT + s
                for s in array_lines(
                    f"dL/d{b} = {g_out} summed over the samples", step.grads["bias"], digits
                )
            ]
        if step.grad_input is None:
            lines.append(f"{INDENT}(no {g_in}: {inp} is the data, nothing below it learns)")
        else:
            lines += [
                INDENT + s for s in array_lines(f"{g_in} = {g_out} {w}^T", step.grad_input, digits)
            ]
        return lines
    formulas = elementwise_formulas(m)
    if formulas is not None and step.local is not None:
        local = formulas[1].format(inp=inp, out=out, **_constants(m))
        lines.append(f"{g_in} = {g_out} * f'({inp}),  f'({inp}) = {local}   (element-wise)")
        lines += [INDENT + s for s in array_lines(f"f'({inp})", step.local, digits)]
    else:
        if step.grad_input is not None or step.grads:
            lines.append(f"{g_in} = {type(m).__name__}'s backward of {g_out}")
        for pname, grad in step.grads.items():
            label = f"dL/d{param_label(step, pname)}"
            lines += [INDENT + s for s in array_lines(label, grad, digits)]
    if step.grad_input is None:
        lines.append(f"{INDENT}(no {g_in}: {inp} is the data, nothing below it learns)")
    else:
        lines += [INDENT + s for s in array_lines(g_in, step.grad_input, digits)]
    return lines


def _update(trace: StepTrace, digits: int) -> list[str]:
    opt: Optimizer | None = trace.optimizer
    if opt is None:
        return []
    frozen = any(step.frozen for step in trace.modules)
    if plain_sgd(opt):
        lr = float(opt.hyper["lr"])
        which = "each weight it holds" if frozen else "each weight"
        head = f"UPDATE  SGD, lr {lr:g}: {which} W <- W - lr dL/dW"
    else:
        head = (
            f"UPDATE  {opt!r}: the step its rule takes (help(proplab.{type(opt).__name__}) "
            "gives the formula)"
        )
    lines = ["", head]
    for step in trace.modules:
        for pname, value in step.updated.items():
            label = param_label(step, pname)
            if pname in step.frozen:  # the optimizer does not hold it: it did not move
                lines.append(f"{INDENT}{label}: frozen (not in the optimizer), unchanged")
                continue
            lines += [INDENT + s for s in array_lines(f"{label} (new)", value, digits)]
    after = number(trace.loss_after, digits) if trace.loss_after is not None else "n/a"
    lines.append(
        f"{INDENT}the loss on the same samples: {number(trace.loss, digits)} before the step, "
        f"{after} after" + (" (with the same dropout mask)" if _has_dropout(trace) else "")
    )
    if trace.loss_after is not None and trace.loss_after > trace.loss:
        lines.append(INDENT + _uphill(opt))
    return lines


def _has_dropout(trace: StepTrace) -> bool:
    return any(isinstance(s.module, Dropout) and s.module.p > 0 for s in trace.modules)


def _uphill(opt: Optimizer) -> str:
    """Why a step raised the loss on its own samples (it went uphill)."""
    hyper = opt.hyper
    if any(np.any(hyper.get(k, 0.0)) for k in ("weight_decay", "l1")):
        return (
            "(the loss rose: the step also pulled the weights toward 0 (weight decay or "
            "L1), a penalty the loss L shown here does not include)"
        )
    first_momentum = type(opt) is SGD and opt.steps == 1  # v = g: the plain step
    if plain_sgd(opt) or first_momentum:
        return (
            "(the loss rose: the step along the gradient went past the lowest point in "
            "that direction; a small enough learning rate would not)"
        )
    name = type(opt).__name__
    return (
        f"(the loss rose: {name}'s step is not -lr times this gradient: it carries "
        "earlier steps or scales each weight's gradient, and with this learning rate it "
        "went uphill on these samples)"
    )


def _bce_after_sigmoid(trace: StepTrace) -> bool:
    """The prediction is a sigmoid's output and the loss BCE: the classic pairing."""
    return (
        bool(trace.modules)
        and isinstance(trace.modules[-1].module, Sigmoid)
        and isinstance(trace.loss_fn, BCELoss)
    )


def _bce_cancels(step: ModuleStep) -> str:
    """Why BCE suits a sigmoid output: the chain rule's two factors cancel (the lesson
    docs/pitfalls.md measures: MSE keeps p (1 - p), which vanishes when p is saturated)."""
    z = step.input_name
    return (
        f"(BCE after a sigmoid: the p (1 - p) dividing dL/dp cancels f'({z}) = p (1 - p), "
        f"so dL/d{z} = (p - t) / N: no factor that vanishes when p is saturated and wrong)"
    )


def step_text(trace: StepTrace, digits: int = 4) -> str:
    """The whole step as text (see the module docstring)."""
    if not (isinstance(digits, int) and 1 <= digits <= 17):
        raise ValueError(f"digits must be an integer from 1 to 17, got {digits!r}")
    n = trace.x.shape[0]
    lines: list[str] = []
    if trace.title:
        lines.append(trace.title)
    lines.append(
        f"{n} sample{'s' if n != 1 else ''}, one row each; every array below is "
        "(samples x units), weights (inputs x outputs)"
    )
    if any(step.output.ndim > 2 for step in trace.modules):
        lines.append(
            "a convolution's arrays are (samples x channels x positions), its weights "
            "(out channels x in channels x kernel), an empty line between samples or filters"
        )
    lines += array_lines("x", trace.x, digits)
    lines += array_lines("t", trace.target, digits)
    lines += ["", "FORWARD  input to output"]
    for step in trace.modules:
        lines += [INDENT + s for s in _forward(step, digits)]
    last = trace.modules[-1].name if trace.modules else "x"
    logits = isinstance(trace.loss_fn, CrossEntropyLoss)
    what = (
        "the logits (one per class; the loss applies the softmax)" if logits else "the prediction"
    )
    lines.append(f"{INDENT}p = {last}, {what}")
    loss_name = type(trace.loss_fn).__name__
    forward_text, backward_text = LOSS_FORMULAS.get(
        type(trace.loss_fn), (f"{loss_name}(p, t)", f"{loss_name}'s backward")
    )
    if logits and getattr(trace.loss_fn, "soft", None) is not None:
        forward_text, backward_text = SOFT_CROSS_ENTROPY  # one-hot rows or probabilities
    sizes = {"N": trace.pred.size, "n": n}
    lines += ["", f"LOSS  {loss_name}"]
    if logits:  # the class probabilities: what a hand calculation computes first
        lines += [INDENT + s for s in array_lines("softmax(p)", softmax(trace.pred), digits)]
    lines.append(f"{INDENT}L = {forward_text.format(**sizes)} = {number(trace.loss, digits)}")
    lines += ["", "BACKWARD  output to input: each line multiplies by one local derivative"]
    lines += [
        INDENT + s
        for s in array_lines(
            f"dL/d{last} = dL/dp = {backward_text.format(**sizes)}", trace.grad_pred, digits
        )
    ]
    for step in reversed(trace.modules):
        lines += [INDENT + s for s in _backward(step, digits)]
        if step is trace.modules[-1] and _bce_after_sigmoid(trace):
            lines.append(2 * INDENT + _bce_cancels(step))
    lines += _update(trace, digits)
    if trace.check_note:
        what = "CHECK  every weight's gradient against central differences of L"
        lines += ["", what, INDENT + trace.check_note]
    # no trailing spaces (the empty line between a conv array's samples is indented)
    return "\n".join(line.rstrip() for line in lines)
