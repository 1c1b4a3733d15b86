"""The blob store: a folder under the data directory and S3-compatible storage (a real moto
server on 127.0.0.1, started by the test set-up), behind one interface; safe keys; clear
errors that never carry a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.config_sources import SETTING_SECTIONS
from services.errors import ChatCanvasError, ErrorKind
from services.settings import resolve_settings
from services.storage.blobs import (
    BlobConfig,
    BlobMissing,
    FolderBlobStore,
    blob_key,
    data_dir,
    make_blob_store,
)
from services.storage.s3_blobs import S3BlobStore
from tests.fakes.karlo_server import render_image

PNG = render_image(32, 24, "png", seed=3)
KEY = blob_key("images", "local", "0123456789abcdef0123456789abcdef", "image/png")


@pytest.fixture(params=["folder", "s3"])
def blobs(request, tmp_path):
    if request.param == "folder":
        return FolderBlobStore(tmp_path / "data")
    return S3BlobStore(request.getfixturevalue("s3_config"))


def test_bytes_go_in_and_come_back_and_are_deleted(blobs):
    blobs.put(KEY, PNG, "image/png")
    assert blobs.get(KEY) == PNG
    blobs.put(KEY, b"replaced", "image/png")  # a retry writes the same key again
    assert blobs.get(KEY) == b"replaced"
    blobs.delete(KEY)
    with pytest.raises(BlobMissing):
        blobs.get(KEY)
    blobs.delete(KEY)  # gone already: not an error


def test_a_key_is_made_from_ids_and_never_climbs_out_of_the_store(blobs):
    assert KEY == "images/local/0123456789abcdef0123456789abcdef.png"
    for bad in ("../x.png", "images/local/../../x.png", "/etc/passwd", "images/a b/c.png", ""):
        with pytest.raises(ValueError):
            blobs.put(bad, PNG, "image/png")
        with pytest.raises(ValueError):
            blobs.get(bad)
    # an owner id that is not a safe name gets a hashed folder of its own
    weird = blob_key("images", "../other owner", "abc", "image/webp")
    assert weird.startswith("images/h_") and weird.endswith("/abc.webp") and ".." not in weird
    assert blob_key("images", "x/y", "abc", "image/png") != blob_key(
        "images", "x\\y", "abc", "image/png"
    )


def test_the_folder_holds_files_a_person_can_open_and_no_half_written_ones(tmp_path):
    store = FolderBlobStore(tmp_path)
    store.put(KEY, PNG, "image/png")
    assert (tmp_path / "images" / "local").is_dir()
    assert (tmp_path / KEY).read_bytes() == PNG
    assert [p.name for p in (tmp_path / "images" / "local").iterdir()] == [Path(KEY).name]


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    (tmp_path / "images").write_text("a file where the folder should be")
    with pytest.raises(ChatCanvasError) as caught:
        FolderBlobStore(tmp_path).put(KEY, PNG, "image/png")
    assert caught.value.kind is ErrorKind.BLOB_STORE
    assert "image folder" in caught.value.detail


def test_a_missing_bucket_is_a_clear_error(s3_server):
    store = S3BlobStore(s3_server.config("no-such-bucket-here"))
    for action in (lambda: store.put(KEY, PNG, "image/png"), lambda: store.get(KEY)):
        with pytest.raises(ChatCanvasError) as caught:
            action()
        assert caught.value.kind is ErrorKind.BLOB_STORE
        assert "bucket does not exist" in caught.value.detail


@pytest.mark.parametrize("wrong", ["access_key_id", "secret_access_key"])
def test_bad_credentials_are_a_clear_error_that_never_shows_them(s3_server, s3_config, wrong):
    from dataclasses import replace

    from services.settings import Secret

    secret = "wrong-secret-value-4f9c2a7e1b"
    store = S3BlobStore(replace(s3_config, **{wrong: Secret(secret)}))
    with pytest.raises(ChatCanvasError) as caught:
        store.put(KEY, PNG, "image/png")
    err = caught.value
    assert err.kind is ErrorKind.BLOB_STORE and "credentials were refused" in err.detail
    for shown in (str(err), err.detail, repr(err)):
        assert secret not in shown and s3_server.secret_access_key not in shown


def test_an_unreachable_endpoint_is_a_clear_error(s3_config, closed_port):
    from dataclasses import replace

    store = S3BlobStore(replace(s3_config, endpoint_url=f"http://127.0.0.1:{closed_port}"))
    with pytest.raises(ChatCanvasError) as caught:
        store.get(KEY)
    assert caught.value.kind is ErrorKind.BLOB_STORE
    assert "cannot reach" in caught.value.detail


def test_a_prefix_shares_a_bucket(s3_server, s3_config):
    from dataclasses import replace

    store = S3BlobStore(replace(s3_config, prefix="chatcanvas/"))
    store.put(KEY, PNG, "image/png")
    listed = s3_server.client().list_objects_v2(Bucket=s3_config.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"chatcanvas/{KEY}"]
    head = s3_server.client().head_object(Bucket=s3_config.bucket, Key=f"chatcanvas/{KEY}")
    assert head["ContentType"] == "image/png"


def test_the_default_store_is_the_data_directory(tmp_path, server_data_dir):
    store = make_blob_store(None, f"sqlite:///{tmp_path}/sub/chat.db")
    assert isinstance(store, FolderBlobStore) and store.root == (tmp_path / "sub").resolve()
    assert data_dir("postgresql+psycopg://u:p@h/db") == server_data_dir
    folder = make_blob_store(BlobConfig(folder=str(tmp_path / "mine")), "sqlite://")
    assert folder.root == (tmp_path / "mine").resolve()


def test_s3_is_configured_by_a_secrets_section_or_the_environment():
    secret = "s3-secret-value-0d1e2f3a4b5c"
    section = {
        "bucket": "my-bucket",
        "endpoint_url": "https://acc.r2.cloudflarestorage.com",
        "region": "auto",
        "access_key_id": "AKIDEXAMPLE123",
        "secret_access_key": secret,
    }
    assert "s3" in SETTING_SECTIONS
    from_secrets = resolve_settings(secrets={"s3": section})
    from_env = resolve_settings(
        environ={f"S3_{k.upper()}": v for k, v in section.items()} | {"S3_PREFIX": "cc/"}
    )
    for settings in (from_secrets, from_env):
        s3 = settings.blobs.s3
        assert (s3.bucket, s3.region, s3.endpoint_url) == (
            "my-bucket",
            "auto",
            section["endpoint_url"],
        )
        assert s3.secret_access_key.reveal() == secret
        assert secret in settings.secrets()  # scrubbed from every error text
        assert secret not in repr(settings) and secret not in repr(s3)
    assert from_env.blobs.s3.prefix == "cc/"
    assert resolve_settings(environ={"BLOB_DIR": "/srv/img"}).blobs == BlobConfig(folder="/srv/img")
    assert resolve_settings().blobs is None
    # the sidebar (a visitor) cannot point the app's images somewhere else
    assert resolve_settings(sidebar={"S3_BUCKET": "theirs", "BLOB_DIR": "/tmp"}).blobs is None
