"""The chain template being edited: a draft in session state (its step ids in
``K.STUDIO_DRAFT``, its fields in widget state, kept for the session so visiting another page
does not lose an unsaved edit), and the button callbacks that change it or store it."""

from __future__ import annotations

import uuid

import streamlit as st

from components import state as K
from components.errors import error_text
from services.errors import ChatCanvasError
from services.i18n import Translator
from services.import_rules import upload_bytes
from services.markdown_safety import escape_markdown
from services.storage.chains import ChainStore
from services.studio import ChainStep, ChainTemplate, TemplateInvalid, label

PICK_KEY = "studio_tpl_pick"
COPY_SOURCE_KEY = "studio_tpl_copy_source"
IMPORT_KEY = "studio_tpl_import"


def field_key(name: str) -> str:
    return K.STUDIO_DRAFT_FIELD.format(field=name)


def step_key(uid: str, name: str) -> str:
    return K.STUDIO_DRAFT_STEP.format(uid=uid, field=name)


def _put_step(draft: dict, step: ChainStep, t: Translator) -> None:
    uid = uuid.uuid4().hex[:8]
    draft["steps"].append(uid)
    # what the editor does not show is kept as it was
    draft["extras"][uid] = {"temperature": step.temperature, "max_tokens": step.max_tokens}
    st.session_state[step_key(uid, "name")] = label(step.name, t)
    st.session_state[step_key(uid, "system_prompt")] = step.system_prompt
    st.session_state[step_key(uid, "template")] = step.template
    st.session_state[step_key(uid, "fresh")] = step.fresh
    st.session_state[step_key(uid, "model")] = step.model or ""


def _open_draft(template_id: str | None, name: str, source: ChainTemplate, t: Translator) -> None:
    draft = {"id": template_id, "steps": [], "extras": {}, "problems": []}
    for step in source.steps:
        _put_step(draft, step, t)
    st.session_state[field_key("name")] = name
    st.session_state[field_key("default_model")] = source.default_model or ""
    st.session_state[field_key("prompt_limit")] = source.prompt_limit or 0
    st.session_state[K.STUDIO_DRAFT] = draft


def new_draft(t: Translator) -> None:
    first = ChainStep(name=t("studio.step_label", number=1), template="{idea}")
    blank = ChainTemplate(id="", name="", steps=(first,))
    _open_draft(None, t("studio.templates.new_name"), blank, t)
    st.session_state.pop(PICK_KEY, None)


def copy_chain(chains: ChainStore, t: Translator) -> None:
    source = chains.get_template(st.session_state.get(COPY_SOURCE_KEY) or "")
    if source is not None:
        name = t("studio.templates.new_from", name=label(source.name, t))
        _open_draft(None, name, source, t)
        st.session_state.pop(PICK_KEY, None)


def open_picked(chains: ChainStore, t: Translator) -> None:
    template = chains.get_template(st.session_state.get(PICK_KEY) or "")
    if template is not None:
        _open_draft(template.id, template.name, template, t)


def add_step(t: Translator) -> None:
    draft = st.session_state[K.STUDIO_DRAFT]
    number = len(draft["steps"]) + 1
    _put_step(draft, ChainStep(name=t("studio.step_label", number=number), template=""), t)


def remove_step(uid: str) -> None:
    st.session_state[K.STUDIO_DRAFT]["steps"].remove(uid)


def move_step(uid: str, offset: int) -> None:
    steps = st.session_state[K.STUDIO_DRAFT]["steps"]
    i = steps.index(uid)
    steps[i], steps[i + offset] = steps[i + offset], steps[i]


def _draft_steps(draft: dict, t: Translator) -> list[ChainStep]:
    state, steps = st.session_state, []
    for number, uid in enumerate(draft["steps"], start=1):
        fresh = number > 1 and bool(state.get(step_key(uid, "fresh")))
        extras = draft["extras"].get(uid, {})
        steps.append(
            ChainStep(
                name=str(state.get(step_key(uid, "name")) or "").strip()
                or t("studio.step_label", number=number),
                template=str(state.get(step_key(uid, "template")) or ""),
                # a continued step talks in the conversation above, under its system prompt
                system_prompt=str(state.get(step_key(uid, "system_prompt")) or "")
                if number == 1 or fresh
                else "",
                fresh=fresh,
                model=state.get(step_key(uid, "model")) or None,
                temperature=extras.get("temperature"),
                max_tokens=extras.get("max_tokens"),
            )
        )
    return steps


def save_draft(chains: ChainStore, t: Translator) -> None:
    draft = st.session_state[K.STUDIO_DRAFT]
    fields = {
        "name": str(st.session_state.get(field_key("name")) or ""),
        "steps": _draft_steps(draft, t),
        "default_model": st.session_state.get(field_key("default_model")) or None,
        "prompt_limit": int(st.session_state.get(field_key("prompt_limit")) or 0) or None,
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


def delete_draft(chains: ChainStore, t: Translator) -> None:
    draft = st.session_state.pop(K.STUDIO_DRAFT)
    chains.delete_template(draft["id"])
    st.session_state.pop(PICK_KEY, None)
    if st.session_state.get(K.STUDIO_CHAIN) == draft["id"]:
        del st.session_state[K.STUDIO_CHAIN]  # the page falls back to the default chain
    st.toast(t("studio.templates.deleted"))


def import_template(chains: ChainStore, t: Translator) -> None:
    uploaded = st.session_state.get(IMPORT_KEY)
    if uploaded is None:
        return
    try:
        template = chains.import_template(upload_bytes(uploaded))
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
