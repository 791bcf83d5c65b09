"""The playground's "one step by hand": Playground.trace is ``proplab trace``'s step of the
model as it is, on one training point, and it leaves the session exactly as it was."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from proplab.config import RunConfig, build_loss, build_model, build_optimizer, shuffle_rng
from proplab.dropout import Dropout
from proplab.experiments import prepare_run
from proplab.playground import Playground, PlaygroundError
from proplab.trace import trace_step
from proplab.trace_run import trace_config
from proplab.train import fit

ADAM_DROPOUT = {
    "dataset": "circle",
    "n": 60,
    "hidden": [5, 3],
    "activation": "tanh",
    "optimizer": "adam",
    "lr": 0.01,
    "batch_size": 16,
    "dropout": 0.3,
    "seed": 4,
}

KEPT = (np.ndarray, np.random.Generator, int, float, str, type(None))


def trained(settings: dict, epochs: int):
    """``(model, loss, optimizer, x, y)`` after ``epochs`` of :func:`fit`, built as a run is
    (and as the playground builds its session), independently of the playground."""
    cfg, prep = prepare_run(RunConfig(**settings))
    model = build_model(cfg, prep.x.shape[-1], prep.n_out)
    loss_fn = build_loss(cfg)
    optimizer = build_optimizer(cfg, model.parameters())
    if epochs:
        fit(
            model,
            loss_fn,
            optimizer,
            prep.x,
            prep.y,
            epochs,
            batch_size=cfg.batch_size,
            rng=shuffle_rng(cfg),
            print_every=0,
        )
    return model, loss_fn, optimizer, prep.x, prep.y


def snapshot(session: Playground) -> dict:
    """Everything of a session a trace could move, copied: weights and gradients, the
    optimizer's buffers and state, every Generator's state, batchnorm's buffers, the epoch."""
    optimizer = session.optimizer
    return {
        "params": [(p.data.copy(), p.grad.copy()) for p in session.model.parameters()],
        "buffers": [(g.data.copy(), g.grad.copy()) for g in optimizer.groups],
        "optim_state": copy.deepcopy(optimizer.state),
        "hyper": copy.deepcopy(optimizer.hyper),
        "rngs": [
            m.rng.bit_generator.state for m in session.model.modules() if isinstance(m, Dropout)
        ],
        "shuffle": session.parts.rng.bit_generator.state,
        # every module's own values: batchnorm's running statistics, the arrays a forward
        # keeps for its backward, a dropout's mask and mode
        "modules": [
            {k: copy.deepcopy(v) for k, v in vars(m).items() if isinstance(v, KEPT)}
            for m in session.model.modules()
        ],
        "loss": {
            k: copy.deepcopy(v) for k, v in vars(session.loss_fn).items() if isinstance(v, KEPT)
        },
        "epoch": session.epoch,
        "curve": list(session.curve),
    }


def assert_same(a: object, b: object) -> None:
    """``a`` and ``b`` equal bit for bit (arrays by value and dtype, nested containers)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b, strict=True)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (a, b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state
    else:
        assert a == b or (a != a and b != b), (a, b)  # NaN == NaN here


def test_the_trace_is_trace_step_of_the_same_model_on_that_sample() -> None:
    # mini-batches, Adam (its moments take part in the update), dropout (the mask drawn
    # from the stream where training left it)
    session = Playground(ADAM_DROPOUT)
    session.step(40)
    got = session.trace(17)

    model, loss_fn, optimizer, x, y = trained(ADAM_DROPOUT, 40)
    title = (
        "One training step of 2-5-3-1 (tanh, output sigmoid, mse loss) on circle, seed 4, "
        "after 40 epochs of training, on training point 17 alone"
    )
    reference = trace_step(model, loss_fn, x[17:18], y[17:18], optimizer, title=title)
    assert got["text"] == reference.text(4)
    assert got["text"].splitlines()[0] == title
    assert got["sample"] == 17 and got["epoch"] == 40
    assert got["x"] == pytest.approx(list(x[17]), rel=1e-4)
    assert got["target"] == int(y[17, 0])
    assert got["checked"] is True and reference.checked
    assert got["loss_before"] == pytest.approx(reference.loss, rel=1e-4)
    assert got["loss_after"] == pytest.approx(reference.loss_after, rel=1e-4)
    assert got["loss_after"] != got["loss_before"]  # the step moved the copy's weights
    # the update the text shows is the reference's Adam step, not the weights unmoved
    first = reference.modules[0]
    assert not np.array_equal(first.updated["weight"], first.params["weight"])
    assert session.trace(17, digits=7)["text"] == reference.text(7)
    json.dumps(got, allow_nan=False)  # what the server sends


def test_the_trace_of_sample_0_is_proplab_traces_step_with_one_sample() -> None:
    # full batch, plain SGD: `proplab trace --after 300` traces the first training row
    settings = {"dataset": "xor", "hidden": [2], "seed": 1}
    session = Playground(settings)
    session.step(300)
    got = session.trace(0)["text"].splitlines()
    cli = trace_config(RunConfig(**settings), samples=1, after=300).text().splitlines()
    assert got[0] == cli[0] + ", on training point 0 alone"
    assert got[1:] == cli[1:]
    assert "UPDATE  SGD, lr 1: each weight W <- W - lr dL/dW" in got


def test_a_trace_leaves_the_session_as_it_was_bit_for_bit() -> None:
    traced, untouched = Playground(ADAM_DROPOUT), Playground(ADAM_DROPOUT)
    traced.step(25)
    untouched.step(25)
    before = snapshot(traced)
    first = traced.trace(3)
    traced.trace(41, digits=6)
    assert_same(snapshot(traced), before)
    # the copy drew its dropout mask from a copy of the stream: the same trace again
    assert traced.trace(3) == first
    # and training goes on exactly as it would have: weights, Adam's moments, masks
    assert_same(traced.step(25), untouched.step(25))
    assert_same(snapshot(traced), snapshot(untouched))
    assert_same(traced.state([]), untouched.state([]))


def test_the_copied_parameters_are_views_of_the_copied_optimizers_buffer() -> None:
    # what trace relies on: one deepcopy of (model, optimizer) keeps the flat buffer and
    # the parameters bound to each other, and apart from the session's
    session = Playground(ADAM_DROPOUT)
    session.step(5)
    model, optimizer = copy.deepcopy((session.model, session.optimizer))
    (group,) = optimizer.groups
    (original,) = session.optimizer.groups
    for p, q in zip(model.parameters(), session.model.parameters(), strict=True):
        assert np.shares_memory(p.data, group.data) and np.shares_memory(p.grad, group.grad)
        assert not np.shares_memory(p.data, original.data)
        assert not np.shares_memory(p.data, q.data)
    # copied apart, the optimizer would step a buffer the model no longer reads
    alone = copy.deepcopy(session.optimizer)
    assert not any(np.shares_memory(p.data, alone.groups[0].data) for p in model.parameters())


def test_a_regression_set_traces_its_value_target() -> None:
    settings = {
        "dataset": "plane",
        "n": 50,
        "noise": 0.0,
        "hidden": [3],
        "activation": "tanh",
        "output_activation": "identity",
        "optimizer": "adam",
        "lr": 0.03,
        "seed": 2,
    }
    session = Playground(settings)
    session.step(10)
    got = session.trace(7)
    model, loss_fn, optimizer, x, y = trained(settings, 10)
    assert got["target"] == pytest.approx(float(y[7, 0]), rel=1e-4)
    assert isinstance(got["target"], float) and got["target"] != round(got["target"])
    assert (
        got["text"]
        .splitlines()[0]
        .startswith("One training step of 2-3-1 (tanh, output identity, mse loss) on plane, seed 2")
    )
    reference = trace_step(model, loss_fn, x[7:8], y[7:8], optimizer)
    assert got["text"].splitlines()[1:] == reference.text().splitlines()  # (no title)


def test_input_features_and_cross_entropy_are_traced_through_their_modules() -> None:
    settings = {
        "dataset": "circle",
        "n": 30,
        "features": ["x1_sq", "x2_sq"],
        "hidden": [2],
        "loss": "cross_entropy",
        "output_activation": "identity",
    }
    session = Playground(settings)
    session.step(3)
    text = session.trace(4)["text"]
    assert "phi = Features(x)   (Features(x1_sq, x2_sq))" in text
    assert "LOSS  CrossEntropyLoss" in text
    x = session.x[4]
    # the features of this point, as the text shows them (4 significant digits)
    assert f"phi = [[{x[0] ** 2:#.4g}  {x[1] ** 2:#.4g}]]" in text


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (21, "sample: must be from 0 to 20 (the indices of the 21 training points), got 21"),
        (-1, "sample: must be from 0 to 20 (the indices of the 21 training points), got -1"),
        (2.0, "sample: must be an integer from 0 to 20 (a training point's index), got 2.0"),
        (True, "sample: must be an integer from 0 to 20 (a training point's index), got True"),
        ("3", "sample: must be an integer from 0 to 20 (a training point's index), got '3'"),
        (None, "sample: must be an integer from 0 to 20 (a training point's index), got None"),
    ],
)
def test_a_bad_sample_is_refused_naming_it(sample, message) -> None:
    session = Playground()  # the lab's XOR: 21 training points
    with pytest.raises(PlaygroundError) as info:
        session.trace(sample)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        (0, "digits: must be from 1 to 12, got 0"),
        (13, "digits: must be from 1 to 12, got 13"),
        (4.5, "digits: must be an integer from 1 to 12, got 4.5"),
    ],
)
def test_bad_digits_are_refused(digits, message) -> None:
    with pytest.raises(PlaygroundError) as info:
        Playground().trace(0, digits)
    assert str(info.value) == message


def test_a_numpy_integer_sample_is_an_index() -> None:
    session = Playground()
    assert session.trace(np.int64(5)) == session.trace(5)


def test_batchnorm_is_refused_because_one_sample_has_no_variance() -> None:
    session = Playground({"hidden": [4], "batchnorm": True})
    before = snapshot(session)
    with pytest.raises(PlaygroundError) as info:
        session.trace(2)
    assert str(info.value) == (
        "sample 2: a network with batchnorm cannot take a step on one sample "
        "(a batch of one has no variance to normalise by)"
    )
    assert_same(snapshot(session), before)


def test_a_diverged_model_has_no_step_to_trace() -> None:
    session = Playground({"activation": "relu", "output_activation": "identity", "lr": 100})
    session.step(200)
    assert session.stopped
    with pytest.raises(PlaygroundError) as info:
        session.trace(0)
    assert str(info.value) == (
        f"{session.stopped}; there is no step to trace (reset to train again)"
    )
