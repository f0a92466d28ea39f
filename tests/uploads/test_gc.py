"""Expiration and `tzzr gc`: an expired upload answers 410 and gc removes its bytes
(local file or S3 multipart upload) and its row; a terminated row a crash left is
finished; a completed upload's blob is kept while the upload has not expired."""

import hashlib
import os
import uuid
from datetime import timedelta

from sqlalchemy import update

from tests.conftest import Live
from tests.uploads.conftest import TUS, head, multipart_uploads, new_upload, send, upload
from tzzr.db.engine import write_transaction
from tzzr.db.models_uploads import Upload
from tzzr.gc import GcReport, collect


def _expire(live: Live, upload_id: str) -> None:
    with write_transaction(live.services.engine) as conn:
        conn.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(expires_at=live.services.clock() - timedelta(seconds=1))
        )


def _gc(live: Live, dry_run: bool = False) -> GcReport:
    services = live.services
    return collect(
        services.engine,
        services.blobs,
        services.instances,
        spool_dir=services.settings.home / "spool",
        grace=timedelta(0),
        dry_run=dry_run,
        uploads=services.uploads,
    )


def _files(live: Live, upload_id: str) -> list[str]:
    return sorted(p.name for p in (live.services.settings.home / "uploads").glob(f"{upload_id}*"))


def test_an_expired_upload_is_410_and_gc_removes_its_bytes(live: Live) -> None:
    with live.client() as client:
        location = new_upload(client, 20 * 1024 * 1024)
        assert send(client, location, 0, os.urandom(9 * 1024 * 1024)).status_code == 204
        upload_id = location.rsplit("/", 1)[1]
        assert _files(live, upload_id)
        _expire(live, upload_id)
        assert head(client, location).status_code == 410
        assert send(client, location, 9 * 1024 * 1024, b"x").status_code == 410
        assert client.get(location).json()["expired"] is True
        pending = [k for k in multipart_uploads(live) if k.endswith(upload_id)]
        dry = _gc(live, dry_run=True)
        assert upload_id in [u.id for u in dry.uploads]
        assert _files(live, upload_id)
        report = _gc(live)
        assert upload_id in [u.id for u in report.uploads]
        assert head(client, location).status_code == 404
    assert _files(live, upload_id) == []
    if pending:  # the S3 shape: the multipart upload was aborted
        assert not [k for k in multipart_uploads(live) if k.endswith(upload_id)]


def test_gc_keeps_a_completed_uploads_blob_until_the_upload_expires(live: Live) -> None:
    data = os.urandom(2000)
    digest = hashlib.sha256(data).hexdigest()
    with live.client() as client:
        done = upload(client, data)
    store = live.services.blobs.scoped("deck")
    report = _gc(live)
    assert digest not in [o.sha256 for o in report.orphans]
    assert store.exists(digest)
    _expire(live, done["id"])
    report = _gc(live)
    assert done["id"] in [u.id for u in report.uploads]
    assert digest in [o.sha256 for o in report.orphans]  # no entry named it
    assert not store.exists(digest)


def test_gc_finishes_a_termination_a_crash_left(live: Live) -> None:
    with live.client() as client:
        location = new_upload(client, 100)
        assert send(client, location, 0, b"y" * 50).status_code == 204
    upload_id = location.rsplit("/", 1)[1]
    with write_transaction(live.services.engine) as conn:
        conn.execute(update(Upload).where(Upload.id == upload_id).values(state="terminated"))
    with live.client() as client:
        assert head(client, location).status_code == 404
        assert client.delete(location, headers=TUS).status_code == 404
    report = _gc(live)
    assert upload_id in [u.id for u in report.uploads]
    assert _files(live, upload_id) == []


def test_gc_aborts_a_multipart_upload_no_row_names(live: Live) -> None:
    from tzzr.blobs.s3 import S3BlobStore

    store = live.services.blobs.scoped(live.services.instances.get("deck").blob_prefix)
    if not isinstance(store, S3BlobStore):  # no multipart uploads to leave behind here
        assert _gc(live, dry_run=True).stray_multipart == []
        return
    key = f"{store.prefix}/uploads/{uuid.uuid4().hex}"  # a crash between S3 and the row
    store.client.create_multipart_upload(Bucket=store.bucket, Key=key)
    assert key in multipart_uploads(live)
    assert key in _gc(live, dry_run=True).stray_multipart
    assert key in multipart_uploads(live)
    assert key in _gc(live).stray_multipart
    assert key not in multipart_uploads(live)
