"""A revised prompt in the gallery's image detail (AppTest): the word diff, and the action
that sends it to the other lanes of its comparison from there (the Compare page runs it)."""

from __future__ import annotations

from dataclasses import replace

from services.images.base import GeneratedImage
from tests.app.test_gallery_page import gallery, lane, rerun, seed  # noqa: F401 (a fixture)
from tests.fakes.prompt_rewriter import revised_prompt

PROMPT = "Draw a lighthouse at dawn"


def diffs(at) -> str:
    return "\n".join(str(e.proto.body) for e in at.html if "cc-prompt-diff" in e.proto.body)


def test_the_detail_shows_the_diff_and_sends_the_revised_prompt_on(seed):  # noqa: F811
    drawn = lane("compatible", "fake-sd/dall-e-3", cost=None)  # DALL·E 3 on a compatible server
    revised = revised_prompt(PROMPT)
    image = replace(drawn.images[0], revised_prompt=revised)
    assert isinstance(image, GeneratedImage)
    run_id = seed.run(PROMPT, replace(drawn, images=(image,)), lane("karlo", "karlo-v2.1"))
    first = seed.images.get_run(run_id)
    dalle_image, karlo_image = first.lanes[0].image_ids[0], first.lanes[1].image_ids[0]

    at = gallery()
    at.button(key=f"gallery_open_{karlo_image}").click()
    rerun(at)
    assert not diffs(at) and not any(b.key == "gallery_send_revised" for b in at.button)

    at = gallery()
    at.button(key=f"gallery_open_{dalle_image}").click()
    rerun(at)
    body = diffs(at)
    assert "<del" in body and "Draw" in body and "high-resolution" in body
    at.button(key="gallery_send_revised").click()
    rerun(at)
    assert at.text_area(key="compare_prompt").value == revised  # the Compare page, opened
    sent = seed.images.get_run(at.query_params["run"])  # the new comparison, at its address
    assert sent.id != run_id and sent.prompt == revised
    # the other lane only; Karlo has no key in this app, so its lane says so (nothing paid)
    assert [(lane.provider, lane.error_kind) for lane in sent.lanes] == [("karlo", "no_key")]
