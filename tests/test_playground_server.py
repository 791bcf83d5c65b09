"""``proplab play``'s server, over real HTTP on a free port: the page, the JSON API, its
errors, and the command's own errors (a port in use, Ctrl-C)."""

from __future__ import annotations

import http.client
import json
import math
import socket
import struct
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from proplab import playground_server
from proplab.cli import main
from proplab.metrics import r2_score
from proplab.playground import options
from proplab.playground_server import PlaygroundServer, page_html, serve
from proplab.scoring import evaluate


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


def test_a_reset_with_batchnorm_and_dropout_over_http(server) -> None:
    settings = {"dataset": "circle", "n": 40, "hidden": [4, 2], "batchnorm": True, "dropout": 0.2}
    status, _, setup = request(server, "POST", "/api/reset", settings)
    assert status == 200
    assert setup["settings"]["batchnorm"] is True and setup["settings"]["dropout"] == 0.2
    assert [type(m).__name__ for m in server.playground.model.layers][:4] == [
        "Linear",
        "BatchNorm1d",
        "Sigmoid",
        "Dropout",
    ]
    status, _, state = request(server, "POST", "/api/step", {"epochs": 20})
    assert status == 200 and state["epoch"] == 20
    # the loss sent is the eval-mode loss of the server's model (dropout off)
    session = server.playground
    loss, _, _ = evaluate(session.model, session.loss_fn, session.x, session.y)
    assert state["loss"] == pytest.approx(float(loss), rel=1e-4)
    status, _, refused = request(server, "POST", "/api/reset", {**settings, "dropout": 1.0})
    assert status == 400 and refused["error"].startswith("dropout: must be a probability in [0, 1)")
    assert refused["error"].endswith("got 1.0") and server.playground.epoch == 20


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


def test_a_regression_set_over_http(server) -> None:
    status, _, choices = request(server, "GET", "/api/options")
    assert choices["datasets"][-2:] == ["plane", "multi-gauss"]
    assert choices["tasks"]["multi-gauss"] == "regression"
    assert choices["tasks"]["circle"] == "classification"
    assert choices["dataset_defaults"]["multi-gauss"]["output_activation"] == "identity"
    settings = {"dataset": "multi-gauss", "n": 120, "test_fraction": 0.25, "hidden": [6]}
    settings |= {"activation": "tanh"}
    status, _, setup = request(server, "POST", "/api/reset", settings)
    assert status == 200 and setup["task"] == "regression"
    assert setup["settings"]["output_activation"] == "identity"  # not the lab's sigmoid
    assert setup["settings"]["lr"] == 0.03 and setup["settings"]["optimizer"] == "adam"
    assert len(setup["train"]["y"]) == 90 and len(setup["test"]["y"]) == 30
    session = server.playground
    np.testing.assert_allclose(setup["test"]["y"], session.y_test[:, 0], atol=1e-5)
    status, _, state = request(server, "POST", "/api/step", {"epochs": 40})
    assert status == 200 and state["task"] == "regression" and state["epoch"] == 40
    assert state["accuracy"] is None and state["test_accuracy"] is None
    pred = session.model.forward(session.x_test)
    assert state["test_r2"] == pytest.approx(r2_score(pred, session.y_test), rel=5e-5)
    train_r2 = r2_score(session.model.forward(session.x), session.y)
    assert state["r2"] == pytest.approx(train_r2, rel=5e-5) and 0.0 < state["r2"] < 1.0
    # a loss the task cannot use: refused with the reason, the session trains on
    status, _, error = request(server, "POST", "/api/reset", {**settings, "loss": "bce"})
    assert status == 400
    assert error["error"] == (
        "loss: multi-gauss is a regression (targets are values to predict, not classes), "
        "so 'bce' does not apply; accepted: mse"
    )
    assert request(server, "POST", "/api/step", {"epochs": 1})[2]["epoch"] == 41


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        ("POST", "/api/reset", {"body": {"lr": 0}}, 400, "lr: must be a finite number > 0, got 0"),
        ("POST", "/api/reset", {"raw": b"{lr: 1}"}, 400, "request body: not JSON (Expecting"),
        ("POST", "/api/reset", {"raw": b"\xff\xfe"}, 400, "request body: not JSON"),
        ("POST", "/api/step", {"body": {"steps": 5}}, 400, 'must be {"epochs": N}'),
        ("POST", "/api/step", {"body": [5]}, 400, 'must be {"epochs": N}, got [5]'),
        ("POST", "/api/step", {"body": {"epochs": 0}}, 400, "epochs: must be from 1 to"),
        # a key the action does not take is refused, not ignored (the step would not set lr)
        (
            "POST",
            "/api/step",
            {"body": {"epochs": 1, "lr": 5}},
            400,
            "unknown key 'lr' (accepted: epochs)",
        ),
        (
            "POST",
            "/api/lr",
            {"body": {"lr": 0.5, "epochs": 2}},
            400,
            "unknown key 'epochs' (accepted: lr)",
        ),
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


@pytest.mark.parametrize("host", ["", " ", " localhost", "local host"])
def test_cli_refuses_a_blank_host_quoting_it(capsys, monkeypatch, host) -> None:
    # cli20 M4: --host '' listened on 0.0.0.0, every interface; ' ' said "cannot listen
    # on  :0", the host unquoted
    import proplab.playground_server as server

    monkeypatch.setattr(server, "serve", lambda *a, **k: pytest.fail("served"))
    assert main(["play", "--host", host, "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "proplab play: error: argument --host: expected an address without spaces "
        f"(127.0.0.1: this machine only; 0.0.0.0: every interface), got {host!r}\n"
    )


def test_cli_refuses_a_port_out_of_range(capsys) -> None:
    assert main(["play", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "proplab play: error: argument --port: must be from 0 to 65535, got 70000"


def test_cli_serves_until_interrupted(monkeypatch, capsys) -> None:
    def interrupted(self, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(PlaygroundServer, "serve_forever", interrupted)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert main(["play", "--port", "0", "--open"]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[0].startswith("proplab playground at http://127.0.0.1:")
    assert opened == [out[0].split(" at ")[1].split(" ")[0]]
    assert out[-1] == "proplab playground: stopped"
    assert captured.err == ""  # this machine only, a browser opened: nothing to warn of


def test_every_interface_is_warned_of_and_the_url_is_this_machines(monkeypatch, capsys) -> None:
    # sec25 L1: --host 0.0.0.0 said nothing of the open API, printed and opened
    # http://0.0.0.0:PORT/ (the wildcard, not an address), and L6: --open without a
    # browser said nothing either
    def interrupted(self, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(PlaygroundServer, "serve_forever", interrupted)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) and False)
    assert main(["play", "--host", "0.0.0.0", "--port", "0", "--open"]) == 0
    captured = capsys.readouterr()
    url = captured.out.splitlines()[0].split(" at ")[1].split(" ")[0]
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/") and opened == [url]
    assert captured.err.splitlines() == [
        "proplab play: warning: listening on every interface (0.0.0.0): anyone on this "
        "network can reset and train this session; there is no password",
        f"proplab play: no web browser found; open {url} yourself",
    ]


@pytest.mark.parametrize(
    ("host", "warned"),
    [("localhost", False), ("127.0.0.2", False), ("192.0.2.1", True), ("::1", False)],
)
def test_only_a_host_beyond_this_machine_is_warned_of(host, warned) -> None:
    assert playground_server._is_loopback(host) is not warned


def test_the_port_hint_is_given_only_when_the_port_is_the_problem(capsys) -> None:
    # sec25 L7: a host that is not this machine's (or an IPv6 address, which this server
    # cannot take) said "pass --port 0 for any free port"
    assert main(["play", "--host", "192.0.2.1", "--port", "8000"]) == 2
    err = capsys.readouterr().err.strip()  # (Linux: "Cannot assign requested address")
    assert err.startswith("proplab play: error: cannot listen on 192.0.2.1:8000: ")
    assert "--port" not in err and "\n" not in err
    assert main(["play", "--host", "::1", "--port", "8000"]) == 2
    assert capsys.readouterr().err.strip() == (
        "proplab play: error: cannot listen on ::1:8000: IPv6 addresses are not supported "
        "(use 127.0.0.1, or 0.0.0.0 for every interface)"
    )


def test_page_is_shipped_with_the_package() -> None:
    # an installed (not editable) proplab has only the files package-data names
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["proplab"]
    assert playground_server.PAGE in shipped


def _raw(srv: PlaygroundServer, payloads: list[bytes]) -> list[tuple[int, bytes]]:
    """Send raw HTTP requests on one socket; ``(status, body)`` of each answer read. A
    payload's ``Host: x`` stands for the server's own address (another Host is refused)."""
    payloads = [_raw_host(srv, payload) for payload in payloads]
    answers = []
    with (
        socket.create_connection(srv.server_address[:2], timeout=10) as sock,
        sock.makefile("rb") as reader,
    ):
        for payload in payloads:
            try:
                sock.sendall(payload)
                first = reader.readline()
            except (ConnectionResetError, BrokenPipeError):
                break
            if not first:  # the server closed the connection
                break
            status = int(first.split()[1])
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answers.append((status, reader.read(length)))
    return answers


def _raw_host(srv: PlaygroundServer, payload: bytes) -> bytes:
    """``payload`` with its ``Host: x`` made the server's own address."""
    own = "Host: {}:{}".format(*srv.server_address[:2]).encode()
    return payload.replace(b"\r\nHost: x\r\n", b"\r\n" + own + b"\r\n")


def _post(path: str, body: bytes, headers: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


def test_a_json_null_body_is_answered(server) -> None:
    # None also meant "already answered": the server sent nothing and the client hung
    status, _, body = request(server, "POST", "/api/reset", raw=b"null")
    assert status == 400 and body["error"] == "settings: must be an object of settings, got None"
    status, _, body = request(server, "POST", "/api/step", raw=b"null")
    assert status == 400 and body["error"] == 'request body: must be {"epochs": N}, got None'


def test_an_unknown_action_leaves_the_connection_usable_or_closes_it(server) -> None:
    # its body was left unread and taken for the next request's first line
    answers = _raw(server, [_post("/api/trian", b'{"epochs": 5}'), _post("/api/step", b"{}")])
    assert answers[0][0] == 404
    # closed after the 404 (the second request got no answer, rather than an HTML 400)
    assert len(answers) == 1
    assert server.playground.epoch == 0


def test_a_chunked_body_is_refused_not_taken_for_an_empty_one(server) -> None:
    request(server, "POST", "/api/reset", {"dataset": "circle", "n": 30})
    chunked = (
        b"POST /api/reset HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'11\r\n{"dataset":"xor"}\r\n0\r\n\r\n'
    )
    (status, body), *_ = _raw(server, [chunked])
    assert status == 411
    assert json.loads(body)["error"] == (
        "request body: send it with a Content-Length (chunks are not read)"
    )
    assert server.playground.cfg.dataset == "circle"  # not reset to the defaults


def test_a_body_cut_short_is_refused_not_acted_on(server) -> None:
    # the client promised 50 bytes, sent 13 and stopped: a complete-looking {"epochs": 1}
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        head = "POST /api/step HTTP/1.1\r\nHost: {}:{}\r\nContent-Length: 50\r\n\r\n"
        sock.sendall(head.format(*server.server_address[:2]).encode())
        sock.sendall(b'{"epochs": 1}')
        sock.shutdown(socket.SHUT_WR)
        answer = sock.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400"
    assert json.loads(body)["error"] == "request body: 13 of its 50 bytes arrived"
    assert server.playground.epoch == 0


@pytest.mark.parametrize(("length", "shown"), [("-5", "'-5'"), ("abc", "'abc'")])
def test_a_bad_content_length_is_a_bad_request(server, length, shown) -> None:
    payload = f"POST /api/step HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    (status, body), *_ = _raw(server, [payload])
    assert status == 400
    assert json.loads(body)["error"] == f"Content-Length: not a byte count ({shown})"


def test_a_post_from_another_sites_page_is_refused(server) -> None:
    host = "{}:{}".format(*server.server_address[:2])
    other = _post("/api/step", b'{"epochs": 5}', "Origin: https://example.com\r\n")
    (status, body), *_ = _raw(server, [other.replace(b"Host: x", f"Host: {host}".encode())])
    assert status == 403
    assert (
        json.loads(body)["error"]
        == "request from another site's page (https://example.com) refused"
    )
    own = _post("/api/step", b'{"epochs": 5}', f"Origin: http://{host}\r\n")
    (status, _), *_ = _raw(server, [own.replace(b"Host: x", f"Host: {host}".encode())])
    assert status == 200 and server.playground.epoch == 5


def _asked(srv: PlaygroundServer, method: str, path: str, headers: dict[str, str]) -> tuple:
    """``(status, JSON body)`` of one request with these headers (Host among them)."""
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=30)
    conn.putrequest(method, path, skip_host="Host" in headers)
    body = b'{"dataset": "spiral"}' if method == "POST" else b""
    for name, value in {**headers, "Content-Length": str(len(body))}.items():
        conn.putheader(name, value)
    conn.endheaders(body)
    response = conn.getresponse()
    answer = response.status, json.loads(response.read())
    conn.close()
    return answer


def test_a_host_that_is_not_this_server_is_refused(server) -> None:
    # sec25 M2 (DNS rebinding): evil.example made to resolve to 127.0.0.1 is same-origin to
    # the browser, its Origin matches its Host, and it could reset, train and read the session
    port = server.server_address[1]
    refused = {"error": f"Host 'evil.example:{port}' is not this server (open {server.url})"}
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    assert _asked(server, "POST", "/api/reset", evil) == (403, refused)
    assert _asked(server, "GET", "/api/setup", {"Host": evil["Host"]}) == (403, refused)
    assert _asked(server, "GET", "/", {"Host": evil["Host"]}) == (403, refused)
    for host in ("127.0.0.2", f"127.0.0.1:{port + 1}", "127.0.0.1", f"localhost.:{port}"):
        status, body = _asked(server, "GET", "/api/setup", {"Host": host})
        assert (status, body["error"]) == (
            403,
            f"Host {host!r} is not this server (open {server.url})",
        )
    status, body = _asked(server, "GET", "/api/setup", {"Host": ""})
    assert status == 403
    assert server.playground.cfg.dataset == "xor" and server.playground.session == 1
    # this machine's names, with the server's port, are this server; the page's own POST too
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
        assert _asked(server, "GET", "/api/setup", {"Host": host})[0] == 200
        status, setup = _asked(
            server, "POST", "/api/reset", {"Host": host, "Origin": f"http://{host}"}
        )
        assert status == 200 and setup["settings"]["dataset"] == "spiral"
    # the page at localhost posting to 127.0.0.1 is this server's page too
    own = {"Host": f"127.0.0.1:{port}", "Origin": f"http://localhost:{port}"}
    assert _asked(server, "POST", "/api/reset", own)[0] == 200


def test_a_request_without_a_host_is_refused(server) -> None:
    (status, body), *_ = _raw(server, [b"GET /api/setup HTTP/1.0\r\n\r\n"])
    assert status == 403
    assert json.loads(body)["error"] == (
        f"a request without a Host header is not this server (open {server.url})"
    )


def test_listening_on_every_interface_any_address_is_this_server_not_any_name() -> None:
    srv = PlaygroundServer(("0.0.0.0", 0))
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        port = srv.server_address[1]
        lan = f"192.0.2.7:{port}"  # the address another machine typed
        assert _asked(srv, "GET", "/api/setup", {"Host": lan})[0] == 200
        assert _asked(srv, "POST", "/api/reset", {"Host": lan, "Origin": f"http://{lan}"})[0] == 200
        assert _asked(srv, "GET", "/api/setup", {"Host": f"[2001:db8::1]:{port}"})[0] == 200
        # a name is not an address: a rebinding site's still is refused, and the message
        # points at the address the connection reached (127.0.0.2 here, another loopback
        # address standing for the LAN's), not at the user's own 127.0.0.1 (verify25 L3)
        conn = http.client.HTTPConnection("127.0.0.2", port, timeout=30)
        conn.request("GET", "/api/setup", headers={"Host": f"vm:{port}"})
        response = conn.getresponse()
        status, body = response.status, json.loads(response.read())
        conn.close()
        assert status == 403 and body["error"] == (
            f"Host 'vm:{port}' is not this server (open http://127.0.0.2:{port}/, by its "
            "address: names are refused, as a DNS-rebinding site would use one)"
        )
        # a page at another address is another site's, though its Host would be accepted
        other = {"Host": lan, "Origin": f"http://198.51.100.1:{port}"}
        status, body = _asked(srv, "POST", "/api/reset", other)
        assert status == 403 and body["error"] == (
            f"request from another site's page (http://198.51.100.1:{port}) refused"
        )
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()


def test_no_other_sites_page_may_frame_any_answer(server) -> None:
    # sec25 M1: in a hidden frame, the page's own POSTs are same-origin; a link's settings
    # and ?autoplay=1 then reset and trained the session. Every answer refuses framing.
    own = f"127.0.0.1:{server.server_address[1]}"
    asked = [("GET", "/", None, own), ("GET", "/api/options", None, own)]
    asked += [("GET", "/api/nothing", None, own), ("POST", "/api/step", b'{"epochs": 1}', own)]
    asked += [("POST", "/api/step", b"[", own), ("GET", "/", None, "evil.example")]
    statuses = []
    for method, path, body, host in asked:
        conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
        conn.request(method, path, body=body, headers={"Host": host})
        response = conn.getresponse()
        response.read()
        conn.close()
        statuses.append(response.status)
        assert response.getheader("X-Frame-Options") == "DENY", path
        assert response.getheader("Content-Security-Policy") == "frame-ancestors 'none'", path
    assert statuses == [200, 200, 404, 200, 400, 403]


@pytest.mark.parametrize(
    ("fetch_site", "marked"),
    [("cross-site", True), ("same-site", False), ("same-origin", False), ("none", False)],
)
def test_the_page_is_marked_when_another_sites_link_opened_it(server, fetch_site, marked) -> None:
    # sec25 M1: the page's ?autoplay=1 waits for a click then (see playground.html)
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/?dataset=moons&autoplay=1", headers={"Sec-Fetch-Site": fetch_site})
    page = conn.getresponse().read()
    conn.close()
    assert (playground_server.CROSS_SITE_MARK in page) is marked
    if marked:
        assert page.replace(b"\n" + playground_server.CROSS_SITE_MARK, b"", 1) == page_html()
        head = page.split(b"</head>")[0]
        assert head.index(b'<meta charset="utf-8">') < head.index(playground_server.CROSS_SITE_MARK)
    else:
        assert page == page_html()


def _hang_up(sock: socket.socket) -> None:
    """Close ``sock`` with a reset (RST), as a closed tab or ``curl -m`` may."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_client_that_left_prints_no_traceback(server, monkeypatch, capsys) -> None:
    # sec25 L3: a client gone before its answer (a closed tab during a long step) put a
    # BrokenPipeError traceback on the student's terminal; one gone mid-body, a reset one
    asked, answer, done = threading.Event(), threading.Event(), threading.Event()
    real_step = type(server.playground).step
    real_shutdown = PlaygroundServer.shutdown_request

    def step(self, epochs):
        asked.set()
        assert answer.wait(30)
        return real_step(self, epochs)

    def shutdown_request(self, request) -> None:
        real_shutdown(self, request)
        done.set()

    monkeypatch.setattr(type(server.playground), "step", step)
    monkeypatch.setattr(PlaygroundServer, "shutdown_request", shutdown_request)
    sock = socket.create_connection(server.server_address[:2], timeout=10)
    sock.sendall(_raw_host(server, _post("/api/step", b'{"epochs": 1}')))
    assert asked.wait(30)
    _hang_up(sock)
    answer.set()  # the step ends, and its answer goes to a socket reset
    assert done.wait(30)
    done.clear()
    sock = socket.create_connection(server.server_address[:2], timeout=10)
    sock.sendall(_raw_host(server, _post("/api/step", b'{"epochs": 1}'))[:-5])
    _hang_up(sock)
    assert done.wait(30)
    assert capsys.readouterr().err == ""
    assert server.playground.epoch == 1  # the first step ran; the second was never acted on


def test_a_stalled_connection_is_closed_and_says_nothing(server, monkeypatch, capsys) -> None:
    # sec25 L2: half-sent requests each kept a thread and a file descriptor for ever
    assert playground_server._Handler.timeout == 30
    monkeypatch.setattr(playground_server._Handler, "timeout", 0.5)  # (not to wait 30 s here)
    with socket.create_connection(server.server_address[:2], timeout=20) as sock:
        sock.sendall(b"POST /api/step HTTP/1.1\r\n")  # and its headers never come
        assert sock.recv(100) == b""  # closed
    with socket.create_connection(server.server_address[:2], timeout=20) as sock:
        sock.sendall(_raw_host(server, _post("/api/step", b'{"epochs": 1}'))[:-3])
        answer = sock.makefile("rb").read()  # the answer, then closed
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"408"
    assert json.loads(body) == {"error": "request body: its 13 bytes did not arrive in 0.5 s"}
    assert server.playground.epoch == 0
    assert capsys.readouterr().err == ""


def test_connections_beyond_the_cap_are_refused_and_the_cap_frees(monkeypatch) -> None:
    # sec25 L2: at the file-descriptor limit, accept() failed over and over (a core spun)
    monkeypatch.setattr(playground_server, "MAX_CONNECTIONS", 2)
    srv = PlaygroundServer(("127.0.0.1", 0))
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        held = [socket.create_connection(srv.server_address[:2], timeout=20) for _ in range(2)]
        held[0].sendall(_raw_host(srv, b"GET /api/options HTTP/1.1\r\nHost: x\r\n\r\n"))
        assert held[0].recv(12) == b"HTTP/1.1 200"  # both are served: the cap is reached
        with socket.create_connection(srv.server_address[:2], timeout=20) as third:
            answer = third.makefile("rb").read()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split()[1] == b"503" and b"Connection: close" in head
        assert json.loads(body) == {
            "error": "too many connections open to the playground; try again"
        }
        for sock in held:
            sock.close()
        for _ in range(200):  # the threads notice the closes and free their slots
            if request(srv, "GET", "/api/options")[0] == 200:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the closed connections' slots were never freed")
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()


def test_head_is_answered_as_get_without_the_body(server) -> None:
    # sec25 L4: HEAD got http.server's HTML 501, so "is the server up?" checks failed
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    for path, status, length in (
        ("/", 200, len(page_html())),
        ("/api/options", 200, len(playground_server._encoded(options()))),
        ("/api/nothing", 404, None),
    ):
        conn.request("HEAD", path)
        response = conn.getresponse()
        assert response.status == status and response.read() == b""
        if length is not None:
            assert int(response.getheader("Content-Length")) == length
    conn.request("GET", "/api/setup")  # the same connection: no stray body was sent
    assert json.loads(conn.getresponse().read())["state"]["epoch"] == 0
    conn.close()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_another_method_is_a_json_405_saying_which_are_accepted(server, method) -> None:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    conn.request(method, "/api/reset", body=b'{"dataset": "moons"}')
    response = conn.getresponse()
    assert (response.status, response.getheader("Allow")) == (405, "GET, HEAD, POST")
    assert json.loads(response.read()) == {
        "error": f"method {method} not allowed (accepted: GET, HEAD, POST)"
    }
    conn.close()
    assert server.playground.cfg.dataset == "xor"


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "Request-URI Too Long"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 120 + b"\r\n",
            431,
            "Request Header Fields Too Large: Too many headers",
        ),
        (
            b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
            501,
            "Not Implemented: Unsupported method ('BREW')",
        ),
    ],
)
def test_http_servers_own_refusals_are_json(server, payload, status, message) -> None:
    (got, body), *_ = _raw(server, [payload])
    assert (got, json.loads(body)) == (status, {"error": message})


def test_a_bad_value_is_quoted_briefly_in_the_message(server) -> None:
    # sec25 L5: a 64 kB body came back whole in the error, three times its size as JSON
    long_key = "y" * 60_000
    status, _, body = request(server, "POST", "/api/step", {long_key: 1})
    assert status == 400
    assert body["error"] == (
        f'request body: must be {{"epochs": N}}, got {{\'{"y" * 70}... (60,007 characters)'
    )
    status, _, body = request(
        server, "POST", "/api/weight", {"layer": 0, "from": 0, "to": 0, "value": 1, long_key: 2}
    )
    assert body["error"] == (
        f"request body: unknown key '{'y' * 71}... (60,002 characters) (accepted: layer, from, "
        "to, value)"
    )
    # the playground's own message quotes a value briefly too (checks.short_repr)
    status, _, body = request(
        server,
        "POST",
        "/api/step",
        raw=json.dumps({"epochs": "\U0001f600" * 16_000}, ensure_ascii=False).encode(),
    )  # 64 kB in UTF-8
    assert status == 400
    smiles = "\U0001f600" * 79
    assert body["error"] == f"epochs: must be an integer from 1 to 100,000, got '{smiles} ..."
    # short values are quoted whole, as before
    status, _, body = request(server, "POST", "/api/step", {"epochs": "12"})
    assert body["error"] == "epochs: must be an integer from 1 to 100,000, got '12'"


def test_every_answer_is_sent_after_the_lock_is_released(server, monkeypatch, capsys) -> None:
    # sec25 L5: an error was written inside the lock: a client slow to read could hold it
    held: list[tuple[int, bool]] = []
    real_send = playground_server._Handler._send

    def send(self, status, body, content_type):
        held.append((int(status), self.server.lock.locked()))
        real_send(self, status, body, content_type)

    monkeypatch.setattr(playground_server._Handler, "_send", send)
    request(server, "POST", "/api/step", {"epochs": 1})
    request(server, "POST", "/api/step", {"epochs": 0})
    monkeypatch.setattr(type(server.playground), "setup", lambda self: 1 / 0)
    request(server, "GET", "/api/setup")
    assert held == [(200, False), (400, False), (500, False)]
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_a_bug_in_the_playground_is_answered_with_its_message(server, monkeypatch, capsys) -> None:
    def broken(self, epochs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(type(server.playground), "step", broken)
    status, _, body = request(server, "POST", "/api/step", {"epochs": 1})
    assert status == 500
    assert body["error"] == "the playground failed: ZeroDivisionError: division by zero"
    assert "ZeroDivisionError" in capsys.readouterr().err  # the traceback, for a bug report


def test_a_new_learning_rate_over_http(server) -> None:
    request(server, "POST", "/api/step", {"epochs": 4})
    status, _, setup = request(server, "POST", "/api/lr", {"lr": 0.25})
    assert status == 200 and setup["settings"]["lr"] == 0.25 and setup["state"]["epoch"] == 4
    assert server.playground.optimizer.hyper["lr"] == 0.25
    for body, message in (
        ({"lr": 0}, "lr: must be a finite number > 0, got 0"),
        ({"rate": 1}, 'must be {"lr": X}'),
    ):
        status, _, error = request(server, "POST", "/api/lr", body)
        assert status == 400 and message in error["error"]
    assert server.playground.cfg.lr == 0.25


def test_a_weight_and_a_bias_set_over_http(server) -> None:
    request(server, "POST", "/api/reset", {"dataset": "circle", "n": 40, "hidden": [3]})
    request(server, "POST", "/api/step", {"epochs": 5})
    body = {"layer": 1, "from": 2, "to": 0, "value": -0.75}
    status, _, state = request(server, "POST", "/api/weight", body)
    assert status == 200 and state["weights"][1][2][0] == -0.75 and state["epoch"] == 5
    status, _, state = request(server, "POST", "/api/bias", {"layer": 0, "unit": 1, "value": 2})
    assert status == 200 and state["biases"][0][1] == 2
    first = next(p for p in server.playground.model.parameters() if p.data.ndim == 1)
    assert first.data[1] == 2.0  # the session's own model
    for path, bad, message in (
        ("/api/weight", {"layer": 0, "from": 0, "value": 1}, 'must be {"layer": L, "from": I'),
        ("/api/weight", {**body, "unit": 0}, "unknown key 'unit' (accepted: layer, from, to"),
        ("/api/weight", {**body, "layer": 5}, "layer: must be from 0 to 1"),
        ("/api/bias", {"layer": 0, "unit": 0, "value": "x"}, "value: must be a finite number"),
        ("/api/bias", {"layer": 0, "value": 1}, 'must be {"layer": L, "unit": J, "value": X}'),
    ):
        status, _, error = request(server, "POST", path, bad)
        assert status == 400 and message in error["error"], error
    assert server.playground.state([])["weights"][1][2][0] == -0.75


def test_one_step_by_hand_over_http_leaves_the_session_where_it_was(server) -> None:
    request(server, "POST", "/api/reset", {"dataset": "circle", "n": 40, "hidden": [3]})
    request(server, "POST", "/api/step", {"epochs": 30})
    session = server.playground
    weights = [p.data.copy() for p in session.model.parameters()]
    status, kind, got = request(server, "POST", "/api/trace", {"sample": 5})
    assert (status, kind) == (200, "application/json")
    assert got == json.loads(json.dumps(session.trace(5)))  # the session's own trace
    assert got["sample"] == 5 and got["epoch"] == 30 and got["checked"] is True
    assert got["x"] == pytest.approx(session.x[5].tolist(), rel=1e-4)
    assert got["target"] == int(session.y[5, 0])
    lines = got["text"].splitlines()
    assert lines[0].endswith("after 30 epochs of training, on training point 5 alone")
    assert "FORWARD  input to output" in lines and "CHECK  every weight's gradient" in got["text"]
    # the model did not move: the same weights, and training goes on from epoch 30
    for before, p in zip(weights, session.model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, before)
    assert request(server, "POST", "/api/step", {"epochs": 1})[2]["epoch"] == 31
    # more digits when asked
    status, _, wide = request(server, "POST", "/api/trace", {"sample": 5, "digits": 8})
    assert status == 200 and wide["text"] == session.trace(5, 8)["text"] != got["text"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"sample": 21},
            "sample: must be from 0 to 20 (the indices of the 21 training points), got 21",
        ),
        (
            {"sample": 1.5},
            "sample: must be an integer from 0 to 20 (a training point's index), got 1.5",
        ),
        (
            {"sample": "0"},
            "sample: must be an integer from 0 to 20 (a training point's index), got '0'",
        ),
        ({"sample": 0, "digits": 40}, "digits: must be from 1 to 12, got 40"),
        ({"point": 0}, "request body: must be {\"sample\": N}, got {'point': 0}"),
        ([0], 'request body: must be {"sample": N}, got [0]'),
        ({"sample": 0, "digit": 6}, "request body: unknown key 'digit' (accepted: sample, digits)"),
    ],
)
def test_a_bad_trace_request_gets_a_json_error(server, body, message) -> None:
    request(server, "POST", "/api/step", {"epochs": 3})
    status, kind, error = request(server, "POST", "/api/trace", body)
    assert (status, kind) == (400, "application/json")
    assert error == {"error": message}
    assert server.playground.epoch == 3


def test_a_trace_of_a_batchnorm_network_is_refused_saying_why(server) -> None:
    request(server, "POST", "/api/reset", {"hidden": [4], "batchnorm": True})
    status, _, error = request(server, "POST", "/api/trace", {"sample": 0})
    assert status == 400
    assert error["error"] == (
        "sample 0: a network with batchnorm cannot take a step on one sample "
        "(a batch of one has no variance to normalise by)"
    )


# ---------------------------------------------------------------- from mutation testing


def test_a_refused_body_closes_the_connection_where_its_bytes_were_left_unread(server) -> None:
    # a chunked body, one too large, and a POST from another site's page: the bytes left
    # unread would be taken for the next request (which then gets no answer here)
    host = "{}:{}".format(*server.server_address[:2])
    step = _post("/api/step", b'{"epochs": 1}')
    chunked = (
        b"POST /api/reset HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'11\r\n{"dataset":"xor"}\r\n0\r\n\r\n'
    )
    large = _post("/api/step", b" " * (playground_server.MAX_BODY + 1))
    other = _post("/api/step", b'{"epochs": 5}', "Origin: https://example.com\r\n")
    other = other.replace(b"Host: x", f"Host: {host}".encode())
    for refused, status in ((chunked, 411), (large, 413), (other, 403)):
        answers = _raw(server, [refused, step])
        assert [a[0] for a in answers] == [status]
    assert server.playground.epoch == 0


def test_a_content_length_of_minus_one_is_a_bad_request(server) -> None:
    # read(-1) would read until the client closes: the request would hang
    payload = b"POST /api/step HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
    (status, body), *_ = _raw(server, [payload])
    assert status == 400
    assert json.loads(body)["error"] == "Content-Length: not a byte count ('-1')"


def test_a_body_of_exactly_max_body_bytes_is_read(server) -> None:
    body = b'{"epochs": 2}'
    body += b" " * (playground_server.MAX_BODY - len(body))
    status, _, state = request(server, "POST", "/api/step", raw=body)
    assert status == 200 and state["epoch"] == 2


def test_an_empty_body_resets_to_the_defaults(server) -> None:
    request(server, "POST", "/api/reset", {"dataset": "circle", "n": 30})
    status, _, setup = request(server, "POST", "/api/reset", raw=b"")
    assert status == 200 and setup["settings"]["dataset"] == "xor"
    assert setup["settings"] == options()["defaults"]


def test_a_body_that_is_not_utf8_is_a_bad_request(server) -> None:
    status, _, body = request(server, "POST", "/api/reset", raw=b'{"dataset": "\xff"}')
    assert status == 400 and body["error"].startswith("request body: not JSON ('utf-8' codec")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # sec25 M3: json.loads raised ValueError / RecursionError, which _body did not catch:
        # no answer at all, and a traceback on the terminal
        (
            b'{"epochs": ' + b"1" * 5000 + b"}",
            "request body: not read (Exceeds the limit (4300 digits) for integer string "
            "conversion)",
        ),
        (
            b"[" * 30_000 + b"]" * 30_000,
            "request body: nested too deeply to read (a request is one flat object)",
        ),
    ],
)
def test_json_that_python_will_not_read_is_a_bad_request(server, capsys, raw, message) -> None:
    status, _, body = request(server, "POST", "/api/step", raw=raw)
    assert (status, body) == (400, {"error": message})
    assert capsys.readouterr().err == ""
    assert request(server, "POST", "/api/step", {"epochs": 1})[2]["epoch"] == 1


def test_requests_use_the_session_under_the_servers_lock(server, monkeypatch) -> None:
    held: list[bool] = []
    playground_cls = type(server.playground)
    real_step, real_setup = playground_cls.step, playground_cls.setup

    def step(self, epochs):
        held.append(server.lock.locked())
        return real_step(self, epochs)

    def setup(self):
        held.append(server.lock.locked())
        return real_setup(self)

    monkeypatch.setattr(playground_cls, "step", step)
    monkeypatch.setattr(playground_cls, "setup", setup)
    assert request(server, "POST", "/api/step", {"epochs": 1})[0] == 200
    assert request(server, "GET", "/api/setup")[0] == 200
    assert held == [True, True]
    assert not server.lock.locked()


def test_a_query_string_does_not_change_the_path(server) -> None:
    status, _, body = request(server, "GET", "/api/options?probe=1")
    assert status == 200 and body == json.loads(json.dumps(options()))
    status, _, state = request(server, "POST", "/api/step?t=1", {"epochs": 3})
    assert status == 200 and state["epoch"] == 3


def test_answers_are_not_cached(server) -> None:
    for method, path, body in (("GET", "/", None), ("GET", "/api/setup", None)):
        conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
        conn.request(method, path, body=body)
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 200 and response.getheader("Cache-Control") == "no-store"


def test_a_quiet_server_logs_no_requests(capsys) -> None:
    for quiet in (True, False):
        srv = PlaygroundServer(("127.0.0.1", 0), quiet=quiet)
        thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            assert request(srv, "GET", "/api/options")[0] == 200
        finally:
            srv.shutdown()
            srv.server_close()
            thread.join()
        logged = capsys.readouterr().err
        assert ('"GET /api/options HTTP/1.1" 200' in logged) is not quiet, (quiet, logged)


def test_an_answer_that_is_not_json_is_a_500_not_silence(server, monkeypatch, capsys) -> None:
    # serialising the result sat outside the error handling: the client got no response
    monkeypatch.setattr(type(server.playground), "step", lambda self, epochs: {"loss": math.nan})
    status, _, body = request(server, "POST", "/api/step", {"epochs": 1})
    assert status == 500
    # (Python 3.11 adds no value to the message, 3.13 adds ": nan")
    assert body["error"].startswith(
        "the playground failed: ValueError: Out of range float values are not JSON compliant"
    )
    capsys.readouterr()


def test_every_state_carries_the_session_number_and_only_a_reset_changes_it(server) -> None:
    # a page compares it with its setup's: another number means another page (or a Link)
    # started the session again, and the page must load the new setup (play22's H1)
    status, _, first = request(server, "GET", "/api/setup")
    assert status == 200 and first["state"]["session"] == 1
    assert request(server, "POST", "/api/step", {"epochs": 3})[2]["session"] == 1
    assert request(server, "POST", "/api/lr", {"lr": 0.5})[2]["state"]["session"] == 1
    assert request(server, "POST", "/api/trace", {"sample": 0})[2]["session"] == 1
    refused = request(server, "POST", "/api/reset", {"hidden": [99]})
    assert refused[0] == 400 and "session" not in refused[2]
    assert request(server, "GET", "/api/setup")[2]["state"]["session"] == 1  # refused: kept
    status, _, second = request(server, "POST", "/api/reset", {"dataset": "circle"})
    assert status == 200 and second["state"]["session"] == 2
    assert request(server, "POST", "/api/step", {"epochs": 1})[2]["session"] == 2
    assert request(server, "POST", "/api/reset", {"dataset": "circle"})[2]["state"]["session"] == 3
    assert server.playground.session == 3


def test_a_units_map_over_http_is_the_sessions_own(server) -> None:
    request(server, "POST", "/api/reset", {"dataset": "circle", "hidden": [4, 2]})
    request(server, "POST", "/api/step", {"epochs": 5})
    status, kind, body = request(server, "GET", "/api/unit?layer=2&unit=1")
    assert (status, kind) == (200, "application/json")
    assert body == json.loads(json.dumps(server.playground.unit_map(2, 1)))
    assert (body["layer"], body["unit"], body["epoch"]) == (2, 1, 5)
    assert np.shape(body["map"]) == (64, 64)
    assert server.playground.epoch == 5  # looking trains nothing


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "request: layer missing; GET /api/unit takes ?layer=L&unit=J"),
        ("?layer=1", "request: unit missing; GET /api/unit takes ?layer=L&unit=J"),
        ("?layer=1&unit=0&unit=1", "request: unit given twice"),
        ("?layer=1&unit=0&epochs=3", "request: unknown key 'epochs' (accepted: layer, unit)"),
        ("?layer=one&unit=0", "layer: must be an integer, got 'one'"),
        ("?layer=1&unit=1.5", "unit: must be an integer, got '1.5'"),
        (
            "?layer=9&unit=0",
            "layer: must be from 0 to 2 (0: the inputs, 1 to 2: the hidden layers)",
        ),
        ("?layer=1&unit=4", "unit: must be from 0 to 3 (the 4 units of hidden layer 1), got 4"),
    ],
)
def test_a_bad_unit_request_gets_a_json_error(server, query, message) -> None:
    request(server, "POST", "/api/reset", {"dataset": "circle", "hidden": [4, 2]})
    status, kind, body = request(server, "GET", f"/api/unit{query}")
    assert (status, kind) == (400, "application/json")
    assert message in body["error"]
