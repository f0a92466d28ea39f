"""Events (the plan's `sentinel_events`): written in the same transaction as what they
record, so an event exists exactly when the thing happened."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from tzzr.db.engine import write_transaction
from tzzr.db.models import SentinelEvent
from tzzr.pagination import decode_cursor, encode_cursor, row_id
from tzzr.times import rfc3339
from tzzr.validation import one_of

KINDS = (
    "ingest",
    "duplicate",
    "auth_failure",
    "run_queued",
    "run_started",
    "run_done",
    "run_failed",
    "flow_decision",
    "enrichment",
    "block_sealed",
    "audit_result",
    "alert",
    "upgrade",
    "vision",
    "upload",
)
SEVERITIES = ("info", "warning", "error", "critical")
MAX_LIMIT = 500
_INSERT = insert(SentinelEvent)


def emit(
    conn: Connection,
    kind: str,
    *,
    severity: str = "info",
    h_instancia: str | None = None,
    subject: str | None = None,
    data: dict[str, Any] | None = None,
    ts: datetime | None = None,
) -> None:
    """Record an event inside the caller's transaction."""
    conn.execute(
        _INSERT,
        {
            "ts": ts or datetime.now(UTC),
            "h_instancia": h_instancia,
            "kind": kind,
            "severity": severity,
            "subject": subject,
            "data": data or {},
        },
    )


def emit_now(engine: Engine, kind: str, **values: Any) -> None:
    """Record an event in a transaction of its own."""
    with write_transaction(engine, redoable=True) as conn:
        emit(conn, kind, **values)


def event_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "ts": rfc3339(row.ts),
        "kind": row.kind,
        "severity": row.severity,
        "h_instancia": row.h_instancia,
        "subject": row.subject,
        "data": row.data,
    }


def query(
    engine: Engine,
    h_instancia: str | None,
    *,
    kind: str | None = None,
    severity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subject: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first: the instance's events, or (`h_instancia` None) those about the whole
    server, which only an operator reads."""
    statement = select(SentinelEvent).where(
        SentinelEvent.h_instancia.is_(None)
        if h_instancia is None
        else SentinelEvent.h_instancia == h_instancia
    )
    if kind is not None:
        statement = statement.where(SentinelEvent.kind == one_of(kind, KINDS, "kind"))
    if severity is not None:
        statement = statement.where(
            SentinelEvent.severity == one_of(severity, SEVERITIES, "severity")
        )
    if since is not None:
        statement = statement.where(SentinelEvent.ts >= since)
    if until is not None:
        statement = statement.where(SentinelEvent.ts < until)
    if subject is not None:
        statement = statement.where(SentinelEvent.subject == subject)
    if cursor is not None:
        (before,) = decode_cursor(cursor, row_id)
        statement = statement.where(SentinelEvent.id < before)
    limit = max(1, min(limit, MAX_LIMIT))
    with engine.connect() as conn:
        rows = conn.execute(statement.order_by(SentinelEvent.id.desc()).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].id)
    return [event_json(row) for row in rows], next_cursor


PRUNE_BATCH = 5000
PRUNE_MAX_BATCHES = 200  # a sweep deletes at most a million rows; the next goes on


def prune(engine: Engine, retention_days: int, now: datetime | None = None) -> int:
    """Delete the events older than `retention_days` (0 keeps every event), PRUNE_BATCH
    rows a transaction, so that the first sweep over years of rows never holds the
    database's write lock for long. Returns how many went."""
    if retention_days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    oldest = select(SentinelEvent.id).where(SentinelEvent.ts < cutoff).limit(PRUNE_BATCH)
    statement = delete(SentinelEvent).where(SentinelEvent.id.in_(oldest.scalar_subquery()))
    deleted = 0
    for _ in range(PRUNE_MAX_BATCHES):
        with write_transaction(engine) as conn:
            count = conn.execute(statement).rowcount
        deleted += count
        if count < PRUNE_BATCH:
            break
    return deleted
