"""Demo mode: every page against the built-in fake providers, so a newcomer can try the whole
product (chat streaming, the studio, compare with every engine, the gallery) before making a
key. Local mode only: a shared deployment never serves fakes.

:func:`start_demo_providers` starts the fake OpenAI API (chat, models, images), the fake
Karlo API and a fake OpenAI-compatible image server on 127.0.0.1 with ephemeral ports; the web app caches its result once per process
(``st.cache_resource``). :func:`demo_settings` points the settings at them, with the fakes'
keys and a database of the demo's own."""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from demo.providers.compatible_images import (
    FakeCompatibleImages,
    image_server_config,
    start_compatible_server,
)
from demo.providers.karlo_server import FAKE_KAKAO_KEY, FakeKarlo
from demo.providers.openai_images import FakeOpenAIImages
from demo.providers.openai_server import FAKE_KEY, FakeOpenAI
from demo.replies import demo_reply
from services.images.servers import ImageServer, parse_image_servers
from services.settings import Mode, Secret, Settings
from services.storage.blobs import BlobConfig, data_dir

DEMO_DATABASE_URL = f"sqlite:///{Path(__file__).resolve().parent.parent / 'data' / 'demo.db'}"
SQLITE_PREFIX = "sqlite:///"
DEMO_FLAG = "CHATCANVAS_DEMO"  # set by `scripts/run.sh --demo`
RECORDED = 50  # requests the fakes remember (tests read them; a demo runs for days)
DEMO_SOURCE = "demo"  # where the keys "come from", for the connection panel


@dataclass(frozen=True)
class DemoProviders:
    """The running fakes' addresses."""

    openai_base_url: str
    karlo_base_url: str
    image_servers: tuple[ImageServer, ...] = ()  # a fake OpenAI-compatible image server


def start_demo_providers() -> DemoProviders:
    """Start the fake providers on 127.0.0.1 (ephemeral ports, daemon threads) and return
    where they listen. Paced like a real model, so streaming and progress are visible. Call it
    once per process (the web app caches it); the servers live until the process ends."""
    karlo = FakeKarlo(latency=1.5, calls=deque(maxlen=RECORDED)).start()  # type: ignore[arg-type]
    images = FakeOpenAIImages(latency=2.0, calls=deque(maxlen=RECORDED))  # type: ignore[arg-type]
    openai = FakeOpenAI(
        first_token_delay=0.4,
        token_delay=0.04,
        reply=demo_reply,
        image_handler=images,
        requests=deque(maxlen=RECORDED),  # type: ignore[arg-type]
    ).start()
    compatible = start_compatible_server(
        FakeCompatibleImages(latency=1.5, calls=deque(maxlen=RECORDED))  # type: ignore[arg-type]
    )
    compatible.requests = deque(maxlen=RECORDED)  # type: ignore[assignment]
    servers = parse_image_servers([image_server_config(compatible)])
    return DemoProviders(openai.base_url, karlo.base_url, servers)


def demo_wanted(environ: dict[str, str], chosen_in_session: bool) -> bool:
    """Whether the demo was asked for: `run.sh --demo` (the environment) or the first-run
    panel's button (this session)."""
    return chosen_in_session or environ.get(DEMO_FLAG, "").lower() in {"1", "true", "yes", "on"}


def demo_settings(settings: Settings, providers: DemoProviders) -> Settings:
    """``settings`` pointed at the fakes: their keys, their base URLs, the demo database.
    Refuses a shared deployment: a deployer must never serve fakes by accident."""
    if settings.mode is not Mode.LOCAL:
        raise ValueError("demo mode is for local mode only")
    database_url = demo_database_url(settings.database_url)
    return dataclasses.replace(
        settings,
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=providers.openai_base_url,
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
        karlo_base_url=providers.karlo_base_url,
        database_url=database_url,
        # the demo's images in a folder of their own (data/demo/images/...), never S3
        blobs=BlobConfig(folder=str(data_dir(database_url) / "demo")),
        image_servers=providers.image_servers,
        image_servers_problem=None,
        sources={
            **settings.sources,
            "OPENAI_API_KEY": DEMO_SOURCE,
            "OPENAI_BASE_URL": DEMO_SOURCE,
            "KAKAO_REST_API_KEY": DEMO_SOURCE,
        },
        ignored={},
        demo=True,
    )


def demo_database_url(database_url: str) -> str:
    """The demo's own database: ``demo.db`` beside a SQLite file (data/demo.db by default),
    else data/demo.db. Never the real one."""
    if not database_url.startswith(SQLITE_PREFIX) or ":memory:" in database_url:
        return DEMO_DATABASE_URL
    path = Path(database_url.removeprefix(SQLITE_PREFIX))
    return SQLITE_PREFIX + str(path.with_name("demo.db" if path.name != "demo.db" else "demo-2.db"))
