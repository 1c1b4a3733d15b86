"""Every failure a person can meet with ``chatcanvas ask``: the web app's sentence in their
language, a non-zero exit status, no traceback, no key printed, and nothing typed lost."""

from __future__ import annotations

import pytest

from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.storage import MessageStatus
from services.wording import error_text
from tests.cli.conftest import Terminal, messages_of, no_traceback, roles, terminal_env
from tests.fakes.openai_server import FAKE_KEY

LANGUAGES = ("en", "ko")


def sentence(kind: ErrorKind, lang: str, **details) -> str:
    return error_text(ChatCanvasError(kind, **details), Translator(lang))


def assert_refused(result, kind: ErrorKind, lang: str, **details) -> None:
    assert result.exit_code == 1, result.output
    assert sentence(kind, lang, **details) in result.stderr
    assert result.stdout == ""
    assert no_traceback(result.output, result.exception if result.exit_code != 1 else None)
    assert FAKE_KEY not in result.output


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_key(fake, tmp_path, lang):
    terminal = Terminal(terminal_env(tmp_path, OPENAI_API_KEY=None), tmp_path)
    result = terminal.invoke("--lang", lang, "ask", "a question worth keeping")
    assert_refused(result, ErrorKind.NO_KEY, lang)
    stored = messages_of(terminal)
    assert roles(stored) == ["user"] and stored[0].content == "a question worth keeping"
    assert stored[0].status == MessageStatus.ERROR  # kept, marked unanswered


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_wrong_key(terminal, fake, lang):
    fake.api_key = "sk-another-key-the-server-expects-0000"
    assert_refused(terminal.invoke("--lang", lang, "ask", "hi"), ErrorKind.INVALID_KEY, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_connection_refused(fake, tmp_path, closed_port, lang):
    url = f"http://127.0.0.1:{closed_port}/v1"
    terminal = Terminal(
        terminal_env(tmp_path, OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=url), tmp_path
    )
    assert_refused(terminal.invoke("--lang", lang, "ask", "hi"), ErrorKind.CONNECTION, lang)
    assert roles(messages_of(terminal)) == ["user"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_model_that_is_gone(terminal, lang):
    result = terminal.invoke("--lang", lang, "ask", "-m", "gpt-4", "hi")
    assert_refused(result, ErrorKind.MODEL_NOT_FOUND, lang)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("insufficient_quota", ErrorKind.NO_CREDIT),
        ("permission", ErrorKind.PERMISSION),
        ("context_length", ErrorKind.CONTEXT_TOO_LONG),
        ("server_error", ErrorKind.SERVER_ERROR),
    ],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_provider_refusals(terminal, fake, fault, kind, lang):
    fake.set_fault(fault, times=2)  # the one retry meets it too
    assert_refused(terminal.invoke("--lang", lang, "ask", "hi"), kind, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_rate_limit_says_when_to_retry(terminal, fake, lang):
    fake.set_fault("rate_limit", times=2)
    result = terminal.invoke("--lang", lang, "ask", "hi")
    assert_refused(result, ErrorKind.RATE_LIMIT, lang, retry_after=1.0)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_cut_stream_keeps_what_arrived(terminal, fake, lang):
    fake.set_fault("cut_stream", times=1)
    result = terminal.invoke("--lang", lang, "ask", "tell me a long story")
    assert result.exit_code == 1
    assert sentence(ErrorKind.STREAM_INTERRUPTED, lang) in result.stderr
    reply = messages_of(terminal)[1]
    assert reply.status == MessageStatus.INCOMPLETE and reply.content
    assert result.stdout.strip() == reply.content.strip()  # shown, then kept


@pytest.mark.parametrize("lang", LANGUAGES)
def test_empty_input_is_refused_before_anything_is_stored(terminal, lang):
    result = terminal.invoke("--lang", lang, "ask", input="   \n")
    assert_refused(result, ErrorKind.EMPTY_INPUT, lang)
    assert terminal.services().conversations.list() == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_database_that_cannot_be_opened_never_shows_its_password(fake, tmp_path, lang):
    url = "postgresql+psycopg://chatcanvas:db-password-123@127.0.0.1:1/chatcanvas"
    terminal = Terminal(terminal_env(tmp_path, OPENAI_API_KEY=FAKE_KEY, DATABASE_URL=url), tmp_path)
    result = terminal.invoke("--lang", lang, "ask", "hi")
    assert_refused(result, ErrorKind.DATABASE, lang)
    assert "db-password-123" not in result.output


def test_a_real_process_reports_in_korean_with_a_non_zero_status(fake, tmp_path):
    env = terminal_env(tmp_path, OPENAI_API_KEY=None, LANG="ko_KR.UTF-8")
    done = Terminal(env, tmp_path).run("ask", "hi")
    assert done.returncode == 1
    assert sentence(ErrorKind.NO_KEY, "ko") in done.stderr
    assert no_traceback(done.stderr)


def test_the_key_reaches_neither_the_output_nor_the_database(terminal, fake):
    fake.api_key = "sk-another-key-the-server-expects-0000"
    result = terminal.invoke("chat", input="hello\n/cost\n/exit\n")
    assert FAKE_KEY not in result.output
    files = [p for p in terminal.tmp.iterdir() if p.name.startswith("chatcanvas.db")]
    assert files and all(FAKE_KEY.encode() not in p.read_bytes() for p in files)


def test_anything_unexpected_is_a_sentence_without_a_traceback(terminal, monkeypatch):
    from services.storage.conversations import ConversationStore

    def broken(*args, **kwargs):
        raise OSError(f"disk full while writing for {FAKE_KEY}")

    monkeypatch.setattr(ConversationStore, "add_message", broken)
    result = terminal.invoke("ask", "hi")
    assert result.exit_code == 1
    assert sentence(ErrorKind.UNKNOWN, "en") in result.stderr
    assert "disk full" in result.stderr and FAKE_KEY not in result.output
    assert no_traceback(result.output)
