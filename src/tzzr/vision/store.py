"""What every part of VISION BUILDER's service shares: the instance's rows by id, the
`vision` leaf that seals a record, the SENTINEL event of a change, and links."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import (
    Action,
    Habit,
    KeyResult,
    Milestone,
    MilestoneAction,
    MilestoneHabit,
    MilestoneKeyResult,
    Vision,
    VisionMilestone,
)
from tzzr.errors import InvalidInput, NotFound
from tzzr.feldman.log import Ledger
from tzzr.sentinel.events import emit

Clock = Callable[[], datetime]
LEAF_KIND = "vision"
# (parent kind, child kind) -> (link table, parent column, child column)
LINKS: dict[tuple[str, str], tuple[Any, str, str]] = {
    ("vision", "milestone"): (VisionMilestone, "vision_id", "milestone_id"),
    ("milestone", "action"): (MilestoneAction, "milestone_id", "action_id"),
    ("milestone", "habit"): (MilestoneHabit, "milestone_id", "habit_id"),
    ("milestone", "key_result"): (MilestoneKeyResult, "milestone_id", "key_result_id"),
}
TABLES: dict[str, Any] = {
    "vision": Vision,
    "milestone": Milestone,
    "action": Action,
    "habit": Habit,
    "key_result": KeyResult,
}
# how a kind is named in messages
NAMES = {kind: kind.replace("_", " ") for kind in TABLES}


def link_once(conn: Connection, table: Any, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING of a link row: whether it was new. Two requests
    that add the same link at once on PostgreSQL both succeed (one writes it), where a
    check-then-insert would answer the second with its primary key's violation."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    done = conn.execute(dialect.insert(table).values(values).on_conflict_do_nothing())
    return bool(done.rowcount)


def get_row(conn: Connection, kind: str, h_instancia: str, object_id: int) -> Any:
    table = TABLES[kind]
    row = conn.execute(
        select(table).where(table.h_instancia == h_instancia, table.id == object_id)
    ).first()
    if row is None:
        raise NotFound(f"no {NAMES[kind]} {object_id}")
    return row


# The days a date field may name: a calendar writes the day after a due date, a check-in
# is read in a zone up to 14 hours ahead, and a year-9999 date overflows both.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2200, 12, 31)


def in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def parse_date(value: Any, field: str) -> date | None:
    """A date field (None stays None); 422 naming `field` for anything else, or for a day
    outside FIRST_DAY..LAST_DAY."""
    found: date | None = None
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        found = value
    elif isinstance(value, str):
        with suppress(ValueError):
            found = date.fromisoformat(value)
    if found is None:
        raise InvalidInput(f"{field} must be a date such as 2026-12-31", field=field)
    if not in_range(found):
        raise InvalidInput(
            f"{field} must be from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}", field=field
        )
    return found


class Store:
    """The engine, the ledger and the clock, and the helpers every part uses."""

    def __init__(self, engine: Engine, ledger: Ledger, clock: Clock) -> None:
        self._engine = engine
        self._ledger = ledger
        self.clock = clock

    # -- shared ------------------------------------------------------------------
    @contextmanager
    def _writing(self, conn: Connection | None) -> Iterator[Connection]:
        """The caller's transaction when it gives one (the change is then written with
        what the caller writes, or not at all), else a write transaction of its own."""
        if conn is not None:
            yield conn
            return
        with write_transaction(self._engine) as own:
            yield own

    def _seal(
        self,
        conn: Connection,
        h_instancia: str,
        ref: str,
        record: dict[str, Any],
        event: str,
        now: datetime,
    ) -> int:
        """A `vision` leaf over the record's canonical JSON: its index."""
        digest = sha256_hex(canonical_json(record))
        return self._ledger.append_in(
            conn, h_instancia, LEAF_KIND, ref, digest, now, {"event": event}
        )

    def _seal_all(
        self,
        conn: Connection,
        h_instancia: str,
        items: list[tuple[str, dict[str, Any]]],
        event: str,
        now: datetime,
    ) -> int:
        """`vision` leaves over many (ref, record) at once: the first one's index."""
        records = [
            (LEAF_KIND, ref, sha256_hex(canonical_json(record)), now, {"event": event})
            for ref, record in items
        ]
        return self._ledger.append_all_in(conn, h_instancia, records)

    @staticmethod
    def _emit(
        conn: Connection,
        h_instancia: str,
        subject: str,
        change: str,
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        emit(
            conn,
            "vision",
            h_instancia=h_instancia,
            subject=subject,
            data={"change": change, **(data or {})},
            ts=now,
        )

    def _link_all(
        self,
        conn: Connection,
        h_instancia: str,
        parent: str,
        parent_ids: list[int],
        child: str,
        child_id: int,
    ) -> None:
        for k, parent_id in enumerate(dict.fromkeys(parent_ids)):
            try:
                get_row(conn, parent, h_instancia, parent_id)
            except NotFound as exc:
                raise InvalidInput(exc.message, field=f"{parent}Ids[{k}]") from exc
            table, left, right = LINKS[(parent, child)]
            link_once(conn, table, {left: parent_id, right: child_id, "h_instancia": h_instancia})
