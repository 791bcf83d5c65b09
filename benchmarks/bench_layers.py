"""What dropout and batchnorm cost the lab model per epoch, and what batchnorm saves in epochs.

The lab model (2-10-10-1 sigmoid, MSE, full-batch SGD at lr 1.0, float64) trained by
``proplab.fit`` as is, with ``batchnorm=True`` (a BatchNorm1d after each hidden
Linear), with ``dropout=0.2`` (a Dropout after each hidden sigmoid) and with both, on
XOR's 21 points and linear's 100: microseconds per epoch, contenders interleaved
(:func:`common.measure`), NumPy's BLAS at 1 thread as the CLI runs it, ratios paired
per repeat against the plain model. A second table counts the epochs each needs to
reach 100 % on XOR (seeds 0-4, at most 20 000): per epoch batchnorm costs more, per
problem solved far less.

``quick`` times fewer repeats of shorter calls and counts epochs for seeds 0-1.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import proplab  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "batchnorm": {"batchnorm": True},
    "dropout 0.2": {"dropout": 0.2},
    "batchnorm + dropout 0.2": {"batchnorm": True, "dropout": 0.2},
}


def lab_data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The lab's data as ``proplab train`` draws it at seed 0."""
    if dataset == "xor":
        return proplab.generate_xor_easy()
    return proplab.generate_linear(100, rng=np.random.default_rng([0, 2]))


def contender(name: str, dataset: str) -> common.Contender:
    x, y = lab_data(dataset)

    def make(epochs: int) -> Callable[[], Any]:
        model = proplab.mlp(2, 10, 1, rng=np.random.default_rng(0), **VARIANTS[name])
        opt = proplab.SGD(model.parameters(), lr=1.0)
        return lambda: proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs)

    return common.Contender(name, make, blas=1)


def epochs_to_solve(seeds: range, epochs: int = 20000) -> dict[str, list[int | None]]:
    """Per variant, the first epoch whose XOR accuracy is 100 % for each seed (None: never)."""
    x, y = lab_data("xor")
    found: dict[str, list[int | None]] = {}
    for name, options in VARIANTS.items():
        found[name] = []
        for seed in seeds:
            model = proplab.mlp(2, 10, 1, rng=np.random.default_rng(seed), **options)
            opt = proplab.SGD(model.parameters(), lr=1.0)
            history = proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs)
            pairs = zip(history.epoch, history.accuracy, strict=True)
            first = next((e for e, a in pairs if a == 1.0), None)
            found[name].append(first)
    return found


def run(quick: bool = False) -> dict[str, Any]:
    """Time every variant on both datasets; count XOR's epochs to 100 % per variant."""
    repeats, target = (3, 0.05) if quick else (9, 0.3)
    rows, data = [], {}
    for dataset in ("xor", "linear"):
        timings = common.measure(
            [contender(name, dataset) for name in VARIANTS], repeats=repeats, target_seconds=target
        )
        plain = timings["plain"]
        data[dataset] = {name: t.as_dict() for name, t in timings.items()}
        for name, t in timings.items():
            rows.append(
                [
                    dataset,
                    name,
                    common.fmt_us(t.median),
                    common.paired_text(t, plain),
                    f"{t.spread:.0%}",
                ]
            )
    seeds = range(2 if quick else 5)
    solved = epochs_to_solve(seeds)
    data["epochs_to_100_percent_xor"] = solved
    per_epoch = {name: data["xor"][name]["median_us"] for name in VARIANTS}
    solve_rows = []
    for name, firsts in solved.items():
        reached = [f for f in firsts if f is not None]
        median = statistics.median(reached) if len(reached) == len(firsts) else None
        solve_rows.append(
            [
                name,
                ", ".join("never" if f is None else str(f) for f in firsts),
                "-" if median is None else f"{median * per_epoch[name] / 1e3:.0f}",
            ]
        )
    tables = [
        common.table(
            "Lab model with dropout and batchnorm (2-10-10-1 sigmoid, MSE, full-batch SGD "
            "lr 1.0, float64, BLAS 1 thread): time per epoch",
            ["data", "network", "us/epoch wall", "vs plain: wall (CPU)", "spread"],
            rows,
            note="Ratios are medians of per-repeat ratios (contenders interleaved).",
        ),
        common.table(
            f"Epochs to 100 % on XOR (seeds {seeds.start}-{seeds.stop - 1}, lr 1.0, "
            "at most 20 000)",
            ["network", "first epoch at 100 %, per seed", "ms to get there (median seed)"],
            solve_rows,
            note="The history's accuracy, in training mode (dropout on: a dropped unit can "
            "cost a point now and then).",
        ),
    ]
    return {
        "name": "layers",
        "title": "Dropout and batchnorm on the lab model",
        "tables": tables,
        "notes": [],
        "data": data,
    }


if __name__ == "__main__":
    args = common.script_args(__doc__)
    print(common.render_markdown(run(quick=args.quick)))
