"""What an OpenAI image model takes, and the parameters a request sends it.

GPT Image models (the current ones) and DALL·E-style models (still served by some
OpenAI-compatible servers) take different parameters, so each request is built from the
model's capabilities in services/data/models.json, never from the SDK's defaults (its fallback
model is retired)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from services.catalog import DATA_FILE, Catalog, load_catalog
from services.errors import ChatCanvasError, ErrorKind
from services.images.base import (
    ImageCapabilities,
    ImageRequest,
    SizeRule,
    accepted_extras,
    bad_request,
)

PROVIDER = "openai"
MAX_PROMPT_CHARS = 32_000

# gpt-image-2 and later: free-form WIDTHxHEIGHT up to 3840x2160 (either orientation).
GPT_IMAGE_SIZE_RULE = SizeRule(multiple=16, max_side=3840, max_pixels=3840 * 2160, max_aspect=3.0)
_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")

# Used for ids the data file does not know (a compatible server's own names): permissive,
# so the server, not a guess here, decides.
_FAMILY_DEFAULTS: dict[str, dict] = {
    "gpt-image": {
        "sizes": ["auto", "1024x1024", "1536x1024", "1024x1536"],
        "custom_sizes": True,
        "qualities": ["low", "medium", "high", "auto"],
        "output_formats": ["png", "webp", "jpeg"],
        "max_n": 10,
    },
    "dall-e": {
        "sizes": ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"],
        "qualities": ["standard", "hd"],
        "styles": ["vivid", "natural"],
        "max_n": 10,
    },
}
_GPT_IMAGE_EXTRAS: dict[str, tuple[object, ...]] = {
    "background": ("auto", "opaque", "transparent"),
    "moderation": ("auto", "low"),
}
_GPT_IMAGE_RANGES = {"output_compression": (0, 100), "partial_images": (0, 3)}  # 3: previews
_TRANSPARENT_FORMATS = ("png", "webp")


@cache
def _raw_image_entries(path: Path = DATA_FILE) -> dict[str, dict]:
    """The image entries of the data file with their capability fields, which the shared
    Catalog does not carry."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data["models"].items() if v.get("kind") == "image"}


def raw_entry(model: str) -> dict | None:
    """The data file's entry for ``model``; dated snapshots inherit their alias's entry."""
    entries = _raw_image_entries()
    return entries.get(model) or entries.get(_DATED_SUFFIX.sub("", model))


def image_capabilities(model: str, catalog: Catalog | None = None) -> ImageCapabilities:
    """What ``model`` takes, from the data file; unknown ids get their family's defaults
    (ids containing "dall-e" are DALL·E family, every other image id GPT Image)."""
    catalog = catalog or load_catalog()
    raw = raw_entry(model)
    family = catalog.spec(model).family or ("dall-e" if "dall-e" in model else "gpt-image")
    if raw is None:
        raw = _FAMILY_DEFAULTS.get(family, _FAMILY_DEFAULTS["gpt-image"])
    if family == "dall-e":
        extras: dict[str, tuple[object, ...]] = {"response_format": ("b64_json", "url")}
        if raw.get("styles"):
            extras["style"] = tuple(raw["styles"])
        return ImageCapabilities(
            provider=PROVIDER,
            model=model,
            family="dall-e",
            sizes=tuple(raw.get("sizes", ())),
            qualities=tuple(raw.get("qualities", ())),
            max_count=int(raw.get("max_n", 1)),
            extras=extras,
            default_size="1024x1024",
        )
    return ImageCapabilities(
        provider=PROVIDER,
        model=model,
        family="gpt-image",
        sizes=tuple(raw.get("sizes", ())),
        size_rule=GPT_IMAGE_SIZE_RULE if raw.get("custom_sizes") else None,
        qualities=tuple(raw.get("qualities", ())),
        output_formats=tuple(raw.get("output_formats", ("png",))),
        max_count=int(raw.get("max_n", 10)),
        extras=dict(_GPT_IMAGE_EXTRAS),
        ranges=dict(_GPT_IMAGE_RANGES),
        default_size="1024x1024",
    )


def _check_choice(value: object, choices: tuple[object, ...], param: str, provider: str) -> None:
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices) or "none"
        raise bad_request(f"{param}={value!r} (allowed: {allowed})", param, provider)


def _check_size(caps: ImageCapabilities, request: ImageRequest) -> str | None:
    """The size to send (None: let the model choose), or BAD_REQUEST."""
    dims = request.dimensions()
    if dims is None:
        if not request.size:
            return None
        _check_choice(request.size, caps.sizes, "size", caps.provider)
        return request.size
    size = f"{dims[0]}x{dims[1]}"
    if size in caps.sizes:
        return size
    problem = caps.size_rule.problem(*dims) if caps.size_rule else "not offered by this model"
    if problem:
        raise bad_request(f"size {size}: {problem}", "size", caps.provider)
    return size


def build_image_params(caps: ImageCapabilities, request: ImageRequest) -> dict[str, object]:
    """The ``images.generate`` keyword arguments for this model, validated before sending.
    Extras the model does not take (left over from another model) are dropped; values it
    cannot take raise BAD_REQUEST with ``param`` set."""
    prompt = request.prompt.strip()
    if not prompt:
        raise ChatCanvasError(ErrorKind.EMPTY_INPUT, provider=caps.provider)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ChatCanvasError(
            ErrorKind.INPUT_TOO_LONG,
            f"{len(prompt)} > {MAX_PROMPT_CHARS}",
            param="prompt",
            provider=caps.provider,
        )
    if not 1 <= request.count <= caps.max_count:
        raise bad_request(
            f"n must be between 1 and {caps.max_count} for {caps.model}", "n", PROVIDER
        )
    params: dict[str, object] = {"model": caps.model, "prompt": prompt, "n": request.count}
    size = _check_size(caps, request)
    if size is not None:
        params["size"] = size
    if request.quality:
        _check_choice(request.quality, caps.qualities, "quality", caps.provider)
        params["quality"] = request.quality
    extras = accepted_extras(caps, request.extras)
    if caps.family == "dall-e":
        # b64_json saves a second round trip; "url" is still honoured when asked for
        extras.setdefault("response_format", "b64_json")
    else:
        fmt = request.output_format
        if fmt:
            fmt = "jpeg" if fmt == "jpg" else fmt
            _check_choice(fmt, caps.output_formats, "output_format", caps.provider)
            params["output_format"] = fmt
        if extras.get("output_compression") is not None and fmt not in ("webp", "jpeg"):
            extras.pop("output_compression")  # only meaningful for lossy formats
        if extras.get("background") == "transparent" and (fmt or "png") not in (
            _TRANSPARENT_FORMATS
        ):
            raise bad_request(
                "a transparent background needs png or webp output", "background", PROVIDER
            )
    params.update(extras)
    return params
