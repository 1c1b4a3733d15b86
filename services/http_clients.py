"""The HTTP layer under every openai SDK client: checked base URLs, shared connection pools,
no redirects, a size cap on every answer, whole-exchange deadlines and, for a visitor's own
base URL on a shared deployment, connections only to public addresses.

Design:
- One ``httpx2.Client`` (one connection pool, one TLS context) per :class:`HttpProfile`, shared
  by every session of the process; profiles come from code, so there are only a few. An SDK
  client per key is light on top of it (about 0.1 ms to build), so none is cached
  process-wide: a service builds its own and drops it with the rerun, and a key pasted in the
  sidebar lives no longer than that browser session's state.
- Which base URLs are trusted: one from the deployer (secrets or environment) is called as
  configured (it may be a plain-http server on the deployer's own network) but, like every
  base URL, may hold no user info, query or fragment, so ``...v1?`` cannot pick another path.
  A URL typed in the sidebar is a visitor's and obeys :func:`services.url_policy.check_url`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import httpcore2
import httpx2
import openai
from httpx2._utils import get_environment_proxies  # the rules httpx2 itself applies

from services.errors import ChatCanvasError, ErrorKind
from services.settings import Mode, Settings
from services.url_policy import (
    Resolver,
    check_configured_url,
    check_url,
    is_public_address,
    resolve_host,
)

OPENAI_BASE_URL = "https://api.openai.com/v1"
MIB = 1024 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """The most bytes read from one answer. A JSON answer is read whole by the SDK; an event
    stream is parsed line by line, so one line is capped, and the stream as a whole."""

    answer_bytes: int = 8 * MIB
    line_bytes: int = 1 * MIB
    stream_bytes: int = 64 * MIB


CHAT_LIMITS = BodyLimits()
# Image answers carry base64 images (a 3840x2160 PNG is tens of MB once encoded).
IMAGE_LIMITS = BodyLimits(answer_bytes=64 * MIB, line_bytes=64 * MIB, stream_bytes=256 * MIB)


@dataclass(frozen=True)
class Deadlines:
    """Seconds one exchange may take in all, counted from sending the request; None: no limit.

    Timeouts limit each read, so a server that trickles a byte every few seconds would hold a
    call forever; these bound the whole. ``answer``: a JSON answer to its last byte.
    ``stream``: an event stream to its last byte. ``between_events``: the longest wait for the
    next complete line of an event stream (bytes that do not finish a line do not count).
    They are checked whenever bytes arrive; silence is ended by the read timeout, which the
    caller keeps no longer than the deadline it cares about.
    """

    answer: float | None = None
    stream: float | None = None
    between_events: float | None = None


@dataclass(frozen=True)
class AddressGuard:
    """Connect only where ``allow`` says yes, to the very address that was checked."""

    resolve: Resolver = resolve_host
    allow: Callable[[str], bool] = is_public_address


@dataclass(frozen=True)
class HttpProfile:
    limits: BodyLimits = CHAT_LIMITS
    deadlines: Deadlines = Deadlines()
    guard: AddressGuard | None = None


class _PublicOnlyBackend(httpcore2.SyncBackend):
    """Resolves the host itself, refuses it unless every address passes the guard, then
    connects to a checked address. Checking and connecting use one resolution, so a DNS answer
    that changes between the two (rebinding) cannot lead into the server's own network, and a
    pooled connection stays on the address it was checked for."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore2.NetworkStream:
        addresses = self._guard.resolve(host)
        if not addresses or not all(self._guard.allow(a) for a in addresses):
            raise ChatCanvasError(ErrorKind.ADDRESS_REFUSED, f"{host} is not a public address")
        failure: Exception = httpcore2.ConnectError(f"cannot connect to {host}")
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as err:
                failure = err
        raise failure


class _GuardedTransport(httpx2.HTTPTransport):
    def __init__(self, guard: AddressGuard, limits: httpx2.Limits) -> None:
        # No proxies from the environment: the address checked must be the one connected to.
        super().__init__(trust_env=False, limits=limits)
        # httpx2 takes no network backend, so the pool is rebuilt with ours (same settings).
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PublicOnlyBackend(guard),
        )


def _too_large(what: str, cap: int) -> ChatCanvasError:
    return ChatCanvasError(ErrorKind.RESPONSE_TOO_LARGE, f"{what} is larger than {cap / MIB:g} MiB")


class _BoundedStream(httpx2.SyncByteStream):
    """Passes an answer's bytes on while it stays within its size and time limits."""

    def __init__(
        self, inner: httpx2.SyncByteStream, profile: HttpProfile, started: float, is_stream: bool
    ) -> None:
        self._inner = inner
        self._limits = profile.limits
        self._deadlines = profile.deadlines
        self._started = started
        self._is_stream = is_stream

    def __iter__(self) -> Iterator[bytes]:
        limits, deadlines = self._limits, self._deadlines
        cap = limits.stream_bytes if self._is_stream else limits.answer_bytes
        deadline = deadlines.stream if self._is_stream else deadlines.answer
        gap = deadlines.between_events if self._is_stream else None
        total = line = 0
        last_line_at = time.monotonic()
        for piece in self._inner:
            now = time.monotonic()
            total += len(piece)
            newline = piece.rfind(b"\n")
            line = len(piece) - newline - 1 if newline >= 0 else line + len(piece)
            if total > cap:
                raise _too_large("the answer", cap)
            if self._is_stream and line > limits.line_bytes:
                raise _too_large("one event of the stream", limits.line_bytes)
            if deadline is not None and now - self._started > deadline:
                raise ChatCanvasError(ErrorKind.TIMEOUT, f"no whole answer within {deadline:g} s")
            if newline >= 0:
                last_line_at = now
            elif gap is not None and now - last_line_at > gap:
                raise ChatCanvasError(ErrorKind.TIMEOUT, f"no new event within {gap:g} s")
            yield piece

    def close(self) -> None:
        self._inner.close()


class _BoundedTransport(httpx2.BaseTransport):
    """Refuses redirects and bounds every answer (see BodyLimits and Deadlines)."""

    def __init__(self, inner: httpx2.BaseTransport, profile: HttpProfile) -> None:
        self._inner = inner
        self._profile = profile

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        started = time.monotonic()
        response = self._inner.handle_request(request)
        if 300 <= response.status_code < 400:
            response.close()
            raise ChatCanvasError(
                ErrorKind.ADDRESS_REFUSED,
                f"the server answered with a redirect (HTTP {response.status_code}); "
                "redirects are not followed: use the final address as the base URL",
            )
        is_stream = response.headers.get("content-type", "").startswith("text/event-stream")
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, self._profile, started, is_stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


POOL_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
# cache: one connection pool per profile, shared by every session and key of the process
_pools: dict[HttpProfile, httpx2.Client] = {}
_pools_lock = threading.Lock()


def _proxy_mounts(profile: HttpProfile) -> dict[str, httpx2.BaseTransport | None]:
    """The proxies of the environment (HTTPS_PROXY, NO_PROXY, ...), each bounded like the
    direct transport: httpx2 turns its own off when it is given a transport."""
    return {
        pattern: None
        if proxy is None
        else _BoundedTransport(httpx2.HTTPTransport(proxy=proxy, limits=POOL_LIMITS), profile)
        for pattern, proxy in get_environment_proxies().items()
    }


def pooled_http_client(profile: HttpProfile) -> httpx2.Client:
    """The process's shared client for ``profile`` (thread-safe; credentials travel in each
    request's headers, never on the client). It never follows redirects."""
    with _pools_lock:
        client = _pools.get(profile)
        if client is None:
            if profile.guard is not None:  # connects by itself, never through a proxy
                inner: httpx2.BaseTransport = _GuardedTransport(profile.guard, POOL_LIMITS)
                mounts = {}
            else:
                inner = httpx2.HTTPTransport(limits=POOL_LIMITS)
                mounts = _proxy_mounts(profile)
            client = httpx2.Client(
                transport=_BoundedTransport(inner, profile),
                mounts=mounts,
                follow_redirects=False,
            )
            _pools[profile] = client
        return client


def checked_base_url(settings: Settings, resolve: Resolver = resolve_host) -> tuple[str, bool]:
    """The base URL to call and whether it is a visitor's (typed in the sidebar); raises
    ChatCanvasError(ADDRESS_REFUSED) when it may not be called."""
    url = settings.openai_base_url
    if not url:
        # Explicit, or the SDK would read OPENAI_BASE_URL from the environment by itself.
        return OPENAI_BASE_URL, False
    if settings.sources.get("OPENAI_BASE_URL") != "sidebar":
        return check_configured_url(url), False
    if not settings.allow_custom_base_url:
        raise ChatCanvasError(ErrorKind.ADDRESS_REFUSED, "this deployment takes no base URL")
    return check_url(url, shared=settings.mode is Mode.SHARED, resolve=resolve), True


def timeout_within(timeout: httpx2.Timeout | float, seconds: float | None) -> httpx2.Timeout:
    """``timeout`` with no single wait longer than ``seconds``."""
    timeout = timeout if isinstance(timeout, httpx2.Timeout) else httpx2.Timeout(timeout)
    if seconds is None:
        return timeout
    parts = timeout.as_dict()
    return httpx2.Timeout(
        **{k: seconds if v is None else min(v, seconds) for k, v in parts.items()}
    )


def openai_client(
    settings: Settings,
    *,
    timeout: httpx2.Timeout | float,
    max_retries: int,
    limits: BodyLimits = CHAT_LIMITS,
    deadlines: Deadlines = Deadlines(),
    resolve: Resolver = resolve_host,
) -> openai.OpenAI:
    """An SDK client for the settings' key and checked base URL, on a shared pool. Raises
    ChatCanvasError: NO_KEY without a key, ADDRESS_REFUSED for a base URL it may not call.
    Callers keep it no longer than they keep the settings (a rerun)."""
    if not settings.openai_api_key:
        raise ChatCanvasError(ErrorKind.NO_KEY)
    base_url, visitor = checked_base_url(settings, resolve)
    guarded = visitor and settings.mode is Mode.SHARED
    profile = HttpProfile(limits, deadlines, AddressGuard(resolve) if guarded else None)
    return openai.OpenAI(
        api_key=settings.openai_api_key.reveal(),
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        http_client=pooled_http_client(profile),
    )
