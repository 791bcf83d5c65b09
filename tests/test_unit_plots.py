"""What each hidden unit computes: models.hidden_activations and the unit_plots figure."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.contour import QuadContourSet

from proplab import conv_net, mlp
from proplab.core import Sequential
from proplab.layers import Linear
from proplab.models import hidden_activations
from proplab.plots import DPI
from proplab.sweep_boundaries import boundary_grid
from proplab.unit_plots import (
    LEFT,
    MAX_UNITS_ACROSS,
    PANEL,
    RIGHT,
    hidden_units,
    unit_scale,
)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_hidden_activations_are_each_hidden_layers_output():
    model = mlp(2, [3, 4], 1, rng=np.random.default_rng(0))
    for layer in (model[0], model[2]):  # non-zero biases, so they must be added
        layer.bias.data[...] = np.random.default_rng(1).standard_normal(layer.bias.data.shape)
    x = np.random.default_rng(2).uniform(size=(7, 2))
    h1, h2 = hidden_activations(model, x)
    w1, b1, w2, b2 = (model[i].params[n].data for i in (0, 2) for n in ("weight", "bias"))
    np.testing.assert_allclose(h1, _sigmoid(x @ w1 + b1), rtol=1e-14)
    np.testing.assert_allclose(h2, _sigmoid(h1 @ w2 + b2), rtol=1e-14)
    assert h1.shape == (7, 3) and h2.shape == (7, 4)


def test_a_standardizing_model_s_units_are_computed_on_its_standardized_inputs(tmp_path):
    # csv18: `standardize = true` put a Standardize layer first, and the report's units
    # figure (a one-setting sweep) crashed: "hidden_activations takes one MLP ..."
    from proplab.config import RunConfig, build_model
    from proplab.features import standardize_stats
    from proplab.models import hidden_activation_names

    x = np.random.default_rng(0).normal([170.0, 70.0], [10.0, 15.0], size=(9, 2))
    cfg = RunConfig(hidden=[4, 3], activation="tanh", standardize=True, batchnorm=True)
    model = build_model(cfg, 2, 1, rng=np.random.default_rng(1), stats=standardize_stats(x))
    assert type(model[0]).__name__ == "Standardize"
    units = hidden_activations(model, x)
    alone = Sequential(*model.layers[1:])  # the MLP behind it, fed standardized inputs
    expected = hidden_activations(alone, (x - x.mean(0)) / x.std(0))
    assert [u.shape for u in units] == [(9, 4), (9, 3)]
    for got, want in zip(units, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # the activations by name, wherever batchnorm sits (the figure named model[2i+1])
    assert hidden_activation_names(model) == ["Tanh", "Tanh"]
    assert hidden_activation_names(
        mlp(2, [3], 1, activation="relu", rng=np.random.default_rng(0))
    ) == ["ReLU"]


@pytest.mark.parametrize(
    ("activation", "f"),
    [("tanh", np.tanh), ("relu", lambda z: np.maximum(z, 0.0)), ("identity", lambda z: z)],
)
def test_hidden_activations_of_other_activations_and_depths(activation, f):
    model = mlp(
        2, [5, 3, 2], 1, activation=activation, output_activation=None, rng=np.random.default_rng(4)
    )
    x = np.random.default_rng(5).standard_normal((6, 2))
    layers = hidden_activations(model, x)
    assert [a.shape[1] for a in layers] == [5, 3, 2]
    h = x
    for i, got in enumerate(layers):
        lin = model[2 * i]
        h = f(h @ lin.weight.data + lin.bias.data)
        np.testing.assert_allclose(got, h, rtol=1e-13, atol=1e-15)


def test_hidden_activations_leave_the_model_computing_as_before():
    model = mlp(rng=np.random.default_rng(0))
    x = np.random.default_rng(1).uniform(size=(9, 2))
    before = model.forward(x).copy()
    hidden_activations(model, np.random.default_rng(2).uniform(size=(50, 2)))
    np.testing.assert_array_equal(model.forward(x), before)


def test_a_model_without_hidden_layers_has_none():
    assert hidden_activations(mlp(2, [], 1, rng=np.random.default_rng(0)), np.zeros((3, 2))) == []


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (conv_net(rng=np.random.default_rng(0)), "Conv1d"),
        (mlp(seeds=[0, 1]), "replica stack of (2,) models"),
        (
            Sequential(
                Linear(2, 3, rng=np.random.default_rng(0)),
                Linear(3, 1, rng=np.random.default_rng(0)),
            ),
            "'Linear', 'Linear'",
        ),
        (Sequential(), "got Sequential"),
    ],
    ids=["conv", "stack", "no-activation-between", "empty"],
)
def test_hidden_activations_refuse_other_models(model, message):
    with pytest.raises(ValueError, match="hidden_activations takes one") as err:
        hidden_activations(model, np.zeros((3, 2)))
    assert message in str(err.value)


# ---------------------------------------------------------------- colour scales


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("sigmoid", [0.2, 0.7], (0.0, 1.0, 0.5)),
        ("Tanh", [-0.2, 0.7], (-1.0, 1.0, 0.0)),
        ("ReLU", [0.0, 3.0], (0.0, 3.0, 3e-9)),
        ("LeakyReLU", [-0.5, 2.0], (-2.0, 2.0, 0.0)),
        ("identity", [-3.0, 1.0], (-3.0, 3.0, 0.0)),
        # no kind: read off the values
        ("", [0.0, 0.9], (0.0, 1.0, 0.5)),
        ("", [-0.9, 0.9], (-1.0, 1.0, 0.0)),
        ("", [0.0, 4.0], (0.0, 4.0, 4e-9)),
        ("", [-5.0, 4.0], (-5.0, 5.0, 0.0)),
    ],
)
def test_unit_scale(kind, values, expected):
    scale = unit_scale(np.array([values]), kind)
    assert (scale.vmin, scale.vmax) == expected[:2]
    assert scale.level == pytest.approx(expected[2])


def test_unit_scale_of_a_dead_relu_layer_and_of_nan():
    assert unit_scale(np.zeros((4, 3)), "relu").vmax == 1.0  # all 0: still a valid range
    scale = unit_scale(np.full((4, 3), np.nan), "sigmoid")
    assert scale.level is None and "not finite" in scale.label


# ---------------------------------------------------------------- the figure


def _panels(fig):
    """The unit panels (those with a heatmap), in drawing order."""
    return [
        ax
        for ax in fig.axes
        if any(isinstance(c, QuadMesh) for c in ax.collections) and ax.get_title()
    ]


def test_every_unit_is_drawn_with_its_own_values_and_line(tmp_path):
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([[0.0], [0.0], [1.0], [1.0]])
    u, v, points = boundary_grid(x, size=31)
    model = mlp(2, [3, 12], 1, rng=np.random.default_rng(3))
    layers = hidden_activations(model, points)
    path = tmp_path / "units.png"
    fig = hidden_units(u, v, layers, x, y, path, title="units", kinds=["sigmoid", "sigmoid"])

    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == [f"unit {i}" for i in range(1, 4)] + [
        f"unit {i}" for i in range(1, 13)
    ]
    values = [layers[0][:, j] for j in range(3)] + [layers[1][:, j] for j in range(12)]
    for ax, want in zip(panels, values, strict=True):
        mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
        np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(-1), want)
        assert mesh.get_clim() == (0.0, 1.0)
        crosses = want.min() < 0.5 < want.max()
        lines = [c for c in ax.collections if isinstance(c, QuadContourSet)] + [
            c for c in ax.get_children() if isinstance(c, QuadContourSet)
        ]
        assert bool(lines) == crosses, ax.get_title()
    # layer 2's 12 units wrap after MAX_UNITS_ACROSS: unit 11 sits under unit 1
    first, eleventh = panels[3], panels[3 + MAX_UNITS_ACROSS]
    assert eleventh.get_position().x0 == pytest.approx(first.get_position().x0)
    assert eleventh.get_position().y1 < first.get_position().y0
    assert panels[0].get_ylabel() == "layer 1" and panels[3].get_ylabel() == "layer 2"

    image = matplotlib.image.imread(path)
    width = (LEFT + MAX_UNITS_ACROSS * PANEL + RIGHT) * DPI
    assert image.shape[1] == pytest.approx(width, abs=1)


def test_a_layer_of_the_wrong_length_is_named(tmp_path):
    x = np.zeros((2, 2))
    u, v, _ = boundary_grid(x, size=5)
    with pytest.raises(ValueError, match=r"layer 2 is \(24, 3\), expected \(25, units\)"):
        hidden_units(
            u, v, [np.zeros((25, 2)), np.zeros((24, 3))], x, np.zeros(2), tmp_path / "u.png"
        )
    assert not (tmp_path / "u.png").exists()


# ---------------------------------------------------------------- the report's sentence


def test_the_report_names_hidden_units_that_barely_change_over_the_data():
    from proplab.report_figures import _constant_units

    rng = np.random.default_rng(0)
    sigmoid_layer = rng.uniform(0.1, 0.9, size=(20, 4))
    sigmoid_layer[:, 2] = 0.3 + 0.04 * rng.uniform(size=20)  # spread < 5 % of 1
    relu_layer = rng.uniform(0.0, 3.0, size=(20, 3))
    relu_layer[:, 0] = 0.0  # a dead ReLU
    relu_layer[:, 1] = 1.0 + 0.2 * rng.uniform(size=20)  # 0.2 > 5 % of 3: a feature
    text = _constant_units("XOR", [sigmoid_layer, relu_layer], ["Sigmoid", "ReLU"])
    assert text == (
        "On XOR, 2 of the 7 hidden units change by less than 5 % of their range over the data "
        "(layer 1 unit 3, layer 2 unit 1): the next layer sees them as (almost) a constant, "
        "a bias rather than a feature."
    )
    tanh_layer = np.column_stack([np.linspace(-0.05, 0.04, 10), np.linspace(-1, 1, 10)])
    assert "1 of the 2 hidden units" in _constant_units("linear", [tanh_layer], ["Tanh"])
    assert "sees it as" in _constant_units("linear", [tanh_layer], ["Tanh"])
    assert _constant_units("XOR", [rng.uniform(size=(20, 3))], ["Sigmoid"]) is None
    nan_layer = np.full((5, 2), np.nan)  # a unit computing NaN is no feature either
    assert "2 of the 2" in _constant_units("XOR", [nan_layer], ["Sigmoid"])


# ---------------------------------------------------------------- from mutation testing


def test_unit_scale_edges_of_the_guessed_ranges_and_named_kinds():
    from proplab.unit_plots import unit_scale

    s = unit_scale(np.array([[-1.0, 0.5]]))  # exactly -1: still tanh's range
    assert (s.vmin, s.vmax, s.level, s.label) == (-1.0, 1.0, 0.0, "activation (-1 to 1)")
    s = unit_scale(np.array([[0.0, 0.8]]), "leaky_relu")  # named: not guessed as a sigmoid
    assert (s.vmin, s.vmax, s.level, s.label) == (-0.8, 0.8, 0.0, "activation (around 0)")
