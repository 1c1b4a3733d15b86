"""``chatcanvas ask``: arguments, standard input, streamed output, what is stored."""

from __future__ import annotations

from services.storage import MessageStatus
from tests.cli.conftest import messages_of, no_traceback, roles
from tests.fakes.openai_server import FAKE_KEY


def test_ask_streams_the_answer_and_stores_the_conversation(terminal, fake):
    result = terminal.invoke("ask", "Imagine animals on Mars")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Fake gpt-5.4-mini reply #1: Imagine animals on Mars\n"
    stored = messages_of(terminal)
    assert roles(stored) == ["user", "assistant"]
    assert stored[1].content == "Fake gpt-5.4-mini reply #1: Imagine animals on Mars"
    assert stored[1].status == MessageStatus.COMPLETE and stored[1].cost_usd
    conversation = terminal.services().conversations.list()[0]
    assert f"?c={conversation.id}" in result.stderr  # where the web app opens it
    assert "gpt-5.4-mini" in result.stderr and "$" in result.stderr  # usage and cost
    # the web app's default system prompt and a streamed request with usage
    body = fake.chat_requests()[-1].body
    assert body["stream"] is True and body["messages"][0]["role"] == "system"


def test_the_question_comes_from_standard_input_without_an_argument_or_with_a_dash(terminal):
    assert terminal.invoke("ask", input="piped question\n").stdout.endswith("piped question\n")
    assert terminal.invoke("ask", "-", input="dash question").stdout.endswith("dash question\n")


def test_model_and_system_prompt_options(terminal, fake):
    result = terminal.invoke("ask", "-m", "gpt-4o-mini", "-s", "Be terse.", "hi")
    assert result.exit_code == 0
    assert result.stdout.startswith("Fake gpt-4o-mini reply #1")
    sent = fake.chat_requests()[-1].body
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"][0] == {"role": "system", "content": "Be terse."}
    conversation = terminal.services().conversations.list()[0]
    assert (conversation.model, conversation.system_prompt) == ("gpt-4o-mini", "Be terse.")


def test_continue_the_latest_conversation_or_one_by_id(terminal, fake):
    terminal.invoke("ask", "first")
    first = terminal.services().conversations.list()[0]
    terminal.invoke("ask", "other")
    assert terminal.invoke("ask", "--cid", first.id, "again").exit_code == 0
    assert roles(messages_of(terminal, first.id)) == ["user", "assistant"] * 2
    assert terminal.invoke("ask", "-c", "latest").exit_code == 0
    latest = terminal.services().conversations.list()[0]
    assert latest.id == first.id  # the one just continued is the latest
    assert [m["role"] for m in fake.chat_requests()[-1].body["messages"]][-2:] == [
        "assistant",
        "user",
    ]


def test_an_unknown_conversation_id_is_refused_in_the_users_language(terminal):
    english = terminal.invoke("ask", "--cid", "nope", "hi")
    korean = terminal.invoke("--lang", "ko", "ask", "--cid", "nope", "hi")
    assert english.exit_code == korean.exit_code == 1
    assert "no conversation nope" in english.stderr
    assert "nope 대화가 없습니다" in korean.stderr
    assert terminal.services().conversations.list() == []


def test_usage_errors_exit_2_and_help_is_in_the_users_language(terminal):
    assert terminal.invoke("ask", "--no-such-option", "x").exit_code == 2
    assert terminal.invoke("nope").exit_code == 2
    assert "질문 하나를" in terminal.invoke("--lang", "ko", "ask", "--help").stdout
    terminal.env["LANG"] = "ko_KR.UTF-8"
    assert "질문 하나를" in terminal.invoke("ask", "--help").stdout
    terminal.env["LC_ALL"] = "en_US.UTF-8"  # LC_ALL wins over LANG
    assert "Ask one question" in terminal.invoke("ask", "--help").stdout


def test_a_real_process_streams_plain_text_when_piped(terminal):
    done = terminal.run("ask", "hello from a pipe")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Fake gpt-5.4-mini reply #1: hello from a pipe\n"
    assert "\x1b" not in done.stdout  # no colour codes into a pipe
    assert FAKE_KEY not in done.stdout + done.stderr
    assert no_traceback(done.stderr)


def test_control_characters_from_the_model_never_reach_the_terminal(terminal, fake):
    fake.reply = lambda messages, model: "safe\x1b]0;pwned\x07 text\x1b[2J end"
    result = terminal.invoke("ask", "hi")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "safe" in result.stdout and "end" in result.stdout
    assert "\x1b" in messages_of(terminal)[1].content  # stored as it came: only shown clean
