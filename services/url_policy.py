"""Address rules for URLs a visitor or a provider hands us (base URLs, image URLs).

The server makes the call, so a URL is a way into the server's own network unless it is
checked: ``https`` only (plain ``http`` only to a loopback address in local mode), no user
info, query or fragment in a base URL, and in shared mode the host must resolve only to
public addresses (no loopback, private, link-local, unique-local, metadata or reserved ones).
Redirects are never followed by our clients, so the address checked is the address called.
A base URL the deployer configured (secrets, environment) is trusted as an address and checked
only for its shape (:func:`check_configured_url`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import SplitResult, urlsplit

from services.errors import ChatCanvasError, ErrorKind

Resolver = Callable[[str], list[str]]
# Cloud metadata services answer on these; they are link-local or unique-local anyway, and
# listed so the refusal does not depend on how a Python version classifies them.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200"})


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as err:
        raise ChatCanvasError(ErrorKind.CONNECTION, f"cannot resolve {host}") from err
    return sorted({info[4][0] for info in infos})


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address that is not a metadata service."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if str(ip) in METADATA_ADDRESSES:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _refuse(reason: str) -> ChatCanvasError:
    return ChatCanvasError(ErrorKind.ADDRESS_REFUSED, reason)


def _checked_shape(url: str, *, allow_query: bool) -> SplitResult:
    """The parts of ``url`` when it is an http(s) URL with a host and no user info (nor, unless
    allowed, a query or fragment); else ChatCanvasError(ADDRESS_REFUSED)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as err:
        raise _refuse("malformed URL") from err
    if parts.scheme not in {"http", "https"} or not host:
        raise _refuse("only http(s) URLs with a host")
    if parts.username or parts.password:
        raise _refuse("user info in the URL")
    if not allow_query and (parts.query or parts.fragment or "?" in url or "#" in url):
        raise _refuse("query strings and fragments are not allowed in a base URL")
    return parts


def check_configured_url(url: str) -> str:
    """A base URL the deployer configured (secrets or environment). The deployer chose the
    address, so it may be anything they can reach (a plain-http server on their own network);
    only the shape is checked, like every base URL: no user info, query or fragment, so that
    appending ``?`` cannot pick another path."""
    _checked_shape(url, allow_query=False)
    return url.strip()


def check_url(
    url: str,
    *,
    shared: bool,
    allow_query: bool = False,
    resolve: Resolver = resolve_host,
) -> str:
    """``url`` when the server may call it, else ChatCanvasError(ADDRESS_REFUSED) saying why.

    Local mode trusts the network the user is on (their own Ollama on localhost is fine) but
    still wants ``https`` anywhere except loopback. Shared mode refuses every non-public
    address, whatever the scheme.
    """
    parts = _checked_shape(url, allow_query=allow_query)
    host = parts.hostname or ""
    addresses = resolve(host)
    if shared:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused or not addresses:
            raise _refuse(f"{host} is not a public address")
        if parts.scheme != "https":
            raise _refuse("https only")
    elif parts.scheme != "https" and not all(
        ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses
    ):
        raise _refuse("plain http only to this computer (localhost); use https")
    return url.strip()


def check_download_url(
    url: str,
    *,
    shared: bool,
    allowed_hosts: Iterable[str],
    resolve: Resolver = resolve_host,
) -> str:
    """An image URL from a provider's answer: only from ``allowed_hosts`` (the provider's own
    host plus a configured allow-list, exact names or ``.suffix``) and under the address
    rules of :func:`check_url`."""
    host = (urlsplit(url).hostname or "").lower()
    allowed = False
    for entry in allowed_hosts:
        entry = entry.lower().strip()
        if entry and (host == entry or (entry.startswith(".") and host.endswith(entry))):
            allowed = True
    if not allowed:
        raise _refuse(f"images are not downloaded from {host or 'this address'}")
    return check_url(url, shared=shared, allow_query=True, resolve=resolve)
