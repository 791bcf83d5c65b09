"""One BLAS thread for small networks (used by the CLI and sweep workers, never by the core).

On the lab's networks a matrix product takes about a microsecond; OpenBLAS's
worker threads only add synchronisation, and on a busy or shared machine
(or with ``--jobs 2`` on two cores) they spin against each other: a second
thread gains nothing on these products (benchmarks/RESULTS.md, lab section)
and under load threads that wait for each other cost much more (the one
measurement, in benchmarks/README.md, is of 2-thread PyTorch at load average ~3:
1.8x slower at the median, one repeat over 70x). The CLI
therefore runs with one BLAS thread unless ``PROPLAB_BLAS_THREADS`` says
otherwise. Needs threadpoolctl (a dependency); without it, nothing changes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LIMITER: Any = None
_WARNED: set[str] = set()  # the PROPLAB_BLAS_THREADS values already warned about


def blas_thread_limit(default: int = 1) -> int:
    """The BLAS thread count ``PROPLAB_BLAS_THREADS`` asks for (``default`` when unset or
    not a count, with a warning for the latter); 0 means: leave BLAS as it is."""
    raw = os.environ.get("PROPLAB_BLAS_THREADS", "").strip()
    if not raw:
        return default
    try:
        limit = int(raw)
        if limit < 0:
            raise ValueError
    except ValueError:
        # a typo must not pass silently, nor stop a run over a speed setting; once per
        # process (run_one and every stack read it again)
        if raw in _WARNED:
            return default
        _WARNED.add(raw)
        print(
            f"proplab: warning: PROPLAB_BLAS_THREADS={raw!r} is not a thread count "
            f"(accepted: an integer >= 1, or 0 for BLAS's own default); using {default}",
            file=sys.stderr,
        )
        return default
    return limit


def limit_blas_threads(default: int = 1) -> int | None:
    """Limit BLAS to ``PROPLAB_BLAS_THREADS`` (default 1) threads for this process.

    Returns the limit applied, or None when threadpoolctl is missing or the
    variable is 0 (meaning: leave BLAS as it is).
    """
    global _LIMITER
    limit = blas_thread_limit(default)
    if limit <= 0:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    _LIMITER = threadpool_limits(limits=limit, user_api="blas")
    return limit


@contextmanager
def blas_threads_for_a_run(default: int = 1) -> Iterator[None]:
    """BLAS limited as the CLI limits it, for one run called from Python, then restored.

    The thread count changes how OpenBLAS splits a large product, and so its last bits:
    a run rerun from its config.json in a Python session (``run_one``) must use the
    same count as the CLI run it repeats to give the same numbers, bit for bit.
    """
    limit = blas_thread_limit(default)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limit = 0
    if limit <= 0:
        yield
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield


def blas_threads() -> int | None:
    """The number of threads NumPy's BLAS uses now, the one training runs on (None when
    threadpoolctl cannot tell).

    Other BLAS libraries may be loaded too: loading the digits makes scikit-learn load
    SciPy's own, after the CLI limited the ones loaded then, so it keeps its default. A
    library inside NumPy's folders (a wheel's ``numpy.libs``) is NumPy's; when none is
    (a system BLAS, shared), the largest count over every BLAS loaded is reported.
    """
    try:
        import numpy as np
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    home = os.path.dirname(os.path.abspath(np.__file__))
    numpys = [i for i in blas if os.path.abspath(i.get("filepath", "")).startswith(home)]
    counts = [info["num_threads"] for info in numpys or blas]
    return max(counts) if counts else None
