"""The fake's ``POST /v1/images/edits``, driven by the real SDK's ``images.edit``."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from PIL import Image

from demo.providers import openai_image_edits
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-fake-test-edits-0123456789abcdefABCDEF"


@pytest.fixture(scope="module")
def servers():
    with FakeOpenAIImages() as handler, FakeOpenAI(api_key=KEY, image_handler=handler) as server:
        yield server, handler


@pytest.fixture
def fake(servers):
    server, handler = servers
    server.clear_faults()
    server.edits.clear()
    handler.set_fault(None)
    return server


@pytest.fixture
def client(fake):
    return openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0, timeout=10)


def png(size=(64, 64), mode="RGB", fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 20, 30, 0)[: len(mode)] if mode != "L" else 0).save(out, fmt)
    return out.getvalue()


def error_of(call) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as info:
        call()
    return info.value


def test_one_image_is_edited_with_usage_counting_the_input_image(fake, client):
    answer = client.images.edit(
        image=("cat.png", png(), "image/png"), prompt="add a hat", model="gpt-image-2", n=2
    )
    assert len(answer.data) == 2
    Image.open(io.BytesIO(base64.b64decode(answer.data[0].b64_json))).load()
    details = answer.usage.input_tokens_details
    assert details.image_tokens == openai_image_edits.input_image_tokens([(64, 64)])
    assert answer.usage.input_tokens == details.image_tokens + details.text_tokens
    call = fake.edits[-1]
    assert call.fields["prompt"] == "add a hat" and call.fields["n"] == "2"
    assert [f.name for f in call.images] == ["image"] and call.mask is None


def test_several_images_arrive_as_image_array_and_a_mask_of_the_same_size(fake, client):
    refs = [(f"r{i}.png", png(), "image/png") for i in range(3)]
    client.images.edit(
        image=refs,
        mask=("mask.png", png(mode="RGBA"), "image/png"),
        prompt="blend them",
        model="gpt-image-2",
    )
    call = fake.edits[-1]
    assert [f.name for f in call.images] == ["image[]"] * 3
    assert call.mask is not None and call.mask.filename == "mask.png"


def test_sixteen_images_pass_and_seventeen_are_refused(fake, client):
    one = png((16, 16))
    client.images.edit(image=[("a.png", one)] * 16, prompt="x", model="gpt-image-2")
    err = error_of(
        lambda: client.images.edit(image=[("a.png", one)] * 17, prompt="x", model="gpt-image-2")
    )
    assert err.status_code == 400
    assert err.body["code"] == "array_above_max_length" and err.body["param"] == "image"


@pytest.mark.parametrize(
    ("mask", "code"),
    [
        (png((32, 32), mode="RGBA"), "invalid_image_dimensions"),
        (png(mode="RGB"), "invalid_image_format"),  # no alpha channel
        (png(mode="RGB", fmt="JPEG"), "invalid_image_format"),  # not a PNG
    ],
)
def test_a_mask_the_api_refuses_is_a_400_with_its_error_shape(client, mask, code):
    err = error_of(
        lambda: client.images.edit(
            image=("a.png", png()), mask=("m.png", mask), prompt="x", model="gpt-image-2"
        )
    )
    assert err.status_code == 400
    assert err.body["param"] == "mask" and err.body["code"] == code
    assert err.body["type"] == "invalid_request_error"


def test_input_files_are_checked_by_type_size_and_content(client, monkeypatch):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    err = error_of(
        lambda: client.images.edit(image=("a.gif", gif.getvalue()), prompt="x", model="gpt-image-2")
    )
    assert err.body["code"] == "invalid_image_format" and "image/gif" in err.body["message"]
    broken = b"\x89PNG\r\n\x1a\n" + b"junk" * 10
    err = error_of(
        lambda: client.images.edit(image=("a.png", broken), prompt="x", model="gpt-image-2")
    )
    assert err.body["code"] == "invalid_image"
    monkeypatch.setattr(openai_image_edits, "MAX_EDIT_IMAGE_BYTES", 100)
    err = error_of(
        lambda: client.images.edit(image=("a.png", png()), prompt="x", model="gpt-image-2")
    )
    assert err.body["code"] == "image_too_large"


def test_generation_rules_apply_and_dalle_does_not_edit(client):
    err = error_of(
        lambda: client.images.edit(image=("a.png", png()), prompt="x", model="gpt-image-2", n=11)
    )
    assert err.body["param"] == "n"
    err = error_of(lambda: client.images.edit(image=("a.png", png()), prompt="x", model="dall-e-2"))
    assert err.body["param"] == "model"


def test_faults_by_endpoint_and_the_key(fake, client):
    fake.set_fault("rate_limit", endpoint="edits", times=1)
    err = error_of(
        lambda: client.images.edit(image=("a.png", png()), prompt="x", model="gpt-image-2")
    )
    assert err.status_code == 429
    wrong = openai.OpenAI(
        api_key="sk-wrong-key-000000000000", base_url=fake.base_url, max_retries=0
    )
    err = error_of(
        lambda: wrong.images.edit(image=("a.png", png()), prompt="x", model="gpt-image-2")
    )
    assert err.status_code == 401
    assert client.images.edit(image=("a.png", png()), prompt="x", model="gpt-image-2").data
