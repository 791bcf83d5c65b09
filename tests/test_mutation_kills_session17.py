"""Tests that kill mutants of session 17's code which the rest of the suite let live.

A mutation testing pass (hand-made slips in interrupts.py and its users, fit's new checks,
check_finite, gradcheck's restored randomness, the sweep's worker handling, the TOML hint,
the report's wordings and the figures): each test names the slip it catches, fails on it
and passes on the real code.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading

import numpy as np
import pytest
from test_interrupts import _ctrl_c, _signal_in_step, _xor_run
from test_mutation_kills_session12 import _in_a_sweep_pool
from test_signals import _wait_until_ended
from test_sweep import SIMPLE, spec_of, write

from proplab import (
    SGD,
    BCELoss,
    Dropout,
    Linear,
    MSELoss,
    Sequential,
    Sigmoid,
    callbacks,
    data,
    evaluate,
    fit,
    gradcheck,
    mlp,
    runio,
    sweep,
    sweep_workers,
)
from proplab.core import Module, Parameter
from proplab.interrupts import signals_at_epoch_end
from proplab.pools import pool_context
from proplab.runio import StopSignal, stop_signals_as_ctrl_c
from proplab.sweep import SweepError, run_sweep


@pytest.fixture
def stops_not_ignored():
    """SIGTERM and SIGHUP at their default action, as in a terminal: under ``nohup`` (or a
    background job) they come ignored, and stop_signals_as_ctrl_c rightly leaves them so."""
    previous = {s: signal.signal(s, signal.SIG_DFL) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


class _ForgetfulMSE(MSELoss):
    """A loss whose backward forgot ``return``."""

    def backward(self):
        super().backward()


def test_fit_refuses_a_legacy_random_state_as_rng() -> None:
    """Slip: the rng check refusing only an int seed. A RandomState has ``permutation``
    too, so it trained on silently, its stream outside the run's recorded seed."""
    x, y = data.generate_xor_easy()
    model = mlp(rng=np.random.default_rng(0))
    legacy = np.random.RandomState(0)
    with pytest.raises(TypeError, match=r"^rng must be a numpy Generator .*, got RandomState"):
        fit(model, MSELoss(), SGD(model.parameters()), x, y, 3, batch_size=4, rng=legacy)


def test_a_forgetful_loss_under_a_sequential_keeps_the_sequential_s_own_message() -> None:
    """Slip: the ``_proplab_noted`` check dropped: the Sequential's own word on the None it
    was given (which already suggests the forgotten ``return``) was replaced."""

    class _ForgetfulNeedsTwo(_ForgetfulMSE):
        """fit's check before training runs a loss of one's own on one sample: one that
        cannot take it is left to training, where the Sequential meets its None."""

        def forward(self, pred, target):
            if pred.shape[-2] < 2:
                raise ValueError("needs two samples")
            return super().forward(pred, target)

    x, y = data.generate_xor_easy()
    model = mlp(rng=np.random.default_rng(0))
    with pytest.raises(TypeError) as err:
        fit(model, _ForgetfulNeedsTwo(), SGD(model.parameters()), x, y, epochs=2)
    assert str(err.value).startswith(
        "Sequential.backward was given None for dL/d(output): it takes an array of the "
        "output's shape (a loss's backward that forgot `return`?)"
    )


class _TrainingOnlyNoise(Module):
    """A layer of one's own whose training forward uses an rng it was never given: the
    probe forward (eval mode) passes, the first epoch's forward fails before the loss."""

    def __init__(self) -> None:
        super().__init__()
        self.rng = None

    def forward(self, x):
        if self.training:
            return x + self.rng.normal(size=x.shape)
        return x

    def backward(self, grad_out, need_input_grad=True):
        return grad_out


def test_an_error_before_the_loss_ran_is_raised_as_it_is() -> None:
    """Slip: the handler raising the loss's own complaint (its backward called before any
    forward) instead of the model's error, which names what is wrong."""
    x, y = data.generate_xor_easy()
    model = Sequential(_TrainingOnlyNoise(), Linear(2, 1, rng=np.random.default_rng(0)), Sigmoid())
    with pytest.raises(AttributeError, match=r"'NoneType' object has no attribute 'normal'"):
        fit(model, MSELoss(), SGD(model.parameters()), x, y, epochs=2)


class _SharedScale(Module):
    """``x * a`` with one learnable ``a`` and no replica axis: a stack would share it."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.a = Parameter(np.ones(shape))
        self.params["a"] = self.a

    def forward(self, x):
        self.x = x
        return x * self.a.data

    def backward(self, grad_out, need_input_grad=True):
        self.a.accumulate(np.sum(grad_out * self.x))
        return grad_out * self.a.data


def test_a_shared_parameter_in_a_stack_s_last_layer_is_refused_too() -> None:
    """Slip: the replica check skipping the last parameter (an output layer of one's own)."""
    x, y = data.generate_xor_easy()
    model = Sequential(*mlp(seeds=[0, 1, 2]).layers, _SharedScale())
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, epochs=2)
    assert str(err.value).startswith(
        "parameter '6.a' has shape (), but this stack's replica shape is (3,)"
    )


def test_a_grid_stack_refuses_a_parameter_with_only_its_first_replica_axis() -> None:
    """Slip: the replica check comparing only the first replica axis. In a (2, 3) grid of
    models, a scale of shape (2, 1, 1, 1) is shared by each row's 3 replicas."""
    x, y = data.generate_xor_easy()
    grid = mlp(rng=np.random.default_rng(0), replicas=(2, 3))
    model = Sequential(*grid.layers, _SharedScale((2, 1, 1, 1)))
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, epochs=2)
    assert str(err.value).startswith(
        "parameter '6.a' has shape (2, 1, 1, 1), but this stack's replica shape is (2, 3)"
    )


def test_bool_labels_train_a_float32_model_exactly_as_float_ones() -> None:
    """Slip: only int and uint targets cast to the model's dtype, not bool. BCE's ``1 - t``
    made bool labels int64, and the float32 model's loss came out computed in float64."""
    x, labels = data.generate_xor_easy()
    runs = []
    for y in (labels.astype(bool), labels.astype(np.float32)):
        model = mlp(rng=np.random.default_rng(0), dtype=np.float32)
        runs.append(fit(model, BCELoss(), SGD(model.parameters(), lr=1.0), x, y, 20).loss)
    assert runs[0] == runs[1]


def test_fit_in_an_outer_block_stopped_at_the_epoch_s_end_claims_no_partial_epoch(ctrl_c):
    """Slip: ``at_once`` left True when the second Ctrl-C went to an outer block that held
    it. fit in a block of one's own (as callbacks.train runs it): Ctrl-C twice in epoch 7
    stops fit at that epoch's end, so its history says nothing of a partial epoch 8."""
    model, opt, x, y = _xor_run()

    def twice():
        _ctrl_c()
        _ctrl_c()

    _signal_in_step(opt, at_call=7, send=twice)
    histories = []
    # the block may deliver what it still holds when it ends: not what this test is about
    with contextlib.suppress(KeyboardInterrupt), signals_at_epoch_end():
        histories.append(fit(model, MSELoss(), opt, x, y, epochs=40))
    (history,) = histories
    assert (history.stop_reason, history.epochs_run, history.mid_epoch) == ("interrupted", 7, False)
    assert history.message == "interrupted after 7 epochs (Ctrl-C)"


def test_check_finite_names_the_first_bad_value_in_fit_and_evaluate_x_and_y() -> None:
    """Slip: the message naming the last NaN or inf found instead of the first, and
    evaluate checking its x only."""
    x, y = data.generate_xor_easy()
    x = x.copy()
    x[1, 0], x[5, 1] = np.nan, np.inf
    model = mlp(rng=np.random.default_rng(0))
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters()), x, y, epochs=2)
    assert str(err.value) == "x[1, 0] is nan: training data must be finite numbers"
    with pytest.raises(ValueError) as err:
        evaluate(model, MSELoss(), x, y)
    assert str(err.value) == "x[1, 0] is nan: data to score must be finite numbers"
    # and its targets (slip: evaluate checking x only; a NaN target scored a NaN loss)
    x, y = data.generate_xor_easy()
    y = y.astype(np.float64)
    y[2, 0] = np.nan
    with pytest.raises(ValueError) as err:
        evaluate(model, MSELoss(), x, y)
    assert str(err.value) == "y[2, 0] is nan: data to score must be finite numbers"


def test_a_block_s_first_held_signal_is_the_one_delivered(ctrl_c, stops_not_ignored):
    """Slip: ``deliver`` running the last held signal's handler. While a run's files are
    written (every signal waits), SIGTERM then Ctrl-C: the stop that comes is SIGTERM's,
    so the run is saved as stopped by SIGTERM (exit 143), not by Ctrl-C."""
    with stop_signals_as_ctrl_c() as caught:
        # KeyboardInterrupt, not StopSignal: Ctrl-C's own stop must fail the test, not end it
        with pytest.raises(KeyboardInterrupt) as stop, runio.uninterrupted():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
    assert type(stop.value) is StopSignal and str(stop.value) == "SIGTERM"
    assert caught == [signal.SIGTERM]


def _train(*args, **kwargs):
    """callbacks.train, a KeyboardInterrupt escaping it made a test failure (raised in a
    test, it would end the whole session)."""
    try:
        return callbacks.train(*args, **kwargs)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped callbacks.train")


def _twice() -> None:
    _ctrl_c()
    _ctrl_c()


def test_ctrl_c_twice_in_the_first_epoch_says_epoch_1_was_part_done(ctrl_c):
    """Slip: the partial-epoch note left out when no epoch was complete. Weights one step
    into epoch 1 are not the initial ones, and the message must say so."""
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=1, send=_twice)
    history = fit(model, MSELoss(), opt, x, y, epochs=10)
    assert (history.epochs_run, history.mid_epoch) == (0, True)
    assert history.message == (
        "interrupted after 0 epochs (Ctrl-C); a second signal stopped it part-way through "
        "epoch 1, so the weights may hold some of that epoch's updates"
    )


def test_gradcheck_puts_a_held_dropout_mask_back() -> None:
    """Slip: gradcheck restoring ``hold_mask`` but not the mask itself. A layer holding
    its mask (a check of one's own in progress) kept the check's mask instead."""
    x = np.random.default_rng(3).normal(size=(6, 4))
    drop = Dropout(0.5, rng=np.random.default_rng(0))
    drop.hold_mask = True
    before = drop.forward(x)
    assert gradcheck(drop, x).ok
    assert drop.hold_mask
    np.testing.assert_array_equal(drop.forward(x), before)  # the mask it held, still held


def test_signals_held_together_are_one_stop_delivered_once():
    """Slip: ``deliver`` not clearing what it held. Two SIGTERMs held while files are
    written are one stop: the handler runs once, at ``deliver``, not again when the block
    ends (a handler that records rather than raises, as an outer block's does)."""
    calls = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        with signals_at_epoch_end(second_stops=False) as signals:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
            assert calls == [] and len(signals.held) == 2
            signals.deliver()
            assert calls == [signal.SIGTERM] and signals.held == []
        assert calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("loss_fn", [MSELoss, BCELoss])
def test_evaluate_scores_integer_labels_as_the_model_s_float_dtype(loss_fn) -> None:
    """Slip: evaluate ignoring the loss's ``numeric_targets``: a float32 model's score on
    XOR's int64 labels was computed in float64, not what training on them computed."""
    x, labels = data.generate_xor_easy()
    model = mlp(rng=np.random.default_rng(0), dtype=np.float32)
    as_int = evaluate(model, loss_fn(), x, labels)[0]
    as_float32 = evaluate(model, loss_fn(), x, labels.astype(np.float32))[0]
    assert as_int == as_float32


def test_sighup_under_the_cli_handler_waits_for_the_epoch_too(stops_not_ignored):
    """Slip: SIGHUP left out of the stop signals held (a closed ssh session): it stopped
    fit mid-epoch, weights one update ahead of the history."""
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=12, send=lambda: os.kill(os.getpid(), signal.SIGHUP))
    with stop_signals_as_ctrl_c() as caught:
        history = fit(model, MSELoss(), opt, x, y, epochs=100)
    assert caught == [signal.SIGHUP]
    assert (history.epochs_run, history.mid_epoch) == (12, False)
    assert history.message == "interrupted after 12 epochs (SIGHUP)"


def test_fit_and_train_run_in_a_thread_as_in_the_main_one():
    """Slip: the main-thread guard dropped: only the main thread may set signal handlers,
    so fit in a worker thread (a web playground's) failed with ValueError."""
    x, y = data.generate_xor_easy()

    def run(result: list) -> None:
        model = mlp(rng=np.random.default_rng(0))
        opt = SGD(model.parameters(), lr=1.0)
        result.append(fit(model, MSELoss(), opt, x, y, epochs=5).loss)
        with runio.uninterrupted():
            result.append(callbacks.train(model, MSELoss(), opt, x, y, epochs=3).loss)

    here: list = []
    run(here)
    there: list = []

    def in_thread() -> None:
        try:
            run(there)
        except Exception as exc:  # said in the main thread, not lost in the worker's
            there.append(exc)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert there == here and len(here) == 2


def test_ctrl_c_twice_during_train_s_validation_stops_it_at_once(ctrl_c):
    """Slip: callbacks.train's own block holding a second signal too. Ctrl-C pressed twice
    while epoch 5 is validated stops at once: the epoch is kept, its validation score is
    not (NaN), and train returns its history."""
    model, opt, x, y = _xor_run()
    val_x, val_y = x[:7], y[:7]
    scored = []

    class _ImpatientMSE(MSELoss):
        def forward(self, pred, target):
            if pred.shape[-2] == len(val_x):  # a validation pass (the first: train's check)
                scored.append(1)
                if len(scored) == 1 + 5:
                    _twice()
            return super().forward(pred, target)

    history = _train(model, _ImpatientMSE(), opt, x, y, epochs=40, validation=(val_x, val_y))
    assert (history.stop_reason, history.epochs_run) == ("interrupted", 5)
    assert np.isfinite(history.val_loss[:4]).all() and np.isnan(history.val_loss[4])


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # slip: the outermost open bracket named, not the innermost
        (
            "[base]\nhidden = [[4, 4],\n  [8, 8\nepochs = 100\n",
            "Unclosed array (at line 4, column 1); the array opened on line 3 is never closed",
        ),
        # slip: an escaped quote taken for the string's end (its "[" then counted)
        (
            '[base]\nlabel = "a \\" [ b"\nhidden = [4,\n  4\n',
            "Unclosed array (at end of document); the array opened on line 3 is never closed",
        ),
        # slip: brackets in a comment counted (one inside the unclosed array)
        (
            "[base]\nhidden = [4,\n  # [ 8 was slower\n  4\n",
            "Unclosed array (at end of document); the array opened on line 2 is never closed",
        ),
        # slip: the lines of a multi-line string not counted
        (
            '[base]\nnote = """one\ntwo [\nthree"""\nhidden = [4,\n  4\n',
            "Unclosed array (at end of document); the array opened on line 5 is never closed",
        ),
        # slip: an inline table's "{" looked for as "[" (an array inside it may span lines)
        (
            "[base]\nopt = {hidden = [4,\n  4], lr = 1\nepochs = 100\n",
            "Unclosed inline table (at line 3, column 13); the inline table opened on line 2 "
            "is never closed",
        ),
        # slip: brackets counted past the place tomllib gave up ("lr = [" on line 3)
        (
            "[base]\nhidden = [4, 4\nlr = [1.0]\n",
            "Unclosed array (at line 3, column 1); the array opened on line 2 is never closed",
        ),
    ],
)
def test_an_unclosed_bracket_is_named_where_it_opened_in_harder_files(tmp_path, text, said):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(SweepError) as err:
        sweep.load_spec(path)
    assert str(err.value) == f"{path}: malformed TOML: {said}"


def test_a_sweep_stopped_by_ctrl_c_does_not_blame_a_dead_worker(tmp_path):
    """Slip: the "did not run (a worker process died)" line written after Ctrl-C too,
    where the interrupted line already says what is left and how to resume."""

    def stopped_runner(jobs, *, workers, on_done):
        raise KeyboardInterrupt

    stream = io.StringIO()
    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", runner=stopped_runner, stream=stream)
    assert result.interrupted and result.exit_code == 130
    assert "did not run" not in stream.getvalue()
    assert stream.getvalue().splitlines()[-1] == (
        "sweep: interrupted; 0/12 runs are finished and kept (0 of them trained now). "
        "Rerun the same command to resume."
    )


def _thrice() -> None:
    _twice()
    _ctrl_c()


def test_ctrl_c_three_times_in_train_s_epoch_stops_it_at_once(ctrl_c):
    """Slip: callbacks.train not taking fit's ``mid_epoch``. In train the second Ctrl-C
    waits with the first (fit's block hands it to train's); a third stops inside epoch 8,
    whose update the weights may hold."""
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=8, send=_thrice)
    history = _train(model, MSELoss(), opt, x, y, epochs=40)
    assert (history.stop_reason, history.epochs_run, history.mid_epoch) == ("interrupted", 7, True)


def test_ctrl_c_three_times_in_train_s_epoch_says_the_epoch_was_part_done(ctrl_c):
    """Slip: callbacks.train leaving fit's ``mid_epoch`` out of its message."""
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=8, send=_thrice)
    history = _train(model, MSELoss(), opt, x, y, epochs=40)
    assert history.message == (
        "interrupted after 7 epochs (Ctrl-C); a second signal stopped it part-way through "
        "epoch 8, so the weights may hold some of that epoch's updates"
    )


def test_one_run_a_dead_worker_left_unrun_is_one_run(tmp_path):
    """Slip: "runs" whatever the count."""

    def all_but_one_fail(jobs, *, workers, on_done):
        for job in jobs[:-1]:
            on_done(job, {"status": "failed", "error": "worker process died (...)"})

    stream = io.StringIO()
    result = run_sweep(spec_of(SIMPLE), tmp_path / "out", runner=all_but_one_fail, stream=stream)
    assert len(result.failed) == 11
    assert stream.getvalue().splitlines()[-1] == (
        "sweep: 1 run did not run (a worker process died); rerun the same command to run it"
    )


def _dispositions() -> dict[str, str]:
    def name(handler: object) -> str:
        if handler is signal.SIG_IGN:
            return "ignored"
        return getattr(handler, "__name__", repr(handler))

    return {s: name(signal.getsignal(getattr(signal, s))) for s in ("SIGTERM", "SIGHUP")}


def _sigterm_my_run() -> str:
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    except KeyboardInterrupt as exc:  # raised by the handler, in this very call
        return f"{type(exc).__name__}: {exc}"
    return "not stopped"


def test_a_sweep_worker_takes_sigterm_as_a_named_stop_and_leaves_nohup_s_sighup_ignored():
    """Slips: the workers' SIGTERM handler set only over a Python handler (a sweep run from
    Python, SIGTERM at its default: a worker then died of it, its run lost); SIGHUP set
    even where ``nohup`` ignores it; and the stop in a task not named after its signal."""
    before = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, signal.SIG_DFL),
        signal.SIGHUP: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    }
    try:
        results = _in_a_sweep_pool([(_dispositions, ()), (_sigterm_my_run, ())])
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    assert results == {
        0: {"SIGTERM": "_stop_in_a_task", "SIGHUP": "ignored"},
        1: "StopSignal: SIGTERM",
    }


def test_a_ctrl_c_in_train_s_last_epoch_is_returned_as_an_interrupted_history(ctrl_c):
    """Slip: callbacks.train not delivering a signal held after its loop: the block then
    delivered it on its way out, and KeyboardInterrupt escaped train, its history lost."""
    model, opt, x, y = _xor_run()
    _signal_in_step(opt, at_call=6)
    history = _train(model, MSELoss(), opt, x, y, epochs=6, validation=(x, y))
    assert (history.stop_reason, history.epochs_run) == ("interrupted", 6)
    assert history.message == "interrupted after 6 epochs (Ctrl-C)"
    assert np.isfinite(history.val_loss).all() and len(history.val_loss) == 6


def test_a_sweep_worker_between_runs_ends_on_sigterm(stops_not_ignored):
    """Slip: the workers' SIGTERM handler doing nothing between tasks. A worker waiting for
    a run has nothing to save: SIGTERM (its sweep's process group signalled) must end it,
    as the default action would, not leave it behind."""
    from concurrent.futures import ProcessPoolExecutor

    context = pool_context()
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=context,
        initializer=sweep_workers.init_worker,
        initargs=(context.Event(),),
    )
    try:
        pid = pool.submit(os.getpid).result()  # the task is done: the worker waits
        process = pool._processes[pid]
        os.kill(pid, signal.SIGTERM)
        assert _wait_until_ended([process.sentinel], seconds=30) == 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # its thread joins the worker
    assert process.exitcode == -signal.SIGTERM


def test_a_short_curve_is_not_read_past_its_last_epoch() -> None:
    """Slip: a shorter median line read off beyond its last epoch (np.interp holds its
    last value there). A run stopped early on a plateau then "lay on" the longer run's
    flat tail it never reached, and the two were taken for one curve."""
    from proplab.sweep_plots import _near, _shares

    epochs = np.arange(1, 101)
    loss = np.where(epochs < 20, 1.0 / epochs, 0.05)  # falls, then a plateau at 0.05
    long = (epochs, loss)
    short = (epochs[:30], loss[:30])  # stopped at epoch 30, on the plateau
    near = _near(long, short, 0.01)
    np.testing.assert_array_equal(near, epochs <= 30)  # no line of its own after 30
    # (most, least) whichever comes first (slip: the two shares in argument order)
    assert _shares(long, short, 0.01) == _shares(short, long, 0.01) == (1.0, 0.3)
    # one point draws no line for another to lie on (slip: a single point interpolated)
    assert not _near(long, (epochs[:1], loss[:1]), 0.01).any()
