"""Text from users, files and providers shown through Markdown without fetching anything.

Streamlit renders Markdown in st.markdown, captions, subheaders, alerts, toasts and even button
labels and tooltips, so a title like ``![](https://host/?q=...)`` would make every viewer's
browser load that address. Two transformations:

- :func:`escape_markdown` for text that is not Markdown (titles, model ids, names, provider
  messages): every character shows as typed.
- :func:`without_remote_images` for Markdown that should stay Markdown (model replies): images
  become plain links the reader may choose to follow.
"""

from __future__ import annotations

import re

# Punctuation that is Markdown syntax anywhere in a line (CommonMark lets a backslash escape
# any of it), including math ($) and Streamlit's :icon: and :color[...] directives...
_SPECIAL = re.compile(r"([\\`*_\[\]!|<>~$:&])")
# ...and what is syntax only at the start of a line: headings, lists, setext underlines, breaks.
# Model ids such as "gpt-4.1-mini" keep their dashes and dots unescaped.
_LINE_START = re.compile(r"(?m)^([ \t]*)([-+#=])|^([ \t]*\d+)([.)])")
_IMAGE_MARK = "🖼️ "
# an image opener not escaped by a backslash (an even number of backslashes before it)
_OPENER = r"(?<!\\)((?:\\\\)*)!\["
_IMAGE_OPENER = re.compile(_OPENER)
# ![alt](destination "title"): alt without brackets, destination without spaces or parens
_INLINE_IMAGE = re.compile(
    _OPENER
    + r"""([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"""
)
_HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_HTML_SRC = re.compile(r"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that shows exactly these characters: no image, link, emphasis,
    heading, list, HTML, math or Streamlit directive can come out of it."""
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}", text)


def _link(destination: str, label: str) -> str:
    text = escape_markdown(label.strip() or destination or "image")
    if not destination:
        return _IMAGE_MARK + text
    return f"{_IMAGE_MARK}[{text}](<{destination}>)"


def _inline_image(match: re.Match[str]) -> str:
    return match.group(1) + _link(match.group(3), match.group(2))


def _html_image(match: re.Match[str]) -> str:
    src = _HTML_SRC.search(match.group(0))
    destination = next((g for g in src.groups() if g is not None), "") if src else ""
    return _link(destination.replace("<", "").replace(">", ""), "")


def without_remote_images(markdown: str) -> str:
    """``markdown`` with every image turned into a link (or plain text), so showing it loads
    nothing from anywhere. Also applies inside code, where it changes nothing that matters:
    a reader that cannot tell code from text safely must not leave an image behind."""
    markdown = _HTML_IMAGE.sub(_html_image, markdown)
    markdown = _INLINE_IMAGE.sub(_inline_image, markdown)
    # what is left (reference images, nested brackets, a reply still streaming) loses its "!"
    return _IMAGE_OPENER.sub(lambda m: m.group(1) + _IMAGE_MARK + "[", markdown)
