"""The report's description of the base model: architecture, parameter counts and the gradient check.

The Setup's network bullet (``2 → 10 → 10 → 1 (MLP), sigmoid after each hidden layer...``,
one per data shape), the outputs a sweep gave its runs, and the gradient-check bullet
with the ``proplab gradcheck`` command that prints the same check row by row.
"""

from __future__ import annotations

import math
import shlex
from typing import Any

from proplab import aggregate
from proplab.config import RunConfig
from proplab.dataload import is_regression_run
from proplab.features import inputs_label
from proplab.report_data import (
    dataset_name,
)
from proplab.report_text import (
    listing,
)
from proplab.sweep_spec import format_value, with_regression_defaults

# what a run's data depends on: the rest of the base config is the model and its training
_DATA_FIELDS = ("dataset", "n", "noise", "test_fraction", "label", "drop_columns", "seed")


def _base_on_data_of(base: RunConfig, rec: aggregate.RunRecord) -> tuple[RunConfig, Any]:
    """``(config, prepared data)`` of the base model on ``rec``'s data (its dataset, size,
    noise, split, label and seed); the run's own config when the base does not fit that
    data alone (an experiment's setting made it fit)."""
    from proplab.experiments import prepare_run

    data = {name: getattr(rec.config, name) for name in _DATA_FIELDS}
    try:
        return prepare_run(base.replace(**data))
    except Exception:
        return prepare_run(rec.config)


def base_shapes(base: RunConfig, records: list[aggregate.RunRecord]) -> dict[str, tuple[int, int]]:
    """``{dataset: (inputs, outputs)}`` of the base model on each dataset, in record order.

    The outputs are the network's, as its runs prepare the targets: 10 for the
    digits' ten classes (one-hot for MSE, logits for cross-entropy), not the
    width of the label column.
    """
    shapes: dict[str, tuple[int, int]] = {}
    for rec in records:
        if rec.dataset not in shapes:
            _, prep = _base_on_data_of(base, rec)
            shapes[rec.dataset] = (prep.x.shape[-1], prep.n_out)
    return shapes


def param_counts(base: RunConfig, n_in: int, n_out: int) -> tuple[int, int]:
    """(weights, biases) of the base model with ``n_in`` inputs and ``n_out`` outputs."""
    from proplab.config import build_model

    model = build_model(base, n_in, n_out)
    named = list(model.named_parameters())
    # a batchnorm's shift (its "bias") is a bias too: it moves a unit's input as one would
    biases = sum(p.data.size for n, p in named if n.endswith("bias"))
    return sum(p.data.size for _, p in named) - biases, biases


def _architecture(cfg: RunConfig, n_in: int | str, n_out: int | str, outputs: str = "") -> str:
    """``outputs``: where the runs' output differs from ``cfg``'s (see :func:`other_outputs`)."""
    if cfg.features:  # the network's inputs are the features of (x1, x2)
        n_in = f"{len(cfg.features)} input features {inputs_label(cfg.features)}"
    widths = " → ".join(str(w) for w in [n_in, *cfg.hidden_sizes, n_out])
    hidden = cfg.activation
    if cfg.batchnorm:  # mlp puts it between each hidden Linear and its activation
        hidden = f"batchnorm then {hidden}"
    text = f"{widths} ({cfg.model.upper()}), {hidden} after each hidden layer"
    text += f" (then dropout {cfg.dropout:g})" if cfg.dropout else ""
    text += f", {cfg.output_activation} on the output" + (f" ({outputs})" if outputs else "")
    if cfg.batchnorm and cfg.bias:  # a bias just before a batchnorm would be subtracted away
        return text + ", biases on the output (batchnorm's shift stands for the hidden ones)"
    return text + (", with biases" if cfg.bias else ", without biases")


def other_outputs(
    values: dict[str, Any], base: RunConfig, records: list[aggregate.RunRecord]
) -> str:
    """Where the sweep gave the base another output than ``base``'s, or ``""``: a sweep
    file that names no output gives a regression set's runs an identity output (a sigmoid
    cannot reach a negative target) and a classification's RunConfig's sigmoid, so a
    sweep of both kinds trains both (``'identity on multi-gauss, whose targets are
    values'``)."""
    if "output_activation" in values:  # the file's own choice, for every run
        return ""
    other: dict[str, list[str]] = {}
    kind: dict[str, str] = {}
    for r in records:
        own = with_regression_defaults(
            {**values, "dataset": r.config.dataset, "task": r.config.task}
        )
        act = own.get("output_activation", RunConfig.output_activation)
        names = other.setdefault(act, [])
        if act != base.output_activation and dataset_name(r.dataset) not in names:
            names.append(dataset_name(r.dataset))
            kind[act] = (
                "targets are values" if is_regression_run(r.config) else "labels are classes"
            )
    parts = [
        f"{act} on {listing(names)}, whose {kind[act]}" for act, names in other.items() if names
    ]
    return "; ".join(parts)


def gradients_line(base: RunConfig, records: list[aggregate.RunRecord], dataset: str) -> str:
    """The Setup's gradient-check bullet: the base model's backward passes against central
    differences on ``dataset`` (what ``proplab gradcheck`` prints row by row).

    The error is given as a power of ten it stays below: its last digits depend on the
    BLAS build, and the report should read the same on every machine.
    """
    from proplab.model_check import check_config

    cfg, _ = _base_on_data_of(base, next(r for r in records if r.dataset == dataset))
    check = check_config(cfg)
    checked = f"{len(check.rows)} checked arrays (each layer alone, the whole model, the loss)"
    where = check.title.split("; ")[1].split(",")[0]  # "4 samples of xor"
    if not check.failed:
        worst = check.worst_relative
        bound = 10.0 ** math.ceil(math.log10(worst)) if worst > 0 else 0.0
        compared = f"all {checked}"
        if check.uncompared:  # ReLU kinks, gradients all exactly 0, or below round-off
            compared = (
                f"{len(check.rows) - len(check.uncompared)} of the {checked}; "
                f"{len(check.uncompared)} could not be compared ({_uncompared_causes(check)})"
            )
        return (
            f"**Gradients**: the base model's backward passes match central differences "
            f"(float64, {where}): relative error below {bound:.0e} in {compared}; "
            f"{_gradcheck_hint(cfg, 'prints them one by one')}, and "
            f"`{_trace_command(cfg)}` one training step of it, number by number."
        )
    first = check.failed[0]
    return (
        f"**Gradients**: FAILED: {len(check.failed)} of the {checked} differ from central "
        f"differences (float64, {where}) by more than {check.tolerance:g}, first "
        f"{first.module} {first.array} ({first.shown:.1e}); {_gradcheck_hint(cfg, 'shows where')}. "
        "A wrong backward pass makes these results something other than gradient descent."
    )


# what gradcheck's notes say when it leaves arrays out, and how the report says it
_UNCOMPARED_CAUSES = (
    ("across its kink", "ReLU kinks"),
    ("every gradient is exactly 0", "every gradient exactly 0: a dead ReLU output"),
    ("below the central differences' own round-off", "gradients below round-off: saturated units"),
)


def _uncompared_causes(check: Any) -> str:
    """Why ``check`` left arrays out, as gradcheck's notes say it."""
    text = " ".join(check.notes)
    causes = [said for found, said in _UNCOMPARED_CAUSES if found in text]
    return "; ".join(causes) or "see the check's notes"


# the options of proplab gradcheck, as RunConfig fields
_GRADCHECK_FIELDS = (
    "dataset", "n", "noise", "label", "drop_columns", "task", "standardize", "model", "features",
    "hidden",
    "activation",
    "output_activation",
    "bias", "init", "loss", "seed", "filters", "kernel_size", "stride", "padding",
)  # fmt: skip


def _gradcheck_hint(cfg: RunConfig, does: str) -> str:
    """ "`proplab gradcheck ...` <does>": the command that checks ``cfg``'s network."""
    return f"`{_gradcheck_command(cfg)}` {does}"


# what proplab trace takes beyond gradcheck's options: the optimizer that takes the step
_TRACE_FIELDS = ("optimizer", "lr", "momentum", "weight_decay", "l1", "batchnorm", "dropout")


def _trace_command(cfg: RunConfig) -> str:
    """The ``proplab trace`` command that traces ``cfg``'s network and optimizer: the
    gradcheck command's network options and each optimizer option the command line would
    otherwise set differently."""
    from proplab.dataload import with_dataset_defaults

    words = [_gradcheck_command(cfg).replace("proplab gradcheck", "proplab trace", 1)]
    default = RunConfig(**with_dataset_defaults({"dataset": cfg.dataset}))
    for name in _TRACE_FIELDS:
        value = getattr(cfg, name)
        if value == getattr(default, name):
            continue
        flag = f"--{name.replace('_', '-')}"
        words.append(flag if value is True else f"{flag} {format_value(value)}")
    return " ".join(words)


def _gradcheck_command(cfg: RunConfig) -> str:
    """The ``proplab gradcheck`` command line that checks ``cfg``'s network: the dataset,
    and each option whose value the command line would otherwise set differently (its
    defaults, completed by the dataset's own, such as digits' cross-entropy)."""
    from proplab.dataload import with_dataset_defaults

    given: dict[str, Any] = {"dataset": cfg.dataset}
    for _ in range(len(_GRADCHECK_FIELDS)):  # a given loss can change another default
        cli = RunConfig(**with_dataset_defaults(dict(given)))
        differ = [f for f in _GRADCHECK_FIELDS if getattr(cli, f) != getattr(cfg, f)]
        if not differ:
            break
        given.update({f: getattr(cfg, f) for f in differ})
    words = ["proplab gradcheck"]
    for name in _GRADCHECK_FIELDS:
        if name not in given:
            continue
        value = given[name]
        if name == "bias":
            words.append("--no-bias" if not value else "")
            continue
        if name == "standardize":
            words.append("--standardize" if value else "")
            continue
        if name == "drop_columns":  # names as a shell takes them: "patient name" is one
            shown = " ".join(shlex.quote(str(c)) for c in value)
        elif value == []:  # no hidden layer
            shown = "0"
        elif name == "hidden" and isinstance(value, list) and len(value) == 1:
            shown = f"{value[0]} --layers 1"  # one value alone means the lab's two layers
        else:
            shown = " ".join(map(str, value)) if isinstance(value, list) else format_value(value)
        words.append(f"--{name.replace('_', '-')} {shown}")
    return " ".join(w for w in words if w)


def network_line(base: RunConfig, shapes: dict[str, tuple[int, int]], outputs: str = "") -> str:
    """The Setup's network bullet: one architecture, or one per data shape when the
    datasets differ in inputs or outputs (digits 64 -> 10, the lab's sets 2 -> 1);
    ``outputs``: where the runs' output differs from the base's."""

    def counted(n_in: int, n_out: int) -> str:
        weights, biases = param_counts(base, n_in, n_out)
        return f"{weights + biases} parameters ({weights} weights, {biases} biases)"

    init = f"`{base.init}` initialisation"
    if len(set(shapes.values())) == 1:
        n_in, n_out = next(iter(shapes.values()))
        return (
            f"**Network**: {_architecture(base, n_in, n_out, outputs)}; {counted(n_in, n_out)}, "
            f"{init}."
        )
    by_shape: dict[tuple[int, int], list[str]] = {}
    for ds in sorted(shapes, key=lambda d: (d != "linear", d)):  # as the Data lines
        by_shape.setdefault(shapes[ds], []).append(dataset_name(ds))
    parts = [
        f"{' → '.join(str(w) for w in [n_in, *base.hidden_sizes, n_out])} on "
        f"{', '.join(names)}: {counted(n_in, n_out)}"
        for (n_in, n_out), names in by_shape.items()
    ]
    return (
        f"**Network**: {_architecture(base, 'inputs', 'outputs', outputs)}, {init}; "
        f"by dataset: {'; '.join(parts)}."
    )
