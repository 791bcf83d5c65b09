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


def test_the_rerun_names_the_first_parameter_the_saved_model_lacks(xor_run):  # noqa: F811
    """A real bug VF6's test found (fixed): _check_rerun's size note read ``old[k]`` for
    the first parameter only the rerun has, so the KeyError ended the check and the problem
    read "'0.bias'" instead of the rerun's line."""
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


# --- the unknown-dataset hint ------------------------------------------------------------------


def test_a_capitalised_regression_name_gets_the_regression_sets() -> None:
    """Kills EX4 (_dataset_hint's 'regress' test is case-sensitive). 'Linear_Regression'
    asks for a regression as much as 'linear_regression': pointing it at 'linear' (a
    classification set) is the mistake the hint exists to prevent."""
    from proplab import experiments
    from proplab.config import ConfigError

    with pytest.raises(ConfigError) as err:
        experiments.load_dataset(experiments.RunConfig(dataset="Linear_Regression"))
    message = str(err.value)
    assert message.endswith("; the regression sets are 'plane', 'multi-gauss', 'diabetes'")
    assert "did you mean" not in message


# --- the learning-rate answer ----------------------------------------------------------------


def test_a_period_two_bounce_beside_flipping_seeds_is_on_alternate_epochs():
    """Kills RL8 (_overshoot_text's 'on alternate epochs' rule reads every oscillating
    seed, not the bouncing ones). Seeds whose accuracy only flips have no loss cycle: they
    must not turn seed 0's period-2 bounce into 'goes up and down'."""
    from test_mutation_kills_session22 import _bounce, _flip, _lr_paras
    from test_report import _runs

    runs = _runs("1", 1.0, [1.0] * 5, first=100)
    _bounce(runs[0])
    for r in runs[1:]:
        _flip(r)
    assert runs[0].cycle_from is not None and all(r.cycle_from is None for r in runs[1:])
    paras = _lr_paras({"1": runs, "0.1": _runs("0.1", 0.1, [1.0] * 5, first=300)})
    (text,) = [p for p in paras if p.startswith("Overshooting")]
    assert "so the loss goes up on alternate epochs instead of settling" in text


def test_a_lowest_rate_under_two_points_below_is_not_shown_too_low():
    """Kills RL10 (_too_low_classes' clearly_below without ACC_NOISE). 97.6 % in every seed
    against 99.0 %: beyond a spread of 0, but 1.4 points is under the noise floor of 2,
    so the lowest rate is not shown too low, and the sentence says why."""
    from test_report_claims_lr import LR_QUESTION, _answers, _falls, _run

    from proplab.config import RunConfig

    high = [_run("linear", s, _falls(0.28, 0.06), 0.99) for s in range(3)]
    low = [_run("linear", s, _falls(0.28, 0.1), 0.976, lr=0.1) for s in range(3)]
    from test_report_claims_lr import _group

    paras = _answers([_group(high), _group(low)], RunConfig(epochs=400))[LR_QUESTION]
    assert paras[-1].startswith("No tested rate was shown to be too low on linear: lr 0.1")
    assert paras[-1].endswith("below lr 1's 99.0 ± 0.0 % but not by more than 2 points.")


def test_two_seeds_are_told_by_a_median():
    """Kills RL15 (_by_median says 'by' below three seeds). Two seeds have a median that is
    neither seed's value: only a setting of one seed changes its loss 'by' a number."""
    from test_report_claims_lr import LR_QUESTION, _answers, _falls, _group, _run

    from proplab.config import RunConfig

    high = [_run("linear", s, _falls(0.28, 0.06), 1.0) for s in range(2)]
    low = [_run("linear", s, _falls(0.28, 0.1 + 0.02 * s), 1.0, lr=0.1) for s in range(2)]
    paras = _answers([_group(high), _group(low)], RunConfig(epochs=400))[LR_QUESTION]
    assert paras[-1].startswith(
        "No tested rate was too low on linear: even lr 0.1 changes the loss by a median of 61 %"
    ), paras[-1]


# --- the bias answer ---------------------------------------------------------------------------


def test_a_variant_diverged_in_every_seed_is_nothing_to_compare():
    """Kills BA3 (``a.n or b.n`` for 'both variants have a score'). With every seed of the
    network without biases diverged there is no score to set against the biases': the
    answer says so rather than judging a comparison with an empty side."""
    from test_report_claims_lr import BIAS_QUESTION, _answers, _bias_pair, _group

    from proplab.config import RunConfig

    base, nob = _bias_pair("xor", [1.0] * 3, [1.0] * 3)
    for r in nob.runs:
        r.record.stop_reason, r.record.final_loss = "diverged", float("nan")
    paras = _answers([base, _group(nob.runs)], RunConfig(epochs=400))[BIAS_QUESTION]
    assert paras[2] == "On XOR every seed of one variant diverged: there is nothing to compare."


def test_one_seed_each_is_not_said_when_one_variant_ran_three():
    """Kills BA13 (any group of one seed makes '(one seed each)'). With three seeds with
    biases and one without, 'one seed each' is false."""
    from test_report_claims_lr import BIAS_QUESTION, _answers, _bias_pair, _group

    from proplab.config import RunConfig

    base, nob = _bias_pair("xor", [1.0] * 3, [1.0] * 3)
    paras = _answers([base, _group(nob.runs[:1])], RunConfig(epochs=400))[BIAS_QUESTION]
    assert paras[2].startswith("XOR is still fit without biases: "), paras[2]
    assert "one seed each" not in paras[2]


def test_a_sweep_of_classification_and_regression_keeps_the_boundary():
    """Kills BA15 (any regression group makes the weights paragraph a regression's). With
    XOR among the datasets, a unit's boundary is what its weights set there: the
    regression's wording is for sweeps of regressions only."""
    from test_report_claims_lr import BIAS_QUESTION, _answers, _bias_pair

    from proplab.config import RunConfig

    groups = _bias_pair("xor", [1.0] * 3, [1.0] * 3)
    groups += _bias_pair("multi-gauss", [0.70, 0.71, 0.72], [0.71, 0.72, 0.73])
    paras = _answers(groups, RunConfig(epochs=400))[BIAS_QUESTION]
    assert "the direction and steepness of its boundary" in paras[0], paras[0]
    assert "where that change is centred" not in paras[0]


# --- the observations ----------------------------------------------------------------------


def test_a_lowest_r2_level_with_the_highest_is_not_called_the_lowest():
    """Kills RT8 (_value_headline's 'the lowest is' for any lowest but the first tied). A
    setting whose seeds spread so widely that the highest is not clearly above it is tied
    with the highest, even when a third setting is clearly below: calling it 'the lowest'
    beside the tie would rank what the seeds do not."""
    from test_report_claims_text import _notes, _values

    notes = _notes(
        {
            "1": _values("1", [0.90, 0.90, 0.90], dataset="plane"),
            "0.1": _values("0.1", [0.80, 0.80, 0.80], dataset="plane"),
            "0.01": _values("0.01", [0.20, 0.95, 0.95], dataset="plane"),
        }
    )
    assert notes[0].startswith(
        "On plane, the highest R² are lr 1 (R² 0.900 ± 0.000) and lr 0.01"
    ), notes[0]
    assert "the lowest" not in notes[0]


def test_every_setting_reaching_100_in_one_seed_is_its_one_seed():
    """Kills RT13 (_headline's 'in their one seed' whenever more than one setting reaches
    100 %). 'every setting reaches' is singular: 'their' is for a list of some of the
    settings ('lr 1 and lr 0.1 reach 100 % in their one seed')."""
    from test_report import _runs, _view

    from proplab import report_text

    view = _view(
        {"1": _runs("1", 1.0, [1.0], first=100), "0.1": _runs("0.1", 0.1, [1.0], first=300)}
    )
    assert report_text.observations(view)[0] == (
        "On XOR, every setting reaches 100 % in its one seed; epochs to get there for good: "
        "100 for lr 1 and 300 for lr 0.1."
    )


def test_the_held_out_best_ties_a_setting_within_the_noise_floor():
    """Kills RT25 (_test_line's best_of without spread=True). 95 % and 94 % held out, each
    in every seed, are a point apart, under the 2-point floor: both are the best there,
    with the reason, as on the training data; the held-out line must not crown one."""
    from test_report import _runs, _view
    from test_report_answers_suites import _held

    from proplab import report_text

    view = _view(
        {
            "1": _runs("1", 1.0, [1.0] * 3, first=100),
            "0.1": _runs("0.1", 0.1, [1.0] * 3, first=300),
            "0.01": _runs("0.01", 0.01, [1.0] * 3, first=600),
        }
    )
    for g, test in zip(view.groups, [[0.95] * 3, [0.94] * 3, [0.7] * 3], strict=True):
        _held(g, test)
    (line,) = [n for n in report_text.observations(view) if "held-out" in n]
    assert line.startswith(
        "On the held-out test set of XOR, the best are lr 1 (95.0 ± 0.0 %) and lr 0.1 "
        "(94.0 ± 0.0 %), a gap within 2 points; the lowest is lr 0.01, at 70.0 ± 0.0 %"
    ), line


# --- the hidden-units answer -----------------------------------------------------------------


def test_points_are_fully_wrong_only_within_a_tenth_of_k_over_n():
    """Kills RH1 (FULLY_WRONG 0.1 as 0.25). 30 of 100 points wrong at a final loss of 0.25
    is 0.83 of 30/100: the wrong points' squared errors average 0.83, not 'about 1', so
    they are not 'predicted fully wrong' (the old rule's 25 % is what claims23 H5 fixed)."""
    from test_report_claims_text import _plateau, _run

    from proplab import report_hidden

    hedging = _run("circle", 1, 0, *_plateau(0.27, 0.25, 0.7))
    assert report_hidden._points_wrong(hedging) == ", 30 of 100 points wrong"


def _const(acc: float) -> tuple[np.ndarray, np.ndarray]:
    """A loss falling from 0.26 to 0.05 and an accuracy of ``acc`` from the first epoch."""
    from test_report_claims_text import EPOCHS

    return np.linspace(0.26, 0.05, EPOCHS), np.full(EPOCHS, acc)


def test_a_widest_under_two_points_below_is_not_clearly_worse():
    """Kills RH5 (_widest_text's clearly_below without ACC_NOISE). 98 % against 99 % in
    every seed is beyond a spread of 0 but under the 2-point floor: calling the widest
    'clearly worse' would claim a difference one point in 100 points cannot show."""
    from test_report_claims_text import _group, _hidden_answer, _run

    narrow = [_run("circle", 4, s, *_const(0.99)) for s in range(3)]
    wide = [_run("circle", 128, s, *_const(0.98)) for s in range(3)]
    circle = _hidden_answer([_group("circle", 4, narrow), _group("circle", 128, wide)])[1]
    assert "hidden 128 98.0 ± 0.0 %" in circle  # the premise: the scores said
    assert "widest" not in circle


def test_a_regressions_widest_clearly_worse_is_said():
    """Kills RH9 (a regression's width paragraph without _widest_text). claims23 M3's rule
    covers regression widths too (R2_NOISE): R² 0.40 for the widest against 0.90 is
    clearly worse, and the answer must say so there as well."""
    from pathlib import Path

    from test_report_claims_text import EPOCHS, _group

    from proplab.aggregate import RunRecord
    from proplab.config import RunConfig
    from proplab.report_data import RunView

    def runs(hidden: int, r2: float) -> list[RunView]:
        out = []
        for seed in range(3):
            cfg = RunConfig(dataset="multi-gauss", output_activation="identity", hidden=hidden,
                            seed=seed, epochs=EPOCHS)  # fmt: skip
            rec = RunRecord(
                "hidden", str(hidden), "multi-gauss", seed, f"h{hidden}{seed}", cfg, 0.02,
                float("nan"), EPOCHS, "completed", 1.0, final_r2=r2,
            )  # fmt: skip
            curve = np.linspace(0.1, 0.02, EPOCHS)
            out.append(RunView(rec, Path("."), curve, np.full(EPOCHS, np.nan)))
        return out

    from test_report_claims_text import HIDDEN

    from proplab import report_answers, report_hidden
    from proplab.report_data import ExperimentView
    from proplab.sweep_spec import parse_spec

    groups = [_group("multi-gauss", 4, runs(4, 0.9)), _group("multi-gauss", 128, runs(128, 0.4))]
    exp = parse_spec(HIDDEN, Path("h.toml"), check_build=False).experiments[0]
    base = RunConfig(dataset="multi-gauss", output_activation="identity", epochs=EPOCHS)
    answers = dict(
        report_answers.answers([ExperimentView(exp, groups, 0, [], [])], base, (130, 21))
    )
    (text,) = [p for p in answers[report_hidden.QUESTION] if p.startswith("On multi-gauss")]
    assert text.endswith(
        " The widest is clearly worse: hidden 128 ends at R² 0.400 ± 0.000 against R² 0.900 "
        "± 0.000 for hidden 4."
    ), text


# --- the report's Setup ----------------------------------------------------------------------


def _with_config(runs, **changes):
    """``runs`` with each config changed by ``changes`` (a list: one value per run)."""
    import dataclasses

    out = []
    for i, r in enumerate(runs):
        values = {k: v[i] for k, v in changes.items()}
        cfg = r.record.config.replace(**values)
        out.append(dataclasses.replace(r, record=dataclasses.replace(r.record, config=cfg)))
    return out


def test_an_experiment_of_several_lengths_is_said_as_a_span():
    """Kills RS2 (_other_epochs says only the shortest length). An experiment whose runs
    train 1,000 to 3,000 epochs (vary.epochs) is not '1,000 in ...': the reader would take
    every run for 1,000 epochs long."""
    from test_report import _runs, _view

    from proplab import report_setup
    from proplab.config import RunConfig

    runs = _with_config(_runs("1", 1.0, [1.0] * 3, first=700), epochs=[1000, 2000, 3000])
    note = report_setup._epochs_note([_view({"1": runs})], RunConfig(epochs=5000))
    assert note.startswith('**Epochs**: 5,000 per run (1,000 to 3,000 in "All runs"; '), note


def test_the_tol_said_is_the_lowest_of_the_runs():
    """Kills RS3 (_tol_text names the highest tol). With runs at tol 0.001 and 0.01, 'a run
    stops early once its loss is below tol 0.01' is false for the runs at 0.001, which ran
    on below it; the lowest is the one every run's stop is past."""
    from test_report import _runs, _view

    from proplab import report_setup
    from proplab.config import RunConfig

    runs = _with_config(_runs("1", 1.0, [1.0] * 3, first=700), tol=[1e-3, 1e-2, 1e-2])
    note = report_setup._epochs_note([_view({"1": runs})], RunConfig(epochs=1000))
    assert "; a run stops early once its loss is below tol 0.001. " in note, note
