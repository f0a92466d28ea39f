"""Tables. The entry table keeps the plan's field names (`h_instancia`, `h_entrada`,
`contenedor`, `r2_paths`)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONDoc = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            if value.tzinfo is None:
                raise ValueError("naive datetime")
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Instance(Base):
    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    h_instancia: Mapped[str] = mapped_column(String(64), unique=True)
    seed: Mapped[str] = mapped_column(String(64))
    blob_prefix: Mapped[str] = mapped_column(String(128), unique=True)
    fields_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # MASON: the JSON Schema of the fields a person adds in the enrichment window
    enrichment_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # NULL for an operator key: it manages the server, and belongs to no instance.
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id"), index=True, nullable=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("h_instancia", "h_entrada", name="uq_entries_instance_entrada"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), index=True
    )
    h_entrada: Mapped[str] = mapped_column(String(64))
    contenedor: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    r2_paths: Mapped[list[str]] = mapped_column(JSONDoc)
    state: Mapped[str] = mapped_column(String(32), default="received")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The entry's leaf in the instance's ledger; NULL while it waits in the plan's
    # `feldman_cola` (the next seal appends every waiting entry, in arrival order).
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


Index("ix_entries_created_at_desc", Entry.created_at.desc())
Index(
    "ix_entries_pending",
    Entry.h_instancia,
    Entry.id,
    sqlite_where=Entry.leaf_index.is_(None),
    postgresql_where=Entry.leaf_index.is_(None),
)


class EntryFile(Base):
    """One row per file of an entry: lets reads filter by media type and lets `tzzr gc`
    find the blobs that entries still reference."""

    __tablename__ = "entry_files"

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    media_type: Mapped[str] = mapped_column(String(255), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)


class LedgerHead(Base):
    """Per instance: the next leaf index (a row lock on PostgreSQL orders appends)."""

    __tablename__ = "ledger_heads"

    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), primary_key=True
    )
    next_index: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerLeaf(Base):
    """Append-only leaves; those past the last block's tree size are not sealed yet."""

    __tablename__ = "ledger_leaves"

    h_instancia: Mapped[str] = mapped_column(String(64), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerTile(Base):
    """Stored subtree hashes, C2SP tlog-tiles style: tile (level, idx) holds up to 256
    hashes of the tree's nodes at height 8·level, indices 256·idx onwards."""

    __tablename__ = "ledger_tiles"

    h_instancia: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerBlock(Base):
    """The plan's `feldman_bloques`: each closes all pending leaves."""

    __tablename__ = "ledger_blocks"

    h_instancia: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_index: Mapped[int] = mapped_column(BigInteger)
    last_index: Mapped[int] = mapped_column(BigInteger)
    ts_start: Mapped[datetime] = mapped_column(UTCDateTime)
    ts_end: Mapped[datetime] = mapped_column(UTCDateTime)
    block_root: Mapped[str] = mapped_column(String(64))
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=False)
    tree_root: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    block_hash: Mapped[str] = mapped_column(String(64))
    checkpoint: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerKey(Base):
    """Public halves of each instance's signing keys, old ones kept after rotation."""

    __tablename__ = "ledger_keys"

    h_instancia: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Run(Base):
    """A cell run: queued, running (under a lease), then done / failed / cancelled /
    timed_out. The input and the result are blobs of the run's instance."""

    __tablename__ = "runs"
    __table_args__ = (
        Index(
            "ix_runs_reuse", "h_instancia", "cell_id", "cell_version", "input_sha", "params_hash"
        ),
        Index("ix_runs_status_lease", "status", "lease_until"),
        Index("ix_runs_cell_created", "cell_id", "created_at"),
    )

    # A run id is the instance's own: another instance may use the same one.
    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cell_id: Mapped[str] = mapped_column(String(100))
    cell_version: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    input_sha: Mapped[str] = mapped_column(String(64))
    input_type: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lang: Mapped[str | None] = mapped_column(String(64), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    params_hash: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    timeout_s: Mapped[float] = mapped_column(Float)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    reused_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    traceparent: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RunArtifact(Base):
    """A file a run produced beside its result (a PNG, an animation), stored as a blob."""

    __tablename__ = "run_artifacts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["h_instancia", "run_id"], ["runs.h_instancia", "runs.id"], ondelete="CASCADE"
        ),
    )

    h_instancia: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)


class RegisteredCell(Base):
    """A cell registered over HTTP (`POST /api/admin/cells`): remote, reached at its
    microserviceUrl with the contract 2.1 envelope; or a specialized version of a cell.
    Each belongs to one instance: no other instance sees or runs it."""

    __tablename__ = "cells"

    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    base: Mapped[str | None] = mapped_column(String(100), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    module: Mapped[str] = mapped_column(String(100))
    accepts: Mapped[list[str]] = mapped_column(JSONDoc)
    defaults: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    token: Mapped[str | None] = mapped_column(String(512), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Job(Base):
    """Long work the server does for a caller (specializing a cell), with progress."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_lease", "status", "lease_until"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    progress: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WorkLease(Base):
    """A periodic job's turn: the scheduler that holds the row until `lease_until` runs
    the job this period; the others of the deployment skip it (tzzr.work.scheduler)."""

    __tablename__ = "work_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)


class Flow(Base):
    """A flow spec of one instance, versioned: an update is a new version; a delete, a
    tombstone. The shipped flows are templates: each instance gets its own copy."""

    __tablename__ = "flows"

    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Execution(Base):
    """A flow's execution (the plan's `flujo_ejecuciones`): its steps, their outputs,
    the decision, and where the entry went."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_instance_created", "h_instancia", "created_at"),
        Index("ix_executions_status_lease", "status", "lease_until"),
        Index("ix_executions_entry", "h_entrada"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int] = mapped_column(Integer)
    h_entrada: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    next_step: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Enrichment(Base):
    """MASON: an entry waiting for a person, until its deadline."""

    __tablename__ = "enrichments"
    __table_args__ = (Index("ix_enrichments_state_deadline", "state", "deadline"),)

    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), primary_key=True
    )
    h_entrada: Mapped[str] = mapped_column(String(64), primary_key=True)
    execution_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EnrichmentVersion(Base):
    """Every enrichment, kept: the history is append-only. `suggested` is what the
    flow's cells read when it was made (MASON's pre-filled form), so that what the person
    corrected is known."""

    __tablename__ = "enrichment_versions"
    __table_args__ = (Index("ix_enrichment_versions_entry", "h_instancia", "h_entrada"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    h_entrada: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    fields_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    suggested: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)


class SentinelEvent(Base):
    """SENTINEL: what happened (the plan's `sentinel_events`)."""

    __tablename__ = "sentinel_events"
    __table_args__ = (
        Index("ix_sentinel_events_ts", "ts"),
        Index("ix_sentinel_events_kind_ts", "kind", "ts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    h_instancia: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)


class SentinelAlert(Base):
    """SENTINEL: a rule that fired (the plan's `sentinel_alerts`); one open per rule and
    instance. An alert about the whole server (disk, queue) has no instance: only an
    operator sees it."""

    __tablename__ = "sentinel_alerts"
    __table_args__ = (Index("ix_sentinel_alerts_rule_state", "rule", "h_instancia", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)


class SearchDoc(Base):
    """What search reads of an entry (tzzr.search): everything known about it as one
    text (`title` and `body`), the first line its cells read, and the values its filters
    compare, rebuilt in the transaction that stores what it is built from. The full-text
    index beside it is the database's own, made by migration 0006 and left out of these
    models (see DERIVED): an FTS5 table on SQLite, a tsvector column on PostgreSQL."""

    __tablename__ = "search_docs"

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
    )
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    title: Mapped[str] = mapped_column(Text)
    line: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    total: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(8), nullable=True)
    flow: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # the instance and the filters' values as index words (a column of SQLite's FTS5)
    terms: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# What the migrations make that these models leave out: a database's own full-text
# index (SQLite's FTS5 table and its shadow tables; PostgreSQL's tsvector column and its
# GIN index). Comparing the models with a migrated database skips them.
DERIVED_TABLES = ("search_fts",)
DERIVED_COLUMNS = (("search_docs", "tsv"),)
DERIVED_INDEXES = ("ix_search_docs_tsv",)


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: False for what DERIVED_* name."""
    if kind == "table":
        return not (name or "").startswith(DERIVED_TABLES)
    if kind == "column":
        table = getattr(obj, "table", None)
        return table is None or (table.name, name) not in DERIVED_COLUMNS
    if kind == "index":
        return name not in DERIVED_INDEXES
    return True


# Each domain's own tables, in their own modules (they import Base from here).
from tzzr.db import (  # noqa: E402  (after Base, which they use)
    models_devices,
    models_factory,
    models_uploads,
    models_vision,
)

__all__ = ["models_devices", "models_factory", "models_uploads", "models_vision"]
