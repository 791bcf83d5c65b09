"""An experiment's figures for the report: learning curves, final scores, decision boundaries.

Turns an :class:`~proplab.report_data.ExperimentView` into the plain arrays
:mod:`proplab.sweep_plots`, :mod:`proplab.sweep_dots` and
:mod:`proplab.sweep_boundaries` draw, writes the PNGs under ``out/<folder>`` and
returns the report's Figure blocks (paths relative to ``out``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from proplab import sweep_boundaries, sweep_dots, sweep_plots, unit_plots
from proplab.aggregate import RunRecord
from proplab.config import RunConfig
from proplab.dataload import csv_summary, holdout, is_csv
from proplab.models import hidden_activation_names, hidden_activations
from proplab.plots import input_axis_labels
from proplab.report_data import (
    ExperimentView,
    curve_points,
    dataset_name,
    final_predictions,
    saved_model,
    training_data,
)
from proplab.report_doc import Figure, Para, slug
from proplab.report_text import listing, r2_value, setting_name
from proplab.sweep_spec import Experiment


def experiment_figures(v: ExperimentView, out: Path, folder: str) -> list[Figure | Para]:
    """Curves (median and min-max band over seeds), score dots (accuracy, or R² for a
    regression; when there is more than one setting to compare) and decision boundaries
    (a regression's predicted values) of the lowest seed."""
    exp = v.experiment
    single = len(v.settings) == 1
    n_seeds = max(g.n for g in v.groups)
    axis = ", ".join(a.name for a in exp.setting_axes) or "setting"
    figures: list[Figure | Para] = []

    curves = {
        dataset_name(ds): [
            sweep_plots.CurveSet(_seeds(g.n) if single else s, [r.loss for r in g.runs])
            for s in v.settings
            if (g := v.get(s, ds)) is not None
        ]
        for ds in v.datasets
    }
    rel = f"{folder}/{exp.name}-curves.png"
    # with a held-out set the curves are the training data's loss, as a run's own figure says
    loss_name = "training loss" if v.has_test else "loss"
    sweep_plots.learning_curves(
        curves,
        out / rel,
        title=f"{exp.title}: learning curves",
        legend_title="" if single else axis,
        highlight=None if single else base_setting(exp),
        loss_name=loss_name,
    )
    caption = (
        f"{exp.title}: {loss_name} per epoch, pointwise median over {n_seeds} seeds (at each "
        "epoch, so it can switch seeds) with their min and max"
        if n_seeds > 1
        else f"{exp.title}: {loss_name} per epoch (one seed)"
    )
    # a mini-batch or dropout curve is not the loss of the weights the table scores
    points = curve_points([r.record.config for g in v.groups for r in g.runs])
    if points:
        caption += "; " + "; ".join(points)
    stopped, diverged = _ragged(v)
    if n_seeds > 1 and stopped:  # sweep_plots.band carries a stopped seed's last loss
        caption += (
            f"; a seed that stopped early ({', '.join(stopped)}) counts with its last loss "
            "from its stop on"
        )
    if n_seeds > 1 and diverged:
        # past a seed's last finite loss the median is over the others: it can jump
        caption += (
            f"; past the last finite loss of a seed that diverged before the others of its "
            f"setting ({', '.join(diverged)}), they are over the seeds still going"
        )
    figures.append(Figure(rel, caption))

    if not single:  # one setting has nothing to compare: its table says it all
        # with a held-out set, the figure compares the settings where it matters: on it
        # (a run without one, from a test_fraction axis, was scored on its training data)
        which = score_name(v, test=v.has_test)
        if v.has_test and not all(g.has_test for g in v.groups):
            which += f" (training {score_name(v)} where nothing was held out)"
        dots = [
            sweep_dots.DotSet(
                s, dataset_name(ds), g.run_scores(test=True), metric=g.metric
            )  # R² for a regression's seeds, accuracy otherwise; NaN: diverged
            for s in v.settings
            for ds in v.datasets
            if (g := v.get(s, ds)) is not None
        ]
        # a classification's file keeps its name; a regression's says R², not accuracy
        kinds = v.kinds()
        name = "accuracy" if kinds == {"accuracy"} else "r2" if kinds == {"r2"} else "scores"
        rel = f"{folder}/{exp.name}-{name}.png"
        sweep_dots.accuracy_dots(dots, out / rel, title=f"{exp.title}: final {which}", xlabel=axis)
        # one seed has no spread: its diamond is that seed's score
        spread = "of every seed, mean ± std" if max(g.n for g in v.groups) > 1 else "(one seed)"
        figures.append(Figure(rel, f"{exp.title}: final {which} {spread}"))

    rows, labels, undrawable = _boundary_rows(v, single)
    if undrawable:
        # a regression's panel is a map of its predicted value, not a boundary
        values = [dataset_name(ds) for ds in v.datasets if v.kinds(ds) == {"r2"}]
        maps = [d for d in undrawable if d in values]
        bounds = [d for d in undrawable if d not in values]
        if bounds:
            figures.append(
                Para(
                    f"No decision boundaries for {', '.join(bounds)}: they are drawn over two "
                    "inputs for a model with one output, and these have more inputs or outputs."
                )
            )
        if maps:
            figures.append(
                Para(
                    f"No predicted-value map for {', '.join(maps)}: a map is drawn over two "
                    f"inputs, and {'its model has' if len(maps) == 1 else 'their models have'} "
                    "more inputs."
                )
            )
    if rows:
        seed = min(r.record.seed for g in v.groups for r in g.runs)
        rel = f"{folder}/{exp.name}-boundaries.png"
        drawn = [p for row in rows for p in row if p is not None]
        regressions = {p.regression for p in drawn} or {g.regression for g in v.groups}
        # a regression's panels show its predicted value, which has no boundary
        what = "decision boundaries" if regressions == {False} else "predicted values"
        if regressions == {False, True}:  # short: the panels' titles say which is which
            what = "boundaries and values"
        sweep_boundaries.decision_boundaries(
            rows,
            out / rel,
            title=f"{exp.title}: {what} (seed {seed})",
            row_labels=labels,
        )
        probability = sweep_boundaries.panels_probability(drawn)  # P(yes): a CSV's label
        caption = _boundary_caption(exp.title, seed, regressions, probability)
        raw = list(
            dict.fromkeys(
                p.title.split("\n")[0]
                for p in drawn
                # a diverged raw output (all NaN) has no bar (figs22 F7)
                if p.raw_output and not p.regression and np.isfinite(p.prob).any()
            )
        )
        if raw:
            caption += (
                f"; {listing(raw)}: the output itself, on a colour bar of its own (an identity "
                "output layer gives no probability; class 1 where it is above 0.5)"
            )
        if any(p.held_out is not None for p in drawn):
            caption += "; black-rimmed points: the ones held out as the test set"
        figures.append(Figure(rel, caption))
    if single:
        figures += _unit_figures(v, out, folder)
    return figures


def _unit_figures(v: ExperimentView, out: Path, folder: str) -> list[Figure | Para]:
    """For one setting: what each hidden unit of its lowest-seed MLP computes, per 2-D dataset.

    Drawn for models with two inputs, one output and Linear + activation layers
    (not Conv1d networks), and not for a diverged run (its units are saturated).
    """
    figures: list[Figure | Para] = []
    setting = v.settings[0]
    for ds in v.datasets:
        g = v.get(setting, ds)
        if g is None:
            continue
        run = min(g.runs, key=lambda r: r.record.seed)
        cfg = run.record.config
        if run.record.diverged or cfg.model != "mlp":
            continue
        x, y = training_data(cfg)
        if x.ndim != 2 or x.shape[1] != 2 or y.ndim != 2 or y.shape[1] != 1:
            continue
        model = saved_model(run.run_dir)
        u, w, points = sweep_boundaries.boundary_grid(x)
        with np.errstate(all="ignore"):
            layers = hidden_activations(model, points)
        kinds = hidden_activation_names(model)
        name = dataset_name(ds)
        # a CSV dataset is a path: its file's stem names the figure (csv18: a path with
        # slashes made a file name in folders that do not exist)
        part = f"csv-{slug(Path(ds).stem)}" if is_csv(ds) else ds
        rel = f"{folder}/{v.experiment.name}-units-{part}.png"
        title = f"{v.experiment.title} on {name}: what each hidden unit computes (seed {cfg.seed})"
        unit_plots.hidden_units(u, w, layers, x, y, out / rel, title=title, kinds=kinds)
        maps = "predicted-value maps" if g.regression else "decision boundaries"
        # the level the figure draws as a line, in the words unit_plots gives it
        crossing = unit_plots.unit_scale(layers[0], kinds[0]).line if layers else "0.5"
        # the points as unit_plots.hidden_units draws them: by target value, or by class
        data = BY_VALUE if g.regression else BY_CLASS
        figures.append(
            Figure(
                rel,
                f"{v.experiment.title} on {name}: each hidden unit's activation over the "
                f"inputs (seed {cfg.seed}; axes as in the {maps}), one row per "
                f"layer; black line: where the unit crosses {crossing}; points: the data, {data}",
            )
        )
        with np.errstate(all="ignore"):
            on_data = hidden_activations(model, x)
        sentence = _constant_units(name, on_data, kinds)
        if sentence:
            figures.append(Para(sentence))
    return figures


FLAT = 0.05  # a unit changing by less than this share of its range over the data is "constant"


def _constant_units(dataset: str, layers: list[np.ndarray], kinds: list[str]) -> str | None:
    """A sentence naming the hidden units that barely change over the data ``(n, H_l)`` per
    layer, or None when there are none.

    Such a unit gives the next layer (almost) the same number for every sample: it
    acts as a bias, not as a feature (a dead ReLU, a saturated sigmoid). The range is
    the activation's (1 for a sigmoid, 2 for tanh), or for unbounded ones (ReLU,
    identity) the largest magnitude in the layer over the data.
    """
    flat = []
    total = 0
    for number, (acts, kind) in enumerate(zip(layers, kinds, strict=True), start=1):
        spread = np.ptp(acts, axis=0)
        span = {"Sigmoid": 1.0, "Tanh": 2.0}.get(kind, float(np.max(np.abs(acts), initial=0.0)))
        total += acts.shape[1]
        for unit in np.flatnonzero(~(spread >= FLAT * (span or 1.0))):  # NaN counts as flat
            flat.append(f"layer {number} unit {unit + 1}")
    if not flat:
        return None
    return (
        f"On {dataset}, {len(flat)} of the {total} hidden units change by less than "
        f"{100 * FLAT:.0f} % of their range over the data ({', '.join(flat)}): the next layer "
        f"sees {'it' if len(flat) == 1 else 'them'} as (almost) a constant, a bias rather "
        "than a feature."
    )


def base_setting(exp: Experiment) -> str | None:
    """The label of the setting that is the experiment's base configuration (the lab
    model in the lab's suite; drawn black in its curves), or None when no single setting
    of a one-axis experiment is."""
    axes = exp.setting_axes
    if len(axes) != 1:
        return None
    hits = [
        s.label
        for s in axes[0].settings
        if all(k in exp.base and exp.base[k] == v for k, v in s.values.items())
    ]
    return hits[0] if len(hits) == 1 else None


Row = list[sweep_boundaries.BoundaryPanel | None]


def _seeds(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


def _boundary_rows(v: ExperimentView, single: bool) -> tuple[list[Row], list[str], list[str]]:
    """``(rows, row labels, datasets without a boundary)`` for the lowest seed of each group.

    One row per dataset with a panel per setting (one row of datasets when
    there is a single setting). A boundary needs two inputs and one output;
    other datasets (digits' 64 pixels, ten classes) are named, not drawn.
    """
    rows: list[Row] = []
    labels: list[str] = []
    undrawable: list[str] = []
    for ds in v.datasets:
        if all(v.get(s, ds) is None for s in v.settings):
            continue  # none of its runs has finished yet (the report says so above)
        row = _boundary_row(v, ds, single)
        if row is None:
            undrawable.append(dataset_name(ds))
        else:
            rows.append(row)
            labels.append(dataset_name(ds))
    if single and rows:  # the datasets side by side rather than one per row
        rows, labels = [[r[0] for r in rows]], []
    return rows, labels, undrawable


def _boundary_row(v: ExperimentView, ds: str, single: bool) -> Row | None:
    """One panel per setting on dataset ``ds``, or None when its models have no boundary to draw."""
    groups = [(s, v.get(s, ds)) for s in v.settings]
    first = next(g for _, g in groups if g is not None)
    x, _ = training_data(first.runs[0].record.config)
    if x.ndim != 2 or x.shape[1] != 2:
        return None
    u, w, points = sweep_boundaries.boundary_grid(x)  # the same grid for every setting
    row: Row = []
    for s, g in groups:
        if g is None:
            row.append(None)
            continue
        run = min(g.runs, key=lambda r: r.record.seed)
        x, y, prob = final_predictions(run.run_dir, run.record.config, points)
        if prob.shape[-1] != 1:  # several classes: no single P(class 1)
            return None
        acc = _panel_score(run.record, g.regression)
        name = dataset_name(ds) if single else setting_name(v, s, bracket=False)
        grid = prob.reshape(w.size, u.size)
        if run.record.diverged:
            # its last weights are huge, not NaN: their outputs (1e156, say) would paint
            # the panel as a confident P(class 1) = 1 or 0. Drawn blank, with its data.
            grid = np.full_like(grid, np.nan, dtype=np.float64)
        csv_columns = csv_summary(run.record.config)
        columns = csv_columns.get("features")
        x, y, held = _marked_test_points(run.record.config, x, y)
        panel = sweep_boundaries.BoundaryPanel(
            f"{name}\n{acc}",
            u,
            w,
            grid,
            x,
            y,
            values=g.regression,
            held_out=held,
            # "$" in a column name is a dollar sign, not mathtext (input_axis_labels escapes it)
            axis_names=input_axis_labels(columns, 2) if columns and len(columns) == 2 else None,
            classes=csv_columns.get("classes"),  # a CSV's labels: P(yes), not P(class 1)
            # an identity output is no probability: its own range, a bar named "output"
            raw_output=not g.regression and run.record.config.output_activation == "identity",
        )
        row.append(panel)
    return row


def _marked_test_points(
    cfg: RunConfig, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(x, y, held)``: the dataset ``x (n, 2)``, ``y`` reordered as the run split it,
    its training points first, with ``held (n,)`` True for those it held out (None when
    it held none out): the panel's title gives both scores, its points say which is which."""
    x_train, y_train, x_test, y_test = holdout(cfg, x, y)
    if x_test is None or y_test is None:
        return x, y, None
    held = np.r_[np.zeros(len(x_train), dtype=bool), np.ones(len(x_test), dtype=bool)]
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]), held


def _panel_score(rec: RunRecord, regression: bool) -> str:
    """A boundary panel's second title line: ``'train 97.6 %, test 95.0 %'``, a
    regression's ``'train R² 0.712, test R² 0.553'``, or ``'diverged'``."""
    if rec.diverged:
        return "diverged"
    if regression:
        text = f"R² {r2_value(rec.final_r2)}"
        return f"train {text}, test R² {r2_value(rec.test_r2)}" if rec.n_test > 0 else text
    text = f"{100 * rec.final_accuracy:.1f} %"
    return f"train {text}, test {100 * rec.test_accuracy:.1f} %" if rec.n_test > 0 else text


def score_name(v: ExperimentView, test: bool = False) -> str:
    """What an experiment's groups are scored by: ``accuracy``, ``R²`` (regression), or
    ``score`` for both kinds; ``test ...`` with ``test``."""
    kinds = v.kinds()
    name = "score" if len(kinds) > 1 else "R²" if kinds == {"r2"} else "accuracy"
    return f"test {name}" if test else name


# how a caption says which point is which class (shape too: a11y24 M2)
BY_CLASS = "coloured and shaped by true class (class 0 red circles, class 1 blue squares)"
BY_VALUE = "coloured by their target value"  # a regression's points


def _boundary_caption(
    title: str, seed: int, kinds: set[bool], probability: str = "P(class 1)"
) -> str:
    """The boundary figure's caption: ``probability`` (``P(yes)`` for a CSV's labels) and
    its 0.5 line for classification panels, the predicted value for a regression's
    (``kinds``: their ``regression``)."""
    classes = (
        f"the trained model's {probability} over the inputs; black line: the 0.5 boundary; "
        f"points: the data, {BY_CLASS}"
    )
    values = (
        "the trained model's predicted value over the inputs (blue above 0, red below, "
        f"scale on the colour bar); dots: the data, {BY_VALUE}"
    )
    if kinds == {False}:  # as it always read
        return (
            f"{title}: the trained model's {probability} over the inputs (seed {seed}); "
            f"black line: the 0.5 boundary; points: the data, {BY_CLASS}"
        )
    if kinds == {True}:
        return f"{title} (seed {seed}): {values}"
    return f"{title} (seed {seed}): for a classification, {classes}; for a regression, {values}"


def _ragged(v: ExperimentView) -> tuple[list[str], list[str]]:
    """``(stopped, diverged)``: the settings whose seeds have curves of different lengths
    because one stopped early (its curve ends on a finite loss, which the median and
    band carry on), and those where one diverged (its non-finite losses are left out)."""
    stopped: list[str] = []
    diverged: list[str] = []
    for g in v.groups:
        if len({int(np.isfinite(r.loss).sum()) for r in g.runs}) < 2:
            continue
        longest = max(r.loss.size for r in g.runs)
        name = setting_name(v, g.setting)
        if any(not np.isfinite(r.loss).all() for r in g.runs):
            diverged.append(name)
        if any(0 < r.loss.size < longest and np.isfinite(r.loss[-1]) for r in g.runs):
            stopped.append(name)
    # once each, over the datasets
    return list(dict.fromkeys(stopped)), list(dict.fromkeys(diverged))
