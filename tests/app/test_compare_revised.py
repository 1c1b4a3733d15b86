"""A revised prompt on the Compare page (AppTest): its word diff on the lane's card, and
"Send the revised prompt to the other lanes" running them as a new comparison."""

from __future__ import annotations

import pytest

from tests.app import test_compare_page as page
from tests.app.test_compare_page import latest_run, run
from tests.fakes.openai_server import DEFAULT_MODELS, FakeModel, FakeOpenAI
from tests.fakes.prompt_rewriter import revised_prompt

# the Compare page's fixtures: the fakes and the page with its default lanes (GPT, Karlo)
fake_images, fake_karlo, compare = page.fake_images, page.fake_karlo, page.compare
# a server that still lists DALL·E 3 (retired at OpenAI, served by some compatible servers)
DALL_E_3 = FakeModel("dall-e-3", kind="image", shutdown_date="2026-05-12")


@pytest.fixture
def fake_openai(fake_images):
    with FakeOpenAI(image_handler=fake_images, models=[*DEFAULT_MODELS, DALL_E_3]) as fake:
        yield fake


PROMPT = "Draw a red fox in a snowy forest"


def use_dall_e_3(at) -> None:
    """Lane 1 on DALL·E 3 (an OpenAI-compatible server's model that revises prompts)."""
    lane = at.session_state["compare_lanes"][0]
    at.selectbox(key=f"compare_{lane['id']}_model_openai").set_value("dall-e-3").run()
    assert not at.exception, at.exception


def diff_html(at) -> str:
    return "\n".join(str(element.proto.body) for element in at.get_by_key("compare_lane_0").html)


def test_the_diff_shows_and_the_revised_prompt_goes_to_the_karlo_lane(
    compare, fake_images, fake_karlo, app_env
):
    use_dall_e_3(compare)
    run(compare, PROMPT)
    first = latest_run(app_env)
    revised = revised_prompt(PROMPT)
    assert fake_images.calls[-1].body["model"] == "dall-e-3"
    # the diff: the ask left out, the detail added, each marked in words as well as style
    body = diff_html(compare)
    assert "<del" in body and "Draw" in body and "left out:" in body
    assert "<ins" in body and "high-resolution illustration" in body and "added:" in body
    labels = [e.label for e in compare.get_by_key("compare_lane_0").expander]
    assert any("words added" in label and "1 word left out" in label for label in labels)
    # the Karlo lane revises nothing: no diff, no button
    assert not compare.get_by_key("compare_lane_1").html
    image_id = first.lanes[0].image_ids[0]
    gpt_calls = len(fake_images.calls)
    compare.button(key=f"revised_send_{image_id}").click().run()
    assert not compare.exception, compare.exception
    assert fake_karlo.t2i_calls()[-1].body["prompt"] == revised
    assert len(fake_images.calls) == gpt_calls  # only the other lane ran
    second = latest_run(app_env)
    assert second.id != first.id and second.prompt == revised
    assert [lane.provider for lane in second.lanes] == ["karlo"]
    assert second.lanes[0].params["prompt_from"]["image_id"] == image_id
    # the page opens the new comparison, its prompt in the box
    assert compare.query_params["run"] == second.id
    assert compare.text_area(key="compare_prompt").value == revised
    # and says where its prompt came from, with the way back
    captions = [str(c.value) for c in compare.caption]
    assert any("revised prompt of lane 1 of an earlier comparison" in c for c in captions)
    links = [link.proto for link in compare.get("page_link")]
    assert any(f"run={first.id}" in link.query_string for link in links)


def test_markup_in_a_prompt_stays_text_in_the_diff(compare):
    use_dall_e_3(compare)
    run(compare, 'A <img src=x onerror="alert(1)"> fox ![x](http://e.x/) :red[boo]')
    body = diff_html(compare)
    assert "<img" not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
    assert "![x](http://e.x/)" in body  # HTML, not Markdown: shown as typed


def test_the_send_is_held_by_the_safety_check_like_generate(compare, fake_karlo, fake_openai):
    use_dall_e_3(compare)
    run(compare, "A calm lake FLAGME")
    compare.toggle(key="moderation_on").set_value(True).run()
    image_id = latest_image(compare)
    karlo_calls = len(fake_karlo.t2i_calls())
    compare.button(key=f"revised_send_{image_id}").click().run()
    assert not compare.exception, compare.exception
    assert compare.get_by_key("moderation_held_revised") is not None
    assert len(fake_karlo.t2i_calls()) == karlo_calls  # nothing sent
    compare.button(key="moderation_proceed_revised").click().run()
    assert not compare.exception, compare.exception
    assert len(fake_karlo.t2i_calls()) == karlo_calls + 1
    assert "FLAGME" in fake_karlo.t2i_calls()[-1].body["prompt"]


def latest_image(at) -> str:
    keys = [b.key for b in at.button if (b.key or "").startswith("revised_send_")]
    assert len(keys) == 1, keys
    return keys[0].removeprefix("revised_send_")


def test_a_blind_run_shows_no_revised_prompt_before_the_vote(compare):
    """Only some models revise: the diff would tell the lanes apart."""
    use_dall_e_3(compare)
    compare.toggle(key="compare_blind").set_value(True).run()
    run(compare, PROMPT)
    lanes = [compare.get_by_key(f"compare_lane_{i}") for i in range(2)]
    assert not any("cc-prompt-diff" in e.proto.body for lane in lanes for e in lane.html)
    assert not any((b.key or "").startswith("revised_send_") for b in compare.button)
    assert revised_prompt(PROMPT) not in "\n".join(str(c.value) for c in compare.caption)
