"""What a studio run hands to a comparison: the final prompt, its negative prompt, an English
prompt for the English-only engines, and the run's id (the images' lineage)."""

from __future__ import annotations

from dataclasses import dataclass

from services.chat import ChatService
from services.errors import ChatCanvasError
from services.images import karlo_prompt_problems
from services.images.translate import make_karlo_ready
from services.studio.state import ChainRun


@dataclass(frozen=True)
class CompareHandoff:
    """A studio run's prompt, ready for a comparison. ``english_prompt`` is what the
    English-only engines (Karlo) send instead of ``prompt``; None: they send ``prompt``
    itself, or say why they cannot."""

    prompt: str
    negative_prompt: str
    english_prompt: str | None
    studio_run_id: str


def compare_handoff(chat: ChatService, run: ChainRun, *, translate: bool = False) -> CompareHandoff:
    """The run's final prompt (as stored, user edits included) for a comparison. With
    ``translate``, a prompt the English-only engines cannot take (not English, too long) is
    rewritten by the run's model, one paid call; when that fails, ``english_prompt`` is None
    and those lanes say why. Raises ValueError when the run has no final prompt yet."""
    final = run.final
    if not final.prompt:
        raise ValueError("the run has no final prompt yet")
    english = None
    if translate and karlo_prompt_problems(final.prompt):
        try:
            english = make_karlo_ready(chat, run.model, final.prompt)
        except ChatCanvasError:
            english = None
    return CompareHandoff(final.prompt, final.negative_prompt or "", english, run.id)
