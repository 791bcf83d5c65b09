"""Shared helpers for the benchmarks: interleaved timing, machine description, Markdown.

Timing model. A *contender* is something to time (proplab, a hand-written
loop, PyTorch...). ``Contender.make(units)`` builds fresh state (untimed: model,
buffers, copied weights) and returns a zero-argument callable doing ``units``
units of work (epochs, or net-epochs). :func:`measure` calls each contender's
callable once per repeat, *interleaved* (A B C, B C A, C A B, ...), so a burst of
load from another process hits every contender alike; it reports the median
time per unit. On a busy 2-core machine absolute times wander; the ratios
within one run are what to compare.

Every benchmark module ``bench_*.py`` has ``run(quick: bool = False) -> dict``
returning a *result*:
``{"name", "title", "tables": [table(...), ...], "notes": [str], "data": {...}}``
(``tables`` and ``notes`` are what :func:`render_markdown` prints; ``data``
holds the raw numbers for the JSON file).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Contender:
    """One implementation to time.

    ``make(units)`` builds fresh state (not timed) and returns the callable
    that is timed; that callable does ``units`` units of work. ``units=None``
    lets :func:`measure` calibrate the count so one call takes about
    ``target_seconds``; ``unit_scale`` multiplies the count when normalising
    (e.g. 64 nets per epoch -> time per net-epoch). ``blas`` limits NumPy's
    BLAS threads around the timed call (entering the limit costs ~1 ms, so
    it is done outside the timed region).
    """

    name: str
    make: Callable[[int], Callable[[], Any]]
    units: int | None = None
    unit_scale: int = 1
    blas: int | None = None  # limit NumPy's BLAS to this many threads (outside the timing)


@dataclass
class Timing:
    """Seconds per unit of one contender, one sample per repeat.

    ``samples`` are wall-clock times; ``cpu_samples`` the CPU time of the
    whole process over the same calls (every thread, spinning BLAS or OpenMP
    workers included). When other processes share the cores, wall time
    includes the time we waited for a core; CPU time does not, so it is the
    steadier measure of an implementation's own cost there.
    """

    name: str
    units: int
    samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_samples) if self.cpu_samples else math.nan

    @property
    def spread(self) -> float:
        """(max - min) / median of the samples: how noisy this run was."""
        return (max(self.samples) - min(self.samples)) / self.median

    def as_dict(self) -> dict[str, Any]:
        return {
            "units_per_call": self.units,
            "median_s": self.median,
            "median_us": self.median * 1e6,
            "min_us": min(self.samples) * 1e6,
            "spread": self.spread,
            "samples_us": [s * 1e6 for s in self.samples],
            "cpu_median_us": self.cpu_median * 1e6,
            "cpu_samples_us": [s * 1e6 for s in self.cpu_samples],
        }


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over repeats of ``a[r] / b[r]``: samples of one repeat ran seconds apart.

    :func:`measure` interleaves the contenders, so repeat r of ``a`` and of
    ``b`` saw the same machine; dividing within each repeat cancels the
    machine's slow swings in speed (up to 1.5x over minutes here), which a
    ratio of two medians taken over the whole run does not.
    """
    if len(a) != len(b) or not a:
        raise ValueError(
            f"paired_ratio needs two equal, non-empty sample lists, got {len(a)} and {len(b)}"
        )
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def paired_text(a: Timing, b: Timing) -> str:
    """``a / b`` paired per repeat (:func:`paired_ratio`) on wall time, CPU time in parentheses."""
    wall = paired_ratio(a.samples, b.samples)
    cpu = paired_ratio(a.cpu_samples, b.cpu_samples)
    return f"{fmt_ratio(wall)} ({fmt_ratio(cpu)})"


def time_call(fn: Callable[[], Any]) -> float:
    """Wall time of one call in seconds, with the garbage collector paused (as timeit does)."""
    return time_call_cpu(fn)[0]


def time_call_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    """``(wall, process CPU)`` seconds of one call, with the garbage collector paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
        return wall, time.process_time() - cpu
    finally:
        if was_enabled:
            gc.enable()


def calibrate(
    make: Callable[[int], Callable[[], Any]],
    target_seconds: float,
    min_units: int = 1,
    max_units: int = 10**7,
    probe: int = 20,
) -> int:
    """How many units make one call last about ``target_seconds`` (probing with growing counts)."""
    units = max(min_units, 1)
    probe_units = max(probe, units)
    while True:
        elapsed = time_call(make(probe_units))
        if elapsed > 0.05 or probe_units >= max_units:
            break
        probe_units *= 4
    per_unit = elapsed / probe_units
    return int(min(max(target_seconds / per_unit, min_units), max_units))


def measure(
    contenders: Sequence[Contender],
    repeats: int = 5,
    target_seconds: float = 0.3,
    min_units: int = 10,
    warmup: bool = True,
) -> dict[str, Timing]:
    """Median seconds per unit of each contender, repeats interleaved and rotated.

    Repeat ``r`` runs the contenders in the order rotated by ``r`` so none is
    always first (first after a slow one, or right after a GC...).
    """
    units = {}
    for c in contenders:
        with blas_threads(c.blas):
            units[c.name] = c.units or calibrate(c.make, target_seconds, min_units)
            if warmup:  # first calls pay for imports, caches, allocator growth
                time_call(c.make(max(1, min(units[c.name], 50))))
    timings = {c.name: Timing(c.name, units[c.name] * c.unit_scale) for c in contenders}
    order = list(contenders)
    for r in range(repeats):
        shift = r % len(order)
        for c in order[shift:] + order[:shift]:
            with blas_threads(c.blas):
                fn = c.make(units[c.name])
                wall, cpu = time_call_cpu(fn)
            count = units[c.name] * c.unit_scale
            timings[c.name].samples.append(wall / count)
            timings[c.name].cpu_samples.append(cpu / count)
    return timings


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit NumPy's BLAS to ``n`` threads inside the block (no-op for None or without threadpoolctl).

    Why it matters here: OpenBLAS's worker threads spin while they wait. On
    the lab's tiny matrices a second thread gains nothing, and on a 2-core
    machine that other processes also use it can make a call much slower
    (benchmarks/README.md, "Latest results", gives the one measurement).
    """
    if n is None:
        yield
        return
    try:
        import threadpoolctl
    except ImportError:
        yield
        return
    with threadpoolctl.threadpool_limits(limits=n, user_api="blas"):
        yield


def default_blas_threads() -> int | None:
    """How many threads NumPy's BLAS uses by default (None if unknown)."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    counts = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else None


# ----------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_info() -> list[dict[str, Any]] | dict[str, Any] | str:
    try:
        import threadpoolctl

        return [
            {k: v for k, v in lib.items() if k != "filepath"}
            for lib in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        pass
    try:
        config = np.show_config(mode="dicts")
        return config.get("Build Dependencies", config)
    except TypeError:  # NumPy < 1.25 only prints
        return "unknown (no threadpoolctl; numpy.show_config has no dict mode)"


def _git_state() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "src"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return {"commit": commit, "src_modified": bool(dirty)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "src_modified": None}


def machine_info(include_torch: bool = True) -> dict[str, Any]:
    """CPU, cores, load, Python/NumPy/PyTorch versions, BLAS threads, git commit."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": _blas_info(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        **_git_state(),
    }
    try:
        import proplab

        info["proplab"] = getattr(proplab, "__version__", "?")
    except ImportError:
        info["proplab"] = None
    if include_torch:
        torch = optional_torch()
        info["torch"] = torch.__version__ if torch else None
        info["torch_threads_default"] = torch.get_num_threads() if torch else None
    return info


def machine_markdown(info: dict[str, Any]) -> str:
    """One paragraph describing the machine, for the top of a results file."""
    blas = info.get("blas")
    if isinstance(blas, list):
        blas_text = ", ".join(
            f"{b.get('internal_api', b.get('user_api'))} {b.get('version', '')} "
            f"({b.get('num_threads')} threads, {b.get('architecture', '?')})"
            for b in blas
        )
    else:
        blas_text = str(blas)[:200]
    src = " (src/ has uncommitted changes)" if info.get("src_modified") else ""
    return (
        f"- CPU: {info['cpu']}, {info['cores_usable']} usable cores "
        f"(load average at start {info.get('load_average')})\n"
        f"- Python {info['python']}, NumPy {info['numpy']}, PyTorch {info.get('torch')} "
        f"(default threads {info.get('torch_threads_default')}), proplab {info.get('proplab')} "
        f"at commit {info.get('commit')}{src}\n"
        f"- BLAS: {blas_text}\n"
        f"- {info['platform']}, {info['time']}"
    )


def optional_torch() -> Any | None:
    """The ``torch`` module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


# ----------------------------------------------------------------------------- tables


def table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str = ""
) -> dict[str, Any]:
    """A table for :func:`render_markdown` (cells already formatted as text or numbers)."""
    return {"title": title, "columns": list(columns), "rows": [list(r) for r in rows], "note": note}


def fmt_us(seconds: float) -> str:
    """Seconds -> microseconds with 3 significant digits: ``0.0000312 -> '31.2'``."""
    us = seconds * 1e6
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x"


def markdown_table(t: dict[str, Any]) -> str:
    cols = t["columns"]
    lines = [
        "| " + " | ".join(cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in t["rows"]]
    out = f"#### {t['title']}\n\n" + "\n".join(lines) + "\n"
    if t.get("note"):
        out += f"\n{t['note']}\n"
    return out


def render_markdown(result: dict[str, Any]) -> str:
    """A benchmark result as Markdown: title, tables, notes.

    Tolerates results from modules that do not follow the convention: a
    ``"markdown"`` string is printed as is, anything else as a repr.
    """
    title = result.get("title") or result.get("name") or "benchmark"
    parts = [f"### {title}\n"]
    if "markdown" in result and isinstance(result["markdown"], str):
        parts.append(result["markdown"])
    for t in result.get("tables", []):
        parts.append(markdown_table(t))
    notes = result.get("notes") or []
    if notes:
        parts.append("\n".join(f"- {n}" for n in notes) + "\n")
    if len(parts) == 1:
        parts.append("```\n" + repr({k: v for k, v in result.items() if k != "title"}) + "\n```\n")
    return "\n".join(parts)


def to_jsonable(obj: Any) -> Any:
    """NumPy scalars/arrays and other odd values -> plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float | int | str | bool) or obj is None:
        return obj
    if isinstance(obj, Timing):
        return obj.as_dict()
    return repr(obj)


def script_args(doc: str | None, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a ``bench_*.py`` script's command line: ``--quick`` and ``--help``.

    The description is the first paragraph of the script's docstring. Any
    other argument is refused (exit 2) rather than ignored: ``--help`` used to
    start the whole benchmark.
    """
    parser = argparse.ArgumentParser(
        description=(doc or "").split("\n\n")[0],
        epilog="Prints Markdown tables; run_all.py runs every benchmark and writes the files.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer epochs and repeats: a smoke test in seconds"
    )
    return parser.parse_args(argv)
