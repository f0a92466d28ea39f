"""Search over everything known about an entry: its document (tzzr.search.document), kept
in the transactions that store what it is built from (tzzr.search.index), and found by a
query in the database's own full-text index (tzzr.search.find: SQLite FTS5 or
PostgreSQL tsvector with unaccent), a query syntax both read the same way
(tzzr.search.query)."""
