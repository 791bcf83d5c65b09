"""BatchNorm1d and Dropout against PyTorch in float64: forward, every gradient, the running
statistics over several training steps, eval mode, and a whole batchnorm network trained
side by side. Dropout is compared with ``torch.nn.functional.dropout`` on the mask torch drew.
"""

from __future__ import annotations

import numpy as np
import pytest

import proplab
from proplab.batchnorm import BatchNorm1d, BatchNorm1dNaive
from proplab.dropout import Dropout

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TOL = 1e-12


def close(a, b, tol: float = TOL) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=tol)


def _torch_bn(features: int, eps: float, momentum: float, gamma, beta):
    bn = torch.nn.BatchNorm1d(features, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    return bn


@pytest.mark.parametrize("cls", [BatchNorm1d, BatchNorm1dNaive])
@pytest.mark.parametrize(
    ("n", "features", "eps", "momentum"), [(8, 3, 1e-5, 0.1), (2, 5, 1e-3, 0.5), (33, 1, 1e-5, 1.0)]
)
def test_training_steps_then_eval_equal_torch(cls, n, features, eps, momentum, rng) -> None:
    ours = cls(features, eps=eps, momentum=momentum)
    ours.weight.data = rng.normal(size=features)
    ours.bias.data = rng.normal(size=features)
    ref = _torch_bn(features, eps, momentum, ours.weight.data, ours.bias.data)
    opt = proplab.SGD(ours.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(4):  # each step: forward, backward, an update of gamma and beta
        x = rng.normal(loc=3.0, scale=2.0, size=(n, features))
        g = rng.normal(size=(n, features))
        xt = torch.tensor(x, requires_grad=True)
        yt = ref(xt)
        yt.backward(torch.tensor(g))
        opt.zero_grad()
        y = ours(x)
        dx = ours.backward(g)
        close(y, yt.detach().numpy())
        close(dx, xt.grad.numpy())
        close(ours.weight.grad, ref.weight.grad.numpy())
        close(ours.bias.grad, ref.bias.grad.numpy())
        opt.step()
        ref_opt.step()
        ref_opt.zero_grad()
        close(ours.running_mean, ref.running_mean.numpy())
        close(ours.running_var, ref.running_var.numpy())
        close(ours.weight.data, ref.weight.detach().numpy())
    ours.eval()
    ref.eval()
    x = rng.normal(size=(3, features))
    g = rng.normal(size=(3, features))
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    yt.backward(torch.tensor(g))
    ours.zero_grad()
    close(ours(x), yt.detach().numpy())
    close(ours.backward(g), xt.grad.numpy())
    close(ours.weight.grad, ref.weight.grad.numpy())
    close(ours.bias.grad, ref.bias.grad.numpy())


def test_each_replica_of_a_stack_equals_its_own_torch_batchnorm(rng) -> None:
    stack = BatchNorm1d(4, replicas=3)
    stack.weight.data = rng.normal(size=(3, 4))
    refs = [_torch_bn(4, 1e-5, 0.1, stack.weight.data[k], np.zeros(4)) for k in range(3)]
    for _ in range(3):
        x = rng.normal(size=(3, 6, 4)) * np.array([1.0, 5.0, 0.2])[:, None, None]
        g = rng.normal(size=x.shape)
        stack.zero_grad()
        y, dx = stack(x), stack.backward(g)
        for k, ref in enumerate(refs):
            ref.zero_grad()
            xt = torch.tensor(x[k], requires_grad=True)
            yt = ref(xt)
            yt.backward(torch.tensor(g[k]))
            close(y[k], yt.detach().numpy())
            close(dx[k], xt.grad.numpy())
            close(stack.weight.grad[k], ref.weight.grad.numpy())
            close(stack.running_var[k], ref.running_var.numpy())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_with_torchs_mask_equals_torch(p, rng) -> None:
    x = rng.uniform(0.5, 2.0, size=(20, 10))  # never 0: torch's mask is where y != 0
    g = rng.normal(size=(20, 10))
    torch.manual_seed(0)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.dropout(xt, p, training=True)
    yt.backward(torch.tensor(g))
    kept = yt.detach().numpy() != 0
    assert 0 < kept.sum() < kept.size
    drop = Dropout(p, rng=rng)
    drop.mask = kept / (1 - p)  # the mask torch drew, scaled as Dropout keeps it
    drop.hold_mask = True
    np.testing.assert_array_equal(drop(x), yt.detach().numpy())  # bit for bit
    np.testing.assert_array_equal(drop.backward(g), xt.grad.numpy())
    drop.eval()
    np.testing.assert_array_equal(
        drop(x), torch.nn.functional.dropout(torch.tensor(x), p, training=False).numpy()
    )


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_draws_its_own_mask_as_torch_does(p) -> None:
    # hollow19: the test above writes torch's mask in by hand, so Dropout's own draw (which
    # units it keeps, and the 1/(1-p) it scales them by) was never compared with torch's
    torch.manual_seed(0)
    ours = Dropout(p, rng=np.random.default_rng(0))(np.ones((400, 50)))
    ones = torch.ones(400, 50, dtype=torch.float64)
    theirs = torch.nn.functional.dropout(ones, p, training=True).numpy()
    np.testing.assert_array_equal(np.unique(ours), np.unique(theirs))  # 0 and 1/(1-p)
    assert abs(np.mean(ours != 0) - np.mean(theirs != 0)) < 0.02  # both keep ~1 - p
    assert abs(np.mean(ours != 0) - (1 - p)) < 0.02


def test_a_batchnorm_network_trains_as_torchs_does(xor) -> None:
    # the lab's 2-10-10-1 sigmoid network with batchnorm, full-batch SGD at lr 1 on XOR
    x, y = xor
    model = proplab.mlp(2, 10, 1, batchnorm=True, rng=np.random.default_rng(0))
    linears = [m for m in model.layers if isinstance(m, proplab.Linear)]
    ref = torch.nn.Sequential(
        torch.nn.Linear(2, 10, bias=False, dtype=torch.float64),
        torch.nn.BatchNorm1d(10, dtype=torch.float64),
        torch.nn.Sigmoid(),
        torch.nn.Linear(10, 10, bias=False, dtype=torch.float64),
        torch.nn.BatchNorm1d(10, dtype=torch.float64),
        torch.nn.Sigmoid(),
        torch.nn.Linear(10, 1, dtype=torch.float64),
        torch.nn.Sigmoid(),
    )
    with torch.no_grad():
        for ours, theirs in zip(linears, ref[::3], strict=True):
            theirs.weight.copy_(torch.tensor(ours.weight.data.T))  # torch keeps (out, in)
            if ours.bias is not None:
                theirs.bias.copy_(torch.tensor(ours.bias.data))
    opt = proplab.SGD(model.parameters(), lr=1.0)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=1.0)
    # 25 epochs: from about epoch 30, where this network leaves XOR's plateau, it
    # magnifies round-off ~3x per epoch (the two losses 1e-14 apart at 30, 4e-9 at 50)
    history = proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=25)
    xt, yt = torch.tensor(x), torch.tensor(y, dtype=torch.float64)
    losses = []
    for _ in range(25):
        ref_opt.zero_grad()
        loss = torch.nn.functional.mse_loss(ref(xt), yt)
        loss.backward()
        ref_opt.step()
        losses.append(loss.item())
    close(history.loss, losses, 1e-12)
    close(model[1].running_var, ref[1].running_var.numpy(), 1e-12)
    close(linears[0].weight.data, ref[0].weight.detach().numpy().T, 1e-12)
    ref.eval()
    _, _, pred = proplab.evaluate(model, proplab.MSELoss(), x, y)
    close(pred, ref(xt).detach().numpy(), 1e-12)
