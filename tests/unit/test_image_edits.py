"""Image edits: the provider (``images.edit`` through the real SDK against the fake) and the
workflow (lineage, owner isolation, limits before sending, files refused before paying)."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image

from services.app_services import build_services
from services.budget import LimitExceeded
from services.comparison import ComparisonSpec, LaneSpec
from services.errors import ChatCanvasError, ErrorKind
from services.i18n import Translator
from services.image_edits import EditAsk, edit_error_text
from services.images.edits import EditRequest, OpenAIImageEditor
from services.settings import Limits, Mode, Secret, Settings
from tests.conftest import OWNER
from tests.fakes.openai_server import FAKE_KEY


def png(size=(1024, 1024), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def fakes(image_servers):
    images, openai_fake, _ = image_servers
    images.calls.clear()
    images.set_fault(None)
    openai_fake.clear_faults()
    openai_fake.edits.clear()
    return images, openai_fake


@pytest.fixture
def settings(fakes, tmp_path) -> Settings:
    return Settings(
        openai_api_key=Secret(FAKE_KEY),
        openai_base_url=fakes[1].base_url,
        database_url=f"sqlite:///{tmp_path}/e.db",
    )


@pytest.fixture
def services(settings, catalog):
    return build_services(settings, OWNER, catalog=catalog)


def a_stored_image(services) -> str:
    lane = LaneSpec("openai", "gpt-image-2", quality="low", size="1024x1024")
    run = services.comparisons.run(ComparisonSpec("a red fox", (lane,))).run
    return run.lanes[0].image_ids[0]


def test_the_editor_sends_the_image_references_and_mask_and_prices_the_input(settings, fakes):
    _, openai_fake = fakes
    editor = OpenAIImageEditor(settings, timeout=10.0, max_retries=0)
    request = EditRequest(
        "put a hat on it",
        "gpt-image-2",
        png(),
        mask=png(mode="RGBA"),
        references=(("hat.png", png((64, 64))),),
        quality="low",
    )
    result = editor.edit(request)
    call = openai_fake.edits[-1]
    assert [f.name for f in call.images] == ["image[]", "image[]"] and call.mask is not None
    assert call.fields["prompt"] == "put a hat on it" and call.fields["quality"] == "low"
    assert (
        result.params["image"] == ["image.png", "hat.jpg"] and result.params["mask"] == "mask.png"
    )
    assert result.usage["input_tokens_details"]["image_tokens"] > 0
    assert result.cost_usd and result.cost_usd > 0
    # the input image tokens are priced (at the image-input rate): more input, more cost
    alone = editor.edit(replace(request, mask=None, references=()))
    assert alone.cost_usd < result.cost_usd


@pytest.mark.parametrize(
    ("mask", "code"),
    [
        (png((512, 512), mode="RGBA"), "mask_size"),
        (png(mode="RGB"), "mask_alpha"),
        (b"\xff\xd8\xff not a png", "mask_type"),
    ],
)
def test_a_mask_the_api_would_refuse_is_refused_before_sending(settings, fakes, mask, code):
    _, openai_fake = fakes
    editor = OpenAIImageEditor(settings, timeout=10.0, max_retries=0)
    with pytest.raises(ChatCanvasError) as info:
        editor.edit(EditRequest("x", "gpt-image-2", png(), mask=mask))
    assert info.value.kind is ErrorKind.ATTACHMENT_REFUSED and info.value.code == code
    assert len(openai_fake.edits) == 0


def test_hostile_or_too_many_inputs_are_refused_before_sending(settings, fakes):
    _, openai_fake = fakes
    editor = OpenAIImageEditor(settings, timeout=10.0, max_retries=0)
    for refs, code in (
        ((("x.png", b"\x89PNG\r\n\x1a\nbroken"),), "unreadable"),
        ((("x.txt", b"hello"),), "type"),
        (tuple((f"{i}.png", png((8, 8))) for i in range(16)), "too_many_inputs"),
    ):
        with pytest.raises(ChatCanvasError) as info:
            editor.edit(EditRequest("x", "gpt-image-2", png(), references=refs))
        assert info.value.code == code
    assert len(openai_fake.edits) == 0


def test_the_provider_s_errors_map_to_error_kinds(settings, fakes):
    _, openai_fake = fakes
    openai_fake.set_fault("insufficient_quota", endpoint="edits", times=1)
    editor = OpenAIImageEditor(settings, timeout=10.0, max_retries=0)
    with pytest.raises(ChatCanvasError) as info:
        editor.edit(EditRequest("x", "gpt-image-2", png((64, 64))))
    assert info.value.kind is ErrorKind.NO_CREDIT


def test_an_edit_is_stored_derived_from_its_parent(services, fakes):
    parent = a_stored_image(services)
    edits = services.image_edits()
    saved = edits.edit(EditAsk(parent, "make it blue", quality="low"))
    child = services.images.get_image(saved.image_ids[0])
    assert child is not None and child.prompt == "make it blue"
    lineage = edits.lineage(child.id)
    assert lineage.parent_id == parent and lineage.parent is not None
    assert not lineage.parent_gone
    assert [t.id for t in edits.lineage(parent).edits] == [child.id]
    # its cost is in the ledger like any image call
    assert services.images.cost_ledger()[0].images == 2


def test_a_deleted_parent_leaves_the_edit_saying_the_parent_is_gone(services, fakes):
    parent = a_stored_image(services)
    edits = services.image_edits()
    child = edits.edit(EditAsk(parent, "make it blue", quality="low")).image_ids[0]
    services.images.delete([parent])
    lineage = edits.lineage(child)
    assert lineage.parent_id == parent and lineage.parent is None and lineage.parent_gone
    assert services.images.get_image(child) is not None


def test_another_owner_s_image_answers_like_a_missing_one(services, settings, catalog, fakes):
    _, openai_fake = fakes
    parent = a_stored_image(services)
    child = services.image_edits().edit(EditAsk(parent, "blue", quality="low")).image_ids[0]
    other = build_services(settings, "owner-b", catalog=catalog).image_edits()
    errors = []
    for image_id in (parent, "no-such-image"):
        with pytest.raises(ChatCanvasError) as info:
            other.edit(EditAsk(image_id, "steal it"))
        errors.append((info.value.kind, info.value.detail))
    assert errors[0] == errors[1]
    assert other.lineage(child).parent_id is None and other.lineage(parent).edits == ()
    assert len(openai_fake.edits) == 1


def test_an_edit_past_the_budget_sends_and_stores_nothing(settings, catalog, fakes):
    _, openai_fake = fakes
    local = build_services(settings, OWNER, catalog=catalog)
    parent = a_stored_image(local)
    shared = replace(
        settings,
        mode=Mode.SHARED,
        limits=Limits(daily_budget_usd=0.0001),
        sources={"OPENAI_API_KEY": "secrets"},
    )
    services = build_services(shared, OWNER, catalog=catalog)
    with pytest.raises(LimitExceeded):
        services.image_edits().edit(EditAsk(parent, "make it blue"))
    assert len(openai_fake.edits) == 0 and services.images.count() == 1


@pytest.mark.parametrize(
    "code", ["mask_size", "mask_alpha", "mask_type", "input_type", "type", "too_many_inputs"]
)
def test_refusals_read_as_sentences_in_both_languages(code):
    err = ChatCanvasError(ErrorKind.ATTACHMENT_REFUSED, "m", param="mask.png", code=code)
    texts = [edit_error_text(err, Translator(lang)) for lang in ("en", "ko")]
    assert texts[0] != texts[1]
    for text in texts:
        assert "mask.png" in text and "edits." not in text
