"""Migration 0008 moves image bytes (gallery images and chat attachments) out of the database
into the configured blob store, on SQLite and PostgreSQL: every image arrives intact, the data
columns are gone, and a store that fails leaves the database exactly as it was."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import text

from services.errors import ChatCanvasError, ErrorKind
from services.storage.blobs import BlobConfig
from services.storage.conversations import ConversationStore
from services.storage.db import create_database_engine, open_database
from services.storage.images import ImageStore
from services.storage.migrate import current_revision, head_revision, upgrade
from tests.fakes.karlo_server import render_image

GALLERY = {("img1", "local"): render_image(40, 30, "png", seed=1)}
GALLERY[("img2", "u_other")] = render_image(30, 20, "webp", seed=2)
ATTACHED = render_image(20, 10, "png", seed=3)
AT = datetime(2026, 11, 1, 10)


def database_at_0007_with_bytes(url: str) -> None:
    """What the release before 0008 stored: bytes in images.data and message_images.data."""
    engine = create_database_engine(url)
    upgrade(engine, "0007")
    with engine.begin() as connection:
        sql = connection.execute
        sql(
            text(
                "INSERT INTO conversations (id, owner_id, title, system_prompt, params,"
                " created_at, updated_at) VALUES ('c1', 'local', 't', '', '{}', :at, :at)"
            ),
            {"at": AT},
        )
        sql(
            text(
                "INSERT INTO messages (id, conversation_id, owner_id, role, content, status,"
                " created_at) VALUES (1, 'c1', 'local', 'user', 'see', 'complete', :at)"
            ),
            {"at": AT},
        )
        sql(
            text(
                "INSERT INTO message_images (owner_id, message_id, position, mime, width,"
                " height, data, thumbnail, created_at) VALUES ('local', 1, 0, 'image/png', 20,"
                " 10, :data, NULL, :at)"
            ),
            {"data": ATTACHED, "at": AT},
        )
        for (image_id, owner), data in GALLERY.items():
            mime = "image/png" if data.startswith(b"\x89PNG") else "image/webp"
            sql(
                text(
                    "INSERT INTO images (id, owner_id, position, provider, model, params, prompt,"
                    " negative_prompt, mime, data, cost_is_estimate, created_at) VALUES (:id,"
                    " :owner, 0, 'openai', 'm', '{}', 'a fox', '', :mime, :data, false, :at)"
                ),
                {"id": image_id, "owner": owner, "mime": mime, "data": data, "at": AT},
            )
    engine.dispose()


def test_0008_moves_every_image_into_s3_intact(empty_url, s3_server, s3_config):
    database_at_0007_with_bytes(empty_url)
    db = open_database(empty_url, BlobConfig(s3=s3_config))
    try:
        with db.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            if connection.dialect.name == "sqlite":  # compacted: the bytes' pages given back
                assert connection.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
        for (image_id, owner), data in GALLERY.items():
            assert ImageStore(db, owner).get_image(image_id).data == data
            assert ImageStore(db, "someone-else").get_image(image_id) is None
        attached = ConversationStore(db, "local").attachments.images([1])
        assert [image.data for image in attached[1]] == [ATTACHED]
        listed = s3_server.client().list_objects_v2(Bucket=s3_config.bucket)["Contents"]
        assert sorted(o["Key"] for o in listed) == [
            "chat-images/local/m1.png",
            "images/local/img1.png",
            "images/u_other/img2.webp",
        ]
    finally:
        db.engine.dispose()


def test_a_store_that_fails_leaves_the_database_as_it_was(empty_url, s3_server):
    """A missing bucket stops the upgrade with a clear error; nothing is half moved, and the
    next start (once the bucket exists) moves everything."""
    database_at_0007_with_bytes(empty_url)
    later = BlobConfig(s3=s3_server.config(f"not-made-yet-{uuid.uuid4().hex[:8]}"))
    with pytest.raises(ChatCanvasError) as caught:
        open_database(empty_url, later)
    assert caught.value.kind is ErrorKind.BLOB_STORE
    engine = create_database_engine(empty_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == "0007"
            rows = connection.execute(text("SELECT id, data FROM images ORDER BY id")).all()
        assert {i: bytes(d) for i, d in rows} == {i: d for (i, _), d in GALLERY.items()}
    finally:
        engine.dispose()
    s3_server.client().create_bucket(Bucket=later.s3.bucket)
    db = open_database(empty_url, later)
    try:
        assert ImageStore(db, "local").get_image("img1").data == GALLERY[("img1", "local")]
    finally:
        db.engine.dispose()
