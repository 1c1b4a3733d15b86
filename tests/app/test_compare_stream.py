"""The Compare page with a streamed GPT Image lane, through AppTest: the card gives first
pixels and total time, the stored lane keeps them, and a stream that breaks is a clear
error in the lane while the other lane keeps its image."""

from __future__ import annotations

import re

from tests.app import test_compare_page as page

# the Compare page tests' fixtures: the fake OpenAI with images, the page opened
compare, fake_openai = page.compare, page.fake_openai
lane_images, latest_run, run, texts = page.lane_images, page.latest_run, page.run, page.texts


def test_the_card_gives_first_pixels_and_total_time(compare, fake_images, app_env):
    run(compare, "A red fox in a snowy forest, watercolor")
    body = fake_images.calls[-1].body
    assert body["stream"] is True and body["partial_images"] == 2
    assert lane_images(compare, 0) == 1 and lane_images(compare, 1) == 1
    assert re.search(r"first pixels in \d+\.\d s, \d+\.\d s in all", texts(compare))
    lane = next(lane for lane in latest_run(app_env).lanes if lane.provider == "openai")
    assert isinstance(lane.params["first_pixels_ms"], int)
    assert lane.params["first_pixels_ms"] <= lane.latency_ms


def test_a_stream_that_breaks_is_an_error_in_its_lane_only(compare, fake_images):
    fake_images.set_fault("cut_stream", times=1)
    run(compare, "A red fox in a snowy forest, watercolor")
    assert lane_images(compare, 0) == 0 and lane_images(compare, 1) == 1
    errors = " ".join(str(e.value) for e in compare.get_by_key("compare_lane_0").error)
    assert errors, "the broken lane says what happened"
    assert compare.text_area(key="compare_prompt").value.startswith("A red fox")  # kept
