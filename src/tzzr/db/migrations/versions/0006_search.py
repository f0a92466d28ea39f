"""Search: `search_docs` (an entry's text and the values search filters on) and the
database's own full-text index beside it. SQLite: an FTS5 table (`unicode61` with
diacritics removed, so "panaderia" finds "Panadería"), its rows the documents' entry
ids, kept in step by triggers. PostgreSQL: the `unaccent` extension (trusted since
PostgreSQL 13: a database owner may create it), a text search configuration
`tzzr_search` (the `simple` parser, no stemming or stop words: captures mix Spanish and
English, then `unaccent`), a tsvector column and its GIN index. The entries there are
indexed as the migration runs. The FTS5 table reads its text from search_docs (external
content: nothing is stored twice); its `terms` column holds the document's instance and
its filter values as words, so that a query keeps to one instance, and filters on media
type, flow and decision, inside the index.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import BigId, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column(
            "entry_id",
            BigId,
            sa.ForeignKey("entries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("total", sa.Float, nullable=True),
        sa.Column("currency", sa.String(8), nullable=True),
        sa.Column("flow", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # external content: the text is search_docs' own, not copied into the index
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, terms, "
            "content = 'search_docs', content_rowid = 'entry_id', "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        insert = (
            "INSERT INTO search_fts(rowid, title, body, terms) "
            "VALUES (new.entry_id, new.title, new.body, new.terms);"
        )
        delete = (
            "INSERT INTO search_fts(search_fts, rowid, title, body, terms) "
            "VALUES ('delete', old.entry_id, old.title, old.body, old.terms);"
        )
        op.execute(f"CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN {insert} END")
        op.execute(
            f"CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN {delete} {insert} END"
        )
        op.execute(f"CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN {delete} END")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute(
            "DO $$ BEGIN "
            "IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'tzzr_search') THEN "
            "CREATE TEXT SEARCH CONFIGURATION tzzr_search (COPY = simple); "
            "ALTER TEXT SEARCH CONFIGURATION tzzr_search ALTER MAPPING FOR "
            "hword, hword_part, word, asciihword, asciiword, hword_asciipart, "
            "numword, numhword, hword_numpart "
            "WITH unaccent, simple; "
            "END IF; END $$"
        )
        op.add_column("search_docs", sa.Column("tsv", sa.dialects.postgresql.TSVECTOR))
        op.create_index("ix_search_docs_tsv", "search_docs", ["tsv"], postgresql_using="gin")
    from tzzr.search.index import reindex_all

    reindex_all(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_docs_ai")
        op.execute("DROP TRIGGER IF EXISTS search_docs_au")
        op.execute("DROP TRIGGER IF EXISTS search_docs_ad")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.drop_index("ix_search_docs_tsv", "search_docs")
    op.drop_table("search_docs")
    if bind.dialect.name != "sqlite":
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS tzzr_search")
