"""Editing a gallery image through AppTest: the edit is stored derived from its parent and
shown beside it, the lineage reads both ways, a failure keeps what was typed."""

from __future__ import annotations

import pytest

from demo.providers.openai_images import image_handler
from services.storage.image_edits import ImageEdits
from tests.app.conftest import new_app
from tests.app.test_gallery_page import Seeder, gallery, lane, rerun, texts


@pytest.fixture
def seed(app_env, fake_openai) -> Seeder:
    fake_openai.image_handler = image_handler
    return Seeder(app_env)


def open_detail(at, image_id: str):
    at.button(key=f"gallery_open_{image_id}").click()
    return rerun(at)


def edit(at, image_id: str, instruction: str):
    at.text_area(key=f"image_edit_gallery_{image_id}_instruction").input(instruction)
    at.button(key=f"image_edit_gallery_{image_id}_run").click()
    return rerun(at)


def test_an_edit_is_stored_beside_its_parent_and_linked_both_ways(seed):
    parent = seed.images.get_run(seed.run("a red fox", lane())).lanes[0].image_ids[0]
    at = open_detail(gallery(), parent)
    edit(at, parent, "give the fox a blue hat")
    assert seed.images.count() == 2
    child = next(t.id for t in seed.images.list_thumbnails() if t.id != parent)
    assert seed.images.get_image(child).prompt == "give the fox a blue hat"
    assert "Edits of this image" in texts(at)  # the parent's detail lists its edit
    at.button(key=f"image_edit_lineage_child_{child}").click()
    rerun(at)
    assert "Derived from" in texts(at)
    assert "give the fox a blue hat" in texts(at)


def test_a_deleted_parent_leaves_the_edit_saying_so(seed, fake_openai):
    parent = seed.images.get_run(seed.run("a red fox", lane())).lanes[0].image_ids[0]
    edit(open_detail(gallery(), parent), parent, "make it night")
    child = next(t.id for t in seed.images.list_thumbnails() if t.id != parent)
    seed.images.delete([parent])
    at = open_detail(gallery(), child)
    assert "the parent is gone" in texts(at)


def test_a_failed_edit_keeps_the_instruction_and_stores_nothing(seed, fake_openai):
    parent = seed.images.get_run(seed.run("a red fox", lane())).lanes[0].image_ids[0]
    fake_openai.set_fault("insufficient_quota", endpoint="edits")
    at = edit(open_detail(gallery(), parent), parent, "make it night")
    assert at.error and "credit" in at.error[0].value.lower()
    assert "kept" in texts(at)
    assert at.text_area(key=f"image_edit_gallery_{parent}_instruction").value == "make it night"
    assert seed.images.count() == 1


def test_an_empty_instruction_is_not_sent(seed, fake_openai):
    parent = seed.images.get_run(seed.run("a red fox", lane())).lanes[0].image_ids[0]
    at = edit(open_detail(gallery(), parent), parent, "   ")
    assert "Say what should change first." in texts(at)
    assert len(fake_openai.edits) == 0


def test_a_compare_lane_result_can_be_edited(seed):
    run_id = seed.run("a lighthouse at dusk", lane())
    parent = seed.images.get_run(run_id).lanes[0].image_ids[0]
    at = new_app(run=run_id).run()
    at.switch_page("app_pages/compare.py").run()
    at.query_params["run"] = run_id
    rerun(at)
    at.text_area(key=f"image_edit_compare_{parent}_instruction").input("add a storm")
    at.button(key=f"image_edit_compare_{parent}_run").click()
    rerun(at)
    assert seed.images.count() == 2
    child = next(t.id for t in seed.images.list_thumbnails() if t.id != parent)
    assert ImageEdits(seed.images).parent_of(child) == parent
    assert any(link.label == "Open the edit in the gallery" for link in at.get("page_link"))


def test_a_flagged_instruction_is_held_before_paying_until_approved(seed, fake_openai, monkeypatch):
    monkeypatch.setenv("MODERATION_CHECK", "1")
    parent = seed.images.get_run(seed.run("a red fox", lane())).lanes[0].image_ids[0]
    at = edit(open_detail(gallery(), parent), parent, "FLAGME a fox")
    assert "Held before paying" in texts(at)
    assert len(fake_openai.edits) == 0 and seed.images.count() == 1
    at.button(key=f"moderation_proceed_edit_{parent}").click()
    rerun(at)
    assert len(fake_openai.edits) == 1 and seed.images.count() == 2
    assert at.text_area(key=f"image_edit_gallery_{parent}_instruction").value == "FLAGME a fox"
