"""Tests for mutants the suite let live (mut25b: the playground server's hardening of fix25c,
sec25: the Host and Origin checks, the refusals that close the connection, the quiet
handle_error, the connection cap, the brief quotes, the --host warning and the bind
messages; and in playground.html the question a link asks over a trained session).

Each test names the planted change it kills (mut25b's ids: /tmp/mut25b/mutants.md) and
says why the behaviour matters.
"""

from __future__ import annotations

import errno
import socket
import threading

import pytest
import test_playground_browser as pb
import test_playground_server as ps
from test_playground_browser import PAUSED_AT, READY, load, notes_of, staged, text_of
from test_playground_server import _raw, request
from test_report_browser import console_lines

from proplab import playground_server
from proplab.cli import main
from proplab.playground import Playground
from proplab.playground_server import PlaygroundServer

# the fixtures: a server on a free port; chromium, a probed server and another site's page
server = ps.server
chromium = pb.chromium
serve = pb.serve
other_site = pb.other_site


def _unserved(host: str, port: int, given: str | None = None) -> PlaygroundServer:
    """A server whose address reads ``(host, port)`` and that was started on ``given``
    (``host`` unless given): only :meth:`PlaygroundServer.names_me` is asked of it (its
    socket is closed), so that port 80 or another machine's address need not be bound."""
    srv = PlaygroundServer(("127.0.0.1", 0))
    srv.server_close()
    srv.server_address = (host, port)
    srv.given_host = host if given is None else given
    return srv


def test_a_host_without_a_port_is_port_80() -> None:
    """S05 (the port made required in _AUTHORITY) and S06 (a missing port read as 0, not
    80): ``proplab play --port 80`` is opened as http://localhost/, whose Host header has
    no port; both mutants refused this server's own page with a 403."""
    srv = _unserved("127.0.0.1", 80)
    for host in ("localhost", "127.0.0.1", "[::1]", "localhost:80"):
        assert srv.names_me(host), host
    assert not srv.names_me("localhost:8080")
    assert not _unserved("127.0.0.1", 8000).names_me("localhost")  # port 80 is not 8000


def test_the_host_it_was_started_on_is_this_server_by_its_name_and_its_address() -> None:
    """S08 (the name given to --host left out of the names) and S09 (the address it was
    bound to left out): ``proplab play --host mybox.local`` is opened as
    http://mybox.local:8000/ by its name, or at the address that name stands for; each
    mutant refused one of the two with a 403."""
    srv = _unserved("192.0.2.5", 8000, given="mybox.local")
    assert srv.names_me("MyBox.local:8000")  # a Host's name in any case
    assert srv.names_me("192.0.2.5:8000")
    assert not srv.names_me("other.local:8000") and not srv.names_me("192.0.2.6:8000")
    # on another interface than every one, any address is not this server
    assert not srv.names_me("198.51.100.1:8000")


def test_an_empty_host_is_every_interface_as_0_0_0_0_is() -> None:
    """S03 (``""`` dropped from WILDCARDS) and S61 (the warning's "every interface" only for
    "0.0.0.0"): ``serve("")`` listens on every interface as 0.0.0.0 does (the CLI refuses
    --host '', the function does not); the mutants refused the address another machine
    typed, or warned "listening on : anyone ...", naming no place."""
    srv = PlaygroundServer(("", 0))
    srv.server_close()
    port = srv.server_address[1]
    assert srv.url == f"http://127.0.0.1:{port}/"
    assert srv.names_me(f"192.0.2.7:{port}") and srv.names_me(f"[2001:db8::1]:{port}")
    assert not srv.names_me(f"evil.example:{port}")
    assert playground_server._exposed_warning("").startswith(
        "proplab play: warning: listening on every interface (): anyone on this network"
    )


def test_a_post_refused_for_its_host_closes_the_connection(server) -> None:
    """S16 (no close after a Host refused): the POST's body is left unread, so on a kept
    connection it was read as the next request's first line: the next request got no
    answer of its own (an HTML-less 400 for ``{"epochs": 5}POST ...``)."""
    port = server.server_address[1]
    evil = (
        f"POST /api/step HTTP/1.1\r\nHost: evil.example:{port}\r\nContent-Length: 13\r\n\r\n"
        '{"epochs": 5}'
    ).encode()
    step = b'POST /api/step HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{"epochs": 1}'
    answers = _raw(server, [evil, step])
    assert [status for status, _ in answers] == [403]
    assert server.playground.epoch == 0


def test_a_refused_method_with_a_body_closes_the_connection(server) -> None:
    """S44 (no close after a 405) and S47 (no close after http.server's own refusal, here
    501): the refused request's body stays unread and was taken for the next request's
    first line, so a client reusing the connection got an answer to garbage."""
    body = b'{"dataset": "moons"}'
    for method in (b"PUT", b"BREW"):
        refused = (
            method + b" /api/reset HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
        ) + body
        setup = b"GET /api/setup HTTP/1.1\r\nHost: x\r\n\r\n"
        answers = _raw(server, [refused, setup])
        assert [status for status, _ in answers] == [405 if method == b"PUT" else 501]
    assert server.playground.cfg.dataset == "xor"


@pytest.mark.parametrize("gone", [BrokenPipeError, ConnectionResetError])
def test_a_client_that_left_is_no_error_to_print(server, capsys, gone) -> None:
    """S32 (BrokenPipeError dropped from handle_error's quiet ones): a tab closed during a
    step (the socket closed, not reset) raises BrokenPipeError at the answer's write; the
    mutant put its traceback on the student's terminal (the suite's hang-up sends a reset,
    which raises ConnectionResetError, so only this caught it)."""
    try:
        raise gone(errno.EPIPE, "Broken pipe")
    except gone:
        server.handle_error(None, ("127.0.0.1", 5))
    assert capsys.readouterr().err == ""


def test_a_bug_outside_the_session_still_prints_its_traceback(server, monkeypatch, capsys) -> None:
    """S35 (handle_error quiet for every exception): a bug in the handler itself (here in
    serving the page) must still print its traceback, or a student's bug report has
    nothing to show; the mutant printed nothing and the connection just closed."""

    def broken(fetch_site):
        raise RuntimeError("the page is broken")

    monkeypatch.setattr(playground_server, "_page", broken)
    with pytest.raises((ConnectionError, OSError)):  # no answer: the connection closed
        request(server, "GET", "/")
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: the page is broken" in err
    assert request(server, "GET", "/api/options")[0] == 200  # the server serves on


def test_sixty_four_connections_are_served_at_once_and_the_next_is_refused(server) -> None:
    """S37 (MAX_CONNECTIONS 6): a browser keeps about 6 connections per server, so a
    student's two or three tabs (and a reload's new ones before the old close) need more
    than 6; the mutant answered their requests 503. 64 are served, the 65th is refused."""
    ask = "GET /api/options HTTP/1.1\r\nHost: {}:{}\r\n\r\n".format(*server.server_address)
    held: list[socket.socket] = []
    try:
        for _ in range(64):  # one by one: each answered before the next connects (a burst
            # would overflow the listen queue of 5 and wait for the client's SYN resend)
            held.append(socket.create_connection(server.server_address[:2], timeout=20))
            held[-1].sendall(ask.encode())
            assert held[-1].recv(12) == b"HTTP/1.1 200", len(held)
        with socket.create_connection(server.server_address[:2], timeout=20) as extra:
            assert extra.makefile("rb").read().split(b"\r\n")[0] == (
                b"HTTP/1.1 503 Service Unavailable"
            )
    finally:
        for sock in held:
            sock.close()


def test_a_thread_that_cannot_start_frees_its_connection_slot(monkeypatch, capsys) -> None:
    """S40 (the slot not released when no thread started): at a thread limit ("can't start
    new thread", the very situation the cap is for) each failed start kept a slot for
    ever; after MAX_CONNECTIONS of them the server answered every connection 503."""
    monkeypatch.setattr(playground_server, "MAX_CONNECTIONS", 1)
    srv = PlaygroundServer(("127.0.0.1", 0))
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    real_start = threading.Thread.start
    failed: list[bool] = []

    def start(self) -> None:
        target = getattr(self, "_target", None)
        if getattr(target, "__name__", "") == "process_request_thread" and not failed:
            failed.append(True)
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    try:
        with pytest.raises((ConnectionError, OSError)):  # no thread: closed unanswered
            request(srv, "GET", "/api/options")
        assert failed == [True]
        assert request(srv, "GET", "/api/options")[0] == 200  # the one slot is free again
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()
    assert "RuntimeError: can't start new thread" in capsys.readouterr().err  # a real error


def test_a_value_quoted_in_80_characters_is_quoted_whole() -> None:
    """S50 (``< 80`` for ``<= 80``): "about 80 characters" is the limit, so a repr of
    exactly 80 is shown whole; the mutant cut it to 72 characters and a note longer than
    what it left out."""
    assert playground_server._short("a" * 78) == repr("a" * 78)  # 80 characters
    assert playground_server._short("a" * 79) == "'" + "a" * 71 + "... (81 characters)"
    assert playground_server._short("h" * 80, quote=False) == "h" * 80


def test_a_message_of_600_characters_is_sent_whole(server) -> None:
    """S52 (``< MAX_MESSAGE`` for ``<=``) and S53 (MAX_MESSAGE 200): the playground's own
    messages (up to ~250 characters, a list of accepted values with a suggestion) are sent
    whole; only one quoting a huge value is cut. The mutants cut a 600-character message,
    or any over 200: a student saw half the list of what is accepted."""
    assert playground_server._cut("m" * 600) == "m" * 600
    assert playground_server._cut("m" * 601) == "m" * 600 + "... (cut: 601 characters in all)"
    status, _, body = request(server, "POST", "/api/reset", {"hiden": [3]})  # 250 characters
    assert status == 400 and body["error"] == (
        "settings: unknown setting 'hiden' (accepted: dataset, n, noise, test_fraction, "
        "features, hidden, activation, output_activation, loss, optimizer, lr, momentum, "
        "weight_decay, l1, batch_size, init, bias, batchnorm, dropout, seed); did you mean "
        "'hidden'?"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("LocalHost", True), ("LOCALHOST", True), ("mybox.local", False), ("example.com", False)],
)
def test_localhost_in_any_case_is_this_machine_and_a_name_may_be_any(host, loopback) -> None:
    """S59 (``host == "localhost"``, not in any case) and S60 (a name taken for this machine):
    --host LOCALHOST was warned of as open to the network, and --host mybox.local (a name
    that may stand for the LAN address) was not warned of at all."""
    assert playground_server._is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("port", "code", "said"),
    [
        (80, errno.EACCES, "Permission denied (pass --port 0 for any free port)"),
        (8000, errno.EADDRINUSE, "Address already in use (pass --port 0 for any free port)"),
        (0, errno.EADDRINUSE, "Address already in use"),
        (8000, errno.EADDRNOTAVAIL, "Cannot assign requested address"),
    ],
)
def test_the_bind_problem_is_said_in_words_with_the_port_hint_where_it_helps(
    port, code, said
) -> None:
    """S62 (EACCES dropped: ``--port 80`` without root gets no hint), S63 (the hint for port
    0, which is already "any free port") and S64 (the OSError itself, not its words: "[Errno
    98] Address already in use" on the student's terminal)."""
    exc = OSError(code, said.split(" (")[0])
    assert playground_server._bind_problem("127.0.0.1", port, exc) == said


def test_any_ipv6_address_is_said_to_be_unsupported(capsys) -> None:
    """S65 (IPv6 told only for an address starting with "::"): ``--host 2001:db8::1`` or a
    link-local fe80::1 got "Address family for hostname not supported", a resolver's words
    that do not say what to do; every IPv6 address gets the one line naming 127.0.0.1."""
    for host in ("2001:db8::1", "fe80::1"):
        assert main(["play", "--host", host, "--port", "8000"]) == 2
        assert capsys.readouterr().err.strip() == (
            f"proplab play: error: cannot listen on {host}:8000: IPv6 addresses are not "
            "supported (use 127.0.0.1, or 0.0.0.0 for every interface)"
        )


# ---------------------------------------------------------------- the page, in chromium

ASKED = (
    '{shown: !$$("url-ask").hidden, text: $$("url-ask-text").textContent,'
    ' playing: data("playing"), search: window.location.search}'
)


@pytest.mark.slow
def test_a_link_over_one_epoch_asks_and_start_without_autoplay_does_not_play(
    chromium, serve, tmp_path
):
    """H01 (asked only past epoch 1), H03 (always "epochs") and H06 (Start plays even
    without ?autoplay=1): one epoch of training is training (a student who pressed Step
    once), said as "1 epoch"; and a link with no autoplay, once started, waits for Play."""
    session = Playground({"dataset": "circle"})
    session.step(1)
    action = staged(
        (READY, f'notes.asked = {ASKED}; $$("url-start").click()'),
        ('$$("url-ask").hidden && window.location.search === ""', f"notes.after = {ASKED}"),
    )
    server = serve(session, action=action)
    dom, errors, stderr = load(chromium, server.url + "?dataset=moons&hidden=3", tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 2)
    assert notes["asked"] == {
        "shown": True,
        "text": "This link starts the session again with its settings: the training so far "
        "(1 epoch) would be lost.",
        "playing": "0",
        "search": "?dataset=moons&hidden=3",
    }
    assert notes["after"] == {"shown": False, "text": "", "playing": "0", "search": ""}
    assert (session.cfg.dataset, session.cfg.hidden) == ("moons", [3])
    assert (session.session, session.epoch) == (2, 0)  # started, never played
    assert text_of(dom, "epoch") == "0"


@pytest.mark.slow
def test_a_refused_link_with_autoplay_started_by_hand_does_not_play_the_old_session(
    chromium, serve, tmp_path
):
    """H07 (Start's autoplay without the reset's ok): a link the server refuses leaves the
    student's session as it was, so its ?autoplay=1 must not then train that session; the
    mutant played the old session after the refusal."""
    session = Playground({"dataset": "circle"})
    session.step(10)
    action = staged(
        (READY, '$$("url-start").click()'),
        ("refused()", 'notes.after = {playing: data("playing")}'),
    )
    server = serve(session, action=action)
    url = server.url + "?dataset=moons&hiden=0&autoplay=1&epochs=5"
    dom, errors, stderr = load(chromium, url, tmp_path / "p")
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 2)
    assert notes["after"] == {"playing": "0"}
    assert text_of(dom, "error").startswith("settings: unknown setting 'hiden'")
    assert (session.cfg.dataset, session.session, session.epoch) == ("circle", 1, 10)


@pytest.mark.slow
def test_another_sites_link_over_a_trained_session_plays_once_start_is_pressed(
    chromium, serve, other_site, tmp_path
):
    """H08 (Start's autoplay through autoplay(), which waits for Play on another site's
    link): pressing "Start this link's settings" is the user's click, so the lesson link
    from another site then plays as it asks; the mutant wanted a second click, on Play."""
    session = Playground({"dataset": "circle"})
    session.step(40)
    action = staged(
        (READY, f'notes.asked = {ASKED}; $$("url-start").click()'),
        (PAUSED_AT.format(2), 'notes.notice = $$("notice").hidden ? "" : $$("notice").textContent'),
    )
    server = serve(session, action=action)
    target = f"{server.url}?dataset=moons&autoplay=1&epochs=5&frames=2"
    dom, errors, stderr = load(
        chromium, other_site(f'<script>location.replace("{target}")</script>'), tmp_path / "p"
    )
    assert errors == [] and console_lines(stderr) == []
    notes = notes_of(dom, 2)
    assert notes["asked"]["shown"] is True and notes["asked"]["playing"] == "0"
    assert notes["notice"] == ""
    assert (session.cfg.dataset, session.session, session.epoch) == ("moons", 2, 10)
