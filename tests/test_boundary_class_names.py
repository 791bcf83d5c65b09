"""A decision boundary maps the probability of class 1, named as the run names it: a CSV
run labelled no/yes maps P(yes) (title, colour bar, the report's captions); the lab's
datasets have no names and keep P(class 1)."""

from __future__ import annotations

import io
import json
import types
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from proplab import plots, report, sweep_boundaries
from proplab.cli import main
from proplab.report_doc import Figure
from proplab.run_figures import BOUNDARY_DURING_TRAINING, LEARNING_CURVE
from proplab.sweep_boundaries import BoundaryPanel, panels_probability, probability_label


def _yes_no_csv(path: Path, n: int = 60) -> Path:
    """``height,weight,answer``: 'yes' above a line, 'no' below it."""
    rng = np.random.default_rng(20)
    x = rng.normal(size=(n, 2))
    rows = "".join(f"{a!r},{b!r},{'yes' if a + b > 0 else 'no'}\n" for a, b in x.tolist())
    path.write_text("height,weight,answer\n" + rows, encoding="utf-8")
    return path


def _bar_label(fig) -> str:
    (bar,) = [ax._colorbar for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]
    return bar.ax.get_ylabel()


def _panel(classes: object = None, title: str = "p", y: np.ndarray | None = None) -> BoundaryPanel:
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    u, v, points = sweep_boundaries.boundary_grid(x, size=11)
    prob = (points[:, 0] > 0.5).astype(float).reshape(v.size, u.size)
    y = np.array([0.0, 1.0]) if y is None else y
    return BoundaryPanel(title, u, v, prob, x, y, classes=classes)


def test_the_probability_is_named_by_the_runs_second_class() -> None:
    assert probability_label(["no", "yes"]) == "P(yes)"
    assert probability_label([2, 9]) == "P(class 9)"  # a number is no name: the class 9
    assert probability_label(None) == "P(class 1)"  # the lab's datasets
    assert probability_label(["a", "b", "c"]) == "P(class 1)"  # no single class 1
    # one figure of several runs: their name if they agree, else the lab's words; a
    # regression's panels (values, no probability) have no say
    same = [_panel(["no", "yes"]), _panel(["no", "yes"])]
    assert panels_probability(same) == "P(yes)"
    assert panels_probability([_panel(["no", "yes"]), _panel(["cat", "dog"])]) == "P(class 1)"
    values = _panel(None, y=np.array([-3.0, 2.5]))
    assert values.regression and panels_probability([*same, values]) == "P(yes)"


@pytest.mark.slow
def test_a_csv_runs_boundary_during_training_says_p_of_its_class(
    tmp_path: Path, monkeypatch
) -> None:
    drawn = []
    original = sweep_boundaries.decision_boundaries

    def keep(*args, **kwargs):
        drawn.append(original(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(sweep_boundaries, "decision_boundaries", keep)
    data, out = _yes_no_csv(tmp_path / "yn.csv"), tmp_path / "run"
    argv = ["train", "--dataset", str(data), "--epochs", "40", "--out", str(out), "--quiet",
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads((out / "summary.json").read_text())["classes"] == ["no", "yes"]
    assert (out / BOUNDARY_DURING_TRAINING).is_file()
    (fig,) = drawn
    assert fig.get_suptitle().startswith(
        "yn: the decision boundary as it forms (P(yes); black line: 0.5)\n"
    )
    assert _bar_label(fig) == "P(yes)"


def test_a_long_class_name_is_cut_short_on_the_colour_bar_and_stays_inside(
    tmp_path: Path,
) -> None:
    name = "zeta, a rather long class name for one colour bar"
    fig = sweep_boundaries.decision_boundaries([[_panel(["alpha", name])]], tmp_path / "b.png")
    label = _bar_label(fig)
    assert label == "P(" + name[: sweep_boundaries.BAR_LABEL_CHARS - 4] + "…)"
    assert len(label) == sweep_boundaries.BAR_LABEL_CHARS
    fig.set_dpi(plots.DPI)
    renderer = FigureCanvasAgg(fig).get_renderer()
    (bar,) = [ax._colorbar for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]
    box = bar.ax.yaxis.label.get_window_extent(renderer)
    height = fig.get_size_inches()[1] * fig.dpi
    assert box.y0 >= 0 and box.y1 <= height  # a one-row figure, its shortest


def test_the_reports_lab_caption_names_the_class(tmp_path: Path) -> None:
    # a lab run folder out/<dataset>/ of a CSV labelled no/yes, with its figures
    run = tmp_path / "out" / "yn.csv"
    run.mkdir(parents=True)
    summary = {"loss": 0.1, "accuracy": 0.9, "seed": 0, "epochs_run": 40}
    (run / "summary.json").write_text(json.dumps(summary | {"classes": ["no", "yes"]}))
    for name in (LEARNING_CURVE, BOUNDARY_DURING_TRAINING):
        (run / name).write_bytes(b"png")
    baseline = types.SimpleNamespace(
        experiment=types.SimpleNamespace(section="results"),
        settings=["base"],
        groups=["one"],
        datasets=["yn.csv"],
    )
    (caption,) = [
        b.caption
        for b in report._lab_runs(tmp_path / "out", [baseline])
        if isinstance(b, Figure) and b.path.endswith(BOUNDARY_DURING_TRAINING)
    ]
    assert caption.startswith("yn.csv: the decision boundary as it forms, P(yes) from the start")
    (run / "summary.json").write_text(json.dumps(summary))  # a dataset without names
    (caption,) = [
        b.caption
        for b in report._lab_runs(tmp_path / "out", [baseline])
        if isinstance(b, Figure) and b.path.endswith(BOUNDARY_DURING_TRAINING)
    ]
    assert "as it forms, P(class 1) from the start" in caption


@pytest.mark.slow
def test_a_csv_sweeps_report_names_the_class_in_its_boundary_figure(tmp_path: Path) -> None:
    from proplab.sweep import run_sweep
    from proplab.sweep_spec import parse_spec

    data = _yes_no_csv(tmp_path / "yn.csv")
    spec = f"""
title = "csv classes"
[base]
dataset = "{data.as_posix()}"
activation = "tanh"
hidden = [4]
epochs = 30
print_every = 0
[vary]
lr = [0.3]
"""
    out = tmp_path / "out"
    assert run_sweep(parse_spec(spec, Path("s.toml")), out, stream=io.StringIO()).exit_code == 0
    drawn = []
    original = sweep_boundaries.decision_boundaries

    def keep(*args, **kwargs):
        drawn.append(original(*args, **kwargs))
        return drawn[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep_boundaries, "decision_boundaries", keep)
        report.build_report(out, log=lambda m: None)
    (fig,) = drawn
    assert _bar_label(fig) == "P(yes)"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "csv classes: the trained model's P(yes) over the inputs (seed 0)" in md
    assert "P(class 1)" not in md


def test_a_class_name_with_dollar_signs_is_text_in_every_figure(tmp_path, capsys) -> None:
    # review20: matplotlib read 'z $\foo$' as mathtext: the boundary and comparison figures
    # were not drawn ("Unknown symbol: \foo"), and '$5-$9' lost its dollars
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(40, 2))
    names = np.where(x[:, 0] > x[:, 1], "a", "z $\\foo$ $5-$9")
    rows = "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(x.tolist(), names, strict=True))
    data = tmp_path / "dollars.csv"
    data.write_text("p,q,kind\n" + rows, encoding="utf-8")
    run = tmp_path / "run"
    code = main(["train", "--dataset", str(data), "--epochs", "300", "--no-progress",
                 "--quiet", "--out", str(run)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0 and "not drawn" not in err, err
    for figure in ("decision_boundary.png", "comparison.png", BOUNDARY_DURING_TRAINING):
        assert (run / figure).stat().st_size > 10_000, figure
    # the colour bar says the name as written, dollars and backslash included
    panel = _panel(classes=["a", "z $\\foo$ $5-$9"])
    fig = sweep_boundaries.decision_boundaries([[panel]], tmp_path / "b.png")
    assert _bar_label(fig) == r"P(z \$\foo\$ \$5-\$9)"  # escaped: drawn as written
    FigureCanvasAgg(fig).draw()  # as mathtext, this raised
