"""Text from a model on a terminal: streamed as Markdown on a TTY (rich Live), as plain text
when piped; never with control characters that could drive the terminal."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown

REDRAWS_PER_SECOND = 10
# C0 and C1 controls but newline and tab: a reply must not move the cursor, retitle the
# window or hide text (escape sequences)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub("", text)


def stream_text(console: Console, deltas: Iterable[str]) -> str:
    """Show ``deltas`` as they arrive and return the whole text. Stops (raising) when the
    iterable raises, e.g. KeyboardInterrupt; what was shown stays on screen."""
    text = ""
    if not console.is_terminal:
        for delta in deltas:
            text += delta
            console.file.write(printable(delta))
            console.file.flush()
        if text and not text.endswith("\n"):
            console.file.write("\n")
        return text
    parsed_at = 0.0
    with Live(Markdown(""), console=console, refresh_per_second=REDRAWS_PER_SECOND) as live:
        try:
            for delta in deltas:
                text += delta
                # parsing the whole text again for every delta would grow with its square
                if time.monotonic() - parsed_at >= 1 / REDRAWS_PER_SECOND:
                    live.update(Markdown(printable(text)))
                    parsed_at = time.monotonic()
        finally:
            live.update(Markdown(printable(text)))
    return text


def show_markdown(console: Console, text: str) -> None:
    """A stored text: Markdown on a terminal, as it is when piped."""
    if console.is_terminal:
        console.print(Markdown(printable(text)))
    else:
        console.file.write(printable(text).rstrip("\n") + "\n")
