"""Sending a revised prompt to the other lanes, against the fakes: the revised prompt comes
from a DALL·E-style model on an OpenAI-compatible server (DALL·E is retired at OpenAI, whose
GPT Image models revise nothing); what each engine receives, what the new comparison records,
the limits that still apply."""

from __future__ import annotations

import pytest

from services.app_services import build_services
from services.budget import LimitExceeded
from services.comparison import ComparisonSpec, LaneSpec
from services.images.servers import parse_image_servers
from services.revised_prompt import (
    PROMPT_FROM,
    PromptSource,
    revised_prompt_offered,
    revised_prompt_spec,
    send_revised_prompt,
)
from services.settings import Limits, Mode, Secret, Settings
from tests.conftest import OWNER
from tests.fakes.compatible_images import image_server_config
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY
from tests.fakes.prompt_rewriter import revised_prompt

DALLE = LaneSpec("compatible", "fake-sd/dall-e-3", extras={"style": "natural"})
GPT = LaneSpec("openai", "gpt-image-2", quality="low", size="1024x1536")
KARLO = LaneSpec("karlo", "karlo-v2.1", width=640, height=512, seeds=(11,))
PROMPT = "Draw a red fox in a snowy forest"


@pytest.fixture
def fakes(image_servers, compatible):
    """The OpenAI, Karlo and compatible-server fakes, cleared (the last as ``compatible``)."""
    images, openai_fake, karlo_fake = image_servers
    images.calls.clear()
    images.set_fault(None)
    openai_fake.clear_faults()
    karlo_fake.calls.clear()
    karlo_fake.set_fault(None)
    return image_servers


def settings_for(fakes, compatible, tmp_path, **more) -> Settings:
    _, openai_fake, karlo_fake = fakes
    return Settings(
        image_servers=parse_image_servers([image_server_config(compatible[1])]),
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=openai_fake.base_url,
        kakao_rest_api_key=Secret(FAKE_KAKAO_KEY),
        karlo_base_url=karlo_fake.base_url,
        database_url=f"sqlite:///{tmp_path}/r.db",
        **more,
    )


@pytest.fixture
def services(fakes, compatible, tmp_path, catalog):
    return build_services(settings_for(fakes, compatible, tmp_path), OWNER, catalog=catalog)


@pytest.fixture
def first(services):
    """A stored comparison: DALL·E 3 on a compatible server (which revises), GPT Image and
    Karlo."""
    spec = ComparisonSpec(PROMPT, (DALLE, GPT, KARLO), negative_prompt="blurry")
    return services.comparisons.run(spec).run


def revised_image(services, run):
    image = services.images.get_image(run.lanes[0].image_ids[0])
    assert image.revised_prompt == revised_prompt(PROMPT)
    return image


def test_the_other_lanes_receive_the_revised_prompt_with_their_own_parameters(
    services, fakes, compatible, first
):
    images, _, karlo_fake = fakes
    image = revised_image(services, first)
    assert image.params["style"] == "natural" and image.params["server"] == "fake-sd"
    assert compatible[0].calls[-1].body["style"] == "natural"
    sent_before, compatible_before = len(images.calls), len(compatible[0].calls)
    result = send_revised_prompt(services.comparisons, image.id)
    revised = revised_prompt(PROMPT)
    gpt_body = images.calls[-1].body  # GPT Image ran on the OpenAI fake, DALL·E 3 did not
    assert len(images.calls) == sent_before + 1
    assert len(compatible[0].calls) == compatible_before  # the lane that revised: not again
    assert gpt_body["prompt"] == revised and gpt_body["model"] == "gpt-image-2"
    assert (gpt_body["quality"], gpt_body["size"]) == ("low", "1024x1536")
    karlo_body = karlo_fake.t2i_calls()[-1].body
    assert karlo_body["prompt"] == revised  # English and short enough: sent as it is
    assert (karlo_body["width"], karlo_body["height"]) == (640, 512)
    assert karlo_body["seed"] == [11] and karlo_body["negative_prompt"] == "blurry"
    run = result.run
    assert run.id != first.id and run.prompt == revised and run.negative_prompt == "blurry"
    assert [(lane.provider, lane.model) for lane in run.lanes] == [
        ("openai", "gpt-image-2"),
        ("karlo", "karlo-v2.1"),
    ]


def test_the_new_comparison_records_where_its_prompt_came_from(services, first):
    image = revised_image(services, first)
    run = send_revised_prompt(services.comparisons, image.id).run
    source = PromptSource(image.id, first.id, 0)
    for lane in run.lanes:
        assert PromptSource.from_params(lane.params) == source
        for image_id in lane.image_ids:
            assert PromptSource.from_params(services.images.get_image(image_id).params) == source
    assert run.lanes[0].params[PROMPT_FROM]["kind"] == "revised_prompt"
    assert PromptSource.from_params(first.lanes[1].params) is None  # the first run had none


def test_offered_only_for_a_revised_prompt_with_other_lanes(services, first):
    image = revised_image(services, first)
    gpt_image = services.images.get_image(first.lanes[1].image_ids[0])
    assert revised_prompt_offered(first, image)
    assert not revised_prompt_offered(first, gpt_image)  # GPT Image revises nothing
    with pytest.raises(ValueError):
        revised_prompt_spec(services.comparisons, gpt_image.id)
    alone = services.comparisons.run(ComparisonSpec("a cat", (DALLE,))).run
    lone = services.images.get_image(alone.lanes[0].image_ids[0])
    assert lone.revised_prompt and not revised_prompt_offered(alone, lone)
    with pytest.raises(KeyError):
        revised_prompt_spec(services.comparisons, "no-such-image")


def test_a_korean_revised_prompt_is_translated_for_karlo_only(services, fakes, monkeypatch):
    _, openai_fake, _ = fakes
    monkeypatch.setattr(openai_fake, "reply", lambda messages, model: "A detailed red fox")
    run = services.comparisons.run(
        ComparisonSpec("붉은 여우를 그려줘", (DALLE, GPT, KARLO), english_prompt="a red fox")
    ).run
    image = services.images.get_image(run.lanes[0].image_ids[0])
    korean = revised_prompt("붉은 여우를 그려줘")
    assert image.revised_prompt == korean
    spec = revised_prompt_spec(services.comparisons, image.id)
    assert spec.prompt == korean
    assert spec.english_prompt == "A detailed red fox"  # the chat model's translation
    assert openai_fake.chat_requests()[-1].body["messages"][-1]["content"] == korean
    assert spec.prompt_for("openai") == korean and spec.prompt_for("karlo") == spec.english_prompt


def test_the_spending_limits_apply_before_anything_is_sent(fakes, compatible, tmp_path, catalog):
    images, _, karlo_fake = fakes
    local = build_services(settings_for(fakes, compatible, tmp_path), OWNER, catalog=catalog)
    first = local.comparisons.run(ComparisonSpec(PROMPT, (DALLE, GPT, KARLO))).run
    shared = settings_for(
        fakes,
        compatible,
        tmp_path,
        mode=Mode.SHARED,
        limits=Limits(daily_budget_usd=0.0001),
        sources={"OPENAI_API_KEY": "secrets", "KAKAO_REST_API_KEY": "secrets"},
    )
    limited = build_services(shared, OWNER, catalog=catalog)
    sent, karlo_sent, stored = len(images.calls), len(karlo_fake.t2i_calls()), local.images.count()
    with pytest.raises(LimitExceeded):
        send_revised_prompt(limited.comparisons, first.lanes[0].image_ids[0])
    assert (len(images.calls), len(karlo_fake.t2i_calls())) == (sent, karlo_sent)
    assert limited.images.count() == stored
