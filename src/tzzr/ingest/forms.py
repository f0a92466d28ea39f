"""The two body forms of `POST /ingest`, both fed into a ContainerBuilder as they
stream: JSON with base64 files, and multipart/form-data with `metadata` and `file`
parts (parsed incrementally: a file is never held whole in memory)."""

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from tzzr import jsonlimits
from tzzr.blobs import BlobWriter
from tzzr.devices.registry import MAX_CLAIM_BYTES, Claim
from tzzr.errors import InvalidInput, TooLarge
from tzzr.ingest.service import DIGEST_HEADER, ContainerBuilder
from tzzr.ingest.writebehind import WriteBehind
from tzzr.validation import base64_field, invalid_input


class JsonFile(BaseModel):
    """`content` (base64; `sha256`, if given, is checked against it), or only `sha256`:
    the file of a completed tus upload of the instance (ingest by reference)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    media_type: str | None = None
    content: str | None = None
    sha256: str | None = None


class JsonContainer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, Any] = {}
    files: list[JsonFile] = []
    device: Claim | None = None  # beside metadata, not in it: the address stays the same


async def read_limited(stream: AsyncIterator[bytes], max_bytes: int, hint: str = "") -> bytes:
    """A whole body, refused (413) as soon as it passes `max_bytes`."""
    body = bytearray()
    async for chunk in stream:
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge(f"a JSON body is limited to {max_bytes} bytes{hint}")
    return bytes(body)


async def read_json(
    stream: AsyncIterator[bytes], builder: ContainerBuilder, max_bytes: int
) -> None:
    body = await read_limited(stream, max_bytes, "; send large files as multipart/form-data")
    raw = jsonlimits.loads(body)
    try:
        container = JsonContainer.model_validate(raw)
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    builder.set_metadata(container.metadata)
    if container.device is not None:
        builder.set_device(container.device)
    for position, item in enumerate(container.files):
        if item.content is None:
            if item.sha256 is None:
                raise InvalidInput(
                    "a file needs its bytes as base64 'content', or the 'sha256' of a "
                    "completed upload (/uploads)",
                    field=f"files[{position}].content",
                )
            builder.add_uploaded(item.name, item.media_type, item.sha256)
            continue
        writer = builder.new_file(item.name, item.media_type, item.sha256)
        data = base64_field(item.content, f"files[{position}].content")
        builder.count(len(data))
        writer.write(data)


def _digest_from_header(value: str | None, position: int) -> str | None:
    """RFC 9530 `Content-Digest: sha-256=:<base64>:` on a part, if the client sent one."""
    if not value:
        return None
    match = DIGEST_HEADER.search(value)
    if match is None:
        return None
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except binascii.Error as exc:
        raise InvalidInput(
            "Content-Digest sha-256 is not valid base64", field=f"files[{position}].sha256"
        ) from exc
    return raw.hex()


class _MultipartHandler:
    def __init__(self, builder: ContainerBuilder, max_metadata: int) -> None:
        self.builder = builder
        self.behind = WriteBehind()  # files' bytes are hashed and written on a thread
        self.max_metadata = max_metadata
        self.headers: dict[str, str] = {}
        self.field = b""
        self.value = b""
        self.metadata: bytearray | None = None
        self.device: bytearray | None = None
        self.writer: BlobWriter | None = None
        self.ended = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.headers = {}
        self.metadata = None
        self.device = None
        self.writer = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.field.decode("latin-1").lower()] = self.value.decode("utf-8", "replace")
        self.field = b""
        self.value = b""

    def on_headers_finished(self) -> None:
        # As bytes: the parser reads them as latin-1 and gives the same bytes back, so a
        # UTF-8 filename survives (a str it re-encodes as latin-1: 500 past U+00FF).
        raw = self.headers.get("content-disposition", "").encode()
        disposition, options = parse_options_header(raw)
        if disposition != b"form-data":
            raise InvalidInput("every part needs 'Content-Disposition: form-data'", field="body")
        name = options.get(b"name", b"").decode()
        filename = options.get(b"filename")
        if name == "metadata" and filename is None:
            self.metadata = bytearray()
        elif name == "device" and filename is None:  # anywhere in the form: checked at the end
            self.device = bytearray()
        elif name == "file" or filename is not None:
            position = self.builder.file_count
            self.writer = self.builder.new_file(
                filename.decode("utf-8", "replace") if filename is not None else None,
                self.headers.get("content-type"),
                _digest_from_header(self.headers.get("content-digest"), position),
            )
        else:
            raise InvalidInput(
                f"unknown form field {name!r}: send a 'metadata' field (JSON), one or "
                "more 'file' parts and optionally a 'device' field (JSON)",
                field=name or "body",
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.writer is not None:
            self.behind.add(self.writer, data, start, end)
            return
        chunk = data[start:end]
        if self.metadata is not None:
            self.metadata += chunk
            if len(self.metadata) > self.max_metadata:
                raise TooLarge(f"metadata is larger than the limit of {self.max_metadata} bytes")
        elif self.device is not None:
            self.device += chunk
            if len(self.device) > MAX_CLAIM_BYTES:
                raise TooLarge(f"device is larger than the limit of {MAX_CLAIM_BYTES} bytes")

    def on_part_end(self) -> None:
        self.behind.end_file()
        if self.metadata is not None:
            self.builder.set_metadata(bytes(self.metadata))
        if self.device is not None:
            self.builder.set_device(bytes(self.device))
        self.metadata = None
        self.device = None
        self.writer = None

    def on_end(self) -> None:
        self.ended = True


async def read_multipart(
    stream: AsyncIterator[bytes], content_type: str, builder: ContainerBuilder
) -> None:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidInput(
            "multipart/form-data needs a boundary parameter in Content-Type", field="body"
        )
    handler = _MultipartHandler(builder, builder.max_metadata_bytes)
    parser = MultipartParser(boundary, handler.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in stream:
            builder.count(len(chunk))
            try:
                parser.write(chunk)
            except MultipartParseError as exc:  # the parser's complaint; our own errors pass
                raise InvalidInput(f"malformed multipart body: {exc}", field="body") from exc
            await handler.behind.drain()
        parser.finalize()
        await handler.behind.drain(final=True)
    finally:
        handler.behind.settle()  # before the builder aborts the files on an error
    if not handler.ended:
        raise InvalidInput("the multipart body ended before its closing boundary", field="body")
