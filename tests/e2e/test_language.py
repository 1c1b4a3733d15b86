"""The UI language in a real browser: Korean line breaking, and the choice kept in the URL."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import new_page

pytestmark = pytest.mark.e2e
TEXT = '[data-testid="stAlert"] p'  # the chat page's welcome box


def open_page(browser, url: str, locale: str):
    page = new_page(browser, locale=locale)
    page.goto(url)
    page.wait_for_selector(TEXT, timeout=30_000)
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
              ?.getAttribute('data-test-script-state') === 'notRunning'""",
        timeout=30_000,
    )
    return page


def word_break(page) -> str:
    return page.eval_on_selector(TEXT, "el => getComputedStyle(el).wordBreak")


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_korean_words_are_not_broken_mid_word(browser, running_app, locale):
    page = open_page(browser, running_app.url, locale)
    try:
        # Korean lines break between words only; English keeps Streamlit's own breaking
        assert (word_break(page) == "keep-all") is (locale == "ko-KR")
    finally:
        page.context.close()
