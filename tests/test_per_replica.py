"""PerReplica blocks, gradient masks, and stacks that mix activations and biases."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import SGD, AdaGrad, Adam, MSELoss, RMSProp, fit
from proplab.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from proplab.config import RunConfig, build_model
from proplab.core import Parameter
from proplab.gradcheck import gradcheck
from proplab.layers import Linear
from proplab.per_replica import PerReplica, PerReplicaOptimizer
from proplab.stacking import build_stack_model


def _mix() -> PerReplica:
    return PerReplica([(2, Sigmoid()), (1, Tanh()), (3, ReLU()), (1, Identity())])


def test_each_block_equals_its_module_alone(rng):
    x = rng.standard_normal((7, 5, 4))
    g = rng.standard_normal((7, 5, 4))
    mix = _mix()
    out, grad = mix.forward(x), mix.backward(g)
    for (start, stop), module in zip(
        [(0, 2), (2, 3), (3, 6), (6, 7)], [Sigmoid(), Tanh(), ReLU(), Identity()], strict=True
    ):
        np.testing.assert_array_equal(out[start:stop], module.forward(x[start:stop]))
        np.testing.assert_array_equal(grad[start:stop], module.backward(g[start:stop]))


def test_gradcheck(rng):
    # inputs kept away from ReLU's kink at 0, where the derivative is not defined
    x = rng.uniform(0.2, 2.0, size=(7, 3, 2)) * rng.choice([-1.0, 1.0], size=(7, 3, 2))
    result = gradcheck(_mix(), x)
    assert result.ok, str(result)


def test_bad_parts_and_shapes_are_rejected(rng):
    with pytest.raises(ValueError, match="at least one"):
        PerReplica([])
    with pytest.raises(ValueError, match="positive, got 0"):
        PerReplica([(0, Sigmoid())])
    with pytest.raises(ValueError, match="parameterless modules, got Linear"):
        PerReplica([(1, Linear(2, 2, rng=rng))])
    with pytest.raises(ValueError, match=r"over 7 replicas got an array of shape \(6, 3\)"):
        _mix().forward(np.zeros((6, 3)))


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
        lambda ps: AdaGrad(ps, lr=0.1),
        lambda ps: RMSProp(ps, lr=0.1, momentum=0.5),
    ],
    ids=["sgd-momentum", "adam", "adagrad", "rmsprop"],
)
def test_grad_mask_holds_masked_entries_and_leaves_the_rest(make, rng):
    data = rng.standard_normal((4, 3))
    data[1] = 0.0  # the masked replica's entries start (and must stay) at zero
    masked, free = Parameter(data.copy(), 1), Parameter(data.copy(), 1)
    masked.grad_mask = np.array([[1.0], [0.0], [1.0], [1.0]])
    opt_masked, opt_free = make([masked]), make([free])
    for _ in range(5):
        g = rng.standard_normal((4, 3))
        for p, opt in ((masked, opt_masked), (free, opt_free)):
            opt.zero_grad()
            p.accumulate(g)
            opt.step()
    np.testing.assert_array_equal(masked.data[1], 0.0)
    keep = [0, 2, 3]
    np.testing.assert_array_equal(masked.data[keep], free.data[keep])
    assert not np.allclose(free.data[1], 0.0)


def test_mixed_stack_trains_each_replica_as_its_own_model(xor):
    x, y = xor
    base = RunConfig(epochs=50, lr=0.5).validate()
    cfgs = [
        base.replace(seed=0),
        base.replace(seed=1),
        base.replace(seed=2, activation="tanh"),
        base.replace(seed=3, activation="leaky_relu", bias=False),
        base.replace(seed=4, activation="identity", output_activation="identity", bias=False),
    ]
    stack = build_stack_model(cfgs, 2, 1)
    kinds = [type(layer).__name__ for layer in stack.layers]
    assert kinds == ["Linear", "PerReplica", "Linear", "PerReplica", "Linear", "PerReplica"]
    assert isinstance(stack.layers[3].blocks[2][1], LeakyReLU)
    opt = SGD(stack.parameters(), lr=0.5)
    stacked = fit(stack, MSELoss(), opt, x, y, 50)
    for k, cfg in enumerate(cfgs):
        alone = build_model(cfg, 2, 1)
        history = fit(alone, MSELoss(), SGD(alone.parameters(), lr=0.5), x, y, 50)
        assert history.loss == stacked.replica(k).loss, cfg
        for name, p in alone.named_parameters():
            np.testing.assert_array_equal(p.data, dict(stack.named_parameters())[name].data[k])
        if not cfg.bias:  # the stack's bias for this replica never left zero
            assert all(not layer.bias.data[k].any() for layer in stack.layers[::2])


def test_mixed_conv_stack_trains_each_replica_as_its_own_model(xor):
    x, y = xor
    base = RunConfig(model="conv", epochs=30, lr=0.5).validate()
    cfgs = [
        base.replace(seed=0),
        base.replace(seed=1, activation="relu", bias=False),
        base.replace(seed=2, activation="tanh"),
    ]
    stack = build_stack_model(cfgs, 2, 1)
    opt = SGD(stack.parameters(), lr=0.5)
    stacked = fit(stack, MSELoss(), opt, x, y, 30)
    stacked_params = dict(stack.named_parameters())
    for k, cfg in enumerate(cfgs):
        alone = build_model(cfg, 2, 1)
        history = fit(alone, MSELoss(), SGD(alone.parameters(), lr=0.5), x, y, 30)
        assert history.loss == stacked.replica(k).loss, cfg
        for name, p in alone.named_parameters():
            np.testing.assert_array_equal(p.data, stacked_params[name].data[k])
    # replica 1 has no bias anywhere: the stack's biases (Conv1d's too) stayed at zero
    biases = [p for name, p in stacked_params.items() if name.endswith("bias")]
    assert len(biases) == 3 and all(not b.data[1].any() for b in biases)


def test_per_replica_optimizer_rejects_parameters_of_another_replica_count(rng):
    p = Parameter(rng.standard_normal((4, 3)), replica_ndim=1)
    with pytest.raises(ValueError, match=r"over 5 replicas needs .* length 5, got .*\(4, 3\)"):
        PerReplicaOptimizer([p], [(2, lambda ps: SGD(ps)), (3, lambda ps: Adam(ps))])


def test_per_replica_optimizer_equals_each_rule_on_its_block(rng):
    data = rng.standard_normal((5, 3))
    grads = [rng.standard_normal((5, 3)) for _ in range(4)]
    mixed = Parameter(data.copy(), replica_ndim=1)
    opt = PerReplicaOptimizer(
        [mixed],
        [(2, lambda ps: Adam(ps, lr=0.1)), (3, lambda ps: SGD(ps, lr=np.array([0.1, 0.2, 0.3])))],
    )
    first, second = Parameter(data[:2].copy(), 1), Parameter(data[2:].copy(), 1)
    adam, sgd = Adam([first], lr=0.1), SGD([second], lr=np.array([0.1, 0.2, 0.3]))
    for g in grads:
        for p, o, value in ((mixed, opt, g), (first, adam, g[:2]), (second, sgd, g[2:])):
            o.zero_grad()
            p.accumulate(value)
            o.step()
    np.testing.assert_array_equal(mixed.data[:2], first.data)
    np.testing.assert_array_equal(mixed.data[2:], second.data)
    np.testing.assert_array_equal(opt.lr, [0.1, 0.1, 0.1, 0.2, 0.3])
    assert "0:2=Adam" in repr(opt) and "2:5=SGD" in repr(opt)
