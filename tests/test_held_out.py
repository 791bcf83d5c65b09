"""A held-out test set (test_fraction > 0): every table, figure and title says which accuracy
it gives, and the test accuracy reaches the sweep's tables and report.

Found by an audit of the reports: a sweep with 20 % held out said so in its setup, then
showed only the training accuracy, called "accuracy", everywhere; the test accuracy was
in each run's summary.json and nowhere else.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from proplab import experiments, plots, report, sweep_boundaries, sweep_dots
from proplab.config import RunConfig
from proplab.run_figures import lab_figures
from proplab.runio import read_csv
from proplab.sweep import RUNS_DIR, parse_spec, run_sweep

SPEC = """
[base]
epochs = 300
n = 80
hidden = 4
test_fraction = 0.25
print_every = 0
[vary]
dataset = ["moons", "circle"]
lr = [1.0, 0.1]
seed = [0, 1]
"""


def _report_with_spies(out: Path, spec_text: str) -> tuple[list, list]:
    """Sweep ``spec_text`` into ``out`` and build its report, recording what the accuracy
    figure and the boundary panels were drawn from: ``(dots, panels)``."""
    assert (
        run_sweep(parse_spec(spec_text, Path("s.toml")), out, stream=io.StringIO()).exit_code == 0
    )
    dots, panels = [], []
    original_dots, original_boundaries = (
        sweep_dots.accuracy_dots,
        sweep_boundaries.decision_boundaries,
    )

    def spy_dots(sets, path, title="", **more):
        dots.append((list(sets), title))
        return original_dots(sets, path, title=title, **more)

    def spy_boundaries(rows, path, title="", row_labels=()):
        panels.extend(p for row in rows for p in row if p is not None)
        return original_boundaries(rows, path, title=title, row_labels=row_labels)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep_dots, "accuracy_dots", spy_dots)
        mp.setattr(sweep_boundaries, "decision_boundaries", spy_boundaries)
        report.build_report(out, log=lambda m: None, jobs=1)
    return dots, panels


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, list, list]:
    """The sweep above, its report built with the figure functions spied on."""
    out = tmp_path_factory.mktemp("held_out")
    dots, panels = _report_with_spies(out, SPEC)
    return out, dots, panels


def _summaries(out: Path) -> dict[str, dict]:
    return {
        d.name: json.loads((d / "summary.json").read_text())
        for d in sorted((out / RUNS_DIR).iterdir())
    }


def test_results_and_aggregate_carry_the_test_accuracy(swept):
    out, _, _ = swept
    summaries = _summaries(out)
    rows = read_csv(out / "results.csv")
    assert len(rows) == 8 and list(rows[0])[-2:] == ["test_loss", "test_accuracy"]
    for row in rows:
        s = summaries[row["run"]]
        assert s["n_test"] == 20 and s["n_samples"] == 60
        assert float(row["final_accuracy"]) == s["accuracy"]  # the training data's
        assert float(row["test_accuracy"]) == s["test_accuracy"]
        assert float(row["test_loss"]) == s["test_loss"]
    # some run scores differently on the two parts, or the check above proves little
    assert any(s["accuracy"] != s["test_accuracy"] for s in summaries.values())
    agg = read_csv(out / "aggregate.csv")
    assert len(agg) == 4
    for a in agg:
        mine = [
            float(r["test_accuracy"])
            for r in rows
            if (r["setting"], r["dataset"]) == (a["setting"], a["dataset"])
        ]
        assert len(mine) == 2
        assert float(a["test_accuracy_mean"]) == pytest.approx(sum(mine) / 2, abs=1e-15)
        assert float(a["test_accuracy_min"]) == min(mine)
        assert float(a["test_accuracy_max"]) == max(mine)


def test_the_report_table_and_text_give_both_accuracies(swept):
    out, _, _ = swept
    md = (out / "report.md").read_text()
    lines = md.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| lr | moons"))
    header = lines[at]
    assert header == (
        "| lr | moons train accuracy | moons test accuracy | moons final loss | circle train "
        "accuracy | circle test accuracy | circle final loss |"
    )
    assert "final train and test accuracy and training loss, mean ± std over 2 seeds" in md
    assert "On moons (training set), " in md and "On circle (training set), " in md
    assert md.count("held-out test set") >= 2
    # the table's test cells are the runs' test accuracies, mean ± std over the seeds
    summaries = _summaries(out)
    row = lines[at + 2].split(" | ")  # under the header and its alignment row: lr 1
    moons = [
        s["test_accuracy"] for s in summaries.values() if s["lr"] == 1 and s["dataset"] == "moons"
    ]
    mean = 100 * sum(moons) / 2
    assert row[2].startswith(f"{mean:.1f} ± ")


def test_the_figures_show_the_test_accuracy_and_say_so(swept):
    out, dots, panels = swept
    summaries = _summaries(out)
    ((sets, title),) = dots
    assert title.endswith("final test accuracy")
    for dot in sets:
        expected = sorted(
            s["test_accuracy"]
            for s in summaries.values()
            if f"{s['lr']:g}" == dot.label and s["dataset"] == dot.dataset.lower()
        )
        assert sorted(dot.accuracies) == expected and len(expected) == 2
    assert len(panels) == 4
    for p in panels:
        assert "train " in p.title and ", test " in p.title
    (seed0,) = [
        s for s in summaries.values() if s["lr"] == 1 and s["dataset"] == "moons" and s["seed"] == 0
    ]
    assert any(
        p.title.endswith(
            f"train {100 * seed0['accuracy']:.1f} %, test {100 * seed0['test_accuracy']:.1f} %"
        )
        for p in panels
    )


def test_a_single_run_with_a_test_set_titles_its_figures_with_both(tmp_path, monkeypatch):
    calls = {}
    for name in ("comparison_figure", "learning_curve"):
        original = getattr(plots, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls[_name] = kwargs
            return _original(*args, **kwargs)

        monkeypatch.setattr(plots, name, spy)
    cfg = RunConfig(dataset="moons", n=80, hidden=4, epochs=200, test_fraction=0.25, print_every=0)
    summary = experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    train, test = 100 * summary["accuracy"], 100 * summary["test_accuracy"]
    assert calls["comparison_figure"]["title"].endswith(
        f"accuracy {train:.4g}% (training data; test {test:.4g}%)"
    )
    assert calls["learning_curve"]["accuracy_label"] == "training accuracy"
    # without a test set, the lab's titles as before
    calls.clear()
    cfg = RunConfig(dataset="xor", epochs=50, print_every=0)
    summary = experiments.run_one(cfg, tmp_path / "xor", quiet=True, progress=False)
    assert calls["comparison_figure"]["title"].endswith(
        f"accuracy {100 * summary['accuracy']:.4g}%"
    )
    assert calls["learning_curve"]["accuracy_label"] == "accuracy"


def test_a_test_fraction_axis_mixes_runs_with_and_without_a_test_set(tmp_path):
    # found in review: the runs without a test set showed "test nan %" in their panels and
    # were drawn as diverged in the accuracy figure, and the setup said nothing was held out
    text = "[base]\nepochs = 200\nn = 60\nhidden = 4\nprint_every = 0\ndataset = 'moons'\n"
    text += "[vary]\ntest_fraction = [0.0, 0.25]\nseed = [0, 1]\n"
    dots, panels = _report_with_spies(tmp_path, text)
    summaries = _summaries(tmp_path)
    ((sets, title),) = dots
    assert title.endswith("final test accuracy (training accuracy where nothing was held out)")
    by_label = {d.label: sorted(d.accuracies) for d in sets}
    none = sorted(s["accuracy"] for s in summaries.values() if s.get("n_test") is None)
    held = sorted(s["test_accuracy"] for s in summaries.values() if s.get("n_test"))
    assert by_label == {"0": none, "0.25": held} and len(none) == len(held) == 2
    titles = {p.title.split("\n")[0]: p.title.split("\n")[1] for p in panels}
    assert "test" not in titles["test_fraction 0"] and "nan" not in titles["test_fraction 0"]
    assert ", test " in titles["test_fraction 0.25"]
    md = (tmp_path / "report.md").read_text()
    assert (
        "25 % of each dataset held out as its test set (by setting; with none, training data "
        "= test data)" in md
    )
    assert (
        "On moons, the held-out test set of test_fraction 0.25 (the only setting scored on one) is scored at "
        in md
    )


def test_a_single_held_out_sample_is_a_test_set_and_a_diverged_seed_has_no_test_accuracy():
    # mutation testing: has_test_set counts any held-out sample; Group.test_accuracy leaves
    # out the runs that diverged, as Group.accuracy does, even with a number recorded
    from proplab.aggregate import Group, RunRecord, has_test_set

    def record(seed: int, n_test: int, test_acc: float, stop: str = "completed") -> RunRecord:
        cfg = RunConfig(dataset="xor", seed=seed)
        return RunRecord(
            "e", "s", "xor", seed, f"r{seed}", cfg, 0.1, 1.0, 10, stop, 1.0,
            test_accuracy=test_acc, n_test=n_test,
        )  # fmt: skip

    assert has_test_set([record(0, 0, math.nan), record(1, 1, 1.0)])
    assert not has_test_set([record(0, 0, math.nan), record(1, 0, math.nan)])
    g = Group("e", "s", "xor", [record(0, 20, 0.9), record(1, 20, 0.5, stop="diverged")])
    t = g.test_accuracy
    assert (t.n, t.mean, t.min, t.max) == (1, 0.9, 0.9, 0.9)


def test_boundary_panels_of_two_axes_and_of_a_diverged_held_out_run(tmp_path, monkeypatch):
    # mutation testing: a panel title keeps the plain label of a setting of two axes (no
    # brackets), and a diverged run with a test set reads "diverged" (no "test nan %")
    text = "[base]\nepochs = 30\nn = 40\nhidden = 4\nprint_every = 0\ndataset = 'moons'\n"
    text += "test_fraction = 0.25\nactivation = 'identity'\noutput_activation = 'identity'\n"
    text += "[vary]\nlr = [1000.0, 0.1]\nbias = [true, false]\n"
    assert (
        run_sweep(parse_spec(text, Path("s.toml")), tmp_path, stream=io.StringIO()).exit_code == 0
    )
    panels = []
    original = sweep_boundaries.decision_boundaries

    def spy(rows, path, title="", row_labels=()):
        panels.extend(p for row in rows for p in row if p is not None)
        return original(rows, path, title=title, row_labels=row_labels)

    monkeypatch.setattr(sweep_boundaries, "decision_boundaries", spy)
    report.build_report(tmp_path, log=lambda m: None, jobs=1)
    titles = {p.title.split("\n")[0]: p.title.split("\n")[1] for p in panels}
    assert set(titles) == {
        f"lr={lr}, bias={b}" for lr in ("1000", "0.1") for b in ("true", "false")
    }
    assert titles["lr=1000, bias=true"] == "diverged"
    assert (
        titles["lr=0.1, bias=true"].startswith("train ")
        and ", test " in titles["lr=0.1, bias=true"]
    )


def test_a_held_out_run_without_a_test_accuracy_titles_its_figure_with_the_training_one(
    tmp_path, monkeypatch
):
    # mutation testing: test_acc None (a NaN test loss) leaves the title as without a test set
    titles = []
    original = plots.comparison_figure

    def spy(*args, title="", **kwargs):
        titles.append(title)
        return original(*args, title=title, **kwargs)

    monkeypatch.setattr(plots, "comparison_figure", spy)
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    history = {"epoch": [1, 2], "loss": [0.3, 0.2], "accuracy": [0.5, 0.75]}
    cfg = RunConfig(dataset="xor", test_fraction=0.25)
    lab_figures(tmp_path, cfg, history, x, y, y * 0.8, 0.75, None)
    assert titles[0].endswith(", accuracy 75%")
    lab_figures(tmp_path, cfg, history, x, y, y * 0.8, 0.75, 0.5)
    assert titles[1].endswith(", accuracy 75% (training data; test 50%)")


def test_a_held_out_runs_boundary_panels_and_loss_curve_say_they_are_training_numbers(
    tmp_path, monkeypatch
):
    # audit15c L3: the comparison's title and the accuracy axis said "training", but the
    # boundary panels' percentages and the loss legend did not, though they are too
    curves, rows = [], []
    learning_curve, boundaries = plots.learning_curve, sweep_boundaries.decision_boundaries
    monkeypatch.setattr(
        plots, "learning_curve", lambda *a, **k: curves.append(learning_curve(*a, **k))
    )
    monkeypatch.setattr(
        sweep_boundaries,
        "decision_boundaries",
        lambda panels, *a, **k: (rows.extend(panels), boundaries(panels, *a, **k))[1],
    )
    cfg = RunConfig(dataset="moons", n=80, hidden=4, epochs=200, test_fraction=0.25, print_every=0)
    summary = experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    ((*_, last),) = rows
    train, test = 100 * summary["accuracy"], 100 * summary["test_accuracy"]
    assert train != test  # the panel's number is the training data's, not the test's
    assert last.title.split("\n")[1] == f"training accuracy {train:.1f} %"
    assert all(p.title.split("\n")[1].startswith("training accuracy ") for p in rows[0])
    (figure,) = curves
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["training loss", "training accuracy"]
    assert figure.axes[0].get_ylabel() == "training loss (log scale)"
    # without a test set: "loss", and the panels' bare percentages, as before
    curves.clear(), rows.clear()
    cfg = RunConfig(dataset="xor", epochs=50, print_every=0)
    summary = experiments.run_one(cfg, tmp_path / "xor", quiet=True, progress=False)
    assert [t.get_text() for t in curves[0].legends[0].get_texts()] == ["loss", "accuracy"]
    assert rows[0][-1].title.split("\n")[1] == f"{100 * summary['accuracy']:.1f} %"
