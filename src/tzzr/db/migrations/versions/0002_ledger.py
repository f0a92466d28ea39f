"""The ledger: heads, leaves, tiles, blocks, signing keys; entries wait for their leaf.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_heads",
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), primary_key=True
        ),
        sa.Column("next_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_leaves",
        sa.Column("h_instancia", sa.String(64), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "ledger_tiles",
        sa.Column("h_instancia", sa.String(64), primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "ledger_blocks",
        sa.Column("h_instancia", sa.String(64), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("first_index", sa.BigInteger, nullable=False),
        sa.Column("last_index", sa.BigInteger, nullable=False),
        sa.Column("ts_start", UTCDateTime, nullable=False),
        sa.Column("ts_end", UTCDateTime, nullable=False),
        sa.Column("block_root", sa.String(64), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("tree_root", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("block_hash", sa.String(64), nullable=False),
        sa.Column("checkpoint", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "ledger_keys",
        sa.Column("h_instancia", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("retired_at", UTCDateTime, nullable=True),
    )
    op.execute(
        "INSERT INTO ledger_heads (h_instancia, next_index) SELECT h_instancia, 0 FROM instances"
    )
    # Entries from before the ledger start out waiting (leaf_index NULL): the first
    # seal appends them, in the order they arrived.
    op.add_column("entries", sa.Column("leaf_index", sa.BigInteger, nullable=True))
    op.create_index(
        "ix_entries_pending",
        "entries",
        ["h_instancia", "id"],
        sqlite_where=sa.text("leaf_index IS NULL"),
        postgresql_where=sa.text("leaf_index IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_entries_pending", "entries")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("leaf_index")
    for table in ("ledger_keys", "ledger_blocks", "ledger_tiles", "ledger_leaves", "ledger_heads"):
        op.drop_table(table)
