"""The S3 backend against a real S3 API server: keys under the URL's prefix, the spool
emptied after every write, missing objects as FileNotFoundError."""

import hashlib
from pathlib import Path

import pytest

from tests.conftest import make_settings, s3_bucket
from tzzr.blobs import open_store
from tzzr.blobs.s3 import S3BlobStore
from tzzr.config import Settings
from tzzr.errors import ConfigError


def s3_store(tmp_path: Path, prefix: str = "") -> S3BlobStore:
    endpoint, bucket = s3_bucket()
    settings = Settings(
        home=tmp_path,
        blob_url=f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    store = open_store(settings)
    assert isinstance(store, S3BlobStore)
    return store


def test_keys_live_under_the_urls_prefix_then_the_instances(tmp_path: Path) -> None:
    store = s3_store(tmp_path, "base/dir").scoped("deck")
    blob = store.put(b"in a sub-folder")
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"base/dir/deck/{blob.sha256[:2]}/{blob.sha256}"]
    assert store.publish("tile/0/x", b"t") == "base/dir/deck/tile/0/x"
    assert store.read_named("tile/0/x") == b"t"


def test_the_spool_is_emptied_after_a_commit_and_after_an_abort(tmp_path: Path) -> None:
    store = s3_store(tmp_path)
    with store.writer() as writer:
        writer.write(b"uploaded")
        writer.commit()
    with store.writer() as writer:
        writer.write(b"abandoned")
    assert list(store.spool_dir.iterdir()) == []
    assert [b.sha256 for b in store.list()] == [hashlib.sha256(b"uploaded").hexdigest()]


def test_missing_objects_are_file_not_found(tmp_path: Path) -> None:
    store = s3_store(tmp_path)
    absent = hashlib.sha256(b"absent").hexdigest()
    assert not store.exists(absent) and store.size(absent) is None
    with pytest.raises(FileNotFoundError):
        store.read_all(absent)
    with pytest.raises(FileNotFoundError):
        store.read_named("checkpoint")


def test_ensure_bucket_creates_a_missing_bucket(tmp_path: Path) -> None:
    store = s3_store(tmp_path)
    fresh = store._clone("")
    fresh.bucket = store.bucket + "-new"
    fresh.ensure_bucket()
    fresh.ensure_bucket()  # and leaves an existing one alone
    assert fresh.put(b"x").sha256 == hashlib.sha256(b"x").hexdigest()
    assert (
        fresh.client.head_bucket(Bucket=fresh.bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    )


def test_an_s3_url_without_a_bucket_names_the_form(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"s3://BUCKET\[/PREFIX\]"):
        open_store(make_settings(tmp_path, blob_url="s3://"))
