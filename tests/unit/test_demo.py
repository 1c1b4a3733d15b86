"""Demo mode's pieces: its replies, its settings, its database."""

from __future__ import annotations

import pytest

from demo.mode import (
    DEMO_DATABASE_URL,
    DemoProviders,
    demo_database_url,
    demo_settings,
    demo_wanted,
    start_demo_providers,
)
from demo.replies import demo_reply
from services.images.translate import INSTRUCTION
from services.settings import Mode, resolve_settings
from services.studio.builtins import BUILTIN_CHAINS
from tests.fakes.tutorial_model import KARLO_PROMPT, PROMPT

PROVIDERS = DemoProviders("http://127.0.0.1:1/v1", "http://127.0.0.1:2")


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_a_chat_answer_says_it_is_made_up_in_the_users_language():
    english = demo_reply(user("What is a good name for a cat?"), "gpt-5.4-mini")
    assert "made up by ChatCanvas's demo model" in english
    assert "What is a good name for a cat?" in english and "gpt-5.4-mini" in english
    korean = demo_reply(user("고양이 이름 추천해줘"), "gpt-5.4-mini")
    assert "데모 모델이 지어낸 것" in korean


def test_studio_steps_and_the_karlo_translation_get_scripted_answers():
    steps = BUILTIN_CHAINS["quick"].steps
    assert demo_reply(user(steps[0].template.format(idea="a fox")), "m") == PROMPT
    translated = demo_reply(
        [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": "여우"}], "m"
    )
    assert translated == KARLO_PROMPT
    tutorial = BUILTIN_CHAINS["tutorial"].steps[0].template
    assert demo_reply(user(tutorial.format(idea="a fox", language="English")), "m").isascii()


def test_demo_settings_point_at_the_fakes_with_their_own_database(tmp_path):
    real = resolve_settings(environ={"DATABASE_URL": f"sqlite:///{tmp_path}/chatcanvas.db"})
    demo = demo_settings(real, PROVIDERS)
    assert demo.demo and demo.openai_api_key and demo.kakao_rest_api_key
    assert demo.openai_base_url == PROVIDERS.openai_base_url
    assert demo.karlo_base_url == PROVIDERS.karlo_base_url
    assert demo.database_url == f"sqlite:///{tmp_path}/demo.db"
    assert demo_database_url("postgresql+psycopg://u:p@h/db") == DEMO_DATABASE_URL


def test_never_on_a_shared_deployment():
    with pytest.raises(ValueError):
        demo_settings(resolve_settings(mode=Mode.SHARED), PROVIDERS)


@pytest.mark.parametrize(
    ("environ", "chosen", "wanted"),
    [({}, False, False), ({"CHATCANVAS_DEMO": "1"}, False, True), ({}, True, True)],
)
def test_demo_wanted(environ, chosen, wanted):
    assert demo_wanted(environ, chosen) is wanted


def test_the_demo_offers_a_compatible_image_server_that_answers(tmp_path):
    from services.images import make_provider
    from services.images.base import ImageRequest

    real = resolve_settings(
        environ={"DATABASE_URL": f"sqlite:///{tmp_path}/c.db", "IMAGE_SERVERS": "[broken"}
    )
    providers = start_demo_providers()
    demo = demo_settings(real, providers)
    assert demo.image_servers_problem is None  # the real settings' servers are not the demo's
    provider = make_provider("compatible", demo)
    assert "fake-sd/sd-turbo" in provider.models()
    result = provider.generate(ImageRequest(prompt="a fox", model="fake-sd/sd-turbo"))
    assert result.images and result.params["server"] == "fake-sd"
