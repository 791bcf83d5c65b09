"""Tests that kill mutants of session 12's code which the rest of the suite let live:
the pools' signal handling (proplab.pools, sweep_workers.run_task), the report's CSV
boundary axes and the yes/no setting names. Each test names the slip it catches."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from proplab import pools, report, report_data, report_text, sweep_boundaries, sweep_workers
from proplab.report_data import ExperimentView
from proplab.runio import DEFERRED_SIGNALS
from proplab.sweep import parse_spec

needs_sigmask = pytest.mark.skipif(
    not hasattr(signal, "pthread_sigmask"), reason="no signal masks on this platform"
)
_IGNORE_CTRL_C = pools._ignore_ctrl_c  # the real initializer, before a test patches it


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C raising KeyboardInterrupt here, as in a terminal's foreground process (a
    test session started in the background, ``pytest &``, has SIGINT ignored, and forked
    workers would inherit that)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


# --- proplab.pools ------------------------------------------------------------------------


@needs_sigmask
def test_a_held_block_gives_back_the_mask_it_found():
    # slips: signal_mask() forgetting what is blocked, or the block's end unblocking every
    # stop signal (a SIGTERM the caller held back would then arrive in the middle of it)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGTERM])
    try:
        mask = pools.signal_mask()
        with pools.stop_signals_held(mask):
            inside = pools.signal_mask()
        after = pools.signal_mask()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
    assert {signal.SIGUSR1, signal.SIGTERM} <= mask and signal.SIGINT not in mask
    assert set(DEFERRED_SIGNALS) | {signal.SIGUSR1} <= inside
    assert after == mask  # SIGTERM and SIGUSR1 still blocked, SIGINT not


class _Process:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def kill(self) -> None:
        self.calls.append("private")


def test_kill_workers_uses_only_the_public_method_where_there_is_one():
    # slips: the public method never found, or both ways used (Python 3.14's pool keeps
    # its own books of the processes it ends)
    class Pool:
        def __init__(self) -> None:
            self.calls: list[str] = []
            self._processes = {1: _Process(self.calls)}

        def kill_workers(self) -> None:
            self.calls.append("public")

    pool = Pool()
    pools.kill_workers(pool)
    assert pool.calls == ["public"]
    older = SimpleNamespace(_processes={1: _Process([]), 2: _Process([])})  # Python < 3.14
    pools.kill_workers(older)
    assert [p.calls for p in older._processes.values()] == [["private"], ["private"]]


def _ctrl_c_then_ignore() -> None:
    """A redoable pool's worker initializer, after a terminal's Ctrl-C reached the worker
    just forked (before its handler was set)."""
    os.kill(os.getpid(), signal.SIGINT)
    _IGNORE_CTRL_C()


def _double(x: int) -> int:
    return 2 * x


@needs_sigmask
def test_a_ctrl_c_while_a_redoable_pools_workers_start_leaves_them_working(
    monkeypatch, ctrl_c_raises
):
    # slip: the workers forked without the stop signals held (at the caller's first submit,
    # or outside the held block): the parent's KeyboardInterrupt in the initializer broke
    # the pool ("Exception in initializer", BrokenProcessPool)
    monkeypatch.setattr(pools, "_ignore_ctrl_c", _ctrl_c_then_ignore)
    with pools.redoable_pool(2) as pool:
        assert list(pool.map(_double, range(6))) == [0, 2, 4, 6, 8, 10]


def _ctrl_c_then_name(path: Path) -> str:
    """read_history's stand-in: a terminal's Ctrl-C reaches the worker reading ``path``."""
    os.kill(os.getpid(), signal.SIGINT)
    return path.name


def test_histories_read_ahead_live_through_a_ctrl_c_in_their_workers(
    tmp_path, monkeypatch, ctrl_c_raises
):
    # slip: the histories read in a plain process pool, whose workers die of Ctrl-C
    monkeypatch.setattr(report_data, "read_history", _ctrl_c_then_name)
    cache = report_data.ViewCache(tmp_path)
    runs = [f"run{i}" for i in range(8)]
    try:
        cache.preload([SimpleNamespace(run=r) for r in runs], jobs=2)
    except KeyboardInterrupt:  # a worker's: it must not end the test session
        pytest.fail("a worker's Ctrl-C reached the report")
    assert cache._histories == {r: r for r in runs}


def _ctrl_c_then_figures(view, out, kinds) -> list[str]:
    """experiment_figures' stand-in: a terminal's Ctrl-C reaches the worker drawing."""
    os.kill(os.getpid(), signal.SIGINT)
    return [view.experiment.name]


def test_figures_drawn_in_processes_live_through_a_ctrl_c_in_their_workers(
    tmp_path, monkeypatch, ctrl_c_raises
):
    # slip: the figures drawn in a plain process pool, whose workers die of Ctrl-C
    monkeypatch.setattr(report, "experiment_figures", _ctrl_c_then_figures)
    monkeypatch.setattr(report, "_draws_figures", lambda view: True)
    views = [
        SimpleNamespace(experiment=SimpleNamespace(name=n), settings=["a"], datasets=["xor"])
        for n in ("lr", "hidden", "bias")
    ]
    logged: list[str] = []
    try:
        drawn = report._draw_in_processes(views, tmp_path, jobs=2, log=logged.append)
    except KeyboardInterrupt:
        pytest.fail("a worker's Ctrl-C reached the report")
    assert drawn == {"lr": ["lr"], "hidden": ["hidden"], "bias": ["bias"]}
    assert len(logged) == 3


# --- sweep_workers: a worker's Ctrl-C interrupts only a task ------------------------------


def test_ctrl_c_interrupts_a_task_and_is_ignored_between_tasks():
    # slips: the task flag never set, never reset, a local instead of the module's, or
    # the handler raising between tasks (or SystemExit in a task)
    seen: list[bool] = []

    def task(a: int, b: int) -> int:
        seen.append(sweep_workers._IN_TASK)
        return a + b

    assert sweep_workers.run_task(task, 2, 3) == 5
    assert seen == [True] and sweep_workers._IN_TASK is False
    try:  # a worker waiting for a task lives on
        sweep_workers._ctrl_c_in_a_task(signal.SIGINT, None)
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C between tasks raised KeyboardInterrupt")

    def interrupted() -> str:
        sweep_workers._ctrl_c_in_a_task(signal.SIGINT, None)  # what SIGINT calls
        return "went on"

    with pytest.raises(KeyboardInterrupt):
        sweep_workers.run_task(interrupted)
    assert sweep_workers._IN_TASK is False  # and waits for the next task again

    def failing() -> None:
        raise ValueError("a failed run")

    with pytest.raises(ValueError, match="a failed run"):
        sweep_workers.run_task(failing)
    assert sweep_workers._IN_TASK is False


def _ctrl_c_my_run() -> str:
    """A sweep task that gets a terminal's Ctrl-C while it trains."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)  # a KeyboardInterrupt ends this at once; only a slip sleeps on
    except KeyboardInterrupt:
        return "interrupted"
    return "slept through"


def _sigint_disposition() -> str:
    handler = signal.getsignal(signal.SIGINT)
    if handler is signal.SIG_IGN:
        return "ignored"
    return getattr(handler, "__name__", repr(handler))


def _in_a_sweep_pool(tasks: list) -> dict[int, object]:
    results: dict[int, object] = {}
    dead: list[int] = []
    sweep_workers.run_in_pool(
        tasks,
        workers=2,
        initializer=sweep_workers.init_worker,
        costs=[1.0] * len(tasks),
        on_result=results.__setitem__,
        on_dead=lambda i, exc: dead.append(i),
        on_progress=None,
        on_stop=None,
        poll_seconds=0.05,
    )
    assert dead == []
    return results


def test_a_sweep_workers_ctrl_c_interrupts_its_run(ctrl_c_raises):
    # slips: the tasks submitted without run_task, or the worker left with the sweep's
    # handler: a run must stop at a Ctrl-C (and save what it has), the worker live on
    results = _in_a_sweep_pool([(_ctrl_c_my_run, ()), (_sigint_disposition, ())])
    assert results == {0: "interrupted", 1: "_ctrl_c_in_a_task"}


def test_a_sweep_started_with_ctrl_c_ignored_leaves_it_ignored_in_its_workers():
    # slip: the workers' Ctrl-C handler set even where SIGINT is ignored (a sweep started
    # in the background, `cmd &`, must not be stopped by the terminal's Ctrl-C)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        results = _in_a_sweep_pool([(_sigint_disposition, ()), (_double, (4,))])
    finally:
        signal.signal(signal.SIGINT, before)
    assert results == {0: "ignored", 1: 8}


# --- the report's names ---------------------------------------------------------------------


def test_a_yes_no_setting_is_named_unless_that_setting_is_labelled():
    # slip: any labelled setting on the axis stopped the others being named
    spec = parse_spec(
        "[vary]\nbias = [{ bias = true, label = 'with biases' }, false]\n",
        Path("s.toml"),
        check_build=False,
    )
    view = ExperimentView(spec.experiments[0], [], 0, [], [])
    assert report_text.setting_name(view, "false") == "bias false"
    assert report_text.setting_name(view, "with biases") == "with biases"


def _panels(titles: list[str], names: tuple[str, str]) -> list[sweep_boundaries.BoundaryPanel]:
    x = np.random.default_rng(0).uniform(size=(30, 2))
    y = (x[:, 0] > x[:, 1]).astype(float)
    u, v, points = sweep_boundaries.boundary_grid(x, size=21)
    prob = (points[:, 0] > points[:, 1]).astype(float).reshape(v.size, u.size)
    return [sweep_boundaries.BoundaryPanel(t, u, v, prob, x, y, axis_names=names) for t in titles]


def test_a_shorter_row_below_leaves_the_horizontal_name_under_the_panel_above_it(tmp_path):
    # slip: the panel below looked up past the end of a shorter row (IndexError)
    names = ("height", "weight")
    rows = [_panels(["a", "b"], names), _panels(["c"], names)]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", ["p.csv", "q.csv"])
    axes = [a for a in fig.axes if a.axison and a.get_title() in ("a", "b", "c")]
    labels = {a.get_title(): (a.get_xlabel(), a.get_ylabel()) for a in axes}
    # "a" has "c" below it with the same names; "b" has nothing below; "c" is the lowest
    assert labels == {"a": ("", "weight"), "b": ("height", ""), "c": ("height", "weight")}
    assert (tmp_path / "b.png").is_file()


# --- the report's rerun command and Time line, from sweep_log.csv -------------------------

LOG_HEADER = "finished_at,seconds,jobs,trained,reused,failed,interrupted,title,sweep_sha256,file\n"


def _log_row(title: str, jobs: str, seconds: str = "10") -> str:
    return f"2026-01-01T00:00:00+0000,{seconds},{jobs},2,0,0,False,{title},abc,/x/s.toml\n"


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> Path:
    import io

    from proplab.sweep import run_sweep

    text = 'title = "Tiny"\n[base]\nepochs = 5\n[vary]\ndataset = ["xor"]\nseed = [0, 1]\n'
    out = tmp_path_factory.mktemp("tiny") / "sweep"
    assert run_sweep(parse_spec(text, Path("s.toml")), out, stream=io.StringIO()).exit_code == 0
    return out


@pytest.mark.parametrize(
    ("rows", "jobs", "calls"),
    [
        (None, 2, None),  # no log (a sweep from before it): the default
        (
            [("Tiny", "3"), ("Tiny", "1")],
            1,
            "20 s over 2 calls of `proplab sweep` (the last: --jobs 1",
        ),
        (
            [("Tiny", "3"), ("Other", "4")],
            3,
            "10 s over 1 call of `proplab sweep` (the last: --jobs 3",
        ),
        ([("Tiny", "3"), ("", "5")], 5, "20 s over 2 calls of `proplab sweep` (the last: --jobs 5"),
        ([("Tiny", "")], 2, None),  # a blank --jobs: the default
    ],
)
def test_the_rerun_command_has_the_jobs_of_this_sweeps_last_call(tiny_sweep, rows, jobs, calls):
    # slips: the first call's --jobs, another sweep's call (after `--replace`), a row from
    # before the log named its sweep left out, a wrong default without a log or a value
    log = tiny_sweep / "sweep_log.csv"
    log.unlink(missing_ok=True)
    if rows is not None:
        log.write_text(LOG_HEADER + "".join(_log_row(t, j) for t, j in rows))
    report.build_report(tiny_sweep, log=lambda m: None, jobs=1)
    md = (tiny_sweep / "report.md").read_text()
    assert f"--out {tiny_sweep} --jobs {jobs}\n" in md
    if calls is not None:
        assert f"Wall time of the sweep: {calls}," in md
    elif rows is None:
        assert "Wall time of the sweep" not in md


def test_the_epochs_note_names_the_handout_when_any_of_its_datasets_is_there():
    # slip: the handout named only when every dataset is the handout's (a sweep over XOR
    # and the spiral trains XOR as the handout does)
    import dataclasses

    from test_report import _runs

    from proplab.aggregate import Group
    from proplab.config import RunConfig
    from proplab.report_data import GroupView
    from proplab.report_setup import _epochs_note

    xor = _runs("1", 1.0, [1.0] * 2, first=700)
    spiral = [
        dataclasses.replace(
            r, record=dataclasses.replace(r.record, dataset="spiral", run=f"s{r.record.run}")
        )
        for r in xor
    ]
    exp = parse_spec("[vary]\nlr = [1.0]\n", Path("s.toml"), check_build=False).experiments[0]
    groups = [
        GroupView(Group("lr", "1", ds, [r.record for r in runs]), runs)
        for ds, runs in (("spiral", spiral), ("xor", xor))
    ]
    view = ExperimentView(exp, groups, 0, ["1"], ["spiral", "xor"])
    note = _epochs_note([view], RunConfig(epochs=1000))
    assert note.startswith(
        "**Epochs**: 1,000 per run (the handout trains up to 100,000). Of the 2 "
    )


def test_a_csv_column_with_a_dollar_names_its_boundary_axis_as_text(tmp_path):
    # slip: the column names passed as they are: "$" starts mathtext in matplotlib, and
    # "income $" would be drawn as broken math (or fail to draw)
    import io

    from proplab.aggregate import write_tables
    from proplab.report_data import ViewCache, experiment_views
    from proplab.report_figures import _boundary_rows
    from proplab.sweep import run_sweep

    rng = np.random.default_rng(1)
    points = rng.normal(size=(30, 2))
    csv = tmp_path / "pay.csv"
    csv.write_text(
        "age,income $,rich\n"
        + "".join(f"{30 + 9 * a:.1f},{50 + 20 * b:.1f},{int(b > 0)}\n" for a, b in points)
    )
    text = f'[base]\ndataset = "{csv}"\nlabel = "rich"\nepochs = 5\nstandardize = true\n'
    text += "[vary]\nlr = [0.5]\nseed = [0]\n"
    spec = parse_spec(text, Path("s.toml"))
    out = tmp_path / "out"
    assert run_sweep(spec, out, stream=io.StringIO()).exit_code == 0
    views = experiment_views(spec, write_tables(spec, out), ViewCache(out))
    (row,), labels, _ = _boundary_rows(views[0], single=False)
    assert labels == ["pay.csv"]
    assert [p.axis_names for p in row] == [("age", r"income \$")]


def test_panels_side_by_side_with_other_columns_each_name_their_vertical_input(tmp_path):
    # slip: the vertical input named left of a row's first panel only; two CSVs side by
    # side (one row of datasets) have different columns, each named beside its panel
    rows = [_panels(["a"], ("height", "weight")) + _panels(["b"], ("age", "income"))]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", [""])
    axes = [a for a in fig.axes if a.axison and a.get_title() in ("a", "b")]
    labels = {a.get_title(): (a.get_xlabel(), a.get_ylabel()) for a in axes}
    assert labels == {"a": ("height", "weight"), "b": ("age", "income")}


def test_panels_of_other_columns_keep_their_own_tick_values(tmp_path):
    # two CSVs side by side on equal grids: one shared scale would hide the second
    # panel's tick values, though its vertical axis is another column ("income")
    rows = [_panels(["a"], ("height", "weight")) + _panels(["b"], ("age", "income"))]
    fig = sweep_boundaries.decision_boundaries(rows, tmp_path / "b.png", "T", [""])
    fig.canvas.draw()
    axes = {a.get_title(): a for a in fig.axes if a.axison and a.get_title() in ("a", "b")}
    for title, ax in axes.items():
        shown = [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
        assert shown, f"panel {title} draws no tick values on its vertical axis"
