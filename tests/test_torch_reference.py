"""proplab against PyTorch in float64: forward values, gradients and optimizer trajectories.

proplab's Linear weight is ``(in, out)`` (forward ``x @ W``); torch's is ``(out, in)``,
so weights cross over transposed.
"""

from __future__ import annotations

import numpy as np
import pytest

from proplab import (
    SGD,
    AdaGrad,
    Adam,
    BCELoss,
    Identity,
    LeakyReLU,
    Linear,
    MSELoss,
    ReLU,
    RMSProp,
    Sequential,
    Sigmoid,
    Tanh,
    mlp,
)

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: one thread avoids the intra-op pool's start-up and spinning on 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TOL = {"rtol": 1e-10, "atol": 1e-10}


def t(a: np.ndarray, grad: bool = False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def to_torch(module) -> torch.nn.Module:
    """The torch twin of a proplab module, with the same (transposed) weights."""
    if isinstance(module, Sequential):
        return torch.nn.Sequential(*[to_torch(m) for m in module.layers])
    if isinstance(module, Linear):
        twin = torch.nn.Linear(
            module.in_features,
            module.out_features,
            bias=module.bias is not None,
            dtype=torch.float64,
        )
        with torch.no_grad():
            twin.weight.copy_(t(module.weight.data.T))
            if module.bias is not None:
                twin.bias.copy_(t(module.bias.data))
        return twin
    if isinstance(module, LeakyReLU):
        return torch.nn.LeakyReLU(module.negative_slope)
    simple = {
        Sigmoid: torch.nn.Sigmoid,
        Tanh: torch.nn.Tanh,
        ReLU: torch.nn.ReLU,
        Identity: torch.nn.Identity,
    }
    return simple[type(module)]()


def torch_params_as_proplab(twin: torch.nn.Module) -> list[np.ndarray]:
    """Torch parameters in proplab's layout and order (weight transposed, then bias)."""
    out = []
    for p in twin.parameters():
        a = p.detach().numpy()
        out.append(a.T if a.ndim == 2 else a)
    return out


def assert_module_matches_torch(module, x: np.ndarray, rng: np.random.Generator) -> None:
    twin = to_torch(module)
    xt = t(x, grad=True)
    out = module.forward(x.copy())
    out_t = twin(xt)
    np.testing.assert_allclose(out, out_t.detach().numpy(), **TOL)
    g = rng.standard_normal(out.shape)
    module.zero_grad()
    grad_in = module.backward(g)
    (out_t * t(g)).sum().backward()
    np.testing.assert_allclose(grad_in, xt.grad.numpy(), **TOL)
    torch_grads = []
    for p in twin.parameters():
        a = p.grad.numpy()
        torch_grads.append(a.T if a.ndim == 2 else a)
    ours = [p.grad for p in module.parameters()]
    assert len(ours) == len(torch_grads)
    for a, b in zip(ours, torch_grads, strict=True):
        np.testing.assert_allclose(a, b, **TOL)


# --- modules -------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, bias):
    layer = Linear(3, 4, bias=bias, rng=rng)
    if bias:
        layer.bias.data[...] = rng.standard_normal(4)
    assert_module_matches_torch(layer, rng.standard_normal((6, 3)), rng)


@pytest.mark.parametrize(
    "module",
    [Sigmoid, Tanh, ReLU, lambda: LeakyReLU(0.1), Identity],
    ids=["sigmoid", "tanh", "relu", "leaky_relu", "identity"],
)
def test_activations(rng, module):
    x = rng.uniform(-6, 6, size=(7, 3))
    x[0, :] = [-40.0, 0.0, 40.0]  # saturated sigmoid/tanh and the kink at 0
    assert_module_matches_torch(module(), x, rng)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_full_mlp(rng, activation):
    model = mlp(2, (5, 4), 1, activation=activation, rng=rng)
    for p in model.parameters():
        if p.name == "bias":
            p.data[...] = rng.uniform(-0.5, 0.5, size=p.shape)
    assert_module_matches_torch(model, rng.standard_normal((9, 2)), rng)


def test_mlp_with_raw_output(rng):
    model = mlp(3, (6, 6), 2, activation="tanh", output_activation=None, rng=rng)
    assert_module_matches_torch(model, rng.standard_normal((5, 3)), rng)


# --- losses --------------------------------------------------------------------------


def assert_loss_matches_torch(ours, theirs, pred: np.ndarray, target: np.ndarray) -> None:
    value = ours(pred, target)
    pt = t(pred, grad=True)
    value_t = theirs(pt, t(target))
    value_t.backward()
    np.testing.assert_allclose(value, value_t.item(), **TOL)
    np.testing.assert_allclose(ours.backward(), pt.grad.numpy(), **TOL)


def test_mse(rng):
    assert_loss_matches_torch(
        MSELoss(), torch.nn.MSELoss(), rng.standard_normal((8, 2)), rng.standard_normal((8, 2))
    )


def test_bce(rng):
    pred = rng.uniform(0.01, 0.99, size=(8, 1))
    target = rng.integers(0, 2, size=(8, 1)).astype(np.float64)
    assert_loss_matches_torch(BCELoss(), torch.nn.BCELoss(), pred, target)


def test_bce_at_zero_and_one():
    # torch clamps log at -100 and floors p (1 - p) at 1e-12 in the gradient
    pred = np.array([[0.0], [1.0], [0.0], [1.0], [0.3]])
    target = np.array([[1.0], [0.0], [0.0], [1.0], [1.0]])
    ours = BCELoss()
    value = ours(pred, target)
    pt = t(pred, grad=True)
    value_t = torch.nn.BCELoss()(pt, t(target))
    value_t.backward()
    # (100 + 100 + 0 + 0 - ln 0.3) / 5
    np.testing.assert_allclose(value, value_t.item(), **TOL)
    assert value == pytest.approx((200 - np.log(0.3)) / 5, rel=1e-15)
    # torch's 1e-12 floor passes through float32 (9.99999996e-13), and so does ours: the
    # +-2e11 gradients at p = 0 and 1 were 4e-9 relative off torch's with 1e-12 (num21
    # L1); now they differ by the rounding of a division order only
    np.testing.assert_allclose(ours.backward(), pt.grad.numpy(), rtol=1e-15, atol=0)


def test_bce_gradient_where_the_floor_binds_is_torchs():
    pred = np.array([[0.0], [1.0], [1e-13], [1 - 1.1e-16], [5e-324]])
    target = np.array([[1.0], [0.0], [0.0], [1.0], [0.5]])
    ours = BCELoss()
    ours(pred, target)
    pt = t(pred, grad=True)
    torch.nn.BCELoss()(pt, t(target)).backward()
    np.testing.assert_allclose(ours.backward(), pt.grad.numpy(), rtol=1e-15, atol=0)


def test_bce_soft_targets(rng):
    pred, target = rng.uniform(0.05, 0.95, size=(6, 3)), rng.uniform(0, 1, size=(6, 3))
    assert_loss_matches_torch(BCELoss(), torch.nn.BCELoss(), pred, target)


# --- optimizers: 50 steps on a small mlp ---------------------------------------------

OPTIMIZERS = {
    "sgd": (lambda ps: SGD(ps, lr=0.5), lambda ps: torch.optim.SGD(ps, lr=0.5)),
    "momentum": (
        lambda ps: SGD(ps, lr=0.3, momentum=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.9),
    ),
    "dampening": (
        lambda ps: SGD(ps, lr=0.3, momentum=0.9, dampening=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.9, dampening=0.9),
    ),
    "nesterov": (
        lambda ps: SGD(ps, lr=0.3, momentum=0.8, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.8, nesterov=True),
    ),
    "weight_decay": (
        lambda ps: SGD(ps, lr=0.5, momentum=0.5, weight_decay=0.01),
        lambda ps: torch.optim.SGD(ps, lr=0.5, momentum=0.5, weight_decay=0.01),
    ),
    "adagrad": (
        lambda ps: AdaGrad(ps, lr=0.2, lr_decay=0.01, weight_decay=0.001),
        lambda ps: torch.optim.Adagrad(ps, lr=0.2, lr_decay=0.01, weight_decay=0.001),
    ),
    "rmsprop": (
        lambda ps: RMSProp(ps, lr=0.01, alpha=0.9),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9),
    ),
    "rmsprop_centered_momentum": (
        lambda ps: RMSProp(
            ps, lr=0.005, alpha=0.95, momentum=0.7, centered=True, weight_decay=0.01
        ),
        lambda ps: torch.optim.RMSprop(
            ps, lr=0.005, alpha=0.95, momentum=0.7, centered=True, weight_decay=0.01
        ),
    ),
    "adam": (
        lambda ps: Adam(ps, lr=0.05),
        lambda ps: torch.optim.Adam(ps, lr=0.05),
    ),
    "adam_amsgrad_weight_decay": (
        lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.95), amsgrad=True, weight_decay=0.01),
        lambda ps: torch.optim.Adam(
            ps, lr=0.05, betas=(0.8, 0.95), amsgrad=True, weight_decay=0.01
        ),
    ),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_trajectory_matches_torch(xor, name):
    x, y = xor
    make_ours, make_theirs = OPTIMIZERS[name]
    model = mlp(2, (5, 4), 1, rng=np.random.default_rng(0))
    twin = to_torch(model)
    start = model.state_dict()
    opt, opt_t = make_ours(model.parameters()), make_theirs(twin.parameters())
    loss_fn, loss_t = MSELoss(), torch.nn.MSELoss()
    xt, yt = t(x), t(y)
    ours_losses, torch_losses = [], []
    for _ in range(50):
        opt.zero_grad()
        ours_losses.append(loss_fn(model.forward(x), y))
        model.backward(loss_fn.backward(), need_input_grad=False)
        opt.step()
        opt_t.zero_grad()
        value = loss_t(twin(xt), yt)
        value.backward()
        opt_t.step()
        torch_losses.append(value.item())
    np.testing.assert_allclose(ours_losses, torch_losses, **TOL)
    for p, q in zip(model.parameters(), torch_params_as_proplab(twin), strict=True):
        np.testing.assert_allclose(p.data, q, **TOL)
    # the run went somewhere (XOR's first epochs sit on a plateau, so look at the weights)
    moved = max(np.max(np.abs(p.data - start[n])) for n, p in model.named_parameters())
    assert moved > 1e-2


@pytest.mark.parametrize("module", [ReLU, lambda: LeakyReLU(0.1)], ids=["relu", "leaky_relu"])
def test_activation_gradients_at_nan_and_infinite_inputs(module):
    # ReLU's gradient at a NaN input was 0 where PyTorch passes the gradient through
    x = np.array([[np.nan, -np.inf, np.inf, 0.0, -1.0, 2.0]])
    g = np.array([[1.5, 2.0, 3.0, 4.0, 5.0, 6.0]])
    ours = module()
    ours.forward(x)
    tx = torch.tensor(x, requires_grad=True)
    theirs = {"ReLU": torch.nn.ReLU(), "LeakyReLU": torch.nn.LeakyReLU(0.1)}[type(ours).__name__]
    theirs(tx).backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.backward(g), tx.grad.numpy())


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_sgd_momentum_set_to_zero_and_back_steps_as_torch(xor, weight_decay):
    # momentum set to 0 mid-training with dampening and weight decay stepped by
    # (1 - dampening) g and rewrote the buffer; torch skips the buffer and steps by g
    x, y = xor
    model = mlp(2, (5, 4), 1, rng=np.random.default_rng(0))
    twin = to_torch(model)
    kw = {"lr": 0.3, "momentum": 0.9, "dampening": 0.5, "weight_decay": weight_decay}
    opt, opt_t = SGD(model.parameters(), **kw), torch.optim.SGD(twin.parameters(), **kw)
    loss_fn, loss_t = MSELoss(), torch.nn.MSELoss()
    for step in range(12):
        if step in (4, 8):  # off at step 4, back on at 8 (from the buffer torch kept)
            momentum = 0.0 if step == 4 else 0.9
            opt.set_hyper("momentum", momentum)
            opt_t.param_groups[0]["momentum"] = momentum
        opt.zero_grad()
        loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward(), need_input_grad=False)
        opt.step()
        opt_t.zero_grad()
        loss_t(twin(t(x)), t(y)).backward()
        opt_t.step()
    for p, q in zip(model.parameters(), torch_params_as_proplab(twin), strict=True):
        np.testing.assert_allclose(p.data, q, **TOL)


def test_the_defaults_copied_from_torch_are_torchs() -> None:
    # hollow19: the torch comparisons pass every hyperparameter explicitly, so Adam's lr,
    # AdaGrad's lr, RMSprop's alpha and Dropout's p could drift from torch's unseen
    import inspect

    import proplab

    def defaults(function, names):
        parameters = inspect.signature(function).parameters
        return {name: parameters[name].default for name in names}

    pairs = [
        (proplab.Adam, torch.optim.Adam, ["lr", "betas", "eps", "weight_decay", "amsgrad"]),
        (proplab.AdaGrad, torch.optim.Adagrad, ["lr", "lr_decay", "eps", "weight_decay"]),
        (proplab.RMSProp, torch.optim.RMSprop, ["lr", "alpha", "eps", "momentum", "centered"]),
    ]
    for ours, theirs, names in pairs:
        assert defaults(ours, names) == defaults(theirs, names), ours.__name__
    assert proplab.Dropout(rng=np.random.default_rng(0)).p == torch.nn.Dropout().p


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_centered_rmsprop_with_an_overflowing_gradient_stays_finite_as_torch(momentum):
    """num21 M1: v - m^2 was inf - inf = NaN (weights NaN for good); torch keeps inf."""
    from proplab import Parameter

    q = Parameter(np.array([1.0, -3.0]))
    ours = RMSProp([q], lr=0.01, centered=True, momentum=momentum)
    p = t(np.array([1.0, -3.0]), grad=True)
    theirs = torch.optim.RMSprop([p], lr=0.01, centered=True, momentum=momentum)
    for g in ([2e156, 0.5], [0.5, -4e200], [0.5, 0.5]):
        ours.zero_grad()
        q.grad = np.array(g)
        with np.errstate(over="ignore", invalid="ignore"):
            ours.step()
        p.grad = t(np.array(g))
        theirs.step()
        np.testing.assert_array_equal(q.data, p.detach().numpy())
    assert np.isfinite(q.data).all()
