"""Prompt Studio steps: each step's answer (editable), usage, error and actions; a run streaming.

A step's answer box is filled from the stored run whenever the run changes under it (a run, a
re-run, another run opened, a reload); an edit is saved at once through ``engine.set_output``.
"""

from __future__ import annotations

import streamlit as st

from components import state as K
from components.context import AppContext
from components.errors import error_text, show_error
from components.transcript import write_markdown_stream
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.markdown_safety import escape_markdown, without_remote_images
from services.storage.chains import ChainStore
from services.studio import (
    ChainRun,
    StepResult,
    StepStatus,
    StreamingRun,
    edit_step_output,
    label,
)
from services.wording import format_cost, format_tokens

ICONS = {
    StepStatus.PENDING: ":material/pending:",
    StepStatus.RUNNING: ":material/progress_activity:",
    StepStatus.DONE: ":material/check_circle:",
    StepStatus.ERROR: ":material/error:",
    StepStatus.CANCELLED: ":material/cancel:",
}
CANCEL_KEY = "studio_cancel"


def output_key(run_id: str, index: int) -> str:
    return K.STUDIO_STEP_OUTPUT.format(run=run_id, index=index)


def step_title(run: ChainRun, index: int, t: Translator) -> str:
    if index == len(run.steps):
        return t("studio.back_translation")
    name = escape_markdown(label(run.template.steps[index].name, t))
    return f"{t('studio.step_label', number=index + 1)} · {name}"


def fill_boxes(run: ChainRun) -> None:
    """Put the run's answers and prompts into their boxes when the stored run changed since
    they were filled (or the boxes were dropped, e.g. after visiting another page)."""
    boxes = {output_key(run.id, i): s.output for i, s in enumerate(run.steps)}
    boxes[K.STUDIO_FINAL_PROMPT] = run.final_prompt
    boxes[K.STUDIO_NEGATIVE_PROMPT] = run.negative_prompt or ""
    shown = hash((run.id, *boxes.values()))
    if st.session_state.get(K.STUDIO_SHOWN) == shown and all(k in st.session_state for k in boxes):
        return
    st.session_state.update(boxes)
    st.session_state[K.STUDIO_SHOWN] = shown


def request_run(start_at: int) -> None:
    st.session_state[K.STUDIO_ACTION] = ("run", start_at)


def _save_edit(ctx: AppContext, chains: ChainStore, run_id: str, index: int) -> None:
    key = output_key(run_id, index)
    try:
        edit_step_output(ctx.chain_engine, chains, run_id, index, st.session_state.get(key, ""))
    except ChatCanvasError as err:
        run = chains.get_run(run_id)
        if run is not None:  # an empty answer is not kept
            st.session_state[key] = run.steps[index].output
        st.toast(error_text(err, ctx.t), icon=":material/error:")


def _usage(result: StepResult, t: Translator) -> str:
    parts = [escape_markdown(result.model)] if result.model else []
    if result.completion_tokens is not None:
        parts.append(format_tokens(result.prompt_tokens, result.completion_tokens, t))
        parts.append(format_cost(result.cost_usd, t))
    if result.finish_reason == "length":
        parts.append(":material/content_cut: " + t("chat.finish_length"))
    if result.edited:
        parts.append(":material/edit: " + t("studio.edited"))
    return " · ".join(parts)


def run_totals(run: ChainRun, t: Translator) -> str:
    results = run.results()
    tokens = format_tokens(
        sum(r.prompt_tokens or 0 for r in results),
        sum(r.completion_tokens or 0 for r in results),
        t,
    )
    cost = format_cost(run.cost_usd, t)
    if run.cost_incomplete:  # the studio string writes its own "$"
        cost = t("studio.cost_lower_bound", cost=cost.removeprefix("$"))
    return t("studio.totals", tokens=tokens, cost=cost)


def _sent(result: StepResult, t: Translator) -> None:
    with st.popover(t("studio.sent"), icon=":material/input:"):
        for message in result.messages:
            st.caption(message["role"])
            st.code(message["content"], language=None, wrap_lines=True)


def _step_card(ctx: AppContext, chains: ChainStore, run: ChainRun, index: int, stale: int | None):
    t = ctx.t
    back = index == len(run.steps)
    result = run.back_translation if back else run.steps[index]
    if result is None:
        return
    st.markdown(
        f"{ICONS[StepStatus(result.status)]} **{step_title(run, index, t)}** · "
        f"{t(f'studio.status.{result.status}')}"
    )
    if back and result.output:
        st.markdown(without_remote_images(result.output))
    elif not back and (result.output or result.status != StepStatus.PENDING):
        st.text_area(
            t("studio.edit_output"),
            key=output_key(run.id, index),
            height=120,
            on_change=_save_edit,
            args=(ctx, chains, run.id, index),
            label_visibility="collapsed",
        )
    usage = _usage(result, t)
    if usage:
        st.caption(usage)
    if result.stale:
        st.caption(":material/history: " + t("studio.stale_rerun"))
    if result.status == StepStatus.CANCELLED:
        st.caption(":material/cancel: " + t("studio.partial"))
    if result.status == StepStatus.ERROR:
        show_error(
            ChatCanvasError(ErrorKind.parse(result.error_kind), result.error_detail or ""), t
        )
    with st.container(horizontal=True):
        _step_action(run, index, result, t, highlight=index == stale)
        if result.messages:
            _sent(result, t)


def _step_action(run: ChainRun, index: int, result: StepResult, t: Translator, *, highlight: bool):
    if not run.can_start_at(index):
        return
    if result.status == StepStatus.DONE and result.edited:
        _edited_step_actions(run, index, t)
        return
    if result.status in (StepStatus.ERROR, StepStatus.CANCELLED):
        text, key, kind = t("studio.retry_from_here"), f"studio_retry_{index}", "primary"
    elif result.status == StepStatus.PENDING:
        text, key, kind = t("studio.continue"), f"studio_continue_{index}", "primary"
    else:
        kind = "primary" if highlight else "secondary"
        text, key = t("studio.rerun_from_here"), f"studio_rerun_{index}"
    st.button(
        text, key=key, type=kind, icon=":material/replay:", on_click=request_run, args=(index,)
    )


def _edited_step_actions(run: ChainRun, index: int, t: Translator) -> None:
    """An answer the user edited: re-running it would replace the edit, so the two choices
    are named: keep the edit and re-run what follows it, or regenerate this step."""
    following = index + 1
    if following < len(run.steps):
        st.button(
            t("studio.keep_edit_rerun_after"),
            key=f"studio_keep_edit_{index}",
            type="primary" if run.steps[following].stale else "secondary",
            icon=":material/fast_forward:",
            on_click=request_run,
            args=(following,),
        )
    st.button(
        t("studio.regenerate_step"),
        key=f"studio_rerun_{index}",
        icon=":material/replay:",
        help=t("studio.regenerate_step_help"),
        on_click=request_run,
        args=(index,),
    )


def render_steps(ctx: AppContext, chains: ChainStore, run: ChainRun, *, back_translate: bool):
    """Every step of ``run`` with its answer box and actions, then the back-translation."""
    t = ctx.t
    stale = next((i for i, s in enumerate(run.steps) if s.stale), None)
    for index in range(len(run.steps)):
        with st.container(border=True):
            _step_card(ctx, chains, run, index, stale)
    done = run.status == StepStatus.DONE
    if run.back_translation is not None:
        with st.container(border=True):
            _step_card(ctx, chains, run, len(run.steps), stale)
    elif done and back_translate and run.language == "en":
        st.caption(t("studio.back_translation_english"))
    elif done and back_translate:
        st.button(
            t("studio.back_translate"),
            key="studio_back_translate_now",
            icon=":material/translate:",
            on_click=request_run,
            args=(len(run.steps),),
        )
    st.caption(run_totals(run, t))


def stream_run(ctx: AppContext, chains: ChainStore, run: ChainRun, start_at: int) -> None:
    """Run ``run`` from ``start_at`` into the page with a Cancel button, storing it as it goes,
    then rerun to show the result."""
    t = ctx.t
    for index in range(min(start_at, len(run.steps))):
        with st.expander(step_title(run, index, t), icon=ICONS[StepStatus.DONE]):
            st.markdown(without_remote_images(run.steps[index].output))
    try:
        streaming = StreamingRun(ctx.chain_engine, chains, run, start_at)
    except ValueError:  # an earlier step is not done (any more): show the run as it is
        st.rerun()
    except ChatCanvasError as err:  # a spending limit: nothing was sent, nothing changed
        if chains.get_run(run.id) is None and st.query_params.get("run") == run.id:
            del st.query_params["run"]  # a fresh run that never started: no link to it
        show_error(err, t)
        return
    st.button(t("studio.cancel"), key=CANCEL_KEY, icon=":material/stop_circle:")
    try:
        for step in streaming:
            title = step_title(run, step.index, t)
            with st.status(title, expanded=True) as box:
                write_markdown_stream(step)
                ok = step.result.status == StepStatus.DONE
                box.update(state="complete" if ok else "error", expanded=not ok)
    finally:
        # Also when Cancel (or any rerun) interrupts write_stream: the step becomes cancelled
        # with its partial text, and the run is stored before settle() lets a new run read it.
        streaming.close()
    st.rerun()
