"""Check every gradient of a configured network: each layer, the whole model, the loss.

``proplab gradcheck`` (and :func:`check_config`) builds the network a
:class:`~proplab.config.RunConfig` describes, exactly as ``proplab train``
would (same seed, same data preparation), takes the first few samples of its
dataset and compares each backward pass with central differences in float64
(:func:`proplab.gradcheck.gradcheck`):

- every layer alone, fed with the activations it sees in the model's forward
  pass: its input gradient and each of its parameters' gradients;
- the whole model, input and every parameter (the chain rule put together);
- the loss, with respect to the predictions, against the prepared targets.

The result is a table a student can read layer by layer: where a backward is
wrong, the first row over the tolerance names the layer and the array.

ReLU and leaky ReLU have a kink at 0, where the derivative jumps: a central
difference across it is not the gradient (a point such as XOR's (0, 0) with
zero biases puts every first-layer input exactly there). The check therefore
uses the first rows that keep every kinked layer's input at least
:data:`KINK_MARGIN` steps ``eps`` away from 0, and says which rows it skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from proplab.config import (
    ConfigError,
    RunConfig,
    build_loss,
    build_model,
    input_stats,
    network_label,
)
from proplab.core import Module, Sequential
from proplab.gradcheck import (
    DROPOUT_NOTE,
    KINKED,
    LAYERS_NOTE,
    GradcheckResult,
    check_layers,
    gradcheck,
    layer_inputs,
)
from proplab.gradcheck_notes import FEW_SAMPLES_NOTE, few_samples_note
from proplab.gradcheck_numeric import EPS_RANGE

# a sample is used only if every kinked layer's input is this many eps from 0: nudging
# one weight by eps moves a pre-activation by eps times an input (digits' reach 16)
KINK_MARGIN = 1000

# above this step a failure may be the central differences' own truncation error (a
# correct batchnorm network fails at 1e-4): the check says so
LARGE_EPS = 1e-5

# central differences run two forward passes per entry: above this many entries the
# check takes minutes, and a smaller model shows the same backward code at work
MAX_ENTRIES = 100_000


class CheckTooLargeError(ValueError):
    """The check would nudge more entries than :data:`MAX_ENTRIES`."""


@dataclass
class CheckRow:
    """One checked array: which module (``index`` in the model, -1 for the whole
    model, None for the loss), its description, the array's name and size, the error
    judged against the tolerance and the plain relative error (see
    :class:`~proplab.gradcheck.GradcheckResult`: they differ only for gradients so
    small that their difference is within the central differences' round-off)."""

    index: int | None
    module: str
    array: str
    entries: int
    error: float
    relative: float = math.nan
    mark: str = ""  # why a row whose single backward is right fails ("overwrites: see note")

    @property
    def shown(self) -> float:
        """The relative error to show (the judged one when no plain one was recorded)."""
        return self.error if math.isnan(self.relative) else self.relative

    def within_roundoff(self, tolerance: float) -> bool:
        return self.error <= tolerance < self.shown


@dataclass
class ModelCheck:
    """Every row of a check, with what was checked and the tolerance it is held to."""

    title: str
    rows: list[CheckRow] = field(default_factory=list)
    tolerance: float = 1e-6
    samples: list[int] = field(default_factory=list)  # the data rows checked on
    skipped: list[int] = field(default_factory=list)  # rows passed over: a kink within reach
    notes: list[str] = field(default_factory=list)  # gradcheck's hints, by module

    @property
    def worst(self) -> float:
        """The largest judged error over the compared rows (0.0 with none): ``ok`` is
        ``worst <= tolerance`` when every row was compared, as for GradcheckResult."""
        return max((r.error for r in self.rows if not math.isnan(r.error)), default=0.0)

    @property
    def worst_relative(self) -> float:
        """The largest plain relative error over the compared rows (0.0 with none): what
        the table shows; above the tolerance when a row passes by being within round-off."""
        return max((r.shown for r in self.rows if not math.isnan(r.error)), default=0.0)

    @property
    def any_within_roundoff(self) -> bool:
        """Whether a row passes only by being within the central differences' round-off."""
        return any(r.within_roundoff(self.tolerance) for r in self.rows)

    @property
    def ok(self) -> bool:
        """Every row compared and within the tolerance."""
        return all(r.error <= self.tolerance for r in self.rows)

    @property
    def failed(self) -> list[CheckRow]:
        """The rows over the tolerance, in model order."""
        return [r for r in self.rows if r.error > self.tolerance]

    @property
    def uncompared(self) -> list[CheckRow]:
        """The rows none of whose entries could be compared (every nudge crossed a kink)."""
        return [r for r in self.rows if math.isnan(r.error)]


def _layers(model: Module) -> list[Module]:
    return list(model.layers) if isinstance(model, Sequential) else [model]


def _entries(layers: list[Module], inputs: list[np.ndarray], model: Module, x: np.ndarray) -> int:
    """Entries every check will nudge: each layer's input and parameters, then the model's."""
    per_layer = sum(
        inp.size + sum(p.data.size for p in layer.parameters())
        for layer, inp in zip(layers, inputs, strict=True)
    )
    return per_layer + x.size + sum(p.data.size for p in model.parameters())


def check_config(
    cfg: RunConfig,
    samples: int = 4,
    eps: float = 1e-6,
    tolerance: float = 1e-6,
) -> ModelCheck:
    """Gradient-check the network and loss ``cfg`` describes on ``samples`` rows of its data.

    The model is built in float64 from ``cfg.seed`` as ``proplab train`` builds
    it; inputs are the first ``samples`` training rows ``(samples, in)`` and
    targets the matching prepared rows (one-hot or class indices, as the loss
    takes them). Raises :class:`CheckTooLargeError` when the check would nudge
    more than :data:`MAX_ENTRIES` entries, and ConfigError for an invalid config.
    """
    from proplab.experiments import prepare_run

    low, high = EPS_RANGE
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not low <= eps <= high:
        raise ConfigError(f"eps: must be a step from {low:g} to {high:g}, got {eps!r}")
    cfg, prep = prepare_run(cfg)
    if cfg.batchnorm and samples < 2:
        raise ConfigError(
            f"samples: a batchnorm network is checked on at least 2 samples (a batch of one "
            f"has no variance to normalise by), got {samples}"
        )
    # standardize: the training rows' statistics, as proplab train's model holds them
    model = build_model(cfg, prep.x.shape[-1], prep.n_out, stats=input_stats(cfg, prep.x))
    loss = build_loss(cfg)
    layers = _layers(model)
    rows, skipped = _rows_clear_of_kinks(layers, prep.x, samples, KINK_MARGIN * eps)
    x = np.array(prep.x[rows], dtype=np.float64)
    y = np.array(prep.y[rows])
    inputs = layer_inputs(layers, x)  # what each layer sees in the model's own forward pass
    entries = _entries(layers, inputs, model, x)
    if entries > MAX_ENTRIES:
        raise CheckTooLargeError(
            f"gradcheck would nudge {entries:,} entries (two forward passes each; at most "
            f"{MAX_ENTRIES:,}): use fewer --samples or a smaller network (--hidden, --filters)"
        )
    extras = ("" if cfg.bias else ", no biases") + (", batchnorm" if cfg.batchnorm else "")
    extras += ", standardised inputs" if cfg.standardize else ""
    extras += f", dropout {cfg.dropout:g}" if cfg.dropout else ""
    title = (
        f"{network_label(cfg, x.shape[-1], prep.n_out)} {cfg.activation} (output "
        f"{cfg.output_activation}{extras}), {cfg.loss} loss, seed {cfg.seed}; "
        f"{x.shape[0]} samples of {cfg.dataset}, float64, eps {eps:g}"
    )
    check = ModelCheck(title, tolerance=tolerance, samples=rows, skipped=skipped)
    if cfg.batchnorm:
        check.notes.append(
            "BatchNorm1d is checked in training mode, as it trains: it normalises with the "
            f"mean and variance of these {x.shape[0]} samples, so nudging one sample's input "
            "moves every sample's output, and its input gradient carries that coupling"
        )
    if cfg.dropout:
        check.notes.append(
            "Dropout is checked in training mode with its mask held fixed: each check draws "
            "one mask on its first forward pass and every nudged forward and the backward "
            "reuse it (Dropout.hold_mask), so the central differences differentiate one "
            "function, x * mask / (1 - p)"
        )
    if x.shape[0] < 3:  # every check would say so: said once, here
        check.notes.append(few_samples_note(x.shape[0]))
    # the same random output weights for every check: a seeded generator per check
    results = check_layers(layers, inputs, eps, tolerance)
    for i, (layer, inp, result) in enumerate(zip(layers, inputs, results, strict=True)):
        name = repr(layer).split("\n")[0]
        check.rows += _rows(i, name, result, layer, inp)
        check.notes += [f"{i} {name}: {note}" for note in _own(result.notes)]
    result = gradcheck(model, x, eps=eps, tolerance=tolerance, rng=np.random.default_rng(0))
    check.rows += _rows(-1, "whole model", result, model, x)
    check.notes += [f"whole model: {note}" for note in _own(result.notes)]
    pred = model.forward(x)
    result = gradcheck(loss, pred, y, eps=eps, tolerance=tolerance)
    check.rows += _rows(None, type(loss).__name__, result, loss, pred)
    if check.failed and eps > LARGE_EPS:
        check.notes.append(
            f"the step eps {eps:g} is large: a central difference is off from the derivative "
            f"by about eps² ({eps**2:.0e}) times the function's third derivative; check "
            "again with a smaller eps (the default 1e-06) before looking for a bug in a "
            "backward"
        )
    return check


def _own(notes: list[str]) -> list[str]:
    """A check's notes but the held-dropout-mask and few-samples ones, which the table's
    notes say once, and the whole model's layer by layer one: the table has a row per
    layer alone."""
    skip = (DROPOUT_NOTE, FEW_SAMPLES_NOTE, LAYERS_NOTE)
    return [note for note in notes if not note.startswith(skip)]


def _rows_clear_of_kinks(
    layers: list[Module], x: np.ndarray, samples: int, margin: float
) -> tuple[list[int], list[int]]:
    """``(rows, skipped)``: the first ``samples`` rows of ``x`` whose inputs to every
    kinked layer are at least ``margin`` from 0, and the rows passed over before them.

    When fewer rows than that are clear, the clearest ones fill up the rest.
    """
    if not any(isinstance(layer, KINKED) for layer in layers):
        return list(range(min(samples, len(x)))), []
    distance = np.full(len(x), np.inf)
    h = np.array(x, dtype=np.float64)
    for layer in layers:
        if isinstance(layer, KINKED):
            per_row = np.abs(h.reshape(len(x), -1)).min(axis=1)
            distance = np.minimum(distance, per_row)
        h = layer.forward(h)
    clear = np.flatnonzero(distance >= margin)
    if len(clear) >= samples:
        rows = clear[:samples].tolist()
    else:  # too few clear rows: the farthest of the others make up the number
        rest = [i for i in np.argsort(-distance, kind="stable") if i not in set(clear)]
        rows = sorted(clear.tolist() + rest[: samples - len(clear)])
    chosen = set(rows)
    skipped = [i for i in range(max(rows) + 1) if i not in chosen] if rows else []
    return rows, skipped


def _rows(
    index: int | None, module: str, result: GradcheckResult, target: object, x: np.ndarray
) -> list[CheckRow]:
    """One row per array ``result`` checked; ``x``: the module's input, or a loss's pred."""
    sizes = {"input": x.size, "pred": x.size}
    if isinstance(target, Module):
        sizes.update({n: p.data.size for n, p in target.named_parameters()})
    return [
        CheckRow(
            index,
            module,
            name,
            sizes[name],
            err,
            result.relative.get(name, err),
            result.marks.get(name, ""),
        )
        for name, err in result.errors.items()
    ]


def format_check(check: ModelCheck) -> str:
    """The check as a plain-text table, then one verdict line."""
    header = ("#", "module", "array", "entries", "rel. error", "")
    body = []
    for r in check.rows:
        index = "" if r.index is None else ("all" if r.index < 0 else str(r.index))
        mark = "<- not compared" if math.isnan(r.error) else "<- FAILED"
        mark = "" if r.error <= check.tolerance else mark
        if r.mark and r.error > check.tolerance:
            mark += f" ({r.mark})"
        if r.within_roundoff(check.tolerance):
            mark = "(within round-off)"
        body.append((index, r.module, r.array, f"{r.entries:,}", f"{r.shown:.1e}", mark))
    widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
    right = {0, 3, 4}

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if c in right else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    lines = [f"gradcheck: {check.title}"]
    if check.skipped:
        shown = ", ".join(map(str, check.skipped[:10])) + (
            " ..." if len(check.skipped) > 10 else ""
        )
        one = len(check.skipped) == 1
        lines.append(
            f"data rows {', '.join(map(str, check.samples))}; skipped "
            f"{'row' if one else 'rows'} {shown}: {'it puts' if one else 'they put'} a ReLU "
            "input at its kink at 0, where central differences do not give the derivative"
        )
    lines.append(line(header))
    previous = object()
    for r, row in zip(check.rows, body, strict=True):
        if r.index == previous:  # one module, several arrays: name it once
            row = ("", "", *row[2:])
        previous = r.index
        lines.append(line(row))
    arrays, total = len(check.rows), sum(r.entries for r in check.rows)
    # "<= tolerance", or, when an array passes by being within round-off, say so
    within = (
        f" (within round-off; tolerance {check.tolerance:g})"
        if check.any_within_roundoff
        else f" <= {check.tolerance:g}"
    )
    if check.ok:
        verdict = (
            f"gradcheck ok: worst relative error {check.worst_relative:.1e}{within} "
            f"over {arrays} arrays ({total:,} entries)"
        )
    elif not check.failed:
        names = ", ".join(f"{r.module} {r.array}" for r in check.uncompared)
        verdict = (
            f"gradcheck incomplete: {names} not compared (worst relative error of the rest "
            f"{check.worst_relative:.1e}{within})"
        )
    else:
        first = check.failed[0]
        verdict = (
            f"gradcheck FAILED: {len(check.failed)} of {arrays} arrays over {check.tolerance:g}, "
            f"first {first.module} {first.array} ({first.shown:.1e}"
            + (f", {first.mark})" if first.mark else ")")
        )
    return "\n".join([*lines, verdict, *(f"note: {note}" for note in check.notes)])
