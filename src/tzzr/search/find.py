"""Finding entries: a query (tzzr.search.query) and filters, ranked by the database's own
full-text index — SQLite FTS5's bm25, PostgreSQL's ts_rank_cd, the title counting more
than the body —, newest first among equals and when there is no query, with highlighted
snippets, a page at a time. One instance's entries only."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from tzzr.db.models import UTCDateTime
from tzzr.errors import InvalidInput
from tzzr.instances import InstanceInfo
from tzzr.pagination import decode_cursor, encode_cursor
from tzzr.search.document import term
from tzzr.search.highlight import MAX_SCAN, highlight
from tzzr.search.query import Query, parse
from tzzr.states import EntryState, values
from tzzr.times import in_utc, rfc3339

MAX_LIMIT = 100
DECISIONS = ("ok", "incident")
TITLE_WEIGHT = 4.0  # bm25: a match in the title counts four times one in the body
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


def _where(filters: Filters, params: dict[str, Any], *, indexed: bool = False) -> str:
    """SQL conditions for the filters (`d` the documents, `e` the entries); with
    `indexed`, only those the index cannot answer itself (see `_scope`)."""
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
    if indexed:
        return "".join(f" AND {c}" for c in clauses)
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


def _words(h_instancia: str, filters: Filters) -> list[str]:
    """The instance and the filters the index answers, as the words `Document.terms`
    gives the index."""
    words = [h_instancia]
    if filters.media_type is not None:
        words.append(term("media", filters.media_type.lower()))
    if filters.flow is not None:
        words.append(term("flow", filters.flow))
    if filters.decision is not None:
        words.append(term("decision", filters.decision))
    return words


def _scope(h_instancia: str, filters: Filters) -> str:
    """FTS5: those words, in the `terms` column."""
    return " AND ".join(f'terms : "{word}"' for word in _words(h_instancia, filters))


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
        with self._engine.connect() as conn:
            if query.empty:  # the newest first: the same on both databases
                newest = _NEWEST.format(where=_where(filters, params))
                rows = list(conn.execute(_typed(newest), params))
            elif conn.dialect.name == "postgresql":
                rows = self._postgres(conn, query, filters, params)
            else:
                rows = self._sqlite(conn, query, filters, params)
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "query": q or "",
            "results": [self._json(row, query) for row in rows],
            "next_cursor": encode_cursor(offset + limit, fingerprint)
            if more and offset + limit <= MAX_OFFSET
            else None,
        }

    @staticmethod
    def _json(row: Any, query: Query) -> dict[str, Any]:
        return {
            "h_entrada": row.h_entrada,
            "state": row.state,
            "created_at": rfc3339(row.created_at),
            "title": row.title,
            "line": row.line,
            "snippet": highlight(row.body, query),
            "total": row.total,
            "currency": row.currency,
            "flow": row.flow,
            "decision": row.decision,
            "score": round(float(row.score), 4) if row.score is not None else None,
        }

    @staticmethod
    def _sqlite(conn: Any, query: Query, filters: Filters, params: dict[str, Any]) -> list[Any]:
        # The instance, and the media types, flow and decision filters, are words of the
        # index (its `terms` column): the index itself keeps to them. Rows are joined
        # before the ranking only for the other filters (state, dates, totals).
        where = _where(filters, params, indexed=True)
        params["match"] = f"{_scope(params['h'], filters)} AND {{title body}} : ({query.fts5()})"
        joins = ""
        if "d." in where:
            joins += " JOIN search_docs d ON d.entry_id = f.rowid"
        if "e." in where:
            joins += " JOIN entries e ON e.id = f.rowid"
        sql = (
            "WITH page AS ("  # noqa: S608
            f"SELECT f.rowid AS id, bm25(search_fts, {TITLE_WEIGHT}, 1.0, 0.0) AS rank "
            f"FROM search_fts f{joins} WHERE search_fts MATCH :match{where} "
            "ORDER BY rank, f.rowid DESC LIMIT :limit OFFSET :offset) "
            f"SELECT {_COLUMNS}, {_BODY}, -page.rank AS score FROM page "
            "JOIN search_docs d ON d.entry_id = page.id JOIN entries e ON e.id = page.id "
            "WHERE d.h_instancia = :h "  # the index keeps to the instance; checked again
            "ORDER BY page.rank, page.id DESC"
        )
        return list(conn.execute(_typed(sql), params))

    @staticmethod
    def _postgres(conn: Any, query: Query, filters: Filters, params: dict[str, Any]) -> list[Any]:
        # as on SQLite: the instance and the media, flow and decision filters are words
        # of the index (weight D), so the GIN index answers them with the query's words
        where = _where(filters, params, indexed=True)
        scope = " & ".join(f"'{word}':D" for word in _words(params["h"], filters))
        params["tsquery"] = f"{scope} & ({query.tsquery()})"
        params["ranked"] = query.tsquery()  # ranked on the person's words alone
        sql = (
            f"SELECT {_COLUMNS}, {_BODY}, ts_rank_cd(d.tsv, r.q) AS score "  # noqa: S608
            "FROM search_docs d JOIN entries e ON e.id = d.entry_id, "
            "to_tsquery('tzzr_search', :tsquery) AS q(q), "
            "to_tsquery('tzzr_search', :ranked) AS r(q) "
            f"WHERE d.tsv @@ q.q AND d.h_instancia = :h{where} "
            "ORDER BY score DESC, e.id DESC LIMIT :limit OFFSET :offset"
        )
        return list(conn.execute(_typed(sql), params))


_BODY = f"substr(d.body, 1, {MAX_SCAN}) AS body"  # what a snippet is looked for in
_COLUMNS = (
    "e.h_entrada, e.state, e.created_at, d.title, d.line, d.total, d.currency, d.flow, d.decision"
)
_NEWEST = (
    f"SELECT {_COLUMNS}, substr(d.body, 1, 400) AS body, NULL AS score "  # noqa: S608
    "FROM search_docs d JOIN entries e ON e.id = d.entry_id "
    "WHERE e.h_instancia = :h{where} "
    "ORDER BY e.created_at DESC, e.id DESC LIMIT :limit OFFSET :offset"
)
