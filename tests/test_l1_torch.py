"""L1 regularization against PyTorch in float64.

torch's optimizers have no L1 term; ``loss + l1 * sum(|w|)`` (every parameter, biases
included) gives autograd the gradient ``grad + l1 * sign(w)``, with sign(0) = 0 as torch's
``abs`` backward has it, which is what proplab's ``l1`` adds. The optimizer's own
``weight_decay`` then adds L2 on top, in both.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_torch_reference import (  # noqa: F401 (one_torch_thread: an autouse fixture)
    one_torch_thread,
    t,
    to_torch,
    torch_params_as_proplab,
)

from proplab import SGD, AdaGrad, Adam, MSELoss, RMSProp, mlp

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


TOL = {"rtol": 1e-12, "atol": 1e-12}
L1 = 0.01

OPTIMIZERS = {
    "sgd": (
        lambda ps: SGD(ps, lr=0.5, l1=L1),
        lambda ps: torch.optim.SGD(ps, lr=0.5),
    ),
    "sgd_weight_decay": (
        lambda ps: SGD(ps, lr=0.5, weight_decay=0.02, l1=L1),
        lambda ps: torch.optim.SGD(ps, lr=0.5, weight_decay=0.02),
    ),
    "momentum_dampening": (
        lambda ps: SGD(ps, lr=0.3, momentum=0.9, dampening=0.5, l1=L1),
        lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.9, dampening=0.5),
    ),
    "nesterov_weight_decay": (
        lambda ps: SGD(ps, lr=0.3, momentum=0.8, nesterov=True, weight_decay=0.01, l1=L1),
        lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.8, nesterov=True, weight_decay=0.01),
    ),
    "adagrad": (
        lambda ps: AdaGrad(ps, lr=0.2, lr_decay=0.01, weight_decay=0.001, l1=L1),
        lambda ps: torch.optim.Adagrad(ps, lr=0.2, lr_decay=0.01, weight_decay=0.001),
    ),
    "rmsprop": (
        lambda ps: RMSProp(ps, lr=0.01, alpha=0.9, l1=L1),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9),
    ),
    "rmsprop_centered_momentum_weight_decay": (
        lambda ps: RMSProp(
            ps, lr=0.005, alpha=0.95, momentum=0.7, centered=True, weight_decay=0.01, l1=L1
        ),
        lambda ps: torch.optim.RMSprop(
            ps, lr=0.005, alpha=0.95, momentum=0.7, centered=True, weight_decay=0.01
        ),
    ),
    "adam": (
        lambda ps: Adam(ps, lr=0.05, l1=L1),
        lambda ps: torch.optim.Adam(ps, lr=0.05),
    ),
    "adam_amsgrad_weight_decay": (
        lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.95), amsgrad=True, weight_decay=0.01, l1=L1),
        lambda ps: torch.optim.Adam(
            ps, lr=0.05, betas=(0.8, 0.95), amsgrad=True, weight_decay=0.01
        ),
    ),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_l1_trajectory_matches_torch_with_the_penalty_in_the_loss(xor, name):
    x, y = xor
    make_ours, make_theirs = OPTIMIZERS[name]
    model = mlp(2, (5, 4), 1, rng=np.random.default_rng(0))
    twin = to_torch(model)
    # the same weights without L1: the penalty must have changed the trajectory
    plain = mlp(2, (5, 4), 1, rng=np.random.default_rng(0))
    opt, opt_t = make_ours(model.parameters()), make_theirs(twin.parameters())
    opt_plain = make_ours(plain.parameters())
    opt_plain.set_hyper("l1", 0.0)
    loss_fn, loss_t = MSELoss(), torch.nn.MSELoss()
    xt, yt = t(x), t(y)
    for _ in range(10):
        for net, o in ((model, opt), (plain, opt_plain)):
            o.zero_grad()
            loss_fn(net.forward(x), y)
            net.backward(loss_fn.backward(), need_input_grad=False)
            o.step()
        opt_t.zero_grad()
        penalty = sum(p.abs().sum() for p in twin.parameters())
        (loss_t(twin(xt), yt) + L1 * penalty).backward()
        opt_t.step()
    for p, q in zip(model.parameters(), torch_params_as_proplab(twin), strict=True):
        np.testing.assert_allclose(p.data, q, **TOL)
    apart = max(
        np.max(np.abs(a.data - b.data))
        for a, b in zip(model.parameters(), plain.parameters(), strict=True)
    )
    assert apart > 1e-4
