"""Conv1d forward + backward: the naive loop twin, proplab's im2col layer and PyTorch.

One unit of work is one training step of the layer alone: clear the
gradients, forward a batch ``(100, C, 64)``, backward an upstream gradient
(input, weight and bias gradients all computed). Kernel 3, stride 1,
padding 1 (output length 64), float64 unless noted. Cases:

- ``1 -> 8``: 1 channel in, 8 filters (the issue's size);
- ``8 -> 16``: the wider case, 8 channels in, 16 filters.

Contenders:

- ``naive loops``: :class:`proplab.conv.Conv1dNaive`, the definition written
  as five nested Python loops (the readable version in the docs);
- ``proplab``: :class:`proplab.conv.Conv1d` (im2col view + one matmul; col2im
  over the taps), NumPy's BLAS limited to 1 thread, and once with its default;
- ``torch``: ``torch.nn.functional.conv1d`` + autograd ``backward``, float64
  and float32, with 1 thread and with PyTorch's default thread count.

Every contender is first checked to compute the same output and gradients
(float64 to 1e-12, float32 to 1e-5, relative to the largest entry) from the same weights and data. Times are
medians of interleaved repeats (see ``common.measure``); the ratios come from
one run. The naive loops take seconds per step, so they are timed with fewer
repeats in the same run.

Run: ``python benchmarks/bench_conv.py [--quick]``; writes
``benchmarks/results/conv.json``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from proplab.conv import Conv1d, Conv1dNaive  # noqa: E402

BATCH, LENGTH, KERNEL, PADDING = 100, 64, 3, 1
CASES = ((1, 8), (8, 16))  # (in channels, out channels)
RESULTS = Path(__file__).resolve().parent / "results"
# the doc whose speed table `run_all.py --publish` rewrites from this benchmark's result
DOC = Path(__file__).resolve().parent.parent / "docs" / "conv.md"
# docs/conv.md's columns: (heading, the implementation's row name in the per-step table)
DOC_COLUMNS = (
    ("naive loops", "naive loops"),
    ("proplab", "proplab"),
    ("torch f64, 1 thread", "torch float64 (1 thr)"),
    ("torch f32, 1 thread", "torch float32 (1 thr)"),
)


def case_name(c_in: int, c_out: int) -> str:
    return f"{c_in} -> {c_out}"


def problem(c_in: int, c_out: int, seed: int = 0, batch: int = BATCH) -> dict[str, np.ndarray]:
    """Weights, bias, input and upstream gradient shared by every contender (float64)."""
    rng = np.random.default_rng(seed)
    conv = Conv1d(c_in, c_out, KERNEL, padding=PADDING, rng=rng)
    length_out = conv.output_length(LENGTH)
    return {
        "w": conv.weight.data,
        "b": rng.standard_normal(c_out),
        "x": rng.standard_normal((batch, c_in, LENGTH)),
        "g": rng.standard_normal((batch, c_out, length_out)),
    }


def growth(quick: bool, torch_available: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """How the cost grows: Conv1d step vs batch size, and the lab's conv model vs replicas.

    Returns ``(table, data)``: us per step (batch rows) and us per net-epoch of
    ``conv_net`` on XOR trained as a stack of K replicas (replica rows).
    """
    import proplab

    repeats, target = (3, 0.05) if quick else (5, 0.2)
    rows, data = [], {}
    for batch in (10, 100, 1000):
        case = problem(1, 8, batch=batch)
        contenders_ = [
            common.Contender("proplab", lambda u, c=case: ProplabStep(Conv1d, c).steps(u), blas=1)
        ]
        if torch_available:
            contenders_.append(
                common.Contender("torch", lambda u, c=case: TorchStep(c, "float64", 1).steps(u))
            )
        t = common.measure(contenders_, repeats=repeats, target_seconds=target)
        ours = t["proplab"].median
        theirs = t["torch"].median if "torch" in t else float("nan")
        data[f"batch={batch}"] = {"proplab_s": ours, "torch_s": theirs}
        rows.append(
            [
                f"Conv1d 1 -> 8, batch {batch}",
                common.fmt_us(ours),
                common.fmt_us(theirs),
                common.fmt_ratio(theirs / ours) if torch_available else "n/a",
            ]
        )
    x, y = proplab.generate_xor_easy()
    epochs = 200 if quick else 1000
    for k in (1, 8, 64):

        def make(units: int, k: int = k) -> Callable[[], None]:
            model = proplab.conv_net(2, 4, 10, 1, seeds=list(range(k)))
            opt = proplab.SGD(model.parameters(), lr=np.linspace(0.5, 2.0, k))
            loss = proplab.MSELoss()
            return lambda: proplab.fit(model, loss, opt, x, y, units)

        t = common.measure(
            [common.Contender("stack", make, units=epochs, unit_scale=k, blas=1)],
            repeats=repeats,
        )
        per_net = t["stack"].median
        data[f"replicas={k}"] = {"proplab_s_per_net_epoch": per_net}
        rows.append(
            [f"conv_net on XOR, {k} replicas (per net-epoch)", common.fmt_us(per_net), "", ""]
        )
    table = common.table(
        "How the cost grows: us per step (Conv1d) or per net-epoch (conv_net stacks)",
        ["case", "proplab us", "torch float64 1 thr us", "torch / proplab"],
        rows,
    )
    return table, data


def _doc_time(us: float) -> str:
    """Microseconds as the doc writes them: ``119 us``, ``185 ms``, ``2.52 s``."""
    if us >= 1e6:
        return f"{us / 1e6:.3g} s"
    if us >= 1e3:
        return f"{us / 1e3:.3g} ms"
    return f"{us:.3g} us"


def doc_table(
    rows: list[list[str]], commit: str | None, quick: bool = False, load: str | None = None
) -> str:
    """docs/conv.md's speed table, between its ``<!-- bench:conv -->`` markers.

    ``rows``: the per-step table's rows ``[case, implementation, us/step, 'Nx' vs
    proplab, spread]`` (as in the result and in benchmarks/RESULTS.md); one doc row per
    case: each contender's time, and its ratio to proplab's in brackets (the ratio of the
    medians). ``load``: the load average at the run's start, as RESULTS.md writes it.
    """
    found: dict[str, dict[str, tuple[float, float]]] = {}
    for case, name, us, ratio, *_ in rows:
        found.setdefault(case, {})[name] = (float(us), float(str(ratio).rstrip("x")))
    lines = [
        "<!-- bench:conv -->",
        "| case | " + " | ".join(head for head, _ in DOC_COLUMNS) + " |",
        "|" + "---|" * (len(DOC_COLUMNS) + 1),
    ]
    for case, timings in found.items():
        cells = []
        for _, name in DOC_COLUMNS:
            if name not in timings:
                cells.append("n/a")  # e.g. PyTorch not installed
                continue
            us, ratio = timings[name]
            text = _doc_time(us)
            if name != "proplab":
                text += f" ({ratio:.0f}x)" if ratio >= 100 else f" ({ratio:.2f}x)"
            cells.append(text)
        lines.append(f"| {case} channels | " + " | ".join(cells) + " |")
    where = f"at commit {commit}" if commit else "at an unknown commit"
    quick_note = ", quick mode: fewer repeats" if quick else ""
    load_note = f", load average at the start [{load}]" if load else ""
    lines += ["", f"(Published {where}{quick_note}{load_note}.)", "<!-- /bench:conv -->"]
    return "\n".join(lines)


def doc_block(result: dict[str, Any], machine: dict[str, Any]) -> str:
    """:func:`doc_table` of a run's result (``run_all.py --publish`` calls it); the
    commit as RESULTS.md's machine paragraph names it."""
    commit = machine.get("commit")
    if commit and machine.get("src_modified"):
        commit += " (src/ has uncommitted changes)"
    load = machine.get("load_average")
    load_text = ", ".join(str(v) for v in load) if load else None
    return doc_table(
        result["tables"][0]["rows"], commit, bool(result["data"].get("quick")), load_text
    )


# ----------------------------------------------------------------------------- contenders


class ProplabStep:
    """``zero_grad``, forward, backward of a proplab layer (``Conv1d`` or ``Conv1dNaive``)."""

    def __init__(self, cls: type[Conv1d], data: dict[str, np.ndarray]) -> None:
        c_out, c_in, k = data["w"].shape
        self.layer = cls(c_in, c_out, k, padding=PADDING, rng=np.random.default_rng(0))
        self.layer.weight.data[...] = data["w"]
        self.layer.bias.data[...] = data["b"]
        self.x, self.g = data["x"], data["g"]

    def step(self) -> tuple[np.ndarray, ...]:
        layer = self.layer
        layer.zero_grad()
        out = layer.forward(self.x)
        dx = layer.backward(self.g)
        return out, dx, layer.weight.grad, layer.bias.grad

    def steps(self, units: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(units):
                self.step()

        return run


class TorchStep:
    """``F.conv1d`` forward and autograd backward for x, w and b, as a PyTorch user writes it."""

    def __init__(self, data: dict[str, np.ndarray], dtype: str, threads: int | None) -> None:
        torch = common.optional_torch()
        if torch is None:
            raise RuntimeError("PyTorch is not installed")
        if threads is not None:
            torch.set_num_threads(threads)
        self.torch = torch
        dt = getattr(torch, dtype)

        def leaf(a: np.ndarray) -> Any:
            return torch.tensor(a, dtype=dt, requires_grad=True)

        self.x, self.w, self.b = leaf(data["x"]), leaf(data["w"]), leaf(data["b"])
        self.g = torch.tensor(data["g"], dtype=dt)

    def step(self) -> tuple[np.ndarray, ...]:
        self.x.grad = self.w.grad = self.b.grad = None
        out = self.torch.nn.functional.conv1d(self.x, self.w, self.b, padding=PADDING)
        out.backward(self.g)
        return out, self.x.grad, self.w.grad, self.b.grad

    def steps(self, units: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(units):
                self.step()

        return run


def contenders(
    data: dict[str, np.ndarray], torch_threads: list[int], blas_default: int | None
) -> list[common.Contender]:
    """The fast contenders (the naive loops are timed separately: seconds per step)."""

    def maker(build: Callable[[], Any]) -> Callable[[int], Callable[[], None]]:
        return lambda units: build().steps(units)

    out = [
        common.Contender("proplab", maker(lambda: ProplabStep(Conv1d, data)), blas=1),
    ]
    if blas_default and blas_default > 1:
        out.append(
            common.Contender(
                f"proplab (BLAS {blas_default} thr)", maker(lambda: ProplabStep(Conv1d, data))
            )
        )
    for dtype in ("float64", "float32"):
        for t in torch_threads:
            out.append(
                common.Contender(
                    f"torch {dtype} ({t} thr)",
                    maker(lambda dtype=dtype, t=t: TorchStep(data, dtype, t)),
                )
            )
    return out


def check_agreement(data: dict[str, np.ndarray], torch_available: bool) -> dict[str, float]:
    """Worst difference from proplab's output and gradients, per contender.

    Relative to each array's largest magnitude (a weight gradient sums
    ``n * L_out`` products, so its float32 rounding grows with its size).
    """
    ref = [np.array(a) for a in ProplabStep(Conv1d, data).step()]
    others: dict[str, Any] = {"naive loops": ProplabStep(Conv1dNaive, data)}
    if torch_available:
        others["torch float64"] = TorchStep(data, "float64", None)
        others["torch float32"] = TorchStep(data, "float32", None)
    worst = {}
    for name, contender in others.items():
        got = [
            np.asarray(a.detach().numpy() if hasattr(a, "detach") else a) for a in contender.step()
        ]
        worst[name] = max(
            float(np.max(np.abs(a - r)) / np.max(np.abs(r))) for a, r in zip(got, ref, strict=True)
        )
        tol = 1e-5 if name.endswith("float32") else 1e-12
        if worst[name] > tol:
            raise AssertionError(f"{name} differs from proplab by {worst[name]:.2e} (> {tol:.0e})")
    return worst


# ----------------------------------------------------------------------------- run


def run(quick: bool = False, json_path: Path | None = RESULTS / "conv.json") -> dict[str, Any]:
    """Time every contender on both cases; ratios are against proplab (BLAS 1 thread).

    Writes the result to ``json_path`` too (``None``: don't).
    """
    torch = common.optional_torch()
    default_threads = torch.get_num_threads() if torch else None
    threads = [] if torch is None else sorted({1, default_threads})
    blas_default = common.default_blas_threads()
    repeats, target = (3, 0.08) if quick else (9, 0.3)
    naive_repeats = 1 if quick else 3
    cases: dict[str, Any] = {}
    rows, summary = [], []
    try:
        for c_in, c_out in CASES:
            data = problem(c_in, c_out)
            agreement = check_agreement(data, torch is not None)
            with common.blas_threads(1):
                naive = common.measure(
                    [
                        common.Contender(
                            "naive loops",
                            lambda units, data=data: ProplabStep(Conv1dNaive, data).steps(units),
                            units=1,
                        )
                    ],
                    repeats=naive_repeats,
                    warmup=False,
                )
            timings = {
                **naive,
                **common.measure(
                    contenders(data, threads, blas_default), repeats=repeats, target_seconds=target
                ),
            }
            ours = timings["proplab"].median
            key = case_name(c_in, c_out)
            cases[key] = {
                "timings": {
                    name: {**t.as_dict(), "vs_proplab": t.median / ours}
                    for name, t in timings.items()
                },
                "max_rel_diff_vs_proplab": agreement,
            }
            for name, t in timings.items():
                rows.append(
                    [
                        key,
                        name,
                        common.fmt_us(t.median),
                        common.fmt_ratio(t.median / ours),
                        f"{t.spread:.0%}",
                    ]
                )
            row = [key, f"{timings['naive loops'].median / ours:.0f}x"]
            row += [
                common.fmt_ratio(timings[f"torch {dt} ({t} thr)"].median / ours)
                for dt in ("float64", "float32")
                for t in threads
            ]
            summary.append(row)
        growth_table, growth_data = growth(quick, torch is not None)  # torch at 1 thread
    finally:
        if torch is not None:
            torch.set_num_threads(default_threads)
    summary_cols = ["case", "naive loops / proplab"]
    summary_cols += [
        f"torch {dt} {t} thr / proplab" for dt in ("float64", "float32") for t in threads
    ]
    tables = [
        common.table(
            f"Conv1d forward + backward, batch {BATCH}, length {LENGTH}, kernel {KERNEL}, "
            f"padding {PADDING}: time per step",
            [
                "case (in -> out channels)",
                "implementation",
                "us/step (median)",
                "vs proplab",
                "spread",
            ],
            rows,
            note=(
                f"Median of {repeats} interleaved repeats ({naive_repeats} for the naive loops, "
                "one step each); spread = (max - min) / median. proplab and the naive loops "
                "run with NumPy's BLAS limited to 1 thread."
            ),
        ),
        common.table("Ratios (same run; > 1 means proplab is faster)", summary_cols, summary),
    ]
    tables.append(growth_table)
    notes = [
        "A step = zero the gradients, forward, backward with input, weight and bias gradients; float64 unless the row says float32.",
        "All contenders start from the same weights and data and were checked to agree (float64 to 1e-12, float32 to 1e-5, relative to the largest entry) before timing.",
        "proplab: a strided im2col view copied into one (C*k, n*L) matrix, one matmul forward; backward two matmuls and a scatter-add per kernel tap.",
    ]
    if torch is None:
        notes.append("PyTorch is not installed: no torch rows.")
    result = {
        "name": "conv",
        "title": "Conv1d: forward + backward per step",
        "tables": tables,
        "notes": notes,
        "data": {
            "cases": cases,
            "growth": growth_data,
            "batch": BATCH,
            "length": LENGTH,
            "kernel_size": KERNEL,
            "padding": PADDING,
            "repeats": repeats,
            "naive_repeats": naive_repeats,
            "torch_threads": threads,
            "blas_threads": {"proplab": 1, "default": blas_default},
            "quick": quick,
        },
    }
    if json_path is not None:
        payload = {"machine": common.machine_info(), **common.to_jsonable(result)}
        json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = json_path.with_name(json_path.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        os.replace(tmp, json_path)  # atomic: a reader never sees half a file
    return result


if __name__ == "__main__":
    result = run(quick=common.script_args(__doc__).quick)
    print(common.render_markdown(result))
