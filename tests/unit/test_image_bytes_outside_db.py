"""Image bytes live in the blob store, not the database (issue #11.5): gallery images and
chat attachments, on SQLite and PostgreSQL, with the folder store and with S3. The database
keeps metadata, keys and thumbnails; deleting an image or a conversation deletes its blobs;
each owner's blobs are under their own keys."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from services.chat_images import prepare_image
from services.errors import ChatCanvasError, ErrorKind
from services.images.base import GeneratedImage, ImageRequest, ImageResult
from services.storage.blobs import BlobConfig, BlobMissing, FolderBlobStore
from services.storage.conversations import ConversationStore
from services.storage.db import open_database
from services.storage.images import ImageStore
from services.storage.lane_keeper import LaneKeeper
from tests.fakes.karlo_server import render_image

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "webp": b"WEBP"}
THUMBNAIL_COLUMNS = {"thumbnail"}
MIMES = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}


@pytest.fixture(params=["folder", "s3"])
def db(request, database):
    """Every test runs on SQLite and PostgreSQL, with the image folder and with S3."""
    if request.param == "folder":
        return database
    url = database.engine.url.render_as_string(hide_password=False)
    return open_database(url, BlobConfig(s3=request.getfixturevalue("s3_config")))


def lane(*formats: str) -> ImageResult:
    images = tuple(
        GeneratedImage(render_image(64, 48, fmt, seed=i), MIMES[fmt])
        for i, fmt in enumerate(formats)
    )
    return ImageResult("openai", "gpt-image-2", images, {"n": len(images)}, cost_usd=0.04)


def save_images(db, owner: str = "local"):
    """A comparison with PNG, WebP and JPEG images, and a chat message with two attachments."""
    images = ImageStore(db, owner)
    run = images.save_run("a fox", [(ImageRequest("a fox", "gpt-image-2"), lane("png", "webp"))])
    images.save_run("a cat", [(ImageRequest("a cat", "gpt-image-2"), lane("jpeg"))])
    chats = ConversationStore(db, owner)
    conv = chats.create(model="gpt-4o-mini")
    message = chats.add_message(conv.id, "user", "see")
    attached = [prepare_image(render_image(30, 20, "png", seed=9), "a.png")]
    attached.append(prepare_image(render_image(30, 20, "jpeg", seed=8), "b.jpg"))
    chats.attachments.add(message.id, attached)
    return run, conv, message, attached


def image_bytes_in_the_database(db) -> list[str]:
    """Where an image's magic bytes appear in any table, thumbnail columns aside."""
    found = []
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for name, value in row.items():
                    if name in THUMBNAIL_COLUMNS or value is None:
                        continue
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else None
                    raw = raw if raw is not None else str(value).encode("utf-8", "replace")
                    found += [f"{table}.{name}: {k}" for k, magic in MAGIC.items() if magic in raw]
    return found


def test_after_saving_images_no_image_bytes_are_in_the_database(db):
    run, _conv, message, attached = save_images(db)
    assert image_bytes_in_the_database(db) == []
    images = ImageStore(db, "local")
    for image_id in run.lanes[0].image_ids:  # every image still reads back whole
        image = images.get_image(image_id)
        assert image.data.startswith(MAGIC["png"]) or MAGIC["webp"] in image.data[:16]
    assert [t.thumbnail is not None for t in images.list_thumbnails()] == [True] * 3
    chats = ConversationStore(db, "local")
    assert [i.data for i in chats.attachments.images([message.id])[message.id]] == [
        a.data for a in attached
    ]


def test_deleting_images_and_conversations_deletes_their_blobs(db):
    run, conv, message, _ = save_images(db)
    images, chats = ImageStore(db, "local"), ConversationStore(db, "local")
    keys = blob_keys(db)
    assert len(keys) == 5 and all(db.blobs.get(k) for k in keys)
    assert images.delete(run.lanes[0].image_ids) == 2
    chats.delete(conv.id)
    remaining = [k for k in keys if exists(db, k)]
    assert len(remaining) == 1 and remaining[0].startswith("images/local/")
    assert chats.attachments.images([message.id]) == {}


def test_edit_and_resend_deletes_the_attachments_of_the_messages_it_removes(db):
    _, conv, message, _ = save_images(db)
    chats = ConversationStore(db, "local")
    chat_keys = [k for k in blob_keys(db) if k.startswith("chat-images/")]
    assert len(chat_keys) == 2
    chats.delete_messages_from(conv.id, message.id)
    assert not any(exists(db, k) for k in chat_keys)


def test_each_owner_has_their_own_keys_and_cannot_read_another_owners_image(db):
    mine, _, _, _ = save_images(db, "u_" + "a" * 32)
    assert ImageStore(db, "u_" + "a" * 32).get_image(mine.lanes[0].image_ids[0]) is not None
    theirs, _, _, _ = save_images(db, "owner with spaces")
    keys = blob_keys(db)
    assert sum(k.split("/")[1] == "u_" + "a" * 32 for k in keys) == 5
    assert sum(k.split("/")[1].startswith("h_") for k in keys) == 5  # a hashed, safe folder
    intruder = ImageStore(db, "u_" + "a" * 32)
    assert intruder.get_image(theirs.lanes[0].image_ids[0]) is None
    assert intruder.delete(theirs.lanes[0].image_ids) == 0
    assert all(exists(db, k) for k in keys)


class FailingOnSecondPut(FolderBlobStore):
    def __init__(self, root) -> None:
        super().__init__(root)
        self.puts = 0

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts += 1
        if self.puts == 2:
            raise ChatCanvasError(ErrorKind.BLOB_STORE, "disk full")
        super().put(key, data, content_type)


def test_a_store_that_fails_holds_the_paid_images_and_writes_no_half_image(database, tmp_path):
    """The second image cannot be written: the first one's file is removed, nothing is
    stored, and the lane keeper holds the images for the page to offer as downloads."""
    store = ImageStore(database, "local")
    store.blobs = failing = FailingOnSecondPut(tmp_path / "failing")
    run_id = store.start_run("a fox")
    request, outcome = ImageRequest("a fox", "gpt-image-2"), lane("png", "png")
    with pytest.raises(ChatCanvasError) as caught:
        store.save_lane(run_id, 0, request, outcome)
    assert caught.value.kind is ErrorKind.BLOB_STORE
    failing.puts = 0  # the same failure again, met by the keeper
    keeper = LaneKeeper(store, run_id, [request])
    keeper(0, outcome)
    assert keeper.unsaved[0].outcome is outcome and keeper.unsaved[0].reason == "blob_store"
    assert store.get_run(run_id).lanes == () and store.count() == 0
    assert [p for p in failing.root.rglob("*") if p.is_file()] == []


def blob_keys(db) -> list[str]:
    with db.engine.connect() as connection:
        return [
            key
            for table in ("images", "message_images")
            for (key,) in connection.execute(text(f"SELECT blob_key FROM {table}"))
        ]


def exists(db, key: str) -> bool:
    try:
        db.blobs.get(key)
    except BlobMissing:
        return False
    return True
