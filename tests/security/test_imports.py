"""Imported files: every field is checked before anything is stored; a bad file is refused
with ChatCanvasError naming the field, and nothing of it is stored."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from services.errors import ChatCanvasError, ErrorKind
from services.import_rules import MAX_IMPORT_BYTES, MAX_IMPORT_MB
from services.storage.chains import TEMPLATE_EXPORT_FORMAT, ChainStore, ChainTemplateRow
from services.storage.conversation_files import EXPORT_FORMAT, import_json
from services.storage.conversations import ConversationRow, MessageRow
from services.studio import ChainStep, TemplateInvalid

ROOT = Path(__file__).resolve().parents[2]
OWNER = "owner-a"


def conversation_file(**fields) -> dict:
    message = {"role": "assistant", "content": "hi", "cost_usd": 0.001, "prompt_tokens": 3}
    return {
        "format": EXPORT_FORMAT,
        "title": "t",
        "messages": [{"role": "user", "content": "hello"}, message],
        **fields,
    }


def template_file(**fields) -> dict:
    return {
        "format": TEMPLATE_EXPORT_FORMAT,
        "name": "Imported",
        "steps": [{"name": "One", "template": "Draw {idea}"}],
        **fields,
    }


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def row_counts(db) -> tuple[int, int]:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(ConversationRow)),
            s.scalar(select(func.count()).select_from(MessageRow)),
        )


@pytest.fixture
def chains(db) -> ChainStore:
    return ChainStore(db, OWNER)


def refused(call, *args) -> ChatCanvasError:
    with pytest.raises(ChatCanvasError) as info:
        call(*args)
    return info.value


def test_upload_limit_is_a_few_megabytes():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_IMPORT_MB <= 5


@pytest.mark.parametrize("depth", [100_000, 2_000])
def test_deeply_nested_json_is_refused_not_a_recursion_error(store, chains, db, depth):
    for payload in (
        nested(depth),
        b'{"format": "' + EXPORT_FORMAT.encode() + b'", "x": ' + nested(depth) + b"}",
    ):
        err = refused(import_json, store, payload)
        assert err.kind in (ErrorKind.BAD_IMPORT, ErrorKind.INVALID_TEMPLATE)
        err = refused(chains.import_template, payload)
    conversation = conversation_file(params={"temperature": json.loads(nested(500))})
    assert refused(import_json, store, conversation).param == "params.temperature"
    assert row_counts(db) == (0, 0)


def test_a_file_larger_than_the_limit_is_refused_before_parsing(store, chains):
    big = b" " * (MAX_IMPORT_BYTES + 1)
    assert refused(import_json, store, big).param == "file"
    assert refused(chains.import_template, big).param == "file"


@pytest.mark.parametrize("model", [["gpt-4o"], {"id": "x"}, 5, "m" * 257])
def test_a_template_step_model_that_is_not_a_model_id_is_refused(chains, model):
    data = template_file()
    data["steps"][0]["model"] = model
    err = refused(chains.import_template, data)
    assert (err.kind, err.param) == (ErrorKind.BAD_IMPORT, "steps[0].model")
    assert chains.list_templates(include_builtin=False) == []


@pytest.mark.parametrize("default_model", [{"id": "x"}, ["a"], 3.5, True])
def test_a_non_text_default_model_is_refused_not_a_database_error(chains, default_model):
    err = refused(chains.import_template, template_file(default_model=default_model))
    assert (err.kind, err.param) == (ErrorKind.BAD_IMPORT, "default_model")
    assert chains.list_templates(include_builtin=False) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", float("inf")),
        ("temperature", float("nan")),
        ("temperature", "hot"),
        ("max_tokens", 2**40),
        ("max_tokens", True),
        ("fresh", "yes"),
        ("template", "x" * 200_001),
        ("name", ["a"]),
    ],
)
def test_template_step_fields_are_checked(chains, field, value):
    data = template_file()
    data["steps"][0][field] = value
    assert refused(chains.import_template, data).param == f"steps[0].{field}"


def test_prompt_limit_true_is_not_one(chains):
    assert refused(chains.import_template, template_file(prompt_limit=True)).param == (
        "prompt_limit"
    )


@pytest.mark.parametrize("cost", ["Infinity", "-Infinity", "NaN", "-0.5", "1e400", '"0.1"', "true"])
def test_imported_costs_must_be_finite_and_not_negative(store, db, cost):
    text = json.dumps(conversation_file()).replace('"cost_usd": 0.001', f'"cost_usd": {cost}')
    err = refused(import_json, store, text)
    assert (err.kind, err.param) == (ErrorKind.BAD_IMPORT, "messages[1].cost_usd")
    assert row_counts(db) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prompt_tokens", -1),
        ("prompt_tokens", 2**63),
        ("latency_ms", 1.5),
        ("content", "\ud800"),
        ("content", "a\x00b"),
        ("content", {"text": "x"}),
        ("model", "m" * 257),
        ("status", "done"),
        ("role", "tool"),
        ("finish_reason", ["stop"]),
    ],
)
def test_message_fields_are_checked(store, db, field, value):
    data = conversation_file()
    data["messages"][1][field] = value
    err = refused(import_json, store, data)
    assert (err.kind, err.param) == (ErrorKind.BAD_IMPORT, f"messages[1].{field}")
    assert row_counts(db) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "t" * 201),
        ("title", 42),
        ("model", ["gpt"]),
        ("system_prompt", "\udfff"),
        ("params", {"temperature": 3}),
        ("params", {"max_tokens": 0}),
        ("params", "hot"),
    ],
)
def test_conversation_fields_are_checked(store, db, field, value):
    err = refused(import_json, store, conversation_file(**{field: value}))
    assert err.kind is ErrorKind.BAD_IMPORT and err.param.split(".")[0] == field
    assert row_counts(db) == (0, 0)


def test_a_bad_last_message_stores_nothing_at_all(store, db):
    data = conversation_file()
    data["messages"] = [{"role": "user", "content": str(i)} for i in range(50)]
    data["messages"][-1]["completion_tokens"] = "many"
    assert refused(import_json, store, data).param == "messages[49].completion_tokens"
    assert row_counts(db) == (0, 0)


def test_a_good_file_imports_with_unknown_params_left_out(store):
    conversation = import_json(store, conversation_file(params={"temperature": 0.5, "seed": 1}))
    assert conversation.params == {"temperature": 0.5}
    assert [m.cost_usd for m in store.messages(conversation.id)] == [None, 0.001]


@pytest.mark.parametrize(
    "step",
    [
        ChainStep(name="a", template="{idea}", model=["gpt-4o"]),  # type: ignore[arg-type]
        ChainStep(name="a", template="{idea}", model="m" * 257),
        ChainStep(name="a", template="{idea}", temperature=float("nan")),
        ChainStep(name="a", template="{idea}", max_tokens=2**40),
        ChainStep(name="a" * 201, template="{idea}"),
    ],
)
def test_the_editor_cannot_save_what_an_import_may_not(chains, step):
    with pytest.raises(TemplateInvalid):
        chains.create_template("Mine", [step])
    saved = chains.create_template("Mine", [ChainStep(name="a", template="{idea}")])
    with pytest.raises(TemplateInvalid):
        chains.update_template(saved.id, steps=[step])
    with pytest.raises(TemplateInvalid):
        chains.update_template(saved.id, default_model={"id": 1})  # type: ignore[arg-type]
    assert chains.get_template(saved.id).steps[0].model is None


def test_a_template_stored_before_the_checks_still_opens(chains, db):
    """A row saved by an earlier version with a list as a step's model."""
    saved = chains.create_template("Old", [ChainStep(name="a", template="{idea}")])
    with db.session() as s, s.begin():
        bad_steps = [{**saved.steps[0].to_dict(), "model": ["gpt-4o"]}]
        s.execute(
            update(ChainTemplateRow).where(ChainTemplateRow.id == saved.id).values(steps=bad_steps)
        )
    assert chains.get_template(saved.id).steps[0].model is None
