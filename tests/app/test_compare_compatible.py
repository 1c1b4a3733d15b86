"""The Compare page with an OpenAI-compatible image server set up by the deployer
(IMAGE_SERVERS): a lane picks it by name, the second fake answers, the key never shows."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import new_app, person, shared_app
from tests.app.test_compare_page import lane_images, latest_run, run, texts
from tests.fakes.compatible_images import COMPAT_KEY, image_server_config
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_openai():  # overrides the chat-only fake of conftest: GPT Image answers too
    with FakeOpenAI(image_handler=FakeOpenAIImages()) as fake:
        yield fake


def lane_select(at, label: str, lane: int):
    return [s for s in at.selectbox if s.label == label][lane]


def page_text(at) -> str:
    return texts(at) + "\n".join(str(j.value) for j in at.json)


def test_a_configured_server_lane_gets_its_image_from_the_second_fake(
    app_env, compatible, monkeypatch
):
    images, server = compatible
    monkeypatch.setenv("IMAGE_SERVERS", json.dumps([image_server_config(server)]))
    at = new_app().run()
    at.switch_page("app_pages/compare.py").run()
    assert "OpenAI-compatible server" in lane_select(at, "Provider", 1).options
    lane_select(at, "Provider", 1).set_value("compatible").run()
    models = lane_select(at, "Model", 1)
    assert models.options == ["fake-sd/sd-turbo", "fake-sd/sd-url", "fake-sd/dall-e-3"]
    models.set_value("fake-sd/sd-turbo").run()
    assert lane_select(at, "Size", 1).options == ["256x256", "512x512"]  # the profile's sizes
    run(at, "A paper boat on a pond")
    assert lane_images(at, 0) == 1 and lane_images(at, 1) == 1
    (call,) = images.calls
    assert (call.body["model"], call.body["size"]) == ("sd-turbo", "256x256")
    stored = latest_run(app_env).lanes[1]
    assert (stored.provider, stored.model) == ("compatible", "fake-sd/sd-turbo")
    assert stored.params["server"] == "fake-sd"
    assert COMPAT_KEY not in page_text(at)


def test_a_gpt_image_lane_switched_to_a_server_sends_none_of_its_choices(
    app_env, compatible, monkeypatch
):
    images, server = compatible
    monkeypatch.setenv("IMAGE_SERVERS", json.dumps([image_server_config(server)]))
    at = new_app().run()
    at.switch_page("app_pages/compare.py").run()
    lane_select(at, "Provider", 0).set_value("compatible").run()  # it was GPT Image (quality)
    run(at, "A paper boat on a pond")
    assert lane_images(at, 0) == 1
    assert "quality" not in images.calls[-1].body
    assert latest_run(app_env).lanes[0].error_kind is None


def test_a_broken_image_servers_value_is_said_on_the_lane(app_env, monkeypatch):
    monkeypatch.setenv("IMAGE_SERVERS", '[{"name": "x", "base_url": "http://h/v1"}]')
    at = new_app().run()
    at.switch_page("app_pages/compare.py").run()
    lane_select(at, "Provider", 1).set_value("compatible").run()
    assert not at.exception
    assert "IMAGE_SERVERS" in texts(at) and "'models' must be a list" in texts(at)


def test_an_own_server_typed_in_the_lane_is_used_and_its_key_never_stored(app_env, compatible):
    images, server = compatible
    at = new_app().run()
    at.switch_page("app_pages/compare.py").run()
    lane_select(at, "Provider", 1).set_value("compatible").run()
    assert "Type the base URL and the model id" in texts(at)
    at.text_input(key="own_image_server_url").set_value(server.base_url)
    at.text_input(key="own_image_server_key").set_value(COMPAT_KEY)
    at.text_input(key="own_image_server_model").set_value("sd-turbo").run()
    lane_select(at, "Model", 1).set_value("custom/sd-turbo").run()
    run(at, "A snail on a leaf")
    assert lane_images(at, 1) == 1 and images.calls[-1].body["model"] == "sd-turbo"
    assert latest_run(app_env).lanes[1].params["server"] == "custom"
    assert COMPAT_KEY not in page_text(at)
    stored = b"".join(p.read_bytes() for p in app_env.glob("chatcanvas.db*"))
    assert COMPAT_KEY.encode() not in stored


def test_a_shared_deployment_offers_only_the_deployers_servers(app_env, compatible, monkeypatch):
    _, server = compatible
    at = shared_app(person("ana", "ana@team.example")).run()
    at.switch_page("app_pages/compare.py").run()
    assert "OpenAI-compatible server" not in lane_select(at, "Provider", 1).options
    monkeypatch.setenv("IMAGE_SERVERS", json.dumps([image_server_config(server)]))
    at = shared_app(person("ana", "ana@team.example")).run()
    at.switch_page("app_pages/compare.py").run()
    lane_select(at, "Provider", 1).set_value("compatible").run()
    assert lane_select(at, "Model", 1).options == [
        "fake-sd/sd-turbo",
        "fake-sd/sd-url",
        "fake-sd/dall-e-3",
    ]
    assert not [t for t in at.text_input if t.key == "own_image_server_url"]  # no own server
