"""The whole lab suite (what ``make lab`` runs): wall time with stacking on and off, peak memory.

Each mode runs ``proplab sweep lab --jobs 2 --stack MODE`` in a fresh
subprocess into a temporary folder, so both pay the same start-up and file
writing; peak memory is the largest resident set of the sweep and its worker
processes (``ru_maxrss`` of the children). Each mode runs twice, in the order
auto, off, off, auto (the machine's speed drifts over minutes), times are the
medians, and every sweep's results are checked to be identical (every run's
final loss and accuracy).

``quick`` runs the suite once per mode with 2 000 instead of 20 000 epochs per run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SUITE = common.REPO / "src" / "proplab" / "suites" / "lab.toml"


def _suite_file(folder: Path, quick: bool) -> Path:
    text = SUITE.read_text()
    if quick:
        text = text.replace("epochs = 20000", "epochs = 2000")
    path = folder / "lab.toml"
    path.write_text(text)
    return path


def _sweep(suite: Path, out: Path, stack: str, jobs: int) -> dict[str, float]:
    """Run one sweep in a child process: wall seconds and the children's peak RSS (MB)."""
    cmd = [sys.executable, "-m", "proplab", "sweep", str(suite), "--out", str(out)]
    cmd += ["--jobs", str(jobs), "--stack", stack]
    env = dict(os.environ, PROPLAB_BLAS_THREADS="1")
    # a small wrapper process runs the sweep, so the children's peak memory it
    # reports belongs to this sweep alone (ru_maxrss of children is a running max)
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL)\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall_s': time.perf_counter() - t, "
        "'cpu_s': r.ru_utime + r.ru_stime, 'peak_rss_mb': r.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], check=True, env=env, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def _results(out: Path) -> dict[tuple[str, str], tuple[str, str]]:
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {(r["experiment"], r["run"]): (r["final_loss"], r["final_accuracy"]) for r in rows}


def _stacks(out: Path, alone: Path | None = None) -> list[dict[str, Any]]:
    """The stacked sweep's training units, costliest first: what each trained and how long.

    A stack is recognised by the time every one of its runs records
    (``stack_wall_time_s``, the stack's training time) and its size. With
    ``alone``, the folder of the same sweep run one at a time, each unit also
    gets ``alone_seconds``, the training time of the same runs trained alone
    (the sum of their ``wall_time_s``), and ``speedup``, that over ``seconds``.
    """
    units: dict[tuple[float, int], list[tuple[str, dict]]] = {}
    for path in (out / "runs").glob("*/summary.json"):
        summary = json.loads(path.read_text())
        size = int(summary.get("stacked_with") or 1)
        seconds = float(summary.get("stack_wall_time_s") or summary.get("wall_time_s") or 0.0)
        units.setdefault((seconds, size), []).append((path.parent.name, summary))
    rows = []
    for (seconds, size), named in units.items():
        members = [summary for _, summary in named]
        datasets = sorted({m["dataset"] for m in members})
        hidden = sorted({str(m["hidden"]) for m in members})
        models = sorted({m["model"] for m in members})
        settings = sorted({f"{m['activation']}/{m['optimizer']}" for m in members})
        row = {
            "seconds": seconds,
            "runs": len(members),
            "size": size,
            "what": f"{'+'.join(datasets)}, {'+'.join(models)}, hidden {'+'.join(hidden)}, "
            f"{len(settings)} activation/optimizer pair{'s' if len(settings) > 1 else ''}",
            "us_per_net_epoch": 1e6 * seconds / size / max(m["epochs_run"] for m in members),
        }
        if alone is not None:
            row["alone_seconds"] = sum(
                float(
                    json.loads((alone / "runs" / name / "summary.json").read_text())["wall_time_s"]
                )
                for name, _ in named
            )
            row["speedup"] = row["alone_seconds"] / seconds if seconds > 0 else float("nan")
        rows.append(row)
    return sorted(rows, key=lambda r: -r["seconds"])


ONE_SHAPE = """
title = "one network shape"
[base]
dataset = "linear"
epochs = EPOCHS
print_every = 0
[vary]
seed = [0, 1, 2, 3, 4, 5, 6, 7]
[[experiment]]
name = "lr"
title = "lr"
section = "discussion"
vary.lr = [2.0, 1.0, 0.5, 0.2, 0.1]
"""


def _one_shape(folder: Path, quick: bool, repeats: int) -> dict[str, Any]:
    """A sweep whose 40 runs share one structure (one stack), stacked, with 1 and 2 workers.

    With 2 workers the stack is split in two (see ``proplab.stack_plan.balance``);
    before that, the second worker idled. Order ABBA over ``repeats``; medians.
    """
    suite = folder / "one_shape.toml"
    suite.write_text(ONE_SHAPE.replace("EPOCHS", "2000" if quick else "20000"))
    times: dict[int, list[float]] = {1: [], 2: []}
    results = []
    for r in range(repeats):
        for jobs in (2, 1) if r % 2 == 0 else (1, 2):
            out = folder / f"one_shape_{jobs}_{r}"
            times[jobs].append(_sweep(suite, out, "auto", jobs)["wall_s"])
            results.append(_results(out))
            shutil.rmtree(out)
    wall = {jobs: statistics.median(t) for jobs, t in times.items()}
    return {
        "wall_s": wall,
        "speedup": wall[1] / wall[2],
        "identical": all(res == results[0] for res in results),
        "runs": len(results[0]),
    }


def run(quick: bool = False, jobs: int = 2, repeats: int | None = None) -> dict[str, Any]:
    """Time the lab suite stacked and unstacked, ``repeats`` times each (default 2, quick 1).

    The modes alternate ABBA (auto, off, off, auto, ...) so a drift in the
    machine's speed weighs on both alike; times are medians over the repeats.
    """
    repeats = repeats or (1 if quick else 2)
    runs: dict[str, list[dict[str, float]]] = {"auto": [], "off": []}
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="proplab-suite-") as tmp:
        folder = Path(tmp)
        suite = _suite_file(folder, quick)
        for r in range(repeats):
            for mode in ("auto", "off") if r % 2 == 0 else ("off", "auto"):
                out = folder / f"{mode}{r}"
                runs[mode].append(_sweep(suite, out, mode, jobs))
                results.append(_results(out))
                if r > 0:  # keep the first repeat's folders for the unit table
                    shutil.rmtree(out)
        same = all(res == results[0] for res in results)
        stacks = _stacks(folder / "auto0", folder / "off0")
        one_shape = _one_shape(folder, quick, repeats)
    data: dict[str, Any] = {
        mode: {
            "wall_s": statistics.median(t["wall_s"] for t in times),
            "cpu_s": statistics.median(t["cpu_s"] for t in times),
            "peak_rss_mb": max(t["peak_rss_mb"] for t in times),
            "runs": len({run for _, run in results[0]}),
            "repeats": times,
        }
        for mode, times in runs.items()
    }
    ratios = [
        off["wall_s"] / auto["wall_s"] for auto, off in zip(runs["auto"], runs["off"], strict=True)
    ]
    speedup = data["off"]["wall_s"] / data["auto"]["wall_s"]
    stacked_s = sum(u["seconds"] for u in stacks)
    alone_s = sum(u["alone_seconds"] for u in stacks)
    epochs = 2000 if quick else 20000
    rows = [
        [
            "stacked (--stack auto)" if mode == "auto" else "one run at a time (--stack off)",
            data[mode]["runs"],
            f"{data[mode]['wall_s']:.1f}",
            f"{data[mode]['cpu_s']:.1f}",
            f"{data[mode]['peak_rss_mb']:.0f}",
            common.fmt_ratio(data["off"]["wall_s"] / data[mode]["wall_s"]),
        ]
        for mode in ("auto", "off")
    ]
    return {
        "name": "suite",
        "title": f"The lab suite ({epochs} epochs per run, --jobs {jobs})",
        "tables": [
            common.table(
                "Lab suite: `proplab sweep lab` (the sweep part of `make lab`)",
                ["mode", "runs", "wall s (median)", "CPU s (median)", "peak RSS MB", "speed-up"],
                rows,
            ),
            common.table(
                "Where the training time goes (one row per training unit of the stacked sweep)",
                [
                    "training unit",
                    "runs",
                    "stacked s",
                    "same runs alone s",
                    "speed-up",
                    "stacked us per run-epoch",
                ],
                [
                    [
                        u["what"],
                        u["runs"],
                        f"{u['seconds']:.1f}",
                        f"{u['alone_seconds']:.1f}",
                        common.fmt_ratio(u["speedup"]),
                        f"{u['us_per_net_epoch']:.1f}",
                    ]
                    for u in stacks
                ]
                + [
                    [
                        "all units",
                        sum(u["runs"] for u in stacks),
                        f"{stacked_s:.1f}",
                        f"{alone_s:.1f}",
                        common.fmt_ratio(alone_s / stacked_s),
                        "",
                    ]
                ],
                note="Stacked s: the unit's training time inside its worker (not writing the "
                "run folders); same runs alone s: the training time (fit's clock) of the same "
                "runs in the unstacked sweep, added up. Both are clock time inside one worker; "
                "the sweeps' wall times above also count start-up, writing and two workers.",
            ),
            common.table(
                f"One network shape: {one_shape['runs']} runs of the lab model on the linear "
                "data (5 learning rates x 8 seeds), stacked",
                ["--jobs", "wall s (median)", "speed-up"],
                [
                    [
                        n,
                        f"{one_shape['wall_s'][n]:.1f}",
                        common.fmt_ratio(one_shape["wall_s"][1] / one_shape["wall_s"][n]),
                    ]
                    for n in (1, 2)
                ],
                note="One structure makes one stack; with 2 workers it is split in two parts "
                "that train side by side. Results identical with 1 and 2 workers: "
                f"{one_shape['identical']}.",
            ),
        ],
        "notes": [
            f"Stacking speed-up (wall, medians of {repeats} sweeps per mode, run ABBA): "
            f"{speedup:.2f}x; per pair of sweeps: "
            + ", ".join(f"{x:.2f}x" for x in ratios)
            + f". Results identical in every sweep (final loss and accuracy of every run): {same}.",
            "Peak RSS is the largest single process of that sweep (the sweep or one worker).",
        ],
        "data": {
            **data,
            "speedup": speedup,
            "pair_speedups": ratios,
            "identical": same,
            "epochs": epochs,
            "stacks": stacks,
            "one_shape": one_shape,
        },
    }


if __name__ == "__main__":
    result = run(quick=common.script_args(__doc__).quick)
    print(common.render_markdown(result))
    print(json.dumps(result["data"], indent=2))
