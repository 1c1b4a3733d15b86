"""The word diff between a prompt sent and the prompt a provider says it drew."""

from __future__ import annotations

from services.prompt_diff import Change, diff_prompts


def shown(sent: str, revised: str) -> str:
    """The diff as wdiff writes it: [-removed-] {+added+}."""
    marks = {Change.SAME: "{}", Change.ADDED: "{{+{}+}}", Change.REMOVED: "[-{}-]"}
    return "".join(
        (" " if piece.spaced else "") + marks[piece.change].format(piece.text)
        for piece in diff_prompts(sent, revised).pieces
    )


def test_english_words_added_and_removed_in_reading_order():
    diff = diff_prompts("Draw a red fox in the snow", "A red fox in the deep snow at dusk")
    assert shown("Draw a red fox in the snow", "A red fox in the deep snow at dusk") == (
        "[-Draw a-] {+A+} red fox in the {+deep+} snow {+at dusk+}"
    )
    assert (diff.added, diff.removed) == (4, 2)
    assert not diff.identical


def test_korean_words_are_whole_eojeol():
    sent = "눈 덮인 숲 속의 붉은 여우를 그려줘"
    revised = "섬세하게 표현된 눈 덮인 숲 속의 붉은 여우, 부드러운 빛"
    assert shown(sent, revised) == (
        "{+섬세하게 표현된+} 눈 덮인 숲 속의 붉은 [-여우를 그려줘-] {+여우, 부드러운 빛+}"
    )
    diff = diff_prompts(sent, revised)
    assert (diff.added, diff.removed) == (5, 2)


def test_punctuation_is_its_own_token():
    assert shown("a fox in a forest", "a fox in a forest, at dawn.") == (
        "a fox in a forest{+, at dawn.+}"
    )
    diff = diff_prompts("a fox in a forest", "a fox in a forest, at dawn.")
    assert (diff.added, diff.removed) == (2, 0)  # the comma and the stop are not words
    assert shown("a cat!", "a cat?") == "a cat[-!-]{+?+}"


def test_identical_prompts_have_no_changes():
    diff = diff_prompts("A lighthouse at dawn", "A lighthouse  at dawn")  # spacing is not a word
    assert diff.identical and (diff.added, diff.removed) == (0, 0)
    assert shown("A lighthouse at dawn", "A lighthouse at dawn") == "A lighthouse at dawn"


def test_empty_sides():
    assert diff_prompts("", "").pieces == ()
    assert diff_prompts("", "").identical
    assert shown("", "a fox") == "{+a fox+}"
    assert shown("a fox", "") == "[-a fox-]"
    assert diff_prompts("   ", "a fox").added == 2


def test_markup_in_a_prompt_is_plain_text_here():
    """The pieces are the characters typed; escaping them is the drawing's job."""
    diff = diff_prompts("a <b>fox</b>", "a <b>red fox</b> ![x](http://e.x/)")
    joined = "".join(piece.text for piece in diff.pieces)
    assert "<" in joined and "![" in joined
