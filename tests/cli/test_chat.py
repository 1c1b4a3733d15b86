"""``chatcanvas chat``: the loop and its commands, the web app's conversations continued here
and the terminal's opened in the web app, Ctrl-C during a reply and at the prompt."""

from __future__ import annotations

import os
import select
import signal
import time

import pytest

from chatcanvas.main import EXIT_INTERRUPTED
from services.chat import ChatOptions
from services.storage import MessageStatus
from tests.app.conftest import new_app
from tests.cli.conftest import Terminal, messages_of, no_traceback, roles, terminal_env
from tests.fakes.openai_server import FAKE_KEY


def test_a_chat_of_several_turns_with_its_commands(terminal, fake):
    typed = "\n".join(
        ["first", "/model gpt-4o-mini", "/system Answer in haiku.", "second", "/cost", "/bogus"]
    )
    result = terminal.invoke("chat", input=typed + "\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "Fake gpt-5.4-mini reply #1: first" in result.stdout
    assert "Fake gpt-4o-mini reply #2: second" in result.stdout
    assert "Model: gpt-4o-mini" in result.stderr
    assert "This conversation: 4 messages" in result.stderr
    assert "Unknown command /bogus" in result.stderr
    sent = fake.chat_requests()[-1].body
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"][0] == {"role": "system", "content": "Answer in haiku."}
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert roles(messages_of(terminal)) == ["user", "assistant"] * 2


def test_new_starts_another_conversation_and_end_of_input_leaves(terminal):
    result = terminal.invoke("chat", input="one\n/new\ntwo\n")  # no /exit: end of input
    assert result.exit_code == 0
    conversations = terminal.services().conversations.list()
    assert [c.title for c in conversations] == ["two", "one"]


def test_an_error_in_the_chat_is_reported_and_the_chat_goes_on(terminal, fake):
    fake.set_fault("server_error", times=2)
    result = terminal.invoke("chat", input="lost?\n/retry\n/exit\n")
    assert result.exit_code == 0
    assert "server" in result.stderr.lower()
    assert "Fake gpt-5.4-mini reply #1: lost?" in result.stdout  # /retry answered it
    stored = messages_of(terminal)
    assert roles(stored) == ["user", "assistant"]
    assert stored[0].status == MessageStatus.COMPLETE


def test_a_conversation_from_the_web_app_continues_here(terminal, fake):
    services = terminal.services()  # what the web app builds for the same settings
    conversation = services.conversations.create(model="gpt-4o-mini", system_prompt="Be brief.")
    pending = services.turns.send(conversation, "made in the browser", "gpt-4o-mini", ChatOptions())
    for _ in pending:
        pass
    pending.finish()
    result = terminal.invoke("chat", "--cid", conversation.id, input="and continued here\n")
    assert result.exit_code == 0, result.output
    assert "made in the browser" in result.stdout  # the last messages are shown first
    assert "Fake gpt-4o-mini reply #2: and continued here" in result.stdout
    sent = fake.chat_requests()[-1].body["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "made in the browser",
        "and continued here",
    ]
    assert roles(messages_of(terminal, conversation.id)) == ["user", "assistant"] * 2
    # -c picks the latest conversation: this one
    again = terminal.invoke("chat", "-c", input="/cost\n")
    assert "4 messages" in again.stderr


def test_a_conversation_from_the_terminal_opens_in_the_web_app(app_env, fake_openai, tmp_path):
    env = terminal_env(
        tmp_path,
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        DATABASE_URL=os.environ["DATABASE_URL"],  # the web app's database (app_env)
    )
    terminal = Terminal(env, tmp_path)
    assert terminal.invoke("ask", "asked in the terminal").exit_code == 0
    conversation = terminal.services().conversations.list()[0]
    at = new_app(c=conversation.id).run()
    assert not at.exception
    shown = [(m.name, "\n".join(str(x.value) for x in m.markdown)) for m in at.chat_message]
    assert [name for name, _ in shown] == ["user", "assistant"]
    assert "Fake gpt-5.4-mini reply #1: asked in the terminal" in shown[1][1]
    # and it goes on in the browser
    at.chat_input[0].set_value("and in the browser").run()
    assert roles(messages_of(terminal, conversation.id)) == ["user", "assistant"] * 2


# -- Ctrl-C, sent to a real process ----------------------------------------------------------
def read_until(stream, wanted: bytes, limit: float = 30.0) -> bytes:
    """What the process wrote until ``wanted`` appears (or ``limit`` seconds pass)."""
    seen = b""
    deadline = time.monotonic() + limit
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.5)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.fixture
def trickling(terminal, fake) -> Terminal:
    """Replies that send a few pieces at once, then one byte every few seconds."""
    fake.trickle_delay = 5.0
    fake.set_fault("trickle", times=1)
    return terminal


def test_ctrl_c_during_an_answer_keeps_what_arrived_marked_stopped(trickling):
    process = trickling.start("ask", "a long answer please")
    shown = read_until(process.stdout, b"Fake")
    assert b"Fake" in shown
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == EXIT_INTERRUPTED
    assert no_traceback(err)
    reply = messages_of(trickling)[1]
    assert reply.status == MessageStatus.STOPPED
    assert reply.content.startswith((shown + out).decode().strip())
    assert b"stopped" in err


def test_ctrl_c_during_a_chat_reply_stops_it_and_the_chat_goes_on(trickling):
    process = trickling.start("chat")
    process.stdin.write(b"a long answer please\n")
    process.stdin.flush()
    shown = read_until(process.stdout, b"Fake")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(b"/cost\n/exit\n", timeout=30)
    assert process.returncode == 0, err
    assert b"2 messages" in err  # the chat went on after the stop
    reply = messages_of(trickling)[1]
    assert reply.status == MessageStatus.STOPPED and reply.content
    assert shown.decode().split("you> ")[-1].strip() in reply.content


def test_ctrl_c_at_the_prompt_leaves(terminal):
    process = terminal.start("chat")
    read_until(process.stdout, b"you> ")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert no_traceback(err)
