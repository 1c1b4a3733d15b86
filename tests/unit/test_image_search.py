"""The gallery's text search on SQLite (FTS5) and PostgreSQL (tsvector): prompts and the studio
run an image came from, Korean words with their particles, owners kept apart, hostile input
read as plain words, the index in step with every write, and revision 0009 indexing the rows
a database already had."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage.chains import ChainStore, StudioRunRow
from services.storage.db import Database, create_database_engine, utcnow
from services.storage.image_search import MAX_WORDS, search_words
from services.storage.images import ImageRow, ImageStore
from services.storage.migrate import head_revision, upgrade
from services.studio.builtins import BUILTIN_CHAINS
from services.studio.state import ChainRun, StepResult, StepStatus
from tests.fakes.karlo_server import render_image

OWNER, OTHER = "owner-1", "owner-2"
IDEA = "화성에서 바라본 일몰"  # "a sunset seen from Mars": 화성 + the particle 에서
STEPS = ("Dusty red plains under a pale blue sunset", "a pale blue sunset over red dunes")
PROMPT = "a pale blue sunset over red dunes, wide shot"


@pytest.fixture
def db(database):
    """Every test here runs on SQLite and on PostgreSQL."""
    return database


def studio_run(chains: ChainStore, idea: str = IDEA, outputs: tuple[str, ...] = STEPS) -> str:
    template = next(iter(BUILTIN_CHAINS.values()))
    run = ChainRun(idea, template, "gpt-5")
    run.steps = [
        StepResult(status=StepStatus.DONE, output=outputs[i % len(outputs)])
        for i in range(len(template.steps))
    ]
    run.final_prompt = outputs[-1]
    chains.save_run(run)
    return run.id


def save(store: ImageStore, prompt: str, *, run_id: str | None = None, revised: str | None = None):
    image = GeneratedImage(render_image(32, 32, "png", seed=1), "image/png", revised_prompt=revised)
    result = ImageResult("openai", "gpt-image-2", (image,), {"n": 1}, cost_usd=0.04)
    saved = store.save_run(
        prompt, [(ImageRequest(prompt, "gpt-image-2"), result)], studio_run_id=run_id
    )
    return saved.lanes[0].image_ids[0]


def found(store: ImageStore, text: str) -> set[str]:
    ids = {thumb.id for thumb in store.list_thumbnails(text=text, limit=100)}
    assert store.count(text=text) == len(ids)
    assert set(store.image_ids(text=text)) == ids
    return ids


def test_a_korean_word_finds_images_made_from_an_idea_with_its_particle(db):
    store = ImageStore(db, OWNER)
    from_idea = save(store, PROMPT, run_id=studio_run(ChainStore(db, OWNER)))
    other = save(store, "a lighthouse at night")
    assert found(store, "화성") == {from_idea}  # the English prompt never says 화성
    assert found(store, "화성에서") == {from_idea}
    assert found(store, "일몰") == {from_idea}
    assert found(store, "DUSTY") == {from_idea}  # a step's output, any case
    assert found(store, "lighthouse") == {other}
    assert found(store, "light") == {other}  # a word's beginning
    assert found(store, "화성 lighthouse") == set()  # every word must match
    assert found(store, "화성, sunset!") == {from_idea}  # in the idea, in the prompt
    assert found(store, "화성의") == set()


def test_negative_and_revised_prompts_are_searched(db):
    store = ImageStore(db, OWNER)
    image = GeneratedImage(render_image(32, 32, "png"), "image/png", revised_prompt="A teapot")
    result = ImageResult("openai", "dall-e-3", (image,), {"n": 1})
    request = ImageRequest("a pot", "dall-e-3", negative_prompt="blurry, text")
    run = store.save_run("a pot", [(request, result)], negative_prompt="blurry, text")
    (image_id,) = run.lanes[0].image_ids
    assert found(store, "teapot") == found(store, "blurry") == {image_id}


def test_another_owners_text_never_matches(db):
    mine, theirs = ImageStore(db, OWNER), ImageStore(db, OTHER)
    my_image = save(mine, "a red fox", run_id=studio_run(ChainStore(db, OWNER), "여우 사진"))
    their_run = studio_run(ChainStore(db, OTHER), "화성의 하늘")
    their_image = save(theirs, "a red fox on 화성", run_id=their_run)
    # an image of mine naming their studio run (an id is not a secret) gains no words from it
    linked = save(mine, "a plain field", run_id=their_run)
    assert found(mine, "fox") == {my_image}
    assert found(mine, "화성") == set() and found(mine, "하늘") == set()
    assert found(theirs, "화성") == {their_image} and found(theirs, "여우") == set()
    assert found(mine, "field") == {linked}


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", "NEAR(fox", "OR", "fox OR", "AND NOT", ":", "body:fox", "&", "!",
     "fox & !cat", "'", "''", "fox:*", "(", ")", "^fox", "-fox", "+", "{body}", "\\", "%", "_",
     "fox\x00", "'; DROP TABLE images; --", "fox | cat", "<->", "fox <-> cat"],
)  # fmt: skip
def test_hostile_queries_are_read_as_plain_words(db, query):
    store = ImageStore(db, OWNER)
    fox = save(store, "a fox and a cat near the orchard")
    words = search_words(query)  # "or" begins "orchard"
    in_prompt = words and all(w in ("fox", "cat", "near", "or") for w in words)
    expected = {fox} if in_prompt else set()
    assert found(store, query) == expected
    assert store.count() == 1  # nothing was dropped


def test_a_query_without_words_matches_nothing_and_long_ones_are_cut(db):
    store = ImageStore(db, OWNER)
    save(store, "a fox")
    assert found(store, "!!! ... ***") == set()
    assert store.count(text="   ") == 1  # blank: no filter
    assert len(search_words(" ".join(f"w{n}" for n in range(50)))) == MAX_WORDS


def test_the_index_follows_inserts_deletes_and_edits(db):
    store, chains = ImageStore(db, OWNER), ChainStore(db, OWNER)
    run_id = studio_run(chains, "a quiet idea", ("first draft",))
    image = save(store, "a harbour", run_id=run_id)
    assert found(store, "harbour") == found(store, "draft") == {image}
    # the studio run edited after the image was made: its new words find the image
    run = chains.get_run(run_id)
    run.idea = "화성에서 본 항구"
    for step in run.steps:
        step.output = "rewritten by hand"
    run.final_prompt = "a port at dusk"
    chains.save_run(run)
    assert found(store, "화성") == found(store, "rewritten") == {image}
    assert found(store, "quiet") == set() and found(store, "draft") == set()
    # an image's prompt changed in place (no path does this today; the index still follows)
    with db.session() as s, s.begin():
        s.execute(update(ImageRow).where(ImageRow.id == image).values(prompt="a lighthouse"))
    assert found(store, "lighthouse") == {image} and found(store, "harbour") == set()
    later = save(store, "a harbour again")
    assert found(store, "harbour") == {later}
    assert store.delete([image]) == 1
    assert found(store, "lighthouse") == set() and found(store, "화성") == set()
    # a studio run deleted: its words no longer find the images that keep its id
    third = save(store, "a boat", run_id=run_id)
    assert found(store, "항구") == {third}
    with db.session() as s, s.begin():
        s.execute(delete(StudioRunRow).where(StudioRunRow.id == run_id))
    assert found(store, "항구") == set() and found(store, "boat") == {third}


def test_a_search_pages_in_gallery_order_with_the_other_filters(db):
    store = ImageStore(db, OWNER)
    first, second = save(store, "a fox in snow"), save(store, "a fox in rain")
    save(store, "a lighthouse")
    assert [t.id for t in store.list_thumbnails(text="fox")] == [second, first]  # newest first
    # an image's time changed in place (no path does this today): the order follows it
    later = utcnow() + timedelta(days=2)
    with db.session() as s, s.begin():
        s.execute(update(ImageRow).where(ImageRow.id == first).values(created_at=later))
    assert [t.id for t in store.list_thumbnails(text="fox")] == [first, second]
    assert [t.id for t in store.list_thumbnails(text="fox", limit=1, offset=1)] == [second]
    assert store.image_ids(text="fox") == [second, first]  # oldest first
    assert store.count(text="fox", since=later.date()) == 1
    assert store.count(text="fox", until=utcnow().date()) == 1
    assert store.count(text="fox", provider="openai") == 2
    assert store.count(text="fox", provider="karlo") == 0
    assert [t.id for t in store.list_thumbnails(text="fox", model="gpt-image-2")] == [
        first,
        second,
    ]
    assert store.list_thumbnails(text="fox", model="dall-e-3") == []


def test_revision_0009_indexes_the_rows_a_database_already_has(empty_url):
    engine = create_database_engine(empty_url)
    upgrade(engine, "0008")
    engine.dispose()
    old = Database(empty_url, migrate=False)  # 0008's tables are today's, without search
    run_id = studio_run(ChainStore(old, OWNER))
    image = save(ImageStore(old, OWNER), PROMPT, run_id=run_id)
    plain = save(ImageStore(old, OWNER), "a lighthouse")
    theirs = save(ImageStore(old, OTHER), "화성 lighthouse")
    old.engine.dispose()
    db = Database(empty_url)
    try:
        store = ImageStore(db, OWNER)
        assert head_revision() >= "0009"
        assert found(store, "화성") == {image} and found(store, "lighthouse") == {plain}
        assert found(ImageStore(db, OTHER), "화성") == {theirs}
        assert [t.id for t in store.list_thumbnails()] == [plain, image]  # newest first
        new = save(store, "another lighthouse")  # and kept in step from then on
        assert found(store, "lighthouse") == {plain, new}
    finally:
        db.engine.dispose()
