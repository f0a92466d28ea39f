"""PACKET's resumable uploads (tus 1.0): one row per upload, its durable offset and hashing state.

Revision ID: 0008
Revises: 0007
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in with its tables (tzzr.db.models_uploads)


def downgrade() -> None:
    pass
