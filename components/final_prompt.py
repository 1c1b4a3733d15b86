"""The final prompt of a studio run: editable, its length, the Karlo checks, Send to Compare."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.compare_run import show_comparison
from components.compare_view import show_run
from components.context import AppContext
from components.errors import error_text, show_error
from components.moderation_panel import cleared, held_panel, resumed
from services.comparison import ComparisonSpec
from services.errors import ChatCanvasError
from services.i18n import Translator
from services.storage.chains import ChainStore
from services.studio import (
    ChainRun,
    CompareHandoff,
    FinalPrompt,
    compare_handoff,
    edit_final_prompt,
    prompt_checks,
)

COMPARE_PAGE = "app_pages/compare.py"


def _save_prompt(ctx: AppContext, chains: ChainStore, run_id: str) -> None:
    negative = st.session_state.get(K.STUDIO_NEGATIVE_PROMPT)
    final = FinalPrompt(st.session_state.get(K.STUDIO_FINAL_PROMPT, ""), negative)
    try:
        edit_final_prompt(ctx.chain_engine, chains, run_id, final)
    except ChatCanvasError as err:
        run = chains.get_run(run_id)
        if run is not None:  # an empty prompt is not kept
            st.session_state[K.STUDIO_FINAL_PROMPT] = run.final_prompt
        st.toast(error_text(err, ctx.t), icon=":material/error:")


def _send_to_compare(handoff: CompareHandoff) -> None:
    """Fill the Compare page's boxes with the run's prompt and open it."""
    st.session_state[K.COMPARE_PROMPT] = handoff.prompt
    st.session_state[K.COMPARE_NEGATIVE_PROMPT] = handoff.negative_prompt
    st.session_state[K.COMPARE_KARLO_PROMPT] = handoff.english_prompt or ""
    st.session_state[K.COMPARE_STUDIO_RUN_ID] = handoff.studio_run_id
    st.switch_page(COMPARE_PAGE)


def _checks(prompt: str, t: Translator) -> str:
    marks = []
    for check in prompt_checks(prompt):
        icon = ":green[:material/check_circle:]" if check.ok else ":red[:material/cancel:]"
        marks.append(f"{icon} {t(check.key, **check.params)}")
    return f"**{t('studio.checks.title')}** · " + " · ".join(marks)


def _outdated_warning(run: ChainRun, t: Translator) -> bool:
    """Say which steps ran before an edit to an earlier one (the prompt does not follow it
    yet); True when there are any."""
    outdated = [i + 1 for i, step in enumerate(run.steps) if step.stale]
    if outdated:
        steps = ", ".join(str(n) for n in outdated)
        st.warning(
            t("studio.final_outdated", count=len(outdated), steps=steps), icon=":material/history:"
        )
    return bool(outdated)


def final_prompt_panel(ctx: AppContext, chains: ChainStore, run: ChainRun) -> None:
    """The final prompt and negative prompt (edits are stored), checks, Send to Compare."""
    t = ctx.t
    st.markdown(f"#### :material/auto_awesome: {t('studio.final_prompt')}")
    prompt = st.text_area(
        t("studio.final_prompt"),
        key=K.STUDIO_FINAL_PROMPT,
        height=100,
        on_change=_save_prompt,
        args=(ctx, chains, run.id),
        label_visibility="collapsed",
    )
    limit = run.template.prompt_limit
    if limit:
        st.caption(t("studio.char_count_limit", count=len(prompt), limit=limit))
    else:
        st.caption(t("studio.char_count", count=len(prompt)))
    if run.truncated_from:
        st.caption(
            ":material/content_cut: "
            + t("studio.truncated", original=run.truncated_from, limit=limit)
        )
    st.caption(_checks(prompt, t))
    if run.negative_prompt is not None:
        st.text_area(
            t("studio.negative_prompt"),
            key=K.STUDIO_NEGATIVE_PROMPT,
            height=68,
            help=t("studio.negative_prompt_help"),
            on_change=_save_prompt,
            args=(ctx, chains, run.id),
        )
    outdated = _outdated_warning(run, t)
    left, right = st.columns(2)
    if left.button(
        t("studio.send_to_compare"),
        key="studio_send_to_compare",
        type="primary",
        icon=":material/compare:",
        disabled=not prompt.strip(),
        help=t("studio.send_outdated_help") if outdated else None,
        width="stretch",
    ):
        _send_to_compare(compare_handoff(ctx.chat, run))
    generate = right.button(
        t("studio.generate_here"),
        key="studio_generate_here",
        icon=":material/palette:",
        disabled=not prompt.strip(),
        width="stretch",
    )
    generated_here(ctx, run, generate=generate)


def generated_here(ctx: AppContext, run: ChainRun, *, generate: bool) -> None:
    """Run the default lanes (GPT Image and Karlo) on the run's final prompt, right here; the
    result is stored like any comparison, linked to this studio run, and shown until a new one."""
    store = ctx.images
    made = st.session_state.setdefault(K.STUDIO_GENERATED, {})
    if generate or resumed("studio"):
        handoff = compare_handoff(ctx.chat, run, translate=True)
        spec = ComparisonSpec(
            handoff.prompt,
            ctx.comparisons.default_lanes(),
            negative_prompt=handoff.negative_prompt,
            english_prompt=handoff.english_prompt,
            studio_run_id=handoff.studio_run_id,
        )
        # the safety check reads the run's idea too; held: the panel says why, nothing is sent
        if cleared(ctx, spec, "studio", also=(run.idea,)):
            try:
                show_comparison(
                    ctx,
                    spec,
                    on_stored=lambda compare_run_id: made.update({run.id: compare_run_id}),
                )
            except ChatCanvasError as err:  # a spending limit: nothing was sent
                show_error(err, ctx.t)
            else:
                st.rerun()
    else:
        held_panel(ctx, "studio")
    compare_run = store.get_run(made[run.id]) if run.id in made else None
    if compare_run is not None:
        show_run(ctx, store, compare_run)
