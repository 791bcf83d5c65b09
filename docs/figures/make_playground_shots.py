"""Retake the README's two playground screenshots: ``playground.png`` and
``playground-regression.png`` (in this folder).

Run from the repository root with the package importable and chromium installed::

    PYTHONPATH=src python docs/figures/make_playground_shots.py [--chromium PATH]

For each shot a :class:`~proplab.playground_server.PlaygroundServer` runs in a
thread; the session is reset and trained through the JSON API (``POST /api/reset``
then ``POST /api/step`` a frame at a time), as a script or the page's Play would,
so the numbers are the deterministic ones the README's captions quote and the
loss panel has a test point after every frame. Only then does headless chromium
load the page, which draws that session (``GET /api/setup`` holds the whole
training and test curve) paused, and takes the screenshot. ``?epochs=N`` only
sets the page's epochs-per-frame selector to the frame used; it names no setting,
so the page does not start the session again.

Not a test (pytest collects ``tests/`` only) and not part of ``make test``: it
needs a browser and writes files in the repository.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proplab.playground_server import PlaygroundServer

HERE = Path(__file__).resolve().parent

# the flags of tests/test_report_browser.FLAGS, without the virtual-time budget (ours below)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


@dataclass(frozen=True)
class Shot:
    """One screenshot: the session's settings, how it is trained, the window."""

    name: str
    settings: dict[str, Any]
    epochs: int  # in all
    frame: int  # epochs per POST /api/step (one test-curve point each)
    # the window (and PNG) in CSS pixels: the old shots' framing, 1280 wide and down to
    # just under the output panel (its loss legend), the settings cut between two rows
    size: tuple[int, int]


SHOTS = [
    # README: "after 300 epochs of one hidden layer of 2 tanh units on xor-quadrants with the
    # input features x1, x2 and x1x2 (lr 0.5, 20 % held out): 96.3 % train and 100 % test"
    Shot(
        "playground.png",
        {
            "dataset": "xor-quadrants",
            "features": ["x1", "x2", "x1_x2"],
            "hidden": [2],
            "activation": "tanh",
            "lr": 0.5,
            "test_fraction": 0.2,
        },
        epochs=300,
        frame=10,
        size=(1280, 920),
    ),
    # README: "multi-gauss after 1 000 epochs of 8-8 tanh units by Adam (seed 1, 300 training
    # and 100 test points): train R² 0.946, test R² 0.933" (the README's link's settings)
    Shot(
        "playground-regression.png",
        {
            "dataset": "multi-gauss",
            "n": 400,
            "noise": 0,
            "test_fraction": 0.25,
            "hidden": [8, 8],
            "activation": "tanh",
            "optimizer": "adam",
            "lr": 0.01,
            "batch_size": 10,
            "seed": 1,
        },
        epochs=1000,
        frame=100,
        size=(1280, 950),
    ),
]


def post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as JSON to the server; the answer's JSON (an error raises, naming it)."""
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{path} {body}: {error.code} {error.read().decode()}") from None


def palette(path: Path) -> None:
    """Rewrite the PNG at ``path`` with a 256-colour palette, as the old shots were: a
    third of the size, and a flat page loses nothing visible (no dithering: no noise)."""
    from PIL import Image  # matplotlib's dependency; only this script needs it

    with Image.open(path) as image:
        quantized = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    quantized.save(path, optimize=True)


def take(shot: Shot, chromium: str, out_dir: Path, budget_ms: int) -> dict[str, Any]:
    """Train ``shot``'s session through the API, screenshot the page; the final state."""
    server = PlaygroundServer(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        post(base, "api/reset", shot.settings)
        state: dict[str, Any] = {}
        for _ in range(shot.epochs // shot.frame):
            state = post(base, "api/step", {"epochs": shot.frame})
        assert state["epoch"] == shot.epochs, state["epoch"]
        width, height = shot.size
        with tempfile.TemporaryDirectory() as profile:
            proc = subprocess.run(
                [chromium, *FLAGS, f"--user-data-dir={profile}"]
                + [f"--virtual-time-budget={budget_ms}", f"--window-size={width},{height}"]
                + [f"--screenshot={out_dir / shot.name}", f"{base}?epochs={shot.frame}"],
                capture_output=True,
                text=True,
                timeout=600,  # a hang guard
            )
        if proc.returncode != 0:
            raise SystemExit(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
        palette(out_dir / shot.name)
        return state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=HERE, help="folder (default: this one)")
    parser.add_argument("--budget-ms", type=int, default=5000, help="virtual time to draw")
    args = parser.parse_args(argv)
    for shot in SHOTS:
        state = take(shot, args.chromium, args.out, args.budget_ms)
        numbers = {
            k: state[k]
            for k in ("epoch", "loss", "accuracy", "r2", "test_loss", "test_accuracy", "test_r2")
        }
        print(f"{args.out / shot.name}: {numbers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
