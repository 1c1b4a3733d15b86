"""A revised prompt on screen: the word diff against the prompt sent (services/prompt_diff.py),
on a Compare lane's card and in the gallery's image detail (the action that sends it on:
components/revised_prompt_send.py).

The diff is HTML built here from escaped text only (the prompt is the person's, the revised
prompt the provider's: neither may become markup). Added words are underlined, left-out words
struck through, and each carries a word for screen readers, so colour is never the only sign.
"""

from __future__ import annotations

import html

import streamlit as st

from components.context import AppContext
from services.prompt_diff import Change, PromptDiff, diff_prompts

# visually hidden, read by screen readers
_SCREEN_READER_ONLY = (
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap;border:0"
)
_STYLES = {
    Change.ADDED: (
        "ins",
        "text-decoration:underline;text-decoration-thickness:2px;text-underline-offset:3px;"
        "background:rgba(33,195,84,0.16);font-weight:600",
    ),
    Change.REMOVED: (
        "del",
        "text-decoration:line-through;text-decoration-thickness:2px;"
        "background:rgba(255,75,75,0.14)",
    ),
}


def diff_html(ctx: AppContext, diff: PromptDiff) -> str:
    """The diff as HTML: every piece of text escaped, changes in ``ins`` / ``del``."""
    t = ctx.t
    marks = {Change.ADDED: t("revised.added_mark"), Change.REMOVED: t("revised.removed_mark")}
    parts = []
    for piece in diff.pieces:
        text = html.escape(piece.text)
        if piece.change is not Change.SAME:
            tag, style = _STYLES[piece.change]
            mark = html.escape(marks[piece.change])
            hidden = f'<span style="{_SCREEN_READER_ONLY}">{mark} </span>'
            text = f'<{tag} style="{style}">{hidden}{text}</{tag}>'
        parts.append((" " if piece.spaced else "") + text)
    label = html.escape(t("revised.diff_label"), quote=True)
    legend = html.escape(t("revised.legend"))
    return (
        f'<div role="group" aria-label="{label}" class="cc-prompt-diff">'
        f'<p style="line-height:1.7;margin-bottom:0.4rem">{"".join(parts)}</p>'
        f'<p style="font-size:0.85em;opacity:0.75;margin:0">{legend}</p></div>'
    )


def revised_prompt_diff(ctx: AppContext, sent: str, revised: str, *, expanded: bool = False):
    """What the model changed in ``sent``: a caption when nothing, else an expander whose
    label counts the words added and left out, holding the marked-up diff."""
    t = ctx.t
    diff = diff_prompts(sent, revised)
    title = t("images.revised_prompt")
    if diff.identical:
        st.caption(f"{title}: {t('revised.identical')}")
        return
    counts = f"{t('revised.added', count=diff.added)}, {t('revised.removed', count=diff.removed)}"
    with st.expander(f"{title} ({counts})", expanded=expanded, icon=":material/difference:"):
        st.html(diff_html(ctx, diff))
