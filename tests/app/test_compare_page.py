"""The Compare page through AppTest, against fake OpenAI (with images) and fake Karlo servers."""

from __future__ import annotations

import pytest

from tests.app.conftest import new_app
from tests.fakes.karlo_server import FAKE_KAKAO_KEY


@pytest.fixture
def fake_openai(images_openai):  # in place of the chat-only fake of conftest
    return images_openai


@pytest.fixture
def compare(app_env, fake_karlo, monkeypatch):
    monkeypatch.setenv("KAKAO_REST_API_KEY", FAKE_KAKAO_KEY)
    monkeypatch.setenv("KARLO_BASE_URL", fake_karlo.base_url)
    at = new_app().run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def run(at, prompt: str):
    at.text_area(key="compare_prompt").set_value(prompt).run()
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    return at


def latest_run(app_env):
    """The newest comparison stored, read through the store as the gallery would."""
    from services.storage import open_database
    from services.storage.images import ImageStore

    store = ImageStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    return store.get_run(store.get_image(store.image_ids()[-1]).run_id)


def lane_images(at, index: int) -> int:
    return len(at.get_by_key(f"compare_lane_{index}").image)


def test_default_lanes_gpt_image_against_karlo(compare, fake_images, fake_karlo):
    run(compare, "A red fox in a snowy forest, watercolor")
    assert lane_images(compare, 0) == 1 and lane_images(compare, 1) == 1
    (openai_call,) = fake_images.calls
    assert openai_call.body["model"] == "gpt-image-2"
    assert "response_format" not in openai_call.body and "style" not in openai_call.body
    (karlo_call,) = fake_karlo.t2i_calls()
    assert karlo_call.body["version"] == "v2.1"
    assert karlo_call.body["prompt"] == "A red fox in a snowy forest, watercolor"
    assert karlo_call.body["return_type"] == "base64_string"
    assert "Which is better?" in texts(compare)


def test_a_terminated_karlo_lane_leaves_the_other_lane(compare, fake_karlo):
    fake_karlo.set_fault("service_terminated")
    run(compare, "A lighthouse at dawn")
    assert lane_images(compare, 0) == 1
    assert lane_images(compare, 1) == 0
    assert "Kakao no longer serves Karlo for this key" in texts(compare)
    assert "Which is better?" not in texts(compare)  # one image is no comparison


def test_karlo_gets_an_english_prompt_made_by_the_chat_model(compare, fake_openai, fake_karlo):
    fake_openai.reply = lambda messages, model: "A fox on Mars, red dust, watercolour"
    compare.text_area(key="compare_prompt").set_value("화성의 여우, 수채화").run()
    assert "Karlo takes English only" in texts(compare)
    compare.button(key="compare_make_karlo_ready").click().run()
    assert (
        compare.text_input(key="compare_karlo_prompt").value
        == "A fox on Mars, red dust, watercolour"
    )
    compare.button(key="compare_run").click().run()
    assert fake_karlo.t2i_calls()[-1].body["prompt"] == "A fox on Mars, red dust, watercolour"


def test_vote_and_blind_mode(compare, app_env):
    compare.toggle(key="compare_blind").set_value(True).run()
    run(compare, "Two cats")
    assert "OpenAI GPT Image" not in texts(compare)  # identities hidden until the vote
    assert not compare.json and "$" not in texts(compare)  # so are parameters and cost
    before = [compare.get_by_key(f"compare_lane_{i}").markdown[0].value for i in (0, 1)]
    compare.button(key="compare_vote_lane:1").click().run()
    # Issue 13.12: the same columns, each now saying which model it was, and a plain list
    karlo_letter = before[1].strip("*")
    assert f"Your vote: {karlo_letter} (Kakao Karlo · karlo-v2.1)" in texts(compare)
    after = [compare.get_by_key(f"compare_lane_{i}").markdown[0].value for i in (0, 1)]
    assert after[1] == f"**{karlo_letter} was Kakao Karlo · karlo-v2.1**"
    assert after[0].endswith("was OpenAI GPT Image · gpt-image-2**")
    (reveal,) = [str(i.value) for i in compare.info]
    assert reveal.startswith("**Blind comparison revealed: which lane was which**")
    assert f"{karlo_letter} was Kakao Karlo · karlo-v2.1" in reveal

    from services.leaderboard import leaderboard
    from services.storage import open_database
    from services.storage.images import ImageStore

    store = ImageStore(open_database(f"sqlite:///{app_env}/chatcanvas.db"), "local")
    board = leaderboard(store.votes())
    winner = next(row for row in board if row.provider == "karlo")
    assert winner.wins == 1


def test_lanes_can_be_added_duplicated_reordered_removed(compare):
    lanes = compare.session_state["compare_lanes"]
    first, second = lanes[0]["id"], lanes[1]["id"]
    compare.button(key=f"compare_dup_{first}").click().run()
    assert len(compare.session_state["compare_lanes"]) == 3
    compare.button(key=f"compare_right_{first}").click().run()
    assert compare.session_state["compare_lanes"][0]["id"] != first
    compare.button(key=f"compare_remove_{second}").click().run()
    assert [lane["provider"] for lane in compare.session_state["compare_lanes"]] == [
        "openai",
        "openai",
    ]
    run(compare, "Same provider, two lanes")
    assert lane_images(compare, 0) == 1 and lane_images(compare, 1) == 1


def test_same_seeds_rerun(compare, fake_karlo, app_env):
    run(compare, "A koi pond")
    first = latest_run(app_env)
    karlo_seed = first.lanes[1].seeds[0]
    assert "seed" not in fake_karlo.t2i_calls()[-1].body  # the first run let Karlo choose
    compare.button(key="compare_same_seeds").click().run()
    assert latest_run(app_env).id != first.id
    assert fake_karlo.t2i_calls()[-1].body["seed"] == [karlo_seed]


def test_same_seeds_replays_every_image_of_a_lane(compare, fake_karlo, app_env):
    lane = compare.session_state["compare_lanes"][1]
    compare.number_input(key=f"compare_{lane['id']}_count").set_value(3).run()
    run(compare, "Three koi")
    seeds = list(latest_run(app_env).lanes[1].seeds)
    assert len(seeds) == 3
    compare.button(key="compare_same_seeds").click().run()
    assert fake_karlo.t2i_calls()[-1].body["seed"] == seeds


def test_empty_prompt_is_not_sent(compare, fake_images, fake_karlo):
    compare.button(key="compare_run").click().run()
    assert "nothing was sent" in texts(compare)
    assert not fake_images.calls and not fake_karlo.t2i_calls()


def test_lane_settings_survive_a_visit_to_another_page(compare):
    lane = compare.session_state["compare_lanes"][1]
    compare.number_input(key=f"compare_{lane['id']}_count").set_value(3).run()
    compare.switch_page("app_pages/chat.py").run()
    compare.switch_page("app_pages/compare.py").run()
    assert compare.number_input(key=f"compare_{lane['id']}_count").value == 3


def test_karlo_sends_only_what_the_user_chose(compare, fake_karlo):
    run(compare, "A quiet harbour")
    body = fake_karlo.t2i_calls()[-1].body
    assert not {"upscale", "scale", "nsfw_checker", "scheduler"} & set(body)


def test_karlo_v2_0_custom_size_starts_within_its_limit(compare, fake_karlo):
    lane = compare.session_state["compare_lanes"][1]
    compare.selectbox(key=f"compare_{lane['id']}_model_karlo").set_value("karlo-v2.0").run()
    compare.selectbox(key=f"compare_{lane['id']}_size_karlo").set_value("custom").run()
    assert not compare.exception
    assert compare.number_input(key=f"compare_{lane['id']}_width_karlo-v2.0").value == 640
    run(compare, "A small boat")
    assert fake_karlo.t2i_calls()[-1].body["width"] == 640


def test_editing_the_prompt_drops_an_old_karlo_translation(compare, fake_openai, fake_karlo):
    fake_openai.reply = lambda messages, model: "A fox on Mars"
    compare.text_area(key="compare_prompt").set_value("화성의 여우").run()
    compare.button(key="compare_make_karlo_ready").click().run()
    compare.text_area(key="compare_prompt").set_value("A whale in the sky").run()
    assert compare.text_input(key="compare_karlo_prompt").value == ""
    compare.button(key="compare_run").click().run()
    assert fake_karlo.t2i_calls()[-1].body["prompt"] == "A whale in the sky"


def test_a_comparison_has_an_address_that_reopens_it(compare, app_env):
    run(compare, "a lighthouse at dusk")
    stored = latest_run(app_env)
    assert compare.query_params["run"] == stored.id
    # a new session (a reload, a bookmark, the gallery's link) opens the stored run whole
    at = new_app(run=stored.id).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    # an English prompt left from another comparison is not this run's
    at.session_state["compare_karlo_prompt"] = "an older comparison's English"
    at.session_state["compare_last_run"] = None
    at.query_params["run"] = stored.id
    at.run()
    assert at.text_input(key="compare_karlo_prompt").value == ""
    assert at.text_area(key="compare_prompt").value == "a lighthouse at dusk"
    assert "Lane 2 · Kakao Karlo" in texts(at)
    assert "$0 (free quota)" in texts(at) and "cost unknown" not in texts(at)  # Karlo's lane
    assert at.button(key="share_create_comparison")  # so it can be shared from here


def test_an_unknown_comparison_address_says_so(compare):
    at = new_app(run="0" * 32).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    assert "That comparison does not exist" in " ".join(str(t.value) for t in at.toast)
    assert "run" not in at.query_params
    assert not [b for b in at.button if b.key == "share_create_comparison"]


def test_a_korean_prompt_is_translated_for_karlo_on_generate(compare, fake_openai, fake_karlo):
    """Issue 13.1: Generate translates for the English-only lane; the English sent is shown
    in its editable box, and no lane says the provider rejected anything."""
    fake_openai.reply = lambda messages, model: "A fox on Mars, red dust, watercolour"
    run(compare, "화성의 여우, 수채화")
    assert fake_karlo.t2i_calls()[-1].body["prompt"] == "A fox on Mars, red dust, watercolour"
    assert (
        compare.text_input(key="compare_karlo_prompt").value
        == "A fox on Mars, red dust, watercolour"
    )
    assert lane_images(compare, 1) == 1
    assert "rejected the request" not in texts(compare)


def test_a_failed_translation_blocks_generate_with_the_reason(compare, fake_openai, fake_karlo):
    fake_openai.reply = lambda messages, model: "화성의 여우"  # not English either
    run(compare, "화성의 여우, 수채화")
    assert fake_karlo.t2i_calls() == []
    assert compare.error[-1].value.startswith("Karlo takes English only")
    assert "rejected the request" not in texts(compare)


def test_an_image_karlo_flags_as_unsafe_is_blurred_until_clicked(compare, fake_karlo):
    """Issue 13.11: blurred behind a click, on the page that made it and after a reload."""
    fake_karlo.set_fault("nsfw")
    run(compare, "A stormy sea")
    assert image_captions(compare, 1) == ["Blurred: flagged as possibly unsafe."]
    (show,) = [
        b for b in compare.get_by_key("compare_lane_1").button if b.key.startswith("flagged_show_")
    ]
    show.click().run()
    assert image_captions(compare, 1) == ["Flagged as possibly unsafe (score 0.97)"]
    assert not [
        b for b in compare.get_by_key("compare_lane_1").button if b.key.startswith("flagged_show")
    ]


def image_captions(at, index: int) -> list[str]:
    lane = at.get_by_key(f"compare_lane_{index}")
    return [img.caption for image in lane.image for img in image.proto.imgs]


def test_each_result_downloads_and_opens_in_the_gallery(compare, app_env):
    """Issue 13.23."""
    run(compare, "A lighthouse at dusk")
    stored = latest_run(app_env)
    for lane in stored.lanes:
        (image_id,) = lane.image_ids
        card = compare.get_by_key(f"compare_lane_{lane.index}")
        (download,) = [d for d in card.get("download_button") if image_id in d.key]
        assert download.proto.label == "Download PNG"
        (link,) = [p.proto for p in card.get("page_link")]
        assert "gallery" in link.page and f"image={image_id}" in link.query_string
    from tests.app.test_gallery_page import gallery

    at = gallery(image=stored.lanes[1].image_ids[0])
    assert "Kakao Karlo" in "\n".join(str(m.value) for m in at.markdown)  # the detail is open
    assert "image" not in at.query_params


def test_a_blind_result_offers_no_download_before_the_vote(compare):
    compare.toggle(key="compare_blind").set_value(True).run()
    run(compare, "Two cats")
    assert not compare.get("download_button") and not compare.get("page_link")
