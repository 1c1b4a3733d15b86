"""Property-based fuzzing of both importers: any input either imports cleanly (and then exports
and re-imports to the same thing) or is refused with ChatCanvasError, never another exception,
and never leaves part of itself stored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.errors import ChatCanvasError
from services.storage import ConversationStore, open_database
from services.storage.chains import TEMPLATE_EXPORT_FORMAT, ChainStore, ChainTemplateRow
from services.storage.conversation_files import EXPORT_FORMAT, export_json, import_json
from services.storage.conversations import ConversationRow, MessageRow

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no example database written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
OWNER = "fuzz"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and the infinities included
    | st.text(max_size=30)
    | st.sampled_from(["user", "assistant", "system", "complete", "error", "gpt-4o", ""])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)

VALID_CONVERSATION = {
    "format": EXPORT_FORMAT,
    "title": "Trip",
    "system_prompt": "Be brief.",
    "model": "gpt-4o-mini",
    "params": {"temperature": 0.7, "max_tokens": 256},
    "created_at": "2026-11-01T10:00:00",
    "messages": [
        {"role": "user", "content": "Where?", "status": "complete"},
        {
            "role": "assistant",
            "content": "Jeju.",
            "status": "complete",
            "model": "gpt-4o-mini",
            "finish_reason": "stop",
            "error_kind": None,
            "prompt_tokens": 12,
            "completion_tokens": 3,
            "cost_usd": 0.00002,
            "latency_ms": 420,
            "created_at": "2026-11-01T10:00:01",
        },
    ],
}
VALID_TEMPLATE = {
    "format": TEMPLATE_EXPORT_FORMAT,
    "name": "Two steps",
    "default_model": "gpt-4o-mini",
    "prompt_limit": 256,
    "steps": [
        {
            "name": "Describe",
            "template": "Describe {idea}",
            "system_prompt": "Imagine.",
            "fresh": False,
            "model": None,
            "temperature": 1.0,
            "max_tokens": 300,
        },
        {
            "name": "Prompt",
            "template": "Prompt for {previous}",
            "system_prompt": "",
            "fresh": True,
            "model": "gpt-4o",
            "temperature": None,
            "max_tokens": None,
        },
    ],
}


@st.composite
def mutated(draw, valid: dict) -> dict:
    """``valid`` with one to three values somewhere inside replaced by arbitrary JSON."""
    data = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        parent: Any = data
        key: Any = draw(st.sampled_from(sorted(parent)))
        while isinstance(parent[key], dict | list) and parent[key] and draw(st.booleans()):
            parent = parent[key]
            keys = sorted(parent) if isinstance(parent, dict) else range(len(parent))
            key = draw(st.sampled_from(list(keys)))
        parent[key] = draw(json_values)
    return data


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db")
    yield database
    database.engine.dispose()


def counts(db, *tables) -> tuple[int, ...]:
    with db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in tables)


def as_payload(value: Any) -> Any:
    """Hand some values over as the uploaded file's bytes, as the page does."""
    return json.dumps(value).encode() if isinstance(value, dict) and len(value) % 2 else value


def check_conversation_import(db, payload: Any) -> None:
    store = ConversationStore(db, OWNER)
    before = counts(db, ConversationRow, MessageRow)
    try:
        conversation = import_json(store, payload)
    except ChatCanvasError:
        assert counts(db, ConversationRow, MessageRow) == before  # nothing half-stored
        return
    messages = store.messages(conversation.id)
    assert counts(db, ConversationRow, MessageRow) == (before[0] + 1, before[1] + len(messages))
    exported = export_json(store, conversation.id)
    again = export_json(store, import_json(store, json.dumps(exported).encode()).id)
    for data in (exported, again):
        data.pop("created_at")
        for m in data["messages"]:
            m.pop("created_at")
    assert again == exported
    store.totals(conversation.id)  # what the page shows above the transcript


def check_template_import(db, payload: Any) -> None:
    chains = ChainStore(db, OWNER)
    before = counts(db, ChainTemplateRow)
    try:
        template = chains.import_template(payload)
    except ChatCanvasError:
        assert counts(db, ChainTemplateRow) == before
        return
    assert counts(db, ChainTemplateRow) == (before[0] + 1,)
    exported = chains.export_template(template.id)
    again = chains.import_template(json.dumps(exported))
    assert (again.name, again.steps, again.default_model, again.prompt_limit) == (
        template.name,
        template.steps,
        template.default_model,
        template.prompt_limit,
    )
    # what every later visit of the studio does with it
    assert chains.get_template(template.id) == template
    assert all(s.model is None or isinstance(s.model, str) for s in template.steps)


IMPORTERS = pytest.mark.parametrize(
    ("check", "valid"),
    [
        (check_conversation_import, VALID_CONVERSATION),
        (check_template_import, VALID_TEMPLATE),
    ],
    ids=["conversation", "template"],
)


@IMPORTERS
@FUZZ
@given(value=json_values)
def test_import_of_any_json_value(db, check, valid, value):
    check(db, value)
    check(db, json.dumps(value).encode())


@IMPORTERS
@FUZZ
@given(data=st.binary(max_size=200) | st.text(max_size=200))
def test_import_of_any_bytes(db, check, valid, data):
    check(db, data)


@IMPORTERS
@FUZZ
@given(data=st.data())
def test_import_of_a_mutated_export(db, check, valid, data):
    check(db, as_payload(data.draw(mutated(valid))))
