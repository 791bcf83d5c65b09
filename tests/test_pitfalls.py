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


def test_each_block_prints_what_the_doc_shows_after_it(doc):
    _, printed = doc
    assert len(BLOCKS) == 7 and DOC.count("```text\n") == 6
    for i, ((_, shown), actual) in enumerate(zip(BLOCKS, printed, strict=True)):
        assert docblocks.normalized(actual) == docblocks.normalized(shown), f"block {i + 1}"


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
