"""PROPLAB_BLAS_THREADS: the CLI's BLAS thread count, read from the environment."""

from __future__ import annotations

import sys

import pytest

from proplab import threads


@pytest.fixture(autouse=True)
def _restore_blas_threads():
    """The limit is process-wide: put BLAS back as it was for the tests that follow."""
    threads._WARNED.clear()
    yield
    if threads._LIMITER is not None:
        threads._LIMITER.restore_original_limits()
        threads._LIMITER = None


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5"])
def test_a_value_that_is_no_thread_count_is_named_and_the_default_used(raw, monkeypatch, capsys):
    """It was replaced by the default silently ('-1' even left BLAS unlimited)."""
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", raw)
    assert threads.limit_blas_threads() == 1
    err = capsys.readouterr().err
    assert f"PROPLAB_BLAS_THREADS={raw!r} is not a thread count" in err and "using 1" in err


@pytest.mark.parametrize(("raw", "limit"), [("", 1), ("2", 2), ("0", None), (" 3 ", 3)])
def test_valid_values_apply_quietly(raw, limit, monkeypatch, capsys):
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", raw)
    assert threads.limit_blas_threads() == limit
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- from mutation testing


def test_a_blank_value_means_the_default_quietly(monkeypatch, capsys):
    # only spaces: as if unset (not a typo to warn about)
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "   ")
    assert threads.limit_blas_threads() == 1
    assert capsys.readouterr().err == ""


def test_the_callers_default_is_used_when_unset_or_unreadable(monkeypatch, capsys):
    monkeypatch.delenv("PROPLAB_BLAS_THREADS", raising=False)
    assert threads.limit_blas_threads(default=2) == 2
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "many")
    assert threads.limit_blas_threads(default=3) == 3
    assert "using 3" in capsys.readouterr().err


def test_the_limit_applies_to_blas(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> set[int]:
        return {
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        }

    if not blas_threads():
        pytest.skip("NumPy's BLAS is not one threadpoolctl knows")
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "1")
    assert threads.limit_blas_threads() == 1
    assert blas_threads() == {1}


def test_without_threadpoolctl_nothing_changes(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # makes the import fail
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "2")
    assert threads.limit_blas_threads() is None


def _blas_counts() -> list[int]:
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.mark.parametrize(("raw", "inside"), [("", 1), ("2", 2), ("0", None)])
def test_run_one_trains_with_the_clis_blas_threads_and_records_them(
    raw, inside, tmp_path, monkeypatch
):
    # a CLI run (one BLAS thread) repeated from a Python session (BLAS's own count) gave
    # other last bits on large products: run_one now limits BLAS as the CLI does
    from proplab import experiments, run_parts
    from proplab.config import RunConfig
    from proplab.runio import read_json

    pytest.importorskip("threadpoolctl")
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", raw)
    before = _blas_counts()
    seen: list[list[int]] = []
    monkeypatch.setattr(run_parts, "fit", _recording(seen, run_parts.fit))
    experiments.run_one(RunConfig(epochs=3), tmp_path, quiet=True, progress=False, figures=False)
    expected = max(before) if inside is None else inside
    assert seen == [[expected] * len(before)]
    assert read_json(tmp_path / "config.json")["blas_threads"] == expected
    assert _blas_counts() == before  # restored for the caller


def _recording(seen: list, fit):
    def recorded(*args, **kwargs):
        seen.append(_blas_counts())
        return fit(*args, **kwargs)

    return recorded


def test_a_bad_value_is_warned_about_once_per_process(monkeypatch, capsys):
    # run_one and every stack read it again: a 500-run sweep printed 501 warnings
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "two")
    assert [threads.blas_thread_limit() for _ in range(3)] == [1, 1, 1]
    assert capsys.readouterr().err.count("PROPLAB_BLAS_THREADS='two' is not a thread count") == 1
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "three")  # another typo is told too
    threads.blas_thread_limit()
    assert "PROPLAB_BLAS_THREADS='three'" in capsys.readouterr().err


def test_a_stack_trained_from_python_uses_the_clis_blas_threads(tmp_path, monkeypatch):
    pytest.importorskip("threadpoolctl")
    from proplab import stacking
    from proplab.runio import read_json
    from proplab.sweep import choose_runner, parse_spec, run_sweep

    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "")
    before = _blas_counts()
    seen: list[list[int]] = []
    monkeypatch.setattr(stacking, "fit", _recording(seen, stacking.fit))
    text = "[base]\nepochs = 3\n[vary]\nseed = [0, 1]\n"
    run_sweep(parse_spec(text, "s.toml"), tmp_path, runner=choose_runner("auto"))
    assert seen == [[1] * len(before)]  # one stack of the two seeds, at one thread
    for run in (tmp_path / "runs").iterdir():
        assert read_json(run / "config.json")["blas_threads"] == 1
    assert _blas_counts() == before


def test_a_bad_value_told_before_still_gives_the_callers_default(monkeypatch, capsys):
    # the second reading of a typo (warned about once already) is the caller's default too
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "two")
    assert threads.blas_thread_limit(default=3) == 3
    assert threads.blas_thread_limit(default=4) == 4
    assert capsys.readouterr().err.count("is not a thread count") == 1


def test_a_run_without_threadpoolctl_leaves_blas_as_it_is(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # makes the import fail
    monkeypatch.setenv("PROPLAB_BLAS_THREADS", "2")
    ran = []
    with threads.blas_threads_for_a_run():
        ran.append(True)
    assert ran == [True]
    assert threads.blas_threads() is None  # and the count is not known


def test_a_run_from_python_limits_blas_to_the_callers_default(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []

    class _Recorded:
        def __init__(self, limits, user_api):
            seen.append((limits, user_api))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", _Recorded)
    monkeypatch.delenv("PROPLAB_BLAS_THREADS", raising=False)
    with threads.blas_threads_for_a_run(default=3):
        pass
    assert seen == [(3, "blas")]


def test_blas_threads_is_the_largest_count_of_the_blas_pools(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    pools = [
        {"user_api": "blas", "num_threads": 2},
        {"user_api": "openmp", "num_threads": 8},  # not BLAS: not counted
        {"user_api": "blas", "num_threads": 4},
    ]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools)
    assert threads.blas_threads() == 4
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools[1:2])
    assert threads.blas_threads() is None


def test_the_recorded_count_is_numpys_blas_not_one_loaded_after_the_limit():
    # found by audit15e: a digits run recorded "blas_threads": 2 though it trained on one:
    # loading the digits made scikit-learn load SciPy's own BLAS after the CLI's limit, and
    # the count reported was the largest over every BLAS loaded. In a fresh process:
    pytest.importorskip("threadpoolctl")
    pytest.importorskip("scipy")
    import subprocess
    from pathlib import Path

    code = (
        "from threadpoolctl import threadpool_limits, threadpool_info\n"
        "from proplab.threads import blas_threads\n"
        "with threadpool_limits(1, user_api='blas'):\n"
        "    import scipy.linalg\n"
        "    counts = sorted(i['num_threads'] for i in threadpool_info()"
        " if i['user_api'] == 'blas')\n"
        "    print(blas_threads(), counts)\n"
    )
    src = str(Path(threads.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "2"},
        check=True,
    )
    # NumPy's BLAS at 1 (what training uses), whatever SciPy's own (here 2) reports
    assert done.stdout.split(" ", 1)[0] == "1", done.stdout
