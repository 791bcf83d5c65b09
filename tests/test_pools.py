"""proplab's process pools start their workers by fork on Linux, whatever the default.

Python 3.14 made forkserver Linux's default start method. The pools' signal handling
(workers forked with the stop signals held, see tests/test_signals.py) and every test
that patches something before a sweep with workers assume fork: a forked worker has
what its parent had, a forkserver's or a spawned one only what it imports.
"""

from __future__ import annotations

import multiprocessing
import sys

import pytest

from proplab import pools, sweep_workers

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork is asked for on Linux only")


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


def test_a_redoable_pool_forks_its_workers_whatever_the_default(spawn_by_default, monkeypatch):
    monkeypatch.setattr(pools, "_SET_BY_THE_TEST", "the parent's", raising=False)
    assert multiprocessing.get_start_method() == "spawn"
    with pools.redoable_pool(1) as pool:
        assert pool.submit(_parent_only).result(timeout=60) == "the parent's"


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
