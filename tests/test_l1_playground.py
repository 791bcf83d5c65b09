"""The playground's regularization (TensorFlow Playground's None / L1 / L2 and one rate):
offered in the options, and a reset with L1 trains with ``l1``, in Python and over HTTP."""

from __future__ import annotations

import numpy as np
import pytest
from test_playground import one_run, strict_json
from test_playground_server import request, server  # noqa: F401 (the server fixture)

from proplab.playground import Playground, PlaygroundError, options


def test_options_list_the_regularizations_and_the_setting_each_rate_goes_to() -> None:
    choices = strict_json(options())
    assert choices["regularizations"] == [
        {"name": "None", "setting": None},
        {"name": "L1", "setting": "l1"},
        {"name": "L2", "setting": "weight_decay"},
    ]
    for r in choices["regularizations"][1:]:
        assert choices["defaults"][r["setting"]] == 0.0  # the default: None


def test_a_reset_with_l1_trains_with_l1() -> None:
    settings = {"dataset": "circle", "n": 60, "hidden": [8], "activation": "tanh"}
    settings |= {"optimizer": "adam", "lr": 0.03, "l1": 0.003, "seed": 2}
    session = Playground({"dataset": "xor"})
    setup = session.reset(settings)
    assert setup["settings"]["l1"] == 0.003 and setup["settings"]["weight_decay"] == 0.0
    assert session.optimizer.hyper["l1"] == 0.003
    session.step(40)
    session.step(60)
    # the weights of one run of these settings (fit with l1), not of the run without
    with_l1 = one_run(settings, 100)
    without = one_run({**settings, "l1": 0.0}, 100)
    for mine, theirs in zip(session.model.parameters(), with_l1.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)
    first = session.model.parameters()[0].data
    assert np.max(np.abs(first - without.parameters()[0].data)) > 1e-3


def test_a_bad_rate_is_refused_naming_it_and_the_session_stays() -> None:
    session = Playground({"dataset": "circle", "n": 30, "l1": 0.01})
    for name, value in (("l1", -0.5), ("weight_decay", "fast")):
        with pytest.raises(PlaygroundError) as err:
            session.reset({"dataset": "circle", name: value})
        assert str(err.value) == f"{name}: must be a finite number in [0.0, inf], got {value!r}"
    assert session.cfg.l1 == 0.01 and session.optimizer.hyper["l1"] == 0.01


def test_l1_over_http(server) -> None:  # noqa: F811 (the fixture)
    status, _, setup = request(
        server, "POST", "/api/reset", {"dataset": "circle", "n": 40, "hidden": [4], "l1": 0.002}
    )
    assert status == 200 and setup["settings"]["l1"] == 0.002
    assert server.playground.optimizer.hyper["l1"] == 0.002
    status, _, state = request(server, "POST", "/api/step", {"epochs": 20})
    assert status == 200 and state["epoch"] == 20
    reference = one_run({"dataset": "circle", "n": 40, "hidden": [4], "l1": 0.002}, 20)
    for mine, theirs in zip(
        server.playground.model.parameters(), reference.parameters(), strict=True
    ):
        np.testing.assert_array_equal(mine.data, theirs.data)
    status, _, body = request(server, "POST", "/api/reset", {"dataset": "circle", "l1": -1})
    assert status == 400 and body["error"].startswith("l1: must be a finite number")
    assert server.playground.cfg.l1 == 0.002  # the session stays
