"""`POST /ingest` over HTTP, on every backend combination."""

import base64
import hashlib
import json
import os
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import Live
from tzzr.canonical import h_entrada
from tzzr.db.models import Entry


def unique_meta(**extra: Any) -> dict[str, Any]:
    return {"test": uuid.uuid4().hex, **extra}


def entry_count(live: Live) -> int:
    with live.services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Entry)).scalar_one())


def stored(live: Live, data: bytes, instance: str = "deck") -> bool:
    store = live.services.blobs.scoped(instance)
    return store.exists(hashlib.sha256(data).hexdigest())


def multipart(
    client: httpx.Client, meta: dict[str, Any], *files: tuple[str, bytes, str]
) -> httpx.Response:
    return client.post(
        "/ingest",
        data={"metadata": json.dumps(meta)},
        files=[("file", f) for f in files],
    )


def test_no_key_is_401_with_a_challenge(live: Live) -> None:
    with live.client(key="") as anonymous:
        response = anonymous.post("/ingest", json={"metadata": {}})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]["message"]
    with live.client(key="tzzr_0000_wrong") as wrong:
        assert wrong.post("/ingest", json={"metadata": {}}).status_code == 401


def test_multipart_ingest_then_duplicate(live: Live) -> None:
    meta = unique_meta(note="receipt")
    photo = os.urandom(50_000)
    with live.client() as client:
        first = multipart(client, meta, ("receipt.jpg", photo, "image/jpeg"))
        assert first.status_code == 200, first.text
        body = first.json()
        expected = h_entrada(
            meta,
            [
                {
                    "name": "receipt.jpg",
                    "media_type": "image/jpeg",
                    "sha256": hashlib.sha256(photo).hexdigest(),
                    "size": len(photo),
                }
            ],
        )
        assert body["h_entrada"] == expected
        assert body["h_instancia"] == live.services.instances.get("deck").h_instancia
        assert body["files"][0]["sha256"] == hashlib.sha256(photo).hexdigest()
        assert stored(live, photo)

        again = multipart(client, meta, ("receipt.jpg", photo, "image/jpeg"))
        assert again.status_code == 409
        assert again.json()["h_entrada"] == expected
        assert again.headers["location"] == f"/entries/{expected}"
        assert client.get(again.headers["location"]).json()["h_entrada"] == expected


def test_json_and_multipart_forms_address_the_same_container(live: Live) -> None:
    meta = unique_meta()
    data = b"hello, world"
    with live.client() as client:
        as_json = client.post(
            "/ingest",
            json={
                "metadata": meta,
                "files": [
                    {
                        "name": "a.txt",
                        "media_type": "text/plain",
                        "content": base64.b64encode(data).decode(),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                ],
            },
        )
        assert as_json.status_code == 200, as_json.text
        as_form = multipart(client, meta, ("a.txt", data, "text/plain"))
        assert as_form.status_code == 409
        assert as_form.json()["h_entrada"] == as_json.json()["h_entrada"]


def test_metadata_only_containers_are_fine(live: Live) -> None:
    with live.client() as client:
        response = client.post("/ingest", json={"metadata": unique_meta(kind="record")})
    assert response.status_code == 200
    assert response.json()["files"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metadata": {}, "files": [{"name": "a", "content": "!!notbase64"}]}, "files[0].content"),
        ({"metadata": [], "files": []}, "metadata"),
        ({"metadata": {}, "files": [{"content": "aGk="}]}, "files[0].name"),
        (
            {"metadata": {}, "files": [{"name": "a", "content": "aGk=", "sha256": "ab" * 32}]},
            "files[0].sha256",
        ),
        (
            {"metadata": {}, "files": [{"name": "a", "content": "aGk=", "media_type": "nope"}]},
            "files[0].media_type",
        ),
        ({"metadata": {"n": 2**60}}, "metadata.n"),
        ({"metadata": {}, "extra": 1}, "extra"),
    ],
)
def test_malformed_json_containers_are_422_naming_the_field(
    live: Live, body: dict[str, Any], field: str
) -> None:
    before = entry_count(live)
    with live.client() as client:
        response = client.post("/ingest", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert entry_count(live) == before
    assert not stored(live, b"hi")


def test_invalid_json_and_wrong_content_types(live: Live) -> None:
    with live.client() as client:
        broken = client.post(
            "/ingest", content=b'{"metadata":', headers={"content-type": "application/json"}
        )
        assert broken.status_code == 422
        assert "not valid JSON" in broken.json()["error"]["message"]
        text = client.post("/ingest", content=b"x", headers={"content-type": "text/plain"})
        assert text.status_code == 415


def test_multipart_errors_write_nothing(live: Live) -> None:
    before = entry_count(live)
    payload = os.urandom(10_000)
    with live.client() as client:
        unknown = client.post(
            "/ingest", data={"metadata": "{}", "bogus": "1"}, files=[("file", ("a.bin", payload))]
        )
        assert unknown.status_code == 422
        assert unknown.json()["error"]["field"] == "bogus"
        bad_meta = client.post(
            "/ingest", data={"metadata": "{not json"}, files=[("file", ("a.bin", payload))]
        )
        assert bad_meta.status_code == 422
        assert bad_meta.json()["error"]["field"] == "metadata"
        digest = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        request = client.build_request("POST", "/ingest", files=[("file", ("a.bin", payload))])
        body = request.read().replace(
            b"Content-Type: application/octet-stream",
            f"Content-Type: application/octet-stream\r\nContent-Digest: sha-256=:{digest}:".encode(),
        )
        mismatch = client.post(
            "/ingest", content=body, headers={"content-type": request.headers["content-type"]}
        )
        assert mismatch.status_code == 422
        assert mismatch.json()["error"]["field"] == "files[0].sha256"
        truncated = client.post(
            "/ingest",
            content=body[: len(body) // 2],
            headers={"content-type": request.headers["content-type"]},
        )
        assert truncated.status_code == 422
        assert "closing boundary" in truncated.json()["error"]["message"]
    assert entry_count(live) == before
    assert not stored(live, payload)


def test_limits_are_413_and_write_nothing(live: Live) -> None:
    before = entry_count(live)
    big = os.urandom(2 * 1024 * 1024 + 1)
    with live.client() as client:
        too_big = multipart(client, unique_meta(), ("big.bin", big, "application/octet-stream"))
        assert too_big.status_code == 413
        too_many = multipart(
            client, unique_meta(), *[(f"{i}.txt", b"x%d" % i, "text/plain") for i in range(5)]
        )
        assert too_many.status_code == 413
        assert "at most 4 files" in too_many.json()["error"]["message"]
        json_body = client.post("/ingest", json={"metadata": {"pad": "x" * (1024 * 1024)}})
        assert json_body.status_code == 413
    assert entry_count(live) == before
    assert not stored(live, big)
    assert not stored(live, b"x0")


def test_company_fields_are_required_on_corp(live: Live) -> None:
    corp_key, _ = live.services.keys.create("corp", "admin")
    with live.client(corp_key) as client:
        missing = client.post("/ingest", json={"metadata": {"company_id": "ES1"}})
        assert missing.status_code == 422
        assert missing.json()["error"]["field"] == "metadata.cost_center"
        ok = client.post(
            "/ingest", json={"metadata": unique_meta(company_id="ES1", cost_center="A")}
        )
        assert ok.status_code == 200
        assert ok.json()["h_instancia"] == live.services.instances.get("corp").h_instancia


def test_roles_are_enforced(live: Live) -> None:
    read_key, _ = live.services.keys.create("deck", "read")
    ingest_key, _ = live.services.keys.create("deck", "ingest")
    with live.client(read_key) as client:
        assert client.post("/ingest", json={"metadata": unique_meta()}).status_code == 403
        assert client.get("/entries").status_code == 200
    with live.client(ingest_key) as client:
        assert client.post("/ingest", json={"metadata": unique_meta()}).status_code == 200
        assert client.get("/entries").status_code == 403
