"""The Costs tab: chat and image spending of the last 30 days in one ledger, the costliest
conversations and comparison runs, and Karlo's month against Kakao's free quota."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from components.context import AppContext
from components.gallery_labels import ledger_cost, shorten, vote_label
from components.times import shown_time
from services.i18n import Translator
from services.ledger import CostLedger, LedgerDay, totals
from services.wording import format_cost

WINDOW_DAYS = 30
TOP = 10


def cost_overview(ctx: AppContext, ledger: CostLedger) -> None:
    t = ctx.t
    until = ctx.today
    since = until - timedelta(days=WINDOW_DAYS - 1)
    days = ledger.days(since, until)
    summed = totals(days)

    st.caption(t("gallery.costs.period", days=WINDOW_DAYS))
    total, chat, images = st.columns(3)
    total.metric(t("gallery.costs.total"), spent(summed.total_usd, summed.estimate, t))
    chat.metric(t("gallery.costs.chat"), spent(summed.chat_cost_usd, summed.chat_estimate, t))
    images.metric(
        t("gallery.costs.images", count=summed.images),
        spent(summed.image_cost_usd, summed.image_estimate, t),
    )
    st.caption(
        t(
            "gallery.costs.chat_parts",
            studio=format_cost(summed.studio_cost_usd, t),
            translate=format_cost(summed.translate_cost_usd, t),
            audio=format_cost(summed.audio_cost_usd, t),
        )
    )
    if not days:
        st.info(t("gallery.costs.empty"))
    else:
        st.altair_chart(daily_chart(days, since, until, t), width="stretch")
        st.markdown(f"##### {t('gallery.costs.per_day')}")
        st.dataframe(
            [
                {
                    t("gallery.costs.day"): d.day.isoformat(),
                    t("gallery.costs.chat"): spent(d.chat_cost_usd, d.chat_estimate, t),
                    t("gallery.costs.image_cost"): spent(d.image_cost_usd, d.image_estimate, t),
                    t("gallery.costs.image_count"): d.images,
                    t("gallery.costs.total"): spent(d.total_usd, d.estimate, t),
                }
                for d in reversed(days)
            ],
            hide_index=True,
            width="stretch",
        )
    if summed.estimate:
        st.caption(t("gallery.costs.estimate_note"))
    _top_conversations(ctx, ledger, since, until)
    _top_runs(ctx, ledger, since, until)
    _karlo_quota(ctx, ledger)


def spent(cost: float, estimate: bool, t: Translator) -> str:
    """A ledger sum: "≈ $x" when it holds an estimate."""
    return ("≈ " if estimate else "") + format_cost(cost, t)


def daily_chart(days: list[LedgerDay], since: date, until: date, t: Translator) -> alt.Chart:
    """Chat and image spending per day over the whole window (quiet days as zero)."""
    by_day = {d.day: d for d in days}
    chat, images = t("gallery.costs.chat"), t("gallery.costs.image_cost")
    data = []
    for n in range((until - since).days + 1):
        day = since + timedelta(days=n)
        spent = by_day.get(day, LedgerDay(day))
        data += [
            {"day": day.isoformat(), "kind": chat, "usd": spent.chat_cost_usd},
            {"day": day.isoformat(), "kind": images, "usd": spent.image_cost_usd},
        ]
    return (
        alt.Chart(pd.DataFrame(data))
        .mark_bar()
        .encode(
            x=alt.X(
                "day:O", title=None, axis=alt.Axis(labelAngle=0, labelExpr="slice(datum.value, 5)")
            ),
            y=alt.Y("sum(usd):Q", title="USD"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=[chat, images], range=["#7c4dff", "#26a69a"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["day:O", "kind:N", alt.Tooltip("usd:Q", format="$.4f")],
        )
        .properties(height=220)
    )


def _top_conversations(ctx: AppContext, ledger: CostLedger, since: date, until: date) -> None:
    t = ctx.t
    st.markdown(f"##### {t('gallery.costs.per_conversation')}")
    rows = ledger.top_conversations(TOP, since, until)
    if not rows:
        st.caption(t("gallery.costs.no_conversations"))
        return
    st.dataframe(
        [
            {
                t("gallery.costs.conversation"): shorten(
                    c.title or t("gallery.costs.untitled"), 60
                ),
                t("gallery.costs.messages"): c.messages,
                t("gallery.costs.cost"): ledger_cost(c.cost_usd, c.unpriced > 0, t),
            }
            for c in rows
        ],
        hide_index=True,
        width="stretch",
    )
    if any(c.unpriced for c in rows):
        st.caption(t("gallery.costs.lower_bound_note"))


def _top_runs(ctx: AppContext, ledger: CostLedger, since: date, until: date) -> None:
    t = ctx.t
    st.markdown(f"##### {t('gallery.costs.per_run')}")
    rows = ledger.top_runs(TOP, since, until)
    if not rows:
        st.caption(t("gallery.costs.no_runs"))
        return
    st.dataframe(
        [
            {
                t("gallery.costs.when"): shown_time(r.created_at),
                t("gallery.costs.prompt"): shorten(r.prompt, 60),
                t("gallery.costs.lanes"): r.lanes,
                t("gallery.costs.image_count"): r.images,
                t("gallery.costs.vote"): vote_label(r.outcome, t),
                t("gallery.costs.cost"): ("≈ " if r.has_estimate else "")
                + ledger_cost(r.cost_usd, r.incomplete, t),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
        # the prompt would take the row and cut "Not voted yet" short
        column_config={
            t("gallery.costs.prompt"): st.column_config.TextColumn(width="medium"),
            t("gallery.costs.vote"): st.column_config.TextColumn(width="medium"),
        },
    )


def _karlo_quota(ctx: AppContext, ledger: CostLedger) -> None:
    t = ctx.t
    quota = ledger.karlo_quota(ctx.today)
    st.markdown(f"##### {t('gallery.costs.karlo_title')}")
    st.progress(
        quota.share,
        text=t("gallery.costs.karlo_progress", count=quota.used, free=quota.free),
    )
    st.caption(t("gallery.costs.karlo_note", free=quota.free))
    if quota.exceeded:
        st.warning(t("gallery.costs.karlo_over", count=quota.used - quota.free))
