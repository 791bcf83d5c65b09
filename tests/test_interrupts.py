"""A stop signal takes effect at an epoch's end: the weights, the optimizer and the history agree.

Before interrupts.py, a Ctrl-C (or a SIGTERM under the CLI) that arrived after an epoch's
update but before its record saved weights one update ahead of ``epochs_run``, and a run's
``interrupted.json`` said "interrupted after 50217 epochs" beside ``"epochs_run": 50216``
(found by an audit with SIGHUP). Each test sends the signal at one exact point of an epoch
and checks the result against a run trained for that many epochs without a stop.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from proplab import SGD, Adam, MSELoss, callbacks, data, fit, mlp
from proplab.interrupts import signals_at_epoch_end
from proplab.runio import StopSignal, stop_signals_as_ctrl_c


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def _xor_run(optimizer: str = "sgd", seed: int = 0):
    x, y = data.generate_xor_easy()
    model = mlp(rng=np.random.default_rng(seed))
    opt = SGD(model.parameters(), lr=1.0) if optimizer == "sgd" else Adam(model.parameters())
    return model, opt, x, y


def _signal_in_step(opt, at_call: int, send=_ctrl_c) -> None:
    """The optimizer's ``at_call``-th step sends the signal right after its update, the
    moment where a stop used to leave the weights ahead of the history."""
    real, calls = opt.step, []

    def step():
        real()
        calls.append(1)
        if len(calls) == at_call:
            send()

    opt.step = step  # fit looks the bound method up once, at its start


def _weights(model) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_ctrl_c_right_after_an_update_ends_the_run_after_that_epoch(ctrl_c, optimizer):
    model, opt, x, y = _xor_run(optimizer)
    _signal_in_step(opt, at_call=30)
    history = fit(model, MSELoss(), opt, x, y, epochs=100)
    assert history.stop_reason == "interrupted" and history.interrupted_by == "Ctrl-C"
    assert history.epochs_run == 30 and history.epoch == list(range(1, 31))
    assert history.message == "interrupted after 30 epochs (Ctrl-C)"
    # the same 30 epochs without a stop: the same weights, losses and optimizer state
    alone, alone_opt, _, _ = _xor_run(optimizer)
    reference = fit(alone, MSELoss(), alone_opt, x, y, epochs=30)
    for mine, theirs in zip(_weights(model), _weights(alone), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert history.loss == reference.loss
    # and the optimizers' states (Adam's moments and step count): 5 more epochs agree too
    fit(model, MSELoss(), opt, x, y, epochs=5)
    fit(alone, MSELoss(), alone_opt, x, y, epochs=5)
    for mine, theirs in zip(_weights(model), _weights(alone), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_signal_in_the_last_epoch_keeps_every_epoch_and_says_interrupted(ctrl_c):
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=20)
    history = fit(model, MSELoss(), opt, x, y, epochs=20)
    assert (history.stop_reason, history.epochs_run) == ("interrupted", 20)
    assert history.message == "interrupted after 20 epochs (Ctrl-C)"


def test_a_mini_batch_epoch_is_finished_before_the_stop(ctrl_c):
    """Ctrl-C after the 2nd of 3 batches of epoch 5: the epoch's last batch still runs, so
    the weights and the data order drawn are those of 5 whole epochs."""
    x, y = data.generate_linear(n=30, rng=np.random.default_rng(1))
    model = mlp(rng=np.random.default_rng(0))
    opt = SGD(model.parameters(), lr=0.5)
    _signal_in_step(opt, at_call=4 * 3 + 2)
    history = fit(
        model, MSELoss(), opt, x, y, epochs=50, batch_size=10, rng=np.random.default_rng(7)
    )
    assert (history.stop_reason, history.epochs_run) == ("interrupted", 5)
    alone = mlp(rng=np.random.default_rng(0))
    alone_opt = SGD(alone.parameters(), lr=0.5)
    fit(alone, MSELoss(), alone_opt, x, y, epochs=5, batch_size=10, rng=np.random.default_rng(7))
    for mine, theirs in zip(_weights(model), _weights(alone), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_sigterm_under_the_cli_handler_is_named_and_waits_for_the_epoch_too():
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=12, send=lambda: os.kill(os.getpid(), signal.SIGTERM))
    with stop_signals_as_ctrl_c() as caught:
        history = fit(model, MSELoss(), opt, x, y, epochs=100)
    assert caught == [signal.SIGTERM]
    assert history.message == "interrupted after 12 epochs (SIGTERM)"
    assert history.epochs_run == 12


def test_a_stack_stops_every_replica_after_the_same_epoch(ctrl_c):
    x, y = data.generate_xor_easy()
    model = mlp(seeds=[0, 1, 2])
    opt = SGD(model.parameters(), lr=np.array([0.5, 1.0, 2.0]))
    _signal_in_step(opt, at_call=9)
    history = fit(model, MSELoss(), opt, x, y, epochs=40)
    assert (history.stop_reason, history.epochs_run) == ("interrupted", 9)
    assert len(history.loss) == 9 and history.loss[-1].shape == (3,)


def test_callbacks_train_holds_the_stop_through_validation_and_the_schedule(ctrl_c):
    """Ctrl-C during epoch 6's update: the epoch's validation score is still measured."""
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=6)
    history = callbacks.train(model, MSELoss(), opt, x, y, epochs=40, validation=(x, y))
    assert (history.stop_reason, history.epochs_run) == ("interrupted", 6)
    assert history.message == "interrupted after 6 epochs (Ctrl-C)"
    assert len(history.val_loss) == 6 and np.isfinite(history.val_loss).all()


def test_ctrl_c_pressed_twice_stops_at_once(ctrl_c):
    """The second signal is not held: a user who insists gets the stop mid-epoch (the
    history still keeps only whole epochs)."""
    model, opt, x, y = _xor_run()

    def twice():
        _ctrl_c()
        _ctrl_c()

    _signal_in_step(opt, at_call=15, send=twice)
    history = fit(model, MSELoss(), opt, x, y, epochs=100)
    # stopped inside epoch 15's step: its record was never written, its update was, and
    # the message says so (it said "after 14 epochs" of weights 15 updates on: chaos17)
    assert (history.stop_reason, history.epochs_run, history.mid_epoch) == ("interrupted", 14, True)
    assert history.message == (
        "interrupted after 14 epochs (Ctrl-C); a second signal stopped it part-way through "
        "epoch 15, so the weights may hold some of that epoch's updates"
    )


def test_a_second_signal_inside_train_s_own_block_waits_with_the_first(ctrl_c):
    """In callbacks.train the epoch's fit holds signals inside train's own block: a second
    Ctrl-C there is held by the outer block, so the stop still comes at the epoch's end
    and the message claims no partial epoch."""
    model, opt, x, y = _xor_run()

    def twice():
        _ctrl_c()
        _ctrl_c()

    _signal_in_step(opt, at_call=8, send=twice)
    history = callbacks.train(model, MSELoss(), opt, x, y, epochs=40)
    assert (history.stop_reason, history.epochs_run, history.mid_epoch) == ("interrupted", 8, False)
    assert history.message == "interrupted after 8 epochs (Ctrl-C)"


def test_a_second_signal_during_train_s_validation_keeps_the_whole_epochs(ctrl_c, monkeypatch):
    """Ctrl-C twice during epoch 5's validation pass stops at once, outside the epoch's fit:
    nothing there updates the weights, so they are 5 whole epochs' and the message claims
    no partial epoch (callbacks.train does not pass fit's mid_epoch)."""
    model, opt, x, y = _xor_run()
    real, calls = callbacks.evaluate, []

    def evaluate(*args):
        calls.append(1)
        if len(calls) == 6:  # 1: train's check of the validation set, then one per epoch
            _ctrl_c()
            _ctrl_c()
        return real(*args)

    monkeypatch.setattr(callbacks, "evaluate", evaluate)
    history = callbacks.train(model, MSELoss(), opt, x, y, epochs=40, validation=(x, y))
    assert (history.stop_reason, history.epochs_run, history.mid_epoch) == ("interrupted", 5, False)
    assert history.message == "interrupted after 5 epochs (Ctrl-C)"
    assert np.isnan(history.val_loss[-1]) and len(history.val_loss) == 5
    alone, alone_opt, _, _ = _xor_run()
    monkeypatch.setattr(callbacks, "evaluate", real)
    callbacks.train(alone, MSELoss(), alone_opt, x, y, epochs=5, validation=(x, y))
    for mine, theirs in zip(_weights(model), _weights(alone), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_the_block_holds_a_signal_delivers_it_once_and_restores_the_handler(ctrl_c):
    with signals_at_epoch_end() as signals:
        _ctrl_c()
        assert [s for s, _ in signals.held] == [signal.SIGINT]  # held, nothing raised
        with pytest.raises(KeyboardInterrupt):
            signals.deliver()
        assert signals.held == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_signal_still_held_when_the_block_fails_is_not_lost(ctrl_c):
    with pytest.raises(KeyboardInterrupt) as stop:
        with signals_at_epoch_end():
            _ctrl_c()
            raise ValueError("a bug in a callback")
    assert isinstance(stop.value.__context__, ValueError)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_signal_left_to_the_os_is_not_touched():
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with signals_at_epoch_end() as signals:
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
            assert signal.SIGTERM not in signals.handlers
    finally:
        signal.signal(signal.SIGTERM, before)


def test_the_cli_handler_raises_its_stop_signal_when_delivered():
    with stop_signals_as_ctrl_c():
        with signals_at_epoch_end() as signals:
            os.kill(os.getpid(), signal.SIGTERM)
            with pytest.raises(StopSignal, match="SIGTERM"):
                signals.deliver()
