"""What a misbehaving or hostile "provider" does on the wire, for the fake servers' faults:
trickle an answer byte by byte, send an answer larger than any real one, redirect elsewhere,
answer with another service's JSON instead of an OpenAI error body."""

from __future__ import annotations

import json
import time

from demo.providers.http_fake import FakeHandler

# Faults (per endpoint) implemented here; see FakeOpenAI.set_fault.
HOSTILE = {"trickle", "oversized", "redirect", "foreign_error", "long_error"}
# Where "redirect" points: a path of the fake itself, so a followed redirect shows in its log.
INTERNAL_PATH = "/_fake/internal"
# Larger than the biggest JSON answer or event-stream line a client should accept (8 / 1 MiB).
OVERSIZED_BYTES = 9 * 1024 * 1024
# The error body of an internal service a base URL might point at (the Kubernetes API's shape:
# a top-level "message", as many services have): never shown to a visitor.
FOREIGN_BODY = {
    "kind": "Status",
    "status": "Failure",
    "message": 'secrets "db-credentials" is forbidden: password hunter2 for 10.0.0.7:5432',
    "reason": "Forbidden",
    "details": {"name": "db-credentials", "kind": "secrets"},
}


def write_chunk(handler: FakeHandler, data: bytes, trickle: float = 0.0) -> None:
    """One HTTP/1.1 chunk, or with ``trickle`` one chunk per byte, ``trickle`` seconds apart."""
    if not trickle:
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()
        return
    for i in range(len(data)):
        handler.wfile.write(b"1\r\n" + data[i : i + 1] + b"\r\n")
        handler.wfile.flush()
        time.sleep(trickle)


def send_trickled_json(handler: FakeHandler, payload: dict, delay: float) -> None:
    """A 200 JSON answer whose body comes one byte every ``delay`` seconds."""
    body = json.dumps(payload).encode()
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    try:
        write_chunk(handler, body, trickle=delay)
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # the client gave up: that is the point


def send_hostile(handler: FakeHandler, fault: str, payload: dict | None = None) -> None:
    """Answer with ``fault`` (one of HOSTILE except "trickle"). ``payload``: the real answer,
    which "oversized" pads."""
    if fault == "redirect":
        handler.send_response(307)
        handler.send_header("location", INTERNAL_PATH)
        handler.send_header("content-length", "0")
        handler.end_headers()
        return
    if fault == "foreign_error":
        status, body = 500, FOREIGN_BODY
    elif fault == "long_error":
        message = "The server is overloaded. " + "Details follow. " * 200
        status, body = 503, {"error": {"message": message, "type": "server_error"}}
    else:  # oversized: a real answer with a field no client needs
        status, body = 200, {**(payload or {}), "padding": "x" * OVERSIZED_BYTES}
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True
