"""Keeping the search index: an entry's document is rebuilt from what is stored about it
inside the transaction that stores something new (the entry at ingest, an execution's
end, an enrichment), so nothing is searchable before it is durable, and nothing durable
is left out. `reindex` rebuilds every document (`tzzr search reindex`)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from tzzr.db.models import EnrichmentVersion, Entry, Execution, SearchDoc
from tzzr.search.document import Document, build
from tzzr.states import ExecutionStatus

BATCH = 500
# The title weighs A, the text B; the instance and filter values (`terms`) are words of
# weight D, which queries match only on purpose (the person's words are matched on A and B).
_TSV = (
    "setweight(to_tsvector('tzzr_search', :title), 'A') || "
    "setweight(to_tsvector('tzzr_search', :body), 'B') || "
    "setweight(to_tsvector('simple', :terms), 'D')"
)


_FIELDS = ("title", "line", "body", "total", "currency", "flow", "decision", "terms", "updated_at")
# Built once: a statement made per call costs more to compile than to run.
_INSERT = insert(SearchDoc)
_UPDATE = (
    update(SearchDoc)
    .where(SearchDoc.entry_id == bindparam("b_entry_id"))
    .values({name: bindparam(f"b_{name}") for name in _FIELDS})
)


def _values(h_instancia: str, doc: Document) -> dict[str, Any]:
    return {
        "title": doc.title,
        "line": doc.line,
        "body": doc.body,
        "total": doc.total,
        "currency": doc.currency,
        "flow": doc.flow,
        "decision": doc.decision,
        "terms": doc.terms(h_instancia),
        "updated_at": datetime.now(UTC),
    }


def _write(
    conn: Connection, entry_id: int, h_instancia: str, doc: Document, *, new: bool = False
) -> None:
    values = _values(h_instancia, doc)
    done = 0
    if not new:
        params = {f"b_{name}": value for name, value in values.items()}
        done = conn.execute(_UPDATE, {**params, "b_entry_id": entry_id}).rowcount
    if not done:
        conn.execute(_INSERT, {"entry_id": entry_id, "h_instancia": h_instancia, **values})
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(f"UPDATE search_docs SET tsv = {_TSV} WHERE entry_id = :id"),  # noqa: S608
            {"title": doc.title, "body": doc.body, "terms": values["terms"], "id": entry_id},
        )
    # SQLite: the FTS5 table follows search_docs by its triggers (migration 0006)


def index_new(
    conn: Connection, entry_id: int, h_instancia: str, contenedor: dict[str, Any]
) -> None:
    """A new entry, in its ingest transaction: nothing has read it yet."""
    _write(conn, entry_id, h_instancia, build(contenedor), new=True)


def refresh(conn: Connection, h_instancia: str, h_entrada: str) -> None:
    """The entry's document rebuilt from its container, its latest finished execution
    and its latest enrichment, as `conn` sees them."""
    # the entry's row locked (PostgreSQL; SQLite has one writer): two transactions
    # refreshing one entry take turns, so the last to commit saw the other's change
    entry = conn.execute(
        select(Entry.id, Entry.contenedor)
        .where(Entry.h_instancia == h_instancia, Entry.h_entrada == h_entrada)
        .with_for_update()
    ).first()
    if entry is None:
        return
    execution = conn.execute(
        select(Execution.flow_id, Execution.steps, Execution.outcome)
        .where(
            Execution.h_instancia == h_instancia,
            Execution.h_entrada == h_entrada,
            # the latest that ended: one queued again has nothing read yet
            Execution.status.in_((ExecutionStatus.DONE, ExecutionStatus.FAILED)),
        )
        .order_by(Execution.created_at.desc(), Execution.id.desc())
        .limit(1)
    ).first()
    fields = conn.execute(
        select(EnrichmentVersion.fields)
        .where(
            EnrichmentVersion.h_instancia == h_instancia,
            EnrichmentVersion.h_entrada == h_entrada,
        )
        .order_by(EnrichmentVersion.id.desc())
        .limit(1)
    ).scalar()
    _write(conn, entry.id, h_instancia, build(entry.contenedor, execution, fields))


def reindex(
    conn: Connection,
    h_instancia: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Every entry's document (of one instance, or all) rebuilt; `progress(done, total)`
    after each batch. Returns how many were indexed."""
    scope = select(Entry.id, Entry.h_instancia, Entry.h_entrada)
    if h_instancia is not None:
        scope = scope.where(Entry.h_instancia == h_instancia)
        conn.execute(delete(SearchDoc).where(SearchDoc.h_instancia == h_instancia))
    else:
        conn.execute(delete(SearchDoc))
    total = conn.execute(select(func.count()).select_from(scope.subquery())).scalar_one()
    done, last = 0, 0
    while True:
        rows = conn.execute(scope.where(Entry.id > last).order_by(Entry.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            refresh(conn, row.h_instancia, row.h_entrada)
        done += len(rows)
        last = rows[-1].id
        if progress is not None:
            progress(done, total)
    return done


def reindex_all(conn: Connection) -> int:
    """For the migration that makes the index: every entry there is."""
    return reindex(conn)
