"""A scripted chat model for the tutorial chain: answers each step by the opening words of its
instruction, so tests can follow a run step by step. Plug in with ``FakeOpenAI(reply=scripted)``
or ``fake.reply = scripted``."""

from __future__ import annotations

IDEA = "화성에 동물이 살았다면 어떤 모습이었을지 상상해줘"
DESCRIPTION = "붉은 모래 언덕 위로 여섯 개의 다리를 가진 털북숭이 동물이 걷는다."
CONCRETE = "황혼 빛 아래, 녹슨 색 털과 긴 목을 가진 동물이 크레이터 가장자리에 서 있다."
TRANSLATION = "At dusk, an animal with rust-coloured fur and a long neck stands at a crater rim."
PROMPT = "A long-necked rust-furred Martian animal on a crater rim at dusk, cinematic light"
KARLO_PROMPT = "A rust-furred Martian animal on a crater rim at dusk"
BACK = "황혼의 크레이터 가장자리에 선 목이 긴 녹슨 털의 화성 동물, 영화 같은 빛"

# Which step a request is, from the start of its last user message. The first four are the
# tutorial chain's steps, in order.
STEP_MARKERS = {
    "Use your imagination": DESCRIPTION,
    "Describe it more concretely": CONCRETE,
    "Translate your last description": TRANSLATION,
    "Write one prompt sentence": PROMPT,
    "Write the Karlo prompt": f"PROMPT: {KARLO_PROMPT}\nNEGATIVE: blurry, text, watermark",
    "Translate this image prompt": BACK,
}


def scripted(messages: list[dict], model: str) -> str:
    """The scripted answer of the step, or an echo for anything else."""
    last = messages[-1]["content"]
    for marker, answer in STEP_MARKERS.items():
        if last.startswith(marker):
            return answer
    return f"echo: {last}"


def step_of(request) -> str:
    """The marker of the step a recorded request belongs to."""
    last = request.body["messages"][-1]["content"]
    return next((m for m in STEP_MARKERS if last.startswith(m)), last)
