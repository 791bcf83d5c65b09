"""``proplab play``'s server, over real HTTP on a free port: the page, the JSON API, its
errors, and the command's own errors (a port in use, Ctrl-C)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from proplab import playground_server
from proplab.cli import main
from proplab.playground import options
from proplab.playground_server import PlaygroundServer, page_html, serve


def _reject_constant(name: str) -> None:
    raise ValueError(f"not JSON: {name}")  # NaN / Infinity: a browser's JSON.parse fails


@pytest.fixture
def server() -> Iterator[PlaygroundServer]:
    srv = PlaygroundServer(("127.0.0.1", 0))
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def request(
    srv: PlaygroundServer, method: str, path: str, body: object = None, raw: bytes | None = None
) -> tuple[int, str, object]:
    """``(status, content type, parsed JSON or page text)`` of one request."""
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=30)
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=data)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    kind = response.getheader("Content-Type")
    if kind == "application/json":
        return response.status, kind, json.loads(payload, parse_constant=_reject_constant)
    return response.status, kind, payload.decode()


def test_the_page_and_the_options(server) -> None:
    status, kind, text = request(server, "GET", "/")
    assert status == 200 and kind == "text/html; charset=utf-8"
    assert text == page_html().decode()
    assert "<html" in text.lower()
    status, _, body = request(server, "GET", "/api/options")
    assert status == 200 and body == json.loads(json.dumps(options()))


def test_reset_then_steps_train_the_servers_session(server) -> None:
    status, _, setup = request(
        server, "POST", "/api/reset", {"dataset": "circle", "n": 40, "hidden": [4, 2]}
    )
    assert status == 200
    assert setup["widths"] == [2, 4, 2, 1] and setup["state"]["epoch"] == 0
    assert server.playground.cfg.hidden == [4, 2]
    for expected in (25, 50):
        status, _, state = request(server, "POST", "/api/step", {"epochs": 25})
        assert status == 200 and state["epoch"] == expected == server.playground.epoch
    status, _, again = request(server, "GET", "/api/setup")
    assert status == 200 and again["state"]["epoch"] == 50
    assert again["settings"]["dataset"] == "circle"


def test_one_connection_carries_many_requests(server) -> None:
    # HTTP/1.1 keep-alive: each answer's length must be exact for the next to parse
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    epochs = []
    for _ in range(3):
        conn.request("POST", "/api/step", body=b'{"epochs": 2}')
        response = conn.getresponse()
        epochs.append(json.loads(response.read())["epoch"])
    conn.request("GET", "/")
    assert conn.getresponse().read() == page_html()
    conn.close()
    assert epochs == [2, 4, 6]


def test_a_diverged_model_is_sent_as_valid_json(server) -> None:
    settings = {"dataset": "circle", "n": 40, "activation": "relu"}
    settings |= {"output_activation": "identity", "lr": 1e6}
    request(server, "POST", "/api/reset", settings)
    status, _, state = request(server, "POST", "/api/step", {"epochs": 30})
    assert status == 200 and state["loss"] is None
    assert state["stopped"].startswith("training diverged")
    status, _, error = request(server, "POST", "/api/step", {"epochs": 1})
    assert status == 400 and "reset to train again" in error["error"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        ("POST", "/api/reset", {"body": {"lr": 0}}, 400, "lr: must be a finite number > 0, got 0"),
        ("POST", "/api/reset", {"raw": b"{lr: 1}"}, 400, "request body: not JSON (Expecting"),
        ("POST", "/api/reset", {"raw": b"\xff\xfe"}, 400, "request body: not JSON"),
        ("POST", "/api/step", {"body": {"steps": 5}}, 400, 'must be {"epochs": N}'),
        ("POST", "/api/step", {"body": [5]}, 400, 'must be {"epochs": N}, got [5]'),
        ("POST", "/api/step", {"body": {"epochs": 0}}, 400, "epochs: must be from 1 to"),
        ("POST", "/api/step", {"raw": b"x" * 70_000}, 413, "request body: 70,000 bytes; at most"),
        ("POST", "/api/train", {"body": {}}, 404, "no such action: /api/train"),
        ("GET", "/api/nothing", {}, 404, "no such page: /api/nothing"),
    ],
)
def test_bad_requests_get_a_json_error(server, method, path, kwargs, status, message) -> None:
    request(server, "POST", "/api/step", {"epochs": 3})
    got, kind, body = request(server, method, path, **kwargs)
    assert (got, kind) == (status, "application/json")
    assert message in body["error"]
    assert server.playground.epoch == 3  # nothing happened to the session


def test_serve_says_where_and_stops_on_ctrl_c(monkeypatch) -> None:
    lines: list[str] = []
    seen: list[str] = []

    def interrupted(self, poll_interval: float = 0.5) -> None:
        seen.append(self.url)
        raise KeyboardInterrupt

    monkeypatch.setattr(PlaygroundServer, "serve_forever", interrupted)
    serve("127.0.0.1", 0, log=lines.append)
    assert lines[0] == f"proplab playground at {seen[0]} (Ctrl-C to stop)"
    assert seen[0].startswith("http://127.0.0.1:") and not seen[0].endswith(":0/")
    assert lines[1] == "proplab playground: stopped"


def test_a_port_in_use_is_a_clear_cli_error(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["play", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"proplab play: error: cannot listen on 127.0.0.1:{port}: ")
    assert err.endswith("(pass --port 0 for any free port)")


def test_cli_refuses_a_port_out_of_range(capsys) -> None:
    assert main(["play", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "proplab play: error: argument --port: must be from 0 to 65535, got 70000"


def test_cli_serves_until_interrupted(monkeypatch, capsys) -> None:
    def interrupted(self, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(PlaygroundServer, "serve_forever", interrupted)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    assert main(["play", "--port", "0", "--open"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("proplab playground at http://127.0.0.1:")
    assert opened == [out[0].split(" at ")[1].split(" ")[0]]
    assert out[-1] == "proplab playground: stopped"


def test_page_is_shipped_with_the_package() -> None:
    # an installed (not editable) proplab has only the files package-data names
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["proplab"]
    assert playground_server.PAGE in shipped
