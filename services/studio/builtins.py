"""The built-in chains and the prompt texts their models receive.

What the model receives is English (it works for an idea in any language); what the user sees
as names comes from locales/*/studio.json.
"""

from __future__ import annotations

from services.images.karlo import MAX_PROMPT_CHARS
from services.studio.templates import ChainStep, ChainTemplate

DEFAULT_CHAIN_ID = "tutorial"

IMAGINATIVE_SYSTEM = (
    "You are an assistant with a rich imagination who answers with vivid visual descriptions."
)
PROMPT_WRITER_SYSTEM = (
    "You are an assistant that writes prompts for image generation models. "
    "You reply with the prompt only: English, no preamble, no quotation marks."
)
KARLO_WRITER_SYSTEM = (
    "You are an assistant that writes prompts for the Karlo image generation model. "
    f"Karlo reads English only and at most {MAX_PROMPT_CHARS} characters of prompt. "
    "Reply in exactly two lines and nothing else:\n"
    f"PROMPT: <the English prompt, at most {MAX_PROMPT_CHARS} characters>\n"
    "NEGATIVE: <comma-separated things the image should avoid>"
)
BACK_TRANSLATION_SYSTEM = (
    "You are a careful translator. You translate faithfully, keeping every visual detail, "
    "and reply with the translation only."
)
BACK_TRANSLATION_TEMPLATE = (
    "Translate this image prompt into {language}.\n\n"
    "Image prompt:\n{prompt}\n\n"
    "The idea it came from (only to tell the language and the meaning):\n{idea}"
)

BUILTIN_CHAINS: dict[str, ChainTemplate] = {
    "tutorial": ChainTemplate(
        id="tutorial",
        name="studio.chains.tutorial.name",
        builtin=True,
        steps=(
            ChainStep(
                name="studio.chains.tutorial.steps.describe",
                system_prompt=IMAGINATIVE_SYSTEM,
                template=(
                    "Use your imagination: describe what this would look like.\n\n{idea}\n\n"
                    "Answer in {language}."
                ),
                temperature=1.0,
            ),
            ChainStep(
                name="studio.chains.tutorial.steps.elaborate",
                template=(
                    "Describe it more concretely, as one single picture: shapes, colours, "
                    "textures, the setting, the light and the viewpoint. Answer in {language}."
                ),
                temperature=0.9,
            ),
            ChainStep(
                name="studio.chains.tutorial.steps.translate",
                template=(
                    "Translate your last description into natural English. If it is already "
                    "English, repeat it unchanged. Reply with the English text only."
                ),
                temperature=0.2,
            ),
            ChainStep(
                name="studio.chains.tutorial.steps.prompt",
                fresh=True,
                system_prompt=PROMPT_WRITER_SYSTEM,
                template=(
                    "Write one prompt sentence for an image generation model that captures "
                    "this description:\n\n{step3}"
                ),
                temperature=0.7,
            ),
        ),
    ),
    "quick": ChainTemplate(
        id="quick",
        name="studio.chains.quick.name",
        builtin=True,
        steps=(
            ChainStep(
                name="studio.chains.quick.steps.prompt",
                fresh=True,
                system_prompt=PROMPT_WRITER_SYSTEM,
                template=(
                    "Turn this idea (it may be in any language) into one vivid English prompt "
                    "sentence for an image generation model:\n\n{idea}"
                ),
                temperature=0.8,
            ),
        ),
    ),
    "karlo": ChainTemplate(
        id="karlo",
        name="studio.chains.karlo.name",
        builtin=True,
        prompt_limit=MAX_PROMPT_CHARS,
        steps=(
            ChainStep(
                name="studio.chains.karlo.steps.describe",
                system_prompt=IMAGINATIVE_SYSTEM,
                template=(
                    "Use your imagination: describe in English, as one single concrete picture "
                    "(subject, shapes, colours, textures, setting, light), what this would look "
                    "like:\n\n{idea}"
                ),
                temperature=1.0,
            ),
            ChainStep(
                name="studio.chains.karlo.steps.prompt",
                fresh=True,
                system_prompt=KARLO_WRITER_SYSTEM,
                template=(
                    "Write the Karlo prompt and a suggested negative prompt for this "
                    "description:\n\n{step1}"
                ),
                temperature=0.5,
            ),
        ),
    ),
}


def builtin_chains() -> list[ChainTemplate]:
    """The built-in chains, the default (tutorial) first."""
    return list(BUILTIN_CHAINS.values())
