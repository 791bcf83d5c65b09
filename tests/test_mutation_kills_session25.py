"""Tests for mutants the suite let live (mut25: session 25's code changes: the playground's
unit maps and GET /api/unit, discretize output, the noise bound, TF-scale sin features, the
shipped suites named for a missing sweep file, the one version source, the gradient figure of
a run whose gradients are all 0, and the trace check's Python numbers).

Each test names the planted change it kills (mut25's ids: /tmp/mut25/mutants.md, its row in
docs/mutation.md) and says why the behaviour matters. The browser tests reuse
test_playground_browser's server and chromium fixtures (skipped without chromium).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import test_playground_browser as browser
from test_playground_browser import (
    FLAT_BLUE,
    MAP_PIXEL,
    ON_THE_MAP,
    ON_THE_NET,
    READY,
    load,
    notes_of,
    staged,
)
from test_playground_server import request
from test_playground_server import server as server  # the fixture, by its name here

import proplab
from proplab import playground, plots, sweep_spec
from proplab.playground import Playground, PlaygroundError
from proplab.playground_server import _unit_args
from proplab.trace import CHECK_TOLERANCE, trace_step

ROOT = Path(__file__).resolve().parents[1]
chromium = browser.chromium  # the session fixture: chromium found or installed, else a skip
serve = browser.serve


# ---- Playground.unit_map and GET /api/unit's query


def test_a_bool_layer_is_refused_as_a_bool_unit_is() -> None:
    """P13 (the bool check on ``layer`` dropped): ``unit_map(True, 0)`` then showed hidden
    layer 1's first unit, as if True were 1, where ``unit=True`` is refused: a caller's
    flag passed by mistake gets a map it did not ask for instead of the one-line error."""
    session = Playground({"dataset": "circle", "hidden": [4]})
    with pytest.raises(PlaygroundError) as caught:
        session.unit_map(True, 0)
    assert str(caught.value) == (
        "layer: must be an integer from 0 to 1 (0: the inputs, 1: the hidden layer), got True"
    )
    # a NumPy integer is an integer (a page's index computed with NumPy)
    assert session.unit_map(np.int64(1), 3)["layer"] == 1


def test_a_blank_layer_is_named_as_given_blank_not_as_missing() -> None:
    """S2 (``keep_blank_values=False``): ``?layer=&unit=0`` said "layer missing" although
    the key is there; the error should quote what came (an empty value)."""
    with pytest.raises(PlaygroundError) as caught:
        _unit_args("layer=&unit=0")
    assert str(caught.value).startswith("layer: must be an integer, got ''; GET /api/unit")


def test_a_signed_or_spaced_index_is_read_as_an_integer() -> None:
    """S5 (no sign in the pattern) and S6 (no strip): ``-1`` is an integer, which the
    playground then refuses naming the layers there are, not "must be an integer"; and a
    ``+`` in a query is a space (``unit=+0`` reads " 0"), as int() reads it."""
    assert _unit_args("layer=-1&unit=%2B2") == (-1, 2)
    assert _unit_args("layer=+1&unit=0") == (1, 0)


def test_a_negative_layer_over_http_gets_the_range_message(server) -> None:
    """S5 over HTTP: the page's answer for layer -1 names the layers there are."""
    request(server, "POST", "/api/reset", {"dataset": "circle", "hidden": [4, 2]})
    status, _, body = request(server, "GET", "/api/unit?layer=-1&unit=0")
    assert status == 400
    assert body["error"] == (
        "layer: must be from 0 to 2 (0: the inputs, 1 to 2: the hidden layers), got -1"
    )


def test_a_five_thousand_digit_layer_is_a_bad_request_not_a_server_failure(server) -> None:
    """S7 (``\\d+`` for ``\\d{1,9}``): int() refuses a string of more than 4,300 digits
    (ValueError), so such a query answered 500 "the playground failed" and printed a
    traceback in the terminal, where it is only a bad request."""
    request(server, "POST", "/api/reset", {"dataset": "circle", "hidden": [4, 2]})
    status, _, body = request(server, "GET", "/api/unit?layer=" + "9" * 5000 + "&unit=0")
    assert status == 400
    assert body["error"].startswith("layer: must be an integer, got '999")
    assert server.playground.epoch == 0


# ---- sweep_spec.shipped_suites


class _Entry:
    def __init__(self, name: str) -> None:
        self.name = name


class _Folder:
    """A package folder listing ``names`` in that order (iterdir's order is the file
    system's)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def joinpath(self, name: str) -> _Folder:
        assert name == "suites"
        return self

    def iterdir(self) -> list[_Entry]:
        return [_Entry(n) for n in self.names]


def test_shipped_suites_are_the_toml_files_sorted(monkeypatch) -> None:
    """W5 (the .toml filter dropped) and W6 (``list`` for ``sorted``): only lab.toml ships
    today, so neither shows; a second suite, or a stray file beside them (an editor's
    backup, a README), would be offered as a suite, in the file system's order, in the
    "no such sweep file" message that tells a user what to type."""
    folder = _Folder(["zoo.toml", "README.txt", "lab.toml", "lab.toml~", "basics.toml"])
    monkeypatch.setattr(sweep_spec.resources, "files", lambda package: folder)
    assert sweep_spec.shipped_suites() == ["basics", "lab", "zoo"]


# ---- plots.gradient_sizes_figure


def test_a_short_runs_all_zero_lines_get_no_marker(tmp_path) -> None:
    """G3 (``shown.any() and`` dropped): a run of at most MARKED_EPOCHS kept epochs whose
    gradients are all 0 gave each empty line a marker; unclipped markers of no point count
    as one at the figure's corner in the layout, which left a gap above the legend."""
    epochs = np.arange(5.0)
    assert len(epochs) <= plots.MARKED_EPOCHS  # (a longer run's lines get no marker anyway)
    figure = plots.gradient_sizes_figure(
        epochs, np.zeros((5, 2)), ["1: L", "2: L"], tmp_path / "g.png"
    )
    lines = figure.axes[0].lines
    assert [len(line.get_xdata()) for line in lines] == [0, 0]
    assert [line.get_marker() for line in lines] == ["None", "None"]
    # a live layer beside a dead one keeps its markers (a short run's)
    sizes = np.zeros((5, 2))
    sizes[:, 0] = [1.0, 0.5, 0.2, 0.1, 0.05]
    figure = plots.gradient_sizes_figure(epochs, sizes, ["1: L", "2: L"], tmp_path / "h.png")
    assert [line.get_marker() for line in figure.axes[0].lines] == ["o", "None"]


# ---- the trace check's numbers


def _xor_trace():
    model = proplab.mlp(2, [3], 1, rng=np.random.default_rng(0))
    x, y = proplab.generate_xor_easy()
    opt = proplab.SGD(model.parameters(), lr=1.0)
    return trace_step(model, proplab.MSELoss(), x[3:4], y[3:4].astype(float), opt)


def test_checked_and_check_failed_are_bools_at_and_over_the_tolerance() -> None:
    """T1, T2 (``bool()`` dropped) and T5 (``<=`` planted as ``<``): a check error that is
    a NumPy number (a StepTrace made by hand, or a check that gives one) made ``checked`` a
    numpy.bool, which json refuses (the playground's "One step by hand" answered 500); an
    error exactly at the tolerance passes, as "within the tolerance" says."""
    trace = _xor_trace()
    at = dataclasses.replace(trace, check_error=np.float64(CHECK_TOLERANCE))
    assert at.checked is True and at.check_failed is False
    over = dataclasses.replace(trace, check_error=np.float64(2 * CHECK_TOLERANCE))
    assert over.checked is False and over.check_failed is True
    json.dumps({"checked": at.checked, "failed": over.check_failed})


# ---- the one version source


def test_pyprojects_version_is_read_from_proplab_version_only() -> None:
    """V2 (a static ``version = "0.1.0"`` back in pyproject beside the dynamic table): the
    wheel's version then matches __version__ only while both say 0.1.0, and a raised
    __version__ would build a wheel of the old version, which pip keeps installed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "proplab.__version__"}


def test_the_version_is_a_literal_setuptools_reads_without_importing_proplab() -> None:
    """V3 (``__version__`` computed): setuptools' ``attr`` reads a literal from the file;
    anything else makes it import proplab, so building a wheel needs NumPy installed (the
    comment beside it says the build reads it without importing)."""
    tree = ast.parse((ROOT / "src" / "proplab" / "__init__.py").read_text())
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
    ]
    assert isinstance(value, ast.Constant) and value.value == proplab.__version__


# ---- the page (chromium)


def _cell_exactly(session: Playground, values: np.ndarray, u, v, test) -> list[float]:
    """A grid point whose 3x3 neighbourhood all pass ``test`` and no data point is near."""
    for j in range(1, len(v) - 1):
        for i in range(1, len(u) - 1):
            around = values[j - 1 : j + 2, i - 1 : i + 2]
            near = np.min(np.linalg.norm(session.x - [u[i], v[j]], axis=1))
            if test(around).all() and near > 0.15:
                return [float(u[i]), float(v[j])]
    raise AssertionError("no such cell")


@pytest.mark.slow
def test_discretize_draws_a_value_at_the_split_blue(chromium, serve, tmp_path) -> None:
    """J1 (``t >= 0`` planted as ``t > 0``): a ReLU unit is exactly 0 wherever it is off,
    its scale's middle; the caption says "orange below 0, blue from it on", and TensorFlow
    Playground's discretize does the same (``value >= 0``). So with discretize on, a ReLU
    unit's map is one flat blue, its zeros included (a note for the lead: it says nothing
    about where the unit is off, in TF too)."""
    session = Playground(
        {"dataset": "circle", "n": 60, "hidden": [4], "activation": "relu", "lr": 0.3}
    )
    session.step(100)
    setup = session.setup()
    u, v = setup["grid"]["u"], setup["grid"]["v"]
    maps = [np.array(session.unit_map(1, k)["map"]) for k in range(4)]
    k = next(k for k, m in enumerate(maps) if (m == 0).mean() > 0.2 and (m > 0.1).mean() > 0.2)
    off = _cell_exactly(session, maps[k], u, v, lambda a: a == 0)
    on = _cell_exactly(session, maps[k], u, v, lambda a: a > 0.1)
    action = (
        ON_THE_NET
        + ON_THE_MAP
        + MAP_PIXEL
        + staged(
            (READY, f"hover(netBoxes()[{2 + k}])"),
            (
                f'showing() === "1 {k} sharp"',
                f"notes.off = mapPixel({off}); notes.on = mapPixel({on});"
                " notes.caption = $$('map-showing').textContent",
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, f"{server.url}?discretize=1", tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 2)
    assert "its relu output, orange below 0, blue from it on" in notes["caption"]
    for got in (notes["off"], notes["on"]):
        assert np.abs(np.subtract(got, FLAT_BLUE)).max() <= 3, notes


@pytest.mark.slow
def test_the_next_units_map_is_its_own_small_one_until_its_sharp_one_comes(
    chromium, serve, tmp_path
) -> None:
    """J5 (``sameUnit`` dropped from bigMapOf): hovering another unit drew the previous
    unit's sharp map under the new unit's name until the new one's answer came (while
    playing, a frame or more of the wrong picture)."""
    session = Playground({"dataset": "circle", "n": 60, "hidden": [4, 2], "activation": "tanh"})
    session.step(50)
    action = (
        ON_THE_NET
        + ON_THE_MAP
        + MAP_PIXEL
        + staged(
            (READY, "hover(netBoxes()[6])"),
            ('showing() === "2 0 sharp"', "hover(netBoxes()[1]); notes.next = showing()"),
            ('showing() === "0 1 sharp"', "notes.then = showing()"),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 3)
    assert notes["next"] == "0 1 coarse" and notes["then"] == "0 1 sharp"


@pytest.mark.slow
def test_the_noise_fields_bound_is_the_servers(chromium, serve, tmp_path, monkeypatch) -> None:
    """J7 (the page's ``$("f-noise").max = limits.noise`` dropped): the field's own max="1"
    equals today's MAX_NOISE, so nothing showed; the page takes the bound from the server's
    options, as the hint does, so a changed MAX_NOISE needs no second edit in the HTML."""
    monkeypatch.setattr(playground, "MAX_NOISE", 2.0)
    action = staged(
        (READY, "notes.max = $$('f-noise').max; notes.hint = $$('noise-hint').textContent")
    )
    server = serve(Playground({"dataset": "circle", "n": 40}), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert notes["max"] == "2" and notes["hint"].endswith("at most 2")
