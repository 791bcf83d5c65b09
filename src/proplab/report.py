"""The lab report from a sweep folder: ``report.md`` (+ PNGs) and a self-contained ``report.html``.

``build_report(DIR)`` reads only finished run folders (no training): the
sweep file copied into ``DIR/sweep.toml``, every run's ``summary.json``,
``history.csv`` and ``model.npz``, and the lab runs ``DIR/<dataset>/`` when
``proplab lab`` made them. Sections follow the lab: setup, results,
discussion, extras and the lab's questions; each experiment gets a table
(mean ± std over seeds), learning curves, an accuracy plot, decision
boundaries and observations computed from its numbers.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proplab import aggregate
from proplab.config import RunConfig
from proplab.dataload import is_regression_run, zoo_key
from proplab.experiments import (
    BOUNDARY_DURING_TRAINING,
    COMPARISON,
    GRADIENTS_FIGURE,
    LEARNING_CURVE,
)
from proplab.features import inputs_label
from proplab.report_answers import answers
from proplab.report_data import (
    MOVING,
    ExperimentView,
    GroupView,
    ViewCache,
    dataset_name,
    experiment_views,
)
from proplab.report_doc import (
    Block,
    Bullets,
    Code,
    Document,
    Figure,
    Heading,
    Para,
    Table,
    to_markdown,
)
from proplab.report_figures import experiment_figures
from proplab.report_text import (
    acc_text,
    listing,
    loss_text,
    observations,
    range_text,
    setting_name,
)
from proplab.runio import read_csv, read_json, write_text
from proplab.sweep import (
    RUNS_DIR,
    SPEC_COPY,
    SWEEP_LOG,
    SweepError,
    SweepSpec,
    format_value,
    load_spec,
    read_summary,
)
from proplab.sweep_spec import with_regression_defaults

FIGURES = "figures"
SECTION_TITLES = {
    "results": "Results",
    "discussion": "Discussion",
    "extras": "Extras",
    "other": "Experiments",
}


def build_report(
    out: str | Path, *, log: Callable[[str], Any] = print, jobs: int = 1
) -> tuple[Path, Path]:
    """Write ``report.md``, ``report.html`` and ``figures/`` into ``out``; return both paths.

    ``jobs`` > 1 draws the experiments' figures in that many processes (the
    figures are most of the time a report takes; the document is the same).
    """
    out = Path(out)
    if not (out / SPEC_COPY).is_file():
        raise SweepError(
            f"{out}: not a sweep folder (no {SPEC_COPY}); run `proplab sweep FILE.toml --out {out}` "
            "or `proplab lab` first"
        )
    spec = load_spec(out / SPEC_COPY)
    # strict: a damaged run stops the report here, named, not later in a figure
    records = aggregate.write_tables(spec, out, strict=True)
    if not records:
        raise SweepError(f"{out}: no finished runs yet; run the sweep first")
    log(f"report: reading {len({r.run for r in records})} runs")
    cache = ViewCache(out)
    cache.preload(records, jobs)
    views = experiment_views(spec, records, cache)
    (out / FIGURES).mkdir(exist_ok=True)
    # as the sweep gave its runs: a regression base (dataset = "multi-gauss") gets the
    # identity output its runs trained with, not RunConfig's sigmoid
    base = _sweep_base(spec.base, records)
    drawing = sum(_draws_figures(v) for v in views)
    log(f"report: drawing the figures of {drawing} experiments")
    drawn = _draw_in_processes(views, out, jobs, log) if jobs > 1 else {}

    doc = Document(f"{spec.title}: report")
    done = len(drawn)
    _setup(doc, out, spec, views, records, base)
    for section in ("results", "discussion", "extras", "other"):
        mine = [v for v in views if v.experiment.section == section]
        lab = _lab_runs(out, views) if section == "results" else []
        if mine or lab:
            doc.add(Heading(2, SECTION_TITLES[section]), *lab)
        for v in mine:
            figures = drawn.get(v.experiment.name)
            _experiment(doc, out, v, figures)
            if figures is None and _draws_figures(v):  # drawn just now, in this process
                done += 1
                log(f"report: figures {done}/{drawing} ({v.experiment.name})")
    doc.add(Heading(2, "Questions"))
    shapes = _base_shapes(base, records)
    first = min(shapes, key=lambda d: (d != "linear", d))  # the first of the Data lines
    # with datasets of other shapes, the parameter count is that of the first one's model
    where = f" on {dataset_name(first)}" if len(set(shapes.values())) > 1 else ""
    counts = _param_counts(base, *shapes[first])
    units = next((f for f in doc.figures if f.path.endswith("-units-xor.png")), None)
    for i, (question, paras) in enumerate(answers(views, base, counts, where, spec.base)):
        if i == 0 and units is not None:  # what activation functions are for: the picture
            paras = [*paras, _units_pointer(base)]
        doc.add(Heading(3, question), *(Para(p) for p in paras))

    md = write_text(out / "report.md", to_markdown(doc))
    from proplab.report_html import to_html

    html = write_text(out / "report.html", to_html(doc, out))
    log(f"report: done ({len(doc.figures)} figures)")  # the caller names the two files
    return md, html


def _sweep_base(values: dict[str, Any], records: list[aggregate.RunRecord]) -> RunConfig:
    """The base configuration as the sweep gave it to its runs: a regression base
    (``dataset = "multi-gauss"``) with the identity output its runs trained, not
    RunConfig's sigmoid; so too a base whose dataset is varied when every run fits
    values (diabetes and plane: no run has the sigmoid of the base's default xor)."""
    base = RunConfig.from_dict(with_regression_defaults(values)).validate()
    if "output_activation" in values:
        return base
    own = {
        with_regression_defaults(
            {**values, "dataset": r.config.dataset, "task": r.config.task}
        ).get("output_activation", RunConfig.output_activation)
        for r in records
    }
    if len(own) == 1 and own != {base.output_activation}:
        return base.replace(output_activation=own.pop()).validate()
    return base


def _units_pointer(base: RunConfig) -> str:
    """Where the report shows it: the hidden-units figure of the base model on XOR."""
    line = "its 0.5 line is straight" if base.activation == "sigmoid" else "its edge is straight"
    return (
        "The Results show it unit by unit, in the figure of what each hidden unit computes "
        f"on XOR: every first-layer unit is a soft half-plane, {line}, as any function of "
        "w·x + b must be; only the second layer, which combines those half-planes, draws bent "
        "lines, and the output combines those into the boundary XOR needs."
    )


# ---------------------------------------------------------------- setup


# what a run's data depends on: the rest of the base config is the model and its training
_DATA_FIELDS = ("dataset", "n", "noise", "test_fraction", "label", "seed")


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


def _base_shapes(base: RunConfig, records: list[aggregate.RunRecord]) -> dict[str, tuple[int, int]]:
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


def _param_counts(base: RunConfig, n_in: int, n_out: int) -> tuple[int, int]:
    """(weights, biases) of the base model with ``n_in`` inputs and ``n_out`` outputs."""
    from proplab.config import build_model

    model = build_model(base, n_in, n_out)
    named = list(model.named_parameters())
    # a batchnorm's shift (its "bias") is a bias too: it moves a unit's input as one would
    biases = sum(p.data.size for n, p in named if n.endswith("bias"))
    return sum(p.data.size for _, p in named) - biases, biases


def _architecture(cfg: RunConfig, n_in: int | str, n_out: int | str, outputs: str = "") -> str:
    """``outputs``: where the runs' output differs from ``cfg``'s (see :func:`_other_outputs`)."""
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


def _other_outputs(
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


def _gradients_line(base: RunConfig, records: list[aggregate.RunRecord], dataset: str) -> str:
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
            f"{_gradcheck_hint(cfg, 'prints them one by one')}."
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
    "dataset", "n", "noise", "label", "model", "features", "hidden", "activation",
    "output_activation",
    "bias", "init", "loss", "seed", "filters", "kernel_size", "stride", "padding",
)  # fmt: skip


def _gradcheck_hint(cfg: RunConfig, does: str) -> str:
    """ "`proplab gradcheck ...` <does>": the command that checks ``cfg``'s network."""
    return f"`{_gradcheck_command(cfg)}` {does}"


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
        if value == []:  # no hidden layer
            shown = "0"
        elif name == "hidden" and isinstance(value, list) and len(value) == 1:
            shown = f"{value[0]} --layers 1"  # one value alone means the lab's two layers
        else:
            shown = " ".join(map(str, value)) if isinstance(value, list) else format_value(value)
        words.append(f"--{name.replace('_', '-')} {shown}")
    return " ".join(w for w in words if w)


def _network_line(base: RunConfig, shapes: dict[str, tuple[int, int]], outputs: str = "") -> str:
    """The Setup's network bullet: one architecture, or one per data shape when the
    datasets differ in inputs or outputs (digits 64 -> 10, the lab's sets 2 -> 1);
    ``outputs``: where the runs' output differs from the base's."""

    def counted(n_in: int, n_out: int) -> str:
        weights, biases = _param_counts(base, n_in, n_out)
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


def _split_line(fractions: set[float], values: Sequence[str] = (), classes: bool = True) -> str:
    """What was held out, from the runs' own ``test_fraction``s (an axis may vary it);
    ``values``: the regression sets (scored by R²), ``classes``: whether some dataset is
    a classification."""
    held = sorted(f for f in fractions if f > 0)
    if not held:
        return "training data = test data, as in the lab"
    shares = " or ".join(f"{100 * f:g} %" for f in held)
    text = f"{shares} of each dataset held out as its test set"
    if 0 in fractions:
        text += " (by setting; with none, training data = test data)"
    if not values:
        score, figures = "accuracy", "accuracy figures"
    elif not classes:
        score, figures = "R²", "R² figures"
    else:
        score, figures = f"accuracy (R² for {', '.join(values)})", "score figures"
    return (
        text + f": the tables and boundary panels give the {score} on both parts, the "
        f"{figures} on the test set"
    )


def _setup(
    doc: Document,
    out: Path,
    spec: SweepSpec,
    views: list[ExperimentView],
    records: list[aggregate.RunRecord],
    base: RunConfig,
) -> None:
    doc.add(Heading(2, "Setup"))
    if spec.description:
        doc.add(Para(spec.description))
    batch = "full batch" if base.batch_size is None else f"mini-batches of {base.batch_size}"
    datasets = sorted({r.dataset for r in records}, key=lambda d: (d != "linear", d))
    values = [dataset_name(ds) for ds in datasets if _fits_values(ds, records)]
    classes = len(values) < len(datasets)
    split = _split_line(
        {r.config.test_fraction for r in records} or {base.test_fraction}, values, classes
    )
    outputs = _other_outputs(spec.base, base, records)
    items = [
        _network_line(base, _base_shapes(base, records), outputs),
        f"**Training**: `{base.loss}` loss, `{base.optimizer}` at learning rate "
        f"{format_value(base.lr)}, {batch}, {base.epochs:,} epochs per run unless an "
        f"experiment says otherwise; {split}.",
    ]
    items.append(_gradients_line(base, records, datasets[0]))
    for ds in datasets:
        items.append(f"**Data, {dataset_name(ds)}**: {_describe_data(ds, records)}")
    seeds = sorted({r.seed for r in records})
    # generated data, redrawn per seed: by the dataset each run trained on (a bundle's
    # label, "spiral small", is no dataset name)
    generated = {
        r.dataset for r in records if zoo_key(r.config.dataset) or r.config.dataset == "linear"
    }
    drawn = [dataset_name(ds) for ds in datasets if ds in generated]
    samples = ""
    if len(drawn) == 1:
        samples = f" (and the {drawn[0]} dataset's points)"
    elif drawn:
        samples = f" (and the points of {', '.join(drawn[:-1])} and {drawn[-1]})"
    items.append(
        f"**Seeds**: {', '.join(map(str, seeds))}. A seed draws the initial weights{samples}; "
        "tables give the mean ± sample standard deviation over seeds."
    )
    if values:
        items.append(
            f"**Scores**: {listing(values)} {'has' if len(values) == 1 else 'have'} values to "
            f"predict, not classes, so no accuracy: {'its' if len(values) == 1 else 'their'} "
            "runs are scored by R² = 1 − (sum of "
            "squared errors) / (sum of squared deviations of the targets from their mean); 1 is "
            "every value exact, 0 no better than predicting the mean everywhere, below 0 worse "
            "than that."
        )
    doc.add(Bullets(items))
    doc.add(
        Table(
            ["setting", "value"],
            _base_rows(base, outputs),
            caption="Base configuration (every run, unless its experiment varies it)",
            align="ll",
        )
    )
    rows = []
    for v in views:
        exp = v.experiment
        varies = "; ".join(
            f"{a.name}: {', '.join(s.label for s in a.settings)}" for a in exp.setting_axes
        )
        overrides = ", ".join(
            f"{k}={format_value(val)}" for k, val in exp.base.items() if spec.base.get(k) != val
        )
        done = len(exp.runs) - v.missing if not exp.skipped else 0
        status = "skipped" if exp.skipped else f"{done}/{len(exp.runs)}"
        rows.append(
            [exp.title, SECTION_TITLES[exp.section], varies or "(nothing)", overrides or "", status]
        )
    doc.add(
        Table(
            ["experiment", "section", "varies", "also changed", "runs finished"],
            rows,
            caption="Experiments (every setting on every dataset and seed)",
            align="lllll",
        )
    )
    doc.add(Para(_epochs_note(views, base)))
    doc.add(Para(_timing(out, records)))
    doc.add(Para(_versions(out, records)))
    doc.add(
        Para("Rebuild this report from the run folders, or rerun (finished runs are reused):"),
        Code(f"proplab report {out}\nproplab sweep {out / SPEC_COPY} --out {out} --jobs 2"),
    )


_SHOWN_FIELDS = (
    "model", "hidden", "activation", "output_activation", "bias", "init", "loss",
    "optimizer", "lr", "epochs", "batch_size",
)  # fmt: skip
# shown only when the base sets them (the conv model's geometry whenever it is the model)
_SHOWN_IF_SET = ("features", "momentum", "weight_decay", "l1", "tol")
_CONV_FIELDS = ("filters", "kernel_size", "stride", "padding")


def _base_rows(base: RunConfig, outputs: str = "") -> list[list[str]]:
    """The base configuration's table: the lab's settings, then any other the base sets
    (a weight decay or an L1 rate changes every run: the table must say so); ``outputs``:
    where the runs' output differs from the base's (a sweep of both kinds)."""
    default = RunConfig()
    extra = [k for k in _SHOWN_IF_SET if getattr(base, k) != getattr(default, k)]
    if base.model == "conv":
        extra += _CONV_FIELDS

    def shown(k: str) -> str:
        if k == "features":
            return inputs_label(base.features)
        text = format_value(getattr(base, k))
        return f"{text} ({outputs})" if k == "output_activation" and outputs else text

    return [[k, shown(k)] for k in (*_SHOWN_FIELDS, *extra)]


def _fits_values(ds: str, records: list[aggregate.RunRecord]) -> bool:
    """Whether the runs on dataset ``ds`` are a regression (scored by R²)."""
    return any(is_regression_run(r.config) for r in records if r.dataset == ds)


def _describe_data(ds: str, records: list[aggregate.RunRecord]) -> str:
    from proplab.experiments import load_dataset

    cfgs = {r.seed: r.config for r in records if r.dataset == ds}
    if _fits_values(ds, records):  # values, not classes: their range and spread
        return _describe_values(ds, cfgs)
    shares = []
    for cfg in cfgs.values():
        _, y = load_dataset(cfg)
        shares.append(float(np.mean(y > 0.5)))
    x, y = load_dataset(next(iter(cfgs.values())))
    n = len(y)
    if ds == "xor":
        ones = int(np.sum(y > 0.5))
        major = max(ones, n - ones) / n
        return (
            f"the handout's {n} points on the two diagonals of the unit square "
            f"({n - ones} of class 0, {ones} of class 1), the same in every run; a model that "
            f"gives every point the larger class scores {100 * major:.1f} %."
        )
    if ds == "linear":
        return (
            f"{n} points uniform in the unit square, class 0 if x0 > x1 else 1, drawn anew "
            f"for each seed; class 1 is {100 * min(shares):.0f}–{100 * max(shares):.0f} % of "
            "the points across seeds."
        )
    classes, counts = np.unique(y, return_counts=True)
    what = f"{n} samples of {x.shape[-1]} features"
    if classes.size > 2:  # digits, a CSV of several classes: no single "class 1"
        return f"{what} in {classes.size} classes (the largest is {100 * counts.max() / n:.0f} %)."
    lo, hi = 100 * min(shares), 100 * max(shares)
    if round(lo) == round(hi):
        return f"{what}; class 1 is {lo:.0f} % of them."
    return f"{what}; class 1 is {lo:.0f}–{hi:.0f} % of them across seeds."


def _describe_values(ds: str, cfgs: dict[int, RunConfig]) -> str:
    """A regression set's Data line: samples, features, and the targets' range and
    spread (over every seed's draw, which differ for generated data)."""
    from proplab.experiments import load_dataset

    targets = [load_dataset(cfg)[1] for cfg in cfgs.values()]
    x, _ = load_dataset(next(iter(cfgs.values())))
    y = np.concatenate([t.reshape(-1) for t in targets])
    n = len(targets[0])
    draws = " over the seeds' draws" if len(targets) > 1 else ""
    return (
        f"{n} samples of {x.shape[-1]} features, each with a value to predict: from "
        f"{y.min():.2f} to {y.max():.2f}, mean {aggregate.fixed(y.mean(), 2)}, standard deviation "
        f"{y.std():.2f}{draws}. Predicting the mean of its targets everywhere scores R² 0."
    )


def _epochs_note(views: list[ExperimentView], base: RunConfig) -> str:
    seen: dict[tuple[str, ...], tuple[ExperimentView, GroupView]] = {}
    for v in views:
        for g in v.groups:  # a run set shared by two experiments counts once
            seen.setdefault(tuple(r.record.run for r in g.runs), (v, g))
    moving = [
        (v, g) for v, g in seen.values() if not g.all_perfect and g.median_tail_change > MOVING
    ]
    # a diverged seed has no loss to settle (its tail change is NaN): not counted as settled
    diverged = [g for _, g in seen.values() if g.n_diverged]
    still = {id(g) for _, g in moving}
    settled = sum(1 for _, g in seen.values() if not g.n_diverged and id(g) not in still)
    n = len(seen)
    # a regression reaches no 100 %: only its loss says whether it settled
    perfect = (
        f"{'it reaches' if settled == 1 else 'they reach'} 100 % in every seed, or "
        if any(not g.regression for _, g in seen.values())
        else ""
    )
    text = (
        f"**Epochs**: {base.epochs:,} per run (the handout trains up to 100,000). Of the "
        f"{n} distinct setting{'s' if n != 1 else ''}, {settled} "
        f"{'has' if settled == 1 else 'have'} settled by then: {perfect}"
        f"{'its' if settled == 1 else 'their'} median loss changes by at most "
        f"{100 * MOVING:.0f} % over the last 10 % of epochs."
    )
    if diverged:
        text += f" {len(diverged)} diverged in at least one seed."
    if moving:
        names = [
            f"{setting_name(v, g.setting)} on {dataset_name(g.dataset)} "
            f"({100 * g.median_tail_change:.0f} %)"
            for v, g in moving
        ]
        text += (
            " Still moving: " + ", ".join(names) + "; their numbers could change with more epochs."
        )
    return text


def _timing(out: Path, records: list[aggregate.RunRecord]) -> str:
    unique = {r.run: r.seconds for r in records if math.isfinite(r.seconds)}
    text = (
        f"**Time**: the training loops of the {len(unique)} distinct runs took "
        f"{sum(unique.values()):,.0f} s in total (median {np.median(list(unique.values())):.1f} s "
        "per run; figures and files not counted; a run trained in a stack of K counts 1/K "
        "of the stack's time)."
    )
    path = out / SWEEP_LOG
    rows = read_csv(path) if path.is_file() else []
    if rows:
        wall = sum(float(r["seconds"]) for r in rows)
        last = rows[-1]
        calls = f"{len(rows)} calls" if len(rows) > 1 else "1 call"
        text += (
            f" Wall time of the sweep: {wall:,.0f} s over {calls} of `proplab sweep` (the last: "
            f"--jobs {last['jobs']}, {last['trained']} runs trained, {last['reused']} reused)."
        )
    return text


def _versions(out: Path, records: list[aggregate.RunRecord]) -> str:
    try:
        info = read_json(out / RUNS_DIR / records[0].run / "config.json")
    except (OSError, ValueError):
        return ""
    versions = info.get("versions", {})
    shown = ", ".join(f"{k} {v}" for k, v in versions.items())
    return f"**Versions**: {shown}; {info.get('platform', '')}."


# ---------------------------------------------------------------- results and experiments


def _lab_runs(out: Path, views: list[ExperimentView]) -> list[Block]:
    """The lab's figures: comparison and learning curve of the lab model on each dataset.

    From the lab runs ``out/<dataset>/`` that ``proplab lab`` trains, else from
    the lowest seed of a one-setting results experiment (the suite's baseline).
    """
    from proplab.train_text import format_summary_line

    baseline = next(
        (
            v
            for v in views
            if v.experiment.section == "results" and len(v.settings) == 1 and v.groups
        ),
        None,
    )
    datasets = baseline.datasets if baseline else ["linear", "xor"]
    blocks: list[Block] = []
    for ds in datasets:
        run_dir, where = out / ds, f"the lab run `{ds}/`"
        if not (run_dir / "summary.json").is_file():
            g = baseline.get(baseline.settings[0], ds) if baseline else None
            if g is None:
                continue
            run = min(g.runs, key=lambda r: r.record.seed)
            run_dir, where = run.run_dir, f"run `{run.run_dir.relative_to(out)}`"
        summary = read_summary(run_dir)
        loss, acc, r2 = summary.get("loss"), summary.get("accuracy"), summary.get("r2")
        values = r2 is not None  # a regression: no accuracy, its R² instead
        line = (
            format_summary_line(loss, math.nan if values else acc, r2)
            if loss is not None and (acc is not None or values)
            else f"diverged: {summary.get('message', '')}"
        )
        rel = run_dir.relative_to(out).as_posix()
        if not (run_dir / LEARNING_CURVE).is_file():  # a sweep run, trained without figures
            from proplab.experiments import write_run_figures

            write_run_figures(run_dir)
        blocks += [
            Heading(3, f"The lab model on {dataset_name(ds)}"),
            Para(f"From {where} (seed {summary.get('seed')}), after {summary.get('epochs_run', 0):,} epochs: `{line}`"),
        ]  # fmt: skip
        figures = (
            (COMPARISON, "ground truth and prediction (the lab's comparison figure)"),
            (LEARNING_CURVE, "learning curve of the lab model"),
            (
                BOUNDARY_DURING_TRAINING,
                (
                    "the predicted value as it forms, from the start of the run to its end"
                    if values
                    else "the decision boundary as it forms, P(class 1) from the start of the "
                    "run to its end"
                )
                + " (the title says which epochs are shown)",
            ),
            (
                GRADIENTS_FIGURE,
                "how large each layer's weight gradient is as the model trains (mean "
                "|dL/dW| on the training data, log scales)"
                + (
                    ": each sigmoid passes at most a quarter of the gradient down, so the "
                    "layers nearest the input start with the smallest"
                    if summary.get("activation") == "sigmoid"
                    else ""
                ),
            ),
        )
        # only the figures the run has: no comparison for more than two classes, and
        # none for a figure matplotlib could not draw (the run went on with a warning)
        blocks += [
            Figure(f"{rel}/{name}", f"{dataset_name(ds)}: {caption}")
            for name, caption in figures
            if (run_dir / name).is_file()
        ]
    return blocks


def _draws_figures(v: ExperimentView) -> bool:
    return not v.experiment.skipped and bool(v.groups)


def _draw_in_processes(
    views: list[ExperimentView], out: Path, jobs: int, log: Callable[[str], Any] = print
) -> dict[str, list]:
    """Each experiment's Figure blocks, drawn (PNGs written) in ``jobs`` processes."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    todo = [v for v in views if _draws_figures(v)]
    if len(todo) < 2:
        return {}
    # the most panels first, so no long figure starts last
    todo.sort(key=lambda v: -len(v.settings) * len(v.datasets))
    drawn = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
        futures = {
            pool.submit(experiment_figures, v, out, FIGURES): v.experiment.name for v in todo
        }
        for fut in as_completed(futures):
            name = futures[fut]
            drawn[name] = fut.result()
            log(f"report: figures {len(drawn)}/{len(todo)} ({name})")
    return drawn


def _experiment(doc: Document, out: Path, v: ExperimentView, figures: list | None = None) -> None:

    exp = v.experiment
    doc.add(Heading(3, exp.title))
    if exp.description:
        doc.add(Para(exp.description))
    if exp.skipped:
        doc.add(Para(f"**Skipped**: {exp.skipped}. Nothing was run for this comparison."))
        return
    if v.missing:
        doc.add(
            Para(
                f"**Incomplete**: {v.missing} of {len(exp.runs)} runs are not finished; rerun the "
                "sweep to complete them (finished runs are reused)."
            )
        )
    if not v.groups:
        return
    axis = ", ".join(a.name for a in exp.setting_axes) or "setting"
    header = [axis]
    for ds in v.datasets:
        name = dataset_name(ds)
        if v.kinds(ds) == {"r2"}:  # values: R², never an accuracy
            if v.has_test:
                header += [f"{name} train R²", f"{name} test R²", f"{name} final loss"]
            else:
                header += [f"{name} R²", f"{name} min to max R²", f"{name} final loss"]
        elif v.has_test:  # the held-out accuracy takes the min-max column's place
            header += [f"{name} train accuracy", f"{name} test accuracy", f"{name} final loss"]
        else:
            header += [f"{name} accuracy", f"{name} min–max %", f"{name} final loss"]
    rows = []
    for s in v.settings:
        row = [s]
        for ds in v.datasets:
            g = v.get(s, ds)
            if g is None:
                row += ["", "", ""]
                continue
            # a regression's column header says R²: its cells are the numbers alone
            acc = acc_text(g, named=False)
            if g.n_diverged:
                acc += f" ({g.n_diverged}/{g.n} diverged)"
            held = acc_text(g, test=True, named=False) if v.has_test else range_text(g)
            row += [acc, held, loss_text(g)]
        rows.append(row)
    n_seeds = max(g.n for g in v.groups)
    kinds = v.kinds()
    score = "accuracy" if kinds == {"accuracy"} else "R²" if kinds == {"r2"} else "score"
    if len(kinds) > 1:  # a sweep of both kinds: which is which
        values = [dataset_name(ds) for ds in v.datasets if v.kinds(ds) == {"r2"}]
        score += f" (accuracy; R² for {', '.join(values)})"
    what = (
        f"final train and test {score} and training loss"
        if v.has_test
        else f"final {score} and loss"
    )
    doc.add(Table(header, rows, caption=f"{exp.title}: {what}, mean ± std over {n_seeds} seeds"))
    notes = observations(v)
    if notes:
        doc.add(Bullets(notes))

    doc.add(*(experiment_figures(v, out, FIGURES) if figures is None else figures))


def main(out: str, jobs: int = 1) -> int:
    """``proplab report DIR``: rebuild the report from finished runs; returns the exit code."""
    try:
        build_report(out, log=lambda m: print(m, file=sys.stderr), jobs=jobs)
    except SweepError as exc:
        print(f"proplab report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {Path(out) / 'report.md'} and {Path(out) / 'report.html'}")
    return 0
