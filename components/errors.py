"""Show a ChatCanvasError as a sentence in the user's language; never a traceback."""

from __future__ import annotations

import streamlit as st

from services import wording
from services.budget import LimitExceeded
from services.errors import ChatCanvasError
from services.i18n import Translator
from services.markdown_safety import escape_markdown


def error_text(err: ChatCanvasError, t: Translator) -> str:
    """The sentence for ``err``, its quoted values escaped for Markdown."""
    return wording.error_text(err, t, quote=escape_markdown)


def show_error(err: ChatCanvasError, t: Translator, *, icon: str = ":material/error:") -> None:
    """The sentence, then the provider's own (scrubbed) words in a collapsed box."""
    st.error(error_text(err, t), icon=icon)
    # a limit's figures are in its sentence; our own checks had no provider to quote
    if err.detail and not isinstance(err, LimitExceeded) and not err.own_check:
        with st.expander(t("errors.details")):
            st.code(err.detail, language=None, wrap_lines=True)
