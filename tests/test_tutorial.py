"""docs/own_layer.md works as written: its Python blocks run in order in one namespace,
print what the doc shows after them, and the claims its prose makes hold."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import docblocks
import numpy as np
import pytest

import proplab
from proplab import cli, serialize
from proplab.registry import ACTIVATIONS
from proplab.serialize import ModelFileError

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "own_layer.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")

BLOCKS = docblocks.blocks(DOC)
_normalized = docblocks.normalized


@contextlib.contextmanager
def _registry_restored() -> Iterator[None]:
    """Module types registered inside are forgotten afterwards (the registry is global)."""
    saved = dict(serialize.MODULE_TYPES)
    try:
        yield
    finally:
        serialize.MODULE_TYPES.clear()
        serialize.MODULE_TYPES.update(saved)


@pytest.fixture(scope="module")
def doc(tmp_path_factory) -> tuple[Path, dict, list[str]]:
    """Run every block once: (the folder it ran in, its namespace, each block's stdout)."""
    folder = tmp_path_factory.mktemp("own_layer")
    # the doc registers SiLU and Scale: forgotten once it has run, as in a new process
    with _registry_restored(), pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the doc saves xor_silu.npz where it runs
        namespace, printed = docblocks.run(BLOCKS, "docs/own_layer.md")
    return folder, namespace, printed


def test_every_output_the_doc_shows_is_paired_with_the_block_that_prints_it():
    assert len(BLOCKS) == 11
    assert DOC.count("```text\n") == sum(1 for _, shown in BLOCKS if shown)


def test_each_block_prints_what_the_doc_shows_after_it(doc):
    _, _, printed = doc
    for i, ((_, shown), actual) in enumerate(zip(BLOCKS, printed, strict=True)):
        # a block the doc shows no output for prints nothing
        assert _normalized(actual) == _normalized(shown), f"block {i + 1}"


def test_the_silu_backward_passes_and_the_wrong_one_fails(doc):
    _, ns, _ = doc
    right = proplab.gradcheck(ns["SiLU"](), ns["x"])
    wrong = proplab.gradcheck(ns["WrongSiLU"](), ns["x"])
    assert right.ok and right.worst < 1e-8
    assert not wrong.ok and wrong.worst > 0.1
    assert "gradcheck FAILED (tolerance 1e-06)" in str(wrong)
    # the derivative the doc derives, sigma (1 + x (1 - sigma)), at a few points
    x = np.array([[-3.0, 0.0, 2.0]])
    silu = ns["SiLU"]()
    silu.forward(x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(silu.backward(np.ones_like(x)), s + x * s * (1 - s))


def test_the_scale_layer_keeps_the_contract(doc):
    _, ns, _ = doc
    Scale, x = ns["Scale"], ns["x"]
    layer = Scale(3)
    layer.a.data = np.array([0.5, -2.0, 3.0])
    g = np.random.default_rng(2).normal(size=x.shape)
    layer.forward(x)
    assert layer.backward(g, need_input_grad=False) is None
    np.testing.assert_allclose(layer.a.grad, (g * x).sum(axis=0))  # summed over samples
    np.testing.assert_allclose(layer.backward(g), g * layer.a.data)
    np.testing.assert_allclose(layer.a.grad, 2 * (g * x).sum(axis=0))  # accumulated
    layer.zero_grad()
    layer.backward(g)
    np.testing.assert_allclose(layer.a.grad, (g * x).sum(axis=0))  # overwritten after zero_grad

    class Forgot(Scale):  # "at a = 1, forgetting the factor a would pass"
        def backward(self, grad_out, need_input_grad=True):
            self.a.accumulate_sum(grad_out * self.x, axis=-2)
            return grad_out

    assert proplab.gradcheck(Forgot(3), x).ok
    forgot = Forgot(3)
    forgot.a.data = np.array([0.5, -2.0, 3.0])
    assert not proplab.gradcheck(forgot, x).ok


def test_a_kept_parameter_array_goes_stale_without_a_warning(doc):
    """The doc: keep the array from __init__ and the layer computes with a = 1 for ever."""
    _, ns, _ = doc

    class Kept(ns["Scale"]):
        def __init__(self, features):
            super().__init__(features)
            self.kept = self.a.data

        def forward(self, x):
            self.x = x
            return x * self.kept

    rng = np.random.default_rng(0)
    model = proplab.Sequential(
        proplab.Linear(2, 8, rng=rng), Kept(8), ns["SiLU"](), proplab.Linear(8, 1, rng=rng)
    )
    x, y = proplab.generate_xor_easy()
    proplab.fit(model, proplab.MSELoss(), proplab.SGD(model.parameters(), lr=1.0), x, y, 50)
    assert np.all(model[1].kept == 1.0)  # filterwarnings = error: nothing warned either
    assert not np.allclose(model[1].a.data, 1.0)


def test_gradcheck_catches_a_layer_that_skips_its_gradient_when_no_input_gradient_is_asked(doc):
    _, ns, _ = doc

    class Skips(ns["Scale"]):
        def backward(self, grad_out, need_input_grad=True):
            if not need_input_grad:
                return None  # the parameter gradient is never added on this path
            return super().backward(grad_out)

    x, y = proplab.generate_xor_easy()
    model = proplab.Sequential(Skips(2), proplab.Linear(2, 1, rng=np.random.default_rng(0)))
    alone = proplab.gradcheck(Skips(3), ns["x"])
    assert not alone.ok and alone.errors["a"] == 1.0 and alone.errors["input"] < 1e-8
    assert "note: a: backward(..., need_input_grad=False) gives another gradient" in str(alone)
    assert "a: 1.00e+00" in DOC and "note: a: backward(..., need_input_grad=False)" in DOC
    whole = proplab.gradcheck(model, x[:4])
    assert not whole.ok and whole.errors["0.a"] == 1.0  # the model's first layer
    proplab.fit(model, proplab.MSELoss(), proplab.SGD(model.parameters(), lr=1.0), x, y, 50)
    assert np.all(model[0].a.data == 1.0)  # and indeed it learns nothing in fit


def test_fit_asks_only_the_first_layer_with_parameters_to_skip_its_input_gradient(doc):
    _, ns, _ = doc
    rng = np.random.default_rng(0)
    model = proplab.Sequential(
        proplab.Linear(2, 8, rng=rng), ns["Scale"](8), ns["SiLU"](), proplab.Linear(8, 1, rng=rng)
    )
    flags = {}
    for i, layer in enumerate(model.layers):

        def spy(grad_out, need_input_grad=True, _i=i, _backward=layer.backward):
            flags[_i] = need_input_grad
            return _backward(grad_out, need_input_grad)

        layer.backward = spy
    x, y = proplab.generate_xor_easy()
    proplab.fit(model, proplab.MSELoss(), proplab.SGD(model.parameters(), lr=1.0), x, y, 1)
    assert flags == {0: False, 1: True, 2: True, 3: True}


def test_the_training_numbers_the_doc_quotes(doc):
    _, ns, _ = doc
    assert ns["history"].final_accuracy == 1.0
    low, high, first0 = (
        int(v)
        for v in re.search(
            r"first reaching it at epoch (\d+)-(\d+) \(seed 0: (\d+)\)", DOC
        ).groups()
    )
    Scale, SiLU = ns["Scale"], ns["SiLU"]
    x, y = proplab.generate_xor_easy()
    firsts = []
    for seed in range(10):  # the doc's model, as its block builds it, with default_rng(seed)
        rng = np.random.default_rng(seed)
        model = proplab.Sequential(
            proplab.Linear(2, 8, rng=rng),
            Scale(8),
            SiLU(),
            proplab.Linear(8, 1, rng=rng),
            proplab.Sigmoid(),
        )
        opt = proplab.SGD(model.parameters(), lr=1.0)
        h = proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=2000)
        assert h.final_accuracy == 1.0, seed
        firsts.append(next(e for e, a in zip(h.epoch, h.accuracy, strict=True) if a == 1.0))
        if seed == 0:
            assert h.loss == ns["history"].loss  # the doc's run (its gradcheck changed nothing)
    assert (min(firsts), max(firsts), firsts[0]) == (low, high, first0)


def test_a_trained_saturated_model_is_measured_against_round_off(doc, monkeypatch):
    from proplab.gradcheck import numeric_gradient, relative_error

    _, ns, _ = doc
    model, x_check = ns["model"], ns["x_check"]
    assert proplab.gradcheck(model, x_check).ok
    # the doc's numbers: the largest gradient, and the plain relative error of the
    # first layer's weight gradient against its central differences
    weights = np.random.default_rng(0).standard_normal(model(x_check).shape)
    model.zero_grad()
    model.forward(x_check)
    model.backward(weights)
    w = model.layers[0].weight
    analytic = w.grad.copy()

    def scalar() -> float:
        return float(np.sum(model.forward(x_check) * weights))

    numeric = numeric_gradient(scalar, w.data)
    (largest,) = re.findall(r"here at most (\d\.\de-\d\d)", DOC)
    assert np.max(np.abs(analytic)) <= float(largest) * 1.05
    (quoted,) = re.findall(r"that difference is\s+(\d\.\de-\d\d), over the tolerance", DOC)
    plain = relative_error(analytic, numeric)
    assert plain > 1e-6 and float(quoted) / 10 < plain < 10 * float(quoted)  # round-off
    # a backward 10 % off on these same inputs still fails
    scale = ns["Scale"]
    right = scale.backward

    def ten_percent_off(self, grad_out, need_input_grad=True):
        return right(self, 1.1 * grad_out, need_input_grad)

    monkeypatch.setattr(scale, "backward", ten_percent_off)
    assert not proplab.gradcheck(model, x_check).ok
    assert "a wrong one (10 % off, say) still fails" in DOC


def test_the_model_file_round_trips_and_needs_the_registration_to_load(doc, monkeypatch):
    folder, ns, _ = doc
    monkeypatch.chdir(folder)
    assert Path("xor_silu.npz").is_file()
    x = ns["x_xor"]
    with _registry_restored():
        ns["register_module_type"](ns["SiLU"])
        ns["register_module_type"](
            ns["Scale"],
            to_spec=lambda m, describe: {"features": m.a.shape[0]},
            from_spec=lambda spec, build: ns["Scale"](spec["features"]),
        )
        np.testing.assert_array_equal(proplab.load("xor_silu.npz")(x), ns["model"](x))
    # the fixture's registrations are gone again: load fails as the doc says
    assert "Scale" not in serialize.MODULE_TYPES
    (quoted,) = re.findall(r"raises `ModelFileError: (.*?) \(known: \.\.\.\)`", DOC, flags=re.S)
    with pytest.raises(ModelFileError) as err:
        proplab.load("xor_silu.npz")
    known = ", ".join(serialize.MODULE_TYPES)
    assert str(err.value) == " ".join(quoted.split()) + f" (known: {known})"


def test_a_class_named_like_a_built_in_is_registered_under_its_own_name(tmp_path):
    class Sigmoid(proplab.Module):  # a student's own sigmoid, same name as the built-in
        pass

    with _registry_restored():
        with pytest.raises(ValueError, match=r"'Sigmoid' is proplab's own proplab\.activat"):
            serialize.register_module_type(Sigmoid)
        assert serialize.MODULE_TYPES["Sigmoid"].cls is proplab.Sigmoid  # left as it was
        serialize.register_module_type(Sigmoid, name="MySigmoid")  # as the doc says
        model = proplab.Sequential(proplab.Sigmoid(), Sigmoid())
        loaded = proplab.load(proplab.save(model, tmp_path / "m.npz"))
        assert [type(m) for m in loaded.layers] == [proplab.Sigmoid, Sigmoid]
        # a class of one's own may be registered again (a notebook cell run twice)
        serialize.register_module_type(Sigmoid, name="MySigmoid")
    assert 'register_module_type(Sigmoid, name="MySigmoid")' in DOC


def test_the_loss_sections_claims(doc):
    _, ns, _ = doc
    Huber, SiLU = ns["Huber"], ns["SiLU"]
    # mlp took the class: a SiLU after each hidden Linear
    assert [type(m).__name__ for m in ns["net"].layers] == [
        "Linear",
        "SiLU",
        "Linear",
        "SiLU",
        "Linear",
        "Sigmoid",
    ]
    # the values: squared within delta, linear beyond; the gradient clipped at +-delta
    loss = Huber(delta=1.0)
    pred, target = np.array([[0.5], [3.0], [-2.0]]), np.zeros((3, 1))
    assert loss(pred, target) == pytest.approx((0.125 + 2.5 + 1.5) / 3)
    np.testing.assert_allclose(loss.backward(), [[0.5 / 3], [1 / 3], [-1 / 3]])
    # a stack: one loss per model, each model's rows the gradient of its own loss
    stack_pred = np.stack([pred, 2 * pred])
    per_model = loss(stack_pred, target)
    assert per_model.shape == (2,)
    assert per_model[1] == pytest.approx(Huber()(2 * pred, target))
    grad = loss.backward()
    alone = Huber()
    alone(2 * pred, target)
    np.testing.assert_allclose(grad[1], alone.backward())
    stack = proplab.mlp(2, 8, 1, activation=SiLU, seeds=range(3))
    x, y = proplab.generate_xor_easy()
    h = proplab.fit(stack, Huber(), proplab.SGD(stack.parameters(), lr=1.0), x, y, epochs=3000)
    np.testing.assert_array_equal(h.final_accuracy, [1.0, 1.0, 1.0])

    # a duck-typed loss trains with fit, and gradcheck refuses it, as the prose says
    class DuckLoss:
        def forward(self, pred, target):
            self.d = pred - target
            return float((self.d**2).mean())

        def backward(self):
            return 2 * self.d / self.d.size

    model = proplab.mlp(2, 4, 1, rng=np.random.default_rng(0))
    duck = proplab.fit(model, DuckLoss(), proplab.SGD(model.parameters(), lr=1.0), x, y, 50)
    assert duck.final_loss < duck.loss[0]
    with pytest.raises(TypeError, match=r"gradcheck checks a proplab Module or Loss, got Duck"):
        proplab.gradcheck(DuckLoss(), pred, target)
    assert "gradcheck checks a proplab Module or\nLoss, got ..." in DOC


def test_the_command_line_paragraph(capsys):
    names = re.search(r"activations it knows by name \(([^)]*)\)", DOC).group(1)
    assert [n.strip() for n in names.split(",")] == list(ACTIVATIONS)
    assert cli.main(["gradcheck", "--activation", "silu"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "unknown activation 'silu'" in err
    assert "`unknown activation 'silu'`" in DOC


def test_the_readme_links_here():
    after_api = README.split("Modules have `forward(x)` and `backward(grad_out)`", 1)[1]
    paragraph = after_api.split("\n\n", 1)[0]
    assert "Write your own layer: [docs/own_layer.md](docs/own_layer.md)" in paragraph
