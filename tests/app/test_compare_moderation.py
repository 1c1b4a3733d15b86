"""The safety check on the Compare page (AppTest): a flagged prompt is held before any image
engine is called, with its categories; "Proceed anyway" runs it; with the check off it runs
straight; a check that fails says so and offers to retry or proceed."""

from __future__ import annotations

import pytest

from tests.app.conftest import new_app
from tests.fakes.karlo_server import FAKE_KAKAO_KEY


@pytest.fixture
def fake_openai(images_openai):  # in place of the chat-only fake of conftest
    return images_openai


def open_compare(monkeypatch, fake_karlo, check: str | None = "on", **query: str):
    monkeypatch.setenv("KAKAO_REST_API_KEY", FAKE_KAKAO_KEY)
    monkeypatch.setenv("KARLO_BASE_URL", fake_karlo.base_url)
    if check is not None:
        monkeypatch.setenv("MODERATION_CHECK", check)
    at = new_app(**query).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def compare(app_env, fake_karlo, monkeypatch):
    return open_compare(monkeypatch, fake_karlo)


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def generate(at, prompt: str):
    at.text_area(key="compare_prompt").set_value(prompt).run()
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    return at


def image_calls(fake_images, fake_karlo) -> int:
    return len(fake_images.calls) + len(fake_karlo.t2i_calls())


def moderation_calls(fake_openai) -> list:
    return [r for r in fake_openai.requests if r.path.endswith("/moderations")]


def test_a_flagged_prompt_is_held_with_its_categories(
    compare, fake_openai, fake_images, fake_karlo
):
    generate(compare, "A FLAGME fox in the snow")
    shown = texts(compare)
    assert "moderation model flagged this prompt" in shown
    assert "harassment, violence" in shown
    assert image_calls(fake_images, fake_karlo) == 0
    assert moderation_calls(fake_openai)[0].body["input"] == ["A FLAGME fox in the snow"]
    assert compare.text_area(key="compare_prompt").value == "A FLAGME fox in the snow"


def test_proceed_anyway_runs_the_held_prompt(compare, fake_openai, fake_images, fake_karlo):
    generate(compare, "A FLAGME fox in the snow")
    compare.button(key="moderation_proceed_compare").click().run()
    assert not compare.exception, compare.exception
    assert image_calls(fake_images, fake_karlo) == 2
    assert len(moderation_calls(fake_openai)) == 1  # approved: not checked twice
    assert "moderation model flagged" not in texts(compare)


def test_edit_the_prompt_keeps_what_was_typed(compare, fake_images, fake_karlo):
    generate(compare, "A FLAGME fox")
    compare.button(key="moderation_edit_compare").click().run()
    assert "moderation model flagged" not in texts(compare)
    assert compare.text_area(key="compare_prompt").value == "A FLAGME fox"
    generate(compare, "A red fox")
    assert image_calls(fake_images, fake_karlo) == 2


def test_a_clean_prompt_runs_after_the_check(compare, fake_openai, fake_images, fake_karlo):
    generate(compare, "A red fox in the snow")
    assert len(moderation_calls(fake_openai)) == 1
    assert image_calls(fake_images, fake_karlo) == 2


def test_with_the_check_off_the_prompt_runs_straight(
    app_env, monkeypatch, fake_openai, fake_images, fake_karlo
):
    at = open_compare(monkeypatch, fake_karlo, check=None)  # local default: off
    assert at.toggle(key="moderation_on").value is False
    generate(at, "A FLAGME fox")
    assert moderation_calls(fake_openai) == []
    assert image_calls(fake_images, fake_karlo) == 2


def test_the_toggle_starts_from_the_setting_and_switches_it(
    compare, fake_openai, fake_images, fake_karlo
):
    assert compare.toggle(key="moderation_on").value is True
    compare.toggle(key="moderation_on").set_value(False).run()
    generate(compare, "A FLAGME fox")
    assert moderation_calls(fake_openai) == [] and image_calls(fake_images, fake_karlo) == 2


def test_a_failed_check_says_so_and_offers_retry_or_proceed(
    compare, fake_openai, fake_images, fake_karlo
):
    fake_openai.set_fault("rate_limit", endpoint="moderations", times=2)  # the SDK retries once
    generate(compare, "A red fox")
    assert "safety check could not be made" in texts(compare)
    assert image_calls(fake_images, fake_karlo) == 0
    compare.button(key="moderation_retry_compare").click().run()
    assert not compare.exception, compare.exception
    assert image_calls(fake_images, fake_karlo) == 2


def test_categories_in_korean(app_env, monkeypatch, fake_images, fake_karlo):
    at = open_compare(monkeypatch, fake_karlo, lang="ko")
    generate(at, "FLAGME:self-harm/intent a cat")
    assert "자해 의도" in texts(at)
    assert image_calls(fake_images, fake_karlo) == 0


def test_the_english_sent_to_karlo_is_checked_too(compare, fake_openai, fake_images, fake_karlo):
    fake_openai.reply = lambda messages, model: "A FLAGME fox in the snow"  # the translation
    generate(compare, "눈 속의 여우")
    assert "moderation model flagged this prompt" in texts(compare)
    assert moderation_calls(fake_openai)[0].body["input"] == [
        "눈 속의 여우",
        "A FLAGME fox in the snow",
    ]
    assert image_calls(fake_images, fake_karlo) == 0


def test_generate_here_in_the_studio_checks_the_idea_first(
    compare, fake_openai, fake_images, fake_karlo
):
    fake_openai.reply = lambda messages, model: "A fox on Mars, red dust, watercolour"
    compare.switch_page("app_pages/studio.py").run()
    compare.selectbox(key="studio_chain").set_value("quick").run()
    compare.text_area(key="studio_idea").set_value("FLAGME a fox on Mars").run()
    compare.button(key="studio_run").click().run()
    compare.button(key="moderation_proceed_idea").click().run()  # held before the chain
    compare.button(key="studio_generate_here").click().run()
    assert not compare.exception, compare.exception
    assert "moderation model flagged this prompt" in texts(compare)
    assert moderation_calls(fake_openai)[-1].body["input"] == [
        "A fox on Mars, red dust, watercolour",
        "FLAGME a fox on Mars",
    ]
    assert image_calls(fake_images, fake_karlo) == 0
    compare.button(key="moderation_proceed_studio").click().run()
    assert not compare.exception, compare.exception
    assert image_calls(fake_images, fake_karlo) == 2


def red_png() -> bytes:
    import io

    from PIL import Image

    from tests.fakes.openai_moderation import FLAGGED_COLOUR

    out = io.BytesIO()
    Image.new("RGB", (64, 64), FLAGGED_COLOUR).save(out, "PNG")
    return out.getvalue()


def test_a_generated_image_is_checked_from_its_card_and_the_result_kept(
    app_env, monkeypatch, fake_openai, fake_images, fake_karlo
):
    fake_karlo.image_bytes = red_png()
    at = open_compare(monkeypatch, fake_karlo, check="off")
    generate(at, "A red fox")
    checks = [b for b in at.button if (b.key or "").startswith("moderation_image_")]
    assert len(checks) == 2 and checks[0].label == "Safety check"
    for button in checks:
        at.button(key=button.key).click().run()
        assert not at.exception, at.exception
    shown = texts(at)
    assert "Safety check: nothing flagged" in shown
    assert "Safety check: flagged for graphic violence" in shown
    sent = moderation_calls(fake_openai)[-1].body["input"][0]
    assert sent["image_url"]["url"].startswith("data:image/")
    reopened = open_compare(monkeypatch, fake_karlo, check="off", run=at.query_params["run"])
    assert "Safety check: flagged for graphic violence" in texts(reopened)  # kept in its params
    assert not [b for b in reopened.button if (b.key or "").startswith("moderation_image_")]


def test_a_failed_image_check_says_why_and_can_be_tried_again(
    app_env, monkeypatch, fake_openai, fake_karlo
):
    at = open_compare(monkeypatch, fake_karlo, check="off")
    generate(at, "A red fox")
    fake_openai.set_fault("invalid_key", endpoint="moderations", times=1)
    key = next(b.key for b in at.button if (b.key or "").startswith("moderation_image_"))
    at.button(key=key).click().run()
    assert "safety check of this image could not be made" in texts(at)
    at.button(key=key).click().run()
    assert "Safety check: nothing flagged" in texts(at)


def test_a_flagged_studio_idea_is_held_before_its_chain_runs(compare, fake_openai):
    compare.switch_page("app_pages/studio.py").run()
    compare.selectbox(key="studio_chain").set_value("quick").run()
    compare.text_area(key="studio_idea").set_value("FLAGME:illicit a fox").run()
    compare.button(key="studio_run").click().run()
    assert not compare.exception, compare.exception
    assert "flagged this idea" in texts(compare) and "illicit activity" in texts(compare)
    assert fake_openai.chat_requests() == []  # the chain did not start
    assert compare.button(key="moderation_edit_idea").label == "Edit the idea"
    compare.button(key="moderation_proceed_idea").click().run()
    assert not compare.exception, compare.exception
    assert len(fake_openai.chat_requests()) == 1
    assert compare.text_area(key="studio_idea").value == "FLAGME:illicit a fox"


def test_a_shared_deployment_starts_with_the_check_on(app_env, fake_openai, fake_images):
    from tests.app.conftest import person, shared_app

    at = shared_app(person("ada", "ada@example.org")).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    assert at.toggle(key="moderation_on").value is True
    generate(at, "A FLAGME fox")
    assert "moderation model flagged this prompt" in texts(at)
    assert fake_images.calls == []


def test_the_switch_holds_for_the_session_across_pages(compare, fake_openai):
    compare.toggle(key="moderation_on").set_value(False).run()
    compare.switch_page("app_pages/studio.py").run()
    compare.selectbox(key="studio_chain").set_value("quick").run()
    compare.text_area(key="studio_idea").set_value("FLAGME a fox").run()
    compare.button(key="studio_run").click().run()
    assert "flagged this idea" not in texts(compare)
    assert moderation_calls(fake_openai) == [] and len(fake_openai.chat_requests()) == 1
    compare.switch_page("app_pages/compare.py").run()
    assert compare.toggle(key="moderation_on").value is False
