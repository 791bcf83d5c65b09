"""trace.compare as a teaching assistant grades with it (ta23): a correct submission in
float32 or with the descent-direction sign convention passes, and the lab's usual slips
get a note that can be pasted as feedback.

The students are the lab's 2-10-10-1 sigmoid network on the 21 XOR rows, one full-batch
SGD step, written out in NumPy below (:func:`_student`) from the trace's own starting
weights, with one slip applied at a time.
"""

from __future__ import annotations

import numpy as np
import pytest

import proplab
from proplab.trace import StepTrace
from proplab.trace_compare import precision_tolerance

LR = 1.0


def _trace(hidden: int = 10, lr: float = LR, activation: str = "sigmoid") -> StepTrace:
    x, t = proplab.generate_xor_easy()
    model = proplab.mlp(2, hidden, 1, activation=activation, rng=np.random.default_rng(0))
    return proplab.trace_step(
        model, proplab.MSELoss(), x, t.astype(float), proplab.SGD(model.parameters(), lr=lr),
        check=False,
    )  # fmt: skip


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


def _student(
    trace: StepTrace, dtype: type = np.float64, slip: str = "", lr: float = LR
) -> dict[str, np.ndarray]:
    """The arrays a hand-written step computes, in ``dtype``, from the trace's weights;
    ``slip`` names the one mistake made (``""``: none)."""
    w = {k: v.astype(dtype) for k, v in trace.weights().items()}
    x, t = trace.x.astype(dtype), trace.target.astype(dtype)
    sign = -1 if slip == "descent" else 1  # dL/dp as 2 (t - p) / N, and W += lr dW
    z1 = x @ w["W1"] + w["b1"]
    a1 = _sigmoid(z1)
    z2 = a1 @ w["W2"] + w["b2"]
    a2 = _sigmoid(z2)
    z3 = a2 @ w["W3"] + w["b3"]
    p = _sigmoid(z3)
    dp = sign * 2 * (p - t) / p.size
    if slip == "p - t":
        dp = p - t
    dz3 = dp if slip == "no f'(z3)" else dp * p * (1 - p)
    da2 = dz3 @ w["W3"].T
    dz2 = da2 * a2 * (1 - a2)
    da1 = dz2 @ w["W2"].T
    dz1 = da1 * (z1 * (1 - z1) if slip == "f'(z) from z" else a1 * (1 - a1))
    if slip == "sigmoid twice":
        dz1 = da1 * _sigmoid(a1) * (1 - _sigmoid(a1))
    grads = {"W1": x.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0),
             "W3": a2.T @ dz3, "b3": dz3.sum(0)}  # fmt: skip
    if slip == "bias mean":
        grads["b2"] = dz2.mean(0)
    rate = lr / len(x) if slip == "lr / N" else -lr if slip == "uphill" else lr
    mine = {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "z3": z3, "p": p,
            "L": np.mean((p - t) ** 2), "dL/dp": dp, "dL/dz3": dz3, "dL/da2": da2,
            "dL/dz2": dz2, "dL/da1": da1, "dL/dz1": dz1}  # fmt: skip
    for name, grad in grads.items():
        mine[f"dL/d{name}"] = grad
        mine[f"{name} new"] = w[name] - sign * rate * grad
    return mine


# --- no note on a correct submission -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_correct_submission_gets_all_ok_and_no_note(dtype: type) -> None:
    trace = _trace()
    mine = _student(trace, dtype)
    assert all(a.dtype == dtype for a in mine.values())
    result = trace.compare(mine)
    assert result.ok and not result.sign_convention
    assert [r.note for r in result.rows] == [""] * 25
    assert result.text().startswith("z1      ok")
    assert result.text().splitlines()[-1].startswith("all 25 arrays match proplab's")


def test_a_float32_submission_is_judged_at_float32s_rounding() -> None:
    """ta23 M1: a correct float32 step was "z2 WRONG 1.6e-07 ... first wrong: z2 (13 of
    25 differ)" against the float64 tolerance 1e-7."""
    trace = _trace()
    mine = _student(trace, np.float32)
    strict = trace.compare(mine, tolerance=1e-7)  # as before: float32 rounding exceeds 1e-7
    assert not strict.ok and max(r.error for r in strict.rows) > 1.5e-7
    wrong = [r for r in strict.rows if not r.ok]
    assert all(r.note == "within float32's rounding (tolerance=None allows for it)" for r in wrong)
    result = trace.compare(mine)
    assert result.ok and result.precision == "float32"
    assert (
        result.tolerance
        == precision_tolerance(np.dtype(np.float32))
        == pytest.approx(1.19e-4, rel=1e-2)
    )
    assert result.text().splitlines()[-1] == (
        "all 25 arrays match proplab's (relative error <= 0.00012: your arrays are float32, "
        "whose rounding reaches this)"
    )
    # float64 arrays keep 1e-7, and float16 is capped where a slip could hide
    assert trace.compare(_student(trace)).tolerance == 1e-7
    assert precision_tolerance(np.dtype(np.float16)) == 1e-2
    # a slip in float32 is still a slip, and still named
    slipped = trace.compare(_student(trace, np.float32, "f'(z) from z"))
    assert slipped.first_wrong.name == "dL/dz1"
    assert "f'(z1) computed from z1, not from a1?" in slipped.first_wrong.note
    assert slipped.text().endswith(
        "(tolerance 0.00012: your arrays are float32, whose rounding reaches this)"
    )


def test_float16s_wider_tolerance_names_the_slip_before_a_factor() -> None:
    # float16's tolerance (1e-2) let dL/da3 for dL/dz3 pass for "times 4.5" (f'(z3) is
    # nearly the same 0.22 on every row): the first wrong array's slip comes first
    trace = _trace()
    result = trace.compare(_student(trace, np.float16, "no f'(z3)"))
    assert result.tolerance == 1e-2 and result.precision == "float16"
    assert result.first_wrong.name == "dL/dz3"
    assert result.first_wrong.note.startswith("it is dL/da3 without the factor f'(z3)")
    (dw3,) = [r for r in result.rows if r.name == "dL/dW3"]
    # nor a bare "times 4.5" on the arrays after it, which inherit dL/dz3's slip (verify23
    # L1: it sent the student after a 1/N or a learning rate that is not there)
    assert not dw3.ok and dw3.note == ""


# --- the classic slips, named ---------------------------------------------------------------


def test_the_sigmoid_derivative_from_z_is_named() -> None:
    """ta23 M2: dL/dz1 = dL/da1 z1 (1 - z1), the lab's most common slip, was "WRONG"."""
    trace = _trace()
    result = trace.compare(_student(trace, slip="f'(z) from z"))
    assert result.first_wrong.name == "dL/dz1"
    assert result.first_wrong.note == (
        "it is dL/da1 * z1 (1 - z1): f'(z1) computed from z1, not from a1? "
        "(f'(z1) = a1 (1 - a1), with a1 = sigmoid(z1))"
    )
    # the other way round: a derivative written for z (sigmoid(v) (1 - sigmoid(v))) given a
    twice = trace.compare(_student(trace, slip="sigmoid twice")).first_wrong
    assert twice.name == "dL/dz1" and twice.note == (
        "it is dL/da1 * sigmoid(a1) (1 - sigmoid(a1)): a derivative written for z1 given "
        "a1, the sigmoid applied twice? (f'(z1) = a1 (1 - a1))"
    )


def test_tanhs_derivative_from_z_is_named_with_its_own_formula() -> None:
    trace = _trace(hidden=3, activation="tanh")
    arrays = trace.arrays()
    slipped = arrays["dL/da2"] * (1 - arrays["z2"] ** 2)
    result = trace.compare({"dL/da2": arrays["dL/da2"], "dL/dz2": slipped})
    assert result.first_wrong.note.startswith(
        "it is dL/da2 * (1 - z2^2): f'(z2) computed from z2, not from a2? (f'(z2) = (1 - a2^2)"
    )


def test_an_update_with_another_learning_rate_is_solved_for_and_named() -> None:
    """ta23 M2: lr / N in the update got no note on W1 new (its first wrong array)."""
    trace = _trace()
    result = trace.compare(_student(trace, slip="lr / N"))
    assert result.first_wrong.name == "W1 new"
    assert [r.name for r in result.rows if not r.ok] == [
        f"{p}{k} new" for k in (1, 2, 3) for p in "Wb"
    ]
    assert result.first_wrong.note == (
        "your update uses lr 0.047619 = lr / 21 (N = 21 samples): divided by N once more? "
        "(dL/dW1 already holds the loss's mean; the step is W1 - lr dL/dW1)"
    )
    # the biases start at 0: b new is a constant times proplab's, and still read as a rate
    (b3,) = [r for r in result.rows if r.name == "b3 new"]
    assert b3.note.startswith("your update uses lr 0.047619 = lr / 21")
    uphill = trace.compare(_student(trace, slip="uphill")).first_wrong
    assert uphill.name == "W1 new" and uphill.note == (
        "your update is W1 + lr dL/dW1, a step uphill: gradient descent subtracts (W1 - lr dL/dW1)"
    )
    other = trace.compare(_student(trace, lr=0.3)).first_wrong
    assert other.note == "your update uses lr 0.3, proplab's step lr 1: W1 - lr dL/dW1"


def test_a_wrong_gradients_update_is_not_read_as_a_rate() -> None:
    # dL/dp without the square's 2: every update is W - lr/2 dL/dW, but the gradient is
    # where the slip is, and no rate is blamed on the updates that inherit it
    trace = _trace()
    mine = _student(trace)
    half = {k: (v / 2 if k.startswith("dL/d") else v) for k, v in mine.items()}
    weights = trace.weights()
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        half[f"{name} new"] = weights[name] - LR * half[f"dL/d{name}"]
    result = trace.compare(half)
    assert result.first_wrong.name == "dL/dp"
    assert result.first_wrong.note == "it is proplab's times 0.5 = 1/2: the square's 2 left out?"
    assert not any("your update" in r.note for r in result.rows)


def test_factors_are_named_as_the_formulas_make_them() -> None:
    """ta23 L1: "times 0.047619" for 1/21, the mean's 1/N over 21 samples."""
    trace = _trace()
    mean = trace.compare(_student(trace, slip="bias mean"))
    assert mean.first_wrong.name == "dL/db2" and mean.first_wrong.note == (
        "it is proplab's times 0.047619 = 1/21: 1/N with N = 21 samples once too often "
        "(a mean where proplab sums?)"
    )
    no_mean = trace.compare(_student(trace, slip="p - t")).first_wrong
    assert no_mean.name == "dL/dp" and no_mean.note == (
        "it is proplab's times 10.5 = 21/2: N/2 with N = 21 samples: the mean's 2/N left "
        "out (p - t for 2 (p - t)/N?)"
    )
    arrays = trace.arrays()
    summed = trace.compare({"dL/dp": arrays["dL/dp"] * 21}).first_wrong
    assert summed.note.startswith("it is proplab's times 21: N with N = 21 samples")
    # a factor none of the formulas has keeps the open question
    odd = trace.compare({"dL/dp": arrays["dL/dp"] * 3.7}).first_wrong
    assert odd.note == (
        "it is proplab's times 3.7 (a missing or extra factor: the mean's 1/N? the square's "
        "2? the learning rate?)"
    )


# --- the descent-direction convention -------------------------------------------------------


def test_the_descent_direction_convention_is_a_convention_not_a_slip() -> None:
    """ta23 M3: dL/dp = 2 (t - p) / N with W += lr dW, a correct step, got 12 WRONG rows
    and "first wrong: dL/dp"."""
    trace = _trace()
    result = trace.compare(_student(trace, slip="descent"))
    assert not result.ok and result.sign_convention
    assert sum(not r.ok for r in result.rows) == 12
    assert result.text().splitlines()[-1] == (
        "12 gradients are proplab's with every sign flipped, and the 6 updated arrays match: "
        "your gradients are -dL/d..., the descent direction (t - p where proplab has p - t), "
        "and your update adds them (W + lr dW): a sign convention, not a slip"
    )
    # without the updates the convention cannot be told from a slip
    no_updates = {k: v for k, v in _student(trace, slip="descent").items() if "new" not in k}
    assert not trace.compare(no_updates).sign_convention


def test_a_single_flipped_gradient_or_an_uphill_step_is_no_convention() -> None:
    trace = _trace()
    mine = _student(trace)
    one = trace.compare({**mine, "dL/dz2": -mine["dL/dz2"]})
    assert not one.sign_convention and one.text().splitlines()[-1].startswith("first wrong: dL/dz2")
    # flipped gradients subtracted: the updates climb, and are wrong
    flipped = {k: (-v if k.startswith("dL/d") else v) for k, v in mine.items()}
    weights = trace.weights()
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        flipped[f"{name} new"] = weights[name] - LR * flipped[f"dL/d{name}"]
    climbing = trace.compare(flipped)
    assert not climbing.sign_convention and climbing.first_wrong.name == "dL/dp"


# --- the starting weights, in either layout -------------------------------------------------


def test_weights_are_the_parameters_before_the_step_in_either_layout() -> None:
    """ta23 L3: the glue copied mlp's state_dict into each student's W1..b3 by hand."""
    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(0))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    x, t = proplab.generate_xor_easy()
    trace = proplab.trace_step(model, proplab.MSELoss(), x, t.astype(float),
                               proplab.SGD(model.parameters(), lr=LR), check=False)  # fmt: skip
    weights = trace.weights()
    assert list(weights) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for name, key in zip(weights, before, strict=True):
        np.testing.assert_array_equal(weights[name], before[key])
    assert not np.array_equal(weights["W1"], trace.arrays()["W1 new"])  # the step moved it
    weights["W1"][...] = 0  # a copy: the trace keeps its own
    assert np.array_equal(trace.arrays()["W1"], before["0.weight"])
    out_in = trace.weights(layout="out_in")
    assert out_in["W1"].shape == (3, 2) and out_in["b1"].shape == (3,)
    with pytest.raises(ValueError, match="layout must be 'in_out' or 'out_in', got 'io'"):
        trace.weights(layout="io")


def test_a_student_keeping_weights_out_by_in_passes_with_layout_out_in() -> None:
    trace = _trace()
    mine = _student(trace)
    theirs = {k: (v.T if k.split()[0].removeprefix("dL/d").startswith("W") else v)
              for k, v in mine.items()}  # fmt: skip
    assert theirs["dL/dW2"].shape == (10, 10) and theirs["W1 new"].shape == (10, 2)
    assert not trace.compare(theirs).ok  # read as proplab's (in, out): transposed
    assert trace.compare(theirs, layout="out_in").ok
    with pytest.raises(ValueError, match="layout must be one of 'in_out', 'out_in', got 'T'"):
        trace.compare(theirs, layout="T")


def test_no_bare_factor_note_on_an_array_after_the_first_wrong_one() -> None:
    """verify23 L1: with f'(z3) left out and every output near 0.5, the float32 dL/db2 (4
    entries) is proplab's times 5.2121-5.2128, constant within float32's 1.2e-4 by chance;
    it got "times 5.21229 (a missing or extra factor ...)" where float64 gives none. After
    the first wrong array only a factor the formulas name is noted."""
    trace = _trace(hidden=4)
    for dtype in (np.float64, np.float32):
        result = trace.compare(_student(trace, dtype, "no f'(z3)"))
        assert result.first_wrong.name == "dL/dz3"
        assert result.first_wrong.note.startswith("it is dL/da3 without the factor f'(z3)")
        rows = {r.name: r for r in result.rows}
        assert not rows["dL/db2"].ok and not rows["b2 new"].ok
        assert [r.name for r in result.rows if "times" in r.note] == [], dtype
    # a named factor after the first wrong one is still said: the square's 2 left out
    # shows on every gradient downstream of dL/dp
    halves = trace.compare(_student(trace, np.float32, "p - t"))
    noted = [r.name for r in halves.rows if r.note.startswith("it is proplab's times 10.5")]
    assert noted[:3] == ["dL/dp", "dL/dz3", "dL/dW3"]
    # the first wrong array keeps the open question for a factor no formula has
    odd = trace.compare({"dL/dp": trace.arrays()["dL/dp"] * 3.7, "dL/db3": np.ones(1)})
    assert odd.first_wrong.note.startswith("it is proplab's times 3.7 (a missing or extra")
