"""Model catalog: specs, prices, live list merging, defaults, per-model parameters."""

from __future__ import annotations

from datetime import date

import pytest

from services.catalog import Catalog, LiveModel, Price, Status, load_catalog, parse_date
from services.chat import ChatOptions, build_params

TODAY = date(2026, 11, 21)  # fixed, so the statuses below do not drift with the calendar

# The fake server's /v1/models, as ChatService.list_models returns it.
FAKE_LIVE = [
    LiveModel("gpt-5.4-mini"),
    LiveModel("gpt-5.4"),
    LiveModel("gpt-5-mini", date(2026, 12, 11)),
    LiveModel("gpt-4o-mini", date(2027, 1, 14)),
    LiveModel("gpt-4.1-mini", date(2027, 1, 14)),
    LiveModel("gpt-3.5-turbo", date(2026, 10, 23)),
    LiveModel("text-embedding-3-small"),
    LiveModel("gpt-image-2"),
]


def tiny(models: dict, default_chat: str = "chat-b", default_image: str = "img-a") -> Catalog:
    return Catalog(
        {
            "prices_read": "2026-11-01",
            "default_chat_model": default_chat,
            "default_image_model": default_image,
            "models": models,
        }
    )


def ids(specs) -> list[str]:
    return [s.id for s in specs]


# -- the data file -------------------------------------------------------------------------
def test_data_file_loads_and_its_defaults_are_usable(catalog):
    assert load_catalog() is catalog  # read once per process
    assert catalog.prices_read == "2026-11-01"
    chat_default = catalog.spec(catalog.default_chat_model)
    image_default = catalog.spec(catalog.default_image_model)
    assert chat_default.known and chat_default.kind == "chat"
    assert image_default.known and image_default.kind == "image"
    read = date.fromisoformat(catalog.prices_read)
    assert chat_default.status(read) is not Status.RETIRED
    assert image_default.status(read) is not Status.RETIRED


def test_every_known_chat_model_has_a_context_window(catalog):
    for model_id in catalog.known_ids("chat"):
        spec = catalog.spec(model_id)
        assert spec.context_window and spec.context_window > 0, model_id


@pytest.mark.parametrize(
    ("model_id", "shutdown"),
    [
        ("gpt-3.5-turbo", "2026-10-23"),
        ("gpt-4", "2026-10-23"),
        ("o1", "2026-10-23"),
        ("gpt-5", "2026-12-11"),
        ("o3", "2026-12-11"),
        ("gpt-4o", "2027-01-14"),
        ("gpt-4.1-mini", "2027-01-14"),
        ("dall-e-3", "2026-05-12"),
        ("gpt-image-1", "2026-10-23"),
    ],
)
def test_shutdown_dates_match_the_provider_notes(catalog, model_id, shutdown):
    assert catalog.spec(model_id).shutdown_date == date.fromisoformat(shutdown)


# -- spec ----------------------------------------------------------------------------------
def test_dated_snapshot_inherits_the_alias_spec(catalog):
    alias = catalog.spec("gpt-4o-mini")
    snap = catalog.spec("gpt-4o-mini-2024-07-18")
    assert snap.id == "gpt-4o-mini-2024-07-18"
    assert snap.known
    assert (snap.kind, snap.reasoning, snap.context_window, snap.price, snap.shutdown_date) == (
        alias.kind,
        alias.reasoning,
        alias.context_window,
        alias.price,
        alias.shutdown_date,
    )
    assert catalog.spec("o3-2025-04-16").reasoning
    assert catalog.spec("gpt-5.4-mini-2026-03-17").token_limit_param == "max_completion_tokens"


def test_unknown_ids_are_permissive_chat_without_price(catalog):
    spec = catalog.spec("llama3.1:8b")
    assert spec.kind == "chat"
    assert not spec.known
    assert not spec.reasoning
    assert spec.price is None
    assert spec.context_window is None
    assert spec.cost(1000, 1000) is None


def test_unknown_image_ids_are_image(catalog):
    assert catalog.spec("gpt-image-9").kind == "image"
    assert catalog.spec("gpt-image-9").family == "gpt-image"
    assert catalog.spec("dall-e-4").family == "dall-e"


def test_known_but_unpriced_model_costs_none(catalog):
    spec = catalog.spec("gpt-6.1-sol")
    assert spec.known
    assert spec.price is None
    assert spec.cost(10, 10) is None


# -- cost ----------------------------------------------------------------------------------
def test_cost_without_cached_tokens(catalog):
    spec = catalog.spec("gpt-4o-mini")  # 0.15 in, 0.6 out per 1M
    assert spec.cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert spec.cost(0, 0) == 0


def test_cost_with_cached_tokens_uses_the_cached_rate(catalog):
    spec = catalog.spec("gpt-4o-mini")  # cached 0.075
    # 600k uncached * 0.15 + 400k cached * 0.075 + 1M out * 0.6
    assert spec.cost(1_000_000, 1_000_000, cached_tokens=400_000) == pytest.approx(0.72)


def test_cached_tokens_without_a_cached_price_cost_the_input_rate(catalog):
    spec = catalog.spec("gpt-4-turbo")  # cached_input null
    assert spec.cost(1_000_000, 0, cached_tokens=500_000) == pytest.approx(10.0)


def test_cost_never_goes_negative_when_cached_exceeds_prompt():
    spec = tiny(
        {"m": {"kind": "chat", "price": {"input": 1.0, "cached_input": 0.5, "output": 2.0}}}
    )
    assert spec.spec("m").cost(100, 0, cached_tokens=200) == pytest.approx(200 * 0.5 / 1e6)


def test_price_is_read_from_the_file():
    cat = tiny({"m": {"kind": "chat", "price": {"input": 1.0, "output": 4.0}}})
    assert cat.spec("m").price == Price(1.0, 4.0, None)


# -- status, choices and default -----------------------------------------------------------
def test_status_by_date():
    cat = tiny({"m": {"kind": "chat", "shutdown_date": "2026-11-21"}, "n": {"kind": "chat"}})
    m = cat.spec("m")
    assert m.status(date(2026, 11, 20)) is Status.RETIRING
    assert m.status(date(2026, 11, 21)) is Status.RETIRED  # shut down on that day
    assert cat.spec("n").status(TODAY) is Status.CURRENT


def test_choices_from_the_live_list_exclude_other_kinds_and_order_by_status(catalog):
    choices = catalog.choices("chat", TODAY, FAKE_LIVE)
    assert ids(choices) == [
        # current, in the data file's order
        "gpt-5.4",
        "gpt-5.4-mini",
        # retiring
        "gpt-5-mini",
        "gpt-4.1-mini",
        "gpt-4o-mini",
        # retired last
        "gpt-3.5-turbo",
    ]
    assert [c.status(TODAY) for c in choices] == [Status.CURRENT] * 2 + [Status.RETIRING] * 3 + [
        Status.RETIRED
    ]


def test_image_choices_from_the_live_list(catalog):
    assert ids(catalog.choices("image", TODAY, FAKE_LIVE)) == ["gpt-image-2"]


@pytest.mark.parametrize(
    "model_id",
    [
        "text-embedding-3-small",
        "text-embedding-ada-002",
        "whisper-1",
        "tts-1-hd",
        "gpt-4o-mini-tts",
        "gpt-4o-transcribe",
        "gpt-4o-realtime-preview",
        "gpt-4o-audio-preview",
        "omni-moderation-latest",
        "davinci-002",
        "babbage-002",
        "sora-2",
        "gpt-4o-search-preview",
        "dall-e-3",
        "gpt-image-1.5",
    ],
)
def test_non_chat_ids_on_a_live_list_are_not_chat_choices(catalog, model_id):
    live = [LiveModel(model_id), LiveModel("gpt-5.4-mini")]
    assert ids(catalog.choices("chat", TODAY, live)) == ["gpt-5.4-mini"]


def test_unknown_chat_ids_on_a_live_list_are_offered_after_known_ones(catalog):
    live = [LiveModel("qwen3:8b"), LiveModel("gpt-5.4-mini"), LiveModel("llama3.1:8b")]
    choices = catalog.choices("chat", TODAY, live)
    assert ids(choices) == ["gpt-5.4-mini", "llama3.1:8b", "qwen3:8b"]
    assert choices[1].price is None


def test_live_shutdown_date_wins_over_the_file(catalog):
    live = [
        LiveModel("gpt-5.4", date(2026, 11, 1)),  # file: no date; live: already shut down
        LiveModel("gpt-4o", date(2027, 6, 1)),  # file: 2027-01-14; live: extended
        LiveModel("gpt-5.4-mini"),  # live has no date: the file's (none) stays
        LiveModel("gpt-4.1"),  # live has no date: the file's 2027-01-14 stays
    ]
    by_id = {c.id: c for c in catalog.choices("chat", TODAY, live)}
    assert by_id["gpt-5.4"].shutdown_date == date(2026, 11, 1)
    assert by_id["gpt-5.4"].status(TODAY) is Status.RETIRED
    assert by_id["gpt-4o"].shutdown_date == date(2027, 6, 1)
    assert by_id["gpt-4.1"].shutdown_date == date(2027, 1, 14)
    assert ids(catalog.choices("chat", TODAY, live))[-1] == "gpt-5.4"
    # the catalog itself is not changed by a live list
    assert catalog.spec("gpt-5.4").shutdown_date is None


def test_choices_without_a_live_list_come_from_the_file(catalog):
    choices = catalog.choices("chat", TODAY)
    assert set(ids(choices)) == set(catalog.known_ids("chat"))
    order = {Status.CURRENT: 0, Status.RETIRING: 1, Status.RETIRED: 2}
    ranks = [order[c.status(TODAY)] for c in choices]
    assert ranks == sorted(ranks)
    assert choices[-1].status(TODAY) is Status.RETIRED


def test_default_prefers_the_catalog_default(catalog):
    choices = catalog.choices("chat", TODAY, FAKE_LIVE)
    assert catalog.default("chat", choices, TODAY).id == "gpt-5.4-mini"
    images = catalog.choices("image", TODAY, FAKE_LIVE)
    assert catalog.default("image", images, TODAY).id == "gpt-image-2"


def test_default_falls_back_to_the_first_usable_choice(catalog):
    live = [LiveModel("gpt-3.5-turbo", date(2026, 10, 23)), LiveModel("gpt-4o-mini")]
    choices = catalog.choices("chat", TODAY, live)
    assert catalog.default("chat", choices, TODAY).id == "gpt-4o-mini"


def test_default_is_never_retired_even_when_it_is_the_catalog_default(catalog):
    live = [
        LiveModel("gpt-5.4-mini", date(2026, 11, 1)),  # the catalog default, retired live
        LiveModel("gpt-3.5-turbo", date(2026, 10, 23)),
        LiveModel("gpt-4.1-mini", date(2027, 1, 14)),
    ]
    choices = catalog.choices("chat", TODAY, live)
    assert catalog.default("chat", choices, TODAY).id == "gpt-4.1-mini"


def test_default_is_none_when_everything_is_retired(catalog):
    live = [LiveModel("gpt-3.5-turbo", date(2026, 10, 23)), LiveModel("o1")]
    choices = catalog.choices("chat", TODAY, live)
    assert len(choices) == 2
    assert catalog.default("chat", choices, TODAY) is None
    assert catalog.default("chat", [], TODAY) is None


def test_default_in_a_tiny_catalog():
    cat = tiny(
        {
            "chat-a": {"kind": "chat"},
            "chat-b": {"kind": "chat", "shutdown_date": "2026-01-01"},
            "img-a": {"kind": "image"},
        }
    )
    choices = cat.choices("chat", TODAY)
    assert ids(choices) == ["chat-a", "chat-b"]
    assert cat.default("chat", choices, TODAY).id == "chat-a"
    assert cat.default("image", cat.choices("image", TODAY), TODAY).id == "img-a"


# -- per-model parameters ------------------------------------------------------------------
@pytest.mark.parametrize("model_id", ["gpt-5.4-mini", "gpt-5", "o3", "o1", "gpt-6.1-sol"])
def test_reasoning_models_take_no_temperature_and_max_completion_tokens(catalog, model_id):
    spec = catalog.spec(model_id)
    assert spec.reasoning
    assert not spec.takes_temperature
    assert spec.token_limit_param == "max_completion_tokens"
    params = build_params(spec, ChatOptions(temperature=0.3, max_tokens=100))
    assert params == {"max_completion_tokens": 100}


@pytest.mark.parametrize("model_id", ["gpt-4o-mini", "gpt-4.1", "gpt-3.5-turbo", "llama3.1:8b"])
def test_other_models_take_temperature_and_max_tokens(catalog, model_id):
    spec = catalog.spec(model_id)
    assert not spec.reasoning
    assert spec.takes_temperature
    assert spec.token_limit_param == "max_tokens"
    params = build_params(spec, ChatOptions(temperature=0.3, max_tokens=100))
    assert params == {"temperature": 0.3, "max_tokens": 100}


def test_unset_options_are_not_sent(catalog):
    assert build_params(catalog.spec("gpt-4o-mini"), ChatOptions()) == {}
    assert build_params(catalog.spec("gpt-4o-mini"), ChatOptions(temperature=0.0)) == {
        "temperature": 0.0
    }
    assert build_params(catalog.spec("gpt-5.4-mini"), ChatOptions(temperature=0.0)) == {}


# -- parse_date ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-11", date(2026, 12, 11)),
        ("2026-12-11T00:00:00Z", date(2026, 12, 11)),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected
