"""Shared mode in a real browser, two people in two browser contexts against the OpenID
Connect mock and the fake APIs: isolation of conversations and comparisons, share links that
open read-only and stop working when revoked, and the daily budget refusing a paid call
before anything is sent. Slow: run one test at a time with -k."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SHARED_DOMAIN, new_page, start_shared_app
from tests.e2e.oidc import sign_in
from tests.fakes.openai_server import default_reply
from tests.fakes.tutorial_model import IDEA, PROMPT, scripted

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]
INPUT = '[data-testid="stChatInput"] textarea'
USER = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarUser"])'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
SIDEBAR = '[data-testid="stSidebar"]'
MAIN = '[data-testid="stMainBlockContainer"]'
TOAST = '[data-testid="stToast"]'
ERROR = '[data-testid="stAlertContentError"]'
SYSTEM_PROMPT = ".st-key-chat_system_prompt textarea"
PROMPT_BOX = 'textarea[aria-label="Prompt"]'
LANE = ".st-key-compare_lane_{}"
SHARED_LANE = ".st-key-shared_lane_{}"
READ_ONLY = "A read-only copy shared with you by its owner."
GONE = "This link does not exist or was revoked."
LONG = 60_000


def person(browser, app, subject: str):
    """A fresh browser context signed in as ``subject`` of the allowed domain."""
    page = new_page(browser)
    page.goto(app.url)
    sign_in(page, subject, f"{subject}@{SHARED_DOMAIN}", subject.capitalize())
    page.wait_for_selector(INPUT, timeout=LONG)
    return page


def send(page, text: str) -> None:
    page.fill(INPUT, text)
    page.keyboard.press("Enter")


def chat(page, text: str) -> str:
    """Send ``text`` and wait for the whole reply; returns the conversation's id."""
    send(page, text)
    page.wait_for_selector(f"{ASSISTANT} >> text={text}", timeout=LONG)
    page.wait_for_function("() => location.search.includes('c=')", timeout=LONG)
    page.wait_for_selector("text=to first token", timeout=LONG)  # the run has ended
    return page.url.split("c=")[1].split("&")[0]


def new_chat(page) -> None:
    page.get_by_role("button", name="New chat").first.click()  # the sidebar's
    page.wait_for_selector("text=Start a conversation below", timeout=LONG)


def make_link(page, kind: str) -> str:
    """Open the 'Shared links' panel, make a link to the item on screen, read it."""
    page.locator(f"{MAIN} summary:has-text('Shared links')").click()
    page.locator(f".st-key-share_create_{kind} button").click()
    code = page.locator(f'{MAIN} [data-testid="stCode"]:has-text("/shared?token=")')
    code.wait_for(timeout=LONG)
    link = code.inner_text().strip()
    assert link.startswith("http://127.0.0.1:") and "/shared?token=" in link, link
    page.wait_for_selector(f"{MAIN} summary:has-text('Shared links (1)')", timeout=LONG)
    return link


def revoke_only_link(page) -> None:
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_selector(f"{MAIN} summary:has-text('Shared links (0)')", timeout=LONG)


def assert_read_only(page) -> None:
    """The shared view: no input, no button in the page itself (the sidebar is the viewer's)."""
    assert page.locator(INPUT).count() == 0
    assert page.locator(f'{MAIN} [data-testid="stButton"]').count() == 0
    assert page.locator(f'{MAIN} [data-testid="stDownloadButton"]').count() == 0
    assert page.locator(f"{MAIN} textarea, {MAIN} input").count() == 0


def assert_link_is_dead(page, link: str) -> None:
    page.goto(link)
    page.wait_for_selector(f"text={GONE}", timeout=LONG)
    assert page.locator(f"text={READ_ONLY}").count() == 0


def test_a_shared_conversation_is_read_only_and_stops_with_revoke(browser, shared_app):
    ada = person(browser, shared_app, "ada3")
    bo = person(browser, shared_app, "bo3")
    try:
        other = chat(ada, "Ada's other question about Jupiter")
        new_chat(ada)
        ada.fill(SYSTEM_PROMPT, "Ada's secret system prompt: answer like a pirate")
        ada.keyboard.press("Control+Enter")
        shared_id = chat(ada, "Ada's shared question about Venus")
        assert shared_id != other
        link = make_link(ada, "conversation")

        # Bo sees none of Ada's conversations, and her URLs answer like missing ones.
        bo.reload()
        bo.wait_for_selector(INPUT, timeout=LONG)
        assert "Ada's" not in bo.inner_text(SIDEBAR)
        for cid in (other, shared_id):
            bo.goto(f"{shared_app.url}?c={cid}")
            toast = bo.wait_for_selector(TOAST, timeout=LONG)
            assert "That conversation does not exist" in toast.inner_text()
            assert "Ada's" not in bo.inner_text("body")

        # The link: that one conversation, read-only, nothing else of Ada's.
        bo.goto(link)
        bo.wait_for_selector(f"text={READ_ONLY}", timeout=LONG)
        bo.wait_for_selector(f"{ASSISTANT} >> text=shared question about Venus", timeout=LONG)
        assert bo.locator(USER).count() == 1 and bo.locator(ASSISTANT).count() == 1
        assert_read_only(bo)
        body = bo.inner_text("body")
        assert "Jupiter" not in body and "pirate" not in body
        assert "Ada3" not in body  # Ada's name belongs to her sidebar, not to the link

        # Someone not signed in gets the sign-in page at the link (no "Page not found" over
        # it), signs in and is brought back to the link (Streamlit itself returns to "/").
        cy = new_page(browser)
        try:
            cy.goto(link)
            cy.wait_for_selector("text=You opened a shared link", timeout=LONG)
            assert "Venus" not in cy.inner_text("body")
            assert cy.locator("text=Page not found").count() == 0
            sign_in(cy, "cy3", f"cy3@{SHARED_DOMAIN}", "Cy")
            cy.wait_for_selector(f"{ASSISTANT} >> text=shared question about Venus", timeout=LONG)
            assert cy.url == link
            assert_read_only(cy)
        finally:
            cy.context.close()

        revoke_only_link(ada)
        bo.reload()
        bo.wait_for_selector(f"text={GONE}", timeout=LONG)
        assert "Venus" not in bo.inner_text("body")
        assert_link_is_dead(bo, link.split("token=")[0] + "token=" + "x" * 43)
        ada.goto(f"{shared_app.url}?c={shared_id}")  # still Ada's own
        ada.wait_for_selector(f"{ASSISTANT} >> text=shared question about Venus", timeout=LONG)
    finally:
        ada.context.close()
        bo.context.close()


def studio_to_compare(page, app, fake_openai) -> str:
    """Run the Prompt Studio on the scripted idea, send its prompt to Compare, generate;
    returns the studio run's id."""
    fake_openai.reply, fake_openai.token_delay = scripted, 0.0
    try:
        page.goto(app.url + "studio")
        page.locator(f"{MAIN} textarea").first.fill(IDEA)
        page.keyboard.press("Control+Enter")
        page.locator(".st-key-studio_run button").click()
        page.wait_for_selector(".st-key-studio_send_to_compare button", timeout=LONG)
        page.wait_for_function("() => location.search.includes('run=')", timeout=LONG)
        run_id = page.url.split("run=")[1].split("&")[0]
        page.locator(".st-key-studio_send_to_compare button").click()
        page.wait_for_function(
            f"() => document.querySelector('{PROMPT_BOX}')?.value === {PROMPT!r}", timeout=LONG
        )
    finally:
        fake_openai.reply, fake_openai.token_delay = default_reply, 0.08
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(f"{LANE.format(0)} img", timeout=LONG)
    page.wait_for_selector(f"{LANE.format(1)} img", timeout=LONG)
    return run_id


def test_a_shared_comparison_is_read_only_and_stops_with_revoke(
    browser, shared_app, fake_openai, fake_images
):
    ada = person(browser, shared_app, "ada4")
    bo = person(browser, shared_app, "bo4")
    try:
        run_id = studio_to_compare(ada, shared_app, fake_openai)
        assert fake_images.calls[-1].body["prompt"] == PROMPT
        ada.locator(".st-key-compare_vote_lane-1 button").click()
        ada.wait_for_selector("text=Your vote: Lane 2", timeout=LONG)
        link = make_link(ada, "comparison")

        # Bo's gallery and leaderboard hold nothing of Ada's; her studio run is missing to him.
        bo.goto(shared_app.url + "gallery")
        bo.wait_for_selector("text=No images yet", timeout=LONG)
        assert bo.locator(f'{MAIN} [data-testid="stImage"]').count() == 0
        assert "Martian" not in bo.inner_text("body")
        bo.get_by_role("tab", name="Leaderboard").click()
        bo.wait_for_selector("text=No votes yet", timeout=LONG)
        toasts = []
        for rid in (run_id, "0" * 32):
            bo.goto(f"{shared_app.url}studio?run={rid}")
            toasts.append(bo.wait_for_selector(TOAST, timeout=LONG).inner_text())
            assert "Martian" not in bo.inner_text("body") and IDEA not in bo.inner_text("body")
        assert toasts[0] == toasts[1] and "That run does not exist" in toasts[0]

        bo.goto(link)
        bo.wait_for_selector(f"text={READ_ONLY}", timeout=LONG)
        bo.wait_for_selector(f"{MAIN} >> text={PROMPT}", timeout=LONG)
        for lane in (0, 1):
            bo.wait_for_selector(f"{SHARED_LANE.format(lane)} img", timeout=LONG)
        bo.wait_for_selector("text=Vote: Lane 2", timeout=LONG)
        assert_read_only(bo)
        assert IDEA not in bo.inner_text("body")  # the studio run behind it is not shared

        revoke_only_link(ada)
        bo.reload()
        bo.wait_for_selector(f"text={GONE}", timeout=LONG)
        assert bo.locator(f'{MAIN} [data-testid="stImage"]').count() == 0
        assert "Martian" not in bo.inner_text("body")
    finally:
        ada.context.close()
        bo.context.close()


@pytest.fixture(scope="module")
def tiny_budget_app(fake_openai, fake_karlo, oidc_provider, tmp_path_factory):
    """Shared mode with a daily budget far below any chat call's estimate."""
    app = start_shared_app(
        tmp_path_factory.mktemp("e2e-budget"),
        oidc_provider,
        fake_openai,
        fake_karlo,
        DAILY_BUDGET_USD="0.0001",
    )
    yield app
    app.stop()


def test_the_budget_refuses_a_paid_call_before_it_is_sent(
    browser, tiny_budget_app, fake_openai, fake_images, fake_karlo
):
    bo = person(browser, tiny_budget_app, "bo5")
    question = "Bo's question that the budget must stop"
    try:
        bo.wait_for_selector(f"{SIDEBAR} >> text=Budget today", timeout=LONG)
        chats = len(fake_openai.chat_requests())
        send(bo, question)
        refusal = bo.wait_for_selector(f"{ERROR}:has-text('Nothing was sent')", timeout=LONG)
        text = refusal.inner_text()
        assert "Spent today $0 of $0.000100" in text and "left" in text and "resets at" in text, (
            text
        )
        assert len(fake_openai.chat_requests()) == chats
        assert bo.locator(ASSISTANT).count() == 0
        bo.wait_for_selector(f"{USER} >> text={question}", timeout=LONG)  # what Bo typed is kept
        bo.reload()
        bo.wait_for_selector(f"{USER} >> text={question}", timeout=LONG)
        bo.wait_for_selector(f"{ERROR}:has-text('nothing was sent')", timeout=LONG)

        bo.get_by_role("button", name="Retry").click()
        bo.wait_for_selector(f"{ERROR}:has-text('Spent today')", timeout=LONG)
        assert len(fake_openai.chat_requests()) == chats

        images, karlo = len(fake_images.calls), len(fake_karlo.t2i_calls())
        bo.goto(tiny_budget_app.url + "compare")
        bo.fill(PROMPT_BOX, "Bo's lighthouse the budget must stop")
        bo.keyboard.press("Control+Enter")
        bo.get_by_role("button", name="Generate").click()
        bo.wait_for_selector(f"{ERROR}:has-text('Nothing was sent')", timeout=LONG)
        assert (len(fake_images.calls), len(fake_karlo.t2i_calls())) == (images, karlo)
        assert bo.locator(PROMPT_BOX).input_value() == "Bo's lighthouse the budget must stop"
    finally:
        bo.context.close()
