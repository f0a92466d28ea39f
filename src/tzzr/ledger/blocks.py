"""Blocks: what a seal closes, the hash that chains them, and a block's own root."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tzzr.canonical import canonical_json
from tzzr.ledger.hashing import EMPTY_ROOT, root_hash
from tzzr.ledger.leaves import timestamp
from tzzr.ledger.proof import node_hash
from tzzr.ledger.tiles import TileReader
from tzzr.times import in_utc, parse_rfc3339, rfc3339

GENESIS = "0" * 64


@dataclass(frozen=True)
class Block:
    number: int
    first_index: int
    last_index: int
    ts_start: datetime
    ts_end: datetime
    block_root: str
    tree_size: int
    tree_root: str
    prev_hash: str
    block_hash: str
    checkpoint: str
    key_id: str
    created_at: datetime

    def header(self) -> dict[str, Any]:
        """What `block_hash` covers (everything but the hash, the note and the key)."""
        return {
            "number": self.number,
            "first_index": self.first_index,
            "last_index": self.last_index,
            "ts_start": timestamp(self.ts_start),
            "ts_end": timestamp(self.ts_end),
            "block_root": self.block_root,
            "tree_size": self.tree_size,
            "tree_root": self.tree_root,
            "prev_hash": self.prev_hash,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **self.header(),
            "block_hash": self.block_hash,
            "checkpoint": self.checkpoint,
            "key_id": self.key_id,
            "created_at": rfc3339(self.created_at),  # not hashed: the header is
            "leaves": self.last_index - self.first_index + 1,
        }

    @classmethod
    def from_row(cls, row: Any) -> "Block":
        return cls(
            row.number,
            row.first_index,
            row.last_index,
            row.ts_start,
            row.ts_end,
            row.block_root,
            row.tree_size,
            row.tree_root,
            row.prev_hash,
            row.block_hash,
            row.checkpoint,
            row.key_id,
            row.created_at,
        )


def as_utc(value: datetime | str) -> datetime:
    """A timestamp as the driver returns it (SQLite: SQLAlchemy's naive UTC text)."""
    return parse_rfc3339(value) if isinstance(value, str) else in_utc(value)


def block_root(start: int, hashes: list[bytes], log: TileReader) -> bytes:
    """The Merkle root of a block's own leaves (`hashes`, log indices from `start`).

    A perfect subtree of the block's tree at (level, i) covers log leaves
    start + i·2^level …; when `start` is a multiple of 2^level that is also a perfect
    subtree of the log, already hashed into its tiles, so only unaligned parts are
    hashed again (none at all for a block that starts at 0).
    """

    def perfect(level: int, index: int) -> bytes:
        if start % (1 << level) == 0:
            return log.perfect(level, index + (start >> level))
        return root_hash(hashes[index << level : (index + 1) << level])

    return node_hash(0, len(hashes), perfect) if hashes else EMPTY_ROOT


def block_hash(header: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(header)).hexdigest()
