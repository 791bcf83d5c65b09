"""proplab's process pools start their workers by fork on Linux, whatever the default.

Python 3.14 made forkserver Linux's default start method. The pools' signal handling
(workers forked with the stop signals held, see tests/test_signals.py) and every test
that patches something before a sweep with workers assume fork: a forked worker has
what its parent had, a forkserver's or a spawned one only what it imports. On macOS and
Windows the pools spawn their workers: the last test runs a sweep and its report that way.
"""

from __future__ import annotations

import multiprocessing
import sys

import pytest

from proplab import pools, sweep_workers

on_linux = pytest.mark.skipif(sys.platform != "linux", reason="fork is asked for on Linux only")


@pytest.fixture
def spawn_by_default():
    """The default start method set to spawn (3.14's forkserver is spawn-like here: the
    worker starts from a fresh interpreter), restored afterwards."""
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("spawn", force=True)
    try:
        yield
    finally:
        multiprocessing.set_start_method(previous, force=True)


def _parent_only() -> str | None:
    """In a worker: what the test set on proplab.pools after import (None if not there)."""
    return getattr(pools, "_SET_BY_THE_TEST", None)


@on_linux
def test_a_redoable_pool_forks_its_workers_whatever_the_default(spawn_by_default, monkeypatch):
    monkeypatch.setattr(pools, "_SET_BY_THE_TEST", "the parent's", raising=False)
    assert multiprocessing.get_start_method() == "spawn"
    with pools.redoable_pool(1) as pool:
        assert pool.submit(_parent_only).result(timeout=60) == "the parent's"


@on_linux
def test_the_sweep_pool_forks_its_workers_whatever_the_default(spawn_by_default, monkeypatch):
    monkeypatch.setattr(pools, "_SET_BY_THE_TEST", "the parent's", raising=False)
    results: dict[int, str | None] = {}
    sweep_workers.run_in_pool(
        [(_parent_only, ()), (_parent_only, ())],
        workers=2,
        initializer=sweep_workers.init_worker,
        costs=[1.0, 1.0],
        on_result=results.__setitem__,
        on_dead=lambda i, exc: results.__setitem__(i, repr(exc)),
        on_progress=None,
        on_stop=None,
        poll_seconds=0.1,
    )
    assert results == {0: "the parent's", 1: "the parent's"}


SMALL_SWEEP = """
title = "spawn check"
[base]
epochs = 50
print_every = 0
[vary]
dataset = ["linear", "xor"]
seed = [0, 1]
[[experiment]]
name = "lr"
title = "Learning rate"
section = "discussion"
vary.lr = [1.0, 0.1]
[[experiment]]
name = "hidden"
title = "Hidden units"
section = "discussion"
vary.hidden = [2, 4]
"""


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["auto", "off"])
def test_spawned_workers_run_a_sweep_and_its_report_as_forked_ones_do(tmp_path, monkeypatch, stack):
    """macOS and Windows start workers by spawn (a fresh interpreter that has only what it
    imports): a sweep with workers and its report must work there too, with the results
    of the same sweep run in one process."""
    import csv

    from proplab import sweep
    from proplab.report import build_report
    from proplab.sweep_spec import parse_spec

    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(pools, "pool_context", lambda: spawn)
    monkeypatch.setattr(sweep_workers, "pool_context", lambda: spawn)
    spec = parse_spec(SMALL_SWEEP, "small.toml")
    results = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        done = sweep.run_sweep(spec, out, jobs=jobs, runner=sweep.choose_runner(stack))
        assert (done.ran, done.failed) == (16, {})
        with open(out / "results.csv", newline="") as fh:
            results[jobs] = sorted(
                (r["run"], r["final_loss"], r["final_accuracy"]) for r in csv.DictReader(fh)
            )
    assert len(results[2]) == 16 and results[2] == results[1]
    said: list[str] = []
    md, _ = build_report(tmp_path / "jobs2", log=said.append, jobs=2)
    # both experiments' figures drawn in the spawned pool, and the report shows them
    assert sum("report: figures" in line for line in said) == 2
    text = md.read_text()
    assert "## Discussion" in text and "### Hidden units" in text
    images = [line for line in text.splitlines() if line.startswith("![")]
    assert images and all((md.parent / i.split("](")[1][:-1]).is_file() for i in images)
