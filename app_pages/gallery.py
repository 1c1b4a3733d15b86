"""Gallery: every stored image with its lineage, the leaderboard from the user's own votes,
and one ledger of chat and image costs."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from components import state as K
from components.context import AppContext, app_context
from components.gallery_browser import (
    PAGE_SIZE,
    current_page,
    gallery_filters,
    image_grid,
    page_count,
    pager,
    selection_bar,
)
from components.gallery_costs import cost_overview
from components.gallery_detail import image_detail
from components.gallery_labels import provider_label
from services.i18n import LANGUAGES, Translator
from services.leaderboard import LeaderboardRow
from services.leaderboard import leaderboard as ranked
from services.storage.images import ImageStore


def keep_tab_across_languages(keys: tuple[str, ...], labels: list[str]) -> None:
    """The open tab is remembered by its label; after a language switch, find it again."""
    open_label = st.session_state.get(K.GALLERY_TAB)
    if open_label is None or open_label in labels:
        return
    for lang in LANGUAGES:
        other = [Translator(lang)(key) for key in keys]
        if open_label in other:
            st.session_state[K.GALLERY_TAB] = labels[other.index(open_label)]
            return


def images_tab(ctx: AppContext, store: ImageStore) -> None:
    t = ctx.t
    filters = gallery_filters(ctx)
    total = store.count(**filters)  # counted in SQL; only this page's thumbnails are read
    if total == 0:
        filtered = any(v for v in filters.values())
        st.info(t("gallery.empty_filtered") if filtered else t("images.gallery.empty"))
        return
    pages = page_count(total)
    page = current_page(pages)
    thumbs = store.list_thumbnails(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
    selection_bar(ctx, store, [thumb.id for thumb in thumbs], total)
    image_grid(ctx, thumbs)
    pager(ctx, page, pages)


def leaderboard_tab(ctx: AppContext, store: ImageStore) -> None:
    t = ctx.t
    rows = ranked(store.votes())
    if not rows:
        st.info(t("images.leaderboard.empty"))
        return
    st.caption(t("gallery.leaderboard.about"))
    columns = {
        name: t(f"images.leaderboard.{name}")
        for name in ("provider", "model", "wins", "losses", "ties", "both_bad", "win_rate", "elo")
    }
    st.dataframe(
        [
            {
                columns["provider"]: provider_label(row.provider, t),
                columns["model"]: row.model,
                columns["wins"]: row.wins,
                columns["losses"]: row.losses,
                columns["ties"]: row.ties,
                columns["both_bad"]: row.both_bad,
                columns["win_rate"]: row.win_rate,
                columns["elo"]: row.elo,
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
        column_config={
            columns["win_rate"]: st.column_config.NumberColumn(format="percent"),
            columns["elo"]: st.column_config.NumberColumn(format="%.0f"),
        },
    )
    st.altair_chart(outcome_chart(rows, columns, t), width="stretch")


def outcome_chart(rows: list[LeaderboardRow], columns: dict[str, str], t: Translator):
    """Each model's votes as one stacked bar: wins, ties, losses, both bad."""
    colors = {"wins": "#2e7d32", "ties": "#9e9e9e", "losses": "#c62828", "both_bad": "#5d4037"}
    names = [f"{provider_label(r.provider, t)} · {r.model}" for r in rows]
    data = [
        {"model": name, "outcome": columns[o], "order": n, "votes": getattr(row, o)}
        for name, row in zip(names, rows, strict=True)
        for n, o in enumerate(colors)
    ]
    return (
        alt.Chart(pd.DataFrame(data))
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort=names, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X(
                "sum(votes):Q",
                title=t("gallery.leaderboard.votes"),
                axis=alt.Axis(tickMinStep=1, format="d"),
            ),
            color=alt.Color(
                "outcome:N",
                title=None,
                sort=[columns[o] for o in colors],
                scale=alt.Scale(domain=[columns[o] for o in colors], range=list(colors.values())),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("model:N", title=columns["model"]), "outcome:N", "votes:Q"],
        )
        .properties(height=alt.Step(34))
    )


ctx = app_context()
t = ctx.t
store = ctx.images

st.subheader(t("gallery.title"))
tab_keys = ("gallery.tabs.images", "gallery.tabs.leaderboard", "gallery.tabs.costs")
labels = [t(key) for key in tab_keys]
keep_tab_across_languages(tab_keys, labels)
images, leaderboard, costs = st.tabs(
    labels,
    key=K.GALLERY_TAB,
    on_change="rerun",  # only the open tab's content runs
)
with images:
    if images.open:
        images_tab(ctx, store)
with leaderboard:
    if leaderboard.open:
        leaderboard_tab(ctx, store)
with costs:
    if costs.open:
        cost_overview(ctx, ctx.ledger)

linked = st.query_params.pop("image", None)  # "Open in the gallery" from a comparison
if linked:
    st.session_state[K.GALLERY_OPEN] = linked
open_id = st.session_state.get(K.GALLERY_OPEN)
if open_id:
    image_detail(ctx, store, open_id)
