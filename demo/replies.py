"""What the demo's fake chat model says: the studio's steps and the Karlo translation get
scripted answers that read like a real model's (demo/providers/tutorial_model.py); anything
else gets a short answer in the user's language that says plainly it is made up."""

from __future__ import annotations

import re

from demo.providers.openai_vision import count_images
from demo.providers.tutorial_model import KARLO_PROMPT, PROMPT, STEP_MARKERS, TRANSLATION

# instructions of the other built-in steps (services/studio/builtins.py, images/translate.py)
OTHER_MARKERS = {
    "Turn this idea": PROMPT,
    "Use your imagination: describe in English": (
        "A shaggy six-legged animal with rust-coloured fur walks over red sand dunes at dusk, "
        "a crater rim behind it and two small moons low in a violet sky."
    ),
}
# the tutorial's first two steps answer in the idea's language; its scripts are Korean
IN_ENGLISH = {
    "Use your imagination": (
        "A shaggy six-legged animal walks over red sand dunes, its fur the colour of rust."
    ),
    "Describe it more concretely": TRANSLATION,
}
TRANSLATE_FOR_KARLO = "You rewrite prompts for an English-only"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
QUOTE_CHARS = 160

ANSWER_EN = (
    "This answer is made up by ChatCanvas's demo model: no real model read your message, and "
    "nothing was paid.\n\n"
    "You wrote: “{text}”\n\n"
    "With an OpenAI API key of your own, **{model}** answers here instead, streamed word by "
    "word just like this, and every reply is kept with its tokens and cost. Meanwhile, try "
    "the **Prompt Studio** to grow an idea into an image prompt, or **Compare** to paint one "
    "prompt with several engines side by side and vote for the best."
)
ANSWER_KO = (
    "이 답은 ChatCanvas의 데모 모델이 지어낸 것입니다. 실제 모델은 메시지를 읽지 않았고 요금도 "
    "들지 않았습니다.\n\n"
    "보낸 메시지: “{text}”\n\n"
    "직접 만든 OpenAI API 키를 넣으면 여기서 **{model}**이(가) 이렇게 한 단어씩 답하고, 모든 답은 "
    "토큰과 비용과 함께 저장됩니다. 그동안 **프롬프트 스튜디오**에서 아이디어를 이미지 "
    "프롬프트로 키워 보거나, **비교**에서 한 프롬프트를 여러 엔진으로 나란히 그려 보고 가장 "
    "나은 것에 투표해 보세요."
)


def _text(content: object) -> str:
    if isinstance(content, list):  # content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def demo_reply(messages: list[dict], model: str) -> str:
    """The demo model's answer to ``messages`` (the fake OpenAI server's ``reply`` hook)."""
    if any(_text(m.get("content")).startswith(TRANSLATE_FOR_KARLO) for m in messages):
        return KARLO_PROMPT
    last = _text(messages[-1].get("content")) if messages else ""
    english = "Answer in Korean" not in last
    for marker, answer in {**OTHER_MARKERS, **STEP_MARKERS}.items():
        if last.startswith(marker):
            return IN_ENGLISH.get(marker, answer) if english else answer
    quoted = " ".join(last.split())
    if len(quoted) > QUOTE_CHARS:
        quoted = quoted[:QUOTE_CHARS].rstrip() + "…"
    template = ANSWER_KO if HANGUL.search(last) else ANSWER_EN
    answer = template.format(text=quoted, model=model)
    images = count_images(messages[-1:])
    return f"{answer}\n\nI saw {images} image(s)." if images else answer
