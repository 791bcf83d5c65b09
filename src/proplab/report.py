"""The lab report from a sweep folder: ``report.md`` (+ PNGs) and a self-contained ``report.html``.

``build_report(DIR)`` reads only finished run folders (no training): the
sweep file copied into ``DIR/sweep.toml``, every run's ``summary.json``,
``history.csv`` and ``model.npz``, and the lab runs ``DIR/<dataset>/`` when
``proplab lab`` made them. Sections follow the lab: setup, results,
discussion, extras and the lab's questions; each experiment gets a table
(mean ± std over seeds), learning curves, an accuracy plot, decision
boundaries and observations computed from its numbers.

This module assembles the document and writes the experiments' sections;
:mod:`proplab.report_setup` writes the Setup (the base model's lines come from
:mod:`proplab.report_network`) and :mod:`proplab.report_figures` draws the figures.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proplab import aggregate
from proplab.config import RunConfig
from proplab.experiments import (
    BOUNDARY_DURING_TRAINING,
    COMPARISON,
    GRADIENTS,
    GRADIENTS_FIGURE,
    LAB_PREDICTIONS,
    LEARNING_CURVE,
)
from proplab.report_answers import answers
from proplab.report_data import (
    PERFECT,
    ExperimentView,
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
from proplab.report_network import base_shapes, param_counts
from proplab.report_setup import SECTION_TITLES, setup_section
from proplab.report_text import (
    acc_text,
    lab_or_base,
    loss_text,
    observations,
    pct,
    range_text,
    shared_rate_notes,
)
from proplab.runio import write_text
from proplab.sweep_boundaries import probability_label
from proplab.sweep_folder import SPEC_COPY, data_changed_message, data_changes, read_summary
from proplab.sweep_spec import SweepError, load_spec, with_regression_defaults

FIGURES = "figures"


def build_report(
    out: str | os.PathLike[str], *, log: Callable[[str], Any] = print, jobs: int = 1
) -> tuple[Path, Path]:
    """Write ``report.md``, ``report.html`` and ``figures/`` into ``out``; return both paths.

    ``jobs`` > 1 draws the experiments' figures in that many processes (the
    figures are most of the time a report takes; the document is the same).
    """
    out = Path(out)
    if out.is_file():  # `--out` a file would be refused too: name what is wrong (cli20 L5)
        raise SweepError(
            f"{out}: is a file, not a sweep folder; give the folder `proplab sweep` or "
            "`proplab lab` wrote (its --out)"
        )
    if not (out / SPEC_COPY).is_file():
        raise SweepError(
            f"{out}: not a sweep folder (no {SPEC_COPY}); run "
            f"`proplab sweep FILE.toml --out {shlex.quote(str(out))}` or `proplab lab` first"
        )
    spec = load_spec(out / SPEC_COPY)
    # a CSV file edited since its runs trained: the figures would draw the new file's
    # points under models trained on the old one, scored against data they never saw
    changed = data_changes(list(spec.active_runs.items()), out)
    if changed:
        raise SweepError(
            data_changed_message(
                changed,
                out,
                "the report would draw its points under models trained on the old file; put "
                "the old file back, or run the sweep into another --out folder",
            )
        )
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
    log(f"report: drawing the figures of {drawing} experiment{'s' if drawing != 1 else ''}")
    drawn = _draw_in_processes(views, out, jobs, log) if jobs > 1 else {}

    doc = Document(f"{spec.title}: report")
    done = len(drawn)
    setup_section(doc, out, spec, views, records, base)
    shown: list[ExperimentView] = []  # in the report's order: findings told once
    for section in ("results", "discussion", "extras", "other"):
        mine = [v for v in views if v.experiment.section == section]
        lab = _lab_runs(out, views) if section == "results" else []
        if mine or lab:
            doc.add(Heading(2, SECTION_TITLES[section]), *lab)
        for v in mine:
            figures = drawn.get(v.experiment.name)
            _experiment(doc, out, v, figures, views, earlier=shown)
            shown.append(v)
            if figures is None and _draws_figures(v):  # drawn just now, in this process
                done += 1
                log(f"report: figures {done}/{drawing} ({v.experiment.name})")
    doc.add(Heading(2, "Questions"))
    shapes = base_shapes(base, records)
    first = min(shapes, key=lambda d: (d != "linear", d))  # the first of the Data lines
    # with datasets of other shapes, the parameter count is that of the first one's model
    where = f" on {dataset_name(first)}" if len(set(shapes.values())) > 1 else ""
    counts = param_counts(base, *shapes[first])
    units = next((f for f in doc.figures if f.path.endswith("-units-xor.png")), None)
    for i, (question, paras) in enumerate(answers(views, base, counts, where, spec.base)):
        if i == 0 and units is not None:  # what activation functions are for: the picture
            paras = [*paras, _units_pointer(base, _units_run(views, units.path))]
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


def _units_run(views: list[ExperimentView], path: str) -> aggregate.RunRecord | None:
    """The run the hidden-units figure at ``path`` shows (its setting's lowest seed on XOR)."""
    for v in views:
        if Path(path).name == f"{v.experiment.name}-units-xor.png":
            g = v.get(v.settings[0], "xor")
            if g is not None:
                return min((r.record for r in g.runs), key=lambda r: r.seed)
    return None


def _units_pointer(base: RunConfig, run: aggregate.RunRecord | None) -> str:
    """Where the report shows it: the hidden-units figure of the base model on XOR, and
    whether the run it shows has fitted XOR (its units only then make XOR's boundary)."""
    line = "its 0.5 line is straight" if base.activation == "sigmoid" else "its edge is straight"
    text = (
        "The Results show it unit by unit, in the figure of what each hidden unit computes "
        f"on XOR: every first-layer unit is a soft half-plane, {line}, as any function of "
        "w·x + b must be; only the second layer, which combines those half-planes, can draw "
        "bent lines"
    )
    if run is None or run.final_accuracy >= PERFECT:
        return text + ", and the output combines those into the boundary XOR needs."
    return (
        text + f". The run drawn there (seed {run.seed}) ends at {pct(run.final_accuracy)} on "
        "XOR: its units have not formed the boundary XOR needs (yet)."
    )


# ---------------------------------------------------------------- results and experiments


def _lab_runs(out: Path, views: list[ExperimentView]) -> list[Block]:
    """The lab's figures: comparison and learning curve of the lab model on each dataset
    (of the base model, for a sweep whose baseline is not the lab's).

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
        run_dir, where, which = out / ds, f"the lab run `{ds}/`", "lab"
        if not (run_dir / "summary.json").is_file():
            g = baseline.get(baseline.settings[0], ds) if baseline else None
            if g is None:
                continue
            run = min(g.runs, key=lambda r: r.record.seed)
            run_dir, where = run.run_dir, f"run `{run.run_dir.relative_to(out)}`"
            # "the lab model" only for the lab's network, data, epochs and tol (claims23 L7)
            which = lab_or_base(g.config.to_dict(), [ds])
        summary = read_summary(run_dir)
        loss, acc, r2 = summary.get("loss"), summary.get("accuracy"), summary.get("r2")
        values = r2 is not None  # a regression: no accuracy, its R² instead
        line = (
            format_summary_line(loss, math.nan if values or acc is None else acc, r2)
            if loss is not None and (acc is not None or values)
            else f"diverged: {summary.get('message', '')}"
        )
        rel = run_dir.relative_to(out).as_posix()
        if not (run_dir / LEARNING_CURVE).is_file():  # a sweep run, trained without figures
            from proplab.experiments import write_run_figures

            write_run_figures(run_dir)
        blocks += [
            Heading(3, f"The {which} model on {dataset_name(ds)}"),
            Para(f"From {where} (seed {summary.get('seed')}), after {summary.get('epochs_run', 0):,} epochs: `{line}`"),
        ]  # fmt: skip
        listing = _prediction_listing(run_dir, summary)
        if listing:
            n = len(listing) - 1
            blocks += [
                Para(f"Its prediction for each of the {n} training points, as the lab prints it:"),
                Code("\n".join(listing), link=f"{rel}/{LAB_PREDICTIONS}"),
            ]
        figures = (
            (COMPARISON, "ground truth and prediction (the lab's comparison figure)"),
            (LEARNING_CURVE, f"learning curve of the {which} model"),
            (
                BOUNDARY_DURING_TRAINING,
                (
                    "the predicted value as it forms, from the start of the run to its end"
                    if values
                    else "the decision boundary as it forms, "
                    f"{probability_label(summary.get('classes'))} from the start of the run to "
                    "its end"
                )
                + " (the title says which epochs are shown)",
            ),
            (
                GRADIENTS_FIGURE,
                "how large each layer's weight gradient is as the model trains (mean "
                "|dL/dW| on the training data, log scales)" + gradient_order(run_dir / GRADIENTS),
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


def _prediction_listing(run_dir: Path, summary: dict[str, Any]) -> list[str]:
    """The handout's per-sample lines (``Iter: i | Ground truth: g | Predict: p``) and
    the summary line: from the run's predictions.txt, which the lab run writes; for a
    folder from before it, recomputed from model.npz the same way and written there
    (the link beside the listing needs the file). Empty for a diverged run, a regression
    or one of more than two classes or rows than the lab prints."""
    path = run_dir / LAB_PREDICTIONS
    if path.is_file():
        return path.read_text(encoding="utf-8").splitlines()
    if summary.get("accuracy") is None or summary.get("r2") is not None:
        return []
    from proplab import dataload
    from proplab.experiments import (
        prediction_listing,
        read_run_config,
        write_prediction_listing,
    )
    from proplab.report_data import final_predictions

    try:
        cfg = read_run_config(run_dir)
        _, y, pred = final_predictions(run_dir, cfg)
    except (OSError, ValueError, KeyError):  # a damaged folder: the rest of the report stays
        return []
    if pred.shape[-1] != 1 or len(pred) > dataload.ITER_LINES_MAX or not np.all(np.isfinite(pred)):
        return []
    lines = prediction_listing(
        dataload.result_lines(pred, y, summary["loss"], summary["accuracy"], None)
    )
    try:
        write_prediction_listing(run_dir, lines)
    except OSError:
        pass  # a read-only folder: the listing is still shown
    return lines


def gradient_order(csv_path: Path) -> str:
    """What a run's ``gradients.csv`` shows of its layers' mean |dL/dW|: which is the
    smallest at the first logged epoch and which over the rest (``': at epoch 0 the
    smallest is layer 1 (Linear 2->10), nearest the input; after it, layer 2 (Linear
    10->10), in all 203 logged points'``); "" when there is no such file. Measured, not
    a fixed lesson: a sigmoid passes at most a quarter of the gradient down, but the
    input layer's |dW| also scales with its inputs (report21 M1)."""
    from proplab.runio import read_csv

    try:
        rows = read_csv(csv_path)
        layers = [name for name in rows[0] if name != "epoch"] if rows else []
        sizes = np.array([[float(r[k]) for k in layers] for r in rows])
    except (OSError, ValueError, KeyError):  # missing or edited: the figure says it all
        return ""
    if len(layers) < 2 or not np.all(np.isfinite(sizes)):
        return ""

    def name(i: int) -> str:
        number, _, kind = layers[i].partition(": ")
        text = f"layer {number} ({kind})" if kind else layers[i]
        side = {0: ", nearest the input", len(layers) - 1: ", nearest the output"}
        return text + side.get(i, "")

    first = int(np.argmin(sizes[0]))
    epoch = rows[0]["epoch"]
    later = np.argmin(sizes[1:], axis=1)
    if later.size == 0:
        return f": at epoch {epoch} the smallest is {name(first)}"
    counts = np.bincount(later, minlength=len(layers))
    top = int(np.argmax(counts))
    share = (
        f"in all {later.size} logged points"
        if counts[top] == later.size
        else f"in {counts[top]} of the {later.size} logged points"
    )
    if top == first:
        return f": the smallest is {name(first)}, at epoch {epoch} and after it {share}"
    return f": at epoch {epoch} the smallest is {name(first)}; after it, {name(top)}, {share}"


def _draws_figures(v: ExperimentView) -> bool:
    return not v.experiment.skipped and bool(v.groups)


def _draw_in_processes(
    views: list[ExperimentView], out: Path, jobs: int, log: Callable[[str], Any] = print
) -> dict[str, list]:
    """Each experiment's Figure blocks, drawn (PNGs written) in ``jobs`` processes."""
    from concurrent.futures import as_completed

    from proplab.pools import redoable_pool

    todo = [v for v in views if _draws_figures(v)]
    if len(todo) < 2:
        return {}
    # the most panels first, so no long figure starts last
    todo.sort(key=lambda v: -len(v.settings) * len(v.datasets))
    drawn = {}
    with redoable_pool(min(jobs, len(todo))) as pool:
        futures = {
            pool.submit(experiment_figures, v, out, FIGURES): v.experiment.name for v in todo
        }
        for fut in as_completed(futures):
            name = futures[fut]
            drawn[name] = fut.result()
            log(f"report: figures {len(drawn)}/{len(todo)} ({name})")
    return drawn


def _experiment(
    doc: Document,
    out: Path,
    v: ExperimentView,
    figures: list | None = None,
    views: Sequence[ExperimentView] = (),
    earlier: Sequence[ExperimentView] = (),
) -> None:
    """One experiment's heading, description, table, findings and figures (``views``: the
    sweep's experiments, which a finding may point at; ``earlier``: those shown before
    it, whose findings it does not repeat)."""
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
    spread = f"mean ± std over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    doc.add(Table(header, rows, caption=f"{exp.title}: {what}, {spread}"))
    notes = observations(v, earlier) + shared_rate_notes(v, views)
    if notes:
        doc.add(Bullets(notes))

    doc.add(*(experiment_figures(v, out, FIGURES) if figures is None else figures))


def main(out: str, jobs: int = 1, progress: bool = True) -> int:
    """``proplab report DIR``: rebuild the report from finished runs; returns the exit code.
    ``progress=False`` (``--no-progress``): none of the ``report: ...`` progress lines."""

    def log(message: str) -> None:
        if progress:
            print(message, file=sys.stderr)

    try:
        build_report(out, log=log, jobs=jobs)
    except SweepError as exc:
        print(f"proplab report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {Path(out) / 'report.md'} and {Path(out) / 'report.html'}")
    return 0
