"""Issue #11.3 in a real browser: DALL·E 3 on the deployer's OpenAI-compatible server (retired
at OpenAI, still served by some compatible servers; it answers the prompt it drew as
``revised_prompt``) beside a Karlo lane: the revised prompt shows its word diff, and "Send the
revised prompt to the other lanes" runs the Karlo lane again with it."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import FAKE_KEY, RunningApp, app_environment, choose
from tests.e2e.test_accessibility import blocking_violations
from tests.fakes.compatible_images import COMPAT_KEY, image_server_config
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.prompt_rewriter import revised_prompt

pytestmark = pytest.mark.e2e
LANE = ".st-key-compare_lane_{}"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'
MODEL = '[class*="st-key-compare_"][class*="_model_compatible"] >> nth=0'
STYLE = '[class*="st-key-compare_"][class*="_style"] >> nth=0'
HAS_VALUE = """(value) => [...document.querySelectorAll('[data-testid="stSelectbox"] input')]
    .some((input) => input.value === value)"""
PROMPT = "Draw a red fox in a snowy forest"
DALL_E_3 = "fake-sd/dall-e-3"


@pytest.fixture(scope="module")
def revising_app(fake_openai, fake_karlo, compatible_server, tmp_path_factory):
    """The app with the OpenAI fake (GPT Image, chat), the compatible server fake set up by
    the deployer (IMAGE_SERVERS) and the Karlo fake."""
    _handler, server = compatible_server
    data = tmp_path_factory.mktemp("e2e-revised")
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=fake_karlo.base_url,
        IMAGE_SERVERS=json.dumps([image_server_config(server)]),
        DATABASE_URL=f"sqlite:///{data}/chatcanvas.db",
    )
    app = RunningApp(env, data / "streamlit.log")
    app.start()
    yield app
    app.stop()


def test_a_revised_prompt_shows_its_diff_and_goes_to_the_karlo_lane(
    page, revising_app, compatible_server, fake_karlo
):
    handler, _ = compatible_server
    page.goto(revising_app.url + "compare")
    page.wait_for_selector(PROMPT_BOX, timeout=90_000)  # a fresh server's first page
    page.get_by_role("button", name="Generate").wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the lanes' widgets have settled
    # the first lane (GPT Image by default) on the compatible server's DALL·E 3, style natural
    choose(
        page,
        '[data-testid="stSelectbox"]:has-text("Provider") >> nth=0',
        "OpenAI-compatible server",
    )
    page.wait_for_function(HAS_VALUE, arg="fake-sd/sd-turbo", timeout=20_000)
    choose(page, MODEL, DALL_E_3)
    page.wait_for_function(HAS_VALUE, arg=DALL_E_3, timeout=20_000)
    page.get_by_text("More parameters").first.click()  # the first lane's; style is there
    choose(page, STYLE, "Natural")
    page.wait_for_function(HAS_VALUE, arg="Natural", timeout=20_000)
    page.fill(PROMPT_BOX, PROMPT)
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()
    for lane in range(2):
        page.wait_for_selector(f"{LANE.format(lane)} img", timeout=60_000)
    page.get_by_text("Which is better?").wait_for(timeout=30_000)  # the stored run, redrawn
    sent = handler.calls[-1].body
    assert (sent["model"], sent["style"]) == ("dall-e-3", "natural")
    assert DALL_E_3 in page.locator(LANE.format(0)).inner_text()
    revised = revised_prompt(PROMPT)

    first_url = page.url
    dalle = page.locator(LANE.format(0))
    dalle.get_by_text(re.compile(r"Prompt as revised by the model \(.*words added")).click()
    removed = dalle.locator(".cc-prompt-diff del").first
    added = dalle.locator(".cc-prompt-diff ins").first
    removed.wait_for(timeout=20_000)
    assert "Draw" in removed.inner_text() and "left out:" in removed.inner_text()
    assert "high-resolution" in added.inner_text() and "added:" in added.inner_text()
    # struck through and underlined: not colour alone
    assert "line-through" in removed.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "underline" in added.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert not page.locator(LANE.format(1)).locator(".cc-prompt-diff").count()  # Karlo: none
    assert blocking_violations(page) == []  # axe-core, with the diff open

    karlo_calls = len(fake_karlo.t2i_calls())
    dalle_calls = len(handler.calls)
    page.get_by_role("button", name="Send the revised prompt to the other lanes").click()
    page.wait_for_url(lambda url: url != first_url and "run=" in url, timeout=30_000)
    page.wait_for_function(
        f"() => document.querySelector('{PROMPT_BOX}')?.value === {revised!r}",
        timeout=30_000,
    )
    page.wait_for_selector(f"{LANE.format(0)} img", timeout=30_000)
    assert len(fake_karlo.t2i_calls()) == karlo_calls + 1
    assert fake_karlo.t2i_calls()[-1].body["prompt"] == revised
    assert len(handler.calls) == dalle_calls  # only the other lane ran
    assert "Kakao Karlo" in page.locator(LANE.format(0)).inner_text()
    assert COMPAT_KEY not in page.content()
