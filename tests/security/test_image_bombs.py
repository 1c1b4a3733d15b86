"""Decompression bombs and damaged images from a provider are refused before anything is
stored; thumbnails never decode a bomb."""

from __future__ import annotations

import pytest

from services.errors import ChatCanvasError, ErrorKind
from services.images import ImageRequest, KarloProvider, OpenAIImageProvider
from services.images.base import checked_image
from services.images.thumbnails import make_thumbnail
from services.storage.images import ImageStore
from tests.fakes.karlo_server import render_image
from tests.security.conftest import FAST, karlo_settings, openai_settings, run_and_store
from tests.security.crafted import png_bomb

# Pillow's own warning (above 89 MP) counts as a refusal too where warnings are errors
pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")

BOMBS = {
    "30 MP (past our limit, below Pillow's)": (6000, 5000),
    "169 MP (Pillow only warns)": (13000, 13000),
    "196 MP (Pillow refuses to open it later)": (14000, 14000),
}


@pytest.fixture
def image_store(db) -> ImageStore:
    return ImageStore(db, "owner-a")


def assert_refused_and_nothing_stored(store: ImageStore, stored: tuple) -> None:
    run_id, outcome = stored
    assert isinstance(outcome, ChatCanvasError), "the image was accepted"
    assert outcome.kind is ErrorKind.IMAGE_REFUSED
    assert store.count() == 0
    lane = store.get_run(run_id).lanes[0]
    assert lane.error_kind == "image_refused" and lane.image_ids == ()


@pytest.mark.parametrize("size", BOMBS.values(), ids=BOMBS.keys())
def test_openai_bomb_is_a_lane_error_and_nothing_is_stored(openai_fake, images, image_store, size):
    images.image_bytes = png_bomb(*size)
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    stored = run_and_store(image_store, provider, ImageRequest("a cat", "gpt-image-2"))
    assert_refused_and_nothing_stored(image_store, stored)


@pytest.mark.parametrize("size", BOMBS.values(), ids=BOMBS.keys())
def test_karlo_bomb_is_a_lane_error_and_nothing_is_stored(karlo, image_store, size):
    karlo.image_bytes = png_bomb(*size)
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST)
    stored = run_and_store(image_store, provider, ImageRequest("a cat", "karlo-v2.1"))
    assert_refused_and_nothing_stored(image_store, stored)


def test_a_dall_e_url_bomb_is_refused(openai_fake, images, image_store):
    images.image_bytes = png_bomb(13000, 13000)
    provider = OpenAIImageProvider(openai_settings(openai_fake), timeout=FAST)
    request = ImageRequest("a cat", "dall-e-3", extras={"response_format": "url"})
    stored = run_and_store(image_store, provider, request)
    assert_refused_and_nothing_stored(image_store, stored)


def test_a_damaged_image_is_refused(karlo, image_store):
    karlo.image_bytes = png_bomb(512, 512, complete=False)
    provider = KarloProvider(karlo_settings(karlo), timeout=FAST)
    stored = run_and_store(image_store, provider, ImageRequest("a cat", "karlo-v2.1"))
    assert_refused_and_nothing_stored(image_store, stored)


def test_the_largest_real_output_passes():
    assert checked_image(render_image(3840, 2160, "png"), "openai") == "image/png"


def test_a_thumbnail_is_not_made_of_an_image_beyond_the_limit():
    # 20 MP: just past the limit, small enough that decoding it would still succeed
    assert make_thumbnail(png_bomb(5000, 4000)) == (None, None, None)


def test_thumbnails_of_real_images_still_work():
    thumb, width, height = make_thumbnail(render_image(1536, 1024, "jpeg"))
    assert thumb is not None and (width, height) == (1536, 1024)
