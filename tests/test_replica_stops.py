"""Per-replica early stop and divergence in a stack: each replica behaves as if it ran alone."""

import numpy as np
import pytest

import proplab as pl


def _single(seed: int, lr: float, epochs: int, tol: float | None, **kw):
    x, y = pl.generate_xor_easy()
    model = pl.mlp(2, 10, 1, rng=np.random.default_rng(seed), **kw)
    history = pl.fit(model, pl.MSELoss(), pl.SGD(model.parameters(), lr=lr), x, y, epochs, tol=tol)
    return model, history


@pytest.mark.parametrize(
    ("lrs", "tol", "kw"),
    [
        # replica 2 diverges at once, replica 3 later; 0 and 1 run every epoch
        ([1.0, 0.5, 1e7, 2.0], 1e-3, {"activation": "relu", "output_activation": "identity"}),
        # every replica converges below tol, at different epochs
        ([1.0, 2.0, 4.0], 2e-2, {}),
    ],
)
def test_stack_equals_separate_runs_with_stops(lrs, tol, kw):
    x, y = pl.generate_xor_easy()
    seeds = list(range(len(lrs)))
    stack = pl.mlp(2, 10, 1, seeds=seeds, **kw)
    opt = pl.SGD(stack.parameters(), lr=np.array(lrs))
    history = pl.fit(stack, pl.MSELoss(), opt, x, y, 1500, tol=tol)
    reasons = set()
    for k, (seed, lr) in enumerate(zip(seeds, lrs, strict=True)):
        model, alone = _single(seed, lr, 1500, tol, **kw)
        mine = history.replica(k)
        reasons.add(mine.stop_reason)
        assert mine.stop_reason == alone.stop_reason
        assert mine.epoch == alone.epoch
        np.testing.assert_allclose(mine.loss, alone.loss, rtol=1e-12, equal_nan=True)
        assert mine.accuracy == alone.accuracy
        for p_alone, p_stack in zip(model.parameters(), stack.parameters(), strict=True):
            np.testing.assert_allclose(p_stack.data[k], p_alone.data, rtol=1e-12, equal_nan=True)
    assert len(reasons) >= 1 and ("diverged" in reasons or "converged" in reasons)


def test_all_replicas_converged_stops_the_loop():
    x, y = pl.generate_xor_easy()
    stack = pl.mlp(2, 10, 1, seeds=[0, 1])
    history = pl.fit(
        stack,
        pl.MSELoss(),
        pl.SGD(stack.parameters(), lr=np.array([2.0, 2.0])),
        x,
        y,
        50000,
        tol=5e-2,
    )
    assert history.stop_reason == "converged"
    assert history.epochs_run == int(history.replica_stop_epoch.max()) < 50000
    assert list(history.replica_stop_reason) == ["converged", "converged"]


def test_replica_view_of_single_history_is_an_error():
    x, y = pl.generate_xor_easy()
    _, history = _single(0, 1.0, 5, None)
    with pytest.raises(ValueError, match="single model"):
        history.replica(0)


def test_stop_check_tells_huge_finite_losses_from_diverged_ones():
    """The stop check's fast path squares the losses: a finite loss of 1e200 overflows
    that and must still count as finite (the exact path), while NaN and inf stop."""
    from proplab.train import _ReplicaStops

    stack = pl.mlp(2, 4, 1, seeds=[0, 1, 2])
    opt = pl.SGD(stack.parameters(), lr=np.array([1.0, 1.0, 1.0]))
    stops = _ReplicaStops(opt, (3,), tol=None)
    assert stops.check(1, np.array([0.25, 1e200, 3.0])) is False
    assert list(stops.reason) == ["completed"] * 3
    assert stops.check(2, np.array([0.25, np.inf, np.nan])) is False  # replica 0 goes on
    assert list(stops.reason) == ["completed", "diverged", "diverged"]
    assert list(stops.stop_epoch) == [0, 2, 2]
    assert list(opt.lr) == [1.0, 0.0, 0.0]  # the diverged replicas are frozen


def _relu_stack(lrs):
    stack = pl.mlp(
        2, 10, 1, seeds=list(range(len(lrs))), activation="relu", output_activation="identity"
    )
    return stack, pl.SGD(stack.parameters(), lr=np.array(lrs))


def test_a_stack_whose_replicas_converged_or_diverged_converged_overall():
    """Replica 0 falls below tol at epoch 24, replica 1 diverges at 17: not every
    replica diverged, so the stack's stop reason is "converged" and says both."""
    x, y = pl.generate_xor_easy()
    stack, opt = _relu_stack([0.1, 1e7])
    history = pl.fit(stack, pl.MSELoss(), opt, x, y, 2000, tol=0.2)
    assert list(history.replica_stop_reason) == ["converged", "diverged"]
    assert list(history.replica_stop_epoch) == [24, 17]
    assert history.stop_reason == "converged" and history.epochs_run == 24
    assert history.message == "every replica stopped by epoch 24 (1 diverged, 1 below tol=0.2)"


def test_replicas_of_an_interrupted_stack_say_interrupted_unless_they_had_stopped():
    x, y = pl.generate_xor_easy()
    stack, opt = _relu_stack([0.1, 1e-3])

    calls = []

    def callback(epoch, history):
        calls.append(epoch)
        if calls == [10, 20, 30, 40]:  # once: fit calls it again at the end
            raise KeyboardInterrupt

    history = pl.fit(
        stack, pl.MSELoss(), opt, x, y, 2000, tol=0.2, callback=callback, callback_every=10
    )
    assert history.stop_reason == "interrupted" and history.epochs_run == 40
    done, cut = history.replica(0), history.replica(1)
    assert (done.stop_reason, done.epochs_run) == ("converged", 24)
    assert done.message == "loss below tol=0.2 at epoch 24"
    assert (cut.stop_reason, cut.epochs_run) == ("interrupted", 40)
    assert cut.message == history.message == "interrupted after 40 epochs (Ctrl-C)"


def test_a_stop_keeps_the_rate_a_callback_gave_the_others():
    # a replica that diverged set every other replica's lr back to its value when fit
    # began, undoing a decay stepped from fit's callback (replica 1 jumped 64x)
    x, y = pl.generate_xor_easy()

    def halving(opt, seen):
        def callback(epoch, history):
            opt.lr = opt.lr * 0.5
            seen.append(np.copy(opt.lr))

        return callback

    stack = pl.mlp(2, 4, 1, seeds=[1, 2], output_activation="identity")
    opt = pl.SGD(stack.parameters(), lr=np.array([1e30, 0.5]))  # replica 0 diverges
    seen: list[np.ndarray] = []
    history = pl.fit(
        stack, pl.MSELoss(), opt, x, y, 30, callback=halving(opt, seen), callback_every=1
    )
    assert history.replica(0).stop_reason == "diverged"
    stop = int(history.replica_stop_epoch[0])
    assert 1 <= stop < 30
    # (fit calls back after every epoch, and once more when it ends)
    assert [lr[1] for lr in seen[:30]] == [0.5 * 0.5**e for e in range(1, 31)]

    alone = pl.mlp(2, 4, 1, rng=np.random.default_rng(2), output_activation="identity")
    one = pl.SGD(alone.parameters(), lr=0.5)
    pl.fit(alone, pl.MSELoss(), one, x, y, 30, callback=halving(one, []), callback_every=1)
    for p_alone, p_stack in zip(alone.parameters(), stack.parameters(), strict=True):
        np.testing.assert_allclose(p_stack.data[1], p_alone.data, rtol=1e-12)
