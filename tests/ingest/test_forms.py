"""Reading a container from the wire (tzzr.ingest.forms): JSON bodies with base64
files and streamed multipart forms, every error naming its field and writing nothing."""

import asyncio
import base64
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Live
from tests.ingest.conftest import entry_count, multipart, stored, unique_meta
from tzzr.errors import InvalidInput, TooLarge
from tzzr.ingest.forms import _digest_from_header, read_limited


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


def test_a_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    seen: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(10):
            seen.append(n)
            yield b"x" * 4

    assert asyncio.run(read_limited(chunks(), 40)) == b"x" * 40
    seen.clear()
    with pytest.raises(TooLarge, match="limited to 10 bytes; hint"):
        asyncio.run(read_limited(chunks(), 10, "; hint"))
    assert seen == [0, 1, 2]  # it stopped reading at the third chunk


def test_a_content_digest_header_gives_the_hex_digest() -> None:
    digest = hashlib.sha256(b"x").digest()
    header = f"sha-512=:AAAA:, sha-256=:{base64.b64encode(digest).decode()}:"
    assert _digest_from_header(header, 0) == digest.hex()
    assert _digest_from_header(None, 0) is None
    assert _digest_from_header("md5=:AAAA:", 0) is None
    with pytest.raises(InvalidInput) as caught:
        _digest_from_header("sha-256=:abc=def:", 2)
    assert caught.value.field == "files[2].sha256"
