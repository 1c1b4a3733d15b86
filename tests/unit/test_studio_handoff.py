"""The typed final prompt: a user's edit is kept as typed, and what a run hands to Compare."""

from __future__ import annotations

import pytest

from services.errors import ChatCanvasError
from services.studio import BUILTIN_CHAINS, ChainEngine, FinalPrompt, compare_handoff
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tutorial_model import IDEA, KARLO_PROMPT, PROMPT, scripted

# Text a prompt writer's answer parser would take apart: a label-like "Negative:" inside the
# prompt, a first line ending in a colon, quotes around the whole.
TYPED = 'Poster:\nthe words "Negative: zero" in neon over a fox'
ENGLISH = "A fox on Mars under red dust, watercolour"


@pytest.fixture
def fake():
    with FakeOpenAI(reply=scripted) as server:
        yield server


def done_run(engine: ChainEngine, chain: str = "tutorial"):
    run = engine.new_run(IDEA, BUILTIN_CHAINS[chain])
    for step in engine.run(run):
        step.drain()
    return run


def test_an_edited_final_prompt_is_kept_as_typed(engine, fake):
    run = done_run(engine)
    engine.set_final_prompt(run, FinalPrompt(f"  {TYPED} ", None))
    assert run.final == FinalPrompt(TYPED, None)
    assert run.steps[-1].output == TYPED and run.steps[-1].edited
    with pytest.raises(ChatCanvasError):
        engine.set_final_prompt(run, FinalPrompt("  ", None))
    assert run.final.prompt == TYPED  # a refused edit changes nothing


def test_an_edited_negative_prompt_and_an_emptied_one(engine, fake):
    run = done_run(engine, "karlo")
    assert run.final == (KARLO_PROMPT, "blurry, text, watermark")
    engine.set_final_prompt(run, FinalPrompt("a violet fox", "text, none of it: blur"))
    assert run.final == FinalPrompt("a violet fox", "text, none of it: blur")
    # the last step's box shows the answer that gives this prompt
    assert run.steps[-1].output == "PROMPT: a violet fox\nNEGATIVE: text, none of it: blur"
    engine.set_final_prompt(run, FinalPrompt("a violet fox", "  "))
    assert run.final == FinalPrompt("a violet fox", None)


def test_an_edit_past_the_chains_limit_is_cut_like_an_answer(engine, fake):
    run = done_run(engine, "karlo")
    long_prompt = "a violet fox in deep snow " * 20
    engine.set_final_prompt(run, FinalPrompt(long_prompt, None))
    assert len(run.final.prompt) <= 256 and long_prompt.startswith(run.final.prompt)
    assert run.truncated_from == len(long_prompt.strip())


def test_an_edit_makes_the_back_translation_stale(engine, fake):
    run = engine.new_run(IDEA, BUILTIN_CHAINS["quick"], back_translate=True)
    for step in engine.run(run):
        step.drain()
    assert run.back_translation is not None and not run.back_translation.stale
    engine.set_final_prompt(run, FinalPrompt("a violet fox", None))
    assert run.back_translation.stale


def test_handoff_carries_the_final_prompt_and_the_run(engine, fake):
    run = done_run(engine, "karlo")
    before = len(fake.chat_requests())
    handoff = compare_handoff(engine.chat, run, translate=True)
    assert (handoff.prompt, handoff.negative_prompt) == (KARLO_PROMPT, "blurry, text, watermark")
    assert handoff.english_prompt is None  # Karlo can take the prompt itself: no call
    assert handoff.studio_run_id == run.id
    assert len(fake.chat_requests()) == before

    plain = compare_handoff(engine.chat, done_run(engine))
    assert (plain.prompt, plain.negative_prompt, plain.english_prompt) == (PROMPT, "", None)


def test_handoff_translates_for_english_only_engines_when_asked(engine, fake):
    run = done_run(engine)
    engine.set_final_prompt(run, FinalPrompt("붉은 먼지 아래 화성의 여우, 수채화", None))
    before = len(fake.chat_requests())
    assert compare_handoff(engine.chat, run).english_prompt is None  # not asked: no call
    assert len(fake.chat_requests()) == before

    fake.reply = lambda messages, model: ENGLISH
    handoff = compare_handoff(engine.chat, run, translate=True)
    assert handoff.prompt == "붉은 먼지 아래 화성의 여우, 수채화"
    assert handoff.english_prompt == ENGLISH
    assert len(fake.chat_requests()) == before + 1


def test_a_failed_translation_leaves_the_english_prompt_empty(engine, fake):
    run = done_run(engine)
    engine.set_final_prompt(run, FinalPrompt("붉은 먼지 아래 화성의 여우", None))
    fake.reply = lambda messages, model: "여전히 한국어입니다"  # not English
    assert compare_handoff(engine.chat, run, translate=True).english_prompt is None


def test_a_run_without_a_final_prompt_has_nothing_to_hand_off(engine, fake):
    run = engine.new_run(IDEA, BUILTIN_CHAINS["tutorial"])
    with pytest.raises(ValueError):
        compare_handoff(engine.chat, run)
