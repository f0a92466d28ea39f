"""SHA-256 whose state survives the process: an upload resumed after a restart goes on
hashing from the stored state instead of reading back the bytes it already has.

hashlib's objects cannot be serialized; `rehashes` (CERT Polska, RustCrypto's sha2 with
the CPU's SHA extensions) can, with its own small state format, at hashlib's speed.
`rehash`, the pickling wrapper of hashlib, refuses OpenSSL 3."""

from typing import Protocol, cast

import rehashes  # type: ignore[import-untyped]


class _Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def finalize(self) -> str: ...
    def serialize(self) -> bytes: ...


class ResumableSha256:
    def __init__(self, state: bytes | None = None) -> None:
        self._hasher = cast(
            _Hasher,
            rehashes.PySha256() if state is None else rehashes.PySha256.deserialize(state),
        )

    def update(self, data: bytes) -> None:
        self._hasher.update(data)

    def state(self) -> bytes:
        return bytes(self._hasher.serialize())

    def hexdigest(self) -> str:
        """The digest of everything so far (the hasher goes on unchanged)."""
        copy = cast(_Hasher, rehashes.PySha256.deserialize(self.state()))
        return copy.finalize()
