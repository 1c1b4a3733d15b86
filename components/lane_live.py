"""A comparison lane while it runs: the latest partial image of a streaming lane (each one
replacing the one before), a local lane's progress bar, or for any other lane how long it
has been running. What to draw comes from the comparison service's ``on_progress`` (lane
watches in services/images/lane_watch.py); this module only draws."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import streamlit as st

from components.context import AppContext
from services.images.lane_watch import LaneProgress
from services.wording import lane_progress_text


@dataclass
class LiveSlot:
    """Where one running lane draws: its preview image above its status line."""

    preview: object
    status: object
    shown: int | None = field(default=None)  # the partial image on screen (its index)


def live_slot(ctx: AppContext) -> LiveSlot:
    """The places a running lane draws into, showing "Generating…" until news arrives."""
    slot = LiveSlot(st.empty(), st.empty())
    slot.status.progress(0, text=ctx.t("images.generating"))
    return slot


def live_drawer(
    ctx: AppContext, slots: dict[int, LiveSlot], *, blind: bool = False
) -> Callable[[int, LaneProgress], None]:
    """An ``on_progress`` callback drawing each lane's news into ``slots[index]``. ``blind``:
    previews are not shown (only GPT Image lanes have them: they would name the engine)."""

    def draw(index: int, progress: LaneProgress) -> None:
        slot = slots.get(index)
        if slot is None:
            return
        if blind:
            progress = replace(progress, partial=None)
        text = lane_progress_text(progress, ctx.t)
        if progress.partial is not None:
            if slot.shown != progress.partial_index:  # a new preview: the image only then
                slot.shown = progress.partial_index
                n = progress.partial_index + 1
                count = max(progress.partials, n)
                slot.preview.image(
                    progress.partial,
                    caption=ctx.t("images.stream_preview", n=n, count=count),
                    width="stretch",
                )
            slot.status.caption(f":material/auto_awesome: {text}")
        elif progress.steps or progress.waiting or progress.loading:
            slot.status.progress(progress.fraction, text=text)
        else:
            slot.status.caption(f":material/hourglass_top: {text}")

    return draw
