"""ChatCanvas router: page config, settings from the edge, the sign-in gate (shared mode), the
run's services for the owner, sidebar, st.navigation over app_pages/."""

from __future__ import annotations

import gc
from datetime import date
from typing import NamedTuple

import streamlit as st

from components import state as K
from components.account import account_panel, refusal_page, return_to_destination, sign_in_page
from components.budget import budget_caption
from components.context import AppContext
from components.errors import show_error
from components.first_run import demo_banner, first_run_panel
from components.sidebar import connection_panel, language_switch
from demo.mode import DemoProviders, demo_settings, demo_wanted, start_demo_providers
from services.app_services import build_services
from services.catalog import load_catalog
from services.config_sources import SETTING_NAMES, SETTING_SECTIONS, read_environment
from services.errors import ChatCanvasError, ErrorKind, scrub
from services.identity import SignedInUser, is_admin, may_use, user_from_claims
from services.settings import LOCAL_OWNER, Mode, resolve_settings


class PageSpec(NamedTuple):
    """One page of the navigation; the sign-in gate answers at every ``path`` too."""

    script: str
    title: str  # locale key
    icon: str | None
    path: str
    shown: bool  # in the menu
    admins_only: bool


# Chat is served at "/" (the default page) and, through a hidden alias page, at "/chat".
PAGES = tuple(
    PageSpec(*spec)
    for spec in (
        ("app_pages/chat.py", "common.nav.chat", ":material/chat:", "home", True, False),
        ("app_pages/chat_alias.py", "common.nav.chat", None, "chat", False, False),
        (
            "app_pages/studio.py",
            "common.nav.studio",
            ":material/auto_awesome:",
            "studio",
            True,
            False,
        ),
        (
            "app_pages/compare.py",
            "common.nav.compare",
            ":material/compare:",
            "compare",
            True,
            False,
        ),
        ("app_pages/grid.py", "common.nav.grid", ":material/grid_view:", "grid", True, False),
        (
            "app_pages/gallery.py",
            "common.nav.gallery",
            ":material/photo_library:",
            "gallery",
            True,
            False,
        ),
        ("app_pages/shared.py", "shares.page_title", None, "shared", False, False),
        (
            "app_pages/admin.py",
            "admin.title",
            ":material/admin_panel_settings:",
            "admin",
            True,
            True,
        ),
    )
)

st.set_page_config(page_title="ChatCanvas", page_icon="🎨", layout="wide")


def read_secrets() -> dict[str, object]:
    """st.secrets when a secrets.toml exists (Community Cloud), else nothing."""
    try:
        values = {name: st.secrets[name] for name in SETTING_NAMES if name in st.secrets}
        # a section ([s3]) as a plain dict: Streamlit's AttrDict is no Mapping to resolve_settings
        values |= {name: dict(st.secrets[name]) for name in SETTING_SECTIONS if name in st.secrets}
        return values
    except Exception:  # no secrets file: Streamlit raises on first access
        return {}


def auth_configured() -> bool:
    """Shared mode: the secrets hold an ``[auth]`` section for Streamlit's st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file
        return False


def signed_in_user() -> SignedInUser | None:
    """The person signed in to this session (from their ID token's claims), if any."""
    return user_from_claims(st.user.to_dict())


def auth_providers() -> list[str | None]:
    """The providers named in ``[auth.<name>]`` sections, or ``[None]`` for a flat ``[auth]``
    section (one provider: st.login() with no name)."""
    section = st.secrets.get("auth", {})
    named = [k for k, v in section.items() if hasattr(v, "keys") and "client_id" in v]
    return ([None] if "client_id" in section or not named else []) + named


@st.cache_resource(show_spinner=False)
def demo_providers() -> DemoProviders:
    """A cache: the demo's fake providers, started once per process on ephemeral ports."""
    return start_demo_providers()


@st.cache_resource(show_spinner=False)
def freeze_long_lived_objects() -> None:
    """Once per process, after the first whole run: a collection of the oldest generation
    (Python's own, and Streamlit's after each run where runner.postScriptGC is on) holds every
    session still for as long as it walks the objects the process tracks: mostly modules,
    classes and caches that live as long as the process. Frozen, they are skipped; what runs
    leave behind is still collected."""
    gc.freeze()


t = language_switch()
environment = read_environment()
settings = resolve_settings(
    sidebar={
        "OPENAI_API_KEY": st.session_state.get(K.SIDEBAR_OPENAI_KEY),
        "OPENAI_BASE_URL": st.session_state.get(K.SIDEBAR_OPENAI_BASE_URL),
        "KAKAO_REST_API_KEY": st.session_state.get(K.SIDEBAR_KAKAO_KEY),
        "IMAGE_SERVER_URL": st.session_state.get(K.OWN_IMAGE_SERVER_URL),
        "IMAGE_SERVER_KEY": st.session_state.get(K.OWN_IMAGE_SERVER_KEY),
        "IMAGE_SERVER_MODEL": st.session_state.get(K.OWN_IMAGE_SERVER_MODEL),
    },
    secrets=read_secrets(),
    environ=environment,
    mode=Mode.SHARED if auth_configured() else Mode.LOCAL,
)
demo_asked = demo_wanted(environment, bool(st.session_state.get(K.DEMO)))
if demo_asked and settings.mode is Mode.LOCAL:  # never on a shared deployment
    settings = demo_settings(settings, demo_providers())
user = signed_in_user() if settings.mode is Mode.SHARED else None
if settings.mode is Mode.SHARED and (user is None or not may_use(user, settings.access)):
    # Nothing of the app runs for this visitor: one page, no navigation, no stores. It answers
    # at every address of the app too, so a bookmark or a share link gets it rather than
    # Streamlit's "Page not found" over it (which leaves the sign-in button inert).
    if user is None:
        gate, title, path = (
            (lambda: sign_in_page(t, auth_providers())),
            "auth.page_title",
            "sign-in",
        )
    else:
        gate, title, path = (lambda: refusal_page(t, user)), "auth.refused_title", "refused"
    gates = [st.Page(gate, title=t(title), url_path=path)] + [
        st.Page(gate, title=t(title), url_path=other, visibility="hidden")
        for other in (spec.path for spec in PAGES)
    ]
    st.navigation(gates, position="hidden").run()
    st.stop()

catalog = load_catalog()
try:
    services = build_services(settings, user.owner_id if user else LOCAL_OWNER, catalog=catalog)
except Exception as exc:  # a wrong DATABASE_URL, a database server that is down
    show_error(ChatCanvasError(ErrorKind.DATABASE, scrub(str(exc), settings.secrets())), t)
    st.text(settings.masked_database_url)  # plain text, never the password
    st.stop()
if user is not None:
    services.users.record_visit(user)
admin = user is not None and is_admin(user, settings.access)
context = AppContext(
    settings=services.settings,
    t=t,
    catalog=catalog,
    services=services,
    today=date.today(),
    user=user,
    is_admin=admin,
)
st.session_state[K.APP_CONTEXT] = context

pages = [
    st.Page(
        spec.script,
        title=t(spec.title),
        icon=spec.icon,
        url_path=spec.path,
        default=spec.path == "home",
        visibility="visible" if spec.shown else "hidden",
    )
    for spec in PAGES
    if admin or not spec.admins_only  # for anyone else /admin is a page that does not exist
]
page = st.navigation(pages)
if user is not None:
    account_panel(t, user)
    return_to_destination()
connection_panel()
context.redraw_budget = budget_caption(services.budget, t)
if settings.demo:
    demo_banner(t, leavable=not demo_wanted(environment, False))
elif demo_asked:  # asked for on a shared deployment
    st.error(t("welcome.demo_shared_refused"), icon=":material/block:")
if page.url_path != "shared":  # a share link's reader needs no key
    first_run_panel(settings, t, demo_offered=settings.mode is Mode.LOCAL)
page.run()
freeze_long_lived_objects()
