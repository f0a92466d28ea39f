"""GRACE contract 2.1 envelopes: what the model accepts, and load_payload's bytes from
base64 or a blob of the caller's instance, with the size checked before a blob is read.
Over HTTP (/grace/runsync) in tests/api/test_grace.py."""

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from tzzr.blobs.memory import MemoryBlobStore
from tzzr.cells.base import CellFailed
from tzzr.cells.envelope import Envelope, RunRequest, load_payload
from tzzr.errors import InvalidInput, NotFound, TooLarge


def envelope(content: str, encoding: str = "base64", **payload: Any) -> Envelope:
    return Envelope.model_validate(
        {
            "contract_version": "2.1",
            "routing": {"module": "OCR_CORE"},
            "payload": {"type": "image", "encoding": encoding, "content": content, **payload},
        }
    )


def test_the_request_shape_and_its_defaults() -> None:
    request = RunRequest.model_validate(
        {
            "input": {
                "contract_version": "2.1",
                "routing": {"module": "ASR_ENGINE"},
                "payload": {"type": "audio", "encoding": "base64", "content": ""},
                "context": {"lang": "en", "trace": "kept"},
            }
        }
    )
    assert request.id is None and request.input.routing.module == "ASR_ENGINE"
    assert request.input.context.lang == "en" and request.input.params == {}
    assert request.input.context.model_extra == {"trace": "kept"}  # extra context stays
    assert envelope("").context.lang is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contract_version": "2.0"}, "contract_version"),
        ({"payload": {"type": "image", "encoding": "ftp", "content": ""}}, "payload"),
        ({"routing": {}}, "routing"),
    ],
)
def test_other_versions_encodings_and_missing_routing_are_refused(
    change: dict[str, Any], field: str
) -> None:
    data = {
        "contract_version": "2.1",
        "routing": {"module": "OCR_CORE"},
        "payload": {"type": "image", "encoding": "base64", "content": ""},
        **change,
    }
    with pytest.raises(ValidationError) as caught:
        Envelope.model_validate(data)
    assert caught.value.errors()[0]["loc"][0] == field


def test_base64_payloads_are_decoded_strictly() -> None:
    loaded = load_payload(
        envelope(base64.b64encode(b"hello").decode(), media_type="image/png"), None, 100
    )
    assert (loaded.type, loaded.data, loaded.media_type) == ("image", b"hello", "image/png")
    with pytest.raises(CellFailed, match="not valid base64") as caught:
        load_payload(envelope("!!!not base64"), None, 100)
    assert caught.value.field == "payload.content"


def test_a_payload_over_the_limit_is_413_or_what_the_check_raises() -> None:
    five = base64.b64encode(b"12345").decode()
    assert load_payload(envelope(five), None, 5).data == b"12345"
    with pytest.raises(TooLarge, match="5 bytes; the limit is 4 bytes") as caught:
        load_payload(envelope(five), None, 4)
    assert caught.value.field == "payload.content"
    seen: list[int] = []

    def check(size: int) -> None:
        seen.append(size)
        raise InvalidInput("the cell's own limit", field="params")

    with pytest.raises(InvalidInput, match="own limit"):
        load_payload(envelope(five), None, 1000, check)
    assert seen == [5]


def test_a_blob_payload_is_read_from_the_instances_store() -> None:
    root = MemoryBlobStore()
    deck, corp = root.scoped("deck"), root.scoped("corp")
    blob = deck.put(b"deck's image")
    assert load_payload(envelope(blob.sha256.upper(), "blob"), deck, 100).data == b"deck's image"
    with pytest.raises(NotFound, match="ingest it first"):
        load_payload(envelope(blob.sha256, "blob"), corp, 100)
    with pytest.raises(InvalidInput, match="sha256 hex digest") as bad:
        load_payload(envelope("not-a-digest", "blob"), deck, 100)
    assert bad.value.field == "payload.content"
    with pytest.raises(InvalidInput, match="need a TZZR server") as nowhere:
        load_payload(envelope(blob.sha256, "blob"), None, 100)
    assert nowhere.value.field == "payload.encoding"


def test_a_blob_over_the_limit_is_refused_before_it_is_read() -> None:
    class Unreadable(MemoryBlobStore):
        def read_all(self, digest: str) -> bytes:
            raise AssertionError("read a blob over the limit")

    store = Unreadable()
    blob = store.put(b"x" * 50)
    with pytest.raises(TooLarge, match="50 bytes; the limit is 10"):
        load_payload(envelope(blob.sha256, "blob"), store, 10)


def test_url_payloads_are_refused_naming_the_encoding() -> None:
    with pytest.raises(InvalidInput, match="url payloads are not supported") as caught:
        load_payload(envelope("https://example.org/a.png", "url"), MemoryBlobStore(), 100)
    assert caught.value.field == "payload.encoding"
