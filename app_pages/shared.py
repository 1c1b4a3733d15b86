"""A shared item, read-only: a conversation, a studio run or a comparison behind a link.

No edit controls and nothing else of the owner's: the share service reads just this item.
An unknown, revoked or dead link answers one and the same page.
"""

from __future__ import annotations

import streamlit as st

from components.compare_run import (
    blind_reveal,
    display_order,
    lane_key,
    lane_title,
    outcome_label,
)
from components.context import app_context
from components.image_card import from_stored, image_card
from services.shares import SharedComparison, SharedConversation, SharedStudioRun
from services.wording import format_cost

ctx = app_context()
t = ctx.t
shared = ctx.shares.open(st.query_params.get("token", ""))

if shared is None:
    st.subheader(t("shares.page_title"))
    st.error(t("shares.not_found"), icon=":material/link_off:")
    st.stop()

st.info(t("shares.read_only"), icon=":material/visibility:")
if isinstance(shared, SharedConversation):
    st.subheader(shared.title or t("shares.kinds.conversation"))
    for message in shared.messages:
        with st.chat_message(message.role):
            st.markdown(message.content)
            if message.role == "assistant" and message.model:
                st.caption(message.model)
elif isinstance(shared, SharedStudioRun):
    run = shared.run
    st.subheader(t("shares.kinds.studio_run"))
    st.markdown(f"**{t('shares.idea')}**")
    st.markdown(run.idea)
    for step, result in zip(run.template.steps, run.steps, strict=True):
        with st.expander(step.name, expanded=False):
            st.markdown(result.output or "—")
    if run.final_prompt:
        st.markdown(f"**{t('shares.final_prompt')}**")
        st.code(run.final_prompt, language=None, wrap_lines=True)
        if run.negative_prompt:
            st.caption(f"{t('shares.negative_prompt')}: {run.negative_prompt}")
    st.caption(t("shares.run_cost", cost=format_cost(run.cost_usd, t)))
elif isinstance(shared, SharedComparison):
    compare_run = shared.run
    st.subheader(t("shares.kinds.comparison"))
    st.markdown(compare_run.prompt)
    if compare_run.negative_prompt:
        st.caption(f"{t('shares.negative_prompt')}: {compare_run.negative_prompt}")
    hidden = compare_run.blind and compare_run.outcome is None
    lanes = {lane.index: lane for lane in compare_run.lanes}
    order = display_order(compare_run.id, len(lanes), blind=compare_run.blind)
    columns = st.columns(max(len(order), 1))
    for position, (column, index) in enumerate(zip(columns, order, strict=False)):
        lane = lanes[index]
        title = lane_title(
            ctx,
            index,
            {"provider": lane.provider, "model": lane.model},
            position=position if compare_run.blind else None,
            revealed=not hidden,
        )
        with column, st.container(border=True, key=f"shared_lane_{index}"):
            card = from_stored(shared, lane)
            image_card(ctx, title, card, key=lane_key(compare_run.id, index), hide_details=hidden)
    if compare_run.outcome is None:
        st.caption(t("shares.not_voted"))
    else:
        st.success(t("shares.voted", outcome=outcome_label(ctx, compare_run)))
        if compare_run.blind:
            st.info(blind_reveal(ctx, compare_run), icon=":material/visibility:")
