"""The pages refuse a bad file with a sentence naming the field, store nothing and keep working."""

from __future__ import annotations

import json

from sqlalchemy import update

from services.import_rules import MAX_IMPORT_BYTES
from services.storage import ConversationStore, open_database
from services.storage.chains import TEMPLATE_EXPORT_FORMAT, ChainStore, ChainTemplateRow
from services.storage.conversation_files import EXPORT_FORMAT
from services.studio import ChainStep
from tests.app.conftest import app_env, fake_openai, new_app  # noqa: F401 (fixtures)
from tests.security.test_markdown_safety import shown_text


def toasts(at) -> list[str]:
    """The toasts' text as the reader sees it (their Markdown rendered)."""
    return [shown_text(str(t.value)) for t in at.toast]


def stores(app_env):  # noqa: F811
    db = open_database(f"sqlite:///{app_env}/chatcanvas.db")
    return ConversationStore(db, "local"), ChainStore(db, "local")


def upload(uploader, name: str, data: bytes):
    return uploader.set_value((name, data, "application/json")).run()


def test_chat_import_of_a_bad_file_says_which_field(app_env):  # noqa: F811
    at = new_app().run()
    bad = {
        "format": EXPORT_FORMAT,
        "title": "x",
        "messages": [{"role": "assistant", "content": "hi", "cost_usd": -1}],
    }
    upload(at.sidebar.file_uploader(key="chat_import_file"), "c.json", json.dumps(bad).encode())
    assert not at.exception, at.exception
    assert any("messages[0].cost_usd" in t and "Nothing was saved" in t for t in toasts(at))
    conversations, _ = stores(app_env)
    assert conversations.list() == []


def test_chat_import_of_deep_nesting_is_refused(app_env):  # noqa: F811
    at = new_app().run()
    upload(at.sidebar.file_uploader(key="chat_import_file"), "c.json", b"[" * 50_000)
    assert not at.exception, at.exception
    assert any("file" in t for t in toasts(at))


def test_an_oversized_upload_is_not_read(app_env):  # noqa: F811
    at = new_app().run()
    big = b'{"format": "x"}' + b" " * MAX_IMPORT_BYTES
    upload(at.sidebar.file_uploader(key="chat_import_file"), "c.json", big)
    assert not at.exception, at.exception
    assert any("file" in t for t in toasts(at))


def test_template_import_with_a_list_as_model_is_refused_and_the_studio_still_opens(app_env):  # noqa: F811
    at = new_app().run()
    at.switch_page("app_pages/studio.py").run()
    bad = {
        "format": TEMPLATE_EXPORT_FORMAT,
        "name": "Broken",
        "steps": [{"name": "a", "template": "{idea}", "model": ["gpt-4o"]}],
    }
    upload(at.file_uploader(key="studio_tpl_import"), "t.json", json.dumps(bad).encode())
    assert not at.exception, at.exception
    assert any("steps[0].model" in t for t in toasts(at))
    _, chains = stores(app_env)
    assert chains.list_templates(include_builtin=False) == []
    at.switch_page("app_pages/studio.py").run()
    assert not at.exception, at.exception


def test_a_stored_template_that_cannot_run_lists_its_problems(app_env):  # noqa: F811
    """A row saved by an earlier version without the checks: the run is refused with the
    template's own problems, not a generic sentence."""
    _, chains = stores(app_env)
    saved = chains.create_template("Old", [ChainStep(name="a", template="{idea}")])
    with chains.db.session() as s, s.begin():
        steps = [{**saved.steps[0].to_dict(), "template": "Draw {shape}"}]
        s.execute(
            update(ChainTemplateRow).where(ChainTemplateRow.id == saved.id).values(steps=steps)
        )
    at = new_app().run()
    at.switch_page("app_pages/studio.py").run()
    at.selectbox(key="studio_chain").set_value(saved.id).run()
    at.text_area(key="studio_idea").set_value("a cat").run()
    at.button(key="studio_run").click().run()
    assert not at.exception, at.exception
    assert any("{shape} is not a placeholder" in shown_text(e.value) for e in at.error)
