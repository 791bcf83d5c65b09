"""`proplab report` on regression sweeps: every number of a regression group is R² (or a
loss) and says so, and classification groups beside them read as they always did.

Found by the sweeps helper on a multi-gauss sweep: every seed drawn as a "diverged" x in
the final-score figure, boundary panels titled "train nan %, test nan %", "200 samples in
103 classes", a sigmoid output in the base table for runs that trained an identity one,
"n/a" in every table cell, "no run has a test accuracy (every seed diverged)" for runs
that did not diverge, and no learning-rate answer at all.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from proplab import report, report_answers, sweep_boundaries, sweep_dots
from proplab.aggregate import Group, RunRecord
from proplab.config import RunConfig
from proplab.experiments import load_dataset
from proplab.report_data import ExperimentView, GroupView, RunView
from proplab.runio import read_csv
from proplab.sweep import RUNS_DIR, parse_spec, run_sweep

# a baseline (one setting: the lab-run section and the hidden units), a learning rate
# that diverges (40), one that is too low for 1000 epochs, and biases off
VALUES = """
title = "values"
[base]
dataset = "multi-gauss"
noise = 0
n = 200
test_fraction = 0.2
activation = "tanh"
epochs = 1000
lr = 0.3
print_every = 0
[vary]
seed = [0, 1, 2]

[[experiment]]
name = "baseline"
title = "The base model"
section = "results"

[[experiment]]
name = "lr"
title = "Learning rate"
section = "results"
[experiment.vary]
lr = [0.03, 0.3, 40.0]

[[experiment]]
name = "bias"
title = "Biases"
section = "discussion"
[experiment.vary]
bias = [true, false]
"""

# the same circle runs alone, and beside multi-gauss
CIRCLE = """
title = "both"
[base]
noise = 0
n = 80
test_fraction = 0.25
activation = "tanh"
hidden = [8]
epochs = 300
print_every = 0
[vary]
dataset = [{datasets}]
lr = [0.03, 0.3]
seed = [0, 1]
"""


def _build(out: Path, text: str) -> tuple[list, list]:
    """Sweep ``text`` into ``out`` and build its report, recording what the score figure
    and the boundary panels were drawn from: ``(dots, panels)``."""
    result = run_sweep(parse_spec(text, Path("s.toml")), out, stream=io.StringIO())
    assert result.exit_code == 0
    dots, panels = [], []
    original_dots, original_boundaries = (
        sweep_dots.accuracy_dots,
        sweep_boundaries.decision_boundaries,
    )

    def spy_dots(sets, path, title="", **more):
        dots.append((list(sets), title))
        return original_dots(sets, path, title=title, **more)

    def spy_boundaries(rows, path, title="", row_labels=()):
        panels.append(([p for row in rows for p in row if p is not None], title))
        return original_boundaries(rows, path, title=title, row_labels=row_labels)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep_dots, "accuracy_dots", spy_dots)
        mp.setattr(sweep_boundaries, "decision_boundaries", spy_boundaries)
        report.build_report(out, log=lambda m: None)
    return dots, panels


@pytest.fixture(scope="module")
def values(tmp_path_factory):
    out = tmp_path_factory.mktemp("values")
    dots, panels = _build(out, VALUES)
    return out, dots, panels


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """``(mixed dir, its dots, its panels, circle-only dir)``."""
    out = tmp_path_factory.mktemp("mixed")
    dots, panels = _build(out / "both", CIRCLE.format(datasets='"circle", "multi-gauss"'))
    _build(out / "circle", CIRCLE.format(datasets='"circle"'))
    return out / "both", dots, panels, out / "circle"


def _summaries(out: Path) -> dict[str, dict]:
    return {
        d.name: json.loads((d / "summary.json").read_text())
        for d in sorted((out / RUNS_DIR).iterdir())
    }


def _section(md: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of its level or above."""
    level = heading.split(" ")[0]
    body = md.split(heading + "\n", 1)[1]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", body, re.M)]
    return body[: ends[0]] if ends else body


def _table(text: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of the Markdown table whose header starts with ``header_start``."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    split = lambda line: [c.strip() for c in line.strip().strip("|").split(" | ")]  # noqa: E731
    rows = []
    for line in lines[at + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(split(line))
    return split(lines[at]), rows


def _mean_std(row: dict[str, str], name: str) -> str:
    """``'0.712 ± 0.036'`` from aggregate.csv's ``{name}_mean`` and ``{name}_std``."""
    return f"{float(row[f'{name}_mean']):.3f} ± {float(row[f'{name}_std']):.3f}"


# ---------------------------------------------------------------- a regression sweep


def test_the_tables_give_aggregate_csvs_r2(values):
    out, _, _ = values
    md = (out / "report.md").read_text()
    agg = {(r["experiment"], r["setting"]): r for r in read_csv(out / "aggregate.csv")}
    lr = _section(md, "### Learning rate")
    assert (
        "*Learning rate: final train and test R² and training loss, mean ± std over 3 seeds*" in lr
    )
    header, rows = _table(lr, "| lr | multi-gauss")
    assert header == ["lr", "multi-gauss train R²", "multi-gauss test R²", "multi-gauss final loss"]
    assert [r[0] for r in rows] == ["0.03", "0.3", "40"]
    for setting, train, test, _ in rows:
        a = agg[("lr", setting)]
        if setting == "40":  # every seed overflowed: nothing to average, and it says why
            assert a["n_diverged"] == "3" and math.isnan(float(a["r2_mean"]))
            assert (train, test) == ("n/a (3/3 diverged)", "n/a")
            continue
        assert a["n_diverged"] == "0"
        assert train == _mean_std(a, "r2") and test == _mean_std(a, "test_r2")
    # real numbers, not ones that happen to look right: well away from 0 and 1 at lr 0.3
    assert (
        0.2
        < float(agg[("lr", "0.3")]["test_r2_mean"])
        < float(agg[("lr", "0.3")]["r2_mean"])
        < 0.98
    )
    # the one-setting baseline's table too
    header, ((_, train, test, _),) = _table(_section(md, "### The base model"), "| setting |")
    assert header[1:3] == ["multi-gauss train R²", "multi-gauss test R²"]
    a = agg[("baseline", "base")]
    assert (train, test) == (_mean_std(a, "r2"), _mean_std(a, "test_r2"))


def test_the_score_figure_plots_each_seeds_r2_and_the_panels_name_it(values):
    out, dots, panels = values
    summaries = _summaries(out)
    by_title = {title: sets for sets, title in dots}
    assert set(by_title) == {"Learning rate: final test R²", "Biases: final test R²"}
    lr_runs = {r["run"] for r in read_csv(out / "results.csv") if r["experiment"] == "lr"}
    for dot in by_title["Learning rate: final test R²"]:
        assert dot.metric == "r2"
        mine = [s for r, s in summaries.items() if f"{s['lr']:g}" == dot.label and r in lr_runs]
        assert len(mine) == 3
        expected = [math.nan if s["stop_reason"] == "diverged" else s["test_r2"] for s in mine]
        assert np.array_equal(np.sort(dot.accuracies), np.sort(expected), equal_nan=True)
        # the case the sweeps helper found: every regression seed drawn as diverged
        assert any(math.isfinite(v) for v in dot.accuracies) == (dot.label != "40")
    (lr_panels, title) = next(p for p in panels if p[1].startswith("Learning rate"))
    assert title == "Learning rate: predicted values (seed 0)"
    assert all(p.regression for p in lr_panels) and len(lr_panels) == 3
    for p in lr_panels:
        lr = float(p.title.split("\n")[0].removeprefix("lr "))
        (s,) = [
            s for r, s in summaries.items() if s["lr"] == lr and s["seed"] == 0 and r in lr_runs
        ]
        if s["stop_reason"] == "diverged":
            assert p.title.endswith("\ndiverged")
        else:
            assert p.title.endswith(f"\ntrain R² {s['r2']:.3f}, test R² {s['test_r2']:.3f}")
    md = (out / "report.md").read_text()
    assert "![Learning rate: final test R² of every seed, mean ± std](figures/lr-r2.png)" in md
    assert "the trained model's predicted value over the inputs" in md


# the sentences that name what a regression has not, to say so: the only places these
# words may appear in a regression-only report
EXPLAINED = (
    "multi-gauss has values to predict, not classes, so no accuracy:",
    "On multi-gauss the targets are values, so there is no accuracy to reach and no class "
    "to get stuck in:",
)


def test_a_regression_report_says_nothing_of_accuracy_classes_or_nan(values):
    out, _, _ = values
    md = (out / "report.md").read_text()
    for said in EXPLAINED:
        assert md.count(said) == 1
        md = md.replace(said, "")
    for word in ("accuracy", "class", "nan %", "100 %"):
        assert word not in md, word
    # "diverged", "NaN" and "n/a" only where lr 40 overflowed (it did, in every seed), or
    # to leave it out of a comparison
    for said in ("with no diverged seed", "rates that did not diverge", "1 diverged in at least"):
        assert said in md
        md = md.replace(said, "")
    for line in md.splitlines():
        if re.search(r"diverg|\bnan\b|n/a", line, re.I):
            assert "lr 40" in line or line.startswith("| 40 |"), line
    assert "On multi-gauss, lr 40 diverged (the loss became NaN or infinite) in 3/3 seeds." in md


def test_the_setup_gives_the_runs_output_and_the_targets_range(values):
    out, _, _ = values
    md = (out / "report.md").read_text()
    setup = _section(md, "## Setup")
    rows = dict(_table(setup, "| setting | value |")[1])
    assert rows["output_activation"] == "identity"  # as every run trained, not RunConfig's sigmoid
    assert "tanh after each hidden layer, identity on the output" in setup
    y = np.concatenate(
        [
            load_dataset(RunConfig(dataset="multi-gauss", n=200, noise=0.0, seed=s))[1]
            for s in range(3)
        ]
    )
    assert (
        f"**Data, multi-gauss**: 200 samples of 2 features, each with a value to predict: from "
        f"{y.min():.2f} to {y.max():.2f}, mean {y.mean():.2f}, standard deviation {y.std():.2f} "
        "over the seeds' draws." in setup
    )
    assert (
        "the tables and boundary panels give the R² on both parts, the R² figures on the test set"
        in setup
    )
    # the settled count does not ask a regression to reach 100 %; its R² is its score
    assert re.search(
        r"settled by then[:( ]+with the median seed's loss changing by at most 5 % and the "
        r"mean R² by less than 0\.01 over the last 10 % of epochs",
        setup,
    )
    # a setting whose R² still moves is named with where it went (the loss alone would
    # call lr 0.03 settled: its loss moved by little while its R² went 0.097 -> 0.109)
    assert re.search(r"R² still changing over the last 10 % of epochs: .*lr 0\.03 on", setup)
    assert "their R² could change with more epochs." in setup


def test_the_observations_give_r2_highest_lowest_and_held_out(values):
    out, _, _ = values
    md = (out / "report.md").read_text()
    agg = {(r["experiment"], r["setting"]): r for r in read_csv(out / "aggregate.csv")}
    lr = _section(md, "### Learning rate")
    hi, lo = agg[("lr", "0.3")], agg[("lr", "0.03")]
    assert float(hi["r2_mean"]) > float(lo["r2_mean"])
    assert (
        "- On multi-gauss (training set), the highest R² of the settings with no diverged seed "
        f"is lr 0.3, at R² {_mean_std(hi, 'r2')}; the lowest is lr 0.03, at R² "
        f"{_mean_std(lo, 'r2')}." in lr
    )
    assert (
        f"- On the held-out test set of multi-gauss, the best is lr 0.3, at R² "
        f"{_mean_std(hi, 'test_r2')}; the lowest is lr 0.03, at R² {_mean_std(lo, 'test_r2')}" in lr
    )
    base = agg[("baseline", "base")]
    assert (
        f"- On multi-gauss (training set), the final R² is {_mean_std(base, 'r2')} and the "
        "final loss " in _section(md, "### The base model")
    )


def test_the_learning_rate_answer_reasons_with_r2(values):
    out, _, _ = values
    md = (out / "report.md").read_text()
    answer = _section(md, "### What does a too high or too low learning rate do?")
    agg = {(r["experiment"], r["setting"]): r for r in read_csv(out / "aggregate.csv")}
    hi, lo = agg[("lr", "0.3")], agg[("lr", "0.03")]
    ends = [int(r["epochs"]) for r in read_csv(out / "results.csv")
            if r["experiment"] == "lr" and r["setting"] == "40"]  # fmt: skip
    assert len(ends) == 3
    assert (
        "Too high, measured: the loss diverges (it becomes inf or NaN) at lr 40 in every seed on "
        f"multi-gauss, at epoch {int(np.median(ends)):,} (median over those runs)." in answer
    )
    assert (
        "Of the rates that did not diverge, the highest held-out R² on multi-gauss is lr 0.3, "
        f"at R² {_mean_std(hi, 'test_r2')} (training R²: {_mean_std(hi, 'r2')})." in answer
    )
    assert "at lr 0.03 the loss changes by a median of " in answer
    assert f"multi-gauss ends at R² {_mean_std(lo, 'test_r2')} on the held-out set" in answer
    # the base output is the runs' own: the comparison is found (it was "no learning-rate
    # comparison" while the base said sigmoid)
    assert "no learning-rate comparison" not in answer


def test_the_html_is_written_and_self_contained(values):
    out, _, _ = values
    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(links) >= 8
    assert [base64.b64decode(e) for e in embedded] == [
        (out / unquote(u)).read_bytes() for u in links
    ]
    assert 'src="http' not in page and "<link" not in page and 'src="figures' not in page
    assert "multi-gauss train R²" in page and "nan %" not in page


# ---------------------------------------------------------------- both kinds in one sweep


def test_a_mixed_sweeps_classification_parts_read_as_the_classification_sweeps(mixed):
    both, _, _, alone = mixed
    md, ref = (both / "report.md").read_text(), (alone / "report.md").read_text()
    circle = [line for line in ref.splitlines() if line.startswith("- On ") and "circle" in line]
    assert len(circle) >= 2
    for line in circle:  # the same runs, the same sentences
        assert line in md
    header, rows = _table(md, "| lr | circle")
    ref_header, ref_rows = _table(ref, "| lr | circle")
    assert header[:4] == ref_header and [r[:4] for r in rows] == ref_rows
    assert header[4:] == ["multi-gauss train R²", "multi-gauss test R²", "multi-gauss final loss"]
    agg = {(r["setting"], r["dataset"]): r for r in read_csv(both / "aggregate.csv")}
    for r in rows:
        assert r[4:6] == [_mean_std(agg[(r[0], "multi-gauss")], k) for k in ("r2", "test_r2")]
    # the learning-rate answer: circle's paragraphs as before, then multi-gauss's by R²
    q = "### What does a too high or too low learning rate do?"
    mine, theirs = _section(md, q).strip(), _section(ref, q).strip()
    assert mine.startswith(theirs)
    assert "On multi-gauss the targets are values" in mine[len(theirs) :]
    rows = dict(_table(_section(md, "## Setup"), "| setting | value |")[1])
    assert (
        rows["output_activation"] == "sigmoid (identity on multi-gauss, whose targets are values)"
    )
    assert "**Data, multi-gauss**: 80 samples of 2 features, each with a value to predict" in md
    assert "classes (the largest" not in md


def test_a_mixed_sweeps_figures_score_each_kind_by_its_own_metric(mixed):
    both, dots, panels, _ = mixed
    summaries = _summaries(both)
    ((sets, title),) = dots
    assert title == "both: final test score"
    for dot in sets:
        mine = [
            s
            for s in summaries.values()
            if f"{s['lr']:g}" == dot.label and s["dataset"] == dot.dataset
        ]
        key = "test_r2" if dot.dataset == "multi-gauss" else "test_accuracy"
        assert dot.metric == ("r2" if dot.dataset == "multi-gauss" else "accuracy")
        assert sorted(dot.accuracies) == sorted(s[key] for s in mine) and len(mine) == 2
    ((drawn, title),) = panels
    assert title == "both: boundaries and values (seed 0)"
    for p in drawn:
        assert p.regression == ("R²" in p.title)
        assert ("%" in p.title) != p.regression


# ---------------------------------------------------------------- a CSV file's values


def test_a_csv_files_values_are_scored_by_r2(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (48, 2))
    y = np.sin(2 * x[:, 0]) * x[:, 1]
    path = tmp_path / "vals.csv"
    np.savetxt(path, np.c_[x, y], delimiter=",", header="a,b,label", comments="", fmt="%.5f")
    text = f"""
title = "csv values"
[base]
dataset = "{path.as_posix()}"
task = "regression"
activation = "tanh"
hidden = [6]
epochs = 200
test_fraction = 0.25
print_every = 0
[vary]
lr = [0.05, 0.3]
seed = [0, 1]
"""
    _build(tmp_path / "out", text)
    out = tmp_path / "out"
    md = (out / "report.md").read_text()
    header, rows = _table(md, "| lr | vals.csv")
    assert header[1:3] == ["vals.csv train R²", "vals.csv test R²"]
    summaries = _summaries(out)
    for row in rows:
        r2 = [s["r2"] for s in summaries.values() if f"{s['lr']:g}" == row[0]]
        assert row[1] == f"{np.mean(r2):.3f} ± {np.std(r2, ddof=1):.3f}"
    assert "in 48 classes" not in md and "P(class 1)" not in md


# ---------------------------------------------------------------- the answer, case by case


def _value_runs(
    setting: str, lr: float, r2: list[float], *, start: float = 0.1, end: float = 0.02
) -> list[RunView]:
    """Synthetic multi-gauss runs of one setting: training R² ``r2`` (held-out R² 0.05
    lower), 1000 epochs whose loss falls linearly from ``start`` to ``end``."""
    views = []
    for seed, value in enumerate(r2):
        cfg = RunConfig(dataset="multi-gauss", output_activation="identity", lr=lr, seed=seed)
        rec = RunRecord(
            "lr", setting, "multi-gauss", seed, f"r{setting}{seed}", cfg, end, math.nan, 1000,
            "completed", 1.0, n_test=20, final_r2=value, test_r2=value - 0.05,
        )  # fmt: skip
        views.append(RunView(rec, Path("."), np.linspace(start, end, 1000), np.full(1000, np.nan)))
    return views


def _lr_answer(groups: dict[str, list[RunView]]) -> str:
    exp = parse_spec(
        '[base]\ndataset = "multi-gauss"\n[vary]\nlr = [0.01, 0.3, 3.0]\nseed = [0, 1, 2]\n',
        Path("lr.toml"),
        check_build=False,
    ).experiments[0]
    gvs = [
        GroupView(Group("lr", s, "multi-gauss", [r.record for r in runs]), runs)
        for s, runs in groups.items()
    ]
    view = ExperimentView(exp, gvs, 0, list(groups), ["multi-gauss"])
    base = RunConfig(dataset="multi-gauss", output_activation="identity", lr=0.3)
    return " ".join(report_answers.answers([view], base, (130, 21))[1][1])


def test_a_rate_clearly_worse_by_r2_is_too_high_and_one_that_barely_moved_too_low():
    text = _lr_answer(
        {
            "0.01": _value_runs("0.01", 0.01, [0.05, 0.06, 0.07], start=0.1, end=0.099),
            "0.3": _value_runs("0.3", 0.3, [0.90, 0.91, 0.92]),
            "3": _value_runs("3", 3.0, [0.30, 0.35, 0.40]),
        }
    )
    # these runs hold out a test set: a rate is too high by its held-out R² (audit16a)
    assert (
        "Too high, measured: lr 3 ends at R² 0.300 ± 0.050 on the held-out set of multi-gauss, "
        "while the lower lr 0.3 ends at R² 0.860 ± 0.010, a gap larger than the spread over "
        "seeds." in text
    )
    assert "The highest held-out R² on multi-gauss is lr 0.3, at R² 0.860 ± 0.010" in text
    assert (
        "Too low, measured: at lr 0.01 the loss changes by a median of only 1 % over 1,000 "
        "epochs and multi-gauss ends at R² 0.010 ± 0.010 on the held-out set" in text
    )
    assert "accuracy to reach" in text and "100 %" not in text and "same class" not in text


def test_a_lower_rate_within_the_seeds_spread_is_not_called_too_low():
    text = _lr_answer(
        {
            "0.01": _value_runs("0.01", 0.01, [0.2, 0.9, 0.5]),
            "0.3": _value_runs("0.3", 0.3, [0.80, 0.81, 0.82]),
        }
    )
    assert "No tested rate was shown to be too low on multi-gauss: lr 0.01 changes the loss" in text
    assert "below lr 0.3's 0.760 ± 0.010 but not by more than the spread over seeds." in text
    # the highest rate ends best and its loss still falls: what a longer run would show
    assert "No tested rate was too high on multi-gauss: the highest, lr 0.3, ends best" in text
    assert "Its loss is still falling after 1,000 epochs" in text


def test_a_sweep_of_regression_sets_only_shows_their_identity_output_and_names_no_boundary(
    tmp_path,
):
    # the base names no dataset (xor, a sigmoid, by default), but every run fits values
    text = """
title = "values only"
[base]
activation = "tanh"
hidden = [4]
epochs = 60
lr = 0.05
print_every = 0
[vary]
dataset = ["plane", "diabetes"]
lr = [0.01, 0.05]
seed = [0]
"""
    _, panels = _build(tmp_path, text)
    md = (tmp_path / "report.md").read_text()
    rows = dict(_table(_section(md, "## Setup"), "| setting | value |")[1])
    assert rows["output_activation"] == "identity"
    assert "tanh after each hidden layer, identity on the output, with biases" in md
    # diabetes has ten inputs: no map to draw, and it is not called a boundary
    assert (
        "No predicted-value map for diabetes: a map is drawn over two inputs, and its model "
        "has more inputs." in md
    )
    assert "decision boundar" not in md and "P(class" not in md and "classes (" not in md
    ((drawn, title),) = panels
    assert title == "values only: predicted values (seed 0)"
    assert [p.title.split("\n")[0] for p in drawn] == ["lr 0.01", "lr 0.05"]
