"""ImageStore on a real SQLite file: runs, lanes, thumbnails, lineage, exports, votes, costs."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import event, update

from services.errors import ChatCanvasError, ErrorKind
from services.gallery_export import (
    LINEAGE_FORMAT,
    export_zip,
    lineage,
    png_with_lineage,
    read_png_lineage,
    write_pngs,
    write_zip,
)
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.leaderboard import leaderboard
from services.storage.db import utcnow
from services.storage.images import CompareLaneRow, ImageRow, ImageStore
from services.votes import VoteOutcome
from tests.fakes.karlo_server import render_image

OWNER = "owner-1"


@pytest.fixture
def db(database):
    """Every test here runs on SQLite and on PostgreSQL."""
    return database


@pytest.fixture
def store(db):
    return ImageStore(db, OWNER)


def result(
    provider: str = "openai",
    model: str = "gpt-image-2",
    n: int = 1,
    cost: float | None = 0.04,
    fmt: str = "png",
    size: tuple[int, int] = (640, 480),
    **image_kwargs,
) -> ImageResult:
    mime = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}[fmt]
    images = tuple(
        GeneratedImage(render_image(*size, fmt, seed=i), mime, **image_kwargs) for i in range(n)
    )
    return ImageResult(
        provider=provider,
        model=model,
        images=images,
        params={"model": model, "prompt": "p", "n": n},
        latency_ms=1234,
        cost_usd=cost,
        usage={"input_tokens": 5, "output_tokens": 1056} if provider == "openai" else {},
    )


def karlo_result(n: int = 1) -> ImageResult:
    seeds = tuple(100 + k for k in range(n))
    images = tuple(
        GeneratedImage(render_image(640, 480, "webp", s), "image/webp", s, False, 0.01)
        for s in seeds
    )
    return ImageResult("karlo", "karlo-v2.1", images, {"version": "v2.1"}, seeds, 900)


def duel(
    store: ImageStore,
    a: ImageResult | ChatCanvasError,
    b: ImageResult | ChatCanvasError,
    prompt: str = "a red fox",
):
    model_a = a.model if isinstance(a, ImageResult) else "gpt-image-2"
    model_b = b.model if isinstance(b, ImageResult) else "karlo-v2.1"
    return store.save_run(
        prompt, [(ImageRequest(prompt, model_a), a), (ImageRequest(prompt, model_b), b)]
    )


# -- saving and reading ---------------------------------------------------------------------


def test_save_run_keeps_lanes_images_and_failures(store):
    err = ChatCanvasError(ErrorKind.SERVICE_TERMINATED, "HTTP 400, Kakao code -9", provider="karlo")
    # the run keeps what the user typed; each image keeps the prompt its lane sent
    run = store.save_run(
        "빨간 여우",
        [
            (
                ImageRequest("a red fox", "gpt-image-2", negative_prompt="blurry", count=2),
                result(n=2, cost=0.08),
            ),
            (ImageRequest("a red fox", "karlo-v2.1"), err),
        ],
        negative_prompt="흐릿함",
        blind=True,
        studio_run_id="studio-123",
    )
    assert run.prompt == "빨간 여우" and run.negative_prompt == "흐릿함"
    assert run.blind and run.outcome is None and run.studio_run_id == "studio-123"
    ok, failed = run.lanes
    assert ok.ok and len(ok.image_ids) == 2 and ok.cost_usd == 0.08 and ok.latency_ms == 1234
    assert ok.params == {"model": "gpt-image-2", "prompt": "p", "n": 2}
    assert not failed.ok and failed.error_kind == "service_terminated"
    assert failed.provider == "karlo" and failed.model == "karlo-v2.1"
    assert store.get_run(run.id) == run

    image = store.get_image(ok.image_ids[0])
    assert image is not None
    assert (image.width, image.height, image.mime) == (640, 480, "image/png")
    assert image.cost_usd == pytest.approx(0.04)  # its share of the call
    assert image.prompt == "a red fox" and image.negative_prompt == "blurry"
    assert image.studio_run_id == "studio-123"
    assert Image.open(io.BytesIO(image.data)).size == (640, 480)


def test_long_model_ids_are_kept(store):
    long_model = "gpt-image-2:" + "fine-tuned-by-a-team-with-a-long-name:" * 5
    run = duel(store, result(model=long_model), karlo_result())
    assert run.lanes[0].model == long_model
    assert store.get_image(run.lanes[0].image_ids[0]).model == long_model
    assert store.count(model=long_model) == 1


def test_thumbnails_are_small_webp(store):
    duel(store, result(size=(1536, 1024)), karlo_result())
    for thumb in store.list_thumbnails():
        assert thumb.thumb_mime == "image/webp"
        with Image.open(io.BytesIO(thumb.thumbnail)) as pil:
            assert pil.format == "WEBP" and max(pil.size) <= 256
    openai_thumb = store.list_thumbnails(provider="openai")[0]
    assert (openai_thumb.width, openai_thumb.height) == (1536, 1024)


def test_karlo_seeds_and_nsfw_are_kept(store):
    run = duel(store, result(), karlo_result(n=2))
    lane = run.lanes[1]
    assert lane.seeds == (100, 101)
    images = [store.get_image(i) for i in lane.image_ids]
    assert [i.seed for i in images] == [100, 101]
    assert all(i.nsfw is False and i.nsfw_score == pytest.approx(0.01) for i in images)


def test_pagination_filters_and_no_full_bytes(store, db):
    for k in range(15):
        duel(store, result(), karlo_result(), prompt=f"fox number {k}")
    statements: list[str] = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert store.count() == 30
        pages = [store.list_thumbnails(limit=12, offset=o) for o in (0, 12, 24)]
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert [len(p) for p in pages] == [12, 12, 6]
    ids = [t.id for page in pages for t in page]
    assert len(set(ids)) == 30
    created = [t.created_at for page in pages for t in page]
    assert created == sorted(created, reverse=True)  # newest first
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects and all("images.data" not in s for s in selects)
    assert any("images.thumbnail" in s for s in selects)

    assert store.count(provider="karlo") == 15
    assert {t.model for t in store.list_thumbnails(model="gpt-image-2", limit=100)} == {
        "gpt-image-2"
    }
    assert store.count(text="NUMBER 1") == 12  # 1, 10..14, in both lanes
    assert store.count(text="100%") == 0  # wildcards are matched literally


def test_date_filters(store, db):
    duel(store, result(), karlo_result(), prompt="old fox")
    old = utcnow() - timedelta(days=10)
    with db.session() as s, s.begin():
        s.execute(update(ImageRow).values(created_at=old))
    duel(store, result(), karlo_result(), prompt="new fox")
    today = utcnow().date()
    assert store.count(since=today) == 2
    assert store.count(until=old.date()) == 2
    assert store.count(since=old.date(), until=old.date()) == 2
    assert store.count(since=old - timedelta(days=1), until=old + timedelta(days=1)) == 2
    assert store.count(since=today - timedelta(days=30)) == 4


def test_owners_are_isolated(store, db):
    run = duel(store, result(), karlo_result())
    other = ImageStore(db, "someone-else")
    image_id = run.lanes[0].image_ids[0]
    assert other.count() == 0 and other.list_thumbnails() == []
    assert other.get_image(image_id) is None and other.get_run(run.id) is None
    assert other.delete([image_id]) == 0
    with pytest.raises(KeyError):
        other.record_vote(run.id, "lane:0")
    archive = zipfile.ZipFile(io.BytesIO(export_zip(other, [image_id])))
    assert archive.namelist() == ["lineage.json"]
    assert json.loads(archive.read("lineage.json"))["images"] == []
    assert store.get_image(image_id) is not None


def test_delete_keeps_costs_quota_and_votes(store):
    run = duel(store, result(), karlo_result(n=2))
    store.record_vote(run.id, "lane:1")
    karlo_ids = run.lanes[1].image_ids
    assert store.delete([*karlo_ids, "no-such-id"]) == 2
    assert store.get_image(karlo_ids[0]) is None
    assert store.count() == 1
    assert store.images_this_month("karlo") == 2
    assert store.get_run(run.id).lanes[1].image_ids == ()
    assert sum(d.cost_usd for d in store.cost_ledger()) == pytest.approx(0.04)
    assert {r.model: r.wins for r in leaderboard(store.votes())}["karlo-v2.1"] == 1


# -- lineage and export -----------------------------------------------------------------------


def test_png_with_lineage_round_trip(store):
    run = duel(store, result(), karlo_result(), prompt="빨간 여우, watercolor")
    karlo_id = run.lanes[1].image_ids[0]  # stored as WebP: converted to PNG
    png = png_with_lineage(store, karlo_id)
    with Image.open(io.BytesIO(png)) as pil:
        assert pil.format == "PNG"
        assert pil.size == (640, 480)
        assert pil.text["Description"] == "빨간 여우, watercolor"
        assert pil.text["Software"] == "ChatCanvas"
    found = read_png_lineage(png)
    assert found == lineage(store.get_image(karlo_id))
    assert found["format"] == LINEAGE_FORMAT
    assert found["provider"] == "karlo" and found["seed"] == 100
    assert found["params"] == {"version": "v2.1"}
    assert found["run_id"] == run.id and found["lane_index"] == 1
    with pytest.raises(KeyError):
        png_with_lineage(store, "missing")


def test_whole_gallery_to_a_file_and_pngs_to_a_folder(store, db, tmp_path):
    run = duel(store, result(n=2), karlo_result())
    ids = [i for lane in run.lanes for i in lane.image_ids]
    assert store.image_ids() == ids and store.image_ids(provider="karlo") == ids[2:]
    assert ImageStore(db, "someone-else").image_ids() == []
    assert write_zip(store, tmp_path / "all.zip") == 3
    manifest = json.loads(zipfile.ZipFile(tmp_path / "all.zip").read("lineage.json"))
    assert [e["id"] for e in manifest["images"]] == ids
    assert zipfile.ZipFile(io.BytesIO(export_zip(store))).namelist() == [
        *(e["file"] for e in manifest["images"]),
        "lineage.json",
    ]
    paths = write_pngs(store, [ids[2], "missing"], tmp_path / "out")
    assert [p.suffix for p in paths] == [".png"] and paths[0].name.startswith("karlo_karlo-v2.1_")
    assert read_png_lineage(paths[0].read_bytes()) == lineage(store.get_image(ids[2]))


def test_png_without_lineage_reads_none():
    assert read_png_lineage(render_image(8, 8, "png")) is None


def test_export_zip(store):
    run = duel(store, result(n=2), karlo_result())
    ids = [*run.lanes[0].image_ids, *run.lanes[1].image_ids, "missing"]
    archive = zipfile.ZipFile(io.BytesIO(export_zip(store, ids)))
    names = archive.namelist()
    assert "lineage.json" in names
    manifest = json.loads(archive.read("lineage.json"))
    assert manifest["format"] == "chatcanvas.images.v1"
    assert [e["id"] for e in manifest["images"]] == ids[:3]
    for entry in manifest["images"]:
        assert entry["file"] in names
        stored = store.get_image(entry["id"])
        assert archive.read(entry["file"]) == stored.data
        assert entry["file"].endswith(".webp" if stored.provider == "karlo" else ".png")
    assert not any("sk-" in json.dumps(e) for e in manifest["images"])


# -- votes and the leaderboard ----------------------------------------------------------------


def test_vote_validation(store):
    run = duel(store, result(), karlo_result())
    for outcome in ("lane:0", "lane:1", "tie", "both_bad", None):
        store.record_vote(run.id, outcome)
        stored = store.get_run(run.id).outcome
        assert (str(stored) if stored else None) == outcome
        assert stored == (VoteOutcome.parse(outcome) if outcome else None)
    assert store.get_run(run.id).voted_at is None
    for bad in ("lane:2", "lane:-1", "lane:x", "draw", ""):
        with pytest.raises(ValueError):
            store.record_vote(run.id, bad)
    with pytest.raises(KeyError):
        store.record_vote("missing", "tie")


def expected(a: float, b: float) -> float:
    return 1 / (1 + 10 ** ((b - a) / 400))


def test_elo_and_counts(store):
    gpt, karlo = ("openai", "gpt-image-2"), ("karlo", "karlo-v2.1")
    first = duel(store, result(), karlo_result())
    store.record_vote(first.id, "lane:0")  # gpt beats karlo
    board = {(r.provider, r.model): r for r in leaderboard(store.votes())}
    assert board[gpt].elo == 1016.0 and board[karlo].elo == 984.0

    second = duel(store, result(), karlo_result())
    store.record_vote(second.id, "tie")
    third = duel(store, result(), karlo_result())
    store.record_vote(third.id, "both_bad")
    duel(store, result(), karlo_result())  # not voted: not a game

    a, b = 1016.0, 984.0
    a, b = a + 32 * (0.5 - expected(a, b)), b + 32 * (0.5 - expected(b, a))
    board = {(r.provider, r.model): r for r in leaderboard(store.votes())}
    top = leaderboard(store.votes())[0]
    assert (top.provider, top.model) == gpt
    assert board[gpt].elo == pytest.approx(round(a, 1))
    assert board[karlo].elo == pytest.approx(round(b, 1))
    assert (board[gpt].wins, board[gpt].losses, board[gpt].ties, board[gpt].both_bad) == (
        1,
        0,
        1,
        1,
    )
    assert (board[karlo].wins, board[karlo].losses, board[karlo].ties) == (0, 1, 1)
    assert board[gpt].games == 2 and board[gpt].win_rate == 0.5
    assert board[karlo].win_rate == 0.0


def test_elo_is_zero_sum_and_ignores_failed_and_mirror_lanes(store):
    err = ChatCanvasError(ErrorKind.QUOTA_EXCEEDED, provider="karlo")
    failed = duel(store, result(), err)
    store.record_vote(failed.id, "lane:0")  # the only image wins against nothing
    mirror = duel(store, result(), result())
    store.record_vote(mirror.id, "lane:1")  # same model both sides
    assert leaderboard(store.votes()) == []

    for k in range(6):
        run = duel(store, result(model="gpt-image-2.5-flare"), karlo_result())
        store.record_vote(run.id, "lane:0" if k % 3 else "lane:1")
    rows = leaderboard(store.votes())
    assert sum(r.elo - 1000 for r in rows) == pytest.approx(0, abs=0.2)
    assert {r.model: (r.wins, r.losses) for r in rows} == {
        "gpt-image-2.5-flare": (4, 2),
        "karlo-v2.1": (2, 4),
    }


def test_leaderboard_is_per_owner(store, db):
    run = duel(store, result(), karlo_result())
    store.record_vote(run.id, "lane:0")
    assert leaderboard(ImageStore(db, "someone-else").votes()) == []


# -- costs and quota ----------------------------------------------------------------------------


def test_cost_ledger_per_day(store, db):
    duel(store, result(cost=0.04), karlo_result())
    yesterday = utcnow() - timedelta(days=1)
    with db.session() as s, s.begin():
        s.execute(update(CompareLaneRow).values(created_at=yesterday))
    duel(store, result(cost=0.01), karlo_result(n=2))
    store.save_run(
        "priceless",
        [
            (
                ImageRequest("x", "gpt-image-2.5-flare"),
                result(model="gpt-image-2.5-flare", cost=None),
            )
        ],
    )
    days = store.cost_ledger()
    assert [d.day for d in days] == [yesterday.date(), utcnow().date()]
    assert days[0].cost_usd == pytest.approx(0.04) and days[0].images == 2
    assert days[1].cost_usd == pytest.approx(0.01) and days[1].images == 4
    # Karlo has no price and one GPT Image model has none: the day's total is a lower bound
    assert days[0].unpriced_calls == 1 and days[1].unpriced_calls == 2
    assert not days[1].has_estimate
    assert store.cost_ledger(since=utcnow().date()) == days[1:]
    assert store.cost_ledger(until=yesterday.date()) == days[:1]


def test_karlo_images_this_month(store, db):
    duel(store, result(), karlo_result(n=2))
    last_month = utcnow().replace(day=1) - timedelta(days=2)
    with db.session() as s, s.begin():
        s.execute(update(CompareLaneRow).values(created_at=last_month))
    duel(store, result(), karlo_result(n=1))
    duel(store, result(), ChatCanvasError(ErrorKind.QUOTA_EXCEEDED, provider="karlo"))
    assert store.images_this_month("karlo") == 1
    assert store.images_this_month("karlo", today=last_month.date()) == 3
    assert store.images_this_month("karlo", today=date(2000, 1, 31)) == 3
    assert ImageStore(db, "someone-else").images_this_month("karlo") == 0


def test_unreadable_bytes_are_kept_without_a_thumbnail(store):
    junk = ImageResult(
        "openai", "gpt-image-2", (GeneratedImage(b"\x89PNG\r\n\x1a\nbroken", "image/png"),), {}
    )
    run = store.save_run("junk", [(ImageRequest("junk", "gpt-image-2"), junk)])
    image = store.get_image(run.lanes[0].image_ids[0])
    assert image.data.endswith(b"broken") and image.width is None
    assert store.list_thumbnails()[0].thumbnail is None


def test_datetime_and_date_bounds_agree(store):
    duel(store, result(), karlo_result())
    now = utcnow()
    assert store.count(since=now - timedelta(minutes=5), until=now + timedelta(minutes=5)) == 2
    assert store.count(since=datetime.combine(now.date(), datetime.min.time())) == 2
