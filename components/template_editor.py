"""Chain templates of the owner: new, copy of any chain, edit steps, rename, delete, export,
import. A template is validated when saved; what is wrong is said in the user's language.

The template being edited is a draft (``components/template_draft.py``); this module draws it.
"""

from __future__ import annotations

import json

import streamlit as st

from components import state as K
from components.context import AppContext
from components.template_draft import (
    COPY_SOURCE_KEY,
    IMPORT_KEY,
    PICK_KEY,
    add_step,
    copy_chain,
    delete_draft,
    field_key,
    import_template,
    move_step,
    new_draft,
    open_picked,
    remove_step,
    save_draft,
    step_key,
)
from services.i18n import Translator
from services.import_rules import MAX_IMPORT_MB
from services.markdown_safety import escape_markdown
from services.storage.chains import ChainStore
from services.studio import DEFAULT_CHAIN_ID, ChainTemplate, label

PERSIST = "session"


def _model_select(ctx: AppContext, text: str, key: str, none_label: str) -> None:
    ids = ["", *(spec.id for spec in ctx.catalog.choices("chat", ctx.today, ctx.live_models()))]
    chosen = st.session_state.get(key) or ""
    # set on every run: a keyed selectbox otherwise keeps an option's old label after a
    # language switch ("Same as the chain" would stay English)
    st.session_state[key] = chosen
    if chosen not in ids:
        ids.append(chosen)
    st.selectbox(
        text,
        list(dict.fromkeys(ids)),
        key=key,
        format_func=lambda mid: mid or none_label,
        accept_new_options=True,
        persist_state=PERSIST,
    )


def template_editor(ctx: AppContext, chains: ChainStore) -> None:
    """The template list and the editor of the one open."""
    t = ctx.t
    everything = {c.id: c for c in chains.list_templates()}
    own = [c.id for c in everything.values() if not c.builtin]
    _toolbar(chains, everything, t)
    if st.session_state.get(PICK_KEY) not in own:
        st.session_state.pop(PICK_KEY, None)
    if own:
        st.selectbox(
            t("studio.templates.yours"),
            own,
            index=None,
            key=PICK_KEY,
            format_func=lambda cid: everything[cid].name,
            placeholder=t("studio.templates.pick"),
            on_change=open_picked,
            args=(chains, t),
        )
    draft = st.session_state.get(K.STUDIO_DRAFT)
    if draft is None:
        st.caption(t("studio.templates.none") if not own else t("studio.templates.pick"))
        return
    with st.container(border=True):
        _draft_editor(ctx, chains, draft)


def _toolbar(chains: ChainStore, everything: dict[str, ChainTemplate], t: Translator) -> None:
    """New template, copy of any chain, import from a file."""
    new, copy, imports = st.columns(3)
    new.button(
        t("studio.templates.new"),
        key="studio_tpl_new",
        icon=":material/add:",
        on_click=new_draft,
        args=(t,),
        width="stretch",
    )
    with copy.popover(t("studio.templates.copy"), icon=":material/content_copy:", width="stretch"):
        st.caption(t("studio.templates.builtin_readonly"))
        source = st.session_state.get(COPY_SOURCE_KEY)
        st.session_state[COPY_SOURCE_KEY] = source if source in everything else DEFAULT_CHAIN_ID
        st.selectbox(
            t("studio.templates.copy_source"),
            list(everything),
            key=COPY_SOURCE_KEY,
            format_func=lambda cid: label(everything[cid].name, t),
        )
        st.button(
            t("studio.templates.copy_button"),
            key="studio_tpl_copy",
            on_click=copy_chain,
            args=(chains, t),
        )
    with imports.popover(t("studio.templates.import"), icon=":material/upload:", width="stretch"):
        st.file_uploader(
            t("studio.templates.import"),
            type=["json"],
            key=IMPORT_KEY,
            help=t("studio.templates.import_help"),
            on_change=import_template,
            args=(chains, t),
            max_upload_size=MAX_IMPORT_MB,
        )


def _draft_editor(ctx: AppContext, chains: ChainStore, draft: dict) -> None:
    t = ctx.t
    if draft["id"] is None:
        st.caption(":material/edit_note: " + t("studio.templates.unsaved"))
    _draft_fields(ctx)
    st.markdown(f"**{t('studio.templates.steps')}**")
    st.caption(t("studio.templates.placeholders_help"))
    for number, uid in enumerate(draft["steps"], start=1):
        with st.container(border=True):
            _step_editor(ctx, draft, uid, number)
    st.button(
        t("studio.templates.add_step"),
        key="studio_tpl_add_step",
        icon=":material/add:",
        on_click=add_step,
        args=(t,),
    )
    for problem in draft["problems"]:
        st.error(problem.message(t), icon=":material/error:")
    _draft_actions(chains, draft, t)


def _draft_fields(ctx: AppContext) -> None:
    """The template's own fields: name, default model, prompt limit."""
    t = ctx.t
    name, model, limit = st.columns([2, 2, 1])
    name.text_input(
        t("studio.templates.name"), key=field_key("name"), max_chars=200, persist_state=PERSIST
    )
    with model:
        _model_select(
            ctx,
            t("studio.templates.default_model"),
            field_key("default_model"),
            t("studio.templates.default_model_app"),
        )
    limit.number_input(
        t("studio.templates.prompt_limit"),
        min_value=0,
        step=1,
        key=field_key("prompt_limit"),
        help=t("studio.templates.prompt_limit_help"),
        persist_state=PERSIST,
    )


def _draft_actions(chains: ChainStore, draft: dict, t: Translator) -> None:
    """Save; for a saved template also export and delete."""
    save, export, delete = st.columns(3)
    save.button(
        t("common.save"),
        key="studio_tpl_save",
        type="primary",
        icon=":material/save:",
        on_click=save_draft,
        args=(chains, t),
    )
    if draft["id"] is None:
        return
    template_id = draft["id"]
    export.download_button(
        t("studio.templates.export"),
        data=lambda: json.dumps(chains.export_template(template_id), ensure_ascii=False, indent=2),
        file_name=f"{str(st.session_state.get(field_key('name')) or 'chain')[:40]}.json",
        mime="application/json",
        key="studio_tpl_export",
        icon=":material/download:",
        on_click="ignore",
    )
    with delete.popover(t("studio.templates.delete"), icon=":material/delete:"):
        name = escape_markdown(_template_name(chains, template_id))
        st.warning(t("studio.templates.delete_confirm", name=name))
        st.button(
            t("common.confirm"),
            key="studio_tpl_delete_confirm",
            type="primary",
            on_click=delete_draft,
            args=(chains, t),
        )


def _template_name(chains: ChainStore, template_id: str) -> str:
    template = chains.get_template(template_id)
    return template.name if template else ""


def _step_editor(ctx: AppContext, draft: dict, uid: str, number: int) -> None:
    t = ctx.t
    _step_header(draft, uid, number, t)
    fresh = number == 1
    left, right = st.columns(2)
    with left:
        if number > 1:
            fresh = st.checkbox(
                t("studio.templates.fresh"),
                key=step_key(uid, "fresh"),
                help=t("studio.templates.fresh_help"),
                persist_state=PERSIST,
            )
    with right:
        _model_select(
            ctx,
            t("studio.templates.step_model"),
            step_key(uid, "model"),
            t("studio.templates.same_as_chain"),
        )
    if fresh:
        st.text_area(
            t("studio.templates.system_prompt"),
            key=step_key(uid, "system_prompt"),
            height=80,
            persist_state=PERSIST,
        )
    else:
        st.caption(t("studio.templates.system_prompt_continued"))
    st.text_area(
        t("studio.templates.instruction"),
        key=step_key(uid, "template"),
        height=100,
        persist_state=PERSIST,
    )


def _step_header(draft: dict, uid: str, number: int, t: Translator) -> None:
    """A step's name, and the buttons that move it up or down or remove it."""
    count = len(draft["steps"])
    name, up, down, remove = st.columns([6, 1, 1, 1], vertical_alignment="bottom")
    name.text_input(
        t("studio.step_label", number=number) + " · " + t("studio.templates.step_name"),
        key=step_key(uid, "name"),
        persist_state=PERSIST,
    )
    up.button(
        ":material/arrow_upward:",
        key=f"studio_tpl_{uid}_up",
        help=t("studio.templates.move_up"),
        disabled=number == 1,
        on_click=move_step,
        args=(uid, -1),
    )
    down.button(
        ":material/arrow_downward:",
        key=f"studio_tpl_{uid}_down",
        help=t("studio.templates.move_down"),
        disabled=number == count,
        on_click=move_step,
        args=(uid, 1),
    )
    remove.button(
        ":material/delete:",
        key=f"studio_tpl_{uid}_remove",
        help=t("studio.templates.remove_step"),
        disabled=count == 1,
        on_click=remove_step,
        args=(uid,),
    )
