"""ChainStore: templates and studio runs in a SQLite file, one owner at a time."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect

from services.errors import ChatCanvasError, ErrorKind
from services.storage.chains import TEMPLATE_EXPORT_FORMAT, ChainStore
from services.studio import (
    BUILTIN_CHAINS,
    ChainRun,
    ChainStep,
    StepStatus,
    TemplateInvalid,
)

STEPS = (
    ChainStep("Describe", "Describe {idea} in {language}.", system_prompt="Be vivid."),
    ChainStep("Shorten", "Make {previous} shorter."),
    ChainStep("Prompt", "Prompt from {step2}", system_prompt="Write prompts.", fresh=True),
)


@pytest.fixture
def db(database):
    """Every test here runs on SQLite and on PostgreSQL."""
    return database


@pytest.fixture
def store(db) -> ChainStore:
    return ChainStore(db, "alice")


@pytest.fixture
def other(db) -> ChainStore:
    return ChainStore(db, "bob")


def codes(err: pytest.ExceptionInfo[TemplateInvalid]) -> list[str]:
    return [p.code for p in err.value.problems]


# -- templates -----------------------------------------------------------------------------
def test_tables_exist_with_owner_ids(db):
    inspector = inspect(db.engine)
    for table in ("chain_templates", "studio_runs"):
        assert "owner_id" in {c["name"] for c in inspector.get_columns(table)}
    run_id = next(c for c in inspector.get_columns("studio_runs") if c["name"] == "id")
    assert "CHAR" in str(run_id["type"]).upper()  # a string id images can point at


def test_template_round_trip(store):
    created = store.create_template(" Mine ", STEPS, default_model="gpt-4o-mini")
    assert created.name == "Mine" and not created.builtin
    assert store.get_template(created.id) == created
    assert store.list_templates(include_builtin=False) == [created]

    changed = store.update_template(created.id, steps=STEPS[:2], default_model=None)
    assert changed.steps == STEPS[:2] and changed.default_model is None
    renamed = store.update_template(created.id, name="Renamed")
    assert renamed.name == "Renamed" and renamed.steps == STEPS[:2]
    assert store.get_template(created.id) == renamed

    assert store.delete_template(created.id)
    assert store.get_template(created.id) is None
    assert not store.delete_template(created.id)


def test_long_model_ids_are_kept(store, engine):
    long_model = "ft:gpt-4o-mini:" + "org-with-a-long-name:" * 10 + "x1"
    template = store.create_template("Mine", STEPS, default_model=long_model)
    assert store.get_template(template.id) == template
    run = engine.new_run("fox", template, model=long_model)
    store.save_run(run)
    assert store.get_run(run.id).model == long_model
    assert store.list_runs()[0].model == long_model


def test_list_puts_builtins_first_then_newest(store):
    first = store.create_template("First", STEPS)
    second = store.create_template("Second", STEPS)
    store.update_template(first.id, name="First again")  # touched last: newest
    listed = store.list_templates()
    assert [t.id for t in listed] == [*BUILTIN_CHAINS, first.id, second.id]
    assert listed[0].id == "tutorial"


def test_builtins_are_readable_but_not_writable(store):
    assert store.get_template("tutorial") is BUILTIN_CHAINS["tutorial"]
    with pytest.raises(ValueError):
        store.update_template("tutorial", name="Mine")
    with pytest.raises(ValueError):
        store.delete_template("karlo")


def test_saving_rejects_unknown_placeholders_with_the_reason(store):
    with pytest.raises(TemplateInvalid) as err:
        store.create_template("Bad", [ChainStep("one", "Draw {foo}")])
    [problem] = err.value.problems
    assert (problem.code, problem.params["placeholder"], problem.params["step"]) == (
        "unknown_placeholder",
        "{foo}",
        1,
    )
    with pytest.raises(TemplateInvalid) as err:
        store.create_template("Bad", [ChainStep("one", "{idea}"), ChainStep("two", "{step3}")])
    assert codes(err) == ["forward_reference"]
    assert store.list_templates(include_builtin=False) == []

    good = store.create_template("Good", STEPS)
    with pytest.raises(TemplateInvalid) as err:
        store.update_template(good.id, steps=[ChainStep("one", "")])
    assert codes(err) == ["empty_template"]
    with pytest.raises(TemplateInvalid) as err:
        store.update_template(good.id, name="   ")
    assert codes(err) == ["empty_name"]
    assert store.get_template(good.id) == good  # nothing was written


def test_update_of_an_unknown_template_is_a_key_error(store):
    with pytest.raises(KeyError):
        store.update_template("nope", name="x")


# -- export / import -----------------------------------------------------------------------
def test_export_and_import_round_trip(store, other):
    original = store.create_template("Shared", STEPS, default_model="gpt-4o-mini", prompt_limit=200)
    exported = json.dumps(store.export_template(original.id), ensure_ascii=False)
    assert json.loads(exported)["format"] == TEMPLATE_EXPORT_FORMAT

    imported = other.import_template(exported)
    assert imported.id != original.id
    assert (imported.name, imported.steps, imported.default_model, imported.prompt_limit) == (
        "Shared",
        STEPS,
        "gpt-4o-mini",
        200,
    )
    assert other.get_template(imported.id) == imported
    assert store.get_template(imported.id) is None


def test_a_builtin_exports_and_imports_as_an_editable_copy(store):
    copy = store.import_template(store.export_template("tutorial").copy())
    assert copy.steps == BUILTIN_CHAINS["tutorial"].steps
    assert copy.name == BUILTIN_CHAINS["tutorial"].name  # a locale key: shown translated
    assert not copy.builtin
    assert store.update_template(copy.id, name="My tutorial").name == "My tutorial"


@pytest.mark.parametrize(
    "payload",
    [
        b"[1, 2]",
        {"format": "chatcanvas.conversation.v1", "steps": []},
        {"format": TEMPLATE_EXPORT_FORMAT, "name": "x"},
    ],
)
def test_import_refuses_a_foreign_file(store, payload):
    with pytest.raises(TemplateInvalid) as err:
        store.import_template(payload)
    assert codes(err) == ["bad_file"]


def test_import_refuses_a_file_that_is_not_json(store):
    with pytest.raises(ChatCanvasError) as err:
        store.import_template("not json")
    assert (err.value.kind, err.value.param) == (ErrorKind.BAD_IMPORT, "file")


def test_import_validates_the_template(store):
    data = store.export_template(store.create_template("Ok", STEPS).id)
    data["steps"][0]["template"] = "Draw {idea} {colour}"
    with pytest.raises(TemplateInvalid) as err:
        store.import_template(data)
    assert codes(err) == ["unknown_placeholder"]
    data["steps"][0] = "not a step"
    with pytest.raises(TemplateInvalid) as err:
        store.import_template(data)
    assert [(p.code, p.params["step"]) for p in err.value.problems] == [("bad_step", 1)]
    assert len(store.list_templates(include_builtin=False)) == 1


# -- runs ----------------------------------------------------------------------------------
def test_a_run_is_stored_whole_and_restored(store, engine):
    template = store.create_template("Mine", STEPS)
    run = engine.new_run("화성의 동물", template, back_translate=True)
    summary = store.save_run(run)
    assert summary.status == StepStatus.PENDING and summary.id == run.id
    for step in engine.run(run):
        step.drain()
        store.save_run(run)  # the page saves after each step

    restored = store.get_run(run.id)
    assert isinstance(restored, ChainRun)
    assert restored.to_dict() == run.to_dict()
    assert restored.steps[2].messages[0] == {"role": "system", "content": "Write prompts."}
    assert restored.steps[0].prompt_tokens and restored.steps[0].cost_usd is not None
    assert restored.final_prompt == run.final_prompt != ""
    assert restored.back_translation is not None and restored.back_translation.output

    [listed] = store.list_runs()
    assert (listed.id, listed.template_id, listed.template_name) == (run.id, template.id, "Mine")
    assert listed.status == StepStatus.DONE and listed.final_prompt == run.final_prompt
    assert listed.cost_usd == pytest.approx(run.cost_usd) and not listed.cost_incomplete
    assert listed.updated_at >= listed.created_at


def test_a_run_keeps_its_snapshot_when_the_template_changes(store, engine):
    template = store.create_template("Mine", STEPS)
    run = engine.new_run("fox", template)
    store.save_run(run)
    store.update_template(template.id, steps=STEPS[:1])
    store.delete_template(template.id)
    assert store.get_run(run.id).template.steps == STEPS


def test_a_failed_run_can_be_resumed_after_loading(store, engine, fake):
    run = engine.new_run("fox", BUILTIN_CHAINS["tutorial"])
    fake.set_fault("server_error", endpoint="chat", times=1)
    for step in engine.run(run):
        step.drain()
    store.save_run(run)
    assert store.list_runs()[0].status == StepStatus.ERROR

    loaded = store.get_run(run.id)
    assert loaded.resume_index() == 0 and loaded.steps[0].error_kind == "server_error"
    for step in engine.run(loaded, start_at=loaded.resume_index()):
        step.drain()
    store.save_run(loaded)
    assert store.list_runs()[0].status == StepStatus.DONE
    assert len(store.list_runs()) == 1  # updated in place, not duplicated


def test_list_runs_newest_first_and_by_template(store, engine):
    ids = []
    for chain in ("tutorial", "quick", "tutorial"):
        run = engine.new_run("fox", BUILTIN_CHAINS[chain])
        store.save_run(run)
        ids.append(run.id)
    assert [r.id for r in store.list_runs()] == ids[::-1]
    assert [r.id for r in store.list_runs(template_id="tutorial")] == [ids[2], ids[0]]
    assert [r.id for r in store.list_runs(limit=1, offset=1)] == [ids[1]]


# -- owners --------------------------------------------------------------------------------
def test_another_owners_rows_are_invisible(store, other, engine):
    template = store.create_template("Alice's", STEPS)
    run = engine.new_run("fox", template)
    store.save_run(run)

    assert other.get_template(template.id) is None
    assert other.list_templates(include_builtin=False) == []
    assert [t.id for t in other.list_templates()] == list(BUILTIN_CHAINS)
    with pytest.raises(KeyError):
        other.update_template(template.id, name="Mine now")
    with pytest.raises(KeyError):
        other.export_template(template.id)
    assert not other.delete_template(template.id)

    assert other.get_run(run.id) is None
    assert other.list_runs() == []
    with pytest.raises(KeyError):
        other.save_run(run)  # same id, other owner: never overwritten

    assert store.get_template(template.id).name == "Alice's"
    assert store.get_run(run.id).to_dict() == run.to_dict()
