"""Benchmark: images per minute on the local engine.

Prints one line per model, ``images per minute: N (MODEL on DEVICE)``: the tiny random Stable
Diffusion pipeline (built in code, 64x64, on the CPU) always; with a CUDA GPU also SD-Turbo at
512x512 (1 step) and Karlo v1 alpha at its native 256x256, when their weights are in the
Hugging Face cache. A model that cannot run here gets a line saying why. Images go through
the same provider and queue as the app's lanes (model loading is left out: one warm-up image).

Run from the repository root:  python -m bench.bench_local [--images 5] [--steps 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from services.images import ImageRequest
from services.images.local_models import INSTALL_COMMAND, KARLO, MODELS, has_weights
from services.images.local_models import torch_available as extras_installed
from services.settings import Settings


def images_per_minute(model: str, size: str, images: int, extras: dict) -> tuple[float, str]:
    """(images a minute, device) for ``images`` one-image requests after one warm-up."""
    from services.images.local_provider import LocalImageProvider

    provider = LocalImageProvider(Settings())
    request = ImageRequest("a lighthouse at dawn, watercolour", model, size=size, extras=extras)
    device = provider.generate(request).params["device"]  # loads the model
    started = time.perf_counter()
    for _ in range(images):
        provider.generate(request)
    return images * 60 / (time.perf_counter() - started), str(device)


def report(name: str, rate: float, device: str) -> None:
    print(f"images per minute: {rate:.1f} ({name} on {device})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5, help="images timed per model")
    parser.add_argument("--steps", type=int, default=4, help="steps of the tiny pipeline")
    args = parser.parse_args()
    if not extras_installed():
        print(f"skipped: torch and diffusers are not installed ({INSTALL_COMMAND})")
        return 0
    import torch

    from services.images.local_tiny import TINY_MODEL_NAME, TINY_SIZE, save_tiny_pipeline

    with tempfile.TemporaryDirectory() as folder:
        tiny = str(save_tiny_pipeline(Path(folder) / TINY_MODEL_NAME))
        size = f"{TINY_SIZE}x{TINY_SIZE}"
        rate, device = images_per_minute(tiny, size, args.images, {"steps": args.steps})
        report(TINY_MODEL_NAME, rate, device)
    for name, size in (("sd-turbo", "512x512"), (KARLO.name, f"{KARLO.side}x{KARLO.side}")):
        if not torch.cuda.is_available():
            print(f"{name} at {size}: skipped (no CUDA GPU on this machine)")
        elif not has_weights(name):
            print(f"{name} at {size}: skipped (no weights here: {MODELS[name].download_command})")
        else:
            rate, device = images_per_minute(name, size, args.images, {})
            report(f"{name} {size}", rate, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
