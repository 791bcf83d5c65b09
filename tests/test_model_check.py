"""proplab gradcheck: every layer, the whole model and the loss of a configured network."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import model_check
from proplab.activations import Sigmoid
from proplab.cli import main
from proplab.config import RunConfig, build_model
from proplab.experiments import prepare_run
from proplab.gradcheck_notes import few_samples_note
from proplab.model_check import CheckTooLargeError, check_config, format_check


def test_the_lab_model_passes_and_every_array_is_checked():
    check = check_config(RunConfig())
    assert check.ok and 0 < check.worst < 1e-6
    cfg, prep = prepare_run(RunConfig())
    model = build_model(cfg, 2, 1)
    names = {name for name, _ in model.named_parameters()}
    whole = {r.array for r in check.rows if r.index == -1}
    assert whole == names | {"input"}
    # each Linear alone: input, weight, bias; each activation: its input
    per_layer = [(r.index, r.array) for r in check.rows if r.index is not None and r.index >= 0]
    assert per_layer[:4] == [(0, "input"), (0, "weight"), (0, "bias"), (1, "input")]
    assert {i for i, _ in per_layer} == set(range(len(model.layers)))
    assert [r.module for r in check.rows if r.index is None] == ["MSELoss"]
    entries = {r.array: r.entries for r in check.rows if r.index == -1}
    assert entries["0.weight"] == 20 and entries["input"] == 4 * 2
    text = format_check(check)
    assert text.splitlines()[-1].startswith("gradcheck ok: worst relative error")
    assert "4 samples of xor" in text.splitlines()[0]


def test_a_wrong_backward_is_named_by_layer_and_array(monkeypatch):
    right = Sigmoid.backward

    def off_by_ten_percent(self, grad_out, need_input_grad=True, out=None):
        return 0.9 * right(self, grad_out, need_input_grad, out)

    monkeypatch.setattr(Sigmoid, "backward", off_by_ten_percent)
    check = check_config(RunConfig())
    assert not check.ok
    first = check.failed[0]
    assert (first.index, first.module, first.array) == (1, "Sigmoid()", "input")
    assert first.error == pytest.approx(0.1, rel=1e-6)  # |0.9 g - g| / max(|g|, |0.9 g|)
    # the Linear layers alone are still right: only Sigmoid rows and the whole model fail
    assert {r.module for r in check.failed} == {"Sigmoid()", "whole model"}
    text = format_check(check)
    assert "<- FAILED" in text and "first Sigmoid() input (1.0e-01)" in text


def test_relu_at_its_kink_is_not_reported_as_a_wrong_backward(monkeypatch):
    # XOR's first point is (0, 0) and biases start at 0: every first-layer ReLU input is 0
    cfg = RunConfig(activation="relu")
    check = check_config(cfg)
    assert check.ok
    assert check.skipped == [0] and check.samples == [1, 2, 3, 4]
    assert "skipped row 0: it puts a ReLU input at its kink at 0" in format_check(check)
    # with row 0, every nudge of a hidden bias crosses the kink: those arrays of the whole
    # model cannot be compared (each layer's own check still compares its bias)
    monkeypatch.setattr(model_check, "KINK_MARGIN", 0)
    naive = check_config(cfg)
    assert naive.samples == [0, 1, 2, 3] and not naive.ok and naive.failed == []
    assert [(r.index, r.array) for r in naive.uncompared] == [(-1, "0.bias"), (-1, "2.bias")]
    assert [r.error for r in naive.rows if r.index == 0 and r.array == "bias"][0] < 1e-8


def test_other_networks_pass():
    for cfg in (
        RunConfig(model="conv", activation="tanh"),
        RunConfig(dataset="spiral", bias=False, loss="bce", activation="leaky_relu"),
        RunConfig(dataset="moons", loss="cross_entropy", output_activation="identity"),
    ):
        check = check_config(cfg, samples=3)
        assert check.ok, format_check(check)
        assert len(check.samples) == 3


def test_a_network_too_large_to_check_is_refused():
    with pytest.raises(CheckTooLargeError, match=r"would nudge 2,026,022 entries"):
        check_config(RunConfig(hidden=1000))


def test_command_line(capsys, monkeypatch):
    assert main(["gradcheck", "--activation", "tanh", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "2-10-10-1 tanh" in out and "2 samples of xor" in out
    assert out.splitlines()[-2].startswith("gradcheck ok")
    assert out.splitlines()[-1] == "note: " + few_samples_note(2)  # once, not per layer
    for argv, message in (
        (["--samples", "0"], "argument --samples: must be >= 1, got 0"),
        (["--eps", "0"], "argument --eps: must be a step from 1e-10 to 0.001"),
        (["--lr", "3"], "unrecognized arguments: --lr 3"),
        (["--activation", "soft"], "argument --activation: unknown activation 'soft'"),
        (["--label", "y"], "label: only a CSV dataset has label columns"),
        (["--hidden", "1000"], "use fewer --samples or a smaller network"),
    ):
        assert main(["gradcheck", *argv]) == 2
        assert message in capsys.readouterr().err
    # a wrong backward: exit 1 with the table
    monkeypatch.setattr(Sigmoid, "backward", lambda self, g, need_input_grad=True, out=None: g)
    assert main(["gradcheck"]) == 1
    assert "gradcheck FAILED" in capsys.readouterr().out


def test_rows_clear_of_kinks_fill_up_with_the_clearest():
    from proplab.activations import ReLU

    x = np.array([[0.0], [5e-4], [2.0], [1e-7], [3.0]])
    rows, skipped = model_check._rows_clear_of_kinks([ReLU()], x, 3, 1e-3)
    assert rows == [1, 2, 4] and skipped == [0, 3]  # 2 clear rows, then the farthest (5e-4)
    rows, skipped = model_check._rows_clear_of_kinks([ReLU()], x, 2, 1e-3)
    assert rows == [2, 4] and skipped == [0, 1, 3]


def test_uncompared_arrays_make_the_check_incomplete_with_notes(monkeypatch, capsys):
    # KINK_MARGIN 0: row 0 (XOR's (0, 0)) is used; gradcheck says what it could not compare
    monkeypatch.setattr(model_check, "KINK_MARGIN", 0)
    check = check_config(RunConfig(activation="relu"))
    lines = format_check(check).splitlines()
    notes = [line for line in lines if line.startswith("note: ")]
    verdict = lines[-len(notes) - 1]
    assert verdict.startswith(
        "gradcheck incomplete: whole model 0.bias, whole model 2.bias not compared (worst "
    )
    assert sum("<- not compared" in line for line in lines) == 2
    assert notes[-1].startswith("note: whole model: 22 of 159 entries not compared: nudging")
    # nothing failed: the command exits 0 and prints the same
    assert main(["gradcheck", "--activation", "relu"]) == 0
    assert verdict in capsys.readouterr().out


# ---------------------------------------------------------------- from mutation testing


def test_an_error_equal_to_the_tolerance_passes_and_the_loss_row_counts():
    from proplab.model_check import CheckRow, ModelCheck

    rows = [
        CheckRow(0, "Linear(2, 3)", "input", 8, 1e-6),  # exactly the tolerance: passes
        CheckRow(-1, "whole model", "input", 8, 1e-9),
        CheckRow(None, "MSELoss", "pred", 4, 2e-7),  # the worst is the loss's
    ]
    check = ModelCheck("t", rows=rows, tolerance=1e-6)
    assert check.ok and check.failed == [] and check.worst == 1e-6
    text = format_check(check)
    assert "<-" not in text
    assert text.splitlines()[-1] == (
        "gradcheck ok: worst relative error 1.0e-06 <= 1e-06 over 3 arrays (20 entries)"
    )
    check = ModelCheck("t", rows=rows[1:], tolerance=1e-6)
    assert check.worst == 2e-7
    check.rows[1].error = 3e-6
    assert format_check(check).splitlines()[-1] == (
        "gradcheck FAILED: 1 of 2 arrays over 1e-06, first MSELoss pred (3.0e-06)"
    )


def test_rows_clear_of_kinks_judge_a_row_by_its_closest_input():
    from proplab.activations import ReLU

    x = np.array([[2.0, 1e-9], [1.0, 1.0], [3.0, 3.0]])  # row 0: one input at the kink
    assert model_check._rows_clear_of_kinks([ReLU()], x, 2, 1e-3) == ([1, 2], [0])
    # no kinked layer: the first rows, as many as there are
    assert model_check._rows_clear_of_kinks([Sigmoid()], x, 5, 1e-3) == ([0, 1, 2], [])


def test_a_check_just_over_the_limit_is_refused():
    # 2-250-250-1: about 128k entries, over 100,000 but well under 10x that
    with pytest.raises(CheckTooLargeError, match=r"would nudge 1\d\d,\d\d\d entries"):
        check_config(RunConfig(hidden=250))


def test_the_skipped_rows_line_counts_its_rows():
    from proplab.model_check import CheckRow, ModelCheck

    rows = [CheckRow(-1, "whole model", "input", 8, 1e-9)]

    def skipped_line(skipped, samples):
        check = ModelCheck("t", rows=rows, samples=samples, skipped=skipped)
        return format_check(check).splitlines()[1]

    assert skipped_line([0, 3], [1, 2, 4, 5]) == (
        "data rows 1, 2, 4, 5; skipped rows 0, 3: they put a ReLU input at its kink at 0, "
        "where central differences do not give the derivative"
    )
    ten = list(range(10))
    assert skipped_line(ten, [10, 11]).startswith(
        "data rows 10, 11; skipped rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9: they put"
    )
    assert skipped_line([*ten, 10], [11]).startswith(
        "data rows 11; skipped rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 ...: they put"
    )


def test_a_row_within_1000_eps_of_a_relu_kink_is_skipped():
    # seed 2's ReLU model puts XOR row 2 at 5e-4 from a kink: closer than 1000 * 1e-6
    from proplab.activations import ReLU

    cfg, prep = prepare_run(RunConfig(activation="relu", seed=2))
    h, closest = prep.x[2:3], np.inf
    for layer in build_model(cfg, prep.x.shape[-1], prep.n_out).layers:
        if isinstance(layer, ReLU):
            closest = min(closest, np.abs(h).min())
        h = layer.forward(h)
    assert 1e-5 < closest < 1e-3
    check = check_config(RunConfig(activation="relu", seed=2))
    assert (check.samples, check.skipped) == ([1, 3, 4, 5], [0, 2])


def test_a_failed_check_shows_the_plain_relative_error_of_its_first_failure():
    # mutation testing: the FAILED line gives the row's plain relative error (as its row)
    from proplab.model_check import CheckRow, ModelCheck

    rows = [
        CheckRow(0, "Linear(in=2, out=3, bias=True)", "weight", 6, 2e-3, relative=0.5),
        CheckRow(None, "MSELoss", "pred", 4, 2e-8, relative=2e-8),
    ]
    text = format_check(ModelCheck("a check; 4 samples of xor, float64", rows))
    assert "5.0e-01" in text.splitlines()[2] and "<- FAILED" in text.splitlines()[2]
    assert (
        "gradcheck FAILED: 1 of 2 arrays over 1e-06, first Linear(in=2, out=3, bias=True) "
        "weight (5.0e-01)"
    ) in text
