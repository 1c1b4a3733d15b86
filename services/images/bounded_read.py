"""Reading provider answers within limits: a byte cap on every body, one deadline per call.

httpx2's timeouts limit each read, so a server that trickles a byte every few seconds never
times out, and a body without an end fills memory. Every body our image engines read is
streamed here, counted against a cap and checked against the whole call's deadline; no single
wait (connect, headers, one read) may outlast what is left of that deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Protocol

import httpx2

from services.errors import ChatCanvasError, ErrorKind, scrub

MAX_JSON_BYTES = 64 * 1024 * 1024  # a JSON answer: base64 of up to ten large images
MAX_IMAGE_BYTES = 32 * 1024 * 1024  # one downloaded image


class StreamedBody(Protocol):
    """An httpx2 response, or the SDK's streamed response, read chunk by chunk."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def iter_bytes(self) -> Iterator[bytes]: ...


class Deadline:
    """The moment by which a whole provider call (connect, wait, every read) must be over."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def check(self, provider: str, what: str) -> None:
        """TIMEOUT once the deadline has passed."""
        if self.remaining() <= 0:
            raise timeout_error(self, provider, what)

    def timeout(self, base: httpx2.Timeout | float) -> httpx2.Timeout:
        """``base`` with every single wait cut to what is left of the deadline."""
        base = base if isinstance(base, httpx2.Timeout) else httpx2.Timeout(base)
        left = max(self.remaining(), 0.001)

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx2.Timeout(
            connect=cut(base.connect),
            read=cut(base.read),
            write=cut(base.write),
            pool=cut(base.pool),
        )


def timeout_error(deadline: Deadline, provider: str, what: str) -> ChatCanvasError:
    return ChatCanvasError(
        ErrorKind.TIMEOUT, f"{what}: not finished within {deadline.seconds:g} s", provider=provider
    )


def transport_error(
    exc: httpx2.HTTPError, deadline: Deadline, provider: str, what: str, secrets: list[str]
) -> ChatCanvasError:
    """The error to show for an HTTP failure of our own call: a timeout within the deadline,
    or a connection failure whose text is scrubbed of the keys."""
    if isinstance(exc, httpx2.TimeoutException):
        return timeout_error(deadline, provider, what)
    return ChatCanvasError(
        ErrorKind.CONNECTION, scrub(f"{what}: {exc}", secrets), provider=provider
    )


def too_large(cap: int, provider: str, what: str) -> ChatCanvasError:
    return ChatCanvasError(
        ErrorKind.RESPONSE_TOO_LARGE,
        f"{what}: larger than {cap // (1024 * 1024)} MiB",
        provider=provider,
    )


def read_body(
    response: StreamedBody, *, cap: int, deadline: Deadline, provider: str, what: str
) -> bytes:
    """The whole body of a streamed ``response``, refused (RESPONSE_TOO_LARGE) as soon as it
    passes ``cap`` bytes and (TIMEOUT) once ``deadline`` passes; read errors end as
    TIMEOUT or CONNECTION. Nothing past the cap is read into memory."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise too_large(cap, provider, what)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise too_large(cap, provider, what)
            chunks.append(chunk)
            deadline.check(provider, what)
    except httpx2.TimeoutException:
        raise timeout_error(deadline, provider, what) from None
    except httpx2.HTTPError as exc:
        raise ChatCanvasError(
            ErrorKind.CONNECTION, f"{what}: {type(exc).__name__}", provider=provider
        ) from None
    return b"".join(chunks)
