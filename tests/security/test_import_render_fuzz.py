"""Whatever an importer accepts, the page can draw: a few fuzzed files that import cleanly are
opened in the real app (chat page, template editor) with AppTest. Few examples: each is a full
page run."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from services.errors import ChatCanvasError
from services.storage import ConversationStore, open_database
from services.storage.chains import ChainStore
from services.storage.conversation_files import import_json
from tests.app.conftest import app_env, fake_openai, new_app  # noqa: F401 (fixtures)
from tests.security.test_import_fuzz import VALID_CONVERSATION, VALID_TEMPLATE, mutated
from tests.security.test_markdown_pages import assert_loads_nothing

PAGES = settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)


@PAGES
@given(data=mutated(VALID_CONVERSATION))
def test_an_imported_conversation_opens(app_env, data):  # noqa: F811
    store = ConversationStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    try:
        conversation = import_json(store, data)
    except ChatCanvasError:
        assume(False)
    assert_loads_nothing(new_app(c=conversation.id).run())


@PAGES
@given(data=mutated(VALID_TEMPLATE))
def test_an_imported_template_opens_in_the_editor(app_env, data):  # noqa: F811
    chains = ChainStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    try:
        template = chains.import_template(data)
    except ChatCanvasError:
        assume(False)
    at = new_app().run()
    at.switch_page("app_pages/studio.py").run()
    at.selectbox(key="studio_tpl_pick").set_value(template.id).run()
    at.selectbox(key="studio_chain").set_value(template.id).run()
    assert_loads_nothing(at)
