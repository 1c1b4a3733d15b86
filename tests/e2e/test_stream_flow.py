"""A GPT Image lane shows its partial images before its final one; a Karlo lane shows how
long it has been running. In a real browser against the fakes; the fake holds the GPT Image
lane's final image until the preview has been seen, so nothing here depends on timing."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.test_images_flow import LANE, PROMPT_BOX, generate

pytestmark = pytest.mark.e2e


def test_a_gpt_image_lane_shows_a_partial_image_before_its_final_one(
    page, running_app, fake_images, fake_karlo
):
    gate = threading.Event()
    fake_images.final_gate = gate
    fake_images.event_delay = 0.2
    fake_karlo.latency = 5.0
    try:
        page.goto(running_app.url + "compare")
        page.wait_for_selector(PROMPT_BOX, timeout=90_000)
        generate(page, "A lighthouse on a cliff at dusk, oil painting")
        gpt, karlo = page.locator(LANE.format(0)), page.locator(LANE.format(1))
        # the previews arrive while the final image is held back by the fake
        preview = gpt.get_by_text("Preview 2 of 2: the final image is still rendering")
        preview.wait_for(timeout=30_000)
        assert gpt.locator('[data-testid="stImage"] img').count() == 1  # one at a time
        # the Karlo lane, which cannot stream, says how long it has been running
        karlo.get_by_text("so far").wait_for(timeout=30_000)
        gate.set()
        # the final image replaces the preview; the card gives first pixels and total time
        gpt.get_by_text("s in all").wait_for(timeout=30_000)
        assert preview.count() == 0
        assert gpt.locator("img").count() >= 1
    finally:
        gate.set()
        fake_images.final_gate = None
        fake_images.event_delay = None
        fake_karlo.latency = 0.0
    # the stored run, opened again, keeps first pixels and total time
    page.wait_for_url("**/compare?run=*", timeout=30_000)
    page.reload()
    page.locator(LANE.format(0)).get_by_text("s in all").wait_for(timeout=30_000)
