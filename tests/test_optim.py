"""Optimizers: one and two steps per update rule against values worked out by hand.

Each test sets a parameter's gradient, steps, and compares with the arithmetic
written in the comments (PyTorch's documented update rules). Visible epsilons
(0.5 instead of 1e-8) make sure eps sits where PyTorch puts it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import SGD, AdaGrad, Adam, Linear, MSELoss, Parameter, RMSProp, fit, mlp


def run(opt_factory, data, grads, replica_ndim=0):
    """Parameter from ``data``; one step per gradient in ``grads``; the data after each step."""
    p = Parameter(np.array(data, dtype=np.float64), replica_ndim=replica_ndim)
    opt = opt_factory([p])
    seen = []
    for g in grads:
        opt.zero_grad()
        p.grad = np.array(g, dtype=np.float64)
        opt.step()
        seen.append(p.data.copy())
    return seen


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-14, atol=1e-15)


P0 = [1.0, -2.0]
G = [0.5, -1.0]

# --- SGD -----------------------------------------------------------------------------


def test_sgd_plain():
    # p <- p - lr g: [1, -2] - 0.1 [0.5, -1] = [0.95, -1.9], then [0.9, -1.8]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1), P0, [G, G])
    close(p1, [0.95, -1.9])
    close(p2, [0.9, -1.8])


def test_sgd_step_is_proportional_to_lr():
    (a,) = run(lambda ps: SGD(ps, lr=0.1), P0, [G])
    (b,) = run(lambda ps: SGD(ps, lr=0.3), P0, [G])
    close(np.array(b) - P0, 3 * (np.array(a) - P0))


def test_sgd_momentum_first_buffer_is_the_gradient():
    # step 1: v = g = [0.5, -1]            -> p = [0.95, -1.9]   (no (1 - mu) factor)
    # step 2: v = 0.9 v + g = [0.95, -1.9] -> p = [0.95 - 0.095, -1.9 + 0.19] = [0.855, -1.71]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9), P0, [G, G])
    close(p1, [0.95, -1.9])
    close(p2, [0.855, -1.71])


def test_sgd_dampening():
    # step 1: v = g, undamped (PyTorch)     -> p = [0.95, -1.9]
    # step 2: v = 0.9 g + (1 - 0.5) g = 1.4 g = [0.7, -1.4] -> p = [0.88, -1.76]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), P0, [G, G])
    close(p1, [0.95, -1.9])
    close(p2, [0.88, -1.76])


def test_sgd_nesterov():
    # step 1: v = g;         update g + 0.9 v = 1.9 g  = [0.95, -1.9]  -> p = [0.905, -1.81]
    # step 2: v = 0.9 g + g = 1.9 g; update g + 0.9 * 1.9 g = 2.71 g = [1.355, -2.71]
    #         -> p = [0.905 - 0.1355, -1.81 + 0.271] = [0.7695, -1.539]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), P0, [G, G])
    close(p1, [0.905, -1.81])
    close(p2, [0.7695, -1.539])


def test_sgd_weight_decay():
    # g' = g + 0.1 p = [0.5 + 0.1, -1 - 0.2] = [0.6, -1.2] -> p = [0.94, -1.88]
    # step 2: g' = [0.5 + 0.094, -1 - 0.188] = [0.594, -1.188] -> p = [0.8806, -1.7612]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, weight_decay=0.1), P0, [G, G])
    close(p1, [0.94, -1.88])
    close(p2, [0.8806, -1.7612])


def test_sgd_weight_decay_with_momentum():
    # step 1: v = g' = [0.6, -1.2] -> p = [0.94, -1.88]
    # step 2: g' = [0.594, -1.188]; v = 0.9 [0.6, -1.2] + g' = [1.134, -2.268]
    #         -> p = [0.94 - 0.1134, -1.88 + 0.2268] = [0.8266, -1.6532]
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1), P0, [G, G])
    close(p1, [0.94, -1.88])
    close(p2, [0.8266, -1.6532])


def test_sgd_seed_style_momentum():
    # the seed's v = b v + (1 - b) g is SGD(momentum=b, dampening=b); PyTorch starts v at g,
    # and for a constant g it stays g: both steps are plain SGD steps
    p1, p2 = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.9), P0, [G, G])
    close(p1, [0.95, -1.9])
    close(p2, [0.9, -1.8])


# --- AdaGrad -------------------------------------------------------------------------


def test_adagrad():
    # step 1: s = g^2 = [0.25, 1]; denom = sqrt(s) + 0.5 = [1, 1.5]
    #         p = [1 - 0.1 * 0.5 / 1, -2 + 0.1 * 1 / 1.5] = [0.95, -1.93333...]
    # step 2: s = 2 g^2 = [0.5, 2]; denom = [0.70711 + 0.5, 1.41421 + 0.5] = [1.20711, 1.91421]
    #         p = [0.95 - 0.05 / 1.20711, -1.93333 + 0.1 / 1.91421] = [0.90858, -1.88109]
    p1, p2 = run(lambda ps: AdaGrad(ps, lr=0.1, eps=0.5), P0, [G, G])
    close(p1, [0.95, -2 + 0.1 / 1.5])
    close(p2, [0.95 - 0.05 / (math.sqrt(0.5) + 0.5), -2 + 0.1 / 1.5 + 0.1 / (math.sqrt(2) + 0.5)])
    np.testing.assert_allclose(p2, [0.9085786438, -1.8810925584], atol=1e-10)


def test_adagrad_lr_decay():
    # clr = lr / (1 + (t - 1) lr_decay): 0.1 at step 1, 0.1 / 1.5 at step 2
    p1, p2 = run(lambda ps: AdaGrad(ps, lr=0.1, lr_decay=0.5, eps=0.5), P0, [G, G])
    close(p1, [0.95, -2 + 0.1 / 1.5])
    clr = 0.1 / 1.5
    expected = [
        0.95 - clr * 0.5 / (math.sqrt(0.5) + 0.5),
        -2 + 0.1 / 1.5 + clr / (math.sqrt(2) + 0.5),
    ]
    close(p2, expected)
    np.testing.assert_allclose(p2, [0.9223857625, -1.8985061611], atol=1e-10)


def test_adagrad_initial_accumulator():
    # s = 0.75 + 0.25 = 1 -> p = 1 - 0.1 * 0.5 / (1 + 0.5) = 0.96666...
    (p1,) = run(
        lambda ps: AdaGrad(ps, lr=0.1, eps=0.5, initial_accumulator_value=0.75), [1.0], [[0.5]]
    )
    close(p1, [1 - 0.05 / 1.5])


# --- RMSProp -------------------------------------------------------------------------
# p = 1, g = 2, lr = 0.3, alpha = 0.75, eps = 0.5 (numbers chosen so sqrt(v) is 1 at first)


def rms(**kw):
    return lambda ps: RMSProp(ps, lr=0.3, alpha=0.75, eps=0.5, **kw)


def test_rmsprop_plain():
    # step 1: v = 0.25 * 4 = 1;            p = 1 - 0.3 * 2 / (1 + 0.5) = 0.6
    # step 2: v = 0.75 + 0.25 * 4 = 1.75;  p = 0.6 - 0.6 / (1.32288 + 0.5) = 0.27085
    p1, p2 = run(rms(), [1.0], [[2.0], [2.0]])
    close(p1, [0.6])
    close(p2, [0.6 - 0.6 / (math.sqrt(1.75) + 0.5)])
    np.testing.assert_allclose(p2, [0.2708497378], atol=1e-10)


def test_rmsprop_centered():
    # step 1: v = 1, m = 0.25 * 2 = 0.5; avg = sqrt(1 - 0.25) + 0.5 = 1.36603
    #         p = 1 - 0.6 / 1.36603 = 0.56077
    # step 2: v = 1.75, m = 0.75 * 0.5 + 0.5 = 0.875; v - m^2 = 0.984375
    #         p = 0.56077 - 0.6 / (0.99216 + 0.5) = 0.15867
    p1, p2 = run(rms(centered=True), [1.0], [[2.0], [2.0]])
    close(p1, [1 - 0.6 / (math.sqrt(0.75) + 0.5)])
    close(p2, [p1[0] - 0.6 / (math.sqrt(0.984375) + 0.5)])
    np.testing.assert_allclose(p2, [0.1586669985], atol=1e-10)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_centered_rmsprop_skips_a_gradient_whose_square_overflows(momentum):
    """Above |g| ~ 1.3e156 both v and m^2 overflow: v - m^2 was inf - inf = NaN and the
    weights NaN for every later step (num21 M1). As torch: the variance stays inf, so the
    step g / inf is 0 and the weight keeps its value; later steps too (v stays inf)."""
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow itself warns
        steps = run(
            lambda ps: RMSProp(ps, lr=0.01, centered=True, momentum=momentum),
            [1.0],
            [[2e156], [0.5], [0.5]],
        )
    np.testing.assert_array_equal(steps, [[1.0], [1.0], [1.0]])


def test_rmsprop_momentum():
    # step 1: b = g / avg = 2 / 1.5 = 4/3;               p = 1 - 0.3 * 4/3 = 0.6
    # step 2: b = 0.5 * 4/3 + 2 / (sqrt(1.75) + 0.5) = 0.66667 + 1.09717 = 1.76383
    #         p = 0.6 - 0.3 * 1.76383 = 0.07085
    p1, p2 = run(rms(momentum=0.5), [1.0], [[2.0], [2.0]])
    close(p1, [0.6])
    close(p2, [0.6 - 0.3 * (0.5 * 4 / 3 + 2 / (math.sqrt(1.75) + 0.5))])
    np.testing.assert_allclose(p2, [0.0708497378], atol=1e-10)


def test_rmsprop_momentum_set_after_the_first_step_takes_effect():
    # step 1 plain: v = 1, p = 1 - 0.3 * 2 / 1.5 = 0.6
    # then momentum 0.5: b starts at 0, so b = g / avg = 2 / (sqrt(1.75) + 0.5) = 1.09717
    #   p = 0.6 - 0.3 * 1.09717 = 0.27085 (as plain RMSprop on this step)
    # step 3: v = 0.75 * 1.75 + 1 = 2.3125, b = 0.5 * 1.09717 + 2 / (sqrt(2.3125) + 0.5)
    p = Parameter(np.array([1.0]))
    opt = rms()([p])
    seen = []
    for step in range(3):
        if step == 1:
            opt.set_hyper("momentum", 0.5)
        opt.zero_grad()
        p.grad = np.array([2.0])
        opt.step()
        seen.append(p.data.copy())
    b2 = 2 / (math.sqrt(1.75) + 0.5)
    close(seen[0], [0.6])
    close(seen[1], [0.6 - 0.3 * b2])
    # a momentum that was ignored would step plain again: p2 - 0.3 * 2 / (sqrt(2.3125) + 0.5)
    close(seen[2], [seen[1][0] - 0.3 * (0.5 * b2 + 2 / (math.sqrt(2.3125) + 0.5))])


# --- Adam ----------------------------------------------------------------------------
# p = 1, g = 2, lr = 0.1, eps = 0.5


def test_adam_bias_correction():
    # step 1: m = 0.1 * 2 = 0.2, v = 0.001 * 4 = 0.004; m^ = 0.2 / 0.1 = 2, v^ = 0.004 / 0.001 = 4
    #         denom = sqrt(v^) + eps = 2.5 (eps after the correction) -> p = 1 - 0.1 * 2 / 2.5 = 0.92
    # step 2, g = 2:  m^ = 0.38 / 0.19 = 2, v^ = 0.007996 / 0.001999 = 4 -> p = 0.84
    p1, p2 = run(lambda ps: Adam(ps, lr=0.1, eps=0.5), [1.0], [[2.0], [2.0]])
    close(p1, [0.92])
    close(p2, [0.84])


def test_adam_changing_gradient():
    # step 2, g = 1: m = 0.18 + 0.1 = 0.28, v = 0.003996 + 0.001 = 0.004996
    #         m^ = 0.28 / 0.19 = 1.47368, v^ = 0.004996 / 0.001999 = 2.49925
    #         p = 0.92 - 0.1 * 1.47368 / (1.58090 + 0.5) = 0.84918
    _, p2 = run(lambda ps: Adam(ps, lr=0.1, eps=0.5), [1.0], [[2.0], [1.0]])
    close(p2, [0.92 - 0.1 * (0.28 / 0.19) / (math.sqrt(0.004996 / 0.001999) + 0.5)])
    np.testing.assert_allclose(p2, [0.8491805270], atol=1e-10)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_amsgrad(amsgrad):
    # betas (0.9, 0.5). step 1, g = 2: m = 0.2, v = 2; m^ = 2, v^ = 2 / 0.5 = 4 -> p = 0.92
    # step 2, g = 0: m = 0.18, v = 1 (fell), max(v) = 2; bias corrections 0.19 and 0.75
    #   amsgrad: p = 0.92 - 0.1 (0.18 / 0.19) / (sqrt(2 / 0.75) + 0.5) = 0.8755851
    #   plain:   p = 0.92 - 0.1 (0.18 / 0.19) / (sqrt(1 / 0.75) + 0.5) = 0.8627468
    opt = lambda ps: Adam(ps, lr=0.1, betas=(0.9, 0.5), eps=0.5, amsgrad=amsgrad)  # noqa: E731
    p1, p2 = run(opt, [1.0], [[2.0], [0.0]])
    close(p1, [0.92])
    v_hat = (2.0 if amsgrad else 1.0) / 0.75
    close(p2, [0.92 - 0.1 * (0.18 / 0.19) / (math.sqrt(v_hat) + 0.5)])
    np.testing.assert_allclose(p2, [0.8755851 if amsgrad else 0.8627468], atol=1e-7)


def test_adam_weight_decay_is_l2():
    # g' = g + 0.5 p = 1.5 + 0.5 = 2: the same first step as g = 2 -> p = 0.92
    (p1,) = run(lambda ps: Adam(ps, lr=0.1, eps=0.5, weight_decay=0.5), [1.0], [[1.5]])
    close(p1, [0.92])


def test_adam_first_step_is_lr_times_sign():
    # m^ / sqrt(v^) = g / |g|: the first step is lr in the gradient's direction, whatever |g|
    (p1,) = run(lambda ps: Adam(ps, lr=0.01, eps=0.0), [0.0, 0.0, 0.0], [[1e-3, -5.0, 70.0]])
    close(p1, [-0.01, 0.01, -0.01])


# --- hyperparameters: per replica, changed mid-run -----------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda ps, lr: SGD(ps, lr=lr),
        lambda ps, lr: SGD(ps, lr=lr, momentum=0.9, nesterov=True),
        lambda ps, lr: AdaGrad(ps, lr=lr, lr_decay=0.1),
        lambda ps, lr: RMSProp(ps, lr=lr, centered=True, momentum=0.5),
        lambda ps, lr: Adam(ps, lr=lr, amsgrad=True),
    ],
    ids=["sgd", "nesterov", "adagrad", "rmsprop", "adam"],
)
def test_per_replica_lr_gives_each_replica_its_own_step(rng, make):
    lrs = np.array([0.1, 0.02, 0.3])
    data = rng.standard_normal((3, 2, 2))  # a weight of a stack of 3 models
    grads = [rng.standard_normal((3, 2, 2)) for _ in range(3)]
    stacked = run(lambda ps: make(ps, lrs), data, grads, replica_ndim=1)[-1]
    for k in range(3):
        alone = run(lambda ps, k=k: make(ps, float(lrs[k])), data[k], [g[k] for g in grads])[-1]
        np.testing.assert_allclose(stacked[k], alone, rtol=1e-14, atol=1e-16)
    # and the replicas did move differently
    assert not np.allclose(stacked[0] - data[0], stacked[1] - data[1])


def test_per_replica_betas_step_each_replica_exactly_as_alone(rng):
    """Adam's bias corrections beta ** t: NumPy's vectorised power rounds differently from
    Python's in ~5 % of cases, which made replicas differ from their models alone."""
    k = 64
    beta1, beta2 = rng.uniform(0.5, 0.95, k), rng.uniform(0.9, 0.9999, k)
    data = rng.standard_normal((k, 3))
    grads = [rng.standard_normal((k, 3)) for _ in range(12)]
    stacked = run(lambda ps: Adam(ps, lr=0.1, betas=(beta1, beta2)), data, grads, 1)[-1]
    for r in range(k):
        opt = lambda ps, r=r: Adam(ps, lr=0.1, betas=(float(beta1[r]), float(beta2[r])))  # noqa: E731
        alone = run(opt, data[r], [g[r] for g in grads])[-1]
        np.testing.assert_array_equal(stacked[r], alone, err_msg=f"replica {r}")


def test_rmsprop_with_momentum_0_in_a_stack_steps_as_plain_rmsprop_alone(rng):
    """One stack, momentum [0, 0.5]: the first replica equals RMSprop without momentum
    bit for bit (so sweeps can stack the two), the second RMSprop with momentum 0.5."""
    data = rng.standard_normal((2, 4))
    grads = [rng.standard_normal((2, 4)) for _ in range(20)]
    mus = np.array([0.0, 0.5])
    stacked = run(lambda ps: RMSProp(ps, lr=0.05, momentum=mus), data, grads, 1)[-1]
    for k, mu in enumerate(mus):
        alone = run(
            lambda ps, mu=mu: RMSProp(ps, lr=0.05, momentum=float(mu)),
            data[k],
            [g[k] for g in grads],
        )
        np.testing.assert_array_equal(stacked[k], alone[-1])


def test_per_replica_lr_plain_sgd_by_hand():
    # weight (K=3, 2): row k moves by -lr_k * 1
    (p1,) = run(
        lambda ps: SGD(ps, lr=np.array([0.1, 0.2, 0.3])), np.zeros((3, 2)), [np.ones((3, 2))], 1
    )
    close(p1, [[-0.1, -0.1], [-0.2, -0.2], [-0.3, -0.3]])


def test_per_replica_momentum():
    mus = np.array([0.0, 0.5, 0.9])
    # two steps of g = 1 from 0 with lr 1: v1 = 1, v2 = mu + 1 -> p = -(1 + 1 + mu) = -(2 + mu)
    _, p2 = run(
        lambda ps: SGD(ps, lr=1.0, momentum=mus), np.zeros((3, 1)), [np.ones((3, 1))] * 2, 1
    )
    close(p2[:, 0], -(2 + mus))


def test_per_replica_momentum_with_dampening_leaves_momentum_0_as_plain_sgd():
    """A replica with momentum 0 is plain SGD, which ignores dampening (alone and in torch)."""
    mus = np.array([0.0, 0.5])
    # two steps of g = 1 from 0 with lr 1, dampening 0.5: v1 = g = 1 (undamped);
    # v2 = mu v1 + (1 - 0.5) g = mu + 0.5 for mu = 0.5 -> p = -(1 + 1) = -2;
    # momentum 0: no buffer at all, p = -(1 + 1) = -2 (was -(1 + 0.5): the damped g)
    factory = lambda ps: SGD(ps, lr=1.0, momentum=mus, dampening=0.5)  # noqa: E731
    _, p2 = run(factory, np.zeros((2, 1)), [np.ones((2, 1))] * 2, 1)
    close(p2[:, 0], [-2.0, -2.0])
    alone = run(lambda ps: SGD(ps, lr=1.0, dampening=0.5), [0.0], [[1.0], [3.0]])
    stacked = run(factory, np.zeros((2, 1)), [np.ones((2, 1)), np.full((2, 1), 3.0)], 1)
    close(alone[-1], [-4.0])
    assert stacked[-1][0, 0] == alone[-1][0]


@pytest.mark.parametrize(
    ("replica_ndim", "shape", "lr"),
    [
        (1, (3, 2), np.array([0.1, 0.2])),
        (0, (3,), np.array([0.1, 0.2, 0.3])),
        (1, (3, 2), np.ones((3, 2))),
    ],
)
def test_a_per_replica_hyperparameter_must_fit_the_replica_shape(replica_ndim, shape, lr):
    """A length-3 lr on one model with 3 weights was applied entry by entry, silently;
    now a misfit is refused when the optimizer is made or the value changed."""
    p = Parameter(np.zeros(shape), replica_ndim=replica_ndim)
    replicas = shape[:replica_ndim]
    fits = rf"replica shape \({replicas[0] if replicas else ''}"
    with pytest.raises(ValueError, match=rf"lr per replica has shape \({lr.shape[0]},.*{fits}"):
        SGD([p], lr=lr)
    opt = SGD([p], lr=0.1)
    with pytest.raises(ValueError, match=rf"lr per replica has shape .*{fits}"):
        opt.lr = lr  # what a schedule does between steps
    p.grad = np.ones(shape)
    opt.step()
    np.testing.assert_array_equal(p.data, np.full(shape, -0.1))


def test_lr_changed_between_steps_is_used():
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1)
    p.grad = np.array([1.0])
    opt.step()
    opt.lr = 0.5  # a schedule does this
    opt.step()
    close(p.data, [1.0 - 0.1 - 0.5])
    assert opt.lr == 0.5


# --- validation ----------------------------------------------------------------------


def params():
    return [Parameter(np.zeros(2))]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SGD(params(), lr=-1), "Invalid learning rate: -1"),
        (lambda: SGD(params(), lr=math.nan), "Invalid learning rate: nan"),
        (lambda: SGD(params(), lr=np.array([0.1, -0.2])), r"Invalid learning rate: \[0.1, -0.2\]"),
        (lambda: SGD(params(), momentum=-0.5), "Invalid momentum: -0.5"),
        (lambda: SGD(params(), weight_decay=-1e-4), "Invalid weight_decay: -0.0001"),
        (lambda: SGD(params(), momentum=0.9, dampening=0.5, nesterov=True), "dampening=0.5"),
        (lambda: SGD(params(), momentum=0.0, nesterov=True), "momentum=0.0"),
        (lambda: Adam(params(), betas=(1.0, 0.999)), "beta parameter at index 0: 1.0"),
        (lambda: Adam(params(), betas=(0.9, -0.1)), "beta parameter at index 1: -0.1"),
        (lambda: Adam(params(), betas=(0.9, 1.5)), "beta parameter at index 1: 1.5"),
        (lambda: Adam(params(), eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda: Adam(params(), lr=-0.001), "Invalid learning rate: -0.001"),
        (lambda: RMSProp(params(), eps=-1.0), "Invalid epsilon value: -1.0"),
        (lambda: RMSProp(params(), alpha=1.5), "Invalid alpha value: 1.5"),
        (lambda: RMSProp(params(), momentum=-0.1), "Invalid momentum value: -0.1"),
        (lambda: AdaGrad(params(), eps=-1e-10), "Invalid epsilon value: -1e-10"),
        (lambda: AdaGrad(params(), lr_decay=-1), "Invalid lr_decay: -1"),
        (lambda: AdaGrad(params(), lr=-0.01), "Invalid learning rate: -0.01"),
    ],
)
def test_invalid_hyperparameters_name_the_value(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_accepted_range_is_in_the_message():
    with pytest.raises(ValueError, match=r"accepted: a finite number in \[0.0, 1.0\)"):
        Adam(params(), betas=(1.0, 0.999))


def test_empty_or_foreign_parameters_rejected():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        SGD([np.zeros(2)], lr=0.1)


# --- several optimizers on one model -------------------------------------------------


def test_an_older_optimizer_still_trains_after_a_new_one_is_made(xor):
    # building a second optimizer on the same parameters (to compare, or by mistake)
    # must not leave the first one updating a detached copy of the weights
    x, y = xor
    model, reference = (
        mlp(2, 3, 1, rng=np.random.default_rng(0)),
        mlp(2, 3, 1, rng=np.random.default_rng(0)),
    )
    first = SGD(model.parameters(), lr=0.5)
    Adam(model.parameters(), lr=0.5)  # made, never stepped
    ours = fit(model, MSELoss(), first, x, y, 5)
    alone = fit(reference, MSELoss(), SGD(reference.parameters(), lr=0.5), x, y, 5)
    assert ours.loss == alone.loss
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_alternating_optimizers_each_see_the_current_weights():
    p = Parameter(np.array([1.0]))
    a, b = SGD([p], lr=0.1), SGD([p], lr=0.2)
    for opt in (a, b, a):
        opt.zero_grad()
        p.grad = np.array([1.0])
        opt.step()
    close(p.data, [1.0 - 0.1 - 0.2 - 0.1])


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("lr", -0.1, r"lr must be a finite number >= 0 \(or an array of them\), got -0.1"),
        ("lr", float("nan"), r"lr must be a finite number >= 0 .*got nan"),
        ("lr", float("inf"), r"lr must be a finite number >= 0 .*got inf"),
        ("lr", np.array([0.1, -1.0]), r"lr must be a finite number >= 0"),
        ("l1", -1e-3, r"l1 must be a finite number >= 0 \(or an array of them\), got -0.001"),
        ("beta1", 0.9, r"SGD has no hyperparameter 'beta1' \(accepted: lr, momentum, dampening"),
    ],
)
def test_set_hyper_refuses_what_no_rule_can_use(name, value, message):
    """A negative lr ascended the loss; an unknown name was stored and never used."""
    p = Parameter(np.zeros((2, 3)), replica_ndim=1)
    opt = SGD([p], lr=0.1)
    with pytest.raises(ValueError, match=message):
        opt.set_hyper(name, value)
    assert opt.lr == 0.1 and "beta1" not in opt.hyper
    opt.set_hyper("lr", np.array([0.0, 0.5]))  # 0 freezes a replica (early stop does this)
    np.testing.assert_array_equal(opt.lr, [0.0, 0.5])


# --- hyperparameters changed mid-run, stale gradients, packing ---------------------------


def run_with(opt_factory, data, grads, changes):
    """Like ``run``, calling ``opt.set_hyper(*changes[i])`` before step ``i`` (from 0)."""
    p = Parameter(np.array(data, dtype=np.float64))
    opt = opt_factory([p])
    seen = []
    for i, g in enumerate(grads):
        if i in changes:
            opt.set_hyper(*changes[i])
        opt.zero_grad()
        p.grad = np.array(g, dtype=np.float64)
        opt.step()
        seen.append(p.data.copy())
    return seen


def test_sgd_weight_decay_set_after_the_first_step_takes_effect():
    # plain SGD, then weight decay 0.5: p = 1 - 0.1 * 1 = 0.9, then
    # p = 0.9 - 0.1 (1 + 0.5 * 0.9) = 0.9 - 0.145 = 0.755
    p1, p2 = run_with(lambda ps: SGD(ps, lr=0.1), [1.0], [[1.0], [1.0]], {1: ("weight_decay", 0.5)})
    close(p1, [0.9])
    close(p2, [0.755])


def test_sgd_momentum_set_later_starts_its_buffer_at_the_gradient_undamped():
    # momentum 0 (dampening 0.5 ignored): p = -1 * 1 = -1; then momentum 0.9 from step 2:
    # the buffer starts there, as at a first step, at g = 2 (not (1 - 0.5) g = 1): p = -3;
    # step 3: v = 0.9 * 2 + 0.5 * 1 = 2.3, p = -5.3
    _, p2, p3 = run_with(
        lambda ps: SGD(ps, lr=1.0, dampening=0.5),
        [0.0],
        [[1.0], [2.0], [1.0]],
        {1: ("momentum", 0.9)},
    )
    close(p2, [-3.0])
    close(p3, [-5.3])


def test_a_step_after_zero_grad_without_backward_uses_zero_gradients():
    """zero_grad is lazy; step must still see zeros, not the last step's gradient."""
    p = Parameter(np.array([1.0, 2.0]))
    opt = SGD([p], lr=0.5)
    p.accumulate(np.array([1.0, -1.0]))
    opt.step()
    close(p.data, [0.5, 2.5])
    opt.zero_grad()  # nothing accumulates: this step moves nothing
    opt.step()
    close(p.data, [0.5, 2.5])
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])


def test_parameters_of_different_replica_shapes_in_one_optimizer():
    # a stack's weight (2, 3) next to a single model's bias (3,): each steps by -lr g
    w = Parameter(np.ones((2, 3)), replica_ndim=1)
    b = Parameter(np.ones(3))
    opt = SGD([w, b], lr=0.5)
    w.grad = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b.grad = np.array([-2.0, 0.0, 2.0])
    opt.step()
    close(w.data, [[0.5, 0.0, -0.5], [-1.0, -1.5, -2.0]])
    close(b.data, [2.0, 1.0, 0.0])


def test_float32_stack_with_per_replica_lr_steps_each_replica_bitwise_as_alone(rng):
    """The plain SGD rule multiplies by lr in the parameters' dtype: a float32 stack with
    one lr per replica must round as each float32 model with its float lr does."""
    lrs = np.array([0.1, 0.03, 0.7])
    data = rng.standard_normal((3, 40)).astype(np.float32)
    grads = [rng.standard_normal((3, 40)).astype(np.float32) for _ in range(3)]
    w = Parameter(data.copy(), replica_ndim=1)
    opt = SGD([w], lr=lrs)
    for g in grads:
        w.grad = g
        opt.step()
    for k in range(3):
        alone = Parameter(data[k].copy())
        opt_k = SGD([alone], lr=float(lrs[k]))
        for g in grads:
            alone.grad = g[k]
            opt_k.step()
        assert w.data.dtype == alone.data.dtype == np.float32
        np.testing.assert_array_equal(w.data[k], alone.data)


def test_sgd_weight_decay_without_momentum_ignores_dampening():
    # momentum 0: no buffer, so dampening never scales g. With g = 1 + 0.5 p:
    # p = 1 - 1 * 1.5 = -0.5, then p = -0.5 - 1 * (1 + 0.5 * -0.5) = -1.25
    p1, p2 = run(lambda ps: SGD(ps, lr=1.0, dampening=0.5, weight_decay=0.5), [1.0], [[1.0]] * 2)
    close(p1, [-0.5])
    close(p2, [-1.25])


def test_float32_sgd_steps_in_float32_arithmetic(rng):
    """lr is applied in the parameters' dtype, as NumPy applies a Python float to a
    float32 array: data - float32(lr) * grad, rounded in float32 at each operation."""
    data = rng.standard_normal((2, 100)).astype(np.float32)
    grad = rng.standard_normal((2, 100)).astype(np.float32)
    p = Parameter(data[0].copy())
    opt = SGD([p], lr=0.1)
    p.grad = grad[0]
    opt.step()
    np.testing.assert_array_equal(p.data, data[0] - 0.1 * grad[0])
    stack = Parameter(data.copy(), replica_ndim=1)
    opt = SGD([stack], lr=np.array([0.1, 0.3]))
    stack.grad = grad
    opt.step()
    np.testing.assert_array_equal(stack.data[1], data[1] - 0.3 * grad[1])
    assert p.data.dtype == stack.data.dtype == np.float32


def test_the_same_parameter_twice_is_refused():
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="same parameter twice"):
        SGD([p, Parameter(np.ones(2)), p], lr=0.1)


def test_sgd_nesterov_with_weight_decay():
    # g = G + 0.1 p; buffer v as in test_sgd_nesterov; the step is g + 0.9 v, with the
    # decayed g in both terms. Step 1: g = [0.6, -1.2] = v, step 1.9 g = [1.14, -2.28]
    #   -> p = [0.886, -1.772]
    # step 2: g = [0.5886, -1.1772], v = 0.9 [0.6, -1.2] + g = [1.1286, -2.2572],
    #   step g + 0.9 v = [1.60434, -3.20868] -> p = [0.725566, -1.451132]
    p1, p2 = run(
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1), P0, [G, G]
    )
    close(p1, [0.886, -1.772])
    close(p2, [0.725566, -1.451132])


def test_a_per_replica_rate_is_copied_so_later_writes_to_the_callers_array_do_nothing():
    # the optimizer kept the caller's array: lr[0] = 5.0 afterwards stepped replica 0 by
    # -5 instead of -0.1, past every check (a negative or NaN rate would have gone through)
    lr = np.array([0.1, 0.2])
    p = Parameter(np.zeros((2, 1)), replica_ndim=1)
    opt = SGD([p], lr=lr)
    lr[0] = 5.0
    p.grad = np.ones((2, 1))
    opt.step()
    np.testing.assert_array_equal(p.data, [[-0.1], [-0.2]])
    later = np.array([0.3, 0.4])
    opt.set_hyper("lr", later)  # what a schedule does
    later[1] = -1.0
    opt.zero_grad()
    p.grad = np.ones((2, 1))
    opt.step()
    np.testing.assert_array_equal(p.data, [[-0.1 - 0.3], [-0.2 - 0.4]])
    with pytest.raises(ValueError, match="read-only"):  # not a silent, unchecked change
        opt.lr[0] = -1.0


def test_per_replica_optimizer_blocks_do_not_follow_the_callers_array():
    from proplab.per_replica import PerReplicaOptimizer

    p = Parameter(np.zeros((4, 1)), replica_ndim=1)
    opt = PerReplicaOptimizer([p], [(2, lambda ps: SGD(ps, lr=0.1)), (2, lambda ps: Adam(ps))])
    lr = np.array([0.1, 0.2, 0.3, 0.4])
    opt.set_hyper("lr", lr)
    lr[:] = 9.0
    np.testing.assert_array_equal(opt.lr, [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("copy_how", ["pickle", "deepcopy"])
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.5, momentum=0.9),
        lambda ps: Adam(ps, lr=0.01),
        lambda ps: RMSProp(ps, lr=0.01, momentum=0.5),
        lambda ps: AdaGrad(ps, lr=0.1),
    ],
    ids=["sgd", "adam", "rmsprop", "adagrad"],
)
@pytest.mark.parametrize("seeds", [None, [0, 1, 2]], ids=["one", "stack"])
def test_a_copied_model_and_optimizer_train_on_as_the_originals(copy_how, make, seeds):
    # a copy kept the optimizer's flat buffer apart from the model's weights (views do not
    # survive a copy): the copy's steps moved the buffer and the model never changed
    import copy
    import pickle

    from proplab.data import generate_xor_easy

    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, seeds=seeds) if seeds else mlp(2, 4, 1, rng=np.random.default_rng(0))
    opt = make(model.parameters())
    fit(model, MSELoss(), opt, x, y, epochs=5)  # some optimizer state to carry over
    pair = (model, opt)
    model2, opt2 = pickle.loads(pickle.dumps(pair)) if copy_how == "pickle" else copy.deepcopy(pair)
    before = [p.data.copy() for p in model2.parameters()]
    fit(model, MSELoss(), opt, x, y, epochs=20)
    fit(model2, MSELoss(), opt2, x, y, epochs=20)
    for original, copied, start in zip(
        model.parameters(), model2.parameters(), before, strict=True
    ):
        assert not np.array_equal(copied.data, start)  # the copy trained
        np.testing.assert_array_equal(copied.data, original.data)  # exactly as the original


def test_a_copy_keeps_each_parameter_with_the_optimizer_that_packed_it_last():
    import pickle

    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    first = SGD(model.parameters(), lr=0.1)
    second = SGD(model.parameters(), lr=0.1)  # packs the parameters anew: it owns them now
    model2, first2, second2 = pickle.loads(pickle.dumps((model, first, second)))
    weight = model2.parameters()[0]
    assert np.shares_memory(weight.data, second2.groups[0].data)
    assert not np.shares_memory(weight.data, first2.groups[0].data)
    weight.grad = np.ones_like(weight.data)
    before = weight.data.copy()
    first2.step()  # as for the originals: the older optimizer takes its parameter back
    np.testing.assert_array_equal(weight.data, before - 0.1)
    assert np.shares_memory(weight.data, first2.groups[0].data)


@pytest.mark.parametrize(
    ("make", "name", "bad", "good", "message"),
    [
        (lambda ps: Adam(ps), "beta1", 1.0, 0.5, r"beta1 must be in \[0, 1\) as Adam's"),
        (lambda ps: Adam(ps), "beta2", 1.5, 0.99, r"beta2 must be in \[0, 1\) as Adam's"),
        (lambda ps: SGD(ps, lr=0.1), "dampening", 5.0, 1.0, r"dampening must be in \[0, 1\]"),
        (lambda ps: RMSProp(ps), "alpha", 2.0, 1.0, r"alpha must be in \[0, 1\] as RMSProp's"),
    ],
)
def test_set_hyper_refuses_what_the_constructor_refuses(make, name, bad, good, message):
    # Adam's set_hyper("beta1", 1.0) was accepted; the next step divided by 1 - 1^t = 0
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    opt = make(model.parameters())
    old = opt.hyper[name]
    with pytest.raises(ValueError, match=message):
        opt.set_hyper(name, bad)
    assert opt.hyper[name] == old
    with pytest.raises(ValueError, match=message):  # per replica too: any entry
        opt.set_hyper(name, np.array(bad))
    opt.set_hyper(name, good)  # in range (dampening and alpha: the bound itself)
    assert opt.hyper[name] == good


def test_adam_steps_a_float32_parameter_in_float32():
    # np.sqrt(1 - beta2 ** t) was a float64 scalar, so the whole step ran in float64
    rng = np.random.default_rng(0)
    data = rng.normal(size=1000).astype(np.float32)
    grads = [rng.normal(size=1000).astype(np.float32) for _ in range(3)]
    p = Parameter(data.copy())
    opt = Adam([p], lr=0.01)
    m, v, w = np.zeros_like(data), np.zeros_like(data), data.copy()
    for t, g in enumerate(grads, start=1):
        p.grad = g
        opt.step()
        # the same formula by hand, every array float32 (Python floats take its dtype)
        m = 0.9 * m + (1.0 - 0.9) * g
        v = 0.999 * v + (1.0 - 0.999) * g * g
        denom = np.sqrt(v) / math.sqrt(1.0 - 0.999**t) + 1e-8
        w = w - (0.01 / (1.0 - 0.9**t)) * m / denom
        assert m.dtype == v.dtype == denom.dtype == w.dtype == np.float32
        np.testing.assert_array_equal(p.data, w)


@pytest.mark.parametrize("betas", [(0.9,), 0.9, (0.9, 0.99, 0.5), None])
def test_adam_betas_must_be_a_pair(betas):
    with pytest.raises(ValueError, match=r"Adam betas must be a pair \(beta1, beta2\) such as"):
        Adam([Parameter(np.zeros(2))], betas=betas)


def test_an_optimizer_given_the_model_or_its_method_says_what_to_pass() -> None:
    """Adam(model) said "optimizer takes Parameters, got Linear", Adam(model.parameters)
    "'method' object is not iterable" (api17)."""
    import proplab

    model = proplab.mlp(rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"got the Sequential itself: pass model.parameters\(\)$"):
        proplab.Adam(model)
    with pytest.raises(TypeError, match=r"not its result: call it, model.parameters\(\)$"):
        proplab.Adam(model.parameters)
    assert len(proplab.Adam(model.parameters()).params) == 6


def test_values_written_into_a_packed_parameter_are_the_ones_trained():
    # Parameter's docstring: after an optimizer is built, `p.data = v` and `p.data[...] = v`
    # write into its buffer, and an array taken from p.data before is a copy left behind
    layer = Linear(2, 1, rng=np.random.default_rng(0))
    before = layer.weight.data
    opt = SGD(layer.parameters(), lr=0.5)
    assert not np.shares_memory(before, layer.weight.data)
    layer.weight.data = np.array([[1.0], [2.0]])
    layer.bias.data[...] = 3.0
    np.testing.assert_array_equal(opt.groups[0].data, [1.0, 2.0, 3.0])
    layer.forward(np.array([[1.0, 1.0]]))
    layer.backward(np.array([[1.0]]))
    opt.step()  # each entry: value - 0.5 * gradient (x = 1, g = 1: every gradient is 1)
    np.testing.assert_array_equal(layer.weight.data, [[0.5], [1.5]])
    np.testing.assert_array_equal(layer.bias.data, [2.5])
    assert not np.array_equal(before, layer.weight.data)


# --- hyperparameter types, set after construction too (api21 M2, L5) ---------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [("0.1", "str"), (None, "NoneType"), (0.1 + 0j, "complex"), ([0.1, "a"], "list")],
)
def test_a_hyperparameter_that_is_no_real_number_is_refused_by_name(value, kind):
    """SGD(lr='0.1') trained at 0.1 while opt.lr = '0.1' failed inside NumPy ('ufunc
    isfinite not supported'), and opt.lr = 0.1+0j was taken and failed at the next step."""
    p = Parameter(np.zeros((2, 3)))
    with pytest.raises(TypeError) as err:
        SGD([p], lr=value)
    assert str(err.value) == (
        f"Invalid learning rate: {value!r} (accepted: a real number, or an array of them, "
        f"one per replica; got {kind})"
    )
    opt = SGD([p], lr=0.1)
    with pytest.raises(
        TypeError, match=rf"^Invalid lr: .* \(accepted: a real number.*got {kind}\)$"
    ):
        opt.lr = value
    assert opt.lr == 0.1


def test_true_as_a_hyperparameter_is_refused_when_set_too():
    """SGD(lr=True) was refused, opt.lr = True taken (float(True) is 1.0)."""
    opt = Adam([Parameter(np.zeros(3))])
    with pytest.raises(
        ValueError, match=r"^Invalid eps: True \(accepted: a number, not True/False\)$"
    ):
        opt.set_hyper("eps", True)
    assert opt.hyper["eps"] == 1e-8


def test_numpy_and_fraction_hyperparameters_are_still_numbers():
    from fractions import Fraction

    opt = SGD([Parameter(np.zeros(3))], lr=np.float32(0.5), momentum=Fraction(1, 2))
    opt.lr = np.int64(1)
    assert opt.lr == 1 and opt.hyper["momentum"] == 0.5


def test_an_optimizer_without_an_update_rule_says_what_to_write():
    """Optimizer(...).step() raised NotImplementedError with an empty message (api21 M8)."""
    from proplab import Optimizer

    class Mine(Optimizer):
        pass

    with pytest.raises(NotImplementedError) as err:
        Mine([Parameter(np.zeros(3))], lr=0.1).step()
    assert str(err.value).startswith("Mine has no update rule: an Optimizer subclass writes ")
    assert "update(self, group, state)" in str(err.value)
