"""``chatcanvas compare --check``: a prompt the moderation model flags stops before any image
engine is called, with its categories; ``--proceed`` runs it anyway; a failed check says so."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Terminal, no_traceback, terminal_env
from tests.fakes.karlo_server import FAKE_KAKAO_KEY
from tests.fakes.openai_server import FAKE_KEY


@pytest.fixture
def servers(image_servers):
    images, openai_fake, karlo_fake = image_servers
    openai_fake.requests.clear()
    openai_fake.clear_faults()
    images.calls.clear()
    karlo_fake.calls.clear()
    return images, openai_fake, karlo_fake


def terminal(servers, tmp_path, **settings: str | None) -> Terminal:
    _images, openai_fake, karlo_fake = servers
    env = terminal_env(
        tmp_path,
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=openai_fake.base_url,
        KAKAO_REST_API_KEY=FAKE_KAKAO_KEY,
        KARLO_BASE_URL=karlo_fake.base_url,
        **settings,
    )
    return Terminal(env, tmp_path)


def image_calls(servers) -> int:
    images, _openai, karlo_fake = servers
    return len(images.calls) + len(karlo_fake.t2i_calls())


def moderation_calls(servers) -> list:
    return [r for r in servers[1].requests if r.path.endswith("/moderations")]


LANES = ("--lane", "openai:gpt-image-2", "--lane", "karlo")


def test_a_flagged_prompt_stops_before_any_image_engine(servers, tmp_path):
    result = terminal(servers, tmp_path).invoke("compare", "A FLAGME fox", "--check", *LANES)
    assert result.exit_code == 1
    assert "harassment, violence" in result.stderr and "--proceed" in result.stderr
    assert image_calls(servers) == 0
    assert moderation_calls(servers)[0].body["input"] == ["A FLAGME fox"]
    assert no_traceback(result.stderr, result.stdout)


def test_the_categories_in_korean(servers, tmp_path):
    result = terminal(servers, tmp_path, LANG="ko_KR.UTF-8").invoke(
        "compare", "FLAGME:hate", "--check", *LANES
    )
    assert result.exit_code == 1 and "혐오" in result.stderr
    assert image_calls(servers) == 0


def test_proceed_runs_a_flagged_prompt_and_says_what_was_flagged(servers, tmp_path):
    result = terminal(servers, tmp_path).invoke(
        "compare", "A FLAGME fox", "--check", "--proceed", *LANES
    )
    assert result.exit_code == 0, result.output
    assert "running anyway" in result.stderr
    assert image_calls(servers) == 2


def test_a_clean_prompt_runs_after_the_check(servers, tmp_path):
    result = terminal(servers, tmp_path).invoke("compare", "A red fox", "--check", *LANES)
    assert result.exit_code == 0, result.output
    assert len(moderation_calls(servers)) == 1 and image_calls(servers) == 2


def test_the_setting_decides_without_a_flag_and_no_check_skips_it(servers, tmp_path):
    held = terminal(servers, tmp_path, MODERATION_CHECK="on").invoke("compare", "FLAGME", *LANES)
    assert held.exit_code == 1 and image_calls(servers) == 0
    skipped = terminal(servers, tmp_path, MODERATION_CHECK="on").invoke(
        "compare", "FLAGME", "--no-check", *LANES
    )
    assert skipped.exit_code == 0, skipped.output
    local = terminal(servers, tmp_path).invoke("compare", "FLAGME", *LANES)
    assert local.exit_code == 0 and len(moderation_calls(servers)) == 1


def test_a_failed_check_is_said_and_nothing_is_sent(servers, tmp_path):
    servers[1].set_fault("rate_limit", endpoint="moderations")
    result = terminal(servers, tmp_path).invoke("compare", "A red fox", "--check", *LANES)
    assert result.exit_code == 1
    assert "safety check could not be made" in result.stderr and "--no-check" in result.stderr
    assert image_calls(servers) == 0
    assert no_traceback(result.stderr, result.stdout)
