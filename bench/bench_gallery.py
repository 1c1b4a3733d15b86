"""Gallery benchmark (prints figures; not part of the pass/fail suite).

Fills two SQLite databases through ImageStore.save_run (20 and 2,000 small real PNGs), then
times AppTest reruns of the gallery page on each: the median of the reruns after a warm-up,
as a ratio (target: at most 1.5). Also times the two queries a grid page makes, and prints
the largest value in the session state to show that no image bytes are kept there.

Run: .venv/bin/python -m bench.bench_gallery
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.images.base import GeneratedImage, ImageRequest, ImageResult  # noqa: E402
from services.storage import open_database  # noqa: E402
from services.storage.images import ImageStore  # noqa: E402
from tests.fakes.openai_server import FAKE_KEY  # noqa: E402

OWNER = "local"
PER_RUN = 4  # images per stored comparison lane
VARIANTS = 16  # distinct PNGs, reused so filling 2,000 images stays quick
SIDE = 160  # px; noisy, so each PNG is ~75 KB like a real (if small) picture
SUBJECTS = ("fox", "otter", "lighthouse", "teapot", "city at night", "forest", "robot")


def noisy_png(seed: int) -> bytes:
    rng = random.Random(seed)
    base = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    image = Image.new("RGB", (SIDE, SIDE), base)
    image.putdata(
        [
            tuple(min(255, max(0, c + rng.randrange(-60, 60))) for c in base)
            for _ in range(SIDE * SIDE)
        ]
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def fill(url: str, count: int, pngs: list[bytes]) -> None:
    store = ImageStore(open_database(url), OWNER)
    made = 0
    while made < count:
        n = min(PER_RUN, count - made)
        provider, model = ("openai", "gpt-image-2") if made % 3 else ("karlo", "karlo-v2.1")
        prompt = f"a {SUBJECTS[made % len(SUBJECTS)]}, study {made}"
        images = tuple(
            GeneratedImage(pngs[(made + i) % len(pngs)], "image/png", seed=made + i)
            for i in range(n)
        )
        result = ImageResult(
            provider,
            model,
            images,
            {"model": model, "n": n},
            latency_ms=1500,
            cost_usd=0.04 * n if provider == "openai" else None,
        )
        store.save_run(prompt, [(ImageRequest(prompt, model, count=n), result)])
        made += n


def pickled_size(value: object) -> int | None:
    """Bytes of ``value`` pickled; None when it cannot be (the per-rerun AppContext holds a
    database engine)."""
    try:
        return len(pickle.dumps(value))
    except Exception:
        return None


def holds_bytes(value: object, depth: int = 0) -> bool:
    """True when bytes sit anywhere in containers or dataclasses reachable from ``value``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if depth > 6:
        return False
    if isinstance(value, dict):
        return any(holds_bytes(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(holds_bytes(v, depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(
            holds_bytes(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        )
    return False


def time_galleries(urls: list[str], rounds: int) -> tuple[list[float], list[object]]:
    """Median rerun time of the gallery page for each database, the reruns interleaved so
    that anything else the machine does affects every database alike."""
    from streamlit.testing.v1 import AppTest

    apps = []
    for url in urls:
        os.environ["DATABASE_URL"] = url  # app.py reads it at every rerun
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.switch_page("app_pages/gallery.py").run()
        at.run()  # warm-up on the page itself
        apps.append(at)
    samples: list[list[float]] = [[] for _ in urls]
    for _ in range(rounds):
        for i, (url, at) in enumerate(zip(urls, apps, strict=True)):
            os.environ["DATABASE_URL"] = url
            start = time.perf_counter()
            at.run()
            samples[i].append(time.perf_counter() - start)
    for at in apps:
        assert not at.exception, at.exception
    return [statistics.median(s) for s in samples], apps


def time_queries(url: str, rounds: int = 30) -> tuple[float, float]:
    store = ImageStore(open_database(url), OWNER)
    first, middle = [], []
    pages = max(1, store.count() // 24)
    for _ in range(rounds):
        start = time.perf_counter()
        store.count()
        store.list_thumbnails(limit=24, offset=0)
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        store.count(text="fox")
        store.list_thumbnails(limit=24, offset=(pages // 2) * 24, text="fox")
        middle.append(time.perf_counter() - start)
    return statistics.median(first), statistics.median(middle)


def main(rounds: int = 20) -> None:
    os.environ.update(OPENAI_API_KEY=FAKE_KEY, CHATCANVAS_SKIP_DOTENV="1")
    os.environ.pop("OPENAI_BASE_URL", None)
    pngs = [noisy_png(seed) for seed in range(VARIANTS)]
    with tempfile.TemporaryDirectory() as tmp:
        urls = {n: f"sqlite:///{tmp}/gallery_{n}.db" for n in (20, 2000)}
        start = time.perf_counter()
        for n, url in urls.items():
            fill(url, n, pngs)
        size = Path(tmp, "gallery_2000.db").stat().st_size
        print(
            f"filled 20 + 2,000 images ({len(pngs[0]) // 1000} KB PNGs, "
            f"2,000-image file {size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s"
        )
        for n, url in urls.items():
            first, middle = time_queries(url)
            print(
                f"queries, {n:>5,} images: count + page 1 {first * 1000:.2f} ms; "
                f"count + middle page with a text filter {middle * 1000:.2f} ms"
            )
        (small, large), (_, at) = time_galleries([urls[20], urls[2000]], rounds)
    print(
        f"gallery page rerun (median of {rounds}): 20 images {small * 1000:.0f} ms, "
        f"2,000 images {large * 1000:.0f} ms, ratio {large / small:.2f} (target <= 1.5)"
    )
    sizes = {key: pickled_size(value) for key, value in at.session_state.items()}
    measured = {k: v for k, v in sizes.items() if v is not None}
    largest = max(measured, key=measured.get)
    unpicklable = sorted(k for k, v in sizes.items() if v is None)
    with_bytes = [k for k, v in at.session_state.items() if holds_bytes(v)]
    print(
        f"session state after the 2,000-image reruns: {len(sizes)} keys; largest value "
        f"{largest!r} at {measured[largest]:,} bytes pickled; not picklable: {unpicklable}; "
        f"keys holding bytes anywhere: {with_bytes or 'none'}"
    )


if __name__ == "__main__":
    main()
