"""GRACE contract 2.1: the envelope every cell receives, local or remote."""

import functools
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tzzr.blobs import BlobStore
from tzzr.cells.base import CellFailed, Payload
from tzzr.errors import InvalidInput, NotFound, TooLarge
from tzzr.types import is_hex_digest
from tzzr.validation import base64_field


class Routing(BaseModel):
    module: str


class EnvelopePayload(BaseModel):
    type: str
    encoding: Literal["base64", "blob", "url"]
    content: str
    media_type: str | None = None


class Context(BaseModel):
    model_config = ConfigDict(extra="allow")
    lang: str | None = None


class Envelope(BaseModel):
    contract_version: Literal["2.1"]
    routing: Routing
    payload: EnvelopePayload
    context: Context = Context()
    params: dict[str, Any] = {}


class RunRequest(BaseModel):
    """RunPod's request shape: `{"input": <envelope>, "id"?}`."""

    input: Envelope
    id: str | None = None


def load_payload(
    envelope: Envelope,
    store: BlobStore | None,
    max_bytes: int,
    check: Callable[[int], None] | None = None,
) -> Payload:
    """The payload's bytes. Bad base64 fails the run (CellFailed); a blob that is not
    in the caller's instance is 404; url payloads are refused until fetching lands.
    Over `max_bytes` is 413, or what `check(size)` raises; a blob's size is checked
    before it is read."""
    if check is None:
        check = functools.partial(_at_most, max_bytes)
    payload = envelope.payload
    if payload.encoding == "base64":
        data = base64_field(payload.content, "payload.content", CellFailed)
    elif payload.encoding == "blob":
        digest = payload.content.lower()
        if store is None:
            raise InvalidInput(
                "blob payloads need a TZZR server; send base64 here", field="payload.encoding"
            )
        if not is_hex_digest(digest):
            raise InvalidInput(
                "a blob payload's content is a sha256 hex digest", field="payload.content"
            )
        size = store.size(digest)
        if size is None:
            raise NotFound(f"no blob {digest} in this instance; ingest it first")
        check(size)
        data = store.read_all(digest)
    else:
        raise InvalidInput(
            "url payloads are not supported yet: send base64 or blob", field="payload.encoding"
        )
    check(len(data))
    return Payload(payload.type, data, payload.media_type)


def _at_most(max_bytes: int, size: int) -> None:
    if size > max_bytes:
        raise TooLarge(
            f"the payload is {size} bytes; the limit is {max_bytes} bytes",
            field="payload.content",
        )
