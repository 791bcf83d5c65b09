"""PROPLAB_BLAS_THREADS: the CLI's BLAS thread count, read from the environment."""

from __future__ import annotations

import pytest

from proplab import threads


@pytest.fixture(autouse=True)
def _restore_blas_threads():
    """The limit is process-wide: put BLAS back as it was for the tests that follow."""
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
