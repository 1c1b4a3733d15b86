"""One comparison lane: provider, model and the parameters that model takes.

A lane is a small dict in session state ({"id", "provider", "model"}); its parameter widgets
are keyed by the lane's id, so lanes can be reordered, duplicated and removed freely.
:func:`lane_from_widgets` reads them back as the typed :class:`LaneSpec` the comparison
service runs.
"""

from __future__ import annotations

import uuid

import streamlit as st

from components import state as K
from components.context import AppContext
from components.local_lane import local_lane_notes
from services.comparison import LaneSpec
from services.images import PROVIDERS, ImageCapabilities
from services.images.registry import default_lane_providers, offered_providers

CUSTOM = "custom"


def field_key(lane: dict, field: str) -> str:
    return K.COMPARE_LANE_FIELD.format(lane=lane["id"], field=field)


def new_lane(ctx: AppContext, provider: str | None = None) -> dict:
    """A lane of ``provider`` (the first registered one by default) on its default model."""
    entry = PROVIDERS[provider] if provider else next(iter(PROVIDERS.values()))
    models = lane_models(ctx, entry.name)
    default = entry.default_model_for(ctx.catalog)
    model = default if default in models else (models[0] if models else "")
    return {"id": uuid.uuid4().hex[:8], "provider": entry.name, "model": model}


def default_lanes(ctx: AppContext) -> list[dict]:
    """One lane per default provider: GPT Image against Karlo, the product's signature
    comparison."""
    return [new_lane(ctx, name) for name in default_lane_providers()]


def duplicate_lane(lane: dict) -> dict:
    """A copy with its own id and the same parameter values."""
    copy = {**lane, "id": uuid.uuid4().hex[:8]}
    prefix = K.COMPARE_LANE_FIELD.format(lane=lane["id"], field="")
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        st.session_state[field_key(copy, key[len(prefix) :])] = st.session_state[key]
    return copy


def lane_models(ctx: AppContext, provider: str) -> list[str]:
    """The provider's models; from the catalog merged with the live list (retired last) for
    a provider the catalog lists (OpenAI)."""
    if PROVIDERS[provider].catalog_models:
        return [s.id for s in ctx.catalog.choices("image", ctx.today, ctx.live_models())]
    return ctx.image_provider(provider).models()


def lane_form(ctx: AppContext, lane: dict) -> ImageCapabilities:
    """Provider, model and parameter widgets for ``lane`` (updated in place)."""
    t = ctx.t
    names = offered_providers(ctx.settings)
    lane["provider"] = st.selectbox(
        t("compare.provider"),
        names,
        index=names.index(lane["provider"]) if lane["provider"] in names else 0,
        format_func=lambda n: t(PROVIDERS[n].label_key),
        key=field_key(lane, "provider"),
        persist_state="session",
    )
    if lane["provider"] == "compatible":
        _server_notes(ctx)
    models = lane_models(ctx, lane["provider"])
    if lane["model"] not in models:
        lane["model"] = new_lane(ctx, lane["provider"])["model"]
    lane["model"] = (
        st.selectbox(
            t("images.params.model"),
            models,
            index=models.index(lane["model"]) if lane["model"] in models else 0,
            key=field_key(lane, f"model_{lane['provider']}"),
            persist_state="session",
            accept_new_options=True,
        )
        or ""
    )
    caps = ctx.image_provider(lane["provider"]).capabilities(lane["model"])
    if PROVIDERS[lane["provider"]].runs_here:
        local_lane_notes(ctx, lane)
    _size_widgets(ctx, lane, caps)
    _count_and_seed(ctx, lane, caps)
    _choice(ctx, lane, "quality", caps.qualities)
    _choice(ctx, lane, "output_format", caps.output_formats)
    with st.expander(t("compare.more_params")):
        _more_params(ctx, lane, caps)
    return caps


def _server_notes(ctx: AppContext) -> None:
    """A compatible lane: what is wrong with the deployer's servers, and (where a typed base
    URL is allowed) the fields of a person's own server, kept for this session only."""
    t, settings = ctx.t, ctx.settings
    if settings.image_servers_problem:
        st.warning(t("compare.servers_problem", detail=settings.image_servers_problem))
    if not settings.allow_custom_base_url:
        if not settings.image_servers:
            st.info(t("compare.no_servers"))
        return
    with st.expander(t("compare.own_server"), expanded=not settings.image_servers):
        st.caption(t("compare.own_server_help"))
        st.text_input(
            t("compare.own_server_url"),
            key=K.OWN_IMAGE_SERVER_URL,
            help=t("compare.own_server_url_help"),
            placeholder="http://localhost:8080/v1",
            persist_state="session",
        )
        st.text_input(
            t("compare.own_server_key"),
            type="password",
            key=K.OWN_IMAGE_SERVER_KEY,
            persist_state="session",
        )
        st.text_input(
            t("compare.own_server_model"), key=K.OWN_IMAGE_SERVER_MODEL, persist_state="session"
        )
        if settings.custom_image_server is None:
            st.caption(t("compare.own_server_missing"))


def _count_and_seed(ctx: AppContext, lane: dict, caps: ImageCapabilities) -> None:
    t = ctx.t
    left, right = st.columns(2)
    with left:
        st.number_input(
            t("images.params.count"),
            1,
            min(caps.max_count, ctx.budget.max_images_per_lane() or caps.max_count),
            1,
            key=field_key(lane, "count"),
            persist_state="session",
        )
    with right:
        if caps.seeds:
            st.number_input(
                t("images.params.seed"),
                min_value=0,
                max_value=4_294_967_295,
                value=None,
                key=field_key(lane, "seed"),
                persist_state="session",
                help=t("images.params.seed_help"),
            )


def _more_params(ctx: AppContext, lane: dict, caps: ImageCapabilities) -> None:
    """The provider-specific choices and ranges, unset (the provider's default) until picked."""
    for name, choices in caps.extras.items():
        _choice(ctx, lane, name, choices)
    for name, (low, high) in caps.ranges.items():
        integral = float(low).is_integer() and float(high).is_integer()
        st.number_input(
            ctx.t(f"images.params.{name}"),
            min_value=int(low) if integral else float(low),
            max_value=int(high) if integral else float(high),
            value=None,
            key=field_key(lane, name),
            persist_state="session",
            placeholder=ctx.t("compare.provider_default"),
        )


def _choice(ctx: AppContext, lane: dict, name: str, choices: tuple) -> None:
    """A parameter's choices; unless the user picks one, the provider decides ("auto" where
    the API has it, else nothing is sent)."""
    if not choices:
        return
    t = ctx.t
    options = list(choices) if "auto" in choices else [None, *choices]
    key = field_key(lane, name)
    if st.session_state.get(key) not in options:
        st.session_state[key] = "auto" if "auto" in options else None

    def label(choice: object) -> str:
        if choice is None:
            return t("compare.provider_default")
        if isinstance(choice, bool):
            return t("compare.yes") if choice else t("compare.no")
        return t(f"images.choices.{choice}") if t.has(f"images.choices.{choice}") else str(choice)

    st.selectbox(
        t(f"images.params.{name}"), options, key=key, persist_state="session", format_func=label
    )


def _size_widgets(ctx: AppContext, lane: dict, caps: ImageCapabilities) -> None:
    t = ctx.t
    options = list(caps.sizes) + ([CUSTOM] if caps.size_rule else [])
    key = field_key(lane, f"size_{caps.family}")
    if st.session_state.get(key) not in options:
        st.session_state[key] = caps.default_size if caps.default_size in options else options[0]
    choice = st.selectbox(
        t("images.params.size"),
        options,
        key=key,
        persist_state="session",
        format_func=lambda s: (
            t("images.params.custom_size")
            if s == CUSTOM
            else t("images.choices.auto")
            if s == "auto"
            else s
        ),
    )
    if choice == CUSTOM and caps.size_rule:
        rule = caps.size_rule
        start = min(1024, rule.max_side) // rule.multiple * rule.multiple
        sides = []
        for column, side in zip(st.columns(2), ("width", "height"), strict=True):
            sides.append(
                column.number_input(
                    t(f"images.params.{side}"),
                    rule.multiple,
                    rule.max_side,
                    start,
                    rule.multiple,
                    key=field_key(lane, f"{side}_{caps.model}"),  # limits differ per model
                    persist_state="session",
                )
            )
        help_text = t(
            "images.params.custom_size_help", multiple=rule.multiple, max_side=rule.max_side
        )
        if rule.problem(int(sides[0]), int(sides[1])):
            st.warning(help_text + " " + t("compare.size_aspect", aspect=rule.max_aspect or 3))
        else:
            st.caption(help_text)


def lane_from_widgets(ctx: AppContext, lane: dict) -> LaneSpec:
    """The lane its widgets describe (read from session state)."""
    caps = ctx.image_provider(lane["provider"]).capabilities(lane["model"])

    def value(field: str):
        return st.session_state.get(field_key(lane, field))

    size = value(f"size_{caps.family}")
    width = height = None
    if size == CUSTOM:
        size = None
        width, height = value(f"width_{caps.model}"), value(f"height_{caps.model}")
    seed = value("seed")
    return LaneSpec(
        provider=lane["provider"],
        model=lane["model"],
        size=size,
        width=width,
        height=height,
        count=int(value("count") or 1),
        seeds=(int(seed),) if seed is not None else None,
        # a choice left by the lane's previous model counts only where this one offers it
        quality=value("quality") if caps.qualities else None,
        output_format=value("output_format") if caps.output_formats else None,
        extras={name: value(name) for name in [*caps.extras, *caps.ranges]},
    )
