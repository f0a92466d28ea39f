"""Races an upload meets: a second writer of the same upload (another server, or a request
this one no longer waits for) never records over or cuts below what the first recorded;
a second completion changes nothing; the server's own stalls are not the client's
silence; an upload about to expire is not named by an ingest, and an adopted blob's age
starts at its adoption (`tzzr gc`'s grace)."""

import dataclasses
import hashlib
import os
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.conftest import Live
from tests.uploads.conftest import head, new_upload, send, upload
from tzzr.api import uploads as api_uploads
from tzzr.db.engine import write_transaction
from tzzr.db.models_uploads import Upload
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.uploads.hashing import ResumableSha256
from tzzr.uploads.service import Patch, Uploads


def _id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def _events(client: httpx.Client, upload_id: str) -> list[dict[str, Any]]:
    found = client.get("/sentinel/events", params={"kind": "upload", "subject": upload_id})
    return [e["data"] for e in found.json()["events"]]


def test_a_losing_writer_never_cuts_below_the_recorded_offset(live: Live) -> None:
    """Two writers start at offset 0 (two servers sharing the upload directory); the
    first records 100 bytes; the second, cut off, must not truncate them."""
    uploads: Uploads = live.services.uploads
    deck = live.services.instances.get("deck")
    data = os.urandom(300)
    with live.client() as client:
        location = new_upload(client, len(data))
    upload_id = _id(location)
    first = uploads.patch(deck, upload_id, 0)
    second = uploads.patch(deck, upload_id, 0)
    first.write(data[:100])
    assert first.finish(None).offset == 100
    second.write(data[:50])  # the same client's bytes, at the same place
    with pytest.raises(Conflict):
        second.finish(None)  # its offset is not the row's any more: nothing recorded
    winner = uploads.patch(deck, upload_id, 100)  # both resume from the recorded 100
    loser = uploads.patch(deck, upload_id, 100)
    loser.write(data[100:150])
    winner.write(data[100:200])
    assert winner.finish(None).offset == 200
    loser.abort()  # its connection cut: back to its start (100)? Not below the row's 200
    with live.client() as client:
        assert int(head(client, location).headers["Upload-Offset"]) == 200
        done = send(client, location, 200, data[200:])
        assert done.status_code == 204, done.text
        assert client.get(location).json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert (
        live.services.blobs.scoped(deck.blob_prefix).read_all(hashlib.sha256(data).hexdigest())
        == data
    )


def test_a_second_completion_changes_nothing(live: Live) -> None:
    """Two requests complete the same upload (another server's HEAD, say): one
    publishes, the other finds it complete; one event, one completion time."""
    uploads: Uploads = live.services.uploads
    deck = live.services.instances.get("deck")
    data = os.urandom(1000)
    with live.client() as client:
        location = new_upload(client, len(data))
    upload_id = _id(location)
    before = uploads.get(deck, upload_id)
    with live.services.engine.connect() as conn:
        storage = conn.execute(select(Upload.storage).where(Upload.id == upload_id)).scalar()
    with live.client() as client:
        assert send(client, location, 0, data).status_code == 204
        done = client.get(location).json()
    assert done["complete"] is True
    hasher = ResumableSha256()
    hasher.update(data)
    stale = dataclasses.replace(before, offset=len(data))  # read before the other finished
    again = uploads._complete(deck, stale, hasher, storage)
    assert again.complete and again.sha256 == done["sha256"]
    assert again.completed_at is not None
    with live.client() as client:
        assert client.get(location).json()["completed_at"] == done["completed_at"]
        assert _events(client, upload_id) == [
            {"state": "complete", "length": len(data), "sha256": done["sha256"]}
        ]


def test_a_completion_does_not_revive_a_terminated_upload(live: Live) -> None:
    """A DELETE marked the upload terminated (its bytes not yet removed) while another
    request completed it: the upload stays terminated."""
    uploads: Uploads = live.services.uploads
    deck = live.services.instances.get("deck")
    data = b"not what was declared"
    with live.client() as client:
        location = new_upload(client, len(data), sha256="ab" * 32)
    upload_id = _id(location)
    stale = dataclasses.replace(uploads.get(deck, upload_id), offset=len(data))
    with write_transaction(live.services.engine) as conn:
        conn.execute(update(Upload).where(Upload.id == upload_id).values(state="terminated"))
    hasher = ResumableSha256()
    hasher.update(data)
    with pytest.raises(InvalidInput):
        uploads._complete(deck, stale, hasher, None)
    with pytest.raises(NotFound):  # still terminated, not failed
        uploads.get(deck, upload_id)


def test_the_servers_own_stall_is_not_client_silence(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idle timer counts only while the server awaits the socket: a write that takes
    longer than the idle time (a slow disk, S3 parts in flight) does not cut a client
    whose bytes are waiting."""
    monkeypatch.setattr(api_uploads, "IDLE_SECONDS", 0.5)
    write = Patch.write
    stalled: list[int] = []

    def slow(self: Patch, data: bytes) -> None:
        if not stalled:
            stalled.append(len(data))
            time.sleep(2.0)  # four idle periods
        write(self, data)

    monkeypatch.setattr(Patch, "write", slow)
    data = os.urandom(3 * api_uploads.BUFFER)
    with live.client() as client:
        location = new_upload(client, len(data))
        answer = send(client, location, 0, data)
        assert stalled, "the write was not slowed"
        assert answer.status_code == 204, answer.text
        assert answer.headers["Upload-Offset"] == str(len(data))
        assert client.get(location).json()["sha256"] == hashlib.sha256(data).hexdigest()


def _expires_in(live: Live, upload_id: str, seconds: float) -> None:
    with write_transaction(live.services.engine) as conn:
        conn.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(expires_at=live.services.clock() + timedelta(seconds=seconds))
        )


def test_an_upload_about_to_expire_is_not_named_by_an_ingest(live: Live) -> None:
    """`tzzr gc` keeps a completed upload's blob while the upload lives; an ingest that
    names it must have the entry committed before then, so one that expires within the
    margin (the gc grace) is refused: upload it again."""
    uploads: Uploads = live.services.uploads
    margin = uploads.expiry_margin()
    assert margin > timedelta(0)
    data = os.urandom(2000)
    digest = hashlib.sha256(data).hexdigest()
    item = {"name": "a.bin", "sha256": digest}
    with live.client() as client:
        done = upload(client, data)
        _expires_in(live, done["id"], margin.total_seconds() / 2)
        refused = client.post("/ingest", json={"metadata": {"n": digest}, "files": [item]})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "files[0].sha256"
        assert "upload the file through /uploads again" in error["message"]
        _expires_in(live, done["id"], margin.total_seconds() + 600)
        taken = client.post("/ingest", json={"metadata": {"n": digest}, "files": [item]})
        assert taken.status_code == 200, taken.text


def test_an_adopted_local_blob_is_as_young_as_its_adoption(live: Live) -> None:
    """The same bytes uploaded again adopt the blob kept from before: its age (what gc's
    grace counts) starts again, so gc spares it until the entry naming it is in."""
    from tzzr.blobs.local import LocalBlobStore

    store = live.services.blobs.scoped("deck")
    data = os.urandom(3000)
    digest = hashlib.sha256(data).hexdigest()
    if not isinstance(store, LocalBlobStore):
        # An S3 object keeps its age (a refresh would be a copy): the expiry margin
        # protects it instead. Adopting it twice keeps the one blob.
        with live.client() as client:
            upload(client, data)
            upload(client, data)
        assert store.exists(digest) and store.verify(digest)
        return
    with live.client() as client:
        upload(client, data)
        path = store.root / store.key(digest)
        old = time.time() - 7200
        os.utime(path, (old, old))
        upload(client, data)
    assert path.stat().st_mtime > time.time() - 600
