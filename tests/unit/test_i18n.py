"""UI strings: English and Korean stay in step; the translator falls back visibly."""

from __future__ import annotations

import json
import string

import pytest

from services.errors import ErrorKind
from services.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LOCALES_DIR,
    PLURAL_FORMS,
    Translator,
    _flatten,
    language_from_locale,
    load_strings,
    plural_form,
)

# The "Custom" system-prompt preset starts empty on purpose; every other string has text.
INTENTIONALLY_EMPTY = {"chat.presets.custom.prompt"}


def locale_files(lang: str) -> dict[str, dict[str, object]]:
    """{file stem: flattened raw values} for one language, read straight from disk."""
    out = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        out[path.stem] = _flatten_raw(json.loads(path.read_text(encoding="utf-8")))
    return out


def _flatten_raw(data: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten_raw(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


ALL_FORMS = {form for forms in PLURAL_FORMS.values() for form in forms}


def unpluralized(keys, lang: str) -> set[str]:
    """Keys with each plural family (``x_one``, ``x_other``) as its base ``x``, after checking
    the family has exactly the forms ``lang`` needs."""
    out, families = set(), {}
    for key in keys:
        base, _, form = key.rpartition("_")
        if form in ALL_FORMS:
            families.setdefault(base, set()).add(form)
        else:
            out.add(key)
    for base, forms in families.items():
        assert forms == set(PLURAL_FORMS[lang]), f"{lang}: {base} has plural forms {forms}"
    return out | set(families)


EN = locale_files("en")
KO = locale_files("ko")


# -- the locale files ----------------------------------------------------------------------
def test_both_languages_have_the_same_files():
    assert set(EN) == set(KO)
    assert EN, "no locale files found"
    assert set(LANGUAGES) == {"en", "ko"}


@pytest.mark.parametrize("stem", sorted(EN))
def test_same_keys_in_every_file(stem):
    en, ko = unpluralized(EN[stem], "en"), unpluralized(KO.get(stem, {}), "ko")
    missing_in_ko = sorted(en - ko)
    missing_in_en = sorted(ko - en)
    assert missing_in_ko == [], f"{stem}.json: keys missing in ko"
    assert missing_in_en == [], f"{stem}.json: keys missing in en"


@pytest.mark.parametrize("stem", sorted(EN))
def test_every_value_is_a_string(stem):
    for lang, files in (("en", EN), ("ko", KO)):
        for key, value in files[stem].items():
            assert isinstance(value, str), f"{lang}/{stem}.json {key}: {value!r}"


@pytest.mark.parametrize("stem", sorted(EN))
def test_same_placeholders_per_key(stem):
    for key, en_text in EN[stem].items():
        ko_text = KO[stem].get(key)
        if key.endswith("_one"):  # Korean has no singular: compare with the one form it has
            ko_text = KO[stem].get(key.removesuffix("_one") + "_other")
        if isinstance(en_text, str) and isinstance(ko_text, str):
            assert placeholders(en_text) == placeholders(ko_text), f"{stem}.{key}"


@pytest.mark.parametrize("stem", sorted(EN))
def test_no_empty_strings(stem):
    for lang, files in (("en", EN), ("ko", KO)):
        for key, value in files[stem].items():
            if f"{stem}.{key}" in INTENTIONALLY_EMPTY:
                continue
            assert isinstance(value, str) and value.strip(), f"{lang}/{stem}.json {key} is empty"


def test_the_intentionally_empty_strings_exist():
    for full_key in INTENTIONALLY_EMPTY:
        stem, key = full_key.split(".", 1)
        assert EN[stem][key] == "" and KO[stem][key] == ""


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_formats_with_its_placeholders(lang):
    # A stray brace would make t(key, **values) fall back to the raw text at run time.
    for text in load_strings(lang).values():
        values = dict.fromkeys(placeholders(text), 1)  # numbers fit {n}, {n:,} and {n:.1f}
        if values:
            text.format(**values)


def test_every_error_kind_has_a_sentence_in_both_languages():
    for lang in LANGUAGES:
        strings = load_strings(lang)
        for kind in ErrorKind:
            assert strings.get(f"errors.{kind}", "").strip(), f"{lang}: errors.{kind}"


def test_korean_is_actually_korean():
    ko = load_strings("ko")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko["errors.no_credit"])
    assert ko["errors.no_credit"] != load_strings("en")["errors.no_credit"]


# -- load_strings --------------------------------------------------------------------------
def test_load_strings_flattens_files_into_dotted_keys(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "area.json").write_text(
        json.dumps({"a": "A", "nested": {"b": "B", "deeper": {"c": "C"}}}), encoding="utf-8"
    )
    (tmp_path / "en" / "other.json").write_text(json.dumps({"x": "X"}), encoding="utf-8")
    assert load_strings("en", tmp_path) == {
        "area.a": "A",
        "area.nested.b": "B",
        "area.nested.deeper.c": "C",
        "other.x": "X",
    }


def test_flatten():
    assert _flatten({"a": {"b": "c"}, "d": "e"}, "f.") == {"f.a.b": "c", "f.d": "e"}


# -- language_from_locale ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("locale", "lang"),
    [
        ("ko-KR", "ko"),
        ("ko_KR", "ko"),
        ("KO", "ko"),
        ("ko", "ko"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr-FR", "en"),
        ("ja", "en"),
        ("", "en"),
        (None, "en"),
        ("-", "en"),
    ],
)
def test_language_from_locale(locale, lang):
    assert language_from_locale(locale) == lang


# -- Translator ----------------------------------------------------------------------------
def test_translator_picks_the_language():
    assert Translator("ko")("common.save") == load_strings("ko")["common.save"]
    assert Translator("en")("common.save") == "Save"
    assert Translator("ko")("common.save") != Translator("en")("common.save")


def test_unknown_language_is_english():
    t = Translator("fr")
    assert t.lang == DEFAULT_LANGUAGE
    assert t("common.save") == "Save"


def test_unknown_key_shows_the_key():
    for lang in LANGUAGES:
        t = Translator(lang)
        assert t("chat.no_such_key") == "chat.no_such_key"
        assert not t.has("chat.no_such_key")


def test_a_key_missing_in_korean_falls_back_to_english(monkeypatch):
    ko = load_strings("ko")  # the cached dict the translator reads
    monkeypatch.delitem(ko, "common.save")
    t = Translator("ko")
    assert t("common.save") == "Save"
    assert t.has("common.save")


def test_placeholders_are_filled():
    t = Translator("en")
    assert t("common.tokens", prompt=12, completion=3) == "12 in · 3 out"
    ko = Translator("ko")("common.tokens", prompt=12, completion=3)
    assert "12" in ko and "3" in ko and "{" not in ko


def test_missing_placeholder_values_give_the_raw_text_not_a_crash():
    t = Translator("en")
    raw = load_strings("en")["common.tokens"]
    assert t("common.tokens", prompt=1) == raw
    assert t("common.tokens") == raw  # no values: nothing to fill


def test_extra_values_are_ignored():
    assert Translator("en")("common.save", unused=1) == "Save"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_defined_empty_string_is_returned_as_it_is(lang):
    key = "chat.presets.custom.prompt"
    assert Translator(lang)(key) == load_strings(lang)[key]


# -- plural forms ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "count", "text"),
    [
        ("gallery.deleted", 1, "Deleted 1 image."),
        ("gallery.deleted", 2, "Deleted 2 images."),
        ("gallery.deleted", 0, "Deleted 0 images."),
        ("gallery.deleted", 1234, "Deleted 1,234 images."),
        ("errors.rate_limit_after", 1, "Retry in about 1 second."),
        ("errors.rate_limit_after", 30, "Retry in about 30 seconds."),
        ("settings.connected", 1, "Connected: 1 model available"),
        ("chat.show_earlier", 1, "Show 1 earlier message"),
        ("images.gallery.count", 1, "1 image"),
    ],
)
def test_english_counts_agree_with_their_number(key, count, text):
    assert text in Translator("en")(key, count=count)


@pytest.mark.parametrize("count", [0, 1, 2, 1234])
def test_korean_has_one_form_for_every_number(count):
    t = Translator("ko")
    assert t("gallery.deleted", count=count) == f"이미지 {count:,}장을 삭제했습니다."


def test_chat_totals_read_as_one_message_or_many():
    t = Translator("en")
    values = {"prompt": "5", "completion": "7", "cost": "$0.01"}
    assert t("chat.totals", count=1, **values).startswith("1 message ·")
    assert t("chat.totals", count=2, **values).startswith("2 messages ·")


def test_plural_form():
    assert [plural_form("en", n) for n in (0, 1, 2, 1.5)] == ["other", "one", "other", "other"]
    assert plural_form("ko", 1) == "other"


def test_a_text_without_plural_forms_takes_a_count_as_it_is():
    assert Translator("en")("shares.panel", count=1) == "Shared links (1)"


def test_a_plural_family_missing_in_korean_falls_back_to_english(monkeypatch):
    ko = load_strings("ko")
    monkeypatch.delitem(ko, "gallery.deleted_other")
    assert Translator("ko")("gallery.deleted", count=3) == "Deleted 3 images."
