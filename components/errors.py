"""Show a ChatCanvasError as a sentence in the user's language; never a traceback."""

from __future__ import annotations

import streamlit as st

from components.context import connection_fingerprint
from components.times import browser_zone
from services import wording
from services.budget import LimitExceeded
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.markdown_safety import escape_markdown
from services.settings import Settings

# Failures a new key or base URL can cure: once the connection they met has changed, they are
# old news and no longer shown as the current state.
CURED_BY_NEW_CONNECTION = frozenset(
    {
        ErrorKind.NO_KEY,
        ErrorKind.INVALID_KEY,
        ErrorKind.PERMISSION,
        ErrorKind.NO_CREDIT,
        ErrorKind.WRONG_ENDPOINT,
        ErrorKind.CONNECTION,
        ErrorKind.ADDRESS_REFUSED,
    }
)


def outdated(err: ChatCanvasError, settings: Settings, seen_with: object = None) -> bool:
    """Whether ``err``'s cause is gone: there is a key now for "no key", or the connection
    (key, base URL) is no longer ``seen_with``, the one the error met (None: not known)."""
    if err.kind is ErrorKind.NO_KEY:
        return settings.openai_api_key is not None
    return (
        err.kind in CURED_BY_NEW_CONNECTION
        and seen_with is not None
        and seen_with != connection_fingerprint(settings)
    )


def error_text(err: ChatCanvasError, t: Translator) -> str:
    """The sentence for ``err``, its quoted values escaped for Markdown, times in the
    browser's zone."""
    return wording.error_text(err, t, quote=escape_markdown, zone=browser_zone())


def show_error(err: ChatCanvasError, t: Translator, *, icon: str = ":material/error:") -> None:
    """The sentence, then the provider's own (scrubbed) words in a collapsed box."""
    st.error(error_text(err, t), icon=icon)
    # a limit's figures are in its sentence; our own checks had no provider to quote
    if err.detail and not isinstance(err, LimitExceeded) and not err.own_check:
        with st.expander(t("errors.details")):
            st.code(err.detail, language=None, wrap_lines=True)
