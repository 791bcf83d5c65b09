"""A stack of K models is K models: same weights, same gradients, same trajectories.

``mlp(..., seeds=[s_0, ..., s_K-1])`` must hold in replica k exactly the model
``mlp(..., rng=default_rng(s_k))``, and training the stack with a per-replica
learning rate must follow the K separate training runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from proplab import SGD, Adam, MSELoss, fit, mlp

SEEDS = [3, 11, 42, 1234]
LRS = np.array([1.0, 0.5, 0.25, 2.0])


def single(seed: int, **kw):
    return mlp(2, 10, 1, rng=np.random.default_rng(seed), **kw)


def test_replica_k_holds_the_single_model_weights():
    stack = mlp(2, 10, 1, seeds=SEEDS)
    for k, seed in enumerate(SEEDS):
        for (name, p_stack), (_, p_one) in zip(
            stack.named_parameters(), single(seed).named_parameters(), strict=True
        ):
            assert p_stack.shape == (len(SEEDS),) + p_one.shape, name
            np.testing.assert_array_equal(p_stack.data[k], p_one.data, err_msg=name)


def test_seeds_with_matching_replicas_and_mismatch():
    assert mlp(2, 3, 1, seeds=[1, 2], replicas=2)[0].weight.shape == (2, 2, 3)
    with pytest.raises(ValueError, match="replicas=3 but 2 seeds"):
        mlp(2, 3, 1, seeds=[1, 2], replicas=3)
    with pytest.raises(ValueError, match="default_rng"):
        mlp(2, 3, 1)


def test_forward_and_gradients_match_single_models(xor, rng):
    x, y = xor
    stack = mlp(2, 10, 1, seeds=SEEDS)
    loss = MSELoss()
    values = loss(stack.forward(x), y)  # shared data (21, 2) -> (K, 21, 1)
    stack.backward(loss.backward())
    assert values.shape == (len(SEEDS),)
    for k, seed in enumerate(SEEDS):
        one, one_loss = single(seed), MSELoss()
        assert values[k] == pytest.approx(one_loss(one.forward(x), y), rel=1e-14)
        one.backward(one_loss.backward())
        for p_stack, p_one in zip(stack.parameters(), one.parameters(), strict=True):
            np.testing.assert_allclose(p_stack.grad[k], p_one.grad, rtol=1e-13, atol=1e-17)


def test_per_replica_data_equals_shared_data(xor):
    x, y = xor
    stack_a, stack_b = mlp(2, 4, 1, seeds=SEEDS), mlp(2, 4, 1, seeds=SEEDS)
    out_shared = stack_a.forward(x)
    out_own = stack_b.forward(np.broadcast_to(x, (len(SEEDS),) + x.shape).copy())
    np.testing.assert_allclose(out_own, out_shared, rtol=1e-14)


def test_each_replica_sees_only_its_own_data(xor):
    # replica 1 gets different inputs: only its outputs move
    x, _ = xor
    stack = mlp(2, 4, 1, seeds=SEEDS)
    xs = np.stack([x] * len(SEEDS))
    before = stack.forward(xs).copy()
    xs[1] += 0.5
    after = stack.forward(xs)
    changed = [not np.allclose(before[k], after[k]) for k in range(len(SEEDS))]
    assert changed == [False, True, False, False]


OPTIMIZERS = {
    "sgd": lambda ps, lr: SGD(ps, lr=lr),
    "momentum": lambda ps, lr: SGD(ps, lr=lr, momentum=0.9),
    "adam": lambda ps, lr: Adam(ps, lr=lr * 0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_stack_training_follows_separate_trajectories(xor, name):
    x, y = xor
    make_opt = OPTIMIZERS[name]
    epochs = 200
    stack = mlp(2, 10, 1, seeds=SEEDS)
    history = fit(stack, MSELoss(), make_opt(stack.parameters(), LRS), x, y, epochs)
    losses = history.as_arrays()["loss"]
    assert losses.shape == (epochs, len(SEEDS))
    for k, seed in enumerate(SEEDS):
        one = single(seed)
        alone = fit(one, MSELoss(), make_opt(one.parameters(), float(LRS[k])), x, y, epochs)
        np.testing.assert_allclose(losses[:, k], alone.loss, rtol=1e-12, err_msg=f"replica {k}")
        np.testing.assert_array_equal(history.as_arrays()["accuracy"][:, k], alone.accuracy)
        for (pname, p_stack), p_one in zip(stack.named_parameters(), one.parameters(), strict=True):
            np.testing.assert_allclose(
                p_stack.data[k], p_one.data, rtol=1e-12, atol=1e-14, err_msg=pname
            )
    # (one shared lr would fail here: the replicas' own lrs are 0.25..2, far beyond rtol)


@pytest.mark.parametrize("out_features", [1, 3])
@pytest.mark.parametrize("k, n", [(4, 7), (20, 21)])  # 28 rows: matmul; 420: einsum for out 1
def test_stacked_linear_input_gradient_has_the_single_models_bits(out_features, k, n, rng):
    """Linear's stacked input gradient (an einsum outer product when out_features == 1
    and the stack has many rows, a batched matmul otherwise) equals each single model's
    matmul bit for bit, signed zeros included: saturated sigmoids make exact zeros of
    both signs."""
    from proplab import Linear

    width = 5
    stack = Linear(
        width, out_features, replicas=k, rngs=[np.random.default_rng(s) for s in range(k)]
    )
    x = rng.standard_normal((k, n, width))
    grad_out = rng.standard_normal((k, n, out_features))
    grad_out[:, :3] = np.array([0.0, -0.0, 0.0])[:, None]  # exact zeros of both signs
    stack.weight.data[:, 0] = -0.0
    got, alone = _stacked_and_alone_input_gradients(stack, x, grad_out)
    for r, want in enumerate(alone):
        assert np.signbit(want).any() and (want == 0).any()
        np.testing.assert_array_equal(got[r].view(np.uint64), want.view(np.uint64))


def _stacked_and_alone_input_gradients(stack, x, grad_out):
    """A stacked Linear's input gradient ``(k, n, in)`` for ``x`` ``(k, n, in)`` and
    ``grad_out`` ``(k, n, out)``, and per replica that of a single Linear holding the
    replica's weights."""
    from proplab import Linear

    stack.forward(x)
    got = stack.backward(grad_out)
    alone = []
    for r in range(len(x)):
        one = Linear(stack.in_features, stack.out_features, rng=np.random.default_rng(0))
        one.weight.data[...] = stack.weight.data[r]
        one.forward(x[r])
        alone.append(one.backward(grad_out[r]))
    return got, alone


@pytest.mark.parametrize(
    "width, out_features",
    [(127, 129), (128, 128), (300, 64)],  # 16 383 weights: W^T copied; 16 384 on: a view
)
@pytest.mark.parametrize("n", [1, 9])
def test_wide_stacked_linear_input_gradient_has_the_single_models_bits(width, out_features, n, rng):
    """From 128 x 128 weights on, Linear multiplies by the transposed view of W (BLAS's
    NT kernel) instead of a contiguous copy (NN); a single model and each replica of a
    stack take the same kernel on either side of that limit, so their input gradients
    are the same bits and a stacked run of a wide network still equals it run alone."""
    from proplab import Linear
    from proplab.layers import _TRANSPOSED_COPY_LIMIT

    assert 127 * 129 < _TRANSPOSED_COPY_LIMIT <= 128 * 128
    k = 3
    stack = Linear(
        width, out_features, replicas=k, rngs=[np.random.default_rng(s) for s in range(k)]
    )
    x = rng.standard_normal((k, n, width))
    grad_out = rng.standard_normal((k, n, out_features))
    got, alone = _stacked_and_alone_input_gradients(stack, x, grad_out)
    for r, want in enumerate(alone):
        np.testing.assert_allclose(want, grad_out[r] @ stack.weight.data[r].T, rtol=1e-12)
        np.testing.assert_array_equal(got[r].view(np.uint64), want.view(np.uint64))


@pytest.mark.parametrize("k, n", [(3, 7), (40, 21)])  # 21 rows: broadcast add; 840: repeated bias
@pytest.mark.parametrize("shared", [True, False])
def test_stacked_linear_forward_has_the_single_models_bits(k, n, shared, rng):
    """A stack's bias is added by broadcasting over few rows and as a repeated copy
    over many (it is faster there); both give each replica exactly its single model's
    output, which is what lets a stacked sweep equal the runs trained alone."""
    from proplab import Linear

    width, out = 6, 10
    rngs = [np.random.default_rng(s) for s in range(k)]
    stack = Linear(width, out, replicas=k, rngs=rngs)
    stack.bias.data[...] = rng.standard_normal((k, out))
    x = rng.standard_normal((n, width) if shared else (k, n, width))
    got = stack.forward(x)
    assert got.shape == (k, n, out)
    for r in range(k):
        one = Linear(width, out, rng=np.random.default_rng(0))
        one.weight.data[...] = stack.weight.data[r]
        one.bias.data[...] = stack.bias.data[r]
        want = one.forward(x if shared else x[r])
        np.testing.assert_array_equal(got[r].view(np.uint64), want.view(np.uint64))
