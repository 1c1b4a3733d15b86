"""The safety check before paying: the moderation service against the fake OpenAI API's
``/v1/moderations``, the setting's default per mode, the categories' wording."""

from __future__ import annotations

import io

import openai
import pytest
from PIL import Image

from services.budget import Budget
from services.comparison import ComparisonService, ComparisonSpec, LaneSpec, moderation_inputs
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.images import make_provider
from services.ledger import CostLedger
from services.moderation import CATEGORIES, ModerationService, ModerationVerdict, category_key
from services.settings import Mode, resolve_settings
from services.storage.images import ImageStore
from services.storage.usage import UsageStore
from services.wording import moderation_categories
from tests.conftest import FAKE_KEY, OWNER, TEST_TIMEOUT
from tests.fakes.openai_moderation import FLAGGED_COLOUR


@pytest.fixture
def usage(db) -> UsageStore:
    return UsageStore(db, OWNER)


@pytest.fixture
def moderation(settings, catalog, usage) -> ModerationService:
    budget = Budget(settings, usage, catalog)
    return ModerationService(settings, catalog, budget=budget, timeout=TEST_TIMEOUT, max_retries=0)


def moderation_requests(fake):
    return [r for r in fake.requests if r.path.endswith("/moderations")]


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


# -- the service ---------------------------------------------------------------------------
def test_a_clean_prompt_passes_and_is_sent_to_the_catalog_model(fake, moderation):
    verdict = moderation.check_texts(["a cat on a sofa", "  "])
    assert not verdict.flagged and verdict.categories == ()
    sent = moderation_requests(fake)[0].body
    assert sent == {"input": ["a cat on a sofa"], "model": "omni-moderation-latest"}


def test_a_flagged_prompt_names_its_categories(fake, moderation):
    verdict = moderation.check_texts(["a calm lake", "FLAGME:hate FLAGME:self-harm/intent"])
    assert verdict.flagged
    assert verdict.categories == ("hate", "self-harm/intent")
    assert verdict.inputs == ("a calm lake", "FLAGME:hate FLAGME:self-harm/intent")


def test_an_image_is_sent_as_a_data_url(fake, moderation):
    assert moderation.check_image(png(FLAGGED_COLOUR), "image/png").categories == (
        "violence/graphic",
    )
    assert not moderation.check_image(png((0, 128, 0)), "image/png").flagged
    part = moderation_requests(fake)[0].body["input"][0]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/png;base64,")


def test_each_check_is_in_the_ledger_at_no_cost(fake, moderation, db, store, usage):
    moderation.check_texts(["one"])
    moderation.check_texts(["FLAGME two"])
    day = CostLedger(store, ImageStore(db, OWNER), usage).days()[0]
    assert day.chat_calls == 2 and day.total_usd == 0 and not day.estimate


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("invalid_key", ErrorKind.INVALID_KEY),
        ("rate_limit", ErrorKind.RATE_LIMIT),
        ("bad_input", ErrorKind.BAD_REQUEST),
        ("timeout", ErrorKind.TIMEOUT),
    ],
)
def test_failures_are_typed_and_not_recorded(fake, moderation, usage, fault, kind):
    fake.set_fault(fault, endpoint="moderations")
    with pytest.raises(ChatCanvasError) as caught:
        moderation.check_texts(["a cat"])
    assert caught.value.kind is kind
    assert FAKE_KEY not in str(caught.value)
    assert usage.cost_by_day() == []


def test_nothing_to_check_is_refused_before_sending(fake, moderation):
    with pytest.raises(ChatCanvasError) as caught:
        moderation.check_texts(["", "   "])
    assert caught.value.kind is ErrorKind.EMPTY_INPUT
    assert moderation_requests(fake) == []


def test_a_verdict_kept_in_params_reads_back(moderation):
    verdict = ModerationVerdict(True, ("violence",), "omni-moderation-latest")
    params = {"size": "1024x1024", "moderation": verdict.as_params()}
    assert ModerationVerdict.from_params(params) == verdict
    assert ModerationVerdict.from_params({"size": "1024x1024"}) is None


# -- the fake speaks the SDK's types ---------------------------------------------------------
def test_the_fake_answers_in_openais_shape(fake):
    client = openai.OpenAI(api_key=FAKE_KEY, base_url=fake.base_url, max_retries=0)
    answer = client.moderations.create(input="FLAGME", model="omni-moderation-latest")
    result = answer.results[0]
    assert result.flagged and result.categories.violence and result.categories.harassment
    assert result.category_scores.violence > 0.5 > result.category_scores.hate
    assert result.category_applied_input_types.violence == ["text"]
    with pytest.raises(openai.NotFoundError):
        client.moderations.create(input="x", model="gpt-5.4-mini")


# -- comparisons -----------------------------------------------------------------------------
def test_a_comparison_checks_the_prompt_and_the_english_karlo_sends(
    fake, settings, catalog, moderation, db, usage
):
    service = ComparisonService(
        ImageStore(db, OWNER),
        Budget(settings, usage, catalog),
        lambda name: make_provider(name, settings),
        catalog,
        moderation=moderation,
    )
    lanes = (LaneSpec("openai", "gpt-image-2"), LaneSpec("karlo", "karlo-v2.1"))
    spec = ComparisonSpec("고양이 FLAGME", lanes, english_prompt="a cat")
    assert moderation_inputs(spec, also=["an idea"]) == ("고양이 FLAGME", "a cat", "an idea")
    assert service.check(spec).flagged
    assert moderation_requests(fake)[0].body["input"] == ["고양이 FLAGME", "a cat"]
    openai_only = ComparisonSpec("a dog", lanes[:1], english_prompt="ignored")
    assert moderation_inputs(openai_only) == ("a dog",)
    assert not [r for r in fake.requests if "/images/" in r.path]


# -- the setting and the wording -------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        (Mode.LOCAL, None, False),
        (Mode.SHARED, None, True),
        (Mode.LOCAL, "on", True),
        (Mode.SHARED, "off", False),
        (Mode.SHARED, True, True),
    ],
)
def test_the_setting_defaults_on_when_shared_and_off_locally(mode, value, expected):
    secrets = {} if value is None else {"MODERATION_CHECK": value}
    assert resolve_settings(secrets=secrets, mode=mode).moderation_check is expected


def test_a_visitor_cannot_switch_the_deployers_setting_from_the_sidebar():
    settings = resolve_settings(sidebar={"MODERATION_CHECK": "off"}, mode=Mode.SHARED)
    assert settings.moderation_check


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_category_has_its_own_words(lang):
    t = Translator(lang)
    words = [t(category_key(c)) for c in CATEGORIES]
    assert all(w and not w.startswith("moderation.") for w in words)
    assert len(set(words)) == len(CATEGORIES)


def test_categories_read_in_the_users_language():
    assert moderation_categories(("violence", "self-harm/intent"), Translator("en")) == (
        "violence, intent of self-harm"
    )
    assert moderation_categories(("violence", "hate"), Translator("ko")) == "폭력, 혐오"
    assert moderation_categories(("new/one",), Translator("en")) == "another category"
