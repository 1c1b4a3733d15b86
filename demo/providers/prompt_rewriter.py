"""How DALL·E 3 rewrites a prompt before drawing it, played by the fake image servers.

DALL·E 3 (retired at OpenAI on 2026-05-12, still served by some OpenAI-compatible servers:
the compatible fake's ``dall-e-3``) answers every image with ``revised_prompt``: the prompt it
actually drew, usually the person's words kept, a request phrase ("draw me...", "...그려줘") dropped,
and detail about style, light and composition added. GPT Image models and DALL·E 2 revise
nothing (``revised_prompt`` is absent). The fake does the same, deterministically and in the
prompt's own language, so a word diff between the two is short and meaningful.
"""

from __future__ import annotations

import re

# "Please draw me an image of ...", "Generate a picture of ...": the request, not the scene
_ASK_EN = re.compile(
    r"^\s*(?:please\s+)?(?:(?:draw|make|create|generate|paint|show)\s+(?:me\s+)?)?"
    r"(?:(?:an?\s+)?(?:image|picture|photo|drawing|illustration)\s+of\s+)?",
    re.IGNORECASE,
)
# "...여우를 그려줘", "...풍경을 만들어 주세요."
_ASK_KO = re.compile(r"\s*(?:을|를)?\s*(?:그려|만들어)\s*(?:줘|주세요|주십시오)[\s.!?~]*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def revises(model: str) -> bool:
    """Whether ``model`` rewrites prompts (and so answers with ``revised_prompt``)."""
    return model.startswith("dall-e") and not model.startswith("dall-e-2")


def revised_prompt(prompt: str) -> str:
    """The prompt as the fake "drew" it: most of the person's words, expanded."""
    text = prompt.strip()
    if _HANGUL.search(text):
        scene = _ASK_KO.sub("", text).rstrip(" .!?~") or text
        return f"섬세하고 선명하게 표현된 {scene}, 부드러운 자연광과 풍부한 질감, 균형 잡힌 구도."
    scene = _ASK_EN.sub("", text, count=1).rstrip(" .!?") or text
    if len(scene) > 1 and scene[0].isupper() and not scene[1].isupper():
        scene = scene[0].lower() + scene[1:]
    return (
        f"A detailed, high-resolution illustration of {scene}, "
        "with soft natural light, rich textures and a balanced composition."
    )
