"""proplab.trace_step / proplab trace: one training step, every number, against a hand
calculation written out in NumPy, against fit, and against PyTorch where installed."""

from __future__ import annotations

import re

import numpy as np
import pytest

import proplab
from proplab import cli
from proplab.config import RunConfig, build_loss, build_model, build_optimizer, shuffle_rng
from proplab.experiments import prepare_run
from proplab.trace import MAX_CHECKED_WEIGHTS, trace_step
from proplab.trace_run import trace_config
from proplab.trace_text import array_lines, number


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _by_hand(weights, x, t, lr):
    """The lab model's step written out, one formula per line (2-H-H-1 sigmoid, MSE)."""
    (W1, b1), (W2, b2), (W3, b3) = weights
    z1 = x @ W1 + b1
    a1 = _sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = _sigmoid(z2)
    z3 = a2 @ W3 + b3
    p = _sigmoid(z3)
    loss = np.mean((p - t) ** 2)
    dp = 2 * (p - t) / p.size
    dz3 = dp * p * (1 - p)
    dW3, db3, da2 = a2.T @ dz3, dz3.sum(0), dz3 @ W3.T
    dz2 = da2 * a2 * (1 - a2)
    dW2, db2, da1 = a1.T @ dz2, dz2.sum(0), dz2 @ W2.T
    dz1 = da1 * a1 * (1 - a1)
    dW1, db1 = x.T @ dz1, dz1.sum(0)
    return {
        "outputs": [z1, a1, z2, a2, z3, p],
        "loss": loss,
        "dp": dp,
        "grad_outputs": [dz1, da1, dz2, da2, dz3, dp],  # dL/d(each module's output)
        "grads": [(dW1, db1), (dW2, db2), (dW3, db3)],
        "new": [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in
                zip(weights, [(dW1, db1), (dW2, db2), (dW3, db3)], strict=True)],
    }  # fmt: skip


def _weights(model: proplab.Sequential) -> list[tuple[np.ndarray, np.ndarray]]:
    linears = [m for m in model.layers if isinstance(m, proplab.Linear)]
    return [(m.weight.data.copy(), m.bias.data.copy()) for m in linears]


@pytest.mark.parametrize("n", [1, 4])
def test_every_number_is_the_hand_calculation(n: int) -> None:
    rng = np.random.default_rng(3)
    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(0))
    for m in model.layers:  # non-zero biases, so a bias left out would show
        if isinstance(m, proplab.Linear):
            m.bias.data[...] = rng.normal(size=m.bias.data.shape)
    x, t = rng.normal(size=(n, 2)), rng.integers(0, 2, size=(n, 1)).astype(float)
    hand = _by_hand(_weights(model), x, t, lr=0.7)
    trace = trace_step(model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=0.7))
    assert [s.name for s in trace.modules] == ["z1", "a1", "z2", "a2", "z3", "a3"]
    assert [s.input_name for s in trace.modules] == ["x", "z1", "a1", "z2", "a2", "z3"]
    for step, out, g in zip(trace.modules, hand["outputs"], hand["grad_outputs"], strict=True):
        np.testing.assert_allclose(step.output, out, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(step.grad_output, g, rtol=1e-12, atol=1e-16)
    assert trace.loss == pytest.approx(hand["loss"], rel=1e-13)
    np.testing.assert_allclose(trace.grad_pred, hand["dp"], rtol=1e-13)
    linears = [s for s in trace.modules if s.name.startswith("z")]
    for step, (dW, db), (W, b) in zip(linears, hand["grads"], hand["new"], strict=True):
        np.testing.assert_allclose(step.grads["weight"], dW, rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(step.grads["bias"], db, rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(step.updated["weight"], W, rtol=1e-13)
        np.testing.assert_allclose(step.updated["bias"], b, rtol=1e-13)
    # the sigmoid's local derivative, shown beside its product
    np.testing.assert_allclose(
        trace.modules[1].local, hand["outputs"][1] * (1 - hand["outputs"][1])
    )
    assert trace.modules[0].grad_input is None  # the data's gradient is not computed
    # the model took the step: its weights are the new ones, and the loss fell
    for (W, b), (W_new, b_new) in zip(_weights(model), hand["new"], strict=True):
        np.testing.assert_allclose(W, W_new, rtol=1e-13)
        np.testing.assert_allclose(b, b_new, rtol=1e-13)
    after = np.mean((_by_hand(_weights(model), x, t, 0.0)["outputs"][-1] - t) ** 2)
    assert trace.loss_after == pytest.approx(after, rel=1e-12) and trace.loss_after < trace.loss
    assert trace.checked and trace.check_error < 1e-7


def test_the_text_shows_each_array_under_its_formula() -> None:
    model = proplab.mlp(2, 2, 1, rng=np.random.default_rng(0))
    x, t = np.array([[0.0, 1.0]]), np.array([[1.0]])
    trace = trace_step(model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=1.0))
    text = trace.text(digits=5)
    lines = text.splitlines()

    def shown(label: str) -> str:
        """The numbers on the last line that starts with ``label =`` (its value; the
        formula that names it comes first)."""
        line = [ln.strip() for ln in lines if ln.strip().startswith(f"{label} = ")][-1]
        return line.split(" = ")[-1]

    z1 = trace.modules[0].output
    assert shown("z1") == f"[[{number(z1[0, 0], 5)}  {number(z1[0, 1], 5)}]]"
    assert shown("L") == number(trace.loss, 5)
    assert "dL/dW3 = a2^T dL/dz3 = [[" in text
    assert "dL/dz3 = dL/da3 * f'(z3),  f'(z3) = a3 (1 - a3)" in text
    assert "dL/da3 = dL/dp = 2 (p - t) / N = [[" in text
    assert "UPDATE  SGD, lr 1: each weight W <- W - lr dL/dW" in text
    assert "(no dL/dx: x is the data" in text
    assert re.search(r"15 parameters \(10 weights, 5 biases\), each nudged by \+-1e-06: the largest relative error is "
                     r"\d\.\de-\d+ \(passed, tolerance 1e-06; ", text)  # fmt: skip
    # the sections come in the order the calculation runs
    order = [text.index(h) for h in ("FORWARD", "LOSS", "BACKWARD", "UPDATE", "CHECK")]
    assert order == sorted(order)
    assert str(trace) == trace.text(4) != text


def test_numbers_keep_their_digits() -> None:
    assert number(0.57444, 4) == "0.5744"
    assert number(0.5, 4) == "0.5000"  # trailing zeros say the precision
    assert number(-12.5, 4) == "-12.50"
    assert number(1.23456e-7, 4) == "1.235e-07"
    assert number(1.0, 4) == "1" and number(0.0, 4) == "0"  # data and labels
    assert number(2 / 3, 2) == "0.67"
    # columns aligned on the decimal point, a whole number on its units
    assert array_lines("W", np.array([[1.5, -0.25], [10.0, 2.0]]), 3) == [
        "W = [[ 1.50  -0.250]",
        "     [10      2    ]]",
    ]
    assert array_lines("b", np.array([0.5, 1.0]), 2) == ["b = [0.50  1]"]
    # a conv layer's (n, channels, positions): rows of the last axis, the shape named
    z = np.arange(6.0).reshape(1, 2, 3)
    assert array_lines("z1", z, 2) == ["z1 1x2x3 = [[0  1  2]", "            [3  4  5]]"]


def test_a_wrong_backward_fails_the_check() -> None:
    class HalfSigmoid(proplab.Sigmoid):  # a student's slip: the derivative halved
        def backward(self, grad_out, need_input_grad=True, out=None):
            return 0.5 * super().backward(grad_out, need_input_grad)

    rng = np.random.default_rng(0)
    model = proplab.Sequential(
        proplab.Linear(2, 3, rng=rng), HalfSigmoid(), proplab.Linear(3, 1, rng=rng)
    )
    x, t = rng.normal(size=(3, 2)), rng.normal(size=(3, 1))
    trace = trace_step(model, proplab.MSELoss(), x, t)
    assert not trace.checked and trace.check_error > 0.1
    assert "FAILED" in trace.text()
    assert trace.loss_after is None and "UPDATE" not in trace.text()  # no optimizer: no step


def test_with_every_row_the_step_is_the_next_epoch_of_proplab_train() -> None:
    cfg = RunConfig(dataset="xor", hidden=4, seed=2)
    trace = trace_config(cfg, samples=None, after=30)
    # the same run trained 31 epochs by fit, as proplab train trains it
    cfg, prep = prepare_run(cfg)
    model = build_model(cfg, 2, 1, samples=len(prep.x))
    opt = build_optimizer(cfg, model.parameters())
    proplab.fit(
        model, build_loss(cfg), opt, prep.x, prep.y, 31, rng=shuffle_rng(cfg), print_every=0
    )
    linears = [s for s in trace.modules if s.name.startswith("z")]
    for step, (W, b) in zip(linears, _weights(model), strict=True):
        assert np.array_equal(step.updated["weight"], W) and np.array_equal(step.updated["bias"], b)
    assert "after 30 epochs of training" in trace.title
    assert trace.x.shape == (21, 2)


@pytest.mark.parametrize(
    "changes",
    [
        {"activation": "tanh"},
        {"activation": "relu", "dataset": "circle", "n": 20},
        {"activation": "leaky_relu", "dataset": "circle", "n": 20},
        {"loss": "bce"},
        {"loss": "cross-entropy", "output_activation": "identity", "dataset": "moons", "n": 20},
        {"dropout": 0.5, "hidden": 6},
        {"batchnorm": True},
        {"optimizer": "adam", "lr": 0.01},
        {"optimizer": "momentum"},
        {"weight_decay": 0.1},
        {"model": "conv", "dataset": "circle", "n": 20, "filters": 2, "kernel_size": 2},
        {"dataset": "plane", "output_activation": "identity"},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_every_network_proplab_trains_traces_and_checks(changes: dict) -> None:
    cfg = RunConfig(**{"dataset": "xor", "hidden": 3, **changes})
    trace = trace_config(cfg, samples=5)
    assert trace.checked, trace.check_note
    # the step was taken, and the text names every module's output it computed
    assert trace.loss_after is not None and np.isfinite(trace.loss_after)
    text = trace.text()
    for step in trace.modules:
        assert f"    {step.name} = " in text
    if cfg.optimizer != "sgd" or cfg.weight_decay:
        assert "the step its rule takes" in text and "W <- W - lr dL/dW" not in text
    else:
        assert f"UPDATE  SGD, lr {cfg.lr:g}: each weight W <- W - lr dL/dW" in text


def test_batchnorm_and_dropout_are_left_as_one_step_leaves_them() -> None:
    # the check's nudged forwards and the loss after run on a copy: running statistics
    # move once (the step's forward), and the dropout mask is the step's
    cfg = RunConfig(dataset="xor", hidden=3, batchnorm=True, dropout=0.3, seed=1)
    cfg, prep = prepare_run(cfg)
    x, y = prep.x[:6], prep.y[:6]
    traced = build_model(cfg, 2, 1)
    trace = trace_step(traced, build_loss(cfg), x, y, build_optimizer(cfg, traced.parameters()))
    _assert_as_after_one_fit_epoch(traced, cfg, x, y)
    assert trace.checked


def _assert_as_after_one_fit_epoch(traced, cfg: RunConfig, x, y) -> None:
    """``traced`` (after its traced step) holds what a fresh model of ``cfg`` holds after
    one full-batch epoch of fit on ``x``, ``y``: weights and buffers, bit for bit."""
    fitted = build_model(cfg, 2, 1)
    opt = build_optimizer(cfg, fitted.parameters())
    proplab.fit(fitted, build_loss(cfg), opt, x, y, 1, print_every=0)
    for (name, a), (_, b) in zip(
        traced.state_dict().items(), fitted.state_dict().items(), strict=True
    ):
        assert np.array_equal(a, b), name


def test_a_stack_and_bad_arguments_are_refused_in_words() -> None:
    stack = proplab.mlp(2, 2, 1, seeds=[0, 1])
    x, t = np.zeros((1, 2)), np.zeros((1, 1))
    with pytest.raises(
        ValueError, match=r"traces one model; parameter '0.weight' has replica axes \(2,\)"
    ):
        trace_step(stack, proplab.MSELoss(), x, t)
    model = proplab.mlp(2, 2, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"inputs x of shape \(n, in\).*got shape \(2,\)"):
        trace_step(model, proplab.MSELoss(), np.zeros(2), t)
    with pytest.raises(TypeError, match="needs a proplab Loss, got function"):
        trace_step(model, lambda p, t: 0.0, x, t)
    with pytest.raises(TypeError, match="optimizer must be a proplab Optimizer or None, got list"):
        trace_step(model, proplab.MSELoss(), x, t, [])
    with pytest.raises(ValueError, match="digits must be an integer from 1 to 17, got 0"):
        trace_step(model, proplab.MSELoss(), x, t).text(0)


def test_a_large_model_is_traced_but_not_checked() -> None:
    width = int(np.sqrt(MAX_CHECKED_WEIGHTS)) + 1
    model = proplab.mlp(2, [width, width], 1, rng=np.random.default_rng(0))
    trace = trace_step(model, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 1)))
    assert trace.check_error is None and not trace.checked
    assert f"not checked: {sum(p.data.size for p in model.parameters()):,} weights" in trace.text()


def test_the_cli_prints_the_step(capsys) -> None:
    assert cli.main(["trace", "--dataset", "xor", "--hidden", "2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("One training step of 2-2-2-1 (sigmoid, output sigmoid, mse loss) on "
                          "xor, seed 1, at its initial weights\n1 sample, one row each")  # fmt: skip
    assert "(passed, tolerance 1e-06; " in out
    # the numbers are trace_config's for the same options
    expected = trace_config(RunConfig(dataset="xor", hidden=2, seed=1)).text(4)
    assert out == expected + "\n"
    assert cli.main(["trace", "--dataset", "xor", "--hidden", "2", "--samples", "all",
                     "--after", "100", "--digits", "3", "--no-check"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "21 samples, one row each" in out and "after 100 epochs of training" in out
    assert "CHECK" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--samples", "0"],
            "samples: must be from 1 to 21 (the training rows of xor) or 'all', got 0",
        ),
        (["--samples", "22"], "samples: must be from 1 to 21"),
        (["--samples", "some"], "argument --samples"),
        (["--digits", "0"], "argument --digits: must be from 1 to 17, got 0"),
        (["--after", "-1"], "argument --after: must be >= 0 epochs, got -1"),
        (["--batchnorm", "--samples", "1"], "a batchnorm network needs at least 2 samples"),
        (
            ["--row", "21"],
            "argument --row: must be from 0 to 20 (the training rows of xor), got 21",
        ),
        (["--row", "-1"], "argument --row: must be from 0 to 20"),
        (["--row", "2", "--samples", "3"], "argument --row: a step on one row takes --samples 1"),
        (["--batch-size", "4"], "argument --batch-size: it sets the mini-batches of the --after"),
        (
            ["--momentum", "0.9", "--optimizer", "adam"],
            "momentum: optimizer 'adam' has no momentum",
        ),
    ],
)
def test_the_cli_refuses_bad_options_in_one_line(argv: list[str], message: str, capsys) -> None:
    assert cli.main(["trace", "--dataset", "xor", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_trace_matches_pytorch_autograd() -> None:
    torch = pytest.importorskip("torch")
    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(4), activation="tanh")
    rng = np.random.default_rng(5)
    x, t = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    weights = _weights(model)
    trace = trace_step(model, proplab.MSELoss(), x, t)
    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
              for W, b in weights]  # fmt: skip
    h = torch.tensor(x)
    kept = []
    for i, (W, b) in enumerate(params):
        z = h @ W + b
        z.retain_grad()
        h = torch.tanh(z) if i < 2 else torch.sigmoid(z)
        h.retain_grad()
        kept += [z, h]
    loss = torch.nn.functional.mse_loss(h, torch.tensor(t))
    loss.backward()
    assert trace.loss == pytest.approx(loss.item(), rel=1e-14)
    for step, tensor in zip(trace.modules, kept, strict=True):
        np.testing.assert_allclose(step.output, tensor.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(step.grad_output, tensor.grad.numpy(), rtol=1e-12, atol=1e-17)
    linears = [s for s in trace.modules if s.name.startswith("z")]
    for step, (W, b) in zip(linears, params, strict=True):
        np.testing.assert_allclose(step.grads["weight"], W.grad.numpy(), rtol=1e-12, atol=1e-17)
        np.testing.assert_allclose(step.grads["bias"], b.grad.numpy(), rtol=1e-12, atol=1e-17)


def test_a_reader_that_stops_reading_ends_the_cli_quietly() -> None:
    # `proplab trace | head -1`: the pipe closes while the step is printed; made certain
    # here by closing the reading end before the command starts
    import os
    import subprocess
    import sys
    from pathlib import Path

    read, write = os.pipe()
    os.close(read)
    src = Path(proplab.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, "-m", "proplab", "trace", "--dataset", "xor", "--hidden", "2"]
    try:
        done = subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, env=env, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == cli.EXIT_BROKEN_PIPE == 141
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr


def test_weights_whose_nudge_crosses_a_relu_kink_are_not_compared() -> None:
    # XOR's (0, 0) with zero biases puts every first-layer ReLU input exactly at 0: a
    # bias nudged by +-eps crosses the kink, where a central difference is no derivative
    # (compared, they failed a correct backward with relative error ~1)
    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(0), activation="relu")
    trace = trace_step(model, proplab.MSELoss(), np.zeros((1, 2)), np.ones((1, 1)))
    assert trace.checked and not trace.check_failed
    assert "; 6 not compared: their nudge moves a ReLU input across its kink" in trace.text()


def test_a_loss_too_curved_for_one_step_is_compared_by_extrapolation() -> None:
    # batchnorm over 2 samples after 500 epochs: a single step of 1e-6 is off a correct
    # backward by more than the tolerance (curvature); Ridders' extrapolation settles it
    cfg = RunConfig(dataset="xor", activation="tanh", hidden=[4, 3], seed=69, loss="bce",
                    batchnorm=True, optimizer="rmsprop", lr=0.01)  # fmt: skip
    trace = trace_config(cfg, samples=2, after=500)
    assert trace.checked and trace.check_error < 1e-6
    assert "compared with Ridders' extrapolation of the central differences" in trace.text()


def test_a_step_where_nothing_can_be_compared_is_no_failure(capsys) -> None:
    # one ReLU unit, its input at the kink: every weight's nudge crosses it, so nothing
    # is compared; that is no failure (the CLI exits 0)
    model = proplab.Sequential(proplab.Linear(1, 1, rng=np.random.default_rng(0)), proplab.ReLU())
    model.layers[0].weight.data[...] = 0.0  # z = 0 x + 0 sits on the kink for x = 1
    trace = trace_step(model, proplab.MSELoss(), np.ones((1, 1)), np.ones((1, 1)))
    assert np.isnan(trace.check_error) and not trace.checked and not trace.check_failed
    assert (
        "2 parameters (1 weight, 1 bias), none compared: every nudge moved a ReLU input across "
        "its kink" in trace.text()
    )


def test_the_step_is_a_training_step_whatever_mode_the_model_is_in() -> None:
    # an eval-mode model (after evaluate, or loaded) is traced as fit trains it: dropout
    # on, batchnorm on the batch's statistics; its modes are put back
    cfg = RunConfig(dataset="xor", hidden=3, batchnorm=True, dropout=0.5, seed=4)
    cfg, prep = prepare_run(cfg)
    x, y = prep.x[:5], prep.y[:5]
    evaluated = build_model(cfg, 2, 1).eval()
    trace = trace_step(
        evaluated, build_loss(cfg), x, y, build_optimizer(cfg, evaluated.parameters())
    )
    assert not any(m.training for m in evaluated.modules())
    _assert_as_after_one_fit_epoch(evaluated, cfg, x, y)
    assert trace.checked


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_step_that_raises_the_loss_says_why(optimizer: str) -> None:
    # a linear model, a step far too long: the loss on the same sample rises
    model = proplab.mlp(2, [], 1, rng=np.random.default_rng(0), output_activation="identity")
    x, t = np.array([[1.0, 2.0]]), np.array([[1.0]])
    params = model.parameters()
    opt = proplab.SGD(params, lr=1.0) if optimizer == "sgd" else proplab.Adam(params, lr=5.0)
    trace = trace_step(model, proplab.MSELoss(), x, t, opt)
    assert trace.loss_after > 10 * trace.loss
    text = trace.text()
    if optimizer == "sgd":
        assert "(the loss rose: the step along the gradient went past the lowest point" in text
    else:
        assert "(the loss rose: Adam's step is not -lr times this gradient" in text
    # a step that lowers the loss says nothing of the kind
    calm = proplab.mlp(2, [], 1, rng=np.random.default_rng(0), output_activation="identity")
    gentle = trace_step(calm, proplab.MSELoss(), x, t, proplab.SGD(calm.parameters(), lr=0.01))
    assert gentle.loss_after < gentle.loss and "the loss rose" not in gentle.text()


def test_a_row_picks_the_one_training_row_the_step_is_taken_on() -> None:
    cfg = RunConfig(dataset="xor", hidden=2, seed=1)
    _, prep = prepare_run(cfg)
    for row in (0, 2, 20):
        trace = trace_config(cfg, row=row, after=5)
        assert np.array_equal(trace.x, prep.x[row : row + 1])
        assert np.array_equal(trace.target, prep.y[row : row + 1])
        assert trace.title.endswith(f"after 5 epochs of training, training row {row}")
    # the same step as the first rows' when the row is the first
    assert trace_config(cfg, row=0).text() == trace_config(cfg).text().replace(
        "at its initial weights", "at its initial weights, training row 0", 1
    )


def test_training_that_diverges_before_the_step_is_refused_not_blamed_on_the_backward(
    capsys,
) -> None:
    # a NaN model's trace fails its check: exit 1 would say the backward is wrong
    argv = ["trace", "--activation", "identity", "--output-activation", "identity",
            "--lr", "5", "--after", "100"]  # fmt: skip
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (
        "proplab trace: error: argument --after: training diverged at epoch 5: the loss "
        "became nan; try a smaller learning rate\n"
    )


def test_ctrl_c_during_after_exits_130_without_a_traceback(capsys, monkeypatch) -> None:
    # cli20 H7: fit keeps the Ctrl-C as stop_reason "interrupted"; the title then
    # formatted the unset tol (a TypeError traceback)
    from conftest import fit_pressing_ctrl_c

    from proplab import run_parts

    monkeypatch.setattr(run_parts, "fit", fit_pressing_ctrl_c(at_epoch=7))
    assert cli.main(["trace", "--after", "1000", "--no-progress"]) == 130
    out, err = capsys.readouterr()
    assert (out, err) == ("", "proplab trace: interrupted\n")
    monkeypatch.undo()
    # a run that ends at its epochs with a tol set does not claim it stopped at the tol
    trace = trace_config(RunConfig(dataset="xor", tol=1e-9), after=3, check=False)
    assert trace.title.endswith("after 3 epochs of training")


def test_after_stops_where_proplab_train_stops_at_its_tol() -> None:
    # proplab train --tol 0.249 stops once the loss is below it: the traced model too
    cfg = RunConfig(dataset="xor", tol=0.249)
    trace = trace_config(cfg, after=2000, check=False)
    cfg, prep = prepare_run(cfg)
    model = build_model(cfg, 2, 1, samples=len(prep.x))
    history = proplab.fit(model, build_loss(cfg), build_optimizer(cfg, model.parameters()),
                          prep.x, prep.y, 2000, rng=shuffle_rng(cfg), print_every=0, tol=0.249)  # fmt: skip
    assert history.stop_reason == "converged" and history.epochs_run < 2000
    assert trace.title.endswith(
        f"after {history.epochs_run:,} epochs of training (stopped at the loss tol 0.249)"
    )
    first = [s for s in trace.modules if s.name == "z1"][0]
    assert np.array_equal(first.params["weight"], model.layers[0].weight.data)


class _Residual(proplab.Module):
    """x + sigmoid(x W + b): a container of the user's, with children."""

    def __init__(self, rng) -> None:
        super().__init__()
        self.inner = proplab.Sequential(proplab.Linear(2, 2, rng=rng), proplab.Sigmoid())

    def children(self):
        return [self.inner]

    def forward(self, x):
        return x + self.inner.forward(x)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out + self.inner.backward(grad_out)


def test_a_containers_weights_are_shown_updated_and_counted() -> None:
    rng = np.random.default_rng(0)
    model = proplab.Sequential(proplab.Linear(2, 2, rng=rng), _Residual(rng),
                               proplab.Linear(2, 1, rng=rng), proplab.Sigmoid())  # fmt: skip
    x, t = rng.normal(size=(2, 2)), np.array([[1.0], [0.0]])
    trace = trace_step(model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=0.5))
    block = trace.modules[1]
    assert set(block.params) == set(block.grads) == set(block.updated) == {"0.0.weight", "0.0.bias"}
    text = trace.text()
    assert "h2 = _Residual(z1)   (_Residual, see print(model))" in text  # not a multi-line repr
    for label in ("0.0.weight(h2) = ", "dL/d0.0.weight(h2) = ", "0.0.weight(h2) (new) = "):
        assert label in text
    shown = sum(v.size for s in trace.modules for v in s.updated.values())
    assert (
        shown == 15
        and "15 parameters (10 weights, 5 biases), each nudged" in text
        and trace.checked
    )


def test_cross_entropy_names_the_logits_and_shows_the_softmax() -> None:
    rng = np.random.default_rng(1)
    model = proplab.mlp(2, [3], 3, rng=rng, output_activation="identity")
    x = rng.normal(size=(2, 2))
    trace = trace_step(model, proplab.CrossEntropyLoss(), x, np.array([2, 0]))
    text = trace.text(5)
    assert "p = a2, the logits (one per class; the loss applies the softmax)" in text
    probs = proplab.losses.softmax(trace.pred)
    assert "\n".join(array_lines("    softmax(p)", probs, 5)) in text
    assert "-log softmax(p)[t]" in text and "(softmax(p) - onehot(t)) / n" in text
    # class probabilities as targets: the loss and its gradient take the other form
    soft = np.array([[0.2, 0.5, 0.3], [0.0, 1.0, 0.0]])
    model = proplab.mlp(2, [3], 3, rng=np.random.default_rng(1), output_activation="identity")
    text = trace_step(model, proplab.CrossEntropyLoss(), x, soft).text()
    assert "-sum_c t_c log softmax(p)_c" in text and "(softmax(p) sum_c t_c - t) / n" in text


def test_bce_after_a_sigmoid_says_the_p_1_minus_p_cancels() -> None:
    """persona22 M4: the trace showed dL/dp = (p - t) / (p (1 - p) N) times f'(z) = p (1 - p)
    without a word on why BCE suits a sigmoid output; the line it adds is what it computed."""
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(3, 2)), np.array([[0.0], [1.0], [1.0]])
    model = proplab.mlp(2, [3], 1, rng=rng)
    trace = trace_step(model, proplab.BCELoss(), x, t)
    text = trace.text()
    line = (
        "        (BCE after a sigmoid: the p (1 - p) dividing dL/dp cancels f'(z2) = p (1 - p), "
        "so dL/dz2 = (p - t) / N: no factor that vanishes when p is saturated and wrong)"
    )
    lines = text.splitlines()
    k = lines.index(line)  # right under the output sigmoid's dL/dz2 rows
    start = max(i for i in range(k) if lines[i].startswith("        dL/dz2 = [["))
    assert k - start == 3 and lines[start + 1].startswith(" " * 18 + "[")
    np.testing.assert_allclose(trace.arrays()["dL/dz2"], (trace.pred - t) / t.size, rtol=1e-12)
    # MSE keeps the factor: nothing cancels
    assert "cancels" not in trace_step(model, proplab.MSELoss(), x, t).text()


def test_a_conv_step_names_its_axes_and_parts_its_samples() -> None:
    trace = trace_config(RunConfig(dataset="xor", model="conv", filters=2, hidden=2), samples=2)
    text = trace.text()
    assert "a convolution's arrays are (samples x channels x positions)" in text
    z1 = text[text.index("        z1 2x2x3 = ") :].splitlines()[:5]
    assert z1[2] == ""  # between sample 0's two channels and sample 1's
    assert not [line for line in text.splitlines() if line != line.rstrip()]
    # Unsqueeze first: no backward line for it, only the reason there is none
    assert "Unsqueeze's backward" not in text and "(no dL/dx: x is the data" in text


def test_reshapes_are_named_after_what_they_reshape_and_features_are_phi() -> None:
    # they were h1 and h4 (positions): "z2 = h4 W2 + b2" said nothing of what h4 held
    conv = trace_config(RunConfig(dataset="xor", model="conv", filters=2, hidden=2), samples=2)
    names = [step.name for step in conv.modules]
    assert names == ["x_ch", "z1", "a1", "a1_flat", "z2", "a2", "z3", "a3"]
    text = conv.text()
    for line in ("x_ch = Unsqueeze(x)", "z1 = Conv1d(x_ch)", "a1_flat = Flatten(a1)"):
        assert f"    {line}   (" in text
    assert "    z2 = a1_flat W2 + b2   (Linear, 6 -> 2)" in text
    arrays = conv.arrays()
    np.testing.assert_array_equal(arrays["x_ch"], arrays["x"][:, None, :])
    np.testing.assert_array_equal(arrays["a1_flat"], arrays["a1"].reshape(2, -1))
    circle = RunConfig(dataset="circle", n=20, features=["x1_sq", "x2_sq", "x1"], hidden=3)
    trace = trace_config(circle, samples=3)
    assert [step.name for step in trace.modules][:2] == ["phi", "z1"]
    x = trace.arrays()["x"]
    np.testing.assert_array_equal(trace.arrays()["phi"], np.c_[x**2, x[:, 0]])
    assert "    z1 = phi W1 + b1   (Linear, 3 -> 3)" in trace.text()


def test_dropout_shows_its_mask_and_batchnorm_its_statistics() -> None:
    cfg = RunConfig(dataset="xor", hidden=2, batchnorm=True, dropout=0.5, seed=2)
    trace = trace_config(cfg, samples=4)
    text = trace.text()
    drop = next(s for s in trace.modules if isinstance(s.module, proplab.Dropout))
    mask = (drop.output != 0) | (drop.input == 0)
    assert np.array_equal(drop.local != 0, mask)
    assert "\n".join(array_lines("        mask", (drop.local != 0).astype(float), 4)) in text
    assert "after (with the same dropout mask)" in text
    bn = next(s for s in trace.modules if isinstance(s.module, proplab.BatchNorm1d))
    assert bn.name == "bn1" and "gamma1 = [1  1]" in text and "beta1 = [0  0]" in text
    assert "bn1 = gamma1 * (z1 - mean) / sqrt(var + 1e-05) + beta1" in text
    assert "\n".join(array_lines("        var", bn.input.var(axis=0), 4)) in text
    assert "dL/dgamma1 = " in text and "gamma1 (new) = " in text


@pytest.mark.parametrize(
    ("optimizer", "reason"),
    [
        ({"momentum": 0.9}, "went past the lowest point"),  # momentum's first step is SGD's
        ({"weight_decay": 5.0}, "pulled the weights toward 0 (weight decay or L1)"),
    ],
)
def test_the_uphill_reason_fits_the_optimizer(optimizer: dict, reason: str) -> None:
    model = proplab.mlp(2, [], 1, rng=np.random.default_rng(0), output_activation="identity")
    x, t = np.array([[1.0, 2.0]]), np.array([[1.0]])
    lr = 1.0 if "momentum" in optimizer else 0.3
    trace = trace_step(model, proplab.MSELoss(), x, t,
                       proplab.SGD(model.parameters(), lr=lr, **optimizer))  # fmt: skip
    assert (
        trace.loss_after > trace.loss
        and f"(the loss rose: {'the step' if 'momentum' in optimizer else 'the step also'}"
        in trace.text()
    )
    assert reason in trace.text()


def test_no_number_ends_in_a_bare_point() -> None:
    assert number(1687.3, 4) == "1687" and number(-1.04, 1) == "-1" and number(1.5e20, 1) == "2e+20"


def test_a_run_whose_reader_stops_reading_still_finishes_and_saves(tmp_path) -> None:
    # `proplab train | head -1`: the run goes on without its printout and saves its
    # folder (it was lost, only config.json left), then exits 141
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    read, write = os.pipe()
    os.close(read)
    src = Path(proplab.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, "-m", "proplab", "train", "--dataset", "xor", "--epochs", "50",
            "--print-every", "1", "--no-progress", "--out", str(tmp_path / "run")]  # fmt: skip
    try:
        done = subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, env=env, timeout=300)
    finally:
        os.close(write)
    assert done.returncode == 141, done.stderr
    assert b"Traceback" not in done.stderr and b"run saved to" in done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["epochs_run"] == 50 and summary["stop_reason"] == "completed"


def test_a_trace_and_its_steps_print_as_one_line_in_a_repl() -> None:
    # the dataclass repr dumped every array (2 254 characters for a 2-2-1 step)
    model = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0))
    trace = trace_step(model, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 1)),
                       proplab.SGD(model.parameters(), lr=1.0))  # fmt: skip
    assert repr(trace) == (
        f"StepTrace(z1, a1, z2, a2; 1 sample, loss {trace.loss:.4g} -> {trace.loss_after:.4g}, "
        "check passed; print() it for every number)"
    )
    assert [repr(s) for s in trace.modules] == [
        "ModuleStep(z1 = Linear(x), 1x2)", "ModuleStep(a1 = Sigmoid(z1), 1x2)",
        "ModuleStep(z2 = Linear(a1), 1x1)", "ModuleStep(a2 = Sigmoid(z2), 1x1)",
    ]  # fmt: skip
    unchecked = trace_step(model, proplab.MSELoss(), np.ones((3, 2)), np.ones((3, 1)), check=False)
    assert repr(unchecked).endswith(
        "3 samples, loss " + f"{unchecked.loss:.4g}, not checked; print() it for every number)"
    )


# --- your own backprop against proplab's (trace.compare) ----------------------------------


def _lab_model():
    """The 2-3-1 sigmoid network of :func:`_lab_step`, freshly made (seed 7)."""
    return proplab.mlp(2, [3], 1, rng=np.random.default_rng(7))


def _lab_data() -> tuple[np.ndarray, np.ndarray]:
    """The two samples of :func:`_lab_step`."""
    return np.array([[0.2, 0.9], [0.7, 0.1]]), np.array([[1.0], [0.0]])


def _lab_step():
    """A 2-3-1 sigmoid step on two samples, and the same step written out in NumPy."""
    model = _lab_model()
    x, t = _lab_data()
    (W1, b1), (W2, b2) = _weights(model)[:2]
    trace = trace_step(model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=0.5))
    z1 = x @ W1 + b1
    a1 = _sigmoid(z1)
    p = _sigmoid(a1 @ W2 + b2)
    dp = 2 * (p - t) / p.size
    dz2 = dp * p * (1 - p)
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    mine = {"z1": z1, "a1": a1, "p": p, "L": np.mean((p - t) ** 2), "dL/dp": dp,
            "dL/dz2": dz2, "dL/dW2": a1.T @ dz2, "dL/db2": dz2.sum(0, keepdims=True),
            "dL/dz1": dz1, "dL/dW1": x.T @ dz1, "W1 new": W1 - 0.5 * x.T @ dz1}  # fmt: skip
    return trace, mine


def test_a_correct_hand_written_step_matches_array_by_array() -> None:
    trace, mine = _lab_step()
    result = trace.compare(dict(reversed(mine.items())))  # any order in, calculation order out
    assert result.ok and result.first_wrong is None
    assert [r.name for r in result.rows] == list(mine)
    assert all(r.error < 1e-14 for r in result.rows)
    assert result.text().endswith("all 11 arrays match proplab's (relative error <= 1e-07)")
    # the names are the text's: each labels a line of print(trace)
    text = trace.text()
    for name in ("z1", "a1", "dL/dz2", "dL/dW2", "dL/db2", "dL/dW1", "dL/da1"):
        assert f"{name} = " in text


@pytest.mark.parametrize(
    ("slip", "first", "note"),
    [
        # the lab's classic: the sigmoid's derivative from its input z, not its output a
        (
            lambda m: {
                **m,
                "dL/dz1": m["dL/dz1"] / (m["a1"] * (1 - m["a1"])) * m["z1"] * (1 - m["z1"]),
            },
            "dL/dz1",
            "f'(z1) computed from z1, not from a1?",
        ),
        (lambda m: {**m, "dL/dW1": m["dL/dW1"].T}, "dL/dW1", "transposed (a missing .T?)"),
        (
            lambda m: {**m, "dL/dp": m["dL/dp"] * 2 / 2 * 2},
            "dL/dp",
            "times 2: a 2 too many (the square's 2 twice?), or N with N = 2 samples",
        ),
        (lambda m: {**m, "dL/dz2": -m["dL/dz2"]}, "dL/dz2", "every sign flipped"),
    ],
    ids=["derivative at z", "transposed", "factor 2", "sign"],
)
def test_a_slip_is_found_where_it_starts_and_named(slip, first: str, note: str) -> None:
    trace, mine = _lab_step()
    result = trace.compare(slip(mine))
    assert result.first_wrong.name == first and note in result.first_wrong.note
    names = [r.name for r in result.rows]
    assert all(r.ok for r in result.rows[: names.index(first)])
    assert f"first wrong: {first} (" in result.text()


def test_a_missing_or_doubled_activation_derivative_is_named_on_the_first_wrong_array() -> None:
    """persona22 M3: the lab's #1 slip, dL/dz of the output taken as dL/dp (no sigmoid
    derivative), got no note on dL/dz, and "times 4.49995: the mean's 1/N? the
    square's 2?" on the 1-entry dL/db below it."""
    trace, mine = _lab_step()
    p, dp = mine["p"], mine["dL/dp"]
    left_out = {**mine, "dL/dz2": dp, "dL/db2": dp.sum(0, keepdims=True)}
    result = trace.compare(left_out)
    assert result.first_wrong.name == "dL/dz2"
    assert result.first_wrong.note == (
        "it is dL/da2 without the factor f'(z2): the activation's derivative left out? "
        "(dL/dz2 = dL/da2 * f'(z2))"
    )
    # one entry is a constant times any other: no constant factor is read into it
    (db2,) = [r for r in result.rows if r.name == "dL/db2"]
    assert not db2.ok and db2.note == ""
    twice = trace.compare({**mine, "dL/dz2": dp * (p * (1 - p)) ** 2})
    assert twice.first_wrong.note == (
        "it is proplab's times f'(z2) once more: the activation's derivative applied twice?"
    )
    # a hidden layer's too, and only on the first wrong array (the later ones inherit it)
    da1 = mine["dL/dz2"] @ _weights(_lab_model())[1][0].T
    x = _lab_data()[0]
    hidden = trace.compare({**mine, "dL/dz1": da1, "dL/dW1": x.T @ da1})
    assert hidden.first_wrong.name == "dL/dz1"
    assert "f'(z1): the activation's derivative left out?" in hidden.first_wrong.note
    assert [r.note for r in hidden.rows if r.name == "dL/dW1"] == [""]


def test_a_dl_da_from_the_weights_after_the_update_is_named() -> None:
    """persona22 L6: the seed report's own bug (W2 stepped before dL/da1 = dL/dz2 W2^T)
    read "look at how your code computes it from them", and W2 is not among them."""
    trace, mine = _lab_step()
    W2 = _weights(_lab_model())[1][0]
    dW2, dz2 = mine["dL/dW2"], mine["dL/dz2"]
    note = (
        "it is dL/dz2 W2^T with W2 after the update: the backward must use W2 as the "
        "forward had it, before the step changes it"
    )
    stepped = {**mine, "dL/da1": dz2 @ (W2 - 0.5 * dW2).T}
    stepped.pop("dL/dz1"), stepped.pop("dL/dW1"), stepped.pop("W1 new")
    result = trace.compare(stepped)
    assert result.first_wrong.name == "dL/da1" and result.first_wrong.note == note
    # without an optimizer in the trace, the plain step of whatever rate fits is found
    bare = trace_step(_lab_model(), proplab.MSELoss(), *_lab_data())
    assert bare.compare({**stepped, "dL/da1": dz2 @ (W2 - 3.0 * dW2).T}).first_wrong.note == note
    # another wrong dL/da1 is not blamed on the update
    other = trace.compare({**stepped, "dL/da1": dz2 @ W2.T + 0.01})
    assert other.first_wrong.name == "dL/da1" and "update" not in other.first_wrong.note
    assert trace.compare({**stepped, "dL/da1": dz2 @ W2.T}).ok


def test_compare_refuses_what_it_cannot_compare_in_words() -> None:
    trace, mine = _lab_step()
    with pytest.raises(
        ValueError, match=r"the trace has no array 'dL/dw1' .*; did you mean 'dL/dW1'\?"
    ):
        trace.compare({"dL/dw1": mine["dL/dW1"]})
    with pytest.raises(ValueError, match="takes your arrays by name.*got an empty mapping"):
        trace.compare({})
    with pytest.raises(TypeError, match="your 'z1' must be numbers, got an array of dtype <U"):
        trace.compare({"z1": ["a", "b"]})
    with pytest.raises(ValueError, match="tolerance must be a finite number > 0 or None, got 0"):
        trace.compare(mine, tolerance=0)
    # another shape is wrong (said), the same values with axes of length 1 are not
    result = trace.compare({"z1": mine["z1"][:1], "dL/db2": mine["dL/db2"].reshape(1, 1)})
    assert [(r.name, r.ok) for r in result.rows] == [("z1", False), ("dL/db2", True)]
    assert result.rows[0].note == "shape (1, 3), proplab's is (2, 3)"
    assert "shape" in result.text().splitlines()[0]


def test_the_check_reports_its_progress_weight_by_weight() -> None:
    model = proplab.mlp(2, [3], 1, rng=np.random.default_rng(0))
    calls: list[tuple[int, int]] = []
    trace = trace_step(model, proplab.MSELoss(), np.ones((2, 2)), np.ones((2, 1)),
                       progress=lambda done, total: calls.append((done, total)))  # fmt: skip
    assert trace.checked
    assert calls == [(k, 13) for k in range(1, 14)]  # 9 + 4 weights, one call each


def test_proplab_trace_draws_progress_bars_on_a_terminal(monkeypatch) -> None:
    # the --after epochs and the check (digits' 8 970 weights take ~25 s) show a bar
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    trace_config(RunConfig(dataset="xor", hidden=2), after=300, progress=True)
    drawn = err.getvalue()
    assert "xor epoch 300/300" in drawn and "gradient check weight 15/15" in drawn
    assert " w/s ETA " in drawn  # weights per second, not epochs
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    trace_config(RunConfig(dataset="xor", hidden=2), after=300)  # progress=False: nothing
    assert quiet.getvalue() == ""


def test_tiny_gradients_are_checked_against_the_losss_real_noise() -> None:
    # a trained XOR model on a point it has learnt: loss 5e-13, gradients ~1e-12. The
    # round-off floor counted the prediction's size (1, so 9e-10): any value passed. Its
    # noise is what L depends on, |dL/dh * h|: ~1e-15, so a 1 % wrong backward now fails
    x, y = proplab.generate_xor_easy()
    model = proplab.mlp(2, 10, 1, rng=np.random.default_rng(0))
    proplab.fit(model, proplab.MSELoss(), proplab.SGD(model.parameters(), lr=1.0), x, y,
                20000, print_every=0)  # fmt: skip
    learnt = trace_step(model, proplab.MSELoss(), x[3:4], y[3:4])
    assert learnt.loss < 1e-11 and learnt.checked and learnt.check_error < 1e-6

    class OffSigmoid(proplab.Sigmoid):  # 1 % off
        def backward(self, grad_out, need_input_grad=True, out=None):
            return 1.01 * super().backward(grad_out, need_input_grad)

    for m in model.layers[:-1]:
        if type(m) is proplab.Sigmoid:
            m.__class__ = OffSigmoid
    wrong = trace_step(model, proplab.MSELoss(), x[3:4], y[3:4])
    assert wrong.check_failed


def test_gradients_below_the_losss_own_noise_are_not_compared() -> None:
    # BCE at p = 1 - 2.4e-13 for t = 1: L = -log p moves by 1e-16 when p is rounded, a
    # nudge of 1e-6 moves it by ~1e-18: no central difference can see these gradients
    cfg = RunConfig(dataset="linear", activation="leaky_relu", hidden=3, seed=44, loss="bce")
    trace = trace_config(cfg, samples=1, after=500)
    assert trace.loss < 1e-12 and np.isnan(trace.check_error) and not trace.check_failed
    assert (
        "25 parameters (18 weights, 7 biases), none compared: their gradients are below "
        "the round-off" in trace.text()
    )


def test_an_optimizer_over_another_models_parameters_is_refused_as_fit_refuses_it() -> None:
    """audit15b M2: it ran, moved nothing of the traced model (while the text said 'each
    weight W <- W - lr dL/dW'), and stepped the other model with whatever grads it held."""
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    t = np.array([[1.0], [1.0]])
    model = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0))
    other = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0))
    for p in other.parameters():
        p.grad = np.ones_like(p.data)  # left over from earlier work
    before = [p.data.copy() for p in other.parameters()]
    opt = proplab.SGD(other.parameters(), lr=1.0)
    with pytest.raises(ValueError) as err:
        trace_step(model, proplab.MSELoss(), x, t, opt)
    assert str(err.value) == (
        "the optimizer updates 4 of its 4 parameters that are not the model's: build it from "
        "model.parameters() of the model passed to trace_step (a model built again after the "
        "optimizer is a new model, with new parameters)"
    )
    for p, b in zip(other.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)  # the other model did not move


def test_frozen_layers_are_named_frozen_in_the_update_not_shown_as_new() -> None:
    """An optimizer over the last layer only (frozen first layer, which fit allows): the
    UPDATE section showed 'W1 (new)' with W1's old values under 'each weight W <- ...'."""
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    t = np.array([[1.0], [0.0]])
    model = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0))
    first, last = [m for m in model if isinstance(m, proplab.Linear)]
    w1, w2 = first.weight.data.copy(), last.weight.data.copy()
    trace = trace_step(model, proplab.MSELoss(), x, t, proplab.SGD(last.parameters(), lr=1.0))
    np.testing.assert_array_equal(first.weight.data, w1)  # frozen: not moved
    dw2 = trace.modules[2].grads["weight"]
    np.testing.assert_allclose(last.weight.data, w2 - dw2, rtol=0, atol=1e-15)
    assert trace.modules[0].frozen == ("weight", "bias") and trace.modules[2].frozen == ()
    update = trace.text().split("UPDATE")[1].split("CHECK")[0]
    assert "SGD, lr 1: each weight it holds W <- W - lr dL/dW" in update
    assert "    W1: frozen (not in the optimizer), unchanged" in update
    assert "    b1: frozen (not in the optimizer), unchanged" in update
    assert "W1 (new)" not in update and "b1 (new)" not in update
    assert "W2 (new) = [[" in update and "b2 (new) = [" in update
    # the whole model's optimizer keeps the plain header and every '(new)' line
    model2 = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0))
    text = trace_step(model2, proplab.MSELoss(), x, t, proplab.SGD(model2.parameters(), lr=1.0))
    assert "each weight W <- W - lr dL/dW" in str(text) and "frozen" not in str(text)


def test_the_check_prints_the_plain_relative_error_as_gradcheck_does() -> None:
    # found by audit15c: after 3 epochs the lab model's W1 gradient (|g| <= 3.8e-4) has a
    # plain relative error of 1.1e-7 (the audit's own central differences), printed as
    # 3.5e-8: the error measured against the round-off floor, which moves with the
    # tolerance, where gradcheck's table prints the plain one
    trace = trace_config(RunConfig(dataset="xor"), samples=None, after=3)
    note = trace.check_note
    shown = float(re.search(r"the largest relative error is (\S+) \(passed,", note).group(1))
    assert shown == pytest.approx(_plain_relative_error_after(3), rel=0.1), note
    assert trace.check_error < shown  # the verdict's error is the floored one


def _plain_relative_error_after(epochs: int, eps: float = 1e-6) -> float:
    """The lab model on XOR after ``epochs`` epochs: the largest over its arrays of max
    |backward - central difference| / the array's largest gradient, computed here, entry by
    entry (not a fixed number: its last digits move with the CPU's BLAS kernels)."""
    cfg, prep = prepare_run(RunConfig(dataset="xor"))
    model = build_model(cfg, prep.x.shape[1], prep.n_out)
    loss_fn = build_loss(cfg)
    proplab.fit(model, loss_fn, build_optimizer(cfg, model.parameters()), prep.x, prep.y, epochs)
    for p in model.parameters():
        p.zero_grad()
    loss_fn.forward(model.forward(prep.x), prep.y)
    model.backward(loss_fn.backward())
    worst = 0.0
    for p in model.parameters():
        analytic, numeric = p.grad.copy(), np.zeros_like(p.data)
        for i in np.ndindex(p.data.shape):
            old = p.data[i]
            losses = []
            for step in (eps, -eps):
                p.data[i] = old + step
                losses.append(float(loss_fn.forward(model.forward(prep.x), prep.y)))
            p.data[i] = old
            numeric[i] = (losses[0] - losses[1]) / (2 * eps)
        scale = max(np.abs(analytic).max(), np.abs(numeric).max())
        worst = max(worst, float(np.abs(analytic - numeric).max() / scale))
    return worst


def test_a_trace_of_more_samples_than_a_page_can_hold_is_refused(tmp_path, capsys) -> None:
    # scale19 L8: --samples all on 30 000 rows printed 540 068 lines (49 MB)
    from proplab.trace_run import MAX_TRACED_SAMPLES

    rows = MAX_TRACED_SAMPLES + 1
    path = tmp_path / "big.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(rows)))
    for samples in ("all", str(rows)):
        assert cli.main(["trace", "--dataset", str(path), "--samples", samples]) == 2
        shown = "all" if samples == "all" else rows
        assert capsys.readouterr().err == (
            f"proplab trace: error: argument --samples: a trace prints every number of every "
            f"sample, so at most 1,000 (a hand calculation follows 1 to 4), got {shown} "
            f"({rows:,} training rows); proplab gradcheck checks the gradients on many rows\n"
        )
    assert cli.main(["trace", "--dataset", str(path), "--samples", "3", "--no-check"]) == 0
    assert "3 samples" in capsys.readouterr().out


def test_trace_step_refuses_data_with_no_samples_as_fit_does():
    """It divided by the zero rows: ZeroDivisionError: float division by zero (api21 M3)."""
    model = proplab.mlp(2, 2, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^trace_step: x has no samples \(shape \(0, 2\)\)$"):
        trace_step(model, proplab.MSELoss(), np.zeros((0, 2)), np.zeros((0, 1)))


def test_the_readmes_trace_excerpt_is_what_the_command_prints(capsys) -> None:
    """docs25: the README's excerpt had gone stale unchecked (it also stepped on row 0,
    whose first-layer weight gradients are all 0); every line it shows is printed, in
    its order ('...' stands for lines left out)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n\$ (proplab trace [^\n]*)\n(.*?)```", readme, re.S)
    command, shown = block.group(1), block.group(2)
    assert "--row 3" in command
    assert cli.main([*command.split()[1:], "--no-progress"]) == 0
    printed = capsys.readouterr().out.splitlines()
    at = 0
    for line in shown.splitlines():
        if line == "...":
            continue
        # the next printed line equal to it, after the previous match
        at = printed.index(line, at) + 1
    assert at > 0


def test_a_big_networks_check_gives_python_numbers_the_playground_can_send() -> None:
    """sec25 M4: on a 2-32-32-32-1 network the check's error came out a numpy.float64, so
    ``checked`` was a numpy.bool and the playground's "One step by hand" answered 500
    (json refuses NumPy booleans)."""
    import json

    model = proplab.mlp(2, [32, 32, 32], 1, rng=np.random.default_rng(0))
    x, y = proplab.generate_xor_easy()
    opt = proplab.SGD(model.parameters(), lr=1.0)
    trace = trace_step(model, proplab.MSELoss(), x[3:4], y[3:4].astype(float), opt)
    assert type(trace.check_error) is float and trace.check_error < 1e-6
    assert trace.checked is True and trace.check_failed is False
    json.dumps({"checked": trace.checked, "error": trace.check_error}, allow_nan=False)
