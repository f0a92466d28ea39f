"""Sealing as the app sees it: entries that wait for their leaf get one in each seal,
SENTINEL hears of every block, and a block falls due every `TZZR_BLOCK_INTERVAL`
seconds for each instance with pending leaves (an empty interval makes none). A block
that fell due while the server was down is sealed on the first check."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, select, update

from tzzr.db.models import Entry
from tzzr.db.models_devices import Device, EntrySignature
from tzzr.errors import NotFound
from tzzr.feldman.log import Ledger, Record
from tzzr.feldman.signing import Signer
from tzzr.instances import InstanceInfo
from tzzr.ledger.blocks import Block
from tzzr.sentinel.events import emit
from tzzr.states import ENTRY_IN_FLIGHT

log = logging.getLogger("tzzr.feldman")

_SET_LEAF = (
    update(Entry)
    .where(Entry.id == bindparam("entry_id"))
    .values(leaf_index=bindparam("index"))
    .execution_options(synchronize_session=False)
)


def _waiting(h_instancia: str) -> ColumnElement[bool]:
    return and_(
        Entry.h_instancia == h_instancia,
        Entry.leaf_index.is_(None),
        # one in a flow or in MASON's window is still changing: not sealed yet (the
        # plan's `feldman_cola` holds only entries past these states)
        Entry.state.notin_(ENTRY_IN_FLIGHT),
    )


class Feldman(Ledger):
    """The ledger with the entries that wait for it: an entry gets its leaf in the
    seal after its flow and enrichment window are over, in arrival order."""

    def seal_in(self, conn: Connection, instance: InstanceInfo, signer: Signer) -> Block | None:
        h = instance.h_instancia
        self.lock_head(conn, h)
        self._append_waiting_entries(conn, h)
        block = super().seal_in(conn, instance, signer)
        if block is not None:
            emit(
                conn,
                "block_sealed",
                h_instancia=h,
                subject=str(block.number),
                data={
                    "leaves": block.tree_size - block.first_index,
                    "treeSize": block.tree_size,
                    "root": block.tree_root,
                },
            )
        return block

    def _append_waiting_entries(self, conn: Connection, h: str) -> int:
        """Give every entry that waits for its leaf a leaf, in arrival order, inside the
        sealing transaction. A capture signed by its device binds the signature into its
        leaf (`device`: the key's id, `device_sig`), so the seal covers it too."""
        waiting = conn.execute(
            select(
                Entry.id,
                Entry.h_entrada,
                Entry.created_at,
                EntrySignature.device_id,
                EntrySignature.signature,
            )
            .outerjoin(EntrySignature, EntrySignature.entry_id == Entry.id)
            .where(_waiting(h))
            .order_by(Entry.id)
        ).all()
        if not waiting:
            return 0
        records: list[Record] = [
            (
                "entry",
                row.h_entrada,
                row.h_entrada,
                row.created_at,
                None
                if row.device_id is None
                else {"device": row.device_id, "device_sig": row.signature},
            )
            for row in waiting
        ]
        first = self.append_all_in(conn, h, records)
        conn.execute(
            _SET_LEAF,
            [{"entry_id": row.id, "index": first + k} for k, row in enumerate(waiting)],
        )
        return len(waiting)

    def device(self, instance: InstanceInfo, device_id: str) -> dict[str, Any] | None:
        """The registered device a leaf names (`device`), for its receipt."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Device.id, Device.name, Device.alg, Device.public_key).where(
                    Device.h_instancia == instance.h_instancia, Device.id == device_id
                )
            ).first()
        return None if row is None else dict(row._mapping)

    def pending(self, instance: InstanceInfo) -> int:
        """Leaves the next seal will close: waiting entries plus unsealed leaves."""
        h = instance.h_instancia
        with self._engine.connect() as conn:
            waiting = conn.execute(select(func.count()).where(_waiting(h))).scalar_one()
            return self.unsealed(conn, h) + int(waiting)

    def leaf_index(self, instance: InstanceInfo, h_entrada: str) -> int:
        """The entry's leaf index; 404 while it still waits for the next seal."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Entry.leaf_index, Entry.state).where(
                    Entry.h_instancia == instance.h_instancia, Entry.h_entrada == h_entrada
                )
            ).first()
        index = row.leaf_index if row else None
        if row is not None and index is None and row.state in ENTRY_IN_FLIGHT:
            raise NotFound(
                f"entry {h_entrada} is {row.state} (in its flow, or in MASON's enrichment "
                "window); it is sealed after its flow decides or it is enriched"
            )
        if index is None:
            raise NotFound(
                f"entry {h_entrada} is not sealed yet; it will be in the next block "
                "(POST /consolidate seals now)"
            )
        return int(index)


def seal_due(
    instances: Iterable[InstanceInfo], ledger: Ledger, interval: timedelta, now: datetime
) -> list[Block]:
    """Seal each instance whose last block (or creation) is `interval` old and which
    has pending leaves; the blocks sealed."""
    sealed = []
    for instance in instances:
        last = ledger.latest(instance)
        since = last.created_at if last else instance.created_at
        if now - since >= interval and ledger.pending(instance):
            block = ledger.seal(instance)
            if block is not None:
                log.info(
                    "sealed block %d of %s: %d leaves, tree size %d",
                    block.number,
                    instance.name,
                    block.last_index - block.first_index + 1,
                    block.tree_size,
                )
                sealed.append(block)
    return sealed
