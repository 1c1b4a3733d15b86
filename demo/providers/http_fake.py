"""The plumbing the fake provider servers share: a quiet threaded HTTP server on a daemon
thread, the start/stop/``with`` lifecycle, faults for the next N requests or until cleared,
and the blocking loop of their ``main()``."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (Stop, a timeout, a closed keep-alive connection) is normal
        here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeHandler(BaseHTTPRequestHandler):
    """Base of the fakes' handlers; ``server_fake`` is the fake the server was started for."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add about 40 ms to every answer.
    disable_nagle_algorithm = True
    server_fake: Any

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@dataclass
class RawBody:
    """An answer sent piece by piece, for the faults a JSON helper cannot make: ``chunks``
    with ``delay`` seconds before each (a trickle), and ``length`` as content-length (None:
    chunked, so an endless generator is an endless body)."""

    chunks: Iterable[bytes]
    delay: float = 0.0
    length: int | None = None
    content_type: str = "application/json"


def send_raw(handler: BaseHTTPRequestHandler, status: int, body: RawBody) -> None:
    """Write ``body`` on ``handler``'s connection until it ends or the client hangs up."""
    handler.send_response(status)
    handler.send_header("content-type", body.content_type)
    if body.length is None:
        handler.send_header("transfer-encoding", "chunked")
    else:
        handler.send_header("content-length", str(body.length))
    handler.end_headers()
    handler.close_connection = True
    try:
        for chunk in body.chunks:
            if body.delay:
                time.sleep(body.delay)
            if body.length is None:
                handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            else:
                handler.wfile.write(chunk)
            handler.wfile.flush()
        if body.length is None:
            handler.wfile.write(b"0\r\n\r\n")
    except (ConnectionError, OSError):
        return  # the client gave up, as it should


def trickled(data: bytes, piece: int = 1) -> Iterable[bytes]:
    """``data`` in pieces of ``piece`` bytes."""
    return (data[i : i + piece] for i in range(0, len(data), piece))


def endless(prefix: bytes, piece: bytes = b"A" * 65536) -> Iterable[bytes]:
    """``prefix``, then ``piece`` for ever: a body that never ends."""
    yield prefix
    while True:
        yield piece


def start_server(handler: type[FakeHandler], fake: object, host: str, port: int) -> QuietServer:
    """Serve ``handler`` bound to ``fake`` on ``host:port`` (0: any free port) in a daemon
    thread."""

    class Handler(handler):
        server_fake = fake

    server = QuietServer((host, port), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def stop_server(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class FakeHTTPServer:
    """Lifecycle of a dataclass fake with ``host`` and ``port`` fields. A subclass sets
    ``handler`` (its FakeHandler) and ``url_suffix`` (appended to ``base_url``)."""

    handler: ClassVar[type[FakeHandler]]
    url_suffix: ClassVar[str] = ""
    host: str
    port: int
    _server: QuietServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://{self.host}:{self._server.server_address[1]}{self.url_suffix}"

    def start(self) -> Self:
        self._server = start_server(self.handler, self, self.host, self.port)
        return self

    def stop(self) -> None:
        stop_server(self._server)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class _Fault:
    name: str
    remaining: int | None  # None: until cleared


class FaultSwitch:
    """Faults by key (an endpoint, or "" for one in total), each for the next N requests or
    until cleared. Thread-safe."""

    def __init__(self) -> None:
        self._faults: dict[str, _Fault] = {}
        self._lock = threading.Lock()

    def set(self, name: str | None, times: int | None = None, key: str = "") -> None:
        """The next ``times`` takes of ``key`` (all, when None) get ``name``; None clears."""
        with self._lock:
            if name is None:
                self._faults.pop(key, None)
            else:
                self._faults[key] = _Fault(name, times)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, key: str = "") -> str | None:
        with self._lock:
            fault = self._faults.get(key)
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[key]
            return fault.name


def serve_until_interrupted(
    fake: FakeHTTPServer, label: str, then: Callable[[], None] | None = None
) -> None:
    """Start ``fake``, print ``label`` and its URL (then call ``then``, e.g. to print how to
    use it), and serve until Ctrl-C."""
    fake.start()
    print(f"{label} on {fake.base_url}", flush=True)
    if then is not None:
        then()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()
