"""Optimizer state: state_dict / load_state_dict, and save(..., optimizer=) / load_optimizer.

The point: 100 epochs, save with the optimizer, load, 100 more is the 200-epoch run bit
for bit, for every rule that keeps buffers (without the state, momentum and moments
restart and the runs part: test_serialize's test without ``optimizer=``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import proplab
from proplab import SGD, AdaGrad, Adam, RMSProp
from proplab.core import Module, Parameter
from proplab.models import mlp
from proplab.optim_base import Optimizer
from proplab.per_replica import PerReplicaOptimizer
from proplab.serialize import ModelFileError

Make = Callable[[list[Parameter]], Optimizer]

RULES: dict[str, Make] = {
    "sgd-momentum": lambda ps: SGD(ps, lr=0.5, momentum=0.9, dampening=0.1),
    "nesterov": lambda ps: SGD(ps, lr=0.5, momentum=0.9, nesterov=True, weight_decay=1e-3),
    # lr_decay makes the step count matter too
    "adagrad": lambda ps: AdaGrad(ps, lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop-centered-momentum": lambda ps: RMSProp(ps, lr=0.01, centered=True, momentum=0.5),
    "adam": lambda ps: Adam(ps, lr=0.02, betas=(0.8, 0.99)),
    "adam-amsgrad": lambda ps: Adam(ps, lr=0.02, amsgrad=True, l1=1e-4),
}


def _weights(model: Module) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in model.state_dict().items()}


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name, strict=True)


def _xor() -> tuple[np.ndarray, np.ndarray]:
    return proplab.generate_xor_easy()


@pytest.mark.parametrize("make", list(RULES.values()), ids=list(RULES))
def test_save_load_and_train_on_is_the_uninterrupted_run_bit_for_bit(
    tmp_path: Path, make: Make
) -> None:
    x, y = _xor()
    loss = proplab.MSELoss()
    whole = mlp(2, 6, 1, rng=np.random.default_rng(3))
    run = proplab.fit(whole, loss, make(whole.parameters()), x, y, epochs=200)

    first = mlp(2, 6, 1, rng=np.random.default_rng(3))
    opt = make(first.parameters())
    head = proplab.fit(first, loss, opt, x, y, epochs=100)
    proplab.save(first, tmp_path / "half.npz", optimizer=opt)

    resumed = proplab.load(tmp_path / "half.npz")
    opt2 = proplab.load_optimizer(tmp_path / "half.npz", resumed.parameters())
    assert type(opt2) is type(opt) and opt2.steps == 100 and opt2.hyper == opt.hyper
    tail = proplab.fit(resumed, loss, opt2, x, y, epochs=100)

    assert head.loss + tail.loss == run.loss  # every epoch's loss, exactly
    _assert_same(_weights(resumed), _weights(whole))
    assert opt2.steps == 200
    # and the run moved: the state matters (test_serialize: without it the runs part)
    assert run.loss[-1] < run.loss[0]


def test_a_stack_with_per_replica_learning_rates_resumes_bit_for_bit(tmp_path: Path) -> None:
    x, y = _xor()
    loss = proplab.MSELoss()
    lrs = np.array([0.005, 0.02, 0.05])

    def make(ps: list[Parameter]) -> Optimizer:
        return Adam(ps, lr=lrs, betas=(np.array([0.9, 0.8, 0.7]), 0.999))

    whole = mlp(2, 5, 1, seeds=[1, 2, 3], replicas=3)
    run = proplab.fit(whole, loss, make(whole.parameters()), x, y, epochs=200)
    first = mlp(2, 5, 1, seeds=[1, 2, 3], replicas=3)
    opt = make(first.parameters())
    head = proplab.fit(first, loss, opt, x, y, epochs=100)
    proplab.save(first, tmp_path / "stack.npz", optimizer=opt)

    resumed = proplab.load(tmp_path / "stack.npz")
    opt2 = proplab.load_optimizer(tmp_path / "stack.npz", resumed.parameters())
    np.testing.assert_array_equal(opt2.lr, lrs, strict=True)
    np.testing.assert_array_equal(opt2.hyper["beta1"], [0.9, 0.8, 0.7])
    tail = proplab.fit(resumed, loss, opt2, x, y, epochs=100)
    for h, r in zip(head.loss + tail.loss, run.loss, strict=True):
        np.testing.assert_array_equal(h, r)  # each epoch's (3,) losses
    _assert_same(_weights(resumed), _weights(whole))


def _per_replica(ps: list[Parameter]) -> PerReplicaOptimizer:
    return PerReplicaOptimizer(
        ps,
        [
            (1, lambda q: SGD(q, lr=0.5, momentum=0.9)),
            (2, lambda q: Adam(q, lr=np.array([0.01, 0.03]), amsgrad=True)),
        ],
    )


def test_a_per_replica_optimizer_resumes_bit_for_bit(tmp_path: Path) -> None:
    x, y = _xor()
    loss = proplab.MSELoss()
    whole = mlp(2, 5, 1, seeds=[4, 5, 6], replicas=3)
    run = proplab.fit(whole, loss, _per_replica(whole.parameters()), x, y, epochs=120)
    first = mlp(2, 5, 1, seeds=[4, 5, 6], replicas=3)
    opt = _per_replica(first.parameters())
    head = proplab.fit(first, loss, opt, x, y, epochs=60)
    proplab.save(first, tmp_path / "mixed.npz", optimizer=opt)

    resumed = proplab.load(tmp_path / "mixed.npz")
    opt2 = proplab.load_optimizer(tmp_path / "mixed.npz", resumed.parameters())
    assert isinstance(opt2, PerReplicaOptimizer)
    assert [(b.start, b.stop, type(rule).__name__, rule.steps) for b, rule, _ in opt2.blocks] == [
        (0, 1, "SGD", 60),
        (1, 3, "Adam", 60),
    ]
    np.testing.assert_array_equal(opt2.lr, [0.5, 0.01, 0.03])
    tail = proplab.fit(resumed, loss, opt2, x, y, epochs=60)
    for h, r in zip(head.loss + tail.loss, run.loss, strict=True):
        np.testing.assert_array_equal(h, r)
    _assert_same(_weights(resumed), _weights(whole))


def test_state_dict_round_trip_without_files() -> None:
    x, y = _xor()
    loss = proplab.MSELoss()
    whole = mlp(2, 4, 1, rng=np.random.default_rng(7))
    proplab.fit(whole, loss, RULES["adam-amsgrad"](whole.parameters()), x, y, epochs=60)
    first = mlp(2, 4, 1, rng=np.random.default_rng(7))
    opt = RULES["adam-amsgrad"](first.parameters())
    proplab.fit(first, loss, opt, x, y, epochs=30)
    state = opt.state_dict()
    assert state["type"] == "Adam" and state["steps"] == 30
    assert state["options"] == {"amsgrad": True}
    assert state["groups"][0]["shapes"] == [[2, 4], [4], [4, 4], [4], [4, 1], [1]]
    assert sorted(state["groups"][0]["state"]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    np.testing.assert_array_equal(state["groups"][0]["state"]["exp_avg"], opt.state[0]["exp_avg"])

    # a fresh model and optimizer (other hyperparameters: the saved ones replace them)
    second = mlp(2, 4, 1, rng=np.random.default_rng(99))
    second.load_state_dict(first.state_dict())
    opt2 = Adam(second.parameters(), lr=0.5, amsgrad=True)
    opt2.load_state_dict(state)
    assert opt2.lr == 0.02 and opt2.steps == 30
    proplab.fit(second, loss, opt2, x, y, epochs=30)
    _assert_same(_weights(second), _weights(whole))


def test_a_loaded_state_is_not_aliased_with_the_dict_either_way() -> None:
    x, y = _xor()
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    opt = Adam(model.parameters(), lr=0.01)
    proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=5)
    state = opt.state_dict()
    saved = state["groups"][0]["state"]["exp_avg"].copy()
    # the optimizer stepping on does not reach the dict it gave
    proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=1)
    np.testing.assert_array_equal(state["groups"][0]["state"]["exp_avg"], saved)

    other = Adam(model.parameters())
    other.load_state_dict(state)
    # writing into the dict after loading does not reach the optimizer ...
    state["groups"][0]["state"]["exp_avg"][...] = 123.0
    np.testing.assert_array_equal(other.state[0]["exp_avg"], saved)
    # ... nor the other way round
    other.state[0]["exp_avg_sq"][...] = -1.0
    assert not np.any(state["groups"][0]["state"]["exp_avg_sq"] == -1.0)

    # a per-replica hyperparameter is copied too (and read-only in the optimizer)
    stack = mlp(2, 3, 1, seeds=[1, 2], replicas=2)
    lr = np.array([0.1, 0.2])
    sgd = SGD(stack.parameters(), lr=lr, momentum=0.5)
    st = sgd.state_dict()
    st["hyper"]["lr"][0] = 9.0  # the dict's array is its own
    np.testing.assert_array_equal(sgd.lr, [0.1, 0.2])
    sgd2 = SGD(stack.parameters(), lr=0.3)
    sgd2.load_state_dict(st)
    st["hyper"]["lr"][1] = 7.0
    np.testing.assert_array_equal(sgd2.lr, [9.0, 0.2])


def _trained_adam(hidden: int = 4) -> tuple[Module, Adam]:
    x, y = _xor()
    model = mlp(2, hidden, 1, rng=np.random.default_rng(1))
    opt = Adam(model.parameters(), lr=0.01)
    proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=3)
    return model, opt


def test_mismatches_are_refused_in_one_line_naming_what_differs() -> None:
    _, opt = _trained_adam()
    state = opt.state_dict()

    def refused(target: Optimizer) -> str:
        before = target.state_dict()
        with pytest.raises(ValueError) as err:
            target.load_state_dict(state)
        # nothing changed
        after = target.state_dict()
        assert after["steps"] == before["steps"] and after["hyper"] == before["hyper"]
        message = str(err.value)
        assert "\n" not in message
        return message

    other = mlp(2, 5, 1, rng=np.random.default_rng(1))
    assert refused(Adam(other.parameters())) == (
        "cannot load the optimizer state into this Adam: group 0 was saved for parameter "
        "shapes [[2, 4], [4], [4, 4], [4], [4, 1], [1]], this optimizer's parameters have "
        "[[2, 5], [5], [5, 5], [5], [5, 1], [1]]"
    )
    same = mlp(2, 4, 1, rng=np.random.default_rng(2))
    assert refused(SGD(same.parameters())) == (
        "cannot load the optimizer state into this SGD: it is the state of Adam (build a Adam, or use "
        "proplab.serialize.load_optimizer, which does)"
    )
    assert refused(Adam(same.parameters(), amsgrad=True)) == (
        "cannot load the optimizer state into this Adam: amsgrad is False in the state, "
        "True here (build it with amsgrad=False)"
    )
    stack = mlp(2, 4, 1, seeds=[1, 2], replicas=2)
    assert "saved for replica shape (), this optimizer's parameters have replica shape (2,)" in (
        refused(Adam(stack.parameters()))
    )
    single = mlp(2, 4, 1, rng=np.random.default_rng(1), dtype=np.float32)
    assert "group 0 was saved for float64 parameters, this optimizer's parameters are float32" in (
        refused(Adam(single.parameters()))
    )
    # a state whose buffer was tampered with to another shape
    state["groups"][0]["state"]["exp_avg"] = np.zeros(3)
    assert refused(Adam(same.parameters())).endswith(
        "group 0's exp_avg has shape (3,), its packed parameters (37,)"
    )


def test_per_replica_optimizer_mismatches_are_refused() -> None:
    stack = mlp(2, 3, 1, seeds=[1, 2, 3], replicas=3)
    state = _per_replica(stack.parameters()).state_dict()
    other = PerReplicaOptimizer(
        stack.parameters(),
        [(2, lambda q: SGD(q, momentum=0.9)), (1, lambda q: Adam(q, amsgrad=True))],
    )
    with pytest.raises(ValueError, match=r"its blocks hold \[1, 2\] replicas, this one's \[2, 1\]"):
        other.load_state_dict(state)
    swapped = PerReplicaOptimizer(
        stack.parameters(), [(1, lambda q: SGD(q)), (2, lambda q: SGD(q, momentum=0.5))]
    )
    with pytest.raises(
        ValueError, match="state of replicas 1:3 into this SGD: it is the state of Adam"
    ):
        swapped.load_state_dict(state)
    # the first block was fine, but nothing changed: every block is checked first
    assert swapped.blocks[0][1].hyper["momentum"] == 0.0
    with pytest.raises(ValueError, match="it is the state of 'Adam', not of a PerReplicaOptimizer"):
        swapped.load_state_dict(Adam(stack.parameters()).state_dict())


def test_load_optimizer_refuses_a_file_without_state_and_other_parameters(tmp_path: Path) -> None:
    model, opt = _trained_adam()
    proplab.save(model, tmp_path / "plain.npz")  # no optimizer=: loads as ever
    with pytest.raises(ModelFileError) as err:
        proplab.load_optimizer(tmp_path / "plain.npz", model.parameters())
    assert str(err.value) == (
        f"{tmp_path / 'plain.npz'}: no optimizer state in this model file (save it with "
        "proplab.save(model, path, optimizer=opt))"
    )
    proplab.save(model, tmp_path / "with.npz", optimizer=opt)
    # load() ignores the optimizer's entries: the same model as without them
    _assert_same(
        _weights(proplab.load(tmp_path / "with.npz")),
        _weights(proplab.load(tmp_path / "plain.npz")),
    )
    bigger = mlp(2, 6, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError) as err:
        proplab.load_optimizer(tmp_path / "with.npz", bigger.parameters())
    assert str(err.value) == (
        f"{tmp_path / 'with.npz'}: the saved Adam does not fit these parameters: group 0 was "
        "saved for parameter shapes [[2, 4], [4], [4, 4], [4], [4, 1], [1]], these "
        "parameters have [[2, 6], [6], [6, 6], [6], [6, 1], [1]]"
    )
    # the arrays are in the file under optim.*, read without pickle
    with np.load(tmp_path / "with.npz", allow_pickle=False) as z:
        optim = sorted(k for k in z.files if k.startswith("optim."))
        np.testing.assert_array_equal(z["optim.groups.0.state.exp_avg"], opt.state[0]["exp_avg"])
    assert optim == [
        "optim.groups.0.state.exp_avg",
        "optim.groups.0.state.exp_avg_sq",
    ]


def test_save_refuses_an_optimizer_over_another_models_parameters(tmp_path: Path) -> None:
    model, _ = _trained_adam()
    _, foreign = _trained_adam()
    with pytest.raises(ValueError, match="updates parameters that are not this model's"):
        proplab.save(model, tmp_path / "m.npz", optimizer=foreign)
    with pytest.raises(TypeError, match="must be a proplab Optimizer .* got dict"):
        proplab.save(model, tmp_path / "m.npz", optimizer={"lr": 0.1})  # type: ignore[arg-type]
    assert not (tmp_path / "m.npz").exists()


def test_an_optimizer_over_some_layers_is_loaded_onto_those_layers_by_name(tmp_path: Path):
    # the file did not say which parameters the optimizer updated: any same-shaped layer
    # took its momentum silently, and all parameters were refused by shapes alone
    x = np.random.default_rng(0).normal(size=(8, 4))
    y = np.random.default_rng(1).normal(size=(8, 4))
    model = mlp(4, (4, 4), 4, output_activation="identity", rng=np.random.default_rng(0))
    last = model[4].parameters()  # fine-tuning the output layer alone
    opt = SGD(last, lr=0.1, momentum=0.9)
    proplab.fit(model, proplab.MSELoss(), opt, x, y, 5)
    path = tmp_path / "sub.npz"
    proplab.save(model, path, optimizer=opt)
    loaded = proplab.load(path)
    again = proplab.load_optimizer(path, loaded)  # the model: its 4.weight and 4.bias
    assert [p is q for p, q in zip(again.params, loaded[4].parameters(), strict=True)] == [True] * 2
    np.testing.assert_array_equal(
        again.state[0]["momentum_buffer"], opt.state[0]["momentum_buffer"]
    )
    with pytest.raises(ValueError, match=r"updated 2 parameters \(4\.weight, 4\.bias\), not these "
                       r"6: pass the model itself, load_optimizer\(path, model\)"):  # fmt: skip
        proplab.load_optimizer(path, loaded.parameters())


@pytest.mark.parametrize("given", ["arrays", "one array"])
def test_load_optimizer_refuses_what_is_not_a_model_or_parameters(tmp_path: Path, given):
    # a list of arrays failed with an AttributeError from inside optim_base
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    path = tmp_path / "m.npz"
    proplab.save(model, path, optimizer=Adam(model.parameters()))
    arg = [p.data for p in model.parameters()] if given == "arrays" else model[0].weight.data
    with pytest.raises(TypeError, match=r"load_optimizer takes the model \(proplab.load\(path\)\) "
                       r"or its Parameters, got a ndarray"):  # fmt: skip
        proplab.load_optimizer(path, arg)


def test_a_state_without_a_buffer_its_rule_keeps_is_refused():
    # an Adam state missing exp_avg loaded; the next step made it zeros while t went on
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    opt = Adam(model.parameters(), amsgrad=True)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    opt.step()
    for missing in ("exp_avg", "max_exp_avg_sq"):
        state = opt.state_dict()
        del state["groups"][0]["state"][missing]
        fresh = Adam(model.parameters(), amsgrad=True)
        with pytest.raises(ValueError, match=rf"group 0 has no {missing}, which Adam keeps from "
                           r"its first step \(the state says 1 steps were taken\)"):  # fmt: skip
            fresh.load_state_dict(state)
        assert fresh.steps == 0 and fresh.state == [{}]  # nothing changed
    broken = opt.state_dict()
    broken["groups"][0] = {"dtype": "float64"}  # no layout: was a raw KeyError
    with pytest.raises(ValueError, match=r"not a state_dict\(\) \(KeyError\('replicas'\)\)"):
        Adam(model.parameters(), amsgrad=True).load_state_dict(broken)


@pytest.mark.parametrize("kind", [["SGD"], {"name": "SGD"}, None, 3])
def test_a_hand_edited_optimizer_type_that_is_not_text_is_refused_by_name(kind: object) -> None:
    # a list there was looked up in the dict of types: TypeError (unhashable), a traceback
    from proplab.serialize import optimizer_from_state

    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    state = SGD(model.parameters(), lr=0.1).state_dict()
    state["type"] = kind
    with pytest.raises(
        ValueError, match=rf"unknown optimizer type {re.escape(repr(kind))} \(known"
    ):
        optimizer_from_state(model.parameters(), state)
