"""PACKET's devices: registered public keys and the signatures of the captures they made.

Revision ID: 0009
Revises: 0008
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in with its tables (tzzr.db.models_devices)


def downgrade() -> None:
    pass
