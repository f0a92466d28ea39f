"""Finding entries: a query (tzzr.search.query) and filters, ranked by the database's own
full-text index — SQLite FTS5's bm25, PostgreSQL's ts_rank_cd, the title counting more
than the body —, newest first among equals and when there is no query, with highlighted
snippets, a page at a time. One instance's entries only."""

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from tzzr.db.models import UTCDateTime
from tzzr.errors import InvalidInput
from tzzr.instances import InstanceInfo
from tzzr.pagination import decode_cursor, encode_cursor
from tzzr.search.document import MARKS
from tzzr.search.query import Query, parse
from tzzr.states import EntryState, values
from tzzr.times import in_utc, rfc3339

MAX_LIMIT = 100
DECISIONS = ("ok", "incident")
SNIPPET_WORDS = 18
MAX_OFFSET = 10_000  # pages past this: narrow the query instead


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    media_type: str | None = None  # "image/png", or "image/*"
    since: datetime | None = None
    until: datetime | None = None
    min_total: float | None = None
    max_total: float | None = None
    flow: str | None = None
    decision: str | None = None

    def check(self) -> None:
        if self.state is not None and self.state not in values(EntryState):
            known = ", ".join(values(EntryState))
            raise InvalidInput(f"state must be one of: {known}", field="state")
        if self.decision is not None and self.decision not in DECISIONS:
            raise InvalidInput("decision must be ok or incident", field="decision")
        if (
            self.min_total is not None
            and self.max_total is not None
            and self.min_total > self.max_total
        ):
            raise InvalidInput("min_total is larger than max_total", field="min_total")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidInput("since must be before until", field="since")


def snippet(marked: str | None) -> str:
    """HTML: the text escaped, the matches in <mark>."""
    start, stop = MARKS
    escaped = html.escape(marked or "", quote=False)
    return escaped.replace(start, "<mark>").replace(stop, "</mark>")


def _where(filters: Filters, params: dict[str, Any]) -> str:
    clauses = []
    if filters.state is not None:
        clauses.append("e.state = :state")
        params["state"] = filters.state
    if filters.since is not None:
        clauses.append("e.created_at >= :since")
        params["since"] = in_utc(filters.since)
    if filters.until is not None:
        clauses.append("e.created_at < :until")
        params["until"] = in_utc(filters.until)
    if filters.min_total is not None:
        clauses.append("d.total >= :min_total")
        params["min_total"] = filters.min_total
    if filters.max_total is not None:
        clauses.append("d.total <= :max_total")
        params["max_total"] = filters.max_total
    if filters.flow is not None:
        clauses.append("d.flow = :flow")
        params["flow"] = filters.flow
    if filters.decision is not None:
        clauses.append("d.decision = :decision")
        params["decision"] = filters.decision
    if filters.media_type is not None:
        kind = filters.media_type.lower()
        if kind.endswith("/*"):
            clauses.append(
                "EXISTS (SELECT 1 FROM entry_files f WHERE f.entry_id = e.id "
                "AND substr(f.media_type, 1, :media_len) = :media)"
            )
            params["media"], params["media_len"] = kind[:-1], len(kind) - 1
        else:
            clauses.append(
                "EXISTS (SELECT 1 FROM entry_files f WHERE f.entry_id = e.id "
                "AND f.media_type = :media)"
            )
            params["media"] = kind
    return "".join(f" AND {c}" for c in clauses)


def _fingerprint(q: str | None, filters: Filters) -> str:
    """Which search a cursor belongs to: a cursor of another one is refused."""
    raw = json.dumps([q or "", repr(filters)], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _offset(value: Any) -> int:
    if type(value) is not int or not 0 < value <= MAX_OFFSET:
        raise ValueError("not an offset")
    return value


def _same(expected: str) -> Any:
    def check(value: Any) -> str:
        if value != expected:
            raise ValueError("a cursor of another search")
        return str(value)

    return check


def _typed(sql: str) -> Any:
    """The statement with its timestamp read as the column type reads it (aware, UTC)."""
    return text(sql).columns(created_at=UTCDateTime())


class Finder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(
        self,
        instance: InstanceInfo,
        q: str | None,
        filters: Filters | None = None,
        *,
        limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        filters = filters or Filters()
        filters.check()
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        query = parse(q)
        fingerprint = _fingerprint(q, filters)
        offset = 0
        if cursor is not None:
            offset, _ = decode_cursor(cursor, _offset, _same(fingerprint))
        params: dict[str, Any] = {
            "h": instance.h_instancia,
            "limit": limit + 1,
            "offset": offset,
        }
        where = _where(filters, params)
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                rows = self._postgres(conn, query, where, params)
            else:
                rows = self._sqlite(conn, query, where, params)
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "query": q or "",
            "results": [self._json(row) for row in rows],
            "next_cursor": encode_cursor(offset + limit, fingerprint)
            if more and offset + limit <= MAX_OFFSET
            else None,
        }

    @staticmethod
    def _json(row: Any) -> dict[str, Any]:
        return {
            "h_entrada": row.h_entrada,
            "state": row.state,
            "created_at": rfc3339(row.created_at),
            "title": row.title,
            "line": row.line,
            "snippet": snippet(row.snip),
            "total": row.total,
            "currency": row.currency,
            "flow": row.flow,
            "decision": row.decision,
            "score": round(float(row.score), 4) if row.score is not None else None,
        }

    @staticmethod
    def _sqlite(conn: Any, query: Query, where: str, params: dict[str, Any]) -> list[Any]:
        start, stop = MARKS
        columns = (
            "e.h_entrada, e.state, e.created_at, d.title, d.line, d.total, d.currency, "
            "d.flow, d.decision"
        )
        if query.empty:
            sql = (
                f"SELECT {columns}, substr(d.body, 1, 160) AS snip, NULL AS score "  # noqa: S608
                "FROM search_docs d JOIN entries e ON e.id = d.entry_id "
                f"WHERE d.h_instancia = :h{where} "
                "ORDER BY e.created_at DESC, e.id DESC LIMIT :limit OFFSET :offset"
            )
        else:
            params["match"] = query.fts5()
            params["start"], params["stop"] = start, stop
            sql = (
                f"SELECT {columns}, "  # noqa: S608
                f"snippet(search_fts, 1, :start, :stop, '…', {SNIPPET_WORDS}) AS snip, "
                "-bm25(search_fts, 4.0, 1.0) AS score "
                "FROM search_fts JOIN search_docs d ON d.entry_id = search_fts.rowid "
                "JOIN entries e ON e.id = d.entry_id "
                f"WHERE search_fts MATCH :match AND d.h_instancia = :h{where} "
                "ORDER BY bm25(search_fts, 4.0, 1.0), e.created_at DESC, e.id DESC "
                "LIMIT :limit OFFSET :offset"
            )
        return list(conn.execute(_typed(sql), params))

    @staticmethod
    def _postgres(conn: Any, query: Query, where: str, params: dict[str, Any]) -> list[Any]:
        start, stop = MARKS
        columns = (
            "e.h_entrada, e.state, e.created_at, d.title, d.line, d.total, d.currency, "
            "d.flow, d.decision"
        )
        if query.empty:
            sql = (
                f"SELECT {columns}, substr(d.body, 1, 160) AS snip, NULL AS score "  # noqa: S608
                "FROM search_docs d JOIN entries e ON e.id = d.entry_id "
                f"WHERE d.h_instancia = :h{where} "
                "ORDER BY e.created_at DESC, e.id DESC LIMIT :limit OFFSET :offset"
            )
            return list(conn.execute(_typed(sql), params))
        params["tsquery"] = query.tsquery()
        params["options"] = (
            f"StartSel={start}, StopSel={stop}, MaxWords={SNIPPET_WORDS}, MinWords=6, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        # the page's rows first, then their snippets: ts_headline reads the whole body
        sql = (
            f"WITH q AS (SELECT to_tsquery('tzzr_search', :tsquery) AS q), "  # noqa: S608
            "page AS ("
            f"SELECT {columns}, d.body, ts_rank_cd(d.tsv, q.q) AS score, e.id "
            "FROM search_docs d JOIN entries e ON e.id = d.entry_id, q "
            f"WHERE d.tsv @@ q.q AND d.h_instancia = :h{where} "
            "ORDER BY score DESC, e.created_at DESC, e.id DESC LIMIT :limit OFFSET :offset) "
            "SELECT page.h_entrada, page.state, page.created_at, page.title, page.line, "
            "page.total, page.currency, page.flow, page.decision, page.score, "
            "ts_headline('tzzr_search', page.body, q.q, :options) AS snip "
            "FROM page, q ORDER BY page.score DESC, page.created_at DESC, page.id DESC"
        )
        return list(conn.execute(_typed(sql), params))
