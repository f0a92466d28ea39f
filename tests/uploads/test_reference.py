"""Ingest by reference: a JSON file item names a completed upload's sha256 instead of
its content, and the entry's address is the same as when the bytes come inline."""

import base64
import hashlib
import os
import uuid

from tests.conftest import Live
from tests.uploads.conftest import new_upload, send, upload


def test_the_same_capture_has_the_same_address_either_way(live: Live) -> None:
    data = os.urandom(300_000)
    digest = hashlib.sha256(data).hexdigest()
    meta = {"note": uuid.uuid4().hex}
    with live.client() as client:
        assert upload(client, data, chunk=100_000)["sha256"] == digest
        by_reference = client.post(
            "/ingest",
            json={
                "metadata": meta,
                "files": [{"name": "v.mp4", "media_type": "video/mp4", "sha256": digest}],
            },
        )
        assert by_reference.status_code == 200, by_reference.text
        inline = client.post(
            "/ingest",
            json={
                "metadata": meta,
                "files": [
                    {
                        "name": "v.mp4",
                        "media_type": "video/mp4",
                        "content": base64.b64encode(data).decode(),
                    }
                ],
            },
        )
    assert inline.status_code == 409  # the same container: the same h_entrada
    assert inline.json()["h_entrada"] == by_reference.json()["h_entrada"]
    assert by_reference.json()["files"][0]["size"] == len(data)
    assert live.services.blobs.scoped("deck").read_all(digest) == data


def test_no_such_upload_is_422_naming_the_field(live: Live) -> None:
    with live.client() as client:
        location = new_upload(client, 10)
        assert send(client, location, 0, b"12345").status_code == 204  # open, not complete
        partial = hashlib.sha256(b"12345").hexdigest()
        cases = [
            ({"name": "a", "sha256": "ab" * 32}, "files[0].sha256"),
            ({"name": "a", "sha256": partial}, "files[0].sha256"),
            ({"name": "a", "sha256": "xyz"}, "files[0].sha256"),
            ({"name": "a"}, "files[0].content"),
        ]
        for item, field in cases:
            answer = client.post("/ingest", json={"metadata": {}, "files": [item]})
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"]["field"] == field


def test_another_instances_upload_is_not_found(live: Live) -> None:
    data = os.urandom(1000)
    digest = hashlib.sha256(data).hexdigest()
    corp_key, _ = live.services.keys.create("corp", "ingest")
    with live.client() as client:
        upload(client, data)
    with live.client(corp_key) as corp:
        answer = corp.post(
            "/ingest", json={"metadata": {}, "files": [{"name": "a", "sha256": digest}]}
        )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "files[0].sha256"
