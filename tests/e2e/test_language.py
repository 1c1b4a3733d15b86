"""The UI language in a real browser: Korean line breaking, and the choice kept in the URL."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import new_page

pytestmark = pytest.mark.e2e
TEXT = '[data-testid="stAlert"] p'  # the chat page's welcome box
PROMPT = 'textarea[aria-label="Prompt"]'  # the compare page's prompt, in English


def open_page(browser, url: str, locale: str, shown: str = TEXT):
    page = new_page(browser, locale=locale)
    page.goto(url)
    page.wait_for_selector(shown, timeout=30_000)
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


def sidebar_language(page) -> str:
    return page.locator('[data-testid="stSidebar"] [role="radiogroup"] input:checked').evaluate(
        "el => el.closest('label').innerText"
    )


def test_the_chosen_language_survives_reload_links_and_pages(browser, running_app):
    page = open_page(browser, running_app.url, "ko-KR")
    try:
        assert sidebar_language(page) == "한국어"
        page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
        page.wait_for_function("() => location.search.includes('lang=en')", timeout=20_000)
        page.get_by_role("heading", name="Chat").wait_for(timeout=20_000)
        page.reload()
        page.get_by_role("heading", name="Chat").wait_for(timeout=30_000)
        assert sidebar_language(page) == "English"
        # another page of the app, then a reload there
        page.get_by_role("link", name="Compare").click()
        page.wait_for_url("**/compare**", timeout=20_000)
        page.reload()
        page.wait_for_selector(PROMPT, timeout=30_000)
        assert sidebar_language(page) == "English" and "lang=en" in page.url
        shared = page.url
    finally:
        page.context.close()

    # the link, opened by someone whose browser speaks Korean, is in English
    other = open_page(browser, shared, "ko-KR", shown=PROMPT)
    try:
        assert sidebar_language(other) == "English"
    finally:
        other.context.close()
