"""axe-core, the standard accessibility engine, on every page in both languages: no serious or
critical violation (WCAG 2 A/AA rules, colour contrast among them)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from services.i18n import load_strings
from tests.e2e.conftest import new_page

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # 4.14.1
PAGES = ("", "studio", "compare", "grid", "gallery")
LOCALES = {"en": "en-US", "ko": "ko-KR"}
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """The vendored engine, refused unless it is the pinned file."""
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, f"{AXE} is not axe-core 4.14.1"
    return data.decode("utf-8")


def wait_rendered(page) -> None:
    """The sidebar is drawn and the script run has finished (nothing still streaming in)."""
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=30_000)
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
              ?.getAttribute('data-test-script-state') === 'notRunning'""",
        timeout=30_000,
    )


def blocking_violations(page) -> list[str]:
    """Serious or critical axe violations of the page as it is now, one line each."""
    page.add_script_tag(content=axe_source())
    violations = page.evaluate(
        """async () => (await axe.run(document, {
              runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
              resultTypes: ['violations'],
           })).violations"""
    )
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')}"
        for v in violations
        if v["impact"] in BLOCKING
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "chat")
def test_no_serious_accessibility_violation(browser, running_app, path, lang):
    page = new_page(browser, locale=LOCALES[lang])
    try:
        page.goto(running_app.url + path)
        wait_rendered(page)
        problems = blocking_violations(page)
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", LOCALES)
def test_no_serious_violation_in_a_conversation(browser, running_app, lang):
    """The transcript too: messages, usage captions, the reply's actions, the totals."""
    page = new_page(browser, locale=LOCALES[lang])
    try:
        page.goto(running_app.url)
        wait_rendered(page)
        page.fill('[data-testid="stChatInput"] textarea', "Imagine animals on Mars")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('c=')", timeout=30_000)
        # the reply's Regenerate button is drawn once the reply is complete and stored
        page.wait_for_selector('[class*="st-key-regen_"]', timeout=30_000)
        wait_rendered(page)
        problems = blocking_violations(page)
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", LOCALES)
def test_no_serious_violation_with_a_comparison_and_its_images(browser, running_app, lang):
    """Compare with two lanes' results and the vote, then the gallery with their images."""
    text = load_strings(lang)
    prompt_box = f'textarea[aria-label="{text["images.params.prompt"]}"]'
    page = new_page(browser, locale=LOCALES[lang])
    try:
        page.goto(running_app.url + "compare")
        page.wait_for_selector(prompt_box, timeout=30_000)
        page.fill(prompt_box, "A red fox in a snowy forest, watercolor")
        page.keyboard.press("Control+Enter")
        page.get_by_role("button", name=text["images.generate"], exact=True).click()
        page.get_by_text(text["images.vote.question"]).wait_for(timeout=60_000)
        wait_rendered(page)
        problems = blocking_violations(page)
        page.goto(running_app.url + "gallery")
        page.wait_for_selector('[data-testid="stImage"] img', timeout=30_000)
        wait_rendered(page)
        problems += blocking_violations(page)
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()
