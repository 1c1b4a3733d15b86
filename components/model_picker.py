"""Model picker: catalog merged with the live model list; retired never the default."""

from __future__ import annotations

import streamlit as st

from components.context import AppContext
from services.catalog import ModelSpec, Status

# Material icons (Streamlit's own font) rather than emoji, which render as empty boxes where no
# emoji font is installed. Option labels are plain text, so the icon marks the chosen model
# and the words in each label carry the status.
STATUS_ICONS = {Status.RETIRED: ":material/block:", Status.RETIRING: ":material/schedule:"}


def model_label(ctx: AppContext, spec: ModelSpec) -> str:
    t = ctx.t
    status = spec.status(ctx.today)
    notes = []
    if status is Status.RETIRED:
        notes.append(t("chat.retired", date=spec.shutdown_date))
    elif status is Status.RETIRING:
        notes.append(t("chat.retiring", date=spec.shutdown_date))
    if not spec.known:
        notes.append(t("chat.unknown_model"))
    return f"{spec.id} — {', '.join(notes)}" if notes else spec.id


def model_picker(ctx: AppContext, *, kind: str, key: str, keep: str | None = None) -> ModelSpec:
    """A selectbox of models of ``kind``; ``keep`` (e.g. a conversation's stored model) stays
    selectable even when the live list no longer has it. Typing an unlisted id works."""
    choices = ctx.catalog.choices(kind, ctx.today, ctx.live_models())
    by_id = {c.id: c for c in choices}
    current = st.session_state.get(key)
    if current is None:
        default = ctx.catalog.default(kind, choices, ctx.today)
        current = default.id if default else (choices[0].id if choices else None)
    # A stored or typed id the list lacks stays selectable (an Ollama model, a retired one).
    for extra in (keep, current):
        if extra and extra not in by_id:
            by_id[extra] = ctx.catalog.spec(extra)
    ids = list(by_id)
    # Assigning the value each run makes Streamlit redraw the label in the current language.
    st.session_state[key] = current
    selected = st.selectbox(
        ctx.t("chat.model"),
        ids,
        key=key,
        persist_state="session",
        format_func=lambda mid: model_label(ctx, by_id.get(mid) or ctx.catalog.spec(mid)),
        accept_new_options=True,
        help=ctx.t("chat.model_help"),
        icon=STATUS_ICONS.get(by_id[current].status(ctx.today)) if current else None,
    )
    return by_id.get(selected) or ctx.catalog.spec(selected or "")
