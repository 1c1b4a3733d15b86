"""The Gallery page driven through AppTest on a real SQLite file: the image grid with filters,
paging, detail view, selection and delete; the leaderboard; the cost ledger."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update

from components import state as K
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage import ConversationStore, open_database
from services.storage.chains import ChainStore
from services.storage.images import CompareLaneRow, CompareRunRow, ImageRow, ImageStore
from services.storage.usage import UsageEvent, UsageStore
from services.studio import BUILTIN_CHAINS, DEFAULT_CHAIN_ID, ChainRun, StepStatus
from tests.app.conftest import new_app

OWNER = "local"


def png(shade: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (shade % 256, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def lane(
    provider: str = "openai",
    model: str = "gpt-image-2",
    n: int = 1,
    cost: float | None = 0.04,
    seed: int | None = None,
) -> ImageResult:
    images = tuple(
        GeneratedImage(png(i), "image/png", seed=None if seed is None else seed + i)
        for i in range(n)
    )
    return ImageResult(
        provider,
        model,
        images,
        params={"model": model, "size": "1024x1024", "n": n},
        latency_ms=2300,
        cost_usd=cost,
    )


class Seeder:
    """Writes straight to the database the page reads (the app_env DATABASE_URL)."""

    def __init__(self, tmp_path) -> None:
        self.db = open_database(f"sqlite:///{tmp_path}/chatcanvas.db")
        self.images = ImageStore(self.db, OWNER)
        self.chats = ConversationStore(self.db, OWNER)

    def paid(self, kind: str, provider: str, cost: float, images: int = 0) -> None:
        """A paid call as the budget records it when the call ends."""
        UsageStore(self.db, OWNER).add(UsageEvent(kind, provider, "m", cost, images=images))

    def run(self, prompt: str, *lanes: ImageResult, **kwargs) -> str:
        negative = kwargs.get("negative_prompt", "")
        pairs = [(ImageRequest(prompt, r.model, negative_prompt=negative), r) for r in lanes]
        return self.images.save_run(prompt, pairs, **kwargs).id

    def many(self, count: int) -> None:
        for i in range(count):
            self.run(f"painting number {i}", lane())

    def backdate(self, run_id: str, days: int) -> None:
        moment = datetime.now() - timedelta(days=days)
        with self.db.session() as s, s.begin():
            s.execute(
                update(CompareRunRow).where(CompareRunRow.id == run_id).values(created_at=moment)
            )
            for table in (CompareLaneRow, ImageRow):
                s.execute(update(table).where(table.run_id == run_id).values(created_at=moment))


@pytest.fixture
def seed(app_env) -> Seeder:
    return Seeder(app_env)


def gallery(**query: str):
    at = new_app(**query).run()
    at.switch_page("app_pages/gallery.py").run()
    assert not at.exception, at.exception
    return at


def rerun(at):
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def tiles(at) -> list[str]:
    """Ids of the images shown in the grid, in order."""
    return [
        b.key.removeprefix("gallery_open_") for b in at.button if b.key.startswith("gallery_open_")
    ]


def open_tab(at, name: str):
    labels = {"images": "Images", "leaderboard": "Leaderboard", "costs": "Costs"}
    at.session_state[K.GALLERY_TAB] = labels[name]
    return rerun(at)


def table(at, index: int = 0) -> list[dict]:
    return at.dataframe[index].value.to_dict("records")


# -- images ----------------------------------------------------------------------------------
def test_empty_gallery_says_so(app_env):
    at = gallery()
    assert "No images yet." in texts(at)
    assert tiles(at) == []


def test_images_are_listed_newest_first_after_a_save(seed):
    seed.run("a red fox in snow", lane())
    seed.run("an otter with a hat", lane("karlo", "karlo-v2.1", n=2, cost=None, seed=7))
    at = gallery()
    assert len(tiles(at)) == 3
    shown = texts(at)
    assert "3 images" in shown
    assert "Kakao Karlo · karlo-v2.1" in shown and "OpenAI GPT Image · gpt-image-2" in shown
    assert shown.index("an otter with a hat") < shown.index("a red fox in snow")
    assert len(at.get("image")) == 3


def test_filter_by_provider_model_and_text(seed):
    seed.run("a red fox in snow", lane())
    seed.run("a blue fox at night", lane("karlo", "karlo-v2.1", cost=None))
    seed.run("an otter with a hat", lane("karlo", "karlo-v2.0", cost=None))
    at = gallery()
    at.selectbox(key=K.GALLERY_PROVIDER).set_value("karlo")
    rerun(at)
    assert len(tiles(at)) == 2 and "OpenAI GPT Image" not in texts(at)
    at.selectbox(key=K.GALLERY_MODEL).set_value("karlo-v2.0")
    rerun(at)
    assert len(tiles(at)) == 1 and "an otter with a hat" in texts(at)
    # the filters wait while another tab is open
    rerun(open_tab(at, "leaderboard"))
    open_tab(at, "images")
    assert len(tiles(at)) == 1 and at.selectbox(key=K.GALLERY_MODEL).value == "karlo-v2.0"
    at.button(key="gallery_clear_filters").click()
    rerun(at)
    assert len(tiles(at)) == 3
    at.text_input(key=K.GALLERY_TEXT).input("FOX")
    rerun(at)
    assert len(tiles(at)) == 2 and "an otter" not in texts(at)
    at.text_input(key=K.GALLERY_TEXT).input("nothing like this")
    rerun(at)
    assert "No images match these filters." in texts(at)


def test_filter_by_dates(seed):
    old = seed.run("an old painting", lane())
    seed.backdate(old, days=10)
    seed.run("a new painting", lane())
    at = gallery()
    today = datetime.now().date()
    at.date_input(key=K.GALLERY_DATES).set_value((today - timedelta(days=1), today))
    rerun(at)
    assert len(tiles(at)) == 1 and "a new painting" in texts(at)
    at.date_input(key=K.GALLERY_DATES).set_value(
        (today - timedelta(days=11), today - timedelta(days=9))
    )
    rerun(at)
    assert len(tiles(at)) == 1 and "an old painting" in texts(at)


def test_pages_of_24_with_the_page_in_the_url(seed):
    seed.many(30)
    at = gallery()
    first = tiles(at)
    assert len(first) == 24 and "Page 1 of 2" in texts(at)
    assert at.button(key="gallery_prev").disabled
    at.button(key="gallery_next").click()
    rerun(at)
    second = tiles(at)
    assert len(second) == 6 and not set(first) & set(second)
    assert at.query_params["page"] == "2"
    # a filter change goes back to page 1
    at.text_input(key=K.GALLERY_TEXT).input("painting")
    rerun(at)
    assert "page" not in at.query_params and len(tiles(at)) == 24
    # a bookmarked page opens there; a page past the end shows the last one
    assert len(tiles(gallery(page="2"))) == 6
    assert len(tiles(gallery(page="99"))) == 6


def test_detail_view_shows_the_lineage(seed):
    studio = ChainRun(
        idea="여우가 눈밭을 걷는다", template=BUILTIN_CHAINS[DEFAULT_CHAIN_ID], model="m"
    )
    for n, step in enumerate(studio.steps, 1):
        step.status, step.output = StepStatus.DONE, f"output of step {n}"
    studio.final_prompt = "A red fox walking through deep snow, watercolor"
    ChainStore(seed.db, OWNER).save_run(studio)
    run_id = seed.run(
        "A red fox walking through deep snow, watercolor",
        lane(seed=None),
        lane("karlo", "karlo-v2.1", cost=None, seed=4242),
        negative_prompt="blurry",
        studio_run_id=studio.id,
    )
    seed.images.record_vote(run_id, "lane:1")
    karlo_image = seed.images.get_run(run_id).lanes[1].image_ids[0]

    at = gallery()
    at.button(key=f"gallery_open_{karlo_image}").click()
    rerun(at)
    shown = texts(at)
    assert "**Seed** 4242" in shown
    assert "2.3 s" in shown and "$0 (free quota)" in shown  # Karlo: free within its quota
    assert "A red fox walking through deep snow, watercolor" in shown
    assert "blurry" in shown
    assert "Lane 2: Kakao Karlo · karlo-v2.1" in shown and "this image" in shown
    assert "Lane 2 won — this image won" in shown
    assert "여우가 눈밭을 걷는다" in shown and "output of step 4" in shown
    assert at.get("json")[0].value and '"size": "1024x1024"' in at.get("json")[0].value
    assert any(b.key == "gallery_download_png" for b in at.get("download_button"))
    # the session keeps the id, never the bytes
    assert at.session_state[K.GALLERY_OPEN] == karlo_image
    # the lineage links to its comparison (to see it whole, or share it) and its studio run
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    assert "compare" in links["Open the comparison (to see it whole or share it)"].page
    assert (
        f"run={run_id}" in links["Open the comparison (to see it whole or share it)"].query_string
    )
    assert f"run={studio.id}" in links["Open this run in the Prompt Studio"].query_string


def test_delete_from_the_detail_view_asks_first(seed):
    seed.run("keep me", lane())
    doomed = seed.images.get_run(seed.run("delete me", lane())).lanes[0].image_ids[0]
    at = gallery()
    at.button(key=f"gallery_open_{doomed}").click()
    rerun(at)
    at.button(key="gallery_delete_image").click()
    rerun(at)
    assert "Delete this image?" in texts(at)
    assert seed.images.get_image(doomed) is not None
    at.button(key="gallery_confirm_delete_image").click()
    rerun(at)
    assert seed.images.get_image(doomed) is None
    assert tiles(at) != [] and doomed not in tiles(at)
    assert "delete me" not in texts(at) and "1 image" in texts(at) and "1 images" not in texts(at)
    assert K.GALLERY_OPEN not in at.session_state


def test_select_export_and_delete_a_selection(seed):
    seed.many(5)
    at = gallery()
    chosen = tiles(at)[:2]
    for image_id in chosen:
        at.checkbox(key=K.GALLERY_PICK.format(id=image_id)).check()
        rerun(at)
    assert at.session_state[K.GALLERY_SELECTED] == chosen
    assert "2 selected" in texts(at)
    assert any(b.key == "gallery_export_zip" for b in at.get("download_button"))
    # ticks survive a move to another page of the grid and back
    at.checkbox(key=K.GALLERY_PICK.format(id=chosen[0])).uncheck()
    rerun(at)
    assert at.session_state[K.GALLERY_SELECTED] == chosen[1:]
    at.button(key="gallery_select_page").click()
    rerun(at)
    assert sorted(at.session_state[K.GALLERY_SELECTED]) == sorted(tiles(at))
    at.button(key="gallery_delete_selected").click()
    rerun(at)
    assert "Delete 5 images?" in texts(at)
    at.button(key="gallery_confirm_delete_selected").click()
    rerun(at)
    assert "No images yet." in texts(at)
    assert at.session_state[K.GALLERY_SELECTED] == []


def test_the_grid_reads_no_full_image_bytes(seed, monkeypatch):
    seed.many(3)
    calls = []
    original = ImageStore.get_image
    monkeypatch.setattr(
        ImageStore, "get_image", lambda self, i: calls.append(i) or original(self, i)
    )
    at = gallery()
    assert len(tiles(at)) == 3 and calls == []
    for value in at.session_state.values():
        assert not isinstance(value, bytes | bytearray)


# -- leaderboard -----------------------------------------------------------------------------
def test_leaderboard_from_votes(seed):
    at = open_tab(gallery(), "leaderboard")
    assert "No votes yet." in texts(at)
    a = seed.run("duel one", lane(), lane("karlo", "karlo-v2.1", cost=None))
    b = seed.run("duel two", lane(), lane("karlo", "karlo-v2.1", cost=None))
    c = seed.run("duel three", lane(), lane("karlo", "karlo-v2.1", cost=None))
    seed.images.record_vote(a, "lane:0")
    seed.images.record_vote(b, "lane:0")
    seed.images.record_vote(c, "tie")
    rerun(at)
    rows = table(at)
    assert [(r["Provider"], r["Model"]) for r in rows] == [
        ("OpenAI GPT Image", "gpt-image-2"),
        ("Kakao Karlo", "karlo-v2.1"),
    ]
    winner, loser = rows
    assert (winner["Wins"], winner["Losses"], winner["Ties"]) == (2, 0, 1)
    assert (loser["Wins"], loser["Losses"], loser["Ties"]) == (0, 2, 1)
    assert winner["Win rate"] == pytest.approx(2 / 3)
    assert winner["Elo"] > 1000 > loser["Elo"]
    assert at.get("vega_lite_chart")


# -- costs -----------------------------------------------------------------------------------
def test_costs_join_chat_and_images_with_the_karlo_month(seed):
    conversation = seed.chats.create(title="Fox ideas")
    seed.chats.add_message(conversation.id, "user", "hi")
    seed.chats.add_message(
        conversation.id, "assistant", "hello", prompt_tokens=5, completion_tokens=9, cost_usd=0.02
    )
    seed.paid("chat", "openai", 0.02)
    seed.paid("studio", "openai", 0.01)  # a Prompt Studio step
    seed.run("a fox", lane(cost=0.04), lane("karlo", "karlo-v2.1", n=3, cost=None))
    seed.paid("image", "openai", 0.04, images=1)
    seed.paid("image", "karlo", 0.0, images=3)  # free within Kakao's quota: $0, not unknown
    at = open_tab(gallery(), "costs")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Chat"] == "$0.0300"
    assert metrics["Images (4)"] == "$0.0400"
    assert metrics["Total"] == "$0.0700"
    assert "Prompt Studio steps and re-runs $0.0100" in texts(at)
    (day,) = table(at, 0)
    assert day["Chat"] == "$0.0300" and day["Images made"] == 4
    (top_conversation,) = table(at, 1)
    assert top_conversation == {"Conversation": "Fox ideas", "Messages": 2, "Cost": "$0.0200"}
    (top_run,) = table(at, 2)
    assert top_run["Prompt"] == "a fox" and top_run["Lanes"] == 2
    assert top_run["Cost"] == "$0.0400" and top_run["Vote"] == "Not voted yet"
    progress = at.get("progress")[0]
    assert "3 of 500 free images used this month" in progress.proto.text


def test_costs_before_anything_was_spent(app_env):
    at = open_tab(gallery(), "costs")
    assert "No spending recorded in the last 30 days." in texts(at)
    assert {m.label: m.value for m in at.metric}["Total"] == "$0"
    assert "0 of 500 free images used this month" in at.get("progress")[0].proto.text


def test_korean_labels(seed):
    seed.run("a fox", lane())
    at = new_app().run()
    at.sidebar.radio(key=K.LANG).set_value("ko").run()  # switched on the chat page
    at.switch_page("app_pages/gallery.py")
    shown = texts(rerun(at))
    assert at.subheader[0].value == "갤러리" and "이미지 1장" in shown
    assert [tab.label for tab in at.tabs] == ["이미지", "순위표", "비용"]
    at.session_state[K.GALLERY_TAB] = "Costs"  # opened before the language switch
    rerun(at)
    assert at.session_state[K.GALLERY_TAB] == "비용"
    assert at.metric[0].label == "합계"
    assert "이번 달 무료 500장 중 0장 사용" in at.get("progress")[0].proto.text


def flagged_run(seed: Seeder) -> str:
    """A Karlo lane whose image Karlo flagged as unsafe; returns the image's id."""
    image = GeneratedImage(png(9), "image/png", seed=1, nsfw=True, nsfw_score=0.97)
    result = ImageResult("karlo", "karlo-v2.1", (image,), params={}, latency_ms=900)
    run_id = seed.run("a stormy sea", result)
    return seed.images.get_run(run_id).lanes[0].image_ids[0]


def test_a_flagged_image_is_blurred_in_the_grid_and_the_detail_until_clicked(seed):
    """Issue 13.11."""
    image_id = flagged_run(seed)
    at = gallery()
    at.button(key=f"gallery_open_{image_id}").click()
    rerun(at)
    assert "Blurred: flagged as possibly unsafe." in captions(at)
    at.button(key=f"flagged_show_gallery_{image_id}").click()
    rerun(at)
    assert "Blurred: flagged as possibly unsafe." not in captions(at)
    assert not any(b.key.startswith("flagged_show_") for b in at.button)


def captions(at) -> list[str]:
    return [img.caption for image in at.image for img in image.proto.imgs]


def test_the_vote_column_of_the_costs_table_has_room(seed):
    """Issue 13.16: "Not voted yet" is not cut short by the prompt beside it."""
    import json

    seed.run("a fox " * 10, lane())
    at = open_tab(gallery(), "costs")
    config = json.loads(at.dataframe[-1].proto.columns)
    assert config["Vote"]["width"] == "medium"


def test_an_image_whose_file_is_gone_or_unreadable_is_said_plainly(seed, app_env):
    """Image bytes live in files (the blob store): a file deleted by hand reads as a missing
    image, a file that cannot be read as the storage error; the page stays up."""
    gone, broken = (
        seed.images.get_run(seed.run(prompt, lane())).lanes[0].image_ids[0]
        for prompt in ("gone", "broken")
    )
    next(Path(app_env).rglob(f"{gone}.png")).unlink()
    unreadable = next(Path(app_env).rglob(f"{broken}.png"))
    unreadable.unlink()
    unreadable.mkdir()  # reading it fails, for root too
    at = gallery()
    at.button(key=f"gallery_open_{gone}").click()
    rerun(at)
    assert "This image no longer exists." in texts(at)
    at = gallery()
    at.button(key=f"gallery_open_{broken}").click()
    rerun(at)
    assert "cannot read or write its stored images" in texts(at)
