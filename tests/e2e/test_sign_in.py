"""Shared mode in a real browser against a real OpenID Connect provider (oidc-provider-mock):
sign-in in both languages, the allow-list's refusal, two people isolated from each other,
and the admin page for admins only. Slow: run one at a time with -k."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SHARED_ADMIN, SHARED_DOMAIN, new_page
from tests.e2e.oidc import LOGIN_BUTTON, SIGN_OUT_BUTTON, sign_in, sign_out

# Signing in is several page loads across two servers; the first test also starts both.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
INPUT = '[data-testid="stChatInput"] textarea'
ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
SIDEBAR = '[data-testid="stSidebar"]'
NAV = '[data-testid="stSidebarNav"]'
TOAST = '[data-testid="stToast"]'


def wait_for_app(page) -> None:
    page.wait_for_selector(INPUT, timeout=30_000)


def open_signed_in(browser, app, subject: str, email: str, name: str):
    page = new_page(browser)
    page.goto(app.url)
    sign_in(page, subject, email, name)
    return page


@pytest.mark.parametrize(
    ("locale", "title", "button"),
    [("en-US", "Sign in to ChatCanvas", "Sign in"), ("ko-KR", "ChatCanvas에 로그인", "로그인")],
)
def test_an_anonymous_visitor_sees_only_the_sign_in_page(
    browser, shared_app, locale, title, button
):
    page = new_page(browser, locale)
    try:
        for path in ("", "compare", "gallery?img=0123456789abcdef"):
            page.goto(shared_app.url + path)
            page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
            page.locator(LOGIN_BUTTON).get_by_text(button, exact=True).wait_for(timeout=30_000)
            assert page.locator(INPUT).count() == 0
            assert page.locator(NAV).count() == 0
            assert page.locator(f"{SIDEBAR} [data-testid='stButton']").count() == 0
    finally:
        page.context.close()


def test_sign_in_shows_the_name_and_sign_out(browser, shared_app):
    page = open_signed_in(browser, shared_app, "ada", f"ada@{SHARED_DOMAIN}", "Ada Lovelace")
    try:
        wait_for_app(page)
        page.wait_for_selector(f"{SIDEBAR} >> text=Ada Lovelace", timeout=30_000)
        page.locator(SIGN_OUT_BUTTON).get_by_text("Sign out", exact=True).wait_for(timeout=30_000)
        page.reload()  # a new session in the same browser is still signed in
        page.wait_for_selector(f"{SIDEBAR} >> text=Ada Lovelace", timeout=30_000)
        sign_out(page)
        assert page.locator(INPUT).count() == 0
    finally:
        page.context.close()


def test_signing_in_returns_to_the_address_opened_signed_out(browser, shared_app):
    page = new_page(browser)
    try:
        page.goto(shared_app.url + "gallery")
        sign_in(page, "dee", f"dee@{SHARED_DOMAIN}", "Dee")
        page.wait_for_url(shared_app.url + "gallery", timeout=30_000)
        page.wait_for_selector(f"{SIDEBAR} >> text=Dee", timeout=30_000)
        page.reload()  # only once: later visits to "/" stay there
        page.goto(shared_app.url)
        wait_for_app(page)
        assert page.url == shared_app.url
    finally:
        page.context.close()


def test_someone_the_allow_list_does_not_name_is_refused(browser, shared_app):
    page = open_signed_in(browser, shared_app, "eve", "eve@elsewhere.example", "Eve")
    try:
        page.wait_for_selector("h1:has-text('This ChatCanvas is not open to you')", timeout=30_000)
        page.wait_for_selector(
            "text=eve@elsewhere.example", timeout=30_000
        )  # drawn after the title
        assert page.locator(".st-key-auth_refused_logout button").is_visible()
        assert page.locator(INPUT).count() == 0 and page.locator(NAV).count() == 0
        page.goto(shared_app.url + "gallery")
        page.wait_for_selector("h1:has-text('This ChatCanvas is not open to you')", timeout=30_000)
        assert page.locator(NAV).count() == 0
    finally:
        page.context.close()


def test_two_people_do_not_see_each_others_conversations(browser, shared_app, fake_openai):
    ada = open_signed_in(browser, shared_app, "ada2", f"ada2@{SHARED_DOMAIN}", "Ada")
    bo = open_signed_in(browser, shared_app, "bo", f"bo@{SHARED_DOMAIN}", "Bo")
    try:
        wait_for_app(ada)
        ada.fill(INPUT, "Ada's private question about Mars")
        ada.keyboard.press("Enter")
        ada.wait_for_selector(f"{ASSISTANT} >> text=private question about Mars", timeout=60_000)
        ada.wait_for_function("() => location.search.includes('c=')", timeout=20_000)
        ada.wait_for_selector(f"{SIDEBAR} >> text=Ada's private question", timeout=30_000)
        conversation_id = ada.url.split("c=")[1].split("&")[0]

        wait_for_app(bo)
        bo.reload()
        wait_for_app(bo)
        assert "Ada's private question" not in bo.inner_text(SIDEBAR)

        toasts = {}
        for label, cid in (("foreign", conversation_id), ("missing", "0" * 32)):
            bo.goto(f"{shared_app.url}?c={cid}")
            wait_for_app(bo)
            toast = bo.wait_for_selector(TOAST, timeout=30_000)
            toasts[label] = toast.inner_text()
            assert "private question" not in bo.inner_text("body")
            assert bo.locator(ASSISTANT).count() == 0
        assert toasts["foreign"] == toasts["missing"]
        assert "does not exist" in toasts["foreign"]

        ada.goto(f"{shared_app.url}?c={conversation_id}")  # still Ada's
        ada.wait_for_selector(f"{ASSISTANT} >> text=private question about Mars", timeout=30_000)
    finally:
        ada.context.close()
        bo.context.close()


def test_only_admins_see_the_admin_page(browser, shared_app):
    boss = open_signed_in(browser, shared_app, "boss", SHARED_ADMIN, "The Boss")
    visitor = open_signed_in(browser, shared_app, "cy", f"cy@{SHARED_DOMAIN}", "Cy")
    try:
        wait_for_app(boss)
        boss.locator(NAV).get_by_role("link", name="Admin").click()
        boss.wait_for_selector("h3:has-text('Admin')", timeout=30_000)
        table = boss.wait_for_selector('[data-testid="stDataFrame"]', timeout=30_000)
        assert table.is_visible()
        assert boss.url.rstrip("/").endswith("/admin")

        wait_for_app(visitor)
        assert visitor.locator(NAV).get_by_role("link", name="Admin").count() == 0
        visitor.goto(shared_app.url + "admin")
        visitor.wait_for_selector("text=Page not found", timeout=30_000)
        wait_for_app(visitor)  # the main page runs instead
        assert visitor.locator("h3:has-text('Admin')").count() == 0
    finally:
        boss.context.close()
        visitor.context.close()
