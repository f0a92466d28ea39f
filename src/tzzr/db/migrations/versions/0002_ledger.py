"""The ledger: heads, leaves, tiles, blocks, signing keys; a leaf for every entry.

Revision ID: 0002
Revises: 0001
"""

import hashlib

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
    op.create_index("ix_ledger_leaves_ref", "ledger_leaves", ["h_instancia", "ref"])
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
    # Entries from before the ledger get their leaves, in the order they arrived.
    from tzzr.ledger.leaves import leaf_bytes

    bind = op.get_bind()
    instances = bind.execute(sa.text("SELECT h_instancia FROM instances ORDER BY id")).all()
    for (h_instancia,) in instances:
        rows = bind.execute(
            sa.text("SELECT h_entrada, created_at FROM entries WHERE h_instancia = :h ORDER BY id"),
            {"h": h_instancia},
        ).all()
        leaves = []
        for index, (h_entrada, created_at) in enumerate(rows):
            stamp = UTCDateTime().process_result_value(created_at, bind.dialect)
            assert stamp is not None
            data = leaf_bytes("entry", h_instancia, h_entrada, h_entrada, stamp)
            leaves.append(
                {
                    "h": h_instancia,
                    "i": index,
                    "ref": h_entrada,
                    "data": data,
                    "lh": hashlib.sha256(b"\x00" + data).digest(),
                    "ts": created_at,
                }
            )
        if leaves:
            bind.execute(
                sa.text(
                    "INSERT INTO ledger_leaves (h_instancia, idx, kind, ref, data, leaf_hash, "
                    "created_at) VALUES (:h, :i, 'entry', :ref, :data, :lh, :ts)"
                ),
                leaves,
            )
        bind.execute(
            sa.text("INSERT INTO ledger_heads (h_instancia, next_index) VALUES (:h, :n)"),
            {"h": h_instancia, "n": len(leaves)},
        )


def downgrade() -> None:
    for table in ("ledger_keys", "ledger_blocks", "ledger_tiles", "ledger_leaves", "ledger_heads"):
        op.drop_table(table)
