"""The tus 1.0.0 protocol at /uploads: every header and status of core, creation,
creation-with-upload, expiration, termination and checksum, and bad input as 4xx."""

import hashlib
import os
from email.utils import parsedate_to_datetime

from tests.conftest import Live
from tests.uploads.conftest import (
    OFFSET_TYPE,
    TUS,
    checksum,
    create,
    head,
    multipart_uploads,
    new_upload,
    offset_of,
    send,
    upload,
)


def test_options_says_what_the_server_supports(live: Live) -> None:
    with live.client() as client:
        response = client.options("/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "expiration",
        "termination",
        "checksum",
    }
    assert response.headers["Tus-Checksum-Algorithm"] == "sha256"
    assert int(response.headers["Tus-Max-Size"]) == live.services.settings.max_file_bytes


def test_an_upload_in_patches_is_published_at_its_content_address(live: Live) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = hashlib.sha256(data).hexdigest()
    with live.client() as client:
        created = create(client, len(data), filename="v.mp4", filetype="video/mp4")
        assert created.status_code == 201
        assert created.headers["Tus-Resumable"] == "1.0.0"
        location = created.headers["Location"]
        assert location.startswith("/uploads/")
        expires = parsedate_to_datetime(created.headers["Upload-Expires"])
        assert expires.tzinfo is not None
        first = head(client, location)
        assert first.status_code == 200
        assert first.headers["Upload-Offset"] == "0"
        assert first.headers["Upload-Length"] == str(len(data))
        assert first.headers["Cache-Control"] == "no-store"
        assert "Tzzr-Sha256" not in first.headers
        step = 1024 * 1024
        for start in range(0, len(data), step):
            answer = send(client, location, start, data[start : start + step])
            assert answer.status_code == 204, answer.text
            assert answer.headers["Upload-Offset"] == str(min(len(data), start + step))
            assert answer.headers["Tus-Resumable"] == "1.0.0"
        done = head(client, location)
        assert done.headers["Upload-Offset"] == str(len(data))
        assert done.headers["Tzzr-Sha256"] == digest
        state = client.get(location).json()
    assert state["complete"] is True
    assert state["sha256"] == digest
    assert state["offset"] == state["length"] == len(data)
    assert state["metadata"] == {"filename": "v.mp4", "filetype": "video/mp4"}
    store = live.services.blobs.scoped("deck")
    assert store.read_all(digest) == data
    with live.client() as client:
        events = client.get(
            "/sentinel/events", params={"kind": "upload", "subject": state["id"]}
        ).json()["events"]
    assert [e["data"] for e in events] == [
        {"state": "complete", "length": len(data), "sha256": digest}
    ]


def test_creation_with_upload_and_an_empty_file(live: Live) -> None:
    data = os.urandom(5000)
    with live.client() as client:
        created = client.post(
            "/uploads",
            content=data[:3000],
            headers={**TUS, **OFFSET_TYPE, "Upload-Length": str(len(data))},
        )
        assert created.status_code == 201, created.text
        assert created.headers["Upload-Offset"] == "3000"
        location = created.headers["Location"]
        assert send(client, location, 3000, data[3000:]).status_code == 204
        assert head(client, location).headers["Tzzr-Sha256"] == hashlib.sha256(data).hexdigest()
        empty = create(client, 0)
        assert empty.status_code == 201
        assert empty.headers["Upload-Offset"] == "0"
        state = client.get(empty.headers["Location"]).json()
    assert state["complete"] is True
    assert state["sha256"] == hashlib.sha256(b"").hexdigest()


def test_a_wrong_offset_is_409_and_changes_nothing(live: Live) -> None:
    with live.client() as client:
        location = new_upload(client, 100)
        assert send(client, location, 0, b"a" * 10).status_code == 204
        wrong = send(client, location, 5, b"b" * 10)
        assert wrong.status_code == 409
        assert wrong.json()["error"]["field"] == "Upload-Offset"
        assert wrong.headers["Tus-Resumable"] == "1.0.0"
        assert offset_of(client, location) == 10


def test_checksum_per_patch(live: Live) -> None:
    data = os.urandom(2000)
    with live.client() as client:
        location = new_upload(client, len(data))
        good = send(client, location, 0, data[:1000], **{"Upload-Checksum": checksum(data[:1000])})
        assert good.status_code == 204
        bad = send(client, location, 1000, data[1000:], **{"Upload-Checksum": checksum(b"x")})
        assert bad.status_code == 460
        assert bad.json()["error"]["field"] == "Upload-Checksum"
        assert offset_of(client, location) == 1000  # the chunk was discarded
        unknown = send(client, location, 1000, data[1000:], **{"Upload-Checksum": "md5 AAAA"})
        assert unknown.status_code == 422
        assert send(client, location, 1000, data[1000:]).status_code == 204
        assert head(client, location).headers["Tzzr-Sha256"] == hashlib.sha256(data).hexdigest()


def test_a_declared_sha256_that_does_not_match_fails_the_upload(live: Live) -> None:
    data = os.urandom(1000)
    with live.client() as client:
        location = new_upload(client, len(data), sha256="ab" * 32)
        answer = send(client, location, 0, data)
        assert answer.status_code == 422
        assert "declared" in answer.json()["error"]["message"]
        state = client.get(location).json()
        assert state["state"] == "failed"
        assert state["sha256"] is None
        assert state["error"] and "declared" in state["error"]
        assert head(client, location).status_code == 410
        assert send(client, location, 1000, b"").status_code == 410
    assert not live.services.blobs.scoped("deck").exists(hashlib.sha256(data).hexdigest())
    right = os.urandom(1000)
    with live.client() as client:
        done = upload(client, right, sha256=hashlib.sha256(right).hexdigest().upper())
    assert done["complete"] is True


def test_termination_leaves_nothing(live: Live) -> None:
    with live.client() as client:
        location = new_upload(client, 10_000)
        assert send(client, location, 0, b"x" * 4000).status_code == 204
        if live.services.settings.blob_url.startswith("s3://"):  # one multipart upload, open
            assert [k for k in multipart_uploads(live) if k.endswith(location.rsplit("/")[-1])]
        gone = client.delete(location, headers=TUS)
        assert gone.status_code == 204
        assert gone.headers["Tus-Resumable"] == "1.0.0"
        assert head(client, location).status_code == 404
        assert send(client, location, 4000, b"x").status_code == 404
        assert client.delete(location, headers=TUS).status_code == 404
    upload_id = location.rsplit("/", 1)[1]
    leftovers = list((live.services.settings.home / "uploads").glob(f"{upload_id}*"))
    assert leftovers == []
    assert not [key for key in multipart_uploads(live) if key.endswith(upload_id)]
    with live.client() as client:
        events = client.get(
            "/sentinel/events", params={"kind": "upload", "subject": upload_id}
        ).json()["events"]
    assert [e["data"]["state"] for e in events] == ["terminated"]


def test_tus_resumable_is_required(live: Live) -> None:
    with live.client() as client:
        missing = client.post("/uploads", headers={"Upload-Length": "10"})
        assert missing.status_code == 412
        assert missing.headers["Tus-Version"] == "1.0.0"
        old = client.post("/uploads", headers={"Tus-Resumable": "0.2.2", "Upload-Length": "10"})
        assert old.status_code == 412
        location = new_upload(client, 10)
        patched = client.patch(
            location, content=b"x", headers={**OFFSET_TYPE, "Upload-Offset": "0"}
        )
        assert patched.status_code == 412
        assert client.head(location).status_code == 412


def test_bad_input_is_4xx_naming_the_header(live: Live) -> None:
    with live.client() as client:
        cases = [
            ({}, "Upload-Length"),
            ({"Upload-Length": "-1"}, "Upload-Length"),
            ({"Upload-Length": "ten"}, "Upload-Length"),
            ({"Upload-Length": "10", "Upload-Metadata": "file name"}, "Upload-Metadata"),
            ({"Upload-Length": "10", "Upload-Metadata": "filename !!"}, "Upload-Metadata"),
            ({"Upload-Length": "10", "Upload-Metadata": "sha256 YWJj"}, "Upload-Metadata"),
        ]
        for headers, field in cases:
            answer = client.post("/uploads", headers={**TUS, **headers})
            assert answer.status_code == 422, (headers, answer.text)
            assert answer.json()["error"]["field"] == field
        big = client.post("/uploads", headers={**TUS, "Upload-Length": str(10**15)})
        assert big.status_code == 413
        location = new_upload(client, 10)
        wrong_type = client.patch(
            location,
            content=b"x",
            headers={**TUS, "Content-Type": "text/plain", "Upload-Offset": "0"},
        )
        assert wrong_type.status_code == 415
        too_long = send(client, location, 0, b"x" * 11)
        assert too_long.status_code == 413
        no_offset = client.patch(location, content=b"x", headers={**TUS, **OFFSET_TYPE})
        assert no_offset.status_code == 422
        assert offset_of(client, location) == 0
        assert head(client, "/uploads/" + "0" * 32).status_code == 404
        no_key = client.post("/uploads", headers={**TUS, "Upload-Length": "1", "Authorization": ""})
        assert no_key.status_code == 401
        assert no_key.headers["Tus-Resumable"] == "1.0.0"


def test_a_large_upload_in_one_patch(live: Live) -> None:
    """On S3: three full parts, sent two at a time while the next fills, and a tail."""
    data = os.urandom(26 * 1024 * 1024 + 5)
    digest = hashlib.sha256(data).hexdigest()
    with live.client() as client:
        location = new_upload(client, len(data), sha256=digest)
        answer = send(client, location, 0, data)
        assert answer.status_code == 204, answer.text
        assert answer.headers["Tzzr-Sha256"] == digest
    assert live.services.blobs.scoped("deck").read_all(digest) == data
    upload_id = location.rsplit("/", 1)[1]
    assert not [key for key in multipart_uploads(live) if key.endswith(upload_id)]
