"""The Compare page with a lane on the local engine (a tiny random pipeline built in code), and
"Run Karlo locally" on a Karlo lane that Kakao refused for good. Skips without torch."""

from __future__ import annotations

import pytest

from tests.app import test_compare_page as page
from tests.app.test_compare_page import lane_images, latest_run, run, texts
from tests.conftest import use_hf_cache

# the Compare page's fixtures: the fakes and the page with its default lanes
fake_openai, compare = page.fake_openai, page.compare


def use_local_lane(at, index: int, model: str, steps: int) -> None:
    lane = at.session_state["compare_lanes"][index]
    at.selectbox(key=f"compare_{lane['id']}_provider").set_value("local").run()
    at.selectbox(key=f"compare_{lane['id']}_model_local").set_value(model).run()
    at.number_input(key=f"compare_{lane['id']}_steps").set_value(steps).run()
    assert not at.exception, at.exception


@pytest.fixture
def tiny_listed(monkeypatch, tiny_model) -> str:
    """The tiny pipeline's folder, offered in the model list as a deployer would list it."""
    monkeypatch.setenv("LOCAL_IMAGE_MODELS", tiny_model)
    return tiny_model


def test_a_local_lane_beside_gpt_image(compare, fake_images, app_env, tiny_listed):
    tiny_model = tiny_listed
    use_local_lane(compare, 1, tiny_model, steps=2)
    assert "Licence" not in texts(compare)  # a folder of one's own: no licence to show
    run(compare, "A lighthouse at dawn")
    assert lane_images(compare, 0) == 1 and lane_images(compare, 1) == 1
    stored = latest_run(app_env).lanes[1]
    assert stored.provider == "local" and stored.params["num_inference_steps"] == 2
    assert stored.params["model_path"] == tiny_model
    assert "Which is better?" in texts(compare)


def test_a_named_model_shows_its_licence_and_download_command(
    compare, tmp_path, monkeypatch, tiny_model
):
    use_hf_cache(monkeypatch, str(tmp_path / "empty-cache"))
    use_local_lane(compare, 1, "sd-turbo", steps=1)
    shown = texts(compare)
    assert "Licence: Stability AI Non-Commercial Research Community License" in shown
    assert "hf download stabilityai/sd-turbo" in shown


def karlo_snapshot(cache) -> None:
    """Karlo's folder in a Hugging Face cache as `hf download` leaves it, holding a tiny
    random pipeline of Karlo's architecture (UnCLIP) instead of the real weights."""
    from services.images.local_tiny import save_tiny_unclip

    repo = cache / "models--kakaobrain--karlo-v1-alpha"
    save_tiny_unclip(repo / "snapshots" / ("0" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)


def test_run_karlo_locally_when_kakao_ended_it(
    compare, fake_karlo, app_env, tmp_path, monkeypatch, tiny_model
):
    fake_karlo.set_fault("service_terminated")
    run(compare, "A lighthouse at dawn")
    assert "Run Karlo locally" not in [b.label for b in compare.button]  # no weights here
    use_hf_cache(monkeypatch, str(tmp_path / "cache"))
    karlo_snapshot(tmp_path / "cache")
    compare.run()
    button = next(b for b in compare.button if b.label == "Run Karlo locally")
    button.click().run()
    assert not compare.exception, compare.exception
    lanes = latest_run(app_env).lanes
    assert [(lane.provider, lane.model, lane.ok) for lane in lanes][-1] == (
        "local",
        "karlo-v1-alpha",
        True,
    )
    assert lanes[-1].params["pipeline"] == "UnCLIPPipeline"
    assert lanes[-1].params["prompt"] == "A lighthouse at dawn"
    assert lane_images(compare, 2) == 1
