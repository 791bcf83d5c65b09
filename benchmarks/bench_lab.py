"""The lab model's time per epoch: proplab against hand-written loops and PyTorch eager.

Model: 2 -> H -> H -> 1, sigmoid after every layer, MSE, full-batch SGD with
lr 1.0, float64. Every contender starts from the same weights (proplab's
``mlp(rng=default_rng(0))`` draw) and records the loss of every epoch, as the
lab's log needs:

- ``proplab fit``: ``proplab.mlp`` + ``proplab.fit(print_every=0)``, the user path
  (fit also computes the accuracy and a History entry per epoch);
- ``proplab modules``: the same modules in a bare loop (zero_grad, forward,
  loss, backward, step), to show what fit's bookkeeping costs;
- ``plain NumPy``: the obvious student code (``x @ W + b``, ``1/(1+np.exp(-z))``,
  ``s*(1-s)``, ``W -= lr * dW``);
- ``tuned NumPy``: preallocated buffers and ``out=`` everywhere, ``np.dot`` for
  every product (cheaper to call than ``np.matmul``), bias gradients as a row
  of ones times the delta, constants as 0-d arrays, no input gradient for
  the first layer, ``2 lr / N`` folded into the output delta, each layer
  updated as soon as its gradient and the delta below it are known;
- ``torch eager``: ``nn.Sequential(Linear, Sigmoid, ...)``, ``nn.MSELoss``,
  ``optim.SGD``, float64, ``loss.item()`` each epoch, with 1 thread and with
  PyTorch's default thread count.

NumPy rows run with BLAS limited to 1 thread; one proplab row keeps the
default, because on a busy 2-core machine OpenBLAS's 2 spinning threads can
make these tiny matmuls tens of times slower.

Run: ``python benchmarks/bench_lab.py [--quick]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import proplab

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

LR = 1.0
SEED = 0
Weights = list[tuple[np.ndarray, np.ndarray]]


# ----------------------------------------------------------------------------- setup


def lab_data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """``x (n, 2)``, ``y (n, 1)`` float64: XOR (21 points) or linear (100 points, seed 0)."""
    if dataset == "xor":
        x, y = proplab.generate_xor_easy()
    elif dataset == "linear":
        x, y = proplab.generate_linear(100, rng=0)
    else:
        raise ValueError(f"unknown dataset {dataset!r} (accepted: xor, linear)")
    # every contender gets float64 targets, so nobody pays an int->float cast per epoch
    return x, y.astype(np.float64)


def lab_model(hidden: int, seed: int = SEED) -> proplab.Sequential:
    """The lab model 2 -> H -> H -> 1 with sigmoids, weights drawn from ``default_rng(seed)``."""
    return proplab.mlp(2, hidden, 1, activation="sigmoid", rng=np.random.default_rng(seed))


def model_weights(model: proplab.Sequential) -> Weights:
    """Copies of ``(W (in, out), b (out,))`` for each Linear layer, in order."""
    return [
        (layer.weight.data.copy(), layer.bias.data.copy())
        for layer in model.layers
        if isinstance(layer, proplab.Linear)
    ]


# ----------------------------------------------------------------------------- contenders


class ProplabFit:
    """The user path: ``fit(model, MSELoss(), SGD(lr), x, y, epochs, print_every=0)``."""

    def __init__(self, hidden: int, x: np.ndarray, y: np.ndarray, lr: float = LR) -> None:
        self.model = lab_model(hidden)
        self.loss = proplab.MSELoss()
        self.opt = proplab.SGD(self.model.parameters(), lr=lr)
        self.x, self.y = x, y

    def train(self, epochs: int) -> list[float]:
        h = proplab.fit(self.model, self.loss, self.opt, self.x, self.y, epochs, print_every=0)
        return [float(v) for v in h.loss]


class ProplabModules(ProplabFit):
    """proplab's modules, loss and optimizer driven by a bare loop (no fit bookkeeping)."""

    def train(self, epochs: int) -> list[float]:
        model, loss_fn, opt, x, y = self.model, self.loss, self.opt, self.x, self.y
        losses = []
        for _ in range(epochs):
            opt.zero_grad()
            pred = model.forward(x)
            losses.append(loss_fn.forward(pred, y))
            model.backward(loss_fn.backward(), need_input_grad=False)
            opt.step()
        return losses


class PlainLoop:
    """The obvious student loop: fresh arrays everywhere, ``W -= lr * dW``."""

    def __init__(self, weights: Weights, x: np.ndarray, y: np.ndarray, lr: float = LR) -> None:
        (self.W1, self.b1), (self.W2, self.b2), (self.W3, self.b3) = (
            (w.copy(), b.copy()) for w, b in weights
        )
        self.x, self.y, self.lr = x, y, lr

    def train(self, epochs: int) -> list[float]:
        W1, b1, W2, b2, W3, b3 = self.W1, self.b1, self.W2, self.b2, self.W3, self.b3
        x, y, lr = self.x, self.y, self.lr
        n = y.size
        losses = []
        for _ in range(epochs):
            a1 = 1 / (1 + np.exp(-(x @ W1 + b1)))
            a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
            a3 = 1 / (1 + np.exp(-(a2 @ W3 + b3)))
            losses.append(np.mean((a3 - y) ** 2))
            d3 = 2 * (a3 - y) / n * a3 * (1 - a3)
            d2 = d3 @ W3.T * a2 * (1 - a2)
            d1 = d2 @ W2.T * a1 * (1 - a1)
            W3 -= lr * (a2.T @ d3)
            b3 -= lr * d3.sum(axis=0)
            W2 -= lr * (a1.T @ d2)
            b2 -= lr * d2.sum(axis=0)
            W1 -= lr * (x.T @ d1)
            b1 -= lr * d1.sum(axis=0)
        return [float(v) for v in losses]


class TunedLoop:
    """Preallocated buffers, ``out=`` everywhere, the fewest NumPy calls we could manage.

    The output delta carries ``2 lr / N``, so every gradient below it is
    already the update step: ``W -= x^T delta`` with no separate scaling. A
    layer's weights are updated right after the delta for the layer below has
    been computed with them (same arithmetic as updating all at the end).
    """

    def __init__(self, weights: Weights, x: np.ndarray, y: np.ndarray, lr: float = LR) -> None:
        (self.W1, self.b1), (self.W2, self.b2), (self.W3, self.b3) = (
            (w.copy(), b.copy()) for w, b in weights
        )
        self.x, self.y, self.lr = x, y, lr
        n, h = x.shape[0], self.W1.shape[1]
        self.a1, self.a2, self.d1, self.d2, self.t1, self.t2 = (np.empty((n, h)) for _ in range(6))
        self.a3, self.e, self.d3, self.t3 = (np.empty((n, 1)) for _ in range(4))
        self.gW1, self.gW2, self.gW3 = (np.empty_like(w) for w in (self.W1, self.W2, self.W3))
        self.gb1, self.gb2, self.gb3 = (np.empty_like(b) for b in (self.b1, self.b2, self.b3))

    def train(self, epochs: int) -> list[float]:
        W1, b1, W2, b2, W3, b3 = self.W1, self.b1, self.W2, self.b2, self.W3, self.b3
        x, y = self.x, self.y
        a1, a2, a3, e, t1, t2, t3 = self.a1, self.a2, self.a3, self.e, self.t1, self.t2, self.t3
        d1, d2, d3 = self.d1, self.d2, self.d3
        gW1, gW2, gW3, gb1, gb2, gb3 = self.gW1, self.gW2, self.gW3, self.gb1, self.gb2, self.gb3
        # np.dot, not np.matmul: same BLAS call for two matrices, less dispatch
        # (0.6-1.0 vs 1.2-1.7 us on a (21, 10) layer)
        matmul, exp, neg, recip, sub, mul = (
            np.dot,
            np.exp,
            np.negative,
            np.reciprocal,
            np.subtract,
            np.multiply,
        )
        vdot = np.vdot
        n = y.size
        # constants as 0-d arrays: NumPy 2 converts a Python float operand on every
        # call (~0.25 us); bias gradients as a row of ones times the delta (one BLAS
        # call, 0.5 us, where np.add.reduce over the sample axis takes 1.3 us)
        one, scale = np.ones(()), np.asarray(2.0 * self.lr / n)
        ones_row = np.ones((1, n))
        gb1_row, gb2_row, gb3_row = gb1[None, :], gb2[None, :], gb3[None, :]
        x_t, W2_t, W3_t, a1_t, a2_t = x.T, W2.T, W3.T, a1.T, a2.T  # views, made once
        losses = []
        append = losses.append
        for _ in range(epochs):
            # forward: a = 1 / (1 + exp(-(x W + b)))
            for inp, W, b, a in ((x, W1, b1, a1), (a1, W2, b2, a2), (a2, W3, b3, a3)):
                matmul(inp, W, out=a)
                a += b
                neg(a, out=a)
                exp(a, out=a)
                a += one
                recip(a, out=a)
            # loss (logged every epoch) and the output delta 2 lr/N (a - y) a (1 - a)
            sub(a3, y, out=e)
            append(vdot(e, e) / n)
            sub(one, a3, out=t3)
            t3 *= a3
            mul(e, t3, out=d3)
            d3 *= scale
            # layer 3: delta for layer 2 first (uses W3), then update W3, b3
            matmul(d3, W3_t, out=d2)
            sub(one, a2, out=t2)
            t2 *= a2
            d2 *= t2
            matmul(a2_t, d3, out=gW3)
            W3 -= gW3
            matmul(ones_row, d3, out=gb3_row)
            b3 -= gb3
            # layer 2
            matmul(d2, W2_t, out=d1)
            sub(one, a1, out=t1)
            t1 *= a1
            d1 *= t1
            matmul(a1_t, d2, out=gW2)
            W2 -= gW2
            matmul(ones_row, d2, out=gb2_row)
            b2 -= gb2
            # layer 1: no input gradient needed
            matmul(x_t, d1, out=gW1)
            W1 -= gW1
            matmul(ones_row, d1, out=gb1_row)
            b1 -= gb1
        return [float(v) for v in losses]


class TorchEager:
    """``torch.nn.Sequential`` + ``nn.MSELoss`` + ``optim.SGD`` in float64, as a PyTorch user writes it.

    ``threads``: ``torch.set_num_threads`` value set before training (None: leave as is).
    """

    def __init__(
        self,
        weights: Weights,
        x: np.ndarray,
        y: np.ndarray,
        lr: float = LR,
        threads: int | None = None,
    ) -> None:
        torch = common.optional_torch()
        if torch is None:
            raise RuntimeError("PyTorch is not installed")
        self.torch = torch
        if threads is not None:
            torch.set_num_threads(threads)
        layers = []
        for w, b in weights:
            lin = torch.nn.Linear(*w.shape, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w.T))  # torch stores (out, in)
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers)
        self.loss_fn = torch.nn.MSELoss()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.x = torch.from_numpy(np.ascontiguousarray(x))
        self.y = torch.from_numpy(np.ascontiguousarray(y))

    def train(self, epochs: int) -> list[float]:
        model, loss_fn, opt, x, y = self.model, self.loss_fn, self.opt, self.x, self.y
        losses = []
        for _ in range(epochs):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses


# ----------------------------------------------------------------------------- timing


def contenders(
    dataset: str, hidden: int, torch_threads: list[int], blas_default: int | None
) -> list[common.Contender]:
    """One Contender per implementation for one case; each call trains from the start weights.

    NumPy contenders run with BLAS limited to 1 thread (see common.blas_threads);
    one extra proplab row keeps NumPy's default BLAS thread count.
    """
    x, y = lab_data(dataset)
    weights = model_weights(lab_model(hidden))

    def maker(factory: Any) -> Any:
        def make(epochs: int) -> Any:
            impl = factory()
            return lambda: impl.train(epochs)

        return make

    out = [
        common.Contender("proplab fit", maker(lambda: ProplabFit(hidden, x, y)), blas=1),
        common.Contender("proplab modules", maker(lambda: ProplabModules(hidden, x, y)), blas=1),
        common.Contender("plain NumPy", maker(lambda: PlainLoop(weights, x, y)), blas=1),
        common.Contender("tuned NumPy", maker(lambda: TunedLoop(weights, x, y)), blas=1),
    ]
    if blas_default not in (None, 1):
        out.append(
            common.Contender(
                f"proplab fit (BLAS {blas_default} thr)", maker(lambda: ProplabFit(hidden, x, y))
            )
        )
    for t in torch_threads:
        out.append(
            common.Contender(
                f"torch eager ({t} thr)", maker(lambda t=t: TorchEager(weights, x, y, threads=t))
            )
        )
    return out


def _instrumented_epochs(runner: ProplabFit, epochs: int) -> dict[str, np.ndarray]:
    """Nanoseconds spent in each phase of each epoch of a hand-driven copy of fit's epoch."""
    model, loss_fn, opt, x, y = runner.model, runner.loss, runner.opt, runner.x, runner.y
    layers = model.layers
    now = time.perf_counter_ns
    fwd = [f"forward {type(m).__name__}" for m in layers]
    bwd = [f"backward {type(m).__name__}" for m in reversed(layers)]
    names = ["zero_grad", *fwd, "loss forward", "loss backward", *bwd, "step"]
    times = np.zeros((epochs, len(names)))
    last = len(layers) - 1
    for e in range(epochs):
        row = times[e]
        t0 = now()
        opt.zero_grad()
        t1 = now()
        row[0] = t1 - t0
        h = x
        for j, m in enumerate(layers, start=1):
            t0 = now()
            h = m.forward(h)
            row[j] = now() - t0
        t0 = now()
        loss_fn.forward(h, y)
        t1 = now()
        g = loss_fn.backward()
        t2 = now()
        j = len(layers) + 1
        row[j], row[j + 1] = t1 - t0, t2 - t1
        for i, m in enumerate(reversed(layers)):
            t0 = now()
            g = m.backward(g, need_input_grad=i < last)
            row[j + 2 + i] = now() - t0
        t0 = now()
        opt.step()
        row[-1] = now() - t0
    # phases with the same name (three Linear forwards...) add up within an epoch
    return {
        name: times[:, [k for k, n in enumerate(names) if n == name]].sum(axis=1)
        for name in dict.fromkeys(names)
    }


def phase_breakdown(dataset: str, hidden: int, epochs: int) -> dict[str, float]:
    """Microseconds per epoch spent in each phase of fit's full-batch epoch.

    Times a hand-driven copy of fit's epoch with ``perf_counter_ns`` around each
    phase and takes, per phase, the *median over epochs* (an epoch in which
    another process took the core is an outlier the median ignores); the
    timer's own cost is subtracted (the per-phase figures still carry ~0.4 us
    of instrumentation each). Then the CPU time per epoch of the same engine
    loop without per-phase timers and of a real ``fit``: their difference is
    what fit adds (accuracy, History, finiteness check).
    """
    x, y = lab_data(dataset)
    now = time.perf_counter_ns
    t0 = now()
    for _ in range(1000):
        now()
    tick = (now() - t0) / 1001
    per_epoch = {
        name: max(float(np.median(ns)) - tick, 0.0) / 1000
        for name, ns in _instrumented_epochs(ProplabFit(hidden, x, y), epochs).items()
    }
    per_epoch["sum of the phases above"] = sum(per_epoch.values())

    # The same engine epoch without per-phase timers, and a real fit, by CPU time
    # over the whole call (fit may defer work such as the accuracy to the end,
    # so a per-epoch median would miss it); best of 3 alternating runs.
    def bare(epochs: int = epochs) -> None:
        runner = ProplabFit(hidden, x, y)
        model, loss_fn, opt = runner.model, runner.loss, runner.opt
        for _ in range(epochs):
            opt.zero_grad()
            pred = model.forward(x)
            loss_fn.forward(pred, y)
            model.backward(loss_fn.backward(), need_input_grad=False)
            opt.step()

    def fit_run() -> None:
        ProplabFit(hidden, x, y).train(epochs)

    bare_cpu, fit_cpu = [], []
    for _ in range(3):
        bare_cpu.append(common.time_call_cpu(bare)[1])
        fit_cpu.append(common.time_call_cpu(fit_run)[1])
    bare_us = min(bare_cpu) / epochs * 1e6
    fit_us = min(fit_cpu) / epochs * 1e6
    per_epoch["bare engine epoch (CPU time, no per-phase timers)"] = bare_us
    per_epoch["fit epoch (CPU time)"] = fit_us
    per_epoch["fit's own cost: accuracy, History, checks (fit - bare)"] = fit_us - bare_us
    return per_epoch


def _best_us_pair(a: Any, b: Any, calls: int, repeats: int) -> tuple[float, float]:
    """Microseconds per call of ``a()`` and of ``b()``: the fastest of ``repeats`` loops of
    ``calls`` calls each, the loops of the two alternating.

    For per-call overhead the minimum is the right statistic (noise only ever
    adds time), and alternating exposes both to the same bursts of load.
    """
    best = [float("inf"), float("inf")]
    for r in range(repeats):
        for i in (0, 1) if r % 2 == 0 else (1, 0):
            fn = (a, b)[i]
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0] / calls * 1e6, best[1] / calls * 1e6


def module_steps(hidden: int = 10) -> list[tuple[str, Any, Any]]:
    """Steps of fit's epoch on XOR: ``(name, proplab call, inline twin)``, both argument-free.

    The inline twin makes exactly the NumPy calls the module makes, on the
    same arrays (fresh arrays where the module makes fresh ones), and returns
    what the module returns (tests check they agree), so timing the two tells
    what the module costs beyond its arithmetic. Call inside
    ``overflow_ignored()``, as fit does (no sigmoid overflow clamp).
    """
    x, y = lab_data("xor")
    runner = ProplabFit(hidden, x, y)
    lin1, sig1, lin2, sig2, lin3, sig3 = runner.model.layers
    loss_fn, opt = runner.loss, runner.opt
    w2, b2 = lin2.weight, lin2.bias
    a1 = sig1.forward(lin1.forward(x))
    h2 = lin2.forward(a1)
    a2 = sig2.forward(h2)
    pred = sig3.forward(lin3.forward(a2))
    loss_fn.forward(pred, y)
    g2 = lin3.backward(sig3.backward(loss_fn.backward()))
    g2s = sig2.backward(g2)
    one = np.ones(())
    scale = np.asarray(2.0 / pred.size)
    ones_row = np.ones((1, x.shape[0]))
    grad_w, grad_b_row = w2.grad, b2.grad[None, :]
    lr = opt.shaped_array("lr", opt.groups[0])
    flat_data, flat_grad = opt.groups[0].data, opt.groups[0].grad

    def linear_forward() -> np.ndarray:
        out = np.dot(a1, w2.data)  # core.matmul of two matrices
        out += b2.data
        return out

    def sigmoid_forward() -> np.ndarray:
        s = np.exp(np.negative(h2))
        np.add(s, one, out=s)
        return np.divide(one, s, out=s)

    def mse_forward() -> float:
        diff = pred - y
        return float(np.vdot(diff, diff)) / diff.size

    def sigmoid_backward() -> np.ndarray:
        local = np.subtract(one, a2)
        local *= a2
        local *= g2
        return local

    def cleared_backward(need_input_grad: bool) -> np.ndarray | None:
        # as in fit: gradients cleared before the backward pass, so the layer
        # takes its first-accumulation path (written, not added)
        w2.zero_grad()
        b2.zero_grad()
        return lin2.backward(g2s, need_input_grad)

    def linear_backward_first() -> None:
        w2.zero_grad()
        b2.zero_grad()
        np.dot(a1.mT, g2s, out=grad_w)
        np.dot(ones_row, g2s, out=grad_b_row)

    def linear_backward() -> np.ndarray:
        linear_backward_first()
        return np.dot(g2s, np.ascontiguousarray(w2.data.mT))

    def sgd_step() -> None:
        flat_data.__isub__(lr * flat_grad)

    return [
        ("Linear forward (hidden layer)", lambda: lin2.forward(a1), linear_forward),
        ("Sigmoid forward", lambda: sig2.forward(h2), sigmoid_forward),
        ("MSE forward", lambda: loss_fn.forward(pred, y), mse_forward),
        ("MSE backward", loss_fn.backward, lambda: loss_fn.diff * scale),
        ("Sigmoid backward", lambda: sig2.backward(g2), sigmoid_backward),
        ("Linear backward (hidden layer)", lambda: cleared_backward(True), linear_backward),
        (
            "Linear backward (first layer, no input gradient)",
            lambda: cleared_backward(False),
            linear_backward_first,
        ),
        ("SGD step (all parameters)", opt.step, sgd_step),
    ]


def module_overhead(hidden: int = 10, calls: int = 2000, repeats: int = 15) -> list[list[str]]:
    """Rows ``[step, proplab us, inline us, difference]`` for :func:`module_steps`."""
    from proplab.activations import overflow_ignored

    rows = []
    with overflow_ignored():
        for name, module_call, inline in module_steps(hidden):
            ours, theirs = _best_us_pair(module_call, inline, calls, repeats)
            rows.append([name, f"{ours:.2f}", f"{theirs:.2f}", f"{ours - theirs:+.2f}"])
    return rows


CASES = [("xor", 10), ("xor", 100), ("linear", 10), ("linear", 100)]


def run(quick: bool = False) -> dict[str, Any]:
    """Time every contender on every case; ratios are against the tuned loop of the same run."""
    torch = common.optional_torch()
    default_threads = torch.get_num_threads() if torch else None
    threads = [] if torch is None else sorted({1, default_threads})
    blas_default = common.default_blas_threads()
    repeats, target = (3, 0.05) if quick else (11, 0.2)
    cases: dict[str, Any] = {}
    timed: dict[str, dict[str, common.Timing]] = {}
    rows = []
    try:
        for dataset, hidden in CASES:
            timings = common.measure(
                contenders(dataset, hidden, threads, blas_default),
                repeats=repeats,
                target_seconds=target,
            )
            tuned = timings["tuned NumPy"]
            case = {name: t.as_dict() for name, t in timings.items()}
            cases[f"{dataset} H={hidden}"] = case
            timed[f"{dataset} H={hidden}"] = timings
            for name, t in timings.items():
                rows.append(
                    [
                        f"{dataset} H={hidden}",
                        name,
                        common.fmt_us(t.median),
                        common.fmt_ratio(common.paired_ratio(t.samples, tuned.samples)),
                        common.fmt_us(t.cpu_median),
                        common.fmt_ratio(common.paired_ratio(t.cpu_samples, tuned.cpu_samples)),
                        f"{t.spread:.0%}",
                    ]
                )
    finally:
        if torch is not None:
            torch.set_num_threads(default_threads)
    summary_cols = ["case", "proplab fit / tuned", "proplab modules / tuned", "plain / tuned"]
    summary_cols += [f"torch {t} thr / proplab fit" for t in threads]
    summary = []
    for key, case in timed.items():
        tuned = case["tuned NumPy"]
        row = [key] + [
            common.paired_text(case[name], tuned)
            for name in ("proplab fit", "proplab modules", "plain NumPy")
        ]
        row += [
            common.paired_text(case[f"torch eager ({t} thr)"], case["proplab fit"]) for t in threads
        ]
        summary.append(row)
    with common.blas_threads(1):
        breakdown = phase_breakdown("xor", 10, 500 if quick else 5000)
        overhead_calls = 200 if quick else 2000
        overhead = module_overhead(calls=overhead_calls)
    tables = [
        common.table(
            "Lab model (2-H-H-1 sigmoid, MSE, full-batch SGD lr 1.0, float64): time per epoch",
            [
                "case",
                "implementation",
                "us/epoch wall",
                "vs tuned (wall)",
                "us/epoch CPU",
                "vs tuned (CPU)",
                "spread (wall)",
            ],
            rows,
            note=f"Medians of {repeats} interleaved repeats; ratios are the median of the {repeats} per-repeat ratios (each repeat's samples ran seconds apart, so the machine's slow swings cancel); spread = (max - min) / median of the wall times. CPU = process CPU time (all threads).",
        ),
        common.table("Ratios (same run): wall time (CPU time)", summary_cols, summary),
        common.table(
            "Where proplab fit's epoch goes (XOR, H=10, instrumented loop, BLAS 1 thread)",
            ["phase", "us/epoch"],
            [[k, f"{v:.2f}"] for k, v in breakdown.items()],
            note="Median over epochs. Phases: the engine's epoch (zero_grad, forward, loss, backward, step) driven by hand with a timer around each phase (timer cost subtracted, ~0.4 us of instrumentation left in each). Bare epoch and fit epoch: CPU time of whole runs / epochs (best of 3).",
        ),
        common.table(
            "What each module costs beyond its NumPy calls (XOR, H=10, BLAS 1 thread)",
            ["step", "proplab us", "same NumPy calls inline us", "difference us"],
            overhead,
            note=f"Fastest of 15 loops of {overhead_calls} calls each, the module's and the twin's loops alternating. The inline twin makes exactly the module's NumPy calls on the same arrays, so the difference is the module's own cost: Python dispatch, attribute look-ups, shape and dtype checks.",
        ),
    ]
    notes = [
        "Every contender starts from the same weights (proplab's mlp draw, seed 0) and logs the loss of every epoch.",
        f"NumPy rows run with BLAS limited to 1 thread (threadpoolctl); the '(BLAS {blas_default} thr)' row keeps NumPy's default. On a shared 2-core machine a second BLAS thread gains nothing on these tiny matmuls, and while another process holds the second core its spinning workers can make them much slower (benchmarks/README.md's one measurement, of 2-thread PyTorch at load average ~3: 1.8x at the median, one repeat over 70x).",
        "proplab fit also computes the accuracy and appends a History entry every epoch; 'proplab modules' is the same engine in a bare loop.",
    ]
    if torch is None:
        notes.append("PyTorch is not installed: no torch rows.")
    return {
        "name": "lab",
        "title": "Lab model: time per epoch",
        "tables": tables,
        "notes": notes,
        "data": {
            "cases": cases,
            "breakdown_us": breakdown,
            "module_overhead_us": overhead,
            "repeats": repeats,
            "torch_threads": threads,
            "blas_threads": {"numpy rows": 1, "default": blas_default},
        },
    }


if __name__ == "__main__":
    result = run(quick=common.script_args(__doc__).quick)
    print(common.render_markdown(result))
