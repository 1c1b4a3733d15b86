"""Share links through the real app: the owner makes and revokes a link on the Chat page; the
/shared page shows the item read-only, and a revoked link answers 'does not exist'. Also the
budget refusal as a user sees it on the Chat page (shared mode)."""

from __future__ import annotations

import os

from services.i18n import load_strings
from services.shares import ShareKind, ShareService
from services.storage import ConversationStore, open_database
from services.storage.images import ImageStore
from tests.app.conftest import new_app, person, shared_app
from tests.app.test_chat_page import send, texts

NOT_FOUND = "This link does not exist or was revoked."


def database():
    return open_database(os.environ["DATABASE_URL"])


def shared_conversation() -> str:
    """A conversation (and another one) of the local owner; the token of a link to the first."""
    db = database()
    store = ConversationStore(db, "local")
    conversation = store.create(system_prompt="my private system prompt")
    store.update(conversation.id, title="Mars animals")
    store.add_message(conversation.id, "user", "Imagine animals on Mars")
    store.add_message(conversation.id, "assistant", "Dust hares with wide ears.")
    other = store.create()
    store.update(other.id, title="My other private chat")
    return ShareService(db, "local").create(ShareKind.CONVERSATION, conversation.id)


def test_the_shared_page_is_read_only(app_env):
    token = shared_conversation()
    at = new_app(token=token)
    at.switch_page("app_pages/shared.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Imagine animals on Mars" in shown and "Dust hares with wide ears." in shown
    assert "My other private chat" not in shown and "my private system prompt" not in shown
    assert len(at.chat_input) == 0 and len(at.text_area) == 0
    # the only button is the viewer's own sidebar "Test connection"
    assert [b.key for b in at.button] == ["test_connection"]


def test_a_revoked_or_unknown_link_answers_the_same_page(app_env):
    token = shared_conversation()
    owner = ShareService(database(), "local")
    [link] = owner.links()
    owner.revoke(link.id)
    pages = []
    for value in (token, "made-up-token"):
        at = new_app(token=value)
        at.switch_page("app_pages/shared.py").run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [NOT_FOUND]
        assert "Dust hares" not in texts(at)
        pages.append(texts(at))
    assert pages[0] == pages[1]


def test_a_shared_comparison_shows_its_images_and_vote(app_env):
    from services.images.base import GeneratedImage, ImageRequest, ImageResult
    from tests.fakes.karlo_server import render_image

    db = database()
    images = ImageStore(db, "local")
    result = ImageResult(
        "karlo", "karlo-v2.1", (GeneratedImage(render_image(64, 64), "image/png"),), {}, (7,)
    )
    run = images.save_run("a fox on the moon", [(ImageRequest("x", "karlo-v2.1"), result)])
    images.record_vote(run.id, "both_bad")
    at = new_app(token=ShareService(db, "local").create(ShareKind.COMPARISON, run.id))
    at.switch_page("app_pages/shared.py").run()
    assert not at.exception, at.exception
    assert "a fox on the moon" in texts(at)
    assert len(at.get_by_key("shared_lane_0").image) == 1
    assert [str(s.value) for s in at.success] == [
        f"Vote: {load_strings('en')['images.vote.both_bad']}"
    ]
    assert [b.key for b in at.button] == ["test_connection"]


def test_the_owner_shares_and_revokes_from_the_chat_page(app):
    send(app, "Imagine animals on Mars")
    app.button(key="share_create_conversation").click().run()
    assert not app.exception, app.exception
    link = next(c.value for c in app.code if "/shared?token=" in str(c.value))
    token = link.split("token=")[1]
    viewer = new_app(token=token)
    viewer.switch_page("app_pages/shared.py").run()
    assert "Imagine animals on Mars" in texts(viewer)

    revoke = [b for b in app.button if (b.key or "").startswith("share_revoke_")]
    assert len(revoke) == 1
    revoke[0].click().run()
    assert not app.exception, app.exception
    viewer.run()
    assert [e.value for e in viewer.error] == [NOT_FOUND]


def test_a_tiny_budget_refuses_a_chat_message_with_the_figures(app_env, fake_openai, monkeypatch):
    monkeypatch.setenv("DAILY_BUDGET_USD", "0.00001")
    at = shared_app(person("alice", "alice@team.example", "Alice")).run()
    assert "Budget today" in texts(at)
    send(at, "Imagine animals on Mars")
    message = " ".join(str(e.value) for e in at.error)
    assert "daily spending limit" in message and "$0.000010" in message and "UTC" in message
    assert fake_openai.chat_requests() == []
    assert "Imagine animals on Mars" in texts(at)  # what the user typed is kept


def share_time(at) -> str:
    """The 'created' line under the one share link of the chat page."""
    return next(str(m.value) for m in at.markdown if "shared 20" in str(m.value))


def test_times_are_shown_in_the_browsers_time_zone(app_env):
    at = new_app()
    at.context["timezone"] = "Asia/Seoul"
    at.run()
    send(at, "Imagine animals on Mars")
    at.button(key="share_create_conversation").click().run()
    assert " KST" in share_time(at) and "UTC" not in share_time(at)

    for unknown in (None, "Not/A_Zone"):  # no zone, or one this machine does not know
        other = new_app(c=at.query_params["c"])
        other.context["timezone"] = unknown
        other.run()
        assert share_time(other).endswith("UTC]")


def test_a_shared_flagged_image_is_blurred_until_clicked(app_env):
    """Issue 13.11."""
    from services.images.base import GeneratedImage, ImageRequest, ImageResult
    from tests.fakes.karlo_server import render_image

    db = database()
    image = GeneratedImage(render_image(64, 64), "image/png", nsfw=True, nsfw_score=0.97)
    result = ImageResult("karlo", "karlo-v2.1", (image,), {}, (7,))
    run = ImageStore(db, "local").save_run(
        "a stormy sea", [(ImageRequest("x", "karlo-v2.1"), result)]
    )
    at = new_app(token=ShareService(db, "local").create(ShareKind.COMPARISON, run.id))
    at.switch_page("app_pages/shared.py").run()
    lane = at.get_by_key("shared_lane_0")
    assert [img.caption for img in lane.image[0].proto.imgs] == [
        "Blurred: flagged as possibly unsafe."
    ]
    next(b for b in lane.button if b.key.startswith("flagged_show_")).click().run()
    lane = at.get_by_key("shared_lane_0")
    assert lane.image[0].proto.imgs[0].caption.startswith("Flagged as possibly unsafe")


def test_the_budget_line_and_totals_follow_a_message_answered_in_place(
    app_env, fake_openai, monkeypatch
):
    """A message in a conversation on screen is answered without a second page run: the
    sidebar's budget line and the conversation's totals are brought up to date where they
    stand, as a new run would draw them."""
    monkeypatch.setenv("DAILY_BUDGET_USD", "5")
    at = shared_app(person("alice", "alice@team.example", "Alice")).run()
    send(at, "Imagine animals on Mars")
    after_first = budget_line(at)
    send(at, "And their colours, in great detail please " * 100)
    in_place = budget_line(at), [str(c.value) for c in at.caption if " messages ·" in str(c.value)]
    assert in_place[0] != after_first  # the second reply's cost is counted
    at.run()  # what a new run of the page draws
    again = budget_line(at), [str(c.value) for c in at.caption if " messages ·" in str(c.value)]
    assert in_place == again and "4 messages" in in_place[1][0]


def budget_line(at) -> str:
    return next(str(c.value) for c in at.sidebar.caption if "Budget today" in str(c.value))
