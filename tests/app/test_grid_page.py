"""The Grid page through AppTest, against fake OpenAI (with images) and fake Karlo servers:
rows typed or taken from a studio run, the estimate, the confirmation above the threshold, a
run that fills every cell, a vote per row, reopening by address, and another owner's id."""

from __future__ import annotations

import pytest

from tests.app.conftest import new_app
from tests.app.test_compare_page import texts
from tests.fakes.karlo_server import FAKE_KAKAO_KEY


@pytest.fixture
def fake_openai(images_openai):  # in place of the chat-only fake of conftest
    return images_openai


@pytest.fixture
def grid_env(app_env, fake_karlo, monkeypatch):
    monkeypatch.setenv("KAKAO_REST_API_KEY", FAKE_KAKAO_KEY)
    monkeypatch.setenv("KARLO_BASE_URL", fake_karlo.base_url)
    return app_env


def grid_page(**query: str):
    at = new_app(**query).run()
    at.switch_page("app_pages/grid.py").run()
    assert not at.exception, at.exception
    return at


def stored_grids(app_env, owner: str = "local"):
    from services.storage import open_database
    from services.storage.grids import GridStore
    from services.storage.images import ImageStore

    db = open_database(f"sqlite:///{app_env}/chatcanvas.db")
    return GridStore(db, owner, ImageStore(db, owner))


def test_a_two_by_two_grid_runs_is_voted_and_reopens(grid_env, fake_images, fake_karlo):
    at = grid_page()
    at.text_area(key="grid_typed").set_value("a red fox\na blue fox").run()
    assert "Cells: 4" in texts(at)
    at.button(key="grid_run").click().run()
    assert not at.exception, at.exception
    assert len(fake_images.calls) == 2 and len(fake_karlo.t2i_calls()) == 2
    grid_id = at.query_params["grid"]
    grid = stored_grids(grid_env).get(grid_id)
    assert [run.prompt for run in grid.runs] == ["a red fox", "a blue fox"]
    for r in range(2):
        for c in range(2):
            assert len(at.get_by_key(f"grid_cell_{r}_{c}").image) == 1
    # Karlo's seed is the same in both rows
    seeds = {tuple(call.body["seed"]) for call in fake_karlo.t2i_calls()}
    assert len(seeds) == 1
    at.button(key="grid_vote_1_lane:1").click().run()
    assert "Row 2: Lane 2" in texts(at)
    assert stored_grids(grid_env).get(grid_id).runs[1].outcome is not None
    again = grid_page(grid=grid_id)
    assert "Row 2: Lane 2" in texts(again) and "a blue fox" in texts(again)
    assert again.button(key="grid_vote_0_tie") is not None
    assert len(again.get_by_key("grid_cell_0_0").image) == 1


def test_an_estimate_above_the_threshold_asks_first(grid_env, fake_images, monkeypatch):
    monkeypatch.setenv("GRID_CONFIRM_USD", "0.001")
    at = grid_page()
    at.text_area(key="grid_typed").set_value("a red fox").run()
    assert "Confirm it to run the grid" in texts(at)
    assert at.button(key="grid_run").disabled
    at.checkbox(key="grid_confirmed").check().run()
    at.button(key="grid_run").click().run()
    assert not at.exception, at.exception
    assert len(fake_images.calls) == 1 and "grid" in at.query_params


def test_no_rows_sends_nothing(grid_env, fake_images):
    at = grid_page()
    at.button(key="grid_run").click().run()
    assert "Type at least one prompt" in texts(at) and fake_images.calls == []


def test_rows_from_a_studio_run(grid_env, fake_images):
    from services.storage import open_database
    from services.storage.chains import ChainStore
    from services.studio import BUILTIN_CHAINS
    from services.studio.state import ChainRun, StepStatus

    run = ChainRun("여우가 화성에", BUILTIN_CHAINS["karlo"], "gpt-4o-mini")
    for step in run.steps:
        step.status, step.output = StepStatus.DONE, "an expanded fox"
    run.final_prompt = "a fox on Mars, watercolor"
    ChainStore(open_database(f"sqlite:///{grid_env}/chatcanvas.db"), "local").save_run(run)
    at = grid_page()
    at.multiselect(key="grid_studio_choices").set_value([0, len(run.steps) + 1]).run()
    at.button(key="grid_add_rows").click().run()
    assert "Studio idea — 여우가 화성에" in texts(at)
    assert "Studio final prompt — a fox on Mars, watercolor" in texts(at)
    assert "Cells: 4" in texts(at)


def test_another_owners_grid_is_not_found(grid_env):
    other = stored_grids(grid_env, "someone-else")
    grid_id = other.create(
        [{"prompt": "theirs"}], [{"provider": "openai", "model": "m"}], concurrency=1
    )
    at = grid_page(grid=grid_id)
    assert "That grid does not exist" in texts(at) and "theirs" not in texts(at)


def test_the_safety_check_holds_a_grid_with_a_flagged_row(
    grid_env, fake_openai, fake_images, fake_karlo, monkeypatch
):
    monkeypatch.setenv("MODERATION_CHECK", "on")
    at = grid_page()
    at.text_area(key="grid_typed").set_value("a red fox\nA FLAGME fox").run()
    at.button(key="grid_run").click().run()
    assert not at.exception, at.exception
    assert "moderation model flagged" in texts(at)
    assert fake_images.calls == [] and fake_karlo.t2i_calls() == []
    checked = [r for r in fake_openai.requests if r.path.endswith("/moderations")]
    assert checked[0].body["input"] == ["a red fox", "A FLAGME fox"]
    at.button(key="moderation_proceed_grid").click().run()
    assert not at.exception, at.exception
    assert len(fake_images.calls) == 2 and "grid" in at.query_params
