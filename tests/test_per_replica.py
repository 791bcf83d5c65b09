"""PerReplica blocks, gradient masks, and stacks that mix activations and biases."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import SGD, AdaGrad, Adam, MSELoss, RMSProp, fit, mlp
from proplab.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from proplab.config import RunConfig, build_model
from proplab.core import Parameter
from proplab.gradcheck import gradcheck
from proplab.layers import Flatten, Linear
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
    with pytest.raises(ValueError, match="positive integer, got 0"):
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


@pytest.mark.parametrize("count", [0, -1, 1.5, True, None, "2", float("inf"), float("nan")])
def test_bad_replica_counts_are_named(count):
    with pytest.raises(ValueError, match=r"part 1's replica count must be a positive integer"):
        PerReplica([(2, Sigmoid()), (count, Tanh())])
    # an optimizer's blocks too: a negative count made blocks overlap (an AssertionError
    # from packing), True was taken as 1
    with pytest.raises(ValueError, match=r"part 1's replica count must be a positive integer"):
        PerReplicaOptimizer(
            [Parameter(np.zeros((4, 3)), 1)],
            [(3, lambda ps: SGD(ps)), (count, lambda ps: SGD(ps)), (1, lambda ps: SGD(ps))],
        )


def test_bad_parts_are_named():
    with pytest.raises(TypeError, match=r"part 0 must be a \(count, module\) pair"):
        PerReplica([Sigmoid()])
    with pytest.raises(TypeError, match=r"part 0's module must be a Module"):
        PerReplica([(2, "sigmoid")])
    with pytest.raises(ValueError, match="at least one"):
        PerReplicaOptimizer([Parameter(np.zeros((4, 3)), 1)], [])
    with pytest.raises(TypeError, match=r"part 0's make returned None"):
        PerReplicaOptimizer([Parameter(np.zeros((4, 3)), 1)], [(4, lambda ps: None)])
    other = SGD([Parameter(np.zeros((4, 3)), 1)], lr=np.ones(4))
    with pytest.raises(ValueError, match="over other parameters"):
        PerReplicaOptimizer([Parameter(np.zeros((4, 3)), 1)], [(4, lambda ps: other)])


def test_one_module_instance_in_two_blocks_is_refused(rng):
    # its backward would use what its forward saved for the other block: wrong gradients
    shared = Sigmoid()
    with pytest.raises(ValueError, match="parts 0 and 1 share one Sigmoid instance"):
        PerReplica([(2, shared), (2, shared)])


def test_a_one_model_array_whose_samples_match_the_replica_count_is_refused(xor):
    # (21, 4) hidden activations of one model fed to a PerReplica over 21 replicas used
    # to pass: each *sample* got its own activation
    x, _ = xor
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    model.layers[1] = PerReplica([(10, Sigmoid()), (11, Tanh())])
    with pytest.raises(ValueError, match=r"over 21 replicas got an array of shape \(21, 4\)"):
        model.forward(x)


def test_a_module_that_changes_the_shape_is_named(rng):
    mixed = PerReplica([(2, Flatten()), (1, Sigmoid())])
    with pytest.raises(ValueError, match=r"Flatten of replicas 0:2 did not return .* shape"):
        mixed.forward(rng.standard_normal((3, 4, 5, 2)))


def _sgd_adam(k_sgd=2, k_adam=2):
    params = [Parameter(np.zeros((k_sgd + k_adam, 3)), 1)]
    return PerReplicaOptimizer(
        params,
        [
            (k_sgd, lambda ps: SGD(ps, lr=0.5, momentum=0.9)),
            (k_adam, lambda ps: Adam(ps, lr=np.array([0.1, 0.2]))),
        ],
    )


def test_set_hyper_checks_every_block_before_changing_any():
    opt = _sgd_adam()
    before = [dict(rule.hyper) for _, rule, _ in opt.blocks]
    # a name one rule lacks was silently added to it ('momentum' on Adam)
    with pytest.raises(ValueError, match=r"'momentum' is not a hyperparameter of replicas 2:4"):
        opt.set_hyper("momentum", 0.5)
    with pytest.raises(ValueError, match=r"'beta1' is not .* 0:2 \(SGD\)"):
        opt.hyper_array("beta1")  # was a bare KeyError
    # a wrong value for a later block used to leave the earlier ones changed
    for bad in (-1.0, float("nan"), np.array([1.0, 1.0, -1.0, 1.0]), "a", None):
        with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
            opt.set_hyper("lr", bad)
    with pytest.raises(ValueError, match=r"must have shape \(4,\), got \(3,\)"):
        opt.set_hyper("lr", np.ones(3))
    for (_, rule, _), old in zip(opt.blocks, before, strict=True):
        assert rule.hyper.keys() == old.keys()
        for name, value in old.items():
            np.testing.assert_array_equal(rule.hyper[name], value)
    # a list per replica is taken as an array (it used to reach the first block whole)
    opt.set_hyper("lr", [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(opt.lr, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(opt.blocks[0][1].hyper["lr"], [1.0, 2.0])
    opt.set_hyper("weight_decay", 0.01)
    np.testing.assert_array_equal(opt.hyper_array("weight_decay"), 0.01)


def test_stack_of_mixed_rules_stops_each_replica_alone(xor):
    # replicas 0-1 SGD with momentum (lr 5 diverges), 2-3 RMSprop (one below tol early):
    # each stops alone, keeps its weights, and equals its run alone
    x, y = xor
    lrs_sgd, lrs_rms = [0.001, 5.0], [0.05, 0.3]
    kw = {"activation": "identity", "output_activation": "identity"}
    stack = mlp(2, 4, 1, seeds=range(4), **kw)
    stack.layers[1] = PerReplica([(2, Identity()), (2, Identity())])
    opt = PerReplicaOptimizer(
        stack.parameters(),
        [
            (2, lambda ps: SGD(ps, lr=np.array(lrs_sgd), momentum=0.9)),
            (2, lambda ps: RMSProp(ps, lr=np.array(lrs_rms), momentum=0.9)),
        ],
    )
    stacked = fit(stack, MSELoss(), opt, x, y, 300, tol=0.24945)
    assert "diverged" in stacked.replica_stop_reason
    assert "converged" in stacked.replica_stop_reason
    assert "completed" in stacked.replica_stop_reason
    for k in range(4):
        alone = mlp(2, 4, 1, rng=np.random.default_rng(k), **kw)
        if k < 2:
            rule = SGD(alone.parameters(), lr=lrs_sgd[k], momentum=0.9)
        else:
            rule = RMSProp(alone.parameters(), lr=lrs_rms[k - 2], momentum=0.9)
        history = fit(alone, MSELoss(), rule, x, y, 300, tol=0.24945)
        mine = stacked.replica(k)
        assert (mine.stop_reason, mine.epochs_run) == (history.stop_reason, history.epochs_run)
        np.testing.assert_array_equal(mine.loss, history.loss)
        for p, q in zip(alone.parameters(), stack.parameters(), strict=True):
            np.testing.assert_array_equal(p.data, q.data[k])


def test_a_stack_with_more_replicas_than_the_blocks_cover_is_refused():
    # 3 replicas in blocks; a (4, n, f) stack would leave replica 3's rows unwritten
    # (np.empty garbage) in both passes
    mix = PerReplica([(1, Sigmoid()), (2, Tanh())])
    with pytest.raises(ValueError, match=r"over 3 replicas got an array of shape \(4, 2, 1\)"):
        mix.forward(np.zeros((4, 2, 1)))
    mix.forward(np.zeros((3, 2, 1)))
    with pytest.raises(ValueError, match=r"over 3 replicas got an array of shape \(4, 2, 1\)"):
        mix.backward(np.zeros((4, 2, 1)))


def test_per_replica_optimizer_refuses_a_nested_one_and_two_replica_axes():
    p = Parameter(np.zeros((4, 3)), 1)
    with pytest.raises(TypeError, match="part 0's make returned PerReplicaOptimizer"):
        PerReplicaOptimizer([p], [(4, lambda ps: PerReplicaOptimizer(ps, [(4, SGD)]))])
    two_axes = Parameter(np.zeros((4, 2, 3)), replica_ndim=2)
    with pytest.raises(ValueError, match=r"one replica axis of length 4, got .*\(4, 2, 3\)"):
        PerReplicaOptimizer([two_axes], [(4, lambda ps: SGD(ps))])


@pytest.mark.parametrize(
    ("kind", "name", "bad"),
    [
        (Adam, "beta1", [0.5, 0.5, 0.5, 1.0]),  # beta1 < 1
        (SGD, "dampening", [0.2, 0.2, 0.2, 1.5]),  # dampening <= 1
    ],
)
def test_a_value_one_block_refuses_changes_no_block(kind, name, bad):
    # the range checks ran block by block inside set_hyper: the blocks before the one
    # that refused kept the new value
    p = Parameter(np.zeros((4, 3)), replica_ndim=1)
    extra = {"momentum": 0.9} if kind is SGD else {}
    opt = PerReplicaOptimizer(
        [p], [(2, lambda ps: kind(ps, lr=0.1, **extra)), (2, lambda ps: kind(ps, lr=0.01, **extra))]
    )
    before = opt.hyper_array(name).copy()
    with pytest.raises(ValueError, match=rf"{name} must be in \[0, 1"):
        opt.set_hyper(name, np.array(bad))
    np.testing.assert_array_equal(opt.hyper_array(name), before)


class _SoftplusReturningItsOwn(Identity):
    """A student's activation that copied Sigmoid's template (``supports_out`` and an
    ``out=`` argument) but returns a new array and never writes into ``out``."""

    supports_out = True

    def forward(self, x, out=None):
        self.x = x
        return np.logaddexp(0.0, x)

    def backward(self, grad_out, need_input_grad=True, out=None):
        return grad_out / (1.0 + np.exp(-self.x))


def test_a_module_that_flags_out_but_returns_a_new_array_is_still_used(rng):
    # read18: PerReplica took such a module's writes into `out` on trust and passed on
    # np.empty's garbage, with no error
    x, g = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    mixed = PerReplica([(1, _SoftplusReturningItsOwn()), (2, Sigmoid())])
    y, dx = mixed.forward(x), mixed.backward(g)
    np.testing.assert_array_equal(y[0], np.logaddexp(0.0, x[0]))
    np.testing.assert_array_equal(dx[0], g[0] / (1.0 + np.exp(-x[0])))
    alone = Sigmoid()
    np.testing.assert_array_equal(y[1:], alone.forward(x[1:]))
    np.testing.assert_array_equal(dx[1:], alone.backward(g[1:]))


class _DoubleWithoutReturn(Identity):
    """A student's activation whose forward or backward forgot ``return``; with ``out``
    (``supports_out``) it writes the right numbers there first."""

    def __init__(self, forgets: str, supports_out: bool) -> None:
        super().__init__()
        self.forgets, self.supports_out = forgets, supports_out

    def forward(self, x, out=None):
        y = np.multiply(x, 2.0, out=out)
        return None if self.forgets == "forward" else y

    def backward(self, grad_out, need_input_grad=True, out=None):
        g = np.multiply(grad_out, 2.0, out=out)
        return None if self.forgets == "backward" else g


@pytest.mark.parametrize("supports_out", [False, True])
@pytest.mark.parametrize("forgets", ["forward", "backward"])
def test_a_module_that_returns_none_is_named_not_turned_into_nan(rng, forgets, supports_out):
    # PerReplica assigned what the block's module returned into its slice: None became NaN
    # in every row of the block (forward or gradient), with no error
    x = rng.normal(size=(3, 4, 2))
    mixed = PerReplica([(1, Tanh()), (2, _DoubleWithoutReturn(forgets, supports_out))])
    where = rf"_DoubleWithoutReturn\.{forgets} returned None \(did you forget `return`\?\)"
    shape = r"shape \(2, 4, 2\)"
    with pytest.raises(TypeError, match=rf"PerReplica: {where}: .*{shape}"):
        mixed.backward(mixed.forward(x)) if forgets == "backward" else mixed.forward(x)
