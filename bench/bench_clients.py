"""Client memory benchmark (prints figures; not part of the pass/fail suite).

Visitors paste their own keys. Each paste builds an OpenAI client and makes one cheap call
(``GET /v1/models``) against the fake server, the way the app does on a rerun. Measured in one
run: the resident memory (RSS) after 1,000 calls with one key (the baseline), then after 1,000
calls with 1,000 distinct keys; the growth between them in MB and as a ratio (target: flat,
under 50 MB). For scale, the design this replaced (one SDK client with its own pool per key,
kept for the life of the process) is measured last on 200 keys.

Run: .venv/bin/python -m bench.bench_clients
"""

from __future__ import annotations

import gc
import os
import sys
import time
import uuid
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.catalog import load_catalog  # noqa: E402
from services.chat import ChatService  # noqa: E402
from services.settings import resolve_settings  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

KEYS = 1_000
OLD_DESIGN_KEYS = 200
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


def new_key() -> str:
    return "sk-proj-" + uuid.uuid4().hex + uuid.uuid4().hex


def paste_and_list(fake: FakeOpenAI, key: str, catalog) -> None:
    """What one rerun does with a key typed in the sidebar: settings, service, one call."""
    fake.api_key = key
    settings = resolve_settings(sidebar={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": fake.base_url})
    models = ChatService(settings, catalog, max_retries=0).list_models()
    assert models, "the fake listed no models"


def main() -> None:
    catalog = load_catalog()
    with FakeOpenAI() as fake:
        same = new_key()
        for _ in range(50):  # warm imports, the pool and the allocator
            paste_and_list(fake, same, catalog)
        for _ in range(KEYS):
            paste_and_list(fake, same, catalog)
        baseline = rss_mb()
        start = time.perf_counter()
        for _ in range(KEYS):
            paste_and_list(fake, new_key(), catalog)
        elapsed = time.perf_counter() - start
        after = rss_mb()
        growth = after - baseline
        print(
            f"{KEYS:,} distinct keys: RSS {baseline:.1f} MB -> {after:.1f} MB, growth {growth:.1f} MB, "
            f"ratio {after / baseline:.3f} vs the one-key baseline (target: growth < 50 MB), "
            f"{elapsed / KEYS * 1000:.1f} ms per paste"
        )

        kept: dict[str, openai.OpenAI] = {}
        before_old = rss_mb()
        for _ in range(OLD_DESIGN_KEYS):
            key = new_key()
            fake.api_key = key
            kept[key] = openai.OpenAI(api_key=key, base_url=fake.base_url, max_retries=0)
            kept[key].models.list()
        old_growth = rss_mb() - before_old
        print(
            f"replaced design (a cached client per key): {old_growth:.1f} MB for "
            f"{OLD_DESIGN_KEYS} keys, about {old_growth / OLD_DESIGN_KEYS * KEYS:.0f} MB "
            f"per {KEYS:,}"
        )


if __name__ == "__main__":
    main()
