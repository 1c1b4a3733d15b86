"""Images in chat through AppTest: files attached in the chat input reach the model as image
parts and show as thumbnails; a model without vision is refused before sending with nothing
lost; hostile files are refused with the limits said; the gallery's "Ask about this image"."""

from __future__ import annotations

import io

from PIL import Image
from streamlit.testing.v1.element_tree import Image as Image_

from tests.app.test_chat_page import bubbles, texts
from tests.app.test_gallery_page import Seeder, gallery, lane, rerun


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 90)).save(out, "JPEG")
    return out.getvalue()


def submit(at, text: str, *files: tuple[str, bytes, str]):
    box = at.chat_input[0]
    for name, data, mime in files:
        box.upload(name, data, mime)
    box.set_value(text).run()
    assert not at.exception, at.exception
    return at


def thumbnails(node) -> list[Image_]:
    """The images drawn inside ``node``, at any depth."""
    found, todo = [], list(node.children.values())
    while todo:
        child = todo.pop()
        if isinstance(child, Image_):
            found.append(child)
        todo += list(getattr(child, "children", {}).values())
    return found


def image_parts(fake) -> list[dict]:
    content = fake.chat_requests()[-1].body["messages"][-1]["content"]
    return [p for p in content if isinstance(p, dict) and p["type"] == "image_url"]


def test_an_attached_image_reaches_the_model_and_shows_in_the_transcript(app, fake_openai):
    app.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    submit(app, "What is this?", ("leaf.jpg", jpeg(3000, 1500), "image/jpeg"))
    parts = image_parts(fake_openai)
    assert len(parts) == 1 and parts[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert [role for role, _ in bubbles(app)] == ["user", "assistant"]
    assert "I saw 1 image." in bubbles(app)[1][1]
    assert len(thumbnails(app.chat_message[0])) == 1  # the question shows its image
    assert "$" in texts(app)  # the turn's cost, vision tokens included


def test_an_image_sent_in_an_open_conversation_shows_as_stored_once_answered(app, fake_openai):
    """A reply finished where it streamed keeps what was drawn; a message with images is drawn
    again as stored (its thumbnails with their sizes), as a new run of the page would."""
    app.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    submit(app, "Hello")
    submit(app, "And this?", ("leaf.jpg", jpeg(3000, 1500), "image/jpeg"))
    (image,) = thumbnails(app.chat_message[2])
    assert [i.caption for i in image.proto.imgs] == ["2048×1024"]  # as stored, with its size


def test_a_model_without_vision_says_so_before_sending_and_keeps_everything(app, fake_openai):
    app.selectbox(key="chat_model").set_value("gpt-3.5-turbo").run()
    submit(app, "Describe it", ("leaf.jpg", jpeg(), "image/jpeg"))
    assert fake_openai.chat_requests() == []
    assert "does not read images" in texts(app)
    assert "Describe it" in texts(app)  # the text is held, the image still attached
    assert "1 of 4 images" in texts(app)
    app.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    app.button(key="chat_send_held").click().run()
    assert len(image_parts(fake_openai)) == 1
    assert fake_openai.chat_requests()[-1].body["messages"][-1]["content"][0]["text"] == (
        "Describe it"
    )
    assert "1 of 4 images" not in texts(app)


def test_a_file_that_is_not_an_image_is_refused_with_the_limits(app, fake_openai):
    submit(app, "Look", ("notes.png", b"%PDF-1.7 pretending", "image/png"))
    shown = texts(app)
    assert "notes.png" in shown and "at most 4 per message" in shown
    assert fake_openai.chat_requests() == []  # not sent without the file it was written for
    app.button(key="chat_send_held").click().run()  # the text alone, on request
    assert fake_openai.chat_requests()[-1].body["messages"][-1]["content"] == "Look"


def test_images_alone_wait_for_the_question(app, fake_openai):
    submit(app, "", ("leaf.jpg", jpeg(), "image/jpeg"))
    assert fake_openai.chat_requests() == []
    assert "1 of 4 images" in texts(app)
    app.button(key="chat_attached_remove_0").click().run()
    assert "1 of 4 images" not in texts(app)


def test_ask_about_a_gallery_image_opens_a_chat_with_it_attached(app_env, fake_openai):
    seed = Seeder(app_env)
    seed.run("a fox", lane())
    image_id = seed.images.list_thumbnails()[0].id
    at = gallery()
    at.button(key=f"gallery_open_{image_id}").click()
    rerun(at)
    at.button(key="gallery_ask_about_image").click()
    rerun(at)
    assert at.chat_input  # the chat page, a new conversation
    assert "1 of 4 images" in texts(at)
    at.switch_page("app_pages/chat.py")  # AppTest's runs stay on the page the app switched to
    at.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    submit(at, "What animal?")
    assert len(image_parts(fake_openai)) == 1
    assert "I saw 1 image." in bubbles(at)[1][1]
