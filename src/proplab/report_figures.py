"""An experiment's figures for the report: learning curves, final accuracies, decision boundaries.

Turns an :class:`~proplab.report_data.ExperimentView` into the plain arrays
:mod:`proplab.sweep_plots` draws, writes the PNGs under ``out/<folder>`` and
returns the report's Figure blocks (paths relative to ``out``).
"""

from __future__ import annotations

import math
from pathlib import Path

from proplab import sweep_plots
from proplab.report_data import ExperimentView, dataset_name, final_predictions
from proplab.report_doc import Figure
from proplab.report_text import setting_name


def experiment_figures(v: ExperimentView, out: Path, folder: str) -> list[Figure]:
    """Curves (median and min-max band over seeds), accuracy dots (when there is more than
    one setting to compare) and decision boundaries of the lowest seed."""
    exp = v.experiment
    single = len(v.settings) == 1
    n_seeds = max(g.n for g in v.groups)
    axis = ", ".join(a.name for a in exp.setting_axes) or "setting"
    figures = []

    curves = {
        dataset_name(ds): [
            sweep_plots.CurveSet(f"{g.n} seeds" if single else s, [r.loss for r in g.runs])
            for s in v.settings
            if (g := v.get(s, ds)) is not None
        ]
        for ds in v.datasets
    }
    rel = f"{folder}/{exp.name}-curves.png"
    sweep_plots.learning_curves(
        curves,
        out / rel,
        title=f"{exp.title}: learning curves",
        legend_title="" if single else axis,
    )
    figures.append(
        Figure(
            rel, f"{exp.title}: loss per epoch, median over {n_seeds} seeds with the min-max band"
        )
    )

    if not single:  # one setting has nothing to compare: its table says it all
        dots = [
            sweep_plots.DotSet(
                s,
                dataset_name(ds),
                [math.nan if r.record.diverged else r.record.final_accuracy for r in g.runs],
            )
            for s in v.settings
            for ds in v.datasets
            if (g := v.get(s, ds)) is not None
        ]
        rel = f"{folder}/{exp.name}-accuracy.png"
        sweep_plots.accuracy_dots(dots, out / rel, title=f"{exp.title}: final accuracy")
        figures.append(Figure(rel, f"{exp.title}: final accuracy of every seed, mean ± std"))

    u, w, points = sweep_plots.boundary_grid()
    rows: list[list[sweep_plots.BoundaryPanel | None]] = []
    for ds in v.datasets:
        row: list[sweep_plots.BoundaryPanel | None] = []
        for s in v.settings:
            g = v.get(s, ds)
            if g is None:
                row.append(None)
                continue
            run = min(g.runs, key=lambda r: r.record.seed)
            x, y, prob = final_predictions(run.run_dir, run.record.config, points)
            acc = "diverged" if run.record.diverged else f"{100 * run.record.final_accuracy:.1f} %"
            name = dataset_name(ds) if single else setting_name(v, s)
            grid = prob.reshape(w.size, u.size)
            row.append(sweep_plots.BoundaryPanel(f"{name}\n{acc}", u, w, grid, x, y))
        rows.append(row)
    labels = [dataset_name(ds) for ds in v.datasets]
    if single:  # the datasets side by side rather than one per row
        rows, labels = [[r[0] for r in rows]], []
    seed = min(r.record.seed for g in v.groups for r in g.runs)
    rel = f"{folder}/{exp.name}-boundaries.png"
    sweep_plots.decision_boundaries(
        rows, out / rel, title=f"{exp.title}: decision boundaries (seed {seed})", row_labels=labels
    )
    figures.append(
        Figure(
            rel,
            f"{exp.title}: the trained model's P(class 1) over the input square (seed {seed}); "
            "black line: the 0.5 boundary; dots: the data, coloured by true class",
        )
    )
    return figures
