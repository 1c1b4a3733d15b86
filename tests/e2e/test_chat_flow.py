"""A person's chat flow in a real browser: send, watch it stream, reload, restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.openai_server import FAKE_KEY

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
INPUT = '[data-testid="stChatInput"] textarea'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
USER = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarUser"])'


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(INPUT, timeout=30_000)


def new_chat(page) -> None:
    page.get_by_role("button", name="New chat").first.click()  # the sidebar's
    page.wait_for_selector("text=Start a conversation below", timeout=20_000)


def send(page, text: str) -> None:
    page.fill(INPUT, text)
    page.keyboard.press("Enter")


def test_send_stream_reload_restart(page, running_app, fake_openai, data_dir):
    question = "Imagine what animals on Mars would have looked like, in great detail please"
    open_app(page, running_app.url)
    send(page, question)

    # Streaming: the reply is seen growing before it is complete.
    reply = page.locator(ASSISTANT).last
    reply.wait_for(timeout=20_000)
    page.wait_for_function(
        f"""() => {{
            const m = [...document.querySelectorAll('{ASSISTANT}')].pop();
            return m && m.innerText.includes('Fake') && !m.innerText.includes('detail please');
        }}""",
        timeout=20_000,
    )
    page.wait_for_selector(f"{ASSISTANT} >> text=detail please", timeout=30_000)
    page.wait_for_selector("text=to first token", timeout=30_000)  # usage caption after the rerun
    page.wait_for_function("() => location.search.includes('c=')", timeout=10_000)
    conversation_url = page.url

    # A second turn carries the history.
    send(page, "And their colours?")
    page.wait_for_selector(f"{ASSISTANT} >> text=reply #2: And their colours?", timeout=30_000)
    history = fake_openai.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in history][-3:] == ["user", "assistant", "user"]

    # Reload: same URL, a new session, the conversation is still there.
    page.reload()
    page.wait_for_selector(f"{USER} >> text={question}", timeout=30_000)
    # the second reply may still be finishing in the background: the page follows it
    page.wait_for_selector(f"{ASSISTANT} >> text=reply #2: And their colours?", timeout=30_000)
    page.wait_for_function(
        f"() => document.querySelectorAll('{ASSISTANT}').length === 2", timeout=30_000
    )
    (ROOT / "docs").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-chat.png"))  # the README's picture

    # Restart the server process: still there.
    running_app.restart()
    open_app(page, conversation_url)
    page.wait_for_selector(f"{ASSISTANT} >> text=reply #2: And their colours?", timeout=30_000)
    assert page.locator(USER).count() == 2

    # The key is never in the page, in the database files or in the server's log.
    assert FAKE_KEY not in page.content()
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_no_credit_is_explained_and_the_text_kept(page, running_app, fake_openai):
    open_app(page, running_app.url)
    new_chat(page)
    fake_openai.set_fault("insufficient_quota")
    try:
        send(page, "This text must not be lost")
        page.wait_for_selector("text=retrying will not help", timeout=30_000)
        page.wait_for_selector(f"{USER} >> text=This text must not be lost", timeout=10_000)
        assert "Traceback" not in page.content()
        fake_openai.clear_faults()
        page.get_by_role("button", name="Retry").click()
        page.wait_for_selector(f"{ASSISTANT} >> text=This text must not be lost", timeout=30_000)
    finally:
        fake_openai.clear_faults()


def test_stop_keeps_the_partial_reply(page, running_app, fake_openai):
    open_app(page, running_app.url)
    new_chat(page)
    fake_openai.token_delay = 0.3
    try:
        send(page, " ".join(f"word{i}" for i in range(60)))
        page.get_by_role("button", name="Stop").wait_for(timeout=20_000)
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{ASSISTANT}')].pop()?.innerText.includes('word3')",
            timeout=20_000,
        )
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector("text=stopped", timeout=20_000)
        page.wait_for_selector("text=estimated from the text that arrived", timeout=20_000)
        kept = page.locator(ASSISTANT).last.inner_text()
        assert "word3" in kept and "word59" not in kept
    finally:
        fake_openai.token_delay = 0.08


def websocket_frames(page) -> list[bytes]:
    """Every frame the page's WebSockets receive from now on, appended as they come."""
    frames: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda f: frames.append(f if isinstance(f, bytes) else f.encode())
        ),
    )
    return frames


def test_a_message_sent_in_place_leaves_the_sidebar_and_stop_still_interrupts(
    page, running_app, fake_openai
):
    """A second message in the conversation on screen reruns only the conversation part
    (transcript and turn): the sidebar and the settings are not sent again. Stop, outside that
    part, still interrupts the reply at once and keeps what arrived."""
    frames = websocket_frames(page)
    open_app(page, running_app.url)
    new_chat(page)
    send(page, "Whales and their songs")
    page.get_by_role("button", name="Regenerate").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Stop").count() == 0  # shown only while drawn
    fake_openai.token_delay = 0.3
    try:
        frames.clear()
        send(page, " ".join(f"word{i}" for i in range(60)))
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{ASSISTANT}')].pop()?.innerText.includes('word3')",
            timeout=20_000,
        )
        # the sidebar's search box and the settings' model picker were not sent again
        assert not [f for f in frames if b"chat_search" in f or b"chat_model" in f]
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector("text=stopped", timeout=20_000)
        kept = page.locator(ASSISTANT).last.inner_text()
        assert "word3" in kept and "word59" not in kept
    finally:
        fake_openai.token_delay = 0.08


def test_a_first_message_with_an_image_shows_its_conversation_while_the_reply_streams(
    page, running_app, fake_openai, tmp_path
):
    """A message with a file runs the whole page with its turn: the first one of a new
    conversation has its title, its place in the sidebar and "New chat" beside the title
    while the reply streams (as in ChatGPT), and no second page run follows the reply: it is
    finished where it streamed, the message drawn again with its stored thumbnail."""
    frames = websocket_frames(page)
    picture = tmp_path / "otter.png"
    Image.new("RGB", (320, 200), (90, 120, 160)).save(picture)
    open_app(page, running_app.url)
    new_chat(page)
    page.set_input_files('[data-testid="stChatInput"] input[type="file"]', str(picture))
    page.wait_for_selector("text=otter.png", timeout=20_000)  # attached, waiting to be sent
    fake_openai.token_delay = 0.3
    try:
        send(page, "Otters at play\n" + " ".join(f"word{i}" for i in range(40)))
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{ASSISTANT}')].pop()?.innerText.includes('word3')",
            timeout=20_000,
        )
        assert page.get_by_role("button", name="Stop").is_visible()  # still streaming
        assert page.locator("h3", has_text="Otters at play").is_visible()
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Otters at play").first.is_visible()
        assert page.locator(".st-key-chat_new_on_page").is_visible()
        frames.clear()
        page.get_by_role("button", name="Regenerate").wait_for(timeout=30_000)
        page.wait_for_timeout(1_000)
        # finished in place: the sidebar's search box and the model picker were not sent again
        assert not [f for f in frames if b"chat_search" in f or b"chat_model" in f]
        assert page.get_by_role("button", name="Stop").count() == 0
        assert page.locator(USER).count() == 1 and page.locator(ASSISTANT).count() == 1
        assert page.locator(f"{USER} img").count() == 1  # its thumbnail, as stored
        assert "I saw 1 image." in page.locator(ASSISTANT).inner_text()
    finally:
        fake_openai.token_delay = 0.08


def test_a_message_in_an_older_conversation_is_finished_in_place(page, running_app, fake_openai):
    """A message in a conversation below the top of the list runs the whole page (the list's
    order changes), which draws the list after the turn began: the conversation is on top
    while its reply streams, and no second page run follows the reply (a guard: both held
    before the first message of a new conversation was finished this way too)."""
    frames = websocket_frames(page)
    open_app(page, running_app.url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    for title in ("Penguins first", "Seals second"):
        new_chat(page)
        send(page, title)
        page.get_by_role("button", name="Regenerate").wait_for(timeout=30_000)
        sidebar.get_by_text(title).first.wait_for(timeout=20_000)
    sidebar.get_by_text("Penguins first").first.click()
    page.locator("h3", has_text="Penguins first").wait_for(timeout=20_000)
    fake_openai.token_delay = 0.3
    try:
        send(page, " ".join(f"word{i}" for i in range(30)))
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{ASSISTANT}')].pop()?.innerText.includes('word3')",
            timeout=20_000,
        )
        entries = page.locator(".st-key-chat_list button").all_inner_texts()
        assert "Penguins first" in entries[0], entries  # on top while its reply streams
        frames.clear()
        page.get_by_role("button", name="Stop").wait_for(state="hidden", timeout=30_000)
        page.wait_for_timeout(1_000)
        assert not [f for f in frames if b"chat_search" in f or b"chat_model" in f]
        assert "word29" in page.locator(ASSISTANT).last.inner_text()
    finally:
        fake_openai.token_delay = 0.08


def start_long_reply(page, seen: str, words: int = 60) -> str:
    """Send a question of ``words`` words and wait until the reply streaming it shows
    ``seen``; returns the conversation's address."""
    send(page, " ".join(f"word{i}" for i in range(words)))
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{ASSISTANT}')].pop()?.innerText.includes('{seen}')",
        timeout=20_000,
    )
    page.wait_for_function("() => location.search.includes('c=')", timeout=10_000)
    return page.url


def test_leaving_mid_answer_does_not_stop_it(page, running_app, fake_openai):
    """Another conversation, another page, a reload while a reply streams: the reply goes on
    in the background and is whole, not "stopped", when the user comes back."""
    open_app(page, running_app.url)
    new_chat(page)
    fake_openai.token_delay = 0.15
    try:
        conversation_url = start_long_reply(page, "word2")
        new_chat(page)  # another conversation
        page.goto(running_app.url + "compare")  # another page
        page.wait_for_load_state()
        open_app(page, conversation_url)  # back (a reload): it is still being written
        page.wait_for_selector(f"{ASSISTANT} >> text=word59", timeout=60_000)
        page.wait_for_selector("text=to first token", timeout=30_000)  # stored, complete
        page.reload()
        page.wait_for_selector(f"{ASSISTANT} >> text=word59", timeout=30_000)
        assert "stopped" not in page.locator(ASSISTANT).last.inner_text()
        assert "incomplete" not in page.locator(ASSISTANT).last.inner_text().lower()
    finally:
        fake_openai.token_delay = 0.08


def test_stop_works_on_a_reply_followed_after_coming_back(page, running_app, fake_openai):
    open_app(page, running_app.url)
    new_chat(page)
    fake_openai.token_delay = 0.3
    try:
        # long enough (45 s) that a busy machine is still streaming it when the page is back
        conversation_url = start_long_reply(page, "word1", words=150)
        new_chat(page)
        open_app(page, conversation_url)  # back: the reply is followed where it has got to
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector("text=stopped", timeout=20_000)
        assert "word149" not in page.locator(ASSISTANT).last.inner_text()
    finally:
        fake_openai.token_delay = 0.08


def test_copy_takes_one_click(page, running_app, fake_openai):
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=running_app.url.rstrip("/")
    )
    open_app(page, running_app.url)
    new_chat(page)
    send(page, "Copy me in one click")
    page.wait_for_selector(f"{ASSISTANT} >> text=Copy me in one click", timeout=30_000)
    page.wait_for_selector("text=to first token", timeout=30_000)
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_role("button", name="Copied").wait_for(timeout=10_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator(ASSISTANT).last.locator("p").first.inner_text()
    assert "Copy me in one click" in copied


def test_a_model_id_typed_in_the_picker_is_used(page, running_app, fake_openai):
    """An id in no list (a model only your own server knows) can be typed and is sent."""
    open_app(page, running_app.url)
    new_chat(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("listbox").wait_for(timeout=10_000)
    page.keyboard.type("my-finetune-v2")
    page.get_by_text("Add: my-finetune-v2").wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    page.wait_for_function(  # the rerun drew the typed id as the picker's value
        """() => {
            const box = document.querySelector('[data-testid="stSelectbox"]');
            const input = box && box.querySelector('input');
            return (box?.innerText || '').includes('not in the catalog')
                || (input?.value || '').includes('not in the catalog');
        }""",
        timeout=20_000,
    )
    send(page, "hello custom model")
    page.wait_for_selector("text=does not exist or has been retired", timeout=30_000)
    assert fake_openai.chat_requests()[-1].body["model"] == "my-finetune-v2"


def test_a_message_is_one_page_run_and_ends_with_its_actions(page, running_app, fake_openai):
    """A new message in a conversation on screen costs one run of the page: the reply is
    finished where it was streamed (caption, Regenerate, Copy, Edit on the message), not by
    a second run that sends the whole page (sidebar, settings, transcript) again."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    runs: list = []  # the runs that drew (a run only for the input's callback draws nothing)

    def on_frame(frame) -> None:
        message = ForwardMsg()
        message.ParseFromString(frame if isinstance(frame, bytes) else frame.encode())
        if message.WhichOneof("type") == "script_finished" and (
            message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
        ):
            runs.append(message)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    open_app(page, running_app.url)
    new_chat(page)
    send(page, "First message of this conversation")
    page.wait_for_selector("text=to first token", timeout=30_000)
    page.get_by_role("button", name="Regenerate").wait_for(timeout=30_000)

    runs.clear()
    send(page, "Second message, answered in place")
    page.wait_for_selector(f"{ASSISTANT} >> text=reply #2: Second message", timeout=30_000)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{ASSISTANT}')].pop()"
        "?.innerText.includes('to first token')",
        timeout=30_000,
    )
    last_reply = page.locator(ASSISTANT).last
    last_reply.get_by_role("button", name="Regenerate").wait_for(timeout=10_000)
    last_reply.get_by_role("button", name="Copy", exact=True).wait_for(timeout=10_000)
    page.locator(USER).last.get_by_role("button", name="Edit").wait_for(timeout=10_000)
    assert page.get_by_role("button", name="Stop").count() == 0
    assert page.get_by_role("button", name="Regenerate").count() == 1  # only the last reply's
    page.wait_for_timeout(1_000)  # a rerun after the reply would have started by now
    assert len(runs) == 1
    assert "2 messages ·" not in page.content()  # the totals were brought up to date
    assert "4 messages ·" in page.content()

    # The actions drawn in place work: Regenerate answers the same message again.
    last_reply.get_by_role("button", name="Regenerate").click()
    page.wait_for_selector("text=2 / 2", timeout=30_000)
