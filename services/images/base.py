"""The image provider interface: one request in, images plus what was actually sent out.

Every provider (OpenAI GPT Image, Kakao Karlo, ...) implements :class:`ImageProvider`.
:func:`run_lanes` runs several (provider, request) lanes side by side for the comparison page.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from PIL import Image

from services.errors import ChatCanvasError, ErrorKind, scrub

if TYPE_CHECKING:
    from services.images.lane_watch import LaneProgress, LaneWatch

_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
# The largest real output is 3840x2160 (GPT Image); twice that many pixels leaves a margin for
# other providers and sizes, and stays far below Pillow's own bomb limits (it only warns up to
# 179 MP), so a tiny compressed file cannot cost hundreds of MiB to decode or thumbnail.
MAX_IMAGE_PIXELS = 2 * 3840 * 2160
MAX_IMAGE_SIDE = 8192
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}


@dataclass(frozen=True)
class ImageRequest:
    """What the user asked for. Providers send only the parts their model takes.

    ``size`` is ``"WIDTHxHEIGHT"`` or a provider keyword such as ``"auto"``; ``width`` and
    ``height`` win over it when both are set. ``seeds`` holds one seed per image (a single seed
    with ``count > 1`` is expanded to consecutive seeds by providers that take seeds).
    ``extras`` carries provider-specific parameters by their API names (``background``,
    ``moderation``, ``style``, ``upscale``, ``guidance_scale``, ...)."""

    prompt: str
    model: str
    negative_prompt: str = ""
    size: str | None = None
    width: int | None = None
    height: int | None = None
    count: int = 1
    seeds: tuple[int, ...] = ()
    quality: str | None = None
    output_format: str | None = None
    extras: Mapping[str, object] = field(default_factory=dict)

    def dimensions(self) -> tuple[int, int] | None:
        """(width, height) when the request names them, else None (``auto`` or unset)."""
        if self.width and self.height:
            return int(self.width), int(self.height)
        return parse_size(self.size) if self.size else None


@dataclass(frozen=True)
class GeneratedImage:
    """One image as bytes, with what the provider told about it."""

    data: bytes = field(repr=False)
    mime_type: str
    seed: int | None = None
    nsfw: bool | None = None
    nsfw_score: float | None = None
    revised_prompt: str | None = None


@dataclass(frozen=True)
class ImageResult:
    """The images of one call and the record of what was sent (never a secret)."""

    provider: str
    model: str
    images: tuple[GeneratedImage, ...]
    params: Mapping[str, object]  # the request body exactly as sent, minus credentials
    seeds: tuple[int, ...] = ()
    latency_ms: int = 0
    cost_usd: float | None = None
    cost_is_estimate: bool = False
    usage: Mapping[str, object] = field(default_factory=dict)
    first_pixels_ms: int | None = None  # a streamed lane: when its first partial image came


@dataclass(frozen=True)
class SizeRule:
    """Free-form ``WIDTHxHEIGHT`` sizes a model accepts."""

    multiple: int
    max_side: int
    max_pixels: int | None = None
    max_aspect: float | None = None  # 3.0 means from 1:3 to 3:1

    def problem(self, width: int, height: int) -> str | None:
        """Why the size is refused (a short English reason), or None when it is fine."""
        if width <= 0 or height <= 0:
            return "width and height must be positive"
        if width % self.multiple or height % self.multiple:
            return f"width and height must be multiples of {self.multiple}"
        if max(width, height) > self.max_side:
            return f"each side must be at most {self.max_side} px"
        if self.max_pixels is not None and width * height > self.max_pixels:
            return f"at most {self.max_pixels} pixels in total"
        if self.max_aspect is not None and max(width, height) / min(width, height) > (
            self.max_aspect + 1e-9
        ):
            return f"aspect ratio must be between 1:{self.max_aspect:g} and {self.max_aspect:g}:1"
        return None


@dataclass(frozen=True)
class ImageCapabilities:
    """What a model takes, so the UI offers only valid choices."""

    provider: str
    model: str
    family: str
    sizes: tuple[str, ...] = ()
    size_rule: SizeRule | None = None  # set when free-form sizes are accepted
    qualities: tuple[str, ...] = ()
    output_formats: tuple[str, ...] = ()
    max_count: int = 1
    seeds: bool = False
    negative_prompt: bool = False
    extras: Mapping[str, tuple[object, ...]] = field(default_factory=dict)  # name -> choices
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # name -> (lo, hi)
    default_size: str | None = None


@runtime_checkable
class ImageProvider(Protocol):
    """Generates images for one request. ``generate`` raises ChatCanvasError (with
    ``provider`` set) for anything the user can act on."""

    name: str

    def models(self) -> list[str]:
        """Model ids this provider offers (the UI may merge a live list)."""
        ...

    def capabilities(self, model: str) -> ImageCapabilities:
        """What ``model`` accepts."""
        ...

    def generate(self, request: ImageRequest) -> ImageResult:
        """One call to the provider; raises ChatCanvasError."""
        ...


# -- helpers shared by providers --------------------------------------------------------------


def parse_size(size: str | None) -> tuple[int, int] | None:
    """``"1536x1024"`` -> (1536, 1024); anything else (``auto``, None, junk) -> None."""
    match = _SIZE.match(size or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def sniff_mime(data: bytes) -> str | None:
    """The image type from its first bytes; None when it is not an image we know."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def decode_b64_image(b64: str, provider: str) -> bytes:
    """Image bytes from a provider's base64 field; BAD_RESPONSE when it is not base64."""
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ChatCanvasError(
            ErrorKind.BAD_RESPONSE, "image is not valid base64", provider=provider
        ) from None


def within_pixel_limit(width: int, height: int) -> bool:
    """True when an image of this size may be decoded (see MAX_IMAGE_PIXELS)."""
    return (
        0 < width <= MAX_IMAGE_SIDE
        and 0 < height <= MAX_IMAGE_SIDE
        and (width * height <= MAX_IMAGE_PIXELS)
    )


# What Pillow raises on bytes that are not a whole, sane image (the bomb warning too, where
# warnings are errors): every such file is refused all the same.
UNREADABLE_IMAGE = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def checked_image(data: bytes, provider: str) -> str:
    """The MIME type of returned image bytes, after decoding them fully within the pixel
    limit: BAD_RESPONSE when they are not an image, IMAGE_REFUSED when the image is larger
    than any real result (a decompression bomb: a few KiB that decode to gigabytes) or
    cannot be decoded. Only images that pass are stored."""
    mime = sniff_mime(data)
    if mime is None:
        raise ChatCanvasError(
            ErrorKind.BAD_RESPONSE, "the returned data is not an image", provider=provider
        )
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as image:
            width, height = image.size
            if not within_pixel_limit(width, height):
                raise ChatCanvasError(
                    ErrorKind.IMAGE_REFUSED,
                    f"{width}x{height} pixels; at most {MAX_IMAGE_PIXELS:,} are accepted",
                    provider=provider,
                )
            image.load()  # decode every byte: a damaged image is refused now, not on each view
    except UNREADABLE_IMAGE as exc:
        raise ChatCanvasError(
            ErrorKind.IMAGE_REFUSED,
            f"the image cannot be decoded ({type(exc).__name__})",
            provider=provider,
        ) from None
    return mime


def expand_seeds(seeds: Sequence[int], count: int) -> tuple[int, ...]:
    """One seed per image: a single seed becomes consecutive seeds, so a run is reproducible
    from the one number the user typed."""
    if len(seeds) == 1 and count > 1:
        return tuple((seeds[0] + i) % 4_294_967_296 for i in range(count))
    return tuple(seeds)


def bad_request(detail: str, param: str, provider: str) -> ChatCanvasError:
    """A request refused before sending: nothing went over the network."""
    return ChatCanvasError(ErrorKind.BAD_REQUEST, detail, param=param, provider=provider)


def accepted_extras(caps: ImageCapabilities, extras: Mapping[str, object]) -> dict[str, object]:
    """The extras ``caps`` takes, validated. Unknown names are dropped (settings left over
    from another model must not break this one); bad values raise BAD_REQUEST. Ranges with
    integer bounds take integers only."""
    accepted: dict[str, object] = {}
    for name, value in extras.items():
        if value is None:
            continue
        if name in caps.extras:
            if value not in caps.extras[name]:
                allowed = ", ".join(str(c) for c in caps.extras[name])
                raise bad_request(f"{name}={value!r} (allowed: {allowed})", name, caps.provider)
        elif name in caps.ranges:
            lo, hi = caps.ranges[name]
            integral = isinstance(lo, int) and isinstance(hi, int)
            kinds = (int,) if integral else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or not lo <= value <= hi:
                raise bad_request(
                    f"{name}={value!r} (allowed: {'integers ' if integral else ''}{lo}..{hi})",
                    name,
                    caps.provider,
                )
        else:
            continue
        accepted[name] = value
    return accepted


# -- lanes ------------------------------------------------------------------------------------

LaneOutcome = ImageResult | ChatCanvasError


def _run_one(
    provider: ImageProvider, request: ImageRequest, watch: LaneWatch | None = None
) -> LaneOutcome:
    try:
        if watch is not None and hasattr(provider, "generate_watched"):
            return provider.generate_watched(request, watch)  # a lane_watch.WatchedProvider
        return provider.generate(request)
    except ChatCanvasError as exc:
        return exc
    except Exception as exc:  # a provider bug must still end as one lane's error, not a crash
        secrets = getattr(getattr(provider, "settings", None), "secrets", list)()
        return ChatCanvasError(
            ErrorKind.UNKNOWN,
            scrub(f"{type(exc).__name__}: {exc}", secrets),
            provider=getattr(provider, "name", "unknown"),
        )


def _run_and_keep(
    index: int,
    provider: ImageProvider,
    request: ImageRequest,
    keep: Callable[[int, LaneOutcome], None] | None,
    watch: LaneWatch | None = None,
) -> LaneOutcome:
    outcome = _run_one(provider, request, watch)
    if keep is not None:
        keep(index, outcome)
    if watch is not None:
        watch.ended.set()
    return outcome


PROGRESS_POLL = 0.25  # seconds between progress reports to the caller


def _report_progress(
    watched: Mapping[int, LaneWatch],
    running: set[int],
    seen: dict[int, tuple[int, int]],
    on_progress: Callable[[int, LaneProgress], None],
) -> None:
    """Tell ``on_progress`` about each running lane whose watch changed since last time, or
    whose running time passed another whole second."""
    from services.images.lane_watch import LaneProgress

    now = time.monotonic()
    for index in sorted(running & watched.keys()):
        watch = watched[index]
        version, progress = watch.latest()
        elapsed = int(now - watch.started)
        if seen.get(index) != (version, elapsed):
            seen[index] = (version, elapsed)
            on_progress(index, replace(progress or LaneProgress(), elapsed=elapsed))


def run_lanes(
    lanes: Sequence[tuple[ImageProvider, ImageRequest]],
    on_done: Callable[[int, LaneOutcome], None] | None = None,
    *,
    keep: Callable[[int, LaneOutcome], None] | None = None,
    watches: Mapping[int, LaneWatch] | None = None,
    on_progress: Callable[[int, LaneProgress], None] | None = None,
) -> list[LaneOutcome]:
    """Run every lane at once, each in its own thread, so the wall time is the slowest lane's.

    ``on_done(index, result_or_error)`` is called in the caller's thread as each lane ends
    (completion order), so a Streamlit page can draw results as they arrive. A lane's error
    is returned as its outcome and never touches the other lanes. Returns outcomes in lane
    order.

    ``keep(index, outcome)`` runs in the lane's own thread as soon as it ends, before
    ``on_done``: the place to store results that must survive the caller being interrupted
    (Streamlit stops a page run inside ``on_done`` when the user clicks anything).

    ``watches`` (lane index -> ``lane_watch.LaneWatch``) go to the lanes whose provider reports
    progress; ``on_progress(index, LaneProgress)`` is then called in the caller's thread with
    each change and each whole second a watched lane has run, polled a few times a second."""
    outcomes: list[LaneOutcome | None] = [None] * len(lanes)
    if not lanes:
        return []
    with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="image-lane") as pool:
        watched = dict(watches or {})
        pending: dict[Future[LaneOutcome], int] = {
            pool.submit(_run_and_keep, i, provider, request, keep, watched.get(i)): i
            for i, (provider, request) in enumerate(lanes)
        }
        seen: dict[int, tuple[int, int]] = {}
        poll = PROGRESS_POLL if on_progress is not None and watched else None
        while pending:
            done, _ = wait(pending, timeout=poll, return_when=FIRST_COMPLETED)
            if poll is not None:
                _report_progress(watched, set(pending.values()), seen, on_progress)
            for future in done:
                index = pending.pop(future)
                outcome = future.result()  # _run_one never raises
                outcomes[index] = outcome
                if on_done is not None:
                    on_done(index, outcome)
    return [o for o in outcomes if o is not None]
