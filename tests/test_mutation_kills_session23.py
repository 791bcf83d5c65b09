"""Tests for mutants the suite let live (mut23: session 23's code fixes: the learning-rate,
bias, observations and hidden-units answers, the noise floors' rule, the report's Setup,
trace.compare's grading of a class, proplab verify and the data fingerprint, train's
--print-every rule and its run-folder check, the playground's biases).

Each test names the planted change (see docs/mutation.md, round 14) it kills and says why
the behaviour matters.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_trace_grading import _student, _trace
from test_verify import edit_json, trained_xor, xor_run  # noqa: F401 (fixtures)

import proplab
from proplab import serialize
from proplab.trace_compare import TOLERANCE
from proplab.verify import verify_run

# --- trace.compare grading a class -----------------------------------------------------------


def test_float32_data_alone_does_not_loosen_a_float64_students_tolerance() -> None:
    """Kills TR5 (_computed counts the given x and t when it picks the coarsest float).
    The data are given, not computed: a float64 step on float32 data rounds as float64,
    so a z1 off by 1e-5 is still a slip; with x counted, the 1.2e-4 of float32 passed it
    and the verdict blamed float32's rounding."""
    trace = _trace()
    mine = _student(trace)
    mine["x"] = trace.x.astype(np.float32)  # the XOR rows are exact in float32
    mine["z1"] = mine["z1"] * (1 + 1e-5)
    result = trace.compare(mine)
    assert result.tolerance == TOLERANCE and result.precision == ""
    assert result.first_wrong is not None and result.first_wrong.name == "z1"


def test_an_update_compared_alone_still_gets_its_learning_rate() -> None:
    """Kills TR10 (update_slip only where the gradient is compared and right, not for the
    first wrong array). A TA who checks the updated weights alone gets the rate the
    student's step used: W1 new is the first wrong array, and nothing else explains it."""
    trace = _trace()
    mine = _student(trace, slip="lr / N")
    result = trace.compare({"W1 new": mine["W1 new"]})
    assert result.first_wrong.name == "W1 new"
    assert result.first_wrong.note.startswith("your update uses lr 0.047619 = lr / 21")


def _dead_relu_trace():
    """A 2-3-1 ReLU network whose hidden units are all off on XOR: every hidden gradient
    (dL/dW1, dL/db1, dL/dW2, dL/dz1...) is an array of zeros, the output's are not."""
    x, t = proplab.generate_xor_easy()
    model = proplab.mlp(2, 3, 1, activation="relu", rng=np.random.default_rng(0))
    first = model.layers[0]
    first.weight.data[:] = -np.abs(first.weight.data)
    first.bias.data[:] = -5.0
    opt = proplab.SGD(model.parameters(), lr=1.0)
    return proplab.trace_step(model, proplab.MSELoss(), x, t.astype(float), opt, check=False)


def test_zero_gradients_do_not_break_the_descent_direction_convention() -> None:
    """Kills TR12 (an ok row is never 'flipped'). An array of zeros is its own negative:
    a student with the descent-direction convention whose dead ReLUs give zero gradients
    wrote a correct step, and must not get 'first wrong: dL/dp'."""
    trace = _dead_relu_trace()
    arrays = trace.arrays()
    zeros = [k for k, v in arrays.items() if k.startswith("dL/d") and not np.any(v)]
    assert "dL/dW1" in zeros  # the premise: some gradient is all zeros
    mine = {k: (-v if k.startswith("dL/d") else v) for k, v in arrays.items() if k != "L after"}
    result = trace.compare(mine)
    assert not result.ok and result.sign_convention
    assert "a sign convention, not a slip" in result.text().splitlines()[-1]


def test_matching_updates_alone_are_no_sign_convention() -> None:
    """Kills TC3 (sign_convention without 'some gradient is wrong'). Updates that match
    with no gradient compared are a correct submission, not the descent direction's
    convention: the property must not say a convention was found."""
    trace = _trace()
    mine = _student(trace)
    result = trace.compare({k: v for k, v in mine.items() if k.endswith(" new")})
    assert result.ok
    assert result.sign_convention is False


def test_a_float16_factor_is_named_at_float16s_rounding() -> None:
    """Kills TS4 (factor_fits matches a factor to 1e-4 whatever the tolerance). A float16
    student's bias gradient taken as a mean is 1/21 only to float16's rounding (0.0476329,
    3e-4 off): the note must still spell 1/21 and the slip, not fall back to 'a missing or
    extra factor'."""
    trace = _trace()
    result = trace.compare(_student(trace, np.float16, "bias mean"))
    assert result.first_wrong.name == "dL/db2"
    note = result.first_wrong.note
    assert note.startswith("it is proplab's times 0.04763"), note
    assert " = 1/21: 1/N with N = 21 samples once too often" in note, note


def test_a_cross_entropy_factor_is_not_read_as_a_mean_over_every_value() -> None:
    """Kills TS2 (_counts offers N = samples x outputs for cross-entropy too). Cross-entropy
    averages over the samples only: 1/(N C) is no factor its formulas hold, and naming it
    as 'the mean over every value' would send the student to a slip they did not make."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2))
    t = np.eye(3)[rng.integers(0, 3, 20)]
    model = proplab.mlp(2, 4, 3, activation="tanh", rng=rng)
    trace = proplab.trace_step(model, proplab.CrossEntropyLoss(), x, t, check=False)
    dp = trace.arrays()["dL/dp"]
    note = trace.compare({"dL/dp": dp / 60}).first_wrong.note
    assert note.startswith("it is proplab's times 0.0166667 (a missing or extra factor"), note
    # over the 20 samples, 1/N is named
    assert "1/N with N = 20 samples" in trace.compare({"dL/dp": dp / 20}).first_wrong.note


def test_two_over_n_once_too_often_is_named() -> None:
    """Kills TS3 (the 2/N candidate computed as 2 N). dL/dp divided by N/2 once more is the
    mean's 2/N applied twice, the slip the note names; a wrong candidate leaves the TA the
    bare 'times 0.0952381'."""
    trace = _trace()
    dp = trace.arrays()["dL/dp"]
    note = trace.compare({"dL/dp": dp * 2 / 21}).first_wrong.note
    assert note.startswith("it is proplab's times 0.0952381 = 2/21: 2/N with N = 21 samples"), note


# --- proplab verify ----------------------------------------------------------------------------


def test_a_score_recorded_as_null_against_a_finite_one_differs(xor_run):  # noqa: F811
    """Kills VF2 (_same passes when either side is None). A summary.json whose accuracy
    was blanked to null hides the score a TA checks: only both None (NaN or inf on both
    sides) agree."""
    edit_json(xor_run / "summary.json", accuracy=None)
    check = verify_run(xor_run)
    assert not check.ok
    assert check.problems[0].startswith("summary.json: accuracy null; model.npz scores accuracy ")


def test_a_renumbered_last_epoch_of_the_history_differs(xor_run):  # noqa: F811
    """Kills VF3 (rows and last epoch both have to be wrong). history.csv with its 60 rows
    but its last one renumbered 61 does not match epochs_run 60: one wrong is enough."""
    path = xor_run / "history.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[-1] = "61" + lines[-1][lines[-1].index(",") :]
    path.write_text("".join(lines))
    check = verify_run(xor_run)
    assert check.problems == ["history.csv: 60 rows, last epoch 61; summary.json: epochs_run 60"]


def test_the_rerun_sees_a_history_cut_short(xor_run):  # noqa: F811
    """Kills VF5 (a history that is a prefix of the rerun's counts as the same). The rows
    that agree do not make a history of 59 epochs the one a 60-epoch run writes: the rerun
    names the first row one side lacks."""
    path = xor_run / "history.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    check = verify_run(xor_run, rerun=True)
    rerun = [p for p in check.problems if p.startswith("rerun:")]
    assert rerun == [
        "rerun: history.csv differs from row 60 (epoch,loss,accuracy no row; rerun "
        + ",".join(lines[-1].split(",")[:3])
        + ")"
    ]
    assert "rerun bit for bit" not in check.checked


def _without_biases(folder) -> None:
    """Save ``folder``'s model.npz again without its biases (the same weights)."""
    saved = serialize.load(folder / "model.npz")
    nob = proplab.mlp(2, (10, 10), 1, bias=False, rng=np.random.default_rng(0))
    weights = [p for p in saved.parameters() if p.data.ndim == 2]
    for p, w in zip(nob.parameters(), weights, strict=True):
        p.data[...] = w.data
    serialize.save(nob, folder / "model.npz")


def test_the_rerun_is_not_bit_for_bit_when_the_saved_model_lacks_parameters(xor_run):  # noqa: F811
    """Kills VF6 (only the saved model's parameters are compared). A model.npz saved
    without its biases (the same weights) is not the model the config trains: the rerun
    has parameters the folder's model lacks, so it is no 'rerun bit for bit'."""
    _without_biases(xor_run)
    check = verify_run(xor_run, rerun=True)
    assert not check.ok
    assert "rerun bit for bit" not in check.checked


@pytest.mark.xfail(strict=True, reason="mut23: _check_rerun reads old[k] for a k only in new")
def test_the_rerun_names_the_first_parameter_the_saved_model_lacks(xor_run):  # noqa: F811
    """A real bug VF6's test found: _check_rerun's size note reads ``old[k]`` for the
    first parameter only the rerun has, so the KeyError ends the check and the problem
    reads "'0.bias'" instead of the rerun's line."""
    _without_biases(xor_run)
    check = verify_run(xor_run, rerun=True)
    assert "rerun: model.npz weights differ, first 0.bias" in check.problems


def test_an_array_missing_from_the_fingerprint_differs(xor_run):  # noqa: F811
    """Kills VF7 (only the recorded arrays are compared). A config.json whose fingerprint
    lost y (hand-edited, or a proplab that builds other arrays) does not vouch for the
    targets the run is re-scored on: the array made now and not recorded is named."""
    stored = json.loads((xor_run / "config.json").read_text())
    y = stored["data"]["arrays"].pop("y")
    (xor_run / "config.json").write_text(json.dumps(stored))
    check = verify_run(xor_run)
    shape = "x".join(map(str, y["shape"]))
    assert check.problems == [
        f"data differ: y none recorded, {shape} {y['dtype']} sha256 {y['sha256'][:12]} now"
    ]
