"""Conv1d against ``torch.nn.functional.conv1d`` in float64: forward and every gradient.

Same geometry grid as tests/test_conv.py. PyTorch's weight layout
``(out, in, k)`` and input layout ``(n, C, L)`` are proplab's, so the arrays
are passed across unchanged.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from proplab.conv import Conv1d, conv1d_naive, conv1d_naive_backward
from proplab.models import conv_net

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

F = torch.nn.functional
TOL = 1e-10
GRID = list(itertools.product((1, 2, 3), (0, 1, 2), (1, 2), ((1, 1), (2, 3), (3, 2)), (1, 2, 3)))
GRID_IDS = [f"s{s}-p{p}-d{d}-c{c[0]}to{c[1]}-k{k}" for s, p, d, c, k in GRID]


def torch_conv(x, w, b, g, s, p, d):
    """``(out, dx, dw, db)`` from PyTorch autograd for the upstream gradient ``g``."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    out = F.conv1d(xt, wt, bt, stride=s, padding=p, dilation=d)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def close(a, b) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


@pytest.mark.parametrize(("s", "p", "d", "channels", "k"), GRID, ids=GRID_IDS)
def test_forward_and_backward_equal_torch(s, p, d, channels, k, rng) -> None:
    conv = Conv1d(channels[0], channels[1], k, s, p, d, rng=rng)
    conv.bias.data[...] = rng.standard_normal(channels[1])
    x = rng.standard_normal((3, channels[0], 8))
    out = conv(x)
    g = rng.standard_normal(out.shape)
    dx = conv.backward(g)
    want = torch_conv(x, conv.weight.data, conv.bias.data, g, s, p, d)
    assert out.shape == want[0].shape
    for got, ref in zip((out, dx, conv.weight.grad, conv.bias.grad), want, strict=True):
        close(got, ref)


@pytest.mark.parametrize(("s", "p", "d", "channels", "k"), GRID[::7], ids=GRID_IDS[::7])
def test_naive_twin_equals_torch(s, p, d, channels, k, rng) -> None:
    w = rng.standard_normal((channels[1], channels[0], k))
    b = rng.standard_normal(channels[1])
    x = rng.standard_normal((2, channels[0], 8))
    out = conv1d_naive(x, w, b, s, p, d)
    g = rng.standard_normal(out.shape)
    want = torch_conv(x, w, b, g, s, p, d)
    close(out, want[0])
    for got, ref in zip(conv1d_naive_backward(x, w, g, s, p, d), want[1:], strict=True):
        close(got, ref)


@pytest.mark.parametrize(("s", "p", "d", "channels", "k"), GRID[::4], ids=GRID_IDS[::4])
@pytest.mark.parametrize("shared", [True, False], ids=["shared-input", "per-replica-input"])
def test_replica_stack_equals_torch_per_replica(shared, s, p, d, channels, k, rng) -> None:
    # every fourth geometry of the grid (41: every stride, padding and dilation together,
    # every kernel and channel pair), as docs/conv.md says; it was one (audit15b L3)
    c_in, c_out = channels
    conv = Conv1d(c_in, c_out, k, s, p, d, rng=rng, replicas=(2, 3))
    conv.bias.data[...] = rng.standard_normal(conv.bias.data.shape)
    x = rng.standard_normal((4, c_in, 9) if shared else (2, 3, 4, c_in, 9))
    out = conv(x)
    g = rng.standard_normal(out.shape)
    dx = conv.backward(g)
    dx_sum = np.zeros(x.shape[-3:])
    for r in np.ndindex(2, 3):
        xr = x if shared else x[r]
        want = torch_conv(xr, conv.weight.data[r], conv.bias.data[r], g[r], s, p, d)
        close(out[r], want[0])
        close(conv.weight.grad[r], want[2])
        close(conv.bias.grad[r], want[3])
        if shared:
            dx_sum += want[1]
        else:
            close(dx[r], want[1])
    if shared:  # shared data feeds every replica: its gradient is the sum
        close(dx, dx_sum)


@pytest.mark.parametrize("k", [2, 3])
def test_conv_net_equals_torch_sequential(k, rng) -> None:
    """The whole lab conv model against the same network in torch.nn, output and all grads."""
    model = conv_net(2, 4, 6, 1, kernel_size=k, padding=1, rng=np.random.default_rng(0))
    conv, lin1, lin2 = model.layers[1], model.layers[4], model.layers[6]
    for layer in (conv, lin1, lin2):
        layer.bias.data[...] = rng.standard_normal(layer.bias.data.shape)
    tconv = torch.nn.Conv1d(1, 4, k, padding=1, dtype=torch.float64)
    tl1 = torch.nn.Linear(lin1.in_features, 6, dtype=torch.float64)
    tl2 = torch.nn.Linear(6, 1, dtype=torch.float64)
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(conv.weight.data))
        tconv.bias.copy_(torch.tensor(conv.bias.data))
        for t, ours in ((tl1, lin1), (tl2, lin2)):
            t.weight.copy_(torch.tensor(ours.weight.data.T))  # torch stores (out, in)
            t.bias.copy_(torch.tensor(ours.bias.data))
    tnet = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 2)),
        tconv,
        torch.nn.Sigmoid(),
        torch.nn.Flatten(),
        tl1,
        torch.nn.Sigmoid(),
        tl2,
        torch.nn.Sigmoid(),
    )
    x = rng.random((10, 2))
    g = rng.standard_normal((10, 1))
    xt = torch.tensor(x, requires_grad=True)
    yt = tnet(xt)
    yt.backward(torch.tensor(g))
    y = model(x)
    dx = model.backward(g)
    close(y, yt.detach().numpy())
    close(dx, xt.grad.numpy())
    close(conv.weight.grad, tconv.weight.grad.numpy())
    close(conv.bias.grad, tconv.bias.grad.numpy())
    for t, ours in ((tl1, lin1), (tl2, lin2)):
        close(ours.weight.grad, t.weight.grad.numpy().T)
        close(ours.bias.grad, t.bias.grad.numpy())


def test_benchmark_contenders_compute_the_same_step() -> None:
    """benchmarks/bench_conv.py times the same work: naive loops and torch agree with proplab."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_conv

    worst = bench_conv.check_agreement(bench_conv.problem(1, 8), torch_available=True)
    assert set(worst) == {"naive loops", "torch float64", "torch float32"}
    assert worst["naive loops"] < 1e-12
    assert worst["torch float64"] < 1e-12
    assert 1e-9 < worst["torch float32"] < 1e-5  # float32 really ran in float32
