"""docs/pitfalls.md works as written: each classic mistake fails gradcheck on the array
the doc names, by the amount it explains, and the zero start passes it yet learns nothing."""

from __future__ import annotations

import re
from pathlib import Path

import docblocks
import numpy as np
import pytest

import proplab

DOC = (Path(__file__).resolve().parents[1] / "docs" / "pitfalls.md").read_text(encoding="utf-8")
BLOCKS = docblocks.blocks(DOC)


@pytest.fixture(scope="module")
def doc() -> tuple[dict, list[str]]:
    return docblocks.run(BLOCKS, "docs/pitfalls.md")


# the MSE-or-BCE block's epochs: where 20 000 epochs of rounding land, a processor may move
# a seed's first epoch at 100 % (the README's defaults table says so); compared apart
_EPOCHS = re.compile(r"(?<=Loss: )\[[\d ]+\]")


def _first_epochs(text: str) -> dict[str, np.ndarray]:
    return {
        name: np.array(epochs.split(), dtype=int)
        for name, epochs in re.findall(r"^(\w+Loss): \[([\d ]+)\]$", text, flags=re.M)
    }


def test_each_block_prints_what_the_doc_shows_after_it(doc):
    _, printed = doc
    assert len(BLOCKS) == 11 and DOC.count("```text\n") == 10
    for i, ((_, shown), actual) in enumerate(zip(BLOCKS, printed, strict=True)):
        shown, actual = (_EPOCHS.sub("[...]", docblocks.normalized(t)) for t in (shown, actual))
        assert actual == shown, f"block {i + 1}"


def test_bce_after_a_sigmoid_learns_xor_sooner_in_every_seed(doc):
    """persona22 M4: the doc's measured epochs, within 25 % (another CPU's rounding), and
    BCE first in every seed; the gradient at the saturated wrong output ~200x MSE's."""
    _, printed = doc
    (block,) = [k for k, (code, _) in enumerate(BLOCKS) if "seeds=range(5)" in code]
    shown, measured = _first_epochs(BLOCKS[block][1]), _first_epochs(printed[block])
    assert set(shown) == set(measured) == {"MSELoss", "BCELoss"}
    for name in shown:
        np.testing.assert_allclose(measured[name], shown[name], rtol=0.25)
    assert np.all(measured["BCELoss"] < measured["MSELoss"])
    ratios = shown["MSELoss"] / shown["BCELoss"]
    assert re.search(
        rf"BCE gets there {ratios.min():.1f}-{ratios.max():.1f} times sooner in every seed", DOC
    )
    (mse, bce) = [
        np.array(line.split("=")[1].split(), dtype=float)
        for line in printed[block - 1].splitlines()
    ]
    assert 150 < bce[2] / mse[2] < 250 and "about 200 times the gradient with BCE" in DOC


def test_each_mistake_is_wrong_by_what_the_doc_says(doc):
    ns, _ = doc
    x = ns["x"]
    # the sigmoid's derivative at z: the right one at these inputs is s (1 - s)
    wrong = ns["SigmoidOnZ"]()
    wrong.forward(x)
    s = 1 / (1 + np.exp(-x))
    assert not np.allclose(wrong.backward(np.ones_like(x)), s * (1 - s))
    assert proplab.gradcheck(proplab.Sigmoid(), x).ok  # the module it changes is right
    # the missing output derivative s (1 - s) <= 1/4: errors of about 0.75
    result = proplab.gradcheck(ns["NoOutputDerivative"](), x)
    assert result.errors["input"] > 0.5
    # the scalar bias: only the bias fails
    result = proplab.gradcheck(ns["ScalarBias"](3, 2, rng=np.random.default_rng(0)), x)
    assert [name for name, e in result.errors.items() if e > 1e-6] == ["bias"]
    # without 2 / N (N = 4): twice the gradient, relative error 1/2, and training still
    # learns: the same model trains as with lr N / 2
    assert proplab.gradcheck(ns["MSEWithoutScale"](), ns["pred"], ns["target"]).errors[
        "pred"
    ] == pytest.approx(0.5, abs=1e-8)
    xs, ys = proplab.generate_xor_easy()
    histories = []
    for loss, lr in ((ns["MSEWithoutScale"](), 1.0), (proplab.MSELoss(), 21 / 2)):
        m = proplab.mlp(2, 4, 1, rng=np.random.default_rng(0))
        histories.append(proplab.fit(m, loss, proplab.SGD(m.parameters(), lr=lr), xs, ys, 50))
    np.testing.assert_allclose(histories[0].loss, histories[1].loss, rtol=1e-9)
    assert "lr 1 becomes lr N / 2" in DOC


def test_the_zero_start_passes_gradcheck_and_learns_nothing_unlike_a_random_start(doc):
    ns, _ = doc
    w = ns["model"].layers[0].weight.data
    assert np.all(w == w[:, :1])  # every hidden unit the same
    assert ns["history"].final_accuracy == pytest.approx(0.52)
    x, y = ns["x_lin"], ns["y_lin"]
    model = proplab.mlp(2, 4, 1, rng=np.random.default_rng(0))  # its own random start
    h = proplab.fit(model, proplab.MSELoss(), proplab.SGD(model.parameters(), lr=1.0), x, y, 5000)
    assert h.final_accuracy == 1.0
    assert re.search(r"reaches 100 % on it in the same\s+5000 epochs", DOC)


def test_one_object_in_two_places_would_compute_wrong_gradients(doc):
    # what the refusal prevents: the same layers with the second place's object slipped
    # in after the check (the widths agree, so nothing fails but the gradients)
    ns, _ = doc
    first, sigmoid, second, _ = ns["layers"]
    model = proplab.Sequential(first, sigmoid, second, proplab.Sigmoid())
    assert proplab.gradcheck(model, ns["x"]).ok
    model.layers[3] = sigmoid
    result = proplab.gradcheck(model, ns["x"])
    assert not result.ok and result.errors["0.weight"] > 1e-2


def test_the_zero_start_model_has_two_hidden_layers_of_identical_units_as_the_doc_says(doc):
    """audit15b L6: mlp(2, 4, 1) is 2-4-4-1 (an int H is two hidden layers), and the doc
    spoke of 'the four hidden units' while the print shows the first layer only."""
    ns, _ = doc
    first, second = [m for m in ns["model"].layers if isinstance(m, proplab.Linear)][:2]
    assert first.weight.shape == (2, 4) and second.weight.shape == (4, 4)
    w2 = second.weight.data
    assert np.all(w2 == w2[:, :1])  # the second layer's four units are identical too
    prose = " ".join(DOC.split())
    assert "2-4-4-1: an int is (H, H)" in DOC
    assert (
        "the four units of the first hidden layer still have the same weights (printed "
        "above; the second hidden layer's four units likewise)" in prose
    )


def test_the_missing_output_derivative_makes_every_gradient_4_times_or_more_too_large(doc):
    """persona22 L3: the doc said "wrong by the missing factor s (1 - s), at most 1/4", which
    reads as too small; the gradients are 1 / (s (1 - s)) >= 4 times the right ones."""
    ns, _ = doc
    x = ns["x"]
    grads = []
    for output in (ns["NoOutputDerivative"](), proplab.Sigmoid()):
        rng = np.random.default_rng(0)
        model = proplab.Sequential(
            proplab.Linear(3, 4, rng=rng), proplab.Sigmoid(), proplab.Linear(4, 1, rng=rng), output
        )
        s = model(x)
        model.backward(np.ones_like(s))
        grads.append(model.layers[2].bias.grad.copy())
        per_sample = 1 / (s * (1 - s))
    assert np.all(per_sample >= 4) and grads[0] / grads[1] >= 4
    assert "4 times or more, too large" in " ".join(DOC.split())


def test_at_the_zero_start_every_gradient_but_the_output_layers_is_exactly_0(doc):
    """persona22 L2: "nearly 0" was exactly 0: every one passes back through W3 = 0."""
    ns, _ = doc
    model = proplab.mlp(2, 4, 1, rng=np.random.default_rng(0))
    for p in model.parameters():
        p.data = np.zeros_like(p.data)
    loss = proplab.MSELoss()
    loss.forward(model(ns["x_lin"]), ns["y_lin"])
    model.backward(loss.backward())
    sizes = [float(np.abs(p.grad).max()) for p in model.parameters()]
    assert sizes[:4] == [0.0] * 4 and min(sizes[4:]) > 0  # W1, b1, W2, b2; W3, b3
    assert "is exactly 0: each passes back through the output weights W3 = 0" in " ".join(
        DOC.split()
    )


def test_the_update_inside_backward_is_what_compare_finds(doc):
    """persona22 L7: the doc's student step is right but for the early update: with W2
    updated after dL/da1 every array matches."""
    ns, _ = doc
    a1, dz2, W2_old = ns["a1"], ns["dz2"], ns["W2"] + 1.0 * ns["dW2"]
    da1 = dz2 @ W2_old.T
    dW1 = ns["x_xor"].T @ (da1 * a1 * (1 - a1))
    p = ns["sigmoid"](a1 @ W2_old + ns["b2"])  # (the zero start's loop reuses the name p)
    arrays = {"p": p, "dL/dz2": dz2, "dL/dW2": ns["dW2"], "dL/da1": da1, "dL/dW1": dW1}
    assert ns["step"].compare(arrays).ok
    assert not ns["step"].compare({**arrays, "dL/da1": ns["da1"]}).ok


def test_a_relu_output_dies_in_every_seed_within_three_epochs(doc):
    """persona22 L7: 'seeds 0-9: by the third' epoch every output is exactly 0, and then no
    gradient reaches any weight, so it stays there."""
    ns, _ = doc
    x, t = ns["x_xor"], ns["t_xor"]
    stack = proplab.mlp(2, 10, 1, output_activation="relu", seeds=range(10))
    h = proplab.fit(stack, proplab.MSELoss(), proplab.SGD(stack.parameters(), lr=1.0), x, t, 3)
    assert np.all(stack(x) == 0.0)
    np.testing.assert_allclose(h.loss[-1], 10 / 21)  # the third epoch's loss: already dead
    assert not np.all(np.asarray(h.loss[0]) == 10 / 21)  # not all dead at the start
    model = ns["relu_out"]
    assert all(not np.any(p.grad) for p in model.parameters())
    assert "(seeds 0-9: by the third)" in " ".join(DOC.split())
