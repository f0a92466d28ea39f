"""The ledger's storage: append leaves, seal blocks, answer proofs from tiles.

Storage only: it knows leaves, tiles, blocks and the head counter, not what the leaves
attest (entries, runs) nor who hears of a block (`tzzr.feldman.sealing` does both).
Appending is one reservation and one bulk write below the ORM; sealing reads the new
leaves' hashes once, writes the tiles they change (O(k + log n)), and signs a
checkpoint; a proof reads O(log n) subtree hashes.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from tzzr.blobs import BlobStore
from tzzr.db.engine import write_transaction
from tzzr.db.models import LedgerBlock, LedgerHead, LedgerLeaf, LedgerTile, utcnow
from tzzr.db.rows import instance_row
from tzzr.errors import InvalidInput, NotFound
from tzzr.feldman.signing import Signer, SigningKeys
from tzzr.instances import InstanceInfo
from tzzr.ledger import checkpoint as notes
from tzzr.ledger import tlog
from tzzr.ledger.blocks import GENESIS, Block, as_utc, block_hash, block_root
from tzzr.ledger.hashing import HASH_SIZE, hash_leaf
from tzzr.ledger.leaves import encode_many
from tzzr.ledger.proof import consistency_ranges, inclusion_ranges, node_hash
from tzzr.ledger.tiles import WIDTH, TileKey, TileReader, extend, tiles_for

log = logging.getLogger("tzzr.feldman")

# (kind, ref, hash, ts, extra): what a caller appends; the log adds instance and index.
Record = tuple[str, str, str, datetime, dict[str, Any] | None]


@dataclass(frozen=True)
class Inclusion:
    index: int
    tree_size: int
    leaf: bytes
    proof: list[bytes]
    root: bytes
    checkpoint: str

    def as_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.index,
            "tree_size": self.tree_size,
            "leaf": self.leaf.decode(),
            "leaf_hash": hash_leaf(self.leaf).hex(),
            "proof": [p.hex() for p in self.proof],
            "root": self.root.hex(),
            "checkpoint": self.checkpoint,
        }


# Built once: statements built per call cost more than the SQL they run.
_RESERVE = (
    update(LedgerHead)
    .where(LedgerHead.h_instancia == bindparam("h"))
    .values(next_index=LedgerHead.next_index + bindparam("count"))
    .returning(LedgerHead.next_index)
)
_LOCK_HEAD = (
    select(LedgerHead.next_index).where(LedgerHead.h_instancia == bindparam("h")).with_for_update()
)
_COLUMNS = "h_instancia, idx, kind, ref, data, leaf_hash, created_at"
_INSERT_SQLITE = f"INSERT INTO ledger_leaves ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_COPY_POSTGRESQL = f"COPY ledger_leaves ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ("text", "int8", "text", "text", "bytea", "bytea", "timestamptz")
_LEAF_KEYS = ("h_instancia", "idx", "kind", "ref", "data", "leaf_hash", "created_at")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:  # as UTCDateTime refuses it
        raise ValueError("naive datetime")
    return value


def _sqlite_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy's SQLite DATETIME stores it (naive UTC text), so that
    rows written below the ORM read back exactly like rows written through it."""
    return _aware(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _write_leaves(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert leaf rows in the caller's transaction, through the driver itself: for
    large batches the ORM's per-row parameter processing costs more than the database.
    SQLite: one `executemany`; PostgreSQL (psycopg 3): one COPY."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_INSERT_SQLITE, rows)
        finally:
            cursor.close()
    elif dialect == "postgresql" and conn.dialect.driver == "psycopg":
        with (
            conn.connection.driver_connection.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(_COPY_POSTGRESQL) as copy,
        ):
            copy.set_types(list(_COPY_TYPES))
            for row in rows:
                copy.write_row(row)
    else:  # pragma: no cover - create_db_engine builds only the two above
        conn.execute(insert(LedgerLeaf), [dict(zip(_LEAF_KEYS, row, strict=True)) for row in rows])


class Ledger:
    def __init__(
        self, engine: Engine, keys: SigningKeys, publish_to: BlobStore | None = None
    ) -> None:
        self._engine = engine
        self.keys = keys
        # Where to publish tlog-tiles after each seal (None: don't).
        self._publish_to = publish_to

    # -- appending --------------------------------------------------------------
    def reserve(self, conn: Connection, h_instancia: str, count: int) -> int:
        """Reserve `count` indices; the head's row lock orders concurrent appends."""
        reserved = conn.execute(_RESERVE, {"h": h_instancia, "count": count}).scalar_one()
        return int(reserved) - count

    def lock_head(self, conn: Connection, h_instancia: str) -> int:
        """Lock the instance's head for the rest of the transaction (on PostgreSQL; SQLite
        has one writer anyway); its next index."""
        return int(conn.execute(_LOCK_HEAD, {"h": h_instancia}).scalar_one())

    def append_many(self, h_instancia: str, records: list[tuple[str, str, str, datetime]]) -> int:
        """Append many (kind, ref, hash, ts) leaves in one transaction; the first index."""
        with write_transaction(self._engine) as conn:
            leaves = [(kind, ref, digest, ts, None) for kind, ref, digest, ts in records]
            return self.append_all_in(conn, h_instancia, leaves)

    def append_in(
        self,
        conn: Connection,
        h_instancia: str,
        kind: str,
        ref: str,
        digest: str,
        ts: datetime,
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Append one leaf inside the caller's transaction (so that it is written with
        the record it attests, or not at all); its index."""
        return self.append_all_in(conn, h_instancia, [(kind, ref, digest, ts, extra)])

    def append_all_in(self, conn: Connection, h_instancia: str, records: Sequence[Record]) -> int:
        """Append many (kind, ref, hash, ts, extra) leaves of one instance inside the
        caller's transaction: one reservation, one bulk write; the first index."""
        if not records:
            return self.lock_head(conn, h_instancia)
        first = self.reserve(conn, h_instancia, len(records))
        datas = encode_many(h_instancia, records)
        sqlite = conn.dialect.name == "sqlite"
        # Leaves of one batch mostly share a timestamp: convert each distinct one once.
        times: dict[datetime, Any] = {}
        sha256 = hashlib.sha256
        rows = []
        pairs = zip(records, datas, strict=True)
        for index, ((kind, ref, _, ts, _), data) in enumerate(pairs, first):
            created = times.get(ts)
            if created is None:
                created = times[ts] = _sqlite_time(ts) if sqlite else _aware(ts)
            # hash_leaf, inlined: RFC 9162 2.1.1, SHA-256(0x00 || leaf)
            rows.append(
                (h_instancia, index, kind, ref, data, sha256(b"\x00" + data).digest(), created)
            )
        _write_leaves(conn, rows)
        return first

    # -- sealing ----------------------------------------------------------------
    def _tile(self, conn: Connection, h_instancia: str) -> Any:
        def fetch(level: int, index: int) -> bytes:
            found = conn.execute(
                select(LedgerTile.hashes).where(
                    LedgerTile.h_instancia == h_instancia,
                    LedgerTile.level == level,
                    LedgerTile.idx == index,
                )
            ).scalar()
            return bytes(found) if found is not None else b""

        return fetch

    def seal(self, instance: InstanceInfo) -> Block | None:
        """Close every unsealed leaf into a new signed block; None when there are none."""
        signer = self.keys.current(instance)  # first, outside: making a key writes too
        with write_transaction(self._engine) as conn:
            block = self.seal_in(conn, instance, signer)
        if block is not None and self._publish_to is not None:
            try:
                self.publish(instance, self._publish_to, start=block.first_index)
            except Exception:  # the block stands; `tzzr ledger publish` catches up
                log.exception("publishing tiles of block %d failed", block.number)
        return block

    def seal_in(self, conn: Connection, instance: InstanceInfo, signer: Signer) -> Block | None:
        """Seal inside the caller's transaction (which may append leaves first), signing
        with `signer` (`keys.current(instance)`)."""
        name, private, kid = signer
        h = instance.h_instancia
        head = self.lock_head(conn, h)  # orders seals and appends on PostgreSQL
        last = self._last_block(conn, h)
        old_size = last.tree_size if last else 0
        if head == old_size:
            return None
        hashes, ts_start, ts_end = self._read_new_leaves(conn, h, old_size, head)
        fetch = self._tile(conn, h)
        changed = extend(old_size, hashes, fetch)
        self._write_tiles(conn, h, changed)
        reader = TileReader(fetch, changed)
        tree_root = node_hash(0, head, reader.perfect)
        number = (last.number if last else 0) + 1
        unsigned = Block(
            number,
            old_size,
            head - 1,
            ts_start,
            ts_end,
            block_root(old_size, hashes, reader).hex(),
            head,
            tree_root.hex(),
            last.block_hash if last else GENESIS,
            "",
            "",
            kid,
            utcnow(),
        )
        digest = block_hash(unsigned.header())
        body = notes.Checkpoint(name, head, tree_root, (f"tzzr-block {number} {digest}",))
        block = replace(
            unsigned, block_hash=digest, checkpoint=notes.sign(body.body(), name, private)
        )
        columns = {c.name for c in LedgerBlock.__table__.columns} - {"h_instancia"}
        conn.execute(
            insert(LedgerBlock).values(h_instancia=h, **{c: getattr(block, c) for c in columns})
        )
        return block

    @staticmethod
    def _read_new_leaves(
        conn: Connection, h: str, start: int, end: int
    ) -> tuple[list[bytes], datetime, datetime]:
        """Hashes and time range of leaves start..end-1, in one pass through the driver's
        own cursor: for a million leaves, SQLAlchemy rows and a second scan for the time
        range cost more than all the hashing a seal does."""
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                f"SELECT idx, leaf_hash, created_at FROM ledger_leaves "  # noqa: S608
                f"WHERE h_instancia = {mark} AND idx >= {mark} ORDER BY idx",
                (h, start),
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
        # The primary key rules out duplicates: count and ends prove contiguity.
        if len(rows) != end - start or rows[0][0] != start or rows[-1][0] != end - 1:
            raise RuntimeError(f"ledger leaves {start}..{end - 1} are not contiguous")
        stamps = [row[2] for row in rows]
        hashes = [bytes(row[1]) for row in rows]
        return hashes, as_utc(min(stamps)), as_utc(max(stamps))

    def publish(self, instance: InstanceInfo, blobs: BlobStore, start: int = 0) -> int:
        """Write the C2SP tlog-tiles that cover leaves from `start` to the last sealed
        size, their entry bundles and the checkpoint, under `<instance>/tlog/`.
        Returns how many files were written."""
        h = instance.h_instancia
        store = blobs.scoped(instance.blob_prefix)
        with self._engine.connect() as conn:
            last = self._last_block(conn, h)
            if last is None:
                return 0
            size = last.tree_size
            written = 0
            level = 0
            while size >> (8 * level):
                count = size >> (8 * level)
                first, final = (start >> (8 * level)) // WIDTH, (count - 1) // WIDTH
                rows = conn.execute(
                    select(LedgerTile.idx, LedgerTile.hashes).where(
                        LedgerTile.h_instancia == h,
                        LedgerTile.level == level,
                        LedgerTile.idx.between(first, final),
                    )
                ).all()
                for index, hashes in rows:
                    width = tlog.tile_width(level, index, size)
                    store.publish(
                        f"{tlog.PREFIX}/{tlog.tile_path(level, index, width)}",
                        bytes(hashes)[: width * HASH_SIZE],
                    )
                    written += 1
                level += 1
            first_bundle = start // WIDTH
            leaves = (
                conn.execute(
                    select(LedgerLeaf.data)
                    .where(
                        LedgerLeaf.h_instancia == h,
                        LedgerLeaf.idx >= first_bundle * WIDTH,
                        LedgerLeaf.idx < size,
                    )
                    .order_by(LedgerLeaf.idx)
                )
                .scalars()
                .all()
            )
        for offset in range(0, len(leaves), WIDTH):
            group = [bytes(d) for d in leaves[offset : offset + WIDTH]]
            path = tlog.entries_path(first_bundle + offset // WIDTH, len(group))
            store.publish(f"{tlog.PREFIX}/{path}", tlog.bundle(group))
            written += 1
        store.publish(f"{tlog.PREFIX}/checkpoint", last.checkpoint.encode())
        return written + 1

    def _write_tiles(self, conn: Connection, h: str, tiles: dict[TileKey, bytes]) -> None:
        # Only the first tile of each level can already exist (it was partial).
        firsts: dict[int, int] = {}
        for level, index in tiles:
            firsts[level] = min(index, firsts.get(level, index))
        for level, index in firsts.items():
            conn.execute(
                delete(LedgerTile).where(
                    LedgerTile.h_instancia == h, LedgerTile.level == level, LedgerTile.idx == index
                )
            )
        conn.execute(
            insert(LedgerTile),
            [
                {"h_instancia": h, "level": lv, "idx": i, "hashes": data}
                for (lv, i), data in tiles.items()
            ],
        )

    # -- reading ----------------------------------------------------------------
    def _last_block(self, conn: Connection, h: str) -> Any:
        return conn.execute(
            select(LedgerBlock)
            .where(LedgerBlock.h_instancia == h)
            .order_by(LedgerBlock.number.desc())
            .limit(1)
        ).first()

    def latest(self, instance: InstanceInfo) -> Block | None:
        with self._engine.connect() as conn:
            row = self._last_block(conn, instance.h_instancia)
        return Block.from_row(row) if row else None

    def block(self, instance: InstanceInfo, number: int) -> Block:
        missing = f"no block {number} in this instance; see GET /bloques"
        with self._engine.connect() as conn:
            row = instance_row(conn, LedgerBlock, instance.h_instancia, missing, number=number)
        return Block.from_row(row)

    def blocks(
        self, instance: InstanceInfo, limit: int = 50, before: int | None = None
    ) -> list[Block]:
        query = select(LedgerBlock).where(LedgerBlock.h_instancia == instance.h_instancia)
        if before is not None:
            query = query.where(LedgerBlock.number < before)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(LedgerBlock.number.desc()).limit(limit)).all()
            return [Block.from_row(r) for r in rows]

    def _block_at(self, conn: Connection, h: str, size: int | None) -> Any:
        query = select(LedgerBlock).where(LedgerBlock.h_instancia == h)
        if size is None:
            query = query.order_by(LedgerBlock.number.desc()).limit(1)
        else:
            query = query.where(LedgerBlock.tree_size == size)
        row = conn.execute(query).first()
        if row is None:
            if size is None:
                raise NotFound(
                    "nothing is sealed yet; POST /consolidate or wait for the next block"
                )
            raise InvalidInput(
                f"{size} is not a sealed tree size; use a block's tree_size (GET /bloques)",
                field="tree_size",
            )
        return row

    def pending(self, instance: InstanceInfo) -> int:
        """Leaves appended since the last block: what the next seal closes."""
        with self._engine.connect() as conn:
            return self.unsealed(conn, instance.h_instancia)

    def unsealed(self, conn: Connection, h_instancia: str) -> int:
        head = conn.execute(
            select(LedgerHead.next_index).where(LedgerHead.h_instancia == h_instancia)
        ).scalar_one()
        last = self._last_block(conn, h_instancia)
        return int(head) - (last.tree_size if last else 0)

    def inclusion(
        self, instance: InstanceInfo, index: int, tree_size: int | None = None
    ) -> Inclusion:
        h = instance.h_instancia
        with self._engine.connect() as conn:
            block = self._block_at(conn, h, tree_size)
            if index >= block.tree_size:
                raise NotFound(
                    f"leaf {index} is not sealed yet (the log has {block.tree_size} sealed "
                    "leaves); it will be in the next block"
                )
            leaf = conn.execute(
                select(LedgerLeaf.data).where(LedgerLeaf.h_instancia == h, LedgerLeaf.idx == index)
            ).scalar_one()
            ranges = inclusion_ranges(index, block.tree_size)
            reader = self._reader(conn, h, ranges)
            proof = [node_hash(a, b, reader.perfect) for a, b in ranges]
        return Inclusion(
            index,
            block.tree_size,
            bytes(leaf),
            proof,
            bytes.fromhex(block.tree_root),
            block.checkpoint,
        )

    def consistency(
        self, instance: InstanceInfo, first: int, second: int
    ) -> tuple[list[bytes], Block, Block]:
        if not 0 < first <= second:
            raise InvalidInput("consistency needs 0 < first <= second", field="first")
        h = instance.h_instancia
        with self._engine.connect() as conn:
            one = self._block_at(conn, h, first)
            two = self._block_at(conn, h, second)
            ranges = consistency_ranges(first, second)
            reader = self._reader(conn, h, ranges)
            proof = [node_hash(a, b, reader.perfect) for a, b in ranges]
        return proof, Block.from_row(one), Block.from_row(two)

    def _reader(self, conn: Connection, h: str, ranges: list[tuple[int, int]]) -> TileReader:
        """A reader preloaded with every tile these ranges need: one query, not one
        per subtree."""
        by_level: dict[int, list[int]] = {}
        for level, index in tiles_for(ranges):
            by_level.setdefault(level, []).append(index)
        # One `level = ? AND idx IN (…)` query per level (a handful): each is a search on
        # the full primary key; an OR across levels made SQLite scan every tile.
        rows = [
            row
            for level, indices in by_level.items()
            for row in conn.execute(
                select(LedgerTile.level, LedgerTile.idx, LedgerTile.hashes).where(
                    LedgerTile.h_instancia == h,
                    LedgerTile.level == level,
                    LedgerTile.idx.in_(indices),
                )
            ).all()
        ]
        return TileReader(self._tile(conn, h), {(r[0], r[1]): bytes(r[2]) for r in rows})
