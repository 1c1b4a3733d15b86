"""Chat benchmarks (prints figures; not part of the pass/fail suite).

1. Time to first token through ChatService vs the raw openai SDK call, against the same fake
   server in the same run, as a ratio of medians (target: at most 1.05).
2. A chat page rerun (AppTest) with a 2,000-message conversation vs a 10-message one, as a
   ratio of medians (target: at most 1.5).

Run: .venv/bin/python -m bench.bench_chat
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.catalog import load_catalog  # noqa: E402
from services.chat import ChatMessage, ChatService  # noqa: E402
from services.settings import resolve_settings  # noqa: E402
from services.storage import ConversationStore, open_database  # noqa: E402
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI  # noqa: E402


def first_token_ratio(rounds: int = 30) -> None:
    with FakeOpenAI(first_token_delay=0.05, token_delay=0.0) as fake:
        settings = resolve_settings(
            environ={"OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake.base_url}
        )
        service = ChatService(settings, load_catalog())
        raw = openai.OpenAI(api_key=FAKE_KEY, base_url=fake.base_url, max_retries=0)
        messages = [ChatMessage("user", "hello")]

        def via_service() -> float:
            start = time.perf_counter()
            stream = service.stream_reply("gpt-5.4-mini", messages)
            for _ in stream:
                elapsed = time.perf_counter() - start
                break
            stream.close()
            return elapsed

        def via_sdk() -> float:
            start = time.perf_counter()
            stream = raw.chat.completions.create(
                model="gpt-5.4-mini",
                messages=[{"role": "user", "content": "hello"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    elapsed = time.perf_counter() - start
                    break
            stream.close()
            return elapsed

        via_service(), via_sdk()  # warm both connection pools
        service_times, sdk_times = [], []
        for _ in range(rounds):  # interleaved, so drift affects both alike
            service_times.append(via_service())
            sdk_times.append(via_sdk())
    s, r = statistics.median(service_times), statistics.median(sdk_times)
    print(
        f"time to first token: service {s * 1000:.1f} ms, raw SDK {r * 1000:.1f} ms, ratio {s / r:.3f} (target <= 1.05)"
    )


def rerun_ratio(rounds: int = 15) -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        url = f"sqlite:///{tmp}/bench.db"
        os.environ.update(
            OPENAI_API_KEY=FAKE_KEY,
            OPENAI_BASE_URL=fake.base_url,
            DATABASE_URL=url,
            CHATCANVAS_SKIP_DOTENV="1",
        )
        store = ConversationStore(open_database(url), "local")
        ids = {}
        for size in (10, 2000):
            conversation = store.create(title=f"{size} messages", model="gpt-5.4-mini")
            for i in range(size):
                role = "user" if i % 2 == 0 else "assistant"
                extra = (
                    {"prompt_tokens": 40, "completion_tokens": 80, "cost_usd": 0.0001}
                    if role == "assistant"
                    else {}
                )
                store.add_message(
                    conversation.id, role, f"Message {i}: " + "lorem ipsum " * 20, **extra
                )
            ids[size] = conversation.id

        def time_reruns(conversation_id: str) -> float:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
            at.query_params["c"] = conversation_id
            at.run()
            samples = []
            for _ in range(rounds):
                start = time.perf_counter()
                at.run()
                samples.append(time.perf_counter() - start)
            assert not at.exception, at.exception
            return statistics.median(samples)

        time_reruns(ids[10])  # warm imports and caches
        small, large = time_reruns(ids[10]), time_reruns(ids[2000])
    print(
        f"chat page rerun: 10 messages {small * 1000:.0f} ms, 2,000 messages {large * 1000:.0f} ms, ratio {large / small:.2f} (target <= 1.5)"
    )


if __name__ == "__main__":
    first_token_ratio()
    rerun_ratio()
