"""One BLAS thread for small networks (used by the CLI and sweep workers, never by the core).

On the lab's networks a matrix product takes about a microsecond; OpenBLAS's
worker threads only add synchronisation, and on a busy or shared machine
(or with ``--jobs 2`` on two cores) they spin against each other and make
tiny products 10-50x slower (benchmarks/RESULTS.md measures it). The CLI
therefore runs with one BLAS thread unless ``PROPLAB_BLAS_THREADS`` says
otherwise. Needs threadpoolctl (a dependency); without it, nothing changes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_LIMITER: Any = None


def limit_blas_threads(default: int = 1) -> int | None:
    """Limit BLAS to ``PROPLAB_BLAS_THREADS`` (default 1) threads for this process.

    Returns the limit applied, or None when threadpoolctl is missing or the
    variable is 0 (meaning: leave BLAS as it is).
    """
    global _LIMITER
    raw = os.environ.get("PROPLAB_BLAS_THREADS", "").strip()
    limit = default
    if raw:
        try:
            limit = int(raw)
            if limit < 0:
                raise ValueError
        except ValueError:
            # a typo must not pass silently, nor stop a run over a speed setting
            print(
                f"proplab: warning: PROPLAB_BLAS_THREADS={raw!r} is not a thread count "
                f"(accepted: an integer >= 1, or 0 for BLAS's own default); using {default}",
                file=sys.stderr,
            )
            limit = default
    if limit <= 0:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    _LIMITER = threadpool_limits(limits=limit, user_api="blas")
    return limit
