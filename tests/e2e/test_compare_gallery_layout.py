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
    heights = {round(tiles.nth(i).bounding_box()["height"]) for i in range(4)}
    assert max(heights) - min(heights) <= 2, heights
    for i in range(4):
        assert one_line(tiles.nth(i).locator('[data-testid="stCaptionContainer"] p').first)
    box = tiles.nth(1).locator("img").bounding_box()  # where a person clicks the picture
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=20_000)
    dialog.get_by_text("Image details").first.wait_for(timeout=20_000)
