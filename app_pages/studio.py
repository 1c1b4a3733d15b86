"""Prompt Studio: an idea becomes an image prompt through visible, editable chat steps."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import state as K
from components.chain_steps import CANCEL_KEY, fill_boxes, render_steps, stream_run
from components.context import AppContext, app_context
from components.errors import show_error
from components.final_prompt import final_prompt_panel
from components.model_picker import model_picker
from components.moderation_panel import forget, held_panel, idea_cleared, resumed
from components.share_panel import share_panel
from components.sidebar import ensure_models_listed
from components.template_editor import template_editor
from components.voice import idea_recorder
from services.errors import ChatCanvasError
from services.markdown_safety import escape_markdown
from services.shares import ShareKind
from services.storage.chains import ChainStore
from services.storage.conversations import auto_title
from services.studio import (
    DEFAULT_CHAIN_ID,
    ChainRun,
    ChainTemplate,
    TemplateInvalid,
    label,
    settle,
)

HISTORY = 10  # recent runs listed in the sidebar
PERSIST = "session"  # the idea form survives a visit to another page


def open_run(run_id: str | None) -> None:
    """Make ``run_id`` the run on screen (None: none). The id lives in the URL, so a reload
    or a bookmark reopens it."""
    if run_id:
        st.query_params["run"] = run_id
    elif "run" in st.query_params:
        del st.query_params["run"]
    st.session_state.pop(K.STUDIO_ACTION, None)


def new_idea() -> None:
    open_run(None)
    st.session_state[K.STUDIO_IDEA] = ""
    st.session_state.pop(K.STUDIO_LOADED_RUN, None)


def current_run(ctx: AppContext, chains: ChainStore) -> ChainRun | None:
    """The run named in the URL, else the one open before a visit to another page (the URL
    loses it on a page switch), once no interrupted page run is still storing it."""
    in_url = st.query_params.get("run")
    run_id = in_url or st.session_state.get(K.STUDIO_LOADED_RUN)
    if not run_id:
        return None
    settle(run_id, cancel=bool(st.session_state.get(CANCEL_KEY)))
    run = chains.get_run(run_id)
    if run is None:
        if in_url:
            st.toast(ctx.t("studio.history.not_found"), icon=":material/warning:")
        st.session_state.pop(K.STUDIO_LOADED_RUN, None)
        open_run(None)
    elif not in_url:
        st.query_params["run"] = run.id
    return run


def load_run_settings(chains: ChainStore, run: ChainRun) -> None:
    """Fill the idea form from the run when it is opened (and what a page switch dropped)."""
    values = {
        K.STUDIO_IDEA: run.idea,
        K.STUDIO_MODEL: run.model,
        K.STUDIO_BACK_TRANSLATE: run.back_translate,
    }
    if chains.get_template(run.template.id) is not None:
        values[K.STUDIO_CHAIN] = run.template.id
    opened = st.session_state.get(K.STUDIO_LOADED_RUN) != run.id
    st.session_state[K.STUDIO_LOADED_RUN] = run.id
    for key, value in values.items():
        if opened or key not in st.session_state:
            st.session_state[key] = value


def apply_chain_model(chains: ChainStore) -> None:
    template = chains.get_template(st.session_state.get(K.STUDIO_CHAIN) or "")
    if template is not None and template.default_model:
        st.session_state[K.STUDIO_MODEL] = template.default_model


def run_history(ctx: AppContext, chains: ChainStore, current: ChainRun | None) -> None:
    t, sidebar = ctx.t, st.sidebar
    sidebar.button(
        t("studio.new_run"),
        key="studio_new",
        type="primary",
        width="stretch",
        icon=":material/add:",
        on_click=new_idea,
    )
    sidebar.caption(t("studio.history.title"))
    runs = chains.list_runs(limit=HISTORY)
    if not runs:
        sidebar.caption(t("studio.history.empty"))
    for summary in runs:
        is_open = current is not None and summary.id == current.id
        sidebar.button(
            escape_markdown(auto_title(summary.idea, 48)),
            key=f"studio_open_{summary.id}",
            help=escape_markdown(summary.final_prompt) or None,
            width="stretch",
            type="secondary" if is_open else "tertiary",
            icon=":material/auto_awesome:" if is_open else None,
            on_click=open_run,
            args=(summary.id,),
        )


@dataclass(frozen=True)
class IdeaForm:
    """What the idea form holds on this run."""

    idea: str
    chain: ChainTemplate
    model: str
    back_translate: bool


def idea_form(ctx: AppContext, chains: ChainStore, run: ChainRun | None) -> IdeaForm:
    """The idea, the chain and model to run it with, back-translation; warnings about the idea."""
    t = ctx.t
    chain_by_id = {c.id: c for c in chains.list_templates()}
    chosen = st.session_state.get(K.STUDIO_CHAIN)
    # set on every run, so the picker shows the chain's name again after a language switch
    st.session_state[K.STUDIO_CHAIN] = chosen if chosen in chain_by_id else DEFAULT_CHAIN_ID
    idea = st.text_area(
        t("studio.idea"),
        key=K.STUDIO_IDEA,
        placeholder=t("studio.idea_placeholder"),
        help=t("studio.idea_help"),
        height=100,
        persist_state=PERSIST,
        on_change=forget,
        args=("idea",),  # a held safety check was about the old idea
    )
    idea_recorder(ctx, K.STUDIO_IDEA)
    chain_column, model_column = st.columns(2)
    with chain_column:
        chain_id = st.selectbox(
            t("studio.chain"),
            list(chain_by_id),
            key=K.STUDIO_CHAIN,
            format_func=lambda cid: label(chain_by_id[cid].name, t),
            help=t("studio.chain_help"),
            on_change=apply_chain_model,
            args=(chains,),
            persist_state=PERSIST,
        )
        if t.has(f"studio.chains.{chain_id}.description"):
            st.caption(t(f"studio.chains.{chain_id}.description"))
    with model_column:
        spec = model_picker(ctx, kind="chat", key=K.STUDIO_MODEL, keep=run.model if run else None)
    back_translate = st.toggle(
        t("studio.back_translate"),
        key=K.STUDIO_BACK_TRANSLATE,
        help=t("studio.back_translate_help"),
        persist_state=PERSIST,
    )
    form = IdeaForm(idea, chain_by_id[chain_id], spec.id, back_translate)
    idea_warnings(ctx, form)
    return form


def idea_warnings(ctx: AppContext, form: IdeaForm) -> None:
    if not form.idea.strip():
        return
    try:
        for problem in ctx.chain_engine.check_idea(form.idea, form.chain, form.model):
            st.warning(problem.message(ctx.t), icon=":material/warning:")
    except ChatCanvasError as err:
        show_error(err, ctx.t, icon=":material/warning:")


def start_run(ctx: AppContext, form: IdeaForm) -> ChainRun | None:
    """A new run of the form's idea, opened (None: what is wrong is shown, nothing sent)."""
    try:
        run = ctx.chain_engine.new_run(
            form.idea, form.chain, model=form.model, back_translate=form.back_translate
        )
    except TemplateInvalid as err:  # a ChatCanvasError too, with the problems listed
        for problem in err.problems:
            st.error(problem.message(ctx.t), icon=":material/error:")
        return None
    except ChatCanvasError as err:
        show_error(err, ctx.t)  # nothing sent, nothing stored
        return None
    open_run(run.id)
    st.session_state[K.STUDIO_LOADED_RUN] = run.id
    return run


def run_view(
    ctx: AppContext, chains: ChainStore, run: ChainRun, form: IdeaForm, start_at: int | None
) -> None:
    """The run on screen: streaming from ``start_at`` when asked, else its steps and prompt."""
    language = ctx.t(f"studio.languages.{run.language or 'unknown'}")
    st.caption(ctx.t("studio.language_detected", language=language))
    if start_at is not None:
        run.model = form.model  # a re-run uses the model picked now
        run.back_translate = form.back_translate or start_at == len(run.steps)
        stream_run(ctx, chains, run, start_at)
        return
    render_steps(ctx, chains, run, back_translate=form.back_translate)
    if run.final_prompt:
        final_prompt_panel(ctx, chains, run)


ctx = app_context()
t = ctx.t
chains = ctx.chains
ensure_models_listed()
run = current_run(ctx, chains)
if run is not None:
    load_run_settings(chains, run)
    fill_boxes(run)
run_history(ctx, chains, run)

st.subheader(t("studio.title"))
st.caption(t("studio.intro"))
studio_tab, templates_tab = st.tabs([t("studio.run_tab"), t("studio.templates.title")])

with studio_tab:
    form = idea_form(ctx, chains, run)
    action = st.session_state.pop(K.STUDIO_ACTION, None)
    go = st.button(t("studio.run"), key="studio_run", type="primary", icon=":material/play_arrow:")
    go = go or resumed("idea")  # "Proceed anyway" / "Check again" after a held safety check
    if go and (not form.idea.strip() or idea_cleared(ctx, form.idea)):
        fresh_run = start_run(ctx, form)
        if fresh_run is not None:
            run, action = fresh_run, ("run", 0)
    elif not go:
        held_panel(ctx, "idea")
    if run is not None:
        run_view(ctx, chains, run, form, action[1] if action else None)
    share_panel(ctx, ShareKind.STUDIO_RUN, run.id if run and chains.get_run(run.id) else None)

with templates_tab:
    template_editor(ctx, chains)
