"""The Compare page when the database refuses a lane: the paid images stay on screen and
downloadable, and the page says they were not stored."""

from __future__ import annotations

import sqlite3

import pytest

from tests.app.conftest import new_app
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openai_server import FAKE_KEY, FakeOpenAI


@pytest.fixture
def page(tmp_path, monkeypatch):
    with FakeOpenAIImages() as images, FakeOpenAI(image_handler=images) as fake:
        monkeypatch.setenv("CHATCANVAS_SKIP_DOTENV", "1")
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/chatcanvas.db")
        monkeypatch.delenv("KAKAO_REST_API_KEY", raising=False)  # one lane: GPT Image
        at = new_app().run()
        at.switch_page("app_pages/compare.py").run()
        assert not at.exception, at.exception
        yield at, tmp_path / "chatcanvas.db"


def test_a_lane_the_database_refuses_stays_downloadable(page):
    at, db_file = page
    with sqlite3.connect(db_file) as raw:  # the disk fills up after the page has loaded
        raw.execute(
            "CREATE TRIGGER full_disk BEFORE INSERT ON compare_lanes "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    at.text_area(key="compare_prompt").set_value("A red fox").run()
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "could not store these images" in warnings
    lane = at.get_by_key("compare_lane_0")
    assert len(lane.image) == 1
    downloads = [e for e in lane.get("download_button")]
    assert len(downloads) == 1
