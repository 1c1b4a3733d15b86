"""Times as the reader knows them: stored in UTC, shown in the browser's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from services import wording


def browser_zone() -> tzinfo:
    """The browser's time zone (``st.context.timezone``); UTC when it did not say or named a
    zone this machine does not know."""
    name = st.context.timezone
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone name at all
            pass
    return UTC


def shown_time(moment: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (naive means UTC) in the browser's zone, with the zone's abbreviation:
    '2026-03-01 18:05 KST', or '... UTC' when the zone is unknown."""
    return wording.shown_time(moment, browser_zone(), pattern)
