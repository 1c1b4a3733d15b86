"""Admin (shared deployments, admins only): who uses the deployment and what each person
spends on the deployer's keys, today, this month and per day."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from components.context import app_context
from components.gallery_labels import ledger_cost
from components.times import shown_time
from services.admin_report import OwnerDay, UserSpend
from services.i18n import Translator

WINDOW_DAYS = 30


def user_table(rows: list[UserSpend], t: Translator) -> None:
    st.dataframe(
        [
            {
                t("admin.name"): row.user.name or "",
                t("admin.email"): row.user.email or "",
                t("admin.role"): t("admin.admin") if row.is_admin else "",
                t("admin.today"): ledger_cost(row.today_usd, row.unpriced_today > 0, t),
                t("admin.month"): ledger_cost(row.month_usd, row.unpriced_month > 0, t),
                t("admin.calls_today"): row.calls_today,
                t("admin.calls_month"): row.calls_month,
                t("admin.first_seen"): shown_time(row.user.first_seen),
                t("admin.last_seen"): shown_time(row.user.last_seen),
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
        key="admin_users",
    )


def spend_chart(days: list[OwnerDay], names: dict[str, str], t: Translator) -> alt.Chart:
    """Spending per UTC day, one colour per user."""
    data = pd.DataFrame(
        {
            "day": [d.day.isoformat() for d in days],
            "user": [names.get(d.owner_id, d.owner_id[:10]) for d in days],
            "cost": [d.cost_usd for d in days],
        }
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=t("admin.day")),
            y=alt.Y("sum(cost):Q", title=t("admin.spend_usd")),
            color=alt.Color("user:N", title=t("admin.user")),
            tooltip=["day:T", "user:N", alt.Tooltip("sum(cost):Q", format="$.4f")],
        )
    )


ctx = app_context()
t = ctx.t
report = ctx.services.admin_report()
today = ctx.today

st.subheader(t("admin.title"))
rows = report.user_spend(today)
users, spent_today, spent_month = st.columns(3)
users.metric(t("admin.users"), len(rows))
spent_today.metric(
    t("admin.today"),
    ledger_cost(sum(r.today_usd for r in rows), any(r.unpriced_today for r in rows), t),
)
spent_month.metric(
    t("admin.month"),
    ledger_cost(sum(r.month_usd for r in rows), any(r.unpriced_month for r in rows), t),
)
user_table(rows, t)

st.markdown(f"##### {t('admin.per_day', days=WINDOW_DAYS)}")
days = report.daily(today - timedelta(days=WINDOW_DAYS - 1), today)
if days:
    names = {r.user.owner_id: r.user.name or r.user.email or r.user.owner_id[:10] for r in rows}
    st.altair_chart(spend_chart(days, names, t), width="stretch")
else:
    st.info(t("admin.no_spend"))
