"""In-memory backend for fast unit tests."""

import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Self

from tzzr.blobs.store import CHUNK, BlobStore


class _MemorySink:
    def __init__(self, objects: dict[str, tuple[bytes, datetime]]) -> None:
        self._objects = objects
        self._buffer = io.BytesIO()

    def write(self, chunk: bytes) -> None:
        self._buffer.write(chunk)

    def write_many(self, chunks: Sequence[bytes | memoryview]) -> None:
        for chunk in chunks:
            self._buffer.write(chunk)

    def commit(self, key: str) -> None:
        self._objects[key] = (self._buffer.getvalue(), datetime.now(UTC))

    def abort(self) -> None:
        self._buffer = io.BytesIO()


class MemoryBlobStore(BlobStore):
    scheme = "memory"

    def __init__(self, prefix: str = "", objects: dict[str, tuple[bytes, datetime]] | None = None):
        super().__init__(prefix)
        self._objects: dict[str, tuple[bytes, datetime]] = {} if objects is None else objects

    def _clone(self, prefix: str) -> Self:
        return type(self)(prefix, self._objects)

    def _sink(self) -> _MemorySink:
        return _MemorySink(self._objects)

    def _exists(self, key: str) -> bool:
        return key in self._objects

    def _size(self, key: str) -> int | None:
        found = self._objects.get(key)
        return None if found is None else len(found[0])

    def _read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        data = self._objects[key][0]
        for offset in range(start, end + 1, CHUNK):
            yield data[offset : min(offset + CHUNK, end + 1)]

    def _put_named(self, key: str, data: bytes) -> None:
        self._objects[key] = (data, datetime.now(UTC))

    def _delete(self, key: str) -> None:
        self._objects.pop(key, None)

    def _list(self, prefix: str) -> Iterator[tuple[str, int, datetime]]:
        for key, (data, modified) in list(self._objects.items()):
            if not prefix or key.startswith(prefix + "/"):
                yield key, len(data), modified
