"""The playground page in a real headless browser against a real server: it trains and draws.

A :class:`PlaygroundServer` runs in a thread; chromium (the session fixture of
``test_report_browser``: found or installed with apt, else the tests skip) loads
the page with ``--dump-dom`` after a virtual-time budget. The page is served with
a probe first in ``<head>`` that records every error (script errors, rejected
promises, console.error, failed resources) into a ``<pre>`` the dump shows, and
optionally a script at the end of ``<body>`` that acts as a user would. The page's
own ``?probe=1`` writes each canvas's pixel counts into data attributes (see the
comment at the top of playground.html), and it keeps ``data-epoch`` and
``data-frames`` on ``<body>``. A deliberately broken page proves the probe works.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
import test_report_browser
from test_report_browser import FLAGS, console_lines

from proplab import playground, playground_server
from proplab.playground import Playground, options
from proplab.playground_server import PlaygroundServer

pytestmark = pytest.mark.slow

# the session fixture: chromium's path, found or installed with apt, else the test skips
chromium = test_report_browser.chromium

PROBE = """<script>
window.__proplabErrors = [];
function __proplabShow() {
  var pre = document.getElementById("proplab-probe");
  if (pre) pre.textContent = JSON.stringify(window.__proplabErrors);
}
window.addEventListener("error", function (e) {
  var what = e.message || (e.target && (e.target.currentSrc || e.target.src)) || "error";
  window.__proplabErrors.push(String(what).slice(0, 300));
  __proplabShow();
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__proplabErrors.push("unhandled rejection: " + String(e.reason).slice(0, 300));
  __proplabShow();
});
var __proplabConsoleError = console.error;
console.error = function () {
  window.__proplabErrors.push(Array.prototype.join.call(arguments, " "));
  __proplabShow();
  __proplabConsoleError.apply(console, arguments);
};
document.addEventListener("DOMContentLoaded", function () {
  var pre = document.createElement("pre");
  pre.id = "proplab-probe";
  document.body.appendChild(pre);
  __proplabShow();
});
</script>"""


@pytest.fixture
def serve(monkeypatch):
    """``serve(playground, action="")``: a running server whose page carries the probe (and
    ``action``, a script run at the end of <body>); stopped after the test."""
    started: list[tuple[PlaygroundServer, threading.Thread]] = []
    page = playground_server.page_html().decode("utf-8")

    def start(playground: Playground | None = None, action: str = "", text: str = page):
        probed = text.replace("<head>", "<head>\n" + PROBE, 1)
        probed = probed.replace("</body>", f"<script>{action}</script>\n</body>", 1)
        monkeypatch.setattr(playground_server, "page_html", lambda: probed.encode("utf-8"))
        server = PlaygroundServer(("127.0.0.1", 0), playground)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


def load(
    browser: str,
    url: str,
    profile: Path,
    budget_ms: int = 5000,
    window: str = "1280,900",
    more: tuple[str, ...] = (),
) -> tuple[str, list, str]:
    """Load ``url`` headless in a ``window`` ("width,height"); return the DOM after
    ``budget_ms`` of virtual time, the probe's errors and chromium's stderr. Virtual time
    stands still while a request to the server is open, so the budget counts the page's
    own waiting, not training. ``more``: further flags."""
    flags = [f for f in FLAGS if not f.startswith("--virtual-time-budget")] + list(more)
    proc = subprocess.run(
        [browser, *flags, f"--virtual-time-budget={budget_ms}", f"--user-data-dir={profile}"]
        + [f"--window-size={window}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check
    )
    found = re.search(r'<pre id="proplab-probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"no probe output; chromium exit {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout, json.loads(html.unescape(found.group(1))), proc.stderr


def text_of(dom: str, element_id: str) -> str:
    found = re.search(rf'<[a-z0-9]+ [^>]*id="{element_id}"[^>]*>(.*?)</', dom, re.S)
    assert found, f"no element #{element_id}"
    return html.unescape(found.group(1)).strip()


def attrs_of(dom: str, tag_pattern: str) -> dict[str, str]:
    found = re.search(rf"<{tag_pattern}[^>]*>", dom[dom.index("</head>") :])
    assert found, f"no <{tag_pattern}>"
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', found.group(0)))


def select_options(dom: str, element_id: str) -> list[str]:
    found = re.search(rf'<select [^>]*id="{element_id}"[^>]*>(.*?)</select>', dom, re.S)
    assert found, f"no select #{element_id}"
    return re.findall(r'<option value="([^"]*)"', found.group(1))


def test_the_probe_catches_broken_pages(chromium, serve, tmp_path):
    broken = (
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="missing.png">'
        '<script>console.error("boom"); Promise.reject(new Error("lost"));'
        "fetch('api/step', {method: 'POST', body: '{}'}); undefined_function();</script>"
        "</body></html>"
    )
    server = serve(text=broken)
    _, errors, stderr = load(chromium, server.url, tmp_path / "profile", budget_ms=1000)
    assert "boom" in errors
    assert any("undefined_function" in e for e in errors)
    assert any("lost" in e for e in errors)
    assert any(e.endswith("missing.png") for e in errors)
    # chromium's log sees the script's errors too (not failed requests: only the probe does)
    logged = " ".join(console_lines(stderr))
    assert "boom" in logged and "undefined_function" in logged and "Error: lost" in logged


def test_the_page_trains_and_draws_what_the_server_holds(chromium, serve, tmp_path):
    server = serve()
    url = f"{server.url}?autoplay=1&epochs=1000&frames=4&probe=1"
    dom, errors, stderr = load(chromium, url, tmp_path / "profile")
    assert errors == []
    assert console_lines(stderr) == []

    # the selects come from /api/options
    offered = options()
    assert select_options(dom, "f-dataset") == offered["datasets"]
    assert select_options(dom, "f-activation") == offered["activations"]
    assert select_options(dom, "f-output_activation") == offered["activations"]
    assert select_options(dom, "f-loss") == offered["losses"]
    assert select_options(dom, "f-optimizer") == offered["optimizers"]
    assert select_options(dom, "f-init") == offered["inits"]

    # four frames of 1000 epochs, then paused: the page shows what the server trained
    body = attrs_of(dom, "body")
    assert body["data-frames"] == "4" and body["data-playing"] == "0"
    assert server.playground.epoch == 4000
    assert text_of(dom, "epoch") == "4,000" and body["data-epoch"] == "4000"
    now = server.playground.state([])
    assert float(text_of(dom, "loss")) == pytest.approx(now["loss"], rel=2e-3)
    shown_accuracy = float(text_of(dom, "accuracy").rstrip("%"))
    assert shown_accuracy == pytest.approx(100 * now["accuracy"], abs=0.051)

    # every figure drawn: the boundary shows both classes' colours (and the points), the
    # network both signs of weight, the loss curve its line
    boundary = attrs_of(dom, 'canvas id="boundary"')
    network = attrs_of(dom, 'canvas id="net"')
    curve = attrs_of(dom, 'canvas id="loss-curve"')
    boundary_area = int(boundary["width"]) * int(boundary["height"])
    assert int(boundary["data-ink"]) > 0.6 * boundary_area
    assert int(boundary["data-blue"]) > 0.1 * boundary_area
    assert int(boundary["data-orange"]) > 0.1 * boundary_area
    assert int(network["data-blue"]) > 500 and int(network["data-orange"]) > 500
    assert int(curve["data-blue"]) > 250  # the line (#23486e); axes and labels are grey
    # play22's L5: the P(class 1) key's ramp ends in the map's colours (62 % of the classes')
    ramp = attrs_of(dom, 'span class="ramp" id="p-ramp"')["style"]
    assert "rgb(249, 188, 118)" in ramp and "rgb(102, 171, 214)" in ramp, ramp


def test_a_refused_setting_is_shown_and_the_old_session_trains_on(chromium, serve, tmp_path):
    # as a user: after the first frame, type a layer too wide to draw; press Step; then
    # type widths that work. What the page showed on the way is noted in <pre id="notes">.
    action = """
    var stage = 0, notes = {};
    function note() {
      return {error: document.getElementById("error").hidden ? "" : document.getElementById("error").textContent,
              epoch: document.getElementById("epoch").textContent,
              invalid: document.getElementById("f-hidden").className};
    }
    var timer = setInterval(function () {
      var frames = document.body.getAttribute("data-frames");
      var hidden = document.getElementById("f-hidden");
      var refused = !document.getElementById("error").hidden;
      if (stage === 0 && frames === "1") {
        stage = 1; hidden.value = "10, 99"; hidden.dispatchEvent(new Event("change"));
      } else if (stage === 1 && refused) {
        stage = 2; document.getElementById("step").click();
      } else if (stage === 2 && frames === "2") {
        stage = 3; notes.refused = note();
        hidden.value = "4, 2"; hidden.dispatchEvent(new Event("change"));
      } else if (stage === 3 && !refused) {
        clearInterval(timer); notes.accepted = note();
        var pre = document.createElement("pre");
        pre.id = "notes"; pre.textContent = JSON.stringify(notes);
        document.body.appendChild(pre);
      }
    }, 50);
    """
    server = serve(action=action)
    url = f"{server.url}?autoplay=1&epochs=30&frames=1&probe=1"
    dom, errors, stderr = load(chromium, url, tmp_path / "profile")
    assert errors == []
    assert console_lines(stderr) == []  # a refused setting is the page's to show, not an error
    notes = json.loads(text_of(dom, "notes"))

    # refused: the server's message in red by the field, marked; the old session trained on
    assert notes["refused"]["error"].startswith(
        "hidden: the playground draws at most 6 hidden layers of at most 32 units, got [10, 99]"
    )
    assert notes["refused"]["invalid"] == "invalid"
    assert notes["refused"]["epoch"] == "60"
    # accepted: a new session of 2 -> 4 -> 2 -> 1 units, the message and the mark gone
    assert notes["accepted"] == {"error": "", "epoch": "0", "invalid": ""}
    assert list(server.playground.cfg.hidden_sizes) == [4, 2]
    assert server.playground.epoch == 0
    assert text_of(dom, "net-caption").startswith("2 → 4 → 2 → 1 units")


def test_a_diverging_model_pauses_and_says_why(chromium, serve, tmp_path):
    session = Playground({"activation": "relu", "output_activation": "identity", "lr": 100})
    server = serve(playground=session)
    dom, errors, stderr = load(
        chromium, f"{server.url}?autoplay=1&epochs=10&probe=1", tmp_path / "p"
    )
    assert errors == []
    assert console_lines(stderr) == []
    assert session.stopped.startswith("training diverged at epoch 67")
    assert text_of(dom, "epoch") == "67"
    assert attrs_of(dom, "body")["data-playing"] == "0"
    assert "Training stopped: training diverged at epoch 67" in text_of(dom, "notice")
    assert "disabled" in attrs_of(dom, 'button id="play"')
    assert text_of(dom, "loss") == "–"


def test_input_features_are_checkboxes_that_reset_the_network(chromium, serve, tmp_path):
    # as a user: check x1x2, press Step, then uncheck every feature (refused: at least one
    # is needed). What the page showed on the way is noted in <pre id="notes"> (as it goes:
    # a page stuck on the way shows how far it got).
    action = """
    var stage = 0, notes = {};
    var pre = document.createElement("pre");
    pre.id = "notes";
    document.body.appendChild(pre);
    function show() { notes.stage = stage; pre.textContent = JSON.stringify(notes); }
    function boxes() { return Array.prototype.slice.call(document.querySelectorAll("#f-features input")); }
    function note() {
      var error = document.getElementById("error");
      return {checked: boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; }),
              error: error.hidden ? "" : error.textContent,
              invalid: document.getElementById("f-features").classList.contains("invalid"),
              inputs: document.getElementById("net").getAttribute("data-inputs"),
              epoch: document.getElementById("epoch").textContent};
    }
    var timer = setInterval(function () {
      var refused = !document.getElementById("error").hidden;
      var inputs = document.getElementById("net").getAttribute("data-inputs");
      if (stage === 0 && document.body.getAttribute("data-ready") === "1") {
        stage = 1; notes.start = note(); show();
        document.querySelector('#f-features input[value="x1_x2"]').click();
      } else if (stage === 1 && inputs === "3") {
        stage = 2; notes.checked = note(); show(); document.getElementById("step").click();
      } else if (stage === 2 && document.body.getAttribute("data-frames") === "1") {
        stage = 3; show();
        boxes().forEach(function (b) { b.checked = false; });
        boxes()[0].dispatchEvent(new Event("change"));
      } else if (stage === 3 && refused) {
        stage = 4; clearInterval(timer); notes.none = note(); show();
      }
    }, 50);
    """
    server = serve(action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?epochs=10", tmp_path / "profile")
    assert errors == []
    assert console_lines(stderr) == []
    notes = json.loads(text_of(dom, "notes"))
    assert notes["stage"] == 4, notes

    # one checkbox per options().tf_features, labelled as TensorFlow Playground writes them
    names = re.findall(r'<input type="checkbox" name="features" value="([^"]*)">([^<]*)<', dom)
    assert names == [
        ("x1", "x1"),
        ("x2", "x2"),
        ("x1_sq", "x1²"),
        ("x2_sq", "x2²"),
        ("x1_x2", "x1x2"),
        ("sin_5x1", "sin(X1)"),
        ("sin_5x2", "sin(X2)"),
    ]
    assert [name for name, _ in names] == options()["tf_features"]
    assert (
        text_of(dom, "features-hint").split()
        == (
            "sin(X1), sin(X2): TensorFlow Playground's, whose data are ours × 5, so sin(5x1), "
            "sin(5x2) here"
        ).split()
    )
    # the default session (features None): x1 and x2 checked, two input maps drawn
    assert notes["start"] == {
        "checked": ["x1", "x2"],
        "error": "",
        "invalid": False,
        "inputs": "2",
        "epoch": "0",
    }
    # x1x2 checked: a new session on three inputs, drawn as three maps and trained by Step
    assert notes["checked"]["inputs"] == "3" and notes["checked"]["error"] == ""
    assert notes["checked"]["checked"] == ["x1", "x2", "x1_x2"]
    assert server.playground.cfg.features == ["x1", "x2", "x1_x2"]
    assert server.playground.model.parameters()[0].data.shape == (3, 10)
    assert text_of(dom, "net-caption").startswith("3 → 10 → 10 → 1 units")
    # none checked: the server's message, the group marked and put back to the features
    # training now (the three-input session, kept)
    assert notes["none"]["error"].startswith(
        "features: at least one is needed (accepted: x1, x2, x1_sq, x2_sq, x1_x2, sin_x1, sin_x2, "
        "sin_5x1, sin_5x2)"
    )
    assert "your change to input features was not applied" in notes["none"]["error"]
    assert notes["none"]["invalid"] is True
    assert notes["none"]["checked"] == ["x1", "x2", "x1_x2"]
    assert notes["none"]["inputs"] == "3" and notes["none"]["epoch"] == "10"
    assert server.playground.epoch == 10 and server.playground.cfg.features == ["x1", "x2", "x1_x2"]


# A user's actions as stages: each a JavaScript condition and what to do once it holds
# (one stage at a time, polled every 50 ms). ``notes`` (shown in <pre id="notes"> after
# each stage, with the stage reached) is for what the page showed on the way.
STAGED = """
var stage = 0, notes = {};
var pre = document.createElement("pre");
pre.id = "notes";
document.body.appendChild(pre);
function show() { notes.stage = stage; pre.textContent = JSON.stringify(notes); }
function $$(id) { return document.getElementById(id); }
function data(name) { return document.body.getAttribute("data-" + name); }
function refused() { return !$$("error").hidden; }
function error() { return refused() ? $$("error").textContent : ""; }
function change(id, value) { var c = $$(id); c.value = value; c.dispatchEvent(new Event("change")); }
var stages = [%s];
var timer = setInterval(function () {
  if (stage >= stages.length) { clearInterval(timer); return; }
  if (stages[stage]()) { stage++; show(); }
}, 50);
show();
"""


def staged(*stages: tuple[str, str]) -> str:
    """The script of :data:`STAGED` for ``(condition, action)`` pairs of JavaScript."""
    return STAGED % ",".join(
        f"function () {{ if (!({when})) return false; {then}; return true; }}"
        for when, then in stages
    )


def notes_of(dom: str, stages: int) -> dict:
    notes = json.loads(text_of(dom, "notes"))
    assert notes["stage"] == stages, notes  # a page stuck on the way shows how far it got
    return notes


READY = 'data("ready") === "1"'
PAUSED_AT = 'data("playing") === "0" && data("frames") === "{}"'


def test_no_hidden_layer_from_the_url(chromium, serve, tmp_path):
    # the classic lesson: circle on x1², x2² needs no hidden layer (inputs straight to P(1))
    action = staged(
        (
            PAUSED_AT.format(3),
            'notes.hidden = $$("f-hidden").value;'
            ' notes.activation_off = $$("f-activation").disabled',
        ),
    )
    server = serve(action=action)
    query = "dataset=circle&features=x1_sq,x2_sq&hidden=0&autoplay=1&epochs=100&frames=3&probe=1"
    dom, errors, stderr = load(chromium, f"{server.url}?{query}", tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 1)

    session = server.playground
    assert session.setup()["widths"] == [2, 1] and session.cfg.hidden_sizes == []
    assert session.cfg.features == ["x1_sq", "x2_sq"] and session.epoch == 300
    assert session.state([])["accuracy"] == 1.0
    # drawn: two input maps, two weights (both negative: P(1) falls off with x1² and x2²)
    weights = session.state([])["weights"]
    assert len(weights) == 1 and weights[0][0][0] < -1 and weights[0][1][0] < -1
    network = attrs_of(dom, 'canvas id="net"')
    assert network["data-inputs"] == "2"
    assert int(network["data-orange"]) > 1000  # the two (orange) weight lines and the maps
    assert text_of(dom, "net-caption").startswith("2 → 1 units (no hidden layer)")
    assert text_of(dom, "hidden-hint").startswith("e.g. 10, 10; 0 or empty for none")
    # the field says 0 layers; the hidden activation, unused, is greyed out
    assert notes["hidden"] == "0" and notes["activation_off"] is True


def test_a_page_opened_on_a_trained_session_draws_its_whole_test_curve(chromium, serve, tmp_path):
    settings = {"dataset": "circle", "n": 60, "test_fraction": 0.5, "hidden": [4]}
    # one step of one epoch: the one test loss is a dot (a one-point line would show nothing)
    once = Playground(settings)
    once.step(1)
    dom, errors, _ = load(chromium, f"{serve(once).url}?probe=1", tmp_path / "p1")
    assert errors == []
    curve = attrs_of(dom, 'canvas id="loss-curve"')
    assert curve["data-test-points"] == "1" and curve["data-train-points"] == "1"
    assert int(curve["data-orange"]) > 10

    # seven steps before the page opens, one Step after: every test loss drawn
    trained = Playground(settings)
    for _ in range(7):
        trained.step(20)
    assert len(trained.test_curve) == 70  # 10 a step
    action = staged(
        (
            READY,
            'notes.opened = $$("loss-curve").getAttribute("data-test-points"); $$("step").click()',
        ),
    )
    server = serve(trained, action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?epochs=20&probe=1", tmp_path / "p2")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 1)
    assert notes["opened"] == "70"
    curve = attrs_of(dom, 'canvas id="loss-curve"')
    assert attrs_of(dom, "body")["data-epoch"] == "160" and trained.epoch == 160
    assert curve["data-test-points"] == str(len(trained.test_curve)) == "80"
    assert curve["data-train-points"] == str(len(trained.curve)) == "160"
    assert int(curve["data-orange"]) > 200  # the dashed line and its dots


def test_after_a_refused_setting_other_changes_apply(chromium, serve, tmp_path):
    # as a user: type a layer too wide (refused), then pick tanh, then press Reset
    action = staged(
        (READY, 'change("f-hidden", "40")'),
        (
            "refused()",
            'notes.refused = error(); notes.hidden = $$("f-hidden").value;'
            ' change("f-activation", "tanh")',
        ),
        (
            '!refused() && $$("epoch").textContent === "0"',
            'notes.after = error(); notes.hidden_after = $$("f-hidden").value; $$("reset").click()',
        ),
    )
    server = serve(action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 3)
    # the refusal names the value refused and the field changed; the field shows what trains
    assert notes["refused"].startswith(
        "hidden: the playground draws at most 6 hidden layers of at most 32 units, got [40]"
    )
    assert "your change to hidden layers was not applied" in notes["refused"]
    assert notes["hidden"] == "10, 10"
    # the activation then applies (with the layers training), and Reset restarts them
    session = server.playground
    assert session.cfg.activation == "tanh" and session.cfg.hidden_sizes == [10, 10]
    assert notes["after"] == "" and notes["hidden_after"] == "10, 10"
    assert text_of(dom, "error") == ""


def test_the_learning_rate_changes_without_starting_again(chromium, serve, tmp_path):
    # two frames of 10 epochs, then lr 0.3 (the link shows it once the server took it), Step
    action = staged(
        (PAUSED_AT.format(2), 'change("f-lr", "0.3")'),
        ('$$("link-url").href.indexOf("lr=0.3") >= 0', '$$("step").click()'),
        (
            PAUSED_AT.format(3),
            "notes.error = error();"
            ' notes.points = $$("loss-curve").getAttribute("data-train-points")',
        ),
    )
    server = serve(action=action)
    dom, errors, stderr = load(
        chromium, f"{server.url}?autoplay=1&epochs=10&frames=2", tmp_path / "p"
    )
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 3)
    session = server.playground
    # the same session trained on: 30 epochs in all, the whole curve on the page
    assert session.epoch == 30 and text_of(dom, "epoch") == "30"
    assert len(session.curve) == 30 and notes["points"] == "30"
    assert session.cfg.lr == 0.3 and session.optimizer.lr == 0.3
    assert session.setup()["settings"]["lr"] == 0.3
    assert notes["error"] == ""
    assert "0.3" in select_options(dom, "f-lr")


def test_settings_from_the_url_reach_the_server_and_the_link_gives_them(chromium, serve, tmp_path):
    given = {
        "dataset": "moons",
        "n": "120",
        "noise": "0.2",
        "test_fraction": "0.25",
        "features": "x1,x2,x1_x2",
        "hidden": "6,3",
        "activation": "tanh",
        "output_activation": "sigmoid",
        "loss": "bce",
        "optimizer": "momentum",
        "lr": "0.5",
        "weight_decay": "0.001",
        "batch_size": "full",
        "init": "he",
        "bias": "0",
        "seed": "3",
    }
    action = staged(
        (
            READY,
            "notes.search = window.location.search; notes.error = error();"
            ' notes.lr = $$("f-lr").value; notes.link = $$("link-url").href',
        ),
    )
    server = serve(action=action)
    query = "&".join(f"{k}={v}" for k, v in given.items()) + "&epochs=100"
    dom, errors, stderr = load(chromium, f"{server.url}?{query}", tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 1)
    assert notes["error"] == ""
    assert server.playground.setup()["settings"] == {
        "dataset": "moons",
        "n": 120,
        "noise": 0.2,
        "test_fraction": 0.25,
        "features": ["x1", "x2", "x1_x2"],
        "hidden": [6, 3],
        "activation": "tanh",
        "output_activation": "sigmoid",
        "loss": "bce",
        "optimizer": "momentum",
        "lr": 0.5,
        "momentum": 0.9,  # momentum's own default: the URL gave none
        "weight_decay": 0.001,
        "l1": 0.0,
        "batch_size": None,
        "init": "he",
        "bias": False,
        "batchnorm": False,
        "dropout": 0.0,
        "seed": 3,
    }
    assert server.playground.setup()["widths"] == [3, 6, 3, 1]
    # moons drawn with equal scales on x1 and x2: the plot (the canvas less its margins of
    # 44 + 10 and 8 + 38 px) as wide, over as high, as the grid's spans (about 3.5 by 2.1)
    grid = server.playground.setup()["grid"]
    du, dv = (grid[a][-1] - grid[a][0] for a in ("u", "v"))
    boundary = attrs_of(dom, 'canvas id="boundary"')
    drawn = (int(boundary["width"]) - 54) / (int(boundary["height"]) - 46)
    assert drawn == pytest.approx(du / dv, rel=0.02) and du / dv > 1.6
    # 0.5, not among the page's choices, is offered and chosen
    assert "0.5" in select_options(dom, "f-lr") and notes["lr"] == "0.5"
    # the settings leave the address bar (a reload keeps the training); the page's own stay
    assert notes["search"] == "?epochs=100"
    # the link: the same settings (the defaults left out), the momentum said
    link = urlsplit(notes["link"])
    assert f"{link.scheme}://{link.netloc}/" == server.url
    expected = {k: v for k, v in given.items() if k not in ("output_activation", "batch_size")}
    assert dict(parse_qsl(link.query)) == {**expected, "momentum": "0.9", "epochs": "100"}


def test_a_refused_link_says_why_and_the_session_stays(chromium, serve, tmp_path):
    session = Playground({"dataset": "circle"})
    session.step(10)
    # (a session that has trained: the link's settings wait for "Start this link's settings")
    action = staged(
        (READY, '$$("url-start").click()'),
        ("refused()", "notes.search = window.location.search"),
    )
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?dataset=moons&hiden=0", tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 2)
    message = text_of(dom, "error")
    assert message.startswith("settings: unknown setting 'hiden'")
    assert "did you mean 'hidden'" in message and "the link's settings were not applied" in message
    assert session.cfg.dataset == "circle" and session.epoch == 10
    assert text_of(dom, "epoch") == "10"
    assert notes["search"] == "?dataset=moons&hiden=0"  # kept, to be corrected


ASKED = (
    '{shown: !$$("url-ask").hidden, text: $$("url-ask-text").textContent, epoch: data("epoch"),'
    ' dataset: $$("f-dataset").value, playing: data("playing"), search: window.location.search}'
)


def test_a_link_over_a_trained_session_asks_before_starting_again(chromium, serve, tmp_path):
    # sec25 M1: a link (another site's page, a hidden frame) started a student's trained
    # session again with its settings, unasked. Now it asks; Start applies the link (and its
    # autoplay: the click was the user's), Keep leaves the session and drops the settings.
    query = "?dataset=moons&hidden=3&autoplay=1&epochs=5&frames=2"
    for answer in ("url-start", "url-keep"):
        session = Playground({"dataset": "circle"})
        session.step(40)
        action = staged(
            (READY, f'notes.asked = {ASKED}; $$("{answer}").click()'),
            (
                '$$("url-ask").hidden && data("playing") === "0" && ' + PAUSED_AT.format(2)
                if answer == "url-start"
                else '$$("url-ask").hidden',
                f"notes.after = {ASKED}",
            ),
        )
        server = serve(session, action=action)
        dom, errors, stderr = load(chromium, server.url + query, tmp_path / answer)
        assert errors == [] and console_lines(stderr) == []
        notes = notes_of(dom, 2)
        assert notes["asked"] == {
            "shown": True,
            "text": "This link starts the session again with its settings: the training so far "
            "(40 epochs) would be lost.",
            "epoch": "40",
            "dataset": "circle",
            "playing": "0",
            "search": query,
        }
        if answer == "url-start":
            assert session.cfg.dataset == "moons" and session.cfg.hidden == [3]
            assert session.epoch == 10 and session.session == 2  # two frames of its autoplay
            assert notes["after"]["search"] == "?autoplay=1&epochs=5&frames=2"
        else:
            assert session.cfg.dataset == "circle" and session.epoch == 40 and session.session == 1
            assert notes["after"] == {
                **notes["asked"],
                "shown": False,
                "text": "",
                "search": "?autoplay=1&epochs=5&frames=2",
            }


@pytest.fixture
def other_site(tmp_path):
    """``other_site(html)``: the URL of a page ``html`` on another site (127.0.0.2, a plain
    file server: the same machine, another origin and another site)."""
    started = []

    def start(text: str) -> str:
        folder = tmp_path / f"site{len(started)}"
        folder.mkdir()
        (folder / "page.html").write_text(text)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        handler.log_message = lambda *args: None
        site = http.server.ThreadingHTTPServer(("127.0.0.2", 0), handler)
        threading.Thread(target=site.serve_forever, daemon=True).start()
        started.append(site)
        return f"http://127.0.0.2:{site.server_address[1]}/page.html"

    yield start
    for site in started:
        site.shutdown()
        site.server_close()


def test_another_sites_link_starts_its_settings_but_plays_only_when_clicked(
    chromium, serve, other_site, tmp_path
):
    # sec25 M1: a top-level link from another site is how a lesson is handed out, so its
    # settings start (the session had not trained); its autoplay waits for a click on Play
    action = staged(
        (
            READY,
            'notes.opened = {playing: data("playing"), notice: $$("notice").textContent};'
            ' $$("play").click()',
        ),
        (PAUSED_AT.format(2), "notes.played = true"),
    )
    server = serve(action=action)
    target = f"{server.url}?dataset=moons&autoplay=1&epochs=5&frames=2"
    dom, errors, stderr = load(
        chromium, other_site(f'<script>location.replace("{target}")</script>'), tmp_path / "p"
    )
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 2)
    assert notes["opened"] == {
        "playing": "0",
        "notice": "This page was opened from another site, and its link asks to play at once: "
        "press Play to train.",
    }
    session = server.playground
    assert session.cfg.dataset == "moons" and session.epoch == 10  # after the click only


def test_another_sites_page_cannot_frame_the_playground(chromium, serve, other_site, tmp_path):
    # sec25 M1: a hidden frame's link started the session again and trained it (the frame's
    # POSTs are same-origin); the server's X-Frame-Options / frame-ancestors stop the page
    server = serve()
    frame = f'<iframe width="800" height="600" src="{server.url}?dataset=moons&hidden=7,7&autoplay=1"></iframe>'
    page = other_site(f'<pre id="proplab-probe">[]</pre>{frame}')
    # (another site's frame runs in its own process, out of virtual time's reach: the page
    # would be dumped before the frame's requests; in one process, they count)
    load(chromium, page, tmp_path / "p", more=("--disable-site-isolation-trials",))
    session = server.playground
    assert (session.cfg.dataset, session.session, session.epoch) == ("xor", 1, 0)


def test_frames_pause_each_play(chromium, serve, tmp_path):
    # ?frames=2: two frames, paused; Play: two more; a new dataset (a reset) and Play: two more
    action = staged(
        (PAUSED_AT.format(2), '$$("play").click()'),
        (PAUSED_AT.format(4), 'notes.second = data("epoch"); change("f-dataset", "circle")'),
        ('$$("epoch").textContent === "0"', '$$("play").click()'),
        (PAUSED_AT.format(6), 'notes.third = data("epoch")'),
    )
    server = serve(action=action)
    dom, errors, stderr = load(
        chromium, f"{server.url}?autoplay=1&epochs=10&frames=2", tmp_path / "p"
    )
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 4)
    assert notes["second"] == "40" and notes["third"] == "20"
    assert server.playground.cfg.dataset == "circle" and server.playground.epoch == 20


# what the regularization controls show: the choice, the rate, greyed out or not, the hint
REGULARIZATION = (
    '{choice: $$("f-regularization").value, rate: $$("f-regularization_rate").value,'
    ' off: $$("f-regularization_rate").disabled, hint: $$("regularization-hint").textContent,'
    ' hint_shown: $$("regularization-hint").style.display !== "none",'
    ' invalid: $$("f-regularization_rate").className, link: $$("link-url").href}'
)


def test_the_regularization_select_sends_its_one_rate_as_l1_or_weight_decay(
    chromium, serve, tmp_path
):
    # as a user: L1 (at the page's rate), a rate of 0.01, L2, a negative rate (refused),
    # L1 again, then Step. Each change is taken once the link shows the server took it.
    action = staged(
        (READY, f'notes.start = {REGULARIZATION}; change("f-regularization", "L1")'),
        (
            '$$("link-url").href.indexOf("l1=0.001") >= 0',
            f'notes.l1 = {REGULARIZATION}; change("f-regularization_rate", "0.01")',
        ),
        (
            '$$("link-url").href.indexOf("l1=0.01") >= 0',
            'change("f-regularization", "L2")',
        ),
        (
            '$$("link-url").href.indexOf("weight_decay=0.01") >= 0',
            f'notes.l2 = {REGULARIZATION}; change("f-regularization_rate", "-1")',
        ),
        (
            "refused()",
            f"notes.refused = {REGULARIZATION}; notes.error = error();"
            ' change("f-regularization", "L1")',
        ),
        (
            '!refused() && $$("link-url").href.indexOf("l1=0.01") >= 0',
            f'notes.again = {REGULARIZATION}; $$("step").click()',
        ),
    )
    server = serve(action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?epochs=10", tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 6)
    assert select_options(dom, "f-regularization") == ["None", "L1", "L2"]
    # None at first: the rate greyed out (at the page's 0.001), no hint, nothing in the link
    start = notes["start"]
    assert (start["choice"], start["rate"], start["off"], start["hint_shown"]) == (
        "None",
        "0.001",
        True,
        False,
    )
    assert "l1=" not in start["link"] and "weight_decay=" not in start["link"]
    # L1: the rate is l1's, weight decay 0; the hint says what L1 does
    assert (notes["l1"]["choice"], notes["l1"]["off"], notes["l1"]["hint_shown"]) == (
        "L1",
        False,
        True,
    )
    assert "sign(w)" in notes["l1"]["hint"] and "weight_decay=" not in notes["l1"]["link"]
    # L2: the same rate goes to weight_decay, l1 back to 0
    assert notes["l2"]["choice"] == "L2" and notes["l2"]["rate"] == "0.01"
    assert "l1=" not in notes["l2"]["link"] and "weight decay" in notes["l2"]["hint"]
    # a negative rate: the server's message names weight_decay, the rate field is marked
    # and shows the rate training now
    assert notes["error"].startswith("weight_decay: must be a finite number in [0.0, inf], got -1")
    assert "your change to regularization rate was not applied" in notes["error"]
    assert notes["refused"]["invalid"] == "invalid" and notes["refused"]["rate"] == "0.01"
    # L1 again, at 0.01, trained by Step
    assert notes["again"]["choice"] == "L1" and "weight_decay=" not in notes["again"]["link"]
    session = server.playground
    assert (session.cfg.l1, session.cfg.weight_decay) == (0.01, 0.0)
    assert session.optimizer.hyper["l1"] == 0.01 and session.optimizer.hyper["weight_decay"] == 0
    assert session.epoch == 10 and text_of(dom, "epoch") == "10"


def test_a_link_with_both_rates_shows_l1_and_says_so(chromium, serve, tmp_path):
    action = staged(
        (READY, f'notes.both = {REGULARIZATION}; change("f-regularization", "L2")'),
        (
            '$$("link-url").href.indexOf("l1=") < 0',
            f"notes.l2 = {REGULARIZATION}",
        ),
    )
    server = serve(action=action)
    url = f"{server.url}?dataset=circle&l1=0.003&weight_decay=0.002"
    dom, errors, stderr = load(chromium, url, tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 2)
    both = notes["both"]
    assert (both["choice"], both["rate"], both["hint_shown"]) == ("L1", "0.003", True)
    assert both["hint"] == (
        "this session has both L1 (0.003) and L2 (0.002); a change here keeps only the one chosen"
    )
    # L2 chosen: the rate field's 0.003 goes to weight_decay, l1 to 0
    assert "weight_decay=0.003" in notes["l2"]["link"] and "both" not in notes["l2"]["hint"]
    assert (server.playground.cfg.l1, server.playground.cfg.weight_decay) == (0.0, 0.003)


# ---------------------------------------------------------------- regression sets

# multi-gauss as the README's screenshot shows it (test R² 0.93 after 500 epochs)
BUMPS_QUERY = (
    "dataset=multi-gauss&n=400&noise=0&test_fraction=0.25&hidden=8,8&activation=tanh"
    "&optimizer=adam&lr=0.01&batch_size=10&seed=1"
)


def shown(dom: str, element_id: str) -> bool:
    """Whether the ``.stat`` holding ``#element_id`` is displayed (not ``display: none``)."""
    found = re.search(rf'<div class="stat[^"]*"([^>]*)><span>[^<]*</span><b id="{element_id}"', dom)
    assert found, f"no stat #{element_id}"
    return "display: none" not in found.group(1)


# a link opened on a session that has trained asks first: the user starts its settings
START_LINK = """
var startLink = setInterval(function () {
  if (document.body.getAttribute("data-ready") !== "1") return;
  clearInterval(startLink);
  if (!document.getElementById("url-ask").hidden) document.getElementById("url-start").click();
}, 50);
"""


def test_a_regression_link_shows_r2_and_no_accuracy(chromium, serve, tmp_path):
    action = START_LINK + staged((PAUSED_AT.format(3), 'notes.link = $$("link-url").href'))
    server = serve(action=action)
    url = f"{server.url}?{BUMPS_QUERY}&autoplay=1&epochs=100&frames=3&probe=1"
    dom, errors, stderr = load(chromium, url, tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 1)
    session = server.playground
    assert session.cfg.dataset == "multi-gauss" and session.epoch == 300
    # the link named no output activation: the regression's identity, MSE
    assert (session.cfg.output_activation, session.cfg.loss) == ("identity", "mse")
    now = session.state([])
    assert attrs_of(dom, "body")["data-task"] == "regression"

    # R² shown, train and test, as the server has them; no accuracy (and no "NaN %")
    assert shown(dom, "r2") and shown(dom, "test-r2")
    assert not shown(dom, "accuracy") and not shown(dom, "test-accuracy")
    assert float(text_of(dom, "r2")) == pytest.approx(now["r2"], abs=5e-4)
    assert float(text_of(dom, "test-r2")) == pytest.approx(now["test_r2"], abs=5e-4)
    assert now["test_r2"] > 0.7  # 300 epochs: the bumps are showing
    assert text_of(dom, "accuracy") == text_of(dom, "test-accuracy") == "–"
    assert "NaN" not in dom
    assert float(text_of(dom, "loss")) == pytest.approx(now["loss"], rel=2e-3)

    # the map is titled and keyed as a prediction; the datasets are grouped by task
    title = attrs_of(dom, 'span data-task="regression"')
    assert "display: none" not in title.get("style", "")
    assert re.search(r'<span data-task="regression"[^>]*>\s*Prediction', dom)
    assert re.search(r'id="value-key"[^>]*>value \(map: predicted, points: target\)', dom)
    assert re.search(
        r'<optgroup label="regression"><option value="plane">plane</option>'
        r'<option value="multi-gauss">multi-gauss</option></optgroup>',
        dom,
    )
    assert select_options(dom, "f-dataset") == options()["datasets"]
    # both signs of bump drawn: the map's orange and blue (and the net's output box)
    boundary = attrs_of(dom, 'canvas id="boundary"')
    area = int(boundary["width"]) * int(boundary["height"])
    assert int(boundary["data-blue"]) > 0.08 * area and int(boundary["data-orange"]) > 0.08 * area

    # the link: the settings that differ from multi-gauss's own (its lr 0.01 is not 0.03;
    # the identity output, MSE, tanh, Adam, 400 points and no noise are the dataset's and
    # are left out)
    link = dict(parse_qsl(urlsplit(notes["link"]).query))
    own = ("n", "noise", "activation", "optimizer")
    assert link == {
        **{k: v for k, v in parse_qsl(BUMPS_QUERY) if k not in own},
        "batch_size": "10",
        "epochs": "100",
    }
    # opened (and started: the session had trained), it starts the same session again
    before = session.setup()["settings"]
    dom, errors, _ = load(chromium, notes["link"], tmp_path / "p2", budget_ms=2000)
    assert errors == []
    assert server.playground.epoch == 0 and server.playground.setup()["settings"] == before


def test_choosing_a_regression_set_switches_its_task_settings_and_back(chromium, serve, tmp_path):
    form = (
        '{loss: $$("f-loss").value, output: $$("f-output_activation").value,'
        ' lr: $$("f-lr").value, hint: $$("data-hint").textContent,'
        ' activation: $$("f-activation").value, optimizer: $$("f-optimizer").value,'
        ' momentum: $$("f-momentum").value, n: $$("f-n").value, noise: $$("f-noise").value}'
    )
    action = staged(
        (READY, 'change("f-dataset", "plane")'),
        (
            'data("task") === "regression"',
            f'notes.plane = {form}; change("f-loss", "bce")',
        ),
        (
            "refused()",
            f'notes.bce = {form}; notes.error = error(); notes.invalid = $$("f-loss").className;'
            ' change("f-output_activation", "tanh")',
        ),
        (
            '!refused() && $$("link-url").href.indexOf("output_activation=tanh") >= 0',
            'change("f-dataset", "multi-gauss")',
        ),
        (
            '$$("link-url").href.indexOf("dataset=multi-gauss") >= 0',
            f'notes.same_task = {form}; change("f-dataset", "circle")',
        ),
        ('data("task") === "classification"', f"notes.circle = {form}"),
    )
    # a classification session far from the lab's settings: relu units, momentum 0.5
    start = {"dataset": "circle", "activation": "relu", "optimizer": "momentum", "momentum": 0.5}
    server = serve(Playground({**start, "n": 200, "noise": 0.3}), action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 6)
    # plane: what `proplab train` gives it, MSE on an identity output, tanh units, Adam
    # (its own default momentum) at lr 0.03, 400 points without noise (the lab's sigmoid
    # and SGD at 1.0 would not fit)
    regression = {"activation": "tanh", "optimizer": "adam", "momentum": "0", "n": "400"}
    assert notes["plane"] == {
        "loss": "mse",
        "output": "identity",
        "lr": "0.03",
        "hint": "regression: targets are values in [−1, 1]",
        **regression,
        "noise": "0",
    }
    # bce refused with the reason, in red by the loss, which goes back to mse
    assert notes["error"].startswith(
        "loss: plane is a regression (targets are values to predict, not classes), "
        "so 'bce' does not apply; accepted: mse"
    )
    assert "your change to loss was not applied" in notes["error"]
    assert notes["invalid"] == "invalid" and notes["bce"]["loss"] == "mse"
    # another regression set keeps the output chosen (tanh); a classification set takes
    # the lab's settings again: sigmoid units and output, SGD at lr 1.0, 100 points, noise 0.1
    assert notes["same_task"]["output"] == "tanh" and notes["same_task"]["lr"] == "0.03"
    assert {k: notes["same_task"][k] for k in regression} == regression
    assert notes["circle"] == {
        "loss": "mse",
        "output": "sigmoid",
        "lr": "1",
        "hint": "",
        "activation": "sigmoid",
        "optimizer": "sgd",
        "momentum": "0",
        "n": "100",
        "noise": "0.1",
    }
    session = server.playground
    assert session.cfg.dataset == "circle" and session.cfg.output_activation == "sigmoid"
    assert (session.cfg.lr, session.cfg.activation, session.cfg.optimizer) == (
        1.0,
        "sigmoid",
        "sgd",
    )
    # momentum None: the optimizer's own default, not the 0.5 the session started with
    assert (session.cfg.n, session.cfg.noise, session.cfg.momentum) == (100, 0.1, None)
    assert attrs_of(dom, "body")["data-task"] == "classification"
    assert shown(dom, "accuracy") and not shown(dom, "r2")


def test_a_regression_link_with_a_sigmoid_output_says_why(chromium, serve, tmp_path):
    session = Playground({"dataset": "circle"})
    session.step(10)
    server = serve(session, action=START_LINK + staged(("refused()", "notes.refused = true")))
    url = f"{server.url}?dataset=plane&output_activation=sigmoid"
    dom, errors, stderr = load(chromium, url, tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes_of(dom, 1)
    message = text_of(dom, "error")
    assert re.match(
        r"output_activation: 'sigmoid' outputs values in \[0, 1\] only, but plane's targets "
        r"are negative as well as positive; accepted: tanh, leaky_relu, identity",
        message,
    )
    assert "the link's settings were not applied" in message
    assert 'class="invalid"' in re.search(r'<select id="f-output_activation"[^>]*>', dom).group(0)
    assert session.cfg.dataset == "circle" and session.epoch == 10


# what the batchnorm and dropout controls show, and the link
BN_DROPOUT = (
    '{batchnorm: $$("f-batchnorm").checked, dropout: $$("f-dropout").value,'
    ' caption: $$("net-caption").textContent, eval_key: $$("eval-key").hidden ? "" :'
    ' $$("eval-key").textContent, invalid: $$("f-dropout").className, link: $$("link-url").href,'
    ' share: !$$("share").hidden}'
)


def test_batchnorm_and_dropout_from_a_link_are_shown_and_the_link_gives_them_back(
    chromium, serve, tmp_path
):
    # a link with batchnorm=1&dropout=0.2; the Link button; then a dropout of 1 (refused,
    # in red, naming it), then hidden 0 (batchnorm and dropout greyed out and sent off)
    action = staged(
        (READY, f'$$("link").click(); notes.start = {BN_DROPOUT}; change("f-dropout", "1")'),
        (
            "refused()",
            f'notes.refused = {BN_DROPOUT}; notes.error = error(); change("f-hidden", "0")',
        ),
        (
            '!refused() && $$("net-caption").textContent.indexOf("no hidden layer") >= 0',
            f"notes.none = {BN_DROPOUT};"
            ' notes.off = [$$("f-batchnorm").disabled, $$("f-dropout").disabled]',
        ),
    )
    server = serve(action=action)
    query = "dataset=xor&hidden=8,8&batchnorm=1&dropout=0.2&lr=0.1&epochs=100"
    dom, errors, stderr = load(chromium, f"{server.url}?{query}", tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 3)
    start = notes["start"]
    assert start["batchnorm"] is True and start["dropout"] == "0.2"
    assert start["caption"] == "2 → 8 → 8 → 1 units, batchnorm, dropout 0.2, 21 training points"
    assert "eval mode (batchnorm's running statistics, no dropout)" in start["eval_key"]
    # play22's L3: the lines are the raw weights, which batchnorm rescales after them
    assert start["eval_key"].endswith(
        "; lines: the Linear layers' weights, before batchnorm rescales them"
    )
    # the Link button: the address of these settings, the same as the link opened
    assert start["share"] is True
    link = dict(parse_qsl(urlsplit(start["link"]).query))
    assert link == {
        "dataset": "xor",
        "hidden": "8,8",
        "batchnorm": "1",
        "dropout": "0.2",
        "lr": "0.1",
        "epochs": "100",
    }
    # a dropout of 1: the server's message in red, the field marked, the form put back
    message = notes["error"]
    assert message.startswith("dropout: must be a probability in [0, 1) ")
    assert "got 1" in message and "your change to dropout was not applied" in message
    assert "invalid" in notes["refused"]["invalid"] and notes["refused"]["dropout"] == "0.2"
    # no hidden layer: nothing to normalise or drop; the fields greyed out, sent off
    assert notes["off"] == [True, True]
    assert notes["none"]["caption"].startswith("2 → 1 units (no hidden layer), 21 training")
    assert notes["none"]["eval_key"] == ""
    cfg = server.playground.cfg
    assert (list(cfg.hidden_sizes), cfg.batchnorm, cfg.dropout) == ([], False, 0)


# where the page draws a point (x1, x2) on the map, from the canvas's data-plot and
# data-range; a click there as a mouse would make it; how dark the map is on the ring
# around a point (the darkest of 5 pixels just right of it: the ring is drawn 9 px out)
ON_THE_MAP = """
function where(p) {
  var c = document.getElementById("boundary");
  var plot = c.getAttribute("data-plot").split(" ").map(Number);
  var range = c.getAttribute("data-range").split(" ").map(Number);
  return {x: plot[0] + (p[0] - range[0]) * plot[2] / (range[1] - range[0]),
          y: plot[1] + plot[3] - (p[1] - range[2]) * plot[3] / (range[3] - range[2])};
}
function clickAt(p) {
  var c = document.getElementById("boundary"), box = c.getBoundingClientRect(), w = where(p);
  c.dispatchEvent(new MouseEvent("click", {bubbles: true, clientX: box.left + w.x, clientY: box.top + w.y}));
}
function ringInk(p) {
  var c = document.getElementById("boundary"), w = where(p), r = window.devicePixelRatio || 1;
  // read from a copy made for reading (as the page's probe does: no readback warning)
  var copy = document.createElement("canvas");
  copy.width = c.width; copy.height = c.height;
  var ctx = copy.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(c, 0, 0);
  var d = ctx.getImageData(Math.round((w.x + 7) * r), Math.round(w.y * r), Math.round(5 * r), 1).data;
  var darkest = 255;
  for (var k = 0; k < d.length; k += 4) darkest = Math.min(darkest, (d[k] + d[k + 1] + d[k + 2]) / 3);
  return darkest;
}
"""


def test_one_step_by_hand_opens_under_the_map_for_the_clicked_point(chromium, serve, tmp_path):
    # paused at epoch 200: click training point 3 on the map; the panel shows its step, the
    # point ringed; Close; the button (the point nearest that click); then Play closes it
    session = Playground({"hidden": [2, 2]})
    session.step(200)
    point = session.x[3].tolist()
    expected = session.trace(3)["text"]
    panel = (
        '{hidden: $$("trace-panel").hidden, about: $$("trace-about").textContent,'
        f' text: $$("trace-text").textContent, ring: ringInk({point})}}'
    )
    shown = '!$$("trace-text").hidden'
    action = ON_THE_MAP + staged(
        (READY, f"notes.before = ringInk({point}); clickAt({point})"),
        (shown, f'notes.clicked = {panel}; $$("trace-close").click()'),
        ('$$("trace-panel").hidden', f'notes.closed = {panel}; $$("trace").click()'),
        (
            shown,
            f'notes.button = {panel}; $$("play").click(); notes.at_play = $$("trace-panel").hidden',
        ),
        (PAUSED_AT.format(2), f"notes.played = {panel}"),
    )
    server = serve(playground=session, action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?epochs=10&frames=2", tmp_path / "p")
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 5)

    clicked = notes["clicked"]
    assert clicked["hidden"] is False
    assert clicked["text"] == expected  # the server's trace, as proplab trace prints it
    assert "FORWARD  input to output" in clicked["text"] and "x = [[0.1000  0.9000]]" in expected
    assert clicked["about"].startswith(
        "Training point 3 (ringed on the map): x1 = 0.1, x2 = 0.9, target t = 1 (class 1). "
        "Paused at epoch 200: training did not move. Below is the step this one sample alone "
        "would take from here (training itself steps on all 21 training points at once)."
    )
    # the point ringed while the panel is open (dark), not before nor after it closed
    assert notes["before"] > 200 and clicked["ring"] < 80
    assert notes["closed"]["hidden"] is True and notes["closed"]["ring"] > 200
    # the button takes the training point nearest the last click: the same one
    assert notes["button"]["text"] == expected and notes["button"]["ring"] < 80
    # Play closed it at once, and trained on from where the trace left the session
    assert notes["at_play"] is True
    assert notes["played"]["hidden"] is True and notes["played"]["ring"] > 200
    assert session.epoch == 220


def test_one_step_by_hand_with_dropout_says_the_step_drops_units(chromium, serve, tmp_path):
    # the trace is a training step (dropout on, its mask in the text), the map the eval-mode
    # model: the two losses differ, and the panel says why
    session = Playground({"hidden": [4], "dropout": 0.5})
    session.step(50)
    point = session.x[1].tolist()
    panel = '{about: $$("trace-about").textContent, text: $$("trace-text").textContent}'
    action = ON_THE_MAP + staged(
        (READY, f"clickAt({point})"),
        ('!$$("trace-text").hidden', f"notes.clicked = {panel}"),
    )
    server = serve(playground=session, action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    clicked = notes_of(dom, 2)["clicked"]
    assert "(dropout on, as in training: the mask is in the text, so this loss is not the " \
        "eval-mode one the map shows)" in clicked["about"]  # fmt: skip
    assert (
        "        mask = [[" in clicked["text"] and "(with the same dropout mask)" in clicked["text"]
    )


class _Shown(Playground):
    """A session whose reported scores are replaced by ``scores`` (what the page must round)."""

    def __init__(self, settings: dict, scores: dict) -> None:
        self.scores = scores  # first: the constructor already reports a state
        super().__init__(settings)

    def state(self, curve, test_curve=None):
        return {**super().state(curve, test_curve), **self.scores}


@pytest.mark.parametrize(
    ("settings", "scores", "shown"),
    [
        # 1 999 of 2 000 right is not "100.0%"; all right is
        (
            {"dataset": "circle", "test_fraction": 0.5},
            {"accuracy": 1999 / 2000, "test_accuracy": 1.0},
            {"accuracy": "99.9%", "test-accuracy": "100.0%"},
        ),
        # R² just short of 1 is not "1.000", and a rounded zero has no sign
        (
            {"dataset": "plane", "test_fraction": 0.5},
            {"r2": 0.99951, "test_r2": -0.0001},
            {"r2": "0.999", "test-r2": "0.000"},
        ),
    ],
)
def test_scores_are_never_rounded_to_a_perfect_or_signed_zero(
    chromium, serve, tmp_path, settings, scores, shown
):
    server = serve(_Shown(settings, scores), action=staged((READY, "notes.ok = 1")))
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes_of(dom, 1)
    assert {element: text_of(dom, element) for element in shown} == shown


def test_a_page_playing_when_another_page_starts_the_session_again_loads_it(
    chromium, serve, tmp_path
):
    # play22's H1: "another tab" (a fetch behind the page's back) starts the shared session
    # again with another network, while the page plays: the page pauses, loads the new setup
    # and says so (it used to throw and freeze). Then again with the same shape on another
    # dataset, the page paused, and Step pressed: no error, but the page used to draw the
    # new model's map and accuracy over the old points and form.
    def reset_behind(settings: dict, then: str = "") -> str:
        return (
            'fetch("api/reset", {method: "POST", headers: {"Content-Type": "application/json"},'
            f" body: JSON.stringify({json.dumps(settings)})}}).then(function () {{ {then} }})"
        )

    page = (
        '{dataset: $$("f-dataset").value, hidden: $$("f-hidden").value,'
        ' caption: $$("net-caption").textContent, notice: $$("notice").textContent,'
        ' playing: data("playing"), epoch: data("epoch"), accuracy: $$("accuracy").textContent}'
    )
    spiral = {"dataset": "spiral", "hidden": [3, 5, 2], "n": 300}
    quadrants = {**spiral, "dataset": "xor-quadrants", "n": 200, "lr": 3, "activation": "tanh"}
    action = staged(
        ('data("ready") === "1" && Number(data("frames")) >= 3', reset_behind(spiral)),
        ('$$("f-dataset").value === "spiral" && data("playing") === "0"', f"notes.first = {page}"),
        ("true", reset_behind(quadrants, '$$("step").click()')),
        ('$$("f-dataset").value === "xor-quadrants"', f"notes.second = {page}"),
    )
    server = serve(Playground({"dataset": "circle", "hidden": [4]}), action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?autoplay=1", tmp_path / "p", 8000)
    assert errors == []
    assert console_lines(stderr) == []
    notes = notes_of(dom, 4)
    said = (
        "Paused: the session was started again from another page (or a Link); "
        "this page now shows that session."
    )
    first, second = notes["first"], notes["second"]
    assert first["notice"] == said and first["playing"] == "0"
    assert first["hidden"] == "3, 5, 2"
    assert first["caption"] == "2 → 3 → 5 → 2 → 1 units, 300 training points"
    # the second: loaded again, showing the server's session, its epoch and accuracy
    session = server.playground
    assert session.session == 3 and session.cfg.dataset == "xor-quadrants"
    assert second["notice"] == said and second["playing"] == "0"
    assert second["caption"] == "2 → 3 → 5 → 2 → 1 units, 200 training points"
    assert second["epoch"] == str(session.epoch) == "10"  # the Step the page sent trained it
    accuracy = session.state([])["accuracy"]
    assert second["accuracy"] == f"{100 * accuracy:.1f}%"
    assert text_of(dom, "net-caption") == second["caption"]


class _BrokenStep(Playground):
    """A session whose steps answer a state the page cannot draw (no weights)."""

    def step(self, epochs):
        return {**super().step(epochs), "weights": None}


def test_a_step_the_page_fails_to_draw_pauses_it_saying_so(chromium, serve, tmp_path):
    # a bug while drawing a frame used to leave the page "playing" (Pause shown) with
    # nothing moving; now it pauses and says so (and logs the error: the probe sees it)
    action = staged(
        (
            'data("frames") === "1" && data("playing") === "0"',
            'notes.notice = $$("notice").textContent; notes.play = $$("play").textContent',
        ),
    )
    server = serve(_BrokenStep({"hidden": [4]}), action=action)
    dom, errors, _ = load(chromium, f"{server.url}?autoplay=1", tmp_path / "p")
    notes = notes_of(dom, 1)
    assert notes["notice"].startswith("Paused: this page failed to show the server's answer (")
    assert notes["notice"].endswith("); reload the page to go on.")
    assert notes["play"] == "Play"
    assert len(errors) == 1 and "TypeError" in errors[0]
    assert server.playground.epoch == 10  # one frame, then no more


class _Traces(Playground):
    """A session that counts the traces it is asked for."""

    traces = 0

    def trace(self, sample, digits=4):
        self.traces += 1
        return super().trace(sample, digits)


def test_one_step_by_hand_is_off_with_batchnorm_saying_why(chromium, serve, tmp_path):
    # play22's M2: with batchnorm the button was offered, then the server refused the step;
    # now it is disabled with the reason as its title, the map's hint says it, and a click
    # on a training point asks nothing. Batchnorm unticked: all back.
    session = _Traces({"hidden": [4], "batchnorm": True})
    session.step(20)
    point = session.x[3].tolist()
    shown = (
        '{disabled: $$("trace").disabled, title: $$("trace").title,'
        ' hint: $$("trace-hint").textContent, panel: $$("trace-panel").hidden}'
    )
    action = ON_THE_MAP + staged(
        (READY, f"clickAt({point}); notes.on = {shown}"),
        (
            "true",
            'var b = $$("f-batchnorm"); b.checked = false; b.dispatchEvent(new Event("change"))',
        ),
        ('!$$("trace").disabled', f"notes.off = {shown}"),
    )
    server = serve(playground=session, action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 3)
    why = "off with batchnorm: a step on one sample alone has no variance to normalise by"
    assert notes["on"] == {
        "disabled": True,
        "title": "One step by hand is " + why,
        "hint": "one step by hand: " + why,
        "panel": True,
    }
    assert session.traces == 0
    assert notes["off"]["hint"] == (
        "paused: click a training point (or number it beside One step by hand) for one step by hand"
    )
    assert notes["off"]["title"].startswith("paused: the next training step on one point")
    assert server.playground.cfg.batchnorm is False


def test_weight_lines_are_drawn_on_one_scale_for_every_layer(chromium, serve, tmp_path):
    # play22's M1: widths were scaled by each layer's own largest |w|, so a layer of tiny
    # weights (L1 shrinking them, a dead layer) was drawn as thick as a trained one
    session = Playground({"dataset": "circle", "hidden": [4, 4]})
    first, second, third = (p for p in session.model.parameters() if p.data.ndim == 2)
    first.data[0, 0] = 3.0  # past the thickest
    second.data *= 0.01 / np.abs(second.data).max()  # largest |w| 0.01
    third.data *= 1.0 / np.abs(third.data).max()  # largest |w| 1: half the scale
    server = serve(session, action=staged((READY, "notes.ok = 1")))
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes_of(dom, 1)
    widest = [float(w) for w in attrs_of(dom, 'canvas id="net"')["data-line-widths"].split()]
    # 0.4 + 3.4 * min(|w|, 2) / 2 (px): one scale, whatever the layer's own largest |w|
    assert widest == pytest.approx([3.8, 0.4 + 3.4 * 0.005, 0.4 + 3.4 * 0.5], abs=0.006)
    assert text_of(dom, "weight-full") == "2"


@pytest.mark.parametrize("window", ["1000,768", "1024,768", "1400,900"])
def test_the_network_is_in_sight_beside_the_map_on_a_projector(chromium, serve, tmp_path, window):
    # play22's M3: from 641 to 1120 px wide the map took the whole right column and the
    # network started ~1 270 px down, out of sight on a 1024 x 768 projector
    where = (
        "function box(id) { var r = $$(id).getBoundingClientRect();"
        " return [Math.round(r.left), Math.round(r.top), Math.round(r.right),"
        " Math.round(r.bottom)]; }"
        "notes.net = box('net'); notes.map = box('boundary'); notes.height = window.innerHeight;"
        "notes.width = window.innerWidth"
    )
    session = Playground({"dataset": "circle", "hidden": [4, 4]})
    server = serve(session, action=staged((READY, where)))
    dom, errors, _ = load(chromium, server.url, tmp_path / "p", window=window)
    assert errors == []
    notes = notes_of(dom, 1)
    net, map_, height = notes["net"], notes["map"], notes["height"]
    assert net[3] <= height  # the whole network drawing in sight
    assert map_[1] < height / 2  # the map beside it, its top half way up at most
    assert net[2] <= map_[0]  # side by side: the network left of the map
    assert net[2] - net[0] >= 300  # and wide enough to draw


@pytest.mark.parametrize(
    ("query", "given"),
    [
        ("dataset=xor&n=1000000000&noise=0.5&lr=0.5", "dataset=xor&lr=0.5"),
        ("dataset=linear&n=60&noise=0.3", "dataset=linear&n=60"),
    ],
)
def test_the_link_leaves_out_what_the_dataset_ignores(chromium, serve, tmp_path, query, given):
    # play22's L2: xor ignores n and noise, linear noise; the Link carried them all the same
    server = serve(action=staged((READY, 'notes.link = $$("link-url").href')))
    dom, errors, _ = load(chromium, f"{server.url}?{query}", tmp_path / "p")
    assert errors == []
    link = notes_of(dom, 1)["link"]
    assert link.split("?", 1)[1] == given


def test_frames_bigger_than_one_step_may_take_are_capped_saying_so(
    chromium, serve, tmp_path, monkeypatch
):
    # play22's L1: 1000 epochs a frame of a network the server takes at most 5 of in one
    # step were refused at once, pausing Play; now each frame takes 5, and the page says so
    monkeypatch.setattr(playground, "MAX_STEP_UPDATES", 250)  # 50 mini-batches an epoch: 5
    session = Playground({"dataset": "circle", "n": 500, "hidden": [8], "batch_size": 10})
    action = staged(
        (
            PAUSED_AT.format(2),
            'notes.notice = $$("notice").textContent; notes.cap = $$("frame-cap")'
            '.hidden ? "" : $$("frame-cap").textContent',
        ),
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, f"{server.url}?autoplay=1&epochs=1000&frames=2", tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert session.epoch == 10 and notes["notice"] == ""
    assert notes["cap"] == "(5 here: the most one step of this network on these points takes)"


# The network canvas as the page draws it: each unit's box (data-unit-boxes, column by
# column) and a weight line's Bezier curve (as drawNetwork makes it); hovering a point
ON_THE_NET = """
function netBoxes() {
  return $$("net").getAttribute("data-unit-boxes").split(";").map(function (b) {
    return b.split(",").map(Number);
  });
}
function linePoint(a, b, t) {
  var s = Number($$("net").getAttribute("data-spacing")), u = 1 - t;
  var p = [[a[0] + a[2] / 2, a[1]], [a[0] + s / 2, a[1]], [b[0] - s / 2, b[1]], [b[0] - b[2] / 2, b[1]]];
  var k = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return [0, 1].map(function (d) { return k[0] * p[0][d] + k[1] * p[1][d] + k[2] * p[2][d] + k[3] * p[3][d]; });
}
function hover(p) {
  var c = $$("net"), box = c.getBoundingClientRect();
  c.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: box.left + p[0], clientY: box.top + p[1]}));
  return $$("net-tip").hidden ? "" : $$("net-tip").textContent;
}
function pixel(p) {
  var c = $$("net"), r = window.devicePixelRatio || 1;
  var copy = document.createElement("canvas");
  copy.width = c.width; copy.height = c.height;
  var ctx = copy.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(c, 0, 0);
  return Array.prototype.slice.call(ctx.getImageData(Math.round(p[0] * r), Math.round(p[1] * r), 1, 1).data, 0, 3);
}
"""


def test_hovering_the_network_shows_weights_and_biases_and_biases_are_drawn(
    chromium, serve, tmp_path
):
    # TensorFlow Playground's tooltips: a line gives its weight, a unit its bias; each
    # unit's bias is a small square at its foot in the lines' colours
    session = Playground(
        {"dataset": "circle", "hidden": [2], "activation": "tanh", "optimizer": "adam", "lr": 0.03}
    )
    state = session.step(100)
    weights, biases = state["weights"], state["biases"]
    # boxes: x1, x2 (inputs), the two hidden units, the output
    action = ON_THE_NET + staged(
        (
            READY,
            "var b = netBoxes(); notes.boxes = b.length;"
            " notes.line = hover(linePoint(b[1], b[2], 0.3));"  # x2 -> hidden unit 1
            " notes.line2 = hover(linePoint(b[3], b[4], 0.5));"  # hidden unit 2 -> output
            " notes.unit = hover([b[3][0], b[3][1]]);"  # hidden unit 2
            " notes.mark = hover([b[4][0] - b[4][2] / 2 - 3, b[4][1] + b[4][3] / 2 - 2]);"
            " notes.input = hover([b[0][0], b[0][1]]);"
            " notes.nothing = hover([2, 2]); notes.caption = $$('net-hover').textContent;"
            " notes.marks = $$('net').getAttribute('data-bias-marks');"
            " notes.hidden_colour = pixel([b[2][0] - b[2][2] / 2 - 3, b[2][1] + b[2][3] / 2 - 3]);"
            " notes.out_colour = pixel([b[4][0] - b[4][2] / 2 - 3, b[4][1] + b[4][3] / 2 - 3])",
        ),
    )
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 1)
    assert notes["boxes"] == 5
    # the numbers are the model's, as the server sent them
    assert notes["line"] == f"weight x2 → layer 1 unit 1: {weights[0][1][0]}"
    assert notes["line2"] == f"weight layer 1 unit 2 → output: {weights[1][1][0]}"
    assert notes["unit"].startswith("hidden layer 1, unit 2: tanh output ")
    assert notes["unit"].endswith(f"; bias {biases[0][1]}")
    assert notes["mark"] == f"output: P(class 1); bias {biases[1][0]}"
    assert notes["input"].startswith("input x1: ") and "bias" not in notes["input"]
    assert notes["nothing"] == "" and notes["caption"] == ""
    # a mark on each hidden unit and the output, coloured by the bias's sign (hidden
    # biases positive: blue; the output's negative: orange), strongly (|b| > 1.5)
    assert biases[0][0] > 1.5 and biases[1][0] < -1.5
    assert notes["marks"] == "0 2 1"
    r, g, b = notes["hidden_colour"]
    assert b > r + 80, notes["hidden_colour"]
    r, g, b = notes["out_colour"]
    assert r > b + 80, notes["out_colour"]


def test_without_biases_no_mark_is_drawn_and_the_key_says_why(chromium, serve, tmp_path):
    session = Playground({"dataset": "circle", "hidden": [3], "bias": False})
    action = ON_THE_NET + staged(
        (
            READY,
            "var b = netBoxes(); notes.unit = hover([b[2][0], b[2][1]]);"
            " notes.marks = $$('net').getAttribute('data-bias-marks');"
            " notes.key = $$('no-bias-key').textContent",
        ),
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert notes["marks"] == "0 0 0"
    assert notes["unit"].endswith("; no bias")
    assert notes["key"] == " (none here: bias is off)"


def test_regenerate_draws_new_data_by_the_next_seed_and_the_link_gives_it_back(
    chromium, serve, tmp_path
):
    # TensorFlow Playground's Regenerate: the next seed (new points, started again); the
    # Link carries the seed. "show test data" off leaves the test points off the map
    settings = {"dataset": "circle", "n": 80, "test_fraction": 0.25, "seed": 6}
    session = Playground(settings)
    session.step(20)
    old_x = session.x.copy()
    action = staged(
        (
            READY,
            'notes.drawn = $$("boundary").getAttribute("data-test-drawn");'
            ' notes.title = $$("regenerate").title; $$("regenerate").click()',
        ),
        (
            '$$("link-url").href.indexOf("seed=7") >= 0',
            'notes.link = $$("link-url").href; notes.seed = $$("f-seed").value;'
            ' notes.epoch = $$("epoch").textContent;'
            ' var box = $$("show-test"); box.checked = false; box.dispatchEvent(new Event("change"));'
            ' notes.hidden_drawn = $$("boundary").getAttribute("data-test-drawn")',
        ),
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 2)
    assert notes["drawn"] == "20" and notes["hidden_drawn"] == "0"
    # tfp25 F7: the button says it draws new first weights too, unlike TensorFlow Playground's
    assert notes["title"] == (
        "draw new data: the next seed, which draws new first weights too and starts again at "
        "epoch 0 (TensorFlow Playground's Regenerate keeps the network training)"
    )
    # started again on the next seed's points (as a new Playground of seed 7 draws them)
    assert server.playground.cfg.seed == 7 and server.playground.epoch == 0
    assert notes["seed"] == "7" and notes["epoch"] == "0"
    fresh = Playground({**settings, "seed": 7})
    np.testing.assert_array_equal(server.playground.x, fresh.x)
    np.testing.assert_array_equal(server.playground.x_test, fresh.x_test)
    assert not np.array_equal(server.playground.x, old_x)

    # the Link starts that session (the same points) in a page of another server
    query = notes["link"].split("?", 1)[1]
    assert dict(parse_qsl(query))["seed"] == "7"
    other = serve(action=staged((READY, "notes.ok = 1")))
    _, errors, _ = load(chromium, f"{other.url}?{query}", tmp_path / "q")
    assert errors == []
    np.testing.assert_array_equal(other.playground.x, fresh.x)
    np.testing.assert_array_equal(other.playground.x_test, fresh.x_test)


def test_regenerate_is_off_for_xor_saying_why(chromium, serve, tmp_path):
    action = staged(
        (
            READY,
            'notes.off = $$("regenerate").disabled; notes.title = $$("regenerate").title',
        ),
    )
    server = serve(Playground({"dataset": "xor"}), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert notes["off"] is True
    assert notes["title"] == "xor's 21 points are fixed: no new data to draw"


UNIT_BUTTON = '$$("unit-buttons").querySelector(\'[data-layer="{}"][data-delta="{}"]\')'


def test_plus_and_minus_buttons_change_the_hidden_layers(chromium, serve, tmp_path):
    # TensorFlow Playground's +/-: a layer (of 2 units) more or fewer, a unit more or fewer
    # in one layer; each starts again through the "hidden layers" field, as typing would
    caption = '$$("net-caption").textContent.indexOf("{}") === 0'
    action = staged(
        (READY, '$$("layers-plus").click()'),
        (caption.format("2 → 2 → 2 → 1 units"), UNIT_BUTTON.format(1, 1) + ".click()"),
        (
            caption.format("2 → 2 → 3 → 1 units"),
            'notes.field = $$("f-hidden").value; ' + UNIT_BUTTON.format(0, -1) + ".click()",
        ),
        (caption.format("2 → 1 → 3 → 1 units"), '$$("layers-minus").click()'),
        (
            caption.format("2 → 1 → 1 units"),
            'notes.unit_minus_off = $$("unit-buttons").querySelectorAll("button")[0].disabled;'
            ' $$("layers-minus").click()',
        ),
        (
            caption.format("2 → 1 units (no hidden layer)"),
            'notes.minus_off = $$("layers-minus").disabled;'
            ' notes.unit_buttons = $$("unit-buttons").children.length',
        ),
    )
    server = serve(Playground({"hidden": [2]}), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 6)
    assert notes["field"] == "2, 3"
    assert notes["unit_minus_off"] is True  # a layer keeps at least one unit
    assert notes["minus_off"] is True and notes["unit_buttons"] == 0
    assert server.playground.cfg.hidden_sizes == []


def test_plus_buttons_stop_at_the_limits_the_server_keeps(chromium, serve, tmp_path):
    limits = options()["limits"]
    widest = [limits["width"]] + [1] * (limits["layers"] - 1)  # 6 layers, the first of 32
    action = staged(
        (
            READY,
            'notes.layers_plus = $$("layers-plus").disabled;'
            " notes.first_plus = " + UNIT_BUTTON.format(0, 1) + ".disabled;"
            " notes.first_minus = " + UNIT_BUTTON.format(0, -1) + ".disabled;"
            " notes.last_plus = " + UNIT_BUTTON.format(5, 1) + ".disabled;"
            ' change("f-hidden", "33")',  # typed past the limit: the server's refusal
        ),
        ("refused()", "notes.error = error()"),
    )
    server = serve(Playground({"hidden": widest}), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 2)
    assert notes["layers_plus"] is True and notes["first_plus"] is True
    assert notes["first_minus"] is False and notes["last_plus"] is False
    assert notes["error"].startswith("hidden: the playground draws at most 6 hidden layers")
    assert server.playground.cfg.hidden_sizes == widest


def test_with_5000_points_test_rings_leave_the_training_points_in_sight(chromium, serve, tmp_path):
    # play22's L4: each test point was a white disc in two rings, 4 px across at 5 000
    # points, so the test points covered the training points under them
    session = Playground({"dataset": "circle", "n": 5000, "test_fraction": 0.2, "hidden": [2]})
    # a training point with a test point on top of it (under half a pixel apart: ~0.01 a
    # pixel on this map) and no other point within 4 pixels: what is drawn at its centre is
    # the pair's alone
    points = np.concatenate([session.x, session.x_test])
    gaps = np.linalg.norm(session.x[:, None, :] - points[None, :, :], axis=-1)
    gaps[np.arange(len(session.x)), np.arange(len(session.x))] = np.inf  # not itself
    near = np.sort(gaps, axis=1)
    nearest_test = gaps[:, len(session.x) :].min(axis=1)
    alone = (nearest_test < 0.005) & (near[:, 1] > 0.04)
    assert alone.any()
    k = int(np.flatnonzero(alone)[0])
    colour = (
        "function colourAt(p) { var c = $$('boundary'), w = where(p), r = window.devicePixelRatio || 1;"
        " var copy = document.createElement('canvas'); copy.width = c.width; copy.height = c.height;"
        " var ctx = copy.getContext('2d', {willReadFrequently: true}); ctx.drawImage(c, 0, 0);"
        " return Array.prototype.slice.call(ctx.getImageData(Math.round(w.x * r),"
        " Math.round(w.y * r), 1, 1).data, 0, 3); }"
    )
    point = session.x[k].tolist()
    action = (
        ON_THE_MAP
        + colour
        + staged(
            (
                READY,
                f'notes.style = $$("boundary").getAttribute("data-test-style");'
                f" notes.centre = colourAt({point});"
                ' notes.key = $$("test-key").querySelector(".dot").className',
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert notes["style"] == "thin" and notes["key"] == "dot ring thin"
    # the training point's fill (its class's hue, maybe a neighbour's dark edge) shows
    # through the test point's ring; it was the test point's white disc
    r, g, b = notes["centre"]
    assert min(r, g, b) < 200, notes["centre"]
    assert (b > r + 60) if session.y[k] else (r > b + 60), notes["centre"]


# the weight-editing box: open on a line or a bias square, type, Enter (or Esc)
EDIT = """
function clickNet(p) {
  var c = $$("net"), box = c.getBoundingClientRect();
  var at = {bubbles: true, clientX: box.left + p[0], clientY: box.top + p[1]};
  c.dispatchEvent(new MouseEvent("mousedown", at));
  c.dispatchEvent(new MouseEvent("click", at));
}
function key(target, name) {
  target.dispatchEvent(new KeyboardEvent("keydown", {key: name, bubbles: true}));
}
function type(text, name) { $$("net-edit-value").value = text; key($$("net-edit-value"), name); }
function editing() { return !$$("net-edit").hidden; }
function box() {
  return {open: editing(), label: $$("net-edit-label").textContent, value: $$("net-edit-value").value,
          message: $$("net-edit-message").textContent, invalid: $$("net-edit-value").className,
          focused: document.activeElement === $$("net-edit-value")};
}
"""


def test_a_click_on_a_line_or_a_bias_square_sets_it(chromium, serve, tmp_path):
    # TensorFlow Playground's click on a line: a box with its value; text that is not a
    # number refused in the box; Enter sets it (the server's session moves), Esc leaves it.
    # Clicked while playing: Play pauses, and the box opens on the last frame's value
    session = Playground({"dataset": "circle", "hidden": [2], "optimizer": "momentum", "lr": 0.3})
    # boxes: x1, x2, the two hidden units, the output; the line hidden unit 2 -> output
    line = "linePoint(netBoxes()[3], netBoxes()[4], 0.5)"
    mark = (
        "[netBoxes()[4][0] - netBoxes()[4][2] / 2 - 3, netBoxes()[4][1] + netBoxes()[4][3] / 2 - 2]"
    )
    action = (
        ON_THE_NET
        + EDIT
        + staged(
            ('data("playing") === "1" && Number(data("frames")) >= 2', f"clickNet({line})"),
            (
                "editing()",
                'notes.opened = box(); notes.playing = data("playing");'
                ' notes.epoch = data("epoch"); type("1,5", "Enter")',
            ),
            ("box().invalid", 'notes.refused = box(); type("-1.5", "Enter")'),
            ("!editing()", f'notes.caption = $$("net-hover").textContent; clickNet({mark})'),
            ("editing()", 'notes.bias = box(); type("2", "Enter")'),
            ("!editing()", f"clickNet({line})"),
            ("editing()", 'notes.again = box().value; type("7", "Escape")'),
            ("!editing()", "notes.closed = box().open"),
        )
    )
    server = serve(session, action=action)
    url = f"{server.url}?autoplay=1&epochs=10"
    dom, errors, stderr = load(chromium, url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 8)
    # opening the box paused Play; no frame came after the value it showed
    assert notes["playing"] == "0" and int(notes["epoch"]) == session.epoch >= 20
    assert notes["opened"]["label"] == "set weight layer 1 unit 2 → output"
    assert float(notes["opened"]["value"]) != -1.5
    assert notes["opened"]["focused"] is True
    assert notes["opened"]["message"] == "Enter sets it, Esc cancels"
    assert notes["refused"]["open"] is True and notes["refused"]["invalid"] == "invalid"
    assert notes["refused"]["message"] == (
        "not a number: \u201c1,5\u201d (type one such as 0.5, -2 or 1e-3)"
    )
    # Enter set it: the server's model holds it, the caption says what was kept
    state = session.state([])
    assert state["weights"][1][1][0] == -1.5
    assert notes["caption"] == (
        "weight layer 1 unit 2 → output set to -1.5; training goes on from it "
        "(the optimizer's state kept)"
    )
    assert notes["bias"]["label"] == "set bias of output"
    assert state["biases"][1] == [2.0]
    # Esc: the box showed the new value and closed leaving it
    assert notes["again"] == "-1.5" and notes["closed"] is False
    assert session.state([])["weights"][1][1][0] == -1.5


def test_the_keyboard_picks_a_weight_and_enter_sets_it(chromium, serve, tmp_path):
    # Tab to the network, arrows to pick (each layer's weights, then its biases), Enter,
    # a value, Enter; Esc in the box gives the focus back to the network
    session = Playground({"dataset": "circle", "hidden": [2]})
    action = (
        ON_THE_NET
        + EDIT
        + staged(
            (
                READY,
                '$$("net").focus(); key($$("net"), "ArrowRight"); notes.tip = $$("net-tip").textContent;'
                ' key($$("net"), "ArrowLeft"); notes.last = $$("net-tip").textContent;'
                ' key($$("net"), "ArrowRight"); key($$("net"), "ArrowRight");'
                ' key($$("net"), "ArrowRight"); key($$("net"), "ArrowRight"); key($$("net"), "Enter")',
            ),
            ("editing()", 'notes.box = box(); type("0.25", "Enter")'),
            (
                "!editing()",
                'notes.back = document.activeElement === $$("net"); key($$("net"), "Enter")',
            ),
            (
                "editing()",
                'type("9", "Escape"); notes.escaped = document.activeElement === $$("net")',
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 4)
    # the first item: input x1's box (its range; Enter leaves it out: see
    # test_a_click_or_enter_on_an_input_box_toggles_its_feature); the last (going back): the
    # output unit, its bias set by Enter
    assert notes["tip"].startswith("input x1: ")
    assert notes["tip"].endswith(" over the plane shown (Enter leaves it out)")
    assert notes["last"] == "output: P(class 1); bias 0 (Enter sets the bias)"
    # then x2's box, x1 -> unit 1, x1 -> unit 2 (weights are listed from, then to)
    assert notes["box"]["label"] == "set weight x1 → layer 1 unit 2" and notes["box"]["focused"]
    assert notes["back"] is True and notes["escaped"] is True
    assert session.state([])["weights"][0][0][1] == 0.25


@pytest.mark.parametrize("window", ["1024,800", "1440,900"])
def test_the_tooltip_leaves_the_units_next_to_the_hovered_one_in_sight(
    chromium, serve, tmp_path, window
):
    # the tooltip sat 14 px right of and below the pointer: over the unit under the one
    # hovered (and the next column's), in the crowded columns of 6 layers. Hovered here: a
    # unit in the middle of layer 2, a bias square of layer 6, a line of layer 3
    session = Playground({"dataset": "circle", "hidden": [4] * 6})
    tip = (
        "function tipBox() { var t = $$('net-tip');"
        " return t.hidden ? null : [t.offsetLeft, t.offsetTop, t.offsetWidth, t.offsetHeight]; }"
    )
    action = (
        ON_THE_NET
        + tip
        + staged(
            (
                READY,
                "var b = netBoxes(); notes.boxes = b; notes.spacing = Number($$('net').getAttribute('data-spacing'));"
                " notes.size = [$$('net').clientWidth, $$('net').clientHeight];"
                " hover([b[8][0] + 2, b[8][1] + 2]); notes.unit = tipBox();"
                " hover([b[24][0] - b[24][2] / 2 - 3, b[24][1] + b[24][3] / 2 - 2]); notes.mark = tipBox();"
                " var p = linePoint(b[11], b[15], 0.5); notes.point = p; hover(p); notes.line = tipBox()",
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p", window=window)
    assert errors == []
    notes = notes_of(dom, 1)
    boxes, spacing = notes["boxes"], notes["spacing"]
    width, height = notes["size"]

    def overlaps(tip_box, unit) -> bool:
        left, top, w, h = tip_box
        x, y, bw, bh = unit
        # the unit with its bias square (up to 11 px left of it)
        return (
            left < x + bw / 2 + 1
            and left + w > x - bw / 2 - 11
            and top < y + bh / 2 + 1
            and top + h > y - bh / 2 - 1
        )

    pitch = boxes[3][1] - boxes[2][1]  # the hidden columns' rows
    for name, tip_box, centre in (
        ("unit", notes["unit"], boxes[8][:2]),
        ("mark", notes["mark"], boxes[24][:2]),
        ("line", notes["line"], notes["point"]),
    ):
        assert tip_box is not None, name
        left, top, w, h = tip_box
        assert 0 <= left and left + w <= width and 0 <= top and top + h <= height, name
        # no unit within a column and a row of what is hovered is under the tooltip
        near = [
            u
            for u in boxes
            if abs(u[0] - centre[0]) <= spacing + 1 and abs(u[1] - centre[1]) <= pitch + 1
        ]
        assert near, name
        assert not [u for u in near if overlaps(tip_box, u)], (name, tip_box)
        # and it is by what it is about: its nearest edge within two rows
        gap_x = max(0, left - centre[0], centre[0] - (left + w))
        gap_y = max(0, top - centre[1], centre[1] - (top + h))
        assert (gap_x**2 + gap_y**2) ** 0.5 <= 2 * pitch, (name, tip_box)


@pytest.mark.parametrize(
    ("window", "hidden"),
    [
        ("1024,800", [12] * 6),
        ("1024,800", [32, 4, 4, 4, 4, 4]),
        ("1440,900", [12] * 6),
        ("1024,800", [4]),
        ("1440,900", [4]),
    ],
)
def test_the_columns_labels_never_overlap(chromium, serve, tmp_path, window, hidden):
    # 6 hidden layers in a 1024-px window: "h1 (12)h2 (12)h3 ..." ran into each other. Each
    # label's lines as drawn (data-column-labels), measured here in the font drawn
    measure = (
        "var ctx = document.createElement('canvas').getContext('2d');"
        " notes.labels = JSON.parse($$('net').getAttribute('data-column-labels')).map(function (l) {"
        "   ctx.font = l.font;"
        "   var w = Math.max.apply(null, l.lines.map(function (t) { return ctx.measureText(t).width; }));"
        "   return [l.x - w / 2, l.x + w / 2, l.lines.join('/'), l.font]; });"
        " notes.width = $$('net').clientWidth"
    )
    server = serve(
        Playground({"dataset": "circle", "hidden": hidden}), action=staged((READY, measure))
    )
    dom, errors, _ = load(chromium, server.url, tmp_path / "p", window=window)
    assert errors == []
    notes = notes_of(dom, 1)
    labels = notes["labels"]
    assert len(labels) == len(hidden) + 2
    assert labels[0][2] == "input" and labels[-1][2] == "output"
    assert labels[0][0] >= 0 and labels[-1][1] <= notes["width"]
    for (_, right, text, _), (left, _, after, _) in zip(labels[:-1], labels[1:], strict=True):
        assert right + 4 <= left, (text, after, labels)
    # a roomy window keeps the long names; a crowded one shortens them, never below 10 px
    if len(hidden) == 1:
        assert labels[1][2] == "hidden 1 (4)" and labels[1][3] == "12px system-ui, sans-serif"
    else:
        assert all(int(font.split("px")[0]) >= 10 for *_, font in labels)


def test_show_test_data_off_is_kept_in_the_link_and_read_back(chromium, serve, tmp_path):
    # "show test data" unchecked: the Link (and the address bar) carry show_test=0; a page
    # opened on that link leaves the test points off; a bad value is said and ignored
    settings = {"dataset": "circle", "n": 80, "test_fraction": 0.25}
    uncheck = 'var b = $$("show-test"); b.checked = false; b.dispatchEvent(new Event("change"))'
    action = staged(
        (
            READY,
            f'notes.before = $$("link-url").href; {uncheck};'
            ' notes.link = $$("link-url").href; notes.address = window.location.search;'
            ' notes.drawn = $$("boundary").getAttribute("data-test-drawn")',
        ),
    )
    server = serve(Playground(settings), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert "show_test" not in notes["before"]
    query = dict(parse_qsl(urlsplit(notes["link"]).query))
    assert query["show_test"] == "0" and query["dataset"] == "circle"
    assert notes["address"] == "?show_test=0" and notes["drawn"] == "0"

    # the link, opened: the box unchecked, no test point drawn, the link the same
    read = staged(
        (
            READY,
            'notes.checked = $$("show-test").checked; notes.link = $$("link-url").href;'
            ' notes.drawn = $$("boundary").getAttribute("data-test-drawn");'
            ' notes.notice = $$("notice").hidden ? "" : $$("notice").textContent',
        ),
    )
    other = serve(action=read)
    dom, errors, _ = load(chromium, f"{other.url}?{urlsplit(notes['link']).query}", tmp_path / "q")
    assert errors == []
    again = notes_of(dom, 1)
    assert again["checked"] is False and again["drawn"] == "0" and again["notice"] == ""
    assert dict(parse_qsl(urlsplit(again["link"]).query)) == query
    assert other.playground.x_test is not None and len(other.playground.x_test) == 20

    # a value that is neither 1 nor 0: said, and the test points shown
    third = serve(Playground(settings), action=read)
    dom, errors, _ = load(chromium, f"{third.url}?show_test=maybe", tmp_path / "r")
    assert errors == []
    bad = notes_of(dom, 1)
    assert bad["checked"] is True and bad["drawn"] == "20"
    assert bad["notice"] == (
        "show_test: must be 1 or 0, got \u201cmaybe\u201d (ignored: the test points are shown)"
    )


def test_the_note_of_a_set_weight_goes_with_a_step_a_reset_and_regenerate(
    chromium, serve, tmp_path
):
    # verify24 L1: "weight ... set to 5; training goes on from it" stayed under the network
    # after Step (the weight had moved on), Reset and Regenerate (a new session)
    session = Playground({"dataset": "circle", "hidden": [2], "optimizer": "momentum"})
    # (the inputs' boxes first, then x1 -> unit 1, x1 -> unit 2)
    pick = '$$("net").focus();' + ' key($$("net"), "ArrowRight");' * 4
    note = '$$("net-hover").textContent'
    noted = f'!editing() && {note}.indexOf("set to 5") > 0'
    action = (
        ON_THE_NET
        + EDIT
        + staged(
            (READY, pick + ' key($$("net"), "Enter")'),
            ("editing()", 'type("5", "Enter")'),
            (noted, f'notes.set = {note}; $$("step").click()'),
            ('data("epoch") !== "0"', f'notes.stepped = {note}; key($$("net"), "Enter")'),
            ("editing()", 'type("5", "Enter")'),
            (noted, f'notes.set_again = {note}; $$("reset").click()'),
            ('data("epoch") === "0"', f'notes.reset = {note}; {pick} key($$("net"), "Enter")'),
            ("editing()", 'type("5", "Enter")'),
            (noted, '$$("regenerate").click()'),
            ('$$("f-seed").value === "1"', f"notes.regenerated = {note}"),
        )
    )
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?epochs=10", tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 10)
    assert notes["set"] == (
        "weight x1 → layer 1 unit 2 set to 5; training goes on from it (the optimizer's state kept)"
    )
    assert notes["set_again"] == notes["set"]  # set after the step: shown again
    assert notes["stepped"] == notes["reset"] == notes["regenerated"] == ""
    assert server.playground.cfg.seed == 1 and server.playground.epoch == 0


# the big map's colour at input point p (x1, x2): [r, g, b]
MAP_PIXEL = """
function mapPixel(p) {
  var c = document.getElementById("boundary"), w = where(p), r = window.devicePixelRatio || 1;
  var copy = document.createElement("canvas");
  copy.width = c.width; copy.height = c.height;
  var ctx = copy.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(c, 0, 0);
  return Array.prototype.slice.call(ctx.getImageData(Math.round(w.x * r), Math.round(w.y * r), 1, 1).data, 0, 3);
}
function showing() {
  var c = $$("boundary");
  return c.getAttribute("data-showing") + (c.getAttribute("data-sharp") === "1" ? " sharp" : " coarse");
}
"""


def _far_from_points(session: Playground, values: np.ndarray, u, v, largest: bool):
    """The grid point (x1, x2) where ``values`` (GRID x GRID, row j at v[j]) is largest (or
    smallest) among those at least 0.15 from every training point (no point drawn over it)."""
    uu, vv = np.meshgrid(u, v)
    grid = np.column_stack([uu.ravel(), vv.ravel()])
    far = np.min(np.linalg.norm(grid[:, None, :] - session.x[None], axis=-1), axis=1) > 0.15
    flat = np.where(far, values.ravel(), -np.inf if largest else np.inf)
    k = int(np.argmax(flat) if largest else np.argmin(flat))
    return [float(grid[k, 0]), float(grid[k, 1])], float(values.ravel()[k])


def test_hovering_a_unit_shows_its_map_in_the_big_map_and_leaving_brings_the_output_back(
    chromium, serve, tmp_path, monkeypatch
):
    # TensorFlow Playground's main lesson: hover a neuron, the big map shows what it computes
    session = Playground(
        {"dataset": "circle", "n": 60, "hidden": [4, 2], "activation": "tanh", "lr": 0.3}
    )
    session.step(200)
    setup = session.setup()
    u, v = setup["grid"]["u"], setup["grid"]["v"]
    unit = np.array(session.unit_map(2, 0)["map"])  # hidden layer 2, unit 1
    high, high_value = _far_from_points(session, unit, u, v, largest=True)
    low, low_value = _far_from_points(session, unit, u, v, largest=False)
    assert high_value > 0.5 and low_value < -0.5  # (tanh: blue and orange where drawn)
    asked: list[tuple[int, int]] = []
    unit_map = Playground.unit_map
    monkeypatch.setattr(
        Playground,
        "unit_map",
        lambda self, layer, j: asked.append((layer, j)) or unit_map(self, layer, j),
    )
    # boxes: x1, x2 (inputs), hidden 1's four units, hidden 2's two, the output
    action = (
        ON_THE_NET
        + ON_THE_MAP
        + MAP_PIXEL
        + EDIT
        + staged(
            (
                READY,
                "notes.before = $$('boundary').toDataURL(); notes.idle = $$('map-showing').textContent;"
                " notes.start = showing(); hover(netBoxes()[6])",
            ),
            (
                'showing() === "2 0 sharp"',
                "notes.caption = $$('map-showing').textContent;"
                " notes.title = $$('map-title-unit').offsetParent !== null;"
                f" notes.high = mapPixel({high}); notes.low = mapPixel({low});"
                " notes.label = $$('boundary').getAttribute('aria-label');"
                " hover(netBoxes()[8]); notes.output = showing();"
                " hover(netBoxes()[1]); notes.input = showing();"
                " $$('net').dispatchEvent(new MouseEvent('mouseleave'));"
                " notes.left = showing(); notes.same = $$('boundary').toDataURL() === notes.before;"
                " notes.title_back = $$('map-title-unit').offsetParent === null;"
                " $$('net').focus(); key($$('net'), 'ArrowRight')",
            ),
            (
                'showing() === "0 0 sharp"',
                "notes.keyed = $$('map-showing').textContent; key($$('net'), 'Escape');"
                " notes.escaped = showing()",
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 3)
    assert notes["start"] == "output sharp"
    assert notes["idle"] == (
        "Showing the output. Hover a unit of the network (or pick one with the arrow keys) for "
        "its own map."
    )
    assert notes["caption"] == (
        "Showing hidden layer 2, unit 1: its tanh output, -1 (orange) to 1 (blue). "
        "Off the unit: the output again."
    )
    assert notes["title"] is True and notes["label"].startswith("The map: Showing hidden layer 2")
    # the unit's own colours where it is high (blue) and low (orange)
    r, g, b = notes["high"]
    assert b > r + 60, notes
    r, g, b = notes["low"]
    assert r > b + 60, notes
    # the output's box shows the output; leaving the network brings the output's map back
    assert notes["output"] == "output sharp" and notes["input"].startswith("0 1")
    assert notes["left"] == "output sharp" and notes["same"] is True and notes["title_back"]
    # the keyboard's pick (the first input, x1) shows it; Escape lets go
    assert notes["keyed"].startswith("Showing input x1: its value, -")
    assert notes["escaped"] == "output sharp"
    # one request per unit shown (the output's map is the state's own)
    assert asked == [(2, 0), (0, 1), (0, 0)]


def test_a_hovered_units_map_is_asked_once_a_frame_while_playing(
    chromium, serve, tmp_path, monkeypatch
):
    # cheap while playing: one GET /api/unit per new state, and only while hovering
    session = Playground({"dataset": "circle", "n": 60, "hidden": [3], "activation": "tanh"})
    asked: list[tuple[int, int, int]] = []
    unit_map = Playground.unit_map
    monkeypatch.setattr(
        Playground,
        "unit_map",
        lambda self, layer, j: asked.append((layer, j, self.epoch)) or unit_map(self, layer, j),
    )
    action = (
        ON_THE_NET
        + ON_THE_MAP
        + MAP_PIXEL
        + staged(
            (READY, "hover(netBoxes()[3])"),  # hidden unit 2
            ('showing() === "1 1 sharp"', '$$("play").click()'),
            (
                PAUSED_AT.format(3) + ' && showing() === "1 1 sharp"',
                "notes.frames = data('frames'); $$('net').dispatchEvent(new MouseEvent('mouseleave'));"
                " $$('step').click()",
            ),
            (PAUSED_AT.format(4), "notes.left = showing()"),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, f"{server.url}?epochs=10&frames=3", tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 4)
    assert notes["left"] == "output sharp" and server.playground.epoch == 40
    # at the hover, then after each of the three frames; none after the pointer left
    assert asked == [(1, 1, 0), (1, 1, 10), (1, 1, 20), (1, 1, 30)]


def _cell_between(session: Playground, values: np.ndarray, u, v, lo: float, hi: float):
    """A grid point (x1, x2) whose value and its 8 neighbours' lie in (lo, hi) (a shade, not
    an end of the scale), at least 0.15 from every training point (none drawn over it)."""
    for j in range(1, len(v) - 1):
        for i in range(1, len(u) - 1):
            around = values[j - 1 : j + 2, i - 1 : i + 2]
            near = np.min(np.linalg.norm(session.x - [u[i], v[j]], axis=1))
            if (around > lo).all() and (around < hi).all() and near > 0.15:
                return [float(u[i]), float(v[j])]
    raise AssertionError(f"no cell between {lo} and {hi}")


# diverging(+-1, P_STRENGTH): the map's two flat colours (blue: class 1, orange: class 0)
FLAT_BLUE, FLAT_ORANGE = [102, 171, 214], [249, 188, 118]


def test_discretize_output_draws_the_maps_in_two_flat_colours_and_the_link_keeps_it(
    chromium, serve, tmp_path
):
    # TensorFlow Playground's "Discretize output": the boundary as a sharp line
    session = Playground(
        {"dataset": "circle", "n": 60, "hidden": [4], "activation": "tanh", "lr": 0.3}
    )
    session.step(200)
    setup = session.setup()
    u, v = setup["grid"]["u"], setup["grid"]["v"]
    p = np.array(setup["state"]["boundary"])
    blue = _cell_between(session, p, u, v, 0.6, 0.9)  # P(class 1) 0.6-0.9: pale blue shaded
    orange = _cell_between(session, p, u, v, 0.1, 0.4)
    unit = _cell_between(session, np.array(session.unit_map(1, 0)["map"]), u, v, 0.1, 0.6)
    action = (
        ON_THE_NET
        + ON_THE_MAP
        + MAP_PIXEL
        + staged(
            (
                READY,
                f"notes.blue = mapPixel({blue}); notes.orange = mapPixel({orange});"
                " notes.checked = $$('discretize').checked; $$('link').click();"
                " notes.link = $$('link-url').href; notes.address = location.search;"
                " notes.key = $$('p-ramp').style.background;"
                " $$('discretize').click(); notes.shaded = mapPixel(" + str(blue) + ");"
                " notes.key_off = $$('p-ramp').style.background;"
                " notes.address_off = location.search; notes.link_off = $$('link-url').href;"
                " $$('discretize').click(); hover(netBoxes()[2])",
            ),
            (
                'showing() === "1 0 sharp"',
                f"notes.unit = mapPixel({unit}); notes.caption = $$('map-showing').textContent",
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, f"{server.url}?discretize=1", tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 2)
    assert notes["checked"] is True
    # the P(class 1) key shows the two flat ends too, and the ramp when unchecked (verify25)
    assert "50%" in notes["key"] and "50%" not in notes["key_off"], notes
    assert "255, 255, 255" in notes["key_off"] and "255, 255, 255" not in notes["key"], notes
    # the flat ends where P(class 1) is only 0.6-0.9 or 0.1-0.4, and the unit's where its
    # tanh is 0.1-0.6
    for got, want in ((notes["blue"], FLAT_BLUE), (notes["orange"], FLAT_ORANGE)):
        assert np.abs(np.subtract(got, want)).max() <= 3, (got, want)
    assert np.abs(np.subtract(notes["unit"], FLAT_BLUE)).max() <= 3, notes["unit"]
    assert notes["caption"] == (
        "Showing hidden layer 1, unit 1: its tanh output, orange below 0, blue from it on. "
        "Off the unit: the output again."
    )
    # unchecked: shaded (paler than the flat end), and neither the Link nor the address has it
    assert np.subtract(notes["shaded"], FLAT_BLUE).min() > 20, notes["shaded"]
    assert dict(parse_qsl(urlsplit(notes["link"]).query))["discretize"] == "1"
    assert notes["address"] == "?discretize=1"
    assert "discretize" not in notes["link_off"] and notes["address_off"] == ""


def test_a_bad_discretize_in_the_address_is_said_and_ignored(chromium, serve, tmp_path):
    action = staged(
        (READY, "notes.notice = $$('notice').textContent; notes.on = $$('discretize').checked")
    )
    server = serve(action=action)
    dom, errors, _ = load(chromium, f"{server.url}?discretize=yes", tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 1)
    assert notes["on"] is False
    assert notes["notice"] == (
        "discretize: must be 1 or 0, got \u201cyes\u201d (ignored: the maps are shaded)"
    )


def test_a_link_with_a_feature_the_page_does_not_offer_gets_its_box(chromium, serve, tmp_path):
    # the page offers TensorFlow Playground's seven (its sin(X1) is sin_5x1); a Link's
    # sin_x1 (sin of our own x1) is shown checked in a box of its own, after them
    read = (
        "notes.boxes = Array.prototype.map.call(document.querySelectorAll('#f-features label'),"
        " function (l) { return [l.querySelector('input').value, l.textContent,"
        " l.querySelector('input').checked, l.title]; })"
    )
    server = serve(action=staged((READY + ' && data("epoch") === "0"', read)))
    query = "dataset=spiral&features=x1,sin_x1,sin_5x2"
    dom, errors, _ = load(chromium, f"{server.url}?{query}", tmp_path / "p")
    assert errors == []
    boxes = notes_of(dom, 1)["boxes"]
    assert [(name, label, on) for name, label, on, _ in boxes] == [
        ("x1", "x1", True),
        ("x2", "x2", False),
        ("x1_sq", "x1²", False),
        ("x2_sq", "x2²", False),
        ("x1_x2", "x1x2", False),
        ("sin_5x1", "sin(X1)", False),
        ("sin_5x2", "sin(X2)", True),
        ("sin_x1", "sin(x1)", True),
    ]
    assert boxes[6][3] == (
        "sin_5x2: sin(5 x2), TensorFlow Playground's sin(X2) (its data are ours times 5)"
    )
    assert server.playground.cfg.features == ["x1", "sin_x1", "sin_5x2"]


def test_a_noise_over_the_bound_is_refused_and_the_hint_gives_its_unit(chromium, serve, tmp_path):
    # tfp25 F5: TensorFlow Playground's "30" (%) typed here made circle a +-100 blob
    session = Playground({"dataset": "circle", "n": 40})
    action = staged(
        (
            READY,
            "notes.max = $$('f-noise').max; notes.hint = $$('noise-hint').textContent;"
            " change('f-noise', '30')",
        ),
        (
            "refused()",
            "notes.error = error(); notes.invalid = $$('f-noise').className;"
            " notes.value = $$('f-noise').value; change('f-dataset', 'gauss')",
        ),
        (
            '!refused() && data("epoch") === "0" && $$("f-dataset").value === "gauss"',
            "notes.gauss = $$('noise-hint').textContent; change('f-dataset', 'xor')",
        ),
        ("$$('f-noise').disabled", "notes.xor = $$('noise-hint').style.display"),
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 4)
    assert notes["max"] == "1"
    assert notes["hint"] == (
        "noise: the standard deviation of Gaussian noise on each coordinate (the data span "
        "about −1 to 1; 0.1 to 0.3 is noisy); at most 1"
    )
    assert notes["error"].startswith(
        "noise: the playground takes at most 1 (the standard deviation of the noise on each "
        "coordinate, the data being about -1 to 1), got 30 (your change to noise was not applied"
    )
    assert notes["invalid"] == "invalid" and notes["value"] == "0.1"  # the form shows 0.1 again
    assert notes["gauss"].startswith("noise: added to each blob's spread (its standard deviation")
    assert notes["xor"] == "none"
    assert server.playground.cfg.dataset == "xor"


def test_the_page_asks_for_no_favicon(chromium, serve, tmp_path, monkeypatch):
    # tfp25 F9: every load logged "Failed to load resource: 404" for /favicon.ico
    asked: list[str] = []
    do_get = playground_server._Handler.do_GET

    def recording(handler) -> None:
        asked.append(handler.path)
        do_get(handler)

    monkeypatch.setattr(playground_server._Handler, "do_GET", recording)
    server = serve(action=staged((READY, "notes.ready = 1")))
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes_of(dom, 1)
    assert asked[0] == "/" and "/api/setup" in asked
    assert not [path for path in asked if "favicon" in path], asked


def test_a_click_or_enter_on_an_input_box_toggles_its_feature(chromium, serve, tmp_path):
    # tfp25 F8: TensorFlow Playground's click on a feature; here an input's box leaves it out
    session = Playground({"dataset": "circle", "features": ["x1", "x2", "x1_x2"], "hidden": [2]})
    checked = (
        "featureChecks() { return Array.prototype.filter.call("
        "document.querySelectorAll('#f-features input'), function (b) { return b.checked; })"
        ".map(function (b) { return b.value; }); }"
    )
    action = (
        ON_THE_NET
        + EDIT
        + f"function {checked}\n"
        + staged(
            (
                READY,
                "notes.tip = hover(netBoxes()[2]); notes.cursor = $$('net').style.cursor;"
                " clickNet(netBoxes()[2])",  # x1x2's box
            ),
            (
                '$$("net").getAttribute("data-inputs") === "2"',
                "notes.after_click = featureChecks(); $$('net').focus();"
                " key($$('net'), 'ArrowRight'); key($$('net'), 'ArrowRight');"  # x2
                " notes.picked = $$('net-hover').textContent; key($$('net'), 'Enter')",
            ),
            (
                '$$("net").getAttribute("data-inputs") === "1"',
                "notes.after_enter = featureChecks()",
            ),
        )
    )
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path / "p")
    assert errors == []
    notes = notes_of(dom, 3)
    assert notes["tip"].startswith("input x1x2: ") and notes["tip"].endswith(
        " over the plane shown (a click leaves it out)"
    )
    assert notes["cursor"] == "pointer"
    assert notes["after_click"] == ["x1", "x2"]
    assert notes["picked"].startswith("input x2: ") and notes["picked"].endswith(
        "(Enter leaves it out)"
    )
    assert notes["after_enter"] == ["x1"]
    assert server.playground.cfg.features == ["x1"]


def _readme_tf_default_link() -> str:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"TensorFlow\nPlayground's default \(.*?\n`(\?dataset=circle[^`]*)`", readme, re.S
    )
    assert found, "README's playground section has no TensorFlow Playground default link"
    return found.group(1)


def test_the_readmes_tensorflow_playground_default_link_starts_it(chromium, serve, tmp_path):
    # tfp25 F4: TF's default one click away; its names are the playground's settings
    link = _readme_tf_default_link()
    server = serve(action=staged((PAUSED_AT.format(1), "notes.search = location.search")))
    dom, errors, _ = load(chromium, f"{server.url}{link}&frames=1&epochs=1", tmp_path / "p")
    assert errors == []
    notes_of(dom, 1)
    cfg = server.playground.cfg
    assert (cfg.dataset, cfg.n, cfg.noise, cfg.test_fraction) == ("circle", 500, 0, 0.5)
    assert (cfg.hidden_sizes, cfg.activation, cfg.output_activation) == ([4, 2], "tanh", "tanh")
    assert (cfg.optimizer, cfg.lr, cfg.batch_size, cfg.loss) == ("sgd", 0.03, 10, "mse")
    assert cfg.features is None and cfg.l1 == cfg.weight_decay == 0
    assert server.playground.epoch == 1  # autoplay=1 played (one frame of one epoch)
