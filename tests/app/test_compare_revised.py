"""A revised prompt on the Compare page (AppTest): its word diff on the lane's card, and
"Send the revised prompt to the other lanes" running them as a new comparison. The prompt is
revised by DALL·E 3 on the deployer's OpenAI-compatible server (IMAGE_SERVERS, the second
fake): DALL·E is retired at OpenAI, whose GPT Image models revise nothing."""

from __future__ import annotations

import json

import pytest

from tests.app import test_compare_page as page
from tests.app.test_compare_page import latest_run, run
from tests.fakes.compatible_images import image_server_config
from tests.fakes.prompt_rewriter import revised_prompt

# the Compare page's fixtures: the fakes and the page with its default lanes (GPT, Karlo)
fake_openai = page.fake_openai
compare = page.compare
DALL_E_3 = "fake-sd/dall-e-3"


@pytest.fixture
def app_env(app_env, compatible, monkeypatch):
    """The Compare page's environment with the compatible server fake set up by the deployer."""
    monkeypatch.setenv("IMAGE_SERVERS", json.dumps([image_server_config(compatible[1])]))
    return app_env


PROMPT = "Draw a red fox in a snowy forest"


def use_dall_e_3(at) -> None:
    """Lane 1 on DALL·E 3 of the compatible server (a model that revises prompts), style
    "natural"."""
    lane = at.session_state["compare_lanes"][0]["id"]
    at.selectbox(key=f"compare_{lane}_provider").set_value("compatible").run()
    at.selectbox(key=f"compare_{lane}_model_compatible").set_value(DALL_E_3).run()
    at.selectbox(key=f"compare_{lane}_style").set_value("natural").run()
    assert not at.exception, at.exception


def diff_html(at) -> str:
    return "\n".join(str(element.proto.body) for element in at.get_by_key("compare_lane_0").html)


def test_the_diff_shows_and_the_revised_prompt_goes_to_the_karlo_lane(
    compare, compatible, fake_karlo, app_env
):
    use_dall_e_3(compare)
    run(compare, PROMPT)
    first = latest_run(app_env)
    revised = revised_prompt(PROMPT)
    sent = compatible[0].calls[-1].body
    assert (sent["model"], sent["style"]) == ("dall-e-3", "natural")
    # the diff: the ask left out, the detail added, each marked in words as well as style
    body = diff_html(compare)
    assert "<del" in body and "Draw" in body and "left out:" in body
    assert "<ins" in body and "high-resolution illustration" in body and "added:" in body
    labels = [e.label for e in compare.get_by_key("compare_lane_0").expander]
    assert any("words added" in label and "1 word left out" in label for label in labels)
    # the Karlo lane revises nothing: no diff, no button
    assert not compare.get_by_key("compare_lane_1").html
    image_id = first.lanes[0].image_ids[0]
    dalle_calls = len(compatible[0].calls)
    compare.button(key=f"revised_send_{image_id}").click().run()
    assert not compare.exception, compare.exception
    assert fake_karlo.t2i_calls()[-1].body["prompt"] == revised
    assert len(compatible[0].calls) == dalle_calls  # only the other lane ran
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
