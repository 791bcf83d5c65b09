"""The report's Setup section: the bullets on network, training, data, seeds, epochs and time, and its tables.

What every run shares (the base configuration table), what each experiment varies,
whether the runs settled in their epochs, how long they took and with which versions.
"""

from __future__ import annotations

import csv
import math
import shlex
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from proplab import aggregate
from proplab.config import CONV_FIELDS, RunConfig
from proplab.data import LAB_DATASETS
from proplab.dataload import csv_summary, is_regression_run, zoo_key
from proplab.features import inputs_label
from proplab.report_data import (
    MOVING,
    OSCILLATING,
    RISE,
    ExperimentView,
    GroupView,
    curve_points,
    dataset_name,
)
from proplab.report_doc import (
    Bullets,
    Code,
    Document,
    Heading,
    Para,
    Table,
)
from proplab.report_network import base_shapes, gradients_line, network_line, other_outputs
from proplab.report_text import (
    bounce_short,
    change_pct,
    listing,
    pct,
    r2_value,
    seeds,
    setting_name,
)
from proplab.runio import read_json
from proplab.sweep_folder import RUNS_DIR, SPEC_COPY, SWEEP_LOG
from proplab.sweep_spec import SweepSpec, format_value
from proplab.train_text import fixed

SECTION_TITLES = {
    "results": "Results",
    "discussion": "Discussion",
    "extras": "Extras",
    "other": "Experiments",
}


def _split_line(
    fractions: set[float], values: Sequence[str] = (), classes: bool = True, panels: bool = True
) -> str:
    """What was held out, from the runs' own ``test_fraction``s (an axis may vary it);
    ``values``: the regression sets (scored by R²), ``classes``: whether some dataset is
    a classification, ``panels``: whether some dataset gets boundary panels (two inputs,
    one output)."""
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
    where = "the tables and boundary panels give" if panels else "the tables give"
    return text + f": {where} the {score} on both parts, the {figures} on the test set"


def setup_section(
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
    shapes = base_shapes(base, records)
    split = _split_line(
        {r.config.test_fraction for r in records} or {base.test_fraction},
        values,
        classes,
        panels=(2, 1) in shapes.values(),  # boundary panels: two inputs, one output
    )
    outputs = other_outputs(spec.base, base, records)
    items = [
        network_line(base, shapes, outputs),
        f"**Training**: `{base.loss}` loss, `{base.optimizer}` at learning rate "
        f"{format_value(base.lr)}, {batch}, {base.epochs:,} epochs per run unless an "
        f"experiment says otherwise; {split}.",
    ]
    items.append(gradients_line(base, records, datasets[0]))
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
    # an experiment over fewer seeds than the sweep's (its table's caption gives its count)
    fewer = [
        f'"{e.title or e.name}"'  # quoted: a title may read as a sentence ("A rate too large")
        for e in spec.experiments
        if {r.seed for r in records if r.experiment == e.name} not in (set(), set(seeds))
    ]
    one = len(fewer) == 1
    some = (
        f" (fewer in the {listing(fewer)} experiment{'' if one else 's'}: see "
        f"{'its table' if one else 'their tables'})"
    )
    configs = [r.config for r in records]
    # what else a seed draws: the mini-batch order, dropout's masks (each its own stream)
    draws = [
        what
        for what, used in (
            ("the order of the mini-batches", any(c.batch_size is not None for c in configs)),
            ("dropout's masks", any(c.dropout > 0 for c in configs)),
        )
        if used
    ]
    points = "; ".join(curve_points(configs))
    points = f" ({points})" if points else ""
    # dropout and batchnorm score the final model as it predicts, in evaluation mode
    modes = any(c.dropout > 0 or c.batchnorm for c in configs)
    items.append(
        f"**Seeds**: {', '.join(map(str, seeds))}{some if fewer else ''}. A seed draws "
        f"{listing(['the initial weights', *draws])}{samples}; "
        "tables give the mean ± sample standard deviation over seeds of each run's final "
        f"model, after its last update{' and in evaluation mode' if modes else ''} (a "
        "learning curve's points, history.csv's rows, are measured before each epoch's "
        f"update{points}, so a curve's last point can differ from it)."
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
    doc.add(Para(_timing(out, records, spec.title)))
    doc.add(Para(_versions(out, records)))
    calls, _ = _sweep_calls(out, spec.title)  # _timing says what was left out
    jobs = (calls[-1].get("jobs") or 2) if calls else 2  # as the last call had it
    doc.add(
        Para("Rebuild this report from the run folders, or rerun (finished runs are reused):"),
        Code(rebuild_commands(out, jobs)),
    )


def rebuild_commands(out: Path, jobs: int | str) -> str:
    """The two lines that rebuild the report of ``out`` and rerun its sweep (``--jobs jobs``,
    as its sweep log has it), quoted for a shell: a folder such as ``My runs (1)`` pastes as
    one argument, not a syntax error."""
    folder, spec = shlex.quote(str(out)), shlex.quote(str(out / SPEC_COPY))
    return f"proplab report {folder}\nproplab sweep {spec} --out {folder} --jobs {jobs}"


_SHOWN_FIELDS = (
    "model", "hidden", "activation", "output_activation", "bias", "init", "loss",
    "optimizer", "lr", "epochs", "batch_size",
)  # fmt: skip
# shown only when the base sets them (the conv model's geometry whenever it is the model)
_SHOWN_IF_SET = (
    "features",
    "standardize",
    "test_fraction",
    "label",
    "momentum",
    "weight_decay",
    "l1",
    "tol",
)  # fmt: skip  (standardize, test_fraction, label: csv18 found them unsaid)


def _base_rows(base: RunConfig, outputs: str = "") -> list[list[str]]:
    """The base configuration's table: the lab's settings, then any other the base sets
    (a weight decay or an L1 rate changes every run: the table must say so); ``outputs``:
    where the runs' output differs from the base's (a sweep of both kinds)."""
    default = RunConfig()
    extra = [k for k in _SHOWN_IF_SET if getattr(base, k) != getattr(default, k)]
    if base.model == "conv":
        extra += CONV_FIELDS

    def shown(k: str) -> str:
        if k == "features" and base.features is not None:  # shown only when set
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
        return _describe_values(cfgs)
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
            f"{n} points uniform in the unit square, class 0 if x1 > x2 else 1, drawn anew "
            f"for each seed; class 1 is {100 * min(shares):.0f}–{100 * max(shares):.0f} % of "
            "the points across seeds."
        )
    classes, counts = np.unique(y, return_counts=True)
    what = f"{n} samples of {x.shape[-1]} features"
    if classes.size > 2:  # digits, a CSV of several classes: no single "class 1"
        return f"{what} in {classes.size} classes (the largest is {100 * counts.max() / n:.0f} %)."
    lo, hi = 100 * min(shares), 100 * max(shares)
    # a CSV file's class 1 by its name too (scale19: "class 1" of a file of 'no' and 'yes')
    names = csv_summary(next(iter(cfgs.values()))).get("classes") or []
    one = f"class 1 ({str(names[1])!r})" if len(names) == 2 else "class 1"
    if round(lo) == round(hi):
        return f"{what}; {one} is {lo:.0f} % of them."
    return f"{what}; {one} is {lo:.0f}–{hi:.0f} % of them across seeds."


def _describe_values(cfgs: dict[int, RunConfig]) -> str:
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
        f"{y.min():.2f} to {y.max():.2f}, mean {fixed(y.mean(), 2)}, standard deviation "
        f"{y.std():.2f}{draws}. Predicting the mean of its targets everywhere scores R² 0."
    )


def _other_epochs(views: list[ExperimentView], epochs: int) -> list[str]:
    """``['1,500 in "Learning rate"', '8,000 in "Hidden units"']``: the experiments whose runs
    train another number of epochs than the base's ``epochs`` (a sweep file's
    ``base.epochs`` or ``vary.epochs`` per experiment)."""
    parts = []
    for v in views:
        counts = sorted({r.record.config.epochs for g in v.groups for r in g.runs})
        if counts and counts != [epochs]:
            span = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,} to {counts[-1]:,}"
            parts.append(f'{span} in "{v.experiment.title}"')
    return parts


def _tol_text(views: list[ExperimentView]) -> str:
    """``'; a run stops early once its loss is below tol 0.001'`` when some run has a tol (the
    lowest if they differ), or ''."""
    tols = {
        r.record.config.tol
        for v in views
        for g in v.groups
        for r in g.runs
        if r.record.config.tol is not None
    }
    return f"; a run stops early once its loss is below tol {min(tols):g}" if tols else ""


def _epochs_note(views: list[ExperimentView], base: RunConfig) -> str:
    seen: dict[tuple[str, ...], tuple[ExperimentView, GroupView]] = {}
    for v in views:
        for g in v.groups:  # a run set shared by two experiments counts once
            seen.setdefault(tuple(r.record.run for r in g.runs), (v, g))
    moving = [(v, g) for v, g in seen.values() if g.moving]
    # a diverged seed has no loss to settle (its tail change is NaN): not counted as settled
    diverged = [g for _, g in seen.values() if g.n_diverged]
    still = {id(g) for _, g in moving}
    # a flat loss with every point in one class is XOR's plateau, not an end: a network
    # that can fit the data may leave it with more epochs (one that cannot never will);
    # saturated outputs (a too high rate) pass no gradient back: those have settled
    plateau = [
        (v, g)
        for v, g in seen.values()
        if not g.n_diverged
        and id(g) not in still
        and not g.all_perfect
        and any(r.single_class and not r.saturated for r in g.runs)
    ]
    still |= {id(g) for _, g in plateau}
    settled = [g for _, g in seen.values() if not g.n_diverged and id(g) not in still]
    n = len(seen)
    # a regression reaches no 100 % and has no accuracy: only its loss says whether it settled
    classifies = any(not g.regression for _, g in seen.values())
    rule = "at 100 % in every seed, or with " if classifies else "with "
    rule += f"the median seed's loss changing by at most {100 * MOVING:.0f} %"
    fits = any(g.regression for _, g in seen.values())
    scores = [
        what
        for what, used in (("the mean accuracy by less than a point", classifies),
                           ("the mean R² by less than 0.01", fits))
        if used
    ]  # fmt: skip
    rule += " and " + " and ".join(scores) if scores else ""
    rule += " over the last 10 % of epochs"
    if any(g.stopped_early and not g.all_perfect for g in settled):
        rule += ", or stopped early in every seed by their own rule (tol or early stopping)"
    # the handout's own numbers only where its datasets are
    lab_data = any(g.runs[0].record.dataset in LAB_DATASETS for _, g in seen.values() if g.runs)
    others = _other_epochs(views, base.epochs)
    notes = [", ".join(others)] if others else []
    notes += ["the handout trains up to 100,000"] if lab_data else []
    aside = f" ({'; '.join(notes)})" if notes else ""
    # "by then" reads as the base's epochs: with experiments of their own length (or runs
    # stopped by tol), each setting is judged at the end of its own runs
    stops = _tol_text(views)
    by_then = "by the end of their runs" if others or stops else "by then"
    text = (
        f"**Epochs**: {base.epochs:,} per run{aside}{stops}. Of the "
        f"{n} distinct setting{'s' if n != 1 else ''}, "
    )
    if settled:
        has = "has" if len(settled) == 1 else "have"
        text += f"{len(settled)} {has} settled {by_then}: {rule}."
    else:
        text += f"none has settled {by_then} ({rule})."
    # two experiments may each have an "lr 1 on moons" (their own bases differ): those say
    # which experiment they are from
    shown = Counter((setting_name(v, g.setting), g.dataset) for v, g in seen.values())

    def named(v: ExperimentView, g: GroupView, how: str) -> str:
        name = setting_name(v, g.setting)
        where = f' in "{v.experiment.title}"' if shown[name, g.dataset] > 1 else ""
        return f"{name} on {dataset_name(g.dataset)}{where} ({how})"

    if plateau:
        names = [named(v, g, seeds(g.n_single, g.n)) for v, g in plateau]
        text += (
            f" {len(plateau)} {'has' if len(plateau) == 1 else 'have'} a flat loss but give"
            f"{'s' if len(plateau) == 1 else ''} every point the same class, a plateau more "
            "epochs may or may not leave: " + ", ".join(names) + "."
        )
    if diverged:
        text += f" {len(diverged)} diverged in at least one seed."

    # a seed still bouncing at the end: its last value is no trend (report21 H1)
    bouncing = [named(v, g, bounce_short(g)) for v, g in moving if g.oscillating]
    if bouncing:
        swing = any(lo < hi for _, g in moving for lo, hi in _ranges(g))
        text += (
            f" Oscillating at the end in some seed (its loss rising by over {100 * RISE:.0f} % "
            f"on {100 * OSCILLATING:.0f} % or more of the last 10 % of epochs, or its accuracy "
            "going both up and down): "
            + ", ".join(bouncing)
            + (
                "; where the accuracy swings, the final one is where the last update happened "
                "to land."
                if swing
                else "."
            )
        )
    moving = [(v, g) for v, g in moving if not g.oscillating]
    for fit, score, unit in ((False, "accuracy", "a point"), (True, "R²", "0.01")):
        learning = [
            named(v, g, _score_move(g))
            for v, g in moving
            if g.regression == fit and (g.accuracy_moving or g.r2_moving)
        ]
        if learning:
            text += (
                f" {score[0].upper()}{score[1:]} still changing over the last 10 % of epochs: "
                + ", ".join(learning)
                + f"; their {score} could change with more epochs."
            )
        steady = [
            named(v, g, change_pct(g.median_tail_change))
            for v, g in moving
            if g.regression == fit and not (g.accuracy_moving or g.r2_moving)
        ]
        if steady:
            text += (
                f" Loss still moving, {score} steady: "
                + ", ".join(steady)
                + " (the median seed's loss change over the last 10 % of epochs, over which "
                f"the mean {score} moved less than {unit})."
            )
    return text


def _ranges(g: GroupView) -> list[tuple[float, float]]:
    """The accuracy ranges over the last 10 % of epochs of ``g``'s oscillating seeds."""
    return [r.tail_accuracy_range for r in g.oscillating_runs]


def _score_move(g: GroupView) -> str:
    """``'mean accuracy 68.0 → 73.8 %'`` or ``'mean R² 0.412 → 0.530'``: where the last
    10 % of epochs started and ended."""
    if g.r2_moving:
        before, after = g.tail_r2
        return f"mean R² {r2_value(before)} → {r2_value(after)}"
    before, after = g.tail_accuracy
    return f"mean accuracy {100 * before:.1f} → {pct(after)}"


def _sweep_calls(out: Path, title: str | None) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of ``sweep_log.csv`` (one per call of ``proplab sweep``, oldest first) of
    the sweep ``title``: `--replace` may have run it where another sweep had been; a row
    from before the log named its sweep counts. Second: what was skipped (``'line 2:
    seconds 'abc''``): the log only feeds the wall-time sentence, so an edited or garbled
    row is left out and said, never a reason to lose the report (cli20 H2)."""
    path = out / SWEEP_LOG
    if not path.is_file():
        return [], []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            rows = [(reader.line_num, row) for row in reader]  # line_num: the row's last line
    except (OSError, ValueError, csv.Error) as e:  # not UTF-8, not CSV
        return [], [f"unreadable ({e})"]
    kept, skipped = [], []
    for line, row in rows:
        if title is not None and row.get("title") not in (None, "", title):
            continue
        problem = _log_row_problem(row)
        if problem:
            skipped.append(f"line {line}: {problem}")
        else:
            kept.append(row)
    return kept, skipped


def _log_row_problem(row: dict[str, str]) -> str:
    """Why a row of the sweep log cannot be counted ('' when it can)."""
    value = row.get("seconds")
    try:
        ok = value is not None and math.isfinite(float(value)) and float(value) >= 0
    except ValueError:
        ok = False
    if not ok:
        return "no seconds" if value in (None, "") else f"seconds {value!r}"
    for key in ("jobs", "trained", "reused"):
        value = row.get(key)
        if value is None or not value.isascii() or not value.isdigit():
            return f"no {key}" if value in (None, "") else f"{key} {value!r}"
    return ""


def _seconds(t: float) -> str:
    """``'1.6 s'``; below 0.1 s two significant digits (``'0.043 s'``), never ``'0.0 s'``."""
    return f"{t:.1f} s" if t >= 0.095 else f"{float(f'{t:.2g}'):g} s"


def _timing(out: Path, records: list[aggregate.RunRecord], title: str | None = None) -> str:
    unique = {r.run: r.seconds for r in records if math.isfinite(r.seconds)}
    text = (
        f"**Time**: the training loops of the {len(unique)} distinct runs took "
        f"{sum(unique.values()):,.0f} s in total (median {_seconds(np.median(list(unique.values())))} "
        "per run; figures and files not counted; a run trained in a stack of K counts 1/K "
        "of the stack's time until it stopped)."
    )
    rows, skipped = _sweep_calls(out, title)
    if rows:
        wall = sum(float(r["seconds"]) for r in rows)
        last = rows[-1]
        calls = f"{len(rows)} calls" if len(rows) > 1 else "1 call"
        text += (
            f" Wall time of the sweep: {wall:,.0f} s over {calls} of `proplab sweep` (the last: "
            f"--jobs {last['jobs']}, {last['trained']} runs trained, {last['reused']} reused)."
        )
    if skipped:
        shown = "; ".join(skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
        rows_word = "rows" if len(skipped) > 1 else "row"
        text += (
            f" {len(skipped)} {rows_word} of {SWEEP_LOG} left out ({shown})."
            if skipped[0].startswith("line")
            else f" {SWEEP_LOG} left out: {skipped[0]}."
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
