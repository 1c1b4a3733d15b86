"""Two owners in one database, on SQLite and on PostgreSQL: for every store method, B can
neither read nor change what A made, and B asking for A's id gets exactly what a missing id
gets (the same value, or the same exception)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from services.chat_images import prepare_image
from services.errors import ChatCanvasError, ErrorKind
from services.gallery_export import export_zip, png_with_lineage
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.leaderboard import leaderboard
from services.ledger import CostLedger
from services.storage.chains import ChainStore
from services.storage.conversation_files import (
    EXPORT_FORMAT,
    export_json,
    export_markdown,
    import_json,
)
from services.storage.conversations import ConversationStore
from services.storage.db import Database
from services.storage.image_edits import ImageEdits
from services.storage.images import ImageStore
from services.storage.usage import UsageStore
from services.studio import ChainEngine, ChainStep
from tests.fakes.karlo_server import render_image

MISSING = "0123456789abcdef0123456789abcdef"  # shaped like an id, owned by nobody
STEPS = (ChainStep("Describe", "Describe {idea}."), ChainStep("Prompt", "Prompt from {previous}"))


@dataclass
class Owner:
    conversations: ConversationStore
    chains: ChainStore
    images: ImageStore

    @property
    def ledger(self) -> CostLedger:
        return CostLedger(
            self.conversations, self.images, UsageStore(self.images.db, self.images.owner_id)
        )


@dataclass
class Made:
    """What A made: one of each kind of row."""

    conversation: str
    message: int
    template: str
    studio_run: str
    compare_run: str
    images: tuple[str, ...]


def owner(db: Database, owner_id: str) -> Owner:
    return Owner(
        ConversationStore(db, owner_id), ChainStore(db, owner_id), ImageStore(db, owner_id)
    )


def image_result(provider: str, model: str) -> ImageResult:
    image = GeneratedImage(render_image(64, 48, "png", seed=1), "image/png", seed=7)
    return ImageResult(provider, model, (image,), {"model": model}, latency_ms=10, cost_usd=0.04)


def lanes(prompt: str) -> list[tuple[ImageRequest, ImageResult]]:
    return [
        (ImageRequest(prompt, "gpt-image-2"), image_result("openai", "gpt-image-2")),
        (ImageRequest(prompt, "karlo-v2.1"), image_result("karlo", "karlo-v2.1")),
    ]


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """What a call answers: its value, or the type of what it raised."""
    try:
        return ("value", call())
    except Exception as err:  # comparing whatever comes out is the point
        return ("raised", type(err))


@pytest.fixture
def db(database: Database) -> Database:
    return database


@pytest.fixture
def a(db: Database) -> Owner:
    return owner(db, "owner-a")


@pytest.fixture
def b(db: Database) -> Owner:
    return owner(db, "owner-b")


@pytest.fixture
def made(a: Owner, engine: ChainEngine) -> Made:
    conv = a.conversations.create(title="Jeju trip", system_prompt="Be brief.", model="gpt-5")
    a.conversations.add_message(conv.id, "user", "Where in Jeju?")
    reply = a.conversations.add_message(
        conv.id, "assistant", "Seongsan.", prompt_tokens=5, completion_tokens=3, cost_usd=0.01
    )
    template = a.chains.create_template("Mine", STEPS, default_model="gpt-5")
    run = engine.new_run("a fox in Jeju", template)
    a.chains.save_run(run)
    compare = a.images.save_run("a fox in Jeju", lanes("a fox in Jeju"), studio_run_id=run.id)
    a.images.record_vote(compare.id, "lane:0")
    images = tuple(i for lane in compare.lanes for i in lane.image_ids)
    return Made(conv.id, reply.id, template.id, run.id, compare.id, images)


def everything(who: Owner, made: Made) -> dict[str, Any]:
    """All of A's data as A sees it, to compare before and after B's attempts."""
    zipped = zipfile.ZipFile(io.BytesIO(export_zip(who.images, made.images)))
    return {
        "conversations": who.conversations.list(),
        "export": export_json(who.conversations, made.conversation),
        "messages": who.conversations.messages(made.conversation),
        "totals": who.conversations.totals(made.conversation),
        "templates": who.chains.list_templates(include_builtin=False),
        "studio_run": who.chains.get_run(made.studio_run).to_dict(),
        "runs": who.chains.list_runs(),
        "compare_run": who.images.get_run(made.compare_run),
        "thumbnails": who.images.list_thumbnails(),
        "image_bytes": [who.images.get_image(i).data for i in made.images],
        "zip": sorted(zipped.namelist()),
        "leaderboard": leaderboard(who.images.votes()),
        "days": who.ledger.days(),
        "top_runs": who.ledger.top_runs(),
        "top_conversations": who.ledger.top_conversations(),
        "karlo": who.ledger.karlo_quota(),
    }


# -- reading ---------------------------------------------------------------------------------
def test_conversations_of_a_are_invisible_to_b(b: Owner, made: Made):
    store = b.conversations
    assert store.list() == [] and store.list("jeju") == [] and store.list("Seongsan") == []
    for call in (
        store.get,
        store.messages,
        store.totals,
        lambda cid: export_json(store, cid),
        lambda cid: export_markdown(store, cid),
        lambda cid: store.messages(cid, last=1),
    ):
        assert outcome(lambda c=call: c(made.conversation)) == outcome(lambda c=call: c(MISSING))
    assert store.get(made.conversation) is None
    assert store.cost_by_day() == [] and store.most_expensive() == []


def test_chains_of_a_are_invisible_to_b(b: Owner, made: Made):
    store = b.chains
    assert store.list_templates(include_builtin=False) == [] and store.list_runs() == []
    assert store.list_runs(template_id=made.template) == []
    for call in (store.get_template, store.export_template, store.get_run):
        assert outcome(lambda c=call: c(made.template)) == outcome(lambda c=call: c(MISSING))
    assert outcome(lambda: store.get_run(made.studio_run)) == ("value", None)


def test_images_of_a_are_invisible_to_b(b: Owner, made: Made):
    store = b.images
    assert store.list_thumbnails() == [] and store.count() == 0
    assert store.list_thumbnails(text="fox") == [] and store.count(provider="karlo") == 0
    assert leaderboard(store.votes()) == [] and store.cost_ledger() == []
    assert store.images_this_month("karlo") == 0
    assert outcome(lambda: store.get_run(made.compare_run)) == outcome(
        lambda: store.get_run(MISSING)
    )
    for image_id in made.images:
        for call in (store.get_image, partial(png_with_lineage, store)):
            assert outcome(lambda c=call, i=image_id: c(i)) == outcome(lambda c=call: c(MISSING))
    archive = zipfile.ZipFile(io.BytesIO(export_zip(store, made.images)))
    assert archive.namelist() == ["lineage.json"]
    assert json.loads(archive.read("lineage.json"))["images"] == []


def test_the_ledger_of_b_has_nothing_of_a(b: Owner, made: Made):
    ledger = b.ledger
    assert ledger.days() == [] and ledger.top_conversations() == [] and ledger.top_runs() == []
    assert ledger.karlo_quota().used == 0


# -- writing ---------------------------------------------------------------------------------
def test_b_cannot_change_or_delete_a_conversation(a: Owner, b: Owner, made: Made):
    before = everything(a, made)
    store = b.conversations
    for call in (
        lambda cid: store.update(cid, title="mine now", system_prompt="x", model="y"),
        lambda cid: store.add_message(cid, "user", "hello from b"),
        lambda cid: store.delete_messages_from(cid, made.message),
        store.delete,
    ):
        assert outcome(lambda c=call: c(made.conversation)) == outcome(lambda c=call: c(MISSING))
    assert outcome(lambda: store.update_message(made.message, content="b was here")) == outcome(
        lambda: store.update_message(10**9, content="b was here")
    )
    assert everything(a, made) == before


def test_b_cannot_change_or_delete_a_template_or_run(a: Owner, b: Owner, made: Made, engine):
    before = everything(a, made)
    store = b.chains
    for call in (
        lambda tid: store.update_template(tid, name="mine now"),
        store.delete_template,
    ):
        assert outcome(lambda c=call: c(made.template)) == outcome(lambda c=call: c(MISSING))
    # A run id is made by the engine (128 random bits): a run with A's id is refused, never
    # written over; a new id is simply a new run of B's.
    stolen = a.chains.get_run(made.studio_run)
    stolen.idea = "b was here"
    with pytest.raises(KeyError):
        store.save_run(stolen)
    assert everything(a, made) == before


def test_b_cannot_vote_add_lanes_or_delete_images_of_a(a: Owner, b: Owner, made: Made):
    before = everything(a, made)
    store = b.images
    request, result = lanes("x")[0]
    failure = ChatCanvasError(ErrorKind.SERVER_ERROR, "boom", provider="karlo")
    for call in (
        lambda rid: store.record_vote(rid, "tie"),
        lambda rid: store.record_vote(rid, None),
        lambda rid: store.save_lane(rid, 5, request, result),
        lambda rid: store.save_lane(rid, 6, request, failure),
    ):
        assert outcome(lambda c=call: c(made.compare_run)) == outcome(lambda c=call: c(MISSING))
    assert store.delete(made.images) == store.delete([MISSING]) == 0
    assert everything(a, made) == before


def test_what_b_makes_stays_b_s(a: Owner, b: Owner, made: Made, engine):
    before = everything(a, made)
    exported = export_json(a.conversations, made.conversation)
    mine = import_json(b.conversations, exported)
    b.conversations.add_message(mine.id, "user", "more jeju", cost_usd=0.5, completion_tokens=1)
    template = b.chains.import_template(a.chains.export_template(made.template))
    b.chains.save_run(engine.new_run("a cat", template))
    run = b.images.save_run("a cat", lanes("a cat"))
    b.images.record_vote(run.id, "tie")
    assert everything(a, made) == before
    assert [c.id for c in b.conversations.list("jeju")] == [mine.id]
    assert b.images.count() == 2 and b.ledger.karlo_quota().used == 1
    assert [t.id for t in b.chains.list_templates(include_builtin=False)] == [template.id]


def test_an_import_names_no_owner(b: Owner):
    payload = {
        "format": EXPORT_FORMAT,
        "owner_id": "owner-a",
        "messages": [{"role": "user", "content": "hi", "owner_id": "owner-a"}],
    }
    imported = import_json(b.conversations, payload)
    assert imported.owner_id == "owner-b"
    assert len(b.conversations.messages(imported.id)) == 1


def test_images_attached_to_a_message_of_a_are_invisible_to_b(a: Owner, b: Owner, made: Made):
    question = a.conversations.messages(made.conversation)[0]
    image = prepare_image(render_image(64, 48, "png", seed=2), "a.png")
    a.conversations.attachments.add(question.id, [image])
    assert b.conversations.attachments.images([question.id]) == {}
    assert b.conversations.attachments.thumbnails([question.id]) == {}
    assert a.conversations.attachments.images([question.id])[question.id] == [image]
    a.conversations.delete(made.conversation)  # deleted with its conversation
    assert a.conversations.attachments.images([question.id]) == {}


def test_the_edits_of_a_and_their_lineage_are_invisible_to_b(a: Owner, b: Owner, made: Made):
    parent = made.images[0]
    request = ImageRequest("make it night", "gpt-image-2")
    child = ImageEdits(a.images).save(parent, request, image_result("openai", "gpt-image-2"))
    (child_id,) = child.image_ids
    mine, theirs = ImageEdits(a.images), ImageEdits(b.images)
    assert mine.parent_of(child_id) == parent and [t.id for t in mine.edits_of(parent)] == [
        child_id
    ]
    assert outcome(lambda: theirs.parent_of(child_id)) == outcome(lambda: theirs.parent_of(MISSING))
    assert theirs.edits_of(parent) == [] and theirs.thumb(child_id) is None
    assert outcome(lambda: theirs.thumb(parent)) == outcome(lambda: theirs.thumb(MISSING))
