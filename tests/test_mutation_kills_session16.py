"""Tests that kill mutants of session 16's code which the rest of the suite let live.

A mutation testing pass (hand-made slips in the report's new rules and sentences, the
held-out diamonds, the sweep's last line and benchmarks/published.py): each test names
the slip it catches, fails on it and passes on the real code.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_benchmarks import BENCH, README
from test_report import _report_of
from test_sweep import SIMPLE, FakeTrainer, write

from proplab import report_figures, sweep_boundaries, sweep_workers

# ---------------------------------------------------------------- held-out diamonds


def _markers(ax) -> list[tuple[str, int]]:
    """``(marker, number of points)`` of each scatter on ``ax``, in drawing order."""
    from matplotlib.collections import PathCollection
    from matplotlib.markers import MarkerStyle

    def name(path) -> str:
        for m in ("o", "D"):
            style = MarkerStyle(m)
            ref = style.get_path().transformed(style.get_transform()).vertices
            if path.vertices.shape == ref.shape and np.allclose(path.vertices, ref):
                return m
        return "?"

    return [
        (name(c.get_paths()[0]), len(c.get_offsets()))
        for c in ax.collections
        if isinstance(c, PathCollection)
    ]


@pytest.mark.parametrize("values", [False, True])
def test_held_out_points_are_drawn_as_diamonds_and_training_points_as_dots(tmp_path, values):
    # mutants: the markers swapped (diamonds for the training points), or every point
    # drawn as a dot whatever its marker; a class panel and a value (regression) panel
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (12, 2))
    y = (x[:, :1] > 0).astype(float) if not values else x[:, :1] * 0.5
    held = np.r_[np.zeros(9, dtype=bool), np.ones(3, dtype=bool)]
    u, w, points = sweep_boundaries.boundary_grid(x)
    grid = (points[:, 0] > 0).astype(float).reshape(w.size, u.size)
    panel = sweep_boundaries.BoundaryPanel("p", u, w, grid, x, y, values=values, held_out=held)
    fig = sweep_boundaries.decision_boundaries([[panel]], tmp_path / "b.png")
    shown = _markers(fig.axes[0])
    if values:  # one colour map over the targets: dots, then diamonds
        assert shown == [("o", 9), ("D", 3)]
    else:  # each class in its colour: the training classes, then the held-out ones
        assert [m for m, _ in shown] == ["o", "o", "D", "D"]
        assert sum(n for m, n in shown if m == "D") == 3


_HELD = (
    '[base]\nepochs = 10\ndataset = "moons"\nn = 40\n\n'
    '[[experiment]]\nname = "held"\ntitle = "Held"\nbase.test_fraction = 0.25\n'
    "vary.lr = [1.0, 0.5]\n\n"
    '[[experiment]]\nname = "all"\ntitle = "All"\nvary.lr = [1.0, 0.5]\n'
)


def test_a_reports_boundary_panels_mark_held_out_points_and_the_caption_says_so(
    tmp_path, monkeypatch
):
    # mutants: the report's panels built without their held-out mask (every point a dot),
    # and the "diamonds" caption on an experiment that held nothing out
    drawn: list[list[np.ndarray | None]] = []
    draw = sweep_boundaries.decision_boundaries

    def record(rows, path, **kw):
        drawn.append([p.held_out for row in rows for p in row if p is not None])
        return draw(rows, path, **kw)

    monkeypatch.setattr(report_figures.sweep_boundaries, "decision_boundaries", record)
    md = _report_of(tmp_path, _HELD)
    diamonds = "; diamonds: the points held out as the test set"
    held_caption = next(ln for ln in md.splitlines() if ln.startswith("*Held: the trained model"))
    all_caption = next(ln for ln in md.splitlines() if ln.startswith("*All: the trained model"))
    assert held_caption.endswith(f"{diamonds}*")
    assert diamonds not in all_caption
    # one figure per experiment, two panels each: the held experiment's mark their 10
    # held-out points of 40, the other's mark none
    assert len(drawn) == 2
    marked = [[None if m is None else (int(m.sum()), m.size) for m in fig] for fig in drawn]
    assert sorted(marked, key=str) == [[(10, 40), (10, 40)], [None, None]]


# ---------------------------------------------------------------- the sweep's last line


def test_the_sweeps_last_line_quotes_a_folder_with_a_space(tmp_path, monkeypatch, capsys):
    # mutant: the folder printed bare, so the command printed would not run as given
    from proplab.cli import main

    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    out = tmp_path / "my runs"
    assert main(["sweep", str(write(tmp_path, SIMPLE)), "--out", str(out), "--stack", "off"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"the report: proplab report '{out}' (report.md and report.html)"


# ---------------------------------------------------------------- published.py


def _results() -> str:
    return (BENCH / "RESULTS.md").read_text(encoding="utf-8")


def test_the_digits_claim_quotes_the_wall_time_ratio_not_the_cpu_one():
    # mutant: the claim read the CPU part of the "wall (CPU)" cell (equal in the
    # committed RESULTS.md, 1.92x (1.92x), so only a differing CPU ratio shows it)
    import published

    results = _results()
    cell = "| 0.249 | 0.249 | 1.92x (1.92x) |"
    assert results.count(cell) == 1
    edited = results.replace(cell, "| 0.249 | 0.260 | 1.92x (2.02x) |")
    claim = published.digits_claim(published.sections(edited))
    assert claim.startswith("<!-- bench:digits-claim -->1.92x faster to fit than")
    block = published.speed_block(published.sections(edited))
    assert "**1.92x faster** (2.02x in CPU time)" in block


def test_the_speed_block_says_when_results_differ_and_src_was_modified():
    # mutants: "identical results" whatever the suite's note says; a run of modified
    # sources (RESULTS.md: "src/ has uncommitted changes") not said in the sources line
    import published

    results = _results()
    same = "Results identical in every sweep (final loss and accuracy of every run): True."
    assert results.count(same) == 1 and results.count("at commit 2512b42") == 1
    edited = results.replace(same, same.replace("True", "False")).replace(
        "at commit 2512b42", "at commit 2512b42 (src/ has uncommitted changes)"
    )
    block = published.speed_block(published.sections(edited))
    suite = next(ln for ln in block.splitlines() if ln.startswith("| the lab suite"))
    assert suite.endswith(", **results differ** |")
    assert "digits: published alone at commit 2512b42 (src/ modified), " in block
    plain = published.speed_block(published.sections(results))
    assert "identical results |" in plain and "(src/ modified)" not in plain


def test_a_row_matched_twice_is_refused_not_taken_first():
    # mutant: row() took the first of several matching rows (a table with a duplicate
    # case would be quoted from whichever came first)
    import published

    rows = [{"case": "a", "t": "1"}, {"case": "a", "t": "2"}, {"case": "b", "t": "3"}]
    assert published.row(rows, case="b") == {"case": "b", "t": "3"}
    with pytest.raises(KeyError, match=r"2 rows match \{'case': 'a'\} \(expected 1\)"):
        published.row(rows, case="a")


def test_an_up_to_date_readme_is_not_rewritten(tmp_path, monkeypatch, capsys):
    # mutant: update_readme rewrote the file and said "rewritten" when nothing changed
    import published

    copy = tmp_path / "README.md"
    copy.write_text(README.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(published, "README", copy)
    assert published.update_readme(_results(), copy) is False
    assert published.main([]) == 0
    assert capsys.readouterr().out.strip() == "README.md already up to date"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
