"""An edit of a gallery image in a real browser against the fake OpenAI API: instruction and
mask in the detail view, the edit stored and linked to its parent both ways."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage import open_database
from services.storage.images import ImageStore

pytestmark = pytest.mark.e2e


def png(mode: str, colour: tuple) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (64, 64), colour).save(out, format="PNG")
    return out.getvalue()


def seeded_image(data_dir) -> str:
    """One gallery image, written to the database the running app reads."""
    db = open_database(f"sqlite:///{data_dir}/chatcanvas.db")
    try:
        result = ImageResult(
            "openai",
            "gpt-image-2",
            (GeneratedImage(png("RGB", (200, 80, 40)), "image/png"),),
            params={"model": "gpt-image-2"},
            cost_usd=0.01,
        )
        store = ImageStore(db, "local")
        run = store.save_run(
            "an orange lighthouse", [(ImageRequest("an orange lighthouse", "gpt-image-2"), result)]
        )
        return run.lanes[0].image_ids[0]
    finally:
        db.engine.dispose()


def open_expander(dialog, box) -> None:
    """Open "Edit this image" (again, if a rerun as the dialog opened closed it)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _attempt in range(3):
        dialog.get_by_text("Edit this image").click()
        try:
            box.wait_for(state="visible", timeout=5_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("the edit panel does not open")


def test_an_edit_of_a_gallery_image_is_linked_to_its_parent(
    page, running_app, fake_openai, data_dir, tmp_path
):
    parent = seeded_image(data_dir)
    mask = tmp_path / "mask.png"
    mask.write_bytes(png("RGBA", (0, 0, 0, 0)))
    page.goto(running_app.url + "gallery")
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=30_000)
    page.goto(running_app.url + f"gallery?image={parent}")
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    box = dialog.locator(f".st-key-image_edit_gallery_{parent}_instruction textarea")
    open_expander(dialog, box)
    box.fill("paint the lighthouse blue")
    box.press("Control+Enter")
    dialog.locator(f".st-key-image_edit_gallery_{parent}_mask input[type=file]").set_input_files(
        str(mask)
    )
    dialog.get_by_text("The mask mask.png goes with the edit.").wait_for(timeout=20_000)
    dialog.get_by_role("button", name="Make the edit").click()
    # the parent's detail lists its edit, shown beside it
    dialog.get_by_text("Edits of this image").wait_for(timeout=30_000)
    dialog.get_by_role("img").nth(2).wait_for(timeout=20_000)
    call = fake_openai.edits[-1]
    assert call.fields["prompt"] == "paint the lighthouse blue"
    assert call.mask is not None and call.mask.filename == "mask.png"
    # the edit's own detail says what it was derived from
    dialog.get_by_role("button", name="paint the lighthouse blue").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Derived from").wait_for(timeout=30_000)
    dialog.get_by_role("button", name="an orange lighthouse").wait_for(timeout=20_000)
