"""Prompt chains against the fake OpenAI server, through the real SDK."""

from __future__ import annotations

import json
import threading

import pytest

from services.catalog import load_catalog
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images.karlo import MAX_PROMPT_CHARS
from services.studio import (
    BACK_TRANSLATION_SYSTEM,
    BUILTIN_CHAINS,
    IMAGINATIVE_SYSTEM,
    PROMPT_WRITER_SYSTEM,
    ChainEngine,
    ChainRun,
    ChainStep,
    ChainTemplate,
    StepStatus,
    TemplateInvalid,
    build_messages,
    detect_language,
    is_english,
    label,
    parse_prompt_output,
    placeholders,
    prompt_checks,
    render,
    validate_template,
)
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tutorial_model import (
    BACK,
    CONCRETE,
    DESCRIPTION,
    IDEA,
    PROMPT,
    TRANSLATION,
    scripted,
)


def last_user(request) -> str:
    return request.body["messages"][-1]["content"]


def calls_of(fake: FakeOpenAI, marker: str) -> int:
    return sum(1 for r in fake.chat_requests() if last_user(r).startswith(marker))


def drain(steps) -> None:
    for step in steps:
        step.drain()


@pytest.fixture
def fake():
    with FakeOpenAI(reply=scripted) as server:
        yield server


def tutorial_run(engine: ChainEngine, **kw) -> ChainRun:
    return engine.new_run(IDEA, BUILTIN_CHAINS["tutorial"], **kw)


# -- running a chain -----------------------------------------------------------------------
def test_tutorial_calls_four_steps_in_order_carrying_earlier_outputs(engine, fake):
    run = tutorial_run(engine)
    drain(engine.run(run))

    requests = fake.chat_requests()
    assert len(requests) == 4
    first, second, third, fourth = (r.body["messages"] for r in requests)
    assert first[0] == {"role": "system", "content": IMAGINATIVE_SYSTEM}
    assert IDEA in first[1]["content"] and "Korean" in first[1]["content"]
    # continued steps carry the earlier (user, assistant) turns of their conversation
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[:2] == first and second[2]["content"] == DESCRIPTION
    assert [m["content"] for m in third if m["role"] == "assistant"] == [DESCRIPTION, CONCRETE]
    # the fresh step: only its own system prompt and one user message, with step 3's output
    assert len(fourth) == 2
    assert fourth[0] == {"role": "system", "content": PROMPT_WRITER_SYSTEM}
    assert fourth[1]["role"] == "user" and TRANSLATION in fourth[1]["content"]
    assert DESCRIPTION not in json.dumps(fourth, ensure_ascii=False)

    assert [s.output for s in run.steps] == [DESCRIPTION, CONCRETE, TRANSLATION, PROMPT]
    assert run.status == StepStatus.DONE
    assert run.final_prompt == PROMPT and run.negative_prompt is None
    assert run.back_translation is None
    # what was sent is recorded per step, with usage and cost (gpt-5.4-mini has a price)
    assert run.steps[3].messages == fourth
    for step in run.steps:
        assert step.model == load_catalog().default_chat_model
        assert step.prompt_tokens and step.completion_tokens
        assert step.cost_usd is not None and step.cost_usd > 0
    assert run.cost_usd == pytest.approx(sum(s.cost_usd for s in run.steps))
    assert not run.cost_incomplete


def test_steps_stream_deltas_as_they_arrive(engine):
    run = tutorial_run(engine)
    seen: list[tuple[int, str]] = []
    shown: dict[int, str] = {}
    for step in engine.run(run, on_delta=lambda i, d: seen.append((i, d))):
        assert step.kind == "step" and step.name == run.template.steps[step.index].name
        shown[step.index] = "".join(step)  # what st.write_stream would show
        assert step.result.status == StepStatus.DONE
    assert shown == {i: s.output for i, s in enumerate(run.steps)}
    assert sorted({i for i, _ in seen}) == [0, 1, 2, 3]
    assert "".join(d for i, d in seen if i == 0) == DESCRIPTION
    assert len([d for i, d in seen if i == 0]) > 1  # word-sized pieces, not one block


def test_an_unconsumed_generator_runs_the_whole_chain(engine, fake):
    run = tutorial_run(engine)
    for _ in engine.run(run):
        pass
    assert len(fake.chat_requests()) == 4 and run.status == StepStatus.DONE


def test_temperature_is_sent_only_to_models_that_take_it(engine, fake):
    drain(engine.run(engine.new_run(IDEA, BUILTIN_CHAINS["quick"], model="gpt-4o-mini")))
    drain(engine.run(engine.new_run(IDEA, BUILTIN_CHAINS["quick"], model="gpt-5.4-mini")))
    older, reasoning = (r.body for r in fake.chat_requests())
    assert older["model"] == "gpt-4o-mini" and older["temperature"] == 0.8
    assert reasoning["model"] == "gpt-5.4-mini" and "temperature" not in reasoning


def test_step_model_overrides_the_run_model(engine, fake):
    template = ChainTemplate(
        "t",
        "Two models",
        (
            ChainStep("a", "Say {idea}"),
            ChainStep("b", "Shorten {previous}", fresh=True, model="gpt-4.1-mini"),
        ),
    )
    drain(engine.run(engine.new_run("fox", template, model="gpt-4o-mini")))
    assert [r.body["model"] for r in fake.chat_requests()] == ["gpt-4o-mini", "gpt-4.1-mini"]


# -- placeholders --------------------------------------------------------------------------
def test_placeholders_are_filled_from_idea_language_and_current_outputs(engine, fake):
    template = ChainTemplate(
        "custom",
        "Custom",
        (
            ChainStep("one", "Idea: {idea} ({language})", system_prompt="Answer in {language}."),
            ChainStep("two", "Previous: {previous} | first: {step1} | braces: {{kept}}"),
            ChainStep("three", "First: {step1} | second: {step2}", fresh=True),
        ),
    )
    run = engine.new_run("a fox {with braces} in snow", template)
    drain(engine.run(run))
    one, two, three = (r.body["messages"] for r in fake.chat_requests())
    assert one == [
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": "Idea: a fox {with braces} in snow (English)"},
    ]
    out1 = run.steps[0].output
    assert two[-1]["content"] == f"Previous: {out1} | first: {out1} | braces: {{kept}}"
    assert three == [{"role": "user", "content": f"First: {out1} | second: {run.steps[1].output}"}]


def test_render_and_placeholders():
    assert placeholders("{idea} and {{not}} and {step2}") == ["idea", "step2"]
    assert placeholders("{idea!r} {language:>5}") == ["idea!r", "language:>5"]
    assert render("{idea} {{x}}", {"idea": "{previous}"}) == "{previous} {x}"
    with pytest.raises(ValueError):
        placeholders("an {unclosed brace")


def test_language_detection():
    assert detect_language(IDEA) == "ko"
    assert detect_language("animals on Mars, 2 legs!") == "en"
    assert detect_language("火星の動物") == "ja"
    assert detect_language("火星动物") == "zh"
    assert detect_language("des animaux élégants") is None
    assert detect_language("1234 ...") is None
    assert is_english("A red fox, 35mm photo.") and not is_english("붉은 여우")
    # Karlo's rule: accented Latin is English enough; the idea's language is still unknown
    assert is_english("café au lait") and detect_language("café au lait") is None
    assert not is_english("  ")


# -- validation ----------------------------------------------------------------------------
def codes(template: ChainTemplate) -> list[tuple[str, dict]]:
    return [(p.code, dict(p.params)) for p in validate_template(template)]


def test_builtin_chains_are_valid_and_shaped_as_described():
    for template in BUILTIN_CHAINS.values():
        assert validate_template(template) == [], template.id
        assert template.builtin
    tutorial = BUILTIN_CHAINS["tutorial"]
    assert [s.fresh for s in tutorial.steps] == [False, False, False, True]
    assert "{step3}" in tutorial.steps[3].template
    assert len(BUILTIN_CHAINS["quick"].steps) == 1
    assert BUILTIN_CHAINS["karlo"].prompt_limit == MAX_PROMPT_CHARS


def test_validation_rejects_unknown_and_forward_placeholders():
    template = ChainTemplate(
        "x",
        "Bad",
        (
            ChainStep("one", "{previous} {foo}"),
            ChainStep("two", "{step2} {step3} {step1} {step0}"),
            ChainStep("three", "ok {step2}", system_prompt="ignored"),
        ),
    )
    assert codes(template) == [
        ("no_previous", {"step": 1, "placeholder": "{previous}", "field": "template"}),
        ("unknown_placeholder", {"step": 1, "placeholder": "{foo}", "field": "template"}),
        (
            "forward_reference",
            {"step": 2, "placeholder": "{step2}", "field": "template", "referenced": 2},
        ),
        (
            "forward_reference",
            {"step": 2, "placeholder": "{step3}", "field": "template", "referenced": 3},
        ),
        ("unknown_placeholder", {"step": 2, "placeholder": "{step0}", "field": "template"}),
        ("system_prompt_unused", {"step": 3}),
    ]


def test_validation_rejects_empty_and_malformed_templates():
    assert [c for c, _ in codes(ChainTemplate("x", " ", ()))] == ["empty_name", "no_steps"]
    template = ChainTemplate(
        "x",
        "Bad",
        (
            ChainStep("one", "   "),
            ChainStep("two", "open {brace", fresh=True, system_prompt="{idea:>3}"),
            ChainStep("three", "{idea}", temperature=3.0, max_tokens=0),
        ),
        prompt_limit=0,
    )
    assert codes(template) == [
        ("bad_prompt_limit", {}),
        ("empty_template", {"step": 1}),
        (
            "unknown_placeholder",
            {"step": 2, "placeholder": "{idea:>3}", "field": "system_prompt"},
        ),
        ("malformed", {"step": 2, "field": "template"}),
        ("bad_temperature", {"step": 3}),
        ("bad_max_tokens", {"step": 3}),
    ]


def test_an_invalid_template_cannot_run(engine, fake):
    bad = ChainTemplate("x", "Bad", (ChainStep("one", "{foo}"),))
    with pytest.raises(TemplateInvalid) as info:
        engine.new_run("fox", bad)
    assert [p.code for p in info.value.problems] == ["unknown_placeholder"]
    assert fake.chat_requests() == []


def test_every_problem_and_name_has_text_in_both_languages():
    problems = [
        *validate_template(ChainTemplate("x", "", ())),
        *validate_template(
            ChainTemplate(
                "x",
                "n" * 300,
                tuple(ChainStep("s", "{previous} {foo} {step9} {") for _ in range(13)),
                prompt_limit=-1,
            )
        ),
        *validate_template(
            ChainTemplate(
                "x",
                "ok",
                (
                    ChainStep("a", ""),
                    ChainStep("b", "x", system_prompt="s", temperature=5, max_tokens=-1),
                ),
            )
        ),
    ]
    found = {p.code for p in problems}
    assert {"empty_name", "name_too_long", "too_many_steps", "malformed"} <= found
    for lang in ("en", "ko"):
        t = Translator(lang)
        for p in problems:
            assert t.has(p.key), p.key
            message = p.message(t)  # formatted: no field left unfilled
            assert not any(f"{{{name}}}" in message for name in ("step", "max", "referenced"))
        for key in ("bad_file", "bad_step", "idea_long", "idea_exceeds_context"):
            assert t.has(f"studio.problems.{key}")
        for template in BUILTIN_CHAINS.values():
            assert t.has(template.name) and label(template.name, t) != template.name
            for step in template.steps:
                assert t.has(step.name), step.name
        for check in [*prompt_checks("a fox"), *prompt_checks("여우 " * 200)]:
            assert t.has(check.key)
        assert t.has("studio.back_translation")
    assert label("My own chain", Translator("ko")) == "My own chain"


# -- idea checks ---------------------------------------------------------------------------
@pytest.mark.parametrize("idea", ["", "   \n\t"])
def test_an_empty_idea_is_refused(engine, fake, idea):
    with pytest.raises(ChatCanvasError) as info:
        engine.new_run(idea, BUILTIN_CHAINS["tutorial"])
    assert info.value.kind is ErrorKind.EMPTY_INPUT
    with pytest.raises(ChatCanvasError):
        engine.check_idea(idea, BUILTIN_CHAINS["tutorial"])
    assert fake.chat_requests() == []


def test_a_long_idea_is_warned_against_the_models_context(engine):
    quick = BUILTIN_CHAINS["quick"]
    assert engine.check_idea("a fox", quick, "gpt-4o-mini") == []
    long_idea = "fox " * 40_000  # ~40k tokens: a quarter of gpt-4o-mini's 128k context
    [warning] = engine.check_idea(long_idea, quick, "gpt-4o-mini")
    assert warning.code == "idea_long" and warning.params["window"] == 128_000
    [warning] = engine.check_idea(long_idea, quick, "gpt-4")  # 8k context
    assert warning.code == "idea_exceeds_context" and warning.params["model"] == "gpt-4"


def test_a_step_over_the_context_fails_before_sending(engine, fake):
    run = engine.new_run("fox " * 40_000, BUILTIN_CHAINS["quick"], model="gpt-4")
    drain(engine.run(run))
    assert fake.chat_requests() == []
    assert run.steps[0].status == StepStatus.ERROR
    assert run.steps[0].error_kind == ErrorKind.CONTEXT_TOO_LONG


# -- edits and re-runs ---------------------------------------------------------------------
def test_rerun_after_editing_step_1_calls_only_steps_2_to_4(engine, fake):
    run = tutorial_run(engine)
    drain(engine.run(run))
    edited = "보라색 비늘을 가진 날개 달린 동물"
    engine.set_output(run, 0, edited)
    assert run.steps[0].edited and all(s.stale for s in run.steps[1:])
    before = list(run.steps[0].messages)
    fake.requests.clear()

    drain(engine.run(run, start_at=1))

    requests = fake.chat_requests()
    assert [last_user(r).split()[0] for r in requests] == ["Describe", "Translate", "Write"]
    assert calls_of(fake, "Use your imagination") == 0
    assert requests[0].body["messages"][2] == {"role": "assistant", "content": edited}
    assert run.steps[0].output == edited and run.steps[0].messages == before
    assert not any(s.stale for s in run.steps)


def test_edited_output_feeds_the_next_step(engine, fake):
    run = tutorial_run(engine)
    drain(engine.run(run))
    edited = "A violet, scaled, winged animal over frozen canyons."
    engine.set_output(run, 1, edited)
    fake.requests.clear()

    drain(engine.run(run, start_at=2))

    third, fourth = fake.chat_requests()
    assert third.body["messages"][4] == {"role": "assistant", "content": edited}
    assert edited not in json.dumps(fourth.body)  # the fresh step sees only step 3's output
    assert TRANSLATION in last_user(fourth)
    assert run.steps[1].output == edited and run.steps[1].edited


def test_editing_the_last_step_changes_the_final_prompt(engine, fake):
    run = engine.new_run(IDEA, BUILTIN_CHAINS["karlo"])
    drain(engine.run(run))
    with pytest.raises(ChatCanvasError):
        engine.set_output(run, 1, "  ")
    engine.set_output(run, 1, "PROMPT: a violet fox\nNEGATIVE: blur, text")
    assert (run.final_prompt, run.negative_prompt) == ("a violet fox", "blur, text")


def test_rerun_needs_the_earlier_steps_done(engine):
    run = tutorial_run(engine)
    with pytest.raises(ValueError):
        engine.run(run, start_at=2)
    assert run.can_start_at(0) and not run.can_start_at(1)


def test_build_messages_uses_current_outputs(engine):
    run = tutorial_run(engine)
    engine.set_output(run, 0, "first")
    engine.set_output(run, 1, "second")
    engine.set_output(run, 2, "third")
    messages = build_messages(run, 3)
    assert [m.role for m in messages] == ["system", "user"] and "third" in messages[1].content
    assert [m.content for m in build_messages(run, 2) if m.role == "assistant"] == [
        "first",
        "second",
    ]


# -- errors, retry, cancel -----------------------------------------------------------------
def test_an_error_keeps_finished_steps_and_retry_starts_at_the_failed_step(engine, fake):
    run = tutorial_run(engine)
    steps = engine.run(run)
    next(steps).drain()
    fake.set_fault("server_error", endpoint="chat", times=1)
    drain(steps)

    assert [s.status for s in run.steps] == ["done", "error", "pending", "pending"]
    assert run.steps[1].error_kind == ErrorKind.SERVER_ERROR
    assert run.steps[0].output == DESCRIPTION
    assert run.status == StepStatus.ERROR and run.resume_index() == 1
    assert run.final_prompt == ""
    assert len(fake.chat_requests()) == 2  # it stopped: steps 3 and 4 were not sent

    drain(engine.run(run, start_at=run.resume_index()))

    assert run.status == StepStatus.DONE and run.final_prompt == PROMPT
    assert calls_of(fake, "Use your imagination") == 1  # step 1 was not called again
    assert len(fake.chat_requests()) == 5


def test_a_stream_cut_midway_is_an_error_with_its_partial_text(engine, fake):
    run = tutorial_run(engine)
    fake.set_fault("cut_stream", endpoint="chat", times=1)
    drain(engine.run(run))
    first = run.steps[0]
    assert first.status == StepStatus.ERROR
    assert first.error_kind == ErrorKind.STREAM_INTERRUPTED
    assert first.output and DESCRIPTION.startswith(first.output) and first.output != DESCRIPTION
    assert len(fake.chat_requests()) == 1

    drain(engine.run(run, start_at=run.resume_index()))
    assert run.status == StepStatus.DONE


def test_cancel_stops_the_running_step_and_keeps_its_partial_text(engine, fake):
    fake.token_delay = 0.02
    long_answer = " ".join(f"word{i}" for i in range(60))
    fake.reply = lambda messages, model: (
        long_answer if messages[-1]["content"].startswith("Describe") else "short answer"
    )
    cancel = threading.Event()
    received: list[str] = []

    def on_delta(index: int, delta: str) -> None:
        if index == 1:
            received.append(delta)
            if len(received) == 3:
                cancel.set()

    run = tutorial_run(engine)
    drain(engine.run(run, on_delta=on_delta, cancel=cancel))

    assert [s.status for s in run.steps] == ["done", "cancelled", "pending", "pending"]
    assert run.steps[1].output == "".join(received) == "word0 word1 word2"
    assert run.steps[1].cost_usd is None  # the usage chunk never came
    assert run.status == StepStatus.CANCELLED and run.resume_index() == 1
    assert len(fake.chat_requests()) == 2

    cancel.clear()
    fake.token_delay = 0
    drain(engine.run(run, start_at=1, cancel=cancel))
    assert run.status == StepStatus.DONE and run.steps[1].output == long_answer


def test_closing_the_generator_cancels_the_running_step(engine, fake):
    """What a Streamlit rerun (Stop pressed) does to the generator inside st.write_stream."""
    fake.token_delay = 0.01
    run = tutorial_run(engine)
    steps = engine.run(run)
    first = next(steps)
    pieces = iter(first)
    partial = next(pieces) + next(pieces)
    steps.close()
    assert run.steps[0].status == StepStatus.CANCELLED
    assert run.steps[0].output == partial
    assert [s.status for s in run.steps[1:]] == ["pending"] * 3


def test_a_cancel_before_a_step_sends_nothing(engine, fake):
    cancel = threading.Event()
    cancel.set()
    run = tutorial_run(engine)
    drain(engine.run(run, cancel=cancel))
    assert fake.chat_requests() == []
    assert run.steps[0].status == StepStatus.CANCELLED


# -- Karlo output --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PROMPT: a red fox\nNEGATIVE: blurry, text", ("a red fox", "blurry, text")),
        ("**Prompt:** a red fox\n**Negative prompt:** blurry", ("a red fox", "blurry")),
        ('Sure! Here is your prompt:\n\n"A red fox in snow."', ("A red fox in snow.", None)),
        (
            "```\nPROMPT: a fox\nsitting in snow\nNEGATIVE: none\n```",
            ("a fox sitting in snow", None),
        ),
        ("A red fox. Negative prompt: watermark, text", ("A red fox.", "watermark, text")),
        ("prompt: “a fox”\n- negative: 'low quality'", ("a fox", "low quality")),
        ("프롬프트: a fox\n네거티브 프롬프트: blurry", ("a fox", "blurry")),
        (
            "Negative space around a lone fox, minimal",
            ("Negative space around a lone fox, minimal", None),
        ),
        ("  just   a\nplain prompt ", ("just a plain prompt", None)),
    ],
)
def test_parse_prompt_output_tolerates_variations(text, expected):
    assert parse_prompt_output(text) == expected


def test_karlo_chain_gives_a_prompt_within_256_characters_and_a_negative(engine, fake):
    long_prompt = ", ".join(["a rust-furred long-necked Martian grazer at dusk"] * 8)
    fake.reply = lambda messages, model: (
        f"Here you go:\n**PROMPT:** {long_prompt}\n**NEGATIVE:** blurry, watermark, text"
        if messages[0]["content"].startswith(
            "You are an assistant that writes prompts for the Karlo"
        )
        else "A detailed English description."
    )
    run = engine.new_run(IDEA, BUILTIN_CHAINS["karlo"])
    drain(engine.run(run))

    description, prompt_request = (r.body["messages"] for r in fake.chat_requests())
    assert IDEA in description[-1]["content"]
    assert "A detailed English description." in prompt_request[-1]["content"]
    assert len(prompt_request) == 2  # fresh: its own system prompt + one user message
    assert len(run.final_prompt) <= MAX_PROMPT_CHARS
    assert long_prompt.startswith(run.final_prompt)
    assert long_prompt[len(run.final_prompt)] in " ,"
    assert run.truncated_from == len(long_prompt)
    assert run.negative_prompt == "blurry, watermark, text"
    assert [c.ok for c in prompt_checks(run.final_prompt)] == [True, True]
    over = prompt_checks("여우 " * 200)
    assert [c.ok for c in over] == [False, False] and over[1].params["limit"] == 256


# -- back-translation ----------------------------------------------------------------------
def test_back_translation_renders_the_prompt_in_the_ideas_language(engine, fake):
    run = tutorial_run(engine, back_translate=True)
    kinds = [step.kind for step in engine.run(run)]
    assert kinds == ["step"] * 4 + ["back_translation"]
    requests = fake.chat_requests()
    assert len(requests) == 5
    system, user = requests[4].body["messages"]
    assert system == {"role": "system", "content": BACK_TRANSLATION_SYSTEM}
    assert PROMPT in user["content"] and "Korean" in user["content"]
    assert run.back_translation is not None and run.back_translation.output == BACK
    assert run.back_translation.status == StepStatus.DONE
    assert run.cost_usd == pytest.approx(sum(s.cost_usd for s in run.results()))


def test_back_translation_alone_after_a_finished_run(engine, fake):
    run = tutorial_run(engine)
    drain(engine.run(run))
    run.back_translate = True
    fake.requests.clear()
    drain(engine.run(run, start_at=len(run.steps)))
    [request] = fake.chat_requests()
    assert last_user(request).startswith("Translate this image prompt")
    assert run.back_translation.output == BACK and run.final_prompt == PROMPT


def test_no_back_translation_for_an_english_idea(engine, fake):
    run = engine.new_run("animals on Mars", BUILTIN_CHAINS["tutorial"], back_translate=True)
    drain(engine.run(run))
    assert len(fake.chat_requests()) == 4 and run.back_translation is None


# -- serialisation -------------------------------------------------------------------------
def test_a_run_round_trips_through_json(engine):
    run = tutorial_run(engine, back_translate=True)
    steps = engine.run(run)
    next(steps).drain()
    steps.close()
    engine.set_output(run, 0, "edited")
    restored = ChainRun.from_dict(json.loads(json.dumps(run.to_dict())))
    assert restored.to_dict() == run.to_dict()
    assert restored.template == run.template and restored.steps[0].edited
    assert restored.steps[1].status == StepStatus.PENDING and restored.resume_index() == 1


@pytest.mark.parametrize("name", ["step01", "step0", "step1a"])
def test_only_canonical_step_placeholders_are_accepted(name):
    """{step01} once passed validation and then failed when the run filled {step1}."""
    template = ChainTemplate(
        "t", "t", (ChainStep("a", "{idea}"), ChainStep("b", "Shorten this: {" + name + "}"))
    )
    assert [p.code for p in validate_template(template)] == ["unknown_placeholder"]
