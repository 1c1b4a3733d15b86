"""The safety check before paying, on screen (the check itself: services/moderation.py via
the comparison service). Before a comparison runs, :func:`cleared` asks the moderation model
about its texts; a flagged prompt, or a check that could not be made, is held in this
session and drawn by :func:`held_panel` with the flagged categories in the user's language
and three ways on: edit the prompt (nothing typed is lost: the boxes are not touched),
proceed anyway, or check again. ``where`` names the place ("compare", "studio" for
Generate here, "idea" for a studio run), so each keeps its own held check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from components import state as K
from components.context import AppContext
from components.errors import error_text, show_error
from services.comparison import ComparisonSpec, moderation_inputs
from services.errors import ChatCanvasError
from services.markdown_safety import escape_markdown
from services.moderation import ModerationVerdict
from services.storage.images import ImageStore, StoredLane
from services.wording import moderation_categories


@dataclass(frozen=True)
class HeldCheck:
    """A comparison held before paying: the texts checked, and the verdict that flagged them
    or the error that stopped the check; ``replay``: the stored run it was to re-run."""

    texts: tuple[str, ...]
    verdict: ModerationVerdict | None = None
    error: ChatCanvasError | None = None
    replay: str | None = None


def _held(where: str) -> dict:
    return st.session_state.setdefault(K.MODERATION_HELD, {}).setdefault(where, {})


def check_toggle(ctx: AppContext, place=st) -> bool:
    """The Compare page's switch, starting from the ``MODERATION_CHECK`` setting."""
    st.session_state.setdefault(K.MODERATION_ON, ctx.settings.moderation_check)
    return place.toggle(
        ctx.t("moderation.toggle"),
        key=K.MODERATION_ON,
        help=ctx.t("moderation.toggle_help"),
        persist_state="session",  # the studio reads it too, and a return to Compare keeps it
    )


def check_on(ctx: AppContext) -> bool:
    """Whether the check is on for this session (the toggle, else the setting)."""
    return bool(st.session_state.get(K.MODERATION_ON, ctx.settings.moderation_check))


def forget(where: str) -> None:
    """The texts changed: a held check no longer applies (an on_change callback)."""
    _held(where).pop("held", None)


def resumed(where: str) -> bool:
    """True once after the person chose to proceed or check again (the page runs again)."""
    return bool(_held(where).pop("resume", False))


def cleared(
    ctx: AppContext,
    spec: ComparisonSpec,
    where: str,
    *,
    also: Sequence[str] = (),
    replay: str | None = None,
) -> bool:
    """Whether ``spec`` may run now: the check is off, the texts were approved ("proceed
    anyway"), or the moderation model finds nothing. Otherwise the result is held and drawn,
    and nothing is sent to any image engine."""
    texts = moderation_inputs(spec, also)
    return _screened(ctx, where, texts, lambda: ctx.comparisons.check(spec, also=also), replay)


def idea_cleared(ctx: AppContext, idea: str) -> bool:
    """The same for a Prompt Studio idea before its chain runs (where ``idea``)."""
    texts = (idea.strip(),)
    return _screened(ctx, "idea", texts, lambda: ctx.chain_engine.check_idea_safety(idea))


def edit_cleared(ctx: AppContext, where: str, instruction: str) -> bool:
    """The same for an image edit's instruction (``where``: one per source image)."""
    texts = (instruction.strip(),)
    return _screened(ctx, where, texts, lambda: ctx.services.image_edits().check(instruction))


def _screened(
    ctx: AppContext,
    where: str,
    texts: tuple[str, ...],
    check: Callable[[], ModerationVerdict],
    replay: str | None = None,
) -> bool:
    if not check_on(ctx):
        return True
    state = _held(where)
    if state.get("approved") == texts:
        return True
    try:
        with st.spinner(ctx.t("moderation.checking")):
            verdict = check()
    except ChatCanvasError as err:
        state["held"] = HeldCheck(texts, error=err, replay=replay)
    else:
        if not verdict.flagged:
            return True
        state["held"] = HeldCheck(texts, verdict=verdict, replay=replay)
    held_panel(ctx, where)
    return False


def _choose(where: str, proceed: bool) -> None:
    state = _held(where)
    held: HeldCheck | None = state.pop("held", None)
    if held is None:
        return
    if proceed:
        state["approved"] = held.texts
    if held.replay and where == "compare":
        st.session_state[K.COMPARE_AUTORUN] = held.replay
    else:
        state["resume"] = True


def held_panel(ctx: AppContext, where: str) -> bool:
    """Draw the held check of ``where``, if any (True when drawn)."""
    held: HeldCheck | None = _held(where).get("held")
    if held is None:
        return False
    t = ctx.t
    idea = where == "idea"
    with st.container(border=True, key=f"moderation_held_{where}"):
        if held.verdict is not None:
            title = t("moderation.idea_held_title" if idea else "moderation.held_title")
            st.error(f"**{title}**", icon=":material/gpp_maybe:")
            categories = moderation_categories(held.verdict.categories, t)
            st.markdown(t("moderation.held_categories", categories=escape_markdown(categories)))
            st.caption(t("moderation.idea_held_body" if idea else "moderation.held_body"))
        else:
            st.warning(f"**{t('moderation.failed_title')}**", icon=":material/gpp_maybe:")
            if held.error is not None:
                show_error(held.error, t)
            st.caption(t("moderation.failed_body"))
        row = st.container(horizontal=True)
        row.button(t("moderation.edit_idea" if idea else "moderation.edit"), key=f"moderation_edit_{where}", on_click=forget,
                   args=(where,), icon=":material/edit:")  # fmt: skip
        if held.verdict is None:
            row.button(t("moderation.retry"), key=f"moderation_retry_{where}", on_click=_choose,
                       args=(where, False), icon=":material/refresh:")  # fmt: skip
        row.button(t("moderation.proceed"), key=f"moderation_proceed_{where}", on_click=_choose,
                   args=(where, True), icon=":material/arrow_forward:")  # fmt: skip
    return True


def _check_image(ctx: AppContext, store: ImageStore, image_id: str) -> None:
    errors = st.session_state.setdefault(K.MODERATION_IMAGE_ERRORS, {})
    errors.pop(image_id, None)
    try:
        ctx.services.moderation.check_stored_image(store, image_id)
    except ChatCanvasError as err:
        errors[image_id] = err


def image_checks(ctx: AppContext, store: ImageStore, lane: StoredLane) -> None:
    """On a stored lane's card: each image's safety check result (kept in its params), or a
    button that asks the moderation model about it (free); a failed check says why."""
    t = ctx.t
    errors = st.session_state.get(K.MODERATION_IMAGE_ERRORS, {})
    many = len(lane.image_ids) > 1
    for n, image_id in enumerate(lane.image_ids, 1):
        image = store.get_image(image_id)
        if image is None:
            continue
        prefix = f"{n}. " if many else ""
        verdict = ModerationVerdict.from_params(image.params)
        if verdict is not None:
            if verdict.flagged:
                words = moderation_categories(verdict.categories, t)
                st.caption(
                    prefix + t("moderation.image_flagged", categories=escape_markdown(words))
                )
            else:
                st.caption(prefix + t("moderation.image_clear"))
            continue
        st.button(
            prefix + t("moderation.image_check"),
            key=f"moderation_image_{image_id}",
            help=t("moderation.image_check_help"),
            icon=":material/shield:",
            on_click=_check_image,
            args=(ctx, store, image_id),
        )
        if image_id in errors:
            reason = error_text(errors[image_id], t)
            st.caption(":material/error: " + t("moderation.image_failed", reason=reason))
