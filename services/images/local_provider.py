"""The local engine as an image provider: a request becomes a job on the shared engine.

Everything that decides an image is written in the result's params (the lineage): model and
the folder its weights were read from, device, seeds, steps, guidance and size.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from services.errors import ChatCanvasError, ErrorKind
from services.images.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageRequest,
    ImageResult,
    SizeRule,
    accepted_extras,
    bad_request,
    checked_image,
    expand_seeds,
)
from services.images.lane_watch import LaneWatch
from services.images.local_engine import LocalEngine, LocalJob, shared_engine
from services.images.local_models import (
    MODELS,
    PROVIDER,
    LocalModel,
    ResolvedModel,
    is_folder_name,
    not_installed,
    nvidia_driver_present,
    resolve,
    spec_for,
    torch_available,
)
from services.settings import Mode, Settings

MAX_COUNT = 4
SIZE_RULE = SizeRule(multiple=8, max_side=1536)
SUPER_RES_STEPS = 7  # Karlo's default upscaler steps, counted in its progress
_SD_RANGES: dict[str, tuple[float, float]] = {"steps": (1, 150), "guidance": (0.0, 30.0)}
_KARLO_RANGES: dict[str, tuple[float, float]] = {
    "prior_num_inference_steps": (1, 100),
    "prior_guidance_scale": (0.0, 20.0),
    "num_inference_steps": (1, 100),
    "guidance_scale": (0.0, 20.0),
}


def _folder_side(model: str) -> int | None:
    """A diffusers folder's native side: its UNet's sample size times the VAE's factor 8."""
    try:
        config = json.loads((Path(model).expanduser() / "unet" / "config.json").read_text("utf-8"))
        return int(config["sample_size"]) * 8
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class LocalLaneStatus:
    """What the lane form says about a local model before anything runs."""

    licence: str
    missing: ChatCanvasError | None  # extras not installed, weights or folder not found
    on_cpu: bool  # no CUDA GPU: expect minutes per image


class LocalImageProvider:
    """Runs diffusers pipelines on this machine through the process's one engine."""

    name = PROVIDER

    def __init__(self, settings: Settings, engine: LocalEngine | None = None) -> None:
        self.settings = settings
        self._engine = engine

    def allow_folder(self, model: str) -> bool:
        """Any folder on the server may be named in local mode (one owner: its owner); on a
        shared deployment only those the deployer lists in LOCAL_IMAGE_MODELS."""
        return self.settings.mode is Mode.LOCAL or model in self.settings.local_image_models

    def models(self) -> list[str]:
        """The named models, then the deployer's folders."""
        return [*MODELS, *(m for m in self.settings.local_image_models if m not in MODELS)]

    def capabilities(self, model: str) -> ImageCapabilities:
        read = model not in MODELS and self.allow_folder(model) and is_folder_name(model)
        spec = spec_for(model, read_folder=read)
        side = spec.side
        if read and not spec.unclip:
            side = _folder_side(model) or side
        native = f"{side}x{side}"
        if spec.unclip:  # Karlo's upscaler makes 256x256 and nothing else
            return ImageCapabilities(
                PROVIDER, model, "local-karlo", sizes=(native,), max_count=MAX_COUNT,
                seeds=True, ranges=_KARLO_RANGES, default_size=native,
            )  # fmt: skip
        sizes = tuple(dict.fromkeys((native, "512x512", "768x768", "1024x1024")))
        return ImageCapabilities(
            PROVIDER, model, "local-sd", sizes=sizes, size_rule=SIZE_RULE, max_count=MAX_COUNT,
            seeds=True, negative_prompt=True, ranges=_SD_RANGES, default_size=native,
        )  # fmt: skip

    def status(self, model: str) -> LocalLaneStatus:
        """The licence to show, what is missing to run ``model``, and whether it will run on
        the CPU (guessed without importing torch)."""
        licence = spec_for(model).licence
        if not torch_available():
            return LocalLaneStatus(licence, not_installed(), on_cpu=False)
        try:
            resolve(model, allow_folders=self.allow_folder(model))
        except ChatCanvasError as exc:
            return LocalLaneStatus(licence, exc, on_cpu=not nvidia_driver_present())
        return LocalLaneStatus(licence, None, on_cpu=not nvidia_driver_present())

    def generate(self, request: ImageRequest) -> ImageResult:
        return self.generate_watched(request, LaneWatch())

    def generate_watched(self, request: ImageRequest, watch: LaneWatch) -> ImageResult:
        """Queue the request on the shared engine and wait; raises ChatCanvasError (not
        installed, weights missing, cancelled, a failure of the model)."""
        if not torch_available():
            raise not_installed()
        resolved = resolve(request.model, allow_folders=self.allow_folder(request.model))
        caps = self.capabilities(request.model)
        extras = accepted_extras(caps, request.extras)
        width, height = request.dimensions() or (resolved.spec.side, resolved.spec.side)
        if resolved.unclip:
            width, height = resolved.spec.side, resolved.spec.side
        elif problem := SIZE_RULE.problem(width, height):
            raise bad_request(problem, "size", PROVIDER)
        count = max(1, min(request.count, MAX_COUNT))
        seeds = expand_seeds(request.seeds, count) or tuple(
            secrets.randbelow(4_294_967_296) for _ in range(count)
        )
        arguments, steps, lineage = _arguments(resolved, request, extras, width, height)
        job = LocalJob(resolved, arguments, seeds, steps, watch=watch)
        started = time.monotonic()
        (self._engine or shared_engine()).run(job)
        if job.error is not None:
            raise job.error
        images = tuple(
            GeneratedImage(data, checked_image(data, PROVIDER), seed=seed)
            for data, seed in zip(job.images, seeds, strict=False)
        )
        if not images:
            raise ChatCanvasError(ErrorKind.BAD_RESPONSE, "no image", provider=PROVIDER)
        width, height = _image_size(job.images[0])  # what was made (Karlo's is fixed)
        params = {
            **lineage,
            "width": width,
            "height": height,
            "device": job.device,
            "seeds": list(seeds[: len(images)]),
        }
        return ImageResult(
            PROVIDER,
            request.model,
            images,
            params,
            seeds=seeds[: len(images)],
            latency_ms=int((time.monotonic() - started) * 1000),
            cost_usd=0.0,
        )


def _image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def _arguments(
    model: ResolvedModel, request: ImageRequest, extras: dict[str, Any], width: int, height: int
) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """The pipeline's arguments, the steps it reports, and the lineage to store."""
    spec: LocalModel = model.spec
    lineage: dict[str, Any] = {
        "model": model.name,
        "model_path": str(model.path),
        "pipeline": "UnCLIPPipeline" if model.unclip else "AutoPipelineForText2Image",
        "prompt": request.prompt,
        "width": width,
        "height": height,
    }
    if model.unclip:
        prior = int(extras.get("prior_num_inference_steps", 25))
        decoder = int(extras.get("num_inference_steps", spec.steps))
        arguments = {
            "prompt": request.prompt,
            "prior_num_inference_steps": prior,
            "decoder_num_inference_steps": decoder,
            "super_res_num_inference_steps": SUPER_RES_STEPS,
            "prior_guidance_scale": float(extras.get("prior_guidance_scale", 4.0)),
            "decoder_guidance_scale": float(extras.get("guidance_scale", spec.guidance)),
        }
        lineage.update({k: v for k, v in arguments.items() if k != "prompt"})
        return arguments, prior + decoder + SUPER_RES_STEPS, lineage
    steps = int(extras.get("steps", spec.steps))
    arguments = {
        "prompt": request.prompt,
        "width": width,
        "height": height,
        "num_inference_steps": steps,
        "guidance_scale": float(extras.get("guidance", spec.guidance)),
    }
    if request.negative_prompt:
        arguments["negative_prompt"] = request.negative_prompt
    lineage.update({k: v for k, v in arguments.items() if k not in lineage})
    return arguments, steps, lineage
