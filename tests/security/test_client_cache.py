"""A pasted key must not outlive its browser session in the server's memory, and pasting many
keys must not grow the server's memory: clients share connection pools, and no client is
cached per key for the life of the process."""

from __future__ import annotations

import gc
import inspect
import uuid
import weakref

from services.chat import ChatService
from services.http_clients import openai_client
from services.settings import Secret, Settings


def visitor_key() -> str:
    # Built at run time, so no constant elsewhere refers to the same string object.
    return "sk-visitor-" + uuid.uuid4().hex + uuid.uuid4().hex


def holders(value: str) -> list[object]:
    """Every object (other than running frames) that still refers to ``value``."""
    gc.collect()
    return [r for r in gc.get_referrers(value) if not inspect.isframe(r)]


def test_a_visitors_key_leaves_memory_with_the_service(fake, catalog):
    key = visitor_key()
    fake.api_key = key[:10] + key[10:]  # an equal string, not the same object
    settings = Settings(openai_api_key=Secret(key), openai_base_url=fake.base_url)
    chat = ChatService(settings, catalog, timeout=5.0, max_retries=0)
    assert chat.list_models()
    client = weakref.ref(chat._client())
    del chat, settings
    assert holders(key) == []
    assert client() is None


def test_clients_for_many_keys_share_one_connection_pool(fake):
    clients = [
        openai_client(
            Settings(openai_api_key=Secret(visitor_key()), openai_base_url=fake.base_url),
            timeout=5.0,
            max_retries=0,
        )
        for _ in range(20)
    ]
    assert len({id(c._client) for c in clients}) == 1  # the SDK's HTTP client: one pool
