"""Compare and the gallery as a person sees them (issue 13): tiles of one height whose
thumbnail opens the detail, labels that are not cut, and Compare on a 390 px phone."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage import open_database
from services.storage.images import ImageStore

pytestmark = pytest.mark.e2e
TILE = '[class*="st-key-gallery_tile_"]'


def picture(width: int, height: int, shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(running_app, data_dir):
    """Images of different shapes, long and short prompts, one flagged, in the app's database."""
    store = ImageStore(open_database(f"sqlite:///{data_dir}/chatcanvas.db"), "local")
    shapes = [(512, 128, "A fox"), (128, 512, "A very long prompt " * 12), (256, 256, "Sea")]
    for n, (width, height, prompt) in enumerate(shapes):
        image = GeneratedImage(picture(width, height, 40 * n), "image/png", nsfw=n == 2)
        result = ImageResult("karlo", "karlo-v2.1", (image,), params={}, latency_ms=800)
        store.save_run(prompt, [(ImageRequest(prompt, "karlo-v2.1"), result)])
    openai = GeneratedImage(picture(300, 200, 200), "image/png")
    result = ImageResult("openai", "gpt-image-1.5-2025-12-16", (openai,), params={})
    store.save_run("A lighthouse", [(ImageRequest("A lighthouse", result.model), result)])
    return running_app


def one_line(locator) -> bool:
    return locator.evaluate(
        "p => p.getBoundingClientRect().height < 1.6 * parseFloat(getComputedStyle(p).lineHeight)"
    )


def test_gallery_tiles_are_even_and_a_thumbnail_opens_the_detail(page, seeded):
    """Issue 13.19 (and the date placeholder of 13.16)."""
    page.goto(seeded.url + "gallery")
    page.wait_for_selector(f"{TILE} img", timeout=30_000)
    tiles = page.locator(TILE)
    assert tiles.count() == 4
    # the date range's placeholder "yyyy-mm-dd – yyyy-mm-dd" needs about 240 px to show whole
    assert page.locator('[data-testid="stDateInput"]').bounding_box()["width"] >= 240
    heights = {round(tiles.nth(i).bounding_box()["height"]) for i in range(4)}
    assert max(heights) - min(heights) <= 2, heights
    for i in range(4):
        assert one_line(tiles.nth(i).locator('[data-testid="stCaptionContainer"] p').first)
    box = tiles.nth(1).locator("img").bounding_box()  # where a person clicks the picture
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=20_000)
    dialog.get_by_text("Image details").first.wait_for(timeout=20_000)


def test_compare_on_a_390px_phone(browser, running_app):
    """Issue 13.18: each lane's buttons stay in one row, and Generate brings the results
    into view."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(running_app.url + "compare")
        page.wait_for_selector('textarea[aria-label="Prompt"]', timeout=30_000)
        left, right, remove = (
            page.locator(f'[class*="st-key-compare_{name}_"]').first
            for name in ("left", "right", "remove")
        )
        page.get_by_role("button", name="Generate").wait_for(timeout=30_000)
        page.wait_for_timeout(500)  # the lanes' widgets have settled
        boxes = [b.bounding_box() for b in (left, right, remove)]
        assert len({round(box["y"]) for box in boxes}) == 1, boxes  # one row
        assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
        page.fill('textarea[aria-label="Prompt"]', "A lighthouse at dusk")
        page.keyboard.press("Control+Enter")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_selector(".st-key-compare_lane_0 img", timeout=30_000)
        page.get_by_text("Which is better?").wait_for(timeout=30_000)
        # the run has ended and its rerun drawn the vote; the results are on screen, not the
        # lane form (the page may be too short to put them at the very top)
        tops = []
        for _ in range(5):
            tops.append(
                page.locator(".st-key-compare_results").evaluate(
                    "el => el.getBoundingClientRect().top"
                )
            )
            page.wait_for_timeout(200)
        assert all(0 <= top < 844 * 0.6 for top in tops), tops
    finally:
        context.close()


def test_four_lanes_show_their_values_whole(page, running_app):
    """Issue 13.16: with four lanes, the provider and model values are not cut short."""
    page.goto(running_app.url + "compare")
    add = page.get_by_role("button", name="Add lane")
    add.wait_for(timeout=30_000)
    for count in (3, 4):
        add.click()
        page.locator('[class*="st-key-compare_remove_"]').nth(count - 1).wait_for(timeout=20_000)
    page.wait_for_timeout(500)
    values = page.locator('[data-testid="stSelectbox"] input[role="combobox"]')
    cut = values.evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => e.value)"
    )
    assert values.count() >= 16 and cut == [], cut
