"""Address rules for visitor- and provider-supplied URLs."""

from __future__ import annotations

import pytest

from services.errors import ChatCanvasError, ErrorKind
from services.url_policy import check_download_url, check_url


def fixed(*addresses: str):
    return lambda _host: list(addresses)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "::1",
        "fd00::1",
        "fe80::1",
        "0.0.0.0",
        "100.64.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_shared_mode_refuses_non_public_addresses(address):
    with pytest.raises(ChatCanvasError) as info:
        check_url("https://api.example.com/v1", shared=True, resolve=fixed(address))
    assert info.value.kind is ErrorKind.ADDRESS_REFUSED


def test_shared_mode_refuses_when_any_address_is_private():
    with pytest.raises(ChatCanvasError):
        check_url("https://h.example/v1", shared=True, resolve=fixed("8.8.8.8", "10.1.1.1"))


def test_shared_mode_takes_a_public_https_url():
    url = "https://api.example.com/v1"
    assert check_url(url, shared=True, resolve=fixed("8.8.8.8")) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/v1?",
        "https://api.example.com/v1?x=1",
        "https://a.example/v1#f",
        "ftp://a.example/",
        "https://user:pw@a.example/v1",
        "https:///v1",
        "https://a.example:99999/",
    ],
)
def test_malformed_or_path_picking_urls_are_refused(url):
    with pytest.raises(ChatCanvasError):
        check_url(url, shared=False, resolve=fixed("8.8.8.8"))


def test_local_mode_allows_plain_http_only_to_loopback():
    assert check_url("http://localhost:11434/v1", shared=False, resolve=fixed("127.0.0.1"))
    with pytest.raises(ChatCanvasError):
        check_url("http://10.0.0.2:11434/v1", shared=False, resolve=fixed("10.0.0.2"))
    assert check_url("https://10.0.0.2/v1", shared=False, resolve=fixed("10.0.0.2"))


def test_downloads_only_from_allowed_hosts():
    ok = "https://files.example.com/img.png?sig=1"
    hosts = ["api.example.com", ".example.com"]
    assert check_download_url(ok, shared=True, allowed_hosts=hosts, resolve=fixed("8.8.8.8"))
    with pytest.raises(ChatCanvasError):
        check_download_url(
            "https://evil.test/x.png", shared=True, allowed_hosts=hosts, resolve=fixed("8.8.8.8")
        )
    with pytest.raises(ChatCanvasError):
        check_download_url(
            "https://files.example.com/x",
            shared=True,
            allowed_hosts=hosts,
            resolve=fixed("10.0.0.1"),
        )
