"""L1 regularization in every optimizer: one step by hand, sign(0) = 0, replica stacks.

Every rule steps on ``g = grad + weight_decay * p + l1 * sign(p)`` (see
:func:`proplab.optim.regularized`), so L1 goes through momentum and the adaptive
scaling exactly as weight decay does. The hand computations below start from
``p = [1, -2, 0]`` and ``grad = [0.5, -1, 0.25]``: with ``l1 = 0.1`` the gradient
stepped on is ``[0.6, -1.1, 0.25]`` (the third entry, at 0, gets no L1 term).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_optim import close, run  # one step per gradient, and the comparison

from proplab import SGD, AdaGrad, Adam, Parameter, RMSProp
from proplab.optim import regularized

P0 = [1.0, -2.0, 0.0]
G = [0.5, -1.0, 0.25]


# --- the gradient stepped on ---------------------------------------------------------


def test_regularized_adds_l2_then_the_l1_subgradient_with_sign_0_as_0():
    data, grad = np.array(P0), np.array(G)
    # 0.1 * [1, -2, 0] + 0.01 * [1, -1, 0]
    close(regularized(grad, data, 0.1, 0.01), [0.5 + 0.1 + 0.01, -1.0 - 0.2 - 0.01, 0.25])
    close(regularized(grad, data, 0.0, 0.01), [0.51, -1.01, 0.25])
    # off: the gradient itself, never written
    assert regularized(grad, data, 0.0, 0.0) is grad
    before = grad.copy()
    regularized(grad, data, 0.1, 0.01)
    np.testing.assert_array_equal(grad, before)


# --- one step by hand per rule -------------------------------------------------------


def test_sgd_l1_two_steps():
    # step 1: g' = [0.5 + 0.1, -1 - 0.1, 0.25 + 0] = [0.6, -1.1, 0.25]
    #         p = [1 - 0.06, -2 + 0.11, 0 - 0.025] = [0.94, -1.89, -0.025]
    # step 2: sign(p) = [1, -1, -1]: g' = [0.6, -1.1, 0.15] -> p = [0.88, -1.78, -0.04]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, l1=0.1), P0, [G, G])
    close(p1, [0.94, -1.89, -0.025])
    close(p2, [0.88, -1.78, -0.04])


def test_sgd_l1_with_momentum():
    # step 1: v = g' = [0.6, -1.1, 0.25] -> p = [0.94, -1.89, -0.025]
    # step 2: g' = [0.6, -1.1, 0.15]; v = 0.9 [0.6, -1.1, 0.25] + g' = [1.14, -2.09, 0.375]
    #         -> p = [0.94 - 0.114, -1.89 + 0.209, -0.025 - 0.0375] = [0.826, -1.681, -0.0625]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, l1=0.1), P0, [G, G])
    close(p1, [0.94, -1.89, -0.025])
    close(p2, [0.826, -1.681, -0.0625])


def test_sgd_l1_with_nesterov():
    # v = g' = [0.6, -1.1, 0.25]; update g' + 0.9 v = 1.9 g' = [1.14, -2.09, 0.475]
    (p1,) = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, l1=0.1), P0, [G])
    close(p1, [1.0 - 0.114, -2.0 + 0.209, -0.0475])


def test_sgd_l1_with_dampening():
    # step 1: v = g' (undamped) -> p = [0.94, -1.89, -0.025]
    # step 2: v = 0.9 [0.6, -1.1, 0.25] + 0.5 [0.6, -1.1, 0.15] = [0.84, -1.54, 0.3]
    #         -> p = [0.94 - 0.084, -1.89 + 0.154, -0.025 - 0.03] = [0.856, -1.736, -0.055]
    _, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, l1=0.1), P0, [G, G])
    close(p2, [0.856, -1.736, -0.055])


def test_adagrad_l1():
    # g' = [0.6, -1.1, 0.25]; s = g'^2; denom = |g'| + 0.5 = [1.1, 1.6, 0.75]
    (p1,) = run(lambda ps: AdaGrad(ps, lr=0.1, eps=0.5, l1=0.1), P0, [G])
    close(p1, [1.0 - 0.06 / 1.1, -2.0 + 0.11 / 1.6, -0.025 / 0.75])


def test_rmsprop_l1():
    # alpha 0.75: v = 0.25 g'^2, sqrt(v) = |g'| / 2 = [0.3, 0.55, 0.125];
    # denom = [0.8, 1.05, 0.625] -> p = [1 - 0.06 / 0.8, -2 + 0.11 / 1.05, -0.025 / 0.625]
    (p1,) = run(lambda ps: RMSProp(ps, lr=0.1, alpha=0.75, eps=0.5, l1=0.1), P0, [G])
    close(p1, [1.0 - 0.075, -2.0 + 0.11 / 1.05, -0.04])


def test_rmsprop_l1_with_momentum():
    # the buffer b = 0.5 * 0 + g' / denom, the step lr b: the same first step as without
    # momentum (b starts at 0)
    (p1,) = run(lambda ps: RMSProp(ps, lr=0.1, alpha=0.75, eps=0.5, momentum=0.5, l1=0.1), P0, [G])
    close(p1, [1.0 - 0.075, -2.0 + 0.11 / 1.05, -0.04])


def test_adam_l1():
    # step 1: m_hat = g', v_hat = g'^2 -> p = p - 0.1 g' / (|g'| + 0.5), as AdaGrad's above
    (p1,) = run(lambda ps: Adam(ps, lr=0.1, eps=0.5, l1=0.1), P0, [G])
    close(p1, [1.0 - 0.06 / 1.1, -2.0 + 0.11 / 1.6, -0.025 / 0.75])


# with weight decay 0.1 too: g'' = G + 0.1 P0 + 0.1 sign(P0) = [0.7, -1.3, 0.25]
BOTH = {
    "sgd": (
        lambda ps: SGD(ps, lr=0.1, weight_decay=0.1, l1=0.1),
        [1.0 - 0.07, -2.0 + 0.13, -0.025],
    ),
    "momentum": (
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, l1=0.1),
        [1.0 - 0.07, -2.0 + 0.13, -0.025],  # the first buffer is g''
    ),
    "adagrad": (
        lambda ps: AdaGrad(ps, lr=0.1, eps=0.5, weight_decay=0.1, l1=0.1),
        [1.0 - 0.07 / 1.2, -2.0 + 0.13 / 1.8, -0.025 / 0.75],  # denom |g''| + 0.5
    ),
    "rmsprop": (
        lambda ps: RMSProp(ps, lr=0.1, alpha=0.75, eps=0.5, weight_decay=0.1, l1=0.1),
        [1.0 - 0.07 / 0.85, -2.0 + 0.13 / 1.15, -0.04],  # denom |g''| / 2 + 0.5
    ),
    "adam": (
        lambda ps: Adam(ps, lr=0.1, eps=0.5, weight_decay=0.1, l1=0.1),
        [1.0 - 0.07 / 1.2, -2.0 + 0.13 / 1.8, -0.025 / 0.75],
    ),
}


@pytest.mark.parametrize("name", list(BOTH))
def test_l1_with_weight_decay_one_step(name):
    factory, expected = BOTH[name]
    (p1,) = run(factory, P0, [G])
    close(p1, expected)


RULES = {
    "sgd": lambda ps, **kw: SGD(ps, lr=0.1, **kw),
    "momentum": lambda ps, **kw: SGD(ps, lr=0.1, momentum=0.9, **kw),
    "nesterov": lambda ps, **kw: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, **kw),
    "adagrad": lambda ps, **kw: AdaGrad(ps, lr=0.1, **kw),
    "rmsprop": lambda ps, **kw: RMSProp(ps, lr=0.1, **kw),
    "rmsprop_centered_momentum": lambda ps, **kw: RMSProp(
        ps, lr=0.1, momentum=0.5, centered=True, **kw
    ),
    "adam": lambda ps, **kw: Adam(ps, lr=0.1, **kw),
    "amsgrad": lambda ps, **kw: Adam(ps, lr=0.1, amsgrad=True, **kw),
}


@pytest.mark.parametrize("name", list(RULES))
def test_a_weight_at_zero_with_no_gradient_stays_zero(name):
    """sign(0) = 0: L1 alone never moves a weight off exactly 0 (sign(0) = 1 would push it
    off at once), while the weights beside it, off 0, are moved by it."""
    make = RULES[name]
    steps = run(lambda ps: make(ps, l1=0.1), [0.0, 0.5, -0.5], [[0.0, 0.0, 0.0]] * 3)
    for p in steps:
        assert p[0] == 0.0
    # the first step, towards 0 (RMSprop's first steps overshoot: g / sqrt(v) is large)
    assert steps[0][1] < 0.5 and steps[0][2] > -0.5


@pytest.mark.parametrize("name", list(RULES))
def test_l1_changes_every_rule_and_0_is_the_rule_without_it(name):
    make = RULES[name]
    rng = np.random.default_rng(7)
    data = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(5)]
    without = run(lambda ps: make(ps), data, grads)[-1]
    zero = run(lambda ps: make(ps, l1=0.0), data, grads)[-1]
    with_l1 = run(lambda ps: make(ps, l1=0.05), data, grads)[-1]
    np.testing.assert_array_equal(zero, without)
    assert np.max(np.abs(with_l1 - without)) > 1e-3


def test_sgd_l1_set_after_the_first_step_takes_effect():
    # plain SGD (the fast path), then l1 0.5: p = 1 - 0.1 * 1 = 0.9, then
    # p = 0.9 - 0.1 * (1 + 0.5 * sign(0.9)) = 0.9 - 0.15 = 0.75; then l1 0 again: 0.75 - 0.1
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1)
    seen = []
    for change in (None, 0.5, 0.0):
        if change is not None:
            opt.set_hyper("l1", change)
        opt.zero_grad()
        p.grad = np.array([1.0])
        opt.step()
        seen.append(float(p.data[0]))
        assert opt.plain == (change != 0.5)
    close(seen, [0.9, 0.75, 0.65])


@pytest.mark.parametrize("cls", [SGD, AdaGrad, RMSProp, Adam])
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1e-3, "-0.001"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ([0.1, -1.0], r"\[0.1, -1.0\]"),
    ],
)
def test_a_bad_l1_is_refused_naming_the_value(cls, value, shown):
    p = Parameter(np.zeros((2, 3)), replica_ndim=1)
    with pytest.raises(
        ValueError, match=rf"Invalid l1: {shown} \(accepted: a finite number in \[0.0, inf\]\)"
    ):
        cls([p], l1=np.array(value) if isinstance(value, list) else value)


def test_set_hyper_refuses_a_bad_l1_and_keeps_the_old_one():
    p = Parameter(np.zeros(3))
    opt = Adam([p], l1=0.01)
    for bad in (-0.1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match=r"l1 must be a finite number >= 0"):
            opt.set_hyper("l1", bad)
    assert opt.hyper["l1"] == 0.01


# --- replica stacks: per-replica l1 ------------------------------------------------------


@pytest.mark.parametrize("name", list(RULES))
def test_per_replica_l1_each_replica_steps_as_its_model_alone(name):
    """Replica k of a stack with l1 = [0, 0.01, 0.1] (and weight decay per replica) equals
    the model trained alone with l1[k], bit for bit; the l1 = 0 replica is the rule without
    L1 (for SGD: the plain fast path alone). Some weights start at exactly 0."""
    make = RULES[name]
    rng = np.random.default_rng(3)
    data = rng.standard_normal((3, 5))
    data[:, 0] = 0.0
    grads = [rng.standard_normal((3, 5)) for _ in range(15)]
    for g in grads:
        g[:, 0] = 0.0  # this weight has no gradient: only L1 could move it, and sign(0) = 0
    l1 = np.array([0.0, 0.01, 0.1])
    for decay in (0.0, np.array([0.0, 0.0, 0.05])):
        stacked = run(lambda ps, d=decay: make(ps, l1=l1, weight_decay=d), data, grads, 1)[-1]
        for k in range(3):
            d_k = decay if isinstance(decay, float) else float(decay[k])
            kw = {"l1": float(l1[k]), "weight_decay": d_k}
            alone = run(lambda ps, kw=kw: make(ps, **kw), data[k], [g[k] for g in grads])[-1]
            np.testing.assert_array_equal(stacked[k], alone, err_msg=f"replica {k}")
        assert np.all(stacked[:, 0] == 0.0)
    # and L1 made a difference: the replicas differ from the one without
    assert not np.array_equal(stacked[1], stacked[0]) and not np.array_equal(stacked[2], stacked[1])


def test_per_replica_l1_by_hand():
    # weight (K=3, 2) at [1, -1], gradient 0, lr 1: row k moves by -l1_k sign(p)
    (p1,) = run(
        lambda ps: SGD(ps, lr=1.0, l1=np.array([0.0, 0.1, 0.3])),
        np.tile([1.0, -1.0], (3, 1)),
        [np.zeros((3, 2))],
        1,
    )
    close(p1, [[1.0, -1.0], [0.9, -0.9], [0.7, -0.7]])


def test_a_per_replica_l1_must_fit_the_stack():
    p = Parameter(np.zeros((3, 2)), replica_ndim=1)
    with pytest.raises(ValueError, match=r"l1 per replica has shape \(2,\), which does not fit"):
        SGD([p], l1=np.array([0.1, 0.2]))
    opt = SGD([p], l1=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"l1 per replica has shape \(4,\)"):
        opt.set_hyper("l1", np.array([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_array_equal(opt.hyper["l1"], [0.1, 0.2, 0.3])
