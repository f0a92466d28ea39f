"""The `tzzr ingest --url` client: a multipart upload hashed as it leaves, checked
against the digests the server answers with. `tzzr ingest --url` against a real server
is in tests/cli/test_ingest.py."""

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tzzr.client import IngestError, upload

BIG = bytes(range(256)) * 1000  # several reads


def files(tmp_path: Path) -> list[Path]:
    (tmp_path / "a.png").write_bytes(BIG)
    (tmp_path / "notes.unknownext").write_bytes(b"plain notes")
    return [tmp_path / "a.png", tmp_path / "notes.unknownext"]


def server(status: int, answer: Any, seen: list[bytes] | None = None) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/ingest"
        body = request.read()
        if seen is not None:
            seen.append(body)
        return httpx.Response(status, json=answer(body) if callable(answer) else answer)

    return httpx.Client(base_url="http://tzzr.test", transport=httpx.MockTransport(handle))


def stored(*contents: bytes) -> dict[str, Any]:
    return {"files": [{"sha256": hashlib.sha256(c).hexdigest()} for c in contents]}


def test_an_upload_sends_every_file_and_its_metadata(tmp_path: Path) -> None:
    paths = files(tmp_path)
    seen: list[bytes] = []
    progress: list[int] = []
    with server(200, stored(BIG, b"plain notes"), seen) as client:
        status, body = upload(client, paths, {"lang": "es"}, progress.append)
    assert status == 200 and len(body["files"]) == 2
    assert sum(progress) == len(BIG) + len(b"plain notes")
    sent = seen[0]
    assert BIG in sent and b"plain notes" in sent
    assert b'name="metadata"' in sent and json.dumps({"lang": "es"}).encode() in sent
    assert b'filename="a.png"' in sent and b"Content-Type: image/png" in sent
    assert b'filename="notes.unknownext"' in sent
    assert b"Content-Type: application/octet-stream" in sent


def test_a_digest_the_server_did_not_receive_is_an_error(tmp_path: Path) -> None:
    wrong = server(200, stored(BIG, b"something else"))
    with wrong, pytest.raises(IngestError, match="server stored") as caught:
        upload(wrong, files(tmp_path), {}, lambda n: None)
    assert caught.value.status == 502
    swapped = server(200, stored(b"plain notes", BIG))  # the order matters too
    with swapped, pytest.raises(IngestError, match="but we sent"):
        upload(swapped, files(tmp_path), {}, lambda n: None)


def test_a_duplicate_is_answered_without_a_digest_check(tmp_path: Path) -> None:
    duplicate = {"error": {"code": "duplicate", "message": "already recorded"}, "h": "x"}
    with server(409, duplicate) as client:
        assert upload(client, files(tmp_path), {}, lambda n: None) == (409, duplicate)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"error": {"code": "too_large", "message": "the file is too big"}}, "the file is too big"),
        (["not", "a", "problem"], "['not', 'a', 'problem']"),
        ({"detail": "odd"}, "{'detail': 'odd'}"),
    ],
)
def test_a_refusal_raises_with_its_status_and_message(
    tmp_path: Path, answer: Any, message: str
) -> None:
    with server(413, answer) as client, pytest.raises(IngestError) as caught:
        upload(client, files(tmp_path), {}, lambda n: None)
    assert caught.value.status == 413 and str(caught.value) == f"HTTP 413: {message}"


def test_the_files_are_closed_whatever_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = files(tmp_path)
    opened: list[Any] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        opened.append(handle)
        return handle

    monkeypatch.setattr(Path, "open", spy)
    with server(500, {"error": {"message": "boom"}}) as client, pytest.raises(IngestError):
        upload(client, paths, {}, lambda n: None)
    with server(200, stored(BIG, b"plain notes")) as client:
        upload(client, paths, {}, lambda n: None)
    assert len(opened) == 4 and all(handle.closed for handle in opened)
