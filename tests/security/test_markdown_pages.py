"""The pages show titles, model ids, provider messages and names as text, and model replies
without images: no Markdown the page sends to the browser would load a remote address."""

from __future__ import annotations

import json

import pytest

from services.storage import ConversationStore, open_database
from services.storage.chains import ChainStore
from services.studio import ChainStep
from tests.app.conftest import app_env, fake_openai, new_app  # noqa: F401 (fixtures)
from tests.fakes import openai_server
from tests.security.test_markdown_safety import images, shown_text

EVIL = "![](https://evil.example/track?q=1)"


def markdown_sources(at) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer."""
    sources = []
    for kind in ("markdown", "caption", "subheader", "error", "warning", "info", "success"):
        sources += [str(e.value) for e in getattr(at, kind)]
    sources += [str(e.value) for e in at.toast]
    for button in at.button:
        sources += [button.label or "", button.help or ""]
    sources += [e.label for e in at.expander] + [e.label for e in at.status]
    return sources


def assert_loads_nothing(at) -> None:
    assert not at.exception, at.exception
    loaded = [s for s in markdown_sources(at) if images(s)]
    assert loaded == []


def store(app_env) -> ConversationStore:  # noqa: F811
    return ConversationStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")


def test_a_conversation_title_shows_as_text(app_env):  # noqa: F811
    conversation = store(app_env).create(title=f"Trip {EVIL} **plan**")
    at = new_app(c=conversation.id).run()
    assert_loads_nothing(at)
    button = at.sidebar.button(key=f"conv_{conversation.id}")
    assert shown_text(button.label) == f"Trip {EVIL} **plan**"
    assert shown_text(at.subheader[0].value) == f"Trip {EVIL} **plan**"


def test_a_reply_with_images_shows_links(app_env, fake_openai):  # noqa: F811
    fake_openai.reply = lambda messages, model: (
        f"Here: {EVIL} and <img src='https://evil.example/h'>"
    )
    at = new_app().run()
    at.chat_input[0].set_value(f"hi {EVIL}").run()
    assert_loads_nothing(at)
    reply = "\n".join(str(m.value) for c in at.chat_message for m in c.markdown)
    assert "https://evil.example/track?q=1" in reply  # still there, as a link


def test_a_stored_model_id_shows_as_text(app_env):  # noqa: F811
    conversations = store(app_env)
    conversation = conversations.create(title="t")
    conversations.add_message(conversation.id, "user", "hi")
    conversations.add_message(
        conversation.id, "assistant", "ok", model=f"gpt{EVIL}", completion_tokens=3
    )
    conversations.add_message(conversation.id, "assistant", "ok", model=f"m{EVIL}")
    at = new_app(c=conversation.id).run()
    assert_loads_nothing(at)
    assert any(f"gpt{EVIL}" in shown_text(c.value) for c in at.caption)


def test_a_provider_parameter_name_shows_as_text(app_env, fake_openai, monkeypatch):  # noqa: F811
    status, body, headers = openai_server.ERRORS["unsupported_parameter"]
    monkeypatch.setitem(
        openai_server.ERRORS, "unsupported_parameter", (status, {**body, "param": EVIL}, headers)
    )
    fake_openai.set_fault("unsupported_parameter")
    at = new_app().run()
    at.chat_input[0].set_value("hi").run()
    assert_loads_nothing(at)
    assert any(EVIL in shown_text(e.value) for e in at.error)


@pytest.mark.parametrize("where", ["name", "step"])
def test_template_and_step_names_show_as_text(app_env, fake_openai, where):  # noqa: F811
    chains = ChainStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    step_name = EVIL if where == "step" else "One"
    template = chains.create_template(
        EVIL if where == "name" else "Mine", [ChainStep(name=step_name, template="{idea}")]
    )
    at = new_app().run()
    at.switch_page("app_pages/studio.py").run()
    at.selectbox(key="studio_tpl_pick").set_value(template.id).run()
    at.selectbox(key="studio_chain").set_value(template.id).run()
    at.text_area(key="studio_idea").set_value(f"idea {EVIL}").run()
    at.button(key="studio_run").click().run()
    assert_loads_nothing(at)


def test_a_placeholder_in_an_imported_template_shows_as_text(app_env, fake_openai):  # noqa: F811
    """The problem sentence quotes the template's own text: it must not become an image."""
    at = new_app().run()
    at.switch_page("app_pages/studio.py").run()
    bad = {
        "format": "chatcanvas.chain.v1",
        "name": "Bad",
        "steps": [{"name": "a", "template": "Draw {x!r:![](https://evil.example/p)}"}],
    }
    uploader = at.file_uploader(key="studio_tpl_import")
    uploader.set_value(("t.json", json.dumps(bad).encode(), "application/json")).run()
    assert_loads_nothing(at)
    assert any("is not a placeholder" in shown_text(str(e.value)) for e in at.toast)


def test_a_final_prompt_sent_to_karlo_shows_as_text(app_env, fake_openai):  # noqa: F811
    at = new_app().run()
    at.switch_page("app_pages/compare.py").run()
    at.text_area(key="compare_prompt").set_value(f"a cat {EVIL}").run()
    assert_loads_nothing(at)
