"""The Prompt Studio: an idea becomes an image prompt through visible, editable chat steps.

- :mod:`templates`: steps, placeholders, validation; :mod:`builtins`: the built-in chains;
- :mod:`language`: the idea's language and the final prompt's checks;
- :mod:`parsing`: the :class:`FinalPrompt` in a prompt writer's answer;
- :mod:`state`: a run and its steps; :mod:`stream` and :mod:`engine`: running the steps;
- :mod:`runs`: a run streamed into the store, and the user's edits stored;
- :mod:`handoff`: what a run gives a comparison.

A terminal app runs a chain like the page does::

    engine = services.chain_engine
    run = engine.new_run(idea, template, model=model)
    streaming = StreamingRun(engine, services.chains, run, 0)
    try:
        for step in streaming:
            for delta in step:
                print(delta, end="")
    finally:
        streaming.close()
    run.final  # FinalPrompt(prompt, negative_prompt)
"""

from services.studio.builtins import (
    BACK_TRANSLATION_SYSTEM,
    BUILTIN_CHAINS,
    DEFAULT_CHAIN_ID,
    IMAGINATIVE_SYSTEM,
    KARLO_WRITER_SYSTEM,
    PROMPT_WRITER_SYSTEM,
    builtin_chains,
)
from services.studio.engine import ChainEngine, build_messages, placeholder_values
from services.studio.handoff import CompareHandoff, compare_handoff
from services.studio.language import PromptCheck, detect_language, is_english, prompt_checks
from services.studio.parsing import FinalPrompt, parse_prompt_output
from services.studio.runs import StreamingRun, edit_final_prompt, edit_step_output, settle
from services.studio.state import ChainRun, StepResult, StepStatus
from services.studio.stream import StepStream
from services.studio.templates import (
    ChainStep,
    ChainTemplate,
    Problem,
    TemplateInvalid,
    label,
    placeholders,
    render,
    validate_template,
)

__all__ = [
    "BACK_TRANSLATION_SYSTEM",
    "BUILTIN_CHAINS",
    "DEFAULT_CHAIN_ID",
    "IMAGINATIVE_SYSTEM",
    "KARLO_WRITER_SYSTEM",
    "PROMPT_WRITER_SYSTEM",
    "ChainEngine",
    "ChainRun",
    "ChainStep",
    "ChainTemplate",
    "CompareHandoff",
    "FinalPrompt",
    "Problem",
    "PromptCheck",
    "StepResult",
    "StepStatus",
    "StepStream",
    "StreamingRun",
    "TemplateInvalid",
    "build_messages",
    "builtin_chains",
    "compare_handoff",
    "detect_language",
    "edit_final_prompt",
    "edit_step_output",
    "is_english",
    "label",
    "parse_prompt_output",
    "placeholder_values",
    "placeholders",
    "prompt_checks",
    "render",
    "settle",
    "validate_template",
]
