"""The playground for screen readers and keyboards (audit a11y24): what is announced and
when, the canvases' text alternatives, tracing a point without a mouse, the controls' names
and borders. Headless chromium as in ``test_playground_browser`` (skipped without it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_playground_browser as pb
from test_playground_browser import PAUSED_AT, READY, load, notes_of, staged
from test_report_browser import console_lines

from proplab import playground_server
from proplab.playground import Playground

pytestmark = pytest.mark.slow

chromium = pb.chromium
serve = pb.serve

# every live region's changes, as texts, from the moment the page's script has run
LIVE = """
var live = [];
new MutationObserver(function (records) {
  records.forEach(function (r) {
    var el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    var region = el.closest('[aria-live], [role="status"], [role="alert"]');
    if (region) live.push(region.id + ": " + region.textContent.replace(/\\s+/g, " ").trim());
  });
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""


def test_the_numbers_are_announced_on_pause_and_step_not_every_frame(chromium, serve, tmp_path):
    # 12 frames of Play, paused by ?frames: one announcement (the pause), then Step: one more
    action = LIVE + staged(
        (PAUSED_AT.format(12), 'notes.played = live.slice(); $$("step").click()'),
        ('data("frames") === "13" && live.length > notes.played.length', "notes.all = live"),
    )
    server = serve(Playground({"hidden": [2]}), action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?autoplay=1&epochs=10&frames=12", tmp_path)
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 2)
    number = r"[0-9.]+(e-?\d+)?"
    said = rf"epoch {{}}: train loss {number}, train accuracy [0-9.]+%$"
    assert len(notes["played"]) == 1, notes["played"]  # not ~7 per frame as the stats change
    assert re.match("announce: Paused at " + said.format(120), notes["played"][0])
    assert len(notes["all"]) == 2 and re.match(
        "announce: Stepped at " + said.format(130), notes["all"][1]
    )
    # the stats themselves are no live region (they change every frame)
    assert not re.search(r'class="stats"[^>]*aria-live', dom)


def test_starting_again_is_announced(chromium, serve, tmp_path):
    # Reset after 12 frames: the page is back at epoch 0, which a screen reader hears once
    action = LIVE + staged(
        (PAUSED_AT.format(12), 'notes.played = live.slice(); $$("reset").click()'),
        ("live.length > notes.played.length", "notes.all = live"),
    )
    server = serve(Playground({"hidden": [2]}), action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?autoplay=1&epochs=10&frames=12", tmp_path)
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 2)
    assert len(notes["all"]) == len(notes["played"]) + 1, notes["all"]
    assert re.match(
        r"announce: Started again at epoch 0: train loss [0-9.]+(e-?\d+)?, train accuracy "
        r"[0-9.]+%$",
        notes["all"][-1],
    )


def test_the_map_and_the_loss_curve_are_images_named_by_their_numbers(chromium, serve, tmp_path):
    labels = (
        '{map: $$("boundary").getAttribute("aria-label"), map_role: $$("boundary").getAttribute("role"),'
        ' loss: $$("loss-curve").getAttribute("aria-label"),'
        ' loss_role: $$("loss-curve").getAttribute("role"), accuracy: $$("test-accuracy").textContent}'
    )
    action = staged((PAUSED_AT.format(3), f"notes.at = {labels}"))
    session = Playground({"dataset": "circle", "n": 100, "test_fraction": 0.3, "hidden": [3]})
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, f"{server.url}?autoplay=1&epochs=10&frames=3", tmp_path)
    assert errors == [] and console_lines(stderr) == []
    at = notes_of(dom, 1)["at"]
    state = session.state([])
    right = round(state["accuracy"] * 70)
    assert at["map_role"] == "img" and at["loss_role"] == "img"
    assert at["map"] == (
        f"Decision boundary after 30 epochs: {right} of 70 training points on their class's"
        f" side, test accuracy {at['accuracy']}"
    )
    (e0, first), (e1, last) = session.curve[0], session.curve[-1]

    def shown(x: float) -> str:  # the page's fmtLoss for losses between 1e-3 and 1e4
        return f"{float(f'{x:.4g}')}"

    assert (e0, e1) == (1, 30)
    assert at["loss"] == (
        f"Loss per epoch, log scale: training loss from {shown(first)} at epoch 1 to"
        f" {shown(last)} at epoch 30; test loss now {shown(state['test_loss'])}"
    )


def test_one_step_by_hand_takes_the_point_numbered_beside_it(chromium, serve, tmp_path):
    # keyboard only: type a point's number, Enter; a number out of range says what is
    # accepted; a click on the map numbers the nearest point (the button then takes it)
    session = Playground({"hidden": [2, 2]})
    session.step(200)
    expected = {k: session.trace(k)["text"] for k in (5, 3)}
    panel = '{about: $$("trace-about").textContent, text: $$("trace-text").textContent}'
    shown = '!$$("trace-text").hidden'
    near = (session.x[3] + 0.02).tolist()
    action = pb.ON_THE_MAP + staged(
        (
            READY,
            'notes.off = $$("trace-point").disabled; var box = $$("trace-point"); box.focus();'
            ' box.value = "5"; box.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"}))',
        ),
        (shown, f'notes.five = {panel}; $$("trace-point").value = "21"; $$("trace").click()'),
        (
            '$$("trace-about").className === "bad"',
            f'notes.bad = {panel}; notes.max = $$("trace-point").max; clickAt({near})',
        ),
        (
            '$$("trace-point").value === "3"',
            '$$("trace-close").click(); $$("trace").click()',
        ),
        (
            shown + ' && $$("trace-about").textContent.indexOf("point 3 ") > 0',
            f"notes.three = {panel}",
        ),
    )
    server = serve(playground=session, action=action)
    dom, errors, stderr = load(chromium, server.url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 5)
    assert notes["off"] is False
    assert notes["five"]["text"] == expected[5]
    assert notes["five"]["about"].startswith("Training point 5 (ringed on the map)")
    assert notes["max"] == "20"
    assert notes["bad"]["about"] == (
        "One step by hand: the training point must be a whole number from 0 to 20, got \u201c21\u201d"
    )
    assert notes["three"]["text"] == expected[3]


CONTRAST = """
function lum(c) {
  var v = c.match(/[0-9.]+/g).slice(0, 3).map(function (x) {
    x = Number(x) / 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function ratio(a, b) { var x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
function borders() {
  var out = {};
  ["step", "trace-point", "f-n", "f-dataset", "layers-plus", "net-edit-value"].forEach(function (id) {
    var style = getComputedStyle($$(id));
    out[id] = ratio(style.borderTopColor, style.backgroundColor);
  });
  return out;
}
"""


def test_the_controls_borders_stand_out_from_their_white_at_3_to_1(chromium, serve, tmp_path):
    action = CONTRAST + staged((READY, "notes.borders = borders()"))
    server = serve(Playground({"hidden": [2]}), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path)
    assert errors == []
    borders = notes_of(dom, 1)["borders"]
    assert len(borders) == 6
    assert all(r >= 3 for r in borders.values()), borders


def test_the_plus_and_minus_buttons_say_what_they_do(chromium, serve, tmp_path):
    names = (
        'Array.prototype.map.call(document.querySelectorAll("#net-panel button"),'
        ' function (b) { return b.getAttribute("aria-label"); })'
    )
    heading = '$$("net-panel").querySelector("h2").textContent'
    action = staged((READY, f"notes.names = {names}; notes.heading = {heading}"))
    server = serve(Playground({"hidden": [3, 2]}), action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path)
    assert errors == []
    notes = notes_of(dom, 1)
    assert notes["names"] == [
        "remove the last hidden layer",
        "add a hidden layer (of 2 units)",
        "remove a unit from hidden layer 1",
        "add a unit to hidden layer 1",
        "remove a unit from hidden layer 2",
        "add a unit to hidden layer 2",
    ]
    # the heading is the panel's name and caption only, its buttons beside it
    assert notes["heading"].startswith("Network 2 → 3 → 2 → 1 units")
    assert "−" not in notes["heading"] and "+" not in notes["heading"]


def test_the_arrow_keys_reach_each_units_range_as_hovering_does(chromium, serve, tmp_path):
    # a11y24 L7: the range was shown on hover only; the arrows now step through the units too
    walk = """
    $$("net").focus();
    var seen = [];
    for (var k = 0; k < 12; k++) { key($$("net"), "ArrowRight"); seen.push($$("net-hover").textContent); }
    notes.seen = seen;
    """
    action = pb.ON_THE_NET + pb.EDIT + staged((READY, walk))
    session = Playground({"dataset": "circle", "hidden": [2], "activation": "tanh"})
    server = serve(session, action=action)
    dom, errors, _ = load(chromium, server.url, tmp_path)
    assert errors == []
    seen = notes_of(dom, 1)["seen"]
    number = r"[-−]?[0-9.]+(e[-−]?\d+)?"
    rng = rf"{number} to {number}"
    # left to right: the inputs, their 4 weights, the hidden units, their 2 weights, the output
    assert re.fullmatch(rf"input x1: {rng} over the plane shown \(Enter leaves it out\)", seen[0])
    assert re.fullmatch(rf"input x2: {rng} over the plane shown \(Enter leaves it out\)", seen[1])
    assert all(s.startswith("weight x") for s in seen[2:6])
    for k, unit in ((6, 1), (7, 2)):
        assert re.fullmatch(
            rf"hidden layer 1, unit {unit}: tanh output {rng}; bias 0 \(Enter sets the bias\)",
            seen[k],
        ), seen[k]
    assert all(s.startswith("weight layer 1 unit") for s in seen[8:10])
    assert seen[10] == "output: P(class 1); bias 0 (Enter sets the bias)"
    assert seen[11] == seen[0]  # round again


def test_a_larger_default_font_enlarges_the_playgrounds_text(chromium, serve, tmp_path):
    from test_report_html_a11y import PX_FONT, big_default_font

    page = playground_server.page_html().decode("utf-8")
    style = page[page.index("<style>") : page.index("</style>")]
    assert not PX_FONT.search(style), PX_FONT.search(style)
    sizes = "{root: getComputedStyle(document.documentElement).fontSize,"
    sizes += ' trace: getComputedStyle($$("trace-text")).fontSize}'
    server = serve(Playground({"hidden": [2]}), action=staged((READY, f"notes.sizes = {sizes}")))
    dom, errors, _ = load(chromium, server.url, big_default_font(Path(tmp_path) / "p"))
    assert errors == []
    # 15 px and 12.5 px at the usual 16 px default: 93.75 % of the reader's 24
    assert notes_of(dom, 1)["sizes"] == {"root": "22.5px", "trace": "18.75px"}


def test_the_controls_bar_is_a_named_landmark():
    # axe's "region": Play, the point's box and the stats sat outside every landmark
    page = playground_server.page_html().decode("utf-8")
    bar = re.search(r'<div class="bar" id="controls"[^>]*>', page)
    assert bar and 'role="region" aria-label="training controls"' in bar.group(0)
