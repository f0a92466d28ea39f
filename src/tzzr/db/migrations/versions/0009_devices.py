"""PACKET's devices: registered public keys and the signatures of the captures they made.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia")),
        sa.Column("id", sa.String(64)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("h_instancia", "id"),
    )
    op.create_table(
        "entry_signatures",
        sa.Column(
            "entry_id", BigId, sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("h_instancia", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["h_instancia", "device_id"], ["devices.h_instancia", "devices.id"]
        ),
    )


def downgrade() -> None:
    op.drop_table("entry_signatures")
    op.drop_table("devices")
