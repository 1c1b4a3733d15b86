"""Compare, vote, gallery and the Prompt Studio in a real browser against fake providers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakes.tutorial_model import IDEA, PROMPT, scripted

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
LANE = ".st-key-compare_lane_{}"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'


def wait_app(page) -> None:
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=30_000)


def generate(page, prompt: str) -> None:
    page.fill(PROMPT_BOX, prompt)
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()


def test_deep_link_on_a_fresh_server_and_a_comparison_into_the_gallery(
    page, running_app, fake_images, fake_karlo
):
    # The very first request of this server is a bookmark to /compare.
    page.goto(running_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)

    fake_images.latency = 3.0
    fake_karlo.latency = 3.0
    try:
        generate(page, "A red fox in a snowy forest, watercolor")
        # Lane 0 shows its image while lane 1 may still be working; both end with an image.
        page.wait_for_selector(f"{LANE.format(0)} img", timeout=30_000)
        page.wait_for_selector(f"{LANE.format(1)} img", timeout=30_000)
    finally:
        fake_images.latency = fake_karlo.latency = 0.0
    (openai_call,) = fake_images.calls[-1:]
    karlo_call = fake_karlo.t2i_calls()[-1]
    # The two 3-second lanes ran together: each started before the other had answered.
    assert karlo_call.received_at < openai_call.responded_at
    assert openai_call.received_at < karlo_call.responded_at
    assert karlo_call.body["version"] == "v2.1"
    assert karlo_call.body["prompt"] == "A red fox in a snowy forest, watercolor"
    page.locator(LANE.format(0)).scroll_into_view_if_needed()
    page.screenshot(path=str(ROOT / "docs" / "screenshot-compare.png"))  # the README's picture

    page.wait_for_selector("text=Which is better?", timeout=30_000)
    page.locator(".st-key-compare_vote_lane-1 button").click()
    page.wait_for_selector("text=Your vote: Lane 2", timeout=20_000)

    page.goto(running_app.url + "gallery")
    page.reload()
    wait_app(page)
    page.wait_for_function(  # both lanes' images, drawn one after the other
        """() => document.querySelectorAll('[data-testid="stImage"] img').length >= 2""",
        timeout=30_000,
    )
    page.get_by_role("button", name=re.compile("Details")).first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=20_000)
    dialog.get_by_text("A red fox in a snowy forest, watercolor").first.wait_for(timeout=20_000)
    # From the lineage to the whole comparison, at an address of its own, with its vote
    dialog.get_by_role("link", name=re.compile("Open the comparison")).click()
    page.wait_for_url(re.compile(r"/compare\?run=[0-9a-f]+"), timeout=20_000)
    page.wait_for_selector(f"{LANE.format(1)} img", timeout=30_000)
    page.wait_for_selector("text=Your vote: Lane 2", timeout=20_000)
    page.wait_for_function(  # the boxes are filled from the stored run as the page draws
        f"() => document.querySelector('{PROMPT_BOX}')?.value === "
        "'A red fox in a snowy forest, watercolor'",
        timeout=20_000,
    )


def test_a_terminated_karlo_key_leaves_the_other_lane(page, running_app, fake_karlo):
    page.goto(running_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=30_000)
    fake_karlo.set_fault("service_terminated")
    try:
        generate(page, "A lighthouse at dawn")
        page.wait_for_selector(
            f"{LANE.format(1)} >> text=Kakao no longer serves Karlo", timeout=30_000
        )
        page.wait_for_selector(f"{LANE.format(0)} img", timeout=30_000)
    finally:
        fake_karlo.set_fault(None)


def test_korean_idea_through_the_studio_to_compare(page, running_app, fake_openai, fake_images):
    fake_openai.reply = scripted
    fake_openai.token_delay = 0.0
    try:
        page.goto(running_app.url + "studio")
        page.wait_for_selector("textarea[aria-label]", timeout=30_000)
        page.locator("textarea").first.fill(IDEA)
        page.keyboard.press("Control+Enter")
        before = len(fake_openai.chat_requests())
        page.locator(".st-key-studio_run button").click()
        page.wait_for_selector(".st-key-studio_send_to_compare button", timeout=60_000)
        assert len(fake_openai.chat_requests()) - before == 4
        final = page.locator(".st-key-studio_final_prompt textarea").input_value()
        assert final == PROMPT
        page.locator(".st-key-studio_send_to_compare button").click()
        page.wait_for_function(
            f"() => document.querySelector('{PROMPT_BOX}')?.value === {final!r}", timeout=30_000
        )
        page.get_by_role("button", name="Generate").click()
        page.wait_for_selector(f"{LANE.format(0)} img", timeout=30_000)
        page.wait_for_selector(f"{LANE.format(1)} img", timeout=30_000)
        assert fake_images.calls[-1].body["prompt"] == final
    finally:
        fake_openai.reply = __import__(
            "tests.fakes.openai_server", fromlist=["default_reply"]
        ).default_reply
        fake_openai.token_delay = 0.08
