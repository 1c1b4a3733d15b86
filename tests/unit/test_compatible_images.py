"""OpenAI-compatible image servers: capability profiles decide what is offered and sent,
IMAGE_SERVERS is read from TOML and JSON (a broken value says what is wrong, in words), the
second fake server answers through the real SDK (its DALL·E-style model with the prompt it
drew), and its key reaches no lineage or error."""

from __future__ import annotations

import json
import tomllib

import pytest

from services.app_services import build_services
from services.comparison import ComparisonSpec, LaneSpec, lane_spec
from services.config_sources import read_secrets_files
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images import make_provider
from services.images.base import ImageRequest
from services.images.profile import CapabilityProfile, profile_from_mapping
from services.images.registry import default_lane_providers, error_message_key
from services.images.servers import parse_image_servers
from services.settings import Mode, resolve_settings
from services.wording import image_error_text
from tests.conftest import OWNER
from tests.fakes.compatible_images import COMPAT_KEY, image_server_config
from tests.fakes.prompt_rewriter import revised_prompt

TOML = """
[[IMAGE_SERVERS]]
name = "studio-sd"
base_url = "https://sd.example.org/v1"
api_key = "sd-secret-key-1234567890"
models = ["sd-turbo", "stabilityai/sdxl"]

[IMAGE_SERVERS.profile]
sizes = ["512x512", "768x768"]
max_count = 4
steps = [1, 30]
seed = true

[IMAGE_SERVERS.profiles."stabilityai/sdxl"]
sizes = ["1024x1024"]
"""


def servers_env(server) -> dict[str, str]:
    return {"IMAGE_SERVERS": json.dumps([image_server_config(server)])}


@pytest.fixture
def settings(compatible, tmp_path):
    _, server = compatible
    return resolve_settings(
        environ={**servers_env(server), "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    )


def generate(settings, model: str, **fields) -> object:
    return make_provider("compatible", settings).generate(
        ImageRequest(prompt="a lighthouse at dusk", model=model, **fields)
    )


# -- profiles --------------------------------------------------------------------------------
def test_a_profile_offers_only_what_the_server_takes():
    plain = CapabilityProfile().capabilities("compatible", "s/m", "compatible")
    assert (plain.seeds, dict(plain.ranges), plain.max_count) == (False, {}, 1)
    rich = profile_from_mapping(
        {"sizes": ["256x256"], "max_count": 3, "steps": [1, 8], "seed": True}
    )
    caps = rich.capabilities("compatible", "s/m", "compatible")
    assert caps.sizes == ("256x256",) and caps.default_size == "256x256"
    assert caps.seeds and caps.max_count == 3 and dict(caps.ranges) == {"steps": (1, 8)}
    assert rich.extra_body_names() == ("steps", "seed")
    styled = profile_from_mapping({"styles": ["vivid", "natural"]})
    assert dict(styled.capabilities("compatible", "s/m", "compatible").extras) == {
        "style": ("vivid", "natural")
    }


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        ({"steps": [8, 1]}, "'steps' must be [low, high]"),
        ({"sizes": ["big"]}, "'sizes' must be a list"),
        ({"max_count": 0}, "'max_count' must be a whole number from 1 to 10"),
        ({"seed": "yes"}, "'seed' must be true or false"),
        ({"styles": "vivid"}, "'styles' must be a list"),
        ({"stepz": [1, 2]}, "unknown key 'stepz'"),
    ],
)
def test_a_bad_profile_says_which_key(profile, words):
    with pytest.raises(ChatCanvasError) as caught:
        parse_image_servers(
            [{"name": "a", "base_url": "http://h/v1", "models": ["m"], "profile": profile}]
        )
    assert caught.value.kind is ErrorKind.BAD_CONFIG
    assert words in caught.value.detail and "server 'a'" in caught.value.detail


# -- IMAGE_SERVERS from TOML and JSON --------------------------------------------------------
def test_image_servers_from_a_toml_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(TOML, encoding="utf-8")
    values = read_secrets_files({"CHATCANVAS_SECRETS_FILE": str(secrets)})
    settings = resolve_settings(secrets=values)
    (server,) = settings.image_servers
    assert (server.name, server.base_url) == ("studio-sd", "https://sd.example.org/v1")
    assert server.profile_for("sd-turbo").steps == (1, 30)
    assert server.profile_for("stabilityai/sdxl").sizes == ("1024x1024",)
    provider = make_provider("compatible", settings)
    assert provider.models() == ["studio-sd/sd-turbo", "studio-sd/stabilityai/sdxl"]
    assert "sd-secret-key" not in repr(settings) and "sd-secret-key" not in repr(server)
    assert "sd-secret-key-1234567890" in settings.secrets()  # scrubbed from every error text


def test_image_servers_as_json_in_the_environment_match_the_toml():
    from_toml = parse_image_servers(tomllib.loads(TOML)["IMAGE_SERVERS"])
    as_json = json.dumps(tomllib.loads(TOML)["IMAGE_SERVERS"])
    assert resolve_settings(environ={"IMAGE_SERVERS": as_json}).image_servers == from_toml


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('[{"name": "a", ', "not valid JSON"),
        ('{"name": "a", "base_url": "http://h/v1"}', "'models' must be a list"),
        ('[{"name": "a b", "base_url": "http://h/v1", "models": ["m"]}]', "'name' must be"),
        (
            '[{"name": "a", "base_url": "ftp://h", "models": ["m"], "api_key": "sk-secret-999999999"}]',
            "only http(s)",
        ),
        ('[{"name": "custom", "base_url": "http://h/v1", "models": ["m"]}]', "reserved"),
        ('"just text"', "must be a list of servers"),
    ],
)
def test_a_broken_image_servers_value_is_a_sentence_not_a_crash(raw, words):
    settings = resolve_settings(environ={"IMAGE_SERVERS": raw})
    assert settings.image_servers == ()
    assert words in (settings.image_servers_problem or "")
    assert "sk-secret" not in (settings.image_servers_problem or "")


# -- calls through the real SDK --------------------------------------------------------------
def test_steps_and_seed_travel_in_the_body_only_where_the_profile_says(compatible, settings):
    images, _ = compatible
    result = generate(
        settings, "fake-sd/sd-turbo", size="256x256", seeds=(42,), extras={"steps": 4}
    )
    sent = images.calls[-1].body
    assert (sent["model"], sent["steps"], sent["seed"], sent["response_format"]) == (
        "sd-turbo",
        4,
        42,
        "b64_json",
    )
    assert result.provider == "compatible" and result.model == "fake-sd/sd-turbo"
    assert result.seeds == (42,) and result.images[0].mime_type == "image/png"
    assert result.params["server"] == "fake-sd" and result.params["server_host"] == "127.0.0.1"
    # sd-url's own profile takes neither: nothing of them is sent
    generate(settings, "fake-sd/sd-url", size="256x256", seeds=(42,), extras={"steps": 4})
    assert not {"steps", "seed", "response_format"} & set(images.calls[-1].body)


def test_an_answer_by_url_is_downloaded_from_the_servers_own_host(compatible, settings):
    images, _ = compatible
    result = generate(settings, "fake-sd/sd-url", size="256x256")
    assert len(result.images) == 1 and images.downloads
    images.set_fault("foreign_url", times=1)
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "fake-sd/sd-url", size="256x256")
    assert caught.value.kind is ErrorKind.ADDRESS_REFUSED


# -- a DALL·E-style model (retired at OpenAI, still served by some compatible servers) --------
def test_a_dall_e_style_model_offers_its_styles_and_sends_style_and_response_format(
    compatible, settings
):
    images, _ = compatible
    provider = make_provider("compatible", settings)
    assert dict(provider.capabilities("fake-sd/dall-e-3").extras) == {"style": ("vivid", "natural")}
    assert not provider.capabilities("fake-sd/sd-turbo").extras  # its other models: no style
    result = generate(settings, "fake-sd/dall-e-3", size="1792x1024", extras={"style": "natural"})
    sent = images.calls[-1].body
    assert (sent["model"], sent["size"], sent["style"], sent["response_format"]) == (
        "dall-e-3",
        "1792x1024",
        "natural",
        "b64_json",
    )
    assert result.params["style"] == "natural" and result.params["server"] == "fake-sd"
    calls = len(images.calls)
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "fake-sd/dall-e-3", extras={"style": "gritty"})
    assert (caught.value.kind, caught.value.param) == (ErrorKind.BAD_REQUEST, "style")
    assert len(images.calls) == calls  # refused before sending


def test_a_dall_e_style_model_answers_the_prompt_it_drew_and_it_is_kept(compatible, settings):
    prompt = "Draw a red fox in a snowy forest."
    result = make_provider("compatible", settings).generate(
        ImageRequest(prompt=prompt, model="fake-sd/dall-e-3")
    )
    (image,) = result.images
    assert image.revised_prompt == revised_prompt(prompt)
    assert "red fox in a snowy forest" in image.revised_prompt
    assert "Draw" not in image.revised_prompt  # the ask dropped
    assert len(image.revised_prompt) > len(prompt) + 40  # expanded
    # the server's other models revise nothing
    assert generate(settings, "fake-sd/sd-turbo").images[0].revised_prompt is None


def test_a_size_the_profile_does_not_offer_is_refused_before_sending(compatible, settings):
    images, _ = compatible
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "fake-sd/sd-turbo", size="1024x1024")
    assert (caught.value.kind, caught.value.param) == (ErrorKind.BAD_REQUEST, "size")
    assert not images.calls


def test_the_key_reaches_no_error_text(compatible, settings):
    _, server = compatible
    server.set_fault(None)
    images, _ = compatible
    images.set_fault("echo_key", times=1)  # a careless server repeats the Authorization header
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "fake-sd/sd-turbo")
    assert COMPAT_KEY not in str(caught.value) and COMPAT_KEY not in caught.value.detail
    assert COMPAT_KEY[3:] not in caught.value.detail


def test_errors_name_the_compatible_server_not_openai(compatible, settings):
    _, server = compatible
    server.set_fault("invalid_key", endpoint="images", times=1)
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "fake-sd/sd-turbo")
    err = caught.value
    assert (err.kind, err.provider) == (ErrorKind.INVALID_KEY, "compatible")
    assert error_message_key(err) == "images.errors.compatible_invalid_key"
    assert "IMAGE_SERVERS" in image_error_text(err, Translator("en"))
    assert "IMAGE_SERVERS" in image_error_text(err, Translator("ko"))
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "elsewhere/sd-turbo")
    assert error_message_key(caught.value) == "images.errors.compatible_no_server"
    with pytest.raises(ChatCanvasError) as caught:
        generate(settings, "fake-sd/not-served")
    assert caught.value.kind is ErrorKind.MODEL_NOT_FOUND


# -- a person's own server -------------------------------------------------------------------
def own_server(server, mode: Mode, allow: str | None = None):
    sidebar = {
        "IMAGE_SERVER_URL": server.base_url,
        "IMAGE_SERVER_KEY": server.api_key,
        "IMAGE_SERVER_MODEL": "sd-turbo",
    }
    environ = {"ALLOW_CUSTOM_BASE_URL": allow} if allow else {}
    return resolve_settings(sidebar=sidebar, environ=environ, mode=mode)


def test_an_own_server_works_locally_and_is_refused_on_a_private_address_when_shared(compatible):
    _, server = compatible
    local = own_server(server, Mode.LOCAL)
    assert make_provider("compatible", local).models() == ["custom/sd-turbo"]
    assert generate(local, "custom/sd-turbo").params["server"] == "custom"
    assert own_server(server, Mode.SHARED).custom_image_server is None  # not allowed at all
    allowed = own_server(server, Mode.SHARED, allow="1")
    with pytest.raises(ChatCanvasError) as caught:
        generate(allowed, "custom/sd-turbo")
    assert caught.value.kind is ErrorKind.ADDRESS_REFUSED


# -- the comparison service and the registry -------------------------------------------------
def test_a_comparison_stores_the_server_in_the_lineage_never_its_key(compatible, settings, catalog):
    services = build_services(settings, OWNER, catalog=catalog)
    lane = lane_spec("compatible:fake-sd/sd-turbo")
    assert lane == LaneSpec("compatible", "fake-sd/sd-turbo")
    spec = ComparisonSpec(
        "a red kite",
        (
            LaneSpec(
                "compatible", "fake-sd/sd-turbo", size="256x256", seeds=(7,), extras={"steps": 2}
            ),
        ),
    )
    result = services.comparisons.run(spec)
    (stored,) = result.run.lanes
    assert (stored.provider, stored.model, stored.error_kind) == (
        "compatible",
        "fake-sd/sd-turbo",
        None,
    )
    assert stored.params["server"] == "fake-sd" and stored.params["steps"] == 2
    assert COMPAT_KEY not in json.dumps(stored.params)
    assert "compatible" not in default_lane_providers()
    assert all(lane.provider != "compatible" for lane in services.comparisons.default_lanes())
