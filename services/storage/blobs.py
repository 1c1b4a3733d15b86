"""Image bytes outside the database: a blob store behind one small interface.

The database keeps each image's metadata, thumbnail and *blob key*; the bytes live in a
:class:`BlobStore`. By default that is a folder under the data directory (files a person can
open: ``data/images/<owner>/<id>.png``); with an ``[s3]`` secrets section or ``S3_*``
environment values it is S3-compatible object storage (AWS S3, Cloudflare R2, Supabase
Storage). Keys are made here from ids and owner ids the app generated, never from text a
person typed, and checked against one pattern before any path or object name is formed.
Failures are ``ChatCanvasError(BLOB_STORE)`` with a detail free of keys and secrets.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

from services.errors import ChatCanvasError, ErrorKind, scrub
from services.settings import DEFAULT_DATABASE_URL, Secret

EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg", "image/gif": "gif"}
# kind / owner folder / name.ext: nothing that could climb out of the store's root
_SEGMENT = r"[A-Za-z0-9_-]{1,64}"
_KEY = re.compile(rf"[a-z-]{{1,32}}/{_SEGMENT}/{_SEGMENT}\.[a-z0-9]{{1,5}}")
log = logging.getLogger(__name__)
GALLERY = "images"  # gallery and comparison images
CHAT = "chat-images"  # images attached to chat messages


class BlobMissing(KeyError):
    """No blob under this key (deleted by hand, or never written)."""


def blob_error(detail: str, secrets: tuple[str, ...] = ()) -> ChatCanvasError:
    return ChatCanvasError(ErrorKind.BLOB_STORE, scrub(detail, secrets), provider="storage")


def safe_segment(name: str) -> str:
    """``name`` as one segment of a key: itself when it is already safe (``local``,
    ``u_<hex>``, a uuid hex), else a hash of it."""
    if re.fullmatch(_SEGMENT, name):
        return name
    return "h_" + hashlib.sha256(name.encode()).hexdigest()[:32]


def blob_key(kind: str, owner_id: str, name: str, mime: str) -> str:
    """The key of one image: ``<kind>/<owner folder>/<name>.<ext>``; ``name`` is an id the
    app made (a uuid hex, a row id)."""
    return checked_key(f"{kind}/{safe_segment(owner_id)}/{name}.{EXTENSIONS.get(mime, 'bin')}")


def checked_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError("not a blob key")
    return key


class BlobStore(Protocol):
    """Bytes by key. ``location`` says where, without any secret (for messages)."""

    location: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises :class:`BlobMissing` when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a key that is not there is not an error."""
        ...


class FolderBlobStore:
    """Blobs as files under ``root``; written to a temporary file and renamed into place, so
    a reader never sees half an image."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.location = str(self.root)

    def path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise blob_error(
                f"cannot write to the image folder {self.root}: {exc.strerror}"
            ) from None

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None
        except OSError as exc:
            raise blob_error(
                f"cannot read from the image folder {self.root}: {exc.strerror}"
            ) from None

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise blob_error(
                f"cannot delete from the image folder {self.root}: {exc.strerror}"
            ) from None


@dataclass(frozen=True)
class S3Config:
    """S3-compatible storage: AWS S3 (no endpoint), Cloudflare R2
    (``https://<account>.r2.cloudflarestorage.com``, region ``auto``), Supabase Storage
    (``https://<project>.supabase.co/storage/v1/s3``)."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: Secret | None = None
    secret_access_key: Secret | None = None
    prefix: str = ""  # put before every key ("chatcanvas/"), to share a bucket


@dataclass(frozen=True)
class BlobConfig:
    """Where image bytes go: S3 when ``s3`` is set, else the folder ``folder`` (default: the
    data directory, see :func:`data_dir`)."""

    folder: str | None = None
    s3: S3Config | None = None

    def secrets(self) -> list[str]:
        keys = (self.s3.access_key_id, self.s3.secret_access_key) if self.s3 else ()
        return [k.reveal() for k in keys if k]


# the data directory of a server database (PostgreSQL): the default SQLite file's, data/
SERVER_DATA_DIR = Path(make_url(DEFAULT_DATABASE_URL).database or "data").parent


def data_dir(database_url: str) -> Path:
    """The data directory: the folder of a SQLite file, else :data:`SERVER_DATA_DIR`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return SERVER_DATA_DIR


def make_blob_store(config: BlobConfig | None, database_url: str) -> BlobStore:
    """The store ``config`` describes; without one, the folder under the data directory."""
    config = config or BlobConfig()
    if config.s3 is not None:
        from services.storage.s3_blobs import S3BlobStore  # boto3 only when configured

        return S3BlobStore(config.s3)
    return FolderBlobStore(config.folder or data_dir(database_url))


# -- what the stores do with blobs -------------------------------------------------------------


@contextmanager
def put_blobs(store: BlobStore, blobs: Iterable[tuple[str, bytes, str]]) -> Iterator[None]:
    """Put ``(key, data, content_type)`` before the block stores the rows that name them; if
    a put or the block fails, the blobs already put are removed (no orphans, nothing half)."""
    done: list[str] = []
    try:
        for key, data, content_type in blobs:
            store.put(key, data, content_type)
            done.append(key)
        yield
    except BaseException:
        forget_blobs(store, done)
        raise


def forget_blobs(store: BlobStore, keys: Iterable[str]) -> None:
    """Delete blobs whose rows are gone. A failure leaves a file no row names (logged, by key
    only): harmless, and never a reason to fail the deletion the person asked for."""
    for key in keys:
        try:
            store.delete(key)
        except ChatCanvasError as err:
            log.warning("could not delete blob %s: %s", key, err.detail)


def read_blob(store: BlobStore, key: str) -> bytes | None:
    """The bytes under ``key``, or None when they are gone (logged)."""
    try:
        return store.get(key)
    except BlobMissing:
        log.warning("blob %s is missing from %s", key, store.location)
        return None
