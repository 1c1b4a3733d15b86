"""A real OpenID Connect provider for the browser tests, and the steps a person takes to sign
in through it.

``oidc-provider-mock`` (PyPI) is a Flask app speaking the real protocol: discovery document,
authorization form, token endpoint with signed ID tokens, JWKS, end-session. It runs here on
127.0.0.1 in a thread; Streamlit's own st.login (Authlib) talks to it over HTTP exactly as it
would to Google. The claims a subject gets are set with the mock's ``PUT /users/<sub>``.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

import werkzeug.serving

COOKIE_SECRET = "e2e-cookie-secret-0123456789abcdef0123456789"
CLIENT_ID = "chatcanvas-e2e"
CLIENT_SECRET = "e2e-client-secret"  # the mock accepts any client and secret
LOGIN_BUTTON = ".st-key-auth_login button"
SIGN_OUT_BUTTON = ".st-key-auth_logout button"


class OidcProvider:
    """oidc-provider-mock on 127.0.0.1 (a free port), served from a thread."""

    def __init__(self) -> None:
        from oidc_provider_mock import app as provider_app

        self._server = werkzeug.serving.make_server(
            "127.0.0.1", 0, provider_app(require_nonce=True), threaded=True
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def set_claims(provider_url: str, subject: str, claims: dict[str, object]) -> None:
    """What the provider will put in ``subject``'s ID token (besides iss, sub, aud...)."""
    request = urllib.request.Request(
        f"{provider_url}/users/{subject}",
        data=json.dumps(claims).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204, response.status


def write_secrets(
    path: Path,
    *,
    app_port: int,
    provider: OidcProvider,
    settings: dict[str, str],
) -> Path:
    """A secrets.toml for one test server: the app's settings and an ``[auth]`` section
    pointing st.login at ``provider``."""
    lines = [f"{name} = {json.dumps(value)}" for name, value in settings.items()]
    lines += [
        "",
        "[auth]",
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"',
        f'cookie_secret = "{COOKIE_SECRET}"',
        f'client_id = "{CLIENT_ID}"',
        f'client_secret = "{CLIENT_SECRET}"',
        f'server_metadata_url = "{provider.metadata_url}"',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def sign_in(
    page, subject: str, email: str | None, name: str | None, *, email_verified: bool = True
) -> None:
    """Sign in as ``subject`` from the app's sign-in page (``page`` shows it): press the
    app's sign-in button, give the provider the subject on its form, come back signed in.
    The provider is told the person's claims first, on the origin its form is served from."""
    page.locator(LOGIN_BUTTON).click()
    page.wait_for_selector('input[name="sub"]', timeout=30_000)
    provider_url = page.url.split("/oauth2/")[0]
    claims: dict[str, object] = {"email_verified": email_verified}
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    set_claims(provider_url, subject, claims)
    page.fill('input[name="sub"]', subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: not url.startswith(provider_url), timeout=30_000)


def sign_out(page) -> None:
    """Press the sidebar's sign-out; confirm on the provider's end-session page."""
    page.locator(SIGN_OUT_BUTTON).click()
    page.get_by_role("button", name="End session").click(timeout=30_000)
    page.wait_for_selector(LOGIN_BUTTON, timeout=30_000)
