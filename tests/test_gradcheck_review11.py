"""gradcheck, from reviews 11a and 11b: it leaves ``.grad`` as it found it, shows an
overwriting backward's own (right) error, says when the sample count hides a factor,
refuses a 1-D input by name, and catches a backward that uses a stale saved input."""

from __future__ import annotations

import numpy as np
import pytest

import proplab
from proplab import (
    SGD,
    Conv1d,
    Identity,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    generate_xor_easy,
    gradcheck,
    mlp,
)
from proplab.config import RunConfig
from proplab.gradcheck_notes import few_samples_note
from proplab.model_check import check_config, format_check


def _manual(model: Module, x: np.ndarray, y: np.ndarray, steps: int = 50) -> float:
    """PyTorch's order: forward, backward, step, then zero_grad (so the first step takes
    whatever ``.grad`` held before the loop)."""
    opt = SGD(model.parameters(), lr=1.0)
    loss_fn = MSELoss()
    for _ in range(steps):
        loss = loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        opt.step()
        opt.zero_grad()
    return loss


def test_check_then_train_is_the_same_run_as_train_bit_for_bit():
    x, y = generate_xor_easy()
    y = y.astype(float)
    plain = mlp(2, 4, 1, rng=np.random.default_rng(0))
    checked = mlp(2, 4, 1, rng=np.random.default_rng(0))
    assert gradcheck(checked, np.random.default_rng(1).normal(size=(5, 2))).ok
    assert all(not p.grad.any() for p in checked.parameters())  # no gradient left behind
    assert _manual(plain, x, y) == _manual(checked, x, y)
    for a, b in zip(plain.parameters(), checked.parameters(), strict=True):
        assert np.array_equal(a.data, b.data)


def test_a_check_in_the_middle_of_accumulating_keeps_the_gradient_so_far():
    x, y = generate_xor_easy()
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    loss = MSELoss()
    loss(model.forward(x[:6]), y[:6].astype(float))
    model.backward(loss.backward())  # the first half of a gradient accumulated by hand
    before = [p.grad.copy() for p in model.parameters()]
    assert all(g.any() for g in before)
    assert gradcheck(model, np.random.default_rng(1).normal(size=(4, 2))).ok
    for p, g in zip(model.parameters(), before, strict=True):
        assert np.array_equal(p.grad, g)


class _Dense(Module):
    """x (n, in) -> x W + b (n, out), its gradients assigned (=) instead of added."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.W = Parameter(rng.normal(size=(n_in, n_out)), name="W")
        self.b = Parameter(rng.normal(size=(n_out,)), name="b")
        self.params = {"W": self.W, "b": self.b}

    def forward(self, x):
        self.x = x
        return x @ self.W.data + self.b.data

    def backward(self, g, need_input_grad=True):
        self.W.grad = self.x.T @ g  # the right formula, but = where += belongs
        self.b.grad = g.sum(axis=0)
        return g @ self.W.data.T if need_input_grad else None


OVERWRITE_NOTE = (
    "{}: a second backward (no zero_grad between) did not add its gradient to the first "
    "(relative error 1.0e+00): backward must add into .grad (p.accumulate(...) or +=), not "
    "overwrite it"
)


def test_an_overwriting_backward_shows_its_own_right_error_marked_and_fails():
    rng = np.random.default_rng(0)
    result = gradcheck(_Dense(3, 2, rng), rng.normal(size=(4, 3)))
    assert not result.ok and result.worst == pytest.approx(1.0)
    for name in ("W", "b"):
        # the row: the single backward's error (its formula is right), marked
        assert result.relative[name] < 1e-8 and result.errors[name] == pytest.approx(1.0)
        assert result.marks[name] == "overwrites: see note"
    lines = str(result).splitlines()
    assert lines[1] == f"               W: {result.relative['W']:.2e}  (overwrites: see note)"
    assert lines[2] == f"               b: {result.relative['b']:.2e}  (overwrites: see note)"
    assert lines[3] == "gradcheck FAILED (tolerance 1e-06)"
    assert result.notes == [OVERWRITE_NOTE.format("W"), OVERWRITE_NOTE.format("b")]


def test_the_table_of_proplab_gradcheck_marks_an_overwriting_row(monkeypatch):
    original = Linear.backward

    def overwriting(self, grad_out, need_input_grad=True):
        self.zero_grad()  # what `self.weight.grad = ...` does to a gradient so far
        return original(self, grad_out, need_input_grad)

    monkeypatch.setattr(Linear, "backward", overwriting)
    check = check_config(RunConfig(hidden=[3]))
    row = next(r for r in check.rows if r.index == 0 and r.array == "weight")
    assert row.mark == "overwrites: see note" and row.shown < 1e-8 and row.error > 0.5
    text = format_check(check)
    assert "<- FAILED (overwrites: see note)" in text
    assert "first Linear(in=2, out=3, bias=True) weight (6.9e-11, overwrites: see note)" in text


class _BiasMean(Module):
    """x (n, in) -> x W + b; the bias gradient taken as a mean over samples (a sum is
    right: every sample added the same b)."""

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.W = Parameter(rng.normal(size=(2, 3)), name="W")
        self.b = Parameter(rng.normal(size=(3,)), name="b")
        self.params = {"W": self.W, "b": self.b}

    def forward(self, x):
        self.x = x
        return x @ self.W.data + self.b.data

    def backward(self, g, need_input_grad=True):
        self.W.accumulate(self.x.T @ g)
        self.b.accumulate(g.mean(axis=0))
        return g @ self.W.data.T if need_input_grad else None


class _MSENoFactor(MSELoss):
    """MSE whose backward forgets 2/N: right only when N = 2."""

    def backward(self):
        return super().backward() * self.count / 2


def test_a_check_on_fewer_than_3_samples_says_a_missing_1_over_n_can_hide():
    x = np.random.default_rng(1).normal(size=(4, 2))
    one = gradcheck(_BiasMean(), x[:1])  # mean == sum on one sample: no tolerance sees it
    assert one.ok and one.notes == [few_samples_note(1)]
    assert str(one).splitlines()[-1] == (
        "note: checked on 1 sample: on so few, a factor such as 1/n or 2/n can be 1 (a mean "
        "over one sample is its sum; MSE's 2/N is 1 for N = 2), so a backward missing it "
        "passes; check on 3 or more samples"
    )
    three = gradcheck(_BiasMean(), x[:3])
    assert not three.ok and three.errors["b"] > 0.5 and few_samples_note(3) not in three.notes
    assert not any(n.startswith("checked on") for n in three.notes)

    target = np.array([[0.2], [0.9], [0.4]])
    pred = np.array([[0.3], [0.6], [0.8]])
    two = gradcheck(_MSENoFactor(), pred[:2], target[:2])  # 2/N = 1
    assert two.ok and two.notes == [few_samples_note(2)]
    assert not gradcheck(_MSENoFactor(), pred, target).ok
    assert gradcheck(MSELoss(), pred, target).notes == []


def test_the_few_samples_note_counts_samples_not_entries():
    rng = np.random.default_rng(0)
    conv = Conv1d(2, 3, 3, rng=rng)  # (n, C, L): samples on axis -3
    assert gradcheck(conv, rng.normal(size=(1, 2, 5))).notes == [few_samples_note(1)]
    assert gradcheck(conv, rng.normal(size=(3, 2, 5))).notes == []
    stack = mlp(2, 3, 1, rng=rng, replicas=3)  # (K, n, in): samples on axis -2
    assert gradcheck(stack, rng.normal(size=(3, 2, 2))).notes == [few_samples_note(2)]
    # an activation has no sum over samples to get wrong: no note on one sample
    assert gradcheck(Tanh(), rng.normal(size=(1, 3))).notes == []


def test_proplab_gradcheck_says_the_few_samples_note_once():
    check = check_config(RunConfig(hidden=[3, 3]), samples=2)
    assert check.ok
    assert check.notes == [few_samples_note(2)]  # not once per layer and for the whole model
    assert format_check(check).splitlines()[-1] == "note: " + few_samples_note(2)


ONE_D = r"gradcheck: x must be \(n, features\), got shape \(2,\); one sample is x.reshape\(1, -1\)"


def test_a_1d_input_is_refused_by_name_for_a_model_that_needs_a_sample_axis():
    row = np.array([0.3, 0.7])
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    grads = [p.grad.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=ONE_D) as caught:
        gradcheck(model, row)
    assert caught.value.__cause__ is None  # refused up front: a Linear comes first
    with pytest.raises(ValueError, match=ONE_D):
        gradcheck(Linear(2, 3, rng=np.random.default_rng(0)), row)
    # a Linear behind a parameterless layer: refused once its backward fails on the row
    behind = Sequential(Identity(), ReLU(), Linear(2, 1, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match=ONE_D) as caught:
        gradcheck(behind, row)
    assert "ndim < 2" in str(caught.value.__cause__)  # the original error, chained
    assert all(np.array_equal(p.grad, g) for p, g in zip(model.parameters(), grads, strict=True))
    assert gradcheck(model, row.reshape(1, -1)).ok  # as the message says


def test_elementwise_activations_still_check_on_a_1d_input():
    row = np.array([0.3, -0.7, 1.2])
    for activation in (Sigmoid(), Tanh(), ReLU(), proplab.LeakyReLU(0.1)):
        result = gradcheck(activation, row)
        assert result.ok and result.errors["input"] < 1e-8, type(activation).__name__


class _StaleLinear(Linear):
    """A Linear whose backward uses the first input it ever saw (a cache never refreshed)."""

    def forward(self, x):
        out = super().forward(x)
        if not hasattr(self, "first"):
            self.first = x.copy()
        self.x = self.first
        return out


def test_a_backward_that_uses_a_stale_saved_input_fails():
    x = np.random.default_rng(1).normal(size=(4, 3))
    result = gradcheck(_StaleLinear(3, 2, rng=np.random.default_rng(0)), x)
    # dL/dW = x^T g with another x: wrong; dL/dx and dL/db do not read x
    assert not result.ok and result.errors["weight"] > 0.1
    assert result.errors["input"] < 1e-8 and result.errors["bias"] < 1e-8
    assert gradcheck(Linear(3, 2, rng=np.random.default_rng(0)), x).ok
    # a constant x (its reverse is itself) still gets another input first
    flat = gradcheck(_StaleLinear(3, 2, rng=np.random.default_rng(0)), np.ones((4, 3)))
    assert not flat.ok and flat.errors["weight"] > 0.1
