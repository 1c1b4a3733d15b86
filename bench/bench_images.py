"""Benchmark: a two-lane image comparison takes as long as its slowest lane, not the sum.

Each fake provider (OpenAI GPT Image, Kakao Karlo) takes LANE_SECONDS per request. The
baseline is a single lane measured in the same run; the two-lane comparison through
``run_lanes`` should take at most 1.1x that.

Run from the repository root:  python -m bench.bench_images [--seconds 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx2

from services.images import ImageRequest, KarloProvider, OpenAIImageProvider, run_lanes
from services.settings import Secret, Settings
from tests.fakes.karlo_server import FAKE_KAKAO_KEY, FakeKarlo
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI

TARGET_RATIO = 1.1


def timed(lanes) -> float:
    started = time.perf_counter()
    outcomes = run_lanes(lanes)
    elapsed = time.perf_counter() - started
    failed = [o for o in outcomes if isinstance(o, Exception)]
    if failed:
        raise SystemExit(f"a lane failed: {failed[0]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="latency of each fake lane")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with (
        FakeOpenAIImages() as images,
        FakeOpenAI(image_handler=images) as openai_fake,
        FakeKarlo() as karlo_fake,
    ):
        settings = Settings(
            openai_api_key=Secret(FAKE_KEY),
            openai_base_url=openai_fake.base_url,
            kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
            karlo_base_url=karlo_fake.base_url,
        )
        openai_lane = (
            OpenAIImageProvider(settings, max_retries=0),
            ImageRequest("a lighthouse at dusk", "gpt-image-2", quality="low"),
        )
        karlo_lane = (
            KarloProvider(settings, timeout=httpx2.Timeout(30.0)),
            ImageRequest("a lighthouse at dusk", "karlo-v2.1"),
        )
        timed([openai_lane, karlo_lane])  # warm up: clients, connection pools, imports
        images.latency = karlo_fake.latency = args.seconds

        singles, pairs = [], []
        for _ in range(args.repeat):
            singles.append(max(timed([openai_lane]), timed([karlo_lane])))
            pairs.append(timed([openai_lane, karlo_lane]))

    single = statistics.median(singles)
    pair = statistics.median(pairs)
    ratio = pair / single
    print(f"lane latency (fake):        {args.seconds:.2f} s")
    print(f"single lane (baseline):     {single:.3f} s   (median of {args.repeat}, slower lane)")
    print(f"two lanes via run_lanes:    {pair:.3f} s   (median of {args.repeat})")
    print(f"sequential would take:      {2 * single:.3f} s")
    print(f"ratio two lanes / baseline: {ratio:.3f}   (target <= {TARGET_RATIO})")
    print("PASS" if ratio <= TARGET_RATIO else "FAIL")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
