"""Compare: one prompt, several image engines side by side; vote; everything kept."""

from __future__ import annotations

import math

import streamlit as st

from components import state as K
from components.compare_run import RESULTS_KEY, comparison_spec, show_comparison
from components.compare_view import show_run
from components.context import AppContext, app_context
from components.errors import show_error
from components.lane_form import default_lanes, duplicate_lane, lane_form, new_lane
from components.moderation_panel import check_toggle, cleared, forget, held_panel, resumed
from components.revised_prompt_send import send_revised_if_asked
from components.share_panel import share_panel
from components.sidebar import ensure_models_listed
from services.comparison import LaneSpec
from services.errors import ChatCanvasError
from services.images import english_only, karlo_prompt_problems
from services.images.karlo import MAX_PROMPT_CHARS
from services.images.translate import make_karlo_ready
from services.markdown_safety import escape_markdown
from services.shares import ShareKind
from services.storage.images import CompareRun, ImageStore


def chat_model(ctx: AppContext) -> str:
    """The chat model that translates for Karlo: the catalog's default among those listed."""
    choices = ctx.catalog.choices("chat", ctx.today, ctx.live_models())
    model = ctx.catalog.default("chat", choices, ctx.today)
    return model.id if model else ""


def make_karlo_prompt() -> None:
    """Button callback: ask the chat model for an English prompt of at most 256 characters."""
    ctx = app_context()
    try:
        english = make_karlo_ready(ctx.chat, chat_model(ctx), st.session_state[K.COMPARE_PROMPT])
    except ChatCanvasError as err:
        st.session_state[K.COMPARE_KARLO_ERROR] = err
        return
    st.session_state[K.COMPARE_KARLO_PROMPT] = english


def english_for_karlo_lanes() -> None:
    """Generate's callback: a prompt the English-only lanes cannot take is translated by the
    comparison service first, and the English sent fills the (editable) Karlo prompt box."""
    ctx = app_context()
    prompt = st.session_state.get(K.COMPARE_PROMPT, "")
    lanes = [
        LaneSpec(lane["provider"], lane["model"]) for lane in st.session_state[K.COMPARE_LANES]
    ]
    if not prompt.strip():
        return
    try:
        english = ctx.comparisons.english_prompt(
            prompt, lanes, st.session_state.get(K.COMPARE_KARLO_PROMPT), model=chat_model(ctx)
        )
    except ChatCanvasError as err:
        st.session_state[K.COMPARE_KARLO_ERROR] = err
        return
    if english and english != prompt.strip():
        st.session_state[K.COMPARE_KARLO_PROMPT] = english


def karlo_refusal(lanes: list[dict], prompt: str, english_prompt: str | None) -> str | None:
    """Why the English-only lanes cannot take what they would send (the first of Karlo's
    checks), or None: Generate then sends nothing and says so as its headline."""
    if not any(english_only(lane["provider"]) for lane in lanes):
        return None
    sent = english_prompt or prompt.strip()
    problems = karlo_prompt_problems(sent)
    return problems[0] if problems else None


def open_comparison(run_id: str | None) -> None:
    """Make ``run_id`` the stored comparison on screen (None: none). Its id lives in the URL,
    so a reload, a bookmark or the gallery's "Open the comparison" reopens it."""
    if run_id:
        st.session_state[K.COMPARE_LAST_RUN] = run_id
        st.query_params["run"] = run_id
    else:
        st.session_state.pop(K.COMPARE_LAST_RUN, None)
        st.query_params.pop("run", None)


def shown_run(ctx: AppContext, store: ImageStore) -> CompareRun | None:
    """The comparison named in the URL, else the last one made in this session. Another
    owner's id answers like a missing one. A run opened by its address (not made here) also
    fills the prompt boxes with what it sent."""
    wanted = st.query_params.get("run") or st.session_state.get(K.COMPARE_LAST_RUN)
    if not wanted:
        return None
    found = store.get_run(wanted)
    if found is None:
        st.toast(ctx.t("compare.not_found"), icon=":material/warning:")
    elif found.id != st.session_state.get(K.COMPARE_LAST_RUN):
        st.session_state[K.COMPARE_PROMPT] = found.prompt
        st.session_state[K.COMPARE_NEGATIVE_PROMPT] = found.negative_prompt or ""
        st.session_state[K.COMPARE_STUDIO_RUN_ID] = found.studio_run_id
        st.session_state[K.COMPARE_KARLO_PROMPT] = (
            ""  # an older comparison's English is not this one's
        )
    open_comparison(found.id if found else None)
    return found


def prompt_edited() -> None:
    """A prompt of the user's own: no longer the studio run's, and its old Karlo
    translation no longer applies."""
    st.session_state.pop(K.COMPARE_STUDIO_RUN_ID, None)
    st.session_state[K.COMPARE_KARLO_PROMPT] = ""
    forget("compare")


def karlo_panel(ctx: AppContext, prompt: str) -> str | None:
    """The English prompt Karlo lanes will send, with its checks and the one-click fix."""
    t = ctx.t
    with st.container(border=True):
        karlo_prompt = st.text_input(
            t("compare.karlo_prompt"),
            key=K.COMPARE_KARLO_PROMPT,
            max_chars=1000,
            persist_state="session",
            placeholder=t("compare.karlo_prompt_placeholder"),
        )
        sent = karlo_prompt.strip() or prompt.strip()
        for problem in karlo_prompt_problems(sent) if sent else []:
            st.warning(
                t(f"images.karlo_checks.{problem}", limit=MAX_PROMPT_CHARS, length=len(sent))
            )
        if sent and karlo_prompt_problems(sent) and not karlo_prompt.strip():
            st.caption(t("compare.karlo_auto"))
        if sent and karlo_prompt_problems(sent):
            st.button(
                t("images.make_karlo_ready"),
                key="compare_make_karlo_ready",
                help=t("images.make_karlo_ready_help"),
                on_click=make_karlo_prompt,
                icon=":material/translate:",
            )
        error = st.session_state.pop(K.COMPARE_KARLO_ERROR, None)
        if error is not None:
            show_error(error, t)
        st.caption(
            t("compare.karlo_sends", prompt=escape_markdown(sent))
            if sent
            else t("images.karlo_watermark")
        )
    return karlo_prompt.strip() or None


def studio_idea(ctx: AppContext) -> tuple[str, ...]:
    """The idea of the studio run the prompt came from: the safety check reads it too."""
    run_id = st.session_state.get(K.COMPARE_STUDIO_RUN_ID)
    run = ctx.chains.get_run(run_id) if run_id else None
    return (run.idea,) if run is not None else ()


def lane_grid(count: int) -> list:
    """A column per lane, at most three to a row and rows of even length (four lanes: two
    by two), so each lane's values have room to be read."""
    rows = math.ceil(count / 3)
    per_row = math.ceil(count / rows)
    return [column for start in range(0, count, per_row) for column in st.columns(per_row)][:count]


def lane_editors(ctx: AppContext, lanes: list[dict]) -> None:
    t = ctx.t
    max_lanes = ctx.budget.max_lanes()
    columns = lane_grid(len(lanes))
    for i, lane in enumerate(lanes):
        with columns[i], st.container(border=True):
            st.markdown(f"**{t('images.lane', n=i + 1)}**")
            lane_form(ctx, lane)
            # one row at any width (columns would stack on a phone)
            row = st.container(horizontal=True, key=f"compare_buttons_{lane['id']}", wrap=False)
            if row.button(
                "",
                key=f"compare_left_{lane['id']}",
                icon=":material/arrow_back:",
                disabled=i == 0,
                help=t("compare.move_left"),
            ):
                lanes[i - 1], lanes[i] = lanes[i], lanes[i - 1]
                st.rerun()
            if row.button(
                "",
                key=f"compare_right_{lane['id']}",
                icon=":material/arrow_forward:",
                disabled=i == len(lanes) - 1,
                help=t("compare.move_right"),
            ):
                lanes[i + 1], lanes[i] = lanes[i], lanes[i + 1]
                st.rerun()
            if row.button(
                "",
                key=f"compare_dup_{lane['id']}",
                icon=":material/content_copy:",
                disabled=max_lanes is not None and len(lanes) >= max_lanes,
                help=t("compare.duplicate"),
            ):
                lanes.insert(i + 1, duplicate_lane(lane))
                st.rerun()
            if row.button(
                "",
                key=f"compare_remove_{lane['id']}",
                icon=":material/delete:",
                disabled=len(lanes) <= 1,
                help=t("images.remove_lane"),
            ):
                lanes.pop(i)
                st.rerun()


ctx = app_context()
t = ctx.t
ensure_models_listed()
store = ctx.images
lanes: list[dict] = st.session_state.setdefault(K.COMPARE_LANES, default_lanes(ctx))
last = shown_run(ctx, store)

st.subheader(t("common.nav.compare"))
prompt = st.text_area(
    t("images.params.prompt"),
    key=K.COMPARE_PROMPT,
    height=100,
    on_change=prompt_edited,
    persist_state="session",
)
negative_prompt = st.text_input(
    t("images.params.negative_prompt"),
    key=K.COMPARE_NEGATIVE_PROMPT,
    help=t("images.params.negative_prompt_help"),
    persist_state="session",
)
english_prompt = (
    karlo_panel(ctx, prompt) if any(english_only(lane["provider"]) for lane in lanes) else None
)

lane_editors(ctx, lanes)
left, middle, right = st.columns([1, 1, 2])
max_lanes = ctx.budget.max_lanes()
if left.button(
    t("images.add_lane"),
    key="compare_add_lane",
    icon=":material/add:",
    disabled=max_lanes is not None and len(lanes) >= max_lanes,
    help=t("budget.max_lanes_help", allowed=max_lanes) if max_lanes else None,
):
    lanes.append(new_lane(ctx))
    st.rerun()
blind = middle.toggle(
    t("compare.blind_short"), key=K.COMPARE_BLIND, help=t("images.blind"), persist_state="session"
)
check_toggle(ctx, middle)
clicked = right.button(
    t("images.generate"),
    key="compare_run",
    type="primary",
    icon=":material/palette:",
    width="stretch",
    on_click=english_for_karlo_lanes,
)

send_revised_if_asked(ctx, chat_model(ctx))  # a lane's revised prompt to the other lanes
replay = st.session_state.pop(K.COMPARE_AUTORUN, None)  # a stored run's id: same seeds
if clicked or replay or resumed("compare"):
    refusal = karlo_refusal(lanes, prompt, english_prompt)
    if not prompt.strip():
        st.warning(t("errors.empty_input"))
    elif refusal is not None:  # the translation failed (its reason is in the Karlo box)
        st.error(
            t(
                f"images.karlo_checks.{refusal}",
                limit=MAX_PROMPT_CHARS,
                length=len((english_prompt or prompt).strip()),
            ),
            icon=":material/translate:",
        )
    else:
        spec = comparison_spec(
            ctx,
            lanes,
            prompt=prompt.strip(),
            negative_prompt=negative_prompt.strip(),
            english_prompt=english_prompt,
            blind=blind,
            studio_run_id=st.session_state.get(K.COMPARE_STUDIO_RUN_ID),
            same_seeds_as=store.get_run(replay) if replay and not clicked else None,
        )
        if cleared(ctx, spec, "compare", also=studio_idea(ctx), replay=replay):
            try:
                with st.container(key=RESULTS_KEY):
                    show_comparison(ctx, spec, on_stored=open_comparison)
            except ChatCanvasError as err:  # a spending limit: nothing was sent
                show_error(err, t)
            else:
                st.rerun()
else:
    held_panel(ctx, "compare")  # a check that held the last Generate, until the person chooses
    if last is not None:
        with st.container(key=RESULTS_KEY):
            show_run(ctx, store, last, same_seeds=True)
        share_panel(ctx, ShareKind.COMPARISON, last.id)
