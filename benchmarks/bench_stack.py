"""Many small nets at once: 64 XOR nets trained one after another, or as one replica stack.

Each net is the lab model 2 -> 10 -> 10 -> 1 (sigmoid, MSE, full-batch SGD) on
the 21 XOR points; net k starts from ``mlp(rng=default_rng(k))``'s weights and
has its own learning rate ``lr_k = 0.5 + k / 64``. Contenders:

- ``proplab sequential``: 64 separate ``mlp`` + ``SGD`` + ``fit`` runs;
- ``proplab stacked``: one ``mlp(seeds=range(64))`` with weights ``(64, in, out)``,
  ``SGD(lr=<array (64,)>)`` and one ``fit`` (the user path for a sweep);
- ``tuned NumPy stacked``: a hand-written ``np.matmul`` program on the same
  ``(64, ...)`` arrays with ``out=`` buffers (what stacking can reach in NumPy);
- ``torch bmm manual``: ``torch.baddbmm`` forward, hand-written backward with
  ``aten.sigmoid_backward`` and fused ``W.baddbmm_(a^T, delta, alpha=-1)``
  updates, under ``inference_mode`` (the fastest PyTorch version we found);
- ``torch bmm autograd``: the same forward with autograd and a per-replica
  SGD step (``torch.optim.SGD`` has no per-replica learning rate).

All report microseconds per *net-epoch* (time / (epochs x nets)). NumPy runs
with BLAS limited to 1 thread, PyTorch with 1 thread unless a row says otherwise.

Run: ``python benchmarks/bench_stack.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

import proplab

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NETS = 64
HIDDEN = 10


def replica_lrs(k: int) -> np.ndarray:
    """Per-replica learning rates ``0.5 + i / 64`` (so replicas really differ), shape ``(k,)``."""
    return 0.5 + np.arange(k) / 64.0


def stack_data(n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """XOR's 21 points (``n=None``) or ``n`` linear points; float64 ``x (n, 2)``, ``y (n, 1)``."""
    x, y = proplab.generate_xor_easy() if n is None else proplab.generate_linear(n, rng=0)
    return x, y.astype(np.float64)


def stacked_model(k: int, hidden: int) -> proplab.Sequential:
    """``mlp(2, H, 1, seeds=range(k))``: replica i holds the weights of ``default_rng(i)``."""
    return proplab.mlp(2, hidden, 1, seeds=range(k))


def stacked_weights(model: proplab.Sequential) -> list[tuple[np.ndarray, np.ndarray]]:
    """Copies of ``(W (K, in, out), b (K, out))`` per Linear layer."""
    return [
        (m.weight.data.copy(), m.bias.data.copy())
        for m in model.layers
        if isinstance(m, proplab.Linear)
    ]


# ----------------------------------------------------------------------------- contenders
# Each has train(epochs) -> losses (epochs, K), the loss of every replica at every epoch.


class ProplabSequential:
    """K independent ``fit`` runs, one model after another."""

    def __init__(self, k: int, hidden: int, x: np.ndarray, y: np.ndarray) -> None:
        self.runs = []
        for i, lr in enumerate(replica_lrs(k)):
            model = proplab.mlp(2, hidden, 1, rng=np.random.default_rng(i))
            self.runs.append((model, proplab.MSELoss(), proplab.SGD(model.parameters(), lr=lr)))
        self.x, self.y = x, y

    def train(self, epochs: int) -> np.ndarray:
        losses = [
            proplab.fit(m, loss, opt, self.x, self.y, epochs, print_every=0).loss
            for m, loss, opt in self.runs
        ]
        return np.asarray(losses, dtype=np.float64).T


class ProplabStacked:
    """One ``fit`` of a K-replica stack with per-replica learning rates."""

    def __init__(self, k: int, hidden: int, x: np.ndarray, y: np.ndarray) -> None:
        self.model = stacked_model(k, hidden)
        self.loss = proplab.MSELoss()
        self.opt = proplab.SGD(self.model.parameters(), lr=replica_lrs(k))
        self.x, self.y = x, y

    def train(self, epochs: int) -> np.ndarray:
        h = proplab.fit(self.model, self.loss, self.opt, self.x, self.y, epochs, print_every=0)
        return np.asarray(h.loss, dtype=np.float64)


class TunedNumpyStacked:
    """The whole stack as one hand-written ``np.matmul`` program with ``out=`` buffers.

    Shapes: shared ``x (n, 2)``; weights ``(K, in, out)``; biases kept as
    ``(K, 1, out)`` to broadcast over samples; activations ``(K, n, H)``.
    The output delta carries ``2 lr_k / n`` (shape ``(K, 1, 1)``), so every
    gradient below it is already replica k's update step.
    """

    def __init__(self, weights: list, x: np.ndarray, y: np.ndarray, lrs: np.ndarray) -> None:
        (W1, b1), (W2, b2), (W3, b3) = weights
        self.W = [W1.copy(), W2.copy(), W3.copy()]
        self.b = [b[:, None, :].copy() for b in (b1, b2, b3)]
        k, n, h = W1.shape[0], x.shape[0], W1.shape[2]
        self.x, self.y = x, y
        self.scale = (2.0 * lrs / n).reshape(k, 1, 1)
        self.a = [np.empty((k, n, h)), np.empty((k, n, h)), np.empty((k, n, 1))]
        self.d = [np.empty((k, n, h)), np.empty((k, n, h)), np.empty((k, n, 1))]
        self.t = [np.empty((k, n, h)), np.empty((k, n, h)), np.empty((k, n, 1))]
        self.e = np.empty((k, n, 1))
        self.gW = [np.empty_like(w) for w in self.W]
        self.gb = [np.empty_like(b) for b in self.b]

    def train(self, epochs: int) -> np.ndarray:
        (W1, W2, W3), (b1, b2, b3) = self.W, self.b
        (a1, a2, a3), (d1, d2, d3), (t1, t2, t3) = self.a, self.d, self.t
        (gW1, gW2, gW3), (gb1, gb2, gb3) = self.gW, self.gb
        x, y, e, scale = self.x, self.y, self.e, self.scale
        k, n = e.shape[0], e.shape[1]
        matmul, exp, neg, recip, sub, mul = (
            np.matmul,
            np.exp,
            np.negative,
            np.reciprocal,
            np.subtract,
            np.multiply,
        )
        reduce = np.add.reduce
        e_flat = e.reshape(k, n)  # a view: per-replica dot products in one call
        vecdot = getattr(np, "vecdot", None) or (lambda u, v: np.einsum("ki,ki->k", u, v))
        x_t, W2_t, W3_t, a1_t, a2_t = x.T, W2.mT, W3.mT, a1.mT, a2.mT
        losses = np.empty((epochs, k))
        for epoch in range(epochs):
            for inp, W, b, a in ((x, W1, b1, a1), (a1, W2, b2, a2), (a2, W3, b3, a3)):
                matmul(inp, W, out=a)  # (n, in) @ (K, in, out) broadcasts to (K, n, out)
                a += b
                neg(a, out=a)
                exp(a, out=a)
                a += 1.0
                recip(a, out=a)
            sub(a3, y, out=e)
            losses[epoch] = vecdot(e_flat, e_flat)
            sub(1.0, a3, out=t3)
            t3 *= a3
            mul(e, t3, out=d3)
            d3 *= scale
            matmul(d3, W3_t, out=d2)
            sub(1.0, a2, out=t2)
            t2 *= a2
            d2 *= t2
            matmul(a2_t, d3, out=gW3)
            W3 -= gW3
            reduce(d3, axis=1, keepdims=True, out=gb3)
            b3 -= gb3
            matmul(d2, W2_t, out=d1)
            sub(1.0, a1, out=t1)
            t1 *= a1
            d1 *= t1
            matmul(a1_t, d2, out=gW2)
            W2 -= gW2
            reduce(d2, axis=1, keepdims=True, out=gb2)
            b2 -= gb2
            matmul(x_t, d1, out=gW1)  # (2, n) @ (K, n, H) -> (K, 2, H)
            W1 -= gW1
            reduce(d1, axis=1, keepdims=True, out=gb1)
            b1 -= gb1
        losses /= n
        return losses


class _TorchStack:
    """Shared setup: float64 tensors, replicated data, per-replica learning rates."""

    def __init__(
        self, weights: list, x: np.ndarray, y: np.ndarray, lrs: np.ndarray, threads: int | None
    ) -> None:
        torch = common.optional_torch()
        if torch is None:
            raise RuntimeError("PyTorch is not installed")
        self.torch = torch
        if threads is not None:
            torch.set_num_threads(threads)
        k, n = weights[0][0].shape[0], x.shape[0]
        self.k, self.n = k, n
        self.W = [torch.from_numpy(w.copy()) for w, _ in weights]
        self.B = [torch.from_numpy(b[:, None, :].copy()) for _, b in weights]
        # bmm wants the data per replica: (K, n, 2), and its transpose for dL/dW1
        self.X = torch.from_numpy(x).expand(k, n, x.shape[1]).contiguous()
        self.Xt = self.X.mT.contiguous()
        self.Y = torch.from_numpy(y)
        self.lr = torch.from_numpy(lrs.reshape(k, 1, 1).copy())


class TorchBmmManual(_TorchStack):
    """``baddbmm`` forward, hand-written backward, fused ``baddbmm_`` updates, no autograd."""

    def train(self, epochs: int) -> np.ndarray:
        torch = self.torch
        (W1, W2, W3), (B1, B2, B3), X, Xt, Y = self.W, self.B, self.X, self.Xt, self.Y
        k, n = self.k, self.n
        scale = self.lr * (2.0 / n)
        sigmoid_backward = torch.ops.aten.sigmoid_backward
        baddbmm, bmm = torch.baddbmm, torch.bmm
        losses = []
        with torch.inference_mode():
            for _ in range(epochs):
                a1 = baddbmm(B1, X, W1).sigmoid_()
                a2 = baddbmm(B2, a1, W2).sigmoid_()
                a3 = baddbmm(B3, a2, W3).sigmoid_()
                e = a3 - Y
                losses.append(bmm(e.mT, e).view(k))
                # delta = dL/dz * lr_k: (2/n)(a - y) a (1 - a) scaled per replica
                d3 = sigmoid_backward(e, a3).mul_(scale)
                d2 = sigmoid_backward(bmm(d3, W3.mT), a2)
                W3.baddbmm_(a2.mT, d3, alpha=-1.0)
                B3.sub_(d3.sum(1, keepdim=True))
                d1 = sigmoid_backward(bmm(d2, W2.mT), a1)
                W2.baddbmm_(a1.mT, d2, alpha=-1.0)
                B2.sub_(d2.sum(1, keepdim=True))
                W1.baddbmm_(Xt, d1, alpha=-1.0)
                B1.sub_(d1.sum(1, keepdim=True))
            out = torch.stack(losses).numpy() / n
        return out


class TorchBmmAutograd(_TorchStack):
    """Same forward with autograd; the update is ``p -= lr_k * p.grad`` per replica."""

    def train(self, epochs: int) -> np.ndarray:
        torch = self.torch
        params = [p.requires_grad_() for p in (*self.W, *self.B)]
        (W1, W2, W3), (B1, B2, B3), X, Y, lr = self.W, self.B, self.X, self.Y, self.lr
        losses = []
        for _ in range(epochs):
            a1 = torch.sigmoid(torch.baddbmm(B1, X, W1))
            a2 = torch.sigmoid(torch.baddbmm(B2, a1, W2))
            a3 = torch.sigmoid(torch.baddbmm(B3, a2, W3))
            per_replica = (a3 - Y).square().mean(dim=(1, 2))  # (K,)
            # the sum's gradient w.r.t. replica k's weights is that of replica k's loss
            per_replica.sum().backward()
            with torch.no_grad():
                for p in params:
                    p.addcmul_(p.grad, lr, value=-1.0)
                    p.grad = None
            losses.append(per_replica.detach())
        return torch.stack(losses).numpy()


# ----------------------------------------------------------------------------- timing


def contenders(
    k: int,
    hidden: int,
    n: int | None,
    epochs: int | None,
    torch_threads: list[int],
    sequential: bool = True,
    autograd: bool = True,
) -> list[common.Contender]:
    """Contenders for K nets of width H on ``n`` points; units are epochs, scaled to net-epochs."""
    x, y = stack_data(n)
    lrs = replica_lrs(k)
    weights = stacked_weights(stacked_model(k, hidden))
    has_torch = common.optional_torch() is not None

    def maker(factory: Any) -> Any:
        def make(units: int) -> Any:
            impl = factory()
            return lambda: impl.train(units)

        return make

    out = []
    if sequential:
        out.append(
            common.Contender(
                "proplab sequential",
                maker(lambda: ProplabSequential(k, hidden, x, y)),
                epochs,
                k,
                blas=1,
            )
        )
    out += [
        common.Contender(
            "proplab stacked", maker(lambda: ProplabStacked(k, hidden, x, y)), epochs, k, blas=1
        ),
        common.Contender(
            "tuned NumPy stacked",
            maker(lambda: TunedNumpyStacked(weights, x, y, lrs)),
            epochs,
            k,
            blas=1,
        ),
    ]
    if has_torch:
        for i, t in enumerate(torch_threads):
            # extra thread counts get calibrated epochs: they can be far slower on a busy machine
            out.append(
                common.Contender(
                    f"torch bmm manual ({t} thr)",
                    maker(lambda t=t: TorchBmmManual(weights, x, y, lrs, t)),
                    epochs if i == 0 else None,
                    k,
                )
            )
        if autograd:
            out.append(
                common.Contender(
                    f"torch bmm autograd ({torch_threads[0]} thr)",
                    maker(lambda: TorchBmmAutograd(weights, x, y, lrs, torch_threads[0])),
                    epochs,
                    k,
                )
            )
    return out


SCALING = [
    # (label, K, H, n): one factor at a time away from the 64-net XOR base
    ("base: K=64, H=10, n=21 (XOR)", 64, 10, None),
    ("n=100 (linear)", 64, 10, 100),
    ("n=1000 (linear)", 64, 10, 1000),
    ("H=32", 64, 32, None),
    ("H=100", 64, 100, None),
    ("H=256", 64, 256, None),  # a power of two: W^T as a view, not a copy (see layers.py)
    ("K=1", 1, 10, None),
    ("K=8", 8, 10, None),
    ("K=256", 256, 10, None),
]


def run(quick: bool = False) -> dict[str, Any]:
    """64 XOR nets x 10k epochs (quick: 300), then a scaling table with calibrated epochs."""
    torch = common.optional_torch()
    default_threads = torch.get_num_threads() if torch else None
    threads = [] if torch is None else [1] + ([default_threads] if default_threads != 1 else [])
    epochs, repeats = (300, 2) if quick else (10_000, 3)
    try:
        timings = common.measure(
            contenders(NETS, HIDDEN, None, epochs, threads),
            repeats=repeats,
            target_seconds=0.3 if quick else 1.0,
        )
        scaling = {}
        for label, k, h, n in SCALING:
            scaling[label] = common.measure(
                contenders(k, h, n, None, threads[:1], sequential=False, autograd=False),
                repeats=2 if quick else 3,
                target_seconds=0.05 if quick else 0.3,
            )
    finally:
        if torch is not None:
            torch.set_num_threads(default_threads)
    seq, stacked = timings["proplab sequential"], timings["proplab stacked"]

    rows = [
        [
            name,
            t.units // NETS,
            common.fmt_us(t.median),
            common.fmt_us(t.cpu_median),
            common.paired_text(seq, t),
            common.paired_text(t, stacked),
            f"{t.spread:.0%}",
        ]
        for name, t in timings.items()
    ]
    names = list(next(iter(scaling.values())))
    scale_rows = [
        [label]
        + [
            f"{common.fmt_us(ts[name].median)} ({common.fmt_us(ts[name].cpu_median)})"
            for name in names
        ]
        for label, ts in scaling.items()
    ]
    tables = [
        common.table(
            f"{NETS} XOR nets (2-{HIDDEN}-{HIDDEN}-1 sigmoid, MSE, SGD, per-net lr): time per net-epoch",
            [
                "implementation",
                "epochs",
                "us/net-epoch wall",
                "us/net-epoch CPU",
                "speed-up vs proplab sequential: wall (CPU)",
                "time vs proplab stacked: wall (CPU)",
                "spread (wall)",
            ],
            rows,
            note=f"Medians of {repeats} interleaved repeats; ratios are medians of the per-repeat ratios. CPU = process CPU time (all threads).",
        ),
        common.table(
            "How the stacked cost grows: us per net-epoch, wall (CPU); one factor changed at a time",
            ["case", *names],
            scale_rows,
        ),
    ]
    return {
        "name": "stack",
        "title": f"{NETS} nets at once: replica stacks",
        "tables": tables,
        "notes": [
            "Net k starts from mlp(rng=default_rng(k)) with lr_k = 0.5 + k/64; every contender logs every replica's loss each epoch.",
            "NumPy contenders run with BLAS limited to 1 thread; torch rows say their thread count.",
        ],
        "data": {
            "headline": {name: t.as_dict() for name, t in timings.items()},
            "scaling": {
                label: {name: t.as_dict() for name, t in ts.items()}
                for label, ts in scaling.items()
            },
            "epochs": epochs,
            "nets": NETS,
            "repeats": repeats,
        },
    }


if __name__ == "__main__":
    result = run(quick=common.script_args(__doc__).quick)
    print(common.render_markdown(result))
