"""Instances, API keys, entries and their files.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import BigId, JSONDoc, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("h_instancia", sa.String(64), nullable=False, unique=True),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("blob_prefix", sa.String(128), nullable=False, unique=True),
        sa.Column("fields_schema", JSONDoc, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_api_keys_instance_id", "api_keys", ["instance_id"])
    op.create_table(
        "entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
        sa.Column("h_entrada", sa.String(64), nullable=False),
        sa.Column("contenedor", JSONDoc, nullable=False),
        sa.Column("r2_paths", JSONDoc, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("h_instancia", "h_entrada", name="uq_entries_instance_entrada"),
    )
    op.create_index("ix_entries_h_instancia", "entries", ["h_instancia"])
    op.create_index("ix_entries_created_at_desc", "entries", [sa.text("created_at DESC")])
    op.create_table(
        "entry_files",
        sa.Column(
            "entry_id", BigId, sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_entry_files_media_type", "entry_files", ["media_type"])
    op.create_index("ix_entry_files_sha256", "entry_files", ["sha256"])


def downgrade() -> None:
    op.drop_table("entry_files")
    op.drop_table("entries")
    op.drop_table("api_keys")
    op.drop_table("instances")
