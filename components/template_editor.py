"""Chain templates of the owner: new, copy of any chain, edit steps, rename, delete, export,
import. A template is validated when saved; what is wrong is said in the user's language.

The template being edited is a draft: its step ids in ``K.STUDIO_DRAFT``, its fields in widget
state (kept for the session, so visiting another page does not lose an unsaved edit).
"""

from __future__ import annotations

import json
import uuid

import streamlit as st

from components import state as K
from components.context import AppContext
from components.errors import error_text
from services.errors import ChatCanvasError
from services.i18n import Translator
from services.import_rules import MAX_IMPORT_BYTES, MAX_IMPORT_MB, refuse
from services.markdown_safety import escape_markdown
from services.storage.chains import ChainStore
from services.studio import (
    DEFAULT_CHAIN_ID,
    ChainStep,
    ChainTemplate,
    TemplateInvalid,
    label,
)

PICK_KEY = "studio_tpl_pick"
COPY_SOURCE_KEY = "studio_tpl_copy_source"
IMPORT_KEY = "studio_tpl_import"
PERSIST = "session"


def _field(name: str) -> str:
    return K.STUDIO_DRAFT_FIELD.format(field=name)


def _step_field(uid: str, name: str) -> str:
    return K.STUDIO_DRAFT_STEP.format(uid=uid, field=name)


def _put_step(draft: dict, step: ChainStep, t: Translator) -> None:
    uid = uuid.uuid4().hex[:8]
    draft["steps"].append(uid)
    # what the editor does not show is kept as it was
    draft["extras"][uid] = {"temperature": step.temperature, "max_tokens": step.max_tokens}
    st.session_state[_step_field(uid, "name")] = label(step.name, t)
    st.session_state[_step_field(uid, "system_prompt")] = step.system_prompt
    st.session_state[_step_field(uid, "template")] = step.template
    st.session_state[_step_field(uid, "fresh")] = step.fresh
    st.session_state[_step_field(uid, "model")] = step.model or ""


def _open_draft(template_id: str | None, name: str, source: ChainTemplate, t: Translator) -> None:
    draft = {"id": template_id, "steps": [], "extras": {}, "problems": []}
    for step in source.steps:
        _put_step(draft, step, t)
    st.session_state[_field("name")] = name
    st.session_state[_field("default_model")] = source.default_model or ""
    st.session_state[_field("prompt_limit")] = source.prompt_limit or 0
    st.session_state[K.STUDIO_DRAFT] = draft


def _new(t: Translator) -> None:
    first = ChainStep(name=t("studio.step_label", number=1), template="{idea}")
    blank = ChainTemplate(id="", name="", steps=(first,))
    _open_draft(None, t("studio.templates.new_name"), blank, t)
    st.session_state.pop(PICK_KEY, None)


def _copy(chains: ChainStore, t: Translator) -> None:
    source = chains.get_template(st.session_state.get(COPY_SOURCE_KEY) or "")
    if source is not None:
        name = t("studio.templates.new_from", name=label(source.name, t))
        _open_draft(None, name, source, t)
        st.session_state.pop(PICK_KEY, None)


def _open_picked(chains: ChainStore, t: Translator) -> None:
    template = chains.get_template(st.session_state.get(PICK_KEY) or "")
    if template is not None:
        _open_draft(template.id, template.name, template, t)


def _add_step(t: Translator) -> None:
    draft = st.session_state[K.STUDIO_DRAFT]
    number = len(draft["steps"]) + 1
    _put_step(draft, ChainStep(name=t("studio.step_label", number=number), template=""), t)


def _remove_step(uid: str) -> None:
    st.session_state[K.STUDIO_DRAFT]["steps"].remove(uid)


def _move_step(uid: str, offset: int) -> None:
    steps = st.session_state[K.STUDIO_DRAFT]["steps"]
    i = steps.index(uid)
    steps[i], steps[i + offset] = steps[i + offset], steps[i]


def _draft_steps(draft: dict, t: Translator) -> list[ChainStep]:
    state, steps = st.session_state, []
    for number, uid in enumerate(draft["steps"], start=1):
        fresh = number > 1 and bool(state.get(_step_field(uid, "fresh")))
        extras = draft["extras"].get(uid, {})
        steps.append(
            ChainStep(
                name=str(state.get(_step_field(uid, "name")) or "").strip()
                or t("studio.step_label", number=number),
                template=str(state.get(_step_field(uid, "template")) or ""),
                # a continued step talks in the conversation above, under its system prompt
                system_prompt=str(state.get(_step_field(uid, "system_prompt")) or "")
                if number == 1 or fresh
                else "",
                fresh=fresh,
                model=state.get(_step_field(uid, "model")) or None,
                temperature=extras.get("temperature"),
                max_tokens=extras.get("max_tokens"),
            )
        )
    return steps


def _save(chains: ChainStore, t: Translator) -> None:
    draft = st.session_state[K.STUDIO_DRAFT]
    fields = {
        "name": str(st.session_state.get(_field("name")) or ""),
        "steps": _draft_steps(draft, t),
        "default_model": st.session_state.get(_field("default_model")) or None,
        "prompt_limit": int(st.session_state.get(_field("prompt_limit")) or 0) or None,
    }
    try:
        if draft["id"] is None:
            saved = chains.create_template(**fields)
        else:
            saved = chains.update_template(draft["id"], **fields)
    except TemplateInvalid as err:
        draft["problems"] = err.problems
        return
    draft["id"], draft["problems"] = saved.id, []
    st.session_state[PICK_KEY] = saved.id
    st.toast(t("studio.templates.saved"), icon=":material/check_circle:")


def _delete(chains: ChainStore, t: Translator) -> None:
    draft = st.session_state.pop(K.STUDIO_DRAFT)
    chains.delete_template(draft["id"])
    st.session_state.pop(PICK_KEY, None)
    if st.session_state.get(K.STUDIO_CHAIN) == draft["id"]:
        del st.session_state[K.STUDIO_CHAIN]  # the page falls back to the default chain
    st.toast(t("studio.templates.deleted"))


def _import(chains: ChainStore, t: Translator) -> None:
    uploaded = st.session_state.get(IMPORT_KEY)
    if uploaded is None:
        return
    try:
        if uploaded.size > MAX_IMPORT_BYTES:  # not even read into memory
            raise refuse("file", f"larger than {MAX_IMPORT_MB} MB")
        template = chains.import_template(uploaded.getvalue())
    except TemplateInvalid as err:
        for problem in err.problems:
            st.toast(problem.message(t), icon=":material/error:")
        return
    except ChatCanvasError as err:
        st.toast(error_text(err, t), icon=":material/error:")
        return
    _open_draft(template.id, template.name, template, t)
    st.session_state[PICK_KEY] = template.id
    name = escape_markdown(label(template.name, t))
    st.toast(t("studio.templates.imported", name=name), icon=":material/check_circle:")


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
    new, copy, imports = st.columns(3)
    new.button(
        t("studio.templates.new"),
        key="studio_tpl_new",
        icon=":material/add:",
        on_click=_new,
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
            on_click=_copy,
            args=(chains, t),
        )
    with imports.popover(t("studio.templates.import"), icon=":material/upload:", width="stretch"):
        st.file_uploader(
            t("studio.templates.import"),
            type=["json"],
            key=IMPORT_KEY,
            help=t("studio.templates.import_help"),
            on_change=_import,
            args=(chains, t),
            max_upload_size=MAX_IMPORT_MB,
        )
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
            on_change=_open_picked,
            args=(chains, t),
        )
    draft = st.session_state.get(K.STUDIO_DRAFT)
    if draft is None:
        st.caption(t("studio.templates.none") if not own else t("studio.templates.pick"))
        return
    with st.container(border=True):
        _draft_editor(ctx, chains, draft)


def _draft_editor(ctx: AppContext, chains: ChainStore, draft: dict) -> None:
    t = ctx.t
    if draft["id"] is None:
        st.caption(":material/edit_note: " + t("studio.templates.unsaved"))
    name, model, limit = st.columns([2, 2, 1])
    name.text_input(
        t("studio.templates.name"), key=_field("name"), max_chars=200, persist_state=PERSIST
    )
    with model:
        _model_select(
            ctx,
            t("studio.templates.default_model"),
            _field("default_model"),
            t("studio.templates.default_model_app"),
        )
    limit.number_input(
        t("studio.templates.prompt_limit"),
        min_value=0,
        step=1,
        key=_field("prompt_limit"),
        help=t("studio.templates.prompt_limit_help"),
        persist_state=PERSIST,
    )
    st.markdown(f"**{t('studio.templates.steps')}**")
    st.caption(t("studio.templates.placeholders_help"))
    for number, uid in enumerate(draft["steps"], start=1):
        with st.container(border=True):
            _step_editor(ctx, draft, uid, number)
    st.button(
        t("studio.templates.add_step"),
        key="studio_tpl_add_step",
        icon=":material/add:",
        on_click=_add_step,
        args=(t,),
    )
    for problem in draft["problems"]:
        st.error(problem.message(t), icon=":material/error:")
    save, export, delete = st.columns(3)
    save.button(
        t("common.save"),
        key="studio_tpl_save",
        type="primary",
        icon=":material/save:",
        on_click=_save,
        args=(chains, t),
    )
    if draft["id"] is None:
        return
    template_id = draft["id"]
    export.download_button(
        t("studio.templates.export"),
        data=lambda: json.dumps(chains.export_template(template_id), ensure_ascii=False, indent=2),
        file_name=f"{str(st.session_state.get(_field('name')) or 'chain')[:40]}.json",
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
            on_click=_delete,
            args=(chains, t),
        )


def _template_name(chains: ChainStore, template_id: str) -> str:
    template = chains.get_template(template_id)
    return template.name if template else ""


def _step_editor(ctx: AppContext, draft: dict, uid: str, number: int) -> None:
    t = ctx.t
    count = len(draft["steps"])
    name, up, down, remove = st.columns([6, 1, 1, 1], vertical_alignment="bottom")
    name.text_input(
        t("studio.step_label", number=number) + " · " + t("studio.templates.step_name"),
        key=_step_field(uid, "name"),
        persist_state=PERSIST,
    )
    up.button(
        ":material/arrow_upward:",
        key=f"studio_tpl_{uid}_up",
        help=t("studio.templates.move_up"),
        disabled=number == 1,
        on_click=_move_step,
        args=(uid, -1),
    )
    down.button(
        ":material/arrow_downward:",
        key=f"studio_tpl_{uid}_down",
        help=t("studio.templates.move_down"),
        disabled=number == count,
        on_click=_move_step,
        args=(uid, 1),
    )
    remove.button(
        ":material/delete:",
        key=f"studio_tpl_{uid}_remove",
        help=t("studio.templates.remove_step"),
        disabled=count == 1,
        on_click=_remove_step,
        args=(uid,),
    )
    fresh = number == 1
    left, right = st.columns(2)
    with left:
        if number > 1:
            fresh = st.checkbox(
                t("studio.templates.fresh"),
                key=_step_field(uid, "fresh"),
                help=t("studio.templates.fresh_help"),
                persist_state=PERSIST,
            )
    with right:
        _model_select(
            ctx,
            t("studio.templates.step_model"),
            _step_field(uid, "model"),
            t("studio.templates.same_as_chain"),
        )
    if fresh:
        st.text_area(
            t("studio.templates.system_prompt"),
            key=_step_field(uid, "system_prompt"),
            height=80,
            persist_state=PERSIST,
        )
    else:
        st.caption(t("studio.templates.system_prompt_continued"))
    st.text_area(
        t("studio.templates.instruction"),
        key=_step_field(uid, "template"),
        height=100,
        persist_state=PERSIST,
    )
