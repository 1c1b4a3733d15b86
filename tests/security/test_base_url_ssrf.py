"""A base URL is a way into the server's network: which ones are called, and how.

Visitor URLs (typed in the sidebar) obey the address rules; deployer URLs (secrets,
environment) are trusted as addresses but not as shapes; no URL is followed through a redirect;
on a shared deployment the address actually connected to is checked, not just the first DNS
answer.
"""

from __future__ import annotations

import itertools

import httpx2
import pytest

from services.catalog import load_catalog
from services.chat import ChatMessage, ChatService
from services.errors import ChatCanvasError, ErrorKind
from services.http_clients import (
    OPENAI_BASE_URL,
    AddressGuard,
    Deadlines,
    HttpProfile,
    openai_client,
    pooled_http_client,
)
from services.settings import Mode, Secret, Settings, resolve_settings
from services.url_policy import is_public_address
from tests.fakes.hostile import INTERNAL_PATH
from tests.fakes.openai_server import FAKE_KEY

HELLO = [ChatMessage("user", "hello")]
VISITOR = {"OPENAI_API_KEY": "sidebar", "OPENAI_BASE_URL": "sidebar"}


def visitor_settings(url: str, *, mode: Mode = Mode.SHARED, allowed: bool = True) -> Settings:
    """What resolve_settings gives for a key and base URL typed in the sidebar."""
    return Settings(
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=url,
        mode=mode,
        allow_custom_base_url=allowed,
        sources=VISITOR,
    )


def service(settings: Settings) -> ChatService:
    return ChatService(settings, load_catalog(), timeout=2.0, max_retries=0)


def refusal(call) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        call()
    assert info.value.kind is ErrorKind.ADDRESS_REFUSED, info.value
    return info.value


def test_shared_mode_refuses_a_visitor_url_to_the_servers_own_network(fake):
    chat = service(visitor_settings(fake.base_url))  # http://127.0.0.1:<port>/v1
    refusal(chat.list_models)
    refusal(lambda: chat.stream_reply("gpt-4o-mini", HELLO))
    assert fake.requests == []  # nothing was sent


def test_shared_mode_without_permission_takes_no_visitor_url(fake):
    settings = resolve_settings(
        sidebar={"OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake.base_url}, mode=Mode.SHARED
    )
    assert settings.openai_base_url is None  # ignored, so the key goes to api.openai.com
    # and a Settings that says otherwise is refused, not obeyed
    refusal(service(visitor_settings(fake.base_url, allowed=False)).list_models)
    assert fake.requests == []


def test_local_mode_takes_plain_http_from_a_visitor_only_to_this_computer(fake):
    assert service(visitor_settings(fake.base_url, mode=Mode.LOCAL)).list_models()
    lan = visitor_settings("http://10.255.255.1:11434/v1", mode=Mode.LOCAL)
    refusal(service(lan).list_models)


def test_a_deployers_url_may_be_plain_http_on_their_network(fake):
    """The deployer chose the address (secrets or environment): it is called as configured."""
    settings = resolve_settings(
        environ={"OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake.base_url}, mode=Mode.SHARED
    )
    assert service(settings).list_models()


@pytest.mark.parametrize("tail", ["?", "?api-version=1", "#x", "/models?"])
def test_a_query_or_fragment_cannot_pick_the_path(fake, tail):
    """``.../v1?`` would make the SDK call ``/v1?/models``: whatever the server does with it,
    the base URL no longer decides the path. Refused for deployer URLs as well."""
    deployer = Settings(openai_api_key=Secret(FAKE_KEY), openai_base_url=fake.base_url + tail)
    refusal(service(deployer).list_models)
    refusal(service(visitor_settings(fake.base_url + tail, mode=Mode.LOCAL)).list_models)
    assert fake.requests == []


@pytest.mark.parametrize("endpoint", ["models", "chat"])
def test_redirects_are_not_followed(chat, fake, endpoint):
    fake.set_fault("redirect", endpoint=endpoint, times=1)
    call = chat.list_models if endpoint == "models" else lambda: chat.reply("gpt-4o-mini", HELLO)
    err = refusal(call)
    assert "redirect" in err.detail
    assert INTERNAL_PATH not in err.detail
    assert [r.path for r in fake.requests if r.path.startswith(INTERNAL_PATH)] == []


def test_the_sdk_does_not_read_a_base_url_from_the_environment(fake, monkeypatch):
    """Left to itself the SDK reads OPENAI_BASE_URL from os.environ, bypassing the pairing of
    key and URL and every check here."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    client = openai_client(Settings(openai_api_key=Secret(FAKE_KEY)), timeout=1.0, max_retries=0)
    assert str(client.base_url).rstrip("/") == OPENAI_BASE_URL


# -- DNS rebinding -------------------------------------------------------------------------
def rebinding(first: str, then: str):
    """A resolver whose first answer is ``first`` and every later one ``then``, as a hostile
    DNS server with a zero TTL answers."""
    answers = itertools.chain([first], itertools.repeat(then))
    return lambda _host: [next(answers)]


def test_shared_mode_checks_the_address_it_connects_to(fake):
    port = fake.base_url.split(":")[2].split("/")[0]
    settings = visitor_settings(f"https://rebind.example:{port}/v1")
    client = openai_client(
        settings, timeout=2.0, max_retries=0, resolve=rebinding("93.184.216.34", "127.0.0.1")
    )  # the check saw a public address ...
    with pytest.raises(ChatCanvasError) as info:
        client.models.list()  # ... the connection would have gone to 127.0.0.1
    assert info.value.kind is ErrorKind.ADDRESS_REFUSED
    assert fake.requests == []


def test_the_guard_connects_to_the_address_it_checked(fake):
    """The host name never reaches the system resolver (.invalid cannot resolve): the
    connection goes to the address the guard resolved and allowed."""
    port = fake.base_url.split(":")[2].split("/")[0]
    url = f"http://fake-openai.invalid:{port}/v1/models"
    headers = {"authorization": f"Bearer {FAKE_KEY}"}

    def loopback(address: str) -> bool:
        return address == "127.0.0.1"

    pinned = HttpProfile(guard=AddressGuard(resolve=lambda _h: ["127.0.0.1"], allow=loopback))
    assert pooled_http_client(pinned).get(url, headers=headers).status_code == 200
    public_only = HttpProfile(guard=AddressGuard(resolve=lambda _h: ["127.0.0.1"]))
    with pytest.raises(ChatCanvasError) as info:
        pooled_http_client(public_only).get(url, headers=headers)
    assert info.value.kind is ErrorKind.ADDRESS_REFUSED
    assert not is_public_address("127.0.0.1")


def test_a_guarded_client_ignores_proxy_settings(monkeypatch):
    """Through a proxy the proxy would pick the address; a guarded pool connects itself."""
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
    profile = HttpProfile(guard=AddressGuard(resolve=lambda _h: ["10.0.0.2"]))
    with pytest.raises(ChatCanvasError) as info:
        pooled_http_client(profile).get("https://proxied.example/", timeout=httpx2.Timeout(1.0))
    assert "proxied.example" in info.value.detail


def test_a_deployers_proxy_is_still_used(fake, monkeypatch):
    """Giving httpx2 our own transport turns its proxies off; they are rebuilt from the
    environment, so a deployment behind a proxy keeps working (and keeps the limits)."""
    proxy = fake.base_url.removesuffix("/v1")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    settings = Settings(openai_api_key=Secret(FAKE_KEY), openai_base_url="http://up.invalid/v1")
    # a profile of its own, so the pool is built now, under this environment
    client = openai_client(settings, timeout=2.0, max_retries=0, deadlines=Deadlines(29.5))
    with pytest.raises(Exception):  # noqa: B017 - the fake is no real proxy; it answers 404
        client.models.list()
    assert [r.path for r in fake.requests] == ["http://up.invalid/v1/models"]
