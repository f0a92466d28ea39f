"""PACKET's resumable uploads (tus 1.0): one row per upload, its durable offset and hashing state.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import JSONDoc, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("meta", JSONDoc, nullable=False),
        sa.Column("declared_sha256", sa.String(64), nullable=True),
        sa.Column("hash_state", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("storage", JSONDoc, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_uploads_instance_sha", "uploads", ["h_instancia", "sha256"])
    op.create_index("ix_uploads_expires", "uploads", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_uploads_expires", "uploads")
    op.drop_index("ix_uploads_instance_sha", "uploads")
    op.drop_table("uploads")
