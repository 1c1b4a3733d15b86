"""Replies on a terminal: Markdown rendered as it streams; plain text into a pipe; never a
control character from the model."""

from __future__ import annotations

import io

from rich.console import Console

from chatcanvas.render import printable, stream_text

REPLY = ["# Title\n\n", "Some **bold", "** text", "\n\n- one\n- two\n"]


def test_on_a_terminal_the_reply_is_rendered_as_markdown_while_it_streams():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=60)
    assert stream_text(console, iter(REPLY)) == "".join(REPLY)
    shown = out.getvalue()
    assert "**" not in shown and "bold" in shown and "\x1b[1m" in shown  # bold, not asterisks
    assert "•" in shown  # a rendered list


def test_into_a_pipe_the_reply_is_the_text_as_it_came():
    out = io.StringIO()
    stream_text(Console(file=out, force_terminal=False), iter(REPLY))
    assert out.getvalue() == "".join(REPLY)


def test_control_characters_are_dropped_but_text_layout_kept():
    assert printable("a\x1b[2Jb\x07c\r\nd\te\x9bf") == "a[2Jbc\nd\tef"
