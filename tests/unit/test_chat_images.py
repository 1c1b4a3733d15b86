"""Images attached to chat messages: checked as hostile input, downscaled, sent as image parts
to models that read them (the fake checks them as the API does), refused before anything is
stored for a model that does not, stored with the message and carried by exports."""

from __future__ import annotations

import base64
import io
import json
import os

import pytest
from PIL import Image

from services.chat import ChatMessage, ChatOptions
from services.chat_images import MAX_IMAGES, MAX_SIDE, MAX_UPLOAD_BYTES, prepare_image
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.storage.conversation_files import export_json, export_markdown, import_json
from services.wording import error_text
from tests.security.crafted import png_bomb

OPTS = ChatOptions()


def picture(width: int, height: int, fmt: str = "PNG", mode: str = "RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30, 128)[: len(mode)]).save(out, fmt, **save)
    return out.getvalue()


def test_a_large_image_is_downscaled_to_the_longest_side_and_reencoded():
    image = prepare_image(picture(4000, 1000, "JPEG"), "wide.jpg")
    assert (image.width, image.height) == (MAX_SIDE, 512)
    assert image.mime == "image/jpeg"
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.size == (MAX_SIDE, 512)


def test_a_small_image_keeps_its_size_and_transparency_stays_png():
    image = prepare_image(picture(300, 200, "WEBP", "RGBA"), "cut-out.webp")
    assert (image.width, image.height, image.mime) == (300, 200, "image/png")


def test_a_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    image = prepare_image(out.getvalue(), "anim.gif")
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.getpixel((0, 0))[0] > 200  # red, the first frame


def test_exif_such_as_a_location_is_not_kept():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    image = prepare_image(picture(64, 64, "JPEG", exif=exif), "phone.jpg")
    assert b"PhoneMaker" not in image.data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7 not an image", "type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "type"),
        (png_bomb(13000, 13000), "too_many_pixels"),
        (png_bomb(2000, 2000, complete=False), "unreadable"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "unreadable"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_UPLOAD_BYTES), "too_large"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_message(data, reason):
    with pytest.raises(ChatCanvasError) as caught:
        prepare_image(data, "evil.png")
    err = caught.value
    assert (err.kind, err.code) == (ErrorKind.ATTACHMENT_REFUSED, reason)
    for lang in ("en", "ko"):
        sentence = error_text(err, Translator(lang))
        assert "evil.png" in sentence and str(MAX_IMAGES) in sentence and "{" not in sentence


def sent_parts(fake) -> list:
    return fake.chat_requests()[-1].body["messages"][-1]["content"]


def test_attached_images_reach_the_model_as_image_parts_and_are_stored(turns, store, fake):
    conv = store.create(model="gpt-4o-mini")
    images = [prepare_image(picture(50, 40), "a.png"), prepare_image(picture(30, 30), "b.png")]
    pending = turns.send(conv, "What is in these?", "gpt-4o-mini", OPTS, images)
    answer = "".join(pending)
    reply = pending.finish()
    parts = sent_parts(fake)
    assert parts[0] == {"type": "text", "text": "What is in these?"}
    assert [p["type"] for p in parts[1:]] == ["image_url", "image_url"]
    assert parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert "I saw 2 images" in answer
    assert reply.prompt_tokens > 2 * 765 and reply.cost_usd > 0  # vision tokens are billed
    user = store.messages(conv.id)[0]
    assert [i.width for i in store.attachments.images([user.id])[user.id]] == [50, 30]
    assert len(store.attachments.thumbnails([user.id])[user.id]) == 2
    # the next turn sends the earlier images again, as the conversation's history
    "".join(turns.send(conv, "And now?", "gpt-4o-mini", OPTS))
    history = fake.chat_requests()[-1].body["messages"]
    parts = [p for m in history if isinstance(m["content"], list) for p in m["content"]]
    assert sum(1 for p in parts if p["type"] == "image_url") == 2


def test_a_model_without_vision_is_refused_before_anything_is_stored(turns, store, fake):
    conv = store.create(model="gpt-3.5-turbo")
    with pytest.raises(ChatCanvasError) as caught:
        turns.send(conv, "Look", "gpt-3.5-turbo", OPTS, [prepare_image(picture(8, 8))])
    assert caught.value.kind is ErrorKind.NO_VISION
    assert "gpt-3.5-turbo" in error_text(caught.value, Translator("en"))
    assert store.messages(conv.id) == [] and fake.chat_requests() == []


def test_too_many_images_are_refused_before_anything_is_stored(turns, store, fake):
    conv = store.create(model="gpt-4o-mini")
    images = [prepare_image(picture(8, 8))] * (MAX_IMAGES + 1)
    with pytest.raises(ChatCanvasError) as caught:
        turns.send(conv, "Look", "gpt-4o-mini", OPTS, images)
    assert caught.value.code == "too_many"
    assert store.messages(conv.id) == [] and fake.chat_requests() == []


def raw_request(fake, model: str, url: str) -> tuple[int, dict]:
    import httpx2

    content = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": url}}]
    response = httpx2.post(
        f"{fake.base_url}/chat/completions",
        headers={"authorization": f"Bearer {fake.api_key}"},
        json={"model": model, "messages": [{"role": "user", "content": content}]},
    )
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("model", "url", "code"),
    [
        ("gpt-3.5-turbo", "data:image/png;base64,iVBORw0KGgo=", None),
        ("gpt-4o-mini", "data:image/png;base64,@@not base64@@", "invalid_value"),
        ("gpt-4o-mini", "file:///etc/passwd", "invalid_value"),
        ("gpt-4o-mini", "data:image/tiff;base64,SUkqAA==", "invalid_image_format"),
        ("gpt-4o-mini", "data:image/png;base64,aGVsbG8=", "image_parse_error"),
    ],
)
def test_the_fake_refuses_bad_image_parts_as_the_api_does(fake, model, url, code):
    status, body = raw_request(fake, model, url)
    assert status == 400
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == code


def test_the_fake_answers_413_for_a_body_over_its_limit(chat, fake):
    fake.max_chat_bytes = 10_000
    noise = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    image = prepare_image(out.getvalue())
    with pytest.raises(ChatCanvasError) as caught:
        chat.reply("gpt-4o-mini", [ChatMessage("user", "hi", (image,))], OPTS)
    assert caught.value.status == 413


def test_export_and_import_carry_the_images(turns, store):
    conv = store.create(model="gpt-4o-mini")
    "".join(turns.send(conv, "See", "gpt-4o-mini", OPTS, [prepare_image(picture(20, 10))]))
    exported = export_json(store, conv.id)
    assert exported["messages"][0]["images"][0]["width"] == 20
    assert "![image 1](data:image/jpeg;base64," in export_markdown(store, conv.id)
    copy = import_json(store, json.dumps(exported))
    user = store.messages(copy.id)[0]
    assert [(i.width, i.height) for i in store.attachments.images([user.id])[user.id]] == [(20, 10)]


@pytest.mark.parametrize(
    "images",
    [
        [{"data": base64.b64encode(png_bomb(13000, 13000)).decode()}],
        [{"data": base64.b64encode(b"%PDF-1.7").decode()}],
        [{"data": "@@@"}],
        [{"data": base64.b64encode(picture(4, 4)).decode()}] * (MAX_IMAGES + 1),
        "not a list",
    ],
)
def test_an_import_with_a_hostile_image_stores_nothing(store, images):
    document = {
        "format": "chatcanvas.conversation.v1",
        "messages": [{"role": "user", "content": "hi", "images": images}],
    }
    with pytest.raises(ChatCanvasError) as caught:
        import_json(store, json.dumps(document))
    assert caught.value.kind is ErrorKind.BAD_IMPORT
    assert caught.value.param.startswith("messages[0].images")
    assert store.list() == []


def test_deleting_the_conversation_deletes_its_images(turns, store):
    conv = store.create(model="gpt-4o-mini")
    "".join(turns.send(conv, "See", "gpt-4o-mini", OPTS, [prepare_image(picture(20, 10))]))
    user = store.messages(conv.id)[0]
    store.delete(conv.id)
    assert store.attachments.images([user.id]) == {}


def test_a_server_model_the_catalog_does_not_know_that_refuses_images_is_said_plainly(
    turns, store, fake
):
    from tests.fakes.openai_server import FakeModel

    fake.models.append(FakeModel("local-text-only", vision=False))
    conv = store.create(model="local-text-only")
    with pytest.raises(ChatCanvasError) as caught:
        turns.send(conv, "Look", "local-text-only", OPTS, [prepare_image(picture(8, 8))])
    assert caught.value.kind is ErrorKind.NO_VISION
    assert "local-text-only" in error_text(caught.value, Translator("ko"))
    question = store.messages(conv.id)[0]  # sent, so kept with its image and a retry
    assert question.status == "error" and store.attachments.images([question.id])
