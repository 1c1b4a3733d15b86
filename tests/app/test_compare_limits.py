"""The Compare page on a shared deployment: lanes and images per lane are capped in the form,
and a run past the daily budget is refused with the figures before anything is sent."""

from __future__ import annotations

import pytest

from tests.app.conftest import person, shared_app
from tests.app.test_compare_page import fake_openai, run
from tests.fakes.karlo_server import FAKE_KAKAO_KEY

__all__ = ["fake_openai"]  # a fixture used by name below


@pytest.fixture
def shared_compare(app_env, fake_karlo, monkeypatch):
    monkeypatch.setenv("KAKAO_REST_API_KEY", FAKE_KAKAO_KEY)
    monkeypatch.setenv("KARLO_BASE_URL", fake_karlo.base_url)
    monkeypatch.setenv("MAX_LANES", "3")
    monkeypatch.setenv("MAX_IMAGES_PER_LANE", "2")
    monkeypatch.setenv("DAILY_BUDGET_USD", "0.0001")
    at = shared_app(person("alice", "alice@team.example", "Alice")).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    return at


def test_lanes_and_image_counts_are_capped(shared_compare):
    at = shared_compare
    assert not at.button(key="compare_add_lane").disabled
    at.button(key="compare_add_lane").click().run()
    assert at.button(key="compare_add_lane").disabled  # 3 lanes: the cap
    assert all(b.disabled for b in at.button if (b.key or "").startswith("compare_dup_"))
    counts = [n for n in at.number_input if (n.key or "").endswith("_count")]
    assert counts and all(n.max == 2 for n in counts)


def test_a_run_past_the_budget_sends_nothing(shared_compare, fake_images, fake_karlo):
    at = run(shared_compare, "a red fox in the snow")
    message = " ".join(str(e.value) for e in at.error)
    assert "daily spending limit" in message and "$0.000100" in message
    assert fake_images.calls == [] and fake_karlo.calls == []
    assert at.text_area(key="compare_prompt").value == "a red fox in the snow"
    with pytest.raises(KeyError):  # no lane started
        at.get_by_key("compare_lane_0")
