"""A capability profile: what an engine we do not know from the data file accepts.

OpenAI-compatible servers (LocalAI, stable-diffusion.cpp, hosted ones) and local pipelines
take different subsets of parameters: some a handful of sizes, some a step count or a seed.
A profile says which, so the lane form offers only what the engine takes and the request
sends nothing else. Deployers write one per server (``IMAGE_SERVERS``); an engine may build
its own. Keys in a written profile: ``sizes`` (list of ``WIDTHxHEIGHT``), ``max_count``,
``steps`` (``[low, high]``), ``guidance`` (``[low, high]``), ``seed``, ``negative_prompt``,
``response_format`` (true: ask for ``b64_json``) and ``styles`` (a DALL·E-style model's
``style`` choices, such as ``["vivid", "natural"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.images.base import ImageCapabilities, parse_size

DEFAULT_SIZES = ("512x512", "1024x1024")
PROFILE_KEYS = frozenset(
    {
        "sizes",
        "max_count",
        "steps",
        "guidance",
        "seed",
        "negative_prompt",
        "response_format",
        "styles",
    }
)
# the names a profile's optional parameters travel under (outside OpenAI's own body fields)
STEPS, GUIDANCE, SEED, NEGATIVE_PROMPT = "steps", "guidance_scale", "seed", "negative_prompt"
STYLE = "style"  # DALL·E's own field


class ProfileError(ValueError):
    """A written profile that cannot be used; the text says which key and why."""


@dataclass(frozen=True)
class CapabilityProfile:
    """Which parameters an engine takes. ``steps`` / ``guidance``: inclusive ranges, None when
    the engine takes no such parameter."""

    sizes: tuple[str, ...] = DEFAULT_SIZES
    max_count: int = 1
    steps: tuple[int, int] | None = None
    guidance: tuple[float, float] | None = None
    seed: bool = False
    negative_prompt: bool = False
    response_format: bool = False
    styles: tuple[str, ...] = ()

    def capabilities(self, provider: str, model: str, family: str) -> ImageCapabilities:
        """The :class:`ImageCapabilities` the lane form and the request builder read."""
        ranges: dict[str, tuple[float, float]] = {}
        if self.steps is not None:
            ranges[STEPS] = self.steps
        if self.guidance is not None:
            ranges[GUIDANCE] = self.guidance
        return ImageCapabilities(
            provider=provider,
            model=model,
            family=family,
            sizes=self.sizes,
            max_count=self.max_count,
            seeds=self.seed,
            negative_prompt=self.negative_prompt,
            extras={STYLE: self.styles} if self.styles else {},
            ranges=ranges,
            default_size=self.sizes[0] if self.sizes else None,
        )

    def extra_body_names(self) -> tuple[str, ...]:
        """Body fields beyond OpenAI's own that this engine takes."""
        names = [n for n, on in ((STEPS, self.steps), (GUIDANCE, self.guidance)) if on]
        names += [n for n, on in ((SEED, self.seed), (NEGATIVE_PROMPT, self.negative_prompt)) if on]
        return tuple(names)


def _range(value: object, key: str, *, integral: bool) -> tuple:
    kinds = (int,) if integral else (int, float)
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, kinds) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
        or value[0] < 0
    ):
        kind = "whole numbers" if integral else "numbers"
        raise ProfileError(f"{key!r} must be [low, high], two {kind} with low <= high")
    return (value[0], value[1])


def _flag(raw: Mapping[str, object], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ProfileError(f"{key!r} must be true or false")
    return value


def profile_from_mapping(raw: object) -> CapabilityProfile:
    """A profile from a TOML table or JSON object; ProfileError says what is wrong."""
    if raw is None:
        return CapabilityProfile()
    if not isinstance(raw, Mapping):
        raise ProfileError("the profile must be a table (an object) of settings")
    unknown = sorted(set(raw) - PROFILE_KEYS)
    if unknown:
        raise ProfileError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(PROFILE_KEYS))})")
    sizes = raw.get("sizes", list(DEFAULT_SIZES))
    if (
        not isinstance(sizes, (list, tuple))
        or not sizes
        or not all(isinstance(s, str) and parse_size(s) for s in sizes)
    ):
        raise ProfileError('\'sizes\' must be a list such as ["512x512", "768x768"]')
    count = raw.get("max_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10:
        raise ProfileError("'max_count' must be a whole number from 1 to 10")
    steps, guidance = raw.get("steps"), raw.get("guidance")
    styles = raw.get("styles", [])
    if not isinstance(styles, (list, tuple)) or not all(
        isinstance(s, str) and s.strip() for s in styles
    ):
        raise ProfileError('\'styles\' must be a list such as ["vivid", "natural"]')
    return CapabilityProfile(
        sizes=tuple(s.strip() for s in sizes),
        max_count=count,
        steps=_range(steps, "steps", integral=True) if steps is not None else None,
        guidance=_range(guidance, "guidance", integral=False) if guidance is not None else None,
        seed=_flag(raw, "seed"),
        negative_prompt=_flag(raw, "negative_prompt"),
        response_format=_flag(raw, "response_format"),
        styles=tuple(s.strip() for s in styles),
    )
