"""What the fake OpenAI image endpoint refuses, worded as the real API words it."""

from __future__ import annotations

GPT_PRESETS = ("1024x1024", "1536x1024", "1024x1536")
DALLE_SIZES = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
}


def api_error(
    status: int,
    message: str,
    param: str | None,
    code: str | None,
    etype: str = "invalid_request_error",
) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": etype, "param": param, "code": code}}


def _unsupported(param: str) -> tuple[int, dict]:
    return api_error(
        400,
        f"Unsupported parameter: '{param}' is not supported with this model.",
        param,
        "unsupported_parameter",
    )


def _invalid_value(param: str, value: object, supported: tuple[str, ...]) -> tuple[int, dict]:
    listed = ", ".join(f"'{s}'" for s in supported[:-1]) + f", and '{supported[-1]}'"
    return api_error(
        400,
        f"Invalid value: '{value}'. Supported values are: {listed}.",
        param,
        "invalid_value",
    )


def gpt_problem(body: dict, model: str) -> tuple[int, dict] | None:
    """The error the real API answers to a GPT Image request, or None."""
    for param in ("response_format", "style"):
        if param in body:
            return _unsupported(param)
    partials = body.get("partial_images", 0)
    if partials is not None and (not isinstance(partials, int) or not 0 <= partials <= 3):
        above = isinstance(partials, int) and partials > 3
        return api_error(
            400,
            f"Invalid 'partial_images': integer {'above maximum' if above else 'below minimum'} "
            f"value. Expected a value {'<= 3' if above else '>= 0'}, but got {partials} instead.",
            "partial_images",
            "integer_above_max_value" if above else "integer_below_min_value",
        )
    n = body.get("n", 1)
    if not isinstance(n, int) or n < 1:
        return api_error(
            400,
            f"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {n} instead.",
            "n",
            "integer_below_min_value",
        )
    if n > 10:
        return api_error(
            400,
            f"Invalid 'n': integer above maximum value. Expected a value <= 10, but got {n} instead.",
            "n",
            "integer_above_max_value",
        )
    qualities = ("low", "medium", "high", "auto")
    if model.startswith("gpt-image-2.5"):
        qualities = ("low", "medium", "high", "xhigh", "max", "auto")
    if body.get("quality", "auto") not in qualities:
        return _invalid_value("quality", body.get("quality"), qualities)
    formats = ("png", "webp", "jpeg")
    fmt = body.get("output_format", "png")
    if fmt not in formats:
        return _invalid_value("output_format", fmt, formats)
    if body.get("background", "auto") not in ("transparent", "opaque", "auto"):
        return _invalid_value(
            "background", body.get("background"), ("transparent", "opaque", "auto")
        )
    if body.get("background") == "transparent" and fmt == "jpeg":
        return api_error(
            400,
            "Transparent background is not supported for jpeg output format.",
            "background",
            "invalid_value",
        )
    if body.get("moderation", "auto") not in ("low", "auto"):
        return _invalid_value("moderation", body.get("moderation"), ("low", "auto"))
    return _gpt_size_problem(str(body.get("size", "auto")), model)


def _gpt_size_problem(size: str, model: str) -> tuple[int, dict] | None:
    """Presets for every GPT Image model; any WIDTHxHEIGHT within limits for gpt-image-2."""
    if size in (*GPT_PRESETS, "auto"):
        return None
    if not model.startswith("gpt-image-2"):
        return _invalid_value("size", size, (*GPT_PRESETS, "auto"))
    try:
        width, height = (int(v) for v in str(size).lower().split("x"))
    except ValueError:
        return api_error(400, f"Invalid size '{size}'. Use WIDTHxHEIGHT.", "size", "invalid_value")
    if width % 16 or height % 16:
        return api_error(
            400,
            f"Invalid size '{size}'. Width and height must both be divisible by 16.",
            "size",
            "invalid_value",
        )
    if max(width, height) > 3 * min(width, height):
        return api_error(
            400,
            f"Invalid size '{size}'. The aspect ratio must be between 1:3 and 3:1.",
            "size",
            "invalid_value",
        )
    if max(width, height) > 3840 or width * height > 3840 * 2160:
        return api_error(
            400,
            f"Invalid size '{size}'. The maximum supported resolution is 3840x2160.",
            "size",
            "invalid_value",
        )
    return None


def dalle_problem(body: dict, model: str) -> tuple[int, dict] | None:
    """The error the real API answers to a DALL·E request, or None."""
    for param in ("output_format", "background", "moderation", "output_compression"):
        if param in body:
            return _unsupported(param)
    for param in ("stream", "partial_images"):  # only GPT Image models stream
        if body.get(param):
            return _unsupported(param)
    sizes = DALLE_SIZES.get(model, DALLE_SIZES["dall-e-3"])
    if body.get("size", "1024x1024") not in sizes:
        return _invalid_value("size", body.get("size"), sizes)
    n = body.get("n", 1)
    max_n = 1 if model == "dall-e-3" else 10
    if not isinstance(n, int) or not 1 <= n <= max_n:
        return api_error(
            400,
            f"Invalid 'n': must be between 1 and {max_n} for {model}.",
            "n",
            "invalid_value",
        )
    if body.get("response_format", "url") not in ("url", "b64_json"):
        return _invalid_value("response_format", body.get("response_format"), ("url", "b64_json"))
    if model == "dall-e-3":
        if body.get("quality", "standard") not in ("standard", "hd"):
            return _invalid_value("quality", body.get("quality"), ("standard", "hd"))
        if body.get("style", "vivid") not in ("vivid", "natural"):
            return _invalid_value("style", body.get("style"), ("vivid", "natural"))
    elif "style" in body:
        return _unsupported("style")
    return None
