"""The final prompt of a studio run: editable, its length, the Karlo checks, Send to Compare."""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.compare_run import run_comparison
from components.compare_view import show_run
from components.context import AppContext
from components.errors import error_text, show_error
from components.lane_form import default_lanes
from services.chat import check_user_text
from services.errors import ChatCanvasError
from services.i18n import Translator
from services.images import karlo_prompt_problems
from services.images.translate import make_karlo_ready
from services.storage.chains import ChainStore
from services.studio import ChainRun, prompt_checks, settle

COMPARE_PAGE = "app_pages/compare.py"


def _save_prompt(ctx: AppContext, chains: ChainStore, run_id: str) -> None:
    settle(run_id, cancel=True)
    run = chains.get_run(run_id)
    if run is None:
        return
    prompt = st.session_state.get(K.STUDIO_FINAL_PROMPT, "").strip()
    negative = st.session_state.get(K.STUDIO_NEGATIVE_PROMPT, "").strip()
    try:
        check_user_text(prompt)
    except ChatCanvasError as err:
        st.session_state[K.STUDIO_FINAL_PROMPT] = run.final_prompt  # an empty prompt is not kept
        st.toast(error_text(err, ctx.t), icon=":material/error:")
        return
    # The final prompt is read from the last step's answer, so an edit here is an edit of that
    # answer, written the way the prompt writers answer: one source of truth for both boxes.
    answer = f"PROMPT: {prompt}\nNEGATIVE: {negative}" if negative else prompt
    ctx.chain_engine.set_output(run, len(run.steps) - 1, answer)
    chains.save_run(run)


def _checks(prompt: str, t: Translator) -> str:
    marks = []
    for check in prompt_checks(prompt):
        icon = ":green[:material/check_circle:]" if check.ok else ":red[:material/cancel:]"
        marks.append(f"{icon} {t(check.key, **check.params)}")
    return f"**{t('studio.checks.title')}** · " + " · ".join(marks)


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
    negative = ""
    if run.negative_prompt is not None:
        negative = st.text_area(
            t("studio.negative_prompt"),
            key=K.STUDIO_NEGATIVE_PROMPT,
            height=68,
            help=t("studio.negative_prompt_help"),
            on_change=_save_prompt,
            args=(ctx, chains, run.id),
        )
    left, right = st.columns(2)
    if left.button(
        t("studio.send_to_compare"),
        key="studio_send_to_compare",
        type="primary",
        icon=":material/compare:",
        disabled=not prompt.strip(),
        width="stretch",
    ):
        st.session_state[K.COMPARE_PROMPT] = prompt
        st.session_state[K.COMPARE_NEGATIVE_PROMPT] = negative
        st.session_state[K.COMPARE_STUDIO_RUN_ID] = run.id
        st.switch_page(COMPARE_PAGE)
    generate = right.button(
        t("studio.generate_here"),
        key="studio_generate_here",
        icon=":material/palette:",
        disabled=not prompt.strip(),
        width="stretch",
    )
    generated_here(ctx, run, prompt.strip(), negative.strip(), generate=generate)


def generated_here(
    ctx: AppContext, run: ChainRun, prompt: str, negative: str, *, generate: bool
) -> None:
    """Run the default lanes (GPT Image and Karlo) on the final prompt, right here; the result
    is stored like any comparison, linked to this studio run, and shown until a new one."""
    store = ctx.images
    made = st.session_state.setdefault(K.STUDIO_GENERATED, {})
    if generate:
        karlo_prompt = None
        if karlo_prompt_problems(prompt):
            try:
                karlo_prompt = make_karlo_ready(ctx.chat, run.model, prompt)
            except ChatCanvasError:
                karlo_prompt = None  # the Karlo lane then says why it cannot send this prompt
        try:
            run_comparison(
                ctx,
                default_lanes(ctx),
                prompt=prompt,
                negative_prompt=negative,
                karlo_prompt=karlo_prompt,
                blind=False,
                studio_run_id=run.id,
                on_stored=lambda compare_run_id: made.update({run.id: compare_run_id}),
            )
        except ChatCanvasError as err:  # a spending limit: nothing was sent
            show_error(err, ctx.t)
        else:
            st.rerun()
    compare_run = store.get_run(made[run.id]) if run.id in made else None
    if compare_run is not None:
        show_run(ctx, store, compare_run)
