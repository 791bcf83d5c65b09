"""``proplab play``: the playground page and its JSON API on a local HTTP server.

Standard library only (``http.server``): the page (``playground.html``, shipped
with the package, self-contained: no download at run time) asks the server for
steps of training and draws what :class:`proplab.playground.Playground` returns.

API (JSON in and out; an error is ``{"error": message}`` with status 400, or
403 for a POST from another site's page (its ``Origin``) or a ``Host`` that does not name
this server (127.0.0.1, localhost, [::1] or the host it was started on, with its port:
a DNS-rebinding site's name is refused), 404 for an unknown path, 405 for a method
other than GET, HEAD (GET's headers only) and POST, 408 for a body that stalls,
411 for a chunked body, 413 for a body over :data:`MAX_BODY` bytes, 500 for a
bug, 503 beyond :data:`MAX_CONNECTIONS` open connections). Every answer forbids
framing by another site's page (``X-Frame-Options``, ``frame-ancestors``).

- ``GET /``: the page.
- ``GET /api/options``: :func:`proplab.playground.options` (the datasets, each one's
  ``tasks`` entry, ``"classification"`` or ``"regression"``, and ``dataset_defaults``).
- ``GET /api/setup``: the session's :meth:`~proplab.playground.Playground.setup`.
- ``GET /api/unit?layer=1&unit=0``: one unit's output over the map's whole grid
  (:meth:`~proplab.playground.Playground.unit_map`: ``layer`` 0 the inputs, 1 on the
  hidden layers; ``unit`` from 0), which the page shows in the big map while the unit is
  hovered; the session does not move.
- ``POST /api/reset`` with settings ``{"dataset": "circle", "hidden": [4, 2], ...}``:
  start again; returns the new setup.
- ``POST /api/step`` with ``{"epochs": 50}``: train; returns the state
  (:meth:`~proplab.playground.Playground.state`): ``session``, ``task``, ``epoch``, the training
  and test ``loss``, ``accuracy`` and ``r2`` (``test_loss``, ``test_accuracy``,
  ``test_r2``; accuracy is None for a regression set such as ``plane`` or
  ``multi-gauss``, R² None for a classification, the test ones None without a test
  share), the map ``boundary`` (P(class 1), or a regression's predicted value),
  the hidden ``units``' maps, the ``weights`` and the ``biases``.
- ``POST /api/lr`` with ``{"lr": 0.1}``: a new learning rate, training goes on from
  where it is; returns the setup.
- ``POST /api/weight`` with ``{"layer": 0, "from": 1, "to": 2, "value": 0.5}``: set
  Linear layer 0's weight from unit 1 (of the inputs) to unit 2 (of the first hidden
  layer), as ``state["weights"][0][1][2]`` holds it; ``POST /api/bias`` with
  ``{"layer": 0, "unit": 2, "value": -1}``: that unit's bias. Training goes on from the
  new value, the optimizer's state kept (:meth:`~proplab.playground.Playground.set_weight`);
  returns the state (an empty curve).
- ``POST /api/trace`` with ``{"sample": 3}`` (and optionally ``"digits": 4``): the next
  training step of the model as it is, on training point 3 alone, every number as
  ``proplab trace`` prints it (:meth:`~proplab.playground.Playground.trace`: ``session``,
  ``sample``, ``x``, ``target``, ``epoch``, ``text``, ``checked``, ``loss_before``,
  ``loss_after``); the session does not move. Refused (400) for an index that is not a
  training point's, and for a network with batchnorm (one sample has no variance).

One session per server, shared by every page that opens it (a lock keeps
requests one at a time): the server is meant for one person on this machine,
and listens on 127.0.0.1 unless told otherwise. Every state carries the ``session``
number, which each reset raises: a page that sees another number than its setup's
(another page or a Link started the session again) loads the setup again.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import sys
import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

from proplab.playground import Playground, PlaygroundError, options

MAX_BODY = 64 * 1024  # a settings object is well under 1 kB
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")  # this machine, whatever --host says
WILDCARDS = ("0.0.0.0", "")  # every interface: a Host may then name any of its addresses
_AUTHORITY = re.compile(r"(\[[0-9a-f:.]+\]|[^\s:\[\]@/]+)(?::([0-9]{1,5}))?")  # host[:port]
CROSS_SITE_MARK = b'<meta name="proplab-opened-by" content="another site">'
ALLOWED_METHODS = "GET, HEAD, POST"
MAX_MESSAGE = 600  # characters of an error message (the longest the playground words: ~250)
MAX_CONNECTIONS = 64  # open at once; a browser keeps about 6 per server
_BUSY_TEXT = b'{"error":"too many connections open to the playground; try again"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_TEXT), _BUSY_TEXT)
)
_ANSWERED = object()  # _body's "already answered with an error" (JSON null is None)
PAGE = "playground.html"


def page_html() -> bytes:
    """The playground page, as shipped in the package."""
    return resources.files("proplab").joinpath(PAGE).read_bytes()


def _page(fetch_site: str | None) -> bytes:
    """The page as sent for a request with this ``Sec-Fetch-Site``: marked when another
    site's link opened it, so that its ``?autoplay=1`` waits for a click (sec25 M1: a
    lesson link starts its settings, but another site's page does not train the session)."""
    page = page_html()
    if fetch_site != "cross-site":
        return page
    charset = b'<meta charset="utf-8">'  # (first in <head>: the mark goes right after it)
    return page.replace(charset, charset + b"\n" + CROSS_SITE_MARK, 1)


class PlaygroundServer(ThreadingHTTPServer):
    """An HTTP server holding one :class:`Playground` (``server.playground``)."""

    daemon_threads = True  # a page left open does not keep Ctrl-C from stopping the server
    # connections waiting to be accepted (socketserver's 5 made every ~7th of 64 quick ones
    # wait ~1 s for a SYN resend)
    request_queue_size = 64

    def __init__(
        self, address: tuple[str, int], playground: Playground | None = None, quiet: bool = True
    ) -> None:
        super().__init__(address, _Handler)
        self.given_host = address[0]  # as typed ("localhost"); server_address has its address
        self.playground = playground if playground is not None else Playground()
        self.lock = threading.Lock()
        self.quiet = quiet
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, unless :data:`MAX_CONNECTIONS` are
        open: then answer 503 and close it (sec25 L2: held-open connections used up the
        file descriptors, and accept() failing spun a core)."""
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: its slot is free again
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that left (a closed tab, ``curl -m``) or stalled past
        :attr:`_Handler.timeout` is no error to show; a bug's traceback is still printed
        (sec25 L3)."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows it; an AF_INET server's is a str
            host = host.decode()
        if host in WILDCARDS:  # not an address to open: this machine's is (sec25 L1)
            host = "127.0.0.1"
        return f"http://{host}:{port}/"

    def names_me(self, authority: str, any_address: bool = True) -> bool:
        """Whether ``authority`` (a Host header's ``host[:port]``, port 80 if left out) names
        this server: a loopback name, the host it was started on, or, when it listens on
        every interface and ``any_address``, any IP address, with this server's port.
        A name that only resolves here (a DNS-rebinding site's) does not."""
        found = _AUTHORITY.fullmatch(authority.strip().lower())
        if found is None or int(found.group(2) or 80) != self.server_address[1]:
            return False
        name = found.group(1)
        own = {*LOOPBACK_NAMES, str(self.given_host).lower(), str(self.server_address[0])}
        if name in own - set(WILDCARDS):
            return True
        if not (any_address and self.given_host in WILDCARDS):
            return False
        try:  # an address typed in the address bar cannot be rebound
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            return False
        return True


class _Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    protocol_version = "HTTP/1.1"  # keep-alive: a page polling every frame reuses one socket
    # a connection idle (or half-sent) this many seconds is closed: each holds a thread and a
    # file descriptor (sec25 L2). Not a limit on a step: the clock runs only while reading
    # or writing the socket
    timeout = 30

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if not self._host_ok():
            return
        path, _, query = self.path.partition("?")
        if path in ("/", "/index.html"):
            page = _page(self.headers.get("Sec-Fetch-Site"))
            self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
        elif path == "/api/options":
            self._json(HTTPStatus.OK, options())
        elif path == "/api/setup":
            self._locked(lambda playground: playground.setup())
        elif path == "/api/unit":
            self._locked(lambda playground: playground.unit_map(*_unit_args(query)))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_ok():
            return
        path = self.path.split("?", 1)[0]
        actions: dict[str, Callable[[Playground, Any], Any]] = {
            "/api/reset": lambda playground, body: playground.reset(body),
            "/api/step": lambda playground, body: playground.step(_epochs(body)),
            "/api/lr": lambda playground, body: playground.set_lr(_lr(body)),
            "/api/trace": lambda playground, body: playground.trace(*_trace_args(body)),
            "/api/weight": lambda playground, body: playground.set_weight(*_weight_args(body)),
            "/api/bias": lambda playground, body: playground.set_bias(*_bias_args(body)),
        }
        action = actions.get(path)
        origin = self.headers.get("Origin")
        if origin is not None and not self._origin_ok(origin):
            # a page of another site open in the same browser may post here too
            self.close_connection = True  # its body stays unread
            shown = _short(origin, quote=False)
            self._json(
                HTTPStatus.FORBIDDEN,
                {"error": f"request from another site's page ({shown}) refused"},
            )
            return
        if action is None:
            self.close_connection = True  # its body stays unread
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such action: {path}"})
            return
        body = self._body()
        if body is not _ANSWERED:
            self._locked(lambda playground: action(playground, body))

    def do_HEAD(self) -> None:  # noqa: N802
        """As GET, without the body (``_send`` leaves it out): "is the server up?" checks."""
        self.do_GET()

    def _not_allowed(self) -> None:
        """Any other method (PUT, DELETE, PATCH, OPTIONS, TRACE): 405, saying which are
        accepted (the ``Allow`` header too), as JSON, not http.server's HTML 501 (sec25 L4)."""
        self.close_connection = True  # its body, if any, stays unread
        self._json(
            HTTPStatus.METHOD_NOT_ALLOWED,
            {"error": f"method {self.command} not allowed (accepted: {ALLOWED_METHODS})"},
        )

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _not_allowed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line over 64 kB: 414, too many headers:
        431, an unknown method: 501, a malformed request: 400) as JSON, as every other
        error here."""
        self.close_connection = True
        phrase = self.responses.get(code, ("error", ""))[0]
        self._json(HTTPStatus(code), {"error": f"{phrase}: {message}" if message else phrase})

    def _host_ok(self) -> bool:
        """Whether the request's Host names this server; else answered 403. A page of another
        site whose name was made to resolve to 127.0.0.1 (DNS rebinding) is same-origin to
        the browser, so its Origin matches its Host: only the Host shows it (sec25 M2)."""
        host = self.headers.get("Host")
        if host is not None and self.server.names_me(host):
            return True
        self.close_connection = True  # a POST's body stays unread
        what = "a request without a Host header is" if host is None else f"Host {_short(host)} is"
        where = self.server.url
        if self.server.given_host in WILDCARDS:
            # another machine's user: not 127.0.0.1 (their own machine) but the address they
            # reached this one at (verify25 L3)
            address = self.connection.getsockname()[0]
            where = (
                f"http://{address}:{self.server.server_address[1]}/, by its address: names "
                "are refused, as a DNS-rebinding site would use one"
            )
        self._json(HTTPStatus.FORBIDDEN, {"error": f"{what} not this server (open {where})"})
        return False

    def _origin_ok(self, origin: str) -> bool:
        """Whether a POST's ``Origin`` is this server's page: the page as the request's own
        (checked) Host names it, or at a loopback name or the host the server was given
        (not every address: when listening on all, another site at an IP address would pass)."""
        if not origin.startswith("http://"):
            return False  # "null" (a sandboxed or no-referrer page), https://, ...
        authority = origin.removeprefix("http://")
        return authority == self.headers.get("Host") or self.server.names_me(
            authority, any_address=False
        )

    def _body(self) -> Any:
        """The request's JSON body (an empty one is ``{}``), or :data:`_ANSWERED` after
        answering a bad one with an error (and closing the connection where its bytes
        were left unread)."""
        if self.headers.get("Transfer-Encoding"):
            return self._refused(
                HTTPStatus.LENGTH_REQUIRED,
                "request body: send it with a Content-Length (chunks are not read)",
            )
        raw_length = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError
        except ValueError:
            return self._refused(
                HTTPStatus.BAD_REQUEST, f"Content-Length: not a byte count ({_short(raw_length)})"
            )
        if length > MAX_BODY:  # (closed: the unread body would be taken for the next request)
            return self._refused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"request body: {length:,} bytes; at most {MAX_BODY:,} are accepted",
            )
        try:
            raw = self.rfile.read(length) if length else b"{}"
        except TimeoutError:
            return self._refused(
                HTTPStatus.REQUEST_TIMEOUT,
                f"request body: its {length:,} bytes did not arrive in {self.timeout} s",
            )
        if len(raw) < length:  # the client stopped sending: never act on half a request
            return self._refused(
                HTTPStatus.BAD_REQUEST,
                f"request body: {len(raw):,} of its {length:,} bytes arrived",
            )
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return self._refused(HTTPStatus.BAD_REQUEST, f"request body: not JSON ({exc})", False)
        except ValueError as exc:  # valid JSON Python will not read: an integer of 4 301+ digits
            reason = str(exc).split(":")[0]  # (not its advice to raise the limit)
            return self._refused(
                HTTPStatus.BAD_REQUEST, f"request body: not read ({reason})", False
            )
        except RecursionError:  # valid JSON nested deeper than Python's stack: [[[[...
            return self._refused(
                HTTPStatus.BAD_REQUEST,
                "request body: nested too deeply to read (a request is one flat object)",
                False,
            )

    def _refused(self, status: HTTPStatus, message: str, close: bool = True) -> Any:
        """Answer ``{"error": message}`` with ``status``; :data:`_ANSWERED`, for :meth:`_body`.
        ``close``: end the connection after it (a body left unread, wholly or in part)."""
        if close:
            self.close_connection = True
        self._json(status, {"error": message})
        return _ANSWERED

    def _locked(self, action: Callable[[Playground], Any]) -> None:
        # every answer is sent after the lock is released: a client slow to read it must
        # not hold up the session (sec25 L5)
        with self.server.lock:
            try:
                status, body = HTTPStatus.OK, _encoded(action(self.server.playground))
            except PlaygroundError as exc:  # (a NaN fails in _encoded, a bug: below)
                status, body = HTTPStatus.BAD_REQUEST, _encoded({"error": _cut(str(exc))})
            except Exception as exc:  # a bug: the page still gets an answer to show
                traceback.print_exc()
                message = _cut(f"the playground failed: {type(exc).__name__}: {exc}")
                status, body = HTTPStatus.INTERNAL_SERVER_ERROR, _encoded({"error": message})
        self._send(status, body, "application/json")

    def _json(self, status: HTTPStatus, value: Any) -> None:
        self._send(status, _encoded(value), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # no other site's page may frame this one: in a frame, the page's own POSTs would be
        # same-origin, and a hidden one could reset and train the session (sec25 M1)
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy", "frame-ancestors 'none'")
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", ALLOWED_METHODS)
        self.end_headers()
        if self.command != "HEAD":  # (its Content-Length is still the GET's)
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        if not self.server.quiet:
            super().log_message(format, *args)


def _encoded(value: Any) -> bytes:
    """``value`` as compact JSON; allow_nan=False: NaN is not JSON (the playground sends
    None for it), and a browser's JSON.parse would fail on it."""
    return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()


def _short(value: Any, quote: bool = True) -> str:
    """``value`` as an error message quotes it (its repr, or the text if not ``quote``), cut
    to about 80 characters: a 64 kB body is not echoed whole (sec25 L5)."""
    text = repr(value) if quote else str(value)
    return text if len(text) <= 80 else f"{text[:72]}... ({len(text):,} characters)"


def _cut(message: str) -> str:
    """A playground's message, cut after :data:`MAX_MESSAGE` characters (its own messages
    are shorter; one quoting a huge value, ``got '😀😀...``, is not)."""
    if len(message) <= MAX_MESSAGE:
        return message
    return f"{message[:MAX_MESSAGE]}... (cut: {len(message):,} characters in all)"


def _fields(body: Any, required: str, placeholder: str, optional: tuple[str, ...] = ()) -> Any:
    """``body`` checked to be a JSON object with the key ``required`` and no key beyond it
    and ``optional`` (a misspelt ``"lr"`` in a step request is refused, not ignored)."""
    if not isinstance(body, dict) or required not in body:
        raise PlaygroundError(
            f'request body: must be {{"{required}": {placeholder}}}, got {_short(body)}'
        )
    unknown = sorted(set(body) - {required, *optional})
    if unknown:
        accepted = ", ".join((required, *optional))
        raise PlaygroundError(
            f"request body: unknown key {_short(unknown[0])} (accepted: {accepted})"
        )
    return body


def _epochs(body: Any) -> Any:
    return _fields(body, "epochs", "N")["epochs"]


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    log: Callable[[str], None] = print,
    ready: Callable[[PlaygroundServer], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Serve the playground until Ctrl-C (which returns normally).

    ``port`` 0 takes any free port. ``ready`` is called with the server once it
    listens (tests stop it from there). ``warn`` (stderr unless given) says when other
    machines can reach the server, and when ``open_browser`` found no browser. Raises
    OSError, with the address in its message, when the address cannot be bound (a port
    in use, say).
    """
    if warn is None:
        warn = _to_stderr
    try:
        server = PlaygroundServer((host, port))
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port}: {_bind_problem(host, port, exc)}") from None
    with server:
        log(f"proplab playground at {server.url} (Ctrl-C to stop)")
        if not _is_loopback(host):
            warn(_exposed_warning(host))
        if open_browser:
            import webbrowser

            if not webbrowser.open(server.url):
                warn(f"proplab play: no web browser found; open {server.url} yourself")
        if ready is not None:
            ready(server)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log("proplab playground: stopped")


def _unit_args(query: str) -> tuple[int, int]:
    """``(layer, unit)`` of ``GET /api/unit?layer=L&unit=J``: both given once, as integers,
    and nothing else (the playground checks their range)."""
    usage = "GET /api/unit takes ?layer=L&unit=J (layer 0: the inputs, 1 on: hidden layers)"
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise PlaygroundError(f"request: {usage}, got {query!r}") from None
    names = [name for name, _ in pairs]
    unknown = sorted(set(names) - {"layer", "unit"})
    if unknown:
        raise PlaygroundError(
            f"request: unknown key {unknown[0]!r} (accepted: layer, unit); {usage}"
        )
    values = dict(pairs)
    for name in ("layer", "unit"):
        if names.count(name) != 1:
            given = "missing" if name not in values else "given twice"
            raise PlaygroundError(f"request: {name} {given}; {usage}")
        if not re.fullmatch(r"[+-]?\d{1,9}", values[name].strip()):
            raise PlaygroundError(f"{name}: must be an integer, got {values[name]!r}; {usage}")
    return int(values["layer"]), int(values["unit"])


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    """Why ``(host, port)`` could not be bound, in words, with the hint that helps: another
    port only when the port was the problem (sec25 L7)."""
    if ":" in host:
        return "IPv6 addresses are not supported (use 127.0.0.1, or 0.0.0.0 for every interface)"
    hint = ""
    if port and exc.errno in (errno.EADDRINUSE, errno.EACCES):
        hint = " (pass --port 0 for any free port)"
    return f"{exc.strerror or exc}{hint}"


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.1, localhost, ::1, ...)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may stand for any address
        return False


def _exposed_warning(host: str) -> str:
    """The warning for a server other machines can reach (sec25 L1)."""
    where = f"every interface ({host})" if host in WILDCARDS else host
    return (
        f"proplab play: warning: listening on {where}: anyone on this network can reset "
        "and train this session; there is no password"
    )


def _lr(body: Any) -> Any:
    return _fields(body, "lr", "X")["lr"]


def _trace_args(body: Any) -> tuple[Any, Any]:
    """``(sample, digits)`` of a trace request (digits 4 unless given)."""
    body = _fields(body, "sample", "N", optional=("digits",))
    return body["sample"], body.get("digits", 4)


def _weight_args(body: Any) -> tuple[Any, Any, Any, Any]:
    """``(layer, from, to, value)`` of a weight edit: all four required."""
    keys = ("layer", "from", "to", "value")
    body = _all_of(body, keys, '{"layer": L, "from": I, "to": J, "value": X}')
    return body["layer"], body["from"], body["to"], body["value"]


def _bias_args(body: Any) -> tuple[Any, Any, Any]:
    """``(layer, unit, value)`` of a bias edit: all three required."""
    body = _all_of(body, ("layer", "unit", "value"), '{"layer": L, "unit": J, "value": X}')
    return body["layer"], body["unit"], body["value"]


def _all_of(body: Any, keys: tuple[str, ...], shape: str) -> dict[str, Any]:
    """``body`` checked to be a JSON object with exactly ``keys``."""
    if not isinstance(body, dict) or any(key not in body for key in keys):
        raise PlaygroundError(f"request body: must be {shape}, got {_short(body)}")
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise PlaygroundError(
            f"request body: unknown key {_short(unknown[0])} (accepted: {', '.join(keys)})"
        )
    return body
