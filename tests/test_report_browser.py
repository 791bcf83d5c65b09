"""report.html in a real headless browser (Debian's chromium): no console errors, every figure drawn.

The session fixture installs chromium with apt when it is missing and apt is
usable (as in CI); otherwise the tests are skipped. The page is copied with a
small probe script first in <head> that records every error (script errors,
console.error, resources that fail to load) and, on load, writes them and each
image's natural size into the DOM, which ``--dump-dom`` prints. Chromium's
own console log (``--enable-logging=stderr``) is checked too. A deliberately
broken page proves the probe catches what it should.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from proplab import report
from proplab.sweep import parse_spec, run_sweep

pytestmark = pytest.mark.slow

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
]

PROBE = """<script>
window.__proplabErrors = [];
window.addEventListener("error", function (e) {
  var what = e.message || (e.target && (e.target.currentSrc || e.target.src)) || "error";
  window.__proplabErrors.push(String(what).slice(0, 200));
}, true);
var __proplabConsoleError = console.error;
console.error = function () {
  window.__proplabErrors.push(Array.prototype.join.call(arguments, " "));
  __proplabConsoleError.apply(console, arguments);
};
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    return [img.naturalWidth, img.naturalHeight];
  });
  var sections = Array.prototype.map.call(document.querySelectorAll("section[id]"), function (s) {
    return s.id;
  });
  var pre = document.createElement("pre");
  pre.id = "proplab-probe";
  pre.textContent = JSON.stringify({errors: window.__proplabErrors, images: images, sections: sections});
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path to chromium, installed with apt-get when missing and possible; else skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get cannot install it here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        [apt, "install", "-y", "chromium"],
        [apt, "update"],
        [apt, "install", "-y", "chromium"],
    ):
        subprocess.run(cmd, env=env, capture_output=True, timeout=1800, check=False)
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("apt-get could not install chromium (no network or no package)")


def probe(chromium: str, page: Path, profile: Path) -> tuple[dict, str]:
    """Load ``page`` (with the probe injected) headless; return the probe's findings and stderr."""
    text = page.read_text(encoding="utf-8")
    probed = page.with_name(f"probe-{page.name}")
    probed.write_text(text.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    proc = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check
    )
    found = re.search(r'<pre id="proplab-probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"no probe output; chromium exit {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1))), proc.stderr


def console_lines(stderr: str) -> list[str]:
    """Chromium's log lines for console messages (``...:CONSOLE:12] "..."``)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_probe_catches_broken_pages(chromium, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="missing.png"><img src="data:image/png;base64,AAAA">'
        '<script>console.error("boom"); undefined_function();</script></body></html>'
    )
    found, stderr = probe(chromium, bad, tmp_path / "profile")
    assert found["images"] == [[0, 0], [0, 0]]
    assert "boom" in found["errors"]
    assert any("undefined_function" in e for e in found["errors"])
    assert any(e.endswith("missing.png") for e in found["errors"])
    assert len(console_lines(stderr)) >= 2


def test_report_html_loads_without_errors_and_draws_every_figure(chromium, tmp_path):
    text = """
title = "Browser check"
[base]
epochs = 100
[vary]
dataset = ["linear", "xor"]
seed = [0, 1]
[[experiment]]
name = "baseline"
section = "results"
[[experiment]]
name = "lr"
section = "discussion"
vary.lr = [1.0, 0.05]
[[experiment]]
name = "activation"
section = "extras"
vary.activation = ["sigmoid", "tanh"]
"""
    out = tmp_path / "sweep"
    assert run_sweep(parse_spec(text, Path("b.toml")), out, stream=io.StringIO()).exit_code == 0
    report.build_report(out, log=lambda m: None)
    page = out / "report.html"
    # the report must stand alone: move it away from its PNGs and run folders
    alone = tmp_path / "alone" / "report.html"
    alone.parent.mkdir()
    shutil.copy(page, alone)
    n_figures = (out / "report.md").read_text().count("![")
    found, stderr = probe(chromium, alone, tmp_path / "profile")
    assert found["errors"] == []
    assert console_lines(stderr) == []
    # 2 lab figures per dataset, 3 per experiment but no accuracy plot for the one-setting
    # baseline, which shows its hidden units on each dataset instead
    assert len(found["images"]) == n_figures == 2 * 2 + 3 * 3 - 1 + 2
    for width, height in found["images"]:
        assert width > 0 and height > 0
    assert found["sections"] == ["setup", "results", "discussion", "extras", "questions"]
