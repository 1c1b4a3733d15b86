"""A lane's outcome on screen: images, latency, cost, seeds, the parameters sent, or its error.

The same card serves a lane that has just finished (an ImageResult in memory) and a stored
lane (read back from the store, one image at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import streamlit as st

from components.context import AppContext
from components.flagged_image import guarded_image
from components.prompt_diff_view import revised_prompt_diff
from services.errors import ChatCanvasError, ErrorKind
from services.images import PROVIDERS, ImageResult
from services.images.base import LaneOutcome
from services.markdown_safety import escape_markdown
from services.storage.images import StoredImage, StoredLane
from services.wording import format_cost, image_error_text


@dataclass(frozen=True)
class CardData:
    images: list[tuple[bytes, bool | None, float | None, str | None]]  # data, nsfw, score, revised
    latency_ms: int | None
    cost_usd: float | None
    cost_is_estimate: bool
    seeds: tuple[int, ...]
    params: dict
    error: ChatCanvasError | None
    free_quota: bool = False  # the provider is free within a monthly quota (Karlo): $0
    first_pixels_ms: int | None = None  # a streamed lane: when its first preview came


def quota_free(provider: str) -> bool:
    entry = PROVIDERS.get(provider)
    return entry is not None and entry.monthly_free_images is not None


def from_outcome(outcome: LaneOutcome) -> CardData:
    if isinstance(outcome, ChatCanvasError):
        return CardData([], None, None, False, (), {}, outcome)
    result: ImageResult = outcome
    return CardData(
        [
            (image.data, image.nsfw, image.nsfw_score, image.revised_prompt)
            for image in result.images
        ],
        result.latency_ms,
        result.cost_usd,
        result.cost_is_estimate,
        result.seeds,
        dict(result.params),
        None,
        free_quota=quota_free(result.provider),
        first_pixels_ms=result.first_pixels_ms,
    )


class ImageSource(Protocol):
    """Where a stored lane's images are read: the owner's ImageStore, or a shared
    comparison (which reads only its own images)."""

    def get_image(self, image_id: str) -> StoredImage | None: ...


def from_stored(store: ImageSource, lane: StoredLane) -> CardData:
    if lane.error_kind:
        error = ChatCanvasError(
            ErrorKind.parse(lane.error_kind), lane.error_detail or "", provider=lane.provider
        )
        return CardData([], None, None, False, (), dict(lane.params), error)
    images = []
    for image_id in lane.image_ids:
        image = store.get_image(image_id)
        if image is not None:
            images.append((image.data, image.nsfw, image.nsfw_score, image.revised_prompt))
    return CardData(
        images,
        lane.latency_ms,
        lane.cost_usd,
        lane.cost_is_estimate,
        lane.seeds,
        dict(lane.params),
        None,
        free_quota=quota_free(lane.provider),
        first_pixels_ms=_first_pixels(lane.params),
    )


def _first_pixels(params: dict) -> int | None:
    """When a stored streamed lane showed its first preview (kept with what it sent)."""
    value = params.get("first_pixels_ms")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _image_caption(ctx: AppContext, nsfw: bool | None, score: float | None) -> str | None:
    if not nsfw:
        return None
    return ctx.t("images.nsfw_flagged", score=f"{score:.2f}" if score is not None else "?")


def image_card(
    ctx: AppContext, title: str, card: CardData, *, key: str, hide_details: bool = False
) -> None:
    """``key`` names the lane on this page (a flagged image's "Show image" button);
    ``hide_details``: a blind run before its vote shows the images only, since parameters,
    cost, seeds and timing would tell the providers apart."""
    t = ctx.t
    st.markdown(f"**{title}**")
    if card.error is not None:
        st.error(image_error_text(card.error, t, quote=escape_markdown), icon=":material/error:")
        st.caption(t("images.errors.lane_failed"))
        if card.error.detail and not card.error.own_check:
            with st.expander(t("errors.details")):
                st.code(card.error.detail, language=None, wrap_lines=True)
        return
    for n, (data, nsfw, score, revised) in enumerate(card.images):
        guarded_image(
            ctx,
            data,
            flagged=nsfw,
            key=f"{key}_{n}",
            caption=_image_caption(ctx, nsfw, score),
            alt=t("images.alt", title=title, n=n + 1),  # screen readers name every image
        )
        if revised and not hide_details:  # only some models revise: it would tell them apart
            revised_prompt_diff(ctx, str(card.params.get("prompt") or ""), revised)
    if hide_details:
        return
    figures = []
    if card.latency_ms is not None and card.first_pixels_ms is not None:
        first, total = card.first_pixels_ms / 1000, card.latency_ms / 1000
        figures.append(t("compare.first_pixels", first=f"{first:.1f}", seconds=f"{total:.1f}"))
    elif card.latency_ms is not None:
        figures.append(t("compare.latency", seconds=f"{card.latency_ms / 1000:.1f}"))
    if card.cost_usd is None and card.free_quota:
        figures.append(t("compare.free_quota"))
    else:
        cost = format_cost(card.cost_usd, t)
        figures.append(t("compare.estimate", cost=cost) if card.cost_is_estimate else cost)
    if card.seeds:
        figures.append(t("compare.seeds", seeds=", ".join(str(s) for s in card.seeds)))
    st.caption(" · ".join(figures))
    with st.expander(t("images.params_sent")):
        st.json(card.params, expanded=True)
